/* SPDX-License-Identifier: MIT */
/* ag_region.c - the sorted array of regions the program mapped or took from the break. */
#include "ag_region.h"

#include <errno.h>
#include <string.h>

#include "ag_mem.h"

#define FIRST_CAP 256u

/* Makes room for one more region. Returns 0, or -ENOMEM. Called with the lock held. */
static int reserve_one(struct ag_regions *r)
{
    if (r->n < r->cap) {
        return 0;
    }
    size_t cap = r->cap ? r->cap * 2 : FIRST_CAP;
    struct ag_region *items = ag_mem_map(cap * sizeof(*items));
    if (!items) {
        return -ENOMEM;
    }
    if (r->n > 0) {
        memcpy(items, r->items, r->n * sizeof(*items));
    }
    ag_mem_unmap(r->items, r->cap * sizeof(*items));
    r->items = items;
    r->cap = cap;
    return 0;
}

/* Index of the first region that ends after `addr` (n when none). Regions do not overlap, so
 * their ends are sorted like their starts. Called with the lock held. */
static size_t first_ending_after(const struct ag_regions *r, uintptr_t addr)
{
    size_t lo = 0;
    size_t hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->items[mid].end <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Inserts `g` at index `at`. Returns 0, or -ENOMEM. Called with the lock held. */
static int insert_at(struct ag_regions *r, size_t at, const struct ag_region *g)
{
    if (reserve_one(r) != 0) {
        r->dropped++;
        return -ENOMEM;
    }
    memmove(&r->items[at + 1], &r->items[at], (r->n - at) * sizeof(*g));
    r->items[at] = *g;
    r->n++;
    r->bytes += g->end - g->start;
    return 0;
}

/* Removes [s, e) from the regions, filling *cut. Called with the lock held. */
static void remove_locked(struct ag_regions *r, uintptr_t s, uintptr_t e, struct ag_region_cut *cut)
{
    size_t i = first_ending_after(r, s);
    while (i < r->n && r->items[i].start < e) {
        struct ag_region g = r->items[i];
        uintptr_t lo = g.start > s ? g.start : s;
        uintptr_t hi = g.end < e ? g.end : e;
        if (cut->bytes == 0) {
            cut->stack_id = g.stack_id;
            cut->epoch = g.epoch;
        }
        cut->bytes += hi - lo;
        r->bytes -= hi - lo;
        if (g.start < s && g.end > e) {
            /* Cut out of the middle: the region keeps its head, its tail becomes a new one. */
            r->items[i].end = s;
            struct ag_region tail = {e, g.end, g.stack_id, g.epoch};
            r->bytes -= g.end - e; /* insert_at adds the tail back */
            if (insert_at(r, i + 1, &tail) != 0) {
                cut->bytes += g.end - e; /* the tail is lost with the cut */
            }
            return;
        }
        if (g.start < s) {
            r->items[i].end = s;
            i++;
        } else if (g.end > e) {
            r->items[i].start = e;
            return;
        } else {
            memmove(&r->items[i], &r->items[i + 1], (r->n - i - 1) * sizeof(g));
            r->n--;
        }
    }
}

/* The end of [start, start + len), clamped at the top of the address space. */
static uintptr_t range_end(uintptr_t start, size_t len)
{
    uintptr_t e;
    if (__builtin_add_overflow(start, (uintptr_t)len, &e)) {
        return UINTPTR_MAX;
    }
    return e;
}

int ag_region_add(struct ag_regions *r, uintptr_t start, size_t len, uint32_t stack_id,
                  uint32_t epoch)
{
    if (len == 0) {
        return 0;
    }
    struct ag_region g = {start, range_end(start, len), stack_id, epoch};
    struct ag_region_cut cut = {0};
    ag_lock_take(&r->lock);
    remove_locked(r, g.start, g.end, &cut);
    int rc = insert_at(r, first_ending_after(r, g.start), &g);
    ag_lock_release(&r->lock);
    return rc;
}

bool ag_region_remove(struct ag_regions *r, uintptr_t start, size_t len, struct ag_region_cut *cut)
{
    struct ag_region_cut local = {0};
    if (len > 0) {
        ag_lock_take(&r->lock);
        remove_locked(r, start, range_end(start, len), &local);
        ag_lock_release(&r->lock);
    }
    if (cut) {
        *cut = local;
    }
    return local.bytes > 0;
}

void ag_region_walk(struct ag_regions *r, ag_region_visit_fn fn, void *ctx)
{
    ag_lock_take(&r->lock);
    for (size_t i = 0; i < r->n; i++) {
        fn(ctx, &r->items[i]);
    }
    ag_lock_release(&r->lock);
}

size_t ag_region_count(struct ag_regions *r)
{
    ag_lock_take(&r->lock);
    size_t n = r->n;
    ag_lock_release(&r->lock);
    return n;
}

void ag_region_lock(struct ag_regions *r)
{
    ag_lock_take(&r->lock);
}

void ag_region_unlock(struct ag_regions *r)
{
    ag_lock_release(&r->lock);
}

void ag_region_reset(struct ag_regions *r)
{
    ag_mem_unmap(r->items, r->cap * sizeof(*r->items));
    memset(r, 0, sizeof(*r));
}
