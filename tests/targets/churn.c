/* SPDX-License-Identifier: MIT */
/* churn.c - no-leak case: high-variance churn, bounded and without trend.
 *
 * stdio target: reads "work ID" lines and answers "held N BYTES". Each request picks, from a
 * seeded generator, how many blocks to hold until the next request (0..MAX_HELD) and frees
 * randomly chosen blocks or allocates new ones of random size (16..4096 bytes) to get there.
 * The live heap jumps around between rounds but is bounded; old blocks survive by chance, so
 * survivors from many rounds are normal here. With --leak each request also keeps a 48-byte
 * note on a list until exit: a small steady leak hidden in the noise.
 * Usage: churn SEED [--leak]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HELD 400u

struct held {
    void *p;
    size_t size;
};

static struct held held[MAX_HELD];
static size_t n_held, held_bytes;
static uint64_t rng_state;

struct note {
    struct note *next;
    unsigned long seq;
    char text[32];
};

static struct note *notes;

/* xorshift64* step. Can't fail. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* Allocates one block of random size into the held set. Returns 0, or -1 when out of memory. */
static int churn_alloc(void)
{
    size_t size = 16 + (size_t)(rng_next() % 4081);
    void *p = malloc(size);
    if (!p) {
        return -1;
    }
    memset(p, 0x5a, size);
    held[n_held].p = p;
    held[n_held].size = size;
    n_held++;
    held_bytes += size;
    return 0;
}

/* Frees one randomly chosen held block. Can't fail. */
static void churn_free_one(void)
{
    size_t i = (size_t)(rng_next() % n_held);
    free(held[i].p);
    held_bytes -= held[i].size;
    held[i] = held[--n_held];
}

/* Keeps a 48-byte note for request `seq`. Returns 0, or -1 when out of memory. */
static int keep_note(unsigned long seq)
{
    struct note *n = malloc(sizeof(*n));
    if (!n) {
        return -1;
    }
    n->seq = seq;
    snprintf(n->text, sizeof(n->text), "request %lu", seq);
    n->next = notes;
    notes = n;
    return 0;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    errno = 0;
    unsigned long long seed = argc >= 2 ? strtoull(argv[1], &end, 10) : 0;
    bool leak = argc == 3 && strcmp(argv[2], "--leak") == 0;
    if (argc < 2 || argc > 3 || (argc == 3 && !leak) || errno || !end || *end) {
        fprintf(stderr, "usage: churn SEED [--leak]\n");
        return 2;
    }
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    unsigned long seq = 0;
    while (fgets(line, sizeof(line), stdin)) {
        if (leak && keep_note(++seq) != 0) {
            printf("error out of memory\n");
            continue;
        }
        size_t target = (size_t)(rng_next() % (MAX_HELD + 1));
        while (n_held > target) {
            churn_free_one();
        }
        while (n_held < target && churn_alloc() == 0) {
        }
        printf("held %zu %zu\n", n_held, held_bytes);
    }
    while (n_held) {
        churn_free_one();
    }
    while (notes) {
        struct note *next = notes->next;
        free(notes);
        notes = next;
    }
    return 0;
}
