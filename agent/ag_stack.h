/* SPDX-License-Identifier: MIT */
/* ag_stack.h - the agent's stack table: every distinct call stack stored once, by id.
 *
 * Lookups are lock-free (an open-addressing index of 64-bit slots, hash and id together, read
 * with acquire loads); inserts are rare and take one mutex-like spin lock. Ids are dense and
 * handed out in order from 1, and an entry is complete before its id becomes visible through
 * ag_stack_count(), so the channel thread can send "every stack after id N" without a lock.
 * Entries are never removed: memory grows with the number of distinct stacks, not with time.
 * Hook-safe throughout.
 */
#ifndef AGENT_AG_STACK_H
#define AGENT_AG_STACK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag_lock.h"
#include "ag_tally.h"

#define AG_STACK_MAX_DEPTH  64u
#define AG_STACK_CHUNK_BITS 12u
#define AG_STACK_MAX_CHUNKS 4096u /* 16 M distinct stacks at most */

struct ag_stack_entry {
    uint64_t hash;
    const uintptr_t *pcs;
    uint16_t depth;
    uint16_t flags; /* PROTO_STACK_TRUNCATED */
};

struct ag_stack_index {
    uint64_t mask;
    _Atomic uint64_t slots[]; /* (hash high 32 bits << 32) | id; 0 = empty */
};

struct ag_stack_table {
    struct ag_lock insert_lock;
    _Atomic(struct ag_stack_index *) index;
    _Atomic uint32_t count; /* ids 1..count are complete */
    struct ag_stack_entry *_Atomic chunks[AG_STACK_MAX_CHUNKS];
    /* Cumulative allocations per stack, counted by each thread in its own record (no locked
     * instruction), summed when read. */
    struct ag_tally allocs;
    uintptr_t *pc_arena; /* bump region for pcs, under insert_lock */
    size_t pc_left;      /* words left in pc_arena */
    size_t pc_region;    /* words in the last region mapped (0: none yet) */
};

/* Hashes a stack. Can't fail. Hook-safe. */
uint64_t ag_stack_hash(const uintptr_t *pcs, size_t depth);

/* Returns the id of the stack (interning it on first sight), or 0 when the table is full or out
 * of memory. Thread-safe. Hook-safe. */
uint32_t ag_stack_intern(struct ag_stack_table *t, const uintptr_t *pcs, size_t depth,
                         uint16_t flags);

/* The entry of `id` (1..ag_stack_count()), or NULL. Thread-safe. */
struct ag_stack_entry *ag_stack_get(struct ag_stack_table *t, uint32_t id);

/* Ids 1..N are complete and readable. Thread-safe. */
uint32_t ag_stack_count(struct ag_stack_table *t);

/* Counts an allocation of `size` bytes at stack `id`, in the calling thread's own counters.
 * Silently skipped if they cannot be mapped. Thread-safe. Hook-safe. */
void ag_stack_count_alloc(struct ag_stack_table *t, uint32_t id, uint64_t size);

/* Cumulative allocations of stack `id` over all slots. Thread-safe. */
void ag_stack_allocs(struct ag_stack_table *t, uint32_t id, uint64_t *blocks, uint64_t *bytes);

/* Adds the cumulative allocations of stacks 1..count into blocks[]/bytes[] (index id - 1,
 * zeroed by the caller). Thread-safe; never blocks the threads that count. */
void ag_stack_alloc_sums(struct ag_stack_table *t, uint32_t count, int64_t *blocks, int64_t *bytes);

/* Takes / releases the insert lock (fork handlers). */
void ag_stack_lock(struct ag_stack_table *t);
void ag_stack_unlock(struct ag_stack_table *t);

/* In a forked child, after unlock: the parent's other threads' counts stay, their records go
 * back to the pool. */
void ag_stack_fork_child(struct ag_stack_table *t);

#endif
