/* SPDX-License-Identifier: MIT */
/* fragment.c - no-leak case: RSS grows while the live heap does not.
 *
 * stdio target: reads "frame ID" lines and answers "framed ID BYTES". Each request allocates a
 * big working buffer (180 bytes bigger with every request, up to ~110 KiB, below glibc's mmap
 * and trim thresholds), fills it, then allocates a small 48-byte record that stays in a ring
 * of RING records (freed RING requests later), then frees the big buffer. The allocator keeps
 * the freed pages, interleaved with the small records, so RSS climbs by a couple of pages per
 * round of 50 requests while the live heap stays at RING small records: memory held by the
 * allocator, not by the program. Usage: fragment
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 100u

static void *ring[RING];
static size_t ring_pos;

/* Allocates the working buffer for request `seq` and fills it. Returns NULL when out of
 * memory. */
static char *work_buffer(unsigned long seq)
{
    size_t size = 4096 + 180 * (size_t)(seq % 600);
    char *big = malloc(size);
    if (big) {
        memset(big, (int)(seq & 0x7f), size);
    }
    return big;
}

/* Replaces the oldest record in the ring with a new one. Returns 0, or -1 when out of
 * memory. */
static int keep_record(unsigned long seq)
{
    char *rec = malloc(48);
    if (!rec) {
        return -1;
    }
    snprintf(rec, 48, "record %lu", seq);
    free(ring[ring_pos]);
    ring[ring_pos] = rec;
    ring_pos = (ring_pos + 1) % RING;
    return 0;
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: fragment\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    unsigned long seq = 0;
    while (fgets(line, sizeof(line), stdin)) {
        seq++;
        char *big = work_buffer(seq);
        if (!big || keep_record(seq) != 0) {
            free(big);
            printf("error out of memory\n");
            continue;
        }
        size_t size = 4096 + 180 * (size_t)(seq % 600);
        free(big); /* before the reply: a snapshot after it never sees the buffer */
        printf("framed %lu %zu\n", seq, size);
    }
    for (size_t i = 0; i < RING; i++) {
        free(ring[i]);
    }
    return 0;
}
