/* SPDX-License-Identifier: MIT */
/* rpt_util.c - buffers, number formatting, escaping, safe names and atomic writes for the
 * report writers.
 *
 * Numbers are formatted through uselocale() with a "C" locale created once, so a program that
 * called setlocale() still gets '.' as decimal point and no thousands grouping.
 */
#include "rpt_util.h"

#include "rpt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

/* Creates the shared "C" locale; on failure c_locale stays 0 and the global one is used. */
static void c_locale_make(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Formats into out with the "C" locale. Returns what vsnprintf returns. */
static int fmt_c(char *out, size_t len, const char *fmt, va_list ap)
{
    pthread_once(&c_locale_once, c_locale_make);
    locale_t old = (locale_t)0;
    if (c_locale) {
        old = uselocale(c_locale);
    }
    int n = vsnprintf(out, len, fmt, ap);
    if (c_locale) {
        uselocale(old);
    }
    return n;
}

int rpt_fmt(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_c(out, len, fmt, ap);
    va_end(ap);
    return n;
}

void rpt_buf_init(struct rpt_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void rpt_buf_cleanup(struct rpt_buf *b)
{
    free(b->data);
    rpt_buf_init(b);
}

/* Makes room for `n` more bytes plus a NUL. Returns false (and sets b->err) when it can't. */
static bool buf_reserve(struct rpt_buf *b, size_t n)
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

void rpt_buf_add(struct rpt_buf *b, const void *p, size_t n)
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

void rpt_buf_puts(struct rpt_buf *b, const char *s)
{
    if (s) {
        rpt_buf_add(b, s, strlen(s));
    }
}

void rpt_buf_printf(struct rpt_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_c(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (!b->err) {
            b->err = -EINVAL;
        }
        return;
    }
    if ((size_t)n < sizeof(small)) {
        rpt_buf_add(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n)) {
        return;
    }
    va_start(ap, fmt);
    fmt_c(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not valid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff) {
        return 0;
    }
    return n;
}

/* Escapes for XML; `text` keeps newlines and tabs as they are (element text). */
static void xml_escape(struct rpt_buf *b, const char *s, const char *null_as, bool text);

void rpt_buf_xml(struct rpt_buf *b, const char *s, const char *null_as)
{
    xml_escape(b, s, null_as, false);
}

void rpt_buf_xml_text(struct rpt_buf *b, const char *s, const char *null_as)
{
    xml_escape(b, s, null_as, true);
}

static void xml_escape(struct rpt_buf *b, const char *s, const char *null_as, bool text)
{
    if (!s) {
        s = null_as;
    }
    if (!s) {
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        switch (*p) {
        case '&':
            rpt_buf_puts(b, "&amp;");
            p++;
            continue;
        case '<':
            rpt_buf_puts(b, "&lt;");
            p++;
            continue;
        case '>':
            rpt_buf_puts(b, "&gt;");
            p++;
            continue;
        case '"':
            rpt_buf_puts(b, "&quot;");
            p++;
            continue;
        case '\'':
            rpt_buf_puts(b, "&#39;");
            p++;
            continue;
        case '\n':
            rpt_buf_puts(b, text ? "\n" : "&#10;");
            p++;
            continue;
        case '\t':
            rpt_buf_puts(b, text ? "\t" : "&#9;");
            p++;
            continue;
        default:
            break;
        }
        if (*p < 0x20 || *p == 0x7f) {
            // XML 1.0 has no way to write most control characters, even as references.
            rpt_buf_puts(b, "?");
            p++;
            continue;
        }
        size_t n = utf8_len(p);
        if (n == 0) {
            rpt_buf_puts(b, "?");
            p++;
            continue;
        }
        rpt_buf_add(b, p, n);
        p += n;
    }
}

void rpt_buf_md(struct rpt_buf *b, const char *s, const char *null_as)
{
    if (!s) {
        s = null_as;
    }
    if (!s) {
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '<':
            rpt_buf_puts(b, "&lt;");
            continue;
        case '>':
            rpt_buf_puts(b, "&gt;");
            continue;
        case '&':
            rpt_buf_puts(b, "&amp;");
            continue;
        case '\n':
        case '\r':
        case '\t':
            rpt_buf_puts(b, " ");
            continue;
        default:
            break;
        }
        if (strchr("\\`*_{}[]()#+-.!|~", *p)) {
            rpt_buf_add(b, "\\", 1);
            rpt_buf_add(b, p, 1);
        } else if (*p < 0x20 || *p == 0x7f) {
            rpt_buf_puts(b, "?");
        } else {
            rpt_buf_add(b, p, 1);
        }
    }
}

void rpt_fmt_bytes(char *out, size_t len, double bytes)
{
    double a = fabs(bytes);
    const char *sign = bytes < 0 ? "-" : "";
    if (!isfinite(bytes)) {
        rpt_fmt(out, len, "n/a");
    } else if (a < 1024) {
        rpt_fmt(out, len, "%s%.0f B", sign, a);
    } else if (a < 1024.0 * 1024) {
        rpt_fmt(out, len, "%s%.1f KiB", sign, a / 1024);
    } else if (a < 1024.0 * 1024 * 1024) {
        rpt_fmt(out, len, "%s%.2f MiB", sign, a / (1024.0 * 1024));
    } else {
        rpt_fmt(out, len, "%s%.2f GiB", sign, a / (1024.0 * 1024 * 1024));
    }
}

void rpt_safe_name(const char *name, char *out, size_t len)
{
    if (len == 0) {
        return;
    }
    size_t max = len - 1 < 64 ? len - 1 : 64;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p && o < max; p++) {
        unsigned char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            c = '_';
        }
        if (c == '.' && (o == 0 || out[o - 1] == '.')) {
            c = '_';
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (o == 0) {
        rpt_fmt(out, len, "scenario");
    }
}

int rpt_mkdirs(const char *dir)
{
    char tmp[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            return -errno;
        }
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        return -errno;
    }
    struct stat st;
    if (stat(tmp, &st) != 0) {
        return -errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        return -ENOTDIR;
    }
    return 0;
}

int rpt_err(char *err, size_t err_len, int code, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        fmt_c(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Ends the messages of a failed rpt_file_write(): the file on disk is the one from before. */
#define KEPT                                                                                       \
    "; the previous file, if any, is unchanged (free space or fix the folder, then run again)"

int rpt_file_write(const char *path, const void *data, size_t len, char *err, size_t err_len)
{
    char tmp[PATH_MAX];
    int rc = 0;
    int fd = -1;
    if (rpt_fmt(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
        return rpt_err(err, err_len, -ENAMETOOLONG, "%s: path too long", path);
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = -errno;
        rpt_err(err, err_len, rc, "%s: cannot create a temporary file: %s", path, strerror(-rc));
        return rc;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            rpt_err(err, err_len, rc, "%s: write failed: %s%s", path, strerror(-rc), KEPT);
            goto out;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        rc = -errno;
        rpt_err(err, err_len, rc, "%s: cannot sync: %s%s", path, strerror(-rc), KEPT);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = -errno;
        rpt_err(err, err_len, rc, "%s: close failed: %s%s", path, strerror(-rc), KEPT);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = -errno;
        rpt_err(err, err_len, rc, "%s: cannot rename the temporary file: %s%s", path, strerror(-rc),
                KEPT);
        goto out;
    }
    {
        // Make the rename itself durable.
        char dir[PATH_MAX];
        rpt_fmt(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            if (slash == dir) {
                slash[1] = '\0';
            } else {
                *slash = '\0';
            }
        } else {
            rpt_fmt(dir, sizeof(dir), ".");
        }
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    if (rc != 0) {
        unlink(tmp);
    }
    return rc;
}

int rpt_file_read(const char *path, size_t max, char **out, size_t *out_len, char *err,
                  size_t err_len)
{
    int rc = 0;
    struct rpt_buf b;
    rpt_buf_init(&b);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        return rpt_err(err, err_len, rc, "%s: cannot open: %s", path, strerror(-rc));
    }
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = -errno;
            rpt_err(err, err_len, rc, "%s: read failed: %s", path, strerror(-rc));
            goto out;
        }
        if (r == 0) {
            break;
        }
        if (b.len + (size_t)r > max) {
            rc = rpt_err(err, err_len, -EFBIG, "%s: larger than the %zu-byte limit", path, max);
            goto out;
        }
        rpt_buf_add(&b, chunk, (size_t)r);
        if (b.err) {
            rc = rpt_err(err, err_len, b.err, "%s: out of memory", path);
            goto out;
        }
    }
    rpt_buf_add(&b, "", 0);
    if (b.err) {
        rc = rpt_err(err, err_len, b.err, "%s: out of memory", path);
        goto out;
    }
    *out = b.data;
    *out_len = b.len;
    b.data = NULL;
out:
    close(fd);
    rpt_buf_cleanup(&b);
    return rc;
}

/* qsort comparator for doubles, ascending. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

double rpt_median(double *vals, size_t n)
{
    if (n == 0) {
        return 0;
    }
    qsort(vals, n, sizeof(*vals), cmp_double);
    if (n % 2) {
        return vals[n / 2];
    }
    return (vals[n / 2 - 1] + vals[n / 2]) / 2;
}

int rpt_buf_write(const struct rpt_buf *b, const char *path, char *err, size_t err_len)
{
    if (b->err) {
        return rpt_err(err, err_len, b->err, "%s: cannot render: %s", path, strerror(-b->err));
    }
    return rpt_file_write(path, b->data ? b->data : "", b->len, err, err_len);
}

size_t rpt_first_measured(const struct rpt_scenario *s)
{
    size_t i = 0;
    while (i < s->n_rounds && s->rounds[i].warmup) {
        i++;
    }
    return i;
}

void rpt_fmt_where(char *out, size_t len, const char *function, const char *file, uint32_t line)
{
    if (file && line) {
        rpt_fmt(out, len, "%s (%s:%u)", function ? function : "?", file, line);
    } else if (file) {
        rpt_fmt(out, len, "%s (%s)", function ? function : "?", file);
    } else {
        rpt_fmt(out, len, "%s", function ? function : "?");
    }
}
