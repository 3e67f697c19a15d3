/* SPDX-License-Identifier: MIT */
/* ag_table.c - sharded open-addressing table of live blocks.
 *
 * The shard is chosen from the address's 1 MiB region, the slot from a hash of the whole
 * address. Deletion shifts the following cluster back instead
 * of leaving tombstones: a table under steady churn never degrades and never needs a rehash.
 * Growing and shrinking map a new region and rehash under the shard lock; mmap is a system call,
 * not the allocator, so holding the lock across it cannot deadlock with the target.
 */
#include "ag_table.h"

#include <errno.h>
#include <string.h>

#include "ag_mem.h"

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
 * shard locks and counters stay in that core's cache. */
static inline struct ag_shard *shard_of(struct ag_table *t, uintptr_t p)
{
    uint64_t r = (uint64_t)p >> 20;
    r *= 0x9e3779b97f4a7c15ull;
    return &t->shards[(r >> 56) & (AG_TABLE_SHARDS - 1)];
}

/* Moves every entry of `s` into a fresh region of `cap` slots. Returns 0 or -ENOMEM (then the
 * shard is unchanged). Called with the shard locked. */
static int shard_resize(struct ag_shard *s, uint32_t cap)
{
    struct ag_block *slots = ag_mem_map((size_t)cap * sizeof(*slots));
    if (!slots) {
        return -ENOMEM;
    }
    uint32_t mask = cap - 1;
    for (uint32_t i = 0; i < s->cap; i++) {
        const struct ag_block *b = &s->slots[i];
        if (!b->ptr) {
            continue;
        }
        uint32_t j = (uint32_t)hash_ptr(b->ptr) & mask;
        while (slots[j].ptr) {
            j = (j + 1) & mask;
        }
        slots[j] = *b;
    }
    ag_mem_unmap(s->slots, (size_t)s->cap * sizeof(*s->slots));
    s->slots = slots;
    s->cap = cap;
    return 0;
}

int ag_table_insert(struct ag_table *t, uintptr_t ptr, uint64_t size, uint32_t stack_id,
                    uint32_t epoch)
{
    uint64_t h = hash_ptr(ptr);
    struct ag_shard *s = shard_of(t, ptr);
    int rc = 0;

    ag_lock_take(&s->lock);
    if (s->cap == 0 || (uint64_t)(s->count + 1) * 10 > (uint64_t)s->cap * 7) {
        uint32_t cap = s->cap ? s->cap * 2 : AG_TABLE_MIN_CAP;
        if (cap == 0 || shard_resize(s, cap) < 0) {
            s->dropped++;
            rc = -ENOMEM;
            goto out;
        }
    }
    uint32_t mask = s->cap - 1;
    uint32_t i = (uint32_t)h & mask;
    while (s->slots[i].ptr && s->slots[i].ptr != ptr) {
        i = (i + 1) & mask;
    }
    struct ag_block *b = &s->slots[i];
    if (b->ptr == ptr) {
        /* A free we never saw (e.g. a block released inside libc); the address is new now. */
        s->live_bytes -= b->size;
    } else {
        s->count++;
    }
    b->ptr = ptr;
    b->size = size;
    b->stack_id = stack_id;
    b->epoch = epoch;
    s->live_bytes += size;
    s->allocs++;
out:
    ag_lock_release(&s->lock);
    return rc;
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

bool ag_table_remove(struct ag_table *t, uintptr_t ptr, struct ag_block *out)
{
    uint64_t h = hash_ptr(ptr);
    struct ag_shard *s = shard_of(t, ptr);

    ag_lock_take(&s->lock);
    uint32_t i = shard_find(s, ptr, h);
    if (i == UINT32_MAX) {
        s->unknown++;
        ag_lock_release(&s->lock);
        return false;
    }
    if (out) {
        *out = s->slots[i];
    }
    s->live_bytes -= s->slots[i].size;
    s->count--;
    s->frees++;

    /* Backward-shift deletion: pull later entries of the cluster into the hole when their home
     * slot does not lie cyclically in (hole, j]. */
    uint32_t mask = s->cap - 1;
    uint32_t hole = i;
    for (uint32_t j = (i + 1) & mask; s->slots[j].ptr; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)hash_ptr(s->slots[j].ptr) & mask;
        bool stays = (hole <= j) ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            s->slots[hole] = s->slots[j];
            hole = j;
        }
    }
    s->slots[hole].ptr = 0;

    if (s->cap > AG_TABLE_MIN_CAP && (uint64_t)s->count * 8 < s->cap) {
        (void)shard_resize(s, s->cap / 2); /* failure only means we keep the bigger region */
    }
    ag_lock_release(&s->lock);
    return true;
}

bool ag_table_contains(struct ag_table *t, uintptr_t ptr)
{
    uint64_t h = hash_ptr(ptr);
    struct ag_shard *s = shard_of(t, ptr);
    ag_lock_take(&s->lock);
    bool found = shard_find(s, ptr, h) != UINT32_MAX;
    ag_lock_release(&s->lock);
    return found;
}

void ag_table_walk(struct ag_table *t, ag_table_visit_fn fn, void *ctx)
{
    for (unsigned k = 0; k < AG_TABLE_SHARDS; k++) {
        struct ag_shard *s = &t->shards[k];
        ag_lock_take(&s->lock);
        for (uint32_t i = 0; i < s->cap; i++) {
            if (s->slots[i].ptr) {
                fn(ctx, &s->slots[i]);
            }
        }
        ag_lock_release(&s->lock);
    }
}

void ag_table_totals(struct ag_table *t, struct ag_table_totals *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned k = 0; k < AG_TABLE_SHARDS; k++) {
        struct ag_shard *s = &t->shards[k];
        ag_lock_take(&s->lock);
        out->live_bytes += s->live_bytes;
        out->live_blocks += s->count;
        out->allocs += s->allocs;
        out->frees += s->frees;
        out->unknown += s->unknown;
        out->dropped += s->dropped;
        ag_lock_release(&s->lock);
    }
}

void ag_table_lock_all(struct ag_table *t)
{
    for (unsigned k = 0; k < AG_TABLE_SHARDS; k++) {
        ag_lock_take(&t->shards[k].lock);
    }
}

void ag_table_unlock_all(struct ag_table *t)
{
    for (unsigned k = 0; k < AG_TABLE_SHARDS; k++) {
        ag_lock_release(&t->shards[k].lock);
    }
}
