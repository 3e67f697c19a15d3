/* SPDX-License-Identifier: MIT */
/* kv.c - a user's stdio service for the workflow check: `put KEY` answers "ok"; with --leak
 * every key is kept for ever, without it the key is freed again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char *key;
};

int main(int argc, char **argv)
{
    int leak = argc > 1 && strcmp(argv[1], "--leak") == 0;
    struct node *head = NULL;
    char line[256];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
        char *key = strdup(line);
        if (!key) {
            return 1;
        }
        if (leak) {
            struct node *n = malloc(sizeof(*n));
            if (!n) {
                return 1;
            }
            n->key = key;
            n->next = head;
            head = n;
        } else {
            free(key);
        }
        puts("ok");
    }
    return 0;
}
