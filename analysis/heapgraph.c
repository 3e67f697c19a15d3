/* SPDX-License-Identifier: MIT */
/* heapgraph.c - shortest paths from roots to live blocks (see heapgraph.h). */
#include "heapgraph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BUF (1u << 20)
#define MAX_IOV     512u

/* qsort comparator: by address. */
static int by_addr(const void *a, const void *b)
{
    const struct hg_block *x = a;
    const struct hg_block *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void hg_sort_blocks(struct hg_block *b, size_t n)
{
    if (n > 1) {
        qsort(b, n, sizeof(*b), by_addr);
    }
}

size_t hg_drop_overlaps(struct hg_block *b, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0) {
            uint64_t size = b[m - 1].size ? b[m - 1].size : 1;
            if (b[i].addr < b[m - 1].addr + size) {
                continue;
            }
        }
        b[m++] = b[i];
    }
    return m;
}

uint32_t hg_find(const struct hg_block *b, size_t n, uint64_t w)
{
    if (n == 0 || w < b[0].addr) {
        return HG_NONE;
    }
    size_t lo = 0;
    size_t hi = n; /* the last block starting at or below w is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (b[mid].addr <= w) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    uint64_t size = b[lo].size ? b[lo].size : 1; /* malloc(0) still has an address */
    return w - b[lo].addr < size ? (uint32_t)lo : HG_NONE;
}

#define GRANULE_SHIFT 16

static size_t slot_of(uint64_t key, size_t mask)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & mask;
}

/* The slot of granule key `key` (empty when absent). */
static struct hg_granule *granule_slot(const struct hg *g, uint64_t key)
{
    for (size_t i = slot_of(key, g->index_mask);; i = (i + 1) & g->index_mask) {
        struct hg_granule *e = &g->index[i];
        if (e->key == key || e->key == 0) {
            return e;
        }
    }
}

/* The granules block i overlaps: [*first, *last]. */
static void granules_of(const struct hg_block *b, uint64_t *first, uint64_t *last)
{
    uint64_t size = b->size ? b->size : 1;
    *first = b->addr >> GRANULE_SHIFT;
    *last = (b->addr + size - 1) >> GRANULE_SHIFT;
}

/* Builds the index. Returns 0 or -ENOMEM. */
static int build_index(struct hg *g)
{
    /* Distinct granules, counted (blocks are sorted: a granule's blocks are together). */
    size_t count = 0;
    uint64_t prev = UINT64_MAX;
    for (size_t i = 0; i < g->n; i++) {
        uint64_t first, last;
        granules_of(&g->blocks[i], &first, &last);
        count += last - first + 1 - (first == prev);
        prev = last;
    }
    size_t cap = 16;
    while (cap < 2 * count) {
        cap *= 2;
    }
    g->index = calloc(cap, sizeof(*g->index));
    if (!g->index) {
        return -ENOMEM;
    }
    g->index_mask = cap - 1;
    for (size_t i = 0; i < g->n; i++) {
        uint64_t first, last;
        granules_of(&g->blocks[i], &first, &last);
        for (uint64_t k = first; k <= last; k++) {
            struct hg_granule *e = granule_slot(g, k + 1);
            if (e->key == 0) {
                *e = (struct hg_granule){.key = k + 1, .lo = (uint32_t)i};
            }
            e->hi = (uint32_t)i + 1;
        }
    }
    return 0;
}

uint32_t hg_lookup(const struct hg *g, uint64_t w)
{
    const struct hg_granule *e = granule_slot(g, (w >> GRANULE_SHIFT) + 1);
    if (e->key == 0) {
        return HG_NONE;
    }
    uint32_t i = hg_find(g->blocks + e->lo, e->hi - e->lo, w);
    return i == HG_NONE ? HG_NONE : i + e->lo;
}

int hg_init(struct hg *g, const struct hg_block *blocks, size_t n, const struct hg_opts *o)
{
    memset(g, 0, sizeof(*g));
    if (n >= HG_ROOT) {
        return -ENOMEM; /* indices must stay below the root bit */
    }
    g->blocks = blocks;
    g->n = n;
    g->buf_bytes = o->buf_bytes ? o->buf_bytes : DEFAULT_BUF;
    g->buf_bytes &= ~(size_t)7;
    if (g->buf_bytes < 64) {
        g->buf_bytes = 64;
    }
    g->parent = malloc((n ? n : 1) * sizeof(*g->parent));
    g->offset = malloc((n ? n : 1) * sizeof(*g->offset));
    g->queue = malloc((n ? n : 1) * sizeof(*g->queue));
    g->buf = malloc(g->buf_bytes);
    if (!g->parent || !g->offset || !g->queue || !g->buf) {
        hg_free(g);
        return -ENOMEM;
    }
    memset(g->parent, 0xff, (n ? n : 1) * sizeof(*g->parent));
    if (build_index(g) < 0) {
        hg_free(g);
        return -ENOMEM;
    }
    g->peak_bytes = (uint64_t)n * 12u + g->buf_bytes + (g->index_mask + 1) * sizeof(*g->index);
    return 0;
}

/* Records a root hit on block i and queues it. Returns 0 or -ENOMEM. */
static int reach_from_root(struct hg *g, uint32_t i, uint64_t where, uint32_t tag, size_t *tail)
{
    if (g->n_hits == g->cap_hits) {
        size_t nc = g->cap_hits ? g->cap_hits * 2 : 256;
        struct hg_hit *nh = realloc(g->hits, nc * sizeof(*nh));
        if (!nh) {
            return -ENOMEM;
        }
        g->hits = nh;
        g->cap_hits = nc;
    }
    g->hits[g->n_hits] = (struct hg_hit){.where = where, .tag = tag};
    g->parent[i] = HG_ROOT | (uint32_t)g->n_hits;
    g->offset[i] = 0;
    g->n_hits++;
    g->queue[(*tail)++] = i;
    g->reached++;
    uint64_t used = (uint64_t)g->n * 12u + g->buf_bytes + g->cap_hits * sizeof(struct hg_hit) +
                    (g->index_mask + 1) * sizeof(*g->index);
    if (used > g->peak_bytes) {
        g->peak_bytes = used;
    }
    return 0;
}

/* The C library's malloc state points at chunk headers: 16-aligned, in the last 8 bytes of the
 * block before the chunk (or past its end). Such a word from the library's data is no edge. */
static bool malloc_state_word(const struct hg_block *b, uint64_t w)
{
    uint64_t size = b->size ? b->size : 1;
    return (w & 15u) == 0 && w != b->addr && w + 8 >= b->addr + size;
}

/* Scans words[0..n) read from `at` in a root range. Returns 0 or -ENOMEM. */
static int scan_root_words(struct hg *g, const struct hg_range *r, uint64_t at, const uint8_t *p,
                           size_t len, size_t *tail)
{
    for (size_t k = 0; k + 8 <= len; k += 8) {
        uint64_t w;
        memcpy(&w, p + k, 8);
        uint32_t i = hg_lookup(g, w);
        if (i == HG_NONE || g->parent[i] != HG_NONE) {
            continue;
        }
        if (r->libc && malloc_state_word(&g->blocks[i], w)) {
            continue;
        }
        if (reach_from_root(g, i, at + k, r->tag, tail) < 0) {
            return -ENOMEM;
        }
    }
    return 0;
}

/* Reads pieces, noting a fatal error. Returns false when the search must stop. */
static bool read_pieces(struct hg *g, const struct hg_opts *o, struct hg_iov *v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        v[k].got = 0;
    }
    int rc = o->read(o->ctx, v, n);
    for (size_t k = 0; k < n; k++) {
        g->bytes_read += v[k].got;
    }
    if (rc < 0) {
        g->read_error = rc;
        g->cut = true;
        return false;
    }
    return true;
}

static bool stop_now(struct hg *g, const struct hg_opts *o)
{
    if (!g->cut && o->stop && o->stop(o->ctx)) {
        g->cut = true;
    }
    return g->cut;
}

/* The root ranges of one tier, in order. */
static int scan_ranges(struct hg *g, const struct hg_opts *o, const struct hg_range *ranges,
                       size_t n_ranges, uint32_t tier, size_t *tail)
{
    for (size_t r = 0; r < n_ranges; r++) {
        if (ranges[r].tier != tier) {
            continue;
        }
        uint64_t start = (ranges[r].start + 7) & ~(uint64_t)7;
        for (uint64_t at = start; at + 8 <= ranges[r].end;) {
            if (stop_now(g, o)) {
                return 0;
            }
            uint64_t left = ranges[r].end - at;
            size_t len = left < g->buf_bytes ? (size_t)left & ~(size_t)7 : g->buf_bytes;
            struct hg_iov v = {.addr = at, .buf = g->buf, .len = len};
            if (!read_pieces(g, o, &v, 1)) {
                return 0;
            }
            if (scan_root_words(g, &ranges[r], at, g->buf, v.got, tail) < 0) {
                return -ENOMEM;
            }
            at += len;
        }
    }
    return 0;
}

/* Scans one piece of block `from` read at byte `base` of it. */
static void scan_block_words(struct hg *g, uint32_t from, uint64_t base, const uint8_t *p,
                             size_t len, size_t *tail)
{
    for (size_t k = 0; k + 8 <= len; k += 8) {
        uint64_t w;
        memcpy(&w, p + k, 8);
        uint32_t i = hg_lookup(g, w);
        if (i == HG_NONE || g->parent[i] != HG_NONE) {
            continue;
        }
        g->parent[i] = from;
        g->offset[i] = base + k > UINT32_MAX ? UINT32_MAX : (uint32_t)(base + k);
        g->queue[(*tail)++] = i;
        g->reached++;
    }
}

/* The breadth-first search over the queue, reading blocks in batches of pieces. */
static void search_blocks(struct hg *g, const struct hg_opts *o)
{
    struct hg_iov v[MAX_IOV];
    uint32_t who[MAX_IOV];
    uint64_t base[MAX_IOV];
    size_t head = g->head;
    size_t tail = g->tail;
    uint64_t part = 0; /* bytes of queue[head] already read (a block bigger than the buffer) */
    while (head < tail) {
        g->head = head;
        g->tail = tail;
        if (stop_now(g, o)) {
            return;
        }
        size_t n = 0;
        size_t used = 0;
        while (head < tail && n < MAX_IOV && used + 8 <= g->buf_bytes) {
            uint32_t i = g->queue[head];
            const struct hg_block *b = &g->blocks[i];
            uint64_t start = (b->addr + 7) & ~(uint64_t)7;
            uint64_t end = b->addr + b->size;
            uint64_t from = start + part;
            uint64_t left = end > from ? (end - from) & ~(uint64_t)7 : 0;
            size_t room = g->buf_bytes - used;
            size_t len = left < room ? (size_t)left : room;
            if (len > 0) {
                v[n] = (struct hg_iov){.addr = from, .buf = g->buf + used, .len = len};
                who[n] = i;
                base[n] = from - b->addr;
                n++;
                used += len;
            }
            if (len < left) {
                part += len;
                break;
            }
            part = 0;
            head++;
        }
        if (n == 0) {
            continue;
        }
        if (!read_pieces(g, o, v, n)) {
            return;
        }
        for (size_t k = 0; k < n; k++) {
            scan_block_words(g, who[k], base[k], v[k].buf, v[k].got, &tail);
        }
    }
    g->head = head;
    g->tail = tail;
}

int hg_search(struct hg *g, const struct hg_opts *o, const struct hg_range *ranges, size_t n_ranges,
              const struct hg_value *values, size_t n_values)
{
    /* Tiers in increasing order: the smallest tier above the last one done, each round. */
    uint64_t done = 0; /* tiers below this are done */
    for (;;) {
        uint64_t tier = UINT64_MAX;
        for (size_t r = 0; r < n_ranges; r++) {
            tier = ranges[r].tier >= done && ranges[r].tier < tier ? ranges[r].tier : tier;
        }
        for (size_t k = 0; k < n_values; k++) {
            tier = values[k].tier >= done && values[k].tier < tier ? values[k].tier : tier;
        }
        if (tier == UINT64_MAX || g->cut) {
            return 0;
        }
        size_t tail = g->tail;
        int rc = scan_ranges(g, o, ranges, n_ranges, (uint32_t)tier, &tail);
        for (size_t k = 0; rc == 0 && k < n_values && !g->cut; k++) {
            if (values[k].tier != tier) {
                continue;
            }
            uint32_t i = hg_lookup(g, values[k].value);
            if (i != HG_NONE && g->parent[i] == HG_NONE) {
                rc = reach_from_root(g, i, 0, values[k].tag, &tail);
            }
        }
        g->tail = tail;
        if (rc < 0) {
            return rc;
        }
        if (!g->cut) {
            search_blocks(g, o);
        }
        done = tier + 1;
    }
}

long hg_path(const struct hg *g, uint32_t i, uint32_t *hops, size_t cap, const struct hg_hit **hit)
{
    if (i >= g->n || g->parent[i] == HG_NONE) {
        return -1;
    }
    /* Count first, then fill from the root side. */
    size_t len = 0;
    uint32_t at = g->parent[i];
    while (!(at & HG_ROOT)) {
        len++;
        at = g->parent[at];
        if (len > g->n) {
            return -1; /* can't happen: parents form a forest */
        }
    }
    *hit = &g->hits[at & ~HG_ROOT];
    size_t k = len;
    at = g->parent[i];
    while (!(at & HG_ROOT)) {
        k--;
        if (k < cap) {
            hops[k] = at;
        }
        at = g->parent[at];
    }
    return (long)len;
}

void hg_free(struct hg *g)
{
    if (!g) {
        return;
    }
    free(g->parent);
    free(g->offset);
    free(g->queue);
    free(g->hits);
    free(g->buf);
    free(g->index);
    g->index = NULL;
    g->parent = g->offset = g->queue = NULL;
    g->hits = NULL;
    g->buf = NULL;
    g->n_hits = g->cap_hits = 0;
}
