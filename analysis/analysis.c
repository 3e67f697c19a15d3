/* SPDX-License-Identifier: MIT */
/* analysis.c - from a snapshot stream to a judged struct rpt_scenario (see analysis.h).
 *
 * The steps, each its own function: line the rounds up (series.c); symbolize the stacks of the
 * sites that ever held memory, name their culprits and match the suppressions; group sites that
 * share a culprit frame; run the growth statistics (growth.c); copy the sites worth reporting
 * into the model, suspects first; decide the verdict; judge it against the expectation.
 */
#include "analysis.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto.h"
#include "../util/strv.h"
#include "culprit.h"
#include "growth.h"
#include "rss.h"
#include "series.h"
#include "sym.h"

#define MAX_FRAMES_PER_PC    8
#define MAX_SYMBOLIZED_SITES 4000

/* What the analysis learns of one site beyond its series. */
struct site_work {
    struct rpt_frame *frames; /* symbolized stack, inlined frames expanded (owned) */
    size_t n_frames;
    size_t culprit; /* index into frames */
    char *why;      /* the frames passed over on the way to the culprit (owned), or NULL */
    bool suppressed;
    uint32_t group; /* sites sharing a culprit frame; 0 = none */
    struct growth_site_out g;
};

/* The working state of one analysis_run(). */
struct work {
    const struct analysis_opts *o;
    const struct snap_stream *st;
    struct series ser;
    struct site_work *w; /* ser.n_sites entries */
    struct growth_out go;
    bool analysed;
};

/* Frees symbolized frames. NULL is a no-op. */
static void frames_free(struct rpt_frame *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].function);
        free(f[i].system_name);
        free(f[i].file);
        free(f[i].object);
    }
    free(f);
}

/* Symbolizes one stack into w->frames (all frames, inlined expanded). Out of memory leaves the
 * site without frames. */
static void symbolize_site(struct sym *sy, const struct snap_stack *stk, struct site_work *w)
{
    if (!stk || stk->depth == 0) {
        return;
    }
    struct rpt_frame *frames = calloc((size_t)stk->depth * MAX_FRAMES_PER_PC, sizeof(*frames));
    if (!frames) {
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < stk->depth; i++) {
        int k = sy ? sym_resolve(sy, stk->pcs[i], frames + n, MAX_FRAMES_PER_PC) : 0;
        if (k <= 0) {
            frames[n].address = stk->pcs[i] ? stk->pcs[i] - 1 : 0;
            k = 1;
        }
        n += (size_t)k;
    }
    w->frames = frames;
    w->n_frames = n;
}

struct sym *analysis_sym_for_stream(const struct snap_stream *st)
{
    struct sym *sy = sym_new();
    for (size_t i = 0; sy && i < st->n_snaps; i++) {
        for (size_t j = 0; j < st->snaps[i].n_objects; j++) {
            const struct snap_object *ob = &st->snaps[i].objects[j];
            sym_add_object(sy, ob->path, ob->base, ob->segs, ob->n_segs, ob->build_id,
                           ob->build_id_len);
        }
    }
    return sy;
}

/* Picks the culprit of site k (with the relays of the recording when `rel` is not NULL), keeps
 * the account of the frames passed over, and matches the suppressions from it. */
static void pick_culprit(struct work *wk, const struct culprit_rules *rules,
                         const struct culprit_relays *rel, size_t k)
{
    struct site_work *w = &wk->w[k];
    const struct analysis_opts *o = wk->o;
    if (!w->n_frames || !rules) {
        return;
    }
    char why[512];
    w->culprit = culprit_pick_site(rules, rel, w->frames, w->n_frames, why, sizeof(why));
    if (w->culprit >= w->n_frames) {
        w->culprit = 0;
    }
    free(w->why);
    w->why = why[0] ? strdup(why) : NULL;
    if (o->n_supp) {
        w->suppressed =
            supp_match(o->supp, o->n_supp, w->frames + w->culprit, w->n_frames - w->culprit);
    }
}

/* Symbolizes the sites that ever held memory, picks their culprits by the listed wrappers,
 * matches suppressions. */
static void name_sites(struct work *wk, const struct culprit_rules *rules)
{
    struct sym *sy = analysis_sym_for_stream(wk->st);
    size_t symbolized = 0;
    for (size_t k = 0; k < wk->ser.n_sites; k++) {
        if (wk->ser.sites[k].peak == 0) {
            continue;
        }
        if (symbolized++ < MAX_SYMBOLIZED_SITES) {
            symbolize_site(sy, snap_stream_stack(wk->st, wk->ser.sites[k].id), &wk->w[k]);
        }
        pick_culprit(wk, rules, NULL, k);
    }
    sym_free(sy);
}

/* True for the kinds of a site that holds memory steadily (flat, or filled then bounded): the
 * stable code whose stacks are evidence of a relay. A site that holds memory now and then (a
 * container's storage moving between callers as it doubles, churn) is not. */
static bool held_steadily(enum rpt_kind kind)
{
    return kind == RPT_KIND_FLAT || kind == RPT_KIND_PLATEAU;
}

/* Names the culprits of the growing sites again, now that the recording says which sites grow:
 * frames that relay allocations for their callers are passed over (culprit.h). Returns true
 * when a culprit moved. Out of memory keeps the culprits as they were. */
static bool rename_by_relays(struct work *wk, const struct culprit_rules *rules)
{
    size_t n = wk->ser.n_sites;
    struct culprit_stack *cs = calloc(n ? n : 1, sizeof(*cs));
    if (!cs || !rules) {
        free(cs);
        return false;
    }
    size_t n_growing = 0;
    for (size_t k = 0; k < n; k++) {
        const struct snap_stack *stk = snap_stream_stack(wk->st, wk->ser.sites[k].id);
        bool growing = wk->w[k].g.kind == RPT_KIND_LEAK;
        cs[k] = (struct culprit_stack){
            .pcs = stk ? stk->pcs : NULL,
            .depth = stk ? stk->depth : 0,
            .growing = growing,
            .held = wk->ser.sites[k].peak > 0 && held_steadily(wk->w[k].g.kind),
        };
        n_growing += growing;
    }
    struct culprit_relays *rel = n_growing ? culprit_relays_new(cs, n) : NULL;
    free(cs);
    bool moved = false;
    for (size_t k = 0; rel && k < n; k++) {
        if (wk->w[k].g.kind == RPT_KIND_LEAK && wk->w[k].n_frames) {
            size_t before = wk->w[k].culprit;
            pick_culprit(wk, rules, rel, k);
            moved |= wk->w[k].culprit != before;
        }
    }
    culprit_relays_free(rel);
    return moved;
}

/* Sites sharing a culprit frame (same function and line, or same address) form one group. */
static void group_sites(struct site_work *w, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (!w[k].n_frames || w[k].group) {
            continue;
        }
        const struct rpt_frame *f = &w[k].frames[w[k].culprit];
        w[k].group = (uint32_t)k + 1;
        for (size_t m = k + 1; m < n; m++) {
            if (!w[m].n_frames || w[m].group) {
                continue;
            }
            const struct rpt_frame *g = &w[m].frames[w[m].culprit];
            bool same = f->function && g->function
                            ? strcmp(f->function, g->function) == 0 && f->line == g->line
                            : f->address == g->address;
            if (same) {
                w[m].group = w[k].group;
            }
        }
    }
}

/* Runs the growth statistics when there are at least two measured rounds. Sets wk->analysed.
 * Returns 0 or -ENOMEM. */
static int run_growth(struct work *wk, const struct rpt_scenario *out)
{
    size_t n = wk->ser.n_rounds;
    size_t n_sites = wk->ser.n_sites;
    wk->go = (struct growth_out){.verdict = RPT_VERDICT_INCONCLUSIVE, .trend_p_value = 1};
    if (n <= (size_t)wk->o->warmup + 1) {
        return 0;
    }
    uint64_t *heap = calloc(2 * n, sizeof(*heap));
    struct growth_site_in *gin = calloc(n_sites ? n_sites : 1, sizeof(*gin));
    struct growth_site_out *gout = calloc(n_sites ? n_sites : 1, sizeof(*gout));
    int rc = heap && gin && gout ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        heap[i] = out->rounds[i].live_bytes;
        heap[n + i] = out->rounds[i].live_blocks;
    }
    for (size_t k = 0; rc == 0 && k < n_sites; k++) {
        const struct series_site *ss = &wk->ser.sites[k];
        gin[k] = (struct growth_site_in){
            .live_bytes = ss->live_bytes,
            .live_blocks = ss->live_blocks,
            .surv_blocks = ss->surv_blocks,
            .surv_bytes = ss->surv_bytes,
            .suppressed = wk->w[k].suppressed,
            .group = wk->w[k].group,
        };
    }
    double th = wk->o->threshold_bytes_per_round;
    struct growth_in in = {
        .n_rounds = n,
        .warmup = wk->o->warmup,
        .live_bytes = heap,
        .live_blocks = heap ? heap + n : NULL,
        .n_sites = n_sites,
        .sites = gin,
        .threshold_bytes_per_round = th > 0 ? th : GROWTH_DEFAULT_BYTES_PER_ROUND,
        .threshold_blocks_per_round = wk->o->threshold_blocks_per_round,
    };
    if (rc == 0 && growth_analyze(&in, &wk->go, gout) == 0) {
        wk->analysed = true;
        for (size_t k = 0; k < n_sites; k++) {
            wk->w[k].g = gout[k];
        }
    }
    free(heap);
    free(gin);
    free(gout);
    return rc;
}

/* True when a stack (allocator side first) ends at a thread's first frame. A stack that stops
 * short of it was cut: the depth limit, or code without unwind information the unwinder could
 * not get through. Such sites are flagged in the report, since their culprit may be a callee
 * of the real one. */
static bool reaches_root(const struct rpt_frame *frames, size_t n)
{
    static const char *const roots[] = {
        "_start",  "__libc_start_main", "__libc_start_call_main", "start_thread", "clone", "clone3",
        "__clone", "__clone3",          "_dl_start_user",         "_dl_start",    NULL};
    if (n == 0) {
        return false;
    }
    const char *outer = frames[n - 1].function;
    for (const char *const *r = roots; outer && *r; r++) {
        if (strcmp(outer, *r) == 0) {
            return true;
        }
    }
    return false;
}

/* Suspects first, then by growth, then by final size, then by id. */
static int cmp_sites(const void *a, const void *b)
{
    const struct rpt_site *x = a;
    const struct rpt_site *y = b;
    if (x->suspect != y->suspect) {
        return x->suspect ? -1 : 1;
    }
    if (x->bytes_per_round != y->bytes_per_round) {
        return x->bytes_per_round > y->bytes_per_round ? -1 : 1;
    }
    if (x->final_bytes != y->final_bytes) {
        return x->final_bytes > y->final_bytes ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id;
}

/* a - b as a signed value, saturated: counters come from the agent (or a recording) and may
 * be anything up to 2^64 - 1 (found by fuzz/fuzz_analyze.c). Can't fail. */
static int64_t diff_sat(uint64_t a, uint64_t b)
{
    if (a >= b) {
        return a - b > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(a - b);
    }
    return b - a > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)(b - a);
}

/* Moves series k and its frames into the report's site; the work keeps nothing of them. */
static void take_site(struct work *wk, size_t k, size_t first_measured, struct rpt_site *site)
{
    struct series_site *ss = &wk->ser.sites[k];
    struct site_work *w = &wk->w[k];
    size_t n = wk->ser.n_rounds;
    const struct snap_stack *stk = snap_stream_stack(wk->st, ss->id);
    site->id = ss->id;
    site->kind = w->g.kind;
    site->suppressed = w->suppressed;
    site->suspect = w->g.suspect;
    site->bytes_per_round = w->g.bytes_per_round;
    site->blocks_per_round = w->g.blocks_per_round;
    site->rounds_with_survivors = w->g.rounds_with_survivors;
    site->measured_rounds = w->g.measured_rounds;
    site->peak_bytes = ss->peak;
    if (n) {
        site->final_bytes = ss->live_bytes[n - 1];
        site->final_blocks = ss->live_blocks[n - 1];
        site->growth_bytes_signed = diff_sat(ss->live_bytes[n - 1], ss->live_bytes[first_measured]);
        site->growth_blocks_signed =
            diff_sat(ss->live_blocks[n - 1], ss->live_blocks[first_measured]);
        site->growth_bytes =
            site->growth_bytes_signed > 0 ? (uint64_t)site->growth_bytes_signed : 0;
    }
    site->alloc_bytes = ss->alloc_bytes;
    site->alloc_blocks = ss->alloc_blocks;
    site->live_bytes = ss->live_bytes;
    site->live_blocks = ss->live_blocks;
    ss->live_bytes = ss->live_blocks = NULL;
    site->frames = w->frames;
    site->n_frames = w->n_frames;
    w->frames = NULL;
    w->n_frames = 0;
    site->truncated = (stk && stk->truncated) || !reaches_root(site->frames, site->n_frames);
    site->source = !stk                               ? RPT_SOURCE_MALLOC
                   : (stk->source & PROTO_STACK_MMAP) ? RPT_SOURCE_MMAP
                   : (stk->source & PROTO_STACK_BRK)  ? RPT_SOURCE_BRK
                                                      : RPT_SOURCE_MALLOC;
    if (site->n_frames) {
        const struct rpt_frame *f = &site->frames[w->culprit];
        site->function = strv_dup_str(f->function);
        site->file = strv_dup_str(f->file);
        site->line = f->line;
        site->object = strv_dup_str(f->object);
        site->culprit_frame = (uint32_t)w->culprit;
        site->culprit_why = w->why;
        w->why = NULL;
    }
}

/* Copies the sites worth reporting (any live bytes at some round, or a suspect) into `out`,
 * sorted. Returns 0 or -ENOMEM. */
static int report_sites(struct work *wk, struct rpt_scenario *out)
{
    size_t n_rep = 0;
    for (size_t k = 0; k < wk->ser.n_sites; k++) {
        n_rep += wk->ser.sites[k].peak > 0 || wk->w[k].g.suspect;
    }
    out->sites = calloc(n_rep ? n_rep : 1, sizeof(*out->sites));
    if (!out->sites) {
        return -ENOMEM;
    }
    size_t n = wk->ser.n_rounds;
    size_t first_measured = wk->o->warmup < n ? wk->o->warmup : 0;
    for (size_t k = 0; k < wk->ser.n_sites; k++) {
        if (wk->ser.sites[k].peak > 0 || wk->w[k].g.suspect) {
            struct rpt_site *site = &out->sites[out->n_sites++];
            take_site(wk, k, first_measured, site);
            out->stacks_truncated |= site->truncated;
        }
    }
    qsort(out->sites, out->n_sites, sizeof(*out->sites), cmp_sites);
    return 0;
}

/* Copies the scenario's settings and the agent's counters into `out`. */
static void fill_header(const struct analysis_opts *o, const struct snap_snapshot *last,
                        struct rpt_scenario *out)
{
    out->name = strdup(o->name ? o->name : "scenario");
    out->file = strv_dup_str(o->file);
    out->expect = o->expect;
    out->threshold_bytes_per_round = o->threshold_bytes_per_round;
    out->threshold_blocks_per_round = o->threshold_blocks_per_round;
    out->rounds_planned = o->warmup + o->rounds;
    out->warmup = o->warmup;
    out->trend_p_value = 1;
    out->exit_code = -1;
    if (last) {
        out->unknown_frees = last->counters[PROTO_C_UNKNOWN_FREES];
        out->dropped = last->counters[PROTO_C_DROPPED];
        out->unwind_errors = last->counters[PROTO_C_UNWIND_ERRORS];
        out->truncated_stacks = last->counters[PROTO_C_TRUNCATED];
        out->stacks_truncated = (last->flags & PROTO_SNAP_TRUNCATED) != 0;
    }
}

/* One rpt_round per completed round. Returns 0 or -ENOMEM. */
static int fill_rounds(const struct work *wk, const double *seconds, struct rpt_scenario *out)
{
    size_t n = wk->ser.n_rounds;
    out->rounds = calloc(n ? n : 1, sizeof(*out->rounds));
    if (!out->rounds) {
        return -ENOMEM;
    }
    out->n_rounds = n;
    for (size_t i = 0; i < n; i++) {
        series_round(wk->ser.snaps[i], (uint32_t)i + 1, i < wk->o->warmup, seconds ? seconds[i] : 0,
                     &out->rounds[i]);
    }
    return 0;
}

/* Sets verdict, reason and error. */
static void decide(const struct work *wk, const char *run_error, struct rpt_scenario *out)
{
    const struct snap_snapshot *last = wk->ser.last;
    char buf[512];
    const char *reason = buf;
    if (run_error) {
        out->verdict = RPT_VERDICT_ERROR;
        out->error = strdup(run_error);
        const char *nl = strchr(run_error, '\n');
        out->reason = nl ? strndup(run_error, (size_t)(nl - run_error)) : strdup(run_error);
        return;
    }
    out->verdict = RPT_VERDICT_INCONCLUSIVE;
    if (last && (last->flags & PROTO_SNAP_PASSTHROUGH)) {
        reason = "the agent stopped tracking during the run (pass-through); the profile is "
                 "incomplete";
    } else if (out->dropped > 0) {
        snprintf(buf, sizeof(buf),
                 "the agent dropped %llu allocations (table full or agent error); the profile is "
                 "incomplete",
                 (unsigned long long)out->dropped);
    } else if (!wk->analysed) {
        snprintf(buf, sizeof(buf), "too few measured rounds to analyse (%zu completed, %u warm-up)",
                 wk->ser.n_rounds, wk->o->warmup);
    } else {
        out->verdict = wk->go.verdict;
        reason = wk->go.reason;
    }
    out->reason = strdup(reason);
}

int analysis_run(const struct analysis_opts *o, const struct snap_stream *st, const double *seconds,
                 const char *run_error, struct rpt_scenario *out)
{
    struct work wk = {.o = o, .st = st};
    int rc = series_build(st, o->round_base, o->warmup + o->rounds, &wk.ser);
    if (rc != 0) {
        return rc;
    }
    fill_header(o, wk.ser.last, out);
    wk.w = calloc(wk.ser.n_sites ? wk.ser.n_sites : 1, sizeof(*wk.w));
    rc = wk.w ? fill_rounds(&wk, seconds, out) : -ENOMEM;
    struct culprit_rules *rules = culprit_rules_new();
    for (size_t i = 0; rules && i < o->n_wrappers; i++) {
        culprit_rules_add(rules, o->wrappers[i]);
    }
    if (rc == 0) {
        name_sites(&wk, rules);
        group_sites(wk.w, wk.ser.n_sites);
        rc = run_growth(&wk, out);
    }
    if (rc == 0 && wk.analysed && rename_by_relays(&wk, rules)) {
        for (size_t k = 0; k < wk.ser.n_sites; k++) {
            wk.w[k].group = 0;
        }
        group_sites(wk.w, wk.ser.n_sites);
        rc = run_growth(&wk, out);
    }
    culprit_rules_free(rules);
    if (rc == 0) {
        out->growth_bytes_per_round = wk.go.bytes_per_round;
        out->growth_blocks_per_round = wk.go.blocks_per_round;
        out->trend_p_value = wk.analysed ? wk.go.trend_p_value : 1;
        rc = report_sites(&wk, out);
    }
    if (rc == 0) {
        decide(&wk, run_error, out);
        rc = rss_check(out, o->threshold_rss_bytes_per_round);
    }
    if (rc == 0) {
        analysis_judge(o, out);
    }
    for (size_t k = 0; wk.w && k < wk.ser.n_sites; k++) {
        frames_free(wk.w[k].frames, wk.w[k].n_frames);
        free(wk.w[k].why);
    }
    free(wk.w);
    series_cleanup(&wk.ser);
    return rc;
}

void analysis_judge(const struct analysis_opts *o, struct rpt_scenario *out)
{
    switch (out->verdict) {
    case RPT_VERDICT_LEAK:
        out->ok = out->expect == RPT_EXPECT_LEAK || out->expect == RPT_EXPECT_ANY;
        break;
    case RPT_VERDICT_NO_LEAK:
        out->ok = out->expect == RPT_EXPECT_NO_LEAK || out->expect == RPT_EXPECT_ANY;
        break;
    default:
        out->ok = false;
        break;
    }
    if (!out->ok || out->verdict != RPT_VERDICT_LEAK || !o->expect_culprit) {
        return;
    }
    const char *found = out->n_sites && out->sites[0].suspect && out->sites[0].function
                            ? out->sites[0].function
                            : NULL;
    if (found && fnmatch(o->expect_culprit, found, 0) == 0) {
        return;
    }
    out->ok = false;
    char *r = NULL;
    if (asprintf(&r, "%s; expected the culprit '%s', found '%s'",
                 out->reason ? out->reason : "leak", o->expect_culprit,
                 found ? found : "no symbolized suspect") >= 0) {
        free(out->reason);
        out->reason = r;
    }
}
