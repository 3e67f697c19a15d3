/* SPDX-License-Identifier: MIT */
/* scn.c - scenario files: strict JSON loading with util/json, defaults, and saving.
 *
 * Every object is checked against its list of known keys before its values are read, so a
 * typo is reported as such (with the nearest key) rather than as a missing value. Messages
 * name the file, the JSON path, what was found and what was expected. The "driver" object
 * belongs to the driver its "kind" names: its row in the driver table reads and writes it.
 */
#include "scn.h"

#include "../analysis/growth.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../util/json.h"
#include "../util/strv.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROLE_SEP "\x1f" /* between a role's name and its glob in scn.roles */

#define SCN_MAX_FILE (16u << 20)

/* Parsing context: the JSON reader (file name, path, diag), the folder for relative paths. */
struct ctx {
    struct json_ctx j;
    char *dir;
    struct scn *s;
};

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
    s->driver = drv_kind_default();
    s->driver_cfg = drv_cfg_new(s->driver);
    if (!s->driver_cfg) {
        free(s->name);
        free(s);
        return NULL;
    }
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
    strv_free(s->vars);
    for (size_t i = 0; i < s->n_files; i++) {
        free(s->files[i].name);
        free(s->files[i].text);
    }
    free(s->files);
    strv_free_n(s->port_names, s->n_port_names);
    free(s->ready_value);
    drv_cfg_free(s->driver, s->driver_cfg);
    for (size_t i = 0; i < s->n_supp; i++) {
        free(s->supp[i].function);
        free(s->supp[i].object);
        strv_free_n(s->supp[i].stack, s->supp[i].n_stack);
    }
    free(s->supp);
    strv_free_n(s->wrappers, s->n_wrappers);
    strv_free_n(s->roles, s->n_roles);
    free(s->role_rules);
    free(s->expect_culprit);
    free(s);
}

/* ------------------------------------------------------------------ loading */

/* Reads "stdout": a regular expression a stdout line must match. */
static int parse_ready_stdout(struct ctx *c, const cJSON *r)
{
    struct scn *s = c->s;
    s->ready = SCN_READY_STDOUT;
    int rc = json_get_str(&c->j, r, "stdout", true, NULL, &s->ready_value);
    if (rc < 0) {
        return rc;
    }
    regex_t re;
    int err = regcomp(&re, s->ready_value, REG_EXTENDED | REG_NOSUB);
    if (err != 0) {
        char msg[128];
        regerror(err, &re, msg, sizeof(msg));
        return json_fail(&c->j, "stdout", "bad regular expression '%s': %s", s->ready_value, msg);
    }
    regfree(&re);
    return 0;
}

/* Reads "tcp": a port, or "{port}". */
static int parse_ready_tcp(struct ctx *c, const cJSON *v)
{
    struct scn *s = c->s;
    s->ready = SCN_READY_TCP;
    if (cJSON_IsString(v) && strcmp(v->valuestring, "{port}") == 0) {
        s->ready_port_is_placeholder = true;
        s->uses_port = true;
        return 0;
    }
    if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 65535 &&
        v->valuedouble == floor(v->valuedouble)) {
        s->ready_port = (uint16_t)v->valuedouble;
        return 0;
    }
    return json_bad_type(&c->j, "tcp", v, "a port from 1 to 65535 or \"{port}\"");
}

/* Reads "http": the URL of the probe. */
static int parse_ready_http(struct ctx *c, const cJSON *r)
{
    struct scn *s = c->s;
    s->ready = SCN_READY_HTTP;
    int rc = json_get_str(&c->j, r, "http", true, NULL, &s->ready_value);
    if (rc < 0) {
        return rc;
    }
    if (strncmp(s->ready_value, "http://", 7) != 0) {
        return json_fail(&c->j, "http",
                         "'%s' is not an http:// URL (https is not supported for the probe)",
                         s->ready_value);
    }
    return drv_check_str(&c->j, s->ready_value, "http", &s->uses_port);
}

/* Reads target.ready: exactly one probe and its timeout. */
static int parse_ready(struct ctx *c, const cJSON *r)
{
    static const char *const known[] = {"stdout", "tcp", "http", "timeout_s", NULL};
    int rc = json_want_object(&c->j, r, "ready");
    if (rc < 0) {
        return rc;
    }
    size_t mark = json_push(&c->j, "ready");
    rc = json_check_keys(&c->j, r, known);
    int kinds = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "stdout");
    if (rc == 0 && v) {
        kinds++;
        rc = parse_ready_stdout(c, r);
    }
    v = cJSON_GetObjectItemCaseSensitive(r, "tcp");
    if (rc == 0 && v) {
        kinds++;
        rc = parse_ready_tcp(c, v);
    }
    v = cJSON_GetObjectItemCaseSensitive(r, "http");
    if (rc == 0 && v) {
        kinds++;
        rc = parse_ready_http(c, r);
    }
    if (rc == 0 && kinds != 1) {
        rc = json_fail(&c->j, NULL, "expected exactly one of 'stdout', 'tcp', 'http', found %d",
                       kinds);
    }
    if (rc == 0) {
        rc = json_get_seconds(&c->j, r, "timeout_s", &c->s->ready_timeout_ms);
    }
    json_pop(&c->j, mark);
    return rc;
}

/* ------------------------------------------------------- target files and vars */

/* Reads "vars": {"NAME": "value"}; a NAME is a placeholder {NAME} of the target's strings and
 * files, so it must read as one and not hide a built-in one. */
static int parse_target_vars(struct ctx *c, const cJSON *t)
{
    static const char *const builtin[] = {"port", "run_dir", "file", "round", "i", "n", NULL};
    struct scn *s = c->s;
    int rc = json_get_map(&c->j, t, "vars", "=", &s->vars, NULL);
    for (char **v = s->vars; rc == 0 && v && *v; v++) {
        size_t n = strcspn(*v, "=");
        bool ok = n > 0 && n <= 64 && !((*v)[0] >= '0' && (*v)[0] <= '9');
        for (size_t i = 0; i < n; i++) {
            char ch = (*v)[i];
            ok &= (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_';
        }
        for (size_t b = 0; ok && builtin[b]; b++) {
            ok = !(strlen(builtin[b]) == n && strncmp(*v, builtin[b], n) == 0);
        }
        if (!ok) {
            rc = json_fail(&c->j, "vars",
                           "bad variable name '%.*s' (expected a letter or '_', then letters, "
                           "digits or '_', and not one of port, run_dir, file, round, i, n)",
                           (int)(n > 64 ? 64 : n), *v);
        }
    }
    return rc;
}

/* Reads the text of file entry `f` (path "files.NAME"): "text" inline, or "template", a file
 * read now (relative to the scenario's folder). Returns 0 or -EINVAL/-ENOMEM. */
static int parse_target_file(struct ctx *c, const cJSON *fo, struct tpl_file *f)
{
    static const char *const known[] = {"template", "text", "executable", NULL};
    int rc = json_want_object(&c->j, fo, NULL);
    if (rc == 0) {
        rc = json_check_keys(&c->j, fo, known);
    }
    char *tmpl = NULL;
    if (rc == 0) {
        rc = json_get_str(&c->j, fo, "template", false, NULL, &tmpl);
    }
    if (rc == 0) {
        rc = json_get_str(&c->j, fo, "text", false, NULL, &f->text);
    }
    if (rc == 0) {
        rc = json_get_bool(&c->j, fo, "executable", &f->executable);
    }
    if (rc == 0 && !tmpl == !f->text) {
        rc = json_fail(&c->j, NULL,
                       "give exactly one of \"template\" (a file, relative to the scenario) or "
                       "\"text\" (the content itself)");
    }
    if (rc == 0 && tmpl) {
        rc = drv_resolve_path(c->dir, &tmpl);
        struct diag rd = {{0}};
        size_t len = 0;
        int rr = rc == 0 ? file_read(tmpl, TPL_MAX_FILE, &f->text, &len, &rd) : rc;
        if (rr == -EFBIG) {
            rc = json_fail(&c->j, "template", "'%s' is over %u KiB, too big for a template", tmpl,
                           TPL_MAX_FILE >> 10);
        } else if (rr < 0 && rr != -ENOMEM) {
            rc = json_fail(&c->j, "template", "can't read '%s': %s", tmpl, strerror(-rr));
        } else if (rr == 0 && strlen(f->text) != len) {
            rc = json_fail(&c->j, "template", "'%s' holds a NUL byte: expected a text file", tmpl);
        } else {
            rc = rr;
        }
    }
    free(tmpl);
    return rc;
}

/* Reads "files": {"NAME": {"template": PATH} | {"text": TEXT}, ...}: what is rendered into the
 * run's folder, each NAME inside it. */
static int parse_target_files(struct ctx *c, const cJSON *t)
{
    struct scn *s = c->s;
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(t, "files");
    if (!fs) {
        return 0;
    }
    int rc = json_want_object(&c->j, fs, "files");
    size_t n = (size_t)cJSON_GetArraySize(fs);
    if (rc == 0 && n > 0) {
        s->files = calloc(n, sizeof(*s->files));
        rc = s->files ? 0 : json_nomem(&c->j);
    }
    size_t mark = json_push(&c->j, "files");
    const cJSON *fo;
    cJSON_ArrayForEach(fo, fs)
    {
        if (rc < 0) {
            break;
        }
        struct tpl_file *f = &s->files[s->n_files];
        f->name = strdup(fo->string);
        if (!f->name) {
            rc = json_nomem(&c->j);
            break;
        }
        s->n_files++;
        char where[JSON_PATH_MAX + 256];
        json_where(&c->j, fo->string, where, sizeof(where));
        rc = tpl_check_file_name(f->name, where, c->j.d);
        size_t fmark = json_push(&c->j, fo->string);
        if (rc == 0) {
            rc = parse_target_file(c, fo, f);
        }
        json_pop(&c->j, fmark);
    }
    json_pop(&c->j, mark);
    return rc;
}

/* Checks one string of the target with tpl_check(), named `key` (argv[1], cwd...) in "target". */
static int check_template(struct ctx *c, const char *str, const char *key, enum tpl_form form,
                          struct tpl_uses *uses)
{
    struct tpl_names names;
    char where[JSON_PATH_MAX + 256];
    scn_tpl_names(c->s, &names);
    json_where(&c->j, key, where, sizeof(where));
    return tpl_check(str, form, &names, where, uses, c->j.d);
}

/* Checks the placeholders of argv, env, cwd and every file against what the scenario defines,
 * and notes the ports they use. */
static int check_target_templates(struct ctx *c)
{
    struct scn *s = c->s;
    struct tpl_uses uses = {0};
    int rc = 0;
    char key[64];
    for (size_t i = 0; rc == 0 && s->argv && s->argv[i]; i++) {
        fmt_c(key, sizeof(key), "argv[%zu]", i);
        rc = check_template(c, s->argv[i], key, TPL_STRICT, &uses);
    }
    for (size_t i = 0; rc == 0 && s->env && s->env[i]; i++) {
        fmt_c(key, sizeof(key), "env[%zu]", i);
        rc = check_template(c, s->env[i], key, TPL_STRICT, &uses);
    }
    if (rc == 0 && s->cwd) {
        rc = check_template(c, s->cwd, "cwd", TPL_STRICT, &uses);
    }
    for (size_t i = 0; rc == 0 && i < s->n_files; i++) {
        size_t mark = json_push(&c->j, "files");
        rc = check_template(c, s->files[i].text, s->files[i].name, TPL_TEXT, &uses);
        json_pop(&c->j, mark);
    }
    if (rc == 0) {
        s->uses_port |= uses.port;
        strv_free_n(s->port_names, s->n_port_names);
        s->port_names = uses.port_names;
        s->n_port_names = uses.n_port_names;
        uses.port_names = NULL;
        uses.n_port_names = 0;
    }
    tpl_uses_cleanup(&uses);
    return rc;
}

void scn_tpl_names(const struct scn *s, struct tpl_names *o)
{
    *o = (struct tpl_names){.vars = s->vars, .files = s->files, .n_files = s->n_files};
}

/* Reads the target's argv, env and cwd (path "target"). */
static int parse_target_run(struct ctx *c, const cJSON *t)
{
    struct scn *s = c->s;
    int rc = 0;
    if (!cJSON_GetObjectItemCaseSensitive(t, "argv")) {
        rc = json_missing(&c->j, "argv",
                          "the program to run and its arguments, e.g. [\"./server\", \"--port\", "
                          "\"{port}\"]");
    }
    if (rc == 0) {
        rc = json_get_strs(&c->j, t, "argv", true, &s->argv, NULL);
    }
    if (rc == 0 && !s->argv[0][0]) {
        rc = json_fail(&c->j, "argv[0]", "expected a program, found ''");
    }
    size_t n_argv = 0;
    for (; rc == 0 && s->argv[n_argv]; n_argv++) {
        char where[32];
        snprintf(where, sizeof(where), "argv[%zu]", n_argv);
        rc = json_check_len(&c->j, where, s->argv[n_argv], SCN_MAX_ARG);
    }
    if (rc == 0 && n_argv > SCN_MAX_ARGV) {
        rc = json_fail(&c->j, "argv", "expected at most %u arguments, found %zu", SCN_MAX_ARGV,
                       n_argv);
    }
    if (rc == 0) {
        rc = json_get_map(&c->j, t, "env", "=", &s->env, NULL);
    }
    if (rc == 0) {
        rc = json_get_str(&c->j, t, "cwd", false, NULL, &s->cwd);
    }
    if (rc == 0) {
        rc = parse_target_vars(c, t);
    }
    if (rc == 0) {
        rc = parse_target_files(c, t);
    }
    if (rc == 0) {
        rc = check_target_templates(c);
    }
    return rc;
}

static int parse_target(struct ctx *c, const cJSON *t)
{
    static const char *const known[] = {"argv", "env", "cwd", "ready", "files", "vars", NULL};
    int rc = json_want_object(&c->j, t, "target");
    if (rc < 0) {
        return rc;
    }
    size_t mark = json_push(&c->j, "target");
    rc = json_check_keys(&c->j, t, known);
    if (rc == 0) {
        rc = parse_target_run(c, t);
    }
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(t, "ready")) {
        rc = parse_ready(c, cJSON_GetObjectItemCaseSensitive(t, "ready"));
    }
    if (rc == 0 && c->s->argv[0][0] != '{') { /* {file:x} and {run_dir}/x are absolute */
        rc = drv_resolve_argv0(c->s->argv);
    }
    json_pop(&c->j, mark);
    return rc;
}

/* Makes `kind` the scenario's driver, with that driver's defaults. Returns 0 or -ENOMEM (the
 * scenario keeps its driver). */
static int set_driver(struct scn *s, const struct drv_kind *kind)
{
    void *cfg = drv_cfg_new(kind);
    if (!cfg) {
        return -ENOMEM;
    }
    drv_cfg_free(s->driver, s->driver_cfg);
    s->driver = kind;
    s->driver_cfg = cfg;
    return 0;
}

/* Hands the "driver" object to the row of the driver its "kind" names. */
static int parse_driver(struct ctx *c, const cJSON *dv)
{
    char names[128];
    drv_kind_names(names, sizeof(names));
    int rc = json_want_object(&c->j, dv, "driver");
    if (rc < 0) {
        return rc;
    }
    size_t mark = json_push(&c->j, "driver");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(dv, "kind");
    const struct drv_kind *kind = cJSON_IsString(k) ? drv_kind_find(k->valuestring) : NULL;
    if (!k) {
        rc = json_missing(&c->j, "kind", names);
    } else if (!kind) {
        rc = json_bad_type(&c->j, "kind", k, names);
    } else {
        rc = set_driver(c->s, kind);
    }
    if (rc == 0 && kind) {
        struct drv_parse p = {.json = &c->j, .dir = c->dir, .uses_port = &c->s->uses_port};
        rc = kind->parse(&p, dv, c->s->driver_cfg);
    }
    json_pop(&c->j, mark);
    return rc;
}

/* Reads suppress[i] into `sp`. */
static int parse_supp_rule(struct ctx *c, const cJSON *it, struct supp_rule *sp)
{
    static const char *const known[] = {"function", "object", "stack", NULL};
    int rc = json_want_object(&c->j, it, NULL);
    if (rc == 0) {
        rc = json_check_keys(&c->j, it, known);
    }
    if (rc == 0) {
        rc = json_get_str(&c->j, it, "function", false, NULL, &sp->function);
    }
    if (rc == 0) {
        rc = json_get_str(&c->j, it, "object", false, NULL, &sp->object);
    }
    if (rc == 0) {
        rc = json_get_strs(&c->j, it, "stack", true, &sp->stack, &sp->n_stack);
    }
    if (rc == 0 && !sp->function && !sp->object && !sp->stack) {
        rc = json_fail(&c->j, NULL, "empty suppression (give 'function', 'object' or 'stack')");
    }
    return rc;
}

static int parse_supp(struct ctx *c, const cJSON *arr)
{
    if (!cJSON_IsArray(arr)) {
        return json_bad_type(&c->j, "suppress", arr, "an array of objects");
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    c->s->supp = calloc(n ? n : 1, sizeof(*c->s->supp));
    if (!c->s->supp) {
        return -ENOMEM;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        size_t mark = json_push_index(&c->j, "suppress", c->s->n_supp);
        int rc = parse_supp_rule(c, it, &c->s->supp[c->s->n_supp++]);
        if (rc < 0) {
            return rc;
        }
        json_pop(&c->j, mark);
    }
    return 0;
}

/* Reads "name": also a folder name, so no '/', control characters or leading '.'. */
static int parse_name(struct ctx *c, const cJSON *root)
{
    struct scn *s = c->s;
    int rc =
        json_get_str(&c->j, root, "name", true,
                     "a short name used for the report folder, e.g. \"uploads-fixed\"", &s->name);
    if (rc == 0) {
        rc = json_check_len(&c->j, "name", s->name, SCN_MAX_NAME);
    }
    for (const char *p = s->name; rc == 0 && *p; p++) {
        if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 || (p == s->name && *p == '.')) {
            rc = json_fail(&c->j, "name",
                           "'%s' can't be a folder name (no '/', control characters or leading "
                           "'.')",
                           s->name);
        }
    }
    return rc;
}

/* Reads "threshold". */
static int parse_threshold(struct ctx *c, const cJSON *th)
{
    static const char *const known[] = {"bytes_per_round", "blocks_per_round",
                                        "rss_bytes_per_round", NULL};
    struct scn *s = c->s;
    int rc = json_want_object(&c->j, th, "threshold");
    if (rc < 0) {
        return rc;
    }
    size_t mark = json_push(&c->j, "threshold");
    rc = json_check_keys(&c->j, th, known);
    if (rc == 0) {
        rc = json_get_double(&c->j, th, "bytes_per_round", 0, &s->threshold_bytes_per_round);
    }
    if (rc == 0) {
        rc = json_get_double(&c->j, th, "blocks_per_round", 0, &s->threshold_blocks_per_round);
    }
    if (rc == 0) {
        rc =
            json_get_double(&c->j, th, "rss_bytes_per_round", 0, &s->threshold_rss_bytes_per_round);
    }
    json_pop(&c->j, mark);
    return rc;
}

int scn_retainers_parse(const char *name)
{
    static const char *const names[] = {"last", "every", "none"};
    for (int i = 0; i < 3; i++) {
        if (name && strcmp(name, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *scn_retainers_name(enum scn_retainers r)
{
    return r == SCN_RETAIN_EVERY ? "every" : r == SCN_RETAIN_NONE ? "none" : "last";
}

/* Reads "retainers" and "retainers_stop_s". */
static int parse_retainers(struct ctx *c, const cJSON *root)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "retainers");
    if (r) {
        int v = cJSON_IsString(r) ? scn_retainers_parse(r->valuestring) : -1;
        if (v < 0) {
            return json_bad_type(&c->j, "retainers", r,
                                 "one of \"last\" (after the last round), \"every\" (after each "
                                 "measured round), \"none\"");
        }
        c->s->retainers = (enum scn_retainers)v;
    }
    return json_get_seconds(&c->j, root, "retainers_stop_s", &c->s->retainers_stop_ms);
}

/* Reads "expect". */
static int parse_expect(struct ctx *c, const cJSON *ex)
{
    int e = cJSON_IsString(ex) ? rpt_expect_parse(ex->valuestring) : -1;
    if (e >= 0) {
        c->s->expect = (enum rpt_expect)e;
        return 0;
    }
    return json_bad_type(&c->j, "expect", ex, "one of \"leak\", \"no-leak\", \"any\"");
}

/* Reads "roles": {"NAME": "GLOB", ...}, the first matching rule naming a process's role. */
static int parse_roles(struct ctx *c, const cJSON *root)
{
    struct scn *s = c->s;
    int rc = json_get_map(&c->j, root, "roles", ROLE_SEP, &s->roles, &s->n_roles);
    if (rc < 0 || s->n_roles == 0) {
        return rc;
    }
    s->role_rules = calloc(s->n_roles, sizeof(*s->role_rules));
    if (!s->role_rules) {
        return diag_set(c->j.d, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->n_roles; i++) {
        char *sep = strstr(s->roles[i], ROLE_SEP);
        if (!sep || sep == s->roles[i] || !sep[1]) {
            return json_fail(&c->j, "roles",
                             "expected {\"ROLE\": \"GLOB\", ...} with a name and a glob on "
                             "the command line or executable");
        }
        *sep = '\0';
        s->role_rules[i] = (struct analysis_role){.name = s->roles[i], .match = sep + 1};
    }
    return 0;
}

/* Reads how the scenario is judged: rounds, timeouts, threshold, expectation, suppressions. */
static int parse_judging(struct ctx *c, const cJSON *root)
{
    struct scn *s = c->s;
    int64_t v = s->rounds;
    int rc = json_get_int(&c->j, root, "rounds", 2, SCN_MAX_ROUNDS, &v);
    s->rounds = (uint32_t)v;
    v = s->warmup;
    if (rc == 0) {
        rc = json_get_int(&c->j, root, "warmup", 0, SCN_MAX_ROUNDS, &v);
    }
    s->warmup = (uint32_t)v;
    if (rc == 0) {
        rc = json_get_seconds(&c->j, root, "round_timeout_s", &s->round_timeout_ms);
    }
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(root, "threshold");
    if (rc == 0 && th) {
        rc = parse_threshold(c, th);
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "expect");
    if (rc == 0 && ex) {
        rc = parse_expect(c, ex);
    }
    if (rc == 0) {
        rc = json_get_str(&c->j, root, "expect_culprit", false, NULL, &s->expect_culprit);
    }
    const cJSON *supp = cJSON_GetObjectItemCaseSensitive(root, "suppress");
    if (rc == 0 && supp) {
        rc = parse_supp(c, supp);
    }
    if (rc == 0) {
        rc = json_get_strs(&c->j, root, "wrappers", false, &s->wrappers, &s->n_wrappers);
    }
    if (rc == 0) {
        rc = parse_roles(c, root);
    }
    if (rc == 0) {
        rc = parse_retainers(c, root);
    }
    return rc;
}

/* The hint of a missing "driver": {"kind": "stdio" | "http" | "command", ...}. */
static void driver_hint(char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "the workload: {\"kind\": ");
    for (size_t i = 0; i < drv_kind_count() && n < len; i++) {
        n += (size_t)snprintf(out + n, len - n, "%s\"%s\"", i ? " | " : "", drv_kind_at(i)->name);
    }
    if (n < len) {
        snprintf(out + n, len - n, ", ...}");
    }
}

/* Reads "target" and "driver", which must be there. */
static int parse_parts(struct ctx *c, const cJSON *root)
{
    int rc = 0;
    if (!cJSON_GetObjectItemCaseSensitive(root, "target")) {
        rc = json_missing(&c->j, "target", "what to run: {\"argv\": [...]}");
    }
    if (rc == 0) {
        rc = parse_target(c, cJSON_GetObjectItemCaseSensitive(root, "target"));
    }
    if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(root, "driver")) {
        char hint[256];
        driver_hint(hint, sizeof(hint));
        rc = json_missing(&c->j, "driver", hint);
    }
    if (rc == 0) {
        rc = parse_driver(c, cJSON_GetObjectItemCaseSensitive(root, "driver"));
    }
    return rc;
}

static int parse_root(struct ctx *c, const cJSON *root)
{
    static const char *const known[] = {"name",
                                        "target",
                                        "driver",
                                        "rounds",
                                        "warmup",
                                        "round_timeout_s",
                                        "threshold",
                                        "expect",
                                        "expect_culprit",
                                        "suppress",
                                        "wrappers",
                                        "$schema",
                                        "description",
                                        "roles",
                                        "retainers",
                                        "retainers_stop_s",
                                        NULL};
    struct scn *s = c->s;
    if (!cJSON_IsObject(root)) {
        char found[96];
        return json_fail(&c->j, NULL, "expected a JSON object at the top, found %s",
                         json_describe(root, found, sizeof(found)));
    }
    int rc = json_check_keys(&c->j, root, known);
    if (rc == 0) {
        rc = parse_name(c, root);
    }
    if (rc == 0) {
        rc = parse_parts(c, root);
    }
    if (rc == 0) {
        rc = parse_judging(c, root);
    }
    char *description = NULL;
    if (rc == 0) {
        rc = json_get_str(&c->j, root, "description", false, NULL, &description);
    }
    free(description);
    if (rc == 0 && s->uses_port && s->ready == SCN_READY_NONE &&
        !(s->driver->needs & DRV_PIPES_STDIN)) {
        /* A server on {port} with no probe: wait for the port to accept connections. */
        s->ready = SCN_READY_TCP;
        s->ready_port_is_placeholder = true;
    }
    return rc;
}

int scn_parse(const char *text, size_t len, const char *path, struct scn **out, struct diag *d)
{
    struct ctx c = {.s = scn_new()};
    cJSON *root = NULL;
    int rc = 0;
    json_init(&c.j, path ? path : "<scenario>", d);
    if (!c.s) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    if (path) {
        c.s->file = strdup(path);
        const char *slash = strrchr(path, '/');
        c.dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : NULL;
        if (!c.s->file || (slash && !c.dir)) {
            rc = -ENOMEM;
        }
    }
    if (rc == 0) {
        rc = json_parse(&c.j, text, len, false, &root);
    }
    if (rc == 0) {
        rc = parse_root(&c, root);
    }
    if (rc == -ENOMEM) {
        diag_set(d, rc, "out of memory");
    }
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
    char *text = NULL;
    size_t len = 0;
    struct diag rd = {{0}};
    int rc = file_read(path, SCN_MAX_FILE, &text, &len, &rd);
    if (rc == -EFBIG) {
        return diag_set(d, rc, "%s: too big for a scenario file (over %u MiB)", path,
                        SCN_MAX_FILE >> 20);
    }
    if (rc == -ENOMEM) {
        return diag_set(d, rc, "out of memory");
    }
    if (rc < 0) {
        return diag_set(d, rc, "%s: can't read: %s", path, strerror(-rc));
    }
    rc = scn_parse(text, len, path, out, d);
    free(text);
    return rc;
}

int scn_finish(struct scn *s, struct diag *d)
{
    struct ctx c = {.s = s};
    json_init(&c.j, s->file ? s->file : "command line", d);
    size_t mark = json_push(&c.j, "target");
    int rc = drv_check_strs(&c.j, s->argv, 0, "argv", false, &s->uses_port);
    json_pop(&c.j, mark);
    const struct drv_kind *k = s->driver;
    if (rc == 0 && k) {
        struct drv_parse p = {.json = &c.j, .uses_port = &s->uses_port};
        mark = json_push(&c.j, "driver");
        rc = k->check(&p, s->driver_cfg);
        json_pop(&c.j, mark);
    }
    if (rc == 0 && s->rounds < 2) {
        rc = json_fail(&c.j, "rounds", "need at least 2 measured rounds, found %u", s->rounds);
    }
    return rc;
}

/* ------------------------------------------------------------------ saving */

/* Adds "vars" and "files" (each with its text, so a recording needs no template) to the target
 * object `t`. Returns false when out of memory. */
static bool save_target_files(const struct scn *s, cJSON *t)
{
    bool ok = true;
    if (s->vars) {
        ok &= json_put_map(t, "vars", s->vars, 0, "=");
    }
    cJSON *fs = s->n_files ? cJSON_AddObjectToObject(t, "files") : NULL;
    ok &= !s->n_files || fs;
    for (size_t i = 0; fs && i < s->n_files; i++) {
        cJSON *f = cJSON_AddObjectToObject(fs, s->files[i].name);
        ok &= f && cJSON_AddStringToObject(f, "text", s->files[i].text) != NULL;
        if (f && s->files[i].executable) {
            ok &= cJSON_AddTrueToObject(f, "executable") != NULL;
        }
    }
    return ok;
}

/* Adds "target". Returns false when out of memory. */
static bool save_target(const struct scn *s, cJSON *root)
{
    cJSON *t = cJSON_AddObjectToObject(root, "target");
    bool ok = json_put_strs(t, "argv", s->argv, 0);
    if (s->env) {
        ok &= json_put_map(t, "env", s->env, 0, "=");
    }
    ok &= save_target_files(s, t);
    if (s->cwd) {
        ok &= cJSON_AddStringToObject(t, "cwd", s->cwd) != NULL;
    }
    if (s->ready == SCN_READY_NONE) {
        return ok;
    }
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
    return ok;
}

/* Adds "driver": its kind, then what its row writes. Returns false when out of memory. */
static bool save_driver(const struct scn *s, cJSON *root)
{
    const struct drv_kind *k = s->driver;
    cJSON *dv = cJSON_AddObjectToObject(root, "driver");
    if (!k || !dv || !cJSON_AddStringToObject(dv, "kind", k->name)) {
        return false;
    }
    return k->save(s->driver_cfg, dv);
}

/* Adds "suppress". Returns false when out of memory. */
static bool save_supp(const struct scn *s, cJSON *root)
{
    cJSON *a = cJSON_AddArrayToObject(root, "suppress");
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < s->n_supp; i++) {
        cJSON *o = cJSON_CreateObject();
        ok &= o != NULL;
        if (s->supp[i].function) {
            ok &= cJSON_AddStringToObject(o, "function", s->supp[i].function) != NULL;
        }
        if (s->supp[i].object) {
            ok &= cJSON_AddStringToObject(o, "object", s->supp[i].object) != NULL;
        }
        if (s->supp[i].stack) {
            ok &= json_put_strs(o, "stack", s->supp[i].stack, s->supp[i].n_stack);
        }
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            ok = false;
        }
    }
    return ok;
}

/* Adds how the scenario is judged. Returns false when out of memory. */
static bool save_judging(const struct scn *s, cJSON *root)
{
    bool ok = cJSON_AddNumberToObject(root, "rounds", s->rounds) != NULL;
    ok &= cJSON_AddNumberToObject(root, "warmup", s->warmup) != NULL;
    ok &= cJSON_AddNumberToObject(root, "round_timeout_s", s->round_timeout_ms / 1000.0) != NULL;
    cJSON *th = cJSON_AddObjectToObject(root, "threshold");
    ok &= th != NULL;
    ok &= cJSON_AddNumberToObject(th, "bytes_per_round", s->threshold_bytes_per_round) != NULL;
    if (s->threshold_blocks_per_round > 0) {
        ok &=
            cJSON_AddNumberToObject(th, "blocks_per_round", s->threshold_blocks_per_round) != NULL;
    }
    if (s->threshold_rss_bytes_per_round > 0) {
        ok &= cJSON_AddNumberToObject(th, "rss_bytes_per_round",
                                      s->threshold_rss_bytes_per_round) != NULL;
    }
    ok &= cJSON_AddStringToObject(root, "expect", rpt_expect_name(s->expect)) != NULL;
    if (s->expect_culprit) {
        ok &= cJSON_AddStringToObject(root, "expect_culprit", s->expect_culprit) != NULL;
    }
    if (s->n_supp) {
        ok &= save_supp(s, root);
    }
    if (s->n_roles && s->role_rules) {
        cJSON *roles = cJSON_AddObjectToObject(root, "roles");
        for (size_t i = 0; roles && i < s->n_roles; i++) {
            ok &= cJSON_AddStringToObject(roles, s->role_rules[i].name, s->role_rules[i].match) !=
                  NULL;
        }
        ok &= roles != NULL;
    }
    if (s->retainers != SCN_RETAIN_LAST) {
        ok &= cJSON_AddStringToObject(root, "retainers", scn_retainers_name(s->retainers)) != NULL;
    }
    if (s->retainers_stop_ms > 0) {
        ok &= cJSON_AddNumberToObject(root, "retainers_stop_s", s->retainers_stop_ms / 1000.0) !=
              NULL;
    }
    if (s->n_wrappers) {
        ok &= json_put_strs(root, "wrappers", s->wrappers, s->n_wrappers);
    }
    return ok;
}

int scn_save(const struct scn *s, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        return -ENOMEM;
    }
    // Every add can fail; a scenario missing a key is never written.
    bool ok = cJSON_AddStringToObject(root, "name", s->name) != NULL;
    ok = ok && save_target(s, root);
    ok = ok && save_driver(s, root);
    ok = ok && save_judging(s, root);
    char *text = ok ? json_print(root, true) : NULL;
    cJSON_Delete(root);
    if (!text) {
        return -ENOMEM;
    }
    // Atomic, like every report file: a recording's scenario.json is whole or absent.
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        return -ENOMEM;
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    int rc = file_write(path, line, len + 1, NULL);
    free(line);
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
        .threshold_rss_bytes_per_round = s->threshold_rss_bytes_per_round,
        .supp = s->supp,
        .n_supp = s->n_supp,
        .wrappers = s->wrappers,
        .n_wrappers = s->n_wrappers,
        .roles = s->role_rules,
        .n_roles = s->role_rules ? s->n_roles : 0,
    };
}
