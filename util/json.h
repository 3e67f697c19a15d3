/* SPDX-License-Identifier: MIT */
/* json.h - strict reading of JSON input over cJSON: scenario files and reports alike.
 *
 * One context per document holds the input's name, the JSON path of the object being read and
 * the struct diag a failure goes to. Every reader checks the type and range of what it reads and
 * fails with one message naming the input, the path, the key, what was expected and what was
 * found ("uploads.json: driver.multipart.bytes: expected an integer from 1 to 4294967296, found
 * string 'x'"); json_check_keys() rejects unknown keys, suggesting the nearest known one. A key
 * that is absent leaves the output as it was (callers set defaults first) unless the reader says
 * otherwise. Failures return -EINVAL, or -ENOMEM with "NAME: out of memory". A few writers for
 * the same value shapes (string arrays, "KEY=VALUE" maps) live here too. No globals; not
 * thread-safe per context.
 */
#ifndef UTIL_JSON_H
#define UTIL_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define JSON_PATH_MAX   512
#define JSON_INT_MAX    9007199254740992LL /* 2^53: integers up to here are exact in a double */
#define JSON_MAX_DEPTH  64                 /* objects and arrays inside each other, at most */
#define JSON_MAX_STRING 65536  /* bytes in a string json_get_str()/json_get_strs() accept */
#define JSON_MAX_ITEMS  100000 /* strings in an array json_get_strs() accepts */

struct json_ctx {
    const char *file;         /* names the input in messages (borrowed) */
    char path[JSON_PATH_MAX]; /* the object being read: "", "driver", "scenarios[0].rounds[2]" */
    struct diag *d;           /* where failures go (may be NULL) */
    size_t err_line;          /* where json_parse() failed: line and column (1-based), */
    size_t err_col;           /* and byte offset */
    size_t err_offset;
};

/* Starts a context for the input named `file` (borrowed), at the top of the document. Can't
 * fail. */
void json_init(struct json_ctx *c, const char *file, struct diag *d);

/* Parses `len` bytes of `text`. With `whole`, nothing but white space may follow the value and
 * text[len] must be the terminating NUL; without it, the rest is ignored. On success *out is the
 * tree (caller frees with cJSON_Delete()). Before cJSON, the text is checked for what cJSON lets
 * through, each an error naming the JSON path, line and column: invalid UTF-8 ("FILE: name: not
 * valid UTF-8 (byte 0xff); text must be UTF-8 (line 2, column 12)"), a NUL written as \u0000,
 * a key twice in one object, nesting deeper than JSON_MAX_DEPTH. Returns 0, -EINVAL with
 * "FILE:LINE:COL: not valid JSON (check commas, quotes and braces)" or one of those in the diag
 * and the position in c->err_*, or -ENOMEM. */
int json_parse(struct json_ctx *c, const char *text, size_t len, bool whole, cJSON **out);

/* Length of the longest prefix of s[0..n) that is valid UTF-8 (n when all of it is). Can't
 * fail. */
size_t json_utf8_valid_prefix(const char *s, size_t n);

/* Returns `s` (malloc'ed, NUL-terminated) as valid UTF-8: `s` itself when it is, else a new
 * string with every byte that is not part of a valid sequence replaced by U+FFFD, `s` freed.
 * NULL (with `s` freed) when out of memory; NULL for NULL. */
char *json_utf8_repair(char *s);

/* cJSON_Print (formatted) or cJSON_PrintUnformatted of `item`, made valid UTF-8 with
 * json_utf8_repair(): every JSON file leakcheck writes goes through here, so a name or a path
 * that came from the system in another encoding can't make it invalid. NULL when out of memory.
 */
char *json_print(const cJSON *item, bool formatted);

/* Enters member `key` of the current object: the path gains ".key" ("key" at the top). Returns
 * the mark json_pop() restores. Can't fail (a path past JSON_PATH_MAX is cut). */
size_t json_push(struct json_ctx *c, const char *key);

/* Enters element `i` of array `key`: the path gains ".key[i]". Returns the mark for json_pop().
 * Can't fail. */
size_t json_push_index(struct json_ctx *c, const char *key, size_t i);

/* Returns to the path a json_push*() call left at `mark`. Can't fail. */
void json_pop(struct json_ctx *c, size_t mark);

/* Writes "FILE: PATH.KEY" (the place of `key` in the current object; `key` may be NULL) into
 * `out`, for messages built elsewhere. Can't fail. */
void json_where(const struct json_ctx *c, const char *key, char *out, size_t len);

/* Fails with "FILE: PATH.KEY: MESSAGE" ("FILE: MESSAGE" at the top with no key). Returns
 * -EINVAL. */
int json_fail(struct json_ctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fails with "FILE: PATH.KEY: expected EXPECTED, found WHAT-V-IS". Returns -EINVAL. */
int json_bad_type(struct json_ctx *c, const char *key, const cJSON *v, const char *expected);

/* Fails with "FILE: PATH: missing key 'KEY' (HINT)" (no parenthesis when `hint` is NULL or
 * empty). Returns -EINVAL. */
int json_missing(struct json_ctx *c, const char *key, const char *hint);

/* Fails with "FILE: out of memory". Returns -ENOMEM. */
int json_nomem(struct json_ctx *c);

/* Describes a value for "found ...": "nothing" (NULL), "string 'abc'" (cut at 40 bytes),
 * "number 3", "true", "null", "an array", "an object". Returns `buf`. Can't fail. */
const char *json_describe(const cJSON *v, char *buf, size_t len);

/* Levenshtein distance between two short strings (each cut at 64 bytes). Can't fail. */
size_t json_edit_distance(const char *a, const char *b);

/* Fails on the first key of object `obj` that is not in the NULL-terminated `known`: "unknown
 * key 'reqests' (did you mean 'requests'?)", or listing the known keys when none is close.
 * Returns 0 or -EINVAL. */
int json_check_keys(struct json_ctx *c, const cJSON *obj, const char *const *known);

/* Fails unless `v` (member `key` of the current object) is an object. Returns 0 or -EINVAL. */
int json_want_object(struct json_ctx *c, const cJSON *v, const char *key);

/* Fails with "FILE: PATH.KEY: expected a string of at most MAX bytes, found one of N bytes"
 * when `s` is longer than `max` bytes. Returns 0 or -EINVAL. */
int json_check_len(struct json_ctx *c, const char *key, const char *s, size_t max);

/* Reads string member `key` (at most JSON_MAX_STRING bytes) into *out (a copy, owned; the old
 * value is freed). Absent: 0, or
 * "missing key" when `required` (with `hint`). A required string must not be empty. Returns 0,
 * -EINVAL or -ENOMEM. */
int json_get_str(struct json_ctx *c, const cJSON *obj, const char *key, bool required,
                 const char *hint, char **out);

/* Reads a string of at most `max_len` bytes, or null, into *out (a copy, owned; NULL for null
 * or absent). Returns 0, -EINVAL or -ENOMEM. */
int json_get_str_or_null(struct json_ctx *c, const cJSON *obj, const char *key, size_t max_len,
                         char **out);

/* Checks that `v` (named `key` in messages) is an integer from `min` to `max` (both within
 * +-JSON_INT_MAX, where doubles are exact) and stores it. Returns 0 or -EINVAL. */
int json_int_value(struct json_ctx *c, const char *key, const cJSON *v, int64_t min, int64_t max,
                   int64_t *out);

/* Reads integer member `key` (from `min` to `max`, see json_int_value()). Absent: 0, *out
 * unchanged. Returns 0 or -EINVAL. */
int json_get_int(struct json_ctx *c, const cJSON *obj, const char *key, int64_t min, int64_t max,
                 int64_t *out);

/* Reads a finite number of at least `min`. Absent: 0, *out unchanged. Returns 0 or -EINVAL. */
int json_get_double(struct json_ctx *c, const cJSON *obj, const char *key, double min, double *out);

/* Reads a finite number, or null (stored as NAN). Absent: 0, *out unchanged. Returns 0 or
 * -EINVAL. */
int json_get_num_or_null(struct json_ctx *c, const cJSON *obj, const char *key, double *out);

/* Reads a number of seconds above 0 and at most a day into milliseconds (rounded up). Absent: 0,
 * *out_ms unchanged. Returns 0 or -EINVAL. */
int json_get_seconds(struct json_ctx *c, const cJSON *obj, const char *key, int *out_ms);

/* Reads true or false. Absent: 0, *out unchanged. Returns 0 or -EINVAL. */
int json_get_bool(struct json_ctx *c, const cJSON *obj, const char *key, bool *out);

/* Reads a "0x..." string of at most 16 hexadecimal digits, or null (0). Absent: 0, *out
 * unchanged. Returns 0 or -EINVAL. */
int json_get_hex(struct json_ctx *c, const cJSON *obj, const char *key, uint64_t *out);

/* Finds array member `key` of at most `cap` items: *arr and *n (NULL and 0 when absent or null).
 * Returns 0 or -EINVAL (not an array, too many items). */
int json_get_array(struct json_ctx *c, const cJSON *obj, const char *key, size_t cap,
                   const cJSON **arr, size_t *n);

/* Reads an array of strings into a NULL-terminated vector (owned, free with strv_free()) and
 * its count (`n` may be NULL). With `nonempty`, [] is refused. Absent: 0, outputs unchanged.
 * Returns 0, -EINVAL or -ENOMEM. */
int json_get_strs(struct json_ctx *c, const cJSON *obj, const char *key, bool nonempty, char ***out,
                  size_t *n);

/* Reads an object of strings {"NAME": "value", ...} into a NULL-terminated vector of
 * "NAME<sep>value" entries (owned, strv_free(); the old vector is freed) and its count (`n` may
 * be NULL). With `sep` "=", a name must not hold '='. Absent: 0, outputs unchanged. Returns 0,
 * -EINVAL or -ENOMEM. */
int json_get_map(struct json_ctx *c, const cJSON *obj, const char *key, const char *sep,
                 char ***out, size_t *n);

/* Reads a string that must be one of `names[0..n-1]` and stores its index. Absent: "missing
 * key" when `required`, else 0 with *out unchanged. Returns 0 or -EINVAL ("expected one of 'a',
 * 'b', found ..."). */
int json_get_enum(struct json_ctx *c, const cJSON *obj, const char *key, const char *const *names,
                  size_t n, bool required, int *out);

/* Adds member `key` to `obj`: an array of the strings v[0..n-1] (n == 0: up to v's NULL entry).
 * Returns true, or false when out of memory (or `obj` is NULL). */
bool json_put_strs(cJSON *obj, const char *key, char *const *v, size_t n);

/* Adds member `key` to `obj`: an object {"NAME": "value"} of the "NAME<sep>value" entries of
 * v[0..n-1] (n == 0: up to v's NULL entry; entries without `sep` are skipped). Returns true, or
 * false when out of memory (or `obj` is NULL). */
bool json_put_map(cJSON *obj, const char *key, char *const *v, size_t n, const char *sep);

#endif
