/* SPDX-License-Identifier: MIT */
/* rpt_folded.h - folded stacks ("root;caller;leaf bytes") of a scenario's heap growth, for
 * flamegraph.pl, speedscope and inferno. Only sites that grew between the first and last
 * measured rounds are written; lines are sorted, identical stacks summed. */
#ifndef REPORTS_RPT_FOLDED_H
#define REPORTS_RPT_FOLDED_H

#include "../model/rpt.h"
#include "../util/buf.h"

/* Appends the folded growth stacks of `s` to `b` (errors stick in b->err). */
void rpt_folded_render(const struct rpt_scenario *s, struct buf *b);

#endif
