/* SPDX-License-Identifier: MIT */
/* it_security.c - security properties of leakcheck (issue #7), end to end.
 *
 * - scenario values reach the target's and the command driver's argv verbatim, never a shell;
 * - the control channel is an inherited, unnamed socket, and its variable is gone before main();
 * - a set-gid program is run untracked (the agent never attaches) and the run says so, exit 3;
 * - report files stay inside the report directory whatever the scenario names are;
 * - no output runs script from data: a scenario named "</script><script>..." appears escaped
 *   in index.html, the SVG charts, JUnit XML, Markdown and the history dashboard.
 * Run from the repository root by tests/run-all.sh; targets come from $B.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "../reports/rpt_fixture.h"
#include "../reports/rpt_history.h"
#include "../reports/rpt_html.h"
#include "../reports/rpt_json.h"
#include "../reports/rpt_testenv.h"
#include "../util/buf.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../reports/rpt_esc.h"
#include "../reports/rpt_write.h"
#include "../reports/rpt_layout.h"
#include "it_util.h"

#define HOSTILE_SCRIPT "</script><script>alert(1)</script>"

/* Shell metacharacters that would create files in the current folder if a shell saw them. */
static const char *const shell_args[] = {
    "; touch PWNED1",
    "$(touch PWNED2)",
    "`touch PWNED3`",
    "| touch PWNED4",
    "&& touch PWNED5",
    "'\"quoted\"'",
    "*",
    "a\nb",
    "> PWNED6",
    NULL,
};

/* Absolute path of a build output into buf. */
static char *abs_build(char *buf, size_t len, const char *rel)
{
    char tmp[PATH_MAX];
    it_build_path(tmp, sizeof(tmp), rel);
    if (!realpath(tmp, buf)) {
        snprintf(buf, len, "%s", tmp);
    }
    return buf;
}

/* Writes a JSON string literal of `s` (escaping quotes, backslashes, control bytes). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Checks that `out` holds exactly shell_args, each followed by a NUL byte. */
static void check_verbatim(const char *out_path)
{
    size_t len = 0;
    char *got = it_read_file(out_path, &len);
    assert_non_null(got);
    size_t off = 0;
    for (int i = 0; shell_args[i]; i++) {
        size_t n = strlen(shell_args[i]);
        assert_true(off + n < len);
        if (memcmp(got + off, shell_args[i], n + 1) != 0) {
            print_error("argument %d changed on its way: '%s'\n", i, got + off);
            fail();
        }
        off += n + 1;
    }
    free(got);
}

/* No PWNED* file appeared in `dir`. */
static void check_no_pwned(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "PWNED", 5) == 0) {
            print_error("a shell ran: %s/%s exists\n", dir, e->d_name);
            fail();
        }
    }
    closedir(d);
}

/* Scenario values with shell metacharacters reach argv verbatim: the target's argv, and the
 * command driver's argv; nothing runs a shell (no PWNED file appears in the working folder). */
static void test_security_argv_never_a_shell(void **state)
{
    (void)state;
    char dir[PATH_MAX], scn[PATH_MAX], out1[PATH_MAX], out2[PATH_MAX], echo[PATH_MAX], lc[PATH_MAX],
        cwd[PATH_MAX];
    env_tmpdir(dir, "sec-argv");
    abs_build(echo, sizeof(echo), "targets/argv_echo");
    abs_build(lc, sizeof(lc), "leakcheck");
    snprintf(scn, sizeof(scn), "%s/s.json", dir);
    snprintf(out1, sizeof(out1), "%s/target.out", dir);
    snprintf(out2, sizeof(out2), "%s/command.out", dir);
    FILE *f = fopen(scn, "w");
    assert_non_null(f);
    fprintf(f, "{\"name\": \"argv\", \"target\": {\"argv\": [");
    json_str(f, echo);
    fputs(", ", f);
    json_str(f, out1);
    for (int i = 0; shell_args[i]; i++) {
        fputs(", ", f);
        json_str(f, shell_args[i]);
    }
    fputs("]}, \"driver\": {\"kind\": \"command\", \"argv\": [", f);
    json_str(f, echo);
    fputs(", ", f);
    json_str(f, out2);
    for (int i = 0; shell_args[i]; i++) {
        fputs(", ", f);
        json_str(f, shell_args[i]);
    }
    fputs("]}, \"rounds\": 2, \"warmup\": 0, \"expect\": \"any\"}\n", f);
    fclose(f);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    char rd[PATH_MAX];
    snprintf(rd, sizeof(rd), "%s/reports", dir);
    const char *argv[] = {lc, "run", "--report-dir", rd, scn, NULL};
    struct it_result r;
    int rc = it_run((char *const *)(uintptr_t)argv, NULL, NULL, 60, &r);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    // The run took place (2 rounds are too few for a verdict: 1, inconclusive, is fine).
    if (r.exit_code != 0 && r.exit_code != 1) {
        print_error("leakcheck run: exit %d\n%s\n", r.exit_code, r.out);
        fail();
    }
    free(r.out);
    check_verbatim(out1);
    check_verbatim(out2);
    check_no_pwned(dir);
    env_rmrf(dir);
}

/* The agent's channel is a socket with no file-system path (the harness listens in the abstract
 * namespace, and only a descendant with the run's key may join: chan_test), and no inherited
 * channel descriptor is announced to the program (LEAKCHECK_FD is never set). */
static void test_security_channel_inherited_unnamed(void **state)
{
    (void)state;
    char dir[PATH_MAX], out[PATH_MAX], echo[PATH_MAX], lc[PATH_MAX], rd[PATH_MAX];
    env_tmpdir(dir, "sec-chan");
    abs_build(echo, sizeof(echo), "targets/argv_echo");
    abs_build(lc, sizeof(lc), "leakcheck");
    snprintf(out, sizeof(out), "%s/out", dir);
    snprintf(rd, sizeof(rd), "%s/reports", dir);
    const char *argv[] = {lc,
                          "run",
                          "--rounds",
                          "2",
                          "--warmup",
                          "0",
                          "--requests-per-round",
                          "1",
                          "--request",
                          "x",
                          "--report-dir",
                          rd,
                          "--",
                          echo,
                          out,
                          NULL};
    struct it_result r;
    assert_int_equal(it_run((char *const *)(uintptr_t)argv, NULL, NULL, 60, &r), 0);
    free(r.out);
    char *got = it_read_file(out, NULL);
    assert_non_null(got);
    const char *text = got + 1; /* after the empty argument list's newline */
    assert_non_null(strstr(text, "agent=1\n"));
    assert_non_null(strstr(text, "fd_env=(unset)\n"));
    assert_non_null(strstr(text, "sock ")); /* the channel */
    assert_null(strstr(text, "named=1"));   /* nothing another process could open */
    free(got);
    env_rmrf(dir);
}

/* A set-gid program: the dynamic loader and the agent both refuse to track it; the run reports
 * "agent not loaded" and exits 3. Needs a group other than our real one and a file system
 * mounted without nosuid; skipped (with the reason) otherwise. */
static void test_security_setgid_not_attached(void **state)
{
    (void)state;
    char dir[PATH_MAX], out[PATH_MAX], echo[PATH_MAX], copy[PATH_MAX], lc[PATH_MAX], rd[PATH_MAX],
        scn[PATH_MAX];
    env_tmpdir(dir, "sec-sgid");
    abs_build(echo, sizeof(echo), "targets/argv_echo");
    abs_build(lc, sizeof(lc), "leakcheck");
    snprintf(out, sizeof(out), "%s/out", dir);
    snprintf(copy, sizeof(copy), "%s/sgid_echo", dir);
    snprintf(rd, sizeof(rd), "%s/reports", dir);
    snprintf(scn, sizeof(scn), "%s/s.json", dir);
    // Another group: nogroup as root, else a supplementary group of ours.
    gid_t other = (gid_t)-1;
    if (getuid() == 0) {
        struct group *g = getgrnam("nogroup");
        other = g ? g->gr_gid : 65534;
    } else {
        gid_t groups[64];
        int n = getgroups(64, groups);
        for (int i = 0; i < n; i++) {
            if (groups[i] != getgid()) {
                other = groups[i];
            }
        }
    }
    struct statvfs vfs;
    if (other == (gid_t)-1 || statvfs(dir, &vfs) != 0 || (vfs.f_flag & ST_NOSUID)) {
        print_message("skipped: %s\n", other == (gid_t)-1
                                           ? "no group other than our real one to own the copy"
                                           : "the temporary folder is mounted nosuid");
        env_rmrf(dir);
        skip();
    }
    char *data = NULL;
    size_t len = 0;
    data = it_read_file(echo, &len);
    assert_non_null(data);
    int fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    free(data);
    if (chown(copy, (uid_t)-1, other) != 0 || chmod(copy, 02755) != 0) {
        print_message("skipped: cannot make %s set-gid to group %u: %s\n", copy, (unsigned)other,
                      strerror(errno));
        env_rmrf(dir);
        skip();
    }
    FILE *f = fopen(scn, "w");
    assert_non_null(f);
    fputs("{\"name\": \"sgid\", \"target\": {\"argv\": [", f);
    json_str(f, copy);
    fputs(", ", f);
    json_str(f, out);
    fputs("], \"ready\": {\"stdout\": \"^never$\", \"timeout_s\": 2}}, \"driver\": {\"kind\": "
          "\"stdio\", \"requests\": [\"x\"], \"requests_per_round\": 1}, \"rounds\": 2, "
          "\"warmup\": 0}\n",
          f);
    fclose(f);
    const char *argv[] = {lc, "run", "--report-dir", rd, scn, NULL};
    struct it_result r;
    assert_int_equal(it_run((char *const *)(uintptr_t)argv, NULL, NULL, 60, &r), 0);
    if (r.exit_code != 3 || !strstr(r.out, "agent not loaded")) {
        print_error("exit %d, output:\n%s\n", r.exit_code, r.out);
        fail();
    }
    free(r.out);
    char *got = it_read_file(out, NULL);
    assert_non_null(got); /* the program did run */
    assert_non_null(strstr(got, "secure=1\n"));
    assert_non_null(strstr(got, "agent=0\n"));
    free(got);
    env_rmrf(dir);
}

/* Counts regular files under `dir` and fails on any name starting with a dot or any entry
 * deeper than one sub-folder. */
static int walk_reports(const char *dir, int depth)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (e->d_name[0] == '.' || strlen(e->d_name) > 80) {
            print_error("unsafe report file name '%s' in %s\n", e->d_name, dir);
            fail();
        }
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR) {
            assert_true(depth == 0);
            n += walk_reports(p, depth + 1);
        } else {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* Hostile scenario names (.., absolute paths, leading dots, a NUL, 300 characters, empty)
 * never make a report file outside the report directory. */
static void test_security_report_names_stay_inside(void **state)
{
    (void)state;
    char root[PATH_MAX], dir[PATH_MAX];
    struct diag dg = {{0}};
    env_tmpdir(root, "sec-names");
    snprintf(dir, sizeof(dir), "%s/reports", root);
    char long_name[301];
    memset(long_name, 'a', 300);
    memcpy(long_name, "../", 3);
    long_name[300] = '\0';
    const char *names[] = {"../../escape", "/etc/passwd", "..",          ".",
                           ".hidden",      "a/../../b",   "..\\..\\win", "",
                           long_name,      "nul\0after",  HOSTILE_SCRIPT};
    struct rpt_run *run = fix_run();
    size_t n_names = sizeof(names) / sizeof(names[0]);
    struct rpt_scenario *more =
        realloc(run->scenarios, (run->n_scenarios + n_names) * sizeof(*run->scenarios));
    assert_non_null(more);
    run->scenarios = more;
    for (size_t i = 0; i < n_names; i++) {
        struct rpt_scenario *s = &run->scenarios[run->n_scenarios++];
        memset(s, 0, sizeof(*s));
        fix_scenario(s, names[i], RPT_VERDICT_NO_LEAK, RPT_EXPECT_NO_LEAK, true, "fine");
    }
    assert_int_equal(rpt_write_all(run, dir, &dg), 0);
    rpt_run_free(run);
    // Only "reports" in the root, and inside it only safe names, at most one folder deep.
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            assert_string_equal(e->d_name, "reports");
            entries++;
        }
    }
    closedir(d);
    assert_int_equal(entries, 1);
    assert_true(walk_reports(dir, 0) > 4 * (int)n_names);
    // A report read from JSON with "\u0000" in a name: the name ends there, nothing more.
    const char *json = "{\"format\": \"leakcheck-report/1\", \"scenarios\": [{\"name\": "
                       "\"../x\\u0000/../../y\", \"verdict\": \"no-leak\", \"expect\": "
                       "\"no-leak\", \"ok\": true}]}";
    struct rpt_run *r2 = NULL;
    if (rpt_json_parse(json, "nul.json", &r2, &dg) == 0) {
        char sub[96];
        rpt_layout_dirname(r2, 0, sub, sizeof(sub));
        assert_null(strchr(sub, '/'));
        assert_true(sub[0] != '.');
        rpt_run_free(r2);
    }
    env_rmrf(root);
}

/* Fails when `text` holds "<script" in any letter case. */
static void check_no_script(const char *what, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (strncasecmp(p, "<script", 7) == 0) {
            print_error("%s holds a script element: ...%.60s\n", what, p);
            fail();
        }
    }
}

/* A scenario named "</script><script>alert(1)</script>" (and a verdict and message like it in
 * the history) appears only escaped in every output; the JSON keeps the name exactly. */
static void test_security_no_script_from_data(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX * 2];
    struct diag dg = {{0}};
    env_tmpdir(dir, "sec-script");
    struct rpt_run *run = fix_run();
    free(run->scenarios[0].name);
    run->scenarios[0].name = fix_strdup(HOSTILE_SCRIPT);
    free(run->commit_message);
    run->commit_message = fix_strdup("<SCRIPT src=//x></SCRIPT>");
    assert_int_equal(rpt_write_all(run, dir, &dg), 0);
    const char *files[] = {"index.html", "junit.xml", "summary.md", "report.json"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        char *text = it_read_file(path, NULL);
        assert_non_null(text);
        if (i < 3) {
            check_no_script(files[i], text);
        }
        free(text);
    }
    char sub[96];
    rpt_layout_dirname(run, 0, sub, sizeof(sub));
    snprintf(path, sizeof(path), "%s/%s/heap.svg", dir, sub);
    char *svg = it_read_file(path, NULL);
    assert_non_null(svg);
    check_no_script("heap.svg", svg);
    free(svg);
    // JSON keeps the name as it was.
    struct rpt_run *back = NULL;
    snprintf(path, sizeof(path), "%s/report.json", dir);
    assert_int_equal(rpt_json_read(path, &back, &dg), 0);
    assert_string_equal(back->scenarios[0].name, HOSTILE_SCRIPT);
    rpt_run_free(back);
    // History dashboard: hostile scenario, message, and a hostile verdict read from the file.
    struct rpt_history h = {0};
    assert_int_equal(rpt_history_add(&h, run, "0123456789abcdef", NULL, NULL, 0, &dg), 0);
    char line[] = "{\"commit\":\"fedcba9876543210\",\"scenario\":\"</script><script>alert(1)"
                  "</script>\",\"verdict\":\"<script>alert(2)</script>\",\"ok\":false,"
                  "\"message\":\"<script>alert(3)</script>\",\"live_bytes\":[1,2,3]}\n";
    assert_int_equal(rpt_history_parse(line, strlen(line), "h.jsonl", &h, &dg), 0);
    struct buf b;
    buf_init(&b);
    rpt_html_dashboard(&h, &b);
    assert_int_equal(b.err, 0);
    check_no_script("the history dashboard", b.data);
    assert_non_null(strstr(b.data, "&lt;/script&gt;"));
    buf_cleanup(&b);
    rpt_history_cleanup(&h);
    rpt_run_free(run);
    env_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_security_argv_never_a_shell),
        cmocka_unit_test(test_security_channel_inherited_unnamed),
        cmocka_unit_test(test_security_setgid_not_attached),
        cmocka_unit_test(test_security_report_names_stay_inside),
        cmocka_unit_test(test_security_no_script_from_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
