/* SPDX-License-Identifier: MIT */
/* rpt_svg.c - SVG chart writer (see rpt_svg.h). Coordinates are printed with one decimal in
 * the C locale, so the same model always gives the same bytes. */
#include "rpt_svg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fmt.h"
#include "../util/stats.h"
#include "rpt_esc.h"
#include "rpt_name.h"
#include "rpt_summary.h"
#include "rpt_text.h"

#define SVG_W         900
#define SVG_H         500
#define SVG_TOP_SITES 5

static const char *const site_colors[SVG_TOP_SITES] = {"#e4572e", "#f3a712", "#76b041", "#17bebb",
                                                       "#a06cd5"};

void rpt_svg_axes_init(struct rpt_svg_axes *a, double left, double top, double width, double height,
                       double xmin, double xmax, double ymin, double ymax)
{
    a->left = left;
    a->top = top;
    a->width = width;
    a->height = height;
    a->xmin = xmin;
    a->xmax = xmax > xmin ? xmax : xmin + 1;
    if (!isfinite(ymin) || ymin > 0) {
        ymin = 0;
    }
    if (!isfinite(ymax) || ymax <= ymin) {
        ymax = ymin + 1024;
    }
    double span = fmax(fabs(ymax), fabs(ymin));
    if (span >= 4.0 * 1024 * 1024 * 1024) {
        a->div = 1024.0 * 1024 * 1024;
        a->unit = "GiB";
    } else if (span >= 4.0 * 1024 * 1024) {
        a->div = 1024.0 * 1024;
        a->unit = "MiB";
    } else if (span >= 4.0 * 1024) {
        a->div = 1024.0;
        a->unit = "KiB";
    } else {
        a->div = 1;
        a->unit = "B";
    }
    double raw = (ymax - ymin) / a->div / 5;
    double mag = pow(10, floor(log10(raw)));
    double frac = raw / mag;
    double step = (frac <= 1 ? 1 : frac <= 2 ? 2 : frac <= 5 ? 5 : 10) * mag;
    if (a->div == 1 && step < 1) {
        step = 1;
    }
    a->step = step * a->div;
    a->ymax = ceil(ymax / a->step - 1e-9) * a->step;
    a->ymin = floor(ymin / a->step + 1e-9) * a->step;
}

double rpt_svg_px(const struct rpt_svg_axes *a, double x)
{
    return a->left + (x - a->xmin) / (a->xmax - a->xmin) * a->width;
}

double rpt_svg_py(const struct rpt_svg_axes *a, double bytes)
{
    double y = a->top + a->height - (bytes - a->ymin) / (a->ymax - a->ymin) * a->height;
    // Keep lines that leave the plot (a steep threshold) drawable without huge numbers.
    return fmin(fmax(y, a->top - 40), a->top + a->height + 40);
}

void rpt_svg_tick_label(const struct rpt_svg_axes *a, double bytes, char *out, size_t len)
{
    double v = bytes / a->div;
    double s = a->step / a->div;
    int dec = s >= 1 ? 0 : s >= 0.1 ? 1 : 2;
    fmt_c(out, len, "%.*f %s", dec, fabs(v) < 1e-12 ? 0.0 : v, a->unit);
}

void rpt_svg_yaxis(struct buf *b, const struct rpt_svg_axes *a, bool right, bool grid,
                   const char *color)
{
    int n = (int)llround((a->ymax - a->ymin) / a->step);
    for (int i = 0; i <= n && i <= 20; i++) {
        double v = a->ymin + i * a->step;
        double y = rpt_svg_py(a, v);
        char label[48];
        rpt_svg_tick_label(a, v, label, sizeof(label));
        if (grid) {
            buf_printf(b,
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#e5e5e5\"/>\n",
                       a->left, y, a->left + a->width, y);
        }
        buf_printf(b,
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" "
                   "text-anchor=\"%s\">%s</text>\n",
                   right ? a->left + a->width + 6 : a->left - 6, y + 4, color,
                   right ? "start" : "end", label);
    }
}

const char *rpt_svg_verdict_color(enum rpt_verdict v)
{
    switch (v) {
    case RPT_VERDICT_LEAK:
        return "#c62828";
    case RPT_VERDICT_NO_LEAK:
        return "#2e7d32";
    case RPT_VERDICT_INCONCLUSIVE:
        return "#b26a00";
    case RPT_VERDICT_ERROR:
        return "#6a1b9a";
    }
    return "#6a1b9a";
}

/* Appends a name cut to `max` bytes (on a UTF-8 boundary) and escaped; "?" for NULL. */
static void svg_short(struct buf *b, const char *s, size_t max)
{
    char cut[256];
    rpt_esc_xml(b, rpt_text_cut(s ? s : "?", max, cut, sizeof(cut)), "?");
}

/* One legend entry at (x, y): a swatch and a label with the full text as tooltip. */
static void svg_legend(struct buf *b, double x, double y, const char *color, const char *dash,
                       bool area, const char *label)
{
    buf_puts(b, "<g class=\"legend\">");
    buf_puts(b, "<title>");
    rpt_esc_xml(b, label, "");
    buf_puts(b, "</title>");
    if (area) {
        buf_printf(b,
                   "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"10\" fill=\"%s\" "
                   "fill-opacity=\"0.5\"/>",
                   x, y - 9, color);
    } else {
        buf_printf(b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2.5\"%s%s%s/>",
                   x, y - 4, x + 18, y - 4, color, dash ? " stroke-dasharray=\"" : "",
                   dash ? dash : "", dash ? "\"" : "");
    }
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", x + 24, y);
    svg_short(b, label, 40);
    buf_puts(b, "</text></g>\n");
}

/* What a scenario's chart is drawn from, worked out before anything is drawn. */
struct svg_plot {
    const struct rpt_scenario *s;
    size_t n;                                  /* completed rounds, > 0 */
    size_t fm;                                 /* index of the first measured round (n when none) */
    const struct rpt_site *top[SVG_TOP_SITES]; /* sites drawn as areas: those with a series */
    size_t n_top;
    double *stack;              /* stack[j * n + i]: live bytes of top[0..j-1] in round i; owned */
    double x0, x1;              /* first and last round number */
    bool have_trend;            /* there are measured rounds and a finite growth */
    double mx, my;              /* medians over the measured rounds: round number, live bytes */
    double rmax;                /* the largest RSS (0: no RSS line) */
    struct rpt_svg_axes ax, ar; /* live heap on the left, RSS on the right */
};

/* Appends the start of the chart: the <svg> element, title, name and verdict, and the line of
 * figures under them. */
static void svg_open(struct buf *b, const struct rpt_scenario *s, bool standalone)
{
    struct rpt_summary_row row;
    rpt_summary_of_scenario(s, &row);
    if (standalone) {
        buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }
    buf_printf(b,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" role=\"img\" "
               "class=\"leakcheck-chart\">\n",
               SVG_W, SVG_H, SVG_W, SVG_H);
    buf_puts(b, "<title>");
    rpt_esc_xml(b, s->name, "(unnamed)");
    buf_printf(b, ": %s, live heap per round</title>\n", rpt_verdict_name(s->verdict));
    buf_printf(b, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W,
               SVG_H);
    buf_puts(b, "<text x=\"20\" y=\"30\" font-size=\"18\" font-weight=\"bold\">");
    svg_short(b, s->name, 60);
    buf_printf(b, " <tspan fill=\"%s\">%s%s</tspan></text>\n", rpt_svg_verdict_color(s->verdict),
               rpt_verdict_name(s->verdict),
               row.result == RPT_SUMMARY_EXPECTED_LEAK ? " (expected)"
               : row.result == RPT_SUMMARY_FAIL        ? " (FAIL)"
                                                       : "");
    buf_printf(b,
               "<text x=\"20\" y=\"48\" font-size=\"12\" fill=\"#555\">heap %s/round, "
               "limit %s/round, %zu rounds (%zu warm-up)</text>\n",
               row.growth, row.limit, s->n_rounds, row.warmup);
}

/* Fills p->stack with the top sites stacked round by round. Returns the highest stack, or 0
 * (with -ENOMEM in *err) when it can't allocate. */
static double svg_stack(struct svg_plot *p, int *err)
{
    double ymax = 0;
    p->stack = calloc(p->n * (p->n_top + 1), sizeof(double));
    if (!p->stack) {
        *err = -ENOMEM;
        return 0;
    }
    for (size_t j = 0; j < p->n_top; j++) {
        for (size_t i = 0; i < p->n; i++) {
            p->stack[(j + 1) * p->n + i] =
                p->stack[j * p->n + i] + (double)p->top[j]->live_bytes[i];
            ymax = fmax(ymax, p->stack[(j + 1) * p->n + i]);
        }
    }
    return ymax;
}

/* Sets p->mx and p->my, the medians of the measured rounds' numbers and live heaps, through
 * which the trend is drawn. Returns 0 or -ENOMEM. */
static int svg_trend(struct svg_plot *p)
{
    const struct rpt_scenario *s = p->s;
    double *med = calloc(p->n, sizeof(double));
    if (!med) {
        return -ENOMEM;
    }
    size_t m = 0;
    for (size_t i = p->fm; i < p->n; i++) {
        med[m++] = (double)s->rounds[i].round;
    }
    p->mx = stats_median(med, m);
    m = 0;
    for (size_t i = p->fm; i < p->n; i++) {
        med[m++] = (double)s->rounds[i].live_bytes;
    }
    p->my = stats_median(med, m);
    free(med);
    return 0;
}

/* Works out the plot of `s` (which has rounds) into `p`: top sites, stacks, trend and both
 * scales. Returns 0 or -ENOMEM; p->stack is owned by the caller either way. */
static int svg_plot_init(struct svg_plot *p, const struct rpt_scenario *s)
{
    int err = 0;
    memset(p, 0, sizeof(*p));
    p->s = s;
    p->n = s->n_rounds;
    p->fm = rpt_first_measured(s);
    double ymax = 0;
    for (size_t i = 0; i < p->n; i++) {
        ymax = fmax(ymax, (double)s->rounds[i].live_bytes);
        p->rmax = fmax(p->rmax, (double)s->rounds[i].rss_bytes);
    }
    for (size_t k = 0; k < s->n_sites && p->n_top < SVG_TOP_SITES; k++) {
        if (s->sites[k].live_bytes) {
            p->top[p->n_top++] = &s->sites[k];
        }
    }
    ymax = fmax(ymax, svg_stack(p, &err));
    p->x0 = (double)s->rounds[0].round;
    p->x1 = (double)s->rounds[p->n - 1].round;
    p->have_trend = p->fm < p->n && isfinite(s->growth_bytes_per_round);
    if (err == 0 && p->have_trend) {
        err = svg_trend(p);
        ymax = fmax(ymax, p->my + s->growth_bytes_per_round * (p->x1 - p->mx));
    }
    rpt_svg_axes_init(&p->ax, 90, 70, 680, 300, p->x0 - 0.5, p->x1 + 0.5, 0, ymax * 1.05);
    rpt_svg_axes_init(&p->ar, 90, 70, 680, 300, p->x0 - 0.5, p->x1 + 0.5, 0, p->rmax * 1.05);
    return err;
}

/* Shades the warm-up rounds; nothing when there were none. */
static void svg_warmup(struct buf *b, const struct svg_plot *p)
{
    if (p->fm == 0) {
        return;
    }
    const struct rpt_svg_axes *ax = &p->ax;
    double xa = rpt_svg_px(ax, p->x0 - 0.5);
    double xb = rpt_svg_px(ax, (double)p->s->rounds[p->fm - 1].round + 0.5);
    buf_printf(b,
               "<rect class=\"warmup\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
               "height=\"%.1f\" fill=\"#9e9e9e\" fill-opacity=\"0.18\"><title>warm-up "
               "rounds 1 to %zu: not judged</title></rect>\n",
               xa, ax->top, xb - xa, ax->height, p->fm);
    buf_printf(b,
               "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#616161\" "
               "text-anchor=\"middle\">warm-up</text>\n",
               (xa + xb) / 2, ax->top + 14);
}

/* Draws the x axis with round numbers (at most about 15 labels) and both axis titles. */
static void svg_xaxis(struct buf *b, const struct svg_plot *p)
{
    const struct rpt_svg_axes *ax = &p->ax;
    size_t every = (p->n + 14) / 15;
    buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
               ax->left, ax->top + ax->height, ax->left + ax->width, ax->top + ax->height);
    for (size_t i = 0; i < p->n; i += every) {
        double x = rpt_svg_px(ax, (double)p->s->rounds[i].round);
        buf_printf(b,
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                   "text-anchor=\"middle\">%u</text>\n",
                   x, ax->top + ax->height + 16, p->s->rounds[i].round);
    }
    buf_printf(b,
               "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
               "text-anchor=\"middle\">round</text>\n",
               ax->left + ax->width / 2, ax->top + ax->height + 32);
    buf_printf(b,
               "<text x=\"20\" y=\"%.1f\" font-size=\"12\" transform=\"rotate(-90 20 "
               "%.1f)\" text-anchor=\"middle\">live heap</text>\n",
               ax->top + ax->height / 2, ax->top + ax->height / 2);
}

/* Draws the top sites as stacked areas, bottom up, each with its place as tooltip. */
static void svg_sites(struct buf *b, const struct svg_plot *p)
{
    for (size_t j = 0; j < p->n_top; j++) {
        const struct rpt_site *site = p->top[j];
        char where[512];
        rpt_name_site(p->s, site, false, where, sizeof(where));
        buf_printf(b,
                   "<polygon class=\"site\" fill=\"%s\" fill-opacity=\"0.45\" "
                   "stroke=\"none\" points=\"",
                   site_colors[j]);
        for (size_t i = 0; i < p->n; i++) {
            buf_printf(b, "%.1f,%.1f ", rpt_svg_px(&p->ax, (double)p->s->rounds[i].round),
                       rpt_svg_py(&p->ax, p->stack[(j + 1) * p->n + i]));
        }
        for (size_t i = p->n; i-- > 0;) {
            buf_printf(b, "%.1f,%.1f ", rpt_svg_px(&p->ax, (double)p->s->rounds[i].round),
                       rpt_svg_py(&p->ax, p->stack[j * p->n + i]));
        }
        buf_puts(b, "\"><title>");
        rpt_esc_xml(b, where, "");
        buf_printf(b, ": %+.1f bytes/round, %s</title></polygon>\n", site->bytes_per_round,
                   rpt_kind_name(site->kind));
    }
}

/* Draws the limit (its slope from the first measured round) and the trend (the growth slope
 * through the medians of the measured rounds), each when there is one. */
static void svg_slopes(struct buf *b, const struct svg_plot *p)
{
    const struct rpt_scenario *s = p->s;
    const struct rpt_svg_axes *ax = &p->ax;
    if (p->fm < p->n && s->threshold_bytes_per_round > 0) {
        double y0 = (double)s->rounds[p->fm].live_bytes;
        double xs = (double)s->rounds[p->fm].round;
        buf_printf(b,
                   "<line class=\"threshold\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                   "y2=\"%.1f\" stroke=\"#c62828\" stroke-width=\"1.5\" "
                   "stroke-dasharray=\"6 4\"><title>limit: %.1f bytes/round from round "
                   "%u</title></line>\n",
                   rpt_svg_px(ax, xs), rpt_svg_py(ax, y0), rpt_svg_px(ax, p->x1),
                   rpt_svg_py(ax, y0 + s->threshold_bytes_per_round * (p->x1 - xs)),
                   s->threshold_bytes_per_round, s->rounds[p->fm].round);
    }
    if (p->have_trend) {
        double g = s->growth_bytes_per_round;
        double xs = (double)s->rounds[p->fm].round;
        buf_printf(b,
                   "<line class=\"trend\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"><title>"
                   "heap trend: %+.1f bytes/round</title></line>\n",
                   rpt_svg_px(ax, xs), rpt_svg_py(ax, p->my + g * (xs - p->mx)),
                   rpt_svg_px(ax, p->x1), rpt_svg_py(ax, p->my + g * (p->x1 - p->mx)), g);
    }
}

/* Appends the "x,y " points of the RSS (or the live heap) of every round on the axes `a`. */
static void svg_points(struct buf *b, const struct svg_plot *p, const struct rpt_svg_axes *a,
                       bool rss)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct rpt_round *r = &p->s->rounds[i];
        buf_printf(b, "%.1f,%.1f ", rpt_svg_px(a, (double)r->round),
                   rpt_svg_py(a, (double)(rss ? r->rss_bytes : r->live_bytes)));
    }
}

/* Draws RSS (right axis) and the live heap (left axis) as lines, and a point per round with
 * its figures as tooltip. */
static void svg_series(struct buf *b, const struct svg_plot *p)
{
    const struct rpt_scenario *s = p->s;
    if (p->rmax > 0) {
        buf_puts(b, "<polyline class=\"rss\" fill=\"none\" stroke=\"#1565c0\" "
                    "stroke-width=\"1.5\" stroke-dasharray=\"1 0\" stroke-opacity=\"0.7\" "
                    "points=\"");
        svg_points(b, p, &p->ar, true);
        buf_puts(b, "\"/>\n");
    }
    buf_puts(b, "<polyline class=\"live\" fill=\"none\" stroke=\"#212121\" "
                "stroke-width=\"2.5\" points=\"");
    svg_points(b, p, &p->ax, false);
    buf_puts(b, "\"/>\n");
    for (size_t i = 0; i < p->n; i++) {
        const struct rpt_round *r = &s->rounds[i];
        char live[48], rss[48], snap[64] = "";
        fmt_bytes(live, sizeof(live), (double)r->live_bytes);
        fmt_bytes(rss, sizeof(rss), (double)r->rss_bytes);
        if (s->snapshot_seconds && s->snapshot_seconds[i] >= 0) {
            fmt_c(snap, sizeof(snap), ", snapshot %.1f ms", s->snapshot_seconds[i] * 1000.0);
        }
        buf_printf(b,
                   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#212121\"><title>round "
                   "%u%s: %s live in %llu blocks, RSS %s%s</title></circle>\n",
                   rpt_svg_px(&p->ax, (double)r->round), rpt_svg_py(&p->ax, (double)r->live_bytes),
                   r->round, r->warmup ? " (warm-up)" : "", live,
                   (unsigned long long)r->live_blocks, rss, snap);
    }
}

/* Draws the legend under the plot: the lines in the first column, the sites in the second
 * (four rows) and a fifth site at the top of a third. */
static void svg_legends(struct buf *b, const struct svg_plot *p)
{
    double ly = 430;
    char label[600];
    svg_legend(b, 90, ly, "#212121", NULL, false, "live heap (left axis)");
    svg_legend(b, 90, ly + 18, "#1565c0", NULL, false, "RSS (right axis)");
    char heap[32];
    // as the header's figure (rpt_summary): "0 B" for no growth, a sign only when it grew
    if (p->s->growth_bytes_per_round > 0) {
        fmt_bytes_signed(heap, sizeof(heap), p->s->growth_bytes_per_round);
    } else {
        fmt_bytes(heap, sizeof(heap), p->s->growth_bytes_per_round);
    }
    fmt_c(label, sizeof(label), "heap trend %s/round", heap);
    svg_legend(b, 90, ly + 36, "#000", "2 3", false, label);
    char limit[32];
    fmt_bytes(limit, sizeof(limit), p->s->threshold_bytes_per_round);
    fmt_c(label, sizeof(label), "limit %s/round", limit);
    svg_legend(b, 90, ly + 54, "#c62828", "6 4", false, label);
    for (size_t j = 0; j < p->n_top; j++) {
        const struct rpt_site *site = p->top[j];
        rpt_name_site(p->s, site, false, label, sizeof(label));
        svg_legend(b, j < 4 ? 330 : 640, ly + 18.0 * (double)(j % 4), site_colors[j], NULL, true,
                   label);
    }
}

void rpt_svg_render(const struct rpt_scenario *s, bool standalone, struct buf *b)
{
    svg_open(b, s, standalone);
    if (s->n_rounds == 0) {
        buf_puts(b, "<text x=\"450\" y=\"250\" text-anchor=\"middle\" font-size=\"14\">no "
                    "rounds completed</text>\n</svg>\n");
        return;
    }
    struct svg_plot p;
    int err = svg_plot_init(&p, s);
    if (err) {
        free(p.stack);
        b->err = b->err ? b->err : err;
        return;
    }
    rpt_svg_yaxis(b, &p.ax, false, true, "#333");
    if (p.rmax > 0) {
        rpt_svg_yaxis(b, &p.ar, true, false, "#1565c0");
    }
    svg_warmup(b, &p);
    svg_xaxis(b, &p);
    svg_sites(b, &p);
    svg_slopes(b, &p);
    svg_series(b, &p);
    svg_legends(b, &p);
    buf_puts(b, "</svg>\n");
    free(p.stack);
}
