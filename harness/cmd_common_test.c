/* SPDX-License-Identifier: MIT */
/* cmd_common_test.c - unit tests of what run and analyze share: option parsing and its usage
 * errors, overrides, the exit code of a run and the result table of the report fixture. */
#include "cmd_common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../reports/rpt_fixture.h"
#include "cmd_capture.h"

static const char test_help[] = "usage: test\n";

static struct cmd_args g_args;
static char g_agent[64];

/* A command that only parses the run options into g_args (kept for the test to read). */
static int parse_only(struct cli *cli, int argc, char **argv)
{
    cmd_args_cleanup(&g_args);
    cmd_args_init(&g_args);
    int code = cmd_parse_args(cli, "run", test_help, argc, argv, &g_args);
    // Strings point into argv, which the caller frees: keep copies, or only their number.
    snprintf(g_agent, sizeof(g_agent), "%s", cli->agent ? cli->agent : "(none)");
    g_args.files = NULL;
    return code;
}

static void test_cmd_parse_args_reads_every_value(void **state)
{
    (void)state;
    struct cli cli = {0};
    struct capture c;
    int code = capture_cmd(
        parse_only, &cli,
        (const char *[]){"run",         "--rounds",     "7",         "--warmup", "0",
                         "--threshold", "12.5",         "--expect",  "leak",     "--request",
                         "a",           "x.json",       "--request", "b",        "--round-timeout",
                         "9",           "--report-dir", "rd",        "--shard",  "1/2",
                         "-q",          "--agent",      "/a.so",     "y.json",   NULL},
        &c);
    assert_int_equal(code, CLI_CONTINUE);
    assert_string_equal(c.err_text, "");
    assert_int_equal(g_args.rounds, 7);
    assert_int_equal(g_args.warmup, 0);
    assert_true(g_args.have_threshold && g_args.threshold == 12.5);
    assert_int_equal(g_args.expect, RPT_EXPECT_LEAK);
    assert_int_equal(g_args.n_requests, 2);
    assert_int_equal(g_args.round_timeout_s, 9);
    assert_int_equal(g_args.n_files, 2);
    assert_int_equal(g_args.rpr, -1);
    assert_int_equal(cli.verbose, -1);
    assert_string_equal(g_agent, "/a.so");
    capture_free(&c);
    cmd_args_cleanup(&g_args);
    assert_null(g_args.requests);
}

/* Each bad option gives exit 2 and exactly this message on stderr. */
static void test_cmd_parse_args_usage_errors(void **state)
{
    (void)state;
    static const struct {
        const char *args[4];
        const char *err;
    } cases[] = {
        {{"run", "--rounds", "1", NULL},
         "error: --rounds: expected an integer from 2 to 100000, found '1' (try 'leakcheck run "
         "--help')\n"},
        {{"run", "--warmup", "-1", NULL}, "error: --warmup: expected an integer from 0 to 100000"},
        {{"run", "--requests-per-round", "0", NULL},
         "error: --requests-per-round: expected a positive integer, found '0'"},
        {{"run", "--round-timeout", "86401", NULL},
         "error: --round-timeout: expected seconds from 1 to 86400, found '86401'"},
        {{"run", "--threshold", "-3", NULL},
         "error: --threshold: expected a number of bytes >= 0, found '-3'"},
        {{"run", "--expect", "maybe", NULL},
         "error: --expect: expected leak, no-leak or any, found 'maybe'"},
        {{"run", "--threshold-blocks", "0", NULL},
         "error: --threshold-blocks: expected a number of blocks per round > 0, found '0'"},
        {{"run", "--suppress", "object:", NULL},
         "error: --suppress: expected FUNCTION or object:GLOB (globs as in fnmatch), found "
         "'object:'"},
        {{"run", "--suppress", "", NULL}, "error: --suppress: expected FUNCTION or object:GLOB"},
        {{"run", "--rounds", NULL},
         "error: option '--rounds' needs a value (try 'leakcheck run --help')\n"},
        {{"run", "--bogus", NULL},
         "error: unknown option '--bogus' (try 'leakcheck run --help')\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cli cli = {0};
        struct capture c;
        int code = capture_cmd(parse_only, &cli, cases[i].args, &c);
        if (code != CLI_EXIT_USAGE || strncmp(c.err_text, cases[i].err, strlen(cases[i].err))) {
            print_error("case %zu: exit %d, stderr: %s\n", i, code, c.err_text);
        }
        assert_int_equal(code, CLI_EXIT_USAGE);
        assert_memory_equal(c.err_text, cases[i].err, strlen(cases[i].err));
        assert_string_equal(c.out_text, "");
        capture_free(&c);
    }
    cmd_args_cleanup(&g_args);
}

static void test_cmd_parse_args_help(void **state)
{
    (void)state;
    struct cli cli = {0};
    struct capture c;
    assert_int_equal(capture_cmd(parse_only, &cli, (const char *[]){"run", "-h", NULL}, &c),
                     CLI_EXIT_OK);
    assert_string_equal(c.out_text, test_help);
    capture_free(&c);
    cmd_args_cleanup(&g_args);
}

static void test_cmd_apply_overrides_only_what_was_given(void **state)
{
    (void)state;
    struct scn *s = scn_new();
    assert_non_null(s);
    struct cmd_args a;
    cmd_args_init(&a);
    cmd_apply_overrides(s, &a);
    assert_int_equal(s->rounds, SCN_DEFAULT_ROUNDS);
    assert_int_equal(s->warmup, SCN_DEFAULT_WARMUP);
    assert_int_equal(s->round_timeout_ms, SCN_DEFAULT_ROUND_TIMEOUT_MS);
    enum rpt_expect before = s->expect;
    a.rounds = 5;
    a.warmup = 0;
    a.threshold = 64;
    a.have_threshold = true;
    a.expect = RPT_EXPECT_ANY;
    a.round_timeout_s = 2;
    cmd_apply_overrides(s, &a);
    assert_int_equal(s->rounds, 5);
    assert_int_equal(s->warmup, 0);
    assert_true(s->threshold_bytes_per_round == 64);
    assert_int_equal(s->expect, RPT_EXPECT_ANY);
    assert_int_not_equal(before, RPT_EXPECT_ANY);
    assert_int_equal(s->round_timeout_ms, 2000);
    assert_string_equal(cmd_report_dir(&a), CMD_DEFAULT_REPORT_DIR);
    a.report_dir = "elsewhere";
    assert_string_equal(cmd_report_dir(&a), "elsewhere");
    scn_free(s);
}

static void test_cmd_exit_code_worst_wins(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    assert_int_equal(cmd_exit_code(run), CLI_EXIT_RUN); /* "crashed" failed to run */
    run->n_scenarios = 3;
    assert_int_equal(cmd_exit_code(run), CLI_EXIT_FAIL); /* "uploads-leaky" leaks unexpectedly */
    run->scenarios[0].ok = true;
    assert_int_equal(cmd_exit_code(run), CLI_EXIT_OK);
    run->n_scenarios = 4;
    rpt_run_free(run);
}

static void test_cmd_render_table_of_the_fixture(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct buf b;
    buf_init(&b);
    cmd_render_table(&b, run, "out");
    assert_int_equal(b.err, 0);
    assert_string_equal(
        b.data, "scenario                 verdict      ok       heap/round  top site\n"
                "uploads-leaky            leak         NO        +32.0 KiB  keep_upload "
                "(scenarios/uploads/server.c:88) "
                "+32.0 KiB/round, +2.0 blocks/round\n"
                "    12 of 12 measured rounds left blocks behind at one site\n"
                "    held by g_uploads +8 (scenarios/uploads/server.c:40) \u2192 block from "
                "upload_table_new (scenarios/uploads/server.c:30) +16 \u2192 these blocks (60 of "
                "64 sampled survivors; 1 other path)\n"
                "cache fixed | \"q\" </script>?&amp; *x* no-leak      yes            +0 B  -\n"
                "    live heap flat over 12 measured rounds\n"
                "uploads-expected         leak         yes       +32.0 KiB  keep_upload "
                "(scenarios/uploads/server.c:88) "
                "+32.0 KiB/round, +2.0 blocks/round\n"
                "    known leak: 12 of 12 measured rounds left blocks behind\n"
                "crashed                  error        NO                -  -\n"
                "reports: out/report.json\n");
    buf_cleanup(&b);
    /* Without a folder, no "reports:" line; a culprit without a file has no place. */
    struct rpt_site *top = &run->scenarios[0].sites[0];
    free(top->file);
    top->file = NULL;
    free(top->frames[top->culprit_frame].file);
    top->frames[top->culprit_frame].file = NULL;
    run->n_scenarios = 1;
    buf_init(&b);
    cmd_render_table(&b, run, NULL);
    assert_non_null(strstr(b.data, "  keep_upload +32.0 KiB/round, +2.0 blocks/round\n"));
    assert_null(strstr(b.data, "reports:"));
    buf_cleanup(&b);
    /* A culprit without a name is its object and offset, never "??". */
    free(top->function);
    top->function = NULL;
    free(top->frames[top->culprit_frame].function);
    top->frames[top->culprit_frame].function = NULL;
    top->frames[top->culprit_frame].object_offset = 0x1c1;
    buf_init(&b);
    cmd_render_table(&b, run, NULL);
    assert_non_null(strstr(b.data, "  server+0x1c1 +32.0 KiB/round"));
    assert_null(strstr(b.data, "?"));
    buf_cleanup(&b);
    run->n_scenarios = 4;
    /* A no-leak row names no culprit; a site that grew under the threshold is "largest: ...". */
    struct rpt_scenario *nl = &run->scenarios[1];
    nl->sites[0].bytes_per_round = 72;
    nl->threshold_bytes_per_round = 128;
    buf_init(&b);
    cmd_render_table(&b, run, NULL);
    assert_non_null(strstr(b.data, "no-leak      yes            +0 B  largest: "));
    assert_non_null(strstr(b.data, ") +72 B/round, under the threshold\n"));
    assert_null(strstr(b.data, "warning:"));
    buf_cleanup(&b);
    /* The same site leaking (steady survivors) under the threshold: a warning line too. */
    nl->sites[0].kind = RPT_KIND_LEAK;
    buf_init(&b);
    cmd_render_table(&b, run, NULL);
    assert_non_null(strstr(b.data, "    warning: "));
    assert_non_null(strstr(b.data, " leaks +72 B/round, under the threshold of 128 B\n"));
    buf_cleanup(&b);
    nl->sites[0].suppressed = true;
    nl->sites[0].bytes_per_round = 4096;
    buf_init(&b);
    cmd_render_table(&b, run, NULL);
    assert_non_null(strstr(b.data, ") +4.0 KiB/round, suppressed\n"));
    buf_cleanup(&b);
    nl->sites[0].bytes_per_round = 0.5;
    buf_init(&b);
    cmd_render_table(&b, run, NULL);
    assert_non_null(strstr(b.data, "no-leak      yes            +0 B  -\n"));
    buf_cleanup(&b);
    run->n_scenarios = 4;
    rpt_run_free(run);
}

/* Who holds the survivors: one line under the culprit in the table (the lost case, a scan cut
 * short), every group with -v; a scenario without a scan has neither. */
static void test_cmd_render_retainers(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct buf b;
    buf_init(&b);
    cmd_render_stacks(&b, run);
    const char *held = "  held by g_uploads +8 (scenarios/uploads/server.c:40)";
    assert_non_null(strstr(b.data, held));
    assert_null(
        strstr(strstr(b.data, held) + strlen(held), "held by")); /* uploads-expected: no scan */
    assert_non_null(
        strstr(b.data, "  lost: no pointer to these blocks remains (4 of 64 sampled survivors)\n"));
    buf_cleanup(&b);
    struct rpt_scenario *sc = &run->scenarios[0];
    struct rpt_retainer t = sc->sites[0].retainers[0];
    sc->sites[0].retainers[0] = sc->sites[0].retainers[1];
    sc->sites[0].retainers[1] = t;
    sc->retain.complete = false;
    sc->retain.note = strdup("process 7: the process ended during the scan");
    buf_init(&b);
    cmd_render_table(&b, run, NULL);
    assert_non_null(strstr(b.data, "    lost: no pointer to these blocks remains (4 of 64 sampled "
                                   "survivors; 1 other path; scan cut short: process 7: the "
                                   "process ended during the scan)\n"));
    buf_cleanup(&b);
    rpt_run_free(run);
}

/* --suppress FUNCTION and object:GLOB become rules added after a scenario's own; --threshold-blocks
 * sets the blocks threshold. */
static void test_cmd_quick_suppress_and_threshold_blocks(void **state)
{
    (void)state;
    struct cli cli = {0};
    struct capture c;
    assert_int_equal(
        capture_cmd(parse_only, &cli,
                    (const char *[]){"run", "--suppress", "lazy_*", "--suppress",
                                     "object:*libfoo.so*", "--suppress", "function:cache_put",
                                     "--threshold-blocks", "2.5", NULL},
                    &c),
        CLI_CONTINUE);
    capture_free(&c);
    // the parsed strings pointed into the freed argv: only their number and the threshold
    assert_int_equal(g_args.n_suppress, 3);
    assert_true(g_args.have_threshold_blocks && g_args.threshold_blocks == 2.5);
    struct cmd_args a;
    cmd_args_init(&a);
    const char *vals[] = {"lazy_*", "object:*libfoo.so*", "function:cache_put"};
    a.suppress = vals;
    a.n_suppress = 3;
    a.threshold_blocks = 2.5;
    a.have_threshold_blocks = true;
    struct scn *s = scn_new();
    assert_non_null(s);
    s->supp = calloc(1, sizeof(*s->supp));
    assert_non_null(s->supp);
    s->supp[0].function = strdup("from_the_file");
    s->n_supp = 1;
    cmd_apply_overrides(s, &a);
    assert_int_equal(cmd_apply_suppress(s, &a), 0);
    assert_true(s->threshold_blocks_per_round == 2.5);
    assert_int_equal(s->n_supp, 4);
    assert_string_equal(s->supp[0].function, "from_the_file");
    assert_string_equal(s->supp[1].function, "lazy_*");
    assert_null(s->supp[1].object);
    assert_string_equal(s->supp[2].object, "*libfoo.so*");
    assert_null(s->supp[2].function);
    assert_string_equal(s->supp[3].function, "cache_put");
    scn_free(s);
    cmd_args_cleanup(&g_args);
    assert_null(g_args.suppress);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_parse_args_reads_every_value),
        cmocka_unit_test(test_cmd_parse_args_usage_errors),
        cmocka_unit_test(test_cmd_parse_args_help),
        cmocka_unit_test(test_cmd_apply_overrides_only_what_was_given),
        cmocka_unit_test(test_cmd_quick_suppress_and_threshold_blocks),
        cmocka_unit_test(test_cmd_exit_code_worst_wins),
        cmocka_unit_test(test_cmd_render_table_of_the_fixture),
        cmocka_unit_test(test_cmd_render_retainers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
