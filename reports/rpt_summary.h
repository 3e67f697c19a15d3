/* SPDX-License-Identifier: MIT */
/* rpt_summary.h - the facts every report states about a run and about each scenario, worked
 * out once so that the HTML overview, the Markdown summary, the JUnit XML and the SVG charts
 * never disagree on them.
 *
 * Run: how many scenarios ("4 scenarios"), how many failed and how many of those failed to
 * run, the time spent, the rounds, the limit, and the commit, start time, host and agent
 * version. Scenario: its result (pass, expected leak, FAIL), its culprit, its growth and limit
 * as byte quantities, and its completed warm-up and measured rounds. Each writer only renders
 * these in its own format. Pure; no globals; thread-safe.
 */
#ifndef REPORTS_RPT_SUMMARY_H
#define REPORTS_RPT_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "../model/rpt.h"

/* The run's header facts. Strings are borrowed from the run (NULL = unknown). */
struct rpt_summary {
    size_t scenarios;
    char scenarios_text[40]; /* "1 scenario", "4 scenarios" */
    size_t failed;           /* scenarios that did not meet their expectation */
    size_t errors;           /* of the failed ones, those whose run failed (verdict error) */
    double seconds;          /* the scenarios' finite, positive times, summed */
    uint32_t rounds;         /* the most rounds (warm-up included) a scenario planned */
    char threshold[40];      /* limit in bytes/round shared by every scenario ("1024.0"), or
                                "per scenario" when they differ or there are none */
    const char *commit;
    const char *commit_message; /* NULL when there is no commit to go with it */
    const char *started_at;
    const char *host;
    const char *agent_version;
    char interrupted[32]; /* the stop signal that cut the run short ("SIGTERM"), or "" */
};

/* How a scenario went against its expectation. */
enum rpt_summary_result {
    RPT_SUMMARY_PASS,          /* met its expectation without leaking */
    RPT_SUMMARY_EXPECTED_LEAK, /* leaked, and was allowed to */
    RPT_SUMMARY_FAIL,          /* did not meet its expectation */
};

/* One scenario's facts. */
struct rpt_summary_row {
    enum rpt_summary_result result;
    const struct rpt_site *culprit; /* first suspect that is not suppressed, or NULL; borrowed */
    char growth[48];                /* per round, '+' only on growth: "+32.0 KiB", "0 B" */
    char limit[48];                 /* per round: "1.0 KiB" */
    size_t warmup;                  /* completed warm-up rounds */
    size_t measured;                /* completed measured rounds */
};

/* Works out the header facts of `run` into `out`. `run` is borrowed and must outlive `out`.
 * Can't fail. */
void rpt_summary_of_run(const struct rpt_run *run, struct rpt_summary *out);

/* Works out the facts of scenario `s` into `out`. `s` is borrowed and must outlive `out`.
 * Can't fail. */
void rpt_summary_of_scenario(const struct rpt_scenario *s, struct rpt_summary_row *out);

/* The scenario's culprit: its first suspect site that is not suppressed, or NULL. Borrowed
 * from `s`. Can't fail. */
const struct rpt_site *rpt_summary_culprit(const struct rpt_scenario *s);

/* "pass", "pass (expected leak)" or "FAIL". Can't fail. */
const char *rpt_summary_result_name(enum rpt_summary_result r);

#endif
