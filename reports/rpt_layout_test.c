/* SPDX-License-Identifier: MIT */
/* rpt_layout_test.c - the folder names of a report: safe, and distinct for names that clash. */
#include "rpt_layout.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpt_fixture.h"

/* Replaces the name of scenario `i`. */
static void rename_scenario(struct rpt_run *run, size_t i, const char *name)
{
    free(run->scenarios[i].name);
    run->scenarios[i].name = fix_strdup(name);
}

/* A plain name is its own folder; a hostile one is reduced to a name that stays in the folder. */
static void test_rpt_layout_dirname_safe(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char dir[RPT_LAYOUT_DIR_MAX];
    rpt_layout_dirname(run, 0, dir, sizeof(dir));
    assert_string_equal(dir, "uploads-leaky");
    rpt_layout_dirname(run, 1, dir, sizeof(dir));
    assert_string_equal(dir, "cache_fixed____q____script___amp___x_");
    rename_scenario(run, 3, "../../etc/passwd");
    rpt_layout_dirname(run, 3, dir, sizeof(dir));
    assert_null(strchr(dir, '/'));
    assert_null(strstr(dir, ".."));
    assert_true(dir[0] != '.');
    rpt_run_free(run);
}

/* Names that reduce to the same folder get "-N" (N = their position, from 1) after the first. */
static void test_rpt_layout_dirname_clash(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    rename_scenario(run, 0, "a b");
    rename_scenario(run, 1, "a|b");
    rename_scenario(run, 2, "other");
    rename_scenario(run, 3, "a_b");
    char dir[RPT_LAYOUT_DIR_MAX];
    rpt_layout_dirname(run, 0, dir, sizeof(dir));
    assert_string_equal(dir, "a_b");
    rpt_layout_dirname(run, 1, dir, sizeof(dir));
    assert_string_equal(dir, "a_b-2");
    rpt_layout_dirname(run, 2, dir, sizeof(dir));
    assert_string_equal(dir, "other");
    rpt_layout_dirname(run, 3, dir, sizeof(dir));
    assert_string_equal(dir, "a_b-4");
    rpt_run_free(run);
}

/* A name that looks like an earlier clash's folder does not take that folder: "x", "x", "x-2"
 * once gave "x", "x-2", "x-2", and the third scenario's reports overwrote the second's. */
static void test_rpt_layout_dirname_clash_with_suffix(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    rename_scenario(run, 0, "x");
    rename_scenario(run, 1, "x");
    rename_scenario(run, 2, "x-2");
    rename_scenario(run, 3, "x-3");
    char dir[4][RPT_LAYOUT_DIR_MAX];
    for (size_t i = 0; i < 4; i++) {
        rpt_layout_dirname(run, i, dir[i], sizeof(dir[i]));
    }
    assert_string_equal(dir[0], "x");
    assert_string_equal(dir[1], "x-2");
    assert_string_equal(dir[2], "x-2-3");
    assert_string_equal(dir[3], "x-3");
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = i + 1; j < 4; j++) {
            assert_string_not_equal(dir[i], dir[j]);
        }
    }
    rpt_run_free(run);
}

/* A very long name with a clash suffix fits in RPT_LAYOUT_DIR_MAX; a short buffer is cut. */
static void test_rpt_layout_dirname_long(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char name[1000];
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    rename_scenario(run, 0, name);
    rename_scenario(run, 3, name);
    char dir[RPT_LAYOUT_DIR_MAX];
    rpt_layout_dirname(run, 3, dir, sizeof(dir));
    assert_true(strlen(dir) < sizeof(dir) - 1);
    assert_string_equal(dir + strlen(dir) - 2, "-4");
    char small[5];
    rpt_layout_dirname(run, 0, small, sizeof(small));
    assert_string_equal(small, "xxxx");
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_layout_dirname_safe),
        cmocka_unit_test(test_rpt_layout_dirname_clash),
        cmocka_unit_test(test_rpt_layout_dirname_clash_with_suffix),
        cmocka_unit_test(test_rpt_layout_dirname_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
