/* SPDX-License-Identifier: MIT */
/* delayed_free.c - no-leak case: blocks freed much later, through a bounded queue.
 *
 * stdio target: reads "del ID" lines and answers "deferred ID". Each request allocates a
 * 200-byte tombstone that goes on a deferred-free queue of DELAY entries; the tombstone that
 * falls off the far end (DELAY requests old) is freed. Blocks live for DELAY requests (several
 * rounds), but the queue's length is bounded, so the live heap grows until the queue is full
 * and then stays flat. Usage: delayed_free DELAY
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **queue;
static size_t queue_len, queue_pos;

/* Queues a new tombstone for `id`, freeing the one DELAY requests old. Returns 0, or -1 when
 * out of memory. */
static int defer_tombstone(const char *id)
{
    char *t = malloc(200);
    if (!t) {
        return -1;
    }
    snprintf(t, 200, "tombstone %.180s", id);
    free(queue[queue_pos]);
    queue[queue_pos] = t;
    queue_pos = (queue_pos + 1) % queue_len;
    return 0;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    errno = 0;
    unsigned long delay = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
    if (argc != 2 || errno || !end || *end || delay == 0 || delay > 1000000) {
        fprintf(stderr, "usage: delayed_free DELAY (1..1000000)\n");
        return 2;
    }
    queue_len = delay;
    queue = calloc(queue_len, sizeof(*queue));
    if (!queue) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *id = strncmp(line, "del ", 4) == 0 ? line + 4 : line;
        printf(defer_tombstone(id) == 0 ? "deferred %s\n" : "error %s\n", id);
    }
    for (size_t i = 0; i < queue_len; i++) {
        free(queue[i]);
    }
    free(queue);
    return 0;
}
