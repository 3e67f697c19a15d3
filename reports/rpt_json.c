/* SPDX-License-Identifier: MIT */
/* rpt_json.c - the JSON report: writer (cJSON tree, then text) and a strict, capped reader.
 *
 * The writer emits every field of the result model plus the derived `suspects` list of the
 * report contract (sites with suspect=true, each with its culprit and full stack). The reader
 * accepts any report of major version 1: it takes `sites` when present and otherwise rebuilds
 * sites from `suspects`, ignores unknown keys (newer minor additions), and rejects wrong types,
 * out-of-range numbers and anything past the caps in rpt_json.h with the JSON path in the message.
 */
#include "rpt_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/diag.h"
#include "../util/file.h"
#include "../util/fmt.h"

/* ------------------------------------------------------------------ writer */

/* Builder state: the first allocation failure sticks in `failed`. */
struct jw {
    bool failed;
};

/* Adds `item` to `obj` under `key` and returns it, or records the failure, frees `item` and
 * returns NULL (so a container is filled only once it belongs to the tree). */
static cJSON *jw_add(struct jw *w, cJSON *obj, const char *key, cJSON *item)
{
    // Adding copies the key, which can fail too: a report must never lose a key silently.
    if (!item || !obj || !cJSON_AddItemToObject(obj, key, item)) {
        w->failed = true;
        cJSON_Delete(item);
        return NULL;
    }
    return item;
}

/* Adds a string, or null for NULL. */
static void jw_str(struct jw *w, cJSON *obj, const char *key, const char *s)
{
    jw_add(w, obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

/* Adds a number; non-finite values become null. */
static void jw_num(struct jw *w, cJSON *obj, const char *key, double v)
{
    jw_add(w, obj, key, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

/* Adds a boolean. */
static void jw_bool(struct jw *w, cJSON *obj, const char *key, bool v)
{
    jw_add(w, obj, key, cJSON_CreateBool(v));
}

/* Adds a 64-bit value as a "0x..." string. */
static void jw_hex(struct jw *w, cJSON *obj, const char *key, uint64_t v)
{
    char hex[24];
    fmt_c(hex, sizeof(hex), "0x%llx", (unsigned long long)v);
    jw_str(w, obj, key, hex);
}

/* Appends a new object to the array `arr` and returns it, or records the failure and returns
 * NULL. */
static cJSON *jw_item(struct jw *w, cJSON *arr)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        w->failed = true;
        return NULL;
    }
    cJSON_AddItemToArray(arr, o);
    return o;
}

/* Builds the array of frames of a site. */
static cJSON *jw_stack(struct jw *w, const struct rpt_site *site)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) {
        w->failed = true;
        return NULL;
    }
    for (size_t i = 0; i < site->n_frames; i++) {
        const struct rpt_frame *f = &site->frames[i];
        cJSON *o = jw_item(w, arr);
        if (!o) {
            break;
        }
        jw_str(w, o, "function", f->function);
        jw_str(w, o, "file", f->file);
        jw_num(w, o, "line", f->line);
        jw_str(w, o, "object", f->object);
        jw_hex(w, o, "address", f->address);
        jw_hex(w, o, "object_offset", f->object_offset);
        jw_str(w, o, "system_name", f->system_name);
        jw_bool(w, o, "inlined", f->inlined);
    }
    return arr;
}

/* Builds an array of n uint64 values (NULL values = empty array). */
static cJSON *jw_u64s(struct jw *w, const uint64_t *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) {
        w->failed = true;
        return NULL;
    }
    for (size_t i = 0; v && i < n; i++) {
        cJSON *x = cJSON_CreateNumber((double)v[i]);
        if (!x) {
            w->failed = true;
            break;
        }
        cJSON_AddItemToArray(arr, x);
    }
    return arr;
}

/* Adds the target's argv as an array of strings, or null when unknown. */
static void jw_argv(struct jw *w, cJSON *o, char **argv)
{
    if (!argv) {
        jw_add(w, o, "argv", cJSON_CreateNull());
        return;
    }
    cJSON *arr = jw_add(w, o, "argv", cJSON_CreateArray());
    for (char **a = argv; arr && *a; a++) {
        cJSON *x = cJSON_CreateString(*a);
        if (!x) {
            w->failed = true;
            break;
        }
        cJSON_AddItemToArray(arr, x);
    }
}

/* Adds the "agent" object: the agent's counters of the scenario. */
static void jw_agent(struct jw *w, cJSON *o, const struct rpt_scenario *s)
{
    cJSON *agent = jw_add(w, o, "agent", cJSON_CreateObject());
    jw_num(w, agent, "unknown_frees", (double)s->unknown_frees);
    jw_num(w, agent, "dropped", (double)s->dropped);
    jw_num(w, agent, "unwind_errors", (double)s->unwind_errors);
    jw_num(w, agent, "truncated_stacks", (double)s->truncated_stacks);
}

/* Adds the "rounds" array. */
static void jw_rounds(struct jw *w, cJSON *o, const struct rpt_scenario *s)
{
    cJSON *rounds = jw_add(w, o, "rounds", cJSON_CreateArray());
    for (size_t i = 0; rounds && i < s->n_rounds; i++) {
        const struct rpt_round *r = &s->rounds[i];
        cJSON *ro = jw_item(w, rounds);
        if (!ro) {
            break;
        }
        jw_num(w, ro, "round", r->round);
        jw_bool(w, ro, "warmup", r->warmup);
        jw_num(w, ro, "live_bytes", (double)r->live_bytes);
        jw_num(w, ro, "live_blocks", (double)r->live_blocks);
        jw_num(w, ro, "rss_bytes", (double)r->rss_bytes);
        jw_num(w, ro, "heap_inuse_bytes", (double)r->heap_inuse_bytes);
        jw_num(w, ro, "heap_free_bytes", (double)r->heap_free_bytes);
        jw_num(w, ro, "agent_bytes", (double)r->agent_bytes);
        jw_num(w, ro, "seconds", r->seconds);
    }
}

/* Adds a site's id and culprit place, the keys a suspect and a site start with. */
static void jw_place(struct jw *w, cJSON *so, const struct rpt_site *site)
{
    jw_num(w, so, "id", site->id);
    jw_str(w, so, "function", site->function);
    jw_str(w, so, "file", site->file);
    jw_num(w, so, "line", site->line);
}

/* Adds the "suspects" array of the report contract: the suspect sites, each with its growth
 * and stack. */
static void jw_suspects(struct jw *w, cJSON *o, const struct rpt_scenario *s)
{
    cJSON *suspects = jw_add(w, o, "suspects", cJSON_CreateArray());
    for (size_t i = 0; suspects && i < s->n_sites; i++) {
        const struct rpt_site *site = &s->sites[i];
        if (!site->suspect) {
            continue;
        }
        cJSON *so = jw_item(w, suspects);
        if (!so) {
            break;
        }
        jw_place(w, so, site);
        jw_num(w, so, "bytes_per_round", site->bytes_per_round);
        jw_num(w, so, "blocks_per_round", site->blocks_per_round);
        jw_add(w, so, "stack", jw_stack(w, site));
    }
}

/* Fills one object of the "sites" array with every field of `site` (`n_rounds` per-round
 * values). */
static void jw_site(struct jw *w, cJSON *so, const struct rpt_site *site, size_t n_rounds)
{
    jw_place(w, so, site);
    jw_str(w, so, "object", site->object);
    jw_str(w, so, "kind", rpt_kind_name(site->kind));
    jw_bool(w, so, "suppressed", site->suppressed);
    jw_bool(w, so, "suspect", site->suspect);
    jw_num(w, so, "bytes_per_round", site->bytes_per_round);
    jw_num(w, so, "blocks_per_round", site->blocks_per_round);
    jw_num(w, so, "rounds_with_survivors", site->rounds_with_survivors);
    jw_num(w, so, "measured_rounds", site->measured_rounds);
    jw_num(w, so, "peak_bytes", (double)site->peak_bytes);
    jw_num(w, so, "final_bytes", (double)site->final_bytes);
    jw_num(w, so, "final_blocks", (double)site->final_blocks);
    jw_num(w, so, "growth_bytes", (double)site->growth_bytes);
    jw_num(w, so, "growth_bytes_signed", (double)site->growth_bytes_signed);
    jw_num(w, so, "growth_blocks_signed", (double)site->growth_blocks_signed);
    jw_num(w, so, "alloc_bytes", (double)site->alloc_bytes);
    jw_num(w, so, "alloc_blocks", (double)site->alloc_blocks);
    jw_add(w, so, "live_bytes", jw_u64s(w, site->live_bytes, n_rounds));
    jw_add(w, so, "live_blocks", jw_u64s(w, site->live_blocks, n_rounds));
    jw_bool(w, so, "truncated", site->truncated);
    jw_add(w, so, "stack", jw_stack(w, site));
}

/* Adds the "sites" array: every site with every field. */
static void jw_sites(struct jw *w, cJSON *o, const struct rpt_scenario *s)
{
    cJSON *sites = jw_add(w, o, "sites", cJSON_CreateArray());
    for (size_t i = 0; sites && i < s->n_sites; i++) {
        cJSON *so = jw_item(w, sites);
        if (!so) {
            break;
        }
        jw_site(w, so, &s->sites[i], s->n_rounds);
    }
}

/* Builds one scenario object. */
static cJSON *jw_scenario(struct jw *w, const struct rpt_scenario *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        w->failed = true;
        return NULL;
    }
    jw_str(w, o, "name", s->name);
    jw_str(w, o, "verdict", rpt_verdict_name(s->verdict));
    jw_str(w, o, "expect", rpt_expect_name(s->expect));
    jw_bool(w, o, "ok", s->ok);
    jw_str(w, o, "reason", s->reason);
    jw_str(w, o, "error", s->error);
    jw_str(w, o, "file", s->file);
    jw_num(w, o, "growth_bytes_per_round", s->growth_bytes_per_round);
    jw_num(w, o, "growth_blocks_per_round", s->growth_blocks_per_round);
    jw_num(w, o, "trend_p_value", s->trend_p_value);
    jw_num(w, o, "threshold_bytes_per_round", s->threshold_bytes_per_round);
    jw_num(w, o, "threshold_blocks_per_round", s->threshold_blocks_per_round);
    jw_num(w, o, "rounds_planned", s->rounds_planned);
    jw_num(w, o, "warmup", s->warmup);
    jw_num(w, o, "exit_code", s->exit_code);
    jw_num(w, o, "term_signal", s->term_signal);
    jw_num(w, o, "seconds", s->seconds);
    jw_agent(w, o, s);
    jw_bool(w, o, "stacks_truncated", s->stacks_truncated);
    jw_argv(w, o, s->argv);
    jw_rounds(w, o, s);
    jw_suspects(w, o, s);
    jw_sites(w, o, s);
    return o;
}

int rpt_json_render(const struct rpt_run *run, char **out)
{
    struct jw w = {0};
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        return -ENOMEM;
    }
    jw_str(&w, root, "format", RPT_FORMAT);
    jw_str(&w, root, "commit", run->commit);
    jw_str(&w, root, "commit_message", run->commit_message);
    jw_str(&w, root, "started_at", run->started_at);
    jw_str(&w, root, "agent_version", run->agent_version);
    jw_str(&w, root, "host", run->host);
    cJSON *scns = jw_add(&w, root, "scenarios", cJSON_CreateArray());
    for (size_t i = 0; scns && i < run->n_scenarios; i++) {
        cJSON *so = jw_scenario(&w, &run->scenarios[i]);
        if (!so) {
            w.failed = true;
            break;
        }
        cJSON_AddItemToArray(scns, so);
    }
    char *text = w.failed ? NULL : cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        return -ENOMEM;
    }
    *out = text;
    return 0;
}

int rpt_json_write(const struct rpt_run *run, const char *path, struct diag *d)
{
    char *text = NULL;
    int rc = rpt_json_render(run, &text);
    if (rc) {
        return diag_set(d, rc, "%s: out of memory while rendering the report", path);
    }
    size_t n = strlen(text);
    // End the file with a newline, as text files should.
    char *withnl = realloc(text, n + 2);
    if (!withnl) {
        free(text);
        return diag_set(d, -ENOMEM, "%s: out of memory", path);
    }
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    rc = file_write(path, withnl, n + 1, d);
    free(withnl);
    return rc;
}

/* ------------------------------------------------------------------ reader */

/* Reader state: the input's name for messages, the current JSON path, the error out-buffer. */
struct jr {
    const char *name;
    char path[512];
    struct diag *d;
};

/* Fails with "NAME: PATH.key: msg". Returns -EINVAL. */
static int jr_fail(struct jr *r, const char *key, const char *msg)
{
    const char *p = r->path[0] ? r->path : "";
    if (key) {
        return diag_set(r->d, -EINVAL, "%s: %s%s%s: %s", r->name, p, p[0] ? "." : "", key, msg);
    }
    return diag_set(r->d, -EINVAL, "%s: %s: %s", r->name, p[0] ? p : "(top level)", msg);
}

/* Appends ".key" or "[i]" to the path; returns the old length to restore with jr_pop(). */
static size_t jr_push(struct jr *r, const char *key, long idx)
{
    size_t old = strlen(r->path);
    if (idx >= 0) {
        fmt_c(r->path + old, sizeof(r->path) - old, "%s[%ld]", key, idx);
    } else {
        fmt_c(r->path + old, sizeof(r->path) - old, "%s%s", old ? "." : "", key);
    }
    return old;
}

/* Restores the path to `old` bytes. */
static void jr_pop(struct jr *r, size_t old)
{
    r->path[old] = '\0';
}

/* Reads an optional string (absent or null = NULL) into *out (owned). */
static int jr_str(struct jr *r, const cJSON *o, const char *key, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        *out = NULL;
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        return jr_fail(r, key, "expected a string or null");
    }
    size_t n = strlen(v->valuestring);
    if (n > RPT_JSON_MAX_STRING) {
        return jr_fail(r, key, "string longer than the 65536-byte limit");
    }
    *out = strdup(v->valuestring);
    if (!*out) {
        return diag_set(r->d, -ENOMEM, "%s: out of memory", r->name);
    }
    return 0;
}

/* Reads an optional finite number (absent = dflt, null = NAN). */
static int jr_num(struct jr *r, const cJSON *o, const char *key, double dflt, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (cJSON_IsNull(v)) {
        *out = NAN;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        return jr_fail(r, key, "expected a number");
    }
    *out = v->valuedouble;
    return 0;
}

/* Checks that `v` is an integer in [lo, hi]. */
static int jr_int_value(struct jr *r, const char *key, const cJSON *v, double lo, double hi,
                        double *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        floor(v->valuedouble) != v->valuedouble || v->valuedouble < lo || v->valuedouble > hi) {
        char msg[128];
        fmt_c(msg, sizeof(msg), "expected an integer from %.0f to %.0f", lo, hi);
        return jr_fail(r, key, msg);
    }
    *out = v->valuedouble;
    return 0;
}

#define JR_U64_MAX 9007199254740992.0 /* 2^53: exact in a double */

/* Reads an optional integer in [lo, hi] (absent = 0). */
static int jr_int(struct jr *r, const cJSON *o, const char *key, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        *out = 0;
        return 0;
    }
    return jr_int_value(r, key, v, lo, hi, out);
}

/* Reads an optional unsigned counter. */
static int jr_u64(struct jr *r, const cJSON *o, const char *key, uint64_t *out)
{
    double d;
    int rc = jr_int(r, o, key, 0, JR_U64_MAX, &d);
    if (rc == 0) {
        *out = (uint64_t)d;
    }
    return rc;
}

/* Reads an optional uint32. */
static int jr_u32(struct jr *r, const cJSON *o, const char *key, uint32_t *out)
{
    double d;
    int rc = jr_int(r, o, key, 0, 4294967295.0, &d);
    if (rc == 0) {
        *out = (uint32_t)d;
    }
    return rc;
}

/* Reads an optional signed 64-bit counter. */
static int jr_i64(struct jr *r, const cJSON *o, const char *key, int64_t *out)
{
    double d;
    int rc = jr_int(r, o, key, -JR_U64_MAX, JR_U64_MAX, &d);
    if (rc == 0) {
        *out = (int64_t)d;
    }
    return rc;
}

/* Reads an optional boolean (absent = false). */
static int jr_bool(struct jr *r, const cJSON *o, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        *out = false;
        return 0;
    }
    if (!cJSON_IsBool(v)) {
        return jr_fail(r, key, "expected true or false");
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

/* Reads an optional "0x..." string (absent or null = 0). */
static int jr_hex(struct jr *r, const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = 0;
    if (!v || cJSON_IsNull(v)) {
        return 0;
    }
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2] || strlen(s) > 18) {
        return jr_fail(r, key, "expected a hexadecimal string like \"0x4011a6\"");
    }
    uint64_t x = 0;
    for (const char *p = s + 2; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9') {
            d = *p - '0';
        } else if (*p >= 'a' && *p <= 'f') {
            d = *p - 'a' + 10;
        } else if (*p >= 'A' && *p <= 'F') {
            d = *p - 'A' + 10;
        } else {
            return jr_fail(r, key, "expected a hexadecimal string like \"0x4011a6\"");
        }
        x = (x << 4) | (uint64_t)d;
    }
    *out = x;
    return 0;
}

/* Returns the array at key (absent = NULL, *n = 0); fails when it is not an array or exceeds
 * `cap` items. */
static int jr_array(struct jr *r, const cJSON *o, const char *key, size_t cap, const cJSON **arr,
                    size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *arr = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsArray(v)) {
        return jr_fail(r, key, "expected an array");
    }
    size_t count = (size_t)cJSON_GetArraySize(v);
    if (count > cap) {
        char msg[96];
        fmt_c(msg, sizeof(msg), "%zu items, more than the limit of %zu", count, cap);
        return jr_fail(r, key, msg);
    }
    *arr = v;
    *n = count;
    return 0;
}

/* Matches `s` against the names of an enum; fails listing the accepted names. */
static int jr_enum(struct jr *r, const cJSON *o, const char *key, const char *const *names, int n,
                   int dflt, bool required, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required) {
            return jr_fail(r, key, "missing");
        }
        *out = dflt;
        return 0;
    }
    char msg[256];
    size_t len = (size_t)fmt_c(msg, sizeof(msg), "expected one of");
    for (int i = 0; i < n && len < sizeof(msg); i++) {
        len += (size_t)fmt_c(msg + len, sizeof(msg) - len, "%s '%s'", i ? "," : "", names[i]);
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        return jr_fail(r, key, msg);
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return jr_fail(r, key, msg);
}

/* Reads a stack array into a new frame array. */
static int jr_stack(struct jr *r, const cJSON *o, struct rpt_site *site)
{
    const cJSON *arr;
    size_t n;
    int rc = jr_array(r, o, "stack", RPT_JSON_MAX_FRAMES, &arr, &n);
    if (rc || n == 0) {
        return rc;
    }
    site->frames = calloc(n, sizeof(*site->frames));
    if (!site->frames) {
        return diag_set(r->d, -ENOMEM, "%s: out of memory", r->name);
    }
    site->n_frames = n;
    size_t i = 0;
    const cJSON *fo;
    cJSON_ArrayForEach(fo, arr)
    {
        size_t old = jr_push(r, ".stack", (long)i);
        struct rpt_frame *f = &site->frames[i];
        if (!cJSON_IsObject(fo)) {
            return jr_fail(r, NULL, "expected an object");
        }
        if ((rc = jr_str(r, fo, "function", &f->function)) ||
            (rc = jr_str(r, fo, "file", &f->file)) || (rc = jr_u32(r, fo, "line", &f->line)) ||
            (rc = jr_str(r, fo, "object", &f->object)) ||
            (rc = jr_hex(r, fo, "address", &f->address)) ||
            (rc = jr_hex(r, fo, "object_offset", &f->object_offset)) ||
            (rc = jr_str(r, fo, "system_name", &f->system_name)) ||
            (rc = jr_bool(r, fo, "inlined", &f->inlined))) {
            return rc;
        }
        jr_pop(r, old);
        i++;
    }
    return 0;
}

/* Reads an array of n_rounds counters (absent, null or [] = NULL: the writer renders a site
 * without a series as [], so that must read back). */
static int jr_series(struct jr *r, const cJSON *o, const char *key, size_t n_rounds, uint64_t **out)
{
    const cJSON *arr;
    size_t n;
    int rc = jr_array(r, o, key, RPT_JSON_MAX_ROUNDS, &arr, &n);
    if (rc || !arr || n == 0) {
        return rc;
    }
    if (n != n_rounds) {
        char msg[96];
        fmt_c(msg, sizeof(msg), "expected %zu values (one per round), found %zu", n_rounds, n);
        return jr_fail(r, key, msg);
    }
    if (n == 0) {
        return 0;
    }
    *out = calloc(n, sizeof(**out));
    if (!*out) {
        return diag_set(r->d, -ENOMEM, "%s: out of memory", r->name);
    }
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        char k[64];
        double d;
        fmt_c(k, sizeof(k), "%s[%zu]", key, i);
        if ((rc = jr_int_value(r, k, v, 0, JR_U64_MAX, &d))) {
            return rc;
        }
        (*out)[i++] = (uint64_t)d;
    }
    return 0;
}

/* Reads one site (from `sites` or, for reports without them, from `suspects`). */
static int jr_site(struct jr *r, const cJSON *o, size_t n_rounds, bool from_suspects,
                   struct rpt_site *site)
{
    static const char *const kinds[] = {"flat", "leak", "plateau", "step", "sawtooth", "churn"};
    int rc;
    int kind = from_suspects ? RPT_KIND_LEAK : RPT_KIND_FLAT;
    if (!cJSON_IsObject(o)) {
        return jr_fail(r, NULL, "expected an object");
    }
    if ((rc = jr_u32(r, o, "id", &site->id)) || (rc = jr_str(r, o, "function", &site->function)) ||
        (rc = jr_str(r, o, "file", &site->file)) || (rc = jr_u32(r, o, "line", &site->line)) ||
        (rc = jr_str(r, o, "object", &site->object)) ||
        (rc = jr_enum(r, o, "kind", kinds, 6, kind, false, &kind)) ||
        (rc = jr_bool(r, o, "suppressed", &site->suppressed)) ||
        (rc = jr_bool(r, o, "suspect", &site->suspect)) ||
        (rc = jr_num(r, o, "bytes_per_round", 0, &site->bytes_per_round)) ||
        (rc = jr_num(r, o, "blocks_per_round", 0, &site->blocks_per_round)) ||
        (rc = jr_u32(r, o, "rounds_with_survivors", &site->rounds_with_survivors)) ||
        (rc = jr_u32(r, o, "measured_rounds", &site->measured_rounds)) ||
        (rc = jr_u64(r, o, "peak_bytes", &site->peak_bytes)) ||
        (rc = jr_u64(r, o, "final_bytes", &site->final_bytes)) ||
        (rc = jr_u64(r, o, "final_blocks", &site->final_blocks)) ||
        (rc = jr_u64(r, o, "growth_bytes", &site->growth_bytes)) ||
        (rc = jr_i64(r, o, "growth_bytes_signed", &site->growth_bytes_signed)) ||
        (rc = jr_i64(r, o, "growth_blocks_signed", &site->growth_blocks_signed)) ||
        (rc = jr_u64(r, o, "alloc_bytes", &site->alloc_bytes)) ||
        (rc = jr_u64(r, o, "alloc_blocks", &site->alloc_blocks)) ||
        (rc = jr_series(r, o, "live_bytes", n_rounds, &site->live_bytes)) ||
        (rc = jr_series(r, o, "live_blocks", n_rounds, &site->live_blocks)) ||
        (rc = jr_bool(r, o, "truncated", &site->truncated)) || (rc = jr_stack(r, o, site))) {
        return rc;
    }
    site->kind = (enum rpt_kind)kind;
    if (from_suspects) {
        site->suspect = true;
    }
    return 0;
}

/* Reads one scenario into `s` (zeroed by the caller; cleaned up by the caller on failure). */
static int jr_scenario(struct jr *r, const cJSON *o, struct rpt_scenario *s)
{
    static const char *const verdicts[] = {"no-leak", "leak", "inconclusive", "error"};
    static const char *const expects[] = {"no-leak", "leak", "any"};
    int rc, verdict, expect;
    double d;
    if (!cJSON_IsObject(o)) {
        return jr_fail(r, NULL, "expected an object");
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(name)) {
        return jr_fail(r, "name", "expected a string (the scenario's name)");
    }
    const cJSON *okv = cJSON_GetObjectItemCaseSensitive(o, "ok");
    if (!cJSON_IsBool(okv)) {
        return jr_fail(r, "ok", "expected true or false");
    }
    if ((rc = jr_str(r, o, "name", &s->name)) ||
        (rc = jr_enum(r, o, "verdict", verdicts, 4, 0, true, &verdict)) ||
        (rc = jr_enum(r, o, "expect", expects, 3, RPT_EXPECT_NO_LEAK, false, &expect)) ||
        (rc = jr_bool(r, o, "ok", &s->ok)) || (rc = jr_str(r, o, "reason", &s->reason)) ||
        (rc = jr_str(r, o, "error", &s->error)) || (rc = jr_str(r, o, "file", &s->file)) ||
        (rc = jr_num(r, o, "growth_bytes_per_round", 0, &s->growth_bytes_per_round)) ||
        (rc = jr_num(r, o, "growth_blocks_per_round", 0, &s->growth_blocks_per_round)) ||
        (rc = jr_num(r, o, "trend_p_value", 1, &s->trend_p_value)) ||
        (rc = jr_num(r, o, "threshold_bytes_per_round", 0, &s->threshold_bytes_per_round)) ||
        (rc = jr_num(r, o, "threshold_blocks_per_round", 0, &s->threshold_blocks_per_round)) ||
        (rc = jr_u32(r, o, "rounds_planned", &s->rounds_planned)) ||
        (rc = jr_u32(r, o, "warmup", &s->warmup)) ||
        (rc = jr_num(r, o, "seconds", 0, &s->seconds)) ||
        (rc = jr_bool(r, o, "stacks_truncated", &s->stacks_truncated))) {
        return rc;
    }
    s->verdict = (enum rpt_verdict)verdict;
    s->expect = (enum rpt_expect)expect;
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(o, "exit_code");
    s->exit_code = -1;
    if (ec && !cJSON_IsNull(ec)) {
        if ((rc = jr_int_value(r, "exit_code", ec, -1, 255, &d))) {
            return rc;
        }
        s->exit_code = (int)d;
    }
    if ((rc = jr_int(r, o, "term_signal", 0, 128, &d))) {
        return rc;
    }
    s->term_signal = (int)d;
    const cJSON *agent = cJSON_GetObjectItemCaseSensitive(o, "agent");
    if (agent && !cJSON_IsNull(agent)) {
        if (!cJSON_IsObject(agent)) {
            return jr_fail(r, "agent", "expected an object");
        }
        size_t old = jr_push(r, "agent", -1);
        if ((rc = jr_u64(r, agent, "unknown_frees", &s->unknown_frees)) ||
            (rc = jr_u64(r, agent, "dropped", &s->dropped)) ||
            (rc = jr_u64(r, agent, "unwind_errors", &s->unwind_errors)) ||
            (rc = jr_u64(r, agent, "truncated_stacks", &s->truncated_stacks))) {
            return rc;
        }
        jr_pop(r, old);
    }

    const cJSON *arr;
    size_t n;
    if ((rc = jr_array(r, o, "argv", 4096, &arr, &n))) {
        return rc;
    }
    if (arr) {
        s->argv = calloc(n + 1, sizeof(*s->argv));
        if (!s->argv) {
            return diag_set(r->d, -ENOMEM, "%s: out of memory", r->name);
        }
        size_t i = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, arr)
        {
            if (!cJSON_IsString(a) || strlen(a->valuestring) > RPT_JSON_MAX_STRING) {
                char k[32];
                fmt_c(k, sizeof(k), "argv[%zu]", i);
                return jr_fail(r, k, "expected a string");
            }
            s->argv[i] = strdup(a->valuestring);
            if (!s->argv[i]) {
                return diag_set(r->d, -ENOMEM, "%s: out of memory", r->name);
            }
            i++;
        }
    }

    if ((rc = jr_array(r, o, "rounds", RPT_JSON_MAX_ROUNDS, &arr, &n))) {
        return rc;
    }
    if (n) {
        s->rounds = calloc(n, sizeof(*s->rounds));
        if (!s->rounds) {
            return diag_set(r->d, -ENOMEM, "%s: out of memory", r->name);
        }
        s->n_rounds = n;
        size_t i = 0;
        const cJSON *ro;
        cJSON_ArrayForEach(ro, arr)
        {
            struct rpt_round *rd = &s->rounds[i];
            size_t old = jr_push(r, ".rounds", (long)i);
            if (!cJSON_IsObject(ro)) {
                return jr_fail(r, NULL, "expected an object");
            }
            if ((rc = jr_int_value(r, "round", cJSON_GetObjectItemCaseSensitive(ro, "round"), 1,
                                   4294967295.0, &d))) {
                return rc;
            }
            rd->round = (uint32_t)d;
            if (rd->round != i + 1) {
                return jr_fail(r, "round", "expected rounds numbered 1, 2, 3... in order");
            }
            if ((rc = jr_bool(r, ro, "warmup", &rd->warmup)) ||
                (rc = jr_u64(r, ro, "live_bytes", &rd->live_bytes)) ||
                (rc = jr_u64(r, ro, "live_blocks", &rd->live_blocks)) ||
                (rc = jr_u64(r, ro, "rss_bytes", &rd->rss_bytes)) ||
                (rc = jr_u64(r, ro, "heap_inuse_bytes", &rd->heap_inuse_bytes)) ||
                (rc = jr_u64(r, ro, "heap_free_bytes", &rd->heap_free_bytes)) ||
                (rc = jr_u64(r, ro, "agent_bytes", &rd->agent_bytes)) ||
                (rc = jr_num(r, ro, "seconds", 0, &rd->seconds))) {
                return rc;
            }
            jr_pop(r, old);
            i++;
        }
    }

    const char *site_key = "sites";
    if ((rc = jr_array(r, o, "sites", RPT_JSON_MAX_SITES, &arr, &n))) {
        return rc;
    }
    if (!arr) {
        site_key = "suspects";
        if ((rc = jr_array(r, o, "suspects", RPT_JSON_MAX_SITES, &arr, &n))) {
            return rc;
        }
    }
    if (n) {
        s->sites = calloc(n, sizeof(*s->sites));
        if (!s->sites) {
            return diag_set(r->d, -ENOMEM, "%s: out of memory", r->name);
        }
        const cJSON *so;
        cJSON_ArrayForEach(so, arr)
        {
            char k[16];
            fmt_c(k, sizeof(k), ".%s", site_key);
            size_t old = jr_push(r, k, (long)s->n_sites);
            // Count the site first so that cleanup frees what a failed read left in it.
            struct rpt_site *site = &s->sites[s->n_sites++];
            if ((rc = jr_site(r, so, s->n_rounds, site_key[1] == 'u', site))) {
                return rc;
            }
            jr_pop(r, old);
        }
    }
    return 0;
}

int rpt_json_parse(const char *text, const char *name, struct rpt_run **out, struct diag *d)
{
    struct jr r = {.name = name, .d = d};
    int rc = 0;
    struct rpt_run *run = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        size_t line = 1;
        for (size_t i = 0; i < off && text[i]; i++) {
            line += text[i] == '\n';
        }
        return diag_set(d, -EINVAL,
                        "%s:%zu: not valid JSON (near byte %zu); is this a leakcheck report?", name,
                        line, off);
    }
    if (!cJSON_IsObject(root)) {
        rc = jr_fail(&r, NULL, "expected an object (a leakcheck report)");
        goto out;
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt)) {
        rc = jr_fail(&r, "format",
                     "missing; expected \"" RPT_FORMAT "\" (is this a leakcheck report?)");
        goto out;
    }
    if (strncmp(fmt->valuestring, "leakcheck-report/1", 18) != 0 ||
        (fmt->valuestring[18] != '\0' && fmt->valuestring[18] != '.')) {
        char msg[256];
        fmt_c(msg, sizeof(msg), "unsupported format '%.64s'; this leakcheck reads " RPT_FORMAT,
              fmt->valuestring);
        rc = jr_fail(&r, "format", msg);
        goto out;
    }
    run = calloc(1, sizeof(*run));
    if (!run) {
        rc = diag_set(d, -ENOMEM, "%s: out of memory", name);
        goto out;
    }
    if ((rc = jr_str(&r, root, "commit", &run->commit)) ||
        (rc = jr_str(&r, root, "commit_message", &run->commit_message)) ||
        (rc = jr_str(&r, root, "started_at", &run->started_at)) ||
        (rc = jr_str(&r, root, "agent_version", &run->agent_version)) ||
        (rc = jr_str(&r, root, "host", &run->host))) {
        goto out;
    }
    const cJSON *arr;
    size_t n;
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "scenarios"))) {
        rc = jr_fail(&r, "scenarios", "expected an array");
        goto out;
    }
    if ((rc = jr_array(&r, root, "scenarios", RPT_JSON_MAX_SCENARIOS, &arr, &n))) {
        goto out;
    }
    if (n) {
        run->scenarios = calloc(n, sizeof(*run->scenarios));
        if (!run->scenarios) {
            rc = diag_set(d, -ENOMEM, "%s: out of memory", name);
            goto out;
        }
        const cJSON *so;
        cJSON_ArrayForEach(so, arr)
        {
            size_t old = jr_push(&r, "scenarios", (long)run->n_scenarios);
            struct rpt_scenario *s = &run->scenarios[run->n_scenarios++];
            if ((rc = jr_scenario(&r, so, s))) {
                goto out;
            }
            jr_pop(&r, old);
        }
    }
    *out = run;
    run = NULL;
out:
    rpt_run_free(run);
    cJSON_Delete(root);
    return rc;
}

int rpt_json_read(const char *path, struct rpt_run **out, struct diag *d)
{
    char *text = NULL;
    size_t len = 0;
    int rc = file_read(path, RPT_JSON_MAX_FILE, &text, &len, d);
    if (rc) {
        return rc;
    }
    if (strlen(text) != len) {
        free(text);
        return diag_set(d, -EINVAL, "%s: contains a NUL byte; not a JSON report", path);
    }
    rc = rpt_json_parse(text, path, out, d);
    free(text);
    return rc;
}
