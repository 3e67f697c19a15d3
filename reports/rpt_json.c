/* SPDX-License-Identifier: MIT */
/* rpt_json.c - the JSON report: writer (cJSON tree, then text) and a strict, capped reader.
 *
 * The writer emits every field of the result model plus the derived `suspects` list of the
 * report contract (sites with suspect=true, each with its culprit and full stack). The reader
 * accepts any report of major version 1: it takes `sites` when present and otherwise rebuilds
 * sites from `suspects`, ignores unknown keys (newer minor additions), and rejects wrong types,
 * out-of-range numbers and anything past the caps in rpt_json.h with the JSON path in the message
 * (the strict readers of util/json.h, shared with scenario files).
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
#include "../util/json.h"

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
        if (f->skip != RPT_SKIP_NONE && (unsigned)f->skip < RPT_N_SKIPS) {
            jw_str(w, o, "skipped", rpt_skip_names[f->skip]);
        }
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
        if (s->snapshot_seconds && s->snapshot_seconds[i] >= 0) {
            jw_num(w, ro, "snapshot_seconds", s->snapshot_seconds[i]);
        }
    }
}

/* Adds a site's id and culprit place, the keys a suspect and a site start with. */
static void jw_place(struct jw *w, cJSON *so, const struct rpt_site *site)
{
    jw_num(w, so, "id", site->id);
    jw_str(w, so, "function", site->function);
    jw_str(w, so, "file", site->file);
    jw_num(w, so, "line", site->line);
    if (site->role) {
        jw_str(w, so, "role", site->role);
        cJSON *pids = jw_add(w, so, "pids", cJSON_CreateArray());
        for (size_t i = 0; pids && i < site->n_pids; i++) {
            cJSON_AddItemToArray(pids, cJSON_CreateNumber(site->pids[i]));
        }
    }
}

/* Adds the "processes" array: every process of the target's tree (none for a one-process
 * recording). */
static void jw_procs(struct jw *w, cJSON *o, const struct rpt_scenario *s)
{
    if (s->n_procs == 0) {
        return;
    }
    cJSON *arr = jw_add(w, o, "processes", cJSON_CreateArray());
    for (size_t i = 0; arr && i < s->n_procs; i++) {
        const struct rpt_proc *p = &s->procs[i];
        cJSON *po = jw_item(w, arr);
        if (!po) {
            break;
        }
        jw_num(w, po, "pid", p->pid);
        jw_num(w, po, "ppid", p->ppid);
        jw_str(w, po, "exe", p->exe);
        jw_str(w, po, "cmdline", p->cmdline);
        jw_str(w, po, "role", p->role);
        jw_str(w, po, "origin", p->origin);
        jw_bool(w, po, "tracked", p->tracked);
        jw_str(w, po, "untracked_why", p->why);
        jw_num(w, po, "joined_after_round", p->joined_round);
        jw_bool(w, po, "ended", p->ended);
        if (p->ended || !p->tracked) {
            jw_num(w, po, p->tracked ? "ended_after_round" : "last_seen_after_round",
                   p->ended_round);
        }
        jw_str(w, po, "end", p->end);
        jw_num(w, po, "snapshots", p->snapshots);
    }
}

/* Builds the "retained_by" array of a site: its retainer groups, most survivors first. */
static cJSON *jw_retainers(struct jw *w, const struct rpt_site *site)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) {
        w->failed = true;
        return NULL;
    }
    for (size_t i = 0; i < site->n_retainers; i++) {
        const struct rpt_retainer *r = &site->retainers[i];
        cJSON *o = jw_item(w, arr);
        cJSON *root = o ? jw_add(w, o, "root", cJSON_CreateObject()) : NULL;
        if (!root) {
            break;
        }
        jw_str(w, root, "kind", rpt_root_kind_name(r->kind));
        jw_str(w, root, "symbol", r->symbol);
        jw_str(w, root, "object", r->object);
        jw_str(w, root, "file", r->file);
        jw_num(w, root, "line", r->line);
        jw_num(w, root, "offset", (double)r->offset);
        if (r->offset_varies) {
            jw_bool(w, root, "offset_varies", true);
        }
        if (r->section) {
            jw_str(w, root, "section", r->section);
        }
        if (r->tid) {
            jw_num(w, root, "tid", r->tid);
        }
        cJSON *via = jw_add(w, o, "via", cJSON_CreateArray());
        for (size_t h = 0; via && h < r->n_via; h++) {
            const struct rpt_hop *hop = &r->via[h];
            cJSON *ho = jw_item(w, via);
            if (!ho) {
                break;
            }
            jw_str(w, ho, "function", hop->function);
            jw_str(w, ho, "file", hop->file);
            jw_num(w, ho, "line", hop->line);
            jw_num(w, ho, "offset", (double)hop->offset);
            if (hop->offset_varies) {
                jw_bool(w, ho, "offset_varies", true);
            }
            jw_num(w, ho, "site", hop->site);
        }
        jw_num(w, o, "blocks", (double)r->blocks);
        jw_num(w, o, "bytes", (double)r->bytes);
    }
    return arr;
}

/* Adds the "retainer_scan" object when a retainer scan ran; nothing otherwise. */
static void jw_retain_scan(struct jw *w, cJSON *obj, const struct rpt_retain_scan *rs)
{
    if (!rs->ran) {
        return;
    }
    cJSON *o = jw_add(w, obj, "retainer_scan", cJSON_CreateObject());
    if (!o) {
        return;
    }
    jw_bool(w, o, "complete", rs->complete);
    jw_str(w, o, "note", rs->note);
    jw_num(w, o, "round", rs->round);
    jw_num(w, o, "processes", rs->processes);
    jw_num(w, o, "stopped_seconds", rs->stopped_seconds);
    jw_num(w, o, "seconds", rs->seconds);
    jw_num(w, o, "bytes_read", (double)rs->bytes_read);
    jw_num(w, o, "live_blocks", (double)rs->live_blocks);
    jw_num(w, o, "live_bytes", (double)rs->live_bytes);
    jw_num(w, o, "memory_bytes", (double)rs->memory_bytes);
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
        jw_num(w, so, "culprit_frame", site->culprit_frame);
        jw_str(w, so, "culprit_why", site->culprit_why);
        jw_add(w, so, "stack", jw_stack(w, site));
        if (s->retain.ran) {
            jw_num(w, so, "retain_sampled", (double)site->retain_sampled);
            jw_add(w, so, "retained_by", jw_retainers(w, site));
        }
    }
}

/* Fills one object of the "sites" array with every field of `site` (`n_rounds` per-round
 * values). */
static void jw_site(struct jw *w, cJSON *so, const struct rpt_site *site, size_t n_rounds)
{
    jw_place(w, so, site);
    jw_str(w, so, "object", site->object);
    jw_str(w, so, "kind", rpt_kind_name(site->kind));
    jw_str(w, so, "source", rpt_source_name(site->source));
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
    jw_num(w, so, "culprit_frame", site->culprit_frame);
    jw_str(w, so, "culprit_why", site->culprit_why);
    jw_add(w, so, "stack", jw_stack(w, site));
}

/* Fills one object of the "sites" array with the summary of `site`: its culprit, kind, source
 * and figures, without its stack and per-round series. */
static void jw_site_summary(struct jw *w, cJSON *so, const struct rpt_site *site)
{
    jw_place(w, so, site);
    jw_str(w, so, "object", site->object);
    jw_str(w, so, "kind", rpt_kind_name(site->kind));
    jw_str(w, so, "source", rpt_source_name(site->source));
    jw_bool(w, so, "suppressed", site->suppressed);
    jw_bool(w, so, "suspect", site->suspect);
    jw_bool(w, so, "detail", false);
    jw_num(w, so, "bytes_per_round", site->bytes_per_round);
    jw_num(w, so, "blocks_per_round", site->blocks_per_round);
    jw_num(w, so, "final_bytes", (double)site->final_bytes);
    jw_num(w, so, "final_blocks", (double)site->final_blocks);
    jw_num(w, so, "growth_bytes_signed", (double)site->growth_bytes_signed);
}

/* Adds the "sites" array: the sites that matter with every field, the rest summarized (see
 * RPT_JSON_DETAILED_SITES), and "sites_summarized", how many were. */
static void jw_sites(struct jw *w, cJSON *o, const struct rpt_scenario *s)
{
    cJSON *sites = jw_add(w, o, "sites", cJSON_CreateArray());
    size_t summarized = 0;
    for (size_t i = 0; sites && i < s->n_sites; i++) {
        const struct rpt_site *site = &s->sites[i];
        cJSON *so = jw_item(w, sites);
        if (!so) {
            break;
        }
        if (site->suspect || i < RPT_JSON_DETAILED_SITES) {
            jw_site(w, so, site, s->n_rounds);
        } else {
            jw_site_summary(w, so, site);
            summarized++;
        }
    }
    jw_num(w, o, "sites_summarized", (double)summarized);
}

/* Builds one scenario object. */
/* Adds "interrupted": {"signal": "SIGTERM", "number": 15} when a stop signal ended `sig` != 0
 * early; nothing otherwise. */
static void jw_interrupted(struct jw *w, cJSON *obj, int sig)
{
    if (sig == 0) {
        return;
    }
    char name[32];
    cJSON *o = jw_add(w, obj, "interrupted", cJSON_CreateObject());
    if (o) {
        jw_str(w, o, "signal", rpt_signal_name(sig, name, sizeof(name)));
        jw_num(w, o, "number", sig);
    }
}

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
    jw_interrupted(w, o, s->interrupted_signal);
    jw_str(w, o, "file", s->file);
    jw_num(w, o, "growth_bytes_per_round", s->growth_bytes_per_round);
    jw_num(w, o, "growth_blocks_per_round", s->growth_blocks_per_round);
    jw_num(w, o, "trend_p_value", s->trend_p_value);
    jw_num(w, o, "threshold_bytes_per_round", s->threshold_bytes_per_round);
    jw_num(w, o, "threshold_blocks_per_round", s->threshold_blocks_per_round);
    jw_num(w, o, "threshold_rss_bytes_per_round", s->threshold_rss_bytes_per_round);
    jw_num(w, o, "rss_growth_bytes_per_round", s->rss_growth_bytes_per_round);
    jw_num(w, o, "untracked_bytes_per_round", s->untracked_bytes_per_round);
    jw_str(w, o, "rss_warning", s->rss_warning);
    jw_num(w, o, "rounds_planned", s->rounds_planned);
    jw_num(w, o, "warmup", s->warmup);
    jw_num(w, o, "exit_code", s->exit_code);
    jw_num(w, o, "term_signal", s->term_signal);
    jw_num(w, o, "seconds", s->seconds);
    jw_agent(w, o, s);
    jw_bool(w, o, "stacks_truncated", s->stacks_truncated);
    jw_argv(w, o, s->argv);
    jw_procs(w, o, s);
    jw_retain_scan(w, o, &s->retain);
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
    jw_interrupted(&w, root, run->interrupted_signal);
    cJSON *scns = jw_add(&w, root, "scenarios", cJSON_CreateArray());
    for (size_t i = 0; scns && i < run->n_scenarios; i++) {
        cJSON *so = jw_scenario(&w, &run->scenarios[i]);
        if (!so) {
            w.failed = true;
            break;
        }
        cJSON_AddItemToArray(scns, so);
    }
    char *text = w.failed ? NULL : json_print(root, true);
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

/* The reader reads with util/json.h: a struct json_ctx names the input and tracks the JSON path
 * ("scenarios[0].sites[3].stack[1]") for every message. Numbers are integers within 2^53 (exact
 * in a double) unless the field is a measurement; strings are capped at RPT_JSON_MAX_STRING. */

/* Reads an optional string or null into *out (owned). */
static int jr_str(struct json_ctx *c, const cJSON *o, const char *key, char **out)
{
    return json_get_str_or_null(c, o, key, RPT_JSON_MAX_STRING, out);
}

/* Reads an optional unsigned counter (absent: unchanged). */
static int jr_u64(struct json_ctx *c, const cJSON *o, const char *key, uint64_t *out)
{
    int64_t v = (int64_t)*out;
    int rc = json_get_int(c, o, key, 0, JSON_INT_MAX, &v);
    *out = (uint64_t)v;
    return rc;
}

/* Reads an optional uint32 (absent: unchanged). */
static int jr_u32(struct json_ctx *c, const cJSON *o, const char *key, uint32_t *out)
{
    int64_t v = *out;
    int rc = json_get_int(c, o, key, 0, UINT32_MAX, &v);
    *out = (uint32_t)v;
    return rc;
}

/* Reads an optional signed counter (absent: unchanged). */
static int jr_i64(struct json_ctx *c, const cJSON *o, const char *key, int64_t *out)
{
    return json_get_int(c, o, key, -JSON_INT_MAX, JSON_INT_MAX, out);
}

/* Reads one frame of a stack. */
static int jr_frame(struct json_ctx *c, const cJSON *fo, struct rpt_frame *f)
{
    if (!cJSON_IsObject(fo)) {
        return json_bad_type(c, NULL, fo, "an object");
    }
    int rc = jr_str(c, fo, "function", &f->function);
    if (rc == 0) {
        rc = jr_str(c, fo, "file", &f->file);
    }
    if (rc == 0) {
        rc = jr_u32(c, fo, "line", &f->line);
    }
    if (rc == 0) {
        rc = jr_str(c, fo, "object", &f->object);
    }
    if (rc == 0) {
        rc = json_get_hex(c, fo, "address", &f->address);
    }
    if (rc == 0) {
        rc = json_get_hex(c, fo, "object_offset", &f->object_offset);
    }
    if (rc == 0) {
        rc = jr_str(c, fo, "system_name", &f->system_name);
    }
    if (rc == 0) {
        rc = json_get_bool(c, fo, "inlined", &f->inlined);
    }
    int skip = -1; /* index in rpt_skip_names + 1; absent stays -1 */
    if (rc == 0) {
        rc = json_get_enum(c, fo, "skipped", rpt_skip_names + 1, RPT_N_SKIPS - 1, false, &skip);
    }
    f->skip = rc == 0 && skip >= 0 ? (enum rpt_skip)(skip + 1) : RPT_SKIP_NONE;
    return rc;
}

/* Reads a stack array into a new frame array. */
static int jr_stack(struct json_ctx *c, const cJSON *o, struct rpt_site *site)
{
    const cJSON *arr;
    size_t n;
    int rc = json_get_array(c, o, "stack", RPT_JSON_MAX_FRAMES, &arr, &n);
    if (rc || n == 0) {
        return rc;
    }
    site->frames = calloc(n, sizeof(*site->frames));
    if (!site->frames) {
        return json_nomem(c);
    }
    site->n_frames = n;
    size_t i = 0;
    const cJSON *fo;
    cJSON_ArrayForEach(fo, arr)
    {
        size_t mark = json_push_index(c, "stack", i);
        rc = jr_frame(c, fo, &site->frames[i]);
        if (rc) {
            return rc;
        }
        json_pop(c, mark);
        i++;
    }
    return 0;
}

/* Reads an array of n_rounds counters (absent, null or [] = NULL: the writer renders a site
 * without a series as [], so that must read back). */
static int jr_series(struct json_ctx *c, const cJSON *o, const char *key, size_t n_rounds,
                     uint64_t **out)
{
    const cJSON *arr;
    size_t n;
    int rc = json_get_array(c, o, key, RPT_JSON_MAX_ROUNDS, &arr, &n);
    if (rc || !arr || n == 0) {
        return rc;
    }
    if (n != n_rounds) {
        return json_fail(c, key, "expected %zu values (one per round), found %zu", n_rounds, n);
    }
    *out = calloc(n, sizeof(**out));
    if (!*out) {
        return json_nomem(c);
    }
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        char k[64];
        int64_t x;
        fmt_c(k, sizeof(k), "%s[%zu]", key, i);
        rc = json_int_value(c, k, v, 0, JSON_INT_MAX, &x);
        if (rc) {
            return rc;
        }
        (*out)[i++] = (uint64_t)x;
    }
    return 0;
}

/* Reads a site's identity and kind. */
static int jr_site_head(struct json_ctx *c, const cJSON *o, bool from_suspects,
                        struct rpt_site *site)
{
    static const char *const kinds[] = {"flat", "leak", "plateau", "step", "sawtooth", "churn"};
    int kind = from_suspects ? RPT_KIND_LEAK : RPT_KIND_FLAT;
    int rc = jr_u32(c, o, "id", &site->id);
    if (rc == 0) {
        rc = jr_str(c, o, "function", &site->function);
    }
    if (rc == 0) {
        rc = jr_str(c, o, "file", &site->file);
    }
    if (rc == 0) {
        rc = jr_u32(c, o, "line", &site->line);
    }
    if (rc == 0) {
        rc = jr_str(c, o, "object", &site->object);
    }
    if (rc == 0) {
        rc = json_get_enum(c, o, "kind", kinds, 6, false, &kind);
    }
    site->kind = (enum rpt_kind)kind;
    static const char *const sources[RPT_N_SOURCES] = {"malloc", "mmap", "brk"};
    int source = RPT_SOURCE_MALLOC;
    if (rc == 0) {
        rc = json_get_enum(c, o, "source", sources, RPT_N_SOURCES, false, &source);
    }
    site->source = (enum rpt_source)source;
    if (rc == 0) {
        rc = json_get_bool(c, o, "suppressed", &site->suppressed);
    }
    if (rc == 0) {
        rc = json_get_bool(c, o, "suspect", &site->suspect);
    }
    return rc;
}

/* Reads a site's growth figures and counters. */
static int jr_site_figures(struct json_ctx *c, const cJSON *o, struct rpt_site *site)
{
    int rc = json_get_num_or_null(c, o, "bytes_per_round", &site->bytes_per_round);
    if (rc == 0) {
        rc = json_get_num_or_null(c, o, "blocks_per_round", &site->blocks_per_round);
    }
    if (rc == 0) {
        rc = jr_u32(c, o, "rounds_with_survivors", &site->rounds_with_survivors);
    }
    if (rc == 0) {
        rc = jr_u32(c, o, "measured_rounds", &site->measured_rounds);
    }
    uint64_t *u64s[] = {&site->peak_bytes, &site->final_bytes, &site->final_blocks,
                        &site->growth_bytes};
    static const char *const u64_keys[] = {"peak_bytes", "final_bytes", "final_blocks",
                                           "growth_bytes"};
    for (size_t k = 0; rc == 0 && k < 4; k++) {
        rc = jr_u64(c, o, u64_keys[k], u64s[k]);
    }
    if (rc == 0) {
        rc = jr_i64(c, o, "growth_bytes_signed", &site->growth_bytes_signed);
    }
    if (rc == 0) {
        rc = jr_i64(c, o, "growth_blocks_signed", &site->growth_blocks_signed);
    }
    if (rc == 0) {
        rc = jr_u64(c, o, "alloc_bytes", &site->alloc_bytes);
    }
    if (rc == 0) {
        rc = jr_u64(c, o, "alloc_blocks", &site->alloc_blocks);
    }
    return rc;
}

/* Reads one site (from `sites` or, for reports without them, from `suspects`). */
static int jr_site(struct json_ctx *c, const cJSON *o, size_t n_rounds, bool from_suspects,
                   struct rpt_site *site)
{
    if (!cJSON_IsObject(o)) {
        return json_bad_type(c, NULL, o, "an object");
    }
    int rc = jr_site_head(c, o, from_suspects, site);
    if (rc == 0) {
        rc = jr_site_figures(c, o, site);
    }
    if (rc == 0) {
        rc = jr_series(c, o, "live_bytes", n_rounds, &site->live_bytes);
    }
    if (rc == 0) {
        rc = jr_series(c, o, "live_blocks", n_rounds, &site->live_blocks);
    }
    if (rc == 0) {
        rc = json_get_bool(c, o, "truncated", &site->truncated);
    }
    if (rc == 0) {
        rc = jr_u32(c, o, "culprit_frame", &site->culprit_frame);
    }
    if (rc == 0) {
        rc = jr_str(c, o, "culprit_why", &site->culprit_why);
    }
    if (rc == 0) {
        rc = jr_stack(c, o, site);
    }
    if (rc == 0 && site->n_frames && site->culprit_frame >= site->n_frames) {
        site->culprit_frame = 0;
    }
    if (from_suspects) {
        site->suspect = true;
    }
    return rc;
}

/* Reads a scenario's name, verdict, expectation and reason. */
static int jr_scenario_verdict(struct json_ctx *c, const cJSON *o, struct rpt_scenario *s)
{
    int verdict = 0;
    int expect = RPT_EXPECT_NO_LEAK;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(name)) {
        return json_bad_type(c, "name", name, "a string (the scenario's name)");
    }
    const cJSON *okv = cJSON_GetObjectItemCaseSensitive(o, "ok");
    if (!cJSON_IsBool(okv)) {
        return json_bad_type(c, "ok", okv, "true or false");
    }
    int rc = jr_str(c, o, "name", &s->name);
    if (rc == 0) {
        rc = json_get_enum(c, o, "verdict", rpt_verdict_names, RPT_N_VERDICTS, true, &verdict);
    }
    if (rc == 0) {
        rc = json_get_enum(c, o, "expect", rpt_expect_names, RPT_N_EXPECTS, false, &expect);
    }
    s->verdict = (enum rpt_verdict)verdict;
    s->expect = (enum rpt_expect)expect;
    if (rc == 0) {
        rc = json_get_bool(c, o, "ok", &s->ok);
    }
    if (rc == 0) {
        rc = jr_str(c, o, "reason", &s->reason);
    }
    if (rc == 0) {
        rc = jr_str(c, o, "error", &s->error);
    }
    if (rc == 0) {
        rc = jr_str(c, o, "file", &s->file);
    }
    if (rc == 0) {
        rc = jr_str(c, o, "rss_warning", &s->rss_warning);
    }
    return rc;
}

/* Reads a scenario's growth figures, thresholds and plan. */
static int jr_scenario_figures(struct json_ctx *c, const cJSON *o, struct rpt_scenario *s)
{
    double *nums[] = {&s->growth_bytes_per_round,
                      &s->growth_blocks_per_round,
                      &s->trend_p_value,
                      &s->threshold_bytes_per_round,
                      &s->threshold_blocks_per_round,
                      &s->threshold_rss_bytes_per_round,
                      &s->rss_growth_bytes_per_round,
                      &s->untracked_bytes_per_round};
    static const char *const num_keys[] = {
        "growth_bytes_per_round",     "growth_blocks_per_round",    "trend_p_value",
        "threshold_bytes_per_round",  "threshold_blocks_per_round", "threshold_rss_bytes_per_round",
        "rss_growth_bytes_per_round", "untracked_bytes_per_round"};
    int rc = 0;
    s->trend_p_value = 1; /* absent: no trend */
    for (size_t k = 0; rc == 0 && k < sizeof(nums) / sizeof(nums[0]); k++) {
        rc = json_get_num_or_null(c, o, num_keys[k], nums[k]);
    }
    if (rc == 0) {
        rc = jr_u32(c, o, "rounds_planned", &s->rounds_planned);
    }
    if (rc == 0) {
        rc = jr_u32(c, o, "warmup", &s->warmup);
    }
    if (rc == 0) {
        rc = json_get_num_or_null(c, o, "seconds", &s->seconds);
    }
    if (rc == 0) {
        rc = json_get_bool(c, o, "stacks_truncated", &s->stacks_truncated);
    }
    return rc;
}

/* Reads "interrupted" (absent or null: 0) into *sig: the signal's number. */
static int jr_interrupted(struct json_ctx *c, const cJSON *obj, int *sig)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(obj, "interrupted");
    *sig = 0;
    if (!o || cJSON_IsNull(o)) {
        return 0;
    }
    if (!cJSON_IsObject(o)) {
        return json_bad_type(c, "interrupted", o, "an object");
    }
    size_t mark = json_push(c, "interrupted");
    int64_t v = 0;
    int rc = json_get_int(c, o, "number", 1, 127, &v);
    json_pop(c, mark);
    *sig = (int)v;
    return rc;
}

/* Reads how the target ended and the agent's counters. */
static int jr_scenario_exit(struct json_ctx *c, const cJSON *o, struct rpt_scenario *s)
{
    int64_t v = -1;
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(o, "exit_code");
    int rc = ec && !cJSON_IsNull(ec) ? json_int_value(c, "exit_code", ec, -1, 255, &v) : 0;
    s->exit_code = (int)v;
    v = 0;
    if (rc == 0) {
        rc = json_get_int(c, o, "term_signal", 0, 128, &v);
    }
    s->term_signal = (int)v;
    if (rc == 0) {
        rc = jr_interrupted(c, o, &s->interrupted_signal);
    }
    const cJSON *agent = cJSON_GetObjectItemCaseSensitive(o, "agent");
    if (rc || !agent || cJSON_IsNull(agent)) {
        return rc;
    }
    if (!cJSON_IsObject(agent)) {
        return json_bad_type(c, "agent", agent, "an object");
    }
    size_t mark = json_push(c, "agent");
    rc = jr_u64(c, agent, "unknown_frees", &s->unknown_frees);
    if (rc == 0) {
        rc = jr_u64(c, agent, "dropped", &s->dropped);
    }
    if (rc == 0) {
        rc = jr_u64(c, agent, "unwind_errors", &s->unwind_errors);
    }
    if (rc == 0) {
        rc = jr_u64(c, agent, "truncated_stacks", &s->truncated_stacks);
    }
    json_pop(c, mark);
    return rc;
}

/* Reads the target's argv (absent or null: none). */
static int jr_argv(struct json_ctx *c, const cJSON *o, struct rpt_scenario *s)
{
    const cJSON *arr;
    size_t n;
    int rc = json_get_array(c, o, "argv", 4096, &arr, &n);
    if (rc || !arr) {
        return rc;
    }
    s->argv = calloc(n + 1, sizeof(*s->argv));
    if (!s->argv) {
        return json_nomem(c);
    }
    size_t i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        if (!cJSON_IsString(a) || strlen(a->valuestring) > RPT_JSON_MAX_STRING) {
            char k[32];
            fmt_c(k, sizeof(k), "argv[%zu]", i);
            return json_bad_type(c, k, a, "a string");
        }
        s->argv[i] = strdup(a->valuestring);
        if (!s->argv[i]) {
            return json_nomem(c);
        }
        i++;
    }
    return 0;
}

/* Reads one round of the series; rounds must be numbered 1, 2, 3... Its snapshot time, when
 * given, goes to *snap_s (left as it is otherwise). */
static int jr_round(struct json_ctx *c, const cJSON *ro, size_t i, struct rpt_round *rd,
                    double *snap_s)
{
    if (!cJSON_IsObject(ro)) {
        return json_bad_type(c, NULL, ro, "an object");
    }
    int64_t num = 0;
    int rc = json_int_value(c, "round", cJSON_GetObjectItemCaseSensitive(ro, "round"), 1,
                            UINT32_MAX, &num);
    if (rc) {
        return rc;
    }
    rd->round = (uint32_t)num;
    if (rd->round != i + 1) {
        return json_fail(c, "round", "expected rounds numbered 1, 2, 3... in order");
    }
    rc = json_get_bool(c, ro, "warmup", &rd->warmup);
    uint64_t *u64s[] = {&rd->live_bytes,       &rd->live_blocks,     &rd->rss_bytes,
                        &rd->heap_inuse_bytes, &rd->heap_free_bytes, &rd->agent_bytes};
    static const char *const u64_keys[] = {"live_bytes",       "live_blocks",     "rss_bytes",
                                           "heap_inuse_bytes", "heap_free_bytes", "agent_bytes"};
    for (size_t k = 0; rc == 0 && k < 6; k++) {
        rc = jr_u64(c, ro, u64_keys[k], u64s[k]);
    }
    if (rc == 0) {
        rc = json_get_num_or_null(c, ro, "seconds", &rd->seconds);
    }
    if (rc == 0) {
        rc = json_get_double(c, ro, "snapshot_seconds", 0, snap_s);
    }
    return rc;
}

/* Reads the rounds array. */
static int jr_rounds(struct json_ctx *c, const cJSON *o, struct rpt_scenario *s)
{
    const cJSON *arr;
    size_t n;
    int rc = json_get_array(c, o, "rounds", RPT_JSON_MAX_ROUNDS, &arr, &n);
    if (rc || n == 0) {
        return rc;
    }
    s->rounds = calloc(n, sizeof(*s->rounds));
    if (!s->rounds) {
        return json_nomem(c);
    }
    s->n_rounds = n;
    s->snapshot_seconds = malloc(n * sizeof(*s->snapshot_seconds));
    if (!s->snapshot_seconds) {
        return json_nomem(c);
    }
    bool timed = false;
    size_t i = 0;
    const cJSON *ro;
    cJSON_ArrayForEach(ro, arr)
    {
        size_t mark = json_push_index(c, "rounds", i);
        s->snapshot_seconds[i] = -1;
        rc = jr_round(c, ro, i, &s->rounds[i], &s->snapshot_seconds[i]);
        if (rc) {
            return rc;
        }
        timed |= s->snapshot_seconds[i] >= 0;
        json_pop(c, mark);
        i++;
    }
    if (!timed) { /* a report without snapshot times reads as one */
        free(s->snapshot_seconds);
        s->snapshot_seconds = NULL;
    }
    return 0;
}

/* Reads `sites`, or `suspects` for reports without sites. */
static int jr_sites(struct json_ctx *c, const cJSON *o, struct rpt_scenario *s)
{
    const char *key = "sites";
    const cJSON *arr;
    size_t n;
    int rc = json_get_array(c, o, key, RPT_JSON_MAX_SITES, &arr, &n);
    if (rc == 0 && !arr) {
        key = "suspects";
        rc = json_get_array(c, o, key, RPT_JSON_MAX_SITES, &arr, &n);
    }
    if (rc || n == 0) {
        return rc;
    }
    s->sites = calloc(n, sizeof(*s->sites));
    if (!s->sites) {
        return json_nomem(c);
    }
    const cJSON *so;
    cJSON_ArrayForEach(so, arr)
    {
        size_t mark = json_push_index(c, key, s->n_sites);
        // Count the site first so that cleanup frees what a failed read left in it.
        struct rpt_site *site = &s->sites[s->n_sites++];
        rc = jr_site(c, so, s->n_rounds, key[1] == 'u', site);
        if (rc) {
            return rc;
        }
        json_pop(c, mark);
    }
    return 0;
}

/* Reads one retainer group's root. */
static int jr_root(struct json_ctx *c, const cJSON *o, struct rpt_retainer *r)
{
    const cJSON *ro = cJSON_GetObjectItemCaseSensitive(o, "root");
    if (!cJSON_IsObject(ro)) {
        return json_bad_type(c, "root", ro, "an object (what holds the blocks)");
    }
    size_t mark = json_push(c, "root");
    int kind = RPT_ROOT_UNREACHABLE;
    static const char *const kinds[] = {"unreachable", "global", "thread-stack", "tls", "register"};
    int rc = json_get_enum(c, ro, "kind", kinds, 5, true, &kind);
    r->kind = (enum rpt_root_kind)kind;
    if (rc == 0) {
        rc = jr_str(c, ro, "symbol", &r->symbol);
    }
    if (rc == 0) {
        rc = jr_str(c, ro, "object", &r->object);
    }
    if (rc == 0) {
        rc = jr_str(c, ro, "file", &r->file);
    }
    if (rc == 0) {
        rc = jr_u32(c, ro, "line", &r->line);
    }
    if (rc == 0) {
        rc = jr_str(c, ro, "section", &r->section);
    }
    if (rc == 0) {
        rc = jr_i64(c, ro, "offset", &r->offset);
    }
    if (rc == 0) {
        rc = json_get_bool(c, ro, "offset_varies", &r->offset_varies);
    }
    if (rc == 0) {
        rc = jr_u32(c, ro, "tid", &r->tid);
    }
    json_pop(c, mark);
    return rc;
}

/* Reads one retainer group (root, via, blocks, bytes). */
static int jr_retainer(struct json_ctx *c, const cJSON *o, struct rpt_retainer *r)
{
    if (!cJSON_IsObject(o)) {
        return json_bad_type(c, NULL, o, "an object");
    }
    int rc = jr_root(c, o, r);
    const cJSON *arr = NULL;
    size_t n = 0;
    if (rc == 0) {
        rc = json_get_array(c, o, "via", RPT_JSON_MAX_FRAMES, &arr, &n);
    }
    if (rc == 0 && n > 0) {
        r->via = calloc(n, sizeof(*r->via));
        if (!r->via) {
            return json_nomem(c);
        }
    }
    const cJSON *ho;
    cJSON_ArrayForEach(ho, arr)
    {
        if (rc != 0) {
            break;
        }
        size_t mark = json_push_index(c, "via", r->n_via);
        struct rpt_hop *h = &r->via[r->n_via++];
        if (!cJSON_IsObject(ho)) {
            return json_bad_type(c, NULL, ho, "an object");
        }
        rc = jr_str(c, ho, "function", &h->function);
        if (rc == 0) {
            rc = jr_str(c, ho, "file", &h->file);
        }
        if (rc == 0) {
            rc = jr_u32(c, ho, "line", &h->line);
        }
        if (rc == 0) {
            rc = jr_i64(c, ho, "offset", &h->offset);
        }
        if (rc == 0) {
            rc = json_get_bool(c, ho, "offset_varies", &h->offset_varies);
        }
        if (rc == 0) {
            rc = jr_u32(c, ho, "site", &h->site);
        }
        json_pop(c, mark);
    }
    if (rc == 0) {
        rc = jr_u64(c, o, "blocks", &r->blocks);
    }
    if (rc == 0) {
        rc = jr_u64(c, o, "bytes", &r->bytes);
    }
    return rc;
}

/* Reads "retained_by" of one suspect into the site it names. */
static int jr_retained_by(struct json_ctx *c, const cJSON *so, struct rpt_site *site)
{
    const cJSON *arr = NULL;
    size_t n = 0;
    int rc = jr_u64(c, so, "retain_sampled", &site->retain_sampled);
    if (rc == 0) {
        rc = json_get_array(c, so, "retained_by", RPT_JSON_MAX_RETAINERS, &arr, &n);
    }
    if (rc || n == 0 || site->retainers) {
        return rc;
    }
    site->retainers = calloc(n, sizeof(*site->retainers));
    if (!site->retainers) {
        return json_nomem(c);
    }
    const cJSON *ro;
    cJSON_ArrayForEach(ro, arr)
    {
        size_t mark = json_push_index(c, "retained_by", site->n_retainers);
        rc = jr_retainer(c, ro, &site->retainers[site->n_retainers++]);
        if (rc) {
            return rc;
        }
        json_pop(c, mark);
    }
    return 0;
}

/* Reads "retainer_scan" and every suspect's "retained_by" (matched to the sites by id). */
static int jr_retain(struct json_ctx *c, const cJSON *o, struct rpt_scenario *s)
{
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "retainer_scan");
    int rc = 0;
    if (rs && !cJSON_IsNull(rs)) {
        if (!cJSON_IsObject(rs)) {
            return json_bad_type(c, "retainer_scan", rs, "an object");
        }
        size_t mark = json_push(c, "retainer_scan");
        struct rpt_retain_scan *t = &s->retain;
        t->ran = true;
        rc = json_get_bool(c, rs, "complete", &t->complete);
        if (rc == 0) {
            rc = jr_str(c, rs, "note", &t->note);
        }
        if (rc == 0) {
            rc = jr_u32(c, rs, "round", &t->round);
        }
        if (rc == 0) {
            rc = jr_u32(c, rs, "processes", &t->processes);
        }
        if (rc == 0) {
            rc = json_get_double(c, rs, "stopped_seconds", 0, &t->stopped_seconds);
        }
        if (rc == 0) {
            rc = json_get_double(c, rs, "seconds", 0, &t->seconds);
        }
        uint64_t *u64s[] = {&t->bytes_read, &t->live_blocks, &t->live_bytes, &t->memory_bytes};
        static const char *const keys[] = {"bytes_read", "live_blocks", "live_bytes",
                                           "memory_bytes"};
        for (size_t k = 0; rc == 0 && k < 4; k++) {
            rc = jr_u64(c, rs, keys[k], u64s[k]);
        }
        json_pop(c, mark);
    }
    const cJSON *arr = NULL;
    size_t n = 0;
    if (rc == 0) {
        rc = json_get_array(c, o, "suspects", RPT_JSON_MAX_SITES, &arr, &n);
    }
    size_t i = 0;
    const cJSON *so;
    cJSON_ArrayForEach(so, arr)
    {
        if (rc != 0) {
            break;
        }
        uint32_t id = 0;
        rc = cJSON_IsObject(so) ? jr_u32(c, so, "id", &id) : 0;
        for (size_t k = 0; rc == 0 && cJSON_IsObject(so) && k < s->n_sites; k++) {
            if (s->sites[k].id == id && s->sites[k].suspect) {
                size_t mark = json_push_index(c, "suspects", i);
                rc = jr_retained_by(c, so, &s->sites[k]);
                json_pop(c, mark);
                break;
            }
        }
        i++;
    }
    return rc;
}

/* Reads one scenario into `s` (zeroed by the caller; cleaned up by the caller on failure). */
static int jr_scenario(struct json_ctx *c, const cJSON *o, struct rpt_scenario *s)
{
    if (!cJSON_IsObject(o)) {
        return json_bad_type(c, NULL, o, "an object");
    }
    int rc = jr_scenario_verdict(c, o, s);
    if (rc == 0) {
        rc = jr_scenario_figures(c, o, s);
    }
    if (rc == 0) {
        rc = jr_scenario_exit(c, o, s);
    }
    if (rc == 0) {
        rc = jr_argv(c, o, s);
    }
    if (rc == 0) {
        rc = jr_rounds(c, o, s);
    }
    if (rc == 0) {
        rc = jr_sites(c, o, s);
    }
    if (rc == 0) {
        rc = jr_retain(c, o, s);
    }
    return rc;
}

/* Checks the top of the document: an object whose format is leakcheck-report/1 or a later
 * minor version. */
static int jr_check_format(struct json_ctx *c, const cJSON *root)
{
    char found[96];
    if (!cJSON_IsObject(root)) {
        return json_fail(c, NULL, "expected an object (a leakcheck report), found %s",
                         json_describe(root, found, sizeof(found)));
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt)) {
        return json_fail(c, "format",
                         "missing; expected \"" RPT_FORMAT "\" (is this a leakcheck report?)");
    }
    if (strncmp(fmt->valuestring, "leakcheck-report/1", 18) != 0 ||
        (fmt->valuestring[18] != '\0' && fmt->valuestring[18] != '.')) {
        return json_fail(c, "format",
                         "unsupported format '%.64s'; this leakcheck reads " RPT_FORMAT,
                         fmt->valuestring);
    }
    return 0;
}

/* Reads the run's own fields and its scenarios into `run`. */
static int jr_run(struct json_ctx *c, const cJSON *root, struct rpt_run *run)
{
    int rc = jr_str(c, root, "commit", &run->commit);
    if (rc == 0) {
        rc = jr_str(c, root, "commit_message", &run->commit_message);
    }
    if (rc == 0) {
        rc = jr_str(c, root, "started_at", &run->started_at);
    }
    if (rc == 0) {
        rc = jr_str(c, root, "agent_version", &run->agent_version);
    }
    if (rc == 0) {
        rc = jr_str(c, root, "host", &run->host);
    }
    if (rc == 0) {
        rc = jr_interrupted(c, root, &run->interrupted_signal);
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "scenarios");
    size_t n = 0;
    if (rc == 0 && !cJSON_IsArray(arr)) {
        rc = json_bad_type(c, "scenarios", arr, "an array");
    }
    if (rc == 0) {
        rc = json_get_array(c, root, "scenarios", RPT_JSON_MAX_SCENARIOS, &arr, &n);
    }
    if (rc || n == 0) {
        return rc;
    }
    run->scenarios = calloc(n, sizeof(*run->scenarios));
    if (!run->scenarios) {
        return json_nomem(c);
    }
    const cJSON *so;
    cJSON_ArrayForEach(so, arr)
    {
        size_t mark = json_push_index(c, "scenarios", run->n_scenarios);
        rc = jr_scenario(c, so, &run->scenarios[run->n_scenarios++]);
        if (rc) {
            return rc;
        }
        json_pop(c, mark);
    }
    return 0;
}

int rpt_json_parse(const char *text, const char *name, struct rpt_run **out, struct diag *d)
{
    struct json_ctx c;
    struct rpt_run *run = NULL;
    cJSON *root = NULL;
    json_init(&c, name, d);
    int rc = json_parse(&c, text, strlen(text), true, &root);
    if (rc == -EINVAL) {
        /* Worded for reports (users' scripts read "FILE:LINE: not valid JSON"). */
        return diag_set(d, -EINVAL,
                        "%s:%zu: not valid JSON (near byte %zu); is this a leakcheck report?", name,
                        c.err_line, c.err_offset);
    }
    if (rc == 0) {
        rc = jr_check_format(&c, root);
    }
    if (rc == 0) {
        run = calloc(1, sizeof(*run));
        rc = run ? jr_run(&c, root, run) : json_nomem(&c);
    }
    if (rc == 0) {
        *out = run;
        run = NULL;
    }
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
