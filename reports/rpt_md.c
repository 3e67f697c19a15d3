/* SPDX-License-Identifier: MIT */
/* rpt_md.c - Markdown summary writer (see rpt_md.h). Every name goes through rpt_esc_md();
 * numbers are fixed-format in the C locale. The table comes first and is capped in rows, so
 * the essentials survive even when per-scenario sections must be dropped. */
#include "rpt_md.h"

#include <math.h>
#include <string.h>

#define MD_MAX_ROWS   500
#define MD_MAX_POINTS 60
#define MD_TOP_SITES  5
#define MD_MAX_STACK  12

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

/* "pass", "FAIL", "pass (expected leak)". */
static const char *md_result(const struct rpt_scenario *s)
{
    if (!s->ok) {
        return "**FAIL**";
    }
    return s->verdict == RPT_VERDICT_LEAK ? "pass (expected leak)" : "pass";
}

/* First non-suppressed suspect, else first site; NULL when there are none. */
static const struct rpt_site *md_culprit(const struct rpt_scenario *s)
{
    for (size_t i = 0; i < s->n_sites; i++) {
        if (s->sites[i].suspect && !s->sites[i].suppressed) {
            return &s->sites[i];
        }
    }
    return NULL;
}

/* Appends `s` escaped, cut at 200 bytes (names can be huge; the summary has a size limit). */
static void md_text(struct buf *b, const char *s, const char *null_as)
{
    char cut[208];
    if (s && strlen(s) > 200) {
        size_t n = 200;
        // Cut on a UTF-8 character boundary.
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
            n--;
        }
        memcpy(cut, s, n);
        memcpy(cut + n, "...", 4);
        s = cut;
    }
    rpt_esc_md(b, s, null_as);
}

/* Appends "function (file:line)" escaped. */
static void md_where(struct buf *b, const char *fn, const char *file, uint32_t line)
{
    md_text(b, fn, "?");
    if (file) {
        buf_puts(b, " (");
        md_text(b, file, "");
        if (line) {
            buf_printf(b, ":%u", line);
        }
        buf_puts(b, ")");
    }
}

/* Appends one scenario's section: chart and top sites. */
static void md_section(struct buf *b, const struct rpt_scenario *s)
{
    buf_puts(b, "<details><summary>");
    md_text(b, s->name, "(unnamed)");
    buf_printf(b, ": %s, %s</summary>\n\n", md_verdict(s->verdict), s->ok ? "pass" : "FAIL");
    if (s->error) {
        buf_puts(b, "Error: ");
        md_text(b, s->error, "");
        buf_puts(b, "\n\n");
    }
    if (s->reason) {
        buf_puts(b, "Why: ");
        md_text(b, s->reason, "");
        buf_puts(b, "\n\n");
    }
    if (s->n_rounds > 0) {
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
        size_t fm = rpt_first_measured(s);
        buf_printf(b, "Rounds 1 to %zu (marked w) were warm-up and are not judged.\n\n", fm);
    }
    size_t shown = 0;
    for (size_t i = 0; i < s->n_sites && shown < MD_TOP_SITES; i++) {
        const struct rpt_site *site = &s->sites[i];
        if (shown++ == 0) {
            buf_puts(b, "| Site | Kind | Bytes per round | Blocks per round | Live at end |\n"
                        "|---|---|---:|---:|---:|\n");
        }
        char fin[48];
        fmt_bytes(fin, sizeof(fin), (double)site->final_bytes);
        buf_puts(b, "| ");
        md_where(b, site->function, site->file, site->line);
        buf_printf(b, " | %s%s%s | %+.1f | %+.2f | %s |\n", rpt_kind_name(site->kind),
                   site->suspect ? ", suspect" : "", site->suppressed ? ", suppressed" : "",
                   site->bytes_per_round, site->blocks_per_round, fin);
    }
    if (s->n_sites > MD_TOP_SITES) {
        buf_printf(b, "\n_%zu more sites in report.json._\n", s->n_sites - MD_TOP_SITES);
    }
    const struct rpt_site *c = md_culprit(s);
    if (c && c->n_frames) {
        buf_puts(b, "\nStack of the culprit (allocator side first):\n\n");
        for (size_t f = 0; f < c->n_frames && f < MD_MAX_STACK; f++) {
            buf_printf(b, "%zu. ", f + 1);
            md_where(b, c->frames[f].function, c->frames[f].file, c->frames[f].line);
            buf_puts(b, c->frames[f].inlined ? " (inlined)\n" : "\n");
        }
        if (c->n_frames > MD_MAX_STACK) {
            buf_printf(b, "\n_%zu more frames in report.json._\n", c->n_frames - MD_MAX_STACK);
        }
    }
    buf_puts(b, "\n</details>\n\n");
}

void rpt_md_render(const struct rpt_run *run, struct buf *b)
{
    size_t failed = 0;
    for (size_t i = 0; i < run->n_scenarios; i++) {
        failed += !run->scenarios[i].ok;
    }
    size_t start = b->len;
    buf_printf(b, "## leakcheck: %zu scenario%s, %zu failed\n\n", run->n_scenarios,
               run->n_scenarios == 1 ? "" : "s", failed);
    if (run->commit) {
        buf_puts(b, "Commit ");
        md_text(b, run->commit, "");
        if (run->commit_message) {
            buf_puts(b, ": ");
            md_text(b, run->commit_message, "");
        }
        buf_puts(b, "\n\n");
    }
    buf_puts(b, "| Scenario | Verdict | Result | Growth per round | Limit | Culprit |\n"
                "|---|---|---|---:|---:|---|\n");
    size_t rows = 0;
    for (size_t i = 0; i < run->n_scenarios && i < MD_MAX_ROWS; i++) {
        const struct rpt_scenario *s = &run->scenarios[i];
        if (b->len - start > RPT_MD_MAX / 2) {
            break;
        }
        rows++;
        char g[48], t[48];
        fmt_bytes(g, sizeof(g), s->growth_bytes_per_round);
        fmt_bytes(t, sizeof(t), s->threshold_bytes_per_round);
        buf_puts(b, "| ");
        md_text(b, s->name, "(unnamed)");
        buf_printf(b, " | %s | %s | %s%s | %s | ", md_verdict(s->verdict), md_result(s),
                   s->growth_bytes_per_round > 0 ? "+" : "", g, t);
        const struct rpt_site *c = md_culprit(s);
        if (c) {
            md_where(b, c->function, c->file, c->line);
        } else {
            buf_puts(b, "none");
        }
        buf_puts(b, " |\n");
    }
    if (run->n_scenarios > rows) {
        buf_printf(b, "\n_%zu more scenarios in report.json._\n", run->n_scenarios - rows);
    }
    buf_puts(b, "\n");
    // Sections: failing scenarios first, then the rest, while they fit.
    size_t dropped = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < run->n_scenarios; i++) {
            const struct rpt_scenario *s = &run->scenarios[i];
            if ((pass == 0) == s->ok) {
                continue;
            }
            struct buf sec;
            buf_init(&sec);
            md_section(&sec, s);
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
