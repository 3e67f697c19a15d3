/* SPDX-License-Identifier: MIT */
/* rpt_layout.h - the names inside a report folder, shared by the writer that creates the
 * files (rpt_write.h) and the pages that link to them (rpt_html.h).
 *
 *   report.json  junit.xml  summary.md  index.html  benchmark.json
 *   <dir>/heap.svg  heap.pb.gz  growth.pb.gz  growth.folded      (one folder per scenario)
 *
 * <dir> is the scenario's name reduced to a safe file name (file_safe_name()), made unique
 * within the run. Pure; no globals; thread-safe.
 */
#ifndef REPORTS_RPT_LAYOUT_H
#define REPORTS_RPT_LAYOUT_H

#include <stddef.h>

#include "../model/rpt.h"

/* Run-level files. */
#define RPT_LAYOUT_REPORT_JSON "report.json"
#define RPT_LAYOUT_JUNIT_XML   "junit.xml"
#define RPT_LAYOUT_SUMMARY_MD  "summary.md"
#define RPT_LAYOUT_INDEX_HTML  "index.html"
#define RPT_LAYOUT_BENCH_JSON  "benchmark.json"

/* Files in each scenario's folder. */
#define RPT_LAYOUT_HEAP_SVG      "heap.svg"
#define RPT_LAYOUT_HEAP_PPROF    "heap.pb.gz"
#define RPT_LAYOUT_GROWTH_PPROF  "growth.pb.gz"
#define RPT_LAYOUT_GROWTH_FOLDED "growth.folded"

/* Room for any folder name rpt_layout_dirname() gives, NUL included. */
#define RPT_LAYOUT_DIR_MAX 96

/* Folder name (relative to the report folder) of scenario `index` of `run`: the safe name, with
 * "-N" (N = index + 1, or the next number free) appended while an earlier scenario's folder has
 * that name, so no two scenarios share a folder. Writes at most `len` bytes, always
 * NUL-terminated. `run` is borrowed. Can't fail. */
void rpt_layout_dirname(const struct rpt_run *run, size_t index, char *out, size_t len);

#endif
