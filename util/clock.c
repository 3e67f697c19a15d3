/* SPDX-License-Identifier: MIT */
/* clock.c - monotonic time and RFC 3339 timestamps (see clock.h). */
#include "clock.h"

#include <time.h>

int64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double clock_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clock_rfc3339(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    if (len == 0) {
        return;
    }
    out[0] = '\0';
    if (gmtime_r(&now, &tm)) {
        if (strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
            out[0] = '\0';
        }
    }
}
