/* SPDX-License-Identifier: MIT */
/* it_scenarios.c - the shipped scenarios, end to end: every verdict and culprit as documented.
 *
 * The group setup runs `leakcheck run --report-dir build/it-scenarios/NAME scenarios/NAME.json`
 * once per shipped scenario file, two at a time (the scenarios are judged on bytes, not time, so
 * running side by side does not change a verdict). Each test then checks one scenario: leakcheck
 * exited 0, and its report.json, read with cJSON, holds the verdict this file expects and, for a
 * leak, the culprit as the first suspect's function and who holds its survivors (the retainer
 * scan's root and first hop). The expectations are written here, not
 * read from the scenario files, so an edit that weakens a scenario file fails this test.
 *
 * Run from the repository root (tests/run-all.sh does); $B names the build folder.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_util.h"

#define PARALLEL 2

/* One shipped scenario and what leakcheck must say about it. */
struct expectation {
    const char *test;    /* the cmocka test's name */
    const char *name;    /* scenarios/NAME.json */
    const char *verdict; /* "leak" or "no-leak" */
    const char *culprit; /* first suspect's function for a leak, else NULL */
    /* who holds the culprit's survivors (its first retained_by group), for a leak */
    const char *root_kind, *root_symbol, *via_function;
    int status;    /* leakcheck's exit status, filled by the setup */
    char log[256]; /* where leakcheck's output went */
};

/* The services keep their state in a struct that is a local variable of main (struct service
 * svc, struct router, ...): their tables are held by main's stack frame, through the block the
 * table's set-up function allocated. */
static struct expectation expected[] = {
    {"test_scenarios_uploads_leaky", "uploads-leaky", "leak", "keep_upload", "thread-stack", "main",
     "keep_upload", -1, ""},
    {"test_scenarios_uploads_fixed", "uploads-fixed", "no-leak", NULL, NULL, NULL, NULL, -1, ""},
    {"test_scenarios_uploads_plateau", "uploads-plateau", "no-leak", NULL, NULL, NULL, NULL, -1,
     ""},
    {"test_scenarios_inserts_leaky", "inserts-leaky", "leak", "insert_batch", "thread-stack",
     "main", "importer_open", -1, ""},
    {"test_scenarios_inserts_fixed", "inserts-fixed", "no-leak", NULL, NULL, NULL, NULL, -1, ""},
    {"test_scenarios_pool_leaky", "pool-leaky", "leak", "pool_new", "thread-stack", "main",
     "router_init", -1, ""},
    {"test_scenarios_pool_fixed", "pool-fixed", "no-leak", NULL, NULL, NULL, NULL, -1, ""},
    {"test_scenarios_cache_leaky", "cache-leaky", "leak", "cache_put", "thread-stack", "main",
     "cache_init", -1, ""},
    {"test_scenarios_cache_fixed", "cache-fixed", "no-leak", NULL, NULL, NULL, NULL, -1, ""},
};
#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

/* Starts leakcheck on one scenario, output to its log file. Returns the child's pid or -1. */
static pid_t start_one(struct expectation *e)
{
    char leakcheck[512], scenario[256], dir[256];
    snprintf(leakcheck, sizeof(leakcheck), "%s/leakcheck", it_build_dir());
    snprintf(scenario, sizeof(scenario), "scenarios/%s.json", e->name);
    snprintf(dir, sizeof(dir), "build/it-scenarios/%s", e->name);
    snprintf(e->log, sizeof(e->log), "build/it-scenarios/%s.log", e->name);
    char report[300];
    snprintf(report, sizeof(report), "%s/report.json", dir);
    unlink(report); /* a stale report must not pass for this run's */

    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    int fd = open(e->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    static char arg_run[] = "run", arg_dir[] = "--report-dir";
    char *argv[] = {leakcheck, arg_run, arg_dir, dir, scenario, NULL};
    execv(leakcheck, argv);
    fprintf(stderr, "cannot run %s: %s\n", leakcheck, strerror(errno));
    _exit(127);
}

/* Runs every scenario, PARALLEL at a time, and records each exit status. */
static int run_all(void **state)
{
    (void)state;
    struct stat sb;
    if (stat("scenarios", &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "it_scenarios: run me from the repository root\n");
        return -1;
    }
    mkdir("build", 0755);
    mkdir("build/it-scenarios", 0755);
    it_mark();

    pid_t pids[N_EXPECTED];
    size_t next = 0, running = 0, done = 0;
    while (done < N_EXPECTED) {
        while (running < PARALLEL && next < N_EXPECTED) {
            pids[next] = start_one(&expected[next]);
            if (pids[next] < 0) {
                return -1;
            }
            next++;
            running++;
        }
        int st = 0;
        pid_t pid = wait(&st);
        if (pid < 0) {
            return -1;
        }
        for (size_t k = 0; k < next; k++) {
            if (pids[k] == pid) {
                expected[k].status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            }
        }
        running--;
        done++;
    }
    static char left[8192];
    if (it_leftovers(left, sizeof(left)) > 0) {
        fprintf(stderr, "it_scenarios: still running after the runs: %s\n", left);
        return -1;
    }
    return 0;
}

/* Prints the tail of a scenario's leakcheck output, to explain a failure. */
static void show_log(const struct expectation *e)
{
    char *text = it_read_file(e->log, NULL);
    if (text) {
        size_t len = strlen(text);
        fprintf(stderr, "--- %s (last lines) ---\n%s\n", e->log,
                len > 2000 ? text + len - 2000 : text);
        free(text);
    }
}

/* Checks who holds the culprit's survivors: its first retainer group's root and first hop. */
static void check_retainer(const struct expectation *e, const cJSON *suspect)
{
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(suspect, "retained_by");
    assert_true(cJSON_IsArray(by));
    assert_true(cJSON_GetArraySize(by) >= 1);
    const cJSON *g = cJSON_GetArrayItem(by, 0);
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(g, "root");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    const cJSON *sym = cJSON_GetObjectItemCaseSensitive(root, "symbol");
    assert_true(cJSON_IsString(kind) && cJSON_IsString(sym));
    assert_string_equal(kind->valuestring, e->root_kind);
    assert_string_equal(sym->valuestring, e->root_symbol);
    const cJSON *via = cJSON_GetObjectItemCaseSensitive(g, "via");
    assert_true(cJSON_IsArray(via) && cJSON_GetArraySize(via) >= 1);
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(via, 0), "function");
    assert_true(cJSON_IsString(fn));
    assert_string_equal(fn->valuestring, e->via_function);
}

/* Checks one scenario's exit status, verdict, culprit and its retainers, and that the retainer
 * scan ran to the end. */
static void check_scenario(const struct expectation *e)
{
    char path[512];
    if (e->status != 0) {
        show_log(e);
    }
    assert_int_equal(e->status, 0);

    snprintf(path, sizeof(path), "build/it-scenarios/%s/report.json", e->name);
    char *text = it_read_file(path, NULL);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);

    const cJSON *scenarios = cJSON_GetObjectItemCaseSensitive(root, "scenarios");
    assert_true(cJSON_IsArray(scenarios));
    assert_int_equal(cJSON_GetArraySize(scenarios), 1);
    const cJSON *sc = cJSON_GetArrayItem(scenarios, 0);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(sc, "name");
    const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(sc, "verdict");
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(sc, "ok");
    assert_true(cJSON_IsString(name) && cJSON_IsString(verdict));
    assert_string_equal(name->valuestring, e->name);
    assert_string_equal(verdict->valuestring, e->verdict);
    assert_true(cJSON_IsTrue(ok));

    const cJSON *scan = cJSON_GetObjectItemCaseSensitive(sc, "retainer_scan");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(scan, "complete")));
    const cJSON *suspects = cJSON_GetObjectItemCaseSensitive(sc, "suspects");
    if (e->culprit) {
        assert_true(cJSON_IsArray(suspects));
        assert_true(cJSON_GetArraySize(suspects) >= 1);
        const cJSON *fn =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(suspects, 0), "function");
        assert_true(cJSON_IsString(fn));
        assert_string_equal(fn->valuestring, e->culprit);
        check_retainer(e, cJSON_GetArrayItem(suspects, 0));
    } else {
        /* a no-leak verdict names nobody */
        assert_true(!cJSON_IsArray(suspects) || cJSON_GetArraySize(suspects) == 0);
    }
    cJSON_Delete(root);
}

static void test_scenario(void **state)
{
    check_scenario(*state);
}

int main(void)
{
    struct CMUnitTest tests[N_EXPECTED];
    for (size_t k = 0; k < N_EXPECTED; k++) {
        tests[k] = (struct CMUnitTest){expected[k].test, test_scenario, NULL, NULL, &expected[k]};
    }
    return _cmocka_run_group_tests("it_scenarios", tests, N_EXPECTED, run_all, NULL);
}
