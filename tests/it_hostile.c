/* SPDX-License-Identifier: MIT */
/* it_hostile.c - integration tests: `leakcheck run` against targets that misbehave.
 *
 * Each test writes a small scenario for tests/targets/hostile (or hostile_static,
 * hostile_malloc, or hostile under a library that is not the agent), runs `$B/leakcheck run`
 * as a subprocess with short timeouts, and checks three things: the exit status (3 when the run
 * itself failed), a one-line error that names what happened, and report.json (read with cJSON):
 * verdict `error` with the rounds that did complete, no more, no fewer. Lines are counted over
 * the run: with 5 requests per round, line 12 falls in round 3, so rounds 1 and 2 are kept.
 *
 * A harness that waits for an EOF that never comes (a child of the target holding its pipes)
 * is caught by it_run's own time limit, well below the child's lifetime. Forked children write
 * their pid to a file and are killed when the test ends.
 *
 * Run from the repository root (tests/run-all.sh does); $B names the build folder.
 */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_util.h"

#define RPR 5 /* requests per round */

static char g_lc[512];
static char g_hostile[512];
static char g_static[512];
static char g_malloc[512];
static char g_not_agent[600];
static char g_fake_agent[600];
static char g_tmp[] = "/tmp/it_hostile_XXXXXX";

/* One hostile run: what to start and what must come out. */
struct hcase {
    const char *name;
    const char *prog;         /* target program; g_hostile when NULL */
    const char *args;         /* JSON array elements after the program, or "" */
    const char *ready;        /* JSON for target.ready, or NULL */
    const char *driver;       /* JSON for driver, or NULL for stdio "put k{round}-{i}" */
    int round_timeout_s;      /* 0: 2 s */
    char *const *env;         /* extra environment, or NULL */
    int want_exit;            /* leakcheck's exit status */
    const char *want_verdict; /* report verdict */
    const char *needle;       /* in leakcheck's output */
    int want_rounds;          /* rounds kept in report.json */
    size_t want_log_bytes;    /* target.log at least this big (a flood was logged), or 0 */
    bool child;               /* the target forks a child that writes g_tmp/NAME.pid */
};

/* Kills the child the target forked, if it wrote its pid. */
static void kill_child(const char *name)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s.pid", g_tmp, name);
    char *text = it_read_file(path, NULL);
    if (text) {
        long pid = strtol(text, NULL, 10);
        if (pid > 1) {
            kill((pid_t)pid, SIGKILL);
        }
        free(text);
    }
}

/* Writes the scenario of case `c` to `path`. */
static void write_scenario(const struct hcase *c, const char *path, const char *pidfile)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"name\": \"%s\", \"target\": {\"argv\": [\"%s\"%s%s", c->name,
            c->prog ? c->prog : g_hostile, c->args[0] ? ", " : "", c->args);
    if (c->child) {
        fprintf(f, ", \"--pidfile\", \"%s\"", pidfile);
    }
    fprintf(f, "]");
    if (c->ready) {
        fprintf(f, ", \"ready\": %s", c->ready);
    }
    int rt = c->round_timeout_s ? c->round_timeout_s : 2;
    fprintf(f, "}, \"driver\": ");
    if (c->driver) {
        fprintf(f, "%s", c->driver);
    } else {
        fprintf(f,
                "{\"kind\": \"stdio\", \"requests\": [\"put k{round}-{i}\"], "
                "\"requests_per_round\": %d, \"reply_timeout_s\": %d}",
                RPR, rt);
    }
    fprintf(f, ", \"rounds\": 4, \"warmup\": 1, \"round_timeout_s\": %d}\n", rt);
    fclose(f);
}

/* Checks report.json in `dir`: the verdict and the rounds kept. */
static void check_report(const struct hcase *c, const char *dir)
{
    char path[800];
    snprintf(path, sizeof(path), "%s/report.json", dir);
    char *text = it_read_file(path, NULL);
    if (!text) {
        fail_msg("%s: no report.json in %s", c->name, dir);
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "scenarios"), 0);
    assert_non_null(s);
    const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(s, "verdict");
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(s, "ok");
    const cJSON *rounds = cJSON_GetObjectItemCaseSensitive(s, "rounds");
    assert_true(cJSON_IsString(verdict));
    assert_true(cJSON_IsArray(rounds));
    if (strcmp(verdict->valuestring, c->want_verdict) != 0 ||
        cJSON_GetArraySize(rounds) != c->want_rounds) {
        print_error("%s: verdict '%s' with %d rounds, wanted '%s' with %d\n", c->name,
                    verdict->valuestring, cJSON_GetArraySize(rounds), c->want_verdict,
                    c->want_rounds);
    }
    assert_string_equal(verdict->valuestring, c->want_verdict);
    assert_int_equal(cJSON_GetArraySize(rounds), c->want_rounds);
    assert_true(cJSON_IsBool(ok));
    assert_int_equal(cJSON_IsTrue(ok), c->want_exit == 0);
    if (c->want_rounds > 0) {
        const cJSON *last = cJSON_GetArrayItem(rounds, c->want_rounds - 1);
        const cJSON *num = cJSON_GetObjectItemCaseSensitive(last, "round");
        assert_true(cJSON_IsNumber(num));
        assert_int_equal((int)num->valuedouble, c->want_rounds);
    }
    cJSON_Delete(root);
}

/* Writes the scenario, runs leakcheck on it and checks the outcome. */
static void run_case(const struct hcase *c)
{
    char scn[700];
    char dir[700];
    char pidfile[700];
    snprintf(scn, sizeof(scn), "%s/%s.json", g_tmp, c->name);
    snprintf(dir, sizeof(dir), "%s/out-%s", g_tmp, c->name);
    snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", g_tmp, c->name);
    write_scenario(c, scn, pidfile);

    const char *argv[] = {g_lc, "run", "--report-dir", dir, scn, NULL};
    struct it_result r;
    assert_int_equal(it_run((char *const *)(uintptr_t)argv, c->env, NULL, 40, &r), 0);
    if (c->child) {
        kill_child(c->name);
    }
    bool bad = r.timed_out || r.exit_code != c->want_exit || !strstr(r.out, c->needle);
    if (bad) {
        print_error("%s: exit %d (wanted %d)%s, output:\n%s\nwanted: %s\n", c->name, r.exit_code,
                    c->want_exit, r.timed_out ? ", leakcheck hung and was killed" : "", r.out,
                    c->needle);
    }
    assert_false(r.timed_out);
    assert_int_equal(r.exit_code, c->want_exit);
    assert_non_null(strstr(r.out, c->needle));
    if (c->want_exit == 3) {
        /* One line says what happened and what to do. */
        const char *e = strstr(r.out, "error: ");
        assert_non_null(e);
        const char *nl = strchr(e, '\n');
        assert_true(nl == NULL || nl - e > 40);
    }
    free(r.out);
    check_report(c, dir);

    if (c->want_log_bytes) {
        char path[800];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s/target.log", dir, c->name);
        assert_int_equal(stat(path, &st), 0);
        assert_true((size_t)st.st_size >= c->want_log_bytes);
    }
}

static int setup(void **state)
{
    (void)state;
    it_build_path(g_lc, sizeof(g_lc), "leakcheck");
    it_build_path(g_hostile, sizeof(g_hostile), "targets/hostile");
    it_build_path(g_static, sizeof(g_static), "targets/hostile_static");
    it_build_path(g_malloc, sizeof(g_malloc), "targets/hostile_malloc");
    char rel[512];
    snprintf(g_not_agent, sizeof(g_not_agent), "LEAKCHECK_AGENT=%s",
             it_build_path(rel, sizeof(rel), "targets/libnot_agent.so"));
    snprintf(g_fake_agent, sizeof(g_fake_agent), "LEAKCHECK_AGENT=%s",
             it_build_path(rel, sizeof(rel), "targets/libfake_agent.so"));
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

static void test_hostile_sigkill_mid_round(void **state)
{
    (void)state;
    run_case(&(struct hcase){.name = "sigkill",
                             .args = "\"--kill-at\", \"12\"",
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "killed by signal 9",
                             .want_rounds = 2});
}

static void test_hostile_killed_by_sibling(void **state)
{
    (void)state;
    run_case(&(struct hcase){.name = "sibling",
                             .args = "\"--sibling-kill-at\", \"12\"",
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "killed by signal 9 (Killed) during round 3",
                             .want_rounds = 2});
}

static void test_hostile_hangs_in_round(void **state)
{
    (void)state;
    run_case(&(struct hcase){.name = "hang",
                             .args = "\"--hang-at\", \"12\"",
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "round 3 timed out",
                             .want_rounds = 2});
}

static void test_hostile_closes_stdout(void **state)
{
    (void)state;
    run_case(&(struct hcase){.name = "closeout",
                             .args = "\"--close-stdout-at\", \"12\"",
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "closed its stdout after 1 of 5 replies, "
                                       "and is still running",
                             .want_rounds = 2});
}

static void test_hostile_floods_stdout_and_stderr(void **state)
{
    (void)state;
    /* 256 KiB before every reply (one huge line) and 256 KiB to stderr: 1.25 MiB per round
     * each way; the run must go through and the stderr flood lands in the log. */
    run_case(&(struct hcase){.name = "flood",
                             .args = "\"--flood-stdout\", \"262144\", \"--flood-stderr\", "
                                     "\"262144\"",
                             .want_exit = 0,
                             .want_verdict = "no-leak",
                             .needle = "no-leak",
                             .want_rounds = 5,
                             .want_log_bytes = 5u * 5 * 262144});
}

static void test_hostile_floods_drained_stdout(void **state)
{
    (void)state;
    /* stdout not read by the driver: the harness drains it into the log. Round 1 waits (up to
     * 5 s) until the target says its flood is written, so the stop does not cut it short. */
    static char args[900];
    static char driver[1400];
    char done[800];
    snprintf(done, sizeof(done), "%s/flooddrain.done", g_tmp);
    unlink(done);
    snprintf(
        args, sizeof(args),
        "\"--print-ready\", \"--idle\", \"--flood-idle\", \"4194304\", \"--flood-done\", \"%s\"",
        done);
    snprintf(driver, sizeof(driver),
             "{\"kind\": \"command\", \"argv\": [\"/bin/sh\", \"-c\", \"i=0; while [ ! -e '%s' ] "
             "&& [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done\"]}",
             done);
    run_case(&(struct hcase){.name = "flooddrain",
                             .args = args,
                             .ready = "{\"stdout\": \"^ready$\", \"timeout_s\": 2}",
                             .driver = driver,
                             .round_timeout_s = 10,
                             .want_exit = 0,
                             .want_verdict = "no-leak",
                             .needle = "no-leak",
                             .want_rounds = 5,
                             .want_log_bytes = 2u * 4194304});
}

static void test_hostile_forked_child_keeps_pipes(void **state)
{
    (void)state;
    /* glibc fork(): the agent closes the channel in the child, which keeps stdin and stdout. */
    run_case(&(struct hcase){.name = "fork",
                             .args = "\"--fork-at\", \"7\", \"--child-lifetime\", \"120\"",
                             .want_exit = 0,
                             .want_verdict = "no-leak",
                             .needle = "no-leak",
                             .want_rounds = 5,
                             .child = true});
}

static void test_hostile_raw_forked_child_keeps_channel(void **state)
{
    (void)state;
    /* A bare clone skips the atfork handlers: the child keeps the agent's channel open too. */
    run_case(&(struct hcase){.name = "rawfork",
                             .args = "\"--fork-at\", \"7\", \"--raw-fork\", \"--child-lifetime\", "
                                     "\"120\"",
                             .want_exit = 0,
                             .want_verdict = "no-leak",
                             .needle = "no-leak",
                             .want_rounds = 5,
                             .child = true});
}

static void test_hostile_child_outlives_parent(void **state)
{
    (void)state;
    /* The parent exits in round 2 while its child holds stdout and the channel: the harness
     * must notice the exit, not wait for an EOF (nor the 30 s round timeout). */
    run_case(
        &(struct hcase){.name = "orphan",
                        .args = "\"--fork-at\", \"7\", \"--raw-fork\", \"--exit-after-fork\", "
                                "\"--child-lifetime\", \"120\"",
                        .round_timeout_s = 30,
                        .want_exit = 3,
                        .want_verdict = "error",
                        .needle = "during round 2 (round 2: the target ended after 1 of 5 replies)",
                        .want_rounds = 1,
                        .child = true});
}

static void test_hostile_child_holds_drained_stdout(void **state)
{
    (void)state;
    /* The harness drains stdout in a thread; the child keeps the pipe open after the target is
     * stopped: the run must end anyway. Neither process of the tree allocates anything while
     * the rounds run, so nothing was measured: inconclusive, never a pass. */
    run_case(&(struct hcase){.name = "draining",
                             .args = "\"--print-ready\", \"--idle\", \"--fork-at\", \"0\", "
                                     "\"--child-lifetime\", \"120\"",
                             .ready = "{\"stdout\": \"^ready$\", \"timeout_s\": 2}",
                             .driver = "{\"kind\": \"command\", \"argv\": [\"/bin/true\"]}",
                             .want_exit = 1,
                             .want_verdict = "inconclusive",
                             .needle = "no tracked process allocated anything or used the CPU",
                             .want_rounds = 5,
                             .child = true});
}

static void test_hostile_execs_another_program(void **state)
{
    (void)state;
    /* The program exec'd in round 3 joins again (same pid, new image) and answers the
     * remaining rounds. */
    run_case(&(struct hcase){.name = "exec",
                             .args = "\"--exec-at\", \"12\"",
                             .want_exit = 0,
                             .want_verdict = "no-leak",
                             .needle = "no-leak",
                             .want_rounds = 5});
}

static void test_hostile_exits_0_before_first_round(void **state)
{
    (void)state;
    run_case(&(struct hcase){.name = "exit0",
                             .args = "\"--exit-at-start\", \"0\"",
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "exited with code 0 before the first round was answered "
                                       "(a server must keep running",
                             .want_rounds = 0});
}

static void test_hostile_exits_0_before_first_round_command_driver(void **state)
{
    (void)state;
    /* The command driver never hears from the target: a target that quits at once is the same
     * case whether the start-up snapshot or the snapshot after round 1 notices it. */
    run_case(&(struct hcase){.name = "exit0cmd",
                             .args = "\"--exit-at-start\", \"0\"",
                             .driver = "{\"kind\": \"command\", \"argv\": [\"/bin/true\"]}",
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "exited with code 0 before the first round was answered "
                                       "(a server must keep running",
                             .want_rounds = 0});
}

static void test_hostile_killed_on_first_request_answered_nothing(void **state)
{
    (void)state;
    /* Killed while reading request 1: nothing was answered, so it is the same account as a
     * target that never started answering, whichever step saw the death first. */
    run_case(&(struct hcase){.name = "kill1",
                             .args = "\"--kill-at\", \"1\"",
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "killed by signal 9 (Killed) before the first round was "
                                       "answered",
                             .want_rounds = 0});
}

static void test_hostile_never_ready(void **state)
{
    (void)state;
    static const char *const readies[] = {
        "{\"stdout\": \"^ready$\", \"timeout_s\": 1}",
        "{\"tcp\": \"{port}\", \"timeout_s\": 1}",
        "{\"http\": \"http://127.0.0.1:{port}/healthz\", \"timeout_s\": 1}",
    };
    static const char *const names[] = {"noready-stdout", "noready-tcp", "noready-http"};
    for (size_t i = 0; i < 3; i++) {
        run_case(&(struct hcase){.name = names[i],
                                 .args = "\"--idle\", \"{port}\"",
                                 .ready = readies[i],
                                 .driver = "{\"kind\": \"command\", \"argv\": [\"/bin/true\"]}",
                                 .want_exit = 3,
                                 .want_verdict = "error",
                                 .needle = "target never became ready",
                                 .want_rounds = 0});
    }
}

static void test_hostile_static_binary_agent_not_loaded(void **state)
{
    (void)state;
    run_case(&(struct hcase){.name = "static",
                             .prog = g_static,
                             .args = "",
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "agent not loaded: target",
                             .want_rounds = 0});
}

static void test_hostile_own_malloc_no_canary(void **state)
{
    (void)state;
    run_case(&(struct hcase){.name = "ownmalloc",
                             .prog = g_malloc,
                             .args = "",
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "canary block is missing",
                             .want_rounds = 0});
}

static void test_hostile_not_the_agent(void **state)
{
    (void)state;
    char *const env[] = {g_not_agent, NULL};
    run_case(&(struct hcase){.name = "notagent",
                             .args = "\"--print-ready\"",
                             .ready = "{\"stdout\": \"^ready$\", \"timeout_s\": 1}",
                             .env = env,
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "agent not loaded: no hello",
                             .want_rounds = 0});
}

static void test_hostile_agent_passthrough_from_start(void **state)
{
    (void)state;
    static char mode[] = "LEAKCHECK_FAKE_MODE=passthrough";
    char *const env[] = {g_fake_agent, mode, NULL};
    run_case(&(struct hcase){.name = "passthrough",
                             .args = "",
                             .env = env,
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "loaded but not tracking",
                             .want_rounds = 0});
}

static void test_hostile_agent_passthrough_later_is_no_pass(void **state)
{
    (void)state;
    static char mode[] = "LEAKCHECK_FAKE_MODE=passthrough-later";
    char *const env[] = {g_fake_agent, mode, NULL};
    run_case(&(struct hcase){.name = "passlater",
                             .args = "",
                             .env = env,
                             .want_exit = 1,
                             .want_verdict = "inconclusive",
                             .needle = "inconclusive",
                             .want_rounds = 5});
}

static void test_hostile_agent_without_canary(void **state)
{
    (void)state;
    static char mode[] = "LEAKCHECK_FAKE_MODE=no-canary";
    char *const env[] = {g_fake_agent, mode, NULL};
    run_case(&(struct hcase){.name = "nocanary",
                             .args = "",
                             .env = env,
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "canary block is missing",
                             .want_rounds = 0});
}

static void test_hostile_agent_loses_canary(void **state)
{
    (void)state;
    static char mode[] = "LEAKCHECK_FAKE_MODE=canary-lost";
    char *const env[] = {g_fake_agent, mode, NULL};
    run_case(&(struct hcase){.name = "canarylost",
                             .args = "",
                             .env = env,
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "round 2: the agent's canary block is gone",
                             .want_rounds = 2});
}

static void test_hostile_agent_sends_garbage(void **state)
{
    (void)state;
    static char mode[] = "LEAKCHECK_FAKE_MODE=garbage";
    char *const env[] = {g_fake_agent, mode, NULL};
    run_case(&(struct hcase){.name = "garbage",
                             .args = "",
                             .env = env,
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "bad frame header",
                             .want_rounds = 0});
}

static void test_hostile_dies_mid_snapshot(void **state)
{
    (void)state;
    /* Killed between SNAP_BEGIN and SNAP_END of round 3: rounds 1-2 stay whole, the partial
     * snapshot is dropped. */
    static char mode[] = "LEAKCHECK_FAKE_MODE=die-mid-snapshot";
    char *const env[] = {g_fake_agent, mode, NULL};
    run_case(&(struct hcase){.name = "midsnap",
                             .args = "",
                             .env = env,
                             .want_exit = 3,
                             .want_verdict = "error",
                             .needle = "killed by signal 9 (Killed) after round 3, before its "
                                       "snapshot",
                             .want_rounds = 2});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_sigkill_mid_round),
        cmocka_unit_test(test_hostile_killed_by_sibling),
        cmocka_unit_test(test_hostile_hangs_in_round),
        cmocka_unit_test(test_hostile_closes_stdout),
        cmocka_unit_test(test_hostile_floods_stdout_and_stderr),
        cmocka_unit_test(test_hostile_floods_drained_stdout),
        cmocka_unit_test(test_hostile_forked_child_keeps_pipes),
        cmocka_unit_test(test_hostile_raw_forked_child_keeps_channel),
        cmocka_unit_test(test_hostile_child_outlives_parent),
        cmocka_unit_test(test_hostile_child_holds_drained_stdout),
        cmocka_unit_test(test_hostile_execs_another_program),
        cmocka_unit_test(test_hostile_exits_0_before_first_round),
        cmocka_unit_test(test_hostile_exits_0_before_first_round_command_driver),
        cmocka_unit_test(test_hostile_killed_on_first_request_answered_nothing),
        cmocka_unit_test(test_hostile_never_ready),
        cmocka_unit_test(test_hostile_static_binary_agent_not_loaded),
        cmocka_unit_test(test_hostile_own_malloc_no_canary),
        cmocka_unit_test(test_hostile_not_the_agent),
        cmocka_unit_test(test_hostile_agent_passthrough_from_start),
        cmocka_unit_test(test_hostile_agent_passthrough_later_is_no_pass),
        cmocka_unit_test(test_hostile_agent_without_canary),
        cmocka_unit_test(test_hostile_agent_loses_canary),
        cmocka_unit_test(test_hostile_agent_sends_garbage),
        cmocka_unit_test(test_hostile_dies_mid_snapshot),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
