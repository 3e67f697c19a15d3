/* SPDX-License-Identifier: MIT */
/* rpt_write.h - writes every report of one run into a folder.
 *
 * Layout written by rpt_write_all() under `dir` (created if missing, parents included), with
 * the names rpt_layout.h gives:
 *   report.json  junit.xml  summary.md  index.html
 *   benchmark.json (github-action-benchmark customSmallerIsBetter: growth per scenario)
 *   <dir>/heap.svg  heap.pb.gz  growth.pb.gz  growth.folded   (one folder per scenario)
 * Every file is written atomically (a temporary file in the same folder, fsync, rename), the
 * per-scenario files first and report.json last, so a reader that sees report.json can rely on
 * the rest; nothing is written outside `dir`.
 */
#ifndef REPORTS_RPT_WRITE_H
#define REPORTS_RPT_WRITE_H

#include <stddef.h>

#include "../model/rpt.h"
#include "../util/diag.h"

/* Writes every report of `run` into `dir`. `run` is borrowed. Returns 0, or a negative errno
 * value with a one-line git-style message in `d` (what failed, why, what to do); the files
 * written before the failure stay, the one that failed is not there, report.json neither. */
int rpt_write_all(const struct rpt_run *run, const char *dir, struct diag *d);

#endif
