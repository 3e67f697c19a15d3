/* SPDX-License-Identifier: MIT */
/* series.c - per-round and per-site series from a snapshot stream (see series.h).
 *
 * Sites are found once (the sorted union of stack ids over the completed rounds) and looked up
 * by binary search, so a run of R rounds and S sites costs O(R S log S).
 */
#include "series.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto.h"

/* qsort comparator for stack ids. */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Index of `id` among the sorted sites, or SIZE_MAX. Can't fail. */
static size_t find_site(const struct series *s, uint32_t id)
{
    size_t lo = 0;
    size_t hi = s->n_sites;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->sites[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < s->n_sites && s->sites[lo].id == id ? lo : SIZE_MAX;
}

/* Collects the distinct stack ids of the completed rounds into s->sites (ids only, sorted).
 * Returns 0 or -ENOMEM. */
static int collect_ids(struct series *s)
{
    size_t cap = 0;
    for (size_t i = 0; i < s->n_rounds; i++) {
        cap += s->snaps[i]->n_sites;
    }
    uint32_t *ids = malloc((cap ? cap : 1) * sizeof(*ids));
    if (!ids) {
        return -ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->n_rounds; i++) {
        for (size_t j = 0; j < s->snaps[i]->n_sites; j++) {
            ids[n++] = s->snaps[i]->sites[j].stack_id;
        }
    }
    qsort(ids, n, sizeof(*ids), cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u == 0 || ids[u - 1] != ids[i]) {
            ids[u++] = ids[i];
        }
    }
    s->sites = calloc(u ? u : 1, sizeof(*s->sites));
    if (!s->sites) {
        free(ids);
        return -ENOMEM;
    }
    s->n_sites = u;
    for (size_t k = 0; k < u; k++) {
        s->sites[k].id = ids[k];
    }
    free(ids);
    return 0;
}

/* Allocates the per-round arrays of every site. Returns 0 or -ENOMEM. */
static int alloc_arrays(struct series *s)
{
    size_t n = s->n_rounds;
    for (size_t k = 0; k < s->n_sites; k++) {
        struct series_site *w = &s->sites[k];
        w->live_bytes = calloc(n ? n : 1, sizeof(uint64_t));
        w->live_blocks = calloc(n ? n : 1, sizeof(uint64_t));
        w->surv_blocks = calloc(n ? n : 1, sizeof(uint64_t));
        w->surv_bytes = calloc(n ? n : 1, sizeof(uint64_t));
        if (!w->live_bytes || !w->live_blocks || !w->surv_blocks || !w->surv_bytes) {
            return -ENOMEM;
        }
    }
    return 0;
}

/* Adds one snapshot site of round index `i` to its series. */
static void add_site(struct series *s, size_t i, const struct snap_site *ss)
{
    struct series_site *w = &s->sites[find_site(s, ss->stack_id)];
    w->live_bytes[i] = ss->live_bytes;
    w->live_blocks[i] = ss->live_blocks;
    if (ss->live_bytes > w->peak) {
        w->peak = ss->live_bytes;
    }
    w->alloc_bytes = ss->alloc_bytes;
    w->alloc_blocks = ss->alloc_blocks;
    if (i + 1 != s->n_rounds) {
        return;
    }
    for (size_t b = 0; b < ss->n_births; b++) {
        uint32_t e = ss->births[b].epoch > s->base ? ss->births[b].epoch - s->base : 0;
        if (e >= 1 && e <= s->n_rounds) {
            w->surv_blocks[e - 1] = ss->births[b].blocks;
            w->surv_bytes[e - 1] = ss->births[b].bytes;
        }
    }
}

int series_build(const struct snap_stream *st, uint32_t base, uint32_t max_rounds,
                 struct series *out)
{
    struct series s = {.base = base};
    s.snaps = calloc((size_t)max_rounds + 1, sizeof(*s.snaps));
    if (!s.snaps) {
        return -ENOMEM;
    }
    while (s.n_rounds < max_rounds) {
        const struct snap_snapshot *sn = snap_stream_find(st, base + (uint32_t)s.n_rounds + 1);
        if (!sn) {
            break;
        }
        s.snaps[s.n_rounds++] = sn;
    }
    if (s.n_rounds) {
        s.last = s.snaps[s.n_rounds - 1];
    } else if (st->n_snaps) {
        s.last = &st->snaps[st->n_snaps - 1];
    }
    int rc = collect_ids(&s);
    if (rc == 0) {
        rc = alloc_arrays(&s);
    }
    if (rc != 0) {
        series_cleanup(&s);
        return rc;
    }
    for (size_t i = 0; i < s.n_rounds; i++) {
        for (size_t j = 0; j < s.snaps[i]->n_sites; j++) {
            add_site(&s, i, &s.snaps[i]->sites[j]);
        }
    }
    *out = s;
    return 0;
}

void series_cleanup(struct series *s)
{
    for (size_t k = 0; s->sites && k < s->n_sites; k++) {
        free(s->sites[k].live_bytes);
        free(s->sites[k].live_blocks);
        free(s->sites[k].surv_blocks);
        free(s->sites[k].surv_bytes);
    }
    free(s->sites);
    free(s->snaps);
    memset(s, 0, sizeof(*s));
}

void series_round(const struct snap_snapshot *snap, uint32_t round, bool warmup, double seconds,
                  struct rpt_round *out)
{
    const uint64_t *c = snap->counters;
    memset(out, 0, sizeof(*out));
    out->round = round;
    out->warmup = warmup;
    out->live_bytes = c[PROTO_C_LIVE_BYTES];
    out->live_blocks = c[PROTO_C_LIVE_BLOCKS];
    out->rss_bytes = c[PROTO_C_RSS_BYTES];
    out->heap_inuse_bytes = c[PROTO_C_HEAP_INUSE];
    out->heap_free_bytes = c[PROTO_C_HEAP_FREE];
    out->agent_bytes = c[PROTO_C_AGENT_BYTES];
    out->seconds = seconds;
}
