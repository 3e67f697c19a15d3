/* SPDX-License-Identifier: MIT */
/* stdio_kv.c - a tiny line-oriented key store used as a leakcheck test target.
 *
 * Reads lines from stdin; `put KEY` strdup's the key and, with --leak, keeps it in a list for
 * ever (a leak of one block per request); without it, frees it again. Every line is answered
 * with "ok". `--crash-at N` aborts on the Nth line, `--hang-at N` stops answering at the Nth
 * line, `--exit-at N` exits with code 7 at the Nth line: for lifecycle tests.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
    struct node *next;
    char *key;
};

static struct node *keep(struct node *head, char *key)
{
    struct node *n = malloc(sizeof(*n));
    if (!n) {
        abort();
    }
    n->next = head;
    n->key = key;
    return n;
}

int main(int argc, char **argv)
{
    int leak = 0;
    long crash_at = -1;
    long hang_at = -1;
    long exit_at = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--leak") == 0) {
            leak = 1;
        } else if (strcmp(argv[i], "--crash-at") == 0 && i + 1 < argc) {
            crash_at = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--hang-at") == 0 && i + 1 < argc) {
            hang_at = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--exit-at") == 0 && i + 1 < argc) {
            exit_at = strtol(argv[++i], NULL, 10);
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct node *head = NULL;
    char line[4096];
    long n = 0;
    while (fgets(line, sizeof(line), stdin)) {
        n++;
        if (n == crash_at) {
            raise(SIGSEGV);
        }
        if (n == hang_at) {
            for (;;) {
                pause();
            }
        }
        if (n == exit_at) {
            exit(7);
        }
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "put ", 4) == 0) {
            char *key = strdup(line + 4);
            if (leak) {
                head = keep(head, key);
            } else {
                free(key);
            }
        }
        puts("ok");
    }
    while (head) {
        struct node *next = head->next;
        free(head->key);
        free(head);
        head = next;
    }
    return 0;
}
