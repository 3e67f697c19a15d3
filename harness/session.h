/* SPDX-License-Identifier: MIT */
/* session.h - one scenario end to end: spawn, ready, rounds with snapshots, stop, analyse.
 *
 * session_run() starts the target with the agent, waits until it is ready, takes the start-up
 * snapshot, then runs warm-up and measured rounds (driver round, then snapshot), stops the
 * target, and hands the recording to the analysis (analysis/analysis.h), which fills one struct
 * rpt_scenario. The raw channel bytes are recorded to snapshots.bin so `leakcheck analyze` can
 * redo the analysis later. Failures of the run itself (target not found, crashed, hung, not
 * ready, agent not tracking) give the verdict `error` with every round that completed; they
 * are not function failures. A stop signal to the harness (harness/sig.h) ends the run at the
 * next step with the verdict `error`, the rounds that finished, and `interrupted_signal` set;
 * the target runs in its own session and its whole tree is stopped with it. Progress is reported
 * from each round's snapshot totals, without analysing: symbolization runs once, at the end.
 */
#ifndef HARNESS_SESSION_H
#define HARNESS_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/rpt.h"
#include "../util/diag.h"
#include "scn.h"

/* Called once before the first round with n_done == 0, then after each completed round with
 * rounds[0..n_done-1] (the totals of every round so far) and snapshot_seconds[0..n_done-1] (how
 * long each round's snapshot took, request to last byte; negative when not measured), both
 * borrowed for the call. */
typedef void (*session_progress_fn)(void *arg, const struct scn *s, const struct rpt_round *rounds,
                                    const double *snapshot_seconds, size_t n_done);

struct session_opts {
    const char *agent_path; /* the agent to preload */
    const char *out_dir;    /* this scenario's folder: snapshots.bin, target.log, scenario.json */
    session_progress_fn progress;
    void *progress_arg;
    int stop_grace_ms; /* 0 = default */
};

/* Runs `s`. `out` must be zeroed by the caller; it is filled (strings owned by it). Sets
 * *agent_version (malloc'ed) from the agent's HELLO when it is NULL. Returns 0 when the run
 * took place (whatever the verdict), -ENOMEM, or -EINVAL with `d` filled for an input error
 * found before the target started (bad requests file, unusable driver settings). */
int session_run(const struct scn *s, const struct session_opts *o, struct rpt_scenario *out,
                char **agent_version, struct diag *d);

#endif
