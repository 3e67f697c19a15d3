/* SPDX-License-Identifier: MIT */
/* error_path.c - leak case: a leak in an error path that every request takes.
 *
 * stdio target: reads "set NAME=VALUE" lines. Each line is parsed into a heap struct; the
 * value is then validated, and every value the scenario sends is rejected ("bad NAME"). With
 * --leak the rejection path returns without freeing the parsed struct (kept on a list, freed at
 * exit, so the leak is reachable); with --fixed it is freed. Accepted values are freed too.
 * Usage: error_path --leak|--fixed
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct setting {
    struct setting *next;
    char *name;
    char *value;
};

static struct setting *orphans;
static bool leak;

/* Parses "NAME=VALUE". Returns a new setting (caller frees with setting_free()), or NULL when
 * the line has no '=' or memory runs out. */
static struct setting *parse_setting(const char *line)
{
    const char *eq = strchr(line, '=');
    if (!eq) {
        return NULL;
    }
    struct setting *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->name = strndup(line, (size_t)(eq - line));
    s->value = strdup(eq + 1);
    if (!s->name || !s->value) {
        free(s->name);
        free(s->value);
        free(s);
        return NULL;
    }
    return s;
}

/* Frees a setting. Can't fail. */
static void setting_free(struct setting *s)
{
    free(s->name);
    free(s->value);
    free(s);
}

/* True when `value` is all digits. */
static bool value_is_valid(const char *value)
{
    if (!*value) {
        return false;
    }
    for (; *value; value++) {
        if (!isdigit((unsigned char)*value)) {
            return false;
        }
    }
    return true;
}

/* Handles one request, answering on stdout. */
static void handle(const char *line)
{
    struct setting *s = parse_setting(line);
    if (!s) {
        printf("error syntax\n");
        return;
    }
    if (!value_is_valid(s->value)) {
        printf("bad %s\n", s->name);
        if (leak) {
            s->next = orphans; // the bug: the error path forgets setting_free(s)
            orphans = s;
            return;
        }
        setting_free(s);
        return;
    }
    printf("set %s\n", s->name);
    setting_free(s);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: error_path --leak|--fixed\n");
        return 2;
    }
    leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        handle(strncmp(line, "set ", 4) == 0 ? line + 4 : line);
    }
    while (orphans) {
        struct setting *next = orphans->next;
        setting_free(orphans);
        orphans = next;
    }
    return 0;
}
