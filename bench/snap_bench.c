/* SPDX-License-Identifier: MIT */
/* snap_bench.c - how long a snapshot takes, how much memory it maps while it runs, and whether
 * threads that allocate meanwhile are held up.
 *
 * usage: LEAKCHECK_INPROC=1 LD_PRELOAD=AGENT.so snap_bench LIVE_BLOCKS THREADS [SNAPSHOTS]
 *
 * Allocates LIVE_BLOCKS blocks of 64 bytes from 16 call sites and keeps them, starts THREADS
 * threads that each free and allocate (4096 live blocks, sizes 16..255) in a loop, then takes
 * SNAPSHOTS snapshots (default 5) through the agent's in-process entry point into /dev/null,
 * 200 ms apart. Prints one line of figures: the median and largest snapshot time, the largest
 * rise of the peak resident set during a snapshot (the memory it maps, per live block), the
 * churn threads' pairs per second during snapshots and between them, and the longest time one
 * churn thread went without finishing a batch of 64 pairs while a snapshot ran and between
 * snapshots (with more threads than cores, the scheduler's share of that gap is the second).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SITES      16
#define CHURN_LIVE 4096u

typedef int (*snapshot_fn)(int fd, unsigned round);

static _Atomic int stop;
static _Atomic int in_snapshot;

struct worker {
    pthread_t tid;
    uint64_t seed;
    _Atomic uint64_t pairs;
    _Atomic uint64_t max_gap_ns;      /* longest gap between two batches while a snapshot ran */
    _Atomic uint64_t max_gap_idle_ns; /* the same between snapshots */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One allocation site per value of `site` (distinct call stacks through the switch). */
static __attribute__((noinline)) void *alloc_site(unsigned site, size_t size)
{
    void *p;
    switch (site % SITES) {
#define SITE(n)                                                                                    \
    case n:                                                                                        \
        p = malloc(size);                                                                          \
        break;
        SITE(0)
        SITE(1)
        SITE(2)
        SITE(3)
        SITE(4)
        SITE(5)
        SITE(6)
        SITE(7)
        SITE(8)
        SITE(9)
        SITE(10)
        SITE(11)
        SITE(12)
        SITE(13)
        SITE(14)
    default:
        p = malloc(size);
        break;
    }
    __asm__ volatile("" ::"r"(p) : "memory");
    return p;
}

static void *churn(void *arg)
{
    struct worker *w = arg;
    void **slots = calloc(CHURN_LIVE, sizeof(*slots));
    if (!slots) {
        return NULL;
    }
    uint64_t last = now_ns();
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (unsigned i = 0; i < 64; i++) {
            uint64_t r = next_rand(&w->seed);
            unsigned k = (unsigned)(r % CHURN_LIVE);
            free(slots[k]);
            slots[k] = alloc_site((unsigned)(r >> 20), 16 + (size_t)((r >> 32) % 240));
        }
        atomic_fetch_add_explicit(&w->pairs, 64, memory_order_relaxed);
        uint64_t t = now_ns();
        _Atomic uint64_t *gap = atomic_load_explicit(&in_snapshot, memory_order_relaxed)
                                    ? &w->max_gap_ns
                                    : &w->max_gap_idle_ns;
        if (t - last > atomic_load_explicit(gap, memory_order_relaxed)) {
            atomic_store_explicit(gap, t - last, memory_order_relaxed);
        }
        last = t;
    }
    for (unsigned i = 0; i < CHURN_LIVE; i++) {
        free(slots[i]);
    }
    free(slots);
    return NULL;
}

/* A field of /proc/self/status in kB, or 0. */
static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) {
        return 0;
    }
    char line[256];
    long v = 0;
    size_t n = strlen(field);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* Resets the peak resident set to the current one. */
static void reset_peak(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "5", 1) != 1) {
            perror("snap_bench: clear_refs");
        }
        close(fd);
    }
}

static uint64_t pairs_total(struct worker *w, int n)
{
    uint64_t s = 0;
    for (int i = 0; i < n; i++) {
        s += atomic_load_explicit(&w[i].pairs, memory_order_relaxed);
    }
    return s;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: LEAKCHECK_INPROC=1 LD_PRELOAD=AGENT.so snap_bench LIVE_BLOCKS "
                        "THREADS [SNAPSHOTS]\n");
        return 2;
    }
    long live = strtol(argv[1], NULL, 10);
    int threads = (int)strtol(argv[2], NULL, 10);
    int snaps = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5;
    if (live < 0 || threads < 0 || threads > 1024 || snaps < 1 || snaps > 1000) {
        fprintf(stderr, "snap_bench: LIVE_BLOCKS >= 0, 0 <= THREADS <= 1024, 1 <= SNAPSHOTS <= "
                        "1000\n");
        return 2;
    }
    snapshot_fn snapshot = (snapshot_fn)dlsym(RTLD_DEFAULT, "leakcheck_agent_snapshot");
    if (!snapshot) {
        fprintf(stderr, "snap_bench: no agent: run with LEAKCHECK_INPROC=1 LD_PRELOAD=AGENT.so\n");
        return 2;
    }
    int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    void **blocks = calloc((size_t)live + 1, sizeof(*blocks));
    struct worker *w = calloc((size_t)threads + 1, sizeof(*w));
    if (out < 0 || !blocks || !w) {
        perror("snap_bench");
        return 1;
    }
    for (long i = 0; i < live; i++) {
        blocks[i] = alloc_site((unsigned)i, 64);
    }
    for (int i = 0; i < threads; i++) {
        w[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        pthread_create(&w[i].tid, NULL, churn, &w[i]);
    }
    poll(NULL, 0, 200);
    uint64_t *times = calloc((size_t)snaps, sizeof(*times));
    uint64_t snap_ns = 0;
    uint64_t snap_pairs = 0;
    uint64_t idle_ns = 0;
    uint64_t idle_pairs = 0;
    long max_rise_kb = 0;
    int failed = 0;
    for (int s = 0; s < snaps; s++) {
        uint64_t p0 = pairs_total(w, threads);
        uint64_t t0 = now_ns();
        poll(NULL, 0, 200);
        uint64_t p1 = pairs_total(w, threads);
        uint64_t t1 = now_ns();
        idle_ns += t1 - t0;
        idle_pairs += p1 - p0;
        reset_peak();
        long rss = status_kb("VmRSS");
        atomic_store(&in_snapshot, 1);
        uint64_t a = now_ns();
        failed |= snapshot(out, (unsigned)s + 1) != 0;
        uint64_t b = now_ns();
        atomic_store(&in_snapshot, 0);
        uint64_t p2 = pairs_total(w, threads);
        long rise = status_kb("VmHWM") - rss;
        if (rise > max_rise_kb) {
            max_rise_kb = rise;
        }
        times[s] = b - a;
        snap_ns += b - a;
        snap_pairs += p2 - p1;
    }
    atomic_store(&stop, 1);
    uint64_t max_gap = 0;
    uint64_t max_gap_idle = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(w[i].tid, NULL);
        if (w[i].max_gap_ns > max_gap) {
            max_gap = w[i].max_gap_ns;
        }
        if (w[i].max_gap_idle_ns > max_gap_idle) {
            max_gap_idle = w[i].max_gap_idle_ns;
        }
    }
    qsort(times, (size_t)snaps, sizeof(*times), cmp_u64);
    printf("live=%ld threads=%d snapshots=%d median_ms=%.2f max_ms=%.2f peak_rise_kib=%ld "
           "rise_bytes_per_block=%.2f",
           live, threads, snaps, times[snaps / 2] / 1e6, times[snaps - 1] / 1e6, max_rise_kb,
           live > 0 ? max_rise_kb * 1024.0 / (double)live : 0.0);
    if (threads > 0) {
        printf(" churn_mpairs_s_between=%.2f churn_mpairs_s_during=%.2f max_gap_ms_during=%.2f "
               "max_gap_ms_between=%.2f",
               idle_pairs / (idle_ns / 1e9) / 1e6,
               snap_ns ? snap_pairs / (snap_ns / 1e9) / 1e6 : 0.0, max_gap / 1e6,
               max_gap_idle / 1e6);
    }
    printf("%s\n", failed ? " (a snapshot failed)" : "");
    for (long i = 0; i < live; i++) {
        free(blocks[i]);
    }
    free(blocks);
    free(w);
    free(times);
    close(out);
    return failed;
}
