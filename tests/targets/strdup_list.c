/* SPDX-License-Identifier: MIT */
/* strdup_list.c - leak case: a strdup() per request kept in a list.
 *
 * stdio target: reads "put KEY" lines, answers "ok KEY" per line. With --leak every key is
 * copied into a list that only grows until exit (where it is freed, so valgrind sees nothing);
 * with --fixed the copy is released once the request is answered. Usage: strdup_list --leak|--fixed
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct key_node {
    struct key_node *next;
    char *key;
};

static struct key_node *remembered;

/* Copies `key` and pushes it on the remembered list. Returns the copy, or NULL when out of
 * memory. */
static char *remember_key(const char *key)
{
    struct key_node *n = malloc(sizeof(*n));
    if (!n) {
        return NULL;
    }
    n->key = strdup(key);
    n->next = remembered;
    remembered = n;
    return n->key;
}

/* Pops the most recent key off the list and frees it. Can't fail. */
static void forget_last_key(void)
{
    struct key_node *n = remembered;
    if (n) {
        remembered = n->next;
        free(n->key);
        free(n);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: strdup_list --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *key = strncmp(line, "put ", 4) == 0 ? line + 4 : line;
        char *copy = remember_key(key);
        printf("ok %s\n", copy ? copy : "?");
        if (!leak) {
            forget_last_key();
        }
    }
    while (remembered) {
        forget_last_key();
    }
    return 0;
}
