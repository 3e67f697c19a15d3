/* SPDX-License-Identifier: MIT */
/* growth.h - deciding, from per-round snapshots, whether a program keeps memory it should not.
 *
 * Input: the live heap after each round (warm-up rounds first), and per allocation site its
 * live bytes/blocks after each round plus, from the last snapshot, its live blocks by round of
 * birth ("survivors"). Output: a robust slope of the live heap, a classification of every site
 * (leak, plateau, step, sawtooth, churn, flat), and a verdict with a one-line reason.
 *
 * Pure computation: no I/O, no globals; thread-safe. Used by the harness and the in-process
 * assertion library alike.
 */
#ifndef HARNESS_GROWTH_H
#define HARNESS_GROWTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/rpt.h"

/* Default threshold: see docs/ANALYSIS.md for why. */
#define GROWTH_DEFAULT_BYTES_PER_ROUND 128.0

struct growth_site_in {
    const uint64_t *live_bytes;  /* n_rounds entries: after round 1..n_rounds */
    const uint64_t *live_blocks; /* n_rounds entries */
    /* Survivors by round of birth, read from the last snapshot: surv_blocks[r] and surv_bytes[r]
     * are the live blocks/bytes born in round r+1 (r = 0..n_rounds-1). Blocks born before the
     * first round (start-up) are not included. May be NULL (then only the series is used). */
    const uint64_t *surv_blocks;
    const uint64_t *surv_bytes;
    bool suppressed;
    /* Sites sharing a non-zero group (e.g. the same culprit frame) are judged together against
     * the thresholds: their leaking sites' slopes add up. 0 = judged alone. */
    uint32_t group;
};

struct growth_in {
    size_t n_rounds;            /* rounds completed, warm-up included */
    size_t warmup;              /* the first `warmup` rounds are not measured */
    const uint64_t *live_bytes; /* n_rounds entries: whole tracked heap after each round */
    const uint64_t *live_blocks;
    size_t n_sites;
    const struct growth_site_in *sites;
    double threshold_bytes_per_round;  /* > 0 */
    double threshold_blocks_per_round; /* 0 = not used */
};

struct growth_site_out {
    enum rpt_kind kind;
    bool suspect;           /* a leaking, unsuppressed site over the threshold */
    double bytes_per_round; /* robust slope over the measured rounds */
    double blocks_per_round;
    uint32_t rounds_with_survivors;
    uint32_t measured_rounds;
    double trend_p_value; /* Mann-Kendall p of the site's live bytes (measured rounds) */
};

struct growth_out {
    enum rpt_verdict verdict; /* LEAK, NO_LEAK or INCONCLUSIVE */
    double bytes_per_round;   /* robust slope of the whole live heap */
    double blocks_per_round;
    double trend_p_value; /* one-sided test for an upward trend */
    size_t n_suspects;
    char reason[256]; /* one line, no final full stop */
};

/* Analyses `in`. `site_out` has in->n_sites entries, written on success. Returns 0, -EINVAL
 * when the input is unusable (no measured round, NULL series, threshold <= 0) or -ENOMEM; then
 * nothing is written. */
int growth_analyze(const struct growth_in *in, struct growth_out *out,
                   struct growth_site_out *site_out);

/* Theil–Sen slope of y[0..n-1] against x = 0..n-1 (median of pairwise slopes). n >= 2.
 * Can't fail for n >= 2; returns 0 for n < 2. */
double growth_theil_sen(const double *y, size_t n);

/* Mann–Kendall one-sided p-value for an upward trend in y[0..n-1] (normal approximation with
 * tie correction). Returns 1 when n < 3. */
double growth_mann_kendall_p(const double *y, size_t n);

#endif
