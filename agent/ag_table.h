/* SPDX-License-Identifier: MIT */
/* ag_table.h - the agent's table of live blocks: address -> size, stack id, round of birth.
 *
 * Sharded by address hash; each shard is an open-addressing table (linear probing,
 * backward-shift deletion, so no tombstones pile up) in its own mmap region, behind its own
 * short spin lock. A shard grows when it is 70% full and shrinks when it is under 1/8 full, so
 * the table's memory follows what is live, never what happened. Hook-safe throughout.
 */
#ifndef AGENT_AG_TABLE_H
#define AGENT_AG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag_lock.h"

#define AG_TABLE_SHARDS  256u /* power of two */
#define AG_TABLE_MIN_CAP 64u  /* entries per shard, power of two */

struct ag_block {
    uintptr_t ptr; /* 0 = empty slot */
    uint64_t size;
    uint32_t stack_id;
    uint32_t epoch;
};

struct ag_shard {
    struct ag_lock lock;
    uint32_t cap;   /* slots, power of two; 0 = not yet mapped */
    uint32_t count; /* live blocks */
    struct ag_block *slots;
    uint64_t live_bytes;
    uint64_t allocs;  /* blocks ever inserted */
    uint64_t frees;   /* blocks ever removed */
    uint64_t unknown; /* removals of addresses not in the table */
    uint64_t dropped; /* inserts that failed for lack of memory */
} __attribute__((aligned(64)));

struct ag_table {
    struct ag_shard shards[AG_TABLE_SHARDS];
};

/* Totals over all shards (a consistent sum per shard, not across shards). */
struct ag_table_totals {
    uint64_t live_bytes;
    uint64_t live_blocks;
    uint64_t allocs;
    uint64_t frees;
    uint64_t unknown;
    uint64_t dropped;
};

/* Called for each live block, with its shard locked: must be quick and must not touch the table. */
typedef void (*ag_table_visit_fn)(void *ctx, const struct ag_block *b);

/* Records a live block. An address already present is replaced (its old size leaves the
 * totals). Returns 0, or -ENOMEM when the shard could not grow (the block is then not
 * recorded and counted as dropped). Thread-safe. Hook-safe. */
int ag_table_insert(struct ag_table *t, uintptr_t ptr, uint64_t size, uint32_t stack_id,
                    uint32_t epoch);

/* Removes `ptr`. Returns true and fills *out (may be NULL) when it was live; false (counted as
 * unknown) otherwise. Thread-safe. Hook-safe. */
bool ag_table_remove(struct ag_table *t, uintptr_t ptr, struct ag_block *out);

/* True when `ptr` is live. Thread-safe. Hook-safe. */
bool ag_table_contains(struct ag_table *t, uintptr_t ptr);

/* Calls `fn` for every live block, one shard at a time under its lock. Thread-safe. */
void ag_table_walk(struct ag_table *t, ag_table_visit_fn fn, void *ctx);

/* Sums the shards' counters. Thread-safe. */
void ag_table_totals(struct ag_table *t, struct ag_table_totals *out);

/* Takes / releases every shard lock (fork handlers). */
void ag_table_lock_all(struct ag_table *t);
void ag_table_unlock_all(struct ag_table *t);

#endif
