/* SPDX-License-Identifier: MIT */
/* growth.c - deciding, from per-round snapshots, whether a program keeps memory it should not.
 *
 * Each site's measured series (live bytes and blocks after each measured round) and its
 * survivors by round of birth are read for three kinds of evidence of a leak:
 *   - survivors: blocks born in rounds spread over the whole measured span, at a steady cadence
 *     and rate, plus an upward trend that is (nearly) monotone;
 *   - a staircase: the live bytes rise in rounds spread over the whole span with no real fall
 *     (one realloc'ed buffer that keeps growing leaves a single survivor, yet this shape);
 *   - doubling: a container's storage jumping by a constant factor, again and again.
 * Every kind also needs a significant Mann-Kendall trend and growth that has not stopped at the
 * end (no plateau). What fails the leak tests is classified as sawtooth, step, plateau, churn or
 * flat. The verdict weighs only unsuppressed leaking sites against the thresholds, and falls back
 * to "inconclusive" when the whole heap (less suppressed sites) clearly grows but no site
 * explains it. The method and its limits are described in docs/ANALYSIS.md.
 *
 * Pure computation: no I/O, no globals.
 */
#include "growth.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fmt.h"
#include "../util/stats.h"

/* Fewest measured rounds a verdict is given on. */
#define MIN_MEASURED 4
/* Trend significance needed by each kind of evidence. */
#define P_SURVIVORS 0.05
#define P_STAIRCASE 0.01
#define P_DOUBLING  0.05
#define P_HEAP      0.01
/* Falls allowed in a leaking series, as a fraction of its rises (in-flight blocks, noise). */
#define FALLS_SURVIVORS 0.10
/* A leak's growth is at least this share of what its survivors brought after the first
 * measured round (median survivors per round times rounds). */
#define BROUGHT_SHARE 0.75
/* Blocks a staircase may have replaced (born after the first measured round, beyond its growth
 * in blocks): a few growing buffers that move on realloc. */
#define TURNOVER_MAX 4.0
/* The last half of the measured rounds must show this fraction of the rise the slope predicts. */
#define TAIL_RISE 0.30
/* Survivors of the first half must be at least this fraction of those of the second half. */
#define SURV_BALANCE 0.40

/* Pairwise slopes Theil–Sen takes at most (a 2000-round run has 2 M pairs). */
#define TS_MAX_PAIRS (1u << 21)

/* Ordinary least-squares slope of y against 0..n-1; the fallback of growth_theil_sen() when
 * memory for the pairwise slopes is short. n >= 2. */
static double ols_slope(const double *y, size_t n)
{
    double mx = (double)(n - 1) / 2.0;
    double my = 0;
    for (size_t i = 0; i < n; i++) {
        my += y[i];
    }
    my /= (double)n;
    double sxy = 0;
    double sxx = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += ((double)i - mx) * (y[i] - my);
        sxx += ((double)i - mx) * ((double)i - mx);
    }
    return sxx > 0 ? sxy / sxx : 0;
}

double growth_theil_sen(const double *y, size_t n)
{
    if (!y || n < 2) {
        return 0;
    }
    /* Every pair up to TS_MAX_PAIRS; beyond (runs of thousands of rounds) an evenly spread,
     * deterministic subset of them, so memory and time stay bounded. */
    size_t pairs = n * (n - 1) / 2;
    size_t stride = pairs > TS_MAX_PAIRS ? (pairs + TS_MAX_PAIRS - 1) / TS_MAX_PAIRS : 1;
    double *s = malloc((pairs / stride + 1) * sizeof(*s));
    if (!s) {
        return ols_slope(y, n);
    }
    size_t k = 0;
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++, p++) {
            if (p % stride == 0) {
                s[k++] = (y[j] - y[i]) / (double)(j - i);
            }
        }
    }
    double m = stats_median(s, k);
    free(s);
    return m;
}

double growth_mann_kendall_p(const double *y, size_t n)
{
    if (!y || n < 3) {
        return 1.0;
    }
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            s += (y[j] > y[i]) - (y[j] < y[i]);
        }
    }
    /* tie correction: groups of equal values, counted in O(n^2) without sorting */
    double ties = 0;
    for (size_t i = 0; i < n; i++) {
        bool first = true;
        size_t t = 0;
        for (size_t j = 0; j < n; j++) {
            if (y[j] == y[i]) {
                if (j < i) {
                    first = false;
                    break;
                }
                t++;
            }
        }
        if (first && t > 1) {
            double td = (double)t;
            ties += td * (td - 1) * (2 * td + 5);
        }
    }
    double nd = (double)n;
    double var = (nd * (nd - 1) * (2 * nd + 5) - ties) / 18.0;
    if (var <= 0) {
        return 1.0;
    }
    /* continuity correction: S moves in steps of 2 */
    double z = 0;
    if (s > 0) {
        z = (s - 1) / sqrt(var);
    } else if (s < 0) {
        z = (s + 1) / sqrt(var);
    }
    return 0.5 * erfc(z / sqrt(2.0));
}

/* Shape of one measured series, in the terms the classifier needs. */
struct shape {
    size_t n; /* points */
    double first, last, min, max;
    double rises, falls; /* sums of positive increments and of magnitudes of negative ones */
    size_t n_rises;      /* positive increments */
    size_t first_rise, last_rise; /* increment indexes (valid when n_rises > 0) */
    size_t max_rise_gap; /* largest distance between consecutive rises, or from the start */
    double biggest_rise, biggest_fall;
    double slope; /* Theil-Sen */
    double p;     /* Mann-Kendall, upward */
};

/* Reads the shape of y[0..n-1], n >= 2. */
static void shape_of(const double *y, size_t n, struct shape *sh)
{
    memset(sh, 0, sizeof(*sh));
    sh->n = n;
    sh->first = y[0];
    sh->last = y[n - 1];
    sh->min = y[0];
    sh->max = y[0];
    size_t prev_rise = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double d = y[i + 1] - y[i];
        if (d > 0) {
            size_t gap = sh->n_rises ? i - prev_rise : i + 1;
            if (gap > sh->max_rise_gap) {
                sh->max_rise_gap = gap;
            }
            if (!sh->n_rises) {
                sh->first_rise = i;
            }
            sh->last_rise = i;
            prev_rise = i;
            sh->n_rises++;
            sh->rises += d;
            if (d > sh->biggest_rise) {
                sh->biggest_rise = d;
            }
        } else if (d < 0) {
            sh->falls += -d;
            if (-d > sh->biggest_fall) {
                sh->biggest_fall = -d;
            }
        }
    }
    for (size_t i = 1; i < n; i++) {
        sh->min = y[i] < sh->min ? y[i] : sh->min;
        sh->max = y[i] > sh->max ? y[i] : sh->max;
    }
    sh->slope = growth_theil_sen(y, n);
    sh->p = growth_mann_kendall_p(y, n);
}

/* Third of the increments, at least 1: how far from either end a rise may be. */
static size_t third(size_t increments)
{
    size_t t = increments / 3;
    return t ? t : 1;
}

/* True when the series is still rising at its end: the last half rose by at least TAIL_RISE of
 * what the slope predicts, and some increment of the last third (at least 3) is a rise. */
static bool still_rising(const double *y, const struct shape *sh)
{
    size_t incr = sh->n - 1;
    size_t h = incr / 2;
    double tail = y[sh->n - 1] - y[h];
    double expect = sh->slope * (double)(incr - h);
    if (sh->slope <= 0 || tail < TAIL_RISE * expect || tail <= 0) {
        return false;
    }
    size_t window = third(incr) < 3 ? 3 : third(incr);
    return sh->n_rises > 0 && sh->last_rise + window >= incr;
}

/* True when rises are spread over the whole span: at least 3, the first within the first third,
 * the last within the last third, no gap longer than max(3, a third). */
static bool rises_spread(const struct shape *sh)
{
    size_t incr = sh->n - 1;
    size_t t = third(incr);
    size_t gap = t > 3 ? t : 3;
    return sh->n_rises >= 3 && sh->first_rise < t + 1 && sh->last_rise + t + 1 > incr &&
           sh->max_rise_gap <= gap;
}

/* Survivors of the measured rounds, read for a steady cadence. */
struct surv {
    uint32_t rounds; /* measured rounds with survivors */
    bool steady;     /* spread over the whole span at a steady rate */
    bool known;      /* survivors were given */
    double median;   /* median survivors per measured round, after the first (series' unit) */
    double turnover; /* blocks born after the first measured round that replaced older ones */
};

/* Median of s[1..m-1] as doubles, 0 when m < 2 or s is NULL. `tmp` holds m doubles. */
static double surv_median(const uint64_t *s, size_t m, double *tmp)
{
    if (!s || m < 2) {
        return 0;
    }
    for (size_t k = 1; k < m; k++) {
        tmp[k - 1] = (double)s[k];
    }
    return stats_median(tmp, m - 1);
}

/* Reads survivors s[0..m-1] (blocks born in each measured round, still live at the end). */
static void surv_of(const uint64_t *s, size_t m, struct surv *out)
{
    memset(out, 0, sizeof(*out));
    if (!s) {
        return;
    }
    out->known = true;
    size_t first = 0, last = 0, prev = 0, max_gap = 0;
    for (size_t k = 0; k < m; k++) {
        if (s[k] == 0) {
            continue;
        }
        size_t gap = out->rounds ? k - prev : k + 1;
        if (gap > max_gap) {
            max_gap = gap;
        }
        if (!out->rounds) {
            first = k;
        }
        last = k;
        prev = k;
        out->rounds++;
    }
    if (out->rounds < 3 || m < 2) {
        return;
    }
    size_t t = third(m - 1);
    size_t gap_ok = t > 3 ? t : 3;
    double early = 0, late = 0;
    for (size_t k = 0; k < m / 2; k++) {
        early += (double)s[k];
        late += (double)s[m - 1 - k];
    }
    out->steady =
        first <= t && last + t >= m - 1 && max_gap <= gap_ok && early >= SURV_BALANCE * late;
}

/* True when the rises are geometric jumps (a container doubling its storage): at least two
 * jumps, no fall, each jump multiplies the level by 1.25..3, the series at least doubles, and
 * the time since the last jump is no longer than twice the interval before it, plus one. */
static bool doubling(const double *y, const struct shape *sh)
{
    if (sh->n_rises < 2 || sh->falls > 0 || sh->first <= 0 || sh->last < 2 * sh->first) {
        return false;
    }
    size_t prev = 0, last = 0;
    size_t seen = 0;
    for (size_t i = 0; i + 1 < sh->n; i++) {
        if (y[i + 1] <= y[i]) {
            continue;
        }
        double ratio = y[i + 1] / y[i];
        if (ratio < 1.25 || ratio > 3.0) {
            return false;
        }
        prev = last;
        last = i;
        seen++;
    }
    return seen >= 2 && (sh->n - 2 - last) <= 2 * (last - prev) + 1;
}

/* How a site was found leaking, for the reason line. */
enum evidence {
    EV_NONE,
    EV_SURVIVORS,
    EV_STAIRCASE,
    EV_DOUBLING,
};

/* Leak tests on one series y; `sv` describes the survivors in the series' unit (bytes or
 * blocks), possibly none. Returns the evidence found. */
static enum evidence leak_evidence(const double *y, const struct shape *sh, const struct surv *sv)
{
    if (sh->slope <= 0 || sh->last <= sh->first || !still_rising(y, sh)) {
        return doubling(y, sh) && sh->p <= P_DOUBLING ? EV_DOUBLING : EV_NONE;
    }
    /* what the site grew by must be what its survivors brought, not churn that happens to
     * drift: a pool whose entries are replaced at random leaves survivors from every round too */
    double growth = sh->last - sh->first;
    double brought = sv->median * (double)(sh->n - 1);
    if (sv->steady && sh->p <= P_SURVIVORS && sh->falls <= FALLS_SURVIVORS * sh->rises &&
        growth >= BROUGHT_SHARE * brought) {
        return EV_SURVIVORS;
    }
    /* without survivor evidence: a staircase that never falls, and whose blocks were not
     * replaced wholesale (one realloc'ed buffer moving each round is fine) */
    if (rises_spread(sh) && sh->p <= P_STAIRCASE && sh->falls <= 0 &&
        (!sv->known || sv->turnover <= TURNOVER_MAX)) {
        return EV_STAIRCASE;
    }
    if (doubling(y, sh) && sh->p <= P_DOUBLING) {
        return EV_DOUBLING;
    }
    return EV_NONE;
}

/* Classifies a series that showed no leak. */
static enum rpt_kind other_kind(const double *y, const struct shape *sh)
{
    double amp = sh->max - sh->min;
    if (amp <= 0) {
        return RPT_KIND_FLAT;
    }
    /* one increment carries (nearly) the whole change */
    double moved = sh->rises + sh->falls;
    double biggest = sh->biggest_rise > sh->biggest_fall ? sh->biggest_rise : sh->biggest_fall;
    if (biggest >= 0.8 * moved) {
        return RPT_KIND_STEP;
    }
    if (sh->biggest_fall >= 0.5 * amp && sh->n_rises >= 2) {
        return RPT_KIND_SAWTOOTH;
    }
    if (sh->last - sh->first >= 0.5 * amp && sh->falls <= 0.25 * sh->rises &&
        !still_rising(y, sh)) {
        return RPT_KIND_PLATEAU;
    }
    return RPT_KIND_CHURN;
}

/* Copies the measured part of a series to doubles. */
static void measured(const uint64_t *src, size_t warmup, size_t m, double *dst)
{
    for (size_t k = 0; k < m; k++) {
        dst[k] = (double)src[warmup + k];
    }
}

/* Formats a rate: no decimals from 10 up, two significant digits below. */
static void fmt_rate(char *buf, size_t cap, double v)
{
    if (fabs(v) >= 10 || v == 0) {
        fmt_c(buf, cap, "%+.0f", v);
    } else {
        fmt_c(buf, cap, "%+.2g", v);
    }
}

/* A growth in bytes with its unit, as every report prints it ("+39.7 KiB", util/fmt's one byte
 * formatter), keeping fmt_rate()'s digits under 10 B so small slopes stay readable. */
static void fmt_growth(char *buf, size_t cap, double v)
{
    if (fabs(v) < 10 && v != 0) {
        fmt_c(buf, cap, "%+.2g B", v);
    } else {
        fmt_bytes_signed(buf, cap, v);
    }
}

/* True when some of the site's live blocks were born in a round (warm-up included), so the
 * site grew after start-up. */
static bool born_in_rounds(const struct growth_site_in *si, size_t n_rounds)
{
    if (!si->surv_blocks) {
        return false;
    }
    for (size_t r = 0; r < n_rounds; r++) {
        if (si->surv_blocks[r] > 0) {
            return true;
        }
    }
    return false;
}

/* Analyses one site into `out` and `ev`. y, b and t are scratch buffers of m doubles. */
static void analyze_site(const struct growth_in *in, const struct growth_site_in *si, size_t m,
                         double *y, double *b, double *t, struct growth_site_out *out,
                         enum evidence *ev)
{
    memset(out, 0, sizeof(*out));
    *ev = EV_NONE;
    out->measured_rounds = (uint32_t)m;
    out->trend_p_value = 1.0;
    if (!si->live_bytes || !si->live_blocks) {
        out->kind = RPT_KIND_FLAT;
        return;
    }
    measured(si->live_bytes, in->warmup, m, y);
    measured(si->live_blocks, in->warmup, m, b);
    const uint64_t *sk_in = si->surv_blocks ? si->surv_blocks + in->warmup : NULL;
    const uint64_t *sb_in = si->surv_bytes ? si->surv_bytes + in->warmup : NULL;
    struct surv sv_blocks, sv_bytes;
    surv_of(sk_in, m, &sv_blocks);
    out->rounds_with_survivors = sv_blocks.rounds;
    if (m < 2) {
        out->kind = RPT_KIND_FLAT;
        return;
    }
    if (sk_in) {
        double born = 0;
        for (size_t k = 1; k < m; k++) {
            born += (double)sk_in[k];
        }
        sv_blocks.turnover = born - (b[m - 1] - b[0]);
        sv_blocks.median = surv_median(sk_in, m, t);
    }
    sv_bytes = sv_blocks;
    sv_bytes.median = sb_in ? surv_median(sb_in, m, t) : 0;

    struct shape sb, sk;
    shape_of(y, m, &sb);
    shape_of(b, m, &sk);
    out->bytes_per_round = sb.slope;
    out->blocks_per_round = sk.slope;
    out->trend_p_value = sb.p;
    *ev = leak_evidence(y, &sb, &sv_bytes);
    if (*ev == EV_NONE) {
        /* blocks can show a leak whose bytes are blurred by one varying block at the site */
        enum evidence evb = leak_evidence(b, &sk, &sv_blocks);
        if (evb == EV_SURVIVORS || evb == EV_STAIRCASE) {
            *ev = evb;
        }
    }
    out->kind = *ev != EV_NONE ? RPT_KIND_LEAK : other_kind(y, &sb);
    if (out->kind == RPT_KIND_FLAT && y[m - 1] > 0 && born_in_rounds(si, in->n_rounds)) {
        /* Flat while measured, but its blocks were born during the rounds, not at start-up:
         * it grew (in the warm-up) and then stopped. A reused high-water buffer, a cache that
         * filled early. */
        out->kind = RPT_KIND_PLATEAU;
    }
}

/* True when a leaking site (with its group) is over the thresholds. */
static bool over_threshold(const struct growth_in *in, const struct growth_site_out *so,
                           const enum evidence *ev, size_t i)
{
    double bytes = so[i].bytes_per_round;
    double blocks = so[i].blocks_per_round;
    uint32_t g = in->sites[i].group;
    if (g != 0) {
        bytes = 0;
        blocks = 0;
        for (size_t j = 0; j < in->n_sites; j++) {
            if (in->sites[j].group == g && ev[j] != EV_NONE && !in->sites[j].suppressed) {
                bytes += so[j].bytes_per_round;
                blocks += so[j].blocks_per_round;
            }
        }
    }
    if (bytes >= in->threshold_bytes_per_round) {
        return true;
    }
    return in->threshold_blocks_per_round > 0 && blocks >= in->threshold_blocks_per_round;
}

/* Writes the reason of a LEAK verdict, from the suspect with the steepest growth. */
static void leak_reason(const struct growth_in *in, const struct growth_site_out *so,
                        const enum evidence *ev, size_t m, struct growth_out *out)
{
    size_t top = 0;
    bool found = false;
    for (size_t i = 0; i < in->n_sites; i++) {
        if (so[i].suspect && (!found || so[i].bytes_per_round > so[top].bytes_per_round)) {
            top = i;
            found = true;
        }
    }
    /* Both figures, each with its label: the top site's growth (what the culprit column and the
     * site tables show) and the whole heap's (the scenario's growth figure everywhere). */
    char rate[32];
    char heap[32];
    fmt_growth(rate, sizeof(rate), so[top].bytes_per_round);
    fmt_growth(heap, sizeof(heap), out->bytes_per_round);
    const char *sites = out->n_suspects == 1 ? "site" : "sites";
    char blocks[48] = "";
    if (in->threshold_blocks_per_round > 0) {
        char br[32];
        fmt_rate(br, sizeof(br), so[top].blocks_per_round);
        fmt_c(blocks, sizeof(blocks), ", %s blocks/round", br);
    }
    char figures[128];
    fmt_c(figures, sizeof(figures), "top site %s/round%s, heap %s/round", rate, blocks, heap);
    if (ev[top] == EV_SURVIVORS) {
        fmt_c(out->reason, sizeof(out->reason),
              "%u of %zu measured rounds left blocks behind at %zu %s; %s",
              so[top].rounds_with_survivors, m, out->n_suspects, sites, figures);
    } else if (ev[top] == EV_DOUBLING) {
        fmt_c(out->reason, sizeof(out->reason),
              "storage kept doubling over %zu measured rounds at %zu %s; %s", m, out->n_suspects,
              sites, figures);
    } else {
        fmt_c(out->reason, sizeof(out->reason),
              "live bytes kept rising over %zu measured rounds at %zu %s; %s", m, out->n_suspects,
              sites, figures);
    }
}

/* Appends ", N <what>" to the reason when n > 0. */
static void add_count(char *buf, size_t cap, size_t n, const char *one, const char *many)
{
    if (n == 0) {
        return;
    }
    size_t len = strlen(buf);
    if (len >= cap) {
        return;
    }
    fmt_c(buf + len, cap - len, "%s%zu %s", strchr(buf, ';') ? ", " : "; ", n, n == 1 ? one : many);
}

/* Appends "N sites plateaued, the largest holding X" (its retained high-water mark). */
static void add_plateaus(char *buf, size_t cap, const struct growth_in *in,
                         const struct growth_site_out *so)
{
    size_t n = 0;
    uint64_t largest = 0;
    for (size_t i = 0; i < in->n_sites; i++) {
        if (so[i].kind != RPT_KIND_PLATEAU) {
            continue;
        }
        n++;
        for (size_t r = 0; r < in->n_rounds; r++) {
            if (in->sites[i].live_bytes[r] > largest) {
                largest = in->sites[i].live_bytes[r];
            }
        }
    }
    size_t len = strlen(buf);
    if (n == 0 || len >= cap) {
        return;
    }
    char size[32];
    fmt_bytes(size, sizeof(size), (double)largest);
    fmt_c(buf + len, cap - len, "%s%zu %s plateaued, the largest holding %s",
          strchr(buf, ';') ? ", " : "; ", n, n == 1 ? "site" : "sites", size);
}

/* What the sites that make no leak verdict did, for the reason line. */
struct site_counts {
    size_t below, supp, step, saw, churn;
};

/* Analyses every site into so[] and ev[] (y, b, t: scratch of m doubles), marks the suspects
 * (counted in res->n_suspects) and counts the other kinds into `c`. */
static void judge_sites(const struct growth_in *in, size_t m, double *y, double *b, double *t,
                        struct growth_site_out *so, enum evidence *ev, struct growth_out *res,
                        struct site_counts *c)
{
    for (size_t i = 0; i < in->n_sites; i++) {
        analyze_site(in, &in->sites[i], m, y, b, t, &so[i], &ev[i]);
    }
    for (size_t i = 0; i < in->n_sites; i++) {
        if (ev[i] != EV_NONE) {
            if (in->sites[i].suppressed) {
                c->supp++;
            } else if (over_threshold(in, so, ev, i)) {
                so[i].suspect = m >= MIN_MEASURED;
                res->n_suspects += so[i].suspect;
            } else {
                c->below++;
            }
        }
        c->step += so[i].kind == RPT_KIND_STEP;
        c->saw += so[i].kind == RPT_KIND_SAWTOOTH;
        c->churn += so[i].kind == RPT_KIND_CHURN;
    }
}

/* Verdict and reason when no site is a suspect: growth of the heap that no site explains (the
 * heap less the suppressed sites' bytes) is inconclusive, anything else no leak. `y` is scratch
 * of m doubles. */
static void heap_verdict(const struct growth_in *in, size_t m, double *y, struct growth_out *res)
{
    measured(in->live_bytes, in->warmup, m, y);
    const char *heap = "live heap";
    for (size_t i = 0; i < in->n_sites; i++) {
        if (!in->sites[i].suppressed || !in->sites[i].live_bytes) {
            continue;
        }
        heap = "live heap less suppressed sites";
        for (size_t k = 0; k < m; k++) {
            y[k] -= (double)in->sites[i].live_bytes[in->warmup + k];
        }
    }
    struct shape sh;
    shape_of(y, m, &sh);
    double total = sh.last - sh.first;
    bool grows = sh.slope >= in->threshold_bytes_per_round && sh.p <= P_HEAP &&
                 still_rising(y, &sh) && total > 0 && sh.biggest_rise < 0.5 * total;
    char hr[32];
    fmt_growth(hr, sizeof(hr), sh.slope);
    if (grows) {
        res->verdict = RPT_VERDICT_INCONCLUSIVE;
        fmt_c(res->reason, sizeof(res->reason),
              "%s grows %s/round (p=%.3g) but no single site explains it", heap, hr, sh.p);
        return;
    }
    res->verdict = RPT_VERDICT_NO_LEAK;
    if (fabs(sh.slope) < 1) {
        fmt_c(res->reason, sizeof(res->reason), "%s flat (%s/round)", heap, hr);
    } else if (sh.slope < in->threshold_bytes_per_round) {
        fmt_c(res->reason, sizeof(res->reason), "%s %s/round, under the threshold of %.0f B", heap,
              hr, in->threshold_bytes_per_round);
    } else {
        fmt_c(res->reason, sizeof(res->reason), "%s %s/round, not a steady rise (p=%.2g)", heap, hr,
              sh.p);
    }
}

/* Appends what the other sites did to the reason of a verdict other than leak. */
static void add_site_notes(char *reason, size_t cap, const struct growth_in *in,
                           const struct growth_site_out *so, const struct site_counts *c)
{
    add_count(reason, cap, c->below, "site leaks under the threshold",
              "sites leak under the threshold");
    add_count(reason, cap, c->supp, "leaking site suppressed", "leaking sites suppressed");
    add_plateaus(reason, cap, in, so);
    add_count(reason, cap, c->step, "site stepped once", "sites stepped once");
    add_count(reason, cap, c->saw, "sawtooth site", "sawtooth sites");
    add_count(reason, cap, c->churn, "site churned", "sites churned");
}

int growth_analyze(const struct growth_in *in, struct growth_out *out,
                   struct growth_site_out *site_out)
{
    if (!in || !out || !in->live_bytes || !in->live_blocks || in->n_rounds <= in->warmup ||
        (in->n_sites > 0 && (!in->sites || !site_out)) || !(in->threshold_bytes_per_round > 0)) {
        return -EINVAL;
    }
    size_t m = in->n_rounds - in->warmup;
    int rc = -ENOMEM;
    double *y = calloc(m, sizeof(*y));
    double *b = calloc(m, sizeof(*b));
    double *t = calloc(m, sizeof(*t));
    enum evidence *ev = calloc(in->n_sites ? in->n_sites : 1, sizeof(*ev));
    struct growth_site_out *so = calloc(in->n_sites ? in->n_sites : 1, sizeof(*so));
    struct growth_out res = {0};
    struct site_counts counts = {0};
    if (!y || !b || !t || !ev || !so) {
        goto out;
    }

    /* whole heap, and the whole heap less the suppressed sites */
    measured(in->live_bytes, in->warmup, m, y);
    measured(in->live_blocks, in->warmup, m, b);
    res.bytes_per_round = growth_theil_sen(y, m);
    res.blocks_per_round = growth_theil_sen(b, m);
    res.trend_p_value = growth_mann_kendall_p(y, m);
    judge_sites(in, m, y, b, t, so, ev, &res, &counts);

    if (m < MIN_MEASURED) {
        res.verdict = RPT_VERDICT_INCONCLUSIVE;
        fmt_c(res.reason, sizeof(res.reason),
              "only %zu measured rounds, at least %d are needed to decide; run more rounds", m,
              MIN_MEASURED);
    } else if (res.n_suspects > 0) {
        res.verdict = RPT_VERDICT_LEAK;
        leak_reason(in, so, ev, m, &res);
    } else {
        heap_verdict(in, m, y, &res);
    }
    if (res.verdict != RPT_VERDICT_LEAK) {
        add_site_notes(res.reason, sizeof(res.reason), in, so, &counts);
    }
    *out = res;
    if (in->n_sites > 0) {
        memcpy(site_out, so, in->n_sites * sizeof(*so));
    }
    rc = 0;
out:
    free(y);
    free(b);
    free(t);
    free(ev);
    free(so);
    return rc;
}
