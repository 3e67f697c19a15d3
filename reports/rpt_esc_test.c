/* SPDX-License-Identifier: MIT */
/* rpt_esc_test.c - escaping report text for XML/HTML and Markdown. */
#include "rpt_esc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../util/buf.h"

/* Escapes `s` with `esc` (NULL as `null_as`) and checks the text. */
static void check(void (*esc)(struct buf *, const char *, const char *), const char *s,
                  const char *null_as, const char *want)
{
    struct buf b;
    buf_init(&b);
    esc(&b, s, null_as);
    assert_int_equal(b.err, 0);
    assert_string_equal(b.data ? b.data : "", want);
    buf_cleanup(&b);
}

/* XML escaping covers markup, quotes, control bytes and invalid UTF-8. */
static void test_rpt_esc_xml(void **state)
{
    (void)state;
    check(rpt_esc_xml, "<a href=\"x\">&'\x01\xff\xc3\xa9</a>\n", NULL,
          "&lt;a href=&quot;x&quot;&gt;&amp;&#39;??\xc3\xa9&lt;/a&gt;&#10;");
    check(rpt_esc_xml, "tab\there", NULL, "tab&#9;here");
    /* overlong and surrogate encodings are not UTF-8 */
    check(rpt_esc_xml, "\xc0\xaf|\xed\xa0\x80", NULL, "??|???");
    check(rpt_esc_xml, NULL, "none", "none");
    check(rpt_esc_xml, NULL, NULL, "");
}

/* Element text keeps its newlines and tabs. */
static void test_rpt_esc_xml_text(void **state)
{
    (void)state;
    check(rpt_esc_xml_text, "a\n\tb<c>", NULL, "a\n\tb&lt;c&gt;");
}

/* A Markdown table cell is one line with its specials escaped and no raw HTML. */
static void test_rpt_esc_md(void **state)
{
    (void)state;
    check(rpt_esc_md, "cache_put | *x* <b>", NULL, "cache\\_put \\| \\*x\\* &lt;b&gt;");
    check(rpt_esc_md, "two\nlines\tand\x01", NULL, "two lines and?");
    check(rpt_esc_md, NULL, "n/a", "n/a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_esc_xml),
        cmocka_unit_test(test_rpt_esc_xml_text),
        cmocka_unit_test(test_rpt_esc_md),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
