/* SPDX-License-Identifier: MIT */
/* strv_test.c - unit tests of string vectors: length, deep copies, NULL handling. */
#include "strv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_strv_len(void **state)
{
    (void)state;
    char a[] = "a", b[] = "b", c[] = "";
    char *v[] = {a, b, c, NULL};
    char *empty[] = {NULL};
    assert_int_equal(strv_len(v), 3);
    assert_int_equal(strv_len(empty), 0);
    assert_int_equal(strv_len(NULL), 0);
}

/* The copy has its own array and strings, equal to the original's, and is NULL-terminated. */
static void test_strv_dup_is_deep(void **state)
{
    (void)state;
    char a[] = "--port", b[] = "{port}", c[] = "";
    char *v[] = {a, b, c, NULL};
    char **d = strv_dup(v);
    assert_non_null(d);
    assert_int_equal(strv_len(d), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true(d[i] != v[i]);
        assert_string_equal(d[i], v[i]);
    }
    assert_null(d[3]);
    d[0][0] = 'X';
    assert_string_equal(a, "--port");
    strv_free(d);
}

/* NULL stays NULL; an empty vector gives an empty (non-NULL) copy. */
static void test_strv_dup_null_and_empty(void **state)
{
    (void)state;
    assert_null(strv_dup(NULL));
    char *empty[] = {NULL};
    char **d = strv_dup(empty);
    assert_non_null(d);
    assert_null(d[0]);
    strv_free(d);
    strv_free(NULL);
}

static void test_strv_dup_str(void **state)
{
    (void)state;
    assert_null(strv_dup_str(NULL));
    const char *s = "keep_upload";
    char *d = strv_dup_str(s);
    assert_non_null(d);
    assert_true(d != s);
    assert_string_equal(d, s);
    free(d);
}

/* strv_free_n() frees every entry of a counted vector, NULL entries included (a leak would
 * fail the valgrind and ASan runs). */
static void test_strv_free_n(void **state)
{
    (void)state;
    char **v = calloc(4, sizeof(*v));
    assert_non_null(v);
    v[0] = strv_dup_str("one");
    v[2] = strv_dup_str("three");
    v[3] = strv_dup_str("four");
    assert_non_null(v[0]);
    assert_non_null(v[2]);
    assert_non_null(v[3]);
    assert_int_equal(strv_len(v), 1); /* counted vectors may hold NULL: strv_len stops there */
    strv_free_n(v, 4);
    strv_free_n(NULL, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strv_len),
        cmocka_unit_test(test_strv_dup_is_deep),
        cmocka_unit_test(test_strv_dup_null_and_empty),
        cmocka_unit_test(test_strv_dup_str),
        cmocka_unit_test(test_strv_free_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
