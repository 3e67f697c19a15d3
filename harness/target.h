/* SPDX-License-Identifier: MIT */
/* target.h - the life of the program under test: spawn, readiness, stop.
 *
 * The target runs with the agent preloaded and one end of a socketpair inherited as the control
 * channel (LEAKCHECK_FD). Its stderr (and its stdout when the driver does not read it) goes to a
 * log file; the tail of that log is shown when the target fails. Every wait has a timeout (poll),
 * nothing blocks forever. One thread per target at most (the stdout drain).
 */
#ifndef HARNESS_TARGET_H
#define HARNESS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util/diag.h"

struct target_opts {
    char *const *argv;      /* NULL-terminated, placeholders already expanded */
    char *const *env_add;   /* NULL-terminated "KEY=VALUE" entries, or NULL */
    const char *cwd;        /* or NULL */
    const char *agent_path; /* preloaded (prepended to LD_PRELOAD), or NULL for none */
    bool pipe_stdin;        /* else stdin is /dev/null */
    bool pipe_stdout;       /* else stdout goes to the log */
    const char *log_path;   /* stderr goes here (created, truncated); NULL = inherit stderr */
    bool channel;           /* create the control channel */
    bool inherit_stdio; /* stdin, stdout and stderr are the harness's own (overrides the rest) */
    bool new_session;   /* the target leads its own session (harness/tree.h stops it all) */
};

/* A running (or ended) target: opaque, read through the accessors below. */
struct target;

/* Starts the target. Returns 0 with *out owned by the caller (target_free), or a negative errno
 * with `d` filled: -ENOENT when the program does not exist or is not executable. */
int target_start(const struct target_opts *o, struct target **out, struct diag *d);

/* The target's process id. Can't fail. */
pid_t target_pid(const struct target *t);

/* The write end of the target's stdin, or -1 when it is not piped (or was closed by
 * target_stop()). Borrowed: the target closes it. Can't fail. */
int target_stdin_fd(const struct target *t);

/* The read end of the target's stdout, or -1 when it is not piped. Borrowed. Can't fail. */
int target_stdout_fd(const struct target *t);

/* The harness's end of the control channel, or -1 without one. Borrowed. Can't fail. */
int target_chan_fd(const struct target *t);

/* True once the target has been reaped (its status is known: target_describe_exit(),
 * target_exit_code()). Does not wait or reap: see target_alive(). Can't fail. */
bool target_exited(const struct target *t);

/* The log file the target's stderr goes to, or NULL. Borrowed. Can't fail. */
const char *target_log_path(const struct target *t);

/* Sets the test the TCP and HTTP readiness waits use to tell whether the work goes on (by default
 * the program's own life): a program that daemonizes exits while its child serves. Can't
 * fail. */
void target_set_going(struct target *t, bool (*going)(void *), void *arg);

/* Waits until a stdout line matches `regex` (POSIX extended). Lines are read one byte at a time
 * so nothing after the matching line is consumed. Returns 0, -ETIMEDOUT, -EPIPE (target ended
 * or closed stdout), with `d` filled. */
int target_wait_stdout(struct target *t, const char *regex, int timeout_ms, struct diag *d);

/* Waits until 127.0.0.1:port accepts a TCP connection. Returns 0, -ETIMEDOUT or -EPIPE. */
int target_wait_tcp(struct target *t, uint16_t port, int timeout_ms, struct diag *d);

/* Waits until GET `url` (http://host[:port]/path) answers 2xx. Returns 0, -ETIMEDOUT, -EPIPE
 * or -EINVAL (bad URL). */
int target_wait_http(struct target *t, const char *url, int timeout_ms, struct diag *d);

/* Copies the target's stdout into the log from now on (a thread), so a target whose stdout is
 * piped but no longer read never blocks. Returns 0 or -errno. */
int target_drain_stdout(struct target *t);

/* True when `prog` (searched in PATH when it has no slash) is a 64-bit ELF executable without a
 * program interpreter: a statically linked program, which never loads the agent (LD_PRELOAD is
 * read by the dynamic loader it does not have). False for anything else, scripts and unreadable
 * files included. Can't fail. */
bool target_is_static(const char *prog);

/* Takes a wait status of the program that someone else reaped (the retainer scan waits for its
 * threads): `pid` is the program's pid, or the call is a no-op. Can't fail. */
void target_note_exit(struct target *t, pid_t pid, int status);

/* Non-blocking: true while the process has not exited (reaps it when it has). */
bool target_alive(struct target *t);

/* Stops the target: closes its stdin and, when stdin was a pipe, waits up to grace_ms for it to
 * exit; then SIGTERM, waits grace_ms again, then SIGKILL. Records the exit status. Then stops
 * every other descendant of the harness (tree_stop(): workers, daemons it detached), so nothing
 * outlives the target. Returns 0, or -errno if waitpid failed. Safe to call after the target has
 * exited. */
int target_stop(struct target *t, int grace_ms);

/* Describes how the target ended ("exited with code 1", "was killed by signal 11 (Segmentation
 * fault)", "is still running") into buf. Can't fail. */
void target_describe_exit(const struct target *t, char *buf, size_t len);

/* Exit code (or -1) and terminating signal (or 0). */
int target_exit_code(const struct target *t);
int target_term_signal(const struct target *t);

/* Frees the target (stopping it and every other descendant first with SIGKILL if still
 * running). target_free(NULL) is a no-op. */
void target_free(struct target *t);

/* Picks a free TCP port on 127.0.0.1 (bind port 0, read it, close). Returns 0 or -errno. */
int target_free_port(uint16_t *port, struct diag *d);

/* Copies the last `lines` lines of the file at `path` into buf (NUL-terminated, each line
 * prefixed with "  | "). Returns the number of bytes written (0 when unreadable or empty). */
size_t target_log_tail(const char *path, size_t lines, char *buf, size_t len);

#endif
