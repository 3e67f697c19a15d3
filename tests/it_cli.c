/* SPDX-License-Identifier: MIT */
/* it_cli.c - integration tests of the `leakcheck` command as a subprocess: usage errors,
 * validate, a missing target, leak and no-leak verdicts with the real agent, a crashing
 * target, and analysing a recording again. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_util.h"

static char g_lc[512];
static char g_kv[512];
static char g_tmp[] = "/tmp/it_cli_XXXXXX";

/* Runs leakcheck with `args` (NULL-terminated, without argv[0]); returns the result. */
static struct it_result lc(const char *const *args)
{
    const char *argv[64] = {g_lc};
    size_t n = 1;
    for (; args[n - 1]; n++) {
        argv[n] = args[n - 1];
    }
    argv[n] = NULL;
    struct it_result r;
    assert_int_equal(it_run((char *const *)(uintptr_t)argv, NULL, NULL, 120, &r), 0);
    return r;
}

static void expect_out(const struct it_result *r, int code, const char *needle)
{
    if (r->exit_code != code || (needle && !strstr(r->out, needle))) {
        print_error("exit %d (wanted %d), output:\n%s\nwanted: %s\n", r->exit_code, code, r->out,
                    needle ? needle : "");
    }
    assert_int_equal(r->exit_code, code);
    if (needle) {
        assert_non_null(strstr(r->out, needle));
    }
}

static int setup(void **state)
{
    (void)state;
    it_build_path(g_lc, sizeof(g_lc), "leakcheck");
    it_build_path(g_kv, sizeof(g_kv), "targets/stdio_kv");
    if (!mkdtemp(g_tmp)) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_cli_usage_errors_exit_2(void **state)
{
    (void)state;
    struct it_result r = lc((const char *[]){"run", NULL});
    expect_out(&r, 2, "error: no scenario files and no program after '--'");
    free(r.out);
    r = lc((const char *[]){"runn", NULL});
    expect_out(&r, 2, "unknown command 'runn' (did you mean 'run'?)");
    free(r.out);
    r = lc((const char *[]){"run", "--rounds", "x", "--request", "a", "--", "/bin/cat", NULL});
    expect_out(&r, 2, "--rounds: expected an integer from 2");
    free(r.out);
    r = lc((const char *[]){"run", "--bogus", NULL});
    expect_out(&r, 2, "unknown option '--bogus' (try 'leakcheck run --help')");
    free(r.out);
    r = lc((const char *[]){"run", "--", "/bin/cat", NULL});
    expect_out(&r, 2, "give exactly one of --request");
    free(r.out);
    r = lc((const char *[]){"run", "--shard", "3/2", "x.json", NULL});
    expect_out(&r, 2, "--shard: expected I/N");
    free(r.out);
    /* Every command words its usage errors the same way. */
    r = lc((const char *[]){"compare", "a.json", NULL});
    expect_out(&r, 2,
               "error: expected two reports: BASE.json HEAD.json (try 'leakcheck compare --help')");
    free(r.out);
    r = lc((const char *[]){"report", "outputs", "--bogus", NULL});
    expect_out(&r, 2, "error: unknown option '--bogus' (try 'leakcheck report --help')");
    free(r.out);
    r = lc((const char *[]){"exec", NULL});
    expect_out(&r, 2, "error: no program given (try 'leakcheck exec --help')");
    free(r.out);
}

static void test_cli_help_and_version(void **state)
{
    (void)state;
    struct it_result r = lc((const char *[]){"--help", NULL});
    expect_out(&r, 0, "usage: leakcheck");
    free(r.out);
    r = lc((const char *[]){"run", "--help", NULL});
    expect_out(&r, 0, "--requests-per-round K");
    free(r.out);
    /* the version output is one line, "leakcheck " and the VERSION file's text, exactly */
    char *version = it_read_file("VERSION", NULL);
    assert_non_null(version);
    version[strcspn(version, "\n")] = '\0';
    assert_true(version[0] != '\0');
    char want[256];
    snprintf(want, sizeof(want), "leakcheck %s\n", version);
    free(version);
    const char *opts[] = {"--version", "-V"};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        r = lc((const char *[]){opts[i], NULL});
        if (r.exit_code != 0 || strcmp(r.out, want) != 0) {
            print_error("%s: exit %d, output:\n%s\nwanted exactly: %s", opts[i], r.exit_code, r.out,
                        want);
        }
        assert_int_equal(r.exit_code, 0);
        assert_string_equal(r.out, want);
        free(r.out);
    }
}

static void test_cli_validate_good_and_bad(void **state)
{
    (void)state;
    char good[600];
    char bad[600];
    snprintf(good, sizeof(good), "%s/good.json", g_tmp);
    snprintf(bad, sizeof(bad), "%s/bad.json", g_tmp);
    FILE *f = fopen(good, "w");
    assert_non_null(f);
    fprintf(f, "{\"name\": \"g\", \"target\": {\"argv\": [\"/bin/cat\"]}, \"driver\": {\"kind\": "
               "\"stdio\", \"requests\": [\"x {i}\"]}}\n");
    fclose(f);
    f = fopen(bad, "w");
    assert_non_null(f);
    fprintf(f, "{\"name\": \"b\", \"target\": {\"argv\": [\"/bin/cat\"]}, \"driver\": {\"kind\": "
               "\"stdio\", \"reqests\": [\"x\"]}}\n");
    fclose(f);
    struct it_result r = lc((const char *[]){"validate", good, NULL});
    expect_out(&r, 0, "good.json: ok");
    free(r.out);
    r = lc((const char *[]){"validate", good, bad, NULL});
    expect_out(&r, 2, "bad.json: driver: unknown key 'reqests' (did you mean 'requests'?)");
    free(r.out);
}

static void test_cli_missing_target_exits_3(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/missing", g_tmp);
    struct it_result r = lc((const char *[]){"run", "--report-dir", dir, "--request", "x", "--",
                                             "/nonexistent/program", NULL});
    expect_out(&r, 3, "target '/nonexistent/program' not found");
    free(r.out);
}

static void test_cli_leak_and_no_leak_verdicts(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/leak", g_tmp);
    /* A leak against the default expectation (no-leak): exit 1, culprit named. */
    struct it_result r = lc((const char *[]){
        "run", "--report-dir", dir, "--rounds", "8", "--warmup", "2", "--requests-per-round", "50",
        "--request", "put k{round}-{i}", "--", g_kv, "--leak", NULL});
    expect_out(&r, 1, "leak ");
    assert_non_null(strstr(r.out, "stdio_kv.c:"));
    free(r.out);
    /* The same, expected: exit 0. */
    r = lc((const char *[]){"run", "--report-dir", dir, "--expect", "leak", "--rounds", "8",
                            "--warmup", "2", "--requests-per-round", "50", "--request",
                            "put k{round}-{i}", "--", g_kv, "--leak", NULL});
    expect_out(&r, 0, NULL);
    free(r.out);
    /* The recording gives the same verdict when analysed again. */
    char bin[700];
    char dir2[600];
    snprintf(bin, sizeof(bin), "%s/stdio_kv/snapshots.bin", dir);
    snprintf(dir2, sizeof(dir2), "%s/again", g_tmp);
    r = lc((const char *[]){"analyze", "--report-dir", dir2, bin, NULL});
    expect_out(&r, 0, "leak ");
    free(r.out);
    /* No leak. */
    snprintf(dir, sizeof(dir), "%s/noleak", g_tmp);
    r = lc((const char *[]){"run", "--report-dir", dir, "--rounds", "8", "--warmup", "2",
                            "--requests-per-round", "50", "--request", "put k{round}-{i}", "--",
                            g_kv, NULL});
    expect_out(&r, 0, "no-leak");
    free(r.out);
}

/* The quick form's --suppress turns the leak of stdio_kv into no-leak (by function, and by
 * object), its twin without it stays a leak; --threshold-blocks finds it under a byte threshold
 * too high for it, and without it the same run passes. */
static void test_cli_quick_suppress_and_threshold_blocks(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/supp", g_tmp);
    const char *base[] = {"run",       "--report-dir",    dir, "--rounds", "8", "--warmup", "2",
                          "--request", "put k{round}-{i}"};
    const size_t nb = sizeof(base) / sizeof(base[0]);
    const char *with[][4] = {
        {"--suppress", "keep", "--suppress", "strdup"},
        {"--suppress", "object:*stdio_kv", NULL, NULL},
        {"--threshold", "100000", "--threshold-blocks", "5"},
        {"--threshold", "100000", NULL, NULL},
    };
    const int want_exit[] = {0, 0, 1, 0};
    const char *want[] = {"suppressed", "leaking sites suppressed", "leak ", "no-leak"};
    for (size_t k = 0; k < 4; k++) {
        const char *argv[32];
        size_t n = 0;
        for (size_t i = 0; i < nb; i++) {
            argv[n++] = base[i];
        }
        for (size_t i = 0; i < 4 && with[k][i]; i++) {
            argv[n++] = with[k][i];
        }
        argv[n++] = "--";
        argv[n++] = g_kv;
        argv[n++] = "--leak";
        argv[n] = NULL;
        struct it_result r = lc(argv);
        expect_out(&r, want_exit[k], want[k]);
        free(r.out);
    }
}

/* One growth figure: the last progress line's running estimate ("heap +B/round"), the table's
 * heap/round column and the reason's "heap +B/round" state the same number; the reason labels
 * the top site's own figure; the warm-up rounds state none. */
static void test_cli_one_growth_figure(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/figure", g_tmp);
    struct it_result r = lc((const char *[]){
        "run", "--report-dir", dir, "--rounds", "10", "--warmup", "2", "--requests-per-round", "30",
        "--request", "put k{round}-{i}", "--", g_kv, "--leak", NULL});
    expect_out(&r, 1, "stdio_kv: round 12/12  live ");
    // the progress line after the last round (stderr is not a terminal: every 10th and the last)
    const char *p = strstr(r.out, "stdio_kv: round 12/12  live ");
    const char *h = p ? strstr(p, "  heap ") : NULL;
    assert_non_null(h);
    char figure[32];
    assert_int_equal(sscanf(h, "  heap %31[^/]/round", figure), 1);
    // the table row: "stdio_kv  leak  NO  <figure>  keep (...)"
    char row[128];
    snprintf(row, sizeof(row), "NO %16s  ", figure);
    if (!strstr(r.out, row)) {
        print_error("progress said heap %s/round; output:\n%s\n", figure, r.out);
    }
    assert_non_null(strstr(r.out, row));
    char reason[64];
    snprintf(reason, sizeof(reason), ", heap %s/round\n", figure);
    assert_non_null(strstr(r.out, reason));
    assert_non_null(strstr(r.out, "; top site +"));
    assert_non_null(strstr(r.out, "heap/round  top site\n"));
    assert_null(strstr(r.out, "(warm-up)  live 0 B  heap"));
    free(r.out);
}

static void test_cli_crash_keeps_rounds_exits_3(void **state)
{
    (void)state;
    char dir[600];
    char path[700];
    snprintf(dir, sizeof(dir), "%s/crash", g_tmp);
    /* 10 requests per round: line 45 is in round 5, so rounds 1-4 complete. */
    struct it_result r = lc((const char *[]){
        "run", "--report-dir", dir, "--rounds", "8", "--warmup", "1", "--requests-per-round", "10",
        "--request", "put {i}", "--", g_kv, "--crash-at", "45", NULL});
    expect_out(&r, 3, "killed by signal 11");
    free(r.out);
    snprintf(path, sizeof(path), "%s/report.json", dir);
    char *json = it_read_file(path, NULL);
    assert_non_null(json);
    /* Drop whitespace so the check does not depend on the writer's layout. */
    size_t k = 0;
    for (size_t i = 0; json[i]; i++) {
        if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r') {
            json[k++] = json[i];
        }
    }
    json[k] = '\0';
    assert_non_null(strstr(json, "\"verdict\":\"error\""));
    assert_non_null(strstr(json, "\"round\":4,"));
    assert_null(strstr(json, "\"round\":5,"));
    free(json);
}

static void test_cli_hang_times_out_exits_3(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/hang", g_tmp);
    struct it_result r = lc((const char *[]){"run", "--report-dir", dir, "--rounds", "3",
                                             "--warmup", "0", "--round-timeout", "1", "--request",
                                             "put {i}", "--", g_kv, "--hang-at", "15", NULL});
    expect_out(&r, 3, "round 2 timed out");
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_usage_errors_exit_2),
        cmocka_unit_test(test_cli_help_and_version),
        cmocka_unit_test(test_cli_validate_good_and_bad),
        cmocka_unit_test(test_cli_missing_target_exits_3),
        cmocka_unit_test(test_cli_leak_and_no_leak_verdicts),
        cmocka_unit_test(test_cli_quick_suppress_and_threshold_blocks),
        cmocka_unit_test(test_cli_one_growth_figure),
        cmocka_unit_test(test_cli_crash_keeps_rounds_exits_3),
        cmocka_unit_test(test_cli_hang_times_out_exits_3),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
