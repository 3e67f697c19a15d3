/* SPDX-License-Identifier: MIT */
/* ptr_array.c - leak case: a global array of pointers that doubles, and the items it holds.
 *
 * stdio target: reads "reg NAME" lines and answers "registered NAME at SLOT". Each request
 * registers a 96-byte item in a global registry, an array of pointers that doubles with
 * realloc() when full. With --leak items are never unregistered (the array and the items grow
 * without bound); with --fixed the item is unregistered after answering, so the array stops at
 * its first capacity. Everything is freed at exit. Usage: ptr_array --leak|--fixed
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
    unsigned long seq;
    char name[88];
};

static struct item **registry;
static size_t registry_len, registry_cap;

/* Registers a new item named `name`, growing the registry as needed. Returns its slot, or -1
 * when out of memory. */
static long registry_add(const char *name, unsigned long seq)
{
    if (registry_len == registry_cap) {
        size_t cap = registry_cap ? registry_cap * 2 : 16;
        struct item **grown = realloc(registry, cap * sizeof(*grown));
        if (!grown) {
            return -1;
        }
        registry = grown;
        registry_cap = cap;
    }
    struct item *it = malloc(sizeof(*it));
    if (!it) {
        return -1;
    }
    it->seq = seq;
    snprintf(it->name, sizeof(it->name), "%.80s", name);
    registry[registry_len] = it;
    return (long)registry_len++;
}

/* Unregisters and frees the newest item. Can't fail. */
static void registry_drop_last(void)
{
    if (registry_len) {
        free(registry[--registry_len]);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: ptr_array --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    unsigned long seq = 0;
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *name = strncmp(line, "reg ", 4) == 0 ? line + 4 : line;
        long slot = registry_add(name, ++seq);
        if (slot < 0) {
            printf("error out of memory\n");
            continue;
        }
        printf("registered %s at %ld\n", registry[slot]->name, slot);
        if (!leak) {
            registry_drop_last();
        }
    }
    while (registry_len) {
        registry_drop_last();
    }
    free(registry);
    return 0;
}
