/* SPDX-License-Identifier: MIT */
/* churn_flat.c - allocation churn from one shallow stack: the cheapest malloc/free pair a
 * program can make, so a tool's fixed cost per call shows in full.
 *
 * usage: churn_flat THREADS PAIRS_PER_THREAD [LIVE_BLOCKS]
 * Each thread keeps LIVE_BLOCKS (default 4096) slots and replaces a pseudo-random one each step
 * (free, then malloc of 16..255 bytes) straight from its thread function: every allocation has
 * the same 4-frame stack (malloc <- run <- start_thread <- clone). Bare, a pair takes about
 * 26 ns on this project's CI machine kind.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct worker {
    unsigned long pairs;
    unsigned live;
    uint64_t seed;
    uint64_t checksum;
};

static void *run(void *arg)
{
    struct worker *w = arg;
    void **slots = calloc(w->live, sizeof(*slots));
    if (!slots) {
        return NULL;
    }
    uint64_t s = w->seed;
    for (unsigned long i = 0; i < w->pairs; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        unsigned k = (unsigned)(s % w->live);
        free(slots[k]);
        slots[k] = malloc(16 + (size_t)((s >> 32) % 240));
        if (slots[k]) {
            *(volatile char *)slots[k] = 1;
        }
        w->checksum += (uintptr_t)slots[k] & 0xff;
    }
    for (unsigned k = 0; k < w->live; k++) {
        free(slots[k]);
    }
    free(slots);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: churn_flat THREADS PAIRS_PER_THREAD [LIVE_BLOCKS]\n");
        return 2;
    }
    unsigned threads = (unsigned)strtoul(argv[1], NULL, 10);
    unsigned long pairs = strtoul(argv[2], NULL, 10);
    unsigned live = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 4096;
    if (threads == 0 || threads > 64 || live == 0 || live > 100000000) {
        fprintf(stderr, "churn_flat: bad arguments\n");
        return 2;
    }
    pthread_t tid[64];
    struct worker w[64];
    for (unsigned t = 0; t < threads; t++) {
        w[t] = (struct worker){.pairs = pairs, .live = live, .seed = 0x9e3779b97f4a7c15ull + t};
        if (pthread_create(&tid[t], NULL, run, &w[t]) != 0) {
            fprintf(stderr, "churn_flat: can't start thread %u\n", t);
            return 1;
        }
    }
    uint64_t sum = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        sum += w[t].checksum;
    }
    printf("%llu\n", (unsigned long long)(sum & 0xff));
    return 0;
}
