/* SPDX-License-Identifier: MIT */
/* ag_table.h - the agent's table of live blocks and its counts by site and round of birth.
 *
 * Blocks: sharded by address region; each shard is an open-addressing table of 16-byte slots
 * (address; size, probe distance and cell packed in one word, sizes from 4 GiB in a small side
 * list of the shard), linear probing with backward-shift deletion (no tombstones; the stored
 * distance spares rehashing the entries it moves), in its own mmap region,
 * behind its own short spin lock. A shard grows when it is 70% full and shrinks when it is under
 * 1/8 full, so the table's memory follows what is live, never what happened.
 *
 * Cells: each (stack id, round of birth) pair that ever had a block gets a dense cell id,
 * interned once (lock-free lookup, locked insert). Every insert and remove counts the block in
 * (or out of) its cell in the calling thread's own counters (ag_tally.h), with the table's
 * totals, so a snapshot reads the live blocks and bytes of every site and round from the
 * counters alone, without locking or walking the blocks. Cells are never removed: their number
 * is that of the (site, round) pairs seen. Hook-safe throughout.
 */
#ifndef AGENT_AG_TABLE_H
#define AGENT_AG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag_lock.h"
#include "ag_tally.h"

#define AG_TABLE_SHARDS    256u                  /* power of two */
#define AG_TABLE_MIN_CAP   64u                   /* entries per shard, power of two */
#define AG_TABLE_MAX_CELLS (AG_TALLY_MAX_ID - 1) /* fits the slot's 24 bits */

/* A live block as the table's users see it. */
struct ag_block {
    uintptr_t ptr; /* 0 = empty slot */
    uint64_t size;
    uint32_t stack_id;
    uint32_t epoch;
};

/* One slot: the address; the size (UINT32_MAX: in the shard's side list), the distance from
 * the slot the address hashes to (255: that far or more, recomputed from the hash), and the
 * cell. The distance lets a deletion shift the cluster back without hashing its entries. */
struct ag_table_slot {
    uintptr_t ptr; /* 0 = empty */
    uint64_t meta; /* size32 << 32 | distance8 << 24 | cell id */
};

/* A block of 4 GiB or more: its size, outside the slot. */
struct ag_table_big {
    uintptr_t ptr;
    uint64_t size;
};

struct ag_shard {
    struct ag_lock lock;
    uint32_t cap;   /* slots, power of two; 0 = not yet mapped */
    uint32_t count; /* live blocks */
    struct ag_table_slot *slots;
    struct ag_table_big *big; /* blocks of 4 GiB or more, unsorted */
    uint32_t n_big;
    uint32_t cap_big;
} __attribute__((aligned(64)));

/* A (stack id, round of birth) pair. */
struct ag_table_cell {
    uint32_t stack_id;
    uint32_t epoch;
};

struct ag_table_cell_index {
    uint64_t mask;
    _Atomic uint64_t slots[]; /* (stack id, epoch) hash high 32 bits << 32 | cell id; 0 = empty */
};

#define AG_TABLE_CELL_CHUNK_BITS 10u
#define AG_TABLE_CELL_CHUNKS     (AG_TALLY_MAX_ID >> AG_TABLE_CELL_CHUNK_BITS)

struct ag_table_cells {
    struct ag_lock lock; /* inserts */
    _Atomic(struct ag_table_cell_index *) index;
    _Atomic uint32_t count; /* ids 1..count are complete */
    struct ag_table_cell *_Atomic chunks[AG_TABLE_CELL_CHUNKS];
};

/* The tally's scalar counters. */
enum ag_table_scalar {
    AG_TABLE_LIVE_BLOCKS,
    AG_TABLE_LIVE_BYTES,
    AG_TABLE_ALLOCS,  /* blocks ever inserted */
    AG_TABLE_FREES,   /* blocks ever removed */
    AG_TABLE_UNKNOWN, /* removals of addresses not in the table */
    AG_TABLE_DROPPED, /* inserts that failed for lack of memory */
};

struct ag_table {
    struct ag_shard shards[AG_TABLE_SHARDS];
    struct ag_table_cells cells;
    struct ag_tally tally; /* per cell: live blocks and bytes; the scalars above */
};

/* Totals over all threads' counters (exact when no thread is counting). */
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
 * totals). Returns 0, or -ENOMEM when the shard could not grow or the cell or counters could not
 * be mapped (the block is then not recorded and counted as dropped). Thread-safe. Hook-safe. */
int ag_table_insert(struct ag_table *t, uintptr_t ptr, uint64_t size, uint32_t stack_id,
                    uint32_t epoch);

/* Removes `ptr`. Returns true and fills *out (may be NULL) when it was live; false (counted as
 * unknown) otherwise. Thread-safe. Hook-safe. */
bool ag_table_remove(struct ag_table *t, uintptr_t ptr, struct ag_block *out);

/* True when `ptr` is live. Thread-safe. Hook-safe. */
bool ag_table_contains(struct ag_table *t, uintptr_t ptr);

/* True and *out filled when `ptr` is live. Thread-safe. Hook-safe. */
bool ag_table_find(struct ag_table *t, uintptr_t ptr, struct ag_block *out);

/* Calls `fn` for every live block, one shard at a time under its lock. Slower than the counters
 * (it decodes every slot); for block lists only. Thread-safe. */
void ag_table_walk(struct ag_table *t, ag_table_visit_fn fn, void *ctx);

/* Sums the threads' counters. Thread-safe. */
void ag_table_totals(struct ag_table *t, struct ag_table_totals *out);

/* Cells 1..N are complete and readable. Thread-safe. */
uint32_t ag_table_cell_count(struct ag_table *t);

/* The (stack id, round) of cell `id` (1..ag_table_cell_count()); false when there is none.
 * Thread-safe. */
bool ag_table_cell(struct ag_table *t, uint32_t id, struct ag_table_cell *out);

/* Adds the live blocks and bytes of cells 1..count into blocks[]/bytes[] (index id - 1, zeroed
 * by the caller). Thread-safe; never blocks the threads that count. */
void ag_table_cell_sums(struct ag_table *t, uint32_t count, int64_t *blocks, int64_t *bytes);

/* Takes / releases every lock of the table (fork handlers). */
void ag_table_lock_all(struct ag_table *t);
void ag_table_unlock_all(struct ag_table *t);

/* In a forked child, after unlock: the counters of the parent's other threads stay, their
 * records go back to the pool. */
void ag_table_fork_child(struct ag_table *t);

#endif
