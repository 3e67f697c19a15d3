/* SPDX-License-Identifier: MIT */
/* kvuser.c - a program over libkvstore.so, a library that allocates for its caller.
 *
 * stdio target: "put KEY" lines, answered "ok N". handle_put() stores each key in the library's
 * store; --leak never deletes them, --fixed deletes each after the answer. The scenario lists
 * the library as a whole (`object:libkvstore.so`), so the culprit is the program's
 * handle_put(); in a stripped build of this program, whose frames have no name, the culprit is
 * the library's own named frame kv_put().
 * Usage: kvuser --leak|--fixed
 */
#include <stdio.h>
#include <string.h>

struct kv_store;
struct kv_store *kv_open(const char *name);
int kv_put(struct kv_store *s, const char *key);
int kv_del(struct kv_store *s, const char *key);
void kv_close(struct kv_store *s);

static struct kv_store *store;

/* Stores one key. Returns 0 or -1. */
static __attribute__((noinline)) int handle_put(const char *key)
{
    return kv_put(store, key);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: kvuser --leak|--fixed\n");
        return 2;
    }
    int leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    store = kv_open("users");
    char line[256];
    unsigned long n = 0;
    while (store && fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        const char *key = strncmp(line, "put ", 4) == 0 ? line + 4 : line;
        handle_put(key);
        printf("ok %lu\n", ++n);
        if (!leak) {
            kv_del(store, key);
        }
    }
    kv_close(store);
    return 0;
}
