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

#include "../util/fmt.h"
#include "../util/json.h"
#include "rpt_esc.h"
#include "rpt_name.h"
#include "rpt_retain.h"
#include "rpt_layout.h"
#include "rpt_summary.h"
#include "rpt_svg.h"

#define HTML_LATEST_CURVES 5
#define HTML_MAX_SITES     20 /* rows of a scenario's site table */

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
    "ol.stack{margin:4px 0;padding-left:28px;font-family:monospace;font-size:90%}\n"
    "ol.stack li.wrapper{color:#9e9e9e}ol.stack li.culprit{font-weight:bold}\n"
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

/* Appends the name of site `site` of `s` (rpt_name_site()) escaped, as <code>. */
static void html_site(struct buf *b, const struct rpt_scenario *s, const struct rpt_site *site,
                      bool full)
{
    char where[2048];
    rpt_name_site(s, site, full, where, sizeof(where));
    buf_puts(b, "<code>");
    rpt_esc_xml(b, where, "");
    buf_puts(b, "</code>");
}

/* Appends the site's name with its stack folded under it (<details>, no script): the frames
 * allocator side first, the wrappers passed over greyed with why, the culprit in bold. */
static void html_site_stack(struct buf *b, const struct rpt_scenario *s,
                            const struct rpt_site *site, bool full)
{
    if (!site->n_frames) {
        html_site(b, s, site, full);
        return;
    }
    buf_puts(b, "<details><summary>");
    html_site(b, s, site, full);
    buf_puts(b, "</summary>\n<ol class=\"stack\">\n");
    for (size_t f = 0; f < site->n_frames; f++) {
        const struct rpt_frame *fr = &site->frames[f];
        char where[2048];
        rpt_name_frame(fr, full, where, sizeof(where));
        bool skipped = f < site->culprit_frame && (unsigned)fr->skip < RPT_N_SKIPS;
        buf_printf(b, "<li%s>",
                   f == site->culprit_frame ? " class=\"culprit\""
                   : skipped                ? " class=\"wrapper\""
                                            : "");
        rpt_esc_xml(b, where, "");
        if (fr->inlined) {
            buf_puts(b, " (inlined)");
        }
        if (skipped) {
            buf_printf(b, " [wrapper: %s]", rpt_skip_names[fr->skip]);
        }
        buf_puts(b, "</li>\n");
    }
    buf_puts(b, "</ol>");
    if (site->culprit_why) {
        buf_puts(b, "<small>");
        rpt_esc_xml(b, site->culprit_why, "");
        buf_puts(b, "</small>");
    }
    buf_puts(b, "</details>");
}

/* Appends `before`, `s` escaped, and `after`; nothing when `s` is NULL. */
static void html_opt(struct buf *b, const char *before, const char *s, const char *after)
{
    if (s) {
        buf_puts(b, before);
        rpt_esc_xml(b, s, "");
        buf_puts(b, after);
    }
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
/* Opens index.html: the run's header facts and what the files of the folder are. */
static void index_intro(struct buf *b, const struct rpt_summary *sum)
{
    html_head(b, "leakcheck report");
    buf_printf(b,
               "<h1>leakcheck report</h1>\n<p>%s, <span class=\"%s\">%zu "
               "failed</span>.",
               sum->scenarios_text, sum->failed ? "fail" : "pass", sum->failed);
    html_opt(b, " Commit <code>", sum->commit, "</code>");
    html_opt(b, ": ", sum->commit_message, "");
    if (sum->commit) {
        buf_puts(b, ".");
    }
    html_opt(b, " Started ", sum->started_at, ".");
    if (sum->interrupted[0]) {
        buf_printf(b,
                   "</p>\n<p class=\"fail\">Interrupted by %s: the run stopped early; this "
                   "report covers the rounds that finished.",
                   sum->interrupted);
    }
    buf_puts(b, "</p>\n<p>Each scenario runs the same work round after round and measures "
                "the live heap after each round. Memory that keeps growing after the "
                "warm-up rounds is a leak; the culprit is the allocation site that keeps "
                "blocks from (nearly) every round. Files: <a href=\"" RPT_LAYOUT_REPORT_JSON
                "\">" RPT_LAYOUT_REPORT_JSON "</a>, <a href=\"" RPT_LAYOUT_JUNIT_XML
                "\">" RPT_LAYOUT_JUNIT_XML "</a>, <a href=\"" RPT_LAYOUT_SUMMARY_MD
                "\">" RPT_LAYOUT_SUMMARY_MD "</a>; per scenario a chart, pprof profiles "
                "(<code>go tool pprof -top " RPT_LAYOUT_HEAP_PPROF "</code>) and folded "
                "stacks for flame graphs.</p>\n");
}

/* Appends the overview table's row of scenario `i`: verdict, result, growth, culprit, files. */
static void index_row(struct buf *b, const struct rpt_run *run, size_t i)
{
    const struct rpt_scenario *s = &run->scenarios[i];
    struct rpt_summary_row row;
    char dir[RPT_LAYOUT_DIR_MAX];
    rpt_summary_of_scenario(s, &row);
    rpt_layout_dirname(run, i, dir, sizeof(dir));
    buf_puts(b, "<tr><td><a href=\"#s-");
    rpt_esc_xml(b, dir, "");
    buf_puts(b, "\">");
    rpt_esc_xml(b, s->name, "(unnamed)");
    buf_printf(b,
               "</a></td><td style=\"color:%s\">%s</td><td class=\"%s\">%s</td>"
               "<td class=\"num\">%s</td><td class=\"num\">%s</td><td>",
               rpt_svg_verdict_color(s->verdict), rpt_verdict_name(s->verdict),
               row.result == RPT_SUMMARY_FAIL ? "fail" : "pass",
               rpt_summary_result_name(row.result), row.growth, row.limit);
    if (row.culprit) {
        html_site(b, s, row.culprit, run->full_names);
    } else {
        buf_puts(b, "none");
    }
    buf_puts(b, "</td><td>");
    html_link(b, dir, RPT_LAYOUT_HEAP_SVG, "chart");
    buf_puts(b, " ");
    html_link(b, dir, RPT_LAYOUT_HEAP_PPROF, "heap");
    buf_puts(b, " ");
    html_link(b, dir, RPT_LAYOUT_GROWTH_PPROF, "growth");
    buf_puts(b, " ");
    html_link(b, dir, RPT_LAYOUT_GROWTH_FOLDED, "folded");
    buf_puts(b, "</td></tr>\n");
}

/* Appends the table of a scenario's first HTML_MAX_SITES sites; nothing when it has none. */
static void index_sites(struct buf *b, const struct rpt_scenario *s, bool full)
{
    if (!s->n_sites) {
        return;
    }
    buf_puts(b, "<table>\n<tr><th>Site</th><th>Kind</th><th>Bytes per round</th>"
                "<th>Blocks per round</th><th>Rounds with survivors</th><th>Live at "
                "end</th></tr>\n");
    for (size_t k = 0; k < s->n_sites && k < HTML_MAX_SITES; k++) {
        const struct rpt_site *site = &s->sites[k];
        char fin[48];
        fmt_bytes(fin, sizeof(fin), (double)site->final_bytes);
        buf_printf(b, "<tr%s><td>", site->suspect ? " class=\"fail\"" : "");
        html_site_stack(b, s, site, full);
        buf_printf(b,
                   "</td><td>%s%s%s</td><td class=\"num\">%+.1f</td>"
                   "<td class=\"num\">%+.2f</td><td class=\"num\">%u of %u</td>"
                   "<td class=\"num\">%s</td></tr>\n",
                   rpt_kind_name(site->kind), site->suspect ? ", suspect" : "",
                   site->suppressed ? ", suppressed" : "", site->bytes_per_round,
                   site->blocks_per_round, site->rounds_with_survivors, site->measured_rounds, fin);
    }
    buf_puts(b, "</table>\n");
}

/* Appends who holds the culprit's survivors when a retainer scan ran: the line every report
 * shows (rpt_retain.h), then every path folded under it; nothing otherwise. */
static void index_retainers(struct buf *b, const struct rpt_scenario *s, bool full)
{
    const struct rpt_site *c = rpt_summary_culprit(s);
    char line[4096];
    if (!c || !rpt_retain_line(s, c, full, line, sizeof(line))) {
        return;
    }
    buf_puts(b, "<p class=\"retainers\"><strong>Who holds it:</strong> ");
    rpt_esc_xml(b, line, "");
    buf_puts(b, "</p>\n");
    if (c->n_retainers < 2) {
        return;
    }
    buf_printf(b, "<details><summary>all %zu paths</summary>\n<ul class=\"retainers\">\n",
               c->n_retainers);
    for (size_t g = 0; g < c->n_retainers; g++) {
        const struct rpt_retainer *r = &c->retainers[g];
        char path[4096];
        char bytes[48];
        rpt_retain_path(r, full, path, sizeof(path));
        fmt_bytes(bytes, sizeof(bytes), (double)r->bytes);
        buf_puts(b, "<li>");
        rpt_esc_xml(b, path, "");
        buf_printf(b, ": %llu of %llu sampled survivors, %s</li>\n", (unsigned long long)r->blocks,
                   (unsigned long long)c->retain_sampled, bytes);
    }
    buf_puts(b, "</ul></details>\n");
}

/* Appends the section of scenario `i`: error and reason, the chart inlined, the sites. */
static void index_section(struct buf *b, const struct rpt_run *run, size_t i)
{
    const struct rpt_scenario *s = &run->scenarios[i];
    char dir[RPT_LAYOUT_DIR_MAX];
    rpt_layout_dirname(run, i, dir, sizeof(dir));
    buf_puts(b, "<section id=\"s-");
    rpt_esc_xml(b, dir, "");
    buf_puts(b, "\">\n<h2>");
    rpt_esc_xml(b, s->name, "(unnamed)");
    buf_puts(b, "</h2>\n<p>");
    html_opt(b, "<strong>Error:</strong> ", s->error, "<br>");
    rpt_esc_xml(b, s->reason, "");
    buf_puts(b, "</p>\n");
    index_retainers(b, s, run->full_names);
    rpt_svg_render(s, false, b);
    buf_puts(b, "<p>");
    html_link(b, dir, RPT_LAYOUT_HEAP_SVG, "open the chart on its own");
    buf_puts(b, "</p>\n");
    index_sites(b, s, run->full_names);
    buf_puts(b, "</section>\n");
}

void rpt_html_index(const struct rpt_run *run, struct buf *b)
{
    struct rpt_summary sum;
    rpt_summary_of_run(run, &sum);
    index_intro(b, &sum);
    buf_puts(b, "<table>\n<tr><th>Scenario</th><th>Verdict</th><th>Result</th><th>Heap growth "
                "per round</th><th>Limit</th><th>Culprit</th><th>Files</th></tr>\n");
    for (size_t i = 0; i < run->n_scenarios; i++) {
        index_row(b, run, i);
    }
    buf_puts(b, "</table>\n");
    for (size_t i = 0; i < run->n_scenarios; i++) {
        index_section(b, run, i);
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
    char *text = ok ? json_print(arr, true) : NULL;
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

/* What an across-commits chart plots. */
enum dash_what {
    DASH_GROWTH, /* growth per round */
    DASH_FINAL,  /* live heap after the last round */
};

/* The value record `r` has on a chart of `what`. */
static double dash_value(const struct rpt_history_rec *r, enum dash_what what)
{
    return what == DASH_GROWTH ? r->growth_bytes_per_round : (double)r->final_live_bytes;
}

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

/* Sets up the axes of an across-commits chart: every commit on x, the scenario's values (and,
 * for growth, its largest limit, stored in *thr) on y. */
static void dash_axes(const struct rpt_history *h, const struct dash_commits *c,
                      const char *scenario, enum dash_what what, struct rpt_svg_axes *ax,
                      double *thr)
{
    double ymin = 0, ymax = 0;
    *thr = 0;
    for (size_t i = 0; i < h->n; i++) {
        const struct rpt_history_rec *r = &h->recs[i];
        if (strcmp(r->scenario, scenario) != 0) {
            continue;
        }
        double v = dash_value(r, what);
        ymin = fmin(ymin, v);
        ymax = fmax(ymax, v);
        if (what == DASH_GROWTH) {
            *thr = fmax(*thr, r->threshold_bytes_per_round);
        }
    }
    ymax = fmax(ymax, *thr);
    rpt_svg_axes_init(ax, 90, 40, 780, 180, -0.5, (double)c->n - 0.5, ymin * 1.05, ymax * 1.05);
}

/* Labels the x axis with the short sha and the day of (at most about 12) commits. */
static void dash_xlabels(struct buf *b, const struct rpt_history *h, const struct dash_commits *c,
                         const struct rpt_svg_axes *ax)
{
    size_t every = (c->n + 11) / 12;
    for (size_t i = 0; i < c->n; i += every) {
        const struct rpt_history_rec *r = &h->recs[c->first[i]];
        double x = rpt_svg_px(ax, (double)i);
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">", x,
                   ax->top + ax->height + 14);
        rpt_esc_xml(b, r->short_sha, "");
        buf_printf(b,
                   "</text>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#757575\" "
                   "text-anchor=\"middle\">",
                   x, ax->top + ax->height + 26);
        char day[16] = "";
        if (r->date) {
            fmt_c(day, sizeof(day), "%.10s", r->date);
        }
        rpt_esc_xml(b, day, "");
        buf_puts(b, "</text>\n");
    }
}

/* Draws the scenario's values across commits as a line. */
static void dash_line(struct buf *b, const struct rpt_history *h, const struct dash_commits *c,
                      const char *scenario, enum dash_what what, const struct rpt_svg_axes *ax)
{
    buf_puts(b, "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"");
    for (size_t i = 0; i < h->n; i++) {
        const struct rpt_history_rec *r = &h->recs[i];
        if (strcmp(r->scenario, scenario) == 0) {
            buf_printf(b, "%.1f,%.1f ", rpt_svg_px(ax, (double)dash_commit_index(h, c, i)),
                       rpt_svg_py(ax, dash_value(r, what)));
        }
    }
    buf_puts(b, "\"/>\n");
}

/* Draws one point per record of the scenario, large and red where growth crossed the limit,
 * with the commit, its message, the value and the verdict as tooltip. */
static void dash_points(struct buf *b, const struct rpt_history *h, const struct dash_commits *c,
                        const char *scenario, enum dash_what what, const struct rpt_svg_axes *ax)
{
    for (size_t i = 0; i < h->n; i++) {
        const struct rpt_history_rec *r = &h->recs[i];
        if (strcmp(r->scenario, scenario) != 0) {
            continue;
        }
        double v = dash_value(r, what);
        bool over = r->threshold_bytes_per_round > 0 &&
                    r->growth_bytes_per_round > r->threshold_bytes_per_round;
        char val[48];
        fmt_bytes(val, sizeof(val), v);
        buf_printf(b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>",
                   over ? "crossed" : "point", rpt_svg_px(ax, (double)dash_commit_index(h, c, i)),
                   rpt_svg_py(ax, v), over ? "6" : "3.5", over ? "#c62828" : "#1565c0");
        rpt_esc_xml(b, r->short_sha, "");
        buf_puts(b, " ");
        rpt_esc_xml(b, r->date, "");
        buf_puts(b, "&#10;");
        rpt_esc_xml(b, r->message, "(no message)");
        buf_printf(b, "&#10;%s%s%s: ", what == DASH_GROWTH ? "growth " : "live ", val,
                   what == DASH_GROWTH ? "/round" : "");
        // The verdict comes from the history file, which anyone with push access can edit.
        rpt_esc_xml(b, r->verdict, "");
        buf_puts(b, "</title></circle>\n");
    }
}

/* Draws one across-commits chart of a scenario. */
static void dash_chart(struct buf *b, const struct rpt_history *h, const struct dash_commits *c,
                       const char *scenario, enum dash_what what)
{
    const double W = 900, H = 300;
    struct rpt_svg_axes ax;
    double thr;
    dash_axes(h, c, scenario, what, &ax, &thr);
    buf_printf(b,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" class=\"dash-chart\">\n",
               W, H, W, H);
    buf_printf(b,
               "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n<text x=\"20\" "
               "y=\"24\" font-size=\"14\" font-weight=\"bold\">%s</text>\n",
               W, H,
               what == DASH_GROWTH ? "growth per round, by commit"
                                   : "live heap after the last round, by commit");
    rpt_svg_yaxis(b, &ax, false, true, "#333");
    dash_xlabels(b, h, c, &ax);
    if (what == DASH_GROWTH && thr > 0) {
        buf_printf(b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c62828\" "
                   "stroke-dasharray=\"6 4\"><title>limit %.1f bytes/round</title></line>\n",
                   ax.left, rpt_svg_py(&ax, thr), ax.left + ax.width, rpt_svg_py(&ax, thr), thr);
    }
    dash_line(b, h, c, scenario, what, &ax);
    dash_points(b, h, c, scenario, what, &ax);
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
        dash_chart(b, h, &c, scen[k], DASH_GROWTH);
        dash_chart(b, h, &c, scen[k], DASH_FINAL);
        dash_curves(b, h, scen[k]);
        buf_puts(b, "</section>\n");
    }
    buf_puts(b, "</body>\n</html>\n");
    free(c.first);
    free(scen);
}
