/* SPDX-License-Identifier: MIT */
/* rpt_svg.c - SVG chart writer (see rpt_svg.h). Coordinates are printed with one decimal in
 * the C locale, so the same model always gives the same bytes. */
#include "rpt_svg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Appends a name cut to `max` bytes (on a UTF-8 boundary) and escaped. */
static void svg_short(struct buf *b, const char *s, size_t max)
{
    char cut[256];
    if (!s) {
        s = "?";
    }
    if (strlen(s) > max && max < sizeof(cut) - 4) {
        size_t n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
            n--;
        }
        memcpy(cut, s, n);
        memcpy(cut + n, "...", 4);
        s = cut;
    }
    rpt_esc_xml(b, s, "?");
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

void rpt_svg_render(const struct rpt_scenario *s, bool standalone, struct buf *b)
{
    size_t n = s->n_rounds;
    size_t fm = rpt_first_measured(s);
    const char *vcolor = rpt_svg_verdict_color(s->verdict);
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
    buf_printf(b, " <tspan fill=\"%s\">%s%s</tspan></text>\n", vcolor, rpt_verdict_name(s->verdict),
               s->ok ? (s->verdict == RPT_VERDICT_LEAK ? " (expected)" : "") : " (FAIL)");
    char g[48], t[48];
    fmt_bytes(g, sizeof(g), s->growth_bytes_per_round);
    fmt_bytes(t, sizeof(t), s->threshold_bytes_per_round);
    buf_printf(b,
               "<text x=\"20\" y=\"48\" font-size=\"12\" fill=\"#555\">growth %s%s/round, "
               "limit %s/round, %zu rounds (%zu warm-up)</text>\n",
               s->growth_bytes_per_round > 0 ? "+" : "", g, t, n, fm);
    if (n == 0) {
        buf_puts(b, "<text x=\"450\" y=\"250\" text-anchor=\"middle\" font-size=\"14\">no "
                    "rounds completed</text>\n</svg>\n");
        return;
    }

    // Scales: live heap (and what is drawn with it) on the left, RSS on the right.
    double ymax = 0, rmax = 0;
    for (size_t i = 0; i < n; i++) {
        ymax = fmax(ymax, (double)s->rounds[i].live_bytes);
        rmax = fmax(rmax, (double)s->rounds[i].rss_bytes);
    }
    size_t nsites = 0;
    for (size_t k = 0; k < s->n_sites && nsites < SVG_TOP_SITES; k++) {
        if (s->sites[k].live_bytes) {
            nsites++;
        }
    }
    double *stack = calloc(n * (nsites + 1), sizeof(double));
    double *med = calloc(n, sizeof(double));
    if (!stack || !med) {
        free(stack);
        free(med);
        b->err = b->err ? b->err : -ENOMEM;
        return;
    }
    // stack[j * n + i] = sum of the first j top sites in round i.
    for (size_t j = 0, k = 0; k < s->n_sites && j < nsites; k++) {
        if (!s->sites[k].live_bytes) {
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            stack[(j + 1) * n + i] = stack[j * n + i] + (double)s->sites[k].live_bytes[i];
            ymax = fmax(ymax, stack[(j + 1) * n + i]);
        }
        j++;
    }
    double x0 = (double)s->rounds[0].round;
    double x1 = (double)s->rounds[n - 1].round;
    bool have_trend = fm < n && isfinite(s->growth_bytes_per_round);
    double mx = 0, my = 0;
    if (have_trend) {
        size_t m = 0;
        for (size_t i = fm; i < n; i++) {
            med[m++] = (double)s->rounds[i].round;
        }
        mx = stats_median(med, m);
        m = 0;
        for (size_t i = fm; i < n; i++) {
            med[m++] = (double)s->rounds[i].live_bytes;
        }
        my = stats_median(med, m);
        ymax = fmax(ymax, my + s->growth_bytes_per_round * (x1 - mx));
    }
    struct rpt_svg_axes ax, ar;
    rpt_svg_axes_init(&ax, 90, 70, 680, 300, x0 - 0.5, x1 + 0.5, 0, ymax * 1.05);
    rpt_svg_axes_init(&ar, 90, 70, 680, 300, x0 - 0.5, x1 + 0.5, 0, rmax * 1.05);

    rpt_svg_yaxis(b, &ax, false, true, "#333");
    if (rmax > 0) {
        rpt_svg_yaxis(b, &ar, true, false, "#1565c0");
    }
    // Warm-up shading.
    if (fm > 0) {
        double xa = rpt_svg_px(&ax, x0 - 0.5);
        double xb = rpt_svg_px(&ax, (double)s->rounds[fm - 1].round + 0.5);
        buf_printf(b,
                   "<rect class=\"warmup\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                   "height=\"%.1f\" fill=\"#9e9e9e\" fill-opacity=\"0.18\"><title>warm-up "
                   "rounds 1 to %zu: not judged</title></rect>\n",
                   xa, ax.top, xb - xa, ax.height, fm);
        buf_printf(b,
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#616161\" "
                   "text-anchor=\"middle\">warm-up</text>\n",
                   (xa + xb) / 2, ax.top + 14);
    }
    // X axis: round numbers, at most ~15 labels.
    size_t every = (n + 14) / 15;
    buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
               ax.left, ax.top + ax.height, ax.left + ax.width, ax.top + ax.height);
    for (size_t i = 0; i < n; i += every) {
        double x = rpt_svg_px(&ax, (double)s->rounds[i].round);
        buf_printf(b,
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                   "text-anchor=\"middle\">%u</text>\n",
                   x, ax.top + ax.height + 16, s->rounds[i].round);
    }
    buf_printf(b,
               "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
               "text-anchor=\"middle\">round</text>\n",
               ax.left + ax.width / 2, ax.top + ax.height + 32);
    buf_printf(b,
               "<text x=\"20\" y=\"%.1f\" font-size=\"12\" transform=\"rotate(-90 20 "
               "%.1f)\" text-anchor=\"middle\">live heap</text>\n",
               ax.top + ax.height / 2, ax.top + ax.height / 2);

    // Stacked areas of the top sites, bottom up.
    for (size_t j = 0, k = 0; k < s->n_sites && j < nsites; k++) {
        const struct rpt_site *site = &s->sites[k];
        if (!site->live_bytes) {
            continue;
        }
        char where[512];
        fmt_where(where, sizeof(where), site->function, site->file, site->line);
        buf_printf(b,
                   "<polygon class=\"site\" fill=\"%s\" fill-opacity=\"0.45\" "
                   "stroke=\"none\" points=\"",
                   site_colors[j]);
        for (size_t i = 0; i < n; i++) {
            buf_printf(b, "%.1f,%.1f ", rpt_svg_px(&ax, (double)s->rounds[i].round),
                       rpt_svg_py(&ax, stack[(j + 1) * n + i]));
        }
        for (size_t i = n; i-- > 0;) {
            buf_printf(b, "%.1f,%.1f ", rpt_svg_px(&ax, (double)s->rounds[i].round),
                       rpt_svg_py(&ax, stack[j * n + i]));
        }
        buf_puts(b, "\"><title>");
        rpt_esc_xml(b, where, "");
        buf_printf(b, ": %+.1f bytes/round, %s</title></polygon>\n", site->bytes_per_round,
                   rpt_kind_name(site->kind));
        j++;
    }
    // Threshold: the allowed slope drawn from the first measured round.
    if (fm < n && s->threshold_bytes_per_round > 0) {
        double y0 = (double)s->rounds[fm].live_bytes;
        double xs = (double)s->rounds[fm].round;
        buf_printf(b,
                   "<line class=\"threshold\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                   "y2=\"%.1f\" stroke=\"#c62828\" stroke-width=\"1.5\" "
                   "stroke-dasharray=\"6 4\"><title>limit: %.1f bytes/round from round "
                   "%u</title></line>\n",
                   rpt_svg_px(&ax, xs), rpt_svg_py(&ax, y0), rpt_svg_px(&ax, x1),
                   rpt_svg_py(&ax, y0 + s->threshold_bytes_per_round * (x1 - xs)),
                   s->threshold_bytes_per_round, s->rounds[fm].round);
    }
    // Trend: the growth slope through the median of the measured rounds.
    if (have_trend) {
        double xs = (double)s->rounds[fm].round;
        buf_printf(b,
                   "<line class=\"trend\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"><title>"
                   "trend: %+.1f bytes/round</title></line>\n",
                   rpt_svg_px(&ax, xs), rpt_svg_py(&ax, my + s->growth_bytes_per_round * (xs - mx)),
                   rpt_svg_px(&ax, x1), rpt_svg_py(&ax, my + s->growth_bytes_per_round * (x1 - mx)),
                   s->growth_bytes_per_round);
    }
    // RSS (right axis) and live heap (left axis).
    if (rmax > 0) {
        buf_puts(b, "<polyline class=\"rss\" fill=\"none\" stroke=\"#1565c0\" "
                    "stroke-width=\"1.5\" stroke-dasharray=\"1 0\" stroke-opacity=\"0.7\" "
                    "points=\"");
        for (size_t i = 0; i < n; i++) {
            buf_printf(b, "%.1f,%.1f ", rpt_svg_px(&ar, (double)s->rounds[i].round),
                       rpt_svg_py(&ar, (double)s->rounds[i].rss_bytes));
        }
        buf_puts(b, "\"/>\n");
    }
    buf_puts(b, "<polyline class=\"live\" fill=\"none\" stroke=\"#212121\" "
                "stroke-width=\"2.5\" points=\"");
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "%.1f,%.1f ", rpt_svg_px(&ax, (double)s->rounds[i].round),
                   rpt_svg_py(&ax, (double)s->rounds[i].live_bytes));
    }
    buf_puts(b, "\"/>\n");
    for (size_t i = 0; i < n; i++) {
        const struct rpt_round *r = &s->rounds[i];
        char live[48], rss[48];
        fmt_bytes(live, sizeof(live), (double)r->live_bytes);
        fmt_bytes(rss, sizeof(rss), (double)r->rss_bytes);
        buf_printf(b,
                   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#212121\"><title>round "
                   "%u%s: %s live in %llu blocks, RSS %s</title></circle>\n",
                   rpt_svg_px(&ax, (double)r->round), rpt_svg_py(&ax, (double)r->live_bytes),
                   r->round, r->warmup ? " (warm-up)" : "", live,
                   (unsigned long long)r->live_blocks, rss);
    }

    // Legend, two columns under the plot.
    double ly = 430;
    char label[600];
    svg_legend(b, 90, ly, "#212121", NULL, false, "live heap (left axis)");
    svg_legend(b, 90, ly + 18, "#1565c0", NULL, false, "RSS (right axis)");
    fmt_c(label, sizeof(label), "trend %+.1f bytes/round", s->growth_bytes_per_round);
    svg_legend(b, 90, ly + 36, "#000", "2 3", false, label);
    fmt_c(label, sizeof(label), "limit %.1f bytes/round", s->threshold_bytes_per_round);
    svg_legend(b, 90, ly + 54, "#c62828", "6 4", false, label);
    // Sites: four rows in the second column, a fifth at the top of a third.
    for (size_t j = 0, k = 0; k < s->n_sites && j < nsites; k++) {
        const struct rpt_site *site = &s->sites[k];
        if (!site->live_bytes) {
            continue;
        }
        fmt_where(label, sizeof(label), site->function, site->file, site->line);
        svg_legend(b, j < 4 ? 330 : 640, ly + 18.0 * (double)(j % 4), site_colors[j], NULL, true,
                   label);
        j++;
    }
    buf_puts(b, "</svg>\n");
    free(stack);
    free(med);
}
