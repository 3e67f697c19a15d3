/* SPDX-License-Identifier: MIT */
/* heapgraph.h - the conservative search behind the retainer scan: shortest paths from the roots
 * to every live block reachable from them.
 *
 * Pure computation over memory read through the caller's callback (harness/retain.c reads a
 * stopped process with process_vm_readv; the unit test reads fake memory). Blocks are the live
 * blocks, sorted by address; an edge is any 8-byte aligned word that points into a block (its
 * start or its interior). Roots are memory ranges (searched in the order given: the caller puts
 * globals, TLS, stacks, then registers, so the result is deterministic) and register values.
 * A multi-source breadth-first search (per tier of roots) gives each reached block one parent (a
 * block, or the root word that reached it first) and the offset of the pointer in it; memory: 12
 * bytes per block beside the caller's block list, plus one record per block reached straight from a
 * root, plus the read buffer (a fixed size). Not thread-safe (one graph per caller).
 */
#ifndef ANALYSIS_HEAPGRAPH_H
#define ANALYSIS_HEAPGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HG_NONE 0xffffffffu /* no parent: not reached (yet) */
#define HG_ROOT 0x80000000u /* parent bit: the rest indexes the root hits */

struct hg_block {
    uint64_t addr;
    uint64_t size;
    uint32_t stack_id;
    uint32_t epoch;
};

/* A range of root memory. `tag` is the caller's (kind, object, thread...), returned with hits.
 * Roots are searched tier by tier (0 first): every block reachable from a tier is reached from
 * it before the next tier's roots are looked at, so a block a global holds is reported through
 * the global even when a stale word on a stack points closer to it. */
struct hg_range {
    uint64_t start, end;
    uint32_t tag;
    uint32_t tier;
    bool libc; /* the C library's data: its malloc state's pointers at chunk headers are ignored */
};

/* A register value as a root. */
struct hg_value {
    uint64_t value;
    uint32_t tag;
    uint32_t tier;
};

/* The root word that reached a block first. */
struct hg_hit {
    uint64_t where; /* the word's address (memory root), or 0 (register) */
    uint32_t tag;   /* its range's or value's tag */
};

/* One read of the target's memory: fill buf[0..len); set got to the bytes read from the start
 * (short when the rest is unreadable). */
struct hg_iov {
    uint64_t addr;
    uint8_t *buf;
    size_t len;
    size_t got;
};

/* Reads n pieces. Returns 0, or a negative errno when nothing more can be read (the process is
 * gone): the search then stops, cut. */
typedef int (*hg_read_fn)(void *ctx, struct hg_iov *v, size_t n);
/* True when the search must stop now (deadline, signal). */
typedef bool (*hg_stop_fn)(void *ctx);

struct hg_opts {
    hg_read_fn read;
    hg_stop_fn stop; /* may be NULL */
    void *ctx;
    size_t buf_bytes; /* the read buffer (0: 1 MiB) */
};

struct hg_granule {
    uint64_t key; /* granule number + 1; 0 = empty slot */
    uint32_t lo, hi;
};

struct hg {
    const struct hg_block *blocks; /* borrowed, sorted by address, not overlapping */
    size_t n;
    uint32_t *parent; /* per block: HG_NONE, a block index, or HG_ROOT | hit index */
    uint32_t *offset; /* per block: the pointer's offset in its parent block (hits: 0) */
    uint32_t *queue;
    size_t head, tail; /* the queue's unsearched part */
    struct hg_hit *hits;
    size_t n_hits, cap_hits;
    uint8_t *buf;
    size_t buf_bytes;
    /* The lookup index: an open-addressing table from 64 KiB granules of the address space to
     * the blocks overlapping each ([lo, hi) in blocks), so most words that point at no block
     * cost one probe, and the rest a binary search among a granule's blocks. */
    struct hg_granule *index;
    size_t index_mask;
    /* results */
    bool cut;            /* stopped before the end (stop said so, or a read failed fatally) */
    int read_error;      /* the fatal read error, or 0 */
    uint64_t bytes_read; /* memory read, roots and blocks */
    uint64_t reached;    /* blocks reached */
    uint64_t peak_bytes; /* memory this graph used at most */
};

/* Sorts blocks by address. Can't fail. */
void hg_sort_blocks(struct hg_block *b, size_t n);

/* Drops from sorted blocks[0..n) every block that starts inside the one kept before it (a
 * program's mapping holding memory the allocator also handed out, say), keeping the order.
 * Returns the new count. Can't fail. */
size_t hg_drop_overlaps(struct hg_block *b, size_t n);

/* Index of the block holding address `w` (start or interior), or HG_NONE. */
uint32_t hg_find(const struct hg_block *b, size_t n, uint64_t w);

/* The same through g's index (after hg_init). */
uint32_t hg_lookup(const struct hg *g, uint64_t w);

/* Prepares a search over blocks[0..n) (sorted). Returns 0 or -ENOMEM. */
int hg_init(struct hg *g, const struct hg_block *blocks, size_t n, const struct hg_opts *o);

/* Searches from ranges[0..n_ranges) and values[0..n_values), tier by tier; within a tier the
 * ranges in order, then the values. Returns 0 (see g->cut) or -ENOMEM. */
int hg_search(struct hg *g, const struct hg_opts *o, const struct hg_range *ranges, size_t n_ranges,
              const struct hg_value *values, size_t n_values);

/* The path to block `i`: its hops (block indices, root side first, `i` left out) into
 * hops[0..cap), and *hit the root hit. Returns the number of hops (may exceed cap: only cap
 * stored), or -1 when `i` was not reached. */
long hg_path(const struct hg *g, uint32_t i, uint32_t *hops, size_t cap, const struct hg_hit **hit);

/* Frees what hg_init and hg_search allocated. NULL-safe; idempotent. */
void hg_free(struct hg *g);

#endif
