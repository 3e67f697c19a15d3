/* SPDX-License-Identifier: MIT */
/* stats_test.c - unit tests of the median: odd and even counts, duplicates, flat series, n == 0,
 * and random data (fixed seed) against the middle of a sorted copy. */
#include "stats.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* qsort comparator for doubles. */
static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median by sorting a copy: the reference. */
static double sorted_median(const double *v, size_t n)
{
    double *c = malloc(n * sizeof(*c));
    assert_non_null(c);
    memcpy(c, v, n * sizeof(*c));
    qsort(c, n, sizeof(*c), cmp_d);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2.0;
    free(c);
    return m;
}

/* A small deterministic generator (the same sequence on every libc). */
static uint32_t next_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*s >> 33);
}

static void test_stats_median_small(void **state)
{
    (void)state;
    double odd[] = {5, 1, 3};
    assert_true(stats_median(odd, 3) == 3);
    double even[] = {4, 1, 3, 2};
    assert_true(stats_median(even, 4) == 2.5);
    double one[] = {-7.5};
    assert_true(stats_median(one, 1) == -7.5);
    double two[] = {10, -4};
    assert_true(stats_median(two, 2) == 3);
    double neg[] = {-1, -9, -3, -5, -2};
    assert_true(stats_median(neg, 5) == -3);
}

static void test_stats_median_empty(void **state)
{
    (void)state;
    double v[] = {42};
    assert_true(stats_median(v, 0) == 0);
    assert_true(stats_median(NULL, 0) == 0);
    assert_true(v[0] == 42);
}

/* Ties around the middle, on either side of it. */
static void test_stats_median_duplicates(void **state)
{
    (void)state;
    double a[] = {2, 2, 2, 5, 1};
    assert_true(stats_median(a, 5) == 2);
    double b[] = {1, 3, 3, 1};
    assert_true(stats_median(b, 4) == 2);
    double c[] = {9, 9, 1, 1, 9, 1};
    assert_true(stats_median(c, 6) == 5);
    double d[] = {4, 4, 4, 4, 8, 0};
    assert_true(stats_median(d, 6) == 4);
}

/* A flat series (every pairwise slope of a flat heap is 0): the value itself. */
static void test_stats_median_flat(void **state)
{
    (void)state;
    size_t n = 100001;
    double *v = malloc(n * sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        v[i] = 7.25;
    }
    assert_true(stats_median(v, n) == 7.25);
    assert_true(stats_median(v, n - 1) == 7.25);
    free(v);
}

/* Random data of every size up to 300, with few and many distinct values: equal to the sorted
 * copy's middle, and the input is only reordered (the same values come back). */
static void test_stats_median_random(void **state)
{
    (void)state;
    uint64_t seed = 20261202;
    double v[300], orig[300];
    for (size_t n = 1; n <= 300; n++) {
        uint32_t range = n % 3 == 0 ? 4 : 1000000;
        for (size_t i = 0; i < n; i++) {
            orig[i] = (double)(next_rand(&seed) % range) - range / 2.0;
        }
        memcpy(v, orig, n * sizeof(*v));
        double want = sorted_median(orig, n);
        assert_true(stats_median(v, n) == want);
        qsort(v, n, sizeof(*v), cmp_d);
        qsort(orig, n, sizeof(*orig), cmp_d);
        assert_memory_equal(v, orig, n * sizeof(*v));
    }
}

/* Sorted and reverse-sorted input (the worst orders for a naive pivot). */
static void test_stats_median_sorted_input(void **state)
{
    (void)state;
    double up[1000], down[1000];
    for (size_t i = 0; i < 1000; i++) {
        up[i] = (double)i;
        down[i] = (double)(999 - i);
    }
    assert_true(stats_median(up, 1000) == 499.5);
    assert_true(stats_median(down, 999) == 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_median_small),
        cmocka_unit_test(test_stats_median_empty),
        cmocka_unit_test(test_stats_median_duplicates),
        cmocka_unit_test(test_stats_median_flat),
        cmocka_unit_test(test_stats_median_random),
        cmocka_unit_test(test_stats_median_sorted_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
