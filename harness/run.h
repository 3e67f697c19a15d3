/* SPDX-License-Identifier: MIT */
/* run.h - running one scenario end to end, and analysing a recorded snapshot stream.
 *
 * run_scenario() starts the target with the agent, waits until it is ready, takes the start-up
 * snapshot, then runs warm-up and measured rounds (driver round, then snapshot), stops the
 * target, symbolizes, analyses and fills one struct rpt_scenario. The raw channel bytes are
 * recorded to snapshots.bin so run_analyze() can redo the analysis later. Failures of the run
 * itself (target not found, crashed, hung, not ready, agent not tracking) give the verdict
 * `error` with every round that completed; they are not function failures.
 */
#ifndef HARNESS_RUN_H
#define HARNESS_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "../reports/rpt.h"
#include "diag.h"
#include "scn.h"
#include "snap.h"

/* Called after each completed round (and once with round_idx == SIZE_MAX before the first). */
typedef void (*run_progress_fn)(void *arg, const struct scn *s, const struct rpt_scenario *sc,
                                size_t round_idx);

struct run_opts {
    const char *agent_path; /* the agent to preload */
    const char *out_dir;    /* this scenario's folder: snapshots.bin, target.log, scenario.json */
    run_progress_fn progress;
    void *progress_arg;
    int stop_grace_ms; /* 0 = default */
};

/* Runs `s`. `out` must be zeroed by the caller; it is filled (strings owned by it). Sets
 * *agent_version (malloc'ed) from the agent's HELLO when it is NULL. Returns 0 when the run
 * took place (whatever the verdict), or a negative errno with `d` filled for an input error
 * found before the target started (bad requests file, unusable driver settings). */
int run_scenario(const struct scn *s, const struct run_opts *o, struct rpt_scenario *out,
                 char **agent_version, struct diag *d);

/* Analyses a snapshot stream already parsed: fills rounds, sites, verdict and ok of `out`
 * (zeroed by the caller; name, expect and thresholds come from `s`). `seconds` has one entry per
 * round or is NULL. `run_error` non-NULL makes the verdict `error` with that message. Returns 0
 * or -ENOMEM. */
int run_fill(const struct scn *s, const struct snap_stream *st, const double *seconds,
             const char *run_error, struct rpt_scenario *out);

/* Decides `ok` for a filled scenario from its verdict, expect and s->expect_culprit; appends
 * the culprit mismatch to the reason. Can't fail (except leaving the reason as it was). */
void run_judge(const struct scn *s, struct rpt_scenario *out);

#endif
