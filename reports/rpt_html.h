/* SPDX-License-Identifier: MIT */
/* rpt_html.h - self-contained HTML pages (no script, no network): the overview page of one
 * run (index.html) and the per-commit dashboard of a history; plus the
 * github-action-benchmark "customSmallerIsBetter" JSON of a run.
 */
#ifndef REPORTS_RPT_HTML_H
#define REPORTS_RPT_HTML_H

#include "../model/rpt.h"
#include "../util/buf.h"
#include "rpt_history.h"

/* Appends index.html of `run`: the run's header facts (rpt_summary.h), which scenario leaks and
 * where, each chart inlined and linked to the per-scenario files (named as rpt_layout.h says).
 * `run` is borrowed. Errors stick in b->err. */
void rpt_html_index(const struct rpt_run *run, struct buf *b);

/* Appends [{"name": SCENARIO, "unit": "bytes/round", "value": GROWTH}, ...] for
 * github-action-benchmark's customSmallerIsBetter tool. Errors stick in b->err. */
void rpt_html_bench_json(const struct rpt_run *run, struct buf *b);

/* Appends the dashboard of `h`: per scenario, growth per round and final live heap across
 * commits (tooltip: commit message; a red marker where growth crossed the threshold), and the
 * per-round curves of the latest five commits overlaid. Errors stick in b->err. */
void rpt_html_dashboard(const struct rpt_history *h, struct buf *b);

#endif
