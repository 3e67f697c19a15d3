/* SPDX-License-Identifier: MIT */
/* spawn.h - starting programs with posix_spawn, and running a short one under a deadline.
 *
 * spawn_start() is the one posix_spawn set-up of the harness: each standard stream of the child
 * is /dev/null, the caller's own, a given descriptor or a new pipe (the caller gets the other
 * end), one more descriptor may be inherited, and the child may start in another folder. Every
 * descriptor the caller gets is close-on-exec, so later children never inherit it. spawn_run()
 * runs a command to its end: stdout collected (capped) or discarded, the tail of stderr kept,
 * the child killed when the deadline passes. A child may start in a session of its own. No shell is
 * involved; argv[0] is searched in PATH when it has no slash. No globals (reads `environ`);
 * thread-safe.
 */
#ifndef UTIL_SPAWN_H
#define UTIL_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "diag.h"

/* What a standard stream of the child is. */
enum spawn_io {
    SPAWN_NULL,    /* /dev/null */
    SPAWN_INHERIT, /* the caller's own stream */
    SPAWN_PIPE,    /* a new pipe; the caller gets the other end in spawn_child.fd[] */
    SPAWN_FD,      /* the caller's descriptor spawn_opts.fd[] */
};

struct spawn_opts {
    char *const *argv;    /* NULL-terminated */
    char *const *env;     /* the child's whole environment, or NULL for the caller's */
    const char *cwd;      /* folder the child starts in, or NULL */
    enum spawn_io io[3];  /* stdin, stdout, stderr (zeroed: /dev/null) */
    int fd[3];            /* descriptors for SPAWN_FD */
    int keep_fd;          /* a descriptor above 2 the child inherits as it is, or 0 for none */
    const char *what;     /* names the program in messages ("the target"), or NULL */
    const char *verb;     /* "can't VERB 'argv[0]'": "start", or NULL for "run" */
    const char *cwd_hint; /* added when the program or `cwd` is missing and cwd is set */
    bool new_session;     /* the child starts its own session and process group (setsid), so a
                           * signal meant for the caller's group (Ctrl-C) does not reach it */
};

struct spawn_child {
    pid_t pid;
    int fd[3]; /* the caller's ends of piped streams (stdin's write end, stdout's and stderr's read
                * ends), or -1 */
};

/* Starts o->argv. On success `c` holds the pid and the pipe ends (owned: close them, and reap
 * the child). Returns 0, or a negative errno with `d` filled ("can't create pipes for the
 * target: ...", "can't start './srv': No such file or directory"); nothing is left open. */
int spawn_start(const struct spawn_opts *o, struct spawn_child *c, struct diag *d);

/* Closes the pipe ends `c` still holds. Can't fail. */
void spawn_close(struct spawn_child *c);

/* The caller's environment with the "KEY=VALUE" entries of `env_add` (may be NULL) on top, a
 * name in env_add replacing the same name. The vector is owned (free() it), its strings are
 * borrowed. Returns NULL when out of memory. */
char **spawn_env_merge(char *const *env_add);

/* What spawn_run() collected from a child. */
struct spawn_result {
    int status;     /* waitpid status */
    char *out;      /* stdout (NUL-terminated, owned) when asked for, else NULL */
    size_t out_len; /* bytes in out */
    char err[2048]; /* the last bytes of stderr, NUL-terminated */
};

/* Runs argv with env_add added to the environment (see spawn_env_merge()) and stdin /dev/null.
 * Collects stdout when `want_out` (more than out_cap - 1 bytes is -EFBIG) and the tail of
 * stderr. Kills the child after timeout_ms (-ETIMEDOUT). Returns 0 when the child ran to its end
 * (whatever its status; the caller frees res->out), or a negative errno with `d` filled and
 * nothing in `res` to free. */
int spawn_run(char *const *argv, char *const *env_add, bool want_out, size_t out_cap,
              int timeout_ms, struct spawn_result *res, struct diag *d);

#endif
