/* SPDX-License-Identifier: MIT */
/* sawtooth.c - no-leak case: a batch that grows, then is committed and released.
 *
 * stdio target: reads "add ITEM" lines and answers "queued N" (N = items in the open batch) or
 * "committed N". Items are copied into the open batch (an array grown with realloc() plus one
 * copy per item); when the batch holds BATCH items it is committed: everything is freed and the
 * next batch starts empty. The live heap is a sawtooth whose period is BATCH requests.
 * Usage: sawtooth BATCH
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **batch;
static size_t batch_len, batch_cap;

/* Copies `item` into the open batch. Returns 0, or -1 when out of memory. */
static int batch_add(const char *item)
{
    if (batch_len == batch_cap) {
        size_t cap = batch_cap ? batch_cap * 2 : 8;
        char **grown = realloc(batch, cap * sizeof(*grown));
        if (!grown) {
            return -1;
        }
        batch = grown;
        batch_cap = cap;
    }
    char *copy = malloc(strlen(item) + 64);
    if (!copy) {
        return -1;
    }
    memcpy(copy, item, strlen(item) + 1);
    batch[batch_len++] = copy;
    return 0;
}

/* Commits the open batch: frees every item and the array. Can't fail. */
static void batch_commit(void)
{
    for (size_t i = 0; i < batch_len; i++) {
        free(batch[i]);
    }
    free(batch);
    batch = NULL;
    batch_len = batch_cap = 0;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    errno = 0;
    unsigned long size = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
    if (argc != 2 || errno || !end || *end || size == 0 || size > 1000000) {
        fprintf(stderr, "usage: sawtooth BATCH (1..1000000)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *item = strncmp(line, "add ", 4) == 0 ? line + 4 : line;
        if (batch_add(item) != 0) {
            printf("error\n");
            continue;
        }
        if (batch_len >= size) {
            printf("committed %zu\n", batch_len);
            batch_commit();
        } else {
            printf("queued %zu\n", batch_len);
        }
    }
    batch_commit();
    return 0;
}
