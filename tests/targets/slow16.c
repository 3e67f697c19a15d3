/* SPDX-License-Identifier: MIT */
/* slow16.c - leak case: a slow leak of exactly 16 bytes per request.
 *
 * stdio target: reads "tick ID" lines and answers "tock ID". Each request notes a 16-byte
 * token (a link and the request's number); with --leak the tokens are kept on a list until
 * exit, with --fixed the token is dropped after answering. Nothing else is allocated per
 * request. Usage: slow16 --leak|--fixed
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct token {
    struct token *next;
    uint64_t seq;
};

_Static_assert(sizeof(struct token) == 16, "a token is 16 bytes");

static struct token *tokens;

/* Notes request number `seq` in a new token pushed on the list. Returns 0, or -1 when out of
 * memory. */
static int note_request(uint64_t seq)
{
    struct token *t = malloc(sizeof(*t));
    if (!t) {
        return -1;
    }
    t->seq = seq;
    t->next = tokens;
    tokens = t;
    return 0;
}

/* Drops the newest token. Can't fail. */
static void drop_token(void)
{
    struct token *t = tokens;
    if (t) {
        tokens = t->next;
        free(t);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: slow16 --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    uint64_t seq = 0;
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *id = strncmp(line, "tick ", 5) == 0 ? line + 5 : line;
        if (note_request(++seq) != 0) {
            printf("error\n");
            continue;
        }
        printf("tock %s\n", id);
        if (!leak) {
            drop_token();
        }
    }
    while (tokens) {
        drop_token();
    }
    return 0;
}
