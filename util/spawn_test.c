/* SPDX-License-Identifier: MIT */
/* spawn_test.c - unit tests of spawning: pipes, the kept descriptor, the folder, the environment,
 * and spawn_run's output, stderr tail, cap, deadline and failures. Children are /bin/sh and
 * /bin/cat. */
#include "spawn.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"

/* Runs `script` with /bin/sh -c. */
static int run_sh(const char *script, char *const *env_add, bool want_out, size_t cap,
                  int timeout_ms, struct spawn_result *res, struct diag *d)
{
    char sh[] = "/bin/sh", c[] = "-c";
    char *argv[] = {sh, c, (char *)(uintptr_t)script, NULL};
    return spawn_run(argv, env_add, want_out, cap, timeout_ms, res, d);
}

/* Reads from fd until EOF into buf (NUL-terminated). Returns the byte count. */
static size_t read_all(int fd, char *buf, size_t len)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, len - 1 - n);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

static void test_spawn_run_collects_output_and_status(void **state)
{
    (void)state;
    struct spawn_result res;
    struct diag d = {{0}};
    assert_int_equal(run_sh("echo out; echo err >&2; exit 3", NULL, true, 1024, 5000, &res, &d), 0);
    assert_string_equal(res.out, "out\n");
    assert_int_equal(res.out_len, 4);
    assert_string_equal(res.err, "err\n");
    assert_true(WIFEXITED(res.status));
    assert_int_equal(WEXITSTATUS(res.status), 3);
    free(res.out);
    /* Without want_out stdout goes nowhere; an empty output is still a string when asked. */
    assert_int_equal(run_sh("echo out", NULL, false, 0, 5000, &res, &d), 0);
    assert_null(res.out);
    assert_int_equal(run_sh("true", NULL, true, 16, 5000, &res, &d), 0);
    assert_non_null(res.out);
    assert_string_equal(res.out, "");
    free(res.out);
}

static void test_spawn_run_env_add_replaces(void **state)
{
    (void)state;
    char a[] = "SPAWN_TEST_A=new", b[] = "SPAWN_TEST_B=b";
    char *env_add[] = {a, b, NULL};
    setenv("SPAWN_TEST_A", "old", 1);
    struct spawn_result res;
    struct diag d = {{0}};
    assert_int_equal(run_sh("echo $SPAWN_TEST_A-$SPAWN_TEST_B; env | grep -c SPAWN_TEST_A=",
                            env_add, true, 1024, 5000, &res, &d),
                     0);
    assert_string_equal(res.out, "new-b\n1\n");
    free(res.out);
    char **env = spawn_env_merge(env_add);
    assert_non_null(env);
    size_t n_a = 0;
    for (char **e = env; *e; e++) {
        n_a += strncmp(*e, "SPAWN_TEST_A=", 13) == 0;
    }
    assert_int_equal(n_a, 1);
    free(env);
    unsetenv("SPAWN_TEST_A");
}

static void test_spawn_run_keeps_stderr_tail(void **state)
{
    (void)state;
    struct spawn_result res;
    struct diag d = {{0}};
    /* 3000 'x' then "END": only the last 2047 bytes are kept. */
    assert_int_equal(run_sh("i=0; while [ $i -lt 300 ]; do printf xxxxxxxxxx >&2; i=$((i+1)); "
                            "done; printf END >&2",
                            NULL, false, 0, 10000, &res, &d),
                     0);
    assert_int_equal(strlen(res.err), sizeof(res.err) - 1);
    assert_string_equal(res.err + strlen(res.err) - 4, "xEND");
}

static void test_spawn_run_cap_timeout_and_missing(void **state)
{
    (void)state;
    struct spawn_result res;
    struct diag d = {{0}};
    assert_int_equal(run_sh("echo 0123456789", NULL, true, 8, 5000, &res, &d), -EFBIG);
    assert_non_null(strstr(d.msg, "printed more than 8 bytes"));
    assert_null(res.out);
    int64_t t0 = clock_ms();
    assert_int_equal(run_sh("sleep 10", NULL, false, 0, 200, &res, &d), -ETIMEDOUT);
    assert_true(clock_ms() - t0 < 5000); /* killed, not waited for */
    assert_non_null(strstr(d.msg, "did not finish within 200 ms"));
    char prog[] = "no-such-program-of-spawn-test";
    char *argv[] = {prog, NULL};
    int rc = spawn_run(argv, NULL, false, 0, 1000, &res, &d);
    if (rc == 0) {
        /* Under valgrind posix_spawn is a fork and an exec: the failure is exit code 127. */
        assert_int_equal(WEXITSTATUS(res.status), 127);
        return;
    }
    assert_int_equal(rc, -ENOENT);
    assert_non_null(strstr(d.msg, "can't run 'no-such-program-of-spawn-test'"));
}

static void test_spawn_start_pipes_both_ways(void **state)
{
    (void)state;
    char cat[] = "/bin/cat";
    char *argv[] = {cat, NULL};
    struct spawn_opts o = {.argv = argv, .io = {SPAWN_PIPE, SPAWN_PIPE, SPAWN_NULL}};
    struct spawn_child c;
    struct diag d = {{0}};
    assert_int_equal(spawn_start(&o, &c, &d), 0);
    assert_true(c.pid > 0);
    assert_true(c.fd[0] >= 0 && c.fd[1] >= 0);
    assert_int_equal(c.fd[2], -1);
    assert_int_equal(write(c.fd[0], "ping\n", 5), 5);
    close(c.fd[0]);
    c.fd[0] = -1;
    char buf[64];
    assert_int_equal(read_all(c.fd[1], buf, sizeof(buf)), 5);
    assert_string_equal(buf, "ping\n");
    int status;
    assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    spawn_close(&c);
    assert_int_equal(c.fd[1], -1);
}

static void test_spawn_start_keep_fd_and_cwd(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    char script[128];
    snprintf(script, sizeof(script), "pwd >&%d", sv[1]);
    char sh[] = "/bin/sh", dash_c[] = "-c";
    char *argv[] = {sh, dash_c, script, NULL};
    struct spawn_opts o = {.argv = argv, .cwd = "/", .keep_fd = sv[1]};
    struct spawn_child c;
    struct diag d = {{0}};
    assert_int_equal(spawn_start(&o, &c, &d), 0);
    close(sv[1]);
    char buf[64];
    read_all(sv[0], buf, sizeof(buf));
    assert_string_equal(buf, "/\n");
    int status;
    assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    close(sv[0]);
    /* Without keep_fd the close-on-exec descriptor stays closed in the child. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    snprintf(script, sizeof(script), "echo x >&%d", sv[1]);
    o.keep_fd = 0;
    o.io[2] = SPAWN_NULL;
    assert_int_equal(spawn_start(&o, &c, &d), 0);
    close(sv[1]);
    assert_int_equal(read_all(sv[0], buf, sizeof(buf)), 0);
    assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
    assert_int_not_equal(WEXITSTATUS(status), 0);
    close(sv[0]);
}

/* A child started with new_session leads its own session and process group (read from its
 * /proc/PID/stat); one started without it does not. */
static void test_spawn_start_new_session(void **state)
{
    (void)state;
    char sh[] = "/bin/sh", dash_c[] = "-c";
    /* Fields 6 and 5 of /proc/self/stat (after the command name): session and process group. */
    char script[] = "read -r pid comm st ppid pgrp sid rest </proc/$$/stat; "
                    "[ \"$sid\" = \"$$\" ] && [ \"$pgrp\" = \"$$\" ]";
    char *argv[] = {sh, dash_c, script, NULL};
    for (int own = 0; own < 2; own++) {
        struct spawn_opts o = {.argv = argv, .new_session = own != 0};
        struct spawn_child c;
        struct diag d = {{0}};
        assert_int_equal(spawn_start(&o, &c, &d), 0);
        int status;
        assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status) == 0, own != 0);
        spawn_close(&c);
    }
}

static void test_spawn_start_failure_messages(void **state)
{
    (void)state;
    char sh[] = "/bin/sh";
    char *argv[] = {sh, NULL};
    struct spawn_opts o = {.argv = argv,
                           .cwd = "/no/such/folder/of/spawn/test",
                           .verb = "start",
                           .cwd_hint = " (does target.cwd exist?)"};
    struct spawn_child c = {.pid = 0, .fd = {7, 7, 7}};
    struct diag d = {{0}};
    int rc = spawn_start(&o, &c, &d);
    if (rc == 0) {
        /* Under valgrind posix_spawn is a fork and an exec: the failure is exit code 127. */
        int status;
        assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
        assert_int_equal(WEXITSTATUS(status), 127);
        return;
    }
    assert_int_equal(rc, -ENOENT);
    assert_string_equal(
        d.msg, "can't start '/bin/sh': No such file or directory (does target.cwd exist?)");
    assert_int_equal(c.fd[0], 7); /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_run_collects_output_and_status),
        cmocka_unit_test(test_spawn_run_env_add_replaces),
        cmocka_unit_test(test_spawn_run_keeps_stderr_tail),
        cmocka_unit_test(test_spawn_run_cap_timeout_and_missing),
        cmocka_unit_test(test_spawn_start_pipes_both_ways),
        cmocka_unit_test(test_spawn_start_keep_fd_and_cwd),
        cmocka_unit_test(test_spawn_start_new_session),
        cmocka_unit_test(test_spawn_start_failure_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
