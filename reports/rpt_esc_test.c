/* SPDX-License-Identifier: MIT */
/* rpt_esc_test.c - XML escaping, unique report folder names, folded stacks. The util functions
 * the reports use (safe names, atomic writes, number formats) are tested in util/. */
#include "../util/buf.h"
#include "rpt_esc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpt_fixture.h"
#include "rpt_folded.h"
#include "rpt_write.h"
#include "rpt_layout.h"

/* Scenarios whose safe names clash get distinct folders. */
static void test_rpt_write_dirname_unique(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    free(run->scenarios[2].name);
    run->scenarios[2].name = fix_strdup("uploads leaky");
    free(run->scenarios[0].name);
    run->scenarios[0].name = fix_strdup("uploads_leaky");
    char a[96], b[96];
    rpt_layout_dirname(run, 0, a, sizeof(a));
    rpt_layout_dirname(run, 2, b, sizeof(b));
    assert_string_equal(a, "uploads_leaky");
    assert_string_equal(b, "uploads_leaky-3");
    rpt_run_free(run);
}

/* XML escaping covers markup, quotes, control bytes and invalid UTF-8. */
static void test_rpt_esc_xml(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    rpt_esc_xml(&b, "<a href=\"x\">&'\x01\xff\xc3\xa9</a>\n", NULL);
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;??\xc3\xa9&lt;/a&gt;&#10;");
    buf_cleanup(&b);
}

/* Folded stacks: root first, growth only, separators in names made harmless, sorted. */
static void test_rpt_folded_growth(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    free(run->scenarios[0].sites[0].frames[3].function);
    run->scenarios[0].sites[0].frames[3].function = fix_strdup("handle;request\nx");
    struct buf b;
    buf_init(&b);
    rpt_folded_render(&run->scenarios[0], &b);
    assert_int_equal(b.err, 0);
    assert_string_equal(b.data,
                        "main;handle:request x;keep_upload;copy_chunk;malloc 360448\n"
                        "main;std::map<int, std::string>::operator[];operator new(unsigned long) "
                        "12288\n");
    buf_cleanup(&b);
    rpt_folded_render(&run->scenarios[1], &b);
    assert_int_equal(b.len, 0);
    buf_cleanup(&b);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_write_dirname_unique),
        cmocka_unit_test(test_rpt_esc_xml),
        cmocka_unit_test(test_rpt_folded_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
