/* SPDX-License-Identifier: MIT */
/* rpt_name.c - the names of frames and sites as people read them (see rpt_name.h). */
#include "rpt_name.h"

#include <string.h>

#include "../util/fmt.h"

/* Bytes written so far into a bounded output. */
struct out {
    char *p;
    size_t len, n;
};

/* Appends `k` bytes of `s`; cuts when full. */
static void put(struct out *o, const char *s, size_t k)
{
    for (size_t i = 0; i < k && o->n + 1 < o->len; i++) {
        o->p[o->n++] = s[i];
    }
    if (o->len) {
        o->p[o->n] = '\0';
    }
}

/* Index just past the bracket closing the one at name[i] ('<' or '('), nesting both kinds;
 * strlen(name) when unbalanced. */
static size_t skip_group(const char *name, size_t i)
{
    int depth = 0;
    size_t n = strlen(name);
    for (; i < n; i++) {
        char c = name[i];
        if (c == '<' || c == '(') {
            depth++;
        } else if (c == '>' || c == ')') {
            depth--;
            if (depth == 0) {
                return i + 1;
            }
        }
    }
    return n;
}

/* Length of the operator token at name[i] right after "operator" (">>=", "()", "<<"...), or 0. */
static size_t operator_len(const char *name, size_t i)
{
    static const char *const ops[] = {
        "<<=", ">>=", "<=>", "->*", "<<", ">>", "<=", ">=", "->", "()", "[]", "<", ">", NULL};
    for (const char *const *op = ops; *op; op++) {
        if (strncmp(name + i, *op, strlen(*op)) == 0) {
            return strlen(*op);
        }
    }
    return 0;
}

const char *rpt_name_short(const char *name, char *out, size_t len)
{
    struct out o = {out, len, 0};
    if (len) {
        out[0] = '\0';
    }
    if (!name) {
        return out;
    }
    static const char anon[] = "(anonymous namespace)";
    size_t i = 0;
    size_t n = strlen(name);
    while (i < n) {
        if (strncmp(name + i, anon, sizeof(anon) - 1) == 0) {
            put(&o, anon, sizeof(anon) - 1);
            i += sizeof(anon) - 1;
        } else if (strncmp(name + i, "operator", 8) == 0 && operator_len(name, i + 8)) {
            size_t k = 8 + operator_len(name, i + 8);
            put(&o, name + i, k);
            i += k;
        } else if (name[i] == '<') {
            put(&o, "<\xe2\x80\xa6>", 5);
            i = skip_group(name, i);
        } else if (name[i] == '(') {
            bool empty = name[i + 1] == ')';
            put(&o, empty ? "()" : "(\xe2\x80\xa6)", empty ? 2 : 5);
            i = skip_group(name, i);
        } else {
            put(&o, name + i, 1);
            i++;
        }
    }
    return out;
}

/* The basename of a path. */
static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

void rpt_name_frame(const struct rpt_frame *f, bool full, char *out, size_t len)
{
    if (f->function) {
        char shortened[512];
        const char *fn =
            full ? f->function : rpt_name_short(f->function, shortened, sizeof(shortened));
        fmt_where(out, len, fn, f->file, f->line);
    } else if (f->object) {
        fmt_c(out, len, "%s+0x%llx", base_name(f->object), (unsigned long long)f->object_offset);
    } else {
        fmt_c(out, len, "0x%llx", (unsigned long long)f->address);
    }
}

/* The culprit frame of a site, or NULL (no stack, or one that does not hold the culprit the
 * site names: a report read back without the index). */
static const struct rpt_frame *culprit_of(const struct rpt_site *s)
{
    if (!s->n_frames || s->culprit_frame >= s->n_frames) {
        return NULL;
    }
    const struct rpt_frame *f = &s->frames[s->culprit_frame];
    if (s->function && (!f->function || strcmp(f->function, s->function) != 0)) {
        return NULL;
    }
    return f;
}

void rpt_name_culprit(const struct rpt_site *site, bool full, char *out, size_t len)
{
    const struct rpt_frame *f = culprit_of(site);
    if (f) {
        rpt_name_frame(f, full, out, len);
        return;
    }
    if (site->function) {
        struct rpt_frame named = {
            .function = site->function, .file = site->file, .line = site->line};
        rpt_name_frame(&named, full, out, len);
    } else if (site->object) {
        fmt_c(out, len, "%s (no symbol)", base_name(site->object));
    } else {
        fmt_c(out, len, "site #%u (no stack)", site->id);
    }
}

/* True when two frames are the same place: function, file and line, or object and offset. */
static bool same_frame(const struct rpt_frame *a, const struct rpt_frame *b)
{
    if (a->function || b->function) {
        return a->function && b->function && strcmp(a->function, b->function) == 0 &&
               a->line == b->line &&
               ((!a->file && !b->file) || (a->file && b->file && strcmp(a->file, b->file) == 0));
    }
    if (a->object && b->object) {
        return a->object_offset == b->object_offset &&
               strcmp(base_name(a->object), base_name(b->object)) == 0;
    }
    return a->address == b->address;
}

bool rpt_name_same_stack(const struct rpt_site *a, const struct rpt_site *b)
{
    if (a->n_frames != b->n_frames) {
        return false;
    }
    for (size_t i = 0; i < a->n_frames; i++) {
        if (!same_frame(&a->frames[i], &b->frames[i])) {
            return false;
        }
    }
    return true;
}

void rpt_name_site(const struct rpt_scenario *s, const struct rpt_site *site, bool full, char *out,
                   size_t len)
{
    rpt_name_culprit(site, full, out, len);
    const struct rpt_frame *c = culprit_of(site);
    if (!c || !s) {
        return;
    }
    /* how many callers out from the culprit it takes to tell this site from every other site
     * with the same culprit frame */
    size_t need = 0;
    for (size_t k = 0; k < s->n_sites; k++) {
        const struct rpt_site *y = &s->sites[k];
        const struct rpt_frame *yc = culprit_of(y);
        if (y == site || !yc || !same_frame(c, yc)) {
            continue;
        }
        size_t lvl = 1;
        while (site->culprit_frame + lvl < site->n_frames && y->culprit_frame + lvl < y->n_frames &&
               same_frame(&site->frames[site->culprit_frame + lvl],
                          &y->frames[y->culprit_frame + lvl])) {
            lvl++;
        }
        if (site->culprit_frame + lvl < site->n_frames && lvl > need) {
            need = lvl;
        }
    }
    if (need == 0) {
        return;
    }
    char caller[512];
    rpt_name_frame(&site->frames[site->culprit_frame + need], full, caller, sizeof(caller));
    size_t used = strlen(out);
    if (used < len) {
        fmt_c(out + used, len - used, " \xe2\x86\x90 %s%s",
              need > 1 ? "\xe2\x80\xa6 \xe2\x86\x90 " : "", caller);
    }
}
