/* SPDX-License-Identifier: MIT */
/* sig.c - the harness's stop signals (see sig.h).
 *
 * The handler only does what is async-signal-safe: it stores the signal, writes one byte to a
 * non-blocking self-pipe, kill()s the forwarded process, and on a second signal calls
 * tree_kill() and _exit(). The watchdog is a thread that sleeps in poll() on the self-pipe and a
 * second pipe that sig_release() writes to end it; it blocks every signal so the handler always
 * runs on another thread. Handlers are installed without SA_RESTART, so a blocking call of the
 * main thread returns EINTR at once.
 */
#include "sig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../model/rpt.h"
#include "tree.h"

#define SIG_KILL_ROUNDS 100 /* a second signal: SIGKILL rounds of 10 ms at most */

static const int sig_stops[] = {SIGTERM, SIGINT, SIGHUP};

static volatile sig_atomic_t sig_first;
static volatile sig_atomic_t sig_forward;
static int sig_pipe[2] = {-1, -1}; /* written by the handler */
static int sig_quit[2] = {-1, -1}; /* written by sig_release() to end the watchdog */
static pthread_t sig_thread;
static bool sig_active;
static struct sig_opts sig_o;

/* A second signal: everything the harness started dies now, and so does the harness. */
static void sig_hard_stop(void)
{
    static const char msg[] = "leakcheck: second signal: stopping every process at once\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    for (int k = 0; k < SIG_KILL_ROUNDS; k++) {
        tree_reap();
        if (tree_kill(SIGKILL) == 0) {
            break;
        }
        poll(NULL, 0, 10);
    }
    tree_reap();
    _exit(sig_exit_code(sig_first));
}

static void sig_handler(int sig)
{
    int saved = errno;
    if (sig_first != 0) {
        sig_hard_stop();
    }
    sig_first = sig;
    if (sig_forward > 0) {
        kill((pid_t)sig_forward, sig);
    }
    if (sig_pipe[1] >= 0) {
        char b = (char)sig;
        (void)!write(sig_pipe[1], &b, 1);
    }
    errno = saved;
}

/* Waits up to ms for sig_release(). Returns true when it came. */
static bool wait_quit(int ms)
{
    struct pollfd p = {.fd = sig_quit[0], .events = POLLIN};
    int r;
    do {
        r = poll(&p, 1, ms);
    } while (r < 0 && errno == EINTR);
    return r != 0;
}

/* The watchdog: after the first signal, stops the tree if the command has not finished in time. */
static void *sig_watch(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    struct pollfd p[2] = {{.fd = sig_pipe[0], .events = POLLIN},
                          {.fd = sig_quit[0], .events = POLLIN}};
    for (;;) {
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 || p[1].revents) {
            return NULL;
        }
        if (p[0].revents) {
            break;
        }
    }
    if (wait_quit(sig_o.term_after_ms)) {
        return NULL;
    }
    tree_kill(SIGTERM);
    if (wait_quit(sig_o.kill_after_ms)) {
        return NULL;
    }
    while (!wait_quit(100)) {
        tree_kill(SIGKILL);
    }
    return NULL;
}

static void close_pair(int p[2])
{
    for (int k = 0; k < 2; k++) {
        if (p[k] >= 0) {
            close(p[k]);
            p[k] = -1;
        }
    }
}

int sig_catch(const struct sig_opts *o, struct diag *d)
{
    if (sig_active) {
        return diag_set(d, -EBUSY, "stop signals are already caught");
    }
    sig_o = *o;
    sig_first = 0;
    sig_forward = o->forward_to;
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(sig_quit, O_CLOEXEC) < 0) {
        int err = errno;
        close_pair(sig_pipe);
        close_pair(sig_quit);
        return diag_set(d, -err, "can't create a pipe for stop signals: %s", strerror(err));
    }
    int err = pthread_create(&sig_thread, NULL, sig_watch, NULL);
    if (err != 0) {
        close_pair(sig_pipe);
        close_pair(sig_quit);
        return diag_set(d, -err, "can't start the stop-signal watchdog: %s", strerror(err));
    }
    struct sigaction sa = {.sa_handler = sig_handler};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sig_stops) / sizeof(sig_stops[0]); i++) {
        sigaddset(&sa.sa_mask, sig_stops[i]);
    }
    for (size_t i = 0; i < sizeof(sig_stops) / sizeof(sig_stops[0]); i++) {
        sigaction(sig_stops[i], &sa, NULL);
    }
    sig_active = true;
    return 0;
}

void sig_forward_to(pid_t pid)
{
    sig_forward = pid;
}

int sig_caught(void)
{
    return sig_first;
}

int sig_fd(void)
{
    return sig_active ? sig_pipe[0] : -1;
}

void sig_release(void)
{
    if (!sig_active) {
        return;
    }
    struct sigaction sa = {.sa_handler = SIG_DFL};
    sigemptyset(&sa.sa_mask);
    /* Blocked while the pipes go away, so a late signal finds no half-closed state; a signal
     * that arrived in between stays pending and, with the default action restored, ends us as
     * the caller's own exit would. */
    sigset_t stops;
    sigset_t old;
    sigemptyset(&stops);
    for (size_t i = 0; i < sizeof(sig_stops) / sizeof(sig_stops[0]); i++) {
        sigaddset(&stops, sig_stops[i]);
    }
    pthread_sigmask(SIG_BLOCK, &stops, &old);
    char b = 1;
    (void)!write(sig_quit[1], &b, 1);
    pthread_join(sig_thread, NULL);
    for (size_t i = 0; i < sizeof(sig_stops) / sizeof(sig_stops[0]); i++) {
        sigaction(sig_stops[i], &sa, NULL);
    }
    close_pair(sig_pipe);
    close_pair(sig_quit);
    sig_forward = 0;
    sig_active = false;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

const char *sig_name(int sig)
{
    static char name[32];
    return rpt_signal_name(sig, name, sizeof(name));
}

int sig_exit_code(int sig)
{
    return 128 + sig;
}
