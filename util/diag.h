/* SPDX-License-Identifier: MIT */
/* diag.h - the one error convention: a message beside a negative errno, printed by the CLI.
 *
 * Modules don't print: a function that fails on bad input fills a struct diag with one
 * git-style line ("uploads.json: driver: unknown key 'reqests' (did you mean 'requests'?)")
 * and returns a negative errno value. The CLI prefixes "error: " and prints it.
 */
#ifndef UTIL_DIAG_H
#define UTIL_DIAG_H

#include <stddef.h>

#define DIAG_MAX 1024

struct diag {
    char msg[DIAG_MAX];
};

/* Sets the message (printf-style, truncated to DIAG_MAX). `d` may be NULL. Returns `err` so
 * callers can write `return diag_set(d, -EINVAL, "...")`. */
int diag_set(struct diag *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
