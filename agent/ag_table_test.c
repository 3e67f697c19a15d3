/* SPDX-License-Identifier: MIT */
/* ag_table_test.c - the live table against a plain reference model, growth and shrink,
 * backward-shift deletion, totals, and concurrent use. */
#include "ag_table.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_insert_remove_roundtrip),
        cmocka_unit_test(test_table_unknown_free_is_counted),
        cmocka_unit_test(test_table_duplicate_address_replaces),
        cmocka_unit_test(test_table_matches_reference_model),
        cmocka_unit_test(test_table_walk_sees_every_block),
        cmocka_unit_test(test_table_memory_bounded_by_live),
        cmocka_unit_test(test_table_concurrent_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
