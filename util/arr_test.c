/* SPDX-License-Identifier: MIT */
/* arr_test.c - arr_grow: room for index n, doubling, nothing moved when it already fits, and a
 * size that can't be had refused without touching the array. */
#include "arr.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

static void test_arr_grow_fits_index_and_doubles(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    assert_int_equal(arr_grow((void **)&v, &cap, 0, sizeof(*v)), 0);
    assert_int_equal(cap, 16);
    for (int i = 0; i < 16; i++) {
        v[i] = i;
    }
    int *was = v;
    assert_int_equal(arr_grow((void **)&v, &cap, 15, sizeof(*v)), 0);
    assert_ptr_equal(v, was); /* already fits */
    assert_int_equal(arr_grow((void **)&v, &cap, 16, sizeof(*v)), 0);
    assert_int_equal(cap, 32);
    assert_int_equal(arr_grow((void **)&v, &cap, 100, sizeof(*v)), 0);
    assert_int_equal(cap, 128);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(v[i], i); /* kept */
    }
    free(v);
}

static void test_arr_grow_refuses_overflow(void **state)
{
    (void)state;
    char *v = NULL;
    size_t cap = 0;
    assert_int_equal(arr_grow((void **)&v, &cap, 0, 1), 0);
    char *was = v;
    assert_int_equal(arr_grow((void **)&v, &cap, SIZE_MAX / 4, 8), -ENOMEM);
    assert_ptr_equal(v, was);
    assert_int_equal(cap, 16);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arr_grow_fits_index_and_doubles),
        cmocka_unit_test(test_arr_grow_refuses_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
