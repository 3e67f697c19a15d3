/* SPDX-License-Identifier: MIT */
/* clock.h - the monotonic clock every deadline and duration of the harness is read from, and
 * the wall-clock timestamp written into reports. Thread-safe; no state.
 */
#ifndef UTIL_CLOCK_H
#define UTIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic time in milliseconds (CLOCK_MONOTONIC). Can't fail. */
int64_t clock_ms(void);

/* Monotonic time in seconds, with sub-millisecond precision. Can't fail. */
double clock_s(void);

/* The current UTC time as RFC 3339 ("2026-12-02T03:15:51Z") into `out`. Can't fail (an empty
 * string if `len` is too small). */
void clock_rfc3339(char *out, size_t len);

#endif
