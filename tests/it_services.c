/* SPDX-License-Identifier: MIT */
/* it_services.c - integration test: whole process trees under `leakcheck run` and `leakcheck exec`.
 *
 * Real programs, each leaky and fixed: a prefork HTTP server (the master forks two workers on a
 * shared socket; only the workers do work), a daemon (double fork, setsid, every descriptor
 * closed, dup2 storms), a program at the end of an exec chain (env, two wrapper scripts,
 * sh -c), Debian's nginx with a master and two workers (skipped where /usr/sbin/nginx is not
 * installed), Debian's Apache with the prefork MPM and PostgreSQL with a backend forked per
 * connection (no-leak; each skipped where not installed), and a tree with a statically linked
 * process that can't be tracked. Each test
 * checks report.json: the verdict, the culprit and the role and pids it was found in, how each
 * process joined; and after every run, that no process it started is still alive (it_run() scans
 * /proc for this test's descendants and for its mark, which every process it starts inherits).
 *
 * Run from the repository root (tests/run-all.sh does); $B names the build folder.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_util.h"

static char g_tmp[256];
static char g_leakcheck[512];

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof(g_tmp), "/tmp/it_services_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        return -1;
    }
    it_build_path(g_leakcheck, sizeof(g_leakcheck), "leakcheck");
    it_mark();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* What a run must show. */
struct want {
    const char *verdict;
    const char *culprit; /* first suspect's function, or NULL */
    const char *role;    /* its role, or NULL */
    const char *reason;  /* in the reason, or NULL */
    int origin_fork;     /* processes that joined by fork, at least */
    int origin_exec;     /* by exec, at least */
    int untracked;       /* processes that never joined, at least */
};

/* The number of processes in `procs` whose `key` equals `value` (a string) or is true. */
static int count_procs(const cJSON *procs, const char *key, const char *value)
{
    int n = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, procs)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
        n += value ? (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0) : cJSON_IsTrue(v);
    }
    return n;
}

/* Runs one scenario (JSON text), checks its report; it_run() checks that nothing it started is
 * left. */
static void run_tree(const char *name, const char *scenario, const struct want *w)
{
    char file[512];
    snprintf(file, sizeof(file), "%s/%s.json", g_tmp, name);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(scenario, f);
    fclose(f);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/out-%s", g_tmp, name);
    char run[] = "run";
    char opt[] = "--report-dir";
    char *argv[] = {g_leakcheck, run, opt, dir, file, NULL};
    struct it_result r;
    assert_int_equal(it_run(argv, NULL, NULL, 180, &r), 0);
    char report[600];
    snprintf(report, sizeof(report), "%s/report.json", dir);
    size_t len = 0;
    char *text = it_read_file(report, &len);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    const cJSON *sc = root ? cJSON_GetArrayItem(cJSON_GetObjectItem(root, "scenarios"), 0) : NULL;
    const cJSON *verdict = cJSON_GetObjectItem(sc, "verdict");
    const cJSON *reason = cJSON_GetObjectItem(sc, "reason");
    const cJSON *top = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "suspects"), 0);
    const cJSON *procs = cJSON_GetObjectItem(sc, "processes");
    bool ok = cJSON_IsString(verdict) && strcmp(verdict->valuestring, w->verdict) == 0;
    if (!ok) {
        fprintf(stderr, "%s: exit %d, output:\n%s\n", name, r.exit_code, r.out);
    }
    assert_true(ok);
    if (w->culprit) {
        assert_non_null(top);
        assert_string_equal(cJSON_GetObjectItem(top, "function")->valuestring, w->culprit);
    }
    if (w->role) {
        assert_non_null(top);
        assert_string_equal(cJSON_GetObjectItem(top, "role")->valuestring, w->role);
        assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(top, "pids")) >= 1);
    }
    if (w->reason) {
        assert_non_null(strstr(reason->valuestring, w->reason));
    }
    assert_non_null(procs);
    assert_int_equal(count_procs(procs, "origin", "start"), 1);
    assert_true(count_procs(procs, "origin", "fork") >= w->origin_fork);
    assert_true(count_procs(procs, "origin", "exec") >= w->origin_exec);
    assert_true(cJSON_GetArraySize(procs) - count_procs(procs, "tracked", NULL) >= w->untracked);
    cJSON_Delete(root);
    free(text);
    free(r.out);
}

#define HTTP_DRIVER                                                                                \
    "\"driver\": {\"kind\": \"http\", \"url\": \"http://127.0.0.1:{port}/item-{round}-{i}\", "     \
    "\"requests_per_round\": 40, \"concurrency\": 4, \"timeout_s\": 10}, "                         \
    "\"rounds\": 6, \"warmup\": 2"
#define STDIO_DRIVER                                                                               \
    "\"driver\": {\"kind\": \"stdio\", \"requests\": [\"open peer-{round}-{i}\", \"send x\", "     \
    "\"close\"], \"requests_per_round\": 39}, \"rounds\": 6, \"warmup\": 2"

static void test_tree_prefork_leak_in_workers(void **state)
{
    (void)state;
    run_tree("prefork-leak",
             "{\"name\": \"prefork-leak\", \"target\": {\"argv\": "
             "[\"build/debug/targets/prefork_srv\", \"--port\", \"{port}\", \"--leak\"], "
             "\"ready\": {\"http\": "
             "\"http://127.0.0.1:{port}/healthz\"}}, " HTTP_DRIVER ", \"expect\": \"leak\"}",
             &(struct want){.verdict = "leak",
                            .culprit = "remember_request",
                            .role = "prefork_srv (forked)",
                            .origin_fork = 2});
}

static void test_tree_prefork_fixed(void **state)
{
    (void)state;
    run_tree("prefork-fixed",
             "{\"name\": \"prefork-fixed\", \"target\": {\"argv\": "
             "[\"build/debug/targets/prefork_srv\", \"--port\", \"{port}\", \"--fixed\"], "
             "\"ready\": {\"http\": "
             "\"http://127.0.0.1:{port}/healthz\"}}, " HTTP_DRIVER "}",
             &(struct want){.verdict = "no-leak", .origin_fork = 2});
}

static void test_tree_daemon_leak(void **state)
{
    (void)state;
    run_tree("daemon-leak",
             "{\"name\": \"daemon-leak\", \"target\": {\"argv\": "
             "[\"build/debug/targets/daemon_srv\", \"--port\", \"{port}\", \"--leak\"], "
             "\"ready\": {\"http\": "
             "\"http://127.0.0.1:{port}/healthz\"}}, " HTTP_DRIVER ", \"expect\": \"leak\"}",
             &(struct want){.verdict = "leak",
                            .culprit = "remember_client",
                            .role = "daemon_srv (forked)",
                            .origin_fork = 2});
}

static void test_tree_daemon_fixed(void **state)
{
    (void)state;
    run_tree("daemon-fixed",
             "{\"name\": \"daemon-fixed\", \"target\": {\"argv\": "
             "[\"build/debug/targets/daemon_srv\", \"--port\", \"{port}\", \"--fixed\"], "
             "\"ready\": {\"http\": "
             "\"http://127.0.0.1:{port}/healthz\"}}, " HTTP_DRIVER "}",
             &(struct want){.verdict = "no-leak", .origin_fork = 2});
}

static void test_tree_exec_chain_leak(void **state)
{
    (void)state;
    run_tree(
        "chain-leak",
        "{\"name\": \"chain-leak\", \"target\": {\"argv\": [\"env\", \"A=1\", \"sh\", "
        "\"tests/scripts/wrap.sh\", \"tests/scripts/wrap.sh\", \"sh\", \"-c\", "
        "\"exec \\\"$0\\\" \\\"$@\\\"\", \"build/debug/targets/conn_struct\", "
        "\"--leak\"]}, " STDIO_DRIVER ", \"expect\": \"leak\"}",
        &(struct want){
            .verdict = "leak", .culprit = "conn_open", .role = "conn_struct", .origin_exec = 3});
}

static void test_tree_exec_chain_fixed(void **state)
{
    (void)state;
    run_tree("chain-fixed",
             "{\"name\": \"chain-fixed\", \"target\": {\"argv\": [\"env\", \"A=1\", \"sh\", "
             "\"tests/scripts/wrap.sh\", \"tests/scripts/wrap.sh\", \"sh\", \"-c\", "
             "\"exec \\\"$0\\\" \\\"$@\\\"\", \"build/debug/targets/conn_struct\", "
             "\"--fixed\"]}, " STDIO_DRIVER "}",
             &(struct want){.verdict = "no-leak", .origin_exec = 3});
}

/* A statically linked process runs through the rounds beside the measured one: its memory is
 * not measured, so the fixed program's no-leak is not a pass. */
static void test_tree_untracked_process_is_inconclusive(void **state)
{
    (void)state;
    run_tree("untracked",
             "{\"name\": \"untracked\", \"target\": {\"argv\": [\"sh\", \"-c\", "
             "\"sleep 600 | build/debug/targets/hostile_static > /dev/null & exec "
             "build/debug/targets/conn_struct --fixed\"]}, " STDIO_DRIVER "}",
             &(struct want){.verdict = "inconclusive",
                            .reason = "ran untracked during the measured rounds",
                            .untracked = 1});
}

/* Debian's nginx with a master and two workers (tests/nginx/run.sh renders its configuration):
 * open_file_cache grows with every new URL in the workers. */
static void run_nginx(const char *name, const char *cache_max, const struct want *w)
{
    if (access("/usr/sbin/nginx", X_OK) != 0) {
        skip();
    }
    char text[2048];
    snprintf(text, sizeof(text),
             "{\"name\": \"%s\", \"target\": {\"argv\": [\"sh\", \"tests/nginx/run.sh\", "
             "\"{port}\", \"%s\"], \"ready\": "
             "{\"http\": \"http://127.0.0.1:{port}/healthz\"}}, \"driver\": {\"kind\": \"http\", "
             "\"url\": \"http://127.0.0.1:{port}/missing-{round}-{i}.html\", \"expect_status\": "
             "404, \"requests_per_round\": 200, \"concurrency\": 4, \"timeout_s\": 10}, "
             "\"wrappers\": [\"ngx_alloc\", \"ngx_calloc\"], \"roles\": {\"worker\": \"nginx: "
             "worker*\", \"master\": \"nginx: master*\"}, \"rounds\": 6, \"warmup\": 2}",
             name, cache_max);
    run_tree(name, text, w);
}

static void test_tree_nginx_workers_leak(void **state)
{
    (void)state;
    run_nginx("nginx-leak", "1000000",
              &(struct want){.verdict = "leak",
                             .culprit = "ngx_open_cached_file",
                             .role = "worker",
                             .origin_fork = 2,
                             .origin_exec = 1});
}

static void test_tree_nginx_bounded_cache(void **state)
{
    (void)state;
    run_nginx("nginx-fixed", "16",
              &(struct want){.verdict = "no-leak", .origin_fork = 2, .origin_exec = 1});
}

/* Debian's Apache with the prefork MPM: a master and two workers serving a static file. The
 * workers reuse their memory pools (no malloc per request) but do the work: no-leak, not
 * "nothing was measured". */
static void test_tree_apache_prefork_no_leak(void **state)
{
    (void)state;
    if (access("/usr/sbin/apache2", X_OK) != 0 ||
        access("/usr/lib/apache2/modules/mod_mpm_prefork.so", R_OK) != 0) {
        skip();
    }
    run_tree(
        "apache-prefork",
        "{\"name\": \"apache-prefork\", \"target\": {\"argv\": [\"/usr/sbin/apache2\", "
        "\"-f\", \"{file:httpd.conf}\"], "
        "\"files\": {\"www/index.html\": {\"text\": \"hello\\n\"}, \"httpd.conf\": "
        "{\"text\": \"ServerRoot /usr/lib/apache2\\nLoadModule mpm_prefork_module "
        "/usr/lib/apache2/modules/mod_mpm_prefork.so\\nLoadModule authz_core_module "
        "/usr/lib/apache2/modules/mod_authz_core.so\\nLoadModule mime_module "
        "/usr/lib/apache2/modules/mod_mime.so\\nTypesConfig /etc/mime.types\\nListen "
        "127.0.0.1:{port}\\nPidFile {run_dir}/httpd.pid\\nErrorLog /dev/stderr\\nLogLevel "
        "warn\\nDocumentRoot {run_dir}/www\\nServerName localhost\\nStartServers "
        "2\\nMinSpareServers 2\\nMaxSpareServers 2\\nMaxRequestWorkers 2\\nMutex "
        "file:{run_dir}\\n<Directory {run_dir}/www>\\n  Require all granted\\n</Directory>\\n\"}}, "
        "\"ready\": {\"http\": \"http://127.0.0.1:{port}/index.html\"}}, \"driver\": "
        "{\"kind\": \"http\", \"url\": \"http://127.0.0.1:{port}/index.html\", "
        "\"requests_per_round\": 100, \"concurrency\": 2}, \"rounds\": 6, \"warmup\": 2}",
        &(struct want){.verdict = "no-leak", .origin_fork = 2});
}

/* Debian's PostgreSQL: a postmaster with its background processes (each retitled) and a backend
 * forked for every connection, driven by psql; initdb runs under the agent too. No-leak, with
 * the background processes in roles of their own. */
static void test_tree_postgres_fork_per_connection(void **state)
{
    (void)state;
    static const char bin[] = "/usr/lib/postgresql/15/bin";
    char postgres[64];
    snprintf(postgres, sizeof(postgres), "%s/postgres", bin);
    if (access(postgres, X_OK) != 0 || access("/usr/bin/psql", X_OK) != 0 ||
        access("/usr/sbin/runuser", X_OK) != 0 || system("id postgres >/dev/null 2>&1") != 0 ||
        getuid() != 0) {
        skip();
    }
    assert_int_equal(chmod(g_tmp, 0755), 0); /* the postgres user reaches the run's folder */
    run_tree("postgres",
             "{\"name\": \"postgres\", \"target\": {\"argv\": [\"sh\", \"-c\", \"d={run_dir}/data; "
             "mkdir -p $d && chown postgres {run_dir} $d && runuser -u postgres -- "
             "/usr/lib/postgresql/15/bin/initdb -D $d >/dev/null && exec runuser -u postgres -- "
             "/usr/lib/postgresql/15/bin/postgres -D $d -p {port} -k {run_dir} -c "
             "listen_addresses=127.0.0.1\"], "
             "\"ready\": {\"tcp\": \"{port}\", \"timeout_s\": 60}}, \"driver\": {\"kind\": "
             "\"command\", \"argv\": [\"psql\", \"-h\", \"127.0.0.1\", \"-p\", \"{port}\", \"-U\", "
             "\"postgres\", \"-c\", \"select count(*) from pg_class\"]}, \"rounds\": 6, "
             "\"warmup\": 2}",
             &(struct want){.verdict = "no-leak", .origin_fork = 5, .origin_exec = 1});
}

/* `leakcheck exec` through env and sh -c: the program runs to its end with its output, and
 * exits as it did. */
static void test_tree_exec_command_through_wrappers(void **state)
{
    (void)state;
    char a_exec[] = "exec";
    char a_dd[] = "--";
    char a_env[] = "env";
    char a_x[] = "X=1";
    char a_sh[] = "sh";
    char a_c[] = "-c";
    char a_script[] = "echo start; sleep 0.3; echo end; exit 5";
    char *argv[] = {g_leakcheck, a_exec, a_dd, a_env, a_x, a_sh, a_c, a_script, NULL};
    struct it_result r;
    assert_int_equal(it_run(argv, NULL, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 5);
    assert_non_null(strstr(r.out, "start\nend\n"));
    free(r.out);
}

/* `leakcheck exec` of a program that closes every descriptor and daemonizes: nothing it started
 * is left once the program it ran has ended (it_run() checks, the daemon carrying this test's
 * mark). */
static void test_tree_exec_leaves_nothing(void **state)
{
    (void)state;
    char daemon[512];
    it_build_path(daemon, sizeof(daemon), "targets/daemon_srv");
    char script[1024];
    snprintf(script, sizeof(script), "%s --port 1 --fixed; sleep 0.5", daemon);
    char a_exec[] = "exec";
    char a_dd[] = "--";
    char a_sh[] = "sh";
    char a_c[] = "-c";
    char *argv[] = {g_leakcheck, a_exec, a_dd, a_sh, a_c, script, NULL};
    struct it_result r;
    assert_int_equal(it_run(argv, NULL, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 0);
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_prefork_leak_in_workers),
        cmocka_unit_test(test_tree_prefork_fixed),
        cmocka_unit_test(test_tree_daemon_leak),
        cmocka_unit_test(test_tree_daemon_fixed),
        cmocka_unit_test(test_tree_exec_chain_leak),
        cmocka_unit_test(test_tree_exec_chain_fixed),
        cmocka_unit_test(test_tree_untracked_process_is_inconclusive),
        cmocka_unit_test(test_tree_nginx_workers_leak),
        cmocka_unit_test(test_tree_nginx_bounded_cache),
        cmocka_unit_test(test_tree_apache_prefork_no_leak),
        cmocka_unit_test(test_tree_postgres_fork_per_connection),
        cmocka_unit_test(test_tree_exec_command_through_wrappers),
        cmocka_unit_test(test_tree_exec_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
