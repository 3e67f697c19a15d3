/* SPDX-License-Identifier: MIT */
/* rpt.c - lifetime and names of the result model. */
#include "rpt.h"

#include <stdlib.h>
#include <string.h>

void rpt_scenario_cleanup(struct rpt_scenario *s)
{
    if (!s) {
        return;
    }
    free(s->name);
    free(s->file);
    free(s->reason);
    free(s->error);
    free(s->rounds);
    for (size_t i = 0; i < s->n_sites; i++) {
        struct rpt_site *site = &s->sites[i];
        free(site->function);
        free(site->file);
        free(site->object);
        free(site->live_bytes);
        free(site->live_blocks);
        for (size_t f = 0; f < site->n_frames; f++) {
            free(site->frames[f].function);
            free(site->frames[f].system_name);
            free(site->frames[f].file);
            free(site->frames[f].object);
        }
        free(site->frames);
    }
    free(s->sites);
    if (s->argv) {
        for (char **a = s->argv; *a; a++) {
            free(*a);
        }
        free(s->argv);
    }
}

void rpt_run_free(struct rpt_run *run)
{
    if (!run) {
        return;
    }
    for (size_t i = 0; i < run->n_scenarios; i++) {
        rpt_scenario_cleanup(&run->scenarios[i]);
    }
    free(run->scenarios);
    free(run->commit);
    free(run->commit_message);
    free(run->started_at);
    free(run->agent_version);
    free(run->host);
    free(run);
}

const char *rpt_verdict_name(enum rpt_verdict v)
{
    switch (v) {
    case RPT_VERDICT_NO_LEAK:
        return "no-leak";
    case RPT_VERDICT_LEAK:
        return "leak";
    case RPT_VERDICT_INCONCLUSIVE:
        return "inconclusive";
    case RPT_VERDICT_ERROR:
        return "error";
    }
    return "error";
}

const char *rpt_expect_name(enum rpt_expect e)
{
    switch (e) {
    case RPT_EXPECT_NO_LEAK:
        return "no-leak";
    case RPT_EXPECT_LEAK:
        return "leak";
    case RPT_EXPECT_ANY:
        return "any";
    }
    return "any";
}

const char *rpt_kind_name(enum rpt_kind k)
{
    switch (k) {
    case RPT_KIND_FLAT:
        return "flat";
    case RPT_KIND_LEAK:
        return "leak";
    case RPT_KIND_PLATEAU:
        return "plateau";
    case RPT_KIND_STEP:
        return "step";
    case RPT_KIND_SAWTOOTH:
        return "sawtooth";
    case RPT_KIND_CHURN:
        return "churn";
    }
    return "flat";
}

int rpt_verdict_parse(const char *name)
{
    static const enum rpt_verdict all[] = {RPT_VERDICT_NO_LEAK, RPT_VERDICT_LEAK,
                                           RPT_VERDICT_INCONCLUSIVE, RPT_VERDICT_ERROR};
    for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, rpt_verdict_name(all[i])) == 0) {
            return (int)all[i];
        }
    }
    return -1;
}

int rpt_expect_parse(const char *name)
{
    static const enum rpt_expect all[] = {RPT_EXPECT_NO_LEAK, RPT_EXPECT_LEAK, RPT_EXPECT_ANY};
    for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, rpt_expect_name(all[i])) == 0) {
            return (int)all[i];
        }
    }
    return -1;
}

size_t rpt_first_measured(const struct rpt_scenario *s)
{
    size_t i = 0;
    while (i < s->n_rounds && s->rounds[i].warmup) {
        i++;
    }
    return i;
}
