/* SPDX-License-Identifier: MIT */
/* rpt_history_test.c - JSON Lines history: add, replace on re-run, bound, read errors, and the
 * dashboard drawn by headless Chromium; github-action-benchmark JSON. */
#include "rpt_history.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../util/file.h"
#include "rpt_fixture.h"
#include "rpt_html.h"
#include "rpt_testenv.h"

/* Re-adding a commit replaces its records; only the last N commits are kept; file round trip. */
static void test_rpt_history_add_replace_bound(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX * 2];
    struct diag dg = {{0}};
    env_tmpdir(dir, "hist");
    snprintf(path, sizeof(path), "%s/h.jsonl", dir);
    struct rpt_history h = {0};
    assert_int_equal(rpt_history_read(path, &h, &dg), 0); // missing = empty
    assert_int_equal(h.n, 0);
    struct rpt_run *run = fix_run();
    const char *shas[] = {"aaaaaaa1", "bbbbbbb2", "ccccccc3", "bbbbbbb2", "ddddddd4"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(
            rpt_history_add(&h, run, shas[i], "msg\nsecond line", "2024-05-0%dT00:00:00Z", 3, &dg),
            0);
    }
    // Commits in order: c, b (re-run moved last), d; "a" dropped by the bound of 3.
    assert_int_equal(h.n, 3 * run->n_scenarios);
    assert_string_equal(h.recs[0].commit, "ccccccc3");
    assert_string_equal(h.recs[run->n_scenarios].commit, "bbbbbbb2");
    assert_string_equal(h.recs[2 * run->n_scenarios].commit, "ddddddd4");
    assert_string_equal(h.recs[0].message, "msg");
    assert_string_equal(h.recs[0].short_sha, "ccccccc");
    assert_int_equal(h.recs[0].n_live, FIX_ROUNDS);
    assert_int_equal(rpt_history_write(&h, path, &dg), 0);
    struct rpt_history back = {0};
    assert_int_equal(rpt_history_read(path, &back, &dg), 0);
    assert_int_equal(back.n, h.n);
    for (size_t i = 0; i < h.n; i++) {
        assert_string_equal(back.recs[i].scenario, h.recs[i].scenario);
        assert_int_equal(back.recs[i].final_live_bytes, h.recs[i].final_live_bytes);
        assert_int_equal(back.recs[i].n_live, h.recs[i].n_live);
    }
    // One record per line.
    char *text = env_slurp(path, NULL);
    assert_int_equal(env_count(text, "\n"), h.n);
    free(text);
    rpt_history_cleanup(&back);
    rpt_history_cleanup(&h);
    rpt_run_free(run);
    env_rmrf(dir);
}

/* Malformed lines are rejected with FILE:LINE. */
static void test_rpt_history_read_errors(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX * 2];
    struct diag dg = {{0}};
    env_tmpdir(dir, "hist");
    snprintf(path, sizeof(path), "%s/h.jsonl", dir);
    const char *bad[] = {
        "{\"commit\":\"a\",\"scenario\":\"s\",\"verdict\":\"leak\"}\n{oops\n",
        "{\"commit\":\"a\",\"scenario\":\"s\",\"verdict\":\"leak\"}\n\n{\"scenario\":\"s\"}\n",
        "{\"commit\":\"a\",\"scenario\":\"s\",\"verdict\":\"leak\",\"live_bytes\":[1,-2]}\n",
    };
    const char *want[] = {":2: not a JSON object", ":3: commit: missing", ":1: live_bytes"};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i], f);
        fclose(f);
        struct rpt_history h = {0};
        assert_int_equal(rpt_history_read(path, &h, &dg), -EINVAL);
        if (!strstr(dg.msg, want[i])) {
            print_error("got '%s', wanted '%s'\n", dg.msg, want[i]);
        }
        assert_non_null(strstr(dg.msg, want[i]));
        assert_int_equal(h.n, 0);
    }
    env_rmrf(dir);
}

/* The dashboard: three charts per scenario, a crossing marker, read by Chromium. */
static void test_rpt_history_dashboard(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX * 2];
    struct diag dg = {{0}};
    struct rpt_history h = {0};
    struct rpt_run *run = fix_run();
    const char *shas[] = {"1111111a", "2222222b", "3333333c"};
    for (int i = 0; i < 3; i++) {
        run->scenarios[0].growth_bytes_per_round = i == 2 ? 40000 : 100;
        assert_int_equal(rpt_history_add(&h, run, shas[i], "Fix </script> & \"x\"",
                                         "2024-05-01T00:00:00Z", 0, &dg),
                         0);
    }
    struct buf b;
    buf_init(&b);
    rpt_html_dashboard(&h, &b);
    assert_int_equal(b.err, 0);
    assert_null(strstr(b.data, "</script>"));
    assert_null(strstr(b.data, "<script"));
    assert_null(strstr(b.data, "http://") == NULL ? NULL : strstr(b.data, "src=\"http"));
    assert_true(env_count(b.data, "class=\"crossed\"") >= 2);
    env_tmpdir(dir, "dash");
    snprintf(path, sizeof(path), "%s/index.html", dir);
    assert_int_equal(file_write_buf(&b, path, &dg), 0);
    buf_cleanup(&b);
    if (env_have("chromium")) {
        char *out = NULL;
        assert_int_equal(env_chromium("--dump-dom", path, &out), 0);
        assert_int_equal(env_count(out, "<svg "), 3 * run->n_scenarios);
        free(out);
    } else {
        print_message("SKIPPED: chromium not found; dashboard not rendered\n");
    }
    rpt_history_cleanup(&h);
    rpt_run_free(run);
    env_rmrf(dir);
}

/* customSmallerIsBetter JSON: name, unit, value per scenario. */
static void test_rpt_history_bench_json(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct buf b;
    buf_init(&b);
    rpt_html_bench_json(run, &b);
    cJSON *j = cJSON_Parse(b.data);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 4);
    cJSON *first = cJSON_GetArrayItem(j, 0);
    assert_string_equal(cJSON_GetObjectItem(first, "name")->valuestring, "uploads-leaky");
    assert_string_equal(cJSON_GetObjectItem(first, "unit")->valuestring, "bytes/round");
    assert_true(cJSON_GetObjectItem(first, "value")->valuedouble == FIX_LEAK_PER_ROUND);
    cJSON_Delete(j);
    buf_cleanup(&b);
    rpt_run_free(run);
}

/* A commit already recorded keeps its other scenarios and loses only the ones re-reported;
 * --replace (replace_commit) drops them all. */
static void test_rpt_history_same_commit_other_scenarios(void **state)
{
    (void)state;
    struct diag dg = {{0}};
    struct rpt_history h = {0};
    struct rpt_run *run = fix_run(); /* 4 scenarios */
    struct rpt_history_change chg;
    assert_int_equal(rpt_history_add_ex(&h, run, "aaaa111", NULL, NULL, 0, false, &chg, &dg), 0);
    assert_int_equal(chg.added, 4);
    assert_int_equal(chg.replaced + chg.kept + chg.dropped, 0);
    assert_int_equal(rpt_history_add_ex(&h, run, "bbbb222", NULL, NULL, 0, false, &chg, &dg), 0);
    /* A shard of commit aaaa111 reporting its second scenario only. */
    struct rpt_run *one = fix_run();
    char *second = strdup(one->scenarios[1].name);
    for (size_t i = 0; i < one->n_scenarios; i++) {
        rpt_scenario_cleanup(&one->scenarios[i]);
    }
    one->n_scenarios = 1;
    one->scenarios[0] = (struct rpt_scenario){.name = second, .verdict = RPT_VERDICT_LEAK};
    assert_int_equal(rpt_history_add_ex(&h, one, "aaaa111", NULL, NULL, 0, false, &chg, &dg), 0);
    assert_int_equal(chg.added, 1);
    assert_int_equal(chg.replaced, 1);
    assert_int_equal(chg.kept, 3);
    assert_int_equal(h.n, 8);
    /* The commit moved last with its three other scenarios, then the new record. */
    for (size_t i = 4; i < 8; i++) {
        assert_string_equal(h.recs[i].commit, "aaaa111");
    }
    assert_string_equal(h.recs[7].scenario, second);
    assert_string_equal(h.recs[7].verdict, "leak");
    size_t named = 0;
    for (size_t i = 4; i < 8; i++) {
        named += strcmp(h.recs[i].scenario, second) == 0;
    }
    assert_int_equal(named, 1);
    /* --replace: the commit's other scenarios go too. */
    assert_int_equal(rpt_history_add_ex(&h, one, "aaaa111", NULL, NULL, 0, true, &chg, &dg), 0);
    assert_int_equal(chg.replaced, 4);
    assert_int_equal(chg.kept, 0);
    assert_int_equal(h.n, 5);
    rpt_history_cleanup(&h);
    rpt_run_free(one);
    rpt_run_free(run);
}

/* Adding grows the array geometrically: 6000 records, room for at most twice as
 * many. */
static void test_rpt_history_grows_linearly(void **state)
{
    (void)state;
    struct diag dg = {{0}};
    struct rpt_history h = {0};
    struct rpt_run *run = fix_run();
    char sha[32];
    for (int i = 0; i < 1500; i++) {
        snprintf(sha, sizeof(sha), "%07d", i);
        assert_int_equal(rpt_history_add(&h, run, sha, NULL, NULL, 100000, &dg), 0);
    }
    assert_int_equal(h.n, 6000);
    assert_true(h.cap >= h.n && h.cap <= 2 * h.n);
    rpt_history_cleanup(&h);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_history_add_replace_bound),
        cmocka_unit_test(test_rpt_history_read_errors),
        cmocka_unit_test(test_rpt_history_dashboard),
        cmocka_unit_test(test_rpt_history_bench_json),
        cmocka_unit_test(test_rpt_history_same_commit_other_scenarios),
        cmocka_unit_test(test_rpt_history_grows_linearly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
