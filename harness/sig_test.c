/* SPDX-License-Identifier: MIT */
/* sig_test.c - unit tests of the stop signals: the first is noted and wakes a poll() on
 * sig_fd(), the watchdog stops a child that the command did not stop in time, a forwarded
 * process gets the signal, a second signal ends the process at once with 128 + the first
 * signal and leaves no descendant alive, and the names and exit codes. */
#include "sig.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tree.h"

/* Forks a child that sleeps until a signal ends it. */
static pid_t sleeper(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;) {
            pause();
        }
    }
    return pid;
}

static void test_sig_first_signal_is_noted_and_wakes_poll(void **state)
{
    (void)state;
    struct diag d = {{0}};
    struct sig_opts o = {.term_after_ms = 60000, .kill_after_ms = 1000};
    assert_int_equal(sig_catch(&o, &d), 0);
    assert_int_equal(sig_catch(&o, &d), -EBUSY);
    assert_int_equal(sig_caught(), 0);
    struct pollfd p = {.fd = sig_fd(), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0);
    raise(SIGHUP);
    assert_int_equal(sig_caught(), SIGHUP);
    assert_int_equal(poll(&p, 1, 1000), 1);
    sig_release();
    assert_int_equal(sig_fd(), -1);
}

static void test_sig_watchdog_stops_the_tree(void **state)
{
    (void)state;
    struct diag d = {{0}};
    pid_t child = sleeper();
    struct sig_opts o = {.term_after_ms = 50, .kill_after_ms = 1000};
    assert_int_equal(sig_catch(&o, &d), 0);
    raise(SIGTERM);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
    sig_release();
}

static void test_sig_forwarded_to_a_process(void **state)
{
    (void)state;
    struct diag d = {{0}};
    pid_t child = sleeper();
    struct sig_opts o = {.term_after_ms = 60000, .kill_after_ms = 1000};
    assert_int_equal(sig_catch(&o, &d), 0);
    sig_forward_to(child);
    raise(SIGINT);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGINT);
    sig_release();
}

static void test_sig_second_signal_ends_at_once(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t harness = fork();
    assert_true(harness >= 0);
    if (harness == 0) {
        struct diag d = {{0}};
        struct sig_opts o = {.term_after_ms = 60000, .kill_after_ms = 60000};
        tree_adopt(&d);
        pid_t worker = sleeper();
        (void)!write(p[1], &worker, sizeof(worker));
        if (sig_catch(&o, &d) < 0) {
            _exit(99);
        }
        raise(SIGTERM);
        raise(SIGINT);
        _exit(98); /* not reached: the second signal exits */
    }
    pid_t worker = 0;
    assert_int_equal(read(p[0], &worker, sizeof(worker)), (ssize_t)sizeof(worker));
    int status = 0;
    assert_int_equal(waitpid(harness, &status, 0), harness);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
    /* The worker was killed (and reaped by the subreaper harness, or by init after it). */
    for (int k = 0; k < 100 && (kill(worker, 0) == 0); k++) {
        poll(NULL, 0, 10);
    }
    assert_int_equal(kill(worker, 0), -1);
    close(p[0]);
    close(p[1]);
}

static void test_sig_names_and_codes(void **state)
{
    (void)state;
    assert_string_equal(sig_name(SIGTERM), "SIGTERM");
    assert_string_equal(sig_name(SIGINT), "SIGINT");
    assert_string_equal(sig_name(SIGHUP), "SIGHUP");
    assert_string_equal(sig_name(SIGUSR1), "SIGUSR1");
    assert_int_equal(sig_exit_code(SIGTERM), 143);
    assert_int_equal(sig_exit_code(SIGINT), 130);
    assert_int_equal(sig_exit_code(SIGHUP), 129);
    sig_release(); /* without sig_catch(): nothing to do */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sig_first_signal_is_noted_and_wakes_poll),
        cmocka_unit_test(test_sig_watchdog_stops_the_tree),
        cmocka_unit_test(test_sig_forwarded_to_a_process),
        cmocka_unit_test(test_sig_second_signal_ends_at_once),
        cmocka_unit_test(test_sig_names_and_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
