/* SPDX-License-Identifier: MIT */
/* fmt_test.c - unit tests of the "C"-locale formatter, the one byte formatter (every unit
 * boundary, signs, non-finite values, short buffers) and "function (file:line)" places. */
#include "fmt.h"

#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_locale.h"

#define KIB 1024.0
#define MIB (1024.0 * 1024)
#define GIB (1024.0 * 1024 * 1024)

/* One input of the byte formatters and what each must print. */
struct bytes_case {
    double in;
    const char *plain;     /* fmt_bytes() */
    const char *with_sign; /* fmt_bytes_signed() */
};

static const struct bytes_case bytes_cases[] = {
    {0, "0 B", "+0 B"},
    {1, "1 B", "+1 B"},
    {1023, "1023 B", "+1023 B"},
    {1024, "1.0 KiB", "+1.0 KiB"},
    {1536, "1.5 KiB", "+1.5 KiB"},
    {1023 * KIB, "1023.0 KiB", "+1023.0 KiB"},
    {MIB, "1.0 MiB", "+1.0 MiB"},
    {33 * MIB, "33.0 MiB", "+33.0 MiB"},
    {1023 * MIB, "1023.0 MiB", "+1023.0 MiB"},
    {GIB, "1.0 GiB", "+1.0 GiB"},
    {2.5 * GIB, "2.5 GiB", "+2.5 GiB"},
    {1024 * GIB, "1024.0 GiB", "+1024.0 GiB"},
    /* the unit follows the rounded figure */
    {1023.4, "1023 B", "+1023 B"},
    {1023.6, "1.0 KiB", "+1.0 KiB"},
    {MIB - 1, "1.0 MiB", "+1.0 MiB"},
    {1023.94 * KIB, "1023.9 KiB", "+1023.9 KiB"},
    {GIB - 1, "1.0 GiB", "+1.0 GiB"},
    {-(MIB - 1), "-1.0 MiB", "-1.0 MiB"},
    {-1, "-1 B", "-1 B"},
    {-1023, "-1023 B", "-1023 B"},
    {-1024, "-1.0 KiB", "-1.0 KiB"},
    {-1023 * KIB, "-1023.0 KiB", "-1023.0 KiB"},
    {-MIB, "-1.0 MiB", "-1.0 MiB"},
    {-3 * MIB, "-3.0 MiB", "-3.0 MiB"},
    {-GIB, "-1.0 GiB", "-1.0 GiB"},
};

/* Every case through both formatters. */
static void check_bytes_cases(void)
{
    char out[32];
    for (size_t i = 0; i < sizeof(bytes_cases) / sizeof(bytes_cases[0]); i++) {
        const struct bytes_case *c = &bytes_cases[i];
        fmt_bytes(out, sizeof(out), c->in);
        assert_string_equal(out, c->plain);
        fmt_bytes_signed(out, sizeof(out), c->in);
        assert_string_equal(out, c->with_sign);
    }
}

static void test_fmt_bytes_unit_boundaries(void **state)
{
    (void)state;
    check_bytes_cases();
}

/* NaN and the infinities are "n/a", with or without a sign. */
static void test_fmt_bytes_not_finite(void **state)
{
    (void)state;
    const double bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[16] = "junk";
        fmt_bytes(out, sizeof(out), bad[i]);
        assert_string_equal(out, "n/a");
        memcpy(out, "junk", 5);
        fmt_bytes_signed(out, sizeof(out), bad[i]);
        assert_string_equal(out, "n/a");
    }
}

/* A short buffer gets a truncated, terminated prefix and nothing past its end. */
static void test_fmt_bytes_short_buffer(void **state)
{
    (void)state;
    char out[8];
    memset(out, '#', sizeof(out));
    fmt_bytes(out, 4, 1536);
    assert_string_equal(out, "1.5");
    assert_int_equal(out[4], '#');
    memset(out, '#', sizeof(out));
    fmt_bytes_signed(out, 1, -1024);
    assert_string_equal(out, "");
    assert_int_equal(out[1], '#');
}

/* The figures come out the same after setlocale() picked a locale with a decimal comma (skipped
 * without such a locale installed). */
static void test_fmt_bytes_c_locale(void **state)
{
    (void)state;
    if (!test_locale_comma()) {
        skip();
    }
    char plain[16];
    snprintf(plain, sizeof(plain), "%.1f", 1.5);
    char out[32];
    fmt_bytes(out, sizeof(out), 1536);
    char sig[32];
    fmt_bytes_signed(sig, sizeof(sig), -3 * MIB);
    char c[64];
    fmt_c(c, sizeof(c), "%.2f %'d", 3.25, 1234567);
    setlocale(LC_ALL, "C");
    assert_string_equal(plain, "1,5");
    assert_string_equal(out, "1.5 KiB");
    assert_string_equal(sig, "-3.0 MiB");
    assert_string_equal(c, "3.25 1234567");
    check_bytes_cases();
}

/* fmt_c() returns what vsnprintf returns: the full length, also when it truncates. */
static void test_fmt_c_returns_full_length(void **state)
{
    (void)state;
    char out[4];
    assert_int_equal(fmt_c(out, sizeof(out), "%s-%d", "abcdef", 12), 9);
    assert_string_equal(out, "abc");
    assert_int_equal(fmt_c(out, sizeof(out), "%d", 7), 1);
    assert_string_equal(out, "7");
}

/* "function (file:line)" with "?" for an unknown function; the line only with a file. */
static void test_fmt_where_parts(void **state)
{
    (void)state;
    char out[128];
    fmt_where(out, sizeof(out), "keep_upload", "server.c", 88);
    assert_string_equal(out, "keep_upload (server.c:88)");
    fmt_where(out, sizeof(out), "keep_upload", "server.c", 0);
    assert_string_equal(out, "keep_upload (server.c)");
    fmt_where(out, sizeof(out), "keep_upload", NULL, 88);
    assert_string_equal(out, "keep_upload");
    fmt_where(out, sizeof(out), NULL, "server.c", 4294967295u);
    assert_string_equal(out, "? (server.c:4294967295)");
    fmt_where(out, sizeof(out), NULL, "server.c", 0);
    assert_string_equal(out, "? (server.c)");
    fmt_where(out, sizeof(out), NULL, NULL, 12);
    assert_string_equal(out, "?");
    fmt_where(out, 6, "keep_upload", "server.c", 88);
    assert_string_equal(out, "keep_");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_bytes_unit_boundaries),
        cmocka_unit_test(test_fmt_bytes_not_finite),
        cmocka_unit_test(test_fmt_bytes_short_buffer),
        cmocka_unit_test(test_fmt_bytes_c_locale),
        cmocka_unit_test(test_fmt_c_returns_full_length),
        cmocka_unit_test(test_fmt_where_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
