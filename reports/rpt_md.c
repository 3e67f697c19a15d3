/* SPDX-License-Identifier: MIT */
/* rpt_md.c - Markdown summary writer (see rpt_md.h). Every name goes through rpt_esc_md();
 * numbers are fixed-format in the C locale. The table comes first and is capped in rows, so
 * the essentials survive even when per-scenario sections must be dropped. */
#include "rpt_md.h"

#include <math.h>
#include <string.h>

#include "../util/fmt.h"
#include "rpt_esc.h"
#include "rpt_name.h"
#include "rpt_retain.h"
#include "rpt_summary.h"
#include "rpt_text.h"

#define MD_MAX_ROWS   500
#define MD_MAX_POINTS 60
#define MD_TOP_SITES  5
#define MD_MAX_STACK  12
#define MD_MAX_NAME   200 /* bytes of a name shown; names can be huge, the summary is capped */

/* "leak", "no leak"... in words, for people. */
static const char *md_verdict(enum rpt_verdict v)
{
    switch (v) {
    case RPT_VERDICT_LEAK:
        return "leak";
    case RPT_VERDICT_NO_LEAK:
        return "no leak";
    case RPT_VERDICT_INCONCLUSIVE:
        return "inconclusive";
    case RPT_VERDICT_ERROR:
        return "error";
    }
    return "error";
}

/* "pass", "**FAIL**", "pass (expected leak)". */
static const char *md_result(enum rpt_summary_result r)
{
    return r == RPT_SUMMARY_FAIL ? "**FAIL**" : rpt_summary_result_name(r);
}

/* Appends `s` escaped, cut at MD_MAX_NAME bytes. */
static void md_text(struct buf *b, const char *s, const char *null_as)
{
    char cut[MD_MAX_NAME + 8];
    rpt_esc_md(b, rpt_text_cut(s, MD_MAX_NAME, cut, sizeof(cut)), null_as);
}

/* Appends the name of site `site` of `s` (rpt_name_site()) escaped. */
static void md_site_name(struct buf *b, const struct rpt_scenario *s, const struct rpt_site *site,
                         bool full)
{
    char name[1024];
    rpt_name_site(s, site, full, name, sizeof(name));
    md_text(b, name, "");
}

/* Appends `s` escaped as HTML text, cut at MD_MAX_NAME bytes: for the content of raw HTML
 * elements such as <summary>, where Markdown escapes would show literally (`kvlru\-leaky`). */
static void md_html_text(struct buf *b, const char *s, const char *null_as)
{
    char cut[MD_MAX_NAME + 8];
    rpt_esc_xml_text(b, rpt_text_cut(s, MD_MAX_NAME, cut, sizeof(cut)), null_as);
}

/* Appends "LABEL: TEXT" and a blank line, the text escaped and cut; nothing without text. */
static void md_para(struct buf *b, const char *label, const char *text)
{
    if (text) {
        buf_printf(b, "%s: ", label);
        md_text(b, text, "");
        buf_puts(b, "\n\n");
    }
}

/* Appends the mermaid chart of the live heap per round (at most MD_MAX_POINTS rounds shown)
 * and the note on warm-up rounds; nothing when no round completed. */
static void md_chart(struct buf *b, const struct rpt_scenario *s)
{
    if (s->n_rounds == 0) {
        return;
    }
    uint64_t max = 0;
    for (size_t i = 0; i < s->n_rounds; i++) {
        if (s->rounds[i].live_bytes > max) {
            max = s->rounds[i].live_bytes;
        }
    }
    double div = max >= 10u * 1024 * 1024 ? 1024.0 * 1024 : 1024.0;
    const char *unit = div > 1024 ? "MiB" : "KiB";
    size_t step = (s->n_rounds + MD_MAX_POINTS - 1) / MD_MAX_POINTS;
    buf_printf(b,
               "```mermaid\nxychart-beta\n    title \"live heap per round (%s)\"\n"
               "    x-axis \"round\" [",
               unit);
    for (size_t i = 0; i < s->n_rounds; i += step) {
        buf_printf(b, "%s\"%u%s\"", i ? ", " : "", s->rounds[i].round,
                   s->rounds[i].warmup ? "w" : "");
    }
    buf_printf(b, "]\n    y-axis \"%s\"\n    line [", unit);
    for (size_t i = 0; i < s->n_rounds; i += step) {
        buf_printf(b, "%s%.1f", i ? ", " : "", (double)s->rounds[i].live_bytes / div);
    }
    buf_puts(b, "]\n```\n\n");
    if (step > 1) {
        buf_printf(b, "_Chart shows every %zu%s round of %zu; report.json has all._\n\n", step,
                   step == 2   ? "nd"
                   : step == 3 ? "rd"
                               : "th",
                   s->n_rounds);
    }
    buf_printf(b, "Rounds 1 to %zu (marked w) were warm-up and are not judged.\n\n",
               rpt_first_measured(s));
}

/* Appends the table of the top MD_TOP_SITES sites; nothing when there are none. */
static void md_sites(struct buf *b, const struct rpt_scenario *s, bool full)
{
    for (size_t i = 0; i < s->n_sites && i < MD_TOP_SITES; i++) {
        const struct rpt_site *site = &s->sites[i];
        if (i == 0) {
            buf_puts(b, "| Site | Kind | Bytes per round | Blocks per round | Live at end |\n"
                        "|---|---|---:|---:|---:|\n");
        }
        char fin[48];
        fmt_bytes(fin, sizeof(fin), (double)site->final_bytes);
        buf_puts(b, "| ");
        md_site_name(b, s, site, full);
        buf_printf(b, " | %s%s%s | %+.1f | %+.2f | %s |\n", rpt_kind_name(site->kind),
                   site->suspect ? ", suspect" : "", site->suppressed ? ", suppressed" : "",
                   site->bytes_per_round, site->blocks_per_round, fin);
    }
    if (s->n_sites > MD_TOP_SITES) {
        buf_printf(b, "\n_%zu more sites in report.json._\n", s->n_sites - MD_TOP_SITES);
    }
}

/* Appends the culprit and its callers (at most MD_MAX_STACK frames from the culprit outward),
 * then the frames passed over as wrappers and why; nothing without a stack. */
static void md_stack(struct buf *b, const struct rpt_site *c, bool full)
{
    if (!c || !c->n_frames) {
        return;
    }
    size_t first = c->culprit_frame < c->n_frames ? c->culprit_frame : 0;
    buf_puts(b, "\nThe culprit and its callers:\n\n");
    for (size_t f = first; f < c->n_frames && f - first < MD_MAX_STACK; f++) {
        char where[1024];
        rpt_name_frame(&c->frames[f], full, where, sizeof(where));
        buf_printf(b, "%zu. ", f - first + 1);
        md_text(b, where, "");
        buf_puts(b, c->frames[f].inlined ? " (inlined)\n" : "\n");
    }
    if (c->n_frames - first > MD_MAX_STACK) {
        buf_printf(b, "\n_%zu more frames in report.json._\n", c->n_frames - first - MD_MAX_STACK);
    }
    if (first > 0) {
        buf_puts(b, "\nPassed over as allocator wrappers: ");
        for (size_t f = 0; f < first; f++) {
            char where[1024];
            rpt_name_frame(&c->frames[f], full, where, sizeof(where));
            buf_puts(b, f ? ", " : "");
            md_text(b, where, "");
            if (c->frames[f].skip != RPT_SKIP_NONE && (unsigned)c->frames[f].skip < RPT_N_SKIPS) {
                buf_printf(b, " (%s)", rpt_skip_names[c->frames[f].skip]);
            }
        }
        buf_puts(b, ".\n");
    }
    if (c->culprit_why) {
        buf_puts(b, "\n");
        md_para(b, "Why not those", c->culprit_why);
    }
}

/* Appends "Retainers: held by ... → these blocks (...)" for the culprit when a retainer scan
 * ran (rpt_retain.h has the wording); nothing otherwise. */
static void md_retainers(struct buf *b, const struct rpt_scenario *s, bool full)
{
    const struct rpt_site *c = rpt_summary_culprit(s);
    char text[4096];
    if (c && rpt_retain_line(s, c, full, text, sizeof(text))) {
        buf_puts(b, "\nRetainers: ");
        rpt_esc_md(b, text, "");
        buf_puts(b, "\n");
    }
}

/* Appends a warning paragraph for each site of `s` that leaks under the threshold. */
static void md_warnings(struct buf *b, const struct rpt_scenario *s)
{
    size_t n = 0;
    for (size_t k = 0; k < s->n_sites; k++) {
        if (!rpt_site_leaks_under_threshold(&s->sites[k])) {
            continue;
        }
        if (n++ < MD_TOP_SITES) {
            char text[1024];
            rpt_under_threshold_text(s, &s->sites[k], text, sizeof(text));
            buf_puts(b, "**Warning:** ");
            md_text(b, text, "");
            buf_puts(b, "\n\n");
        }
    }
    if (n > MD_TOP_SITES) {
        buf_printf(b, "**Warning:** %zu more sites leak under the threshold (report.json).\n\n",
                   n - MD_TOP_SITES);
    }
}

/* Counts the sites of the run that leak under the threshold. */
static size_t md_count_warnings(const struct rpt_run *run)
{
    size_t n = 0;
    for (size_t i = 0; i < run->n_scenarios; i++) {
        for (size_t k = 0; k < run->scenarios[i].n_sites; k++) {
            n += rpt_site_leaks_under_threshold(&run->scenarios[i].sites[k]);
        }
    }
    return n;
}

/* Appends one scenario's section: error and reason, chart, top sites, culprit's stack. */
static void md_section(struct buf *b, const struct rpt_scenario *s, bool full)
{
    buf_puts(b, "<details><summary>");
    md_html_text(b, s->name, "(unnamed)");
    buf_printf(b, ": %s, %s</summary>\n\n", md_verdict(s->verdict), s->ok ? "pass" : "FAIL");
    md_para(b, "Error", s->error);
    md_para(b, "Why", s->reason);
    md_para(b, "Warning", s->rss_warning);
    md_warnings(b, s);
    md_chart(b, s);
    md_sites(b, s, full);
    md_stack(b, rpt_summary_culprit(s), full);
    md_retainers(b, s, full);
    buf_puts(b, "\n</details>\n\n");
}

/* Appends the heading: scenarios, failures, commit. */
static void md_header(struct buf *b, const struct rpt_summary *sum)
{
    buf_printf(b, "## leakcheck: %s, %zu failed\n\n", sum->scenarios_text, sum->failed);
    if (sum->commit) {
        buf_puts(b, "Commit ");
        md_text(b, sum->commit, "");
        if (sum->commit_message) {
            buf_puts(b, ": ");
            md_text(b, sum->commit_message, "");
        }
        buf_puts(b, "\n\n");
    }
    if (sum->interrupted[0]) {
        buf_printf(b,
                   "**Interrupted by %s**: the run stopped early; this covers the rounds that "
                   "finished.\n\n",
                   sum->interrupted);
    }
}

/* Appends the table row of scenario `s`. */
static void md_row(struct buf *b, const struct rpt_scenario *s, bool full)
{
    struct rpt_summary_row row;
    rpt_summary_of_scenario(s, &row);
    buf_puts(b, "| ");
    md_text(b, s->name, "(unnamed)");
    buf_printf(b, " | %s | %s | %s | %s | ", md_verdict(s->verdict), md_result(row.result),
               row.growth, row.limit);
    if (row.culprit) {
        md_site_name(b, s, row.culprit, full);
    } else {
        buf_puts(b, "none");
    }
    buf_puts(b, " |\n");
}

/* Appends the table of scenarios, at most MD_MAX_ROWS rows and half the size cap (counted from
 * `start`, where the summary begins in `b`). */
static void md_table(struct buf *b, const struct rpt_run *run, size_t start)
{
    buf_puts(b, "| Scenario | Verdict | Result | Heap growth per round | Limit | Culprit |\n"
                "|---|---|---|---:|---:|---|\n");
    size_t rows = 0;
    for (size_t i = 0; i < run->n_scenarios && i < MD_MAX_ROWS; i++) {
        if (b->len - start > RPT_MD_MAX / 2) {
            break;
        }
        rows++;
        md_row(b, &run->scenarios[i], run->full_names);
    }
    if (run->n_scenarios > rows) {
        buf_printf(b, "\n_%zu more scenarios in report.json._\n", run->n_scenarios - rows);
    }
    buf_puts(b, "\n");
}

/* Appends the scenarios' sections, failing ones first, while they fit under the cap (counted
 * from `start`); then says how many were left out. */
static void md_sections(struct buf *b, const struct rpt_run *run, size_t start)
{
    size_t dropped = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < run->n_scenarios; i++) {
            const struct rpt_scenario *s = &run->scenarios[i];
            if ((pass == 0) == s->ok) {
                continue;
            }
            struct buf sec;
            buf_init(&sec);
            md_section(&sec, s, run->full_names);
            if (sec.err) {
                b->err = b->err ? b->err : sec.err;
            } else if (b->len - start + sec.len + 512 < RPT_MD_MAX) {
                buf_add(b, sec.data, sec.len);
            } else {
                dropped++;
            }
            buf_cleanup(&sec);
        }
    }
    if (dropped) {
        buf_printf(b,
                   "_Summary truncated: %zu scenario section%s left out to stay under "
                   "1 MiB; see report.json and index.html._\n",
                   dropped, dropped == 1 ? "" : "s");
    }
}

void rpt_md_render(const struct rpt_run *run, struct buf *b)
{
    struct rpt_summary sum;
    size_t start = b->len;
    rpt_summary_of_run(run, &sum);
    md_header(b, &sum);
    md_table(b, run, start);
    size_t warnings = md_count_warnings(run);
    if (warnings > 0) {
        buf_printf(b, "**Warning:** %zu %s under the threshold; the scenarios below say where.\n\n",
                   warnings, warnings == 1 ? "site leaks" : "sites leak");
    }
    md_sections(b, run, start);
}
