/* SPDX-License-Identifier: MIT */
/* rpt_util.h - helpers shared by the report writers: a growable text buffer with sticky
 * errors, locale-independent number formatting, escaping for XML/HTML/Markdown, safe file
 * names and atomic file writes. Not thread-safe per buffer; the functions keep no global state
 * except a lazily created "C" locale.
 */
#ifndef REPORTS_RPT_UTIL_H
#define REPORTS_RPT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. Appends never fail loudly: the first failure is kept in `err`
 * (-ENOMEM or -EFBIG past `max`) and later appends are ignored. Always NUL-terminated when
 * data != NULL. */
struct rpt_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = no cap */
    int err;
};

/* Initializes an empty buffer (no allocation). Can't fail. */
void rpt_buf_init(struct rpt_buf *b);
/* Frees the buffer's memory; the buffer is empty again. Can't fail. */
void rpt_buf_cleanup(struct rpt_buf *b);
/* Appends `n` bytes. */
void rpt_buf_add(struct rpt_buf *b, const void *p, size_t n);
/* Appends a C string (NULL appends nothing). */
void rpt_buf_puts(struct rpt_buf *b, const char *s);
/* Appends printf-style text, always formatted in the "C" locale. */
void rpt_buf_printf(struct rpt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` escaped for XML/HTML text and attribute values (&<>"' and control characters;
 * invalid UTF-8 bytes become '?'). NULL appends `null_as`. */
void rpt_buf_xml(struct rpt_buf *b, const char *s, const char *null_as);
/* Like rpt_buf_xml() but keeps newlines and tabs (for element text). */
void rpt_buf_xml_text(struct rpt_buf *b, const char *s, const char *null_as);
/* Appends `s` for a Markdown table cell: one line, `|` and Markdown specials backslash-escaped,
 * HTML specials as entities. NULL appends `null_as`. */
void rpt_buf_md(struct rpt_buf *b, const char *s, const char *null_as);

/* snprintf in the "C" locale (decimal point is always '.'). Returns what vsnprintf returns. */
int rpt_fmt(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Formats a byte quantity for people: "512 B", "33.0 KiB", "1.50 MiB"; negative values keep
 * their sign. Can't fail; `out` is always NUL-terminated. */
void rpt_fmt_bytes(char *out, size_t len, double bytes);

/* Reduces `name` to a safe file name: [A-Za-z0-9._-], other bytes become '_', no leading dot,
 * no "..", at most 64 bytes, "scenario" when nothing is left. Can't fail. */
void rpt_safe_name(const char *name, char *out, size_t len);

/* Creates `dir` and its parents (mode 0755). Returns 0 or -errno. */
int rpt_mkdirs(const char *dir);

/* Writes `len` bytes to `path` atomically: a temporary file in the same folder, fsync, rename,
 * fsync of the folder. Returns 0, or -errno with "PATH: why" in `err`. */
int rpt_file_write(const char *path, const void *data, size_t len, char *err, size_t err_len);

/* Writes the buffer to `path` with rpt_file_write(); a buffer that failed to render is
 * reported as such. Returns 0 or -errno with a message in `err`. */
int rpt_buf_write(const struct rpt_buf *b, const char *path, char *err, size_t err_len);

/* Reads a whole file of at most `max` bytes into a new NUL-terminated buffer (caller frees).
 * Returns 0, -EFBIG over the cap, or -errno, with a message in `err`. */
int rpt_file_read(const char *path, size_t max, char **out, size_t *out_len, char *err,
                  size_t err_len);

/* Sets `err` printf-style (may be NULL) and returns `code`. */
int rpt_err(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Number of warm-up rounds among the completed ones, and the index of the first measured round
 * (n_rounds when there is none). */
struct rpt_scenario;
size_t rpt_first_measured(const struct rpt_scenario *s);
/* "function (file:line)" of a site or frame for people, with "?" for unknown parts. */
void rpt_fmt_where(char *out, size_t len, const char *function, const char *file, uint32_t line);

/* Median of `n` values; `vals` is sorted in place. Can't fail (0 for n == 0). */
double rpt_median(double *vals, size_t n);

#endif
