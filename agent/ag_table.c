/* SPDX-License-Identifier: MIT */
/* ag_table.c - sharded open-addressing table of live blocks, and the cells they are counted in.
 *
 * The shard is chosen from the address's 1 MiB region, the slot from a hash of the whole
 * address. Deletion shifts the following cluster back instead of leaving tombstones: a table
 * under steady churn never degrades and never needs a rehash. Growing and shrinking map a new
 * region and rehash under the shard lock; mmap is a system call, not the allocator, so holding
 * the lock across it cannot deadlock with the target.
 *
 * Counting happens outside the shard lock, in the calling thread's own tally record (no locked
 * instruction): an insert adds the block to its cell, a remove takes it out of the cell it was
 * stored with, whichever thread made it. The cell index is replaced, never resized in place,
 * as the stack index is (ag_stack.c): a reader of an old index misses at worst and retries
 * under the lock.
 */
#include "ag_table.h"

#include <errno.h>
#include <string.h>

#include "ag_mem.h"

#define CELL_INDEX_MIN 1024u
#define SIZE_BIG       UINT32_MAX /* the slot's size field: the size is in the side list */

static inline uint64_t hash_ptr(uintptr_t p)
{
    uint64_t h = (uint64_t)p >> 4; /* blocks are at least 16-byte aligned */
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

/* The shard comes from the block's 1 MiB region, not from the whole address: glibc gives each
 * thread its own arena, so a thread's blocks land in shards no other thread touches, and the
 * shard locks stay in that core's cache. */
static inline struct ag_shard *shard_of(struct ag_table *t, uintptr_t p)
{
    uint64_t r = (uint64_t)p >> 20;
    r *= 0x9e3779b97f4a7c15ull;
    return &t->shards[(r >> 56) & (AG_TABLE_SHARDS - 1)];
}

/* ---------------------------------------------------------------- cells */

static inline uint64_t hash_cell(uint32_t stack_id, uint32_t epoch)
{
    uint64_t h = ((uint64_t)stack_id << 32 | epoch) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h | ((uint64_t)1 << 32); /* the tag half is never 0 */
}

/* The cell of `id`, or NULL. */
static struct ag_table_cell *cell_get(struct ag_table_cells *c, uint32_t id)
{
    if (id == 0 || id > AG_TABLE_MAX_CELLS) {
        return NULL;
    }
    uint32_t k = (id - 1) >> AG_TABLE_CELL_CHUNK_BITS;
    struct ag_table_cell *chunk = atomic_load_explicit(&c->chunks[k], memory_order_acquire);
    return chunk ? &chunk[(id - 1) & ((1u << AG_TABLE_CELL_CHUNK_BITS) - 1)] : NULL;
}

/* Searches `ix` for the pair; returns its cell id or 0. */
static uint32_t cell_find(struct ag_table_cells *c, struct ag_table_cell_index *ix, uint64_t h,
                          uint32_t stack_id, uint32_t epoch)
{
    uint64_t tag = h >> 32;
    for (uint64_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
        uint64_t v = atomic_load_explicit(&ix->slots[i], memory_order_acquire);
        if (v == 0) {
            return 0;
        }
        if ((v >> 32) == tag) {
            const struct ag_table_cell *e = cell_get(c, (uint32_t)v);
            if (e && e->stack_id == stack_id && e->epoch == epoch) {
                return (uint32_t)v;
            }
        }
    }
}

static void cell_index_put(struct ag_table_cell_index *ix, uint64_t h, uint32_t id)
{
    uint64_t i = h & ix->mask;
    while (atomic_load_explicit(&ix->slots[i], memory_order_relaxed)) {
        i = (i + 1) & ix->mask;
    }
    atomic_store_explicit(&ix->slots[i], (h >> 32) << 32 | id, memory_order_release);
}

/* The cell id of (stack_id, epoch), interned on first sight. Returns 0 when out of memory or
 * out of ids. */
static uint32_t cell_of(struct ag_table_cells *c, uint32_t stack_id, uint32_t epoch)
{
    uint64_t h = hash_cell(stack_id, epoch);
    struct ag_table_cell_index *ix = atomic_load_explicit(&c->index, memory_order_acquire);
    uint32_t id = ix ? cell_find(c, ix, h, stack_id, epoch) : 0;
    if (id) {
        return id;
    }
    ag_lock_take(&c->lock);
    ix = atomic_load_explicit(&c->index, memory_order_relaxed);
    if (ix && (id = cell_find(c, ix, h, stack_id, epoch)) != 0) {
        goto out;
    }
    uint32_t n = atomic_load_explicit(&c->count, memory_order_relaxed);
    if (n >= AG_TABLE_MAX_CELLS) {
        goto out;
    }
    uint32_t k = n >> AG_TABLE_CELL_CHUNK_BITS;
    if (!atomic_load_explicit(&c->chunks[k], memory_order_relaxed)) {
        struct ag_table_cell *chunk = ag_mem_map(sizeof(*chunk) << AG_TABLE_CELL_CHUNK_BITS);
        if (!chunk) {
            goto out;
        }
        atomic_store_explicit(&c->chunks[k], chunk, memory_order_release);
    }
    if (!ix || (uint64_t)(n + 1) * 2 > ix->mask + 1) {
        uint64_t slots = ix ? (ix->mask + 1) * 2 : CELL_INDEX_MIN;
        struct ag_table_cell_index *nx = ag_mem_map(sizeof(*nx) + slots * sizeof(nx->slots[0]));
        if (!nx) {
            goto out;
        }
        nx->mask = slots - 1;
        for (uint32_t i = 1; i <= n; i++) {
            const struct ag_table_cell *e = cell_get(c, i);
            cell_index_put(nx, hash_cell(e->stack_id, e->epoch), i);
        }
        /* The old index stays mapped: a reader may still be in it. */
        atomic_store_explicit(&c->index, nx, memory_order_release);
        ix = nx;
    }
    struct ag_table_cell *e = &atomic_load_explicit(
        &c->chunks[k], memory_order_relaxed)[n & ((1u << AG_TABLE_CELL_CHUNK_BITS) - 1)];
    e->stack_id = stack_id;
    e->epoch = epoch;
    id = n + 1;
    atomic_store_explicit(&c->count, id, memory_order_release);
    cell_index_put(ix, h, id);
out:
    ag_lock_release(&c->lock);
    return id;
}

uint32_t ag_table_cell_count(struct ag_table *t)
{
    return atomic_load_explicit(&t->cells.count, memory_order_acquire);
}

bool ag_table_cell(struct ag_table *t, uint32_t id, struct ag_table_cell *out)
{
    if (id == 0 || id > ag_table_cell_count(t)) {
        return false;
    }
    const struct ag_table_cell *e = cell_get(&t->cells, id);
    if (!e) {
        return false;
    }
    *out = *e;
    return true;
}

void ag_table_cell_sums(struct ag_table *t, uint32_t count, int64_t *blocks, int64_t *bytes)
{
    ag_tally_sum_all(&t->tally, count, blocks, bytes);
}

/* ---------------------------------------------------------------- shards */

#define CELL_MASK 0xffffffu
#define DIST_FAR  255u

static inline uint64_t meta_pack(uint64_t size, uint32_t dist, uint32_t cell)
{
    uint64_t s32 = size >= SIZE_BIG ? SIZE_BIG : size;
    return s32 << 32 | (uint64_t)(dist < DIST_FAR ? dist : DIST_FAR) << 24 | cell;
}

static inline uint32_t meta_cell(uint64_t meta)
{
    return (uint32_t)meta & CELL_MASK;
}

/* The slot's distance from its home slot in a table of `mask` + 1 slots. */
static inline uint32_t slot_dist(const struct ag_table_slot *b, uint32_t j, uint32_t mask)
{
    uint32_t d = (uint32_t)(b->meta >> 24) & 0xffu;
    return d != DIST_FAR ? d : (j - (uint32_t)hash_ptr(b->ptr)) & mask;
}

/* `meta` with its distance set to `dist`. */
static inline uint64_t meta_with_dist(uint64_t meta, uint32_t dist)
{
    return (meta & ~((uint64_t)0xff << 24)) | (uint64_t)(dist < DIST_FAR ? dist : DIST_FAR) << 24;
}

/* The size of the block in slot `b` of locked shard `s`. */
static uint64_t slot_size(const struct ag_shard *s, const struct ag_table_slot *b)
{
    uint64_t s32 = b->meta >> 32;
    if (s32 != SIZE_BIG) {
        return s32;
    }
    for (uint32_t i = 0; i < s->n_big; i++) {
        if (s->big[i].ptr == b->ptr) {
            return s->big[i].size;
        }
    }
    return SIZE_BIG; /* not reached: every big slot has its entry */
}

/* Records the size of a big block in the side list. Returns 0 or -ENOMEM. */
static int big_put(struct ag_shard *s, uintptr_t ptr, uint64_t size)
{
    for (uint32_t i = 0; i < s->n_big; i++) {
        if (s->big[i].ptr == ptr) {
            s->big[i].size = size;
            return 0;
        }
    }
    if (s->n_big == s->cap_big) {
        uint32_t cap = s->cap_big ? s->cap_big * 2 : 64;
        struct ag_table_big *big = ag_mem_map((size_t)cap * sizeof(*big));
        if (!big) {
            return -ENOMEM;
        }
        if (s->n_big) {
            memcpy(big, s->big, (size_t)s->n_big * sizeof(*big));
        }
        ag_mem_unmap(s->big, (size_t)s->cap_big * sizeof(*big));
        s->big = big;
        s->cap_big = cap;
    }
    s->big[s->n_big++] = (struct ag_table_big){.ptr = ptr, .size = size};
    return 0;
}

/* Forgets the side-list entry of `ptr`, if any. */
static void big_drop(struct ag_shard *s, uintptr_t ptr)
{
    for (uint32_t i = 0; i < s->n_big; i++) {
        if (s->big[i].ptr == ptr) {
            s->big[i] = s->big[--s->n_big];
            return;
        }
    }
}

/* Moves every entry of `s` into a fresh region of `cap` slots. Returns 0 or -ENOMEM (then the
 * shard is unchanged). Called with the shard locked. */
static int shard_resize(struct ag_shard *s, uint32_t cap)
{
    struct ag_table_slot *slots = ag_mem_map((size_t)cap * sizeof(*slots));
    if (!slots) {
        return -ENOMEM;
    }
    uint32_t mask = cap - 1;
    for (uint32_t i = 0; i < s->cap; i++) {
        const struct ag_table_slot *b = &s->slots[i];
        if (!b->ptr) {
            continue;
        }
        uint32_t home = (uint32_t)hash_ptr(b->ptr) & mask;
        uint32_t j = home;
        while (slots[j].ptr) {
            j = (j + 1) & mask;
        }
        slots[j].ptr = b->ptr;
        slots[j].meta = meta_with_dist(b->meta, (j - home) & mask);
    }
    ag_mem_unmap(s->slots, (size_t)s->cap * sizeof(*s->slots));
    s->slots = slots;
    s->cap = cap;
    return 0;
}

/* Finds the slot of `ptr` in a locked shard; returns its index or UINT32_MAX. */
static uint32_t shard_find(const struct ag_shard *s, uintptr_t ptr, uint64_t h)
{
    if (s->cap == 0) {
        return UINT32_MAX;
    }
    uint32_t mask = s->cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        if (s->slots[i].ptr == ptr) {
            return i;
        }
        if (!s->slots[i].ptr) {
            return UINT32_MAX;
        }
    }
}

/* Fills *out from slot `b` of locked shard `s`. */
static void slot_block(struct ag_table *t, const struct ag_shard *s, const struct ag_table_slot *b,
                       struct ag_block *out)
{
    struct ag_table_cell cell = {0};
    (void)ag_table_cell(t, meta_cell(b->meta), &cell);
    out->ptr = b->ptr;
    out->size = slot_size(s, b);
    out->stack_id = cell.stack_id;
    out->epoch = cell.epoch;
}

/* Counts a failed insert. */
static int dropped(struct ag_tally_rec *r)
{
    if (r) {
        ag_tally_scalar_add(r, AG_TABLE_DROPPED, 1);
    }
    return -ENOMEM;
}

int ag_table_insert(struct ag_table *t, uintptr_t ptr, uint64_t size, uint32_t stack_id,
                    uint32_t epoch)
{
    struct ag_tally_rec *r = ag_tally_mine(&t->tally);
    uint32_t cell = cell_of(&t->cells, stack_id, epoch);
    if (!r || !cell) {
        return dropped(r);
    }
    uint64_t h = hash_ptr(ptr);
    struct ag_shard *s = shard_of(t, ptr);
    uint32_t old_cell = 0;
    uint64_t old_size = 0;

    ag_lock_take(&s->lock);
    if (s->cap == 0 || (uint64_t)(s->count + 1) * 10 > (uint64_t)s->cap * 7) {
        uint32_t cap = s->cap ? s->cap * 2 : AG_TABLE_MIN_CAP;
        if (cap == 0 || shard_resize(s, cap) < 0) {
            goto fail;
        }
    }
    if (size >= SIZE_BIG && big_put(s, ptr, size) < 0) {
        goto fail;
    }
    uint32_t mask = s->cap - 1;
    uint32_t i = (uint32_t)h & mask;
    while (s->slots[i].ptr && s->slots[i].ptr != ptr) {
        i = (i + 1) & mask;
    }
    struct ag_table_slot *b = &s->slots[i];
    if (b->ptr == ptr) {
        /* A free we never saw (e.g. a block released inside libc); the address is new now. */
        old_cell = meta_cell(b->meta);
        old_size = slot_size(s, b);
        if (old_size >= SIZE_BIG && size < SIZE_BIG) {
            big_drop(s, ptr);
        }
    } else {
        s->count++;
    }
    /* Counted under the shard lock, so a fork (which holds every shard lock) never sees a
     * block without its count or a count without its block. */
    if (!ag_tally_add(r, cell, 1, (int64_t)size)) {
        if (b->ptr != ptr) {
            s->count--;
        }
        goto fail;
    }
    b->ptr = ptr;
    b->meta = meta_pack(size, (i - (uint32_t)h) & mask, cell);
    if (old_cell) {
        (void)ag_tally_add(r, old_cell, -1, -(int64_t)old_size);
    } else {
        ag_tally_scalar_add(r, AG_TABLE_LIVE_BLOCKS, 1);
    }
    ag_tally_scalar_add(r, AG_TABLE_LIVE_BYTES, (int64_t)size - (int64_t)old_size);
    ag_tally_scalar_add(r, AG_TABLE_ALLOCS, 1);
    ag_lock_release(&s->lock);
    return 0;
fail:
    ag_lock_release(&s->lock);
    return dropped(r);
}

/* Takes slot i out of locked shard `s` by backward shift. */
static void shard_delete(struct ag_shard *s, uint32_t i)
{
    /* Pull later entries of the cluster into the hole when their home slot does not lie
     * cyclically in (hole, j], that is when their distance is at least the hole's from j. */
    uint32_t mask = s->cap - 1;
    uint32_t hole = i;
    for (uint32_t j = (i + 1) & mask; s->slots[j].ptr; j = (j + 1) & mask) {
        uint32_t dist = slot_dist(&s->slots[j], j, mask);
        uint32_t gap = (j - hole) & mask;
        if (dist >= gap) {
            s->slots[hole].ptr = s->slots[j].ptr;
            s->slots[hole].meta = meta_with_dist(s->slots[j].meta, dist - gap);
            hole = j;
        }
    }
    s->slots[hole].ptr = 0;
    s->slots[hole].meta = 0;
    s->count--;
    if (s->cap > AG_TABLE_MIN_CAP && (uint64_t)s->count * 8 < s->cap) {
        (void)shard_resize(s, s->cap / 2); /* failure only means we keep the bigger region */
    }
}

bool ag_table_remove(struct ag_table *t, uintptr_t ptr, struct ag_block *out)
{
    uint64_t h = hash_ptr(ptr);
    struct ag_shard *s = shard_of(t, ptr);
    struct ag_tally_rec *r = ag_tally_mine(&t->tally);

    ag_lock_take(&s->lock);
    uint32_t i = shard_find(s, ptr, h);
    if (i == UINT32_MAX) {
        ag_lock_release(&s->lock);
        if (r) {
            ag_tally_scalar_add(r, AG_TABLE_UNKNOWN, 1);
        }
        return false;
    }
    uint32_t cell = meta_cell(s->slots[i].meta);
    uint64_t size = slot_size(s, &s->slots[i]);
    if (size >= SIZE_BIG) {
        big_drop(s, ptr);
    }
    shard_delete(s, i);
    /* Under the lock, as in ag_table_insert. The cell's chunk exists in some record, not
     * necessarily in this thread's: a failure to map it leaves the block counted live. */
    if (r && ag_tally_add(r, cell, -1, -(int64_t)size)) {
        ag_tally_scalar_add(r, AG_TABLE_LIVE_BLOCKS, -1);
        ag_tally_scalar_add(r, AG_TABLE_LIVE_BYTES, -(int64_t)size);
    }
    if (r) {
        ag_tally_scalar_add(r, AG_TABLE_FREES, 1);
    }
    ag_lock_release(&s->lock);
    if (out) {
        struct ag_table_cell c = {0};
        (void)ag_table_cell(t, cell, &c);
        *out =
            (struct ag_block){.ptr = ptr, .size = size, .stack_id = c.stack_id, .epoch = c.epoch};
    }
    return true;
}

bool ag_table_find(struct ag_table *t, uintptr_t ptr, struct ag_block *out)
{
    uint64_t h = hash_ptr(ptr);
    struct ag_shard *s = shard_of(t, ptr);
    ag_lock_take(&s->lock);
    uint32_t i = shard_find(s, ptr, h);
    if (i != UINT32_MAX && out) {
        slot_block(t, s, &s->slots[i], out);
    }
    ag_lock_release(&s->lock);
    return i != UINT32_MAX;
}

bool ag_table_contains(struct ag_table *t, uintptr_t ptr)
{
    return ag_table_find(t, ptr, NULL);
}

void ag_table_walk(struct ag_table *t, ag_table_visit_fn fn, void *ctx)
{
    for (unsigned k = 0; k < AG_TABLE_SHARDS; k++) {
        struct ag_shard *s = &t->shards[k];
        ag_lock_take(&s->lock);
        for (uint32_t i = 0; i < s->cap; i++) {
            if (s->slots[i].ptr) {
                struct ag_block b;
                slot_block(t, s, &s->slots[i], &b);
                fn(ctx, &b);
            }
        }
        ag_lock_release(&s->lock);
    }
}

/* A counter sum as a count: a sum read while threads count may dip below 0. */
static uint64_t clamp(int64_t v)
{
    return v > 0 ? (uint64_t)v : 0;
}

void ag_table_totals(struct ag_table *t, struct ag_table_totals *out)
{
    out->live_blocks = clamp(ag_tally_scalar(&t->tally, AG_TABLE_LIVE_BLOCKS));
    out->live_bytes = clamp(ag_tally_scalar(&t->tally, AG_TABLE_LIVE_BYTES));
    out->allocs = clamp(ag_tally_scalar(&t->tally, AG_TABLE_ALLOCS));
    out->frees = clamp(ag_tally_scalar(&t->tally, AG_TABLE_FREES));
    out->unknown = clamp(ag_tally_scalar(&t->tally, AG_TABLE_UNKNOWN));
    out->dropped = clamp(ag_tally_scalar(&t->tally, AG_TABLE_DROPPED));
}

void ag_table_lock_all(struct ag_table *t)
{
    ag_lock_take(&t->cells.lock);
    for (unsigned k = 0; k < AG_TABLE_SHARDS; k++) {
        ag_lock_take(&t->shards[k].lock);
    }
}

void ag_table_unlock_all(struct ag_table *t)
{
    for (unsigned k = 0; k < AG_TABLE_SHARDS; k++) {
        ag_lock_release(&t->shards[k].lock);
    }
    ag_lock_release(&t->cells.lock);
}

void ag_table_fork_child(struct ag_table *t)
{
    ag_tally_fork_child(&t->tally);
}
