/* SPDX-License-Identifier: MIT */
/* diag_test.c - unit tests of diag_set(): the result, NULL diagnostics, truncation at DIAG_MAX,
 * numbers in the "C" locale. */
#include "diag.h"

#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_locale.h"

/* The message is formatted and the error handed back, so `return diag_set(...)` works. */
static void test_diag_set_formats_and_returns(void **state)
{
    (void)state;
    struct diag d = {{0}};
    assert_int_equal(diag_set(&d, -EINVAL, "%s: driver: unknown key '%s'", "uploads.json", "x"),
                     -EINVAL);
    assert_string_equal(d.msg, "uploads.json: driver: unknown key 'x'");
    assert_int_equal(diag_set(&d, 0, "replaced %d", 2), 0);
    assert_string_equal(d.msg, "replaced 2");
}

/* A NULL diag is allowed: nothing is written, the error still comes back. */
static void test_diag_set_null(void **state)
{
    (void)state;
    assert_int_equal(diag_set(NULL, -ENOMEM, "out of %s", "memory"), -ENOMEM);
    assert_int_equal(diag_set(NULL, -EBADMSG, "%s", "x"), -EBADMSG);
}

/* A message longer than DIAG_MAX is cut to DIAG_MAX - 1 bytes and terminated. */
static void test_diag_set_truncates(void **state)
{
    (void)state;
    char long_text[3 * DIAG_MAX];
    for (size_t i = 0; i < sizeof(long_text) - 1; i++) {
        long_text[i] = (char)('a' + i % 26);
    }
    long_text[sizeof(long_text) - 1] = '\0';
    struct diag d;
    memset(&d, '#', sizeof(d));
    assert_int_equal(diag_set(&d, -E2BIG, "%s", long_text), -E2BIG);
    assert_int_equal(strlen(d.msg), DIAG_MAX - 1);
    assert_memory_equal(d.msg, long_text, DIAG_MAX - 1);
}

/* Numbers in messages don't follow setlocale() (skipped without a decimal-comma locale). */
static void test_diag_set_c_locale(void **state)
{
    (void)state;
    if (!test_locale_comma()) {
        skip();
    }
    char plain[16];
    snprintf(plain, sizeof(plain), "%.1f", 0.5);
    struct diag d = {{0}};
    diag_set(&d, -EINVAL, "threshold %.1f, timeout_s %g", 0.5, 2.5);
    setlocale(LC_ALL, "C");
    assert_string_equal(plain, "0,5");
    assert_string_equal(d.msg, "threshold 0.5, timeout_s 2.5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diag_set_formats_and_returns),
        cmocka_unit_test(test_diag_set_null),
        cmocka_unit_test(test_diag_set_truncates),
        cmocka_unit_test(test_diag_set_c_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
