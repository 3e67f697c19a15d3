/* SPDX-License-Identifier: MIT */
/* ag_core.h - the agent's one state object, shared by the hook shim and the channel thread.
 *
 * There is exactly one instance (ag_state, in ag_hook.c): the interposed functions have no
 * other way to reach it. Everything in it is either atomic, guarded by the table and stack
 * locks, or written once at start-up before the channel thread exists. Hook-safe.
 */
#ifndef AGENT_AG_CORE_H
#define AGENT_AG_CORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ag_stack.h"
#include "ag_table.h"

#define AG_HIDDEN __attribute__((visibility("hidden")))
#define AG_EXPORT __attribute__((visibility("default")))

enum ag_mode {
    AG_MODE_OFF,   /* not initialised yet: every call passes through, untracked */
    AG_MODE_TRACK, /* recording */
    AG_MODE_PASS,  /* stopped (no harness, set-uid, forked child, agent error) */
};

struct ag_state {
    struct ag_table table;
    struct ag_stack_table stacks;
    _Atomic uint32_t epoch;     /* round of birth for new blocks */
    _Atomic int mode;           /* enum ag_mode */
    int chan_fd;                /* the inherited socket, or -1 */
    unsigned depth;             /* frames to keep per stack */
    uintptr_t self_lo, self_hi; /* the agent's own code: frames there are dropped */
    uintptr_t canary;           /* the start-up canary block */
    _Atomic uint64_t untracked; /* allocations that passed through while tracking */
    _Atomic uint64_t unwind_errors;
    _Atomic uint64_t truncated;
};

extern struct ag_state ag_state AG_HIDDEN;

/* Per-thread recursion guard: while set, every allocator call on this thread goes straight to
 * the real allocator, untracked. Initial-exec TLS, so reading it never allocates. */
extern __thread int ag_guard __attribute__((tls_model("initial-exec"))) AG_HIDDEN;

/* The in-process entry point, exported (see ag_hook.c and include/leakcheck.h). */
int leakcheck_agent_snapshot(int fd, unsigned round) AG_EXPORT;

#endif
