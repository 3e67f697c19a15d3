/* SPDX-License-Identifier: MIT */
/* rpt_history.c - JSON Lines history of per-commit results (see rpt_history.h). Each line is
 * one cJSON object printed unformatted (newlines inside strings are escaped, so a record is
 * always one line). */
#include "rpt_history.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/file.h"
#include "../util/json.h"

#define HIST_MAX_EXACT 9007199254740992.0 /* 2^53: larger counts are not exact in a double */

/* Frees one record's strings and series. */
static void rec_cleanup(struct rpt_history_rec *r)
{
    free(r->commit);
    free(r->short_sha);
    free(r->date);
    free(r->message);
    free(r->scenario);
    free(r->verdict);
    free(r->live_bytes);
    memset(r, 0, sizeof(*r));
}

void rpt_history_cleanup(struct rpt_history *h)
{
    for (size_t i = 0; i < h->n; i++) {
        rec_cleanup(&h->recs[i]);
    }
    free(h->recs);
    h->recs = NULL;
    h->n = 0;
    h->cap = 0;
}

/* Appends a record (takes ownership of its contents, also on failure). */
static int hist_push(struct rpt_history *h, struct rpt_history_rec *r)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct rpt_history_rec *nr = realloc(h->recs, cap * sizeof(*nr));
        if (!nr) {
            rec_cleanup(r);
            return -ENOMEM;
        }
        h->recs = nr;
        h->cap = cap;
    }
    h->recs[h->n++] = *r;
    return 0;
}

/* Copies a string member (required or optional) of a line object. */
static int line_str(const cJSON *o, const char *key, bool required, char **out, const char **why)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            *why = "missing";
            return -EINVAL;
        }
        return 0;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) > 65536) {
        *why = "expected a string";
        return -EINVAL;
    }
    *out = strdup(v->valuestring);
    return *out ? 0 : -ENOMEM;
}

/* Reads the string members of a line object into `r`: commit, scenario and verdict (required),
 * short, date and message. Returns 0, or -EINVAL / -ENOMEM with *key and *why set. */
static int line_strings(const cJSON *o, struct rpt_history_rec *r, const char **key,
                        const char **why)
{
    static const char *const names[] = {"commit", "scenario", "verdict",
                                        "short",  "date",     "message"};
    char **dst[] = {&r->commit, &r->scenario, &r->verdict, &r->short_sha, &r->date, &r->message};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        *key = names[i];
        int rc = line_str(o, names[i], i < 3, dst[i], why);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

/* Reads `ok` and the numbers of a line object into `r` (absent or null numbers are 0).
 * Returns 0, or -EINVAL with *key and *why set. */
static int line_numbers(const cJSON *o, struct rpt_history_rec *r, const char **key,
                        const char **why)
{
    static const char *const nums[] = {"growth_bytes_per_round", "threshold_bytes_per_round",
                                       "final_live_bytes"};
    double vals[3] = {0, 0, 0};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "ok");
    *key = "ok";
    if (v && !cJSON_IsBool(v)) {
        *why = "expected true or false";
        return -EINVAL;
    }
    r->ok = cJSON_IsTrue(v);
    for (int i = 0; i < 3; i++) {
        *key = nums[i];
        v = cJSON_GetObjectItemCaseSensitive(o, nums[i]);
        if (!v || cJSON_IsNull(v)) {
            continue;
        }
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
            (i == 2 && (v->valuedouble < 0 || v->valuedouble > HIST_MAX_EXACT))) {
            *why = i == 2 ? "expected a non-negative integer" : "expected a number";
            return -EINVAL;
        }
        vals[i] = v->valuedouble;
    }
    r->growth_bytes_per_round = vals[0];
    r->threshold_bytes_per_round = vals[1];
    r->final_live_bytes = (uint64_t)vals[2];
    return 0;
}

/* Reads the optional live_bytes series of a line object into `r`. Returns 0, or -EINVAL /
 * -ENOMEM with *key and *why set. */
static int line_series(const cJSON *o, struct rpt_history_rec *r, const char **key,
                       const char **why)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "live_bytes");
    *key = "live_bytes";
    if (!v || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 100000) {
        *why = "expected an array of at most 100000 numbers";
        return -EINVAL;
    }
    size_t n = (size_t)cJSON_GetArraySize(v);
    r->live_bytes = calloc(n ? n : 1, sizeof(uint64_t));
    if (!r->live_bytes) {
        return -ENOMEM;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, v)
    {
        if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0) || x->valuedouble > HIST_MAX_EXACT) {
            *why = "expected non-negative numbers";
            return -EINVAL;
        }
        r->live_bytes[r->n_live++] = (uint64_t)x->valuedouble;
    }
    return 0;
}

/* Parses one line into `r`; on failure sets *key and *why, and returns -EINVAL (or -ENOMEM)
 * with `r` cleaned up. */
static int line_parse(const char *text, struct rpt_history_rec *r, const char **key,
                      const char **why)
{
    int rc = -EINVAL;
    cJSON *o = cJSON_Parse(text);
    *key = "";
    if (!o || !cJSON_IsObject(o)) {
        *why = "not a JSON object";
        goto out;
    }
    rc = line_strings(o, r, key, why);
    if (rc == 0) {
        rc = line_numbers(o, r, key, why);
    }
    if (rc == 0) {
        rc = line_series(o, r, key, why);
    }
    if (rc == 0 && !r->short_sha) {
        r->short_sha = strndup(r->commit, 7);
        rc = r->short_sha ? 0 : -ENOMEM;
    }
out:
    cJSON_Delete(o);
    if (rc) {
        rec_cleanup(r);
    }
    return rc;
}

/* True when the `n` bytes at `p` are only blanks. */
static bool line_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            return false;
        }
    }
    return true;
}

/* Parses line `lineno` of `name` (`n` bytes at `p`, NUL-terminated) and appends its record to
 * `h`. Returns 0, or -EINVAL / -ENOMEM with "NAME:LINE: ..." in `d`. */
static int hist_parse_line(const char *p, size_t n, const char *name, size_t lineno,
                           struct rpt_history *h, struct diag *d)
{
    struct rpt_history_rec r = {0};
    const char *key = "", *why = "";
    if (n > RPT_HISTORY_MAX_LINE) {
        return diag_set(d, -EINVAL, "%s:%zu: line longer than %u bytes", name, lineno,
                        RPT_HISTORY_MAX_LINE);
    }
    if (strlen(p) != n) {
        return diag_set(d, -EINVAL, "%s:%zu: contains a NUL byte", name, lineno);
    }
    int rc = line_parse(p, &r, &key, &why);
    if (rc != 0 && rc != -ENOMEM) {
        return diag_set(d, rc, "%s:%zu: %s%s%s; fix or delete this line (one JSON object per line)",
                        name, lineno, key[0] ? key : "", key[0] ? ": " : "", why);
    }
    if (rc == 0) {
        rc = hist_push(h, &r);
    }
    if (rc) {
        return diag_set(d, rc, "%s:%zu: out of memory", name, lineno);
    }
    return 0;
}

int rpt_history_parse(char *text, size_t len, const char *name, struct rpt_history *h,
                      struct diag *d)
{
    int rc = 0;
    size_t lineno = 0;
    char *p = text;
    while (p < text + len && rc == 0) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        char *end = nl ? nl : text + len;
        lineno++;
        *end = '\0';
        if (!line_blank(p, (size_t)(end - p))) {
            rc = hist_parse_line(p, (size_t)(end - p), name, lineno, h, d);
        }
        p = end + 1;
    }
    if (rc) {
        rpt_history_cleanup(h);
    }
    return rc;
}

int rpt_history_read(const char *path, struct rpt_history *h, struct diag *d)
{
    char *text = NULL;
    size_t len = 0;
    int rc = file_read(path, RPT_HISTORY_MAX_FILE, &text, &len, d);
    if (rc == -ENOENT) {
        return 0;
    }
    if (rc) {
        return rc;
    }
    rc = rpt_history_parse(text, len, path, h, d);
    free(text);
    return rc;
}

/* strdup that accepts NULL. Sets *failed on allocation failure. */
static char *dup_or_null(const char *s, bool *failed)
{
    if (!s) {
        return NULL;
    }
    char *p = strdup(s);
    if (!p) {
        *failed = true;
    }
    return p;
}

/* True when `run` has a scenario named `name`. */
static bool run_has_scenario(const struct rpt_run *run, const char *name)
{
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const char *n = run->scenarios[i].name ? run->scenarios[i].name : "(unnamed)";
        if (strcmp(n, name) == 0) {
            return true;
        }
    }
    return false;
}

/* Takes the records of `commit` out of `h`: those `run` replaces (every one with `all`) are
 * freed, the others move to kept[0..*n_kept) in order. kept has room for h->n records. Can't
 * fail. */
static void hist_take_commit(struct rpt_history *h, const char *commit, const struct rpt_run *run,
                             bool all, struct rpt_history_rec *kept, size_t *n_kept,
                             struct rpt_history_change *chg)
{
    size_t w = 0;
    *n_kept = 0;
    for (size_t i = 0; i < h->n; i++) {
        struct rpt_history_rec *r = &h->recs[i];
        if (strcmp(r->commit, commit) != 0) {
            h->recs[w++] = *r;
        } else if (all || run_has_scenario(run, r->scenario)) {
            rec_cleanup(r);
            chg->replaced++;
        } else {
            kept[(*n_kept)++] = *r;
            chg->kept++;
        }
    }
    h->n = w;
}

/* Fills `r` (zeroed by the caller) with the record of scenario `s` under `commit`, the first
 * line of `message` and `date` (both may be NULL). Returns 0, or -ENOMEM with `r` cleaned up. */
static int hist_rec_of(struct rpt_history_rec *r, const struct rpt_scenario *s, const char *commit,
                       const char *message, const char *date)
{
    bool failed = false;
    r->commit = dup_or_null(commit, &failed);
    r->short_sha = strndup(commit, 7);
    failed |= !r->short_sha;
    r->date = dup_or_null(date, &failed);
    if (message) {
        r->message = strndup(message, strcspn(message, "\r\n"));
        failed |= !r->message;
    }
    r->scenario = dup_or_null(s->name ? s->name : "(unnamed)", &failed);
    r->verdict = dup_or_null(rpt_verdict_name(s->verdict), &failed);
    r->ok = s->ok;
    r->growth_bytes_per_round = isfinite(s->growth_bytes_per_round) ? s->growth_bytes_per_round : 0;
    r->threshold_bytes_per_round = s->threshold_bytes_per_round;
    r->final_live_bytes = s->n_rounds ? s->rounds[s->n_rounds - 1].live_bytes : 0;
    r->n_live = s->n_rounds;
    r->live_bytes = calloc(s->n_rounds ? s->n_rounds : 1, sizeof(uint64_t));
    failed |= !r->live_bytes;
    for (size_t k = 0; r->live_bytes && k < s->n_rounds; k++) {
        r->live_bytes[k] = s->rounds[k].live_bytes;
    }
    if (failed) {
        rec_cleanup(r);
        return -ENOMEM;
    }
    return 0;
}

/* Keeps the records of the last `max_commits` distinct commits (records are grouped by commit
 * in insertion order). Can't fail. */
static size_t hist_keep_last(struct rpt_history *h, size_t max_commits)
{
    size_t commits = 0;
    size_t keep_from = 0;
    for (size_t i = h->n; i-- > 0;) {
        bool first_of_commit =
            i + 1 == h->n || strcmp(h->recs[i].commit, h->recs[i + 1].commit) != 0;
        if (first_of_commit && ++commits > max_commits) {
            keep_from = i + 1;
            break;
        }
    }
    for (size_t i = 0; i < keep_from; i++) {
        rec_cleanup(&h->recs[i]);
    }
    if (keep_from) {
        memmove(h->recs, h->recs + keep_from, (h->n - keep_from) * sizeof(*h->recs));
        h->n -= keep_from;
    }
    return keep_from;
}

int rpt_history_add_ex(struct rpt_history *h, const struct rpt_run *run, const char *commit,
                       const char *message, const char *date, size_t max_commits,
                       bool replace_commit, struct rpt_history_change *chg, struct diag *d)
{
    struct rpt_history_change local = {0};
    if (!chg) {
        chg = &local;
    }
    memset(chg, 0, sizeof(*chg));
    if (!commit) {
        commit = run->commit;
    }
    if (!message) {
        message = run->commit_message;
    }
    if (!date) {
        date = run->started_at;
    }
    if (!commit || !commit[0]) {
        return diag_set(d, -EINVAL, "the report names no commit; pass --commit SHA");
    }
    if (max_commits == 0) {
        max_commits = RPT_HISTORY_DEFAULT_COMMITS;
    }
    struct rpt_history_rec *kept = malloc((h->n ? h->n : 1) * sizeof(*kept));
    if (!kept) {
        return diag_set(d, -ENOMEM, "out of memory adding to the history");
    }
    size_t n_kept = 0;
    hist_take_commit(h, commit, run, replace_commit, kept, &n_kept, chg);
    int rc = 0;
    for (size_t i = 0; i < n_kept; i++) {
        if (rc == 0) {
            rc = hist_push(h, &kept[i]);
        } else {
            rec_cleanup(&kept[i]);
        }
    }
    free(kept);
    for (size_t i = 0; rc == 0 && i < run->n_scenarios; i++) {
        struct rpt_history_rec r = {0};
        rc = hist_rec_of(&r, &run->scenarios[i], commit, message, date);
        if (rc == 0) {
            rc = hist_push(h, &r);
        }
        if (rc == 0) {
            chg->added++;
        }
    }
    if (rc) {
        return diag_set(d, rc, "out of memory adding to the history");
    }
    chg->dropped = hist_keep_last(h, max_commits);
    return 0;
}

int rpt_history_add(struct rpt_history *h, const struct rpt_run *run, const char *commit,
                    const char *message, const char *date, size_t max_commits, struct diag *d)
{
    return rpt_history_add_ex(h, run, commit, message, date, max_commits, false, NULL, d);
}

int rpt_history_write(const struct rpt_history *h, const char *path, struct diag *d)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < h->n && !b.err; i++) {
        const struct rpt_history_rec *r = &h->recs[i];
        cJSON *o = cJSON_CreateObject();
        bool ok = o != NULL;
        ok = ok && cJSON_AddStringToObject(o, "commit", r->commit);
        ok = ok && cJSON_AddStringToObject(o, "short", r->short_sha ? r->short_sha : "");
        ok = ok && (r->date ? cJSON_AddStringToObject(o, "date", r->date)
                            : cJSON_AddNullToObject(o, "date"));
        ok = ok && (r->message ? cJSON_AddStringToObject(o, "message", r->message)
                               : cJSON_AddNullToObject(o, "message"));
        ok = ok && cJSON_AddStringToObject(o, "scenario", r->scenario);
        ok = ok && cJSON_AddStringToObject(o, "verdict", r->verdict);
        ok = ok && cJSON_AddBoolToObject(o, "ok", r->ok);
        ok = ok && cJSON_AddNumberToObject(o, "growth_bytes_per_round", r->growth_bytes_per_round);
        ok = ok && cJSON_AddNumberToObject(o, "final_live_bytes", (double)r->final_live_bytes);
        ok = ok &&
             cJSON_AddNumberToObject(o, "threshold_bytes_per_round", r->threshold_bytes_per_round);
        cJSON *arr = ok ? cJSON_AddArrayToObject(o, "live_bytes") : NULL;
        ok = ok && arr;
        for (size_t k = 0; ok && k < r->n_live; k++) {
            cJSON *x = cJSON_CreateNumber((double)r->live_bytes[k]);
            ok = x != NULL;
            if (x) {
                cJSON_AddItemToArray(arr, x);
            }
        }
        char *line = ok ? json_print(o, false) : NULL;
        cJSON_Delete(o);
        if (!line) {
            b.err = -ENOMEM;
            break;
        }
        buf_puts(&b, line);
        buf_puts(&b, "\n");
        free(line);
    }
    int rc = file_write_buf(&b, path, d);
    buf_cleanup(&b);
    return rc;
}
