/* SPDX-License-Identifier: MIT */
/* analysis.h - the analysis's one entry point: from a recording and options to the result model.
 *
 * analysis_run() takes a parsed snapshot stream (live from the channel, read back from
 * snapshots.bin, or gathered in-process) and fills one struct rpt_scenario: the rounds, every
 * allocation site with its series, symbolized stack and culprit, the suppressions applied, the
 * growth statistics, and the verdict with its reason. A live run and `leakcheck analyze` of its
 * recording therefore give the same result. Symbolization runs here, once.
 *
 * Pure computation over its inputs (it reads the objects named in the stream for their symbols):
 * no drivers, no network, no terminal; no globals; thread-safe.
 */
#ifndef ANALYSIS_ANALYSIS_H
#define ANALYSIS_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "../model/rpt.h"
#include "snap.h"
#include "supp.h"

struct sym;

/* A rule naming a role: processes whose command line (the title a program gave itself, else its
 * arguments joined with spaces) or executable path matches the glob `match` are role `name`. */
struct analysis_role {
    const char *name;
    const char *match;
};

/* How to judge a recording. Everything is borrowed for the call. */
struct analysis_opts {
    const char *name;                     /* the scenario's name (required) */
    const char *file;                     /* its file, or NULL */
    enum rpt_expect expect;               /* what counts as ok */
    const char *expect_culprit;           /* glob the top suspect's function must match, or NULL */
    uint32_t warmup;                      /* rounds 1..warmup are not measured */
    uint32_t rounds;                      /* measured rounds planned after the warm-up */
    uint32_t round_base;                  /* the stream numbers round r as round_base + r */
    double threshold_bytes_per_round;     /* <= 0: GROWTH_DEFAULT_BYTES_PER_ROUND */
    double threshold_blocks_per_round;    /* 0 = not used */
    double threshold_rss_bytes_per_round; /* 0 = not used (analysis/rss.h) */
    const struct supp_rule *supp;         /* n_supp suppressions */
    size_t n_supp;
    char *const *wrappers; /* n_wrappers extra allocator-wrapper globs */
    size_t n_wrappers;
    const struct analysis_role *roles; /* n_roles rules naming the roles of a process tree */
    size_t n_roles;
};

/* Analyses `st`: fills rounds, sites, growth, verdict and ok of `out` (zeroed by the caller;
 * strings owned by it). `seconds` has one entry per round or is NULL. `run_error` non-NULL makes
 * the verdict `error` with that message (the rounds that completed are still analysed). Returns 0
 * or -ENOMEM (then `out` may hold part of the result; rpt_scenario_cleanup() frees it). */
int analysis_run(const struct analysis_opts *o, const struct snap_stream *st, const double *seconds,
                 const char *run_error, struct rpt_scenario *out);

/* A symbolizer over every object any snapshot of `st` listed (sym.h), or NULL when out of
 * memory. */
struct sym *analysis_sym_for_stream(const struct snap_stream *st);

/* Decides `ok` for a filled scenario from its verdict, o->expect and o->expect_culprit; appends
 * a culprit mismatch to the reason. Can't fail (except leaving the reason as it was). */
void analysis_judge(const struct analysis_opts *o, struct rpt_scenario *out);

#endif
