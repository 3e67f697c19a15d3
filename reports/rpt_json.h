/* SPDX-License-Identifier: MIT */
/* rpt_json.h - the JSON report (format "leakcheck-report/1"): writer and reader.
 *
 * The layout is documented in docs/REPORT-FORMAT.md and reports/report.schema.json. Addresses
 * are written as "0x..." strings (JSON numbers lose precision past 2^53); unknown strings are
 * null. The reader is rpt_json_read(); rpt_json_parse() is its in-memory core.
 */
#ifndef REPORTS_RPT_JSON_H
#define REPORTS_RPT_JSON_H

#include <stddef.h>

#include "../model/rpt.h"
#include "../util/diag.h"

/* Caps the reader enforces on untrusted reports; past one, the input is rejected. */
#define RPT_JSON_MAX_FILE      (256u << 20)
#define RPT_JSON_MAX_SCENARIOS 4096
#define RPT_JSON_MAX_ROUNDS    100000
#define RPT_JSON_MAX_SITES     100000
#define RPT_JSON_MAX_FRAMES    1024
#define RPT_JSON_MAX_STRING    65536
#define RPT_JSON_MAX_RETAINERS 4096 /* retainer groups of one suspect */

/* Sites written with every field (stack and per-round series): the suspects, and the first
 * sites in report order up to this many. The others get a summary entry (their culprit, kind,
 * source and figures, "detail": false); the whole recording stays in snapshots.bin. */
#define RPT_JSON_DETAILED_SITES 50

/* Renders `run` as indented JSON text. On success stores a NUL-terminated string in *out
 * (caller frees with free()) and returns 0; -ENOMEM on failure. */
int rpt_json_render(const struct rpt_run *run, char **out);

/* Writes the JSON report to `path` atomically. Returns 0 or -errno with a message in `err`. */
int rpt_json_write(const struct rpt_run *run, const char *path, struct diag *d);

/* Parses JSON `text` (named `name` in messages) into a new run (caller frees with
 * rpt_run_free()). Returns 0, or -EINVAL / -ENOMEM with "NAME: JSON.PATH: expected ..." in `err`;
 * *out is written only on success. */
int rpt_json_parse(const char *text, const char *name, struct rpt_run **out, struct diag *d);

/* Reads a JSON report written by rpt_write_all() (or by a shard, for `merge`). On success
 * stores a new run in *out (caller frees with rpt_run_free()) and returns 0. On failure returns
 * -errno (-EINVAL for malformed input, -EFBIG over a size cap) with "FILE: JSON.PATH: what was
 * expected" in `d`; *out is left untouched. */
int rpt_json_read(const char *path, struct rpt_run **out, struct diag *d);

#endif
