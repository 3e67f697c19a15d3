/* SPDX-License-Identifier: MIT */
/* session_test.c - one scenario end to end: a real target under the real agent.
 *
 * The target is tests/targets/stdio_kv (built into $B/targets, else build/debug/targets): it
 * answers "ok" to every line and, with --leak, keeps one block per request. Each leaking run has
 * its no-leak twin; the failure cases check that the rounds that completed are still analysed
 * and that the message says what went wrong.
 */
#include "session.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../util/file.h"
#include "scn.h"

/* What the progress callback saw. */
struct seen {
    size_t calls;
    size_t last_done;
    bool in_order;
    bool rounds_numbered;
    bool snapshots_timed; /* every round came with a positive snapshot time */
    size_t warmup_rounds;
};

/* Writes the path of `rel` in the build folder: $B's, or build/debug's when $B has no such file
 * (sanitized builds have no targets and no agent of their own). */
static void build_file(char *out, size_t len, const char *rel)
{
    const char *b = getenv("B");
    snprintf(out, len, "%s/%s", b && b[0] ? b : "build/debug", rel);
    if (access(out, F_OK) != 0) {
        snprintf(out, len, "build/debug/%s", rel);
    }
}

/* session_progress_fn: checks that rounds come one at a time, numbered from 1. */
static void on_progress(void *arg, const struct scn *s, const struct rpt_round *rounds,
                        const double *snapshot_seconds, size_t n_done)
{
    (void)s;
    struct seen *v = arg;
    if (v->calls > 0 && n_done != v->last_done + 1) {
        v->in_order = false;
    }
    if (n_done > 0) {
        const struct rpt_round *r = &rounds[n_done - 1];
        v->rounds_numbered &= r->round == n_done && r->live_blocks > 0;
        v->snapshots_timed &= snapshot_seconds[n_done - 1] > 0;
        v->warmup_rounds += r->warmup;
    }
    v->last_done = n_done;
    v->calls++;
}

/* Loads a stdio scenario for stdio_kv with `args` (a JSON list tail, may be "") and `rounds`
 * measured rounds after one warm-up. */
static struct scn *kv_scenario(const char *prog, const char *args, unsigned rounds,
                               const char *expect)
{
    char path[PATH_MAX];
    char json[2 * PATH_MAX];
    build_file(path, sizeof(path), "targets/stdio_kv");
    snprintf(json, sizeof(json),
             "{\"name\": \"kv\", \"target\": {\"argv\": [\"%s\"%s]},"
             " \"driver\": {\"kind\": \"stdio\", \"requests\": [\"put k{round}-{i}\"],"
             " \"requests_per_round\": 20},"
             " \"rounds\": %u, \"warmup\": 1, \"expect\": \"%s\"}",
             prog ? prog : path, args, rounds, expect);
    struct scn *s = NULL;
    struct diag d = {{0}};
    if (scn_parse(json, strlen(json), NULL, &s, &d) != 0) {
        print_error("scenario: %s\n", d.msg);
        fail();
    }
    return s;
}

/* Runs `s` into a fresh folder; fills `out` and returns what session_run returned. */
static int run_in_tmp(const struct scn *s, struct seen *seen, struct rpt_scenario *out, char *dir,
                      size_t len)
{
    char agent[PATH_MAX];
    build_file(agent, sizeof(agent), "libleakcheck-agent.so");
    snprintf(dir, len, "/tmp/lc-session-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct session_opts o = {
        .agent_path = agent, .out_dir = dir, .progress = on_progress, .progress_arg = seen};
    char *version = NULL;
    struct diag d = {{0}};
    memset(out, 0, sizeof(*out));
    int rc = session_run(s, &o, out, &version, &d);
    if (rc == 0 && out->verdict != RPT_VERDICT_ERROR) {
        assert_non_null(version); /* the agent said hello */
    }
    free(version);
    return rc;
}

/* Removes the run folder. */
static void remove_dir(const char *dir)
{
    static const char *const files[] = {"snapshots.bin", "scenario.json", "target.log", NULL};
    char p[PATH_MAX + 32];
    for (const char *const *f = files; *f; f++) {
        snprintf(p, sizeof(p), "%s/%s", dir, *f);
        unlink(p);
    }
    rmdir(dir);
}

/* Size of a file, or -1. */
static long file_size(const char *dir, const char *name)
{
    char p[PATH_MAX + 32];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* Runs stdio_kv with or without --leak over 6 measured rounds and checks what every run has. */
static void check_full_run(bool leak)
{
    struct scn *s = kv_scenario(NULL, leak ? ", \"--leak\"" : "", 6, leak ? "leak" : "no-leak");
    struct seen seen = {.in_order = true, .rounds_numbered = true, .snapshots_timed = true};
    struct rpt_scenario out;
    char dir[64];
    assert_int_equal(run_in_tmp(s, &seen, &out, dir, sizeof(dir)), 0);
    if (!out.ok) {
        print_error("verdict %s: %s\n", rpt_verdict_name(out.verdict),
                    out.error ? out.error : out.reason);
    }
    assert_int_equal(out.verdict, leak ? RPT_VERDICT_LEAK : RPT_VERDICT_NO_LEAK);
    assert_true(out.ok);
    assert_int_equal(out.n_rounds, 7);
    assert_true(out.rounds[0].warmup);
    assert_false(out.rounds[1].warmup);
    /* progress: once before the first round, then after each of the 7 */
    assert_int_equal(seen.calls, 8);
    assert_int_equal(seen.last_done, 7);
    assert_true(seen.in_order);
    assert_true(seen.rounds_numbered);
    assert_true(seen.snapshots_timed);
    assert_int_equal(seen.warmup_rounds, 1);
    /* the report has each round's snapshot time, as the progress saw it */
    assert_non_null(out.snapshot_seconds);
    for (size_t i = 0; i < out.n_rounds; i++) {
        assert_true(out.snapshot_seconds[i] > 0);
    }
    assert_int_equal(out.exit_code, 0);
    assert_non_null(out.argv);
    assert_non_null(strstr(out.argv[0], "stdio_kv"));
    assert_true(file_size(dir, "snapshots.bin") > 0);
    assert_true(file_size(dir, "scenario.json") > 0);
    assert_true(file_size(dir, "target.log") >= 0);
    if (leak) {
        assert_true(out.n_sites > 0 && out.sites[0].suspect);
        assert_true(out.growth_bytes_per_round > 20 * 8);
    }
    rpt_scenario_cleanup(&out);
    remove_dir(dir);
    scn_free(s);
}

/* A target that keeps one block per request is a leak, with every round and the recording. */
static void test_session_leaky_target(void **state)
{
    (void)state;
    check_full_run(true);
}

/* Its twin, which frees what it allocates, is not. */
static void test_session_fixed_target(void **state)
{
    (void)state;
    check_full_run(false);
}

/* A program that does not exist is the run's error (verdict error, no round), not a failure
 * of the function. */
static void test_session_target_not_found(void **state)
{
    (void)state;
    struct scn *s = kv_scenario("/nonexistent/leakcheck-target", "", 4, "no-leak");
    struct seen seen = {.in_order = true, .rounds_numbered = true, .snapshots_timed = true};
    struct rpt_scenario out;
    char dir[64];
    assert_int_equal(run_in_tmp(s, &seen, &out, dir, sizeof(dir)), 0);
    assert_int_equal(out.verdict, RPT_VERDICT_ERROR);
    assert_false(out.ok);
    assert_int_equal(out.n_rounds, 0);
    assert_non_null(out.error);
    assert_non_null(strstr(out.error, "/nonexistent/leakcheck-target"));
    assert_int_equal(seen.calls, 0);
    rpt_scenario_cleanup(&out);
    remove_dir(dir);
    scn_free(s);
}

/* A target that exits in round 2 leaves round 1 analysed, its exit code, and a message naming
 * the round. */
static void test_session_target_exits_mid_run(void **state)
{
    (void)state;
    struct scn *s = kv_scenario(NULL, ", \"--exit-at\", \"30\"", 4, "no-leak");
    struct seen seen = {.in_order = true, .rounds_numbered = true, .snapshots_timed = true};
    struct rpt_scenario out;
    char dir[64];
    assert_int_equal(run_in_tmp(s, &seen, &out, dir, sizeof(dir)), 0);
    assert_int_equal(out.verdict, RPT_VERDICT_ERROR);
    assert_int_equal(out.n_rounds, 1);
    assert_int_equal(out.exit_code, 7);
    assert_non_null(out.error);
    if (!strstr(out.error, "round 2")) {
        print_error("message: %s\n", out.error);
    }
    assert_non_null(strstr(out.error, "round 2"));
    assert_int_equal(seen.last_done, 1);
    assert_true(file_size(dir, "snapshots.bin") > 0);
    rpt_scenario_cleanup(&out);
    remove_dir(dir);
    scn_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_leaky_target),
        cmocka_unit_test(test_session_fixed_target),
        cmocka_unit_test(test_session_target_not_found),
        cmocka_unit_test(test_session_target_exits_mid_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
