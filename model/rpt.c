/* SPDX-License-Identifier: MIT */
/* rpt.c - lifetime and names of the result model. */
#include "rpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fmt.h"

void rpt_retainers_free(struct rpt_retainer *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].symbol);
        free(r[i].object);
        free(r[i].file);
        free(r[i].section);
        for (size_t h = 0; h < r[i].n_via; h++) {
            free(r[i].via[h].function);
            free(r[i].via[h].file);
        }
        free(r[i].via);
    }
    free(r);
}

static const char *const root_kind_names[] = {
    [RPT_ROOT_UNREACHABLE] = "unreachable", [RPT_ROOT_GLOBAL] = "global",
    [RPT_ROOT_STACK] = "thread-stack",      [RPT_ROOT_TLS] = "tls",
    [RPT_ROOT_REGISTER] = "register",
};

const char *rpt_root_kind_name(enum rpt_root_kind k)
{
    size_t n = sizeof(root_kind_names) / sizeof(root_kind_names[0]);
    return (size_t)k < n ? root_kind_names[k] : "unreachable";
}

int rpt_root_kind_parse(const char *name)
{
    size_t n = sizeof(root_kind_names) / sizeof(root_kind_names[0]);
    for (size_t i = 0; name && i < n; i++) {
        if (strcmp(name, root_kind_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void rpt_scenario_cleanup(struct rpt_scenario *s)
{
    if (!s) {
        return;
    }
    free(s->name);
    free(s->file);
    free(s->reason);
    free(s->rss_warning);
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
        free(site->role);
        free(site->pids);
        free(site->culprit_why);
        rpt_retainers_free(site->retainers, site->n_retainers);
    }
    free(s->sites);
    for (size_t i = 0; i < s->n_procs; i++) {
        struct rpt_proc *p = &s->procs[i];
        free(p->exe);
        free(p->cmdline);
        free(p->role);
        free(p->origin);
        free(p->why);
        free(p->end);
    }
    free(s->procs);
    free(s->retain.note);
    free(s->snapshot_seconds);
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

/* The names, indexed by the enums' values. */
const char *const rpt_verdict_names[RPT_N_VERDICTS] = {
    [RPT_VERDICT_NO_LEAK] = "no-leak",
    [RPT_VERDICT_LEAK] = "leak",
    [RPT_VERDICT_INCONCLUSIVE] = "inconclusive",
    [RPT_VERDICT_ERROR] = "error",
};
const char *const rpt_expect_names[RPT_N_EXPECTS] = {
    [RPT_EXPECT_NO_LEAK] = "no-leak",
    [RPT_EXPECT_LEAK] = "leak",
    [RPT_EXPECT_ANY] = "any",
};

const char *const rpt_skip_names[RPT_N_SKIPS] = {
    [RPT_SKIP_NONE] = "",     [RPT_SKIP_LISTED] = "listed", [RPT_SKIP_LIBRARY] = "library",
    [RPT_SKIP_USER] = "user", [RPT_SKIP_RELAY] = "relay",
};

const char *rpt_verdict_name(enum rpt_verdict v)
{
    return (unsigned)v < RPT_N_VERDICTS ? rpt_verdict_names[v] : "error";
}

const char *rpt_expect_name(enum rpt_expect e)
{
    return (unsigned)e < RPT_N_EXPECTS ? rpt_expect_names[e] : "any";
}

static const char *const source_names[RPT_N_SOURCES] = {"malloc", "mmap", "brk"};

const char *rpt_source_name(enum rpt_source src)
{
    return (unsigned)src < RPT_N_SOURCES ? source_names[src] : "malloc";
}

int rpt_source_parse(const char *name)
{
    for (int i = 0; name && i < RPT_N_SOURCES; i++) {
        if (strcmp(name, source_names[i]) == 0) {
            return i;
        }
    }
    return -1;
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

/* Index of `name` in names[0..n-1], or -1. */
static int find_name(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++) {
        if (strcmp(name, names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int rpt_verdict_parse(const char *name)
{
    return find_name(rpt_verdict_names, RPT_N_VERDICTS, name);
}

int rpt_expect_parse(const char *name)
{
    return find_name(rpt_expect_names, RPT_N_EXPECTS, name);
}

int rpt_skip_parse(const char *name)
{
    return find_name(rpt_skip_names, RPT_N_SKIPS, name);
}

size_t rpt_first_measured(const struct rpt_scenario *s)
{
    size_t i = 0;
    while (i < s->n_rounds && s->rounds[i].warmup) {
        i++;
    }
    return i;
}

const char *rpt_signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;
    if (abbrev) {
        snprintf(buf, len, "SIG%s", abbrev);
    } else {
        snprintf(buf, len, "signal %d", sig);
    }
    return buf;
}

bool rpt_site_leaks_under_threshold(const struct rpt_site *x)
{
    return x->kind == RPT_KIND_LEAK && !x->suspect && !x->suppressed && x->bytes_per_round > 0;
}

void rpt_under_threshold_text(const struct rpt_scenario *sc, const struct rpt_site *x, char *out,
                              size_t len)
{
    char where[512];
    char rate[32];
    char limit[32];
    fmt_where(where, sizeof(where), x->function, x->file, x->line);
    fmt_bytes_signed(rate, sizeof(rate), x->bytes_per_round);
    fmt_bytes(limit, sizeof(limit), sc->threshold_bytes_per_round);
    fmt_c(out, len, "%s leaks %s/round, under the threshold of %s", where, rate, limit);
}
