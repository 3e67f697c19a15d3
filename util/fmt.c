/* SPDX-License-Identifier: MIT */
/* fmt.c - "C"-locale formatting, byte quantities and places (see fmt.h).
 *
 * Numbers are formatted through uselocale() with a "C" locale created once, so a program that
 * called setlocale() still gets '.' as decimal point and no thousands grouping.
 */
#include "fmt.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

/* Creates the shared "C" locale; on failure c_locale stays 0 and the global one is used. */
static void c_locale_make(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

int fmt_vc(char *out, size_t len, const char *fmt, va_list ap)
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

int fmt_c(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vc(out, len, fmt, ap);
    va_end(ap);
    return n;
}

/* The one byte formatter: `sign` is written before the magnitude. The unit is chosen after
 * rounding, so 1048575 bytes read "1.0 MiB", not "1024.0 KiB". */
static void bytes_with(char *out, size_t len, double bytes, const char *sign)
{
    static const char *const units[] = {"KiB", "MiB", "GiB"};
    double a = fabs(bytes);
    if (!isfinite(bytes)) {
        fmt_c(out, len, "n/a");
        return;
    }
    if (a < 1023.5) {
        fmt_c(out, len, "%s%.0f B", sign, a);
        return;
    }
    size_t u = 0;
    a /= 1024;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && a >= 1023.95) {
        a /= 1024;
        u++;
    }
    fmt_c(out, len, "%s%.1f %s", sign, a, units[u]);
}

void fmt_bytes(char *out, size_t len, double bytes)
{
    bytes_with(out, len, bytes, bytes < 0 ? "-" : "");
}

void fmt_bytes_signed(char *out, size_t len, double bytes)
{
    bytes_with(out, len, bytes, bytes < 0 ? "-" : "+");
}

void fmt_where(char *out, size_t len, const char *function, const char *file, uint32_t line)
{
    if (file && line) {
        fmt_c(out, len, "%s (%s:%u)", function ? function : "?", file, line);
    } else if (file) {
        fmt_c(out, len, "%s (%s)", function ? function : "?", file);
    } else {
        fmt_c(out, len, "%s", function ? function : "?");
    }
}
