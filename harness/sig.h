/* SPDX-License-Identifier: MIT */
/* sig.h - SIGTERM, SIGINT and SIGHUP sent to the harness (how CI cancels a job, Ctrl-C).
 *
 * The first signal is noted (sig_caught()) and makes a self-pipe readable (sig_fd(), for a
 * poll() beside other descriptors); the command stops driving at its next step, writes its
 * reports for the rounds that finished, marked interrupted, stops the target's tree and exits
 * with sig_exit_code(). A step that does not return (a hung target, a snapshot that never comes)
 * must not hold that up: a watchdog thread sends SIGTERM to every descendant `term_after_ms`
 * after the signal and SIGKILL `kill_after_ms` later, which ends every wait on the target.
 * `forward_to`, when set, is sent the same signal at once (`leakcheck exec` passes it on to its
 * program). A second signal ends the harness at once, from the handler: SIGKILL to every
 * descendant (harness/tree.h, async-signal-safe), then _exit(sig_exit_code(first signal)).
 *
 * The state is process-wide (a signal handler has no argument to carry it): one sig_catch() at a
 * time, released by sig_release().
 */
#ifndef HARNESS_SIG_H
#define HARNESS_SIG_H

#include <sys/types.h>

#include "../util/diag.h"

struct sig_opts {
    int term_after_ms; /* watchdog: SIGTERM to the tree this long after the first signal */
    int kill_after_ms; /* then SIGKILL this long after that */
    pid_t forward_to;  /* passed the first signal at once, or 0 */
};

/* Installs the handlers for SIGTERM, SIGINT and SIGHUP and starts the watchdog. Returns 0, or a
 * negative errno with `d` filled (nothing installed). */
int sig_catch(const struct sig_opts *o, struct diag *d);

/* Sets the process the first signal is passed on to (0: none). Can't fail. */
void sig_forward_to(pid_t pid);

/* The first signal caught since sig_catch(), or 0. Async-signal-safe. */
int sig_caught(void);

/* A descriptor that becomes readable when the first signal arrives, or -1 outside sig_catch().
 * Borrowed. */
int sig_fd(void);

/* Ends the watchdog and restores the default dispositions. Safe to call without sig_catch(). */
void sig_release(void);

/* "SIGTERM", "SIGINT", "SIGHUP"... (rpt_signal_name(), in static storage: not thread-safe).
 * Can't fail. */
const char *sig_name(int sig);

/* The exit status of a command a signal stopped: 128 + sig, as shells report it. */
int sig_exit_code(int sig);

#endif
