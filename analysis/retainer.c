/* SPDX-License-Identifier: MIT */
/* retainer.c - naming, grouping and attaching the retainer scan's paths (see retainer.h). */
#include "retainer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto.h"
#include "../util/arr.h"
#include "../util/strv.h"
#include "analysis.h"
#include "culprit.h"
#include "sym.h"

#define MAX_FRAMES_PER_PC 8

const char *retainer_reg_name(uint32_t reg)
{
    static const char *const names[PROTO_REG_COUNT] = {
        [PROTO_REG_RAX] = "rax", [PROTO_REG_RBX] = "rbx", [PROTO_REG_RCX] = "rcx",
        [PROTO_REG_RDX] = "rdx", [PROTO_REG_RSI] = "rsi", [PROTO_REG_RDI] = "rdi",
        [PROTO_REG_RBP] = "rbp", [PROTO_REG_RSP] = "rsp", [PROTO_REG_R8] = "r8",
        [PROTO_REG_R9] = "r9",   [PROTO_REG_R10] = "r10", [PROTO_REG_R11] = "r11",
        [PROTO_REG_R12] = "r12", [PROTO_REG_R13] = "r13", [PROTO_REG_R14] = "r14",
        [PROTO_REG_R15] = "r15",
    };
    return reg < PROTO_REG_COUNT ? names[reg] : "?";
}

/* One named path before grouping: a retainer of one block, its grouping key. */
struct entry {
    size_t site; /* index into out->sites */
    char *key;   /* kind, root name and the sites on the way (owned) */
    struct rpt_retainer r;
};

struct work {
    const struct analysis_opts *o;
    struct rpt_scenario *out;
    struct culprit_rules *rules;
    uint32_t *ids; /* out's site ids, sorted, with their index: pairs (id, index) */
    struct entry *e;
    size_t n_e, cap_e;
};

/* ---------------------------------------------------------------- the scan's figures */

static void fill_figures(const struct rec *rec, struct rpt_retain_scan *rs)
{
    bool first_note = true;
    for (size_t i = 0; i < rec->n_procs; i++) {
        const struct rec_proc *p = rec->procs[i];
        const struct rec_retain *t = p->retain;
        if (!t) {
            continue;
        }
        if (!rs->ran) {
            rs->complete = true;
        }
        rs->ran = true;
        rs->complete &= (t->flags & (PROTO_RETAIN_CUT | PROTO_RETAIN_FAILED)) == 0;
        rs->round = t->round > rs->round ? t->round : rs->round;
        if (!(t->flags & PROTO_RETAIN_FAILED)) {
            rs->processes++;
        }
        double stopped = (double)t->stopped_us / 1e6;
        rs->stopped_seconds = stopped > rs->stopped_seconds ? stopped : rs->stopped_seconds;
        rs->seconds += (double)t->scan_us / 1e6;
        rs->bytes_read += t->bytes_read;
        rs->live_blocks += t->live_blocks;
        rs->live_bytes += t->live_bytes;
        rs->memory_bytes = t->memory_bytes > rs->memory_bytes ? t->memory_bytes : rs->memory_bytes;
        bool cut = (t->flags & (PROTO_RETAIN_CUT | PROTO_RETAIN_FAILED)) != 0;
        if (first_note && (cut || (t->note && t->note[0]))) {
            const char *note = t->note && t->note[0]              ? t->note
                               : (t->flags & PROTO_RETAIN_FAILED) ? "no scan"
                                                                  : "cut short";
            char buf[512];
            snprintf(buf, sizeof(buf), "process %u: %s", p->pid, note);
            free(rs->note);
            rs->note = strdup(buf);
            first_note = false;
        }
    }
}

/* ---------------------------------------------------------------- sites */

static int cmp_pair(const void *a, const void *b)
{
    uint32_t x = ((const uint32_t *)a)[0];
    uint32_t y = ((const uint32_t *)b)[0];
    return x < y ? -1 : x > y;
}

/* The index in out->sites of site id `id`, or -1. */
static long site_index(const struct work *w, uint32_t id)
{
    uint32_t key[2] = {id, 0};
    const uint32_t *hit =
        id ? bsearch(key, w->ids, w->out->n_sites, 2 * sizeof(uint32_t), cmp_pair) : NULL;
    return hit ? (long)hit[1] : -1;
}

static void frames_free(struct rpt_frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].function);
        free(f[i].system_name);
        free(f[i].file);
        free(f[i].object);
    }
}

/* Names a block of a site that `out` does not report: its stack's culprit. Leaves the hop
 * unnamed when the stack is unknown. Returns 0 or -ENOMEM. */
static int name_stack(struct work *w, struct sym *sy, const struct snap_stack *stk,
                      struct rpt_hop *h)
{
    if (!stk || !sy || stk->depth == 0) {
        return 0;
    }
    size_t cap = (size_t)stk->depth * MAX_FRAMES_PER_PC;
    struct rpt_frame *frames = calloc(cap, sizeof(*frames));
    if (!frames) {
        return -ENOMEM;
    }
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < stk->depth && rc == 0; i++) {
        int k = sym_resolve(sy, stk->pcs[i], frames + n, MAX_FRAMES_PER_PC);
        if (k < 0) {
            rc = k;
        } else {
            n += (size_t)k;
        }
    }
    if (rc == 0 && n > 0) {
        size_t c = culprit_pick(w->rules, frames, n);
        h->function = strv_dup_str(frames[c].function);
        h->file = strv_dup_str(frames[c].file);
        h->line = frames[c].line;
        rc = (frames[c].function && !h->function) || (frames[c].file && !h->file) ? -ENOMEM : 0;
    }
    frames_free(frames, n);
    free(frames);
    return rc;
}

/* ---------------------------------------------------------------- naming one path */

/* Names the root of `pa` into r (kind, symbol, object, file, line, section, offset, tid).
 * Returns 0 or -ENOMEM. */
static int name_root(struct sym *sy, const struct rec_retain *t, const struct rec_path *pa,
                     struct rpt_retainer *r)
{
    const struct rec_retain_obj *ob = pa->root_obj != PROTO_NO_OBJ ? &t->objs[pa->root_obj] : NULL;
    r->tid = pa->root_tid;
    switch (pa->root_kind) {
    case PROTO_ROOT_GLOBAL:
    case PROTO_ROOT_TLS: {
        bool tls = pa->root_kind == PROTO_ROOT_TLS;
        r->kind = tls ? RPT_ROOT_TLS : RPT_ROOT_GLOBAL;
        r->tid = tls ? pa->root_tid : 0;
        r->offset = (int64_t)pa->root_addr;
        if (!ob) {
            return 0;
        }
        r->object = strdup(ob->path);
        if (!r->object) {
            return -ENOMEM;
        }
        struct sym_data sd;
        int rc = sy ? sym_resolve_data(sy, ob->path, ob->base, pa->root_addr, tls, &sd) : 0;
        if (rc == -ENOMEM) {
            return rc;
        }
        if (rc == 0 && sy) {
            r->symbol = sd.name;
            r->file = sd.file;
            r->line = sd.line;
            r->section = sd.section;
            r->offset = (int64_t)sd.offset;
        }
        return 0;
    }
    case PROTO_ROOT_STACK: {
        r->kind = RPT_ROOT_STACK;
        r->offset = (int64_t)pa->root_addr;
        if (!pa->root_pc || !sy) {
            return 0;
        }
        struct rpt_frame f[MAX_FRAMES_PER_PC];
        int n = sym_resolve(sy, pa->root_pc, f, MAX_FRAMES_PER_PC);
        if (n < 0) {
            return n;
        }
        /* the physical function owns the frame; its line is where it is now */
        const struct rpt_frame *phys = &f[n - 1];
        int rc = 0;
        r->symbol = strv_dup_str(phys->function);
        r->file = strv_dup_str(phys->file);
        r->object = strv_dup_str(phys->object);
        r->line = phys->line;
        if ((phys->function && !r->symbol) || (phys->file && !r->file) ||
            (phys->object && !r->object)) {
            rc = -ENOMEM;
        }
        frames_free(f, (size_t)n);
        return rc;
    }
    case PROTO_ROOT_REGISTER:
        r->kind = RPT_ROOT_REGISTER;
        r->symbol = strdup(retainer_reg_name((uint32_t)pa->root_addr));
        return r->symbol ? 0 : -ENOMEM;
    default:
        r->kind = RPT_ROOT_UNREACHABLE;
        r->tid = 0;
        return 0;
    }
}

/* True when hops a and b name the same culprit (function, file and line). */
static bool same_culprit(const struct rpt_hop *a, const struct rpt_hop *b)
{
    return a->function && b->function && strcmp(a->function, b->function) == 0 &&
           a->line == b->line &&
           (a->file == b->file || (a->file && b->file && strcmp(a->file, b->file) == 0));
}

/* Folds each run of consecutive hops with the same culprit (a list's nodes, a library's chain of
 * objects allocated for one call) into its last hop: the pointer out of the run. */
static void fold_runs(struct rpt_retainer *r)
{
    size_t k = 0;
    for (size_t h = 0; h < r->n_via; h++) {
        if (k > 0 && same_culprit(&r->via[k - 1], &r->via[h])) {
            free(r->via[k - 1].function);
            free(r->via[k - 1].file);
            r->via[k - 1] = r->via[h];
        } else {
            r->via[k++] = r->via[h];
        }
    }
    r->n_via = k;
}

/* The grouping key of a named path: kind, root name, object, section, and the way: each step by
 * its culprit (as the report names sites), or by its site id when it has no name. Returns a new
 * string or NULL. */
static char *make_key(const struct rpt_retainer *r)
{
    struct {
        char *p;
        size_t n;
    } b = {0};
    FILE *f = open_memstream(&b.p, &b.n);
    if (!f) {
        return NULL;
    }
    fprintf(f, "%d\x1f%s\x1f%s\x1f%s", (int)r->kind, r->symbol ? r->symbol : "",
            r->object ? r->object : "", r->section ? r->section : "");
    for (size_t i = 0; i < r->n_via; i++) {
        const struct rpt_hop *h = &r->via[i];
        if (h->function) {
            fprintf(f, "\x1f%s\x1e%s\x1e%u", h->function, h->file ? h->file : "", h->line);
        } else {
            fprintf(f, "\x1f#%u", h->site);
        }
    }
    if (fclose(f) != 0) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Names path `pa` of process p and adds it to the work. Returns 0 or -ENOMEM. */
static int add_path(struct work *w, struct sym *sy, const struct rec_proc *p,
                    const struct rec_retain *t, const struct rec_path *pa, retainer_site_fn site_of,
                    void *ctx)
{
    long si = site_index(w, site_of(ctx, p, pa->stack_id));
    if (si < 0) {
        return 0;
    }
    struct rpt_retainer r = {.blocks = 1, .bytes = pa->size};
    int rc = name_root(sy, t, pa, &r);
    if (rc == 0 && pa->n_hops > 0) {
        r.via = calloc(pa->n_hops, sizeof(*r.via));
        rc = r.via ? 0 : -ENOMEM;
        r.n_via = r.via ? pa->n_hops : 0;
    }
    for (size_t h = 0; rc == 0 && h < r.n_via; h++) {
        struct rpt_hop *hop = &r.via[h];
        hop->site = site_of(ctx, p, pa->hops[h].stack_id);
        hop->offset = pa->hops[h].offset;
        long hi = site_index(w, hop->site);
        if (hi >= 0) {
            const struct rpt_site *s = &w->out->sites[hi];
            hop->function = strv_dup_str(s->function);
            hop->file = strv_dup_str(s->file);
            hop->line = s->line;
            rc = (s->function && !hop->function) || (s->file && !hop->file) ? -ENOMEM : 0;
        } else {
            rc = name_stack(w, sy, snap_stream_stack(&p->st, pa->hops[h].stack_id), hop);
        }
    }
    if (rc == 0) {
        fold_runs(&r);
    }
    char *key = rc == 0 ? make_key(&r) : NULL;
    if (rc == 0 && key && arr_grow((void **)&w->e, &w->cap_e, w->n_e, sizeof(*w->e)) == 0) {
        w->e[w->n_e++] = (struct entry){.site = (size_t)si, .key = key, .r = r};
        return 0;
    }
    free(key);
    free(r.symbol);
    free(r.object);
    free(r.file);
    free(r.section);
    for (size_t h = 0; h < r.n_via; h++) {
        free(r.via[h].function);
        free(r.via[h].file);
    }
    free(r.via);
    return -ENOMEM;
}

/* ---------------------------------------------------------------- grouping */

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a;
    const struct entry *y = b;
    if (x->site != y->site) {
        return x->site < y->site ? -1 : 1;
    }
    return strcmp(x->key, y->key);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The most common of v[0..n) (the smallest among equals); sorts v. n > 0. *varies (may be
 * NULL) tells whether the values differ. */
static int64_t mode(int64_t *v, size_t n, bool *varies)
{
    qsort(v, n, sizeof(*v), cmp_i64);
    int64_t best = v[0];
    size_t best_n = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j] == v[i]) {
            j++;
        }
        if (j - i > best_n) {
            best = v[i];
            best_n = j - i;
        }
        i = j;
    }
    if (varies) {
        *varies = best_n < n;
    }
    return best;
}

/* Most survivors first, then most bytes, then by kind, name and way, for a stable order. */
static int cmp_group(const void *a, const void *b)
{
    const struct rpt_retainer *x = a;
    const struct rpt_retainer *y = b;
    if (x->blocks != y->blocks) {
        return x->blocks > y->blocks ? -1 : 1;
    }
    if (x->bytes != y->bytes) {
        return x->bytes > y->bytes ? -1 : 1;
    }
    if (x->kind != y->kind) {
        return x->kind < y->kind ? -1 : 1;
    }
    int c = strcmp(x->symbol ? x->symbol : "", y->symbol ? y->symbol : "");
    if (c) {
        return c;
    }
    c = strcmp(x->object ? x->object : "", y->object ? y->object : "");
    if (c) {
        return c;
    }
    if (x->n_via != y->n_via) {
        return x->n_via < y->n_via ? -1 : 1;
    }
    for (size_t i = 0; i < x->n_via; i++) {
        if (x->via[i].site != y->via[i].site) {
            return x->via[i].site < y->via[i].site ? -1 : 1;
        }
    }
    return 0;
}

/* Folds entries e[0..n) (one site, one key, so one way) into one group: the first entry's
 * names, the survivors and bytes summed, the most common offset of each step and thread. */
static void fold(struct entry *e, size_t n, int64_t *tmp, struct rpt_retainer *g)
{
    uint64_t blocks = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        blocks += e[i].r.blocks;
        bytes += e[i].r.bytes;
    }
    for (size_t i = 0; i < n; i++) {
        tmp[i] = e[i].r.offset;
    }
    bool varies = false;
    int64_t offset = mode(tmp, n, &varies);
    for (size_t i = 0; i < n; i++) {
        tmp[i] = e[i].r.tid;
    }
    uint32_t tid = (uint32_t)mode(tmp, n, NULL);
    for (size_t h = 0; h < e[0].r.n_via; h++) {
        for (size_t i = 0; i < n; i++) {
            tmp[i] = e[i].r.via[h].offset;
        }
        e[0].r.via[h].offset = mode(tmp, n, &e[0].r.via[h].offset_varies);
    }
    *g = e[0].r;
    memset(&e[0].r, 0, sizeof(e[0].r));
    g->blocks = blocks;
    g->bytes = bytes;
    g->offset = offset;
    g->offset_varies = varies;
    g->tid = tid;
}

/* Groups the entries by site and key and attaches the groups to the sites. Returns 0 or
 * -ENOMEM. */
static int attach(struct work *w)
{
    if (w->n_e > 1) { /* a scan that sampled nothing has no entries (w->e NULL) */
        qsort(w->e, w->n_e, sizeof(*w->e), cmp_entry);
    }
    int64_t *tmp = calloc(w->n_e ? w->n_e : 1, sizeof(*tmp));
    if (!tmp) {
        return -ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; i < w->n_e && rc == 0;) {
        size_t site = w->e[i].site;
        size_t end = i;
        size_t n_groups = 0;
        while (end < w->n_e && w->e[end].site == site) {
            n_groups += end == i || strcmp(w->e[end].key, w->e[end - 1].key) != 0;
            end++;
        }
        struct rpt_site *s = &w->out->sites[site];
        s->retainers = calloc(n_groups, sizeof(*s->retainers));
        if (!s->retainers) {
            rc = -ENOMEM;
            break;
        }
        s->retain_sampled = end - i;
        for (size_t k = i; k < end;) {
            size_t m = k + 1;
            while (m < end && strcmp(w->e[m].key, w->e[k].key) == 0) {
                m++;
            }
            fold(&w->e[k], m - k, tmp, &s->retainers[s->n_retainers++]);
            k = m;
        }
        qsort(s->retainers, s->n_retainers, sizeof(*s->retainers), cmp_group);
        i = end;
    }
    free(tmp);
    return rc;
}

/* ---------------------------------------------------------------- the entry point */

static void work_cleanup(struct work *w)
{
    for (size_t i = 0; i < w->n_e; i++) {
        struct rpt_retainer *r = &w->e[i].r;
        free(w->e[i].key);
        free(r->symbol);
        free(r->object);
        free(r->file);
        free(r->section);
        for (size_t h = 0; h < r->n_via; h++) {
            free(r->via[h].function);
            free(r->via[h].file);
        }
        free(r->via);
    }
    free(w->e);
    free(w->ids);
    culprit_rules_free(w->rules);
}

int retainer_attach(const struct analysis_opts *o, const struct rec *rec, retainer_site_fn site_of,
                    void *ctx, struct rpt_scenario *out)
{
    fill_figures(rec, &out->retain);
    if (!out->retain.ran) {
        return 0;
    }
    struct work w = {.o = o, .out = out};
    int rc = 0;
    w.ids = calloc(2 * (out->n_sites ? out->n_sites : 1), sizeof(*w.ids));
    w.rules = culprit_rules_new();
    if (!w.ids || !w.rules) {
        rc = -ENOMEM;
    }
    for (size_t i = 0; o && rc == 0 && i < o->n_wrappers; i++) {
        culprit_rules_add(w.rules, o->wrappers[i]);
    }
    for (size_t i = 0; rc == 0 && i < out->n_sites; i++) {
        w.ids[2 * i] = out->sites[i].id;
        w.ids[2 * i + 1] = (uint32_t)i;
    }
    if (rc == 0) {
        qsort(w.ids, out->n_sites, 2 * sizeof(*w.ids), cmp_pair);
    }
    for (size_t i = 0; rc == 0 && i < rec->n_procs; i++) {
        const struct rec_proc *p = rec->procs[i];
        const struct rec_retain *t = p->retain;
        if (!t || t->n_paths == 0) {
            continue;
        }
        struct sym *sy = analysis_sym_for_stream(&p->st);
        for (size_t k = 0; rc == 0 && k < t->n_paths; k++) {
            rc = add_path(&w, sy, p, t, &t->paths[k], site_of, ctx);
        }
        sym_free(sy);
    }
    if (rc == 0) {
        rc = attach(&w);
    }
    work_cleanup(&w);
    return rc;
}
