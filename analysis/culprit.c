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
#include <stdlib.h>
#include <string.h>

struct culprit_rules {
    char **func;
    size_t n_func, cap_func;
    char **obj;
    size_t n_obj, cap_obj;
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

bool culprit_is_wrapper(const struct culprit_rules *r, const struct rpt_frame *f)
{
    if (!r || !f) {
        return false;
    }
    if (match_any(r->func, r->n_func, f->function) ||
        match_any(r->func, r->n_func, f->system_name)) {
        return true;
    }
    if (f->object) {
        const char *base = strrchr(f->object, '/');
        base = base ? base + 1 : f->object;
        if (match_any(r->obj, r->n_obj, f->object) || match_any(r->obj, r->n_obj, base)) {
            return true;
        }
    }
    return false;
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
