/* SPDX-License-Identifier: MIT */
/* buf.c - growable byte buffer with a cap and a sticky error (see buf.h). */
#include "buf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

void buf_init(struct buf *b)
{
    memset(b, 0, sizeof(*b));
}

void buf_cleanup(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

/* Makes room for `n` more bytes plus a NUL. Returns false (and sets b->err) when it can't. */
static bool buf_reserve(struct buf *b, size_t n)
{
    if (b->err) {
        return false;
    }
    if (n > SIZE_MAX / 2 - b->len || (b->max && b->len + n > b->max)) {
        b->err = -EFBIG;
        return false;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        b->err = -ENOMEM;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n)) {
        return;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    if (s) {
        buf_add(b, s, strlen(s));
    }
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vc(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (!b->err) {
            b->err = -EINVAL;
        }
        return;
    }
    if ((size_t)n < sizeof(small)) {
        buf_add(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n)) {
        return;
    }
    va_start(ap, fmt);
    fmt_vc(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *buf_take(struct buf *b)
{
    buf_add(b, "", 0);
    if (b->err) {
        return NULL;
    }
    char *p = b->data;
    b->data = NULL;
    buf_cleanup(b);
    return p;
}
