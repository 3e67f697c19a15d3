/* SPDX-License-Identifier: MIT */
/* buf_test.c - unit tests of the growable buffer: growth, the cap and its sticky error,
 * buf_take(), and printf in the "C" locale whatever setlocale() the program called. */
#include "buf.h"

#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_locale.h"

/* Byte i of the test pattern. */
static char pattern(size_t i)
{
    return (char)('a' + (i * 7) % 26);
}

static void test_buf_init_is_empty(void **state)
{
    (void)state;
    struct buf b;
    memset(&b, 0xa5, sizeof(b));
    buf_init(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 0);
    assert_int_equal(b.err, 0);
}

/* Many small appends grow the buffer; content, length and terminator stay right throughout. */
static void test_buf_add_grows(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    char chunk[7];
    size_t total = 0;
    while (total < 100000) {
        for (size_t i = 0; i < sizeof(chunk); i++) {
            chunk[i] = pattern(total + i);
        }
        buf_add(&b, chunk, sizeof(chunk));
        total += sizeof(chunk);
        assert_int_equal(b.len, total);
        assert_true(b.cap > b.len);
        assert_int_equal(b.data[b.len], '\0');
    }
    assert_int_equal(b.err, 0);
    for (size_t i = 0; i < total; i++) {
        assert_int_equal(b.data[i], pattern(i));
    }
    buf_cleanup(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

/* An empty append still gives a terminated, non-NULL string; NULL strings append nothing. */
static void test_buf_puts_and_empty_add(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_add(&b, NULL, 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    buf_puts(&b, NULL);
    buf_puts(&b, "ab");
    buf_puts(&b, "");
    buf_puts(&b, "c");
    assert_string_equal(b.data, "abc");
    assert_int_equal(b.len, 3);
    buf_cleanup(&b);
}

/* Exactly `max` bytes fit; one more gives -EFBIG, and the error stays: later appends that would
 * fit are ignored, the content is what it was, and buf_take() hands nothing out. */
static void test_buf_cap_is_sticky(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    b.max = 16;
    buf_add(&b, "0123456789", 10);
    buf_add(&b, "abcdef", 6);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, 16);
    buf_add(&b, "x", 1);
    assert_int_equal(b.err, -EFBIG);
    assert_int_equal(b.len, 16);
    assert_string_equal(b.data, "0123456789abcdef");
    buf_cleanup(&b);

    buf_init(&b);
    b.max = 16;
    buf_add(&b, "0123456789", 10);
    buf_add(&b, "0123456789", 10);
    assert_int_equal(b.err, -EFBIG);
    buf_add(&b, "x", 1);
    buf_puts(&b, "y");
    buf_printf(&b, "%d", 7);
    assert_int_equal(b.err, -EFBIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    assert_null(buf_take(&b));
    assert_int_equal(b.err, -EFBIG);
    buf_cleanup(&b);
}

/* A size that would overflow the length is refused before any allocation. */
static void test_buf_huge_add_is_efbig(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "x");
    buf_add(&b, "", SIZE_MAX - 1);
    assert_int_equal(b.err, -EFBIG);
    assert_string_equal(b.data, "x");
    buf_cleanup(&b);
}

/* Text longer than the formatter's stack buffer takes the second path; the cap applies there. */
static void test_buf_printf_long_text(void **state)
{
    (void)state;
    char *big = malloc(3001);
    assert_non_null(big);
    for (size_t i = 0; i < 3000; i++) {
        big[i] = pattern(i);
    }
    big[3000] = '\0';
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "<");
    buf_printf(&b, "%s|%d", big, 42);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, 1 + 3000 + 3);
    assert_int_equal(strncmp(b.data + 1, big, 3000), 0);
    assert_string_equal(b.data + 3001, "|42");
    buf_cleanup(&b);

    buf_init(&b);
    b.max = 1000;
    buf_printf(&b, "%s", big);
    assert_int_equal(b.err, -EFBIG);
    assert_int_equal(b.len, 0);
    buf_cleanup(&b);
    free(big);
}

/* 511 and 512 characters: the last that fits the stack buffer and the first that does not. */
static void test_buf_printf_at_stack_limit(void **state)
{
    (void)state;
    for (int n = 510; n <= 513; n++) {
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "%0*d", n, 5);
        assert_int_equal(b.err, 0);
        assert_int_equal(b.len, (size_t)n);
        assert_int_equal(strlen(b.data), (size_t)n);
        assert_int_equal(b.data[n - 1], '5');
        assert_int_equal(b.data[0], '0');
        buf_cleanup(&b);
    }
}

/* buf_take() hands the data out and leaves an empty, reusable buffer. */
static void test_buf_take(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    char *empty = buf_take(&b);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    free(empty);

    buf_printf(&b, "round %u of %u", 3u, 10u);
    char *p = buf_take(&b);
    assert_non_null(p);
    assert_string_equal(p, "round 3 of 10");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    buf_puts(&b, "again");
    assert_string_equal(b.data, "again");
    assert_true(b.data != p);
    free(p);
    buf_cleanup(&b);
}

/* Numbers use '.' and no grouping even after setlocale() chose a locale with ',' (the assertion
 * needs such a locale installed: de_DE or fr_FR; the test is skipped without one). */
static void test_buf_printf_ignores_locale(void **state)
{
    (void)state;
    if (!test_locale_comma()) {
        skip();
    }
    char plain[32];
    snprintf(plain, sizeof(plain), "%.1f", 1.5);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%.1f %.3g %'d", 1.5, 0.25, 1234567);
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_printf(&b, " %s %.2f", big, 2.25);
    setlocale(LC_ALL, "C");
    assert_string_equal(plain, "1,5"); /* the locale really was active */
    assert_int_equal(b.err, 0);
    assert_int_equal(strncmp(b.data, "1.5 0.25 1234567 x", 18), 0);
    assert_string_equal(b.data + b.len - 5, " 2.25");
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_init_is_empty),
        cmocka_unit_test(test_buf_add_grows),
        cmocka_unit_test(test_buf_puts_and_empty_add),
        cmocka_unit_test(test_buf_cap_is_sticky),
        cmocka_unit_test(test_buf_huge_add_is_efbig),
        cmocka_unit_test(test_buf_printf_long_text),
        cmocka_unit_test(test_buf_printf_at_stack_limit),
        cmocka_unit_test(test_buf_take),
        cmocka_unit_test(test_buf_printf_ignores_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
