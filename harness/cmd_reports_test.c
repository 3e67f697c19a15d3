/* SPDX-License-Identifier: MIT */
/* cmd_reports_test.c - unit tests of `leakcheck compare`, `merge` and `history`: the
 * comparison of two fixture runs, the usage errors, and the commands over fixture reports
 * written to a temporary folder. */
#include "cmd_reports.h"
#include "cmd_ci.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../reports/rpt_fixture.h"
#include "../reports/rpt_testenv.h"
#include "../reports/rpt_write.h"
#include "../reports/rpt_json.h"
#include "../util/file.h"
#include "cmd_capture.h"

static char g_dir[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    env_tmpdir(g_dir, "cmd-reports");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    env_rmrf(g_dir);
    return 0;
}

/* The fixture with head's changes: uploads-leaky grows 100 B/round more at keep_upload, the
 * expected leak's culprit moved to another line, and "crashed" is now "crashed-again". */
static struct rpt_run *changed_head(void)
{
    struct rpt_run *h = fix_run();
    h->scenarios[0].growth_bytes_per_round += 100;
    h->scenarios[0].sites[0].bytes_per_round += 100;
    h->scenarios[2].sites[0].line = 90;
    h->scenarios[2].sites[0].frames[h->scenarios[2].sites[0].culprit_frame].line = 90;
    free(h->scenarios[3].name);
    h->scenarios[3].name = fix_strdup("crashed-again");
    return h;
}

static const char compare_header[] =
    "scenario                             base B/round     head B/round           change  result\n";

static void test_cmd_compare_render_finds_growth_new_and_missing(void **state)
{
    (void)state;
    struct rpt_run *base = fix_run();
    struct rpt_run *head = changed_head();
    struct buf b;
    buf_init(&b);
    assert_int_equal(cmd_compare_render(&b, base, head, 0), CLI_EXIT_FAIL);
    assert_int_equal(b.err, 0);
    assert_string_equal(
        b.data,
        "scenario                             base B/round     head B/round           change  "
        "result\n"
        "uploads-leaky                             32768.0          32868.0           +100.0  "
        "WORSE\n"
        "    keep_upload (scenarios/uploads/server.c:88): +100.0 bytes/round\n"
        "cache fixed | \"q\" </script>?&amp; *x*              0.0              0.0             "
        "+0.0  ok\n"
        "uploads-expected                          32768.0          32768.0             +0.0  ok\n"
        "    keep_upload (scenarios/uploads/server.c:90): +32768.0 bytes/round (new site)\n"
        "crashed-again                                 0.0              0.0             +0.0  ok "
        "(new scenario)\n"
        "crashed                          missing from head\n");
    buf_cleanup(&b);
    /* Within the tolerance: not worse, the changed site is quiet, the new one still shown. */
    buf_init(&b);
    assert_int_equal(cmd_compare_render(&b, base, head, 200), CLI_EXIT_OK);
    assert_non_null(strstr(b.data, "+100.0  ok\n"));
    assert_null(strstr(b.data, ":88)"));
    assert_non_null(strstr(b.data, ":90): +32768.0 bytes/round (new site)\n"));
    buf_cleanup(&b);
    /* The same run against itself: only the header and one "ok" line per scenario. */
    buf_init(&b);
    assert_int_equal(cmd_compare_render(&b, base, base, 0), CLI_EXIT_OK);
    assert_int_equal(env_count(b.data, "\n"), 1 + base->n_scenarios);
    assert_int_equal(env_count(b.data, "  ok\n"), base->n_scenarios);
    buf_cleanup(&b);
    rpt_run_free(base);
    rpt_run_free(head);
}

/* Runs report command `fn` with `args` and checks the exit code and the whole of stderr. */
static void expect_cmd(cli_cmd_fn fn, const char *const *args, int code, const char *err)
{
    struct cli cli = {0};
    struct capture c;
    int got = capture_cmd(fn, &cli, args, &c);
    if (got != code || strcmp(c.err_text, err) != 0) {
        print_error("exit %d (wanted %d), stderr:\n%s\nwanted:\n%s\n", got, code, c.err_text, err);
    }
    assert_int_equal(got, code);
    assert_string_equal(c.err_text, err);
    capture_free(&c);
}

static void test_cmd_reports_usage_errors_share_one_wording(void **state)
{
    (void)state;
    expect_cmd(cmd_compare, (const char *[]){"compare", "a.json", NULL}, 2,
               "error: expected two reports: BASE.json HEAD.json (try 'leakcheck compare "
               "--help')\n");
    expect_cmd(cmd_compare, (const char *[]){"compare", "--tolerance", "-1", "a", "b", NULL}, 2,
               "error: --tolerance: not a non-negative number: '-1' (try 'leakcheck compare "
               "--help')\n");
    expect_cmd(cmd_compare, (const char *[]){"compare", "a", "b", "c", NULL}, 2,
               "error: too many reports; expected BASE.json HEAD.json (try 'leakcheck compare "
               "--help')\n");
    expect_cmd(cmd_merge, (const char *[]){"merge", "--bogus", NULL}, 2,
               "error: unknown option '--bogus' (try 'leakcheck merge --help')\n");
    expect_cmd(cmd_merge, (const char *[]){"merge", "a.json", "--out", "d", "b.json", NULL}, 2,
               "error: put the reports after the options (try 'leakcheck merge --help')\n");
    expect_cmd(cmd_merge, (const char *[]){"merge", "--out", "d", NULL}, 2,
               "error: no reports to merge (try 'leakcheck merge --help')\n");
    expect_cmd(cmd_history, (const char *[]){"history", "prune", NULL}, 2,
               "error: unknown subcommand 'prune' (try 'leakcheck history --help')\n");
    expect_cmd(cmd_history, (const char *[]){"history", "render", "--report", "r", NULL}, 2,
               "error: unknown option '--report' (try 'leakcheck history --help')\n");
    expect_cmd(cmd_history, (const char *[]){"history", "add", "--file", NULL}, 2,
               "error: option needs a value: '--file' (try 'leakcheck history --help')\n");
    expect_cmd(cmd_history, (const char *[]){"history", "add", "--max-commits", "1.5", NULL}, 2,
               "error: --max-commits needs a whole number from 1 to 1000000, not '1.5' (try "
               "'leakcheck history --help')\n");
    expect_cmd(cmd_history, (const char *[]){"history", "render", NULL}, 2,
               "error: missing --file H.jsonl (try 'leakcheck history --help')\n");
}

/* Writes `run` as DIR/NAME/report.json into *path (PATH_MAX); frees the run. */
static void write_report(struct rpt_run *run, const char *name, char *path)
{
    char dir[PATH_MAX];
    struct diag d = {{0}};
    snprintf(dir, sizeof(dir), "%s/%s", g_dir, name);
    assert_int_equal(rpt_write_all(run, dir, &d), 0);
    snprintf(path, PATH_MAX, "%s/report.json", dir);
    rpt_run_free(run);
}

static void test_cmd_compare_reads_two_reports(void **state)
{
    (void)state;
    char base[PATH_MAX];
    char head[PATH_MAX];
    write_report(fix_run(), "base", base);
    write_report(changed_head(), "head", head);
    struct cli cli = {0};
    struct capture c;
    assert_int_equal(
        capture_cmd(cmd_compare, &cli, (const char *[]){"compare", base, head, NULL}, &c),
        CLI_EXIT_FAIL);
    assert_memory_equal(c.out_text, compare_header, strlen(compare_header));
    assert_non_null(strstr(c.out_text, "+100.0  WORSE\n"));
    assert_string_equal(c.err_text, "");
    capture_free(&c);
    assert_int_equal(
        capture_cmd(cmd_compare, &cli,
                    (const char *[]){"compare", "--tolerance", "100", base, head, NULL}, &c),
        CLI_EXIT_OK);
    capture_free(&c);
    /* An unreadable report is an input error, named. */
    assert_int_equal(capture_cmd(cmd_compare, &cli,
                                 (const char *[]){"compare", base, "/nonexistent/r.json", NULL},
                                 &c),
                     CLI_EXIT_USAGE);
    assert_string_equal(c.out_text, "");
    assert_non_null(strstr(c.err_text, "error: /nonexistent/r.json"));
    capture_free(&c);
}

/* The fixture with every scenario renamed "b-NAME". */
static struct rpt_run *renamed_run(void)
{
    struct rpt_run *r = fix_run();
    for (size_t i = 0; i < r->n_scenarios; i++) {
        char name[512];
        snprintf(name, sizeof(name), "b-%s", r->scenarios[i].name);
        free(r->scenarios[i].name);
        r->scenarios[i].name = fix_strdup(name);
    }
    return r;
}

static void test_cmd_merge_joins_shards_and_refuses_twins(void **state)
{
    (void)state;
    char a[PATH_MAX];
    char b[PATH_MAX];
    char out[PATH_MAX];
    char merged[PATH_MAX + 16];
    write_report(fix_run(), "shard-a", a);
    write_report(renamed_run(), "shard-b", b);
    snprintf(out, sizeof(out), "%s/merged", g_dir);
    struct cli cli = {0};
    struct capture c;
    int code =
        capture_cmd(cmd_merge, &cli, (const char *[]){"merge", "--out", out, a, b, NULL}, &c);
    assert_int_equal(code, CLI_EXIT_OK);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "merged 2 reports, 8 scenarios (4 failed) into %s\n", out);
    assert_string_equal(c.out_text, want);
    capture_free(&c);
    snprintf(merged, sizeof(merged), "%s/report.json", out);
    struct rpt_run *run = NULL;
    struct diag d = {{0}};
    assert_int_equal(rpt_json_read(merged, &run, &d), 0);
    assert_int_equal(run->n_scenarios, 8);
    assert_string_equal(run->scenarios[4].name, "b-uploads-leaky");
    rpt_run_free(run);
    /* The same scenario in two shards: exit 2, each twin named, nothing written. */
    snprintf(out, sizeof(out), "%s/twins", g_dir);
    code = capture_cmd(cmd_merge, &cli, (const char *[]){"merge", "--out", out, a, a, NULL}, &c);
    assert_int_equal(code, CLI_EXIT_USAGE);
    assert_int_equal(env_count(c.err_text, "is also in an earlier report"), 4);
    assert_string_equal(c.out_text, "");
    assert_int_not_equal(access(out, F_OK), 0);
    capture_free(&c);
}

static void test_cmd_history_add_then_render(void **state)
{
    (void)state;
    char report[PATH_MAX];
    char file[PATH_MAX];
    char out[PATH_MAX];
    char index[PATH_MAX + 16];
    write_report(fix_run(), "hist", report);
    snprintf(file, sizeof(file), "%s/h.jsonl", g_dir);
    snprintf(out, sizeof(out), "%s/dash", g_dir);
    struct cli cli = {0};
    struct capture c;
    assert_int_equal(capture_cmd(cmd_history, &cli,
                                 (const char *[]){"history", "add", "--file", file, "--report",
                                                  report, "--commit", "c0ffee1", NULL},
                                 &c),
                     CLI_EXIT_OK);
    assert_string_equal(c.err_text, "");
    capture_free(&c);
    char *text = env_slurp(file, NULL);
    assert_non_null(text);
    assert_int_equal(env_count(text, "\n"), 4); /* one record per scenario */
    assert_non_null(strstr(text, "c0ffee1"));
    free(text);
    assert_int_equal(
        capture_cmd(cmd_history, &cli,
                    (const char *[]){"history", "render", "--file", file, "--out", out, NULL}, &c),
        CLI_EXIT_OK);
    capture_free(&c);
    snprintf(index, sizeof(index), "%s/index.html", out);
    assert_true(file_is_regular(index));
    /* add without --report: a usage error, after the history was read. */
    expect_cmd(cmd_history, (const char *[]){"history", "add", "--file", file, NULL}, 2,
               "error: missing --report R.json (try 'leakcheck history --help')\n");
}

/* New sites that barely grow are counted under the noise floor, not listed one by one; a new
 * site above it is still named. */
static void test_cmd_compare_render_new_sites_above_noise_floor(void **state)
{
    (void)state;
    struct rpt_run *base = fix_run();
    struct rpt_run *head = fix_run();
    struct rpt_scenario *h = &head->scenarios[0];
    struct rpt_site *sites = calloc(h->n_sites + 20, sizeof(*sites));
    assert_non_null(sites);
    memcpy(sites, h->sites, h->n_sites * sizeof(*sites));
    for (size_t i = 0; i < 20; i++) {
        struct rpt_site *x = &sites[h->n_sites + i];
        char fn[32];
        snprintf(fn, sizeof(fn), "churn_%zu", i);
        x->function = strdup(fn);
        x->bytes_per_round = i == 19 ? 640.0 : (double)i * 0.5; // one real grower, 19 quiet
    }
    free(h->sites);
    h->sites = sites;
    h->n_sites += 20;
    struct buf b;
    buf_init(&b);
    cmd_compare_render(&b, base, head, 0);
    assert_int_equal(b.err, 0);
    assert_null(strstr(b.data, "+0.0 bytes/round (new site)"));
    assert_null(strstr(b.data, "churn_3"));
    assert_non_null(strstr(b.data, "    churn_19: +640.0 bytes/round (new site)\n"));
    assert_non_null(strstr(b.data, "    and 19 new sites within +/-16 bytes/round (not listed)\n"));
    buf_cleanup(&b);
    /* A tolerance above the floor raises it. */
    buf_init(&b);
    cmd_compare_render(&b, base, head, 1000);
    assert_null(strstr(b.data, "churn_19"));
    assert_non_null(strstr(b.data, "and 20 new sites within +/-1000 bytes/round"));
    buf_cleanup(&b);
    rpt_run_free(base);
    rpt_run_free(head);
}

/* A site that leaks under the threshold passes, and says so: a ::warning annotation at its line
 * (alongside the failing scenarios' errors), the same wording as the table, the summary and
 * JUnit; its twin run without such a site has no warning. */
static void test_cmd_ci_annotations_warn_under_threshold(void **state)
{
    (void)state;
    char quiet[PATH_MAX];
    char warn[PATH_MAX];
    write_report(fix_run(), "nowarn", quiet);
    struct rpt_run *run = fix_run();
    struct rpt_site *x = &run->scenarios[1].sites[0];
    x->kind = RPT_KIND_LEAK;
    x->suspect = false;
    x->bytes_per_round = 72;
    free(x->function);
    x->function = strdup("cache_put");
    free(x->file);
    x->file = strdup("src/cache.c");
    x->line = 42;
    run->scenarios[1].threshold_bytes_per_round = 128;
    write_report(run, "warn", warn);
    struct cli cli = {0};
    struct capture c;
    capture_cmd(cmd_ci_report, &cli, (const char *[]){"report", "annotations", quiet, NULL}, &c);
    assert_null(strstr(c.out_text, "::warning"));
    capture_free(&c);
    capture_cmd(cmd_ci_report, &cli, (const char *[]){"report", "annotations", warn, NULL}, &c);
    assert_non_null(strstr(c.out_text, "::warning title=leakcheck%3A "));
    assert_non_null(strstr(c.out_text, "a site leaks under the threshold::cache_put "
                                       "(src/cache.c:42) leaks +72 B/round, under the threshold "
                                       "of 128 B\n"));
    capture_free(&c);
}

/* Two sites of one function and line reached from different callers stay two sites: compare
 * matches them by stack ("-270" and "-220", not one of them twice), and names each with the
 * caller that tells it apart. */
static void test_cmd_compare_matches_sites_by_stack(void **state)
{
    (void)state;
    struct rpt_run *base = fix_run();
    struct rpt_run *head = fix_run();
    struct rpt_run *runs[2] = {base, head};
    for (size_t r = 0; r < 2; r++) {
        struct rpt_scenario *sc = &runs[r]->scenarios[0];
        struct rpt_site *a = &sc->sites[0];
        struct rpt_site *b = &sc->sites[1];
        /* b becomes keep_upload:88 too, reached from another caller than a's handle_request */
        free(b->function);
        free(b->file);
        b->function = fix_strdup(a->function);
        b->file = fix_strdup(a->file);
        b->line = a->line;
        for (size_t f = 0; f < b->n_frames; f++) {
            free(b->frames[f].function);
            free(b->frames[f].system_name);
            free(b->frames[f].file);
            free(b->frames[f].object);
        }
        free(b->frames);
        b->n_frames = a->n_frames;
        b->frames = fix_calloc(a->n_frames, sizeof(*b->frames));
        for (size_t f = 0; f < a->n_frames; f++) {
            const struct rpt_frame *x = &a->frames[f];
            fix_frame(&b->frames[f], x->address, x->function, x->file, x->line, x->object,
                      x->inlined);
        }
        free(b->frames[3].function);
        b->frames[3].function = fix_strdup("handle_resume");
        b->frames[3].line = 160;
        b->culprit_frame = a->culprit_frame;
        a->bytes_per_round = r == 0 ? 1000 : 730;
        b->bytes_per_round = r == 0 ? 900 : 680;
    }
    struct buf out;
    buf_init(&out);
    cmd_compare_render(&out, base, head, 0);
    assert_non_null(strstr(out.data, "keep_upload (scenarios/uploads/server.c:88) \xe2\x86\x90 "
                                     "handle_request (scenarios/uploads/server.c:140): -270.0"));
    assert_non_null(strstr(out.data, "keep_upload (scenarios/uploads/server.c:88) \xe2\x86\x90 "
                                     "handle_resume (scenarios/uploads/server.c:160): -220.0"));
    buf_cleanup(&out);
    rpt_run_free(base);
    rpt_run_free(head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_compare_render_finds_growth_new_and_missing),
        cmocka_unit_test(test_cmd_compare_matches_sites_by_stack),
        cmocka_unit_test(test_cmd_compare_render_new_sites_above_noise_floor),
        cmocka_unit_test(test_cmd_ci_annotations_warn_under_threshold),
        cmocka_unit_test(test_cmd_reports_usage_errors_share_one_wording),
        cmocka_unit_test(test_cmd_compare_reads_two_reports),
        cmocka_unit_test(test_cmd_merge_joins_shards_and_refuses_twins),
        cmocka_unit_test(test_cmd_history_add_then_render),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
