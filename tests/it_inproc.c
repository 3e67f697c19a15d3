/* SPDX-License-Identifier: MIT */
/* it_inproc.c - the in-process assertion library end to end, through the example's programs.
 *
 * Runs build/examples/hdr_test (cmocka) and hdr_plain (plain C) under `leakcheck exec`, under
 * LEAKCHECK_REEXEC=1, and without the agent: the leaky test must fail naming hdr_parse_leaky and
 * the line of its calloc (read from the source, not hard-coded), the fixed one must pass, and
 * without the agent both must skip with a message saying how to run them. Also runs the
 * library's own tests (build/unit/lib/lc_inproc_test) under the agent, where nothing may skip
 * but the no-agent test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_util.h"

static char g_lc[512];
static char g_test[512];
static char g_plain[512];
static char g_unit[512];
static char g_self[512];  /* the harness self-check, unit/harness/selfcheck_test */
static char g_where[128]; /* "hdr.c:LINE)" of the leaky calloc */

/* it_run() with const arrays of string literals. */
static int run(const char *const *argv, const char *const *env, const char *input, int timeout_s,
               struct it_result *r)
{
    return it_run((char *const *)(uintptr_t)argv, (char *const *)(uintptr_t)env, input, timeout_s,
                  r);
}

/* Finds the line of the calloc in hdr_parse_leaky() in examples/hdr/hdr.c. */
static void find_leak_line(void)
{
    char *src = it_read_file("examples/hdr/hdr.c", NULL);
    assert_non_null(src);
    const char *fn = strstr(src, "int hdr_parse_leaky(");
    assert_non_null(fn);
    const char *call = strstr(fn, "calloc(");
    assert_non_null(call);
    unsigned line = 1;
    for (const char *p = src; p < call; p++) {
        line += *p == '\n';
    }
    snprintf(g_where, sizeof(g_where), "hdr.c:%u)", line);
    free(src);
}

static int setup(void **state)
{
    (void)state;
    it_build_path(g_lc, sizeof(g_lc), "leakcheck");
    it_build_path(g_test, sizeof(g_test), "examples/hdr_test");
    it_build_path(g_plain, sizeof(g_plain), "examples/hdr_plain");
    it_build_path(g_unit, sizeof(g_unit), "unit/lib/lc_inproc_test");
    it_build_path(g_self, sizeof(g_self), "unit/harness/selfcheck_test");
    find_leak_line();
    return 0;
}

/* Checks the cmocka example's output when it ran under the agent. */
static void check_measured(const struct it_result *r)
{
    assert_false(r->timed_out);
    if (r->exit_code != 1) {
        print_message("%s\n", r->out);
    }
    assert_int_equal(r->exit_code, 1); /* one failed test */
    assert_non_null(strstr(r->out, "[       OK ] test_parse_fixed"));
    assert_non_null(strstr(r->out, "[  FAILED  ] test_parse_leaky"));
    const char *msg = strstr(r->out, "ERROR: leaked ");
    assert_non_null(msg);
    const char *eol = strchr(msg, '\n');
    char line[512];
    snprintf(line, sizeof(line), "%.*s", eol ? (int)(eol - msg) : 400, msg);
    print_message("  %s\n", line);
    assert_non_null(strstr(line, " B/round over 10 rounds at hdr_parse_leaky ("));
    assert_non_null(strstr(line, g_where));
    assert_null(strstr(r->out, "SKIP"));
}

static void test_inproc_exec_fails_leaky_passes_fixed(void **state)
{
    (void)state;
    const char *argv[] = {g_lc, "exec", "--", g_test, NULL};
    struct it_result r;
    assert_int_equal(run(argv, NULL, NULL, 60, &r), 0);
    check_measured(&r);
    free(r.out);
}

static void test_inproc_reexec_fails_leaky_passes_fixed(void **state)
{
    (void)state;
    const char *argv[] = {g_test, NULL};
    const char *env[] = {"LEAKCHECK_REEXEC=1", NULL};
    struct it_result r;
    assert_int_equal(run(argv, env, NULL, 60, &r), 0);
    check_measured(&r);
    /* Re-executed once, not twice: the tests ran one time. */
    const char *first = strstr(r.out, "[ RUN      ] test_parse_splits");
    assert_non_null(first);
    assert_null(strstr(first + 1, "[ RUN      ] test_parse_splits"));
    free(r.out);
}

static void test_inproc_without_agent_skips_both(void **state)
{
    (void)state;
    const char *argv[] = {g_test, NULL};
    struct it_result r;
    assert_int_equal(run(argv, NULL, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "[       OK ] test_parse_splits"));
    assert_non_null(strstr(r.out, "[  SKIPPED ] test_parse_fixed"));
    assert_non_null(strstr(r.out, "[  SKIPPED ] test_parse_leaky"));
    assert_non_null(strstr(r.out, "the agent is not loaded"));
    assert_non_null(strstr(r.out, "leakcheck exec -- "));
    assert_null(strstr(r.out, "leaked"));
    free(r.out);
}

static void test_inproc_reexec_without_agent_file_skips(void **state)
{
    (void)state;
    const char *argv[] = {g_test, NULL};
    const char *env[] = {"LEAKCHECK_REEXEC=1", "LEAKCHECK_AGENT=/nonexistent/libleakcheck-agent.so",
                         NULL};
    struct it_result r;
    assert_int_equal(run(argv, env, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "[  SKIPPED ] test_parse_leaky"));
    assert_non_null(strstr(r.out, "LEAKCHECK_AGENT names no file"));
    free(r.out);
}

static void test_inproc_plain_program(void **state)
{
    (void)state;
    struct it_result r;
    const char *fixed[] = {g_lc, "exec", "--", g_plain, "fixed", NULL};
    assert_int_equal(run(fixed, NULL, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "fixed: no leak over 10 rounds"));
    free(r.out);

    const char *leaky[] = {g_lc, "exec", "--", g_plain, "leaky", NULL};
    assert_int_equal(run(leaky, NULL, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.out, "leaky: leaked "));
    assert_non_null(strstr(r.out, " at hdr_parse_leaky ("));
    assert_non_null(strstr(r.out, g_where));
    free(r.out);

    const char *bare[] = {g_plain, "leaky", NULL};
    assert_int_equal(run(bare, NULL, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 77);
    assert_non_null(strstr(r.out, "skipped:"));
    free(r.out);
}

static void test_inproc_library_tests_under_agent(void **state)
{
    (void)state;
    const char *argv[] = {g_lc, "exec", "--", g_unit, NULL};
    struct it_result r;
    assert_int_equal(run(argv, NULL, NULL, 120, &r), 0);
    if (r.exit_code != 0) {
        print_message("%s\n", r.out);
    }
    assert_int_equal(r.exit_code, 0);
    assert_null(strstr(r.out, "FAILED"));
    /* Only the test of the no-agent path skips. */
    assert_non_null(strstr(r.out, "[  SKIPPED ] 1 test(s)"));
    assert_non_null(strstr(r.out, "[  SKIPPED ] test_lc_check_skips_without_agent"));
    assert_non_null(strstr(r.out, "[       OK ] test_snap_stream_read_keeps_nothing"));
    assert_non_null(strstr(r.out, "[       OK ] test_growth_analyze_keeps_nothing"));
    free(r.out);
}

/* The harness's and the reports' own hot paths, measured the same way: nothing skips. */
static void test_inproc_selfcheck_under_agent(void **state)
{
    (void)state;
    const char *argv[] = {g_lc, "exec", "--", g_self, NULL};
    struct it_result r;
    assert_int_equal(run(argv, NULL, NULL, 120, &r), 0);
    if (r.exit_code != 0) {
        print_message("%s\n", r.out);
    }
    assert_int_equal(r.exit_code, 0);
    assert_null(strstr(r.out, "SKIP"));
    assert_non_null(strstr(r.out, "[       OK ] test_scn_parse_keeps_nothing"));
    assert_non_null(strstr(r.out, "[       OK ] test_rpt_json_render_keeps_nothing"));
    free(r.out);
}

int main(void)
{
    /* A developer's environment must not change what is tested. */
    unsetenv("LEAKCHECK_REEXEC");
    unsetenv("LEAKCHECK_AGENT");
    unsetenv("LEAKCHECK_INPROC");
    unsetenv("LD_PRELOAD");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inproc_exec_fails_leaky_passes_fixed),
        cmocka_unit_test(test_inproc_reexec_fails_leaky_passes_fixed),
        cmocka_unit_test(test_inproc_without_agent_skips_both),
        cmocka_unit_test(test_inproc_reexec_without_agent_file_skips),
        cmocka_unit_test(test_inproc_plain_program),
        cmocka_unit_test(test_inproc_library_tests_under_agent),
        cmocka_unit_test(test_inproc_selfcheck_under_agent),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
