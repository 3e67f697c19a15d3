/* SPDX-License-Identifier: MIT */
/* proctree.h - analysing a recording of a whole process tree.
 *
 * Every process that joined is given a role: a rule of the scenario's (analysis_opts.roles), else
 * the title a program gave itself ("nginx: worker process"), else its program's name, with
 * " (forked)" for a child forked from a process of the same program (a prefork server's workers).
 * The processes of one role are merged by stack: a return address is taken to (object, offset),
 * so workers forked from one master and programs exec'd apart (each with its own address layout)
 * count as one site, with the sum of their blocks, round by round. The merged recording is then
 * analysed as one process's (analysis_run), each site names its role and pids, and the scenario
 * lists every process: how it joined, how it ended, and those that never joined.
 *
 * Untracked work is never a pass: a `no-leak` becomes `inconclusive`, with a reason naming the
 * process, when a process of the tree ran untracked during the measured rounds (it never joined:
 * static, set-uid, its LD_PRELOAD cleared; or the agent could not see its allocations), or when,
 * in a tree of several processes, no tracked process allocated anything or used the CPU during
 * the measured rounds (a lone program, or busy workers, may serve their work from memory
 * allocated earlier).
 *
 * Pure computation over the recording (plus the symbol files analysis_run reads); thread-safe.
 */
#ifndef ANALYSIS_PROCTREE_H
#define ANALYSIS_PROCTREE_H

#include "analysis.h"
#include "rec.h"

/* Analyses `rec` into `out` as analysis_run() does (same contract: `out` zeroed by the caller,
 * `seconds` one entry per round or NULL, `run_error` non-NULL makes the verdict `error`), and
 * takes each round's snapshot time from the recording (out->snapshot_seconds, NULL when it has
 * none; a round without one is negative). A one-process recording is analysed as it is.
 * Returns 0 or -ENOMEM. */
int proctree_analyse(const struct analysis_opts *o, const struct rec *rec, const double *seconds,
                     const char *run_error, struct rpt_scenario *out);

/* The role of process `p` of `rec` by the rules above, into buf. Can't fail. */
void proctree_role(const struct analysis_opts *o, const struct rec *rec, const struct rec_proc *p,
                   char *buf, size_t cap);

#endif
