/* SPDX-License-Identifier: MIT */
/* clock_test.c - unit tests of the monotonic clock and the RFC 3339 timestamp. */
#include "clock.h"

#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

/* Readings never go back, and the two units agree with each other. */
static void test_clock_monotonic(void **state)
{
    (void)state;
    int64_t prev_ms = clock_ms();
    double prev_s = clock_s();
    assert_true(prev_ms >= 0);
    for (int i = 0; i < 10000; i++) {
        int64_t ms = clock_ms();
        double s = clock_s();
        assert_true(ms >= prev_ms);
        assert_true(s >= prev_s);
        prev_ms = ms;
        prev_s = s;
    }
    int64_t before = clock_ms();
    double s = clock_s();
    int64_t after = clock_ms();
    assert_true(s * 1000.0 >= (double)before - 1.0);
    assert_true(s * 1000.0 <= (double)after + 1.0);
}

/* "YYYY-MM-DDTHH:MM:SSZ", in UTC, within a few seconds of time(NULL). */
static void test_clock_rfc3339_format(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    time_t before = time(NULL);
    char out[64];
    clock_rfc3339(out, sizeof(out));
    time_t after = time(NULL);
    int match = regexec(&re, out, 0, NULL, 0);
    regfree(&re);
    assert_int_equal(match, 0);
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    char *end = strptime(out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    assert_non_null(end);
    assert_int_equal(*end, '\0');
    time_t t = timegm(&tm);
    assert_true(t >= before - 1);
    assert_true(t <= after + 1);
}

/* 21 bytes hold the stamp; 20 give an empty string; 0 writes nothing. */
static void test_clock_rfc3339_short_buffer(void **state)
{
    (void)state;
    char out[32];
    memset(out, '#', sizeof(out));
    clock_rfc3339(out, 21);
    assert_int_equal(strlen(out), 20);
    memset(out, '#', sizeof(out));
    clock_rfc3339(out, 20);
    assert_string_equal(out, "");
    memset(out, '#', sizeof(out));
    clock_rfc3339(out, 0);
    assert_int_equal(out[0], '#');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_monotonic),
        cmocka_unit_test(test_clock_rfc3339_format),
        cmocka_unit_test(test_clock_rfc3339_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
