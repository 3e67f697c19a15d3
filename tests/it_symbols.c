/* SPDX-License-Identifier: MIT */
/* it_symbols.c - culprits of a stripped program: object+0xoffset when nothing names the frame
 * (relays still found from the recording), and the name back from a local debuginfod server
 * on 127.0.0.1 serving the program's separate debug file (elfutils' client, DEBUGINFOD_URLS).
 * The debuginfod test skips when Debian's `debuginfod` is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../reports/rpt_json.h"
#include "it_util.h"

static char g_dir[512];

/* Runs a shell command; returns its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* A stripped copy of the wrappers target and its debug file, and one leaking run of it. */
static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/leakcheck-it-symbols-%d", (int)getpid());
    const char *b = it_build_dir();
    if (sh("rm -rf %s && mkdir -p %s/dbg && cp %s/targets/wrappers %s/wrappers && "
           "objcopy --only-keep-debug %s/wrappers %s/dbg/wrappers.debug && strip %s/wrappers",
           g_dir, g_dir, b, g_dir, g_dir, g_dir, g_dir) != 0) {
        return -1;
    }
    return sh("%s/leakcheck -q run --rounds 6 --warmup 2 --requests-per-round 50 --request "
              "'put k{round}-{i}' --expect leak --name stripped --report-dir %s/r -- "
              "%s/wrappers two --leak >%s/run.txt 2>&1",
              b, g_dir, g_dir, g_dir) == 0
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    sh("rm -rf %s", g_dir);
    return 0;
}

/* Nothing names the culprit: object+0xoffset in every view, never "??" or "?"; the offset is
 * remember's call (addr2line on the unstripped program), the wrappers passed over as relays. */
static void test_stripped_culprit_is_object_offset(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof(path), "%s/r/summary.md", g_dir);
    char *md = it_read_file(path, NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "wrappers\\+0x")); /* "+" escaped for Markdown */
    assert_null(strstr(md, "??"));
    free(md);
    const char *views[] = {"junit.xml", "index.html"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/r/%s", g_dir, views[i]);
        char *v = it_read_file(path, NULL);
        assert_non_null(v);
        assert_non_null(strstr(v, "wrappers+0x"));
        assert_null(strstr(v, "??"));
        free(v);
    }
    snprintf(path, sizeof(path), "%s/r/report.json", g_dir);
    struct rpt_run *run = NULL;
    struct diag dg = {{0}};
    assert_int_equal(rpt_json_read(path, &run, &dg), 0);
    const struct rpt_site *top = &run->scenarios[0].sites[0];
    assert_true(top->suspect);
    assert_true(top->culprit_frame >= 2);
    assert_int_equal(top->frames[0].skip, RPT_SKIP_RELAY);
    assert_int_equal(top->frames[1].skip, RPT_SKIP_RELAY);
    assert_non_null(strstr(top->culprit_why, "relays"));
    assert_null(top->frames[top->culprit_frame].function);
    unsigned long long off = top->frames[top->culprit_frame].object_offset;
    rpt_run_free(run);
    assert_int_equal(sh("addr2line -f -e %s/targets/wrappers 0x%llx | head -1 | grep -qx remember",
                        it_build_dir(), off),
                     0);
}

/* With DEBUGINFOD_URLS pointing at a local debuginfod serving the debug file, the recording of
 * the stripped program is analysed again with names: remember (tests/targets/wrappers.c:N). */
static void test_debuginfod_names_the_stripped_culprit(void **state)
{
    (void)state;
    if (sh("command -v debuginfod >/dev/null") != 0) {
        skip();
    }
    int port = 20000 + (int)(getpid() % 20000);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char portarg[16];
        char db[600];
        snprintf(portarg, sizeof(portarg), "%d", port);
        snprintf(db, sizeof(db), "%s/db.sqlite", g_dir);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        char dbg[600];
        snprintf(dbg, sizeof(dbg), "%s/dbg", g_dir);
        execlp("debuginfod", "debuginfod", "-F", dbg, "-p", portarg, "-d", db, (char *)NULL);
        _exit(127);
    }
    /* wait until the server has scanned the folder and serves the debug file */
    int ok = 1;
    for (int i = 0; i < 100 && ok != 0; i++) {
        ok = sh("id=$(readelf -n %s/wrappers | awk '/Build ID/{print $3}'); curl -sf -o /dev/null "
                "http://127.0.0.1:%d/buildid/$id/debuginfo",
                g_dir, port);
        if (ok != 0) {
            usleep(100000);
        }
    }
    int rc = ok == 0 ? sh("DEBUGINFOD_URLS=http://127.0.0.1:%d DEBUGINFOD_CACHE_PATH=%s/cache "
                          "%s/leakcheck analyze --report-dir %s/r2 %s/r/stripped/snapshots.bin "
                          ">%s/analyze.txt 2>&1",
                          port, g_dir, it_build_dir(), g_dir, g_dir, g_dir)
                     : -1;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    assert_int_equal(ok, 0);
    assert_int_equal(rc, 0);
    char path[1024];
    snprintf(path, sizeof(path), "%s/analyze.txt", g_dir);
    char *out = it_read_file(path, NULL);
    assert_non_null(out);
    assert_non_null(strstr(out, "remember (tests/targets/wrappers.c:"));
    free(out);
}

/* Two sites of one line (record, from login and from logout) are told apart by their caller in
 * the terminal, Markdown, HTML and JUnit; --full-names shows the template arguments, the
 * default view elides them. */
static void test_sites_told_apart_in_every_view(void **state)
{
    (void)state;
    assert_int_equal(sh("%s/leakcheck run --report-dir %s/sess tests/cases/cxx-sessions-leak.json "
                        ">%s/sess.txt 2>&1",
                        it_build_dir(), g_dir, g_dir),
                     0);
    const char *files[] = {"sess.txt", "sess/summary.md", "sess/index.html", "sess/junit.xml"};
    for (size_t i = 0; i < 4; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", g_dir, files[i]);
        char *v = it_read_file(path, NULL);
        assert_non_null(v);
        assert_non_null(strstr(v, "\xe2\x86\x90 login"));
        assert_null(strstr(v, "??"));
        /* escaped as each format needs: "<" in the terminal, "&lt;" in XML and HTML */
        assert_non_null(strstr(v, i == 0 ? "Audit<" : i == 1 ? "Audit" : "Audit&lt;"));
        assert_null(strstr(v, "basic_string<char"));
        assert_null(strstr(v, "basic_string&lt;char"));
        free(v);
    }
    assert_int_equal(sh("%s/leakcheck analyze --full-names --report-dir %s/sess2 "
                        "%s/sess/cxx-sessions-leak/snapshots.bin | grep -q "
                        "'Audit<std::__cxx11::basic_string<char'",
                        it_build_dir(), g_dir, g_dir),
                     0);
}

/* A library that allocates for its caller, listed as a whole: from the unstripped program the
 * culprit is the caller (the lib-kvstore case); from a stripped copy, whose frames have no name,
 * the library's own named frame kv_put, never an unnamed frame. Without the list, kv_alloc is
 * found to relay (it also serves the store kv_open keeps) and kv_put is named. */
static void test_library_frame_for_a_stripped_caller(void **state)
{
    (void)state;
    const char *b = it_build_dir();
    assert_int_equal(sh("cp %s/targets/kvuser %s/kvuser && strip %s/kvuser", b, g_dir, g_dir), 0);
    const char *runs[] = {"--wrapper object:libkvstore.so", ""};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(sh("%s/leakcheck -q run --rounds 6 --warmup 2 --requests-per-round 50 "
                            "--request 'put k{round}-{i}' --expect leak %s --name kv "
                            "--report-dir %s/kv%zu -- %s/kvuser --leak >%s/kv%zu.txt 2>&1",
                            b, runs[i], g_dir, i, g_dir, g_dir, i),
                         0);
        char path[1024];
        snprintf(path, sizeof(path), "%s/kv%zu/report.json", g_dir, i);
        struct rpt_run *run = NULL;
        struct diag dg = {{0}};
        assert_int_equal(rpt_json_read(path, &run, &dg), 0);
        const struct rpt_site *top = &run->scenarios[0].sites[0];
        assert_true(top->suspect);
        assert_non_null(top->function);
        assert_string_equal(top->function, "kv_put");
        assert_non_null(top->culprit_why);
        rpt_run_free(run);
    }
}

/* Every wrapper program, stripped: the culprit is an object+0xoffset inside the function the
 * unstripped build names there (addr2line), each wrapper passed over as a relay. */
static void test_stripped_wrappers_every_mode(void **state)
{
    (void)state;
    static const char *const modes[][2] = {
        {"one", "index_add"}, {"macro", "session_open"}, {"pool", "session_keep"}};
    const char *b = it_build_dir();
    for (size_t m = 0; m < 3; m++) {
        assert_int_equal(sh("%s/leakcheck -q run --rounds 6 --warmup 2 --requests-per-round 50 "
                            "--request 'put k{round}-{i}' --expect leak --name %s "
                            "--report-dir %s/w-%s -- %s/wrappers %s --leak >/dev/null 2>&1",
                            b, modes[m][0], g_dir, modes[m][0], g_dir, modes[m][0]),
                         0);
        char path[1024];
        snprintf(path, sizeof(path), "%s/w-%s/report.json", g_dir, modes[m][0]);
        struct rpt_run *run = NULL;
        struct diag dg = {{0}};
        assert_int_equal(rpt_json_read(path, &run, &dg), 0);
        const struct rpt_site *top = &run->scenarios[0].sites[0];
        assert_true(top->suspect);
        assert_true(top->culprit_frame >= 1);
        assert_null(top->frames[top->culprit_frame].function);
        for (size_t f = 0; f < top->culprit_frame; f++) {
            assert_int_equal(top->frames[f].skip, RPT_SKIP_RELAY);
        }
        unsigned long long off = top->frames[top->culprit_frame].object_offset;
        rpt_run_free(run);
        assert_int_equal(sh("addr2line -f -e %s/targets/wrappers 0x%llx | head -1 | grep -qx %s", b,
                            off, modes[m][1]),
                         0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stripped_culprit_is_object_offset),
        cmocka_unit_test(test_stripped_wrappers_every_mode),
        cmocka_unit_test(test_debuginfod_names_the_stripped_culprit),
        cmocka_unit_test(test_sites_told_apart_in_every_view),
        cmocka_unit_test(test_library_frame_for_a_stripped_caller),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
