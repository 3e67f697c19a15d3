/* SPDX-License-Identifier: MIT */
/* rpt_pprof.c - hand-encoded profile.proto writer (see rpt_pprof.h and
 * docs pprof-format.md sections 1-3c).
 *
 * Wire format: varint keys, wire type 0 for every integer and bool, 2 for strings, messages
 * and packed repeated scalars; never fixed32/64. Sub-messages are encoded into a scratch buffer
 * and copied in after their length. The string table is written last, "" first. Ids of
 * mappings, locations and functions are dense, starting at 1, in order of first use, so the
 * output is deterministic for a given model.
 */
#include "rpt_pprof.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "../util/fmt.h"

/* ------------------------------------------------------------------ wire helpers */

static void pb_varint(struct buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        tmp[n++] = c | (v ? 0x80 : 0);
    } while (v);
    buf_add(b, tmp, n);
}

static void pb_key(struct buf *b, unsigned field, unsigned wire)
{
    pb_varint(b, ((uint64_t)field << 3) | wire);
}

/* Integer field; zero is left out (proto3 default). */
static void pb_int(struct buf *b, unsigned field, uint64_t v)
{
    if (v) {
        pb_key(b, field, 0);
        pb_varint(b, v);
    }
}

/* Length-delimited field holding `m`'s bytes. */
static void pb_bytes(struct buf *b, unsigned field, const void *p, size_t n)
{
    pb_key(b, field, 2);
    pb_varint(b, n);
    buf_add(b, p, n);
}

/* Embedded message from a scratch buffer; the scratch is reset for reuse. */
static void pb_msg(struct buf *b, unsigned field, struct buf *m)
{
    if (m->err && !b->err) {
        b->err = m->err;
    }
    pb_bytes(b, field, m->data ? m->data : "", m->len);
    m->len = 0;
}

/* ------------------------------------------------------------------ tables */

/* Makes room for element `n` of the array `arr` of `*cap` elements of `size` bytes, doubling
 * from `first` elements. Returns the array (moved or not) with *cap updated, or NULL (the old
 * array untouched and still owned by the caller) when it can't. */
static void *grow(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap) {
        return arr;
    }
    size_t ncap = *cap ? *cap * 2 : first;
    void *na = realloc(arr, ncap * size);
    if (na) {
        *cap = ncap;
    }
    return na;
}

/* String table with an open-addressing index. */
struct strtab {
    char **s;
    size_t n, cap;
    size_t *idx; /* slot -> string number + 1, 0 = empty */
    size_t slots;
    bool failed;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

/* Grows the index when it is more than half full. */
static bool strtab_grow(struct strtab *t)
{
    if (t->n + 1 < t->slots / 2) {
        return true;
    }
    size_t slots = t->slots ? t->slots * 2 : 256;
    size_t *idx = calloc(slots, sizeof(*idx));
    if (!idx) {
        return false;
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t h = hash_str(t->s[i]) & (slots - 1);
        while (idx[h]) {
            h = (h + 1) & (slots - 1);
        }
        idx[h] = i + 1;
    }
    free(t->idx);
    t->idx = idx;
    t->slots = slots;
    return true;
}

/* Index of `s` in the table, adding it if new. NULL is "". On allocation failure sets
 * t->failed and returns 0. */
static uint64_t strtab_get(struct strtab *t, const char *s)
{
    if (!s) {
        s = "";
    }
    if (t->failed || !strtab_grow(t)) {
        t->failed = true;
        return 0;
    }
    size_t h = hash_str(s) & (t->slots - 1);
    while (t->idx[h]) {
        if (strcmp(t->s[t->idx[h] - 1], s) == 0) {
            return t->idx[h] - 1;
        }
        h = (h + 1) & (t->slots - 1);
    }
    char **ns = grow(t->s, &t->cap, t->n, sizeof(*ns), 256);
    if (!ns) {
        t->failed = true;
        return 0;
    }
    t->s = ns;
    char *copy = strdup(s);
    if (!copy) {
        t->failed = true;
        return 0;
    }
    t->s[t->n] = copy;
    t->idx[h] = t->n + 1;
    return t->n++;
}

static void strtab_free(struct strtab *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->s[i]);
    }
    free(t->s);
    free(t->idx);
}

struct pp_func {
    uint64_t name, system_name, file;
};

struct pp_map {
    const char *object;
    uint64_t start, limit;
    bool all_functions, all_files, all_lines;
};

struct pp_loc {
    uint64_t address;
    uint64_t mapping; /* 1-based, 0 = none */
    size_t first;     /* first frame of the group in `site` */
    size_t n_lines;
    const struct rpt_site *site;
};

struct pp {
    struct strtab st;
    struct pp_func *funcs;
    size_t n_funcs, cap_funcs;
    struct pp_map *maps;
    size_t n_maps;
    struct pp_loc *locs;
    size_t n_locs, cap_locs;
    bool failed;
    struct buf m, sub; /* scratch for sub-messages */
};

/* Function id (1-based) for a frame, added if new. A linear search: functions are few compared
 * with samples. */
static uint64_t pp_func(struct pp *p, const struct rpt_frame *f)
{
    uint64_t name = strtab_get(&p->st, f->function);
    uint64_t sys = strtab_get(&p->st, f->system_name ? f->system_name : f->function);
    uint64_t file = strtab_get(&p->st, f->file);
    for (size_t i = 0; i < p->n_funcs; i++) {
        if (p->funcs[i].name == name && p->funcs[i].system_name == sys &&
            p->funcs[i].file == file) {
            return i + 1;
        }
    }
    struct pp_func *nf = grow(p->funcs, &p->cap_funcs, p->n_funcs, sizeof(*nf), 64);
    if (!nf) {
        p->failed = true;
        return 1;
    }
    p->funcs = nf;
    p->funcs[p->n_funcs] = (struct pp_func){name, sys, file};
    return ++p->n_funcs;
}

/* Mapping id (1-based) of an object path, 0 for NULL. */
static uint64_t pp_map_of(const struct pp *p, const char *object)
{
    if (!object) {
        return 0;
    }
    for (size_t i = 0; i < p->n_maps; i++) {
        if (strcmp(p->maps[i].object, object) == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* Location id for the frame group starting at frames[first] (inlined frames, then the frame
 * they were inlined into); *next is set past the group. */
static uint64_t pp_loc(struct pp *p, const struct rpt_site *site, size_t first, size_t *next)
{
    size_t end = first;
    while (end + 1 < site->n_frames && site->frames[end].inlined &&
           site->frames[end + 1].address == site->frames[first].address) {
        end++;
    }
    *next = end + 1;
    uint64_t addr = site->frames[first].address;
    for (size_t i = 0; addr && i < p->n_locs; i++) {
        if (p->locs[i].address == addr) {
            return i + 1;
        }
    }
    struct pp_loc *nl = grow(p->locs, &p->cap_locs, p->n_locs, sizeof(*nl), 256);
    if (!nl) {
        p->failed = true;
        return 1;
    }
    p->locs = nl;
    p->locs[p->n_locs] = (struct pp_loc){
        .address = addr,
        .mapping = pp_map_of(p, site->frames[first].object),
        .first = first,
        .n_lines = end - first + 1,
        .site = site,
    };
    return ++p->n_locs;
}

/* Collects the objects (mappings): the main program first (the first object that is not a
 * shared library), then the others in order of first appearance. */
static void pp_collect_maps(struct pp *p, const struct rpt_scenario *s)
{
    size_t cap = 0;
    for (size_t i = 0; i < s->n_sites; i++) {
        cap += s->sites[i].n_frames;
    }
    p->maps = calloc(cap ? cap : 1, sizeof(*p->maps));
    if (!p->maps) {
        p->failed = true;
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < s->n_sites; i++) {
            for (size_t f = 0; f < s->sites[i].n_frames; f++) {
                const struct rpt_frame *fr = &s->sites[i].frames[f];
                if (!fr->object || pp_map_of(p, fr->object)) {
                    continue;
                }
                bool lib = strstr(fr->object, ".so") != NULL;
                if (pass == 0 && (lib || p->n_maps > 0)) {
                    continue;
                }
                p->maps[p->n_maps++] = (struct pp_map){fr->object, UINT64_MAX, 0, true, true, true};
            }
        }
    }
    for (size_t i = 0; i < s->n_sites; i++) {
        for (size_t f = 0; f < s->sites[i].n_frames; f++) {
            const struct rpt_frame *fr = &s->sites[i].frames[f];
            uint64_t m = pp_map_of(p, fr->object);
            if (!m) {
                continue;
            }
            struct pp_map *mp = &p->maps[m - 1];
            // The model has addresses, not the /proc/self/maps range: cover what was seen.
            uint64_t base = fr->address - fr->object_offset;
            if (fr->object_offset <= fr->address && base < mp->start) {
                mp->start = base;
            }
            if (fr->address + 1 > mp->limit) {
                mp->limit = fr->address + 1;
            }
            mp->all_functions &= fr->function != NULL;
            mp->all_files &= fr->file != NULL;
            mp->all_lines &= fr->line != 0;
        }
    }
}

/* pprof simplifies C++ names before matching drop_frames: cut the argument list at the first
 * '(' (internal/... profile/prune.go simplifyFunc), keeping "(anonymous namespace)". */
static void pp_simplify(const char *name, struct buf *out)
{
    const char *cut = NULL;
    for (const char *p = name; *p; p++) {
        if (*p == '(' && strncmp(p, "(anonymous namespace)", 21) != 0) {
            cut = p;
            break;
        }
    }
    size_t n = cut ? (size_t)(cut - name) : strlen(name);
    for (size_t i = 0; i < n; i++) {
        // RE2 QuoteMeta: escape every punctuation character.
        if (strchr("\\.+*?()|[]{}^$", name[i])) {
            buf_add(out, "\\", 1);
        }
        buf_add(out, &name[i], 1);
    }
}

/* Builds drop_frames: the distinct names of the frames leaf-side of each site's culprit. */
static void pp_drop_frames(const struct rpt_scenario *s, struct buf *out)
{
    struct strtab seen = {0};
    for (size_t i = 0; i < s->n_sites; i++) {
        const struct rpt_site *site = &s->sites[i];
        if (!site->function) {
            continue;
        }
        size_t culprit = site->n_frames;
        for (size_t f = 0; f < site->n_frames; f++) {
            if (site->frames[f].function && strcmp(site->frames[f].function, site->function) == 0) {
                culprit = f;
                break;
            }
        }
        if (culprit == site->n_frames) {
            continue;
        }
        // Frames inlined into the culprit belong to it; only whole wrappers are dropped.
        while (culprit > 0 && site->frames[culprit - 1].inlined &&
               site->frames[culprit - 1].address == site->frames[culprit].address) {
            culprit--;
        }
        for (size_t f = 0; f < culprit; f++) {
            const char *fn = site->frames[f].function;
            if (!fn) {
                continue;
            }
            size_t before = seen.n;
            strtab_get(&seen, fn);
            if (seen.n == before) {
                continue;
            }
            if (out->len) {
                buf_add(out, "|", 1);
            }
            pp_simplify(fn, out);
        }
    }
    if (seen.failed && !out->err) {
        out->err = -ENOMEM;
    }
    strtab_free(&seen);
}

/* Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac]Z" to nanoseconds; 0 when it can't (or the date is
 * before 1970 or past 2262). */
static int64_t pp_time_ns(const char *s)
{
    struct tm tm = {0};
    if (!s) {
        return 0;
    }
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) {
        return 0;
    }
    time_t t = timegm(&tm);
    // A date read from a report may lie past 2262, where nanoseconds no longer fit in 64 bits.
    if (t == (time_t)-1 || t < 0 || (int64_t)t > INT64_MAX / 1000000000) {
        return 0;
    }
    return (int64_t)t * 1000000000;
}

/* Appends a ValueType message. */
static void pp_value_type(struct buf *b, struct pp *p, unsigned field, const char *type,
                          const char *unit)
{
    struct buf m;
    buf_init(&m);
    pb_int(&m, 1, strtab_get(&p->st, type));
    pb_int(&m, 2, strtab_get(&p->st, unit));
    pb_msg(b, field, &m);
    buf_cleanup(&m);
}

/* The four values of a site's sample (alloc_objects, alloc_space, inuse_objects, inuse_space)
 * in a profile of `kind`. Returns false when the site has no sample there. */
static bool pp_values(const struct rpt_site *site, enum rpt_pprof_kind kind, int64_t v[4])
{
    if (kind == RPT_PPROF_HEAP) {
        v[0] = (int64_t)site->alloc_blocks;
        v[1] = (int64_t)site->alloc_bytes;
        v[2] = (int64_t)site->final_blocks;
        v[3] = (int64_t)site->final_bytes;
    } else {
        if (site->growth_bytes_signed <= 0) {
            return false;
        }
        // Only live growth is known per round; the alloc pair carries the same figures so
        // that the four types match the heap profile's (needed for -base/-diff_base).
        v[3] = site->growth_bytes_signed;
        v[2] = site->growth_blocks_signed > 0 ? site->growth_blocks_signed : 0;
        v[0] = v[2];
        v[1] = v[3];
    }
    return v[0] || v[1] || v[2] || v[3];
}

/* Appends the Sample of `site`: its location ids leaf first, its values `v`, and a `bytes`
 * label with the size of its objects (the average when sizes vary). */
static void pp_sample(struct buf *b, struct pp *p, const struct rpt_site *site,
                      enum rpt_pprof_kind kind, const int64_t v[4], uint64_t key_bytes)
{
    // The model lists the allocator side first, as pprof wants.
    for (size_t f = 0; f < site->n_frames;) {
        size_t next;
        pb_varint(&p->sub, pp_loc(p, site, f, &next));
        f = next;
    }
    if (site->n_frames) {
        pb_key(&p->m, 1, 2);
        pb_varint(&p->m, p->sub.len);
        buf_add(&p->m, p->sub.data, p->sub.len);
    }
    p->sub.len = 0;
    for (int k = 0; k < 4; k++) {
        pb_varint(&p->sub, (uint64_t)v[k]);
    }
    pb_key(&p->m, 2, 2);
    pb_varint(&p->m, p->sub.len);
    buf_add(&p->m, p->sub.data, p->sub.len);
    p->sub.len = 0;
    uint64_t blocks = kind == RPT_PPROF_HEAP ? site->alloc_blocks : (uint64_t)v[2];
    uint64_t bytes = kind == RPT_PPROF_HEAP ? site->alloc_bytes : (uint64_t)v[3];
    if (!blocks) {
        blocks = site->final_blocks;
        bytes = site->final_bytes;
    }
    if (blocks && bytes / blocks) {
        pb_int(&p->sub, 1, key_bytes);
        pb_int(&p->sub, 3, bytes / blocks);
        pb_msg(&p->m, 3, &p->sub);
    }
    pb_msg(b, 2, &p->m);
}

/* Appends the samples of every site of `s` that has one. */
static void pp_samples(struct buf *b, struct pp *p, const struct rpt_scenario *s,
                       enum rpt_pprof_kind kind)
{
    uint64_t key_bytes = strtab_get(&p->st, "bytes");
    for (size_t i = 0; i < s->n_sites && !p->failed; i++) {
        int64_t v[4];
        if (pp_values(&s->sites[i], kind, v)) {
            pp_sample(b, p, &s->sites[i], kind, v, key_bytes);
        }
    }
}

/* Appends the Mappings, the Locations (which add the Functions they use) and the Functions. */
static void pp_tables(struct buf *b, struct pp *p)
{
    for (size_t i = 0; i < p->n_maps; i++) {
        const struct pp_map *mp = &p->maps[i];
        pb_int(&p->m, 1, i + 1);
        pb_int(&p->m, 2, mp->start == UINT64_MAX ? 0 : mp->start);
        pb_int(&p->m, 3, mp->limit);
        pb_int(&p->m, 5, strtab_get(&p->st, mp->object));
        pb_int(&p->m, 7, mp->all_functions);
        pb_int(&p->m, 8, mp->all_functions && mp->all_files);
        pb_int(&p->m, 9, mp->all_functions && mp->all_lines);
        pb_int(&p->m, 10, mp->all_functions);
        pb_msg(b, 3, &p->m);
    }
    for (size_t i = 0; i < p->n_locs && !p->failed; i++) {
        const struct pp_loc *l = &p->locs[i];
        pb_int(&p->m, 1, i + 1);
        pb_int(&p->m, 2, l->mapping);
        pb_int(&p->m, 3, l->address);
        for (size_t k = 0; k < l->n_lines; k++) {
            const struct rpt_frame *f = &l->site->frames[l->first + k];
            struct rpt_frame named;
            char where[512];
            if (!f->function) {
                /* Nothing names it: object+0xoffset, as every other view shows it. */
                const char *obj = f->object ? strrchr(f->object, '/') : NULL;
                obj = obj ? obj + 1 : f->object ? f->object : "?";
                fmt_c(where, sizeof(where), "%s+0x%llx", obj, (unsigned long long)f->object_offset);
                named = *f;
                named.function = where;
                named.system_name = NULL;
                f = &named;
            }
            pb_int(&p->sub, 1, pp_func(p, f));
            pb_int(&p->sub, 2, f->line);
            pb_msg(&p->m, 4, &p->sub);
        }
        pb_msg(b, 4, &p->m);
    }
    for (size_t i = 0; i < p->n_funcs; i++) {
        pb_int(&p->m, 1, i + 1);
        pb_int(&p->m, 2, p->funcs[i].name);
        pb_int(&p->m, 3, p->funcs[i].system_name);
        pb_int(&p->m, 4, p->funcs[i].file);
        pb_msg(b, 5, &p->m);
    }
}

/* Appends one comment (an index into the string table). */
static void pp_comment(struct buf *b, struct pp *p, const char *text)
{
    pb_int(b, 13, strtab_get(&p->st, text));
}

/* Appends the comments: the scenario, the commit, and what the profile measures. */
static void pp_comments(struct buf *b, struct pp *p, const struct rpt_run *run,
                        const struct rpt_scenario *s, enum rpt_pprof_kind kind)
{
    char c[512];
    size_t fm = rpt_first_measured(s);
    fmt_c(c, sizeof(c), "leakcheck scenario: %.200s", s->name ? s->name : "(unnamed)");
    pp_comment(b, p, c);
    if (run->commit) {
        fmt_c(c, sizeof(c), "commit: %.100s", run->commit);
        pp_comment(b, p, c);
    }
    if (kind == RPT_PPROF_HEAP) {
        fmt_c(c, sizeof(c), "final heap after round %zu: every allocation counted (period 1)",
              s->n_rounds);
    } else if (fm < s->n_rounds) {
        fmt_c(c, sizeof(c),
              "growth of live heap: round %u (first measured) to round %u (last measured); "
              "positive growth only",
              s->rounds[fm].round, s->rounds[s->n_rounds - 1].round);
    } else {
        fmt_c(c, sizeof(c), "growth: no measured rounds completed");
    }
    pp_comment(b, p, c);
}

/* Appends drop_frames (the allocator wrappers of `s`), when there are any. */
static void pp_drop(struct buf *b, struct pp *p, const struct rpt_scenario *s)
{
    p->sub.len = 0;
    pp_drop_frames(s, &p->sub);
    if (p->sub.len) {
        pb_int(b, 7, strtab_get(&p->st, p->sub.data));
    }
}

/* Appends the string table, then moves the first failure of `p` into b->err and frees what
 * `p` owns. */
static void pp_finish(struct buf *b, struct pp *p)
{
    for (size_t i = 0; i < p->st.n; i++) {
        pb_bytes(b, 6, p->st.s[i], strlen(p->st.s[i]));
    }
    if ((p->failed || p->st.failed) && !b->err) {
        b->err = -ENOMEM;
    }
    if (p->sub.err && !b->err) {
        b->err = p->sub.err;
    }
    if (p->m.err && !b->err) {
        b->err = p->m.err;
    }
    buf_cleanup(&p->m);
    buf_cleanup(&p->sub);
    strtab_free(&p->st);
    free(p->funcs);
    free(p->maps);
    free(p->locs);
}

void rpt_pprof_encode(const struct rpt_run *run, const struct rpt_scenario *s,
                      enum rpt_pprof_kind kind, struct buf *b)
{
    struct pp p = {0};
    buf_init(&p.m);
    buf_init(&p.sub);
    strtab_get(&p.st, ""); // string_table[0] must be ""
    pp_value_type(b, &p, 1, "alloc_objects", "count");
    pp_value_type(b, &p, 1, "alloc_space", "bytes");
    pp_value_type(b, &p, 1, "inuse_objects", "count");
    pp_value_type(b, &p, 1, "inuse_space", "bytes");
    pp_collect_maps(&p, s);
    pp_samples(b, &p, s, kind);
    pp_tables(b, &p);
    pp_drop(b, &p, s);
    pb_int(b, 9, (uint64_t)pp_time_ns(run->started_at));
    pp_value_type(b, &p, 11, "space", "bytes");
    pb_int(b, 12, 1);
    pp_comments(b, &p, run, s, kind);
    pp_finish(b, &p);
}

void rpt_pprof_render(const struct rpt_run *run, const struct rpt_scenario *s,
                      enum rpt_pprof_kind kind, struct buf *b)
{
    struct buf raw;
    buf_init(&raw);
    rpt_pprof_encode(run, s, kind, &raw);
    if (raw.err) {
        b->err = b->err ? b->err : raw.err;
        buf_cleanup(&raw);
        return;
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    // windowBits 15 + 16: a gzip wrapper with mtime 0, so the output is reproducible.
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        b->err = b->err ? b->err : -EIO;
        buf_cleanup(&raw);
        return;
    }
    z.next_in = (unsigned char *)raw.data;
    z.avail_in = (uInt)raw.len;
    unsigned char out[16384];
    int zr;
    do {
        z.next_out = out;
        z.avail_out = sizeof(out);
        zr = deflate(&z, Z_FINISH);
        if (zr == Z_STREAM_ERROR) {
            b->err = b->err ? b->err : -EIO;
            break;
        }
        buf_add(b, out, sizeof(out) - z.avail_out);
    } while (zr != Z_STREAM_END);
    deflateEnd(&z);
    buf_cleanup(&raw);
}
