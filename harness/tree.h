/* SPDX-License-Identifier: MIT */
/* tree.h - the harness owns every process it starts, down to the last descendant.
 *
 * tree_adopt() makes the harness a child subreaper: a process of the target's tree whose parent
 * exits (a daemon's double fork, a prefork master that dies before its workers) is reparented to
 * the harness instead of init, so it stays a descendant and can be found. tree_list() finds every
 * descendant by scanning /proc (parent chains that end at the harness); tree_stop() stops them
 * all (SIGTERM and SIGCONT, a grace period, then SIGKILL) and reaps those that are its children.
 *
 * Everything here uses system calls only (open, getdents64, read, kill, waitpid) and the stack:
 * no heap, no stdio, no locks. tree_kill() and tree_reap() are async-signal-safe, so a second
 * SIGTERM can end the harness from its handler and still leave nothing running. Safe to call
 * from any thread.
 */
#ifndef HARNESS_TREE_H
#define HARNESS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../util/diag.h"

/* Most descendants one scan keeps track of; more are found on the next scan. */
#define TREE_MAX 1024

/* Makes the calling process a child subreaper (prctl PR_SET_CHILD_SUBREAPER). Returns 0, or a
 * negative errno with `d` filled (the kernel refused: orphans then go to init). */
int tree_adopt(struct diag *d);

/* Fills out[0..cap-1] with the pids of the calling process's descendants (any depth, zombies
 * included) and returns how many were found (at most cap). Async-signal-safe. */
size_t tree_list(pid_t *out, size_t cap);

/* Sends `sig` to every living descendant (zombies are skipped); with SIGTERM, SIGCONT follows so
 * a stopped process sees it. Returns the number of processes signalled. Async-signal-safe. */
size_t tree_kill(int sig);

/* Reaps every child that has ended (waitpid WNOHANG), without waiting. Returns how many were
 * reaped. Async-signal-safe. */
size_t tree_reap(void);

/* Stops every descendant: SIGTERM (and SIGCONT), up to grace_ms for them to end, then SIGKILL
 * until none is left, reaping as they end. Descendants started during the stop (a master
 * respawning workers) are found by the next scan. Returns the number still alive after the
 * SIGKILL rounds (0, unless a process can't die: stuck in the kernel). Can't fail otherwise. */
size_t tree_stop(int grace_ms);

#endif
