/* SPDX-License-Identifier: MIT */
/* series.h - from a parsed snapshot stream to per-round and per-site series.
 *
 * A recording is a sequence of snapshots, one after each round (round 1..n), each with the live
 * bytes and blocks of every allocation site that had any. series_build() lines them up: the
 * rounds that completed, in order, and for every site its live bytes/blocks after each round and,
 * from the last snapshot, its survivors by round of birth. Pure computation over the stream; no
 * I/O, no globals; thread-safe.
 */
#ifndef ANALYSIS_SERIES_H
#define ANALYSIS_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/rpt.h"
#include "snap.h"

/* One allocation site over the completed rounds. Arrays have n_rounds entries (index = round-1);
 * they are owned by the series until taken (set to NULL). */
struct series_site {
    uint32_t id;                        /* the agent's stack id */
    uint64_t *live_bytes, *live_blocks; /* after each round */
    uint64_t *surv_blocks, *surv_bytes; /* live in the last round, by round of birth */
    uint64_t alloc_bytes, alloc_blocks; /* cumulative, as of the last round that had the site */
    uint64_t peak;                      /* highest live_bytes */
};

struct series {
    uint32_t base;                      /* the stream's number of round 0 */
    size_t n_rounds;                    /* rounds 1..n_rounds completed, in order */
    const struct snap_snapshot **snaps; /* n_rounds entries, borrowed from the stream */
    const struct snap_snapshot *last;   /* last round's, else the stream's last snapshot, or NULL */
    size_t n_sites;                     /* sorted by id */
    struct series_site *sites;
};

/* Lines up rounds 1..max_rounds of `st` (stopping at the first one missing) and every site seen
 * in them. The stream's rounds and births are numbered from `base`: its round base+r is round r,
 * and blocks born at or before epoch `base` count as born before the first round (a process
 * that measured itself several times numbers on). Returns 0 or -ENOMEM (then `out` holds
 * nothing). `st` must outlive `out`. */
int series_build(const struct snap_stream *st, uint32_t base, uint32_t max_rounds,
                 struct series *out);

/* Frees what the series owns. Can't fail. */
void series_cleanup(struct series *s);

/* The totals of one round from its snapshot (live heap, RSS, allocator figures, agent memory),
 * without any analysis: what progress lines show. Can't fail. */
void series_round(const struct snap_snapshot *snap, uint32_t round, bool warmup, double seconds,
                  struct rpt_round *out);

#endif
