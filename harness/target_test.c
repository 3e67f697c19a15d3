/* SPDX-License-Identifier: MIT */
/* target_test.c - unit tests of the target's life with /bin/sh scripts as targets: start with
 * pipes, log and channel, the accessors, readiness on stdout, stop, how it ended, the log tail,
 * and the failures (missing program, target gone before ready). No agent is preloaded. */
#include "target.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Starts `script` under /bin/sh with stdin and stdout piped and stderr in `log` (may be NULL). */
static struct target *start_sh(const char *script, bool channel, const char *log)
{
    char sh[] = "/bin/sh", c[] = "-c";
    char *argv[] = {sh, c, (char *)(uintptr_t)script, NULL};
    struct target_opts o = {
        .argv = argv, .pipe_stdin = true, .pipe_stdout = true, .channel = channel, .log_path = log};
    struct target *t = NULL;
    struct diag d = {{0}};
    if (target_start(&o, &t, &d) != 0) {
        fail_msg("target_start: %s", d.msg);
    }
    return t;
}

/* Reads one line (without its newline) from the target's stdout. */
static void read_line(struct target *t, char *buf, size_t len)
{
    size_t n = 0;
    char ch;
    while (n + 1 < len && read(target_stdout_fd(t), &ch, 1) == 1 && ch != '\n') {
        buf[n++] = ch;
    }
    buf[n] = '\0';
}

static void test_target_start_accessors_and_stop(void **state)
{
    (void)state;
    struct target *t =
        start_sh("read line; echo \"got $line fd=$LEAKCHECK_FD\"; exit 3", true, NULL);
    assert_true(target_pid(t) > 0);
    assert_true(target_stdin_fd(t) >= 0);
    assert_true(target_stdout_fd(t) >= 0);
    assert_true(target_chan_fd(t) >= 0);
    assert_null(target_log_path(t));
    assert_false(target_exited(t));
    assert_int_equal(write(target_stdin_fd(t), "hi\n", 3), 3);
    char line[128];
    read_line(t, line, sizeof(line));
    assert_int_equal(strncmp(line, "got hi fd=", 10), 0); /* the channel's number is inherited */
    assert_true(atoi(line + 10) > 2);
    assert_int_equal(target_stop(t, 5000), 0);
    assert_true(target_exited(t));
    assert_false(target_alive(t));
    assert_int_equal(target_stdin_fd(t), -1); /* the stop closed it */
    assert_int_equal(target_exit_code(t), 3);
    assert_int_equal(target_term_signal(t), 0);
    char how[128];
    target_describe_exit(t, how, sizeof(how));
    assert_string_equal(how, "exited with code 3");
    target_free(t);
}

static void test_target_without_channel_or_pipes(void **state)
{
    (void)state;
    char sh[] = "/bin/sh", c[] = "-c", script[] = "exit 0";
    char *argv[] = {sh, c, script, NULL};
    struct target_opts o = {.argv = argv};
    struct target *t = NULL;
    struct diag d = {{0}};
    assert_int_equal(target_start(&o, &t, &d), 0);
    assert_int_equal(target_stdin_fd(t), -1);
    assert_int_equal(target_stdout_fd(t), -1);
    assert_int_equal(target_chan_fd(t), -1);
    /* Without a piped stdin the stop starts with SIGTERM: let the script end first. */
    for (int k = 0; k < 500 && target_alive(t); k++) {
        poll(NULL, 0, 10);
    }
    assert_true(target_exited(t));
    assert_int_equal(target_stop(t, 5000), 0);
    assert_int_equal(target_exit_code(t), 0);
    target_free(t);
}

static void test_target_killed_by_signal(void **state)
{
    (void)state;
    struct target *t = start_sh("kill -9 $$", false, NULL);
    assert_int_equal(target_stop(t, 5000), 0);
    assert_int_equal(target_term_signal(t), 9);
    assert_int_equal(target_exit_code(t), -1);
    char how[128];
    target_describe_exit(t, how, sizeof(how));
    assert_non_null(strstr(how, "was killed by signal 9"));
    target_free(t);
}

static void test_target_wait_stdout_and_log_tail(void **state)
{
    (void)state;
    char log[] = "/tmp/target_test_XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    struct target *t =
        start_sh("echo booting; echo ready; echo oops >&2; cat >/dev/null", false, log);
    struct diag d = {{0}};
    assert_string_equal(target_log_path(t), log);
    assert_int_equal(target_wait_stdout(t, "^ready$", 5000, &d), 0);
    assert_int_equal(target_stop(t, 5000), 0);
    char tail[512];
    size_t n = target_log_tail(log, 8, tail, sizeof(tail));
    assert_true(n > 0);
    /* The lines read while waiting are logged too, and stderr went to the log. */
    assert_non_null(strstr(tail, "  | booting\n"));
    assert_non_null(strstr(tail, "  | oops\n"));
    target_free(t);
    unlink(log);
}

static void test_target_gone_before_ready(void **state)
{
    (void)state;
    struct target *t = start_sh("echo starting; exit 5", false, NULL);
    struct diag d = {{0}};
    assert_int_equal(target_wait_stdout(t, "^ready$", 5000, &d), -EPIPE);
    assert_non_null(strstr(d.msg, "target exited with code 5 before it was ready"));
    target_free(t);
    t = start_sh("cat >/dev/null", false, NULL);
    assert_int_equal(target_wait_stdout(t, "^ready$", 100, &d), -ETIMEDOUT);
    assert_non_null(strstr(d.msg, "no line matching '^ready$' within 100 ms"));
    target_free(t); /* still running: killed */
}

static void test_target_missing_program(void **state)
{
    (void)state;
    char prog[] = "./no/such/target";
    char *argv[] = {prog, NULL};
    struct target_opts o = {.argv = argv, .pipe_stdin = true};
    struct target *t = NULL;
    struct diag d = {{0}};
    assert_int_equal(target_start(&o, &t, &d), -ENOENT);
    assert_null(t);
    assert_non_null(strstr(d.msg, "target './no/such/target' not found or not executable"));
    assert_false(target_is_static("/bin/sh")); /* a script or a dynamic program: not static */
    uint16_t port = 0;
    assert_int_equal(target_free_port(&port, &d), 0);
    assert_true(port > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_start_accessors_and_stop),
        cmocka_unit_test(test_target_without_channel_or_pipes),
        cmocka_unit_test(test_target_killed_by_signal),
        cmocka_unit_test(test_target_wait_stdout_and_log_tail),
        cmocka_unit_test(test_target_gone_before_ready),
        cmocka_unit_test(test_target_missing_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
