/* SPDX-License-Identifier: MIT */
/* ag_lock.h - the agent's spin lock: no heap, no futex bookkeeping, fork-safe when every lock
 * is taken in the atfork prepare handler. Held only for short table sections, never across the
 * real allocator or libunwind. Hook-safe.
 */
#ifndef AGENT_AG_LOCK_H
#define AGENT_AG_LOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

static inline void ag_lock_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

struct ag_lock {
    atomic_bool held;
};

static inline void ag_lock_take(struct ag_lock *l)
{
    for (unsigned spins = 0;; spins++) {
        if (!atomic_exchange_explicit(&l->held, true, memory_order_acquire)) {
            return;
        }
        while (atomic_load_explicit(&l->held, memory_order_relaxed)) {
            if (++spins > 64) {
                sched_yield();
                spins = 0;
            } else {
                ag_lock_relax();
            }
        }
    }
}

static inline bool ag_lock_try(struct ag_lock *l)
{
    return !atomic_exchange_explicit(&l->held, true, memory_order_acquire);
}

static inline void ag_lock_release(struct ag_lock *l)
{
    atomic_store_explicit(&l->held, false, memory_order_release);
}

#endif
