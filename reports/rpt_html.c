/* SPDX-License-Identifier: MIT */
/* rpt_html.c - index.html, the history dashboard and benchmark JSON (see rpt_html.h).
 *
 * Charts are inline SVG drawn here (no script, no CDN), tooltips are SVG <title> elements,
 * every name goes through rpt_esc_xml(). The same input always gives the same bytes. */
#include "rpt_html.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_svg.h"
#include "rpt_write.h"

#define HTML_LATEST_CURVES 5

static const char *const curve_colors[HTML_LATEST_CURVES] = {"#bdbdbd", "#90caf9", "#42a5f5",
                                                             "#1e88e5", "#0d47a1"};

static const char html_style[] =
    "<style>\n"
    "body{font-family:sans-serif;margin:24px;color:#212121;max-width:1000px}\n"
    "table{border-collapse:collapse;margin:12px 0}\n"
    "th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\n"
    "th{background:#f5f5f5}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".fail{color:#c62828;font-weight:bold}.pass{color:#2e7d32}\n"
    "code{background:#f5f5f5;padding:1px 3px}\n"
    "section{margin:28px 0;border-top:1px solid #ddd}\n"
    "</style>\n";

/* Opens a page with a title. */
static void html_head(struct buf *b, const char *title)
{
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "style-src 'unsafe-inline'; img-src 'self'\">\n<title>");
    rpt_esc_xml(b, title, "");
    buf_puts(b, "</title>\n");
    buf_puts(b, html_style);
    buf_puts(b, "</head>\n<body>\n");
}

/* Appends "function (file:line)" escaped, as <code>. */
static void html_where(struct buf *b, const char *fn, const char *file, uint32_t line)
{
    char where[2048];
    fmt_where(where, sizeof(where), fn, file, line);
    buf_puts(b, "<code>");
    rpt_esc_xml(b, where, "");
    buf_puts(b, "</code>");
}

/* Appends a link to a file of a scenario's folder (folder names are safe, but escape anyway). */
static void html_link(struct buf *b, const char *dir, const char *file, const char *text)
{
    buf_puts(b, "<a href=\"");
    rpt_esc_xml(b, dir, "");
    buf_puts(b, "/");
    buf_puts(b, file);
    buf_puts(b, "\">");
    buf_puts(b, text);
    buf_puts(b, "</a>");
}

/* First suspect site, or NULL. */
static const struct rpt_site *html_culprit(const struct rpt_scenario *s)
{
    for (size_t i = 0; i < s->n_sites; i++) {
        if (s->sites[i].suspect && !s->sites[i].suppressed) {
            return &s->sites[i];
        }
    }
    return NULL;
}

void rpt_html_index(const struct rpt_run *run, struct buf *b)
{
    size_t failed = 0;
    for (size_t i = 0; i < run->n_scenarios; i++) {
        failed += !run->scenarios[i].ok;
    }
    html_head(b, "leakcheck report");
    buf_printf(b,
               "<h1>leakcheck report</h1>\n<p>%zu scenario%s, <span class=\"%s\">%zu "
               "failed</span>.",
               run->n_scenarios, run->n_scenarios == 1 ? "" : "s", failed ? "fail" : "pass",
               failed);
    if (run->commit) {
        buf_puts(b, " Commit <code>");
        rpt_esc_xml(b, run->commit, "");
        buf_puts(b, "</code>");
        if (run->commit_message) {
            buf_puts(b, ": ");
            rpt_esc_xml(b, run->commit_message, "");
        }
        buf_puts(b, ".");
    }
    if (run->started_at) {
        buf_puts(b, " Started ");
        rpt_esc_xml(b, run->started_at, "");
        buf_puts(b, ".");
    }
    buf_puts(b, "</p>\n<p>Each scenario runs the same work round after round and measures "
                "the live heap after each round. Memory that keeps growing after the "
                "warm-up rounds is a leak; the culprit is the allocation site that keeps "
                "blocks from (nearly) every round. Files: <a href=\"report.json\">report.json"
                "</a>, <a href=\"junit.xml\">junit.xml</a>, <a href=\"summary.md\">summary.md"
                "</a>; per scenario a chart, pprof profiles (<code>go tool pprof -top "
                "heap.pb.gz</code>) and folded stacks for flame graphs.</p>\n");
    buf_puts(b, "<table>\n<tr><th>Scenario</th><th>Verdict</th><th>Result</th><th>Growth "
                "per round</th><th>Limit</th><th>Culprit</th><th>Files</th></tr>\n");
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *s = &run->scenarios[i];
        char dir[96], g[48], t[48];
        rpt_write_dirname(run, i, dir, sizeof(dir));
        fmt_bytes(g, sizeof(g), s->growth_bytes_per_round);
        fmt_bytes(t, sizeof(t), s->threshold_bytes_per_round);
        buf_puts(b, "<tr><td><a href=\"#s-");
        rpt_esc_xml(b, dir, "");
        buf_puts(b, "\">");
        rpt_esc_xml(b, s->name, "(unnamed)");
        buf_printf(b,
                   "</a></td><td style=\"color:%s\">%s</td><td class=\"%s\">%s</td>"
                   "<td class=\"num\">%s%s</td><td class=\"num\">%s</td><td>",
                   rpt_svg_verdict_color(s->verdict), rpt_verdict_name(s->verdict),
                   s->ok ? "pass" : "fail",
                   s->ok ? (s->verdict == RPT_VERDICT_LEAK ? "pass (expected leak)" : "pass")
                         : "FAIL",
                   s->growth_bytes_per_round > 0 ? "+" : "", g, t);
        const struct rpt_site *c = html_culprit(s);
        if (c) {
            html_where(b, c->function, c->file, c->line);
        } else {
            buf_puts(b, "none");
        }
        buf_puts(b, "</td><td>");
        html_link(b, dir, "heap.svg", "chart");
        buf_puts(b, " ");
        html_link(b, dir, "heap.pb.gz", "heap");
        buf_puts(b, " ");
        html_link(b, dir, "growth.pb.gz", "growth");
        buf_puts(b, " ");
        html_link(b, dir, "growth.folded", "folded");
        buf_puts(b, "</td></tr>\n");
    }
    buf_puts(b, "</table>\n");
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *s = &run->scenarios[i];
        char dir[96];
        rpt_write_dirname(run, i, dir, sizeof(dir));
        buf_puts(b, "<section id=\"s-");
        rpt_esc_xml(b, dir, "");
        buf_puts(b, "\">\n<h2>");
        rpt_esc_xml(b, s->name, "(unnamed)");
        buf_puts(b, "</h2>\n<p>");
        if (s->error) {
            buf_puts(b, "<strong>Error:</strong> ");
            rpt_esc_xml(b, s->error, "");
            buf_puts(b, "<br>");
        }
        rpt_esc_xml(b, s->reason, "");
        buf_puts(b, "</p>\n");
        rpt_svg_render(s, false, b);
        buf_puts(b, "<p>");
        html_link(b, dir, "heap.svg", "open the chart on its own");
        buf_puts(b, "</p>\n");
        if (s->n_sites) {
            buf_puts(b, "<table>\n<tr><th>Site</th><th>Kind</th><th>Bytes per round</th>"
                        "<th>Blocks per round</th><th>Rounds with survivors</th><th>Live at "
                        "end</th></tr>\n");
            for (size_t k = 0; k < s->n_sites && k < 20; k++) {
                const struct rpt_site *site = &s->sites[k];
                char fin[48];
                fmt_bytes(fin, sizeof(fin), (double)site->final_bytes);
                buf_printf(b, "<tr%s><td>", site->suspect ? " class=\"fail\"" : "");
                html_where(b, site->function, site->file, site->line);
                buf_printf(b,
                           "</td><td>%s%s%s</td><td class=\"num\">%+.1f</td>"
                           "<td class=\"num\">%+.2f</td><td class=\"num\">%u of %u</td>"
                           "<td class=\"num\">%s</td></tr>\n",
                           rpt_kind_name(site->kind), site->suspect ? ", suspect" : "",
                           site->suppressed ? ", suppressed" : "", site->bytes_per_round,
                           site->blocks_per_round, site->rounds_with_survivors,
                           site->measured_rounds, fin);
            }
            buf_puts(b, "</table>\n");
        }
        buf_puts(b, "</section>\n");
    }
    buf_puts(b, "</body>\n</html>\n");
}

void rpt_html_bench_json(const struct rpt_run *run, struct buf *b)
{
    cJSON *arr = cJSON_CreateArray();
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < run->n_scenarios; i++) {
        const struct rpt_scenario *s = &run->scenarios[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL;
        if (o) {
            cJSON_AddItemToArray(arr, o);
        }
        ok = ok && cJSON_AddStringToObject(o, "name", s->name ? s->name : "(unnamed)");
        ok = ok && cJSON_AddStringToObject(o, "unit", "bytes/round");
        ok = ok &&
             cJSON_AddNumberToObject(
                 o, "value", isfinite(s->growth_bytes_per_round) ? s->growth_bytes_per_round : 0);
        char extra[128];
        fmt_c(extra, sizeof(extra), "verdict: %s; limit %.1f bytes/round",
              rpt_verdict_name(s->verdict), s->threshold_bytes_per_round);
        ok = ok && cJSON_AddStringToObject(o, "extra", extra);
    }
    char *text = ok ? cJSON_Print(arr) : NULL;
    cJSON_Delete(arr);
    if (!text) {
        b->err = b->err ? b->err : -ENOMEM;
        return;
    }
    buf_puts(b, text);
    buf_puts(b, "\n");
    free(text);
}

/* ------------------------------------------------------------------ dashboard */

/* The commits of a history in order (indices of their first record). */
struct dash_commits {
    size_t *first;
    size_t n;
};

/* Index of the commit of record `r` in `c`. */
static size_t dash_commit_index(const struct rpt_history *h, const struct dash_commits *c, size_t r)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(h->recs[c->first[i]].commit, h->recs[r].commit) == 0) {
            return i;
        }
    }
    return 0;
}

/* Draws one across-commits chart of a scenario: growth per round (which=0) or final live
 * heap (which=1). */
static void dash_chart(struct buf *b, const struct rpt_history *h, const struct dash_commits *c,
                       const char *scenario, int which)
{
    const double W = 900, H = 300;
    double ymin = 0, ymax = 0, thr = 0;
    for (size_t i = 0; i < h->n; i++) {
        const struct rpt_history_rec *r = &h->recs[i];
        if (strcmp(r->scenario, scenario) != 0) {
            continue;
        }
        double v = which == 0 ? r->growth_bytes_per_round : (double)r->final_live_bytes;
        ymin = fmin(ymin, v);
        ymax = fmax(ymax, v);
        if (which == 0) {
            thr = fmax(thr, r->threshold_bytes_per_round);
        }
    }
    ymax = fmax(ymax, thr);
    struct rpt_svg_axes ax;
    rpt_svg_axes_init(&ax, 90, 40, 780, 180, -0.5, (double)c->n - 0.5, ymin * 1.05, ymax * 1.05);
    buf_printf(b,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" class=\"dash-chart\">\n",
               W, H, W, H);
    buf_printf(b,
               "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n<text x=\"20\" "
               "y=\"24\" font-size=\"14\" font-weight=\"bold\">%s</text>\n",
               W, H,
               which == 0 ? "growth per round, by commit"
                          : "live heap after the last round, by commit");
    rpt_svg_yaxis(b, &ax, false, true, "#333");
    size_t every = (c->n + 11) / 12;
    for (size_t i = 0; i < c->n; i += every) {
        const struct rpt_history_rec *r = &h->recs[c->first[i]];
        double x = rpt_svg_px(&ax, (double)i);
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">", x,
                   ax.top + ax.height + 14);
        rpt_esc_xml(b, r->short_sha, "");
        buf_printf(b,
                   "</text>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#757575\" "
                   "text-anchor=\"middle\">",
                   x, ax.top + ax.height + 26);
        char day[16] = "";
        if (r->date) {
            fmt_c(day, sizeof(day), "%.10s", r->date);
        }
        rpt_esc_xml(b, day, "");
        buf_puts(b, "</text>\n");
    }
    if (which == 0 && thr > 0) {
        buf_printf(b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c62828\" "
                   "stroke-dasharray=\"6 4\"><title>limit %.1f bytes/round</title></line>\n",
                   ax.left, rpt_svg_py(&ax, thr), ax.left + ax.width, rpt_svg_py(&ax, thr), thr);
    }
    buf_puts(b, "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"");
    for (size_t i = 0; i < h->n; i++) {
        const struct rpt_history_rec *r = &h->recs[i];
        if (strcmp(r->scenario, scenario) == 0) {
            double v = which == 0 ? r->growth_bytes_per_round : (double)r->final_live_bytes;
            buf_printf(b, "%.1f,%.1f ", rpt_svg_px(&ax, (double)dash_commit_index(h, c, i)),
                       rpt_svg_py(&ax, v));
        }
    }
    buf_puts(b, "\"/>\n");
    for (size_t i = 0; i < h->n; i++) {
        const struct rpt_history_rec *r = &h->recs[i];
        if (strcmp(r->scenario, scenario) != 0) {
            continue;
        }
        double v = which == 0 ? r->growth_bytes_per_round : (double)r->final_live_bytes;
        bool over = r->threshold_bytes_per_round > 0 &&
                    r->growth_bytes_per_round > r->threshold_bytes_per_round;
        char val[48];
        fmt_bytes(val, sizeof(val), v);
        buf_printf(b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>",
                   over ? "crossed" : "point", rpt_svg_px(&ax, (double)dash_commit_index(h, c, i)),
                   rpt_svg_py(&ax, v), over ? "6" : "3.5", over ? "#c62828" : "#1565c0");
        rpt_esc_xml(b, r->short_sha, "");
        buf_puts(b, " ");
        rpt_esc_xml(b, r->date, "");
        buf_puts(b, "&#10;");
        rpt_esc_xml(b, r->message, "(no message)");
        buf_printf(b, "&#10;%s%s%s: ", which == 0 ? "growth " : "live ", val,
                   which == 0 ? "/round" : "");
        // The verdict comes from the history file, which anyone with push access can edit.
        rpt_esc_xml(b, r->verdict, "");
        buf_puts(b, "</title></circle>\n");
    }
    buf_puts(b, "</svg>\n");
}

/* Draws the per-round curves of the latest commits of a scenario, overlaid. */
static void dash_curves(struct buf *b, const struct rpt_history *h, const char *scenario)
{
    size_t idx[HTML_LATEST_CURVES];
    size_t n = 0;
    for (size_t i = h->n; i-- > 0 && n < HTML_LATEST_CURVES;) {
        if (strcmp(h->recs[i].scenario, scenario) == 0 && h->recs[i].n_live) {
            idx[n++] = i;
        }
    }
    if (n == 0) {
        return;
    }
    double ymax = 0, xmax = 1;
    for (size_t k = 0; k < n; k++) {
        const struct rpt_history_rec *r = &h->recs[idx[k]];
        xmax = fmax(xmax, (double)r->n_live);
        for (size_t i = 0; i < r->n_live; i++) {
            ymax = fmax(ymax, (double)r->live_bytes[i]);
        }
    }
    struct rpt_svg_axes ax;
    rpt_svg_axes_init(&ax, 90, 40, 600, 180, 0.5, xmax + 0.5, 0, ymax * 1.05);
    buf_puts(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"280\" "
                "viewBox=\"0 0 900 280\" font-family=\"sans-serif\" class=\"dash-chart\">\n"
                "<rect width=\"900\" height=\"280\" fill=\"#fff\"/>\n<text x=\"20\" y=\"24\" "
                "font-size=\"14\" font-weight=\"bold\">live heap per round, latest "
                "commits</text>\n");
    rpt_svg_yaxis(b, &ax, false, true, "#333");
    size_t every = ((size_t)xmax + 14) / 15;
    for (size_t i = 1; i <= (size_t)xmax; i += every) {
        buf_printf(b,
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">"
                   "%zu</text>\n",
                   rpt_svg_px(&ax, (double)i), ax.top + ax.height + 14, i);
    }
    // Oldest first, so the latest is drawn on top in the darkest colour.
    for (size_t k = n; k-- > 0;) {
        const struct rpt_history_rec *r = &h->recs[idx[k]];
        const char *color = curve_colors[HTML_LATEST_CURVES - 1 - k];
        buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
        for (size_t i = 0; i < r->n_live; i++) {
            buf_printf(b, "%.1f,%.1f ", rpt_svg_px(&ax, (double)(i + 1)),
                       rpt_svg_py(&ax, (double)r->live_bytes[i]));
        }
        buf_puts(b, "\"><title>");
        rpt_esc_xml(b, r->short_sha, "");
        buf_puts(b, ": ");
        rpt_esc_xml(b, r->message, "");
        buf_puts(b, "</title></polyline>\n");
        double ly = 60 + 18.0 * (double)(n - 1 - k);
        buf_printf(b,
                   "<line x1=\"710\" y1=\"%.1f\" x2=\"730\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"3\"/><text x=\"736\" y=\"%.1f\" font-size=\"11\">",
                   ly, ly, color, ly + 4);
        rpt_esc_xml(b, r->short_sha, "");
        buf_puts(b, k == 0 ? " (latest)</text>\n" : "</text>\n");
    }
    buf_puts(b, "</svg>\n");
}

void rpt_html_dashboard(const struct rpt_history *h, struct buf *b)
{
    struct dash_commits c = {calloc(h->n ? h->n : 1, sizeof(size_t)), 0};
    const char **scen = calloc(h->n ? h->n : 1, sizeof(*scen));
    if (!c.first || !scen) {
        free(c.first);
        free(scen);
        b->err = b->err ? b->err : -ENOMEM;
        return;
    }
    size_t ns = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (i == 0 || strcmp(h->recs[i].commit, h->recs[i - 1].commit) != 0) {
            c.first[c.n++] = i;
        }
        bool seen = false;
        for (size_t k = 0; k < ns && !seen; k++) {
            seen = strcmp(scen[k], h->recs[i].scenario) == 0;
        }
        if (!seen) {
            scen[ns++] = h->recs[i].scenario;
        }
    }
    html_head(b, "leakcheck history");
    buf_printf(b,
               "<h1>leakcheck history</h1>\n<p>%zu commit%s, %zu scenario%s. Hover a point "
               "for the commit; a large red point marks a commit whose growth crossed the "
               "limit.</p>\n",
               c.n, c.n == 1 ? "" : "s", ns, ns == 1 ? "" : "s");
    if (ns) {
        buf_puts(b, "<ul>\n");
        for (size_t k = 0; k < ns; k++) {
            buf_printf(b, "<li><a href=\"#h-%zu\">", k);
            rpt_esc_xml(b, scen[k], "");
            buf_puts(b, "</a></li>\n");
        }
        buf_puts(b, "</ul>\n");
    }
    for (size_t k = 0; k < ns; k++) {
        buf_printf(b, "<section id=\"h-%zu\">\n<h2>", k);
        rpt_esc_xml(b, scen[k], "");
        buf_puts(b, "</h2>\n");
        dash_chart(b, h, &c, scen[k], 0);
        dash_chart(b, h, &c, scen[k], 1);
        dash_curves(b, h, scen[k]);
        buf_puts(b, "</section>\n");
    }
    buf_puts(b, "</body>\n</html>\n");
    free(c.first);
    free(scen);
}
