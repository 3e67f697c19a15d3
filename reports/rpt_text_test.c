/* SPDX-License-Identifier: MIT */
/* rpt_text_test.c - cutting names: short ones untouched, long ones cut on a UTF-8 boundary. */
#include "rpt_text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* A name that fits comes back as it is, not copied; NULL stays NULL. */
static void test_rpt_text_cut_fits(void **state)
{
    (void)state;
    char out[32] = "unchanged";
    const char *s = "keep_upload";
    assert_ptr_equal(rpt_text_cut(s, 11, out, sizeof(out)), s);
    assert_ptr_equal(rpt_text_cut(s, 200, out, sizeof(out)), s);
    assert_null(rpt_text_cut(NULL, 5, out, sizeof(out)));
    assert_string_equal(out, "unchanged");
}

/* A longer name is cut at `max` bytes with "..." after it. */
static void test_rpt_text_cut_ascii(void **state)
{
    (void)state;
    char out[32];
    const char *r = rpt_text_cut("abcdefgh", 5, out, sizeof(out));
    assert_ptr_equal(r, out);
    assert_string_equal(r, "abcde...");
    // Exactly enough room for max bytes, "..." and the NUL.
    char tight[9];
    assert_string_equal(rpt_text_cut("abcdefghij", 5, tight, sizeof(tight)), "abcde...");
}

/* The cut never splits a character: it backs up to the start of the one it would cut. */
static void test_rpt_text_cut_utf8(void **state)
{
    (void)state;
    char out[32];
    // "abcd" then U+00E9 (2 bytes) then U+20AC (3 bytes): byte 5 is inside the é.
    const char *s = "abcd\xc3\xa9\xe2\x82\xac!";
    assert_string_equal(rpt_text_cut(s, 5, out, sizeof(out)), "abcd...");
    assert_string_equal(rpt_text_cut(s, 6, out, sizeof(out)), "abcd\xc3\xa9...");
    assert_string_equal(rpt_text_cut(s, 7, out, sizeof(out)), "abcd\xc3\xa9...");
    assert_string_equal(rpt_text_cut(s, 8, out, sizeof(out)), "abcd\xc3\xa9...");
    assert_string_equal(rpt_text_cut(s, 9, out, sizeof(out)), "abcd\xc3\xa9\xe2\x82\xac...");
}

/* Without room for the cut text in `out`, the name comes back whole rather than overflow. */
static void test_rpt_text_cut_no_room(void **state)
{
    (void)state;
    char out[8];
    const char *s = "abcdefghijklmnop";
    assert_ptr_equal(rpt_text_cut(s, 5, out, sizeof(out)), s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_text_cut_fits),
        cmocka_unit_test(test_rpt_text_cut_ascii),
        cmocka_unit_test(test_rpt_text_cut_utf8),
        cmocka_unit_test(test_rpt_text_cut_no_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
