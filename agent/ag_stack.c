/* SPDX-License-Identifier: MIT */
/* ag_stack.c - interning call stacks into dense ids with lock-free lookup.
 *
 * The index is replaced, never resized in place: a reader that loaded the old index still sees
 * a consistent (older) set of slots, misses at worst, and then takes the insert lock, where the
 * current index is searched again. Old indexes are kept (their total is below twice the current
 * one), since no reader can be proven done with them without a grace period.
 */
#include "ag_stack.h"

#include <string.h>

#include "ag_mem.h"

#define INDEX_MIN_SLOTS 4096u
#define PC_ARENA_FIRST  (1u << 13) /* 64 KiB of pcs in the first region */
#define PC_ARENA_WORDS  (1u << 17) /* each next region twice the last, up to 1 MiB */

/* Two lanes, even and odd frames, so the multiplications of one frame do not wait for the
 * previous frame's: the hash is on every allocation's path. */
uint64_t ag_stack_hash(const uintptr_t *pcs, size_t depth)
{
    uint64_t a = 0x9e3779b97f4a7c15ull ^ depth;
    uint64_t b = 0xc2b2ae3d27d4eb4full;
    size_t i = 0;
    for (; i + 1 < depth; i += 2) {
        a ^= (uint64_t)pcs[i];
        b ^= (uint64_t)pcs[i + 1];
        a *= 0xff51afd7ed558ccdull;
        b *= 0xc4ceb9fe1a85ec53ull;
        a ^= a >> 32;
        b ^= b >> 29;
    }
    if (i < depth) {
        a ^= (uint64_t)pcs[i];
        a *= 0xff51afd7ed558ccdull;
        a ^= a >> 32;
    }
    uint64_t h = (a ^ (b >> 1)) * 0x9e3779b97f4a7c15ull;
    h ^= (h >> 32) ^ b;
    return h | 1; /* never 0 */
}

struct ag_stack_entry *ag_stack_get(struct ag_stack_table *t, uint32_t id)
{
    if (id == 0) {
        return NULL;
    }
    uint32_t k = (id - 1) >> AG_STACK_CHUNK_BITS;
    if (k >= AG_STACK_MAX_CHUNKS) {
        return NULL;
    }
    struct ag_stack_entry *chunk = atomic_load_explicit(&t->chunks[k], memory_order_acquire);
    if (!chunk) {
        return NULL;
    }
    return &chunk[(id - 1) & ((1u << AG_STACK_CHUNK_BITS) - 1)];
}

uint32_t ag_stack_count(struct ag_stack_table *t)
{
    return atomic_load_explicit(&t->count, memory_order_acquire);
}

static bool same_stack(const struct ag_stack_entry *e, uint64_t hash, const uintptr_t *pcs,
                       size_t depth)
{
    return e->hash == hash && e->depth == depth &&
           (depth == 0 || memcmp(e->pcs, pcs, depth * sizeof(*pcs)) == 0);
}

/* Searches `ix` for the stack; returns its id or 0. */
static uint32_t index_find(struct ag_stack_table *t, struct ag_stack_index *ix, uint64_t hash,
                           const uintptr_t *pcs, size_t depth)
{
    uint64_t tag = hash >> 32;
    for (uint64_t i = hash & ix->mask;; i = (i + 1) & ix->mask) {
        uint64_t v = atomic_load_explicit(&ix->slots[i], memory_order_acquire);
        if (v == 0) {
            return 0;
        }
        if ((v >> 32) == tag) {
            struct ag_stack_entry *e = ag_stack_get(t, (uint32_t)v);
            if (e && same_stack(e, hash, pcs, depth)) {
                return (uint32_t)v;
            }
        }
    }
}

static void index_put(struct ag_stack_index *ix, uint64_t hash, uint32_t id)
{
    uint64_t i = hash & ix->mask;
    while (atomic_load_explicit(&ix->slots[i], memory_order_relaxed)) {
        i = (i + 1) & ix->mask;
    }
    atomic_store_explicit(&ix->slots[i], ((hash >> 32) << 32) | id, memory_order_release);
}

/* Makes room for one more id: a bigger index at half load. Called under insert_lock.
 * Returns the index to insert into, or NULL when out of memory. */
static struct ag_stack_index *index_reserve(struct ag_stack_table *t, uint32_t n)
{
    struct ag_stack_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);
    if (ix && (uint64_t)(n + 1) * 2 <= ix->mask + 1) {
        return ix;
    }
    uint64_t slots = ix ? (ix->mask + 1) * 2 : INDEX_MIN_SLOTS;
    struct ag_stack_index *nx = ag_mem_map(sizeof(*nx) + slots * sizeof(nx->slots[0]));
    if (!nx) {
        return NULL;
    }
    nx->mask = slots - 1;
    for (uint32_t id = 1; id <= n; id++) {
        struct ag_stack_entry *e = ag_stack_get(t, id);
        index_put(nx, e->hash, id);
    }
    atomic_store_explicit(&t->index, nx, memory_order_release);
    return nx;
}

uint32_t ag_stack_intern(struct ag_stack_table *t, const uintptr_t *pcs, size_t depth,
                         uint16_t flags)
{
    if (depth > AG_STACK_MAX_DEPTH) {
        depth = AG_STACK_MAX_DEPTH;
    }
    uint64_t hash = ag_stack_hash(pcs, depth);
    struct ag_stack_index *ix = atomic_load_explicit(&t->index, memory_order_acquire);
    if (ix) {
        uint32_t id = index_find(t, ix, hash, pcs, depth);
        if (id) {
            return id;
        }
    }

    uint32_t id = 0;
    ag_lock_take(&t->insert_lock);
    ix = atomic_load_explicit(&t->index, memory_order_relaxed);
    if (ix && (id = index_find(t, ix, hash, pcs, depth)) != 0) {
        goto out;
    }
    uint32_t n = atomic_load_explicit(&t->count, memory_order_relaxed);
    uint32_t k = n >> AG_STACK_CHUNK_BITS;
    if (k >= AG_STACK_MAX_CHUNKS) {
        goto out;
    }
    if (!atomic_load_explicit(&t->chunks[k], memory_order_relaxed)) {
        struct ag_stack_entry *chunk = ag_mem_map(sizeof(*chunk) << AG_STACK_CHUNK_BITS);
        if (!chunk) {
            goto out;
        }
        atomic_store_explicit(&t->chunks[k], chunk, memory_order_release);
    }
    if (depth > 0 && t->pc_left < depth) {
        /* Small programs keep a small region: the agent's mapped bytes are subtracted from
         * the program's RSS by the analysis, so untouched reserve would hide RSS growth. */
        size_t words = t->pc_region ? t->pc_region * 2 : PC_ARENA_FIRST;
        if (words > PC_ARENA_WORDS) {
            words = PC_ARENA_WORDS;
        }
        uintptr_t *arena = ag_mem_map(words * sizeof(*arena));
        if (!arena) {
            goto out;
        }
        t->pc_arena = arena;
        t->pc_left = words;
        t->pc_region = words;
    }
    ix = index_reserve(t, n);
    if (!ix) {
        goto out;
    }
    uintptr_t *stored = t->pc_arena;
    if (depth > 0) {
        memcpy(stored, pcs, depth * sizeof(*pcs));
        t->pc_arena += depth;
        t->pc_left -= depth;
    }

    struct ag_stack_entry *chunk = atomic_load_explicit(&t->chunks[k], memory_order_relaxed);
    struct ag_stack_entry *e = &chunk[n & ((1u << AG_STACK_CHUNK_BITS) - 1)];
    e->hash = hash;
    e->pcs = stored;
    e->depth = (uint16_t)depth;
    e->flags = flags;
    id = n + 1;
    /* Publish the entry (count) before the index slot that leads to it. */
    atomic_store_explicit(&t->count, id, memory_order_release);
    index_put(ix, hash, id);
out:
    ag_lock_release(&t->insert_lock);
    return id;
}

void ag_stack_lock(struct ag_stack_table *t)
{
    ag_lock_take(&t->insert_lock);
}

void ag_stack_unlock(struct ag_stack_table *t)
{
    ag_lock_release(&t->insert_lock);
}

void ag_stack_count_alloc(struct ag_stack_table *t, uint32_t id, uint64_t size)
{
    if (id == 0) {
        return;
    }
    struct ag_tally_rec *r = ag_tally_mine(&t->allocs);
    if (r) {
        (void)ag_tally_add(r, id, 1, (int64_t)size);
    }
}

void ag_stack_allocs(struct ag_stack_table *t, uint32_t id, uint64_t *blocks, uint64_t *bytes)
{
    int64_t n;
    int64_t b;
    ag_tally_sum(&t->allocs, id, &n, &b);
    *blocks = n > 0 ? (uint64_t)n : 0;
    *bytes = b > 0 ? (uint64_t)b : 0;
}

void ag_stack_alloc_sums(struct ag_stack_table *t, uint32_t count, int64_t *blocks, int64_t *bytes)
{
    ag_tally_sum_all(&t->allocs, count, blocks, bytes);
}

void ag_stack_fork_child(struct ag_stack_table *t)
{
    ag_tally_fork_child(&t->allocs);
}
