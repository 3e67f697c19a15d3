/* SPDX-License-Identifier: MIT */
/* rpt_write_test.c - writing every report of a run into a folder: every file there, each the
 * writer's output, nothing else; on failure nothing half-written and no report.json. */
#include "rpt_write.h"
#include "rpt_layout.h"
#include "rpt_json.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../util/buf.h"
#include "rpt_fixture.h"
#include "rpt_html.h"
#include "rpt_junit.h"
#include "rpt_md.h"
#include "rpt_svg.h"
#include "rpt_testenv.h"

static const char *const run_files[] = {"report.json", "junit.xml", "summary.md", "index.html",
                                        "benchmark.json"};
static const char *const scenario_files[] = {"heap.svg", "heap.pb.gz", "growth.pb.gz",
                                             "growth.folded"};

/* What a walk of the folder found. */
static struct {
    size_t files;
    size_t temporaries; /* names with ".tmp." in them: a write left half-done */
} walk;

/* nftw callback counting regular files and leftover temporaries. */
static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_F) {
        walk.files++;
        walk.temporaries += strstr(path, ".tmp.") != NULL;
    }
    return 0;
}

/* Counts the files below `dir` into `walk`. */
static void walk_dir(const char *dir)
{
    memset(&walk, 0, sizeof(walk));
    assert_int_equal(nftw(dir, walk_one, 16, FTW_PHYS), 0);
}

/* True when dir/name exists. */
static bool exists(const char *dir, const char *name)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* Asserts that dir/name holds exactly what `b` holds, then empties `b`. */
static void assert_file_is(const char *dir, const char *name, struct buf *b)
{
    char path[PATH_MAX * 2];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *text = env_slurp(path, &len);
    assert_non_null(text);
    assert_int_equal(b->err, 0);
    assert_int_equal(len, b->len);
    assert_memory_equal(text, b->data, len);
    free(text);
    buf_cleanup(b);
}

/* Every run-level file and every scenario's folder with its four files, and nothing else. */
static void test_rpt_write_all_files(void **state)
{
    (void)state;
    char base[PATH_MAX], dir[PATH_MAX * 2], sub[PATH_MAX * 2];
    struct diag dg = {{0}};
    struct rpt_run *run = fix_run();
    env_tmpdir(base, "write");
    // Parents of the folder are created too.
    snprintf(dir, sizeof(dir), "%s/reports/ci", base);
    assert_int_equal(rpt_write_all(run, dir, &dg), 0);
    for (size_t i = 0; i < sizeof(run_files) / sizeof(run_files[0]); i++) {
        assert_true(exists(dir, run_files[i]));
    }
    for (size_t i = 0; i < run->n_scenarios; i++) {
        char name[RPT_LAYOUT_DIR_MAX];
        rpt_layout_dirname(run, i, name, sizeof(name));
        for (size_t k = 0; k < sizeof(scenario_files) / sizeof(scenario_files[0]); k++) {
            snprintf(sub, sizeof(sub), "%s/%s", name, scenario_files[k]);
            assert_true(exists(dir, sub));
        }
    }
    walk_dir(dir);
    assert_int_equal(walk.files, 5 + 4 * run->n_scenarios);
    assert_int_equal(walk.temporaries, 0);
    rpt_run_free(run);
    env_rmrf(base);
}

/* Each file is its writer's output, byte for byte; report.json reads back. */
static void test_rpt_write_all_contents(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    struct diag dg = {{0}};
    struct rpt_run *run = fix_run();
    ENV_WRITE_FIXTURE(dir);
    struct buf b;
    buf_init(&b);
    rpt_html_index(run, &b);
    assert_file_is(dir, "index.html", &b);
    rpt_junit_render(run, &b);
    assert_file_is(dir, "junit.xml", &b);
    rpt_md_render(run, &b);
    assert_file_is(dir, "summary.md", &b);
    rpt_svg_render(&run->scenarios[0], true, &b);
    assert_file_is(dir, "uploads-leaky/heap.svg", &b);
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/report.json", dir);
    struct rpt_run *back = NULL;
    assert_int_equal(rpt_json_read(path, &back, &dg), 0);
    assert_int_equal(back->n_scenarios, run->n_scenarios);
    assert_string_equal(back->scenarios[1].name, FIX_HOSTILE_NAME);
    rpt_run_free(back);
    rpt_run_free(run);
    env_rmrf(dir);
}

/* A file that cannot be put in place stops the writing: the error names it, no temporary is
 * left, and report.json (written last) is not there to claim a whole report. */
static void test_rpt_write_all_fails_whole(void **state)
{
    (void)state;
    char dir[PATH_MAX], in_the_way[PATH_MAX * 2];
    struct diag dg = {{0}};
    struct rpt_run *run = fix_run();
    env_tmpdir(dir, "write");
    // A folder where junit.xml goes: the rename onto it fails.
    snprintf(in_the_way, sizeof(in_the_way), "%s/junit.xml", dir);
    assert_int_equal(mkdir(in_the_way, 0755), 0);
    int rc = rpt_write_all(run, dir, &dg);
    assert_true(rc < 0);
    assert_non_null(strstr(dg.msg, "junit.xml"));
    assert_false(exists(dir, "report.json"));
    assert_false(exists(dir, "summary.md"));
    assert_false(exists(dir, "index.html"));
    walk_dir(dir);
    assert_int_equal(walk.temporaries, 0);
    // The per-scenario files come first and are whole.
    assert_int_equal(walk.files, 4 * run->n_scenarios);
    rpt_run_free(run);
    env_rmrf(dir);
}

/* A file where a scenario's folder goes, or where the report folder goes: an error naming the
 * path, and no report.json. */
static void test_rpt_write_all_bad_folders(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX * 2];
    struct diag dg = {{0}};
    struct rpt_run *run = fix_run();
    env_tmpdir(dir, "write");
    snprintf(path, sizeof(path), "%s/uploads-expected", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_true(rpt_write_all(run, dir, &dg) < 0);
    assert_non_null(strstr(dg.msg, "uploads-expected: cannot create"));
    assert_false(exists(dir, "report.json"));

    memset(&dg, 0, sizeof(dg));
    snprintf(path, sizeof(path), "%s/uploads-expected/sub", dir);
    assert_int_equal(rpt_write_all(run, path, &dg), -ENOTDIR);
    assert_non_null(strstr(dg.msg, "cannot create the report directory"));
    rpt_run_free(run);
    env_rmrf(dir);
}

/* Writing again over a report replaces every file with the new run's. */
static void test_rpt_write_all_rewrite(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    struct diag dg = {{0}};
    struct rpt_run *run = fix_run();
    ENV_WRITE_FIXTURE(dir);
    run->scenarios[0].ok = true;
    run->scenarios[3].ok = true;
    assert_int_equal(rpt_write_all(run, dir, &dg), 0);
    struct buf b;
    buf_init(&b);
    rpt_html_index(run, &b);
    assert_non_null(strstr(b.data, "<span class=\"pass\">0 failed</span>"));
    assert_file_is(dir, "index.html", &b);
    walk_dir(dir);
    assert_int_equal(walk.files, 5 + 4 * run->n_scenarios);
    rpt_run_free(run);
    env_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_write_all_files),
        cmocka_unit_test(test_rpt_write_all_contents),
        cmocka_unit_test(test_rpt_write_all_fails_whole),
        cmocka_unit_test(test_rpt_write_all_bad_folders),
        cmocka_unit_test(test_rpt_write_all_rewrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
