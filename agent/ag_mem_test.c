/* SPDX-License-Identifier: MIT */
/* ag_mem_test.c - the agent's own mappings: zeroed, page-rounded, counted, given back. */
#include "ag_mem.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

/* A mapping is zeroed and writable; the count grows by the page-rounded size and shrinks back. */
static void test_ag_mem_map_counts_pages(void **state)
{
    (void)state;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t before = ag_mem_mapped();
    unsigned char *p = ag_mem_map(10);
    assert_non_null(p);
    assert_int_equal(ag_mem_mapped() - before, page);
    for (size_t i = 0; i < page; i++) {
        assert_int_equal(p[i], 0);
    }
    p[page - 1] = 1;
    unsigned char *q = ag_mem_map(3 * page + 1);
    assert_non_null(q);
    assert_int_equal(ag_mem_mapped() - before, 5 * page);
    ag_mem_unmap(p, 10);
    assert_int_equal(ag_mem_mapped() - before, 4 * page);
    ag_mem_unmap(q, 3 * page + 1);
    assert_int_equal(ag_mem_mapped(), before);
    ag_mem_unmap(NULL, 4096);
    assert_int_equal(ag_mem_mapped(), before);
}

/* A size no mapping can have fails without changing the count. */
static void test_ag_mem_map_failure_counts_nothing(void **state)
{
    (void)state;
    uint64_t before = ag_mem_mapped();
    assert_null(ag_mem_map(SIZE_MAX - 100));
    assert_int_equal(ag_mem_mapped(), before);
}

/* Maps and unmaps a page 1000 times. */
static void *churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        void *p = ag_mem_map(100);
        if (!p) {
            return (void *)1;
        }
        ag_mem_unmap(p, 100);
    }
    return NULL;
}

/* The count is exact with threads mapping and unmapping at once. */
static void test_ag_mem_count_is_thread_safe(void **state)
{
    (void)state;
    uint64_t before = ag_mem_mapped();
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rc = (void *)1;
        assert_int_equal(pthread_join(t[i], &rc), 0);
        assert_null(rc);
    }
    assert_int_equal(ag_mem_mapped(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ag_mem_map_counts_pages),
        cmocka_unit_test(test_ag_mem_map_failure_counts_nothing),
        cmocka_unit_test(test_ag_mem_count_is_thread_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
