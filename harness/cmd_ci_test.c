/* SPDX-License-Identifier: MIT */
/* cmd_ci_test.c - unit tests of the workflow-command escaping behind `leakcheck report`. */
#include "cmd_ci.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_cmd_ci_escape_data_keeps_colons_and_commas(void **state)
{
    (void)state;
    char out[128];
    size_t n = cmd_ci_escape(out, sizeof(out), "a:b,c 100%", 0);
    assert_string_equal(out, "a:b,c 100%25");
    assert_int_equal(n, strlen(out));
}

static void test_cmd_ci_escape_property_escapes_separators(void **state)
{
    (void)state;
    char out[128];
    cmd_ci_escape(out, sizeof(out), "src/a,b.c:12", 1);
    assert_string_equal(out, "src/a%2Cb.c%3A12");
}

/* A name with a newline must not start a second workflow command of its own. */
static void test_cmd_ci_escape_newlines_cannot_inject_commands(void **state)
{
    (void)state;
    char out[128];
    cmd_ci_escape(out, sizeof(out), "f\n::set-output name=x::y\r\x01", 0);
    assert_string_equal(out, "f%0A::set-output name=x::y%0D?");
    assert_null(strchr(out, '\n'));
    assert_null(strchr(out, '\r'));
}

/* Output is cut before an escape that would not fit, never in the middle of one. */
static void test_cmd_ci_escape_truncates_whole_escapes(void **state)
{
    (void)state;
    char out[6];
    size_t n = cmd_ci_escape(out, sizeof(out), "ab%%%", 0);
    assert_string_equal(out, "ab%25");
    assert_int_equal(n, 5);
    char tiny[1];
    assert_int_equal(cmd_ci_escape(tiny, sizeof(tiny), "abc", 1), 0);
    assert_string_equal(tiny, "");
    assert_int_equal(cmd_ci_escape(out, sizeof(out), NULL, 0), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_ci_escape_data_keeps_colons_and_commas),
        cmocka_unit_test(test_cmd_ci_escape_property_escapes_separators),
        cmocka_unit_test(test_cmd_ci_escape_newlines_cannot_inject_commands),
        cmocka_unit_test(test_cmd_ci_escape_truncates_whole_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
