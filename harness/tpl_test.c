/* SPDX-License-Identifier: MIT */
/* tpl_test.c - unit tests of the target's placeholders: what each form takes as a placeholder,
 * the messages for unknown ones (with the line in a file), named ports, file names that would
 * leave the run's folder, expansion of every kind, and rendering into a folder (nested, mode,
 * an earlier file replaced, never through a symbolic link). */
#include "tpl.h"

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

static char var_workers[] = "workers=4";
static char var_name[] = "name=srv";
static char *vars[] = {var_workers, var_name, NULL};
static char f_conf[] = "conf/server.conf";
static char f_run[] = "run.sh";
static char t_conf[] = "listen {port}; admin {port:admin}; workers {workers}; "
                       "include {file:run.sh}; pid {run_dir}/pid; http { x }; {\"a\": 1}; ${HOME}";
static char t_run[] = "#!/bin/sh\nexec true\n";
static struct tpl_file files[] = {{f_conf, t_conf, false}, {f_run, t_run, true}};
static const struct tpl_names names = {.vars = vars, .files = files, .n_files = 2};

/* tpl_check() of `s`; returns the rc, the message in `msg`. */
static int check(const char *s, enum tpl_form form, struct tpl_uses *u, char *msg)
{
    struct diag d = {{0}};
    int rc = tpl_check(s, form, &names, "s.json: target.argv[1]", u, &d);
    strcpy(msg, d.msg);
    return rc;
}

static void test_tpl_check_strict(void **state)
{
    (void)state;
    struct tpl_uses u = {0};
    char msg[DIAG_MAX];
    assert_int_equal(check("--port={port} --admin={port:admin} {file:run.sh} {workers} "
                           "{run_dir} {round} {i} {{lit}}",
                           TPL_STRICT, &u, msg),
                     0);
    assert_true(u.port);
    assert_int_equal(u.n_port_names, 1);
    assert_string_equal(u.port_names[0], "admin");
    assert_int_equal(check("{port:admin} {port:metrics}", TPL_STRICT, &u, msg), 0);
    assert_int_equal(u.n_port_names, 2); /* admin once, metrics new */
    tpl_uses_cleanup(&u);
    assert_int_equal(check("{prot}", TPL_STRICT, &u, msg), -EINVAL);
    assert_string_equal(msg, "s.json: target.argv[1]: unknown placeholder '{prot}' (known: "
                             "{port}, {port:NAME}, {run_dir}, {file:NAME}, {round}, {i}, and "
                             "target.vars: {workers}, {name}; write '{{' for a literal brace)");
    assert_int_equal(check("{file:nope.conf}", TPL_STRICT, &u, msg), -EINVAL);
    assert_non_null(strstr(msg, "'{file:nope.conf}' names no file of target.files"));
    assert_int_equal(check("{port:a b}", TPL_STRICT, &u, msg), -EINVAL);
    assert_non_null(strstr(msg, "bad port name in '{port:a b}'"));
    assert_int_equal(check("x {port", TPL_STRICT, &u, msg), -EINVAL);
    assert_non_null(strstr(msg, "unclosed '{'"));
    assert_int_equal(check("{workers:x}", TPL_STRICT, &u, msg), -EINVAL);
    tpl_uses_cleanup(&u);
}

static void test_tpl_check_text(void **state)
{
    (void)state;
    struct tpl_uses u = {0};
    char msg[DIAG_MAX];
    assert_int_equal(check(t_conf, TPL_TEXT, &u, msg), 0);
    assert_true(u.port);
    /* {round} means nothing in a file; the line of the culprit is named. */
    assert_int_equal(check("a {\n  b {round}\n}\n", TPL_TEXT, &u, msg), -EINVAL);
    assert_non_null(strstr(msg, "s.json: target.argv[1]: line 2: unknown placeholder '{round}'"));
    assert_null(strstr(msg, "{i}"));
    /* Braces that are not {NAME} or {NAME:ARG} are text, even unclosed ones. */
    assert_int_equal(check("server { listen 80; } {\"k\": [1]} ${X} { {}", TPL_TEXT, &u, msg), 0);
    assert_int_equal(check("{{literal}", TPL_TEXT, &u, msg), 0);
    tpl_uses_cleanup(&u);
}

static void test_tpl_file_names(void **state)
{
    (void)state;
    struct diag d = {{0}};
    assert_int_equal(tpl_check_file_name("a.conf", "w", &d), 0);
    assert_int_equal(tpl_check_file_name("conf/d/a.conf", "w", &d), 0);
    assert_int_equal(tpl_check_file_name(".hidden", "w", &d), 0);
    assert_int_equal(tpl_check_file_name("/etc/passwd", "w", &d), -EINVAL);
    assert_non_null(strstr(d.msg, "w: '/etc/passwd' is an absolute path"));
    assert_int_equal(tpl_check_file_name("../x", "w", &d), -EINVAL);
    assert_non_null(strstr(d.msg, "'../x' would leave the run's folder"));
    assert_int_equal(tpl_check_file_name("a/../../x", "w", &d), -EINVAL);
    assert_int_equal(tpl_check_file_name("a/./x", "w", &d), -EINVAL);
    assert_int_equal(tpl_check_file_name("a//x", "w", &d), -EINVAL);
    assert_int_equal(tpl_check_file_name("a/", "w", &d), -EINVAL);
    assert_int_equal(tpl_check_file_name("", "w", &d), -EINVAL);
    assert_int_equal(tpl_check_file_name("a\nb", "w", &d), -EINVAL);
}

static void test_tpl_expand_every_kind(void **state)
{
    (void)state;
    char admin[] = "admin";
    char *port_names[] = {admin};
    uint16_t ports[] = {9001};
    struct tpl_ctx c = {.names = &names,
                        .port = 8080,
                        .port_names = port_names,
                        .ports = ports,
                        .n_ports = 1,
                        .run_dir = "/r"};
    char *s = tpl_expand(t_conf, TPL_TEXT, &c);
    assert_string_equal(s, "listen 8080; admin 9001; workers 4; include /r/run.sh; pid /r/pid; "
                           "http { x }; {\"a\": 1}; ${HOME}");
    free(s);
    s = tpl_expand("-p{port} {{x}} {round}/{i} {name} {file:conf/server.conf}", TPL_STRICT, &c);
    assert_string_equal(s, "-p8080 {x} 0/0 srv /r/conf/server.conf");
    free(s);
    s = tpl_expand("{{x}", TPL_TEXT, &c);
    assert_string_equal(s, "{x}");
    free(s);
    s = tpl_expand("", TPL_TEXT, &c);
    assert_string_equal(s, "");
    free(s);
}

/* A fresh folder under the build folder or /tmp. */
static void temp_dir(char *dir)
{
    snprintf(dir, PATH_MAX, "/tmp/tpl_test.%d", (int)getpid());
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mkdir(dir, 0755), 0);
}

static void test_tpl_render_files(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    temp_dir(dir);
    struct tpl_ctx c = {.names = &names, .port = 7, .run_dir = dir};
    struct diag d = {{0}};
    static char t_small[] = "port {port} in {run_dir}\n";
    struct tpl_file f = {f_conf, t_small, false};
    assert_int_equal(tpl_render(&c, &f, &d), 0);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/conf/server.conf", dir);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char line[PATH_MAX + 64];
    assert_non_null(fgets(line, sizeof(line), in));
    fclose(in);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "port 7 in %s\n", dir);
    assert_string_equal(line, want);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(tpl_render(&c, &files[1], &d), 0);
    snprintf(path, sizeof(path), "%s/run.sh", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    /* An earlier run's file is replaced; a symbolic link in its place is refused. */
    assert_int_equal(tpl_render(&c, &files[1], &d), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("/tmp/tpl_test_never_written", path), 0);
    assert_int_equal(tpl_render(&c, &files[1], &d), -ELOOP);
    assert_non_null(strstr(d.msg, "can't write target.files[\"run.sh\"] to"));
    assert_int_equal(access("/tmp/tpl_test_never_written", F_OK), -1);
    /* Never through a symbolic link on the way. */
    snprintf(path, sizeof(path), "%s/out", dir);
    assert_int_equal(symlink("/tmp", path), 0);
    static char f_out[] = "out/x.conf";
    struct tpl_file g = {f_out, t_small, false};
    assert_true(tpl_render(&c, &g, &d) < 0);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tpl_check_strict), cmocka_unit_test(test_tpl_check_text),
        cmocka_unit_test(test_tpl_file_names),   cmocka_unit_test(test_tpl_expand_every_kind),
        cmocka_unit_test(test_tpl_render_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
