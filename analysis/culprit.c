/* SPDX-License-Identifier: MIT */
/* culprit.c - naming the frame to blame for an allocation site.
 *
 * Two lists of fnmatch(3) globs: function globs and object globs. A frame is a wrapper when one
 * of its names matches a function glob or its object (full path or basename) matches an object
 * glob. The defaults cover the C allocator family, libc's allocating helpers, common x*alloc and
 * GLib wrappers, C++ operator new and the standard library's containers (so a growing vector is
 * blamed on the code calling push_back), and whole libraries whose internals only relay
 * allocations for their caller (libc, libstdc++, SQLite, cJSON, the agent itself).
 */
#include "culprit.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Default globs come first in each list; the scenario's follow from n_*_default on. */
struct culprit_rules {
    char **func;
    size_t n_func, cap_func, n_func_default;
    char **obj;
    size_t n_obj, cap_obj, n_obj_default;
};

static const char *const default_functions[] = {
    "malloc",
    "calloc",
    "realloc",
    "reallocarray",
    "free",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
    "__libc_*",
    "strdup",
    "strndup",
    "__strdup",
    "__strndup",
    "wcsdup",
    "asprintf",
    "vasprintf",
    "__vasprintf*",
    "__asprintf*",
    "getline",
    "getdelim",
    "__getdelim",
    "open_memstream",
    "fopen",
    "fopen64",
    "fdopen",
    "_IO_*",
    "*_malloc",
    "*_calloc",
    "*_realloc",
    "*_alloc_*",
    "xmalloc",
    "xcalloc",
    "xrealloc",
    "xstrdup",
    "xstrndup",
    "g_malloc*",
    "g_realloc*",
    "g_strdup*",
    "g_new*",
    "g_slice_alloc*",
    "operator new*",
    "operator new[]*",
    "_Znwm",
    "_Znam",
    "_ZnwmRKSt9nothrow_t",
    "_ZnamRKSt9nothrow_t",
    "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t",
    "_Zn[wa]*",
    "std::*",
    "__gnu_cxx::*",
    "sqlite3Malloc*",
    "sqlite3_malloc*",
    "sqlite3DbMalloc*",
    "sqlite3DbRealloc*",
    "sqlite3_realloc*",
    "sqlite3Realloc*",
    "dbMallocRawFinish",
    "cJSON_malloc",
    "cJSON_New_Item",
    "ag_*",
};

static const char *const default_objects[] = {
    "libc.so*",        "libc-*.so",     "libstdc++.so*",         "libgcc_s.so*",
    "libsqlite3.so*",  "libcjson.so*",  "libleakcheck-agent.so", "libunwind.so*",
    "libunwind-*.so*", "ld-linux*.so*", "libglib-2.0.so*",
};

/* Appends a copy of `glob` to a list. Returns 0 or -ENOMEM. */
static int list_add(char ***list, size_t *n, size_t *cap, const char *glob)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        char **nl = realloc(*list, ncap * sizeof(**list));
        if (!nl) {
            return -ENOMEM;
        }
        *list = nl;
        *cap = ncap;
    }
    char *copy = strdup(glob);
    if (!copy) {
        return -ENOMEM;
    }
    (*list)[(*n)++] = copy;
    return 0;
}

struct culprit_rules *culprit_rules_new(void)
{
    struct culprit_rules *r = calloc(1, sizeof(*r));
    if (!r) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(default_functions) / sizeof(default_functions[0]); i++) {
        if (list_add(&r->func, &r->n_func, &r->cap_func, default_functions[i]) < 0) {
            goto fail;
        }
    }
    for (size_t i = 0; i < sizeof(default_objects) / sizeof(default_objects[0]); i++) {
        if (list_add(&r->obj, &r->n_obj, &r->cap_obj, default_objects[i]) < 0) {
            goto fail;
        }
    }
    r->n_func_default = r->n_func;
    r->n_obj_default = r->n_obj;
    return r;
fail:
    culprit_rules_free(r);
    return NULL;
}

int culprit_rules_add_object(struct culprit_rules *r, const char *glob)
{
    if (!r || !glob || !*glob) {
        return -EINVAL;
    }
    return list_add(&r->obj, &r->n_obj, &r->cap_obj, glob);
}

int culprit_rules_add(struct culprit_rules *r, const char *glob)
{
    if (!r || !glob || !*glob) {
        return -EINVAL;
    }
    if (strncmp(glob, "object:", 7) == 0) {
        return culprit_rules_add_object(r, glob + 7);
    }
    return list_add(&r->func, &r->n_func, &r->cap_func, glob);
}

void culprit_rules_free(struct culprit_rules *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n_func; i++) {
        free(r->func[i]);
    }
    for (size_t i = 0; i < r->n_obj; i++) {
        free(r->obj[i]);
    }
    free(r->func);
    free(r->obj);
    free(r);
}

/* True when `name` matches one of list[0..n-1]. NULL names match nothing. */
static bool match_any(char *const *list, size_t n, const char *name)
{
    if (!name) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (fnmatch(list[i], name, 0) == 0) {
            return true;
        }
    }
    return false;
}

/* The basename of a path. */
static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* A demangled template function's name without its return type ("void std::vector<…>::f()"
 * gives "std::vector<…>::f()"), or NULL when it has none. */
static const char *without_return_type(const char *name)
{
    if (!name || strncmp(name, "operator", 8) == 0) {
        return NULL;
    }
    int depth = 0;
    for (const char *p = name; *p; p++) {
        if (*p == '<' || *p == '(') {
            if (*p == '(' && depth == 0) {
                return NULL; /* the parameters came first: no return type */
            }
            depth++;
        } else if (*p == '>' || *p == ')') {
            depth--;
        } else if (*p == ' ' && depth == 0) {
            return p[1] ? p + 1 : NULL;
        }
    }
    return NULL;
}

/* True when a function name of `f` (with or without a return type) matches list[0..n-1]. */
static bool func_in(char *const *list, size_t n, const struct rpt_frame *f)
{
    return match_any(list, n, f->function) || match_any(list, n, f->system_name) ||
           match_any(list, n, without_return_type(f->function));
}

/* True when the object of `f` (path or basename) matches list[0..n-1]. */
static bool obj_in(char *const *list, size_t n, const struct rpt_frame *f)
{
    return f->object && (match_any(list, n, f->object) || match_any(list, n, base_name(f->object)));
}

enum rpt_skip culprit_listed(const struct culprit_rules *r, const struct rpt_frame *f)
{
    if (!r || !f) {
        return RPT_SKIP_NONE;
    }
    if (func_in(r->func + r->n_func_default, r->n_func - r->n_func_default, f) ||
        obj_in(r->obj + r->n_obj_default, r->n_obj - r->n_obj_default, f)) {
        return RPT_SKIP_USER;
    }
    if (func_in(r->func, r->n_func_default, f)) {
        return RPT_SKIP_LISTED;
    }
    if (obj_in(r->obj, r->n_obj_default, f)) {
        return RPT_SKIP_LIBRARY;
    }
    return RPT_SKIP_NONE;
}

bool culprit_is_wrapper(const struct culprit_rules *r, const struct rpt_frame *f)
{
    return culprit_listed(r, f) != RPT_SKIP_NONE;
}

size_t culprit_pick(const struct culprit_rules *r, const struct rpt_frame *frames, size_t n)
{
    if (n == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!culprit_is_wrapper(r, &frames[i])) {
            return i;
        }
    }
    return n - 1;
}

/* ------------------------------------------------------------------ relays */

/* What the recording says of one call instruction (a return address less one). */
struct relay_pc {
    uint64_t pc;        /* 0: empty slot */
    uint32_t n_stable;  /* sites through it that held memory and do not grow */
    uint32_t n_growing; /* growing sites through it */
    uint64_t outer[2];  /* distinct hashes of the stable sites' callers outward of it */
    uint32_t n_outer;   /* how many of outer[] are set (counted to 2) */
};

/* Hash of the call addresses outward of position i of a stack (pcs as captured, consecutive
 * repeats counted once): two sites through one call that came from the same callers have the
 * same hash. */
static uint64_t outer_hash_pcs(const uint64_t *pcs, size_t depth, size_t i)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t j = i + 1; j < depth; j++) {
        if (pcs[j] != pcs[j - 1]) {
            h = (h ^ (pcs[j] ? pcs[j] - 1 : 0)) * 0x100000001b3u;
        }
    }
    return h;
}

/* The same hash from symbolized frames (inlined frames share their call's address). */
static uint64_t outer_hash_frames(const struct rpt_frame *frames, size_t n, size_t i)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t j = i + 1; j < n; j++) {
        if (frames[j].address != frames[j - 1].address) {
            h = (h ^ frames[j].address) * 0x100000001b3u;
        }
    }
    return h;
}

/* Notes the callers (hash) of a stable site through `p`. */
static void note_outer(struct relay_pc *p, uint64_t h)
{
    for (uint32_t k = 0; k < p->n_outer; k++) {
        if (p->outer[k] == h) {
            return;
        }
    }
    if (p->n_outer < 2) {
        p->outer[p->n_outer] = h;
    }
    p->n_outer = p->n_outer < 2 ? p->n_outer + 1 : 2;
}

struct culprit_relays {
    struct relay_pc *slots;
    size_t cap;      /* a power of two */
    uint64_t *grown; /* set of (call, callers) pairs of growing sites, mixed; 0 = empty */
};

/* The key of a call and the hash of its callers in the set of growing pairs (never 0). */
static uint64_t pair_key(uint64_t pc, uint64_t outer)
{
    uint64_t k = (pc * 0x9e3779b97f4a7c15u) ^ outer;
    return k ? k : 1;
}

/* Adds (insert) or looks up a pair in rel->grown. Returns true when it is (now) there. */
static bool grown_pair(struct culprit_relays *rel, uint64_t key, bool insert)
{
    size_t mask = rel->cap - 1;
    size_t i = (size_t)(key >> 17) & mask;
    for (size_t probe = 0; probe < rel->cap; probe++, i = (i + 1) & mask) {
        if (rel->grown[i] == key) {
            return true;
        }
        if (rel->grown[i] == 0) {
            if (insert) {
                rel->grown[i] = key;
            }
            return insert;
        }
    }
    return false;
}

/* The index of `pc`'s slot, or of the empty slot where it would go; rel->cap when the table is
 * full. */
static size_t relay_find(const struct culprit_relays *rel, uint64_t pc)
{
    size_t mask = rel->cap - 1;
    size_t i = (size_t)((pc * 0x9e3779b97f4a7c15u) >> 20) & mask;
    for (size_t probe = 0; probe < rel->cap; probe++, i = (i + 1) & mask) {
        if (rel->slots[i].pc == pc || rel->slots[i].pc == 0) {
            return i;
        }
    }
    return rel->cap;
}

/* The entry of `pc`, or NULL. */
static const struct relay_pc *relay_get(const struct culprit_relays *rel, uint64_t pc)
{
    size_t i = relay_find(rel, pc);
    return i < rel->cap && rel->slots[i].pc == pc ? &rel->slots[i] : NULL;
}

/* The slot of `pc` (inserted empty when absent and `insert`), or NULL. */
static struct relay_pc *relay_slot(struct culprit_relays *rel, uint64_t pc, bool insert)
{
    size_t i = relay_find(rel, pc);
    if (i >= rel->cap || (rel->slots[i].pc == 0 && !insert)) {
        return NULL;
    }
    rel->slots[i].pc = pc;
    return &rel->slots[i];
}

struct culprit_relays *culprit_relays_new(const struct culprit_stack *stacks, size_t n)
{
    size_t total = 0;
    for (size_t k = 0; k < n; k++) {
        total += stacks[k].depth;
    }
    struct culprit_relays *rel = calloc(1, sizeof(*rel));
    if (!rel) {
        return NULL;
    }
    rel->cap = 64;
    while (rel->cap < 2 * total + 2) {
        rel->cap *= 2;
    }
    rel->slots = calloc(rel->cap, sizeof(*rel->slots));
    rel->grown = calloc(rel->cap, sizeof(*rel->grown));
    if (!rel->slots || !rel->grown) {
        culprit_relays_free(rel);
        return NULL;
    }
    /* the paths of the growing sites first: a stable site that came the same way is part of
     * the same work (a container's storage, an element copied while it moved), not evidence */
    for (size_t k = 0; k < n; k++) {
        const struct culprit_stack *st = &stacks[k];
        for (size_t i = 0; st->growing && i < st->depth; i++) {
            uint64_t pc = st->pcs[i] ? st->pcs[i] - 1 : 0;
            grown_pair(rel, pair_key(pc, outer_hash_pcs(st->pcs, st->depth, i)), true);
        }
    }
    for (size_t k = 0; k < n; k++) {
        const struct culprit_stack *st = &stacks[k];
        for (size_t i = 0; i < st->depth; i++) {
            uint64_t pc = st->pcs[i] ? st->pcs[i] - 1 : 0;
            struct relay_pc *p = pc ? relay_slot(rel, pc, true) : NULL;
            /* a stack passing twice through one instruction (recursion) counts once */
            bool again = false;
            for (size_t j = 0; j < i && !again; j++) {
                again = st->pcs[j] == st->pcs[i];
            }
            uint64_t outer = outer_hash_pcs(st->pcs, st->depth, i);
            if (p && !again && !st->growing && st->held &&
                !grown_pair(rel, pair_key(pc, outer), false)) {
                p->n_stable++;
                note_outer(p, outer);
            }
            if (p && !again && st->growing) {
                p->n_growing++;
            }
        }
    }
    return rel;
}

void culprit_relays_free(struct culprit_relays *rel)
{
    if (!rel) {
        return;
    }
    free(rel->slots);
    free(rel->grown);
    free(rel);
}

/* Functions where a thread's stack begins, and `main`: never relays. */
static bool is_root(const char *fn)
{
    static const char *const roots[] = {
        "main",   "_start", "__libc_start_main", "__libc_start_call_main", "start_thread", "clone",
        "clone3", NULL};
    for (const char *const *r = roots; fn && *r; r++) {
        if (strcmp(fn, *r) == 0) {
            return true;
        }
    }
    return false;
}

/* Objects of the C and C++ runtime: their frames are never named as the culprit. */
static bool runtime_object(const char *path)
{
    static const char *const rt[] = {"libc.so*",       "libc-*.so",
                                     "libstdc++.so*",  "libgcc_s.so*",
                                     "ld-linux*.so*",  "libleakcheck-agent.so",
                                     "libunwind*.so*", NULL};
    for (const char *const *g = rt; path && *g; g++) {
        if (fnmatch(*g, base_name(path), 0) == 0) {
            return true;
        }
    }
    return false;
}

/* The relay entry of the call instruction of frames[i] when it relays, else NULL: it is
 * neither a root nor the outermost frame, and a site that held memory steadily and does not
 * grow passes through it coming from other callers (a stable site with the same callers differs
 * only inside the call: no evidence that the frame relays for its callers). */
static const struct relay_pc *relays_at(const struct culprit_relays *rel,
                                        const struct rpt_frame *frames, size_t n, size_t i)
{
    size_t next = i;
    while (next < n && frames[next].address == frames[i].address) {
        next++;
    }
    if (!rel || is_root(frames[i].function) || next >= n) {
        return NULL;
    }
    const struct relay_pc *p = relay_get(rel, frames[i].address);
    if (!p || p->n_stable == 0) {
        return NULL;
    }
    bool other_callers = p->n_outer > 1 || p->outer[0] != outer_hash_frames(frames, n, i);
    return other_callers ? p : NULL;
}

/* Appends text to why[0..len-1] (cut when full). */
static void why_add(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void why_add(char *why, size_t len, const char *fmt, ...)
{
    size_t used = strlen(why);
    if (used + 1 >= len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + used, len - used, fmt, ap);
    va_end(ap);
}

/* A frame's name for the account: its function, or object+0xoffset. */
static void why_frame(char *why, size_t len, const struct rpt_frame *f)
{
    if (f->function) {
        why_add(why, len, "%s", f->function);
    } else if (f->object) {
        why_add(why, len, "%s+0x%llx", base_name(f->object), (unsigned long long)f->object_offset);
    } else {
        why_add(why, len, "0x%llx", (unsigned long long)f->address);
    }
}

/* With the walk stopped at frames[c] without a name, or at `main`: the outermost named frame
 * of a (non-runtime) library passed over inside it, else (unnamed only) the first named frame
 * outward that is not listed. Returns c when there is neither. */
static size_t prefer_named(const struct culprit_rules *r, struct rpt_frame *frames, size_t n,
                           size_t c)
{
    for (size_t j = c; j-- > 0;) {
        /* a library on the default list, or one the scenario lists as a whole */
        bool library = frames[j].skip == RPT_SKIP_LIBRARY ||
                       (frames[j].skip == RPT_SKIP_USER &&
                        obj_in(r->obj + r->n_obj_default, r->n_obj - r->n_obj_default, &frames[j]));
        if (!library) {
            break;
        }
        if (frames[j].function && !runtime_object(frames[j].object)) {
            return j;
        }
    }
    if (frames[c].function) {
        return c;
    }
    for (size_t k = c + 1; k < n; k++) {
        if (frames[k].function && culprit_listed(r, &frames[k]) == RPT_SKIP_NONE) {
            return k;
        }
    }
    return c;
}

/* With no call specific to the growing blocks (every frame passed over: the program's own main
 * loop and its wrappers serve stable sites too), the relay whose call is the most specific to
 * growing sites (the largest share of growing sites among those through it; the innermost on a
 * tie), else the outermost frame. Frames outside it are not passed over. */
static size_t most_specific(const struct culprit_relays *rel, struct rpt_frame *frames, size_t n,
                            char *why, size_t why_len)
{
    size_t best = n;
    double best_share = -1;
    const struct relay_pc *bp = NULL;
    for (size_t i = 0; rel && i < n; i++) {
        const struct relay_pc *p =
            frames[i].skip == RPT_SKIP_RELAY ? relay_get(rel, frames[i].address) : NULL;
        if (!p) {
            continue;
        }
        double share = (double)p->n_growing / (double)(p->n_growing + p->n_stable);
        if (share > best_share) {
            best_share = share;
            best = i;
            bp = p;
        }
    }
    if (best == n) {
        best = n - 1;
    } else {
        why_add(why, why_len, "%sno call is specific to the growing blocks; ", why[0] ? "; " : "");
        why_frame(why, why_len, &frames[best]);
        why_add(why, why_len, " is the most specific (%u of %u sites through it grow)",
                bp->n_growing, bp->n_growing + bp->n_stable);
    }
    /* inlined frames sharing its call go with it: the innermost of them is named */
    while (best > 0 && frames[best - 1].address == frames[best].address &&
           frames[best - 1].skip == RPT_SKIP_RELAY) {
        best--;
    }
    for (size_t i = best; i < n; i++) {
        frames[i].skip = RPT_SKIP_NONE;
    }
    return best;
}

size_t culprit_pick_site(const struct culprit_rules *r, const struct culprit_relays *rel,
                         struct rpt_frame *frames, size_t n, char *why, size_t why_len)
{
    if (why_len) {
        why[0] = '\0';
    }
    if (n == 0) {
        return 0;
    }
    size_t c = n - 1;
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        enum rpt_skip sk = culprit_listed(r, &frames[i]);
        /* a relay sits over the allocator or over another relay, not over a library call */
        bool over_alloc =
            i == 0 ||
            (frames[i - 1].skip != RPT_SKIP_LIBRARY &&
             !(frames[i - 1].skip == RPT_SKIP_USER &&
               obj_in(r->obj + r->n_obj_default, r->n_obj - r->n_obj_default, &frames[i - 1])));
        const struct relay_pc *p = NULL;
        if (sk == RPT_SKIP_NONE && over_alloc) {
            p = relays_at(rel, frames, n, i);
            sk = p ? RPT_SKIP_RELAY : RPT_SKIP_NONE;
        }
        frames[i].skip = sk;
        if (sk == RPT_SKIP_NONE) {
            c = i;
            found = true;
        } else if (sk == RPT_SKIP_RELAY) {
            why_add(why, why_len, "%s", why[0] ? "; " : "");
            why_frame(why, why_len, &frames[i]);
            why_add(why, why_len, " relays (it also allocates for %u site%s that do%s not grow)",
                    p->n_stable, p->n_stable == 1 ? "" : "s", p->n_stable == 1 ? "es" : "");
        }
    }
    bool any_relay = false;
    for (size_t i = 0; i < c; i++) {
        any_relay |= frames[i].skip == RPT_SKIP_RELAY;
    }
    if (!found || (any_relay && (c == n - 1 || is_root(frames[c].function)))) {
        c = most_specific(rel, frames, n, why, why_len);
    }
    if (!frames[c].function || (frames[c].function && strcmp(frames[c].function, "main") == 0)) {
        size_t k = prefer_named(r, frames, n, c);
        if (k != c) {
            why_add(why, why_len, "%s", why[0] ? "; " : "");
            why_frame(why, why_len, &frames[k]);
            why_add(why, why_len, " named instead of ");
            why_frame(why, why_len, &frames[c]);
            why_add(why, why_len, "%s",
                    k < c ? " (the library's own frame, called from "
                            "code without a name or from main)"
                          : " (the nearest named caller)");
            frames[k].skip = RPT_SKIP_NONE;
            c = k;
        }
    }
    /* frames past the culprit were not passed over */
    for (size_t i = c + 1; i < n; i++) {
        frames[i].skip = RPT_SKIP_NONE;
    }
    return c;
}
