/* SPDX-License-Identifier: MIT */
/* ag_core.h - the agent's one state object, its recursion guard, and the small helpers every
 * agent file shares (branch hints, checked invariants, the size-overflow check).
 *
 * There is exactly one instance of the state (ag_state, in ag_core.c): the interposed functions
 * have no other way to reach it. Everything in it is either atomic, guarded by the table and
 * stack locks, or written once at start-up before the channel thread exists. Hook-safe.
 *
 * AG_ASSERT is checked in sanitizer builds (where the agent runs only under its unit tests) and
 * when AG_DEBUG is defined (`make CFLAGS_EXTRA=-DAG_DEBUG`); elsewhere it compiles to nothing,
 * since the agent must never take the target down (STYLE.md, agent rule 4).
 */
#ifndef AGENT_AG_CORE_H
#define AGENT_AG_CORE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/proto.h"
#include "ag_region.h"
#include "ag_stack.h"
#include "ag_table.h"

#define AG_HIDDEN __attribute__((visibility("hidden")))
#define AG_EXPORT __attribute__((visibility("default")))

/* Branch hints for the hook fast path. */
#define AG_LIKELY(x)   __builtin_expect(!!(x), 1)
#define AG_UNLIKELY(x) __builtin_expect(!!(x), 0)

#if defined(AG_DEBUG) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AG_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AG_CHECKED 1
#endif
#endif
#ifndef AG_CHECKED
#define AG_CHECKED 0
#endif

/* An invariant: in checked builds a false `cond` writes one line to stderr and traps. */
#if AG_CHECKED
#define AG_ASSERT(cond) (AG_LIKELY(cond) ? (void)0 : ag_core_assert_fail(#cond, __FILE__, __LINE__))
#else
#define AG_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

/* "Called with the recursion guard set", checked. */
#define AG_ASSERT_GUARDED() AG_ASSERT(ag_guard != 0)

enum ag_mode {
    AG_MODE_OFF,   /* not initialised yet: every call passes through, untracked */
    AG_MODE_TRACK, /* recording */
    AG_MODE_PASS,  /* stopped (no harness, set-uid, channel lost, agent error) */
};

struct ag_state {
    struct ag_table table;
    struct ag_stack_table stacks;
    _Atomic uint32_t epoch;      /* round of birth for new blocks */
    _Atomic int mode;            /* enum ag_mode */
    _Atomic int chan_fd;         /* this process's channel, or -1 */
    uint64_t chan_dev, chan_ino; /* the channel socket's identity: a descriptor the program took
                                    over (closed with a raw system call, reused) is noticed */
    char sock_name[PROTO_SOCK_NAME_MAX]; /* the harness's abstract socket name; written once */
    size_t sock_len;                     /* 0: no socket to join (an inherited channel, or none) */
    uint8_t key[PROTO_KEY_SIZE];         /* the run's key, sent first on every connection */
    struct ag_lock snap_lock; /* held for a whole snapshot: a fork waits for it, so no child
                                 inherits a lock the snapshot held (the loader's among them) */
    int forking_pid; /* set by the fork handler in the parent: a child's HELLO names its parent
                        even when the parent exits at once (daemons) */
    unsigned depth;  /* frames to keep per stack */
    uintptr_t self_lo, self_hi; /* the agent's own code: frames there are dropped */
    uintptr_t canary;           /* the start-up canary block */
    _Atomic uint64_t untracked; /* allocations that passed through while tracking */
    _Atomic uint64_t unwind_errors;
    _Atomic uint64_t truncated;
    struct ag_regions regions; /* anonymous mappings and break growth the program made */
};

extern struct ag_state ag_state AG_HIDDEN;

/* Per-thread recursion guard: while set, every allocator call on this thread goes straight to
 * the real allocator, untracked. Initial-exec TLS, so reading it never allocates. */
extern __thread int ag_guard __attribute__((tls_model("initial-exec"))) AG_HIDDEN;

/* Writes "leakcheck agent: FILE:LINE: assertion 'EXPR' failed" to stderr with write(2), then
 * traps. Used by AG_ASSERT in checked builds only. Never returns. Hook-safe. */
void ag_core_assert_fail(const char *expr, const char *file, int line) AG_HIDDEN
    __attribute__((noreturn, cold));

/* Multiplies n * size into *total. Returns false; on overflow returns true with errno set to
 * ENOMEM (*total is then unspecified), as calloc and reallocarray must fail. Hook-safe. */
static inline bool ag_core_count_size_overflow(size_t n, size_t size, size_t *total)
{
    if (AG_UNLIKELY(__builtin_mul_overflow(n, size, total))) {
        errno = ENOMEM;
        return true;
    }
    return false;
}

/* The executable segment of the loaded object that holds code address `probe`, into [*lo, *hi).
 * Returns false (outputs unchanged) when no object holds it. Not hook-safe (dl_iterate_phdr
 * takes the loader's lock): start-up only, guard set. */
bool ag_core_code_range(const void *probe, uintptr_t *lo, uintptr_t *hi) AG_HIDDEN;

/* The in-process entry point, exported (see ag_hook.c and include/leakcheck.h). */
int leakcheck_agent_snapshot(int fd, unsigned round) AG_EXPORT;

/* Starts a detached thread running fn(arg) with every signal blocked in it (the program's
 * handlers never run on the agent's threads); stack_size 0 keeps the default. Returns 0 or
 * -errno. Hook-safe. */
int ag_thread_start(void *(*fn)(void *), void *arg, size_t stack_size) AG_HIDDEN;

#endif
