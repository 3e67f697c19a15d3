/* SPDX-License-Identifier: MIT */
/* churn.c - allocation-churn benchmark: a few thousand live blocks, millions of malloc/free
 * pairs from stacks 4-12 frames deep, on 1 or more threads.
 *
 * usage: churn THREADS PAIRS_PER_THREAD [LIVE_BLOCKS [HOLD_MS]]
 * HOLD_MS: sleep that long with every block live before freeing them (to measure the tool's
 * memory per live block).
 * Each thread keeps LIVE_BLOCKS (default 4096) slots; every step frees one slot and allocates
 * a new block of a pseudo-random size into it, through a call chain whose depth varies with
 * the step (4..12 frames), so many distinct stacks are live at once.
 */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker {
    unsigned long pairs;
    unsigned hold_ms;
    unsigned live;
    uint64_t seed;
    uint64_t checksum;
};

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static __attribute__((noinline)) void *alloc_at(unsigned depth, size_t size);

#define LEVEL(n)                                                                                   \
    static __attribute__((noinline)) void *level##n(unsigned depth, size_t size)                   \
    {                                                                                              \
        void *p = alloc_at(depth - 1, size);                                                       \
        __asm__ volatile("" ::"r"(p) : "memory");                                                  \
        return p;                                                                                  \
    }
LEVEL(1)
LEVEL(2)
LEVEL(3)

static __attribute__((noinline)) void *alloc_at(unsigned depth, size_t size)
{
    if (depth <= 1) {
        void *p = malloc(size);
        if (p) {
            memset(p, 0, size < 64 ? size : 64);
        }
        return p;
    }
    switch (depth % 3) {
    case 0:
        return level1(depth, size);
    case 1:
        return level2(depth, size);
    default:
        return level3(depth, size);
    }
}

static void *run(void *arg)
{
    struct worker *w = arg;
    void **slots = calloc(w->live, sizeof(*slots));
    if (!slots) {
        return NULL;
    }
    for (unsigned long i = 0; i < w->pairs; i++) {
        uint64_t r = next_rand(&w->seed);
        unsigned k = (unsigned)(r % w->live);
        free(slots[k]);
        unsigned depth = 2 + (unsigned)((r >> 20) % 9); /* plus main/run/thread frames: 4..12+ */
        slots[k] = alloc_at(depth, 16 + (size_t)((r >> 32) % 240));
        w->checksum += (uintptr_t)slots[k] & 0xff;
    }
    if (w->hold_ms > 0) {
        for (unsigned k = 0; k < w->live; k++) {
            if (!slots[k]) {
                slots[k] = alloc_at(4, 64);
            }
        }
        poll(NULL, 0, (int)w->hold_ms);
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
        fprintf(stderr, "usage: churn THREADS PAIRS_PER_THREAD [LIVE_BLOCKS [HOLD_MS]]\n");
        return 2;
    }
    unsigned threads = (unsigned)strtoul(argv[1], NULL, 10);
    unsigned long pairs = strtoul(argv[2], NULL, 10);
    unsigned live = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 4096;
    unsigned hold_ms = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 0;
    if (threads == 0 || threads > 64 || live == 0 || live > 100000000) {
        fprintf(stderr, "churn: bad arguments\n");
        return 2;
    }
    pthread_t tid[64];
    struct worker w[64];
    for (unsigned t = 0; t < threads; t++) {
        w[t] = (struct worker){
            .pairs = pairs, .hold_ms = hold_ms, .live = live, .seed = 0x9e3779b97f4a7c15ull + t};
        pthread_create(&tid[t], NULL, run, &w[t]);
    }
    uint64_t sum = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        sum += w[t].checksum;
    }
    printf("%llu\n", (unsigned long long)(sum & 0xff));
    return 0;
}
