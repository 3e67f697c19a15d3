/* SPDX-License-Identifier: MIT */
/* scn.c - scenario files: strict JSON loading with cJSON, defaults, and saving.
 *
 * Every object is checked against its list of known keys before its values are read, so a
 * typo is reported as such (with the nearest key) rather than as a missing value. Messages
 * name the file, the JSON path, what was found and what was expected.
 */
#include "scn.h"

#include "../util/buf.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../analysis/growth.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCN_MAX_FILE (16u << 20)

/* Parsing context: the file name for messages, the folder for relative paths. */
struct ctx {
    const char *file;
    char *dir;
    struct diag *d;
    struct scn *s;
};

static void strv_free(char **v)
{
    if (!v) {
        return;
    }
    for (char **p = v; *p; p++) {
        free(*p);
    }
    free(v);
}

static void strn_free(char **v, size_t n)
{
    if (!v) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

size_t scn_edit_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, 64);
    size_t lb = strnlen(b, 64);
    size_t prev[65];
    size_t cur[65];
    for (size_t j = 0; j <= lb; j++) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best) {
                best = prev[j] + 1;
            }
            if (cur[j - 1] + 1 < best) {
                best = cur[j - 1] + 1;
            }
            cur[j] = best;
        }
        memcpy(prev, cur, sizeof(prev));
    }
    return prev[lb];
}

struct scn *scn_new(void)
{
    struct scn *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->name = strdup("scenario");
    if (!s->name) {
        free(s);
        return NULL;
    }
    s->ready = SCN_READY_NONE;
    s->ready_timeout_ms = SCN_DEFAULT_READY_TIMEOUT_MS;
    s->driver = SCN_DRIVER_STDIO;
    s->stdio.requests_per_round = SCN_DEFAULT_REQUESTS_PER_ROUND;
    s->stdio.reply_timeout_ms = SCN_DEFAULT_REPLY_TIMEOUT_MS;
    s->cmd.timeout_ms = SCN_DEFAULT_ROUND_TIMEOUT_MS;
    s->http.requests_per_round = SCN_DEFAULT_REQUESTS_PER_ROUND;
    s->http.concurrency = 1;
    s->http.timeout_ms = SCN_DEFAULT_REPLY_TIMEOUT_MS;
    s->rounds = SCN_DEFAULT_ROUNDS;
    s->warmup = SCN_DEFAULT_WARMUP;
    s->round_timeout_ms = SCN_DEFAULT_ROUND_TIMEOUT_MS;
    s->threshold_bytes_per_round = GROWTH_DEFAULT_BYTES_PER_ROUND;
    s->expect = RPT_EXPECT_NO_LEAK;
    return s;
}

void scn_free(struct scn *s)
{
    if (!s) {
        return;
    }
    free(s->name);
    free(s->file);
    strv_free(s->argv);
    strv_free(s->env);
    free(s->cwd);
    free(s->ready_value);
    strn_free(s->stdio.requests, s->stdio.n_requests);
    free(s->stdio.requests_file);
    strv_free(s->stdio.requests_command);
    strv_free(s->cmd.argv);
    strv_free(s->cmd.env);
    free(s->http.url);
    free(s->http.method);
    strn_free(s->http.headers, s->http.n_headers);
    free(s->http.multipart_field);
    free(s->http.multipart_filename);
    free(s->http.multipart_content_type);
    for (size_t i = 0; i < s->n_supp; i++) {
        free(s->supp[i].function);
        free(s->supp[i].object);
        strn_free(s->supp[i].stack, s->supp[i].n_stack);
    }
    free(s->supp);
    strn_free(s->wrappers, s->n_wrappers);
    free(s->expect_culprit);
    free(s);
}

/* Describes a JSON value for "found ..." in messages, into buf. */
static const char *describe(const cJSON *v, char *buf, size_t len)
{
    if (!v) {
        snprintf(buf, len, "nothing");
    } else if (cJSON_IsString(v)) {
        snprintf(buf, len, "string '%.40s%s'", v->valuestring,
                 strlen(v->valuestring) > 40 ? "..." : "");
    } else if (cJSON_IsNumber(v)) {
        snprintf(buf, len, "number %g", v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        snprintf(buf, len, "null");
    } else if (cJSON_IsArray(v)) {
        snprintf(buf, len, "an array");
    } else {
        snprintf(buf, len, "an object");
    }
    return buf;
}

/* "PATH.key" or "key" when PATH is empty. */
static void join(char *out, size_t len, const char *path, const char *key)
{
    if (path[0]) {
        snprintf(out, len, "%s.%s", path, key);
    } else {
        snprintf(out, len, "%s", key);
    }
}

static int bad_type(struct ctx *c, const char *path, const char *key, const cJSON *v,
                    const char *expected)
{
    char where[256];
    char found[96];
    join(where, sizeof(where), path, key);
    return diag_set(c->d, -EINVAL, "%s: %s: expected %s, found %s", c->file, where, expected,
                    describe(v, found, sizeof(found)));
}

static int missing(struct ctx *c, const char *path, const char *key, const char *hint)
{
    return diag_set(c->d, -EINVAL, "%s: %s%smissing key '%s' (%s)", c->file, path,
                    path[0] ? ": " : "", key, hint);
}

/* Fails on any key of `obj` not in the NULL-terminated `known`, suggesting the nearest. */
static int check_keys(struct ctx *c, const cJSON *obj, const char *path, const char *const *known)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        bool ok = false;
        const char *best = NULL;
        size_t best_d = SIZE_MAX;
        for (const char *const *k = known; *k; k++) {
            if (strcmp(it->string, *k) == 0) {
                ok = true;
                break;
            }
            size_t dist = scn_edit_distance(it->string, *k);
            if (dist < best_d) {
                best_d = dist;
                best = *k;
            }
        }
        if (ok) {
            continue;
        }
        size_t klen = strlen(it->string);
        size_t limit = klen / 3 > 2 ? klen / 3 : 2;
        char prefix[300];
        snprintf(prefix, sizeof(prefix), "%s: %s%s", c->file, path, path[0] ? ": " : "");
        if (best && best_d <= limit) {
            return diag_set(c->d, -EINVAL, "%sunknown key '%s' (did you mean '%s'?)", prefix,
                            it->string, best);
        }
        char list[400] = "";
        size_t n = 0;
        for (const char *const *k = known; *k; k++) {
            n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
                                  k == known ? "" : ", ", *k);
        }
        return diag_set(c->d, -EINVAL, "%sunknown key '%s' (known keys: %s)", prefix, it->string,
                        list);
    }
    return 0;
}

static int want_object(struct ctx *c, const cJSON *v, const char *path, const char *key)
{
    if (!cJSON_IsObject(v)) {
        return bad_type(c, path, key, v, "an object");
    }
    return 0;
}

/* Reads an optional string; *out replaced (old value freed) when present. */
static int get_str(struct ctx *c, const cJSON *obj, const char *path, const char *key, char **out,
                   bool required, const char *hint)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return required ? missing(c, path, key, hint) : 0;
    }
    if (!cJSON_IsString(v)) {
        return bad_type(c, path, key, v, "a string");
    }
    if (required && !v->valuestring[0]) {
        return bad_type(c, path, key, v, "a non-empty string");
    }
    char *dup = strdup(v->valuestring);
    if (!dup) {
        return -ENOMEM;
    }
    free(*out);
    *out = dup;
    return 0;
}

static int get_uint(struct ctx *c, const cJSON *obj, const char *path, const char *key,
                    unsigned long min, unsigned long max, unsigned long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    char expected[96];
    snprintf(expected, sizeof(expected), "an integer from %lu to %lu", min, max);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < (double)min || v->valuedouble > (double)max) {
        return bad_type(c, path, key, v, expected);
    }
    *out = (unsigned long)v->valuedouble;
    return 0;
}

static int get_double(struct ctx *c, const cJSON *obj, const char *path, const char *key,
                      double min, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min) {
        char expected[64];
        snprintf(expected, sizeof(expected), "a number >= %g", min);
        return bad_type(c, path, key, v, expected);
    }
    *out = v->valuedouble;
    return 0;
}

/* Seconds (a positive number, at most a day) into milliseconds. */
static int get_seconds(struct ctx *c, const cJSON *obj, const char *path, const char *key,
                       int *out_ms)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > 86400) {
        return bad_type(c, path, key, v, "a number of seconds above 0 and at most 86400");
    }
    *out_ms = (int)ceil(v->valuedouble * 1000.0);
    return 0;
}

/* Reads an array of strings into a malloc'ed vector (NULL-terminated, count in *n). */
static int get_strs(struct ctx *c, const cJSON *obj, const char *path, const char *key, char ***out,
                    size_t *n_out, bool nonempty)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (!cJSON_IsArray(v) || (nonempty && cJSON_GetArraySize(v) == 0)) {
        return bad_type(c, path, key, v,
                        nonempty ? "a non-empty array of strings" : "an array of strings");
    }
    size_t n = (size_t)cJSON_GetArraySize(v);
    char **vec = calloc(n + 1, sizeof(*vec));
    if (!vec) {
        return -ENOMEM;
    }
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it)) {
            char where[256];
            snprintf(where, sizeof(where), "%s[%zu]", key, i);
            strn_free(vec, i);
            return bad_type(c, path, where, it, "a string");
        }
        vec[i] = strdup(it->valuestring);
        if (!vec[i]) {
            strn_free(vec, i);
            return -ENOMEM;
        }
        i++;
    }
    *out = vec;
    if (n_out) {
        *n_out = n;
    }
    return 0;
}

/* Reads {"KEY": "value", ...} into NULL-terminated "KEY=value" (or "KEY: value" with sep ':'). */
static int get_map(struct ctx *c, const cJSON *obj, const char *path, const char *key,
                   const char *sep, char ***out, size_t *n_out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (!cJSON_IsObject(v)) {
        return bad_type(c, path, key, v, "an object of strings");
    }
    size_t n = (size_t)cJSON_GetArraySize(v);
    char **vec = calloc(n + 1, sizeof(*vec));
    if (!vec) {
        return -ENOMEM;
    }
    size_t i = 0;
    const cJSON *it;
    char where[256];
    join(where, sizeof(where), path, key);
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it)) {
            strn_free(vec, i);
            return bad_type(c, where, it->string, it, "a string");
        }
        if (!it->string[0] || (sep[0] == '=' && strchr(it->string, '='))) {
            strn_free(vec, i);
            return diag_set(c->d, -EINVAL, "%s: %s: bad name '%s' (expected a name without '=')",
                            c->file, where, it->string);
        }
        size_t len = strlen(it->string) + strlen(sep) + strlen(it->valuestring) + 1;
        vec[i] = malloc(len);
        if (!vec[i]) {
            strn_free(vec, i);
            return -ENOMEM;
        }
        snprintf(vec[i], len, "%s%s%s", it->string, sep, it->valuestring);
        i++;
    }
    free(*out);
    *out = vec;
    if (n_out) {
        *n_out = n;
    }
    return 0;
}

/* scn_check_placeholders, also accepting {n} when allow_n (requests_command). */
static int check_ph(const char *s, const char *where, bool *uses_port, bool allow_n, struct diag *d)
{
    for (const char *p = s; *p; p++) {
        if (p[0] == '{' && p[1] == '{') {
            p++;
            continue;
        }
        if (p[0] == '}' && p[1] == '}') {
            p++;
            continue;
        }
        if (*p != '{') {
            continue;
        }
        const char *end = strchr(p, '}');
        if (!end) {
            return diag_set(d, -EINVAL, "%s: unclosed '{' in '%s' (write '{{' for a literal brace)",
                            where, s);
        }
        size_t n = (size_t)(end - p - 1);
        if (n == 4 && strncmp(p + 1, "port", 4) == 0) {
            if (uses_port) {
                *uses_port = true;
            }
        } else if (!(n == 5 && strncmp(p + 1, "round", 5) == 0) && !(n == 1 && p[1] == 'i') &&
                   !(allow_n && n == 1 && p[1] == 'n')) {
            return diag_set(d, -EINVAL,
                            "%s: unknown placeholder '{%.*s}' in '%s' (known: {port}, {round}, "
                            "{i}%s; write '{{' for a literal brace)",
                            where, (int)(n > 40 ? 40 : n), p + 1, s, allow_n ? ", {n}" : "");
        }
        p = end;
    }
    return 0;
}

int scn_check_placeholders(const char *s, const char *where, bool *uses_port, struct diag *d)
{
    return check_ph(s, where, uses_port, false, d);
}

/* Checks every string of a vector for placeholders. */
static int check_vec_n(struct ctx *c, char **v, size_t n, const char *path, bool *uses_port,
                       bool allow_n)
{
    for (size_t i = 0; v && (n ? i < n : v[i] != NULL); i++) {
        char where[300];
        snprintf(where, sizeof(where), "%s: %s[%zu]", c->file, path, i);
        int rc = check_ph(v[i], where, uses_port, allow_n, c->d);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int check_vec(struct ctx *c, char **v, size_t n, const char *path, bool *uses_port)
{
    return check_vec_n(c, v, n, path, uses_port, false);
}

static int check_one(struct ctx *c, const char *s, const char *path, bool *uses_port)
{
    if (!s) {
        return 0;
    }
    char where[300];
    snprintf(where, sizeof(where), "%s: %s", c->file, path);
    return scn_check_placeholders(s, where, uses_port, c->d);
}

static int parse_ready(struct ctx *c, const cJSON *r)
{
    static const char *const known[] = {"stdout", "tcp", "http", "timeout_s", NULL};
    struct scn *s = c->s;
    int rc = want_object(c, r, "target", "ready");
    if (rc == 0) {
        rc = check_keys(c, r, "target.ready", known);
    }
    if (rc < 0) {
        return rc;
    }
    int kinds = 0;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(r, "stdout"))) {
        kinds++;
        s->ready = SCN_READY_STDOUT;
        rc = get_str(c, r, "target.ready", "stdout", &s->ready_value, true, "");
        if (rc < 0) {
            return rc;
        }
        regex_t re;
        int err = regcomp(&re, s->ready_value, REG_EXTENDED | REG_NOSUB);
        if (err != 0) {
            char msg[128];
            regerror(err, &re, msg, sizeof(msg));
            return diag_set(c->d, -EINVAL,
                            "%s: target.ready.stdout: bad regular expression '%s': %s", c->file,
                            s->ready_value, msg);
        }
        regfree(&re);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(r, "tcp"))) {
        kinds++;
        s->ready = SCN_READY_TCP;
        if (cJSON_IsString(v) && strcmp(v->valuestring, "{port}") == 0) {
            s->ready_port_is_placeholder = true;
            s->uses_port = true;
        } else if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 65535 &&
                   v->valuedouble == floor(v->valuedouble)) {
            s->ready_port = (uint16_t)v->valuedouble;
        } else {
            return bad_type(c, "target.ready", "tcp", v, "a port from 1 to 65535 or \"{port}\"");
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(r, "http"))) {
        kinds++;
        s->ready = SCN_READY_HTTP;
        rc = get_str(c, r, "target.ready", "http", &s->ready_value, true, "");
        if (rc < 0) {
            return rc;
        }
        if (strncmp(s->ready_value, "http://", 7) != 0) {
            return diag_set(c->d, -EINVAL,
                            "%s: target.ready.http: '%s' is not an http:// URL (https is not "
                            "supported for the probe)",
                            c->file, s->ready_value);
        }
        rc = check_one(c, s->ready_value, "target.ready.http", &s->uses_port);
        if (rc < 0) {
            return rc;
        }
    }
    if (kinds != 1) {
        return diag_set(c->d, -EINVAL,
                        "%s: target.ready: expected exactly one of 'stdout', 'tcp', 'http', found "
                        "%d",
                        c->file, kinds);
    }
    return get_seconds(c, r, "target.ready", "timeout_s", &s->ready_timeout_ms);
}

/* Resolves argv[0] against the current directory when it is a relative path with a slash. */
static int resolve_argv0(char **argv)
{
    if (!argv || !argv[0] || argv[0][0] == '/' || !strchr(argv[0], '/')) {
        return 0;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd))) {
        return -errno;
    }
    size_t len = strlen(cwd) + strlen(argv[0]) + 2;
    char *p = malloc(len);
    if (!p) {
        return -ENOMEM;
    }
    snprintf(p, len, "%s/%s", cwd, argv[0]);
    free(argv[0]);
    argv[0] = p;
    return 0;
}

static int parse_target(struct ctx *c, const cJSON *t)
{
    static const char *const known[] = {"argv", "env", "cwd", "ready", NULL};
    struct scn *s = c->s;
    int rc = want_object(c, t, "", "target");
    if (rc == 0) {
        rc = check_keys(c, t, "target", known);
    }
    if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(t, "argv")) {
        rc = missing(c, "target", "argv",
                     "the program to run and its arguments, e.g. [\"./server\", \"--port\", "
                     "\"{port}\"]");
    }
    if (rc == 0) {
        rc = get_strs(c, t, "target", "argv", &s->argv, NULL, true);
    }
    if (rc == 0 && !s->argv[0][0]) {
        rc = diag_set(c->d, -EINVAL, "%s: target.argv[0]: expected a program, found ''", c->file);
    }
    if (rc == 0) {
        rc = check_vec(c, s->argv, 0, "target.argv", &s->uses_port);
    }
    if (rc == 0) {
        rc = get_map(c, t, "target", "env", "=", &s->env, NULL);
    }
    if (rc == 0) {
        rc = check_vec(c, s->env, 0, "target.env", &s->uses_port);
    }
    if (rc == 0) {
        rc = get_str(c, t, "target", "cwd", &s->cwd, false, "");
    }
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(t, "ready")) {
        rc = parse_ready(c, cJSON_GetObjectItemCaseSensitive(t, "ready"));
    }
    if (rc == 0) {
        rc = resolve_argv0(s->argv);
    }
    return rc;
}

/* Makes `p` absolute against the scenario file's folder. */
static int resolve_rel(struct ctx *c, char **p)
{
    if (!*p || (*p)[0] == '/' || !c->dir) {
        return 0;
    }
    size_t len = strlen(c->dir) + strlen(*p) + 2;
    char *abs = malloc(len);
    if (!abs) {
        return -ENOMEM;
    }
    snprintf(abs, len, "%s/%s", c->dir, *p);
    free(*p);
    *p = abs;
    return 0;
}

static int parse_stdio(struct ctx *c, const cJSON *dv)
{
    static const char *const known[] = {"kind",
                                        "requests",
                                        "requests_file",
                                        "requests_command",
                                        "requests_per_round",
                                        "reply_timeout_s",
                                        NULL};
    struct scn_stdio *st = &c->s->stdio;
    int rc = check_keys(c, dv, "driver", known);
    size_t n_cmd = 0;
    if (rc == 0) {
        rc = get_strs(c, dv, "driver", "requests", &st->requests, &st->n_requests, true);
    }
    if (rc == 0) {
        rc = check_vec(c, st->requests, st->n_requests, "driver.requests", &c->s->uses_port);
    }
    if (rc == 0) {
        rc = get_str(c, dv, "driver", "requests_file", &st->requests_file, false, "");
    }
    if (rc == 0) {
        rc = resolve_rel(c, &st->requests_file);
    }
    if (rc == 0) {
        rc = get_strs(c, dv, "driver", "requests_command", &st->requests_command, &n_cmd, true);
    }
    if (rc == 0) {
        rc = check_vec_n(c, st->requests_command, n_cmd, "driver.requests_command",
                         &c->s->uses_port, true);
    }
    unsigned long k = st->requests_per_round;
    if (rc == 0) {
        rc = get_uint(c, dv, "driver", "requests_per_round", 1, 10000000, &k);
    }
    st->requests_per_round = (unsigned)k;
    if (rc == 0) {
        rc = get_seconds(c, dv, "driver", "reply_timeout_s", &st->reply_timeout_ms);
    }
    if (rc < 0) {
        return rc;
    }
    int sources =
        (st->requests != NULL) + (st->requests_file != NULL) + (st->requests_command != NULL);
    if (sources != 1) {
        return diag_set(c->d, -EINVAL,
                        "%s: driver: a stdio driver needs exactly one of 'requests', "
                        "'requests_file', 'requests_command', found %d",
                        c->file, sources);
    }
    return 0;
}

static int parse_command(struct ctx *c, const cJSON *dv)
{
    static const char *const known[] = {"kind", "argv", "env", "timeout_s", NULL};
    struct scn_cmd *cmd = &c->s->cmd;
    int rc = check_keys(c, dv, "driver", known);
    if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(dv, "argv")) {
        rc = missing(c, "driver", "argv", "the command to run once per round");
    }
    size_t n = 0;
    if (rc == 0) {
        rc = get_strs(c, dv, "driver", "argv", &cmd->argv, &n, true);
    }
    if (rc == 0) {
        rc = check_vec(c, cmd->argv, n, "driver.argv", &c->s->uses_port);
    }
    if (rc == 0) {
        rc = get_map(c, dv, "driver", "env", "=", &cmd->env, NULL);
    }
    if (rc == 0) {
        rc = check_vec(c, cmd->env, 0, "driver.env", &c->s->uses_port);
    }
    if (rc == 0) {
        rc = get_seconds(c, dv, "driver", "timeout_s", &cmd->timeout_ms);
    }
    if (rc == 0) {
        rc = resolve_argv0(cmd->argv);
    }
    return rc;
}

static int parse_http(struct ctx *c, const cJSON *dv)
{
    static const char *const known[] = {"kind",
                                        "url",
                                        "method",
                                        "headers",
                                        "body_bytes",
                                        "multipart",
                                        "requests_per_round",
                                        "concurrency",
                                        "timeout_s",
                                        "expect_status",
                                        NULL};
    static const char *const mp_known[] = {"field", "bytes", "filename", "content_type", NULL};
    struct scn_http *h = &c->s->http;
    int rc = check_keys(c, dv, "driver", known);
    if (rc == 0) {
        rc = get_str(c, dv, "driver", "url", &h->url, true,
                     "the URL to request, e.g. \"http://127.0.0.1:{port}/upload\"");
    }
    if (rc == 0 && strncmp(h->url, "http://", 7) != 0 && strncmp(h->url, "https://", 8) != 0) {
        rc = diag_set(c->d, -EINVAL, "%s: driver.url: '%s' is not an http:// or https:// URL",
                      c->file, h->url);
    }
    if (rc == 0) {
        rc = check_one(c, h->url, "driver.url", &c->s->uses_port);
    }
    if (rc == 0) {
        rc = get_str(c, dv, "driver", "method", &h->method, false, "");
    }
    if (rc == 0) {
        rc = get_map(c, dv, "driver", "headers", ": ", &h->headers, &h->n_headers);
    }
    if (rc == 0) {
        rc = check_vec(c, h->headers, h->n_headers, "driver.headers", &c->s->uses_port);
    }
    unsigned long v = 0;
    if (rc == 0) {
        rc = get_uint(c, dv, "driver", "body_bytes", 0, 1ul << 32, &v);
    }
    h->body_bytes = v;
    const cJSON *mp = cJSON_GetObjectItemCaseSensitive(dv, "multipart");
    if (rc == 0 && mp) {
        rc = want_object(c, mp, "driver", "multipart");
        if (rc == 0) {
            rc = check_keys(c, mp, "driver.multipart", mp_known);
        }
        if (rc == 0) {
            rc = get_str(c, mp, "driver.multipart", "field", &h->multipart_field, true,
                         "the form field name of the upload");
        }
        v = 0;
        if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(mp, "bytes")) {
            rc = missing(c, "driver.multipart", "bytes", "the size of the uploaded file");
        }
        if (rc == 0) {
            rc = get_uint(c, mp, "driver.multipart", "bytes", 1, 1ul << 32, &v);
        }
        h->multipart_bytes = v;
        if (rc == 0) {
            rc = get_str(c, mp, "driver.multipart", "filename", &h->multipart_filename, false, "");
        }
        if (rc == 0) {
            rc = get_str(c, mp, "driver.multipart", "content_type", &h->multipart_content_type,
                         false, "");
        }
        if (rc == 0 && h->body_bytes > 0) {
            rc = diag_set(c->d, -EINVAL,
                          "%s: driver: 'body_bytes' and 'multipart' exclude each other (keep one)",
                          c->file);
        }
    }
    v = h->requests_per_round;
    if (rc == 0) {
        rc = get_uint(c, dv, "driver", "requests_per_round", 1, 10000000, &v);
    }
    h->requests_per_round = (unsigned)v;
    v = h->concurrency;
    if (rc == 0) {
        rc = get_uint(c, dv, "driver", "concurrency", 1, 1024, &v);
    }
    h->concurrency = (unsigned)v;
    if (rc == 0) {
        rc = get_seconds(c, dv, "driver", "timeout_s", &h->timeout_ms);
    }
    v = 0;
    if (rc == 0) {
        rc = get_uint(c, dv, "driver", "expect_status", 100, 599, &v);
    }
    h->expect_status = (int)v;
    if (rc == 0 && !h->method) {
        h->method = strdup(h->body_bytes || h->multipart_bytes ? "POST" : "GET");
        if (!h->method) {
            rc = -ENOMEM;
        }
    }
    return rc;
}

static int parse_driver(struct ctx *c, const cJSON *dv)
{
    int rc = want_object(c, dv, "", "driver");
    if (rc < 0) {
        return rc;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(dv, "kind");
    if (!k) {
        return missing(c, "driver", "kind", "one of \"stdio\", \"http\", \"command\"");
    }
    if (!cJSON_IsString(k)) {
        return bad_type(c, "driver", "kind", k, "one of \"stdio\", \"http\", \"command\"");
    }
    if (strcmp(k->valuestring, "stdio") == 0) {
        c->s->driver = SCN_DRIVER_STDIO;
        return parse_stdio(c, dv);
    }
    if (strcmp(k->valuestring, "http") == 0) {
        c->s->driver = SCN_DRIVER_HTTP;
        return parse_http(c, dv);
    }
    if (strcmp(k->valuestring, "command") == 0) {
        c->s->driver = SCN_DRIVER_COMMAND;
        return parse_command(c, dv);
    }
    return bad_type(c, "driver", "kind", k, "one of \"stdio\", \"http\", \"command\"");
}

static int parse_supp(struct ctx *c, const cJSON *arr)
{
    static const char *const known[] = {"function", "object", "stack", NULL};
    if (!cJSON_IsArray(arr)) {
        return bad_type(c, "", "suppress", arr, "an array of objects");
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    c->s->supp = calloc(n ? n : 1, sizeof(*c->s->supp));
    if (!c->s->supp) {
        return -ENOMEM;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        char path[64];
        snprintf(path, sizeof(path), "suppress[%zu]", c->s->n_supp);
        struct supp_rule *sp = &c->s->supp[c->s->n_supp++];
        int rc = want_object(c, it, "", path);
        if (rc == 0) {
            rc = check_keys(c, it, path, known);
        }
        if (rc == 0) {
            rc = get_str(c, it, path, "function", &sp->function, false, "");
        }
        if (rc == 0) {
            rc = get_str(c, it, path, "object", &sp->object, false, "");
        }
        if (rc == 0) {
            rc = get_strs(c, it, path, "stack", &sp->stack, &sp->n_stack, true);
        }
        if (rc == 0 && !sp->function && !sp->object && !sp->stack) {
            rc = diag_set(c->d, -EINVAL,
                          "%s: %s: empty suppression (give 'function', 'object' or 'stack')",
                          c->file, path);
        }
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int parse_root(struct ctx *c, const cJSON *root)
{
    static const char *const known[] = {
        "name",        "target", "driver",         "rounds",   "warmup",   "round_timeout_s",
        "threshold",   "expect", "expect_culprit", "suppress", "wrappers", "$schema",
        "description", NULL};
    static const char *const th_known[] = {"bytes_per_round", "blocks_per_round", NULL};
    struct scn *s = c->s;
    if (!cJSON_IsObject(root)) {
        char found[96];
        return diag_set(c->d, -EINVAL, "%s: expected a JSON object at the top, found %s", c->file,
                        describe(root, found, sizeof(found)));
    }
    int rc = check_keys(c, root, "", known);
    if (rc == 0) {
        rc = get_str(c, root, "", "name", &s->name, true,
                     "a short name used for the report folder, e.g. \"uploads-fixed\"");
    }
    if (rc == 0) {
        for (const char *p = s->name; *p; p++) {
            if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 ||
                (p == s->name && *p == '.')) {
                rc = diag_set(c->d, -EINVAL,
                              "%s: name: '%s' can't be a folder name (no '/', control "
                              "characters or leading '.')",
                              c->file, s->name);
                break;
            }
        }
    }
    if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(root, "target")) {
        rc = missing(c, "", "target", "what to run: {\"argv\": [...]}");
    }
    if (rc == 0) {
        rc = parse_target(c, cJSON_GetObjectItemCaseSensitive(root, "target"));
    }
    if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(root, "driver")) {
        rc = missing(c, "", "driver",
                     "the workload: {\"kind\": \"stdio\" | \"http\" | \"command\", ...}");
    }
    if (rc == 0) {
        rc = parse_driver(c, cJSON_GetObjectItemCaseSensitive(root, "driver"));
    }
    unsigned long v = s->rounds;
    if (rc == 0) {
        rc = get_uint(c, root, "", "rounds", 2, SCN_MAX_ROUNDS, &v);
    }
    s->rounds = (uint32_t)v;
    v = s->warmup;
    if (rc == 0) {
        rc = get_uint(c, root, "", "warmup", 0, SCN_MAX_ROUNDS, &v);
    }
    s->warmup = (uint32_t)v;
    if (rc == 0) {
        rc = get_seconds(c, root, "", "round_timeout_s", &s->round_timeout_ms);
    }
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(root, "threshold");
    if (rc == 0 && th) {
        rc = want_object(c, th, "", "threshold");
        if (rc == 0) {
            rc = check_keys(c, th, "threshold", th_known);
        }
        if (rc == 0) {
            rc =
                get_double(c, th, "threshold", "bytes_per_round", 0, &s->threshold_bytes_per_round);
        }
        if (rc == 0) {
            rc = get_double(c, th, "threshold", "blocks_per_round", 0,
                            &s->threshold_blocks_per_round);
        }
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "expect");
    if (rc == 0 && ex) {
        if (cJSON_IsString(ex) && strcmp(ex->valuestring, "leak") == 0) {
            s->expect = RPT_EXPECT_LEAK;
        } else if (cJSON_IsString(ex) && strcmp(ex->valuestring, "no-leak") == 0) {
            s->expect = RPT_EXPECT_NO_LEAK;
        } else if (cJSON_IsString(ex) && strcmp(ex->valuestring, "any") == 0) {
            s->expect = RPT_EXPECT_ANY;
        } else {
            rc = bad_type(c, "", "expect", ex, "one of \"leak\", \"no-leak\", \"any\"");
        }
    }
    if (rc == 0) {
        rc = get_str(c, root, "", "expect_culprit", &s->expect_culprit, false, "");
    }
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(root, "suppress")) {
        rc = parse_supp(c, cJSON_GetObjectItemCaseSensitive(root, "suppress"));
    }
    if (rc == 0) {
        rc = get_strs(c, root, "", "wrappers", &s->wrappers, &s->n_wrappers, false);
    }
    char *description = NULL;
    if (rc == 0) {
        rc = get_str(c, root, "", "description", &description, false, "");
    }
    free(description);
    if (rc == 0 && s->uses_port && s->ready == SCN_READY_NONE && s->driver != SCN_DRIVER_STDIO) {
        /* A server on {port} with no probe: wait for the port to accept connections. */
        s->ready = SCN_READY_TCP;
        s->ready_port_is_placeholder = true;
    }
    return rc;
}

int scn_parse(const char *text, size_t len, const char *path, struct scn **out, struct diag *d)
{
    struct ctx c = {.file = path ? path : "<scenario>", .d = d};
    int rc;
    cJSON *root = NULL;
    c.s = scn_new();
    if (!c.s) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    if (path) {
        c.s->file = strdup(path);
        const char *slash = strrchr(path, '/');
        c.dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : NULL;
        if (!c.s->file || (slash && !c.dir)) {
            rc = diag_set(d, -ENOMEM, "out of memory");
            goto out;
        }
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t line = 1;
        size_t col = 1;
        const char *at = end ? end : cJSON_GetErrorPtr();
        for (const char *p = text; at && p < at && p < text + len; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        rc = diag_set(d, -EINVAL, "%s:%zu:%zu: not valid JSON (check commas, quotes and braces)",
                      c.file, line, col);
        goto out;
    }
    rc = parse_root(&c, root);
    if (rc == -ENOMEM) {
        diag_set(d, rc, "out of memory");
    }
out:
    cJSON_Delete(root);
    free(c.dir);
    if (rc < 0) {
        scn_free(c.s);
        return rc;
    }
    *out = c.s;
    return 0;
}

int scn_load(const char *path, struct scn **out, struct diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        return diag_set(d, -err, "%s: can't read: %s", path, strerror(err));
    }
    char *buf = malloc(SCN_MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        return diag_set(d, -ENOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, SCN_MAX_FILE + 1, f);
    int rerr = ferror(f);
    fclose(f);
    int rc;
    if (rerr) {
        rc = diag_set(d, -EIO, "%s: read error", path);
    } else if (n > SCN_MAX_FILE) {
        rc = diag_set(d, -EFBIG, "%s: too big for a scenario file (over %u MiB)", path,
                      SCN_MAX_FILE >> 20);
    } else {
        rc = scn_parse(buf, n, path, out, d);
    }
    free(buf);
    return rc;
}

int scn_finish(struct scn *s, struct diag *d)
{
    struct ctx c = {.file = s->file ? s->file : "command line", .d = d, .s = s};
    int rc = check_vec(&c, s->argv, 0, "target.argv", &s->uses_port);
    if (rc == 0) {
        rc =
            check_vec(&c, s->stdio.requests, s->stdio.n_requests, "driver.requests", &s->uses_port);
    }
    if (rc == 0) {
        rc = check_vec_n(&c, s->stdio.requests_command, 0, "driver.requests_command", &s->uses_port,
                         true);
    }
    if (rc == 0 && s->rounds < 2) {
        rc = diag_set(d, -EINVAL, "%s: rounds: need at least 2 measured rounds, found %u", c.file,
                      s->rounds);
    }
    return rc;
}

/* A JSON array of `n` strings (n == 0: up to the NULL entry), or NULL when out of memory. */
static cJSON *strs_json(char **v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && v && (n ? i < n : v[i] != NULL); i++) {
        cJSON *x = cJSON_CreateString(v[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* A JSON object of "KEY<sep>VALUE" entries, or NULL when out of memory. */
static cJSON *env_json(char **v, const char *sep)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && v && v[i]; i++) {
        const char *eq = strstr(v[i], sep);
        if (!eq) {
            continue;
        }
        char *k = strndup(v[i], (size_t)(eq - v[i]));
        bool added = k && cJSON_AddStringToObject(o, k, eq + strlen(sep)) != NULL;
        free(k);
        if (!added) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

/* Adds `item` under `key` of `obj` (either may be NULL after a failed allocation). Returns
 * true, or false after freeing `item`. */
static bool add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (obj && item && cJSON_AddItemToObject(obj, key, item)) {
        return true;
    }
    cJSON_Delete(item);
    return false;
}

int scn_save(const struct scn *s, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    bool ok = true; // every add below can fail; a scenario missing a key is never written
    if (!root) {
        return -ENOMEM;
    }
    ok &= cJSON_AddStringToObject(root, "name", s->name) != NULL;
    cJSON *t = cJSON_AddObjectToObject(root, "target");
    ok &= t != NULL;
    ok &= add_item(t, "argv", strs_json(s->argv, 0));
    if (s->env) {
        ok &= add_item(t, "env", env_json(s->env, "="));
    }
    if (s->cwd) {
        ok &= cJSON_AddStringToObject(t, "cwd", s->cwd) != NULL;
    }
    if (s->ready != SCN_READY_NONE) {
        cJSON *r = cJSON_AddObjectToObject(t, "ready");
        ok &= r != NULL;
        if (s->ready == SCN_READY_STDOUT) {
            ok &= cJSON_AddStringToObject(r, "stdout", s->ready_value) != NULL;
        } else if (s->ready == SCN_READY_HTTP) {
            ok &= cJSON_AddStringToObject(r, "http", s->ready_value) != NULL;
        } else if (s->ready_port_is_placeholder) {
            ok &= cJSON_AddStringToObject(r, "tcp", "{port}") != NULL;
        } else {
            ok &= cJSON_AddNumberToObject(r, "tcp", s->ready_port) != NULL;
        }
        ok &= cJSON_AddNumberToObject(r, "timeout_s", s->ready_timeout_ms / 1000.0) != NULL;
    }
    cJSON *dv = cJSON_AddObjectToObject(root, "driver");
    ok &= dv != NULL;
    if (s->driver == SCN_DRIVER_STDIO) {
        ok &= cJSON_AddStringToObject(dv, "kind", "stdio") != NULL;
        if (s->stdio.requests) {
            ok &= add_item(dv, "requests", strs_json(s->stdio.requests, s->stdio.n_requests));
        }
        if (s->stdio.requests_file) {
            ok &= cJSON_AddStringToObject(dv, "requests_file", s->stdio.requests_file) != NULL;
        }
        if (s->stdio.requests_command) {
            ok &= add_item(dv, "requests_command", strs_json(s->stdio.requests_command, 0));
        }
        ok &=
            cJSON_AddNumberToObject(dv, "requests_per_round", s->stdio.requests_per_round) != NULL;
        ok &= cJSON_AddNumberToObject(dv, "reply_timeout_s", s->stdio.reply_timeout_ms / 1000.0) !=
              NULL;
    } else if (s->driver == SCN_DRIVER_COMMAND) {
        ok &= cJSON_AddStringToObject(dv, "kind", "command") != NULL;
        ok &= add_item(dv, "argv", strs_json(s->cmd.argv, 0));
        if (s->cmd.env) {
            ok &= add_item(dv, "env", env_json(s->cmd.env, "="));
        }
        ok &= cJSON_AddNumberToObject(dv, "timeout_s", s->cmd.timeout_ms / 1000.0) != NULL;
    } else {
        const struct scn_http *h = &s->http;
        ok &= cJSON_AddStringToObject(dv, "kind", "http") != NULL;
        ok &= cJSON_AddStringToObject(dv, "url", h->url) != NULL;
        ok &= cJSON_AddStringToObject(dv, "method", h->method) != NULL;
        if (h->n_headers) {
            char **hv = calloc(h->n_headers + 1, sizeof(*hv));
            ok &= hv != NULL;
            if (hv) {
                memcpy(hv, h->headers, h->n_headers * sizeof(*hv));
                ok &= add_item(dv, "headers", env_json(hv, ": "));
            }
            free(hv);
        }
        if (h->body_bytes) {
            ok &= cJSON_AddNumberToObject(dv, "body_bytes", (double)h->body_bytes) != NULL;
        }
        if (h->multipart_bytes) {
            cJSON *mp = cJSON_AddObjectToObject(dv, "multipart");
            ok &= mp != NULL;
            ok &= cJSON_AddStringToObject(mp, "field", h->multipart_field) != NULL;
            ok &= cJSON_AddNumberToObject(mp, "bytes", (double)h->multipart_bytes) != NULL;
            if (h->multipart_filename) {
                ok &= cJSON_AddStringToObject(mp, "filename", h->multipart_filename) != NULL;
            }
            if (h->multipart_content_type) {
                ok &=
                    cJSON_AddStringToObject(mp, "content_type", h->multipart_content_type) != NULL;
            }
        }
        ok &= cJSON_AddNumberToObject(dv, "requests_per_round", h->requests_per_round) != NULL;
        ok &= cJSON_AddNumberToObject(dv, "concurrency", h->concurrency) != NULL;
        ok &= cJSON_AddNumberToObject(dv, "timeout_s", h->timeout_ms / 1000.0) != NULL;
        if (h->expect_status) {
            ok &= cJSON_AddNumberToObject(dv, "expect_status", h->expect_status) != NULL;
        }
    }
    ok &= cJSON_AddNumberToObject(root, "rounds", s->rounds) != NULL;
    ok &= cJSON_AddNumberToObject(root, "warmup", s->warmup) != NULL;
    ok &= cJSON_AddNumberToObject(root, "round_timeout_s", s->round_timeout_ms / 1000.0) != NULL;
    cJSON *th = cJSON_AddObjectToObject(root, "threshold");
    ok &= th != NULL;
    ok &= cJSON_AddNumberToObject(th, "bytes_per_round", s->threshold_bytes_per_round) != NULL;
    if (s->threshold_blocks_per_round > 0) {
        ok &=
            cJSON_AddNumberToObject(th, "blocks_per_round", s->threshold_blocks_per_round) != NULL;
    }
    ok &= cJSON_AddStringToObject(root, "expect", rpt_expect_name(s->expect)) != NULL;
    if (s->expect_culprit) {
        ok &= cJSON_AddStringToObject(root, "expect_culprit", s->expect_culprit) != NULL;
    }
    if (s->n_supp) {
        cJSON *a = cJSON_AddArrayToObject(root, "suppress");
        ok &= a != NULL;
        for (size_t i = 0; i < s->n_supp; i++) {
            cJSON *o = cJSON_CreateObject();
            if (s->supp[i].function) {
                ok &= cJSON_AddStringToObject(o, "function", s->supp[i].function) != NULL;
            }
            if (s->supp[i].object) {
                ok &= cJSON_AddStringToObject(o, "object", s->supp[i].object) != NULL;
            }
            if (s->supp[i].stack) {
                ok &= add_item(o, "stack", strs_json(s->supp[i].stack, s->supp[i].n_stack));
            }
            ok &= o != NULL && cJSON_AddItemToArray(a, o);
            if (!o || !a) {
                cJSON_Delete(o);
            }
        }
    }
    if (s->n_wrappers) {
        ok &= add_item(root, "wrappers", strs_json(s->wrappers, s->n_wrappers));
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        return -ENOMEM;
    }
    // Atomic, like every report file: a recording's scenario.json is whole or absent.
    size_t len = strlen(text);
    char *line = malloc(len + 2);
    int rc = -ENOMEM;
    if (line) {
        memcpy(line, text, len);
        line[len] = '\n';
        line[len + 1] = '\0';
        rc = file_write(path, line, len + 1, NULL);
        free(line);
    }
    free(text);
    return rc;
}

void scn_analysis_opts(const struct scn *s, struct analysis_opts *o)
{
    *o = (struct analysis_opts){
        .name = s->name,
        .file = s->file,
        .expect = s->expect,
        .expect_culprit = s->expect_culprit,
        .warmup = s->warmup,
        .rounds = s->rounds,
        .threshold_bytes_per_round = s->threshold_bytes_per_round,
        .threshold_blocks_per_round = s->threshold_blocks_per_round,
        .supp = s->supp,
        .n_supp = s->n_supp,
        .wrappers = s->wrappers,
        .n_wrappers = s->n_wrappers,
    };
}
