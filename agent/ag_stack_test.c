/* SPDX-License-Identifier: MIT */
/* ag_stack_test.c - interning, dense ids, index growth, per-slot counters, threads. */
#include "ag_stack.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct ag_stack_table *stacks_new(void)
{
    struct ag_stack_table *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    return t;
}

static void test_stack_same_stack_same_id(void **state)
{
    (void)state;
    struct ag_stack_table *t = stacks_new();
    uintptr_t a[] = {0x401000, 0x402000, 0x403000};
    uintptr_t b[] = {0x401000, 0x402000, 0x403004};
    uint32_t ia = ag_stack_intern(t, a, 3, 0);
    uint32_t ib = ag_stack_intern(t, b, 3, 0);
    assert_int_equal(ia, 1);
    assert_int_equal(ib, 2);
    assert_int_equal(ag_stack_intern(t, a, 3, 0), ia);
    assert_int_equal(ag_stack_intern(t, a, 2, 0), 3); /* a prefix is another stack */
    assert_int_equal(ag_stack_count(t), 3);
    const struct ag_stack_entry *e = ag_stack_get(t, ib);
    assert_non_null(e);
    assert_int_equal(e->depth, 3);
    assert_memory_equal(e->pcs, b, sizeof(b));
    assert_null(ag_stack_get(t, 0));
    free(t);
}

static void test_stack_empty_stack_is_valid(void **state)
{
    (void)state;
    struct ag_stack_table *t = stacks_new();
    uint32_t id = ag_stack_intern(t, NULL, 0, 0);
    assert_int_not_equal(id, 0);
    assert_int_equal(ag_stack_intern(t, NULL, 0, 0), id);
    assert_int_equal(ag_stack_get(t, id)->depth, 0);
    free(t);
}

static void test_stack_many_stacks_grow_index(void **state)
{
    (void)state;
    struct ag_stack_table *t = stacks_new();
    enum { N = 50000 };
    for (uint32_t i = 0; i < N; i++) {
        uintptr_t pcs[4] = {0x1000 + i, 0x2000, i * 7, 0x3000};
        assert_int_equal(ag_stack_intern(t, pcs, 4, 0), i + 1);
    }
    for (uint32_t i = 0; i < N; i += 97) {
        uintptr_t pcs[4] = {0x1000 + i, 0x2000, i * 7, 0x3000};
        assert_int_equal(ag_stack_intern(t, pcs, 4, 0), i + 1);
    }
    assert_int_equal(ag_stack_count(t), N);
    free(t);
}

static void test_stack_depth_is_capped(void **state)
{
    (void)state;
    struct ag_stack_table *t = stacks_new();
    uintptr_t pcs[AG_STACK_MAX_DEPTH + 10];
    for (size_t i = 0; i < AG_STACK_MAX_DEPTH + 10; i++) {
        pcs[i] = 0x5000 + i;
    }
    uint32_t id = ag_stack_intern(t, pcs, AG_STACK_MAX_DEPTH + 10, 1);
    assert_int_equal(ag_stack_get(t, id)->depth, AG_STACK_MAX_DEPTH);
    assert_int_equal(ag_stack_get(t, id)->flags, 1);
    free(t);
}

static void test_stack_counters_sum_over_slots(void **state)
{
    (void)state;
    struct ag_stack_table *t = stacks_new();
    uintptr_t pcs[] = {1, 2, 3};
    uint32_t id = ag_stack_intern(t, pcs, 3, 0);
    for (int i = 0; i < 10; i++) {
        ag_stack_count_alloc(t, id, 100);
    }
    uint64_t blocks;
    uint64_t bytes;
    ag_stack_allocs(t, id, &blocks, &bytes);
    assert_int_equal(blocks, 10);
    assert_int_equal(bytes, 1000);
    ag_stack_allocs(t, id + 1, &blocks, &bytes);
    assert_int_equal(blocks, 0);
    free(t);
}

struct job {
    struct ag_stack_table *t;
    uint32_t ids[2000];
};

static void *intern_many(void *arg)
{
    struct job *j = arg;
    for (uint32_t i = 0; i < 2000; i++) {
        uintptr_t pcs[3] = {0x7000 + i, 0x8000, 0x9000 + i % 13};
        j->ids[i] = ag_stack_intern(j->t, pcs, 3, 0);
        ag_stack_count_alloc(j->t, j->ids[i], 1);
    }
    return NULL;
}

/* Threads interning the same stacks at once agree on every id, and no count is lost. */
static void test_stack_concurrent_interning_agrees(void **state)
{
    (void)state;
    struct ag_stack_table *t = stacks_new();
    static struct job jobs[4];
    pthread_t tid[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].t = t;
        pthread_create(&tid[i], NULL, intern_many, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
    }
    assert_int_equal(ag_stack_count(t), 2000);
    for (int i = 1; i < 4; i++) {
        assert_memory_equal(jobs[i].ids, jobs[0].ids, sizeof(jobs[0].ids));
    }
    uint64_t blocks;
    uint64_t bytes;
    ag_stack_allocs(t, jobs[0].ids[5], &blocks, &bytes);
    assert_int_equal(blocks, 4);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_same_stack_same_id),
        cmocka_unit_test(test_stack_empty_stack_is_valid),
        cmocka_unit_test(test_stack_many_stacks_grow_index),
        cmocka_unit_test(test_stack_depth_is_capped),
        cmocka_unit_test(test_stack_counters_sum_over_slots),
        cmocka_unit_test(test_stack_concurrent_interning_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
