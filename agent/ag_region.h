/* SPDX-License-Identifier: MIT */
/* ag_region.h - memory the program takes outside malloc: anonymous mappings and the break.
 *
 * Each region is a byte range [start, end) with the stack id that made it and its round of
 * birth, like a block of the live table; the snapshot sends regions as blocks of their stack, so
 * the analysis treats them like any other allocation (ag_snap.c). The stacks carry
 * PROTO_STACK_MMAP or PROTO_STACK_BRK so a site says where its memory came from.
 *
 * Regions are kept sorted by start in one array (mapped with ag_mem_map, doubled when full)
 * behind one spin lock: programs map far less often than they call malloc. Removing a range
 * cuts every region it overlaps, so unmapping the middle of a mapping leaves two regions with
 * the stack and round of the original. Hook-safe: no heap, no stdio; the lock is never held
 * across a system call other than the array's own growth.
 */
#ifndef AGENT_AG_REGION_H
#define AGENT_AG_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag_lock.h"

struct ag_region {
    uintptr_t start;
    uintptr_t end; /* exclusive; start < end */
    uint32_t stack_id;
    uint32_t epoch;
};

struct ag_regions {
    struct ag_lock lock;
    struct ag_region *items; /* sorted by start, no two overlap */
    size_t n;
    size_t cap;
    uint64_t bytes;   /* sum of end - start */
    uint64_t dropped; /* regions not recorded for lack of memory */
};

/* What ag_region_remove() took out: how many bytes, and the stack and round of the first
 * region it cut (to put a range back when the system call that was to remove it failed). */
struct ag_region_cut {
    uint64_t bytes;
    uint32_t stack_id;
    uint32_t epoch;
};

/* Records [start, start + len) for `stack_id`, born in `epoch`. Whatever was recorded in that
 * range before is removed first (a MAP_FIXED mapping replaces what it covers). Returns 0, or
 * -ENOMEM when the array could not grow (counted in `dropped`). len 0 is a no-op. Thread-safe.
 * Hook-safe. */
int ag_region_add(struct ag_regions *r, uintptr_t start, size_t len, uint32_t stack_id,
                  uint32_t epoch);

/* Removes [start, start + len) from every region it overlaps, splitting a region cut in its
 * middle. Returns true when any byte was recorded there, and fills *cut (may be NULL). A cut
 * that would need a new entry when the array cannot grow drops the region's tail (counted in
 * `dropped`). Thread-safe. Hook-safe. */
bool ag_region_remove(struct ag_regions *r, uintptr_t start, size_t len, struct ag_region_cut *cut);

/* Called for each region with the lock held: must be quick and must not touch `r`. */
typedef void (*ag_region_visit_fn)(void *ctx, const struct ag_region *g);

/* Calls `fn` for every region in address order. Thread-safe. */
void ag_region_walk(struct ag_regions *r, ag_region_visit_fn fn, void *ctx);

/* Regions recorded now. Thread-safe. */
size_t ag_region_count(struct ag_regions *r);

/* Takes / releases the lock (fork handlers). */
void ag_region_lock(struct ag_regions *r);
void ag_region_unlock(struct ag_regions *r);

/* Unmaps the array and empties `r` (tests). Not thread-safe. */
void ag_region_reset(struct ag_regions *r);

#endif
