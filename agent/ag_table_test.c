/* SPDX-License-Identifier: MIT */
/* ag_table_test.c - the live table against a plain reference model, growth and shrink,
 * backward-shift deletion, totals, big sizes, and concurrent use: frees from other threads,
 * threads that exit with live blocks, the per-cell counters against a recount by walking, a
 * walk while threads churn, and a fork in the middle of churn. */
#include "ag_table.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ag_mem.h"

static struct ag_table *table_new(void)
{
    struct ag_table *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    return t;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_table_insert_remove_roundtrip(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    assert_int_equal(ag_table_insert(t, 0x1000, 48, 7, 3), 0);
    assert_true(ag_table_contains(t, 0x1000));
    struct ag_block b;
    assert_true(ag_table_remove(t, 0x1000, &b));
    assert_true(b.ptr == 0x1000);
    assert_int_equal(b.size, 48);
    assert_int_equal(b.stack_id, 7);
    assert_int_equal(b.epoch, 3);
    assert_false(ag_table_contains(t, 0x1000));
    struct ag_table_totals tot;
    ag_table_totals(t, &tot);
    assert_int_equal(tot.live_blocks, 0);
    assert_int_equal(tot.live_bytes, 0);
    assert_int_equal(tot.allocs, 1);
    assert_int_equal(tot.frees, 1);
    free(t);
}

static void test_table_unknown_free_is_counted(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    assert_false(ag_table_remove(t, 0xdead0, NULL));
    assert_int_equal(ag_table_insert(t, 0x2000, 8, 1, 0), 0);
    assert_false(ag_table_remove(t, 0x2010, NULL));
    struct ag_table_totals tot;
    ag_table_totals(t, &tot);
    assert_int_equal(tot.unknown, 2);
    assert_int_equal(tot.live_blocks, 1);
    free(t);
}

static void test_table_duplicate_address_replaces(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    assert_int_equal(ag_table_insert(t, 0x3000, 100, 1, 0), 0);
    assert_int_equal(ag_table_insert(t, 0x3000, 30, 2, 5), 0);
    struct ag_table_totals tot;
    ag_table_totals(t, &tot);
    assert_int_equal(tot.live_blocks, 1);
    assert_int_equal(tot.live_bytes, 30);
    struct ag_block b;
    assert_true(ag_table_remove(t, 0x3000, &b));
    assert_int_equal(b.stack_id, 2);
    free(t);
}

/* Random inserts and removes against a reference array: every answer and total must agree,
 * through many grow and shrink cycles and long probe clusters. */
static void test_table_matches_reference_model(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    enum { N = 20000 };
    static uintptr_t ptrs[N];
    static uint64_t sizes[N];
    static bool live[N];
    uint64_t seed = 0x1234567;
    uint64_t live_bytes = 0;
    uint64_t live_blocks = 0;
    for (int i = 0; i < N; i++) {
        /* Clustered addresses stress one region (one shard) and its probe chains. */
        ptrs[i] = 0x7f0000000000ull + (uintptr_t)i * 16 + ((i % 7 == 0) ? 0x40000000ull : 0);
    }
    for (int step = 0; step < 400000; step++) {
        int i = (int)(rng(&seed) % N);
        if (live[i]) {
            struct ag_block b;
            assert_true(ag_table_remove(t, ptrs[i], &b));
            assert_int_equal(b.size, sizes[i]);
            live[i] = false;
            live_bytes -= sizes[i];
            live_blocks--;
        } else {
            sizes[i] = rng(&seed) % 5000;
            assert_int_equal(ag_table_insert(t, ptrs[i], sizes[i], (uint32_t)i, 0), 0);
            live[i] = true;
            live_bytes += sizes[i];
            live_blocks++;
        }
        if (step % 50000 == 0) {
            for (int k = 0; k < N; k++) {
                assert_int_equal(ag_table_contains(t, ptrs[k]), live[k]);
            }
        }
    }
    struct ag_table_totals tot;
    ag_table_totals(t, &tot);
    assert_int_equal(tot.live_blocks, live_blocks);
    assert_int_equal(tot.live_bytes, live_bytes);
    /* Drain: the table must shrink back to its minimum. */
    for (int i = 0; i < N; i++) {
        if (live[i]) {
            assert_true(ag_table_remove(t, ptrs[i], NULL));
        }
    }
    for (unsigned k = 0; k < AG_TABLE_SHARDS; k++) {
        assert_true(t->shards[k].cap <= AG_TABLE_MIN_CAP);
    }
    free(t);
}

/* The table's hashes, copied here to build colliding addresses (if the table's hash changes,
 * the addresses stop colliding and the test below checks less, never wrongly). */
static uint64_t test_hash_ptr(uintptr_t p)
{
    uint64_t h = (uint64_t)p >> 4;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

static unsigned test_shard(uintptr_t p)
{
    uint64_t r = ((uint64_t)p >> 20) * 0x9e3779b97f4a7c15ull;
    return (unsigned)((r >> 56) & (AG_TABLE_SHARDS - 1));
}

/* Hundreds of addresses of one shard that hash to the same slot in tables up to 4096 slots:
 * one cluster far longer than the 255 slots a stored distance covers. Removing them in a
 * scrambled order (each removal shifting the rest back) keeps every answer right. */
static void test_table_long_clusters(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    enum { N = 600 };
    static uintptr_t ptrs[N];
    unsigned n = 0;
    unsigned shard = test_shard(0x7e0000000000ull);
    for (uintptr_t region = 0x7e0000000000ull >> 20; n < N; region++) {
        if (test_shard(region << 20) != shard) {
            continue;
        }
        for (uintptr_t off = 0; off < (1u << 20) && n < N; off += 16) {
            uintptr_t p = (region << 20) + off;
            if ((test_hash_ptr(p) & 4095) == 77) {
                ptrs[n++] = p;
            }
        }
    }
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(ag_table_insert(t, ptrs[i], i + 1, 1, 0), 0);
    }
    uint64_t seed = 99;
    static bool gone[N];
    for (unsigned k = 0; k < N; k++) {
        unsigned i = (unsigned)(rng(&seed) % N);
        while (gone[i]) {
            i = (i + 1) % N;
        }
        struct ag_block b;
        assert_true(ag_table_remove(t, ptrs[i], &b));
        assert_int_equal(b.size, i + 1);
        gone[i] = true;
        if (k % 50 == 0) {
            for (unsigned j = 0; j < N; j++) {
                assert_int_equal(ag_table_contains(t, ptrs[j]), !gone[j]);
            }
        }
    }
    struct ag_table_totals tot;
    ag_table_totals(t, &tot);
    assert_int_equal(tot.live_blocks, 0);
    free(t);
}

struct walk_sum {
    uint64_t bytes;
    uint64_t blocks;
};

static void sum_visit(void *ctx, const struct ag_block *b)
{
    struct walk_sum *s = ctx;
    s->bytes += b->size;
    s->blocks++;
}

static void test_table_walk_sees_every_block(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    for (uintptr_t i = 1; i <= 5000; i++) {
        assert_int_equal(ag_table_insert(t, i * 0x1000, i, 1, 0), 0);
    }
    struct walk_sum s = {0};
    ag_table_walk(t, sum_visit, &s);
    assert_int_equal(s.blocks, 5000);
    assert_int_equal(s.bytes, 5000ull * 5001 / 2);
    free(t);
}

/* Memory follows what is live: a program that fills and empties the same heap regions over and
 * over costs no more after fifty cycles than after one. */
static void test_table_memory_bounded_by_live(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    uint64_t base = ag_mem_mapped();
    uint64_t after_first = 0;
    for (int cycle = 0; cycle < 50; cycle++) {
        for (uintptr_t i = 1; i <= 3000; i++) {
            assert_int_equal(ag_table_insert(t, 0x10000000 + i * 32 + (uintptr_t)cycle * 16, 1, 1,
                                             (uint32_t)cycle),
                             0);
        }
        for (uintptr_t i = 1; i <= 3000; i++) {
            assert_true(ag_table_remove(t, 0x10000000 + i * 32 + (uintptr_t)cycle * 16, NULL));
        }
        if (cycle == 0) {
            after_first = ag_mem_mapped();
        }
    }
    assert_true(ag_mem_mapped() <= after_first);
    assert_true(ag_mem_mapped() - base < (1u << 20));
    free(t);
}

struct worker {
    struct ag_table *t;
    uintptr_t base;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    uint64_t seed = w->base | 1;
    static const int n = 4096;
    bool live[4096] = {false};
    for (int step = 0; step < 200000; step++) {
        int i = (int)(rng(&seed) % n);
        uintptr_t p = w->base + (uintptr_t)i * 16;
        if (live[i]) {
            if (!ag_table_remove(w->t, p, NULL)) {
                return (void *)1;
            }
        } else if (ag_table_insert(w->t, p, 16, 1, 0) != 0) {
            return (void *)1;
        }
        live[i] = !live[i];
    }
    for (int i = 0; i < n; i++) {
        if (live[i]) {
            ag_table_remove(w->t, w->base + (uintptr_t)i * 16, NULL);
        }
    }
    return NULL;
}

static void test_table_concurrent_threads(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    pthread_t tid[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        /* Two threads share a region (same shards), two have their own. */
        w[i] = (struct worker){
            .t = t, .base = 0x100000000ull * (uintptr_t)(i / 2 + 1) + (uintptr_t)(i % 2) * 0x10000};
        pthread_create(&tid[i], NULL, hammer, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(tid[i], &rc);
        assert_null(rc);
    }
    struct ag_table_totals tot;
    ag_table_totals(t, &tot);
    assert_int_equal(tot.live_blocks, 0);
    assert_int_equal(tot.live_bytes, 0);
    assert_int_equal(tot.unknown, 0);
    free(t);
}

/* ---------------------------------------------------------------- counters against a walk */

/* A recount of the live blocks by (stack id, epoch), from a walk. */
struct recount {
    uint32_t max_stack;
    uint32_t max_epoch;
    int64_t *blocks; /* [stack * (max_epoch + 1) + epoch] */
    int64_t *bytes;
    uint64_t total_blocks;
    uint64_t total_bytes;
    bool out_of_range;
};

static void recount_visit(void *ctx, const struct ag_block *b)
{
    struct recount *r = ctx;
    if (b->stack_id > r->max_stack || b->epoch > r->max_epoch) {
        r->out_of_range = true;
        return;
    }
    size_t k = (size_t)b->stack_id * (r->max_epoch + 1) + b->epoch;
    r->blocks[k]++;
    r->bytes[k] += (int64_t)b->size;
    r->total_blocks++;
    r->total_bytes += b->size;
}

/* Checks that the cells' counters, summed over every thread, equal a recount by walking the
 * blocks, cell by cell, and that the totals agree. Returns false on any difference (usable
 * in a forked child, where cmocka's asserts can't report). */
static bool counters_match_walk(struct ag_table *t, uint32_t max_stack, uint32_t max_epoch)
{
    struct recount r = {.max_stack = max_stack, .max_epoch = max_epoch};
    size_t n = ((size_t)max_stack + 1) * (max_epoch + 1);
    r.blocks = calloc(n, sizeof(*r.blocks));
    r.bytes = calloc(n, sizeof(*r.bytes));
    uint32_t cells = ag_table_cell_count(t);
    int64_t *cb = calloc(cells + 1, sizeof(*cb));
    int64_t *cy = calloc(cells + 1, sizeof(*cy));
    bool ok = r.blocks && r.bytes && cb && cy;
    if (ok) {
        ag_table_walk(t, recount_visit, &r);
        ag_table_cell_sums(t, cells, cb, cy);
        ok = !r.out_of_range;
        int64_t *seen_blocks = calloc(n, sizeof(*seen_blocks));
        int64_t *seen_bytes = calloc(n, sizeof(*seen_bytes));
        ok = ok && seen_blocks && seen_bytes;
        for (uint32_t id = 1; ok && id <= cells; id++) {
            struct ag_table_cell c;
            ok = ag_table_cell(t, id, &c) && c.stack_id <= max_stack && c.epoch <= max_epoch;
            if (ok) {
                size_t k = (size_t)c.stack_id * (max_epoch + 1) + c.epoch;
                seen_blocks[k] += cb[id - 1];
                seen_bytes[k] += cy[id - 1];
            }
        }
        for (size_t k = 0; ok && k < n; k++) {
            ok = seen_blocks[k] == r.blocks[k] && seen_bytes[k] == r.bytes[k];
        }
        struct ag_table_totals tot;
        ag_table_totals(t, &tot);
        ok = ok && tot.live_blocks == r.total_blocks && tot.live_bytes == r.total_bytes;
        free(seen_blocks);
        free(seen_bytes);
    }
    free(r.blocks);
    free(r.bytes);
    free(cb);
    free(cy);
    return ok;
}

struct hand {
    struct ag_table *t;
    uintptr_t base;
    unsigned n;
    int rc;
};

static void *insert_range(void *arg)
{
    struct hand *h = arg;
    for (unsigned i = 0; i < h->n; i++) {
        if (ag_table_insert(h->t, h->base + (uintptr_t)i * 16, 16 + i % 100, 1 + i % 10, i % 3) !=
            0) {
            h->rc = 1;
        }
    }
    return NULL;
}

static void *remove_range(void *arg)
{
    struct hand *h = arg;
    for (unsigned i = 0; i < h->n; i++) {
        struct ag_block b;
        if (!ag_table_remove(h->t, h->base + (uintptr_t)i * 16, &b) || b.size != 16 + i % 100 ||
            b.stack_id != 1 + i % 10 || b.epoch != i % 3) {
            h->rc = 1;
        }
    }
    return NULL;
}

static void run_thread(void *(*fn)(void *), struct hand *h)
{
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, fn, h), 0);
    assert_int_equal(pthread_join(tid, NULL), 0);
    assert_int_equal(h->rc, 0);
}

/* Blocks inserted by one thread, which then exits, and freed by others: the counts of the
 * thread that is gone stay, the frees count against them, and the cells come back to zero. */
static void test_table_frees_from_other_threads_after_exit(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    struct hand h = {.t = t, .base = 0x200000000ull, .n = 30000};
    run_thread(insert_range, &h);
    assert_true(counters_match_walk(t, 10, 2));
    /* Half freed by a second thread, the rest by a third. */
    struct hand first = {.t = t, .base = h.base, .n = 15000};
    run_thread(remove_range, &first);
    assert_true(counters_match_walk(t, 10, 2));
    struct ag_table_totals tot;
    ag_table_totals(t, &tot);
    assert_int_equal(tot.live_blocks, 15000);
    /* The rest by this thread. */
    for (unsigned i = 15000; i < 30000; i++) {
        struct ag_block b;
        assert_true(ag_table_remove(t, h.base + (uintptr_t)i * 16, &b));
        assert_int_equal(b.stack_id, 1 + i % 10);
    }
    ag_table_totals(t, &tot);
    assert_int_equal(tot.live_blocks, 0);
    assert_int_equal(tot.live_bytes, 0);
    assert_int_equal(tot.frees, 30000);
    uint32_t cells = ag_table_cell_count(t);
    int64_t cb[64] = {0};
    int64_t cy[64] = {0};
    assert_true(cells <= 64);
    ag_table_cell_sums(t, cells, cb, cy);
    for (uint32_t i = 0; i < cells; i++) {
        assert_int_equal(cb[i], 0);
        assert_int_equal(cy[i], 0);
    }
    free(t);
}

/* Threads that come and go one after another reuse the records of those that exited: the
 * number of records follows the threads alive at once. */
static void test_table_records_reused_after_exit(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    for (unsigned k = 0; k < 40; k++) {
        struct hand h = {.t = t, .base = 0x300000000ull + (uintptr_t)k * 0x100000, .n = 100};
        run_thread(insert_range, &h);
        run_thread(remove_range, &h);
    }
    assert_true(ag_tally_records(&t->tally) <= 3);
    assert_true(counters_match_walk(t, 10, 2));
    free(t);
}

/* Sizes from 4 GiB up are kept beside the slots: exact through insert, replace and remove. */
static void test_table_big_sizes(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    uint64_t big = 5ull << 30;
    assert_int_equal(ag_table_insert(t, 0x4000, big, 3, 1), 0);
    assert_int_equal(ag_table_insert(t, 0x4010, UINT32_MAX, 3, 1), 0);
    struct ag_block b;
    assert_true(ag_table_find(t, 0x4000, &b));
    assert_true(b.size == big);
    struct ag_table_totals tot;
    ag_table_totals(t, &tot);
    assert_true(tot.live_bytes == big + UINT32_MAX);
    assert_true(counters_match_walk(t, 3, 1));
    /* Replaced by a small block at the same address, then big again. */
    assert_int_equal(ag_table_insert(t, 0x4000, 10, 3, 1), 0);
    assert_true(ag_table_find(t, 0x4000, &b));
    assert_int_equal(b.size, 10);
    assert_int_equal(ag_table_insert(t, 0x4000, big * 2, 2, 0), 0);
    assert_true(ag_table_remove(t, 0x4000, &b));
    assert_true(b.size == big * 2);
    assert_int_equal(b.stack_id, 2);
    assert_true(ag_table_remove(t, 0x4010, &b));
    assert_true(b.size == UINT32_MAX);
    ag_table_totals(t, &tot);
    assert_int_equal(tot.live_blocks, 0);
    assert_int_equal(tot.live_bytes, 0);
    assert_int_equal(t->shards[0].n_big + t->shards[1].n_big, 0);
    free(t);
}

/* Churn from several threads over shared address ranges, each freeing blocks another made. */
struct churner {
    struct ag_table *t;
    unsigned id;
    unsigned threads;
    _Atomic int *stop;
    _Atomic uintptr_t *slots; /* shared: 0 = free slot */
    unsigned n_slots;
    unsigned long steps; /* 0: until *stop */
    int rc;
};

static void *churn(void *arg)
{
    struct churner *c = arg;
    uint64_t seed = 0x9e3779b97f4a7c15ull * (c->id + 1);
    for (unsigned long step = 0; c->steps == 0 || step < c->steps; step++) {
        if (c->steps == 0 && atomic_load(c->stop)) {
            break;
        }
        uint64_t r = rng(&seed);
        unsigned k = (unsigned)(r % c->n_slots);
        /* Take the slot: whatever was there is this thread's to free. Fresh addresses are never
         * reused while live, as an allocator's are not. */
        uintptr_t fresh =
            0x500000000ull + (((uintptr_t)step % (1u << 24)) * c->threads + c->id) * 16;
        uintptr_t old = atomic_exchange(&c->slots[k], 0);
        if (old) {
            if (!ag_table_remove(c->t, old, NULL)) {
                c->rc = 1;
            }
            continue;
        }
        if (ag_table_insert(c->t, fresh, 1 + (r >> 40) % 300, 1 + (uint32_t)((r >> 20) % 16),
                            (uint32_t)((r >> 30) % 4)) != 0) {
            c->rc = 1;
        }
        uintptr_t expected = 0;
        if (!atomic_compare_exchange_strong(&c->slots[k], &expected, fresh)) {
            (void)ag_table_remove(c->t, fresh, NULL); /* slot taken meanwhile: undo */
        }
    }
    return NULL;
}

enum { CHURN_THREADS = 4, CHURN_SLOTS = 4096 };

/* Starts CHURN_THREADS churners over `slots`. */
static void churn_start(struct ag_table *t, struct churner *c, pthread_t *tid, _Atomic int *stop,
                        _Atomic uintptr_t *slots, unsigned long steps)
{
    for (unsigned i = 0; i < CHURN_THREADS; i++) {
        c[i] = (struct churner){.t = t,
                                .id = i,
                                .threads = CHURN_THREADS,
                                .stop = stop,
                                .slots = slots,
                                .n_slots = CHURN_SLOTS,
                                .steps = steps};
        assert_int_equal(pthread_create(&tid[i], NULL, churn, &c[i]), 0);
    }
}

static void churn_join(struct churner *c, pthread_t *tid)
{
    for (unsigned i = 0; i < CHURN_THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(c[i].rc, 0);
    }
}

/* Counts the blocks a walk sees whose stack or round no churner ever used. */
static void walk_count(void *ctx, const struct ag_block *b)
{
    uint64_t *bad = ctx;
    if (b->stack_id < 1 || b->stack_id > 16 || b->epoch >= 4 || b->size < 1 || b->size > 300) {
        (*bad)++;
    }
}

/* After churn from many threads (blocks freed by threads other than their maker), every cell's
 * counters equal a recount by walking; walks while the threads run see only whole blocks. */
static void test_table_churn_counters_equal_walk(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    static _Atomic uintptr_t slots[CHURN_SLOTS];
    _Atomic int stop = 0;
    struct churner c[CHURN_THREADS];
    pthread_t tid[CHURN_THREADS];
    churn_start(t, c, tid, &stop, slots, 60000);
    uint64_t bad = 0;
    for (int i = 0; i < 5; i++) {
        ag_table_walk(t, walk_count, &bad); /* the retainer scan's use: concurrent with churn */
    }
    churn_join(c, tid);
    assert_int_equal(bad, 0); /* checked once the threads are joined */
    assert_true(counters_match_walk(t, 16, 3));
    for (unsigned k = 0; k < CHURN_SLOTS; k++) {
        uintptr_t p = atomic_exchange(&slots[k], 0);
        if (p) {
            assert_true(ag_table_remove(t, p, NULL));
        }
    }
    struct ag_table_totals tot;
    ag_table_totals(t, &tot);
    assert_int_equal(tot.live_blocks, 0);
    assert_int_equal(tot.unknown, 0);
    assert_true(counters_match_walk(t, 16, 3));
    free(t);
}

/* A fork in the middle of churn, with every table lock held as the agent's fork handler holds
 * them: the child's counters equal its recount exactly, and it goes on inserting and removing
 * on records of its own (the parent's other threads are gone there). */
static void test_table_fork_mid_churn(void **state)
{
    (void)state;
    struct ag_table *t = table_new();
    static _Atomic uintptr_t slots[CHURN_SLOTS];
    _Atomic int stop = 0;
    struct churner c[CHURN_THREADS];
    pthread_t tid[CHURN_THREADS];
    churn_start(t, c, tid, &stop, slots, 0);
    usleep(20000);
    ag_table_lock_all(t);
    pid_t pid = fork();
    ag_table_unlock_all(t);
    if (pid == 0) {
        ag_table_fork_child(t);
        bool ok = counters_match_walk(t, 16, 3);
        for (uintptr_t i = 0; i < 1000; i++) {
            ok = ok && ag_table_insert(t, 0x700000000ull + i * 16, 8, 2, 1) == 0;
        }
        for (uintptr_t i = 0; i < 500; i++) {
            ok = ok && ag_table_remove(t, 0x700000000ull + i * 16, NULL);
        }
        ok = ok && counters_match_walk(t, 16, 3);
#ifndef __SANITIZE_THREAD__ /* TSan cannot start threads after a multi-threaded fork */
        /* Only this thread's record is in use: a new thread takes a released one. */
        size_t before = ag_tally_records(&t->tally);
        struct hand h = {.t = t, .base = 0x800000000ull, .n = 10};
        pthread_t child_tid;
        ok = ok && pthread_create(&child_tid, NULL, insert_range, &h) == 0 &&
             pthread_join(child_tid, NULL) == 0 && h.rc == 0;
        ok = ok && ag_tally_records(&t->tally) == before;
#endif
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    pid_t waited = pid > 0 ? waitpid(pid, &status, 0) : -1;
    atomic_store(&stop, 1);
    churn_join(c, tid); /* before any check: a failed one would leave the threads running */
    assert_true(pid > 0);
    assert_int_equal(waited, pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(counters_match_walk(t, 16, 3));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_insert_remove_roundtrip),
        cmocka_unit_test(test_table_unknown_free_is_counted),
        cmocka_unit_test(test_table_duplicate_address_replaces),
        cmocka_unit_test(test_table_matches_reference_model),
        cmocka_unit_test(test_table_long_clusters),
        cmocka_unit_test(test_table_walk_sees_every_block),
        cmocka_unit_test(test_table_memory_bounded_by_live),
        cmocka_unit_test(test_table_concurrent_threads),
        cmocka_unit_test(test_table_frees_from_other_threads_after_exit),
        cmocka_unit_test(test_table_records_reused_after_exit),
        cmocka_unit_test(test_table_big_sizes),
        cmocka_unit_test(test_table_churn_counters_equal_walk),
        cmocka_unit_test(test_table_fork_mid_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
