/* SPDX-License-Identifier: MIT */
/* rpt_summary.c - the facts every report states about a run (see rpt_summary.h). */
#include "rpt_summary.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "../util/fmt.h"

/* Writes the limit all scenarios share, or "per scenario". */
static void summary_threshold(const struct rpt_run *run, char *out, size_t len)
{
    double thr = -1;
    bool same = true;
    for (size_t i = 0; i < run->n_scenarios; i++) {
        double t = run->scenarios[i].threshold_bytes_per_round;
        if (thr >= 0 && thr != t) {
            same = false;
        }
        thr = t;
    }
    if (same && thr >= 0) {
        fmt_c(out, len, "%.1f", thr);
    } else {
        fmt_c(out, len, "per scenario");
    }
}

void rpt_summary_of_run(const struct rpt_run *run, struct rpt_summary *out)
{
    memset(out, 0, sizeof(*out));
    out->scenarios = run->n_scenarios;
    fmt_c(out->scenarios_text, sizeof(out->scenarios_text), "%zu scenario%s", run->n_scenarios,
          run->n_scenarios == 1 ? "" : "s");
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *s = &run->scenarios[i];
        if (!s->ok) {
            out->failed++;
            out->errors += s->verdict == RPT_VERDICT_ERROR;
        }
        if (isfinite(s->seconds) && s->seconds > 0) {
            out->seconds += s->seconds;
        }
        if (s->rounds_planned > out->rounds) {
            out->rounds = s->rounds_planned;
        }
    }
    summary_threshold(run, out->threshold, sizeof(out->threshold));
    out->commit = run->commit;
    out->commit_message = run->commit ? run->commit_message : NULL;
    out->started_at = run->started_at;
    out->host = run->host;
    out->agent_version = run->agent_version;
    out->interrupted[0] = '\0';
    if (run->interrupted_signal) {
        rpt_signal_name(run->interrupted_signal, out->interrupted, sizeof(out->interrupted));
    }
}

const struct rpt_site *rpt_summary_culprit(const struct rpt_scenario *s)
{
    for (size_t i = 0; i < s->n_sites; i++) {
        if (s->sites[i].suspect && !s->sites[i].suppressed) {
            return &s->sites[i];
        }
    }
    return NULL;
}

void rpt_summary_of_scenario(const struct rpt_scenario *s, struct rpt_summary_row *out)
{
    memset(out, 0, sizeof(*out));
    if (!s->ok) {
        out->result = RPT_SUMMARY_FAIL;
    } else if (s->verdict == RPT_VERDICT_LEAK) {
        out->result = RPT_SUMMARY_EXPECTED_LEAK;
    } else {
        out->result = RPT_SUMMARY_PASS;
    }
    out->culprit = rpt_summary_culprit(s);
    // No growth is "0 B", not "+0 B": a '+' says that something grew.
    if (s->growth_bytes_per_round > 0) {
        fmt_bytes_signed(out->growth, sizeof(out->growth), s->growth_bytes_per_round);
    } else {
        fmt_bytes(out->growth, sizeof(out->growth), s->growth_bytes_per_round);
    }
    fmt_bytes(out->limit, sizeof(out->limit), s->threshold_bytes_per_round);
    out->warmup = rpt_first_measured(s);
    out->measured = s->n_rounds - out->warmup;
}

const char *rpt_summary_result_name(enum rpt_summary_result r)
{
    switch (r) {
    case RPT_SUMMARY_PASS:
        return "pass";
    case RPT_SUMMARY_EXPECTED_LEAK:
        return "pass (expected leak)";
    case RPT_SUMMARY_FAIL:
        return "FAIL";
    }
    return "FAIL";
}
