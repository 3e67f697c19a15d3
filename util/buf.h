/* SPDX-License-Identifier: MIT */
/* buf.h - a growable byte buffer with a size cap and a sticky error.
 *
 * Appends never fail loudly: the first failure is kept in `err` (-ENOMEM, or -EFBIG past `max`)
 * and later appends are ignored, so a writer renders a whole document and checks once at the
 * end. Text appended with buf_printf() is formatted in the "C" locale. Not thread-safe per
 * buffer; no globals.
 */
#ifndef UTIL_BUF_H
#define UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* Always NUL-terminated when data != NULL. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = no cap */
    int err;    /* first failure (negative errno), sticky */
};

/* Initializes an empty buffer (no allocation). Can't fail. */
void buf_init(struct buf *b);

/* Frees the buffer's memory; the buffer is empty again. Can't fail. */
void buf_cleanup(struct buf *b);

/* Appends `n` bytes. On failure sets b->err. */
void buf_add(struct buf *b, const void *p, size_t n);

/* Appends a C string (NULL appends nothing). */
void buf_puts(struct buf *b, const char *s);

/* Appends printf-style text, formatted in the "C" locale. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the data out (owned by the caller, NUL-terminated, never NULL on success) and leaves the
 * buffer empty. Returns NULL when the buffer failed (b->err set) or nothing could be allocated. */
char *buf_take(struct buf *b);

#endif
