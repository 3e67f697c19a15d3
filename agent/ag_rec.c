/* SPDX-License-Identifier: MIT */
/* ag_rec.c - recording allocations and frees in the live table and the stack store.
 *
 * Called from the hooks with the guard clear; every function sets the guard before it unwinds,
 * locks or maps anything, so whatever libunwind or the tables allocate goes straight to the real
 * allocator, untracked. The functions are out of line (noinline) so the hooks stay small enough
 * to inline their fast path; the stack capture counts the agent's own frames out by address
 * (ag_state.self_lo..self_hi, set at start-up), not by a fixed number.
 */
#include "ag_rec.h"

#include <errno.h>
#include <stdint.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "../common/proto.h"
#include "ag_unwind.h"

#define SKIP_MAX 4u /* the agent's own frames at the top of a capture */

/* unw_backtrace() without its fast path: every frame through unw_step(). libunwind's fast path
 * keeps rules per address in a per-thread cache that nothing flushes, so once code has been
 * unloaded (and other code may sit at its addresses) the fallback takes this way, whose rules
 * come from the DWARF cache that the dlclose() hook flushes. Same addresses, same first frame
 * (the return address into the caller). */
__attribute__((noinline)) static int step_backtrace(void **raw, int want)
{
    unw_context_t uc;
    unw_cursor_t cursor;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cursor, &uc) != 0) {
        return 0;
    }
    int n = 0;
    while (n < want && unw_step(&cursor) > 0) {
        unw_word_t ip;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0) {
            break;
        }
        raw[n++] = (void *)(uintptr_t)ip;
    }
    return n;
}

/* Captures the caller's stack (the agent's own frames dropped) and interns it with `kind` among
 * its flags. Returns the stack id, or 0 when it could not be stored. Called with the guard set. */
static uint32_t capture(uint16_t kind)
{
    AG_ASSERT_GUARDED();
    void *raw[AG_STACK_MAX_DEPTH + SKIP_MAX];
    unsigned want = ag_state.depth + SKIP_MAX;
    /* The cached-rule walk gives what unw_backtrace() would; it says when it cannot. */
    int n = ag_unwind_backtrace((uintptr_t *)raw, (int)want);
    if (n < 0) {
        n = ag_unwind_generation() == 0 ? unw_backtrace(raw, (int)want)
                                        : step_backtrace(raw, (int)want);
    }
    if (n <= 0) {
        atomic_fetch_add_explicit(&ag_state.unwind_errors, 1, memory_order_relaxed);
        return ag_stack_intern(&ag_state.stacks, NULL, 0, kind);
    }
    unsigned first = 0;
    while (first < (unsigned)n && (uintptr_t)raw[first] >= ag_state.self_lo &&
           (uintptr_t)raw[first] < ag_state.self_hi) {
        first++;
    }
    unsigned depth = (unsigned)n - first;
    uint16_t flags = kind;
    if ((unsigned)n == want) {
        flags |= PROTO_STACK_TRUNCATED;
        atomic_fetch_add_explicit(&ag_state.truncated, 1, memory_order_relaxed);
    }
    if (depth > ag_state.depth) {
        depth = ag_state.depth;
    }
    return ag_stack_intern(&ag_state.stacks, (const uintptr_t *)(raw + first), depth, flags);
}

__attribute__((noinline)) void ag_rec_alloc(void *p, size_t size)
{
    AG_ASSERT(!ag_guard);
    int saved = errno;
    ag_guard = 1;
    uint32_t id = capture(0);
    ag_stack_count_alloc(&ag_state.stacks, id, size);
    /* A block whose stack could not be stored is still counted, under stack 0. */
    (void)ag_table_insert(&ag_state.table, (uintptr_t)p, size, id,
                          atomic_load_explicit(&ag_state.epoch, memory_order_relaxed));
    ag_guard = 0;
    errno = saved;
}

bool ag_rec_take(void *p, struct ag_block *was)
{
    AG_ASSERT(!ag_guard);
    int saved = errno;
    ag_guard = 1;
    bool known = ag_table_remove(&ag_state.table, (uintptr_t)p, was);
    ag_guard = 0;
    errno = saved;
    return known;
}

__attribute__((noinline)) void ag_rec_free(void *p)
{
    (void)ag_rec_take(p, NULL);
}

void ag_rec_restore(const struct ag_block *was)
{
    AG_ASSERT(!ag_guard);
    int saved = errno;
    ag_guard = 1;
    (void)ag_table_insert(&ag_state.table, was->ptr, was->size, was->stack_id, was->epoch);
    ag_guard = 0;
    errno = saved;
}

__attribute__((noinline)) void ag_rec_untracked(void)
{
    if (atomic_load_explicit(&ag_state.mode, memory_order_relaxed) == AG_MODE_TRACK) {
        atomic_fetch_add_explicit(&ag_state.untracked, 1, memory_order_relaxed);
    }
}

__attribute__((noinline)) void ag_rec_region(uintptr_t start, size_t len, uint16_t kind)
{
    AG_ASSERT(!ag_guard);
    int saved = errno;
    ag_guard = 1;
    uint32_t id = capture(kind);
    ag_stack_count_alloc(&ag_state.stacks, id, len);
    (void)ag_region_add(&ag_state.regions, start, len, id,
                        atomic_load_explicit(&ag_state.epoch, memory_order_relaxed));
    ag_guard = 0;
    errno = saved;
}

bool ag_rec_unregion(uintptr_t start, size_t len, struct ag_region_cut *cut)
{
    AG_ASSERT(!ag_guard);
    int saved = errno;
    ag_guard = 1;
    bool known = ag_region_remove(&ag_state.regions, start, len, cut);
    ag_guard = 0;
    errno = saved;
    return known;
}

void ag_rec_region_restore(uintptr_t start, size_t len, const struct ag_region_cut *cut)
{
    AG_ASSERT(!ag_guard);
    int saved = errno;
    ag_guard = 1;
    (void)ag_region_add(&ag_state.regions, start, len, cut->stack_id, cut->epoch);
    ag_guard = 0;
    errno = saved;
}
