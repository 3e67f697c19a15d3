/* SPDX-License-Identifier: MIT */
/* cjson_tree.c - leak case through a real library: cJSON trees never deleted.
 *
 * stdio target: each line is a JSON object ({"id": N, "name": "...", "tags": [...]}); it is
 * parsed with cJSON_Parse() and answered "id N tags T". With --leak every parsed tree is kept
 * (an "audit trail" nobody reads), so cJSON's nodes and strings grow per request; with --fixed
 * the tree is deleted after answering. Kept trees are deleted at exit.
 * Usage: cjson_tree --leak|--fixed
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *audit; /* an array the kept trees are attached to */

/* Parses one request. Returns the tree (caller deletes it) or NULL for invalid JSON. */
static cJSON *parse_request(const char *line)
{
    return cJSON_Parse(line);
}

/* Answers one parsed request on stdout. Can't fail. */
static void answer(const cJSON *req)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(req, "tags");
    printf("id %d tags %d\n", cJSON_IsNumber(id) ? id->valueint : -1,
           cJSON_IsArray(tags) ? cJSON_GetArraySize(tags) : 0);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: cjson_tree --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    audit = cJSON_CreateArray();
    if (!audit) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        cJSON *req = parse_request(line);
        if (!req) {
            printf("error invalid json\n");
            continue;
        }
        answer(req);
        if (leak) {
            cJSON_AddItemToArray(audit, req);
        } else {
            cJSON_Delete(req);
        }
    }
    cJSON_Delete(audit);
    return 0;
}
