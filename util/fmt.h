/* SPDX-License-Identifier: MIT */
/* fmt.h - locale-independent text formatting: snprintf in the "C" locale, byte quantities for
 * people, and "function (file:line)" places.
 *
 * Every number leakcheck shows goes through here, so the terminal, the reports and the CI
 * annotations never disagree on a figure: one byte formatter, one decimal point ('.'), no
 * thousands grouping whatever setlocale() the program called. Thread-safe; the only state is a
 * "C" locale created once.
 */
#ifndef UTIL_FMT_H
#define UTIL_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* snprintf in the "C" locale. Returns what vsnprintf returns. */
int fmt_c(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* vsnprintf in the "C" locale. Returns what vsnprintf returns. */
int fmt_vc(char *out, size_t len, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Formats a byte quantity for people: "512 B", "1.5 KiB", "33.0 MiB", "2.0 GiB"; negative values
 * keep their sign; "n/a" when not finite. Can't fail; `out` is always NUL-terminated. */
void fmt_bytes(char *out, size_t len, double bytes);

/* Like fmt_bytes() with an explicit sign: "+1.5 KiB", "-512 B", "+0 B" (growth figures). */
void fmt_bytes_signed(char *out, size_t len, double bytes);

/* "function (file:line)" of a site or frame for people, with "?" for unknown parts. Can't fail. */
void fmt_where(char *out, size_t len, const char *function, const char *file, uint32_t line);

#endif
