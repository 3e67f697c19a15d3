/* SPDX-License-Identifier: MIT */
/* rpt_md.h - Markdown summary for $GITHUB_STEP_SUMMARY: a table of scenarios (verdict in
 * words, growth per round, culprit) and per scenario a mermaid xychart of the live heap per
 * round and the top sites. Always under RPT_MD_MAX bytes: rounds are sampled and sections
 * dropped with a note when a run is too big. */
#ifndef REPORTS_RPT_MD_H
#define REPORTS_RPT_MD_H

#include "../model/rpt.h"
#include "../util/buf.h"

#define RPT_MD_MAX (1000u * 1000u) /* GitHub refuses step summaries over 1 MiB */

/* Appends the summary of `run` to `b` (errors stick in b->err). */
void rpt_md_render(const struct rpt_run *run, struct buf *b);

#endif
