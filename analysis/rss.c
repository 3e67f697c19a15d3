/* SPDX-License-Identifier: MIT */
/* rss.c - untracked growth: resident and allocator-held memory against the tracked heap. */
#include "rss.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fmt.h"
#include "growth.h"

/* Slope and trend p of one measured series. */
struct trend {
    double slope;
    double p;
};

/* The Theil-Sen slope and Mann-Kendall p of y[0..m-1]. */
static struct trend trend_of(const double *y, size_t m)
{
    return (struct trend){growth_theil_sen(y, m), growth_mann_kendall_p(y, m)};
}

/* True when y[0..m) is still rising at its end, as growth.c asks of a leak: over the last half
 * it rose by at least 30% of what `slope` predicts, and one of the last max(3, m/3) steps rose.
 * A plateau (a pool that filled, a big block allocated once) is not. */
static bool still_rising(const double *y, size_t m, double slope)
{
    size_t half = m / 2;
    if (y[m - 1] - y[m - 1 - half] < 0.3 * slope * (double)half) {
        return false;
    }
    size_t tail = m / 3 > 3 ? m / 3 : 3;
    for (size_t i = m - 1; i > 0 && i + tail >= m; i--) {
        if (y[i] > y[i - 1]) {
            return true;
        }
    }
    return false;
}

/* The rounds' RSS less the agent's own memory (what the program holds resident), the
 * allocator's held bytes and the tracked bytes, measured rounds only, into y[0..3m). */
static void measured_series(const struct rpt_scenario *s, size_t first, size_t m, double *y)
{
    for (size_t i = 0; i < m; i++) {
        const struct rpt_round *r = &s->rounds[first + i];
        double rss = (double)r->rss_bytes - (double)r->agent_bytes;
        y[i] = rss > 0 ? rss : 0;
        y[m + i] = (double)r->heap_inuse_bytes + (double)r->heap_free_bytes;
        y[2 * m + i] = (double)r->live_bytes;
    }
}

/* Writes the warning text into s->rss_warning. Returns 0 or -ENOMEM. */
static int set_warning(struct rpt_scenario *s, const char *what, struct trend grew, double tracked)
{
    char g[32], t[32], u[32], text[512];
    fmt_bytes_signed(g, sizeof(g), grew.slope);
    fmt_bytes_signed(t, sizeof(t), tracked);
    fmt_bytes_signed(u, sizeof(u), s->untracked_bytes_per_round);
    fmt_c(text, sizeof(text),
          "%s grows %s/round (p=%.2g) while the tracked memory grows %s/round: %s/round is not "
          "in tracked blocks (allocator fragmentation, an untracked allocator, or direct system "
          "calls)",
          what, g, grew.p, t, u);
    free(s->rss_warning);
    s->rss_warning = strdup(text);
    return s->rss_warning ? 0 : -ENOMEM;
}

/* Turns a no-leak verdict into leak for untracked growth over `threshold_rss`. Returns 0 or
 * -ENOMEM. */
static int fail_on_threshold(struct rpt_scenario *s, double threshold_rss)
{
    if (s->verdict != RPT_VERDICT_NO_LEAK) {
        return 0;
    }
    char u[32], th[32], text[512];
    fmt_bytes_signed(u, sizeof(u), s->untracked_bytes_per_round);
    fmt_bytes(th, sizeof(th), threshold_rss);
    fmt_c(text, sizeof(text),
          "memory outside tracked blocks grows %s/round, at or over threshold.rss_bytes_per_round "
          "(%s)",
          u, th);
    char *reason = strdup(text);
    if (!reason) {
        return -ENOMEM;
    }
    free(s->reason);
    s->reason = reason;
    s->verdict = RPT_VERDICT_LEAK;
    return 0;
}

int rss_check(struct rpt_scenario *s, double threshold_rss)
{
    s->threshold_rss_bytes_per_round = threshold_rss > 0 ? threshold_rss : 0;
    size_t first = rpt_first_measured(s);
    size_t m = s->n_rounds - first;
    if (m < 4 || s->verdict == RPT_VERDICT_ERROR) {
        return 0;
    }
    double *y = calloc(3 * m, sizeof(*y));
    if (!y) {
        return -ENOMEM;
    }
    measured_series(s, first, m, y);
    struct trend rss = trend_of(y, m);
    struct trend held = trend_of(y + m, m);
    if (!still_rising(y, m, rss.slope)) {
        rss.p = 1;
    }
    if (!still_rising(y + m, m, held.slope)) {
        held.p = 1;
    }
    double tracked = growth_theil_sen(y + 2 * m, m);
    free(y);
    s->rss_growth_bytes_per_round = rss.slope;
    /* The steadier of the two views that grows more is the one reported. */
    bool use_held = held.p <= RSS_TREND_P && (rss.p > RSS_TREND_P || held.slope > rss.slope);
    struct trend grew = use_held ? held : rss;
    double untracked = grew.slope - (tracked > 0 ? tracked : 0);
    s->untracked_bytes_per_round = grew.p <= RSS_TREND_P && untracked > 0 ? untracked : 0;
    double floor = RSS_WARN_FLOOR_BYTES;
    if (threshold_rss > 0 && threshold_rss < floor) {
        floor = threshold_rss;
    }
    double heap_threshold = s->threshold_bytes_per_round > 0 ? s->threshold_bytes_per_round
                                                             : GROWTH_DEFAULT_BYTES_PER_ROUND;
    int rc = 0;
    if (s->untracked_bytes_per_round >= floor && tracked < heap_threshold) {
        rc = set_warning(s, use_held ? "the allocator's held memory" : "RSS", grew, tracked);
    }
    if (rc == 0 && threshold_rss > 0 && s->untracked_bytes_per_round >= threshold_rss) {
        rc = fail_on_threshold(s, threshold_rss);
    }
    return rc;
}
