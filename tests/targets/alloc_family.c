/* SPDX-License-Identifier: MIT */
/* alloc_family.c - leak cases for calloc(), posix_memalign() and aligned_alloc().
 *
 * stdio target: reads "rec ID" lines and answers "stored ID". Each request builds a record in
 * a block from the chosen allocation function (a zeroed calloc() array, a 64-byte aligned
 * posix_memalign() block, or a 256-byte aligned aligned_alloc() block) and hands it to the
 * store. With --leak the store keeps every record until exit; with --fixed it releases the
 * record after answering. Usage: alloc_family calloc|posix_memalign|aligned_alloc --leak|--fixed
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kept {
    struct kept *next;
    void *block;
};

static struct kept *store;

/* A zeroed array of 24 counters. Returns NULL when out of memory. */
static void *keep_calloc_block(void)
{
    return calloc(24, sizeof(uint32_t));
}

/* A 192-byte block aligned to 64 bytes. Returns NULL when out of memory. */
static void *keep_memalign_block(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, 192) != 0) {
        return NULL;
    }
    return p;
}

/* A 256-byte block aligned to 256 bytes. Returns NULL when out of memory. */
static void *keep_aligned_block(void)
{
    return aligned_alloc(256, 256);
}

/* Adds a block to the store. Returns 0, or -1 when out of memory (then the block is freed). */
static int store_add(void *block)
{
    struct kept *k = malloc(sizeof(*k));
    if (!k) {
        free(block);
        return -1;
    }
    k->block = block;
    k->next = store;
    store = k;
    return 0;
}

/* Releases the most recently stored block. Can't fail. */
static void store_drop_last(void)
{
    struct kept *k = store;
    if (k) {
        store = k->next;
        free(k->block);
        free(k);
    }
}

int main(int argc, char **argv)
{
    void *(*make)(void) = NULL;
    if (argc == 3) {
        if (strcmp(argv[1], "calloc") == 0) {
            make = keep_calloc_block;
        } else if (strcmp(argv[1], "posix_memalign") == 0) {
            make = keep_memalign_block;
        } else if (strcmp(argv[1], "aligned_alloc") == 0) {
            make = keep_aligned_block;
        }
    }
    if (!make || (strcmp(argv[2], "--leak") != 0 && strcmp(argv[2], "--fixed") != 0)) {
        fprintf(stderr, "usage: alloc_family calloc|posix_memalign|aligned_alloc --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[2], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *id = strncmp(line, "rec ", 4) == 0 ? line + 4 : line;
        void *block = make();
        if (!block || store_add(block) != 0) {
            printf("error\n");
            continue;
        }
        snprintf(block, 64, "%.60s", id);
        printf("stored %s\n", (const char *)block);
        if (!leak) {
            store_drop_last();
        }
    }
    while (store) {
        store_drop_last();
    }
    return 0;
}
