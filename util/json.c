/* SPDX-License-Identifier: MIT */
/* json.c - strict reading of JSON input over cJSON (see json.h).
 *
 * Every reader looks its member up with cJSON_GetObjectItemCaseSensitive(), checks type and
 * range, and words its failure through json_bad_type(), so a message always has the same shape:
 * the input, the JSON path, what was expected, what was found.
 */
#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "strv.h"

void json_init(struct json_ctx *c, const char *file, struct diag *d)
{
    memset(c, 0, sizeof(*c));
    c->file = file;
    c->d = d;
}

/* Line and column (1-based) of `at` in text[0..len). */
static void json_position(struct json_ctx *c, const char *text, size_t len, const char *at)
{
    c->err_line = 1;
    c->err_col = 1;
    c->err_offset = at && at >= text ? (size_t)(at - text) : 0;
    for (const char *p = text; at && p < at && p < text + len; p++) {
        if (*p == '\n') {
            c->err_line++;
            c->err_col = 1;
        } else {
            c->err_col++;
        }
    }
}

/* ------------------------------------------------------------------ the pre-scan
 *
 * Before cJSON sees a document, one pass over its bytes checks what cJSON lets through: invalid
 * UTF-8, a NUL written as \u0000 (cJSON would cut the string there), the same key twice in one
 * object (cJSON keeps both and lookups find the first), and nesting deeper than JSON_MAX_DEPTH
 * (cJSON would only say the text is not valid). Each failure names the JSON path. The pass
 * follows strings, brackets, colons and commas only; anything else it leaves to cJSON, which
 * reports syntax errors with their position.
 */

/* One open object or array. */
struct scan_frame {
    bool object;
    size_t index;      /* arrays: the element being read */
    size_t key_start;  /* objects: offset of the current key's first byte (after the quote) */
    size_t key_len;    /* its length as written (escapes not decoded) */
    size_t keys_first; /* objects: the frame's first entry in scan.keys */
};

/* A key as written, for the duplicate check. */
struct scan_key {
    size_t start, len;
};

struct scan {
    struct json_ctx *c;
    const char *text;
    size_t len;
    size_t pos;
    struct scan_frame frames[JSON_MAX_DEPTH];
    size_t depth;
    struct scan_key *keys; /* keys of every open object, in order */
    size_t n_keys, cap_keys;
    const char *key_text; /* for qsort: the document */
};

/* Writes the path of the value being read (frames[0..upto)) into out. */
static void scan_path(const struct scan *sc, size_t upto, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < upto && o + 1 < len; i++) {
        const struct scan_frame *f = &sc->frames[i];
        int w;
        if (upto > 8 && i == 3) {
            /* A deep path: its first three steps, "...", its last two. */
            w = fmt_c(out + o, len - o, "...");
            i = upto - 3;
        } else if (f->object) {
            size_t kl = f->key_len < 64 ? f->key_len : 64;
            w = fmt_c(out + o, len - o, "%s%.*s", o ? "." : "", (int)kl, sc->text + f->key_start);
        } else {
            w = fmt_c(out + o, len - o, "[%zu]", f->index);
        }
        if (w < 0) {
            break;
        }
        o += (size_t)w < len - o ? (size_t)w : len - o - 1;
    }
}

/* Line and column (1-based) of offset `at`. */
static void scan_line_col(const struct scan *sc, size_t at, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at && i < sc->len; i++) {
        if (sc->text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Fails with "FILE: PATH: MESSAGE (line L, column C)". `upto` frames make the path. */
static int scan_fail(struct scan *sc, size_t upto, size_t at, const char *what)
{
    char path[JSON_PATH_MAX];
    size_t line, col;
    scan_path(sc, upto, path, sizeof(path));
    scan_line_col(sc, at, &line, &col);
    sc->c->err_line = line;
    sc->c->err_col = col;
    sc->c->err_offset = at;
    if (path[0]) {
        return diag_set(sc->c->d, -EINVAL, "%s: %s: %s (line %zu, column %zu)", sc->c->file, path,
                        what, line, col);
    }
    return diag_set(sc->c->d, -EINVAL, "%s: %s (line %zu, column %zu)", sc->c->file, what, line,
                    col);
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 when it is not one (overlong forms,
 * surrogates and code points past U+10FFFF are not). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80) {
        return 1;
    }
    size_t need;
    uint32_t cp;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        need = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        need = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        need = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n < need) {
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return need;
}

size_t json_utf8_valid_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0) {
            break;
        }
        i += k;
    }
    return i;
}

char *json_utf8_repair(char *s)
{
    if (!s) {
        return NULL;
    }
    size_t n = strlen(s);
    size_t ok = json_utf8_valid_prefix(s, n);
    if (ok == n) {
        return s;
    }
    /* Each invalid byte becomes U+FFFD (3 bytes). */
    char *out = malloc(ok + (n - ok) * 3 + 1);
    if (!out) {
        free(s);
        return NULL;
    }
    memcpy(out, s, ok);
    size_t o = ok;
    for (size_t i = ok; i < n;) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    free(s);
    return out;
}

char *json_print(const cJSON *item, bool formatted)
{
    return json_utf8_repair(formatted ? cJSON_Print(item) : cJSON_PrintUnformatted(item));
}

/* Reads the string whose opening quote is at sc->pos; leaves pos after the closing quote.
 * Fails on invalid UTF-8 and on \u0000; an unterminated string is left to cJSON (returns 1).
 * `upto` frames name the string's place. */
static int scan_string(struct scan *sc, size_t upto)
{
    sc->pos++;
    while (sc->pos < sc->len) {
        unsigned char ch = (unsigned char)sc->text[sc->pos];
        if (ch == '"') {
            sc->pos++;
            return 0;
        }
        if (ch == '\\') {
            if (sc->pos + 5 < sc->len && sc->text[sc->pos + 1] == 'u' &&
                memcmp(sc->text + sc->pos + 2, "0000", 4) == 0) {
                return scan_fail(sc, upto, sc->pos,
                                 "a string holds a NUL character (\\u0000); strings may not "
                                 "contain NUL");
            }
            sc->pos += 2;
            continue;
        }
        size_t k = utf8_seq((const unsigned char *)sc->text + sc->pos, sc->len - sc->pos);
        if (k == 0) {
            char what[128];
            fmt_c(what, sizeof(what), "not valid UTF-8 (byte 0x%02x); text must be UTF-8",
                  (unsigned)ch);
            return scan_fail(sc, upto, sc->pos, what);
        }
        sc->pos += k;
    }
    return 1;
}

/* qsort order of keys: by their bytes, then by position. */
static int scan_key_cmp(const void *a, const void *b, void *text)
{
    const struct scan_key *x = a;
    const struct scan_key *y = b;
    const char *t = text;
    size_t n = x->len < y->len ? x->len : y->len;
    int d = memcmp(t + x->start, t + y->start, n);
    if (d == 0 && x->len != y->len) {
        d = x->len < y->len ? -1 : 1;
    }
    if (d == 0) {
        d = x->start < y->start ? -1 : (x->start > y->start ? 1 : 0);
    }
    return d;
}

/* At the close of the object frames[depth-1]: fails on a key written twice. */
static int scan_close_object(struct scan *sc)
{
    const struct scan_frame *f = &sc->frames[sc->depth - 1];
    size_t n = sc->n_keys - f->keys_first;
    if (n < 2) {
        sc->n_keys = f->keys_first;
        return 0; /* no key, or one: nothing to compare (and sc->keys may be NULL) */
    }
    struct scan_key *k = sc->keys + f->keys_first;
    qsort_r(k, n, sizeof(*k), scan_key_cmp, (void *)(uintptr_t)sc->text);
    int rc = 0;
    for (size_t i = 1; rc == 0 && i < n; i++) {
        if (k[i].len == k[i - 1].len &&
            memcmp(sc->text + k[i].start, sc->text + k[i - 1].start, k[i].len) == 0) {
            size_t line, col;
            char what[256];
            size_t later = k[i].start > k[i - 1].start ? k[i].start : k[i - 1].start;
            size_t first = k[i].start < k[i - 1].start ? k[i].start : k[i - 1].start;
            scan_line_col(sc, first, &line, &col);
            fmt_c(what, sizeof(what),
                  "duplicate key '%.*s' (first at line %zu); each key may "
                  "appear once",
                  (int)(k[i].len < 64 ? k[i].len : 64), sc->text + k[i].start, line);
            rc = scan_fail(sc, sc->depth - 1, later, what);
        }
    }
    sc->n_keys = f->keys_first;
    return rc;
}

/* Records the key whose opening quote is at `at` and ends before sc->pos. Returns 0 or
 * -ENOMEM. */
static int scan_add_key(struct scan *sc, size_t at)
{
    struct scan_frame *f = &sc->frames[sc->depth - 1];
    f->key_start = at + 1;
    f->key_len = sc->pos - at - 2;
    if (sc->n_keys == sc->cap_keys) {
        size_t cap = sc->cap_keys ? sc->cap_keys * 2 : 64;
        struct scan_key *k = realloc(sc->keys, cap * sizeof(*k));
        if (!k) {
            return json_nomem(sc->c);
        }
        sc->keys = k;
        sc->cap_keys = cap;
    }
    sc->keys[sc->n_keys++] = (struct scan_key){f->key_start, f->key_len};
    return 0;
}

/* Opens an object or array at sc->pos. */
static int scan_open(struct scan *sc, bool object)
{
    if (sc->depth == JSON_MAX_DEPTH) {
        char what[128];
        fmt_c(what, sizeof(what),
              "nested deeper than %d levels (objects and arrays inside each other); no "
              "leakcheck file needs that many",
              JSON_MAX_DEPTH);
        return scan_fail(sc, sc->depth, sc->pos, what);
    }
    sc->frames[sc->depth++] = (struct scan_frame){.object = object, .keys_first = sc->n_keys};
    sc->pos++;
    return 0;
}

/* One pass over the document; 0 also when the syntax is left to cJSON. */
static int scan_run(struct scan *sc)
{
    bool expect_key = false; /* inside an object, where a key may come next */
    while (sc->pos < sc->len) {
        char ch = sc->text[sc->pos];
        int rc = 0;
        if (ch == '"') {
            size_t at = sc->pos;
            bool is_key = expect_key && sc->depth > 0 && sc->frames[sc->depth - 1].object;
            rc = scan_string(sc, is_key ? sc->depth - 1 : sc->depth);
            if (rc == 0 && is_key) {
                rc = scan_add_key(sc, at);
            }
            expect_key = false;
        } else if (ch == '{' || ch == '[') {
            rc = scan_open(sc, ch == '{');
            expect_key = ch == '{';
        } else if (ch == '}' || ch == ']') {
            if (sc->depth == 0 || sc->frames[sc->depth - 1].object != (ch == '}')) {
                return 0; /* cJSON says where */
            }
            if (ch == '}') {
                rc = scan_close_object(sc);
            }
            sc->depth--;
            sc->pos++;
        } else if (ch == ',') {
            if (sc->depth > 0) {
                struct scan_frame *f = &sc->frames[sc->depth - 1];
                f->index++;
                expect_key = f->object;
            }
            sc->pos++;
        } else if ((unsigned char)ch >= 0x80 &&
                   utf8_seq((const unsigned char *)sc->text + sc->pos, sc->len - sc->pos) == 0) {
            char what[128];
            fmt_c(what, sizeof(what), "not valid UTF-8 (byte 0x%02x); text must be UTF-8",
                  (unsigned)(unsigned char)ch);
            rc = scan_fail(sc, sc->depth, sc->pos, what);
        } else {
            sc->pos++;
        }
        if (rc != 0) {
            return rc < 0 ? rc : 0;
        }
    }
    return 0;
}

/* Runs the pre-scan over text[0..len). Returns 0, -EINVAL or -ENOMEM with the diag set. */
static int json_prescan(struct json_ctx *c, const char *text, size_t len)
{
    struct scan *sc = calloc(1, sizeof(*sc));
    if (!sc) {
        return json_nomem(c);
    }
    sc->c = c;
    sc->text = text;
    sc->len = len;
    int rc = scan_run(sc);
    free(sc->keys);
    free(sc);
    return rc;
}

int json_parse(struct json_ctx *c, const char *text, size_t len, bool whole, cJSON **out)
{
    int rc = json_prescan(c, text, len);
    if (rc != 0) {
        return rc;
    }
    const char *end = NULL;
    /* With `whole`, cJSON wants to see the terminating NUL inside the buffer it is given. */
    cJSON *root = cJSON_ParseWithLengthOpts(text, whole ? len + 1 : len, &end, whole);
    if (!root) {
        json_position(c, text, len, end ? end : cJSON_GetErrorPtr());
        return diag_set(c->d, -EINVAL,
                        "%s:%zu:%zu: not valid JSON (check commas, quotes and braces)", c->file,
                        c->err_line, c->err_col);
    }
    *out = root;
    return 0;
}

size_t json_push(struct json_ctx *c, const char *key)
{
    size_t mark = strlen(c->path);
    fmt_c(c->path + mark, sizeof(c->path) - mark, "%s%s", mark ? "." : "", key);
    return mark;
}

size_t json_push_index(struct json_ctx *c, const char *key, size_t i)
{
    size_t mark = strlen(c->path);
    fmt_c(c->path + mark, sizeof(c->path) - mark, "%s%s[%zu]", mark ? "." : "", key, i);
    return mark;
}

void json_pop(struct json_ctx *c, size_t mark)
{
    if (mark < sizeof(c->path)) {
        c->path[mark] = '\0';
    }
}

/* "PATH.KEY", "PATH", "KEY" or "" into out. */
static void json_join(const struct json_ctx *c, const char *key, char *out, size_t len)
{
    const char *dot = c->path[0] && key && key[0] ? "." : "";
    fmt_c(out, len, "%s%s%s", c->path, dot, key ? key : "");
}

void json_where(const struct json_ctx *c, const char *key, char *out, size_t len)
{
    char at[JSON_PATH_MAX + 128];
    json_join(c, key, at, sizeof(at));
    fmt_c(out, len, "%s: %s", c->file, at);
}

int json_fail(struct json_ctx *c, const char *key, const char *fmt, ...)
{
    char at[JSON_PATH_MAX + 128];
    char msg[DIAG_MAX];
    va_list ap;
    va_start(ap, fmt);
    fmt_vc(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_join(c, key, at, sizeof(at));
    if (!at[0]) {
        return diag_set(c->d, -EINVAL, "%s: %s", c->file, msg);
    }
    return diag_set(c->d, -EINVAL, "%s: %s: %s", c->file, at, msg);
}

int json_bad_type(struct json_ctx *c, const char *key, const cJSON *v, const char *expected)
{
    char found[96];
    return json_fail(c, key, "expected %s, found %s", expected,
                     json_describe(v, found, sizeof(found)));
}

int json_missing(struct json_ctx *c, const char *key, const char *hint)
{
    bool has_hint = hint && hint[0];
    return diag_set(c->d, -EINVAL, "%s: %s%smissing key '%s'%s%s%s", c->file, c->path,
                    c->path[0] ? ": " : "", key, has_hint ? " (" : "", has_hint ? hint : "",
                    has_hint ? ")" : "");
}

int json_nomem(struct json_ctx *c)
{
    return diag_set(c->d, -ENOMEM, "%s: out of memory", c->file);
}

const char *json_describe(const cJSON *v, char *buf, size_t len)
{
    if (!v) {
        fmt_c(buf, len, "nothing");
    } else if (cJSON_IsString(v)) {
        fmt_c(buf, len, "string '%.40s%s'", v->valuestring,
              strlen(v->valuestring) > 40 ? "..." : "");
    } else if (cJSON_IsNumber(v)) {
        fmt_c(buf, len, "number %g", v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        fmt_c(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        fmt_c(buf, len, "null");
    } else if (cJSON_IsArray(v)) {
        fmt_c(buf, len, "an array");
    } else {
        fmt_c(buf, len, "an object");
    }
    return buf;
}

size_t json_edit_distance(const char *a, const char *b)
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
            size_t best = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
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

/* The known key nearest to `key` when it is close enough to be a typo, else NULL. */
static const char *json_nearest(const char *key, const char *const *known)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (const char *const *k = known; *k; k++) {
        size_t dist = json_edit_distance(key, *k);
        if (dist < best_d) {
            best_d = dist;
            best = *k;
        }
    }
    size_t klen = strlen(key);
    size_t limit = klen / 3 > 2 ? klen / 3 : 2;
    return best && best_d <= limit ? best : NULL;
}

/* Fails on `key`, which is not in `known`. Returns -EINVAL. */
static int json_unknown_key(struct json_ctx *c, const char *key, const char *const *known)
{
    char prefix[JSON_PATH_MAX + 300];
    fmt_c(prefix, sizeof(prefix), "%s: %s%s", c->file, c->path, c->path[0] ? ": " : "");
    const char *near = json_nearest(key, known);
    if (near) {
        return diag_set(c->d, -EINVAL, "%sunknown key '%s' (did you mean '%s'?)", prefix, key,
                        near);
    }
    char list[400] = "";
    size_t n = 0;
    for (const char *const *k = known; *k && n < sizeof(list); k++) {
        n += (size_t)fmt_c(list + n, sizeof(list) - n, "%s%s", k == known ? "" : ", ", *k);
    }
    return diag_set(c->d, -EINVAL, "%sunknown key '%s' (known keys: %s)", prefix, key, list);
}

int json_check_keys(struct json_ctx *c, const cJSON *obj, const char *const *known)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) {
            ok = strcmp(it->string, *k) == 0;
        }
        if (!ok) {
            return json_unknown_key(c, it->string, known);
        }
    }
    return 0;
}

int json_want_object(struct json_ctx *c, const cJSON *v, const char *key)
{
    if (!cJSON_IsObject(v)) {
        return json_bad_type(c, key, v, "an object");
    }
    return 0;
}

int json_check_len(struct json_ctx *c, const char *key, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) {
        return 0;
    }
    return json_fail(c, key, "expected a string of at most %zu bytes, found one of %zu bytes", max,
                     n);
}

int json_get_str(struct json_ctx *c, const cJSON *obj, const char *key, bool required,
                 const char *hint, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return required ? json_missing(c, key, hint) : 0;
    }
    if (!cJSON_IsString(v)) {
        return json_bad_type(c, key, v, "a string");
    }
    if (required && !v->valuestring[0]) {
        return json_bad_type(c, key, v, "a non-empty string");
    }
    int rc = json_check_len(c, key, v->valuestring, JSON_MAX_STRING);
    if (rc != 0) {
        return rc;
    }
    char *dup = strdup(v->valuestring);
    if (!dup) {
        return json_nomem(c);
    }
    free(*out);
    *out = dup;
    return 0;
}

int json_get_str_or_null(struct json_ctx *c, const cJSON *obj, const char *key, size_t max_len,
                         char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        return json_bad_type(c, key, v, "a string or null");
    }
    if (strlen(v->valuestring) > max_len) {
        return json_fail(c, key, "string longer than the %zu-byte limit", max_len);
    }
    *out = strdup(v->valuestring);
    return *out ? 0 : json_nomem(c);
}

int json_int_value(struct json_ctx *c, const char *key, const cJSON *v, int64_t min, int64_t max,
                   int64_t *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        floor(v->valuedouble) != v->valuedouble || v->valuedouble < (double)min ||
        v->valuedouble > (double)max) {
        char expected[96];
        fmt_c(expected, sizeof(expected), "an integer from %lld to %lld", (long long)min,
              (long long)max);
        return json_bad_type(c, key, v, expected);
    }
    *out = (int64_t)v->valuedouble;
    return 0;
}

int json_get_int(struct json_ctx *c, const cJSON *obj, const char *key, int64_t min, int64_t max,
                 int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    return json_int_value(c, key, v, min, max, out);
}

int json_get_double(struct json_ctx *c, const cJSON *obj, const char *key, double min, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min) {
        char expected[64];
        fmt_c(expected, sizeof(expected), "a number >= %g", min);
        return json_bad_type(c, key, v, expected);
    }
    *out = v->valuedouble;
    return 0;
}

int json_get_num_or_null(struct json_ctx *c, const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (cJSON_IsNull(v)) {
        *out = NAN;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        return json_bad_type(c, key, v, "a number");
    }
    *out = v->valuedouble;
    return 0;
}

int json_get_seconds(struct json_ctx *c, const cJSON *obj, const char *key, int *out_ms)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > 86400) {
        return json_bad_type(c, key, v, "a number of seconds above 0 and at most 86400");
    }
    *out_ms = (int)ceil(v->valuedouble * 1000.0);
    return 0;
}

int json_get_bool(struct json_ctx *c, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (!cJSON_IsBool(v)) {
        return json_bad_type(c, key, v, "true or false");
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

/* The value of hexadecimal digit `ch`, or -1. */
static int json_hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

int json_get_hex(struct json_ctx *c, const cJSON *obj, const char *key, uint64_t *out)
{
    static const char expected[] = "a hexadecimal string like \"0x4011a6\"";
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (cJSON_IsNull(v)) {
        *out = 0;
        return 0;
    }
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2] || strlen(s) > 18) {
        return json_bad_type(c, key, v, expected);
    }
    uint64_t x = 0;
    for (const char *p = s + 2; *p; p++) {
        int digit = json_hex_digit(*p);
        if (digit < 0) {
            return json_bad_type(c, key, v, expected);
        }
        x = (x << 4) | (uint64_t)digit;
    }
    *out = x;
    return 0;
}

int json_get_array(struct json_ctx *c, const cJSON *obj, const char *key, size_t cap,
                   const cJSON **arr, size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *arr = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsArray(v)) {
        return json_bad_type(c, key, v, "an array");
    }
    size_t count = (size_t)cJSON_GetArraySize(v);
    if (count > cap) {
        return json_fail(c, key, "%zu items, more than the limit of %zu", count, cap);
    }
    *arr = v;
    *n = count;
    return 0;
}

int json_get_strs(struct json_ctx *c, const cJSON *obj, const char *key, bool nonempty, char ***out,
                  size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (!cJSON_IsArray(v) || (nonempty && cJSON_GetArraySize(v) == 0)) {
        return json_bad_type(c, key, v,
                             nonempty ? "a non-empty array of strings" : "an array of strings");
    }
    size_t count = (size_t)cJSON_GetArraySize(v);
    if (count > JSON_MAX_ITEMS) {
        return json_fail(c, key, "expected at most %d strings, found %zu", JSON_MAX_ITEMS, count);
    }
    char **vec = calloc(count + 1, sizeof(*vec));
    if (!vec) {
        return json_nomem(c);
    }
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        char where[JSON_PATH_MAX];
        fmt_c(where, sizeof(where), "%s[%zu]", key, i);
        if (!cJSON_IsString(it)) {
            strv_free(vec);
            return json_bad_type(c, where, it, "a string");
        }
        int rc = json_check_len(c, where, it->valuestring, JSON_MAX_STRING);
        if (rc != 0) {
            strv_free(vec);
            return rc;
        }
        vec[i] = strdup(it->valuestring);
        if (!vec[i]) {
            strv_free(vec);
            return json_nomem(c);
        }
        i++;
    }
    *out = vec;
    if (n) {
        *n = count;
    }
    return 0;
}

/* "NAME<sep>value" for map entry `it` into a new string, or fails. */
static int json_map_entry(struct json_ctx *c, const cJSON *it, const char *sep, char **out)
{
    if (!cJSON_IsString(it)) {
        return json_bad_type(c, it->string, it, "a string");
    }
    if (!it->string[0] || (sep[0] == '=' && strchr(it->string, '='))) {
        return json_fail(c, NULL, "bad name '%s' (expected a name without '=')", it->string);
    }
    size_t len = strlen(it->string) + strlen(sep) + strlen(it->valuestring) + 1;
    *out = malloc(len);
    if (!*out) {
        return json_nomem(c);
    }
    fmt_c(*out, len, "%s%s%s", it->string, sep, it->valuestring);
    return 0;
}

int json_get_map(struct json_ctx *c, const cJSON *obj, const char *key, const char *sep,
                 char ***out, size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return 0;
    }
    if (!cJSON_IsObject(v)) {
        return json_bad_type(c, key, v, "an object of strings");
    }
    size_t count = (size_t)cJSON_GetArraySize(v);
    if (count > JSON_MAX_ITEMS) {
        return json_fail(c, key, "expected at most %d strings, found %zu", JSON_MAX_ITEMS, count);
    }
    char **vec = calloc(count + 1, sizeof(*vec));
    if (!vec) {
        return json_nomem(c);
    }
    size_t mark = json_push(c, key);
    size_t i = 0;
    const cJSON *it;
    int rc = 0;
    cJSON_ArrayForEach(it, v)
    {
        rc = json_map_entry(c, it, sep, &vec[i]);
        if (rc < 0) {
            break;
        }
        i++;
    }
    json_pop(c, mark);
    if (rc < 0) {
        strv_free(vec);
        return rc;
    }
    strv_free(*out);
    *out = vec;
    if (n) {
        *n = count;
    }
    return 0;
}

int json_get_enum(struct json_ctx *c, const cJSON *obj, const char *key, const char *const *names,
                  size_t n, bool required, int *out)
{
    char expected[256];
    size_t len = (size_t)fmt_c(expected, sizeof(expected), "one of");
    for (size_t i = 0; i < n && len < sizeof(expected); i++) {
        len += (size_t)fmt_c(expected + len, sizeof(expected) - len, "%s '%s'", i ? "," : "",
                             names[i]);
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        return required ? json_missing(c, key, expected) : 0;
    }
    for (size_t i = 0; cJSON_IsString(v) && i < n; i++) {
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return json_bad_type(c, key, v, expected);
}

bool json_put_strs(cJSON *obj, const char *key, char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && v && (n ? i < n : v[i] != NULL); i++) {
        cJSON *x = cJSON_CreateString(v[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return false;
        }
    }
    if (obj && a && cJSON_AddItemToObject(obj, key, a)) {
        return true;
    }
    cJSON_Delete(a);
    return false;
}

bool json_put_map(cJSON *obj, const char *key, char *const *v, size_t n, const char *sep)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && v && (n ? i < n : v[i] != NULL); i++) {
        const char *at = strstr(v[i], sep);
        if (!at) {
            continue;
        }
        char *name = strndup(v[i], (size_t)(at - v[i]));
        bool added = name && cJSON_AddStringToObject(o, name, at + strlen(sep)) != NULL;
        free(name);
        if (!added) {
            cJSON_Delete(o);
            return false;
        }
    }
    if (obj && o && cJSON_AddItemToObject(obj, key, o)) {
        return true;
    }
    cJSON_Delete(o);
    return false;
}
