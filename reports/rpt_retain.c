/* SPDX-License-Identifier: MIT */
/* rpt_retain.c - the retainer scan's result in words (see rpt_retain.h). */
#include "rpt_retain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../util/fmt.h"
#include "rpt_name.h"

static const char *base_name(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path;
}

/* " (file:line)", " (file)" or "" into out. */
static void place(const char *file, uint32_t line, char *out, size_t len)
{
    if (!file) {
        fmt_c(out, len, "%s", "");
    } else if (line) {
        fmt_c(out, len, " (%s:%u)", file, line);
    } else {
        fmt_c(out, len, " (%s)", file);
    }
}

/* ", thread N" or "" into out. */
static void thread(uint32_t tid, char *out, size_t len)
{
    if (tid) {
        fmt_c(out, len, ", thread %u", tid);
    } else {
        fmt_c(out, len, "%s", "");
    }
}

void rpt_retain_root(const struct rpt_retainer *r, bool full, char *out, size_t len)
{
    char name[512];
    char where[1024];
    char tid[32];
    char off[32] = "";
    const char *sym =
        r->symbol ? (full ? r->symbol : rpt_name_short(r->symbol, name, sizeof(name))) : NULL;
    place(r->file, r->line, where, sizeof(where));
    thread(r->tid, tid, sizeof(tid));
    if (r->offset && !r->offset_varies) {
        fmt_c(off, sizeof(off), " +%" PRId64, r->offset);
    }
    const char *obj = r->object ? base_name(r->object) : "an object";
    switch (r->kind) {
    case RPT_ROOT_GLOBAL:
        if (sym) {
            fmt_c(out, len, "%s%s%s", sym, off, where);
        } else {
            fmt_c(out, len, "%s+0x%" PRIx64 "%s%s%s", obj, (uint64_t)r->offset,
                  r->section ? " (" : "", r->section ? r->section : "", r->section ? ")" : "");
        }
        return;
    case RPT_ROOT_TLS:
        if (sym) {
            fmt_c(out, len, "thread-local %s%s%s%s", sym, off, where, tid);
        } else {
            fmt_c(out, len, "thread-local storage of %s%s", obj, tid);
        }
        return;
    case RPT_ROOT_STACK:
        fmt_c(out, len, "a local of %s%s%s", sym ? sym : "a frame", where, tid);
        return;
    case RPT_ROOT_REGISTER:
        fmt_c(out, len, "register %s%s", r->symbol ? r->symbol : "?", tid);
        return;
    default:
        fmt_c(out, len, "%s", "");
        return;
    }
}

void rpt_retain_path(const struct rpt_retainer *r, bool full, char *out, size_t len)
{
    if (r->kind == RPT_ROOT_UNREACHABLE) {
        fmt_c(out, len, "%s", "lost: no pointer to these blocks remains");
        return;
    }
    char root[2048];
    rpt_retain_root(r, full, root, sizeof(root));
    size_t n = (size_t)snprintf(out, len, "held by %s", root);
    for (size_t i = 0; i < r->n_via && n < len; i++) {
        const struct rpt_hop *h = &r->via[i];
        char name[512];
        char where[1024];
        char off[32] = "";
        const char *fn =
            h->function ? (full ? h->function : rpt_name_short(h->function, name, sizeof(name)))
                        : NULL;
        place(h->file, h->line, where, sizeof(where));
        if (h->offset && !h->offset_varies) {
            fmt_c(off, sizeof(off), " +%" PRId64, h->offset);
        }
        if (fn) {
            n += (size_t)snprintf(out + n, len - n, " \u2192 block from %s%s%s", fn, where, off);
        } else {
            n += (size_t)snprintf(out + n, len - n, " \u2192 block of site #%u%s", h->site, off);
        }
    }
    if (n < len) {
        snprintf(out + n, len - n, " \u2192 these blocks");
    }
}

bool rpt_retain_line(const struct rpt_scenario *sc, const struct rpt_site *site, bool full,
                     char *out, size_t len)
{
    const struct rpt_retain_scan *rs = &sc->retain;
    out[0] = '\0';
    if (!rs->ran || (rs->complete && site->n_retainers == 0)) {
        return false;
    }
    char cut[600] = "";
    if (!rs->complete) {
        fmt_c(cut, sizeof(cut), "scan cut short: %s", rs->note ? rs->note : "no reason given");
    }
    if (site->n_retainers == 0) {
        fmt_c(out, len, "held by: no survivor sampled (%s)", cut);
        return true;
    }
    const struct rpt_retainer *top = &site->retainers[0];
    char path[3072];
    char others[64] = "";
    rpt_retain_path(top, full, path, sizeof(path));
    size_t n_other = site->n_retainers - 1;
    if (n_other) {
        fmt_c(others, sizeof(others), "; %zu other path%s", n_other, n_other == 1 ? "" : "s");
    }
    uint64_t sampled = site->retain_sampled ? site->retain_sampled : top->blocks;
    fmt_c(out, len, "%s (%llu of %llu sampled survivors%s%s%s)", path,
          (unsigned long long)top->blocks, (unsigned long long)sampled, others, cut[0] ? "; " : "",
          cut);
    return true;
}
