/* SPDX-License-Identifier: MIT */
/* tree_test.c - unit tests of the harness's hold on its descendants: a daemon's double fork is
 * reparented to the subreaper test and found, a chain three deep is found, tree_stop() ends a
 * process that ignores SIGTERM (SIGKILL after the grace period) and one that is stopped
 * (SIGCONT), and a master that forks a new worker for every one that dies is still stopped. */
#include "tree.h"

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

/* Reads a pid a child wrote into the pipe `fd`. */
static pid_t read_pid(int fd)
{
    pid_t pid = 0;
    assert_int_equal(read(fd, &pid, sizeof(pid)), (ssize_t)sizeof(pid));
    return pid;
}

/* True when `pid` is in the current descendant list. */
static bool is_descendant(pid_t pid)
{
    pid_t pids[TREE_MAX];
    size_t n = tree_list(pids, TREE_MAX);
    for (size_t i = 0; i < n; i++) {
        if (pids[i] == pid) {
            return true;
        }
    }
    return false;
}

/* True while `pid` exists (as anything but a reaped process). */
static bool exists(pid_t pid)
{
    return kill(pid, 0) == 0 || errno != ESRCH;
}

static int setup(void **state)
{
    (void)state;
    struct diag d = {{0}};
    return tree_adopt(&d) == 0 ? 0 : -1;
}

static void test_tree_double_fork_is_found_and_stopped(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t mid = fork();
    assert_true(mid >= 0);
    if (mid == 0) {
        /* The daemon's dance: fork, new session, the middle process exits. */
        pid_t daemon = fork();
        if (daemon == 0) {
            setsid();
            pid_t self = getpid();
            (void)!write(p[1], &self, sizeof(self));
            for (;;) {
                pause();
            }
        }
        _exit(0);
    }
    pid_t daemon = read_pid(p[0]);
    assert_int_equal(waitpid(mid, NULL, 0), mid);
    /* Orphaned: reparented to us, the subreaper, so still a descendant. */
    assert_true(is_descendant(daemon));
    assert_int_equal(tree_stop(2000), 0);
    assert_false(exists(daemon));
    assert_false(is_descendant(daemon));
    close(p[0]);
    close(p[1]);
}

static void test_tree_chain_three_deep_is_listed(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t a = fork();
    assert_true(a >= 0);
    if (a == 0) {
        pid_t b = fork();
        if (b == 0) {
            pid_t c = fork();
            if (c == 0) {
                pid_t self = getpid();
                (void)!write(p[1], &self, sizeof(self));
                pause();
                _exit(0);
            }
            pause();
            _exit(0);
        }
        pause();
        _exit(0);
    }
    pid_t c = read_pid(p[0]);
    assert_true(is_descendant(a));
    assert_true(is_descendant(c));
    assert_int_equal(tree_stop(2000), 0);
    assert_false(exists(a));
    assert_false(exists(c));
    close(p[0]);
    close(p[1]);
}

static void test_tree_sigterm_ignored_gets_sigkill(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t stubborn = fork();
    assert_true(stubborn >= 0);
    if (stubborn == 0) {
        signal(SIGTERM, SIG_IGN);
        char ok = 1;
        (void)!write(p[1], &ok, 1);
        for (;;) {
            pause();
        }
    }
    char ok;
    assert_int_equal(read(p[0], &ok, 1), 1);
    pid_t stopped = fork();
    assert_true(stopped >= 0);
    if (stopped == 0) {
        raise(SIGSTOP);
        _exit(0); /* SIGCONT after SIGTERM: a stopped process still ends */
    }
    assert_int_equal(tree_stop(100), 0);
    assert_false(exists(stubborn));
    assert_false(exists(stopped));
    close(p[0]);
    close(p[1]);
}

static void test_tree_respawning_master_is_stopped(void **state)
{
    (void)state;
    pid_t master = fork();
    assert_true(master >= 0);
    if (master == 0) {
        /* A prefork master that replaces every worker that dies and ignores SIGTERM. */
        signal(SIGTERM, SIG_IGN);
        for (;;) {
            pid_t w = fork();
            if (w == 0) {
                signal(SIGTERM, SIG_DFL);
                pause();
                _exit(0);
            }
            waitpid(w, NULL, 0);
        }
    }
    poll(NULL, 0, 50);
    assert_int_equal(tree_stop(200), 0);
    assert_false(exists(master));
    pid_t left[TREE_MAX];
    assert_int_equal(tree_list(left, TREE_MAX), 0);
}

static void test_tree_nothing_to_stop(void **state)
{
    (void)state;
    pid_t left[TREE_MAX];
    assert_int_equal(tree_list(left, TREE_MAX), 0);
    assert_int_equal(tree_kill(SIGTERM), 0);
    assert_int_equal(tree_stop(1000), 0);
    assert_int_equal(tree_reap(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_double_fork_is_found_and_stopped),
        cmocka_unit_test(test_tree_chain_three_deep_is_listed),
        cmocka_unit_test(test_tree_sigterm_ignored_gets_sigkill),
        cmocka_unit_test(test_tree_respawning_master_is_stopped),
        cmocka_unit_test(test_tree_nothing_to_stop),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
