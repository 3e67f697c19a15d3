/* SPDX-License-Identifier: MIT */
/* rpt_write.h - write every report of one run into a directory, and read a JSON report back.
 *
 * Layout written by rpt_write_all() under `dir` (created if missing, parents included):
 *   report.json  junit.xml  summary.md  index.html
 *   benchmark.json (github-action-benchmark customSmallerIsBetter: growth per scenario)
 *   <safe-name>/heap.svg  heap.pb.gz  growth.pb.gz  growth.folded   (one folder per scenario)
 * <safe-name> is the scenario name reduced to [A-Za-z0-9._-] (no leading dot, no ".."), made
 * unique within the run; rpt_write_dirname() gives it. Every file is written atomically (a
 * temporary file in the same folder, fsync, rename); nothing is written outside `dir`.
 */
#ifndef REPORTS_RPT_WRITE_H
#define REPORTS_RPT_WRITE_H

#include "../util/diag.h"
#include <stddef.h>

#include "../model/rpt.h"

/* Writes every report of `run` into `dir`. `run` is borrowed. Returns 0, or a negative errno
 * value with a one-line git-style message in `err` (what failed, why, what to do). */
int rpt_write_all(const struct rpt_run *run, const char *dir, struct diag *d);

/* Reads a JSON report written by rpt_write_all() (or by a shard, for `merge`). On success
 * stores a new run in *out (caller frees with rpt_run_free()) and returns 0. On failure returns
 * -errno (-EINVAL for malformed input, -EFBIG over a size cap) with "FILE: JSON.PATH: what was
 * expected" in `err`; *out is left untouched. */
int rpt_json_read(const char *path, struct rpt_run **out, struct diag *d);

/* Folder name (relative to the report dir) of scenario `index` of `run`: the safe name, with
 * "-N" appended when an earlier scenario reduces to the same name. Writes at most `len` bytes,
 * always NUL-terminated. Can't fail. */
void rpt_write_dirname(const struct rpt_run *run, size_t index, char *out, size_t len);

#endif
