/* SPDX-License-Identifier: MIT */
/* rpt_util_test.c - safe names, escaping, number formats and atomic writes; folded stacks. */
#include "../util/buf.h"
#include "../util/diag.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../util/stats.h"
#include "rpt_esc.h"

#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpt_fixture.h"
#include "rpt_folded.h"
#include "rpt_testenv.h"
#include "rpt_write.h"

/* Names can never leave the report folder or hide. */
static void test_rpt_util_safe_name(void **state)
{
    (void)state;
    char out[80];
    file_safe_name("../../etc/passwd", out, sizeof(out));
    assert_null(strstr(out, ".."));
    assert_null(strchr(out, '/'));
    assert_true(out[0] != '.');
    file_safe_name(".hidden", out, sizeof(out));
    assert_string_equal(out, "_hidden");
    file_safe_name("", out, sizeof(out));
    assert_string_equal(out, "scenario");
    file_safe_name("a b|c.d", out, sizeof(out));
    assert_string_equal(out, "a_b_c.d");
    file_safe_name("x...y", out, sizeof(out));
    assert_string_equal(out, "x._.y");
}

/* Scenarios whose safe names clash get distinct folders. */
static void test_rpt_util_dirname_unique(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    free(run->scenarios[2].name);
    run->scenarios[2].name = fix_strdup("uploads leaky");
    free(run->scenarios[0].name);
    run->scenarios[0].name = fix_strdup("uploads_leaky");
    char a[96], b[96];
    rpt_write_dirname(run, 0, a, sizeof(a));
    rpt_write_dirname(run, 2, b, sizeof(b));
    assert_string_equal(a, "uploads_leaky");
    assert_string_equal(b, "uploads_leaky-3");
    rpt_run_free(run);
}

/* XML escaping covers markup, quotes, control bytes and invalid UTF-8. */
static void test_rpt_util_xml_escape(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    rpt_esc_xml(&b, "<a href=\"x\">&'\x01\xff\xc3\xa9</a>\n", NULL);
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;??\xc3\xa9&lt;/a&gt;&#10;");
    buf_cleanup(&b);
}

/* Numbers ignore the process locale. */
static void test_rpt_util_numbers_c_locale(void **state)
{
    (void)state;
    const char *loc = setlocale(LC_NUMERIC, "de_DE.UTF-8");
    char out[32];
    fmt_bytes(out, sizeof(out), 1536);
    assert_string_equal(out, "1.5 KiB");
    fmt_bytes(out, sizeof(out), -3.0 * 1024 * 1024);
    assert_string_equal(out, "-3.0 MiB");
    fmt_bytes(out, sizeof(out), 100);
    assert_string_equal(out, "100 B");
    if (loc) {
        setlocale(LC_NUMERIC, "C");
    }
}

/* Atomic write leaves no temporary file behind and replaces the old content. */
static void test_rpt_util_atomic_write(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX * 2], cmd[PATH_MAX * 3];
    struct diag dg = {{0}};
    env_tmpdir(dir, "atomic");
    snprintf(path, sizeof(path), "%s/f.txt", dir);
    assert_int_equal(file_write(path, "one", 3, &dg), 0);
    assert_int_equal(file_write(path, "two", 3, &dg), 0);
    char *t = env_slurp(path, NULL);
    assert_string_equal(t, "two");
    free(t);
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
    assert_int_equal(env_run(cmd, NULL), 0);
    snprintf(path, sizeof(path), "%s/missing/f.txt", dir);
    assert_int_equal(file_write(path, "x", 1, &dg), -ENOENT);
    assert_non_null(strstr(dg.msg, "missing/f.txt: cannot create a temporary file"));
    env_rmrf(dir);
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
        cmocka_unit_test(test_rpt_util_safe_name),
        cmocka_unit_test(test_rpt_util_dirname_unique),
        cmocka_unit_test(test_rpt_util_xml_escape),
        cmocka_unit_test(test_rpt_util_numbers_c_locale),
        cmocka_unit_test(test_rpt_util_atomic_write),
        cmocka_unit_test(test_rpt_folded_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
