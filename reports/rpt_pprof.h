/* SPDX-License-Identifier: MIT */
/* rpt_pprof.h - pprof heap profiles (profile.proto, gzip) of one scenario, pre-symbolized.
 *
 * Two profiles per scenario, both with the four heap sample types of Go (alloc_objects,
 * alloc_space, inuse_objects, inuse_space), period 1 (every allocation counted) and a `bytes`
 * label: the final heap (per site: cumulative allocations and what is live after the last
 * round) and the growth (per site: live after the last measured round minus live after the
 * first measured round, positive growth only). Locations carry the frame address and one Line
 * per frame, innermost inlined first; mappings of fully symbolized objects are flagged
 * has_functions so that pprof does not symbolize again. drop_frames names the allocator wrapper
 * frames (those leaf-side of each site's culprit), so -top shows culprits, not malloc.
 */
#ifndef REPORTS_RPT_PPROF_H
#define REPORTS_RPT_PPROF_H

#include <stdbool.h>

#include "../model/rpt.h"
#include "../util/buf.h"

enum rpt_pprof_kind {
    RPT_PPROF_HEAP,   /* final heap */
    RPT_PPROF_GROWTH, /* growth between the first and last measured rounds */
};

/* Appends the gzip-compressed profile of scenario `s` of `run` to `b`. Errors stick in
 * b->err (-ENOMEM, or -EIO when zlib fails). */
void rpt_pprof_render(const struct rpt_run *run, const struct rpt_scenario *s,
                      enum rpt_pprof_kind kind, struct buf *b);

/* Encodes without gzip (for tests and for callers that compress themselves). */
void rpt_pprof_encode(const struct rpt_run *run, const struct rpt_scenario *s,
                      enum rpt_pprof_kind kind, struct buf *b);

#endif
