/* SPDX-License-Identifier: MIT */
/* it_tree.c - the harness owns the target's whole tree, whatever ends the run.
 *
 * Real programs under the real harness: a stdio target that detaches a daemon (double fork,
 * setsid, every descriptor closed, SIGTERM ignored) and keeps two workers; a prefork HTTP server
 * whose master leaves its workers behind; `leakcheck exec` of a shell that leaves a sleeper.
 * After each run no process of the tree is alive (their pids, and a scan of /proc for this
 * test's mark: it_util.h). SIGTERM, SIGINT and SIGHUP sent to `leakcheck run` during start-up,
 * mid-round and at a random point: the report is there, marked interrupted with the signal,
 * with exactly the rounds that finished, and the exit code is 128 + the signal (docs/CLI.md).
 * Config files: a server configured by a file rendered from a template into the run's folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../model/rpt.h"
#include "../reports/rpt_json.h"
#include "it_util.h"

/* A string literal as an argv entry (exec never writes to it). */
#define S(lit) ((char *)(uintptr_t)(lit))

static char leakcheck[PATH_MAX];
static char tree_daemon[PATH_MAX];
static char prefork_http[PATH_MAX];
static char work[1024]; /* this run's folder under build/ */

/* Makes an absolute path of BUILD/rel into out. */
static void build_abs(char *out, const char *rel)
{
    char p[PATH_MAX];
    it_build_path(p, sizeof(p), rel);
    if (!realpath(p, out)) {
        snprintf(out, PATH_MAX, "%s", p);
    }
}

static int setup(void **state)
{
    (void)state;
    build_abs(leakcheck, "leakcheck");
    build_abs(tree_daemon, "targets/tree_daemon");
    build_abs(prefork_http, "targets/prefork_http");
    char rel[PATH_MAX];
    it_build_path(rel, sizeof(rel), "it-tree");
    mkdir(rel, 0755);
    char abs[PATH_MAX];
    if (!realpath(rel, abs) || strlen(abs) >= sizeof(work)) {
        return -1;
    }
    memcpy(work, abs, strlen(abs) + 1);
    it_mark();
    srand((unsigned)getpid());
    return 0;
}

/* "WORK/name" into buf, the file removed; returns buf. */
static char *work_file(char *buf, const char *name)
{
    snprintf(buf, PATH_MAX, "%s/%s", work, name);
    unlink(buf);
    return buf;
}

/* Reads the pids (one a line) in `path` into pids[]. Returns how many. */
static size_t read_pids(const char *path, pid_t *pids, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int v;
    while (f && n < cap && fscanf(f, "%d", &v) == 1) {
        pids[n++] = (pid_t)v;
    }
    if (f) {
        fclose(f);
    }
    return n;
}

/* Asserts that `want` processes were noted in `pid_file` and that none of them is alive. */
static void assert_pids_gone(const char *pid_file, size_t want)
{
    pid_t pids[16];
    size_t n = read_pids(pid_file, pids, 16);
    assert_int_equal(n, want);
    for (size_t i = 0; i < n; i++) {
        char st;
        pid_t pp;
        bool alive = it_proc_stat(pids[i], &st, &pp) && st != 'Z' && st != 'X';
        if (alive) {
            fail_msg("pid %d of the target's tree is still alive after the run", (int)pids[i]);
        }
    }
}

/* Runs the quick form on tree_daemon with `extra` target options; the report goes to `dir`. */
static void run_tree_daemon(const char *dir, const char *pids, bool leak, struct it_result *r)
{
    char *argv[] = {leakcheck,
                    S("run"),
                    S("--rounds"),
                    S("6"),
                    S("--warmup"),
                    S("1"),
                    S("--requests-per-round"),
                    S("5"),
                    S("--request"),
                    S("req {round}-{i}"),
                    S("--ready-line"),
                    S("^ready$"),
                    S("--report-dir"),
                    (char *)(uintptr_t)dir,
                    S("--"),
                    tree_daemon,
                    S("--pids"),
                    (char *)(uintptr_t)pids,
                    leak ? S("--leak") : NULL,
                    NULL};
    assert_int_equal(it_run(argv, NULL, NULL, 60, r), 0);
}

/* A run that ends normally stops the daemon it detached and the workers it kept; the leak and
 * its fixed twin are judged as usual. */
static void test_tree_daemon_and_workers_stopped_after_run(void **state)
{
    (void)state;
    for (int leak = 0; leak < 2; leak++) {
        char dir[PATH_MAX], pids[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s/daemon-%s", work, leak ? "leak" : "fixed");
        work_file(pids, leak ? "daemon-leak.pids" : "daemon-fixed.pids");
        struct it_result r;
        run_tree_daemon(dir, pids, leak != 0, &r);
        if (r.exit_code != (leak ? 1 : 0)) {
            fail_msg("exit %d (want %d):\n%s", r.exit_code, leak ? 1 : 0, r.out);
        }
        assert_non_null(strstr(r.out, leak ? "leak " : "no-leak "));
        free(r.out);
        assert_pids_gone(pids, 3); /* the daemon and two workers */
    }
}

/* A run that fails (a round times out on a hung target) stops the tree just the same. */
static void test_tree_stopped_after_round_timeout(void **state)
{
    (void)state;
    char dir[PATH_MAX], pids[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/timeout", work);
    work_file(pids, "timeout.pids");
    char *argv[] = {leakcheck,
                    S("run"),
                    S("--rounds"),
                    S("4"),
                    S("--request"),
                    S("req {round}"),
                    S("--ready-line"),
                    S("^ready$"),
                    S("--round-timeout"),
                    S("1"),
                    S("--report-dir"),
                    dir,
                    S("--"),
                    tree_daemon,
                    S("--pids"),
                    pids,
                    S("--slow-request"),
                    S("30000"),
                    NULL};
    struct it_result r;
    assert_int_equal(it_run(argv, NULL, NULL, 60, &r), 0);
    if (r.exit_code != 3 || !strstr(r.out, "timed out")) {
        fail_msg("exit %d (want 3, a round timed out):\n%s", r.exit_code, r.out);
    }
    free(r.out);
    assert_pids_gone(pids, 3);
}

/* Writes a scenario for the prefork server into `path`. */
static void write_prefork_scenario(const char *path, const char *pids)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{ \"name\": \"prefork\",\n"
            "  \"target\": { \"argv\": [\"%s\", \"--port\", \"{port}\", \"--workers\", \"2\", "
            "\"--pids\", \"%s\"] },\n"
            "  \"driver\": { \"kind\": \"http\", \"url\": \"http://127.0.0.1:{port}/x\", "
            "\"requests_per_round\": 10 },\n"
            "  \"rounds\": 4, \"warmup\": 1, \"expect\": \"any\" }\n",
            prefork_http, pids);
    fclose(f);
}

/* The master of a prefork server exits on SIGTERM and leaves its workers, orphaned, holding
 * the port: the harness stops them too. */
static void test_tree_prefork_workers_stopped_after_run(void **state)
{
    (void)state;
    char scn[PATH_MAX], pids[PATH_MAX], dir[PATH_MAX];
    work_file(scn, "prefork.json");
    work_file(pids, "prefork.pids");
    snprintf(dir, sizeof(dir), "%s/prefork", work);
    write_prefork_scenario(scn, pids);
    char *argv[] = {leakcheck, S("run"), S("--report-dir"), dir, scn, NULL};
    struct it_result r;
    assert_int_equal(it_run(argv, NULL, NULL, 60, &r), 0);
    if (r.exit_code != 0) {
        fail_msg("exit %d:\n%s", r.exit_code, r.out);
    }
    free(r.out);
    assert_pids_gone(pids, 2);
}

/* `leakcheck exec` of a shell that starts a sleeper in the background and ends: the sleeper is
 * stopped before leakcheck exits, and leakcheck exits as the shell did. */
static void test_tree_exec_leaves_nothing(void **state)
{
    (void)state;
    char pids[PATH_MAX], script[PATH_MAX + 64];
    work_file(pids, "exec.pids");
    snprintf(script, sizeof(script), "sleep 300 & echo $! > '%s'; echo started; exit 4", pids);
    char *argv[] = {leakcheck, S("exec"), S("--"), S("/bin/sh"), S("-c"), script, NULL};
    struct it_result r;
    assert_int_equal(it_run(argv, NULL, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 4);
    assert_non_null(strstr(r.out, "started"));
    free(r.out);
    assert_pids_gone(pids, 1);
}

/* ---------------------------------------------------------------- signals */

/* Starts `argv` with stdout and stderr into `log`, returns its pid. */
static pid_t start_logged(char *const argv[], const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (null >= 0) {
            dup2(null, 0);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Waits for `pid` up to 60 s (SIGKILL after that: a hung harness fails the test). Returns its
 * wait status. */
static int wait_bounded(pid_t pid)
{
    int status = 0;
    for (int k = 0; k < 6000; k++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return status;
        }
        poll(NULL, 0, 10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("leakcheck did not end within 60 s of the signal");
    return status;
}

/* Where a signal lands. */
enum phase {
    PHASE_STARTUP, /* the target takes 3 s to say ready; the signal comes at 0.4 s */
    PHASE_ROUND,   /* each request takes 60 ms; the signal comes mid-round */
    PHASE_RANDOM,  /* 300000 live blocks make each snapshot take a while, requests 3 ms: the
                    * signal comes at a random moment, mostly mid-snapshot */
};

/* The target options and the delay (ms) for `phase`. */
static int phase_setup(enum phase ph, char **slow_opt, char **slow_ms, char **extra_opt,
                       char **extra_val)
{
    *extra_opt = S("--blocks");
    *extra_val = S("0");
    switch (ph) {
    case PHASE_STARTUP:
        *slow_opt = S("--slow-start");
        *slow_ms = S("3000");
        return 400;
    case PHASE_ROUND:
        *slow_opt = S("--slow-request");
        *slow_ms = S("60");
        return 900 + rand() % 300; /* a round is 5 x 60 ms */
    case PHASE_RANDOM:
    default:
        *slow_opt = S("--slow-request");
        *slow_ms = S("3");
        *extra_opt = S("--blocks");
        *extra_val = S("300000");
        return 300 + rand() % 1500;
    }
}

/* Reads the report in `dir` back with the harness's own reader and checks it: one scenario,
 * marked interrupted by `sig` like the run, verdict error, and exactly the rounds that finished
 * as the error says ("after N of M rounds"). */
static void check_interrupted_report(const char *dir, int sig, const char *log_text)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/report.json", dir);
    struct rpt_run *run = NULL;
    struct diag d = {{0}};
    if (rpt_json_read(path, &run, &d) != 0) {
        fail_msg("no readable report after the signal: %s\n%s", d.msg, log_text);
    }
    assert_int_equal(run->interrupted_signal, sig);
    assert_int_equal(run->n_scenarios, 1);
    const struct rpt_scenario *s = &run->scenarios[0];
    assert_int_equal(s->interrupted_signal, sig);
    assert_int_equal(s->verdict, RPT_VERDICT_ERROR);
    assert_non_null(s->error);
    char name[32];
    char want[64];
    snprintf(want, sizeof(want), "interrupted by %s after ", rpt_signal_name(sig, name, 32));
    const char *at = strstr(s->error, want);
    if (!at) {
        fail_msg("error does not say the run was interrupted: %s", s->error);
    }
    unsigned done = 0;
    unsigned total = 0;
    assert_int_equal(sscanf(at + strlen(want), "%u of %u rounds", &done, &total), 2);
    assert_int_equal(total, 201);
    assert_int_equal(s->n_rounds, done);
    rpt_run_free(run);
}

/* One run of tree_daemon (200 measured rounds) signalled with `sig` in `ph`. */
static void signal_run(int sig, enum phase ph)
{
    char *slow_opt = NULL;
    char *slow_ms = NULL;
    char *extra_opt = NULL;
    char *extra_val = NULL;
    int delay_ms = phase_setup(ph, &slow_opt, &slow_ms, &extra_opt, &extra_val);
    char dir[PATH_MAX], pids[PATH_MAX], log[PATH_MAX], tag[32];
    snprintf(tag, sizeof(tag), "sig%d-phase%d", sig, (int)ph);
    snprintf(dir, sizeof(dir), "%s/%s", work, tag);
    snprintf(log, sizeof(log), "%s/%s.log", work, tag);
    char pids_name[48];
    snprintf(pids_name, sizeof(pids_name), "%s.pids", tag);
    work_file(pids, pids_name);
    char *argv[] = {leakcheck,
                    S("run"),
                    S("--rounds"),
                    S("200"),
                    S("--warmup"),
                    S("1"),
                    S("--requests-per-round"),
                    S("5"),
                    S("--request"),
                    S("req {round}-{i}"),
                    S("--ready-line"),
                    S("^ready$"),
                    S("--report-dir"),
                    dir,
                    S("--"),
                    tree_daemon,
                    S("--leak"),
                    S("--pids"),
                    pids,
                    slow_opt,
                    slow_ms,
                    extra_opt,
                    extra_val,
                    NULL};
    pid_t pid = start_logged(argv, log);
    poll(NULL, 0, delay_ms);
    assert_int_equal(kill(pid, sig), 0);
    int status = wait_bounded(pid);
    char *text = it_read_file(log, NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 128 + sig) {
        fail_msg("signal %d at %d ms: status 0x%x, want exit %d\n%s", sig, delay_ms, status,
                 128 + sig, text ? text : "");
    }
    char name[32];
    char line[96];
    snprintf(line, sizeof(line), "interrupted by %s:", rpt_signal_name(sig, name, sizeof(name)));
    assert_non_null(strstr(text, line)); /* the verdict table says so */
    check_interrupted_report(dir, sig, text);
    free(text);
    it_assert_no_leftovers("the interrupted run");
    assert_pids_gone(pids, 3);
}

static void test_tree_signal_during_startup(void **state)
{
    (void)state;
    signal_run(SIGTERM, PHASE_STARTUP);
    signal_run(SIGINT, PHASE_STARTUP);
    signal_run(SIGHUP, PHASE_STARTUP);
}

static void test_tree_signal_mid_round(void **state)
{
    (void)state;
    signal_run(SIGTERM, PHASE_ROUND);
    signal_run(SIGINT, PHASE_ROUND);
    signal_run(SIGHUP, PHASE_ROUND);
}

static void test_tree_signal_at_random_points(void **state)
{
    (void)state;
    signal_run(SIGTERM, PHASE_RANDOM);
    signal_run(SIGINT, PHASE_RANDOM);
    signal_run(SIGHUP, PHASE_RANDOM);
}

/* A second signal ends the harness at once: exit 128 + the first signal, nothing left. */
static void test_tree_second_signal_ends_at_once(void **state)
{
    (void)state;
    char dir[PATH_MAX], pids[PATH_MAX], log[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/second", work);
    snprintf(log, sizeof(log), "%s/second.log", work);
    work_file(pids, "second.pids");
    char *argv[] = {leakcheck,
                    S("run"),
                    S("--rounds"),
                    S("200"),
                    S("--request"),
                    S("req {round}-{i}"),
                    S("--ready-line"),
                    S("^ready$"),
                    S("--report-dir"),
                    dir,
                    S("--"),
                    tree_daemon,
                    S("--pids"),
                    pids,
                    S("--slow-start"),
                    S("20000"),
                    NULL};
    pid_t pid = start_logged(argv, log);
    poll(NULL, 0, 400);
    assert_int_equal(kill(pid, SIGTERM), 0);
    poll(NULL, 0, 50);
    kill(pid, SIGINT);
    int status = wait_bounded(pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
    it_assert_no_leftovers("the run stopped twice");
    assert_pids_gone(pids, 3);
}

/* ---------------------------------------------------------------- config files */

/* Writes `text` to `path`. */
static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The prefork server configured by a file leakcheck renders: its port and worker count come
 * from the template, the target starts in the run's folder, a second file gets a named port;
 * the same scenario with a misspelt placeholder is refused before anything starts, naming the
 * file, the key and the line. */
static void test_tree_config_files_rendered(void **state)
{
    (void)state;
    char tmpl[PATH_MAX], scn[PATH_MAX], dir[PATH_MAX], path[PATH_MAX + 64];
    work_file(tmpl, "srv.conf.in");
    work_file(scn, "conf.json");
    snprintf(dir, sizeof(dir), "%s/conf", work);
    write_text(tmpl, "port {port}\nworkers {workers}\n");
    char json[8192];
    snprintf(json, sizeof(json),
             "{ \"name\": \"conf\",\n"
             "  \"target\": { \"argv\": [\"%s\", \"--config\", \"{file:conf/srv.conf}\", "
             "\"--pids\", \"pids\"],\n"
             "    \"cwd\": \"{run_dir}\", \"vars\": { \"workers\": \"3\" },\n"
             "    \"files\": { \"conf/srv.conf\": { \"template\": \"srv.conf.in\" },\n"
             "               \"admin.txt\": { \"text\": \"admin {port:admin} main {port} in "
             "{run_dir}\" } } },\n"
             "  \"driver\": { \"kind\": \"http\", \"url\": \"http://127.0.0.1:{port}/x\", "
             "\"requests_per_round\": 10 },\n"
             "  \"rounds\": 4, \"warmup\": 1, \"expect\": \"any\" }\n",
             prefork_http);
    write_text(scn, json);
    char *argv[] = {leakcheck, S("run"), S("--report-dir"), dir, scn, NULL};
    struct it_result r;
    assert_int_equal(it_run(argv, NULL, NULL, 60, &r), 0);
    if (r.exit_code != 0) {
        fail_msg("exit %d:\n%s", r.exit_code, r.out);
    }
    free(r.out);
    snprintf(path, sizeof(path), "%s/conf/run/conf/srv.conf", dir);
    char *conf = it_read_file(path, NULL);
    assert_non_null(conf);
    unsigned port = 0;
    assert_int_equal(sscanf(conf, "port %u\nworkers 3\n", &port), 1);
    assert_true(port > 0 && port < 65536);
    free(conf);
    snprintf(path, sizeof(path), "%s/conf/run/admin.txt", dir);
    char *admin = it_read_file(path, NULL);
    assert_non_null(admin);
    unsigned aport = 0;
    unsigned mport = 0;
    assert_int_equal(sscanf(admin, "admin %u main %u in /", &aport, &mport), 2);
    assert_int_equal(mport, port);
    assert_int_not_equal(aport, port);
    assert_non_null(strstr(admin, "/conf/run"));
    free(admin);
    /* The server read 3 workers from the file and wrote its pids into the run's folder. */
    snprintf(path, sizeof(path), "%s/conf/run/pids", dir);
    assert_pids_gone(path, 3);

    write_text(tmpl, "port {port}\nworkers {wrkers}\n");
    char *argv2[] = {leakcheck, S("run"), S("--report-dir"), dir, scn, NULL};
    assert_int_equal(it_run(argv2, NULL, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 2);
    assert_non_null(strstr(r.out, "conf.json: target.files.conf/srv.conf: line 2: unknown "
                                  "placeholder '{wrkers}'"));
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_daemon_and_workers_stopped_after_run),
        cmocka_unit_test(test_tree_stopped_after_round_timeout),
        cmocka_unit_test(test_tree_prefork_workers_stopped_after_run),
        cmocka_unit_test(test_tree_exec_leaves_nothing),
        cmocka_unit_test(test_tree_signal_during_startup),
        cmocka_unit_test(test_tree_signal_mid_round),
        cmocka_unit_test(test_tree_signal_at_random_points),
        cmocka_unit_test(test_tree_second_signal_ends_at_once),
        cmocka_unit_test(test_tree_config_files_rendered),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
