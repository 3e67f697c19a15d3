/* SPDX-License-Identifier: MIT */
/* stats.h - order statistics shared by the analysis and the reports. Pure; thread-safe. */
#ifndef UTIL_STATS_H
#define UTIL_STATS_H

#include <stddef.h>

/* Median of v[0..n-1], reordering v (quickselect: O(n) on average, also on flat series).
 * Returns 0 for n == 0. Can't fail. */
double stats_median(double *v, size_t n);

#endif
