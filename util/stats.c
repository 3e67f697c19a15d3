/* SPDX-License-Identifier: MIT */
/* stats.c - medians by three-way quickselect (see stats.h). */
#include "stats.h"

/* Swaps two doubles. */
static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Returns the k-th smallest of v[0..n-1] (0-based), reordering v. n > k. Can't fail.
 * Quickselect with a three-way partition: values equal to the pivot are settled in one pass, so
 * a flat series (every pairwise slope 0) costs O(n), not O(n^2). */
static double select_kth(double *v, size_t n, size_t k)
{
    ptrdiff_t lo = 0;
    ptrdiff_t hi = (ptrdiff_t)n - 1;
    ptrdiff_t want = (ptrdiff_t)k;
    while (lo < hi) {
        /* median of three as the pivot value */
        double a = v[lo];
        double b = v[lo + (hi - lo) / 2];
        double c = v[hi];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        ptrdiff_t lt = lo;
        ptrdiff_t i = lo;
        ptrdiff_t gt = hi;
        while (i <= gt) {
            if (v[i] < pivot) {
                swap_d(&v[lt++], &v[i++]);
            } else if (v[i] > pivot) {
                swap_d(&v[i], &v[gt--]);
            } else {
                i++;
            }
        }
        /* v[lo..lt-1] < pivot, v[lt..gt] == pivot, v[gt+1..hi] > pivot */
        if (want < lt) {
            hi = lt - 1;
        } else if (want > gt) {
            lo = gt + 1;
        } else {
            return pivot;
        }
    }
    return v[k];
}

double stats_median(double *v, size_t n)
{
    if (n == 0) {
        return 0;
    }
    double upper = select_kth(v, n, n / 2);
    if (n % 2 == 1) {
        return upper;
    }
    /* the lower middle is the largest of the part before n/2 */
    double lower = v[0];
    for (size_t i = 1; i < n / 2; i++) {
        if (v[i] > lower) {
            lower = v[i];
        }
    }
    return (lower + upper) / 2.0;
}
