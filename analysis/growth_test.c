/* SPDX-License-Identifier: MIT */
/* growth_test.c - unit tests for growth.c: leak patterns that must be caught, and look-alikes
 * that must not be.
 *
 * Each pattern is played on a small block simulator: sites allocate and free blocks during
 * rounds; after each round the simulator records live bytes/blocks per site and for the heap, as
 * the agent's snapshots do, and at the end the survivors by round of birth.
 */
#include "growth.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_ROUNDS 40
#define MAX_SITES  6
#define MAX_BLOCKS 8192

struct blk {
    uint64_t size;
    uint32_t birth; /* 1-based round */
};

struct simsite {
    struct blk blocks[MAX_BLOCKS];
    size_t n;
    uint64_t bytes[MAX_ROUNDS], count[MAX_ROUNDS];
    uint64_t surv_blocks[MAX_ROUNDS], surv_bytes[MAX_ROUNDS];
};

struct sim {
    size_t rounds, warmup, n_sites;
    uint32_t round; /* current, 1-based */
    uint64_t other; /* heap bytes outside every site (start-up), constant */
    uint64_t heap_bytes[MAX_ROUNDS], heap_blocks[MAX_ROUNDS];
    struct simsite site[MAX_SITES];
    struct growth_site_in in_sites[MAX_SITES];
    struct growth_site_out out_sites[MAX_SITES];
    struct growth_in in;
    struct growth_out out;
};

/* Allocates a block of `size` at site s in the current round. */
static void sim_alloc(struct sim *sm, size_t s, uint64_t size)
{
    struct simsite *st = &sm->site[s];
    assert_true(st->n < MAX_BLOCKS);
    st->blocks[st->n].size = size;
    st->blocks[st->n].birth = sm->round;
    st->n++;
}

/* Frees block i of site s (order kept: oldest first). */
static void sim_free(struct sim *sm, size_t s, size_t i)
{
    struct simsite *st = &sm->site[s];
    assert_true(i < st->n);
    memmove(&st->blocks[i], &st->blocks[i + 1], (st->n - i - 1) * sizeof(st->blocks[0]));
    st->n--;
}

/* Frees every block of site s. */
static void sim_free_all(struct sim *sm, size_t s)
{
    sm->site[s].n = 0;
}

/* Grows the single block of site s to `size`, moving it (a new birth) as realloc usually does. */
static void sim_realloc(struct sim *sm, size_t s, uint64_t size)
{
    if (sm->site[s].n > 0) {
        sim_free(sm, s, 0);
    }
    sim_alloc(sm, s, size);
}

/* Starts a simulation of `rounds` rounds, `warmup` of them warm-up, with `n_sites` sites. */
static struct sim *sim_new(size_t rounds, size_t warmup, size_t n_sites)
{
    struct sim *sm = calloc(1, sizeof(*sm));
    assert_non_null(sm);
    assert_true(rounds <= MAX_ROUNDS && n_sites <= MAX_SITES);
    sm->rounds = rounds;
    sm->warmup = warmup;
    sm->n_sites = n_sites;
    sm->other = 100000;
    return sm;
}

/* Begins round r (1-based). */
static void sim_begin(struct sim *sm, uint32_t r)
{
    sm->round = r;
}

/* Records the snapshot after the current round. */
static void sim_end(struct sim *sm)
{
    size_t r = sm->round - 1;
    sm->heap_bytes[r] = sm->other;
    sm->heap_blocks[r] = 10;
    for (size_t s = 0; s < sm->n_sites; s++) {
        struct simsite *st = &sm->site[s];
        st->bytes[r] = 0;
        st->count[r] = st->n;
        for (size_t i = 0; i < st->n; i++) {
            st->bytes[r] += st->blocks[i].size;
        }
        sm->heap_bytes[r] += st->bytes[r];
        sm->heap_blocks[r] += st->count[r];
    }
}

/* Computes survivors and runs the analysis; returns growth_analyze()'s result. */
static int sim_analyze(struct sim *sm, double threshold)
{
    for (size_t s = 0; s < sm->n_sites; s++) {
        struct simsite *st = &sm->site[s];
        memset(st->surv_blocks, 0, sizeof(st->surv_blocks));
        memset(st->surv_bytes, 0, sizeof(st->surv_bytes));
        for (size_t i = 0; i < st->n; i++) {
            st->surv_blocks[st->blocks[i].birth - 1]++;
            st->surv_bytes[st->blocks[i].birth - 1] += st->blocks[i].size;
        }
        sm->in_sites[s].live_bytes = st->bytes;
        sm->in_sites[s].live_blocks = st->count;
        sm->in_sites[s].surv_blocks = st->surv_blocks;
        sm->in_sites[s].surv_bytes = st->surv_bytes;
    }
    sm->in.n_rounds = sm->rounds;
    sm->in.warmup = sm->warmup;
    sm->in.live_bytes = sm->heap_bytes;
    sm->in.live_blocks = sm->heap_blocks;
    sm->in.n_sites = sm->n_sites;
    sm->in.sites = sm->in_sites;
    sm->in.threshold_bytes_per_round = threshold;
    return growth_analyze(&sm->in, &sm->out, sm->out_sites);
}

/* Deterministic generator (xorshift), seeded per test. */
static uint64_t rnd(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *st = x;
    return x;
}

/* ---------------------------------------------------------------- statistics */

static void test_growth_theil_sen_hand_values(void **state)
{
    (void)state;
    /* pairwise slopes: 2, 0.5, 4/3, -1, 1, 3 -> median (1 + 4/3) / 2 */
    const double y[] = {1, 3, 2, 5};
    assert_float_equal(growth_theil_sen(y, 4), (1.0 + 4.0 / 3.0) / 2.0, 1e-12);
    /* odd count of pairs: 3 points, slopes 10, 5, 0 -> 5 */
    const double z[] = {0, 10, 10};
    assert_float_equal(growth_theil_sen(z, 3), 5.0, 1e-12);
    /* an outlier does not move it: a line of slope 2 with one wild point */
    const double w[] = {0, 2, 4, 6000, 8, 10, 12};
    assert_float_equal(growth_theil_sen(w, 7), 2.0, 1e-12);
    assert_float_equal(growth_theil_sen(y, 1), 0.0, 0);
    assert_float_equal(growth_theil_sen(NULL, 4), 0.0, 0);
}

/* Long runs: a flat series of 3000 rounds (4.5 M equal pairwise slopes) and a steady one are
 * answered at once and right; this took hours with a two-way partition. */
static void test_growth_theil_sen_long_flat_and_steady(void **state)
{
    (void)state;
    enum { N = 3000 };
    static double y[N];
    for (size_t i = 0; i < N; i++) {
        y[i] = 4096;
    }
    assert_true(growth_theil_sen(y, N) == 0.0);
    for (size_t i = 0; i < N; i++) {
        y[i] = 100.0 + 16.0 * (double)i + (double)(i % 3);
    }
    double slope = growth_theil_sen(y, N);
    assert_true(slope > 15.9 && slope < 16.1);
}

static void test_growth_mann_kendall_hand_values(void **state)
{
    (void)state;
    /* 1..5: S = 10, var = 5*4*15/18 = 16.667, z = 9/4.0825 = 2.2045, p = 0.013745 */
    const double up[] = {1, 2, 3, 4, 5};
    assert_float_equal(growth_mann_kendall_p(up, 5), 0.013745, 1e-5);
    /* reversed: S = -10, z = -2.2045, p = 0.98626 */
    const double down[] = {5, 4, 3, 2, 1};
    assert_float_equal(growth_mann_kendall_p(down, 5), 0.986255, 1e-5);
    /* ties: {0,0,64,64,64,128,128,128,192,192}: S = 37, var = (2250 - 168) / 18,
     * z = 36 / 10.7600 = 3.3457, p = 0.00041 */
    const double stairs[] = {0, 0, 64, 64, 64, 128, 128, 128, 192, 192};
    assert_float_equal(growth_mann_kendall_p(stairs, 10), 0.000410, 1e-5);
    /* all equal: no trend */
    const double flat[] = {7, 7, 7, 7};
    assert_float_equal(growth_mann_kendall_p(flat, 4), 1.0, 0);
    /* S = 0: p = 0.5 */
    const double zig[] = {1, 3, 2};
    assert_float_equal(growth_mann_kendall_p(zig, 3), 0.5, 1e-12);
    assert_float_equal(growth_mann_kendall_p(up, 2), 1.0, 0);
}

/* ---------------------------------------------------------------- leaks that must be caught */

/* 50 requests per round, each strdup's 16 bytes that are never freed; a churn site beside. */
static void test_growth_steady_small_leak(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 2);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        for (int i = 0; i < 50; i++) {
            sim_alloc(sm, 0, 16);
            sim_alloc(sm, 1, 4096);
            sim_free(sm, 1, 0);
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    assert_int_equal(sm->out.n_suspects, 1);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_LEAK);
    assert_true(sm->out_sites[0].suspect);
    assert_float_equal(sm->out_sites[0].bytes_per_round, 800.0, 1e-9);
    assert_float_equal(sm->out_sites[0].blocks_per_round, 50.0, 1e-9);
    assert_int_equal(sm->out_sites[0].rounds_with_survivors, 10);
    assert_int_equal(sm->out_sites[0].measured_rounds, 10);
    assert_false(sm->out_sites[1].suspect);
    assert_int_equal(sm->out_sites[1].kind, RPT_KIND_FLAT);
    assert_float_equal(sm->out.bytes_per_round, 800.0, 1e-9);
    assert_true(sm->out.trend_p_value < 0.001);
    assert_string_equal(sm->out.reason, "10 of 10 measured rounds left blocks behind at 1 site; "
                                        "top site +800 B/round, heap +800 B/round");
    free(sm);
}

/* The smallest leak the default threshold must catch: 16 B per request, 10 requests a round. */
static void test_growth_default_threshold_catches_16b_times_10(void **state)
{
    (void)state;
    struct sim *sm = sim_new(10, 2, 1);
    for (uint32_t r = 1; r <= 10; r++) {
        sim_begin(sm, r);
        for (int i = 0; i < 10; i++) {
            sim_alloc(sm, 0, 16);
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    free(sm);
}

/* Works from five rounds: one warm-up, four measured. */
static void test_growth_five_rounds_enough(void **state)
{
    (void)state;
    struct sim *sm = sim_new(5, 1, 1);
    for (uint32_t r = 1; r <= 5; r++) {
        sim_begin(sm, r);
        sim_alloc(sm, 0, 1000);
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    assert_int_equal(sm->out_sites[0].rounds_with_survivors, 4);
    free(sm);
}

/* Every third request leaks, in a mixed stream where other requests only churn. */
static void test_growth_intermittent_and_mixed_stream(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 3);
    int req = 0;
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        for (int i = 0; i < 50; i++, req++) {
            if (req % 3 == 0) {
                sim_alloc(sm, 0, 40); /* the leaking request type */
            } else {
                sim_alloc(sm, 1, 300); /* freed at the end of the request */
                sim_free(sm, 1, 0);
            }
            if (req % 7 == 0) {
                sim_alloc(sm, 2, 64); /* a session table with 20 slots, oldest out */
                if (sm->site[2].n > 20) {
                    sim_free(sm, 2, 0);
                }
            }
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    assert_int_equal(sm->out.n_suspects, 1);
    assert_true(sm->out_sites[0].suspect);
    assert_false(sm->out_sites[1].suspect);
    assert_false(sm->out_sites[2].suspect);
    assert_int_not_equal(sm->out_sites[2].kind, RPT_KIND_LEAK);
    free(sm);
}

/* One 4 KiB block every third round: a slow leak, found from the cadence of its survivors. */
static void test_growth_slow_leak_one_block_every_three_rounds(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        if (r % 3 == 0) {
            sim_alloc(sm, 0, 4096);
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_LEAK);
    assert_int_equal(sm->out_sites[0].rounds_with_survivors, 3);
    assert_true(fabs(sm->out_sites[0].blocks_per_round - 1.0 / 3.0) < 0.1);
    assert_string_equal(
        sm->out.reason,
        "3 of 10 measured rounds left blocks behind at 1 site; top site +1.3 KiB/round, "
        "heap +1.3 KiB/round");
    free(sm);
}

/* A small slow leak is still classified a leak, but stays under the bytes threshold; a blocks
 * threshold catches it. */
static void test_growth_blocks_threshold(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        if (r % 3 == 1) {
            sim_alloc(sm, 0, 64);
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_LEAK);
    assert_false(sm->out_sites[0].suspect);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    assert_non_null(strstr(sm->out.reason, "1 site leaks under the threshold"));

    sm->in.threshold_blocks_per_round = 0.25;
    assert_int_equal(growth_analyze(&sm->in, &sm->out, sm->out_sites), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    assert_true(sm->out_sites[0].suspect);
    sm->in.threshold_blocks_per_round = 0.5;
    assert_int_equal(growth_analyze(&sm->in, &sm->out, sm->out_sites), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    free(sm);
}

/* One buffer realloc'ed bigger every round and never trimmed: a single survivor, born in the
 * last round, yet its bytes climb every round. */
static void test_growth_realloc_growth_one_block(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        sim_realloc(sm, 0, 1000 * (uint64_t)r);
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].rounds_with_survivors, 1);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_LEAK);
    assert_float_equal(sm->out_sites[0].blocks_per_round, 0.0, 0);
    assert_float_equal(sm->out_sites[0].bytes_per_round, 1000.0, 1e-9);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    assert_non_null(strstr(sm->out.reason, "live bytes kept rising"));
    free(sm);
}

/* A std::vector<int> growing by 100 elements a round: capacity doubles, the old buffer is freed,
 * only the latest buffer survives. */
static void test_growth_vector_doubling(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 1);
    uint64_t size = 0, cap = 0;
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        for (int i = 0; i < 100; i++) {
            if (size == cap) {
                cap = cap ? cap * 2 : 1;
                sim_realloc(sm, 0, cap * 4);
            }
            size++;
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_LEAK);
    assert_true(sm->out_sites[0].suspect);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    assert_non_null(strstr(sm->out.reason, "storage kept doubling"));
    free(sm);
}

/* A leak of 200 B/round at its own site while another site swings by tens of KiB at random. */
static void test_growth_small_leak_under_large_noise(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    struct sim *sm = sim_new(13, 3, 2);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        sim_alloc(sm, 0, 200);
        sim_free_all(sm, 1);
        uint64_t k = rnd(&seed) % 64;
        for (uint64_t i = 0; i < k; i++) {
            sim_alloc(sm, 1, 1024);
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    assert_true(sm->out_sites[0].suspect);
    assert_false(sm->out_sites[1].suspect);
    assert_int_not_equal(sm->out_sites[1].kind, RPT_KIND_LEAK);

    /* the whole heap alone (no per-site data) cannot see it through the noise, and says so
     * without crying wolf */
    sm->in.n_sites = 0;
    assert_int_equal(growth_analyze(&sm->in, &sm->out, NULL), 0);
    assert_int_not_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    free(sm);
}

/* Growth no site explains (here: no per-site data at all) is inconclusive, never a pass. */
static void test_growth_heap_growth_without_site_is_inconclusive(void **state)
{
    (void)state;
    struct sim *sm = sim_new(12, 2, 1);
    for (uint32_t r = 1; r <= 12; r++) {
        sim_begin(sm, r);
        sim_alloc(sm, 0, 5000);
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    sm->in.n_sites = 0;
    assert_int_equal(growth_analyze(&sm->in, &sm->out, NULL), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_INCONCLUSIVE);
    assert_non_null(strstr(sm->out.reason, "no single site explains it"));
    free(sm);
}

/* Many leaking sites, each under the threshold, with one culprit: grouped, they are a leak;
 * alone, the heap's growth is still reported as inconclusive. */
static void test_growth_group_adds_up(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 4);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        for (size_t s = 0; s < 4; s++) {
            sim_alloc(sm, s, 100);
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_INCONCLUSIVE);
    for (size_t s = 0; s < 4; s++) {
        sm->in_sites[s].group = 7;
    }
    assert_int_equal(growth_analyze(&sm->in, &sm->out, sm->out_sites), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    assert_int_equal(sm->out.n_suspects, 4);
    free(sm);
}

/* ---------------------------------------------------------------- look-alikes that must pass */

/* One-time initialisation inside measured round 5. */
static void test_growth_step_one_time_init(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        if (r == 3 + 5) {
            for (int i = 0; i < 100; i++) {
                sim_alloc(sm, 0, 512);
            }
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_STEP);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    assert_non_null(strstr(sm->out.reason, "1 site stepped once"));
    free(sm);
}

/* A step late in the run (round 9 of 10 measured) is no leak either. */
static void test_growth_late_step(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        if (r == 12) {
            sim_alloc(sm, 0, 1 << 20);
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_STEP);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    free(sm);
}

/* A cache that fills in the first measured rounds and then only replaces entries. */
static void test_growth_plateau_cache_fills_then_churns(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 2, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        for (int i = 0; i < 40; i++) {
            sim_alloc(sm, 0, 128);
            if (sm->site[0].n > 200) {
                sim_free(sm, 0, 0);
            }
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_PLATEAU);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    assert_non_null(strstr(sm->out.reason, "1 site plateaued, the largest holding"));
    free(sm);
}

/* A parse buffer of 4 MiB made by the first request of warm-up and reused ever after: flat in
 * every measured round, yet grown during the run. A plateau (the retained high-water mark is in
 * the reason), not a leak; a buffer made at start-up (round 0) stays merely flat. */
static void test_growth_plateau_reused_buffer_from_warmup(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 2);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        if (r == 1) {
            sim_alloc(sm, 0, 4u << 20);
        }
        sim_end(sm);
    }
    /* site 1 holds a start-up block: no birth inside the rounds */
    sm->site[1].n = 0;
    for (size_t r = 0; r < 13; r++) {
        sm->site[1].bytes[r] = 4096;
        sm->site[1].count[r] = 1;
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_PLATEAU);
    assert_int_equal(sm->out_sites[1].kind, RPT_KIND_FLAT);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    assert_non_null(strstr(sm->out.reason, "1 site plateaued, the largest holding 4.0 MiB"));
    free(sm);
}

/* A bounded cache full since warm-up, evicting oldest first: survivors from the last rounds
 * only, live bytes flat. */
static void test_growth_bounded_cache_with_eviction(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        for (int i = 0; i < 50; i++) {
            sim_alloc(sm, 0, 96);
            if (sm->site[0].n > 150) {
                sim_free(sm, 0, 0);
            }
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].rounds_with_survivors, 3);
    /* filled during warm-up, flat since: a plateau, with its size in the reason */
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_PLATEAU);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    assert_string_equal(
        sm->out.reason,
        "live heap flat (+0 B/round); 1 site plateaued, the largest holding 14.1 KiB");
    free(sm);
}

/* An LRU cache whose hot entries stay for the whole run: survivors from early and late rounds,
 * but the live heap does not grow. */
static void test_growth_lru_hot_entries(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    struct sim *sm = sim_new(13, 3, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        if (r == 1) {
            for (int i = 0; i < 50; i++) {
                sim_alloc(sm, 0, 64); /* hot entries, never evicted */
            }
        }
        for (int i = 0; i < 30; i++) {
            sim_alloc(sm, 0, 64);
            if (sm->site[0].n > 120) {
                sim_free(sm, 0, 50 + rnd(&seed) % 70); /* evict a cold one */
            }
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_not_equal(sm->out_sites[0].kind, RPT_KIND_LEAK);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    free(sm);
}

/* A buffer that grows by 2 KiB a round and is reset every fourth round. */
static void test_growth_sawtooth(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        if (r % 4 == 0) {
            sim_free_all(sm, 0);
        } else {
            sim_alloc(sm, 0, 2048);
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_SAWTOOTH);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    free(sm);
}

/* A pool that grows by 20 blocks a round until its cap of 100, then reuses them. */
static void test_growth_capped_pool(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 1, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        for (int i = 0; i < 20 && sm->site[0].n < 100; i++) {
            sim_alloc(sm, 0, 256);
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_PLATEAU);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    free(sm);
}

/* Random live amounts each round, at two sites, over many seeds: never a leak. Each round a
 * random share of a pool is replaced, and a random number of buffers is kept until the next
 * round. */
static void test_growth_noisy_churn_never_leaks(void **state)
{
    (void)state;
    for (uint64_t trial = 1; trial <= 300; trial++) {
        uint64_t seed = trial * 0x2545F4914F6CDD1Du;
        struct sim *sm = sim_new(13, 3, 2);
        for (uint32_t r = 1; r <= 13; r++) {
            sim_begin(sm, r);
            if (r == 1) {
                for (int i = 0; i < 200; i++) {
                    sim_alloc(sm, 0, 32 + rnd(&seed) % 512);
                }
            }
            uint64_t replace = rnd(&seed) % 40;
            for (uint64_t i = 0; i < replace; i++) {
                sim_free(sm, 0, rnd(&seed) % sm->site[0].n);
                sim_alloc(sm, 0, 32 + rnd(&seed) % 512);
            }
            sim_free_all(sm, 1);
            uint64_t keep = rnd(&seed) % 100;
            for (uint64_t i = 0; i < keep; i++) {
                sim_alloc(sm, 1, 16 + rnd(&seed) % 4096);
            }
            sim_end(sm);
        }
        assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
        if (sm->out.verdict == RPT_VERDICT_LEAK) {
            print_error("trial %llu: %s\n", (unsigned long long)trial, sm->out.reason);
        }
        assert_int_not_equal(sm->out.verdict, RPT_VERDICT_LEAK);
        assert_int_not_equal(sm->out_sites[0].kind, RPT_KIND_LEAK);
        assert_int_not_equal(sm->out_sites[1].kind, RPT_KIND_LEAK);
        free(sm);
    }
}

/* Fragmentation: the allocator's footprint may grow, the live heap does not. */
static void test_growth_fragmentation_flat_live_heap(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 1);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        for (int i = 0; i < 100; i++) {
            sim_alloc(sm, 0, (uint64_t)(16 << (i % 8)));
        }
        for (int i = 0; i < 100; i++) {
            sim_free(sm, 0, (size_t)(i % 2 ? 0 : sm->site[0].n - 1));
        }
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_FLAT);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    free(sm);
}

/* A suppressed leak neither leaks nor leaves the heap's growth unexplained. */
static void test_growth_suppressed_leak_is_no_leak(void **state)
{
    (void)state;
    struct sim *sm = sim_new(13, 3, 2);
    for (uint32_t r = 1; r <= 13; r++) {
        sim_begin(sm, r);
        for (int i = 0; i < 20; i++) {
            sim_alloc(sm, 0, 256);
        }
        sim_end(sm);
    }
    sm->in_sites[0].suppressed = true;
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out_sites[0].kind, RPT_KIND_LEAK);
    assert_false(sm->out_sites[0].suspect);
    assert_int_equal(sm->out.n_suspects, 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_NO_LEAK);
    assert_non_null(strstr(sm->out.reason, "1 leaking site suppressed"));
    sm->in_sites[0].suppressed = false;
    assert_int_equal(growth_analyze(&sm->in, &sm->out, sm->out_sites), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_LEAK);
    free(sm);
}

/* The threshold is inclusive: exactly at it is a leak, one byte under is not. */
static void test_growth_threshold_boundaries(void **state)
{
    (void)state;
    for (uint64_t per = 127; per <= 129; per++) {
        struct sim *sm = sim_new(12, 2, 1);
        for (uint32_t r = 1; r <= 12; r++) {
            sim_begin(sm, r);
            sim_alloc(sm, 0, per);
            sim_end(sm);
        }
        assert_int_equal(sim_analyze(sm, 128.0), 0);
        assert_int_equal(sm->out_sites[0].kind, RPT_KIND_LEAK);
        assert_int_equal(sm->out.verdict, per >= 128 ? RPT_VERDICT_LEAK : RPT_VERDICT_NO_LEAK);
        free(sm);
    }
}

/* Fewer than four measured rounds: no verdict either way. */
static void test_growth_too_few_rounds_inconclusive(void **state)
{
    (void)state;
    struct sim *sm = sim_new(5, 2, 1);
    for (uint32_t r = 1; r <= 5; r++) {
        sim_begin(sm, r);
        sim_alloc(sm, 0, 10000);
        sim_end(sm);
    }
    assert_int_equal(sim_analyze(sm, GROWTH_DEFAULT_BYTES_PER_ROUND), 0);
    assert_int_equal(sm->out.verdict, RPT_VERDICT_INCONCLUSIVE);
    assert_int_equal(sm->out.n_suspects, 0);
    assert_false(sm->out_sites[0].suspect);
    assert_non_null(strstr(sm->out.reason, "only 3 measured rounds"));
    free(sm);
}

/* Unusable input is refused and nothing is written. */
static void test_growth_rejects_bad_input(void **state)
{
    (void)state;
    uint64_t v[3] = {1, 2, 3};
    struct growth_in in = {.n_rounds = 3,
                           .warmup = 3,
                           .live_bytes = v,
                           .live_blocks = v,
                           .threshold_bytes_per_round = 128};
    struct growth_out out;
    memset(&out, 0xab, sizeof(out));
    assert_int_equal(growth_analyze(&in, &out, NULL), -EINVAL); /* no measured round */
    assert_int_equal(out.n_suspects, (size_t)0xabababababababab);
    in.warmup = 0;
    in.live_blocks = NULL;
    assert_int_equal(growth_analyze(&in, &out, NULL), -EINVAL);
    in.live_blocks = v;
    in.threshold_bytes_per_round = 0;
    assert_int_equal(growth_analyze(&in, &out, NULL), -EINVAL);
    in.threshold_bytes_per_round = 128;
    in.n_sites = 1;
    assert_int_equal(growth_analyze(&in, &out, NULL), -EINVAL);
    in.n_sites = 0;
    assert_int_equal(growth_analyze(&in, &out, NULL), 0);
    assert_int_equal(growth_analyze(NULL, &out, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth_theil_sen_hand_values),
        cmocka_unit_test(test_growth_theil_sen_long_flat_and_steady),
        cmocka_unit_test(test_growth_mann_kendall_hand_values),
        cmocka_unit_test(test_growth_steady_small_leak),
        cmocka_unit_test(test_growth_default_threshold_catches_16b_times_10),
        cmocka_unit_test(test_growth_five_rounds_enough),
        cmocka_unit_test(test_growth_intermittent_and_mixed_stream),
        cmocka_unit_test(test_growth_slow_leak_one_block_every_three_rounds),
        cmocka_unit_test(test_growth_blocks_threshold),
        cmocka_unit_test(test_growth_realloc_growth_one_block),
        cmocka_unit_test(test_growth_vector_doubling),
        cmocka_unit_test(test_growth_small_leak_under_large_noise),
        cmocka_unit_test(test_growth_heap_growth_without_site_is_inconclusive),
        cmocka_unit_test(test_growth_group_adds_up),
        cmocka_unit_test(test_growth_step_one_time_init),
        cmocka_unit_test(test_growth_late_step),
        cmocka_unit_test(test_growth_plateau_cache_fills_then_churns),
        cmocka_unit_test(test_growth_plateau_reused_buffer_from_warmup),
        cmocka_unit_test(test_growth_bounded_cache_with_eviction),
        cmocka_unit_test(test_growth_lru_hot_entries),
        cmocka_unit_test(test_growth_sawtooth),
        cmocka_unit_test(test_growth_capped_pool),
        cmocka_unit_test(test_growth_noisy_churn_never_leaks),
        cmocka_unit_test(test_growth_fragmentation_flat_live_heap),
        cmocka_unit_test(test_growth_suppressed_leak_is_no_leak),
        cmocka_unit_test(test_growth_threshold_boundaries),
        cmocka_unit_test(test_growth_too_few_rounds_inconclusive),
        cmocka_unit_test(test_growth_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
