/* SPDX-License-Identifier: MIT */
/* rpt_junit.c - JUnit XML writer (see rpt_junit.h). All text goes through rpt_esc_xml*, times
 * are "%.3f" in the C locale, and no file/line attributes are written on testcases (CI systems
 * disagree on them; the culprit is in the failure text instead). */
#include "rpt_junit.h"

#include <math.h>
#include <string.h>

#include "../util/fmt.h"
#include "rpt_esc.h"
#include "rpt_retain.h"
#include "rpt_name.h"
#include "rpt_summary.h"

#define JUNIT_TOP_SITES 5

/* Appends " 1:123 2:456..." with '*' on warm-up rounds. */
static void junit_rounds(struct buf *b, const struct rpt_scenario *s)
{
    buf_puts(b, "live bytes per round (* = warm-up):");
    for (size_t i = 0; i < s->n_rounds; i++) {
        const struct rpt_round *r = &s->rounds[i];
        buf_printf(b, "%s%u%s:%llu", i % 8 ? " " : "\n  ", r->round, r->warmup ? "*" : "",
                   (unsigned long long)r->live_bytes);
    }
    buf_puts(b, "\n");
}

/* Appends the failure/error text: reason, top sites with stacks (and who holds a suspect's
 * survivors when a retainer scan ran), per-round figures. */
static void junit_detail(struct buf *b, const struct rpt_scenario *s, bool full)
{
    struct buf t;
    buf_init(&t);
    if (s->error) {
        buf_printf(&t, "error: %s\n", s->error);
    }
    if (s->reason) {
        buf_printf(&t, "reason: %s\n", s->reason);
    }
    size_t shown = 0;
    for (size_t i = 0; i < s->n_sites && shown < JUNIT_TOP_SITES; i++) {
        const struct rpt_site *site = &s->sites[i];
        if (site->suppressed) {
            continue;
        }
        char where[1024];
        rpt_name_site(s, site, full, where, sizeof(where));
        if (shown++ == 0) {
            buf_puts(&t, "top sites:\n");
        }
        buf_printf(&t, "  %s: %+.1f bytes/round, %+.2f blocks/round, %s%s\n", where,
                   site->bytes_per_round, site->blocks_per_round, rpt_kind_name(site->kind),
                   site->suspect ? ", suspect" : "");
        /* the culprit and its callers; the wrappers passed over below it, marked */
        for (size_t f = 0; f < site->n_frames; f++) {
            const struct rpt_frame *fr = &site->frames[f];
            rpt_name_frame(fr, full, where, sizeof(where));
            bool skipped = f < site->culprit_frame && (unsigned)fr->skip < RPT_N_SKIPS;
            buf_printf(&t, "    %s at %s%s%s%s%s\n", f == site->culprit_frame ? "=>" : "  ", where,
                       fr->inlined ? " [inlined]" : "", skipped ? " [wrapper: " : "",
                       skipped ? rpt_skip_names[fr->skip] : "", skipped ? "]" : "");
        }
        if (site->culprit_why) {
            buf_printf(&t, "      why not the wrappers: %s\n", site->culprit_why);
        }
        char held[4096];
        if (site->suspect && rpt_retain_line(s, site, full, held, sizeof(held))) {
            buf_printf(&t, "    %s\n", held);
        }
    }
    junit_rounds(&t, s);
    rpt_esc_xml_text(b, t.data, "");
    if (t.err && !b->err) {
        b->err = t.err;
    }
    buf_cleanup(&t);
}

/* Writes the testcase's message into `msg`: the growth against the limit ("+32.0 KiB/round
 * over 12 rounds (limit 1.0 KiB)"), or for a failed inconclusive or unexpected no-leak
 * scenario what went wrong instead. The message is shown in the failure and the system-out. */
static void junit_message(const struct rpt_scenario *s, const struct rpt_summary_row *row,
                          char *msg, size_t len)
{
    char growth[48];
    // JUnit states the growth with its sign always, "+0 B" included.
    fmt_bytes_signed(growth, sizeof(growth), s->growth_bytes_per_round);
    if (!s->ok && s->verdict == RPT_VERDICT_INCONCLUSIVE) {
        fmt_c(msg, len, "inconclusive: %s", s->reason ? s->reason : "no reason given");
    } else if (!s->ok && s->verdict == RPT_VERDICT_NO_LEAK) {
        fmt_c(msg, len, "expected a leak, found none: heap %s/round over %zu rounds", growth,
              row->measured);
    } else {
        fmt_c(msg, len, "heap %s/round over %zu rounds (limit %s)", growth, row->measured,
              row->limit);
    }
}

/* Appends the <error> (the run failed) or <failure> of a scenario that did not meet its
 * expectation, with the testcase's message `msg`. */
static void junit_problem(struct buf *b, const struct rpt_scenario *s, const char *msg, bool full)
{
    const char *type = "leak";
    if (s->verdict == RPT_VERDICT_ERROR) {
        buf_puts(b, "      <error type=\"run-failed\" message=\"");
        rpt_esc_xml(b, s->error ? s->error : s->reason, "the run failed");
        buf_puts(b, "\">");
        junit_detail(b, s, full);
        buf_puts(b, "</error>\n");
        return;
    }
    if (s->verdict == RPT_VERDICT_INCONCLUSIVE) {
        type = "inconclusive";
    } else if (s->verdict == RPT_VERDICT_NO_LEAK) {
        type = "unexpected-no-leak";
    }
    buf_printf(b, "      <failure type=\"%s\" message=\"", type);
    rpt_esc_xml(b, msg, "");
    buf_puts(b, "\">");
    junit_detail(b, s, full);
    buf_puts(b, "</failure>\n");
}

/* Appends one <testcase>. */
static void junit_case(struct buf *b, const struct rpt_scenario *s, bool full)
{
    struct rpt_summary_row row;
    char msg[256];
    rpt_summary_of_scenario(s, &row);
    junit_message(s, &row, msg, sizeof(msg));
    buf_puts(b, "    <testcase classname=\"leakcheck\" name=\"");
    rpt_esc_xml(b, s->name, "(unnamed)");
    buf_printf(b, "\" time=\"%.3f\">\n", isfinite(s->seconds) && s->seconds > 0 ? s->seconds : 0.0);
    if (row.result == RPT_SUMMARY_FAIL) {
        junit_problem(b, s, msg, full);
    }
    buf_puts(b, "      <system-out>");
    if (row.result == RPT_SUMMARY_EXPECTED_LEAK) {
        buf_puts(b, "expected leak: the scenario is marked expect=leak, and it leaked as "
                    "expected (");
        rpt_esc_xml_text(b, msg, "");
        buf_puts(b, ")\n");
    }
    buf_printf(b, "verdict: %s, expected: %s\n", rpt_verdict_name(s->verdict),
               rpt_expect_name(s->expect));
    buf_puts(b, "growth: ");
    rpt_esc_xml_text(b, msg, "");
    buf_puts(b, "\n");
    for (size_t k = 0; k < s->n_sites; k++) {
        if (rpt_site_leaks_under_threshold(&s->sites[k])) {
            char text[1024];
            rpt_under_threshold_text(s, &s->sites[k], text, sizeof(text));
            buf_puts(b, "warning: ");
            rpt_esc_xml_text(b, text, "");
            buf_puts(b, "\n");
        }
    }
    if (s->ok) {
        junit_detail(b, s, full);
    }
    buf_puts(b, "</system-out>\n    </testcase>\n");
}

/* Appends ` name="value"` with the value escaped; nothing when the value is unknown. */
static void junit_attr(struct buf *b, const char *name, const char *value)
{
    if (value) {
        buf_printf(b, " %s=\"", name);
        rpt_esc_xml(b, value, "");
        buf_puts(b, "\"");
    }
}

/* Appends one <property>. */
static void junit_prop(struct buf *b, const char *name, const char *value)
{
    buf_puts(b, "      <property name=\"");
    rpt_esc_xml(b, name, "");
    buf_puts(b, "\" value=\"");
    rpt_esc_xml(b, value, "unknown");
    buf_puts(b, "\"/>\n");
}

/* Appends <testsuites> and <testsuite> with the run's counts, time, start and host, and the
 * run's properties. */
static void junit_open(struct buf *b, const struct rpt_summary *sum)
{
    size_t failures = sum->failed - sum->errors;
    char v[64];
    buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    buf_printf(b,
               "<testsuites name=\"leakcheck\" tests=\"%zu\" failures=\"%zu\" "
               "errors=\"%zu\" time=\"%.3f\">\n",
               sum->scenarios, failures, sum->errors, sum->seconds);
    buf_printf(b,
               "  <testsuite name=\"leakcheck\" tests=\"%zu\" failures=\"%zu\" "
               "errors=\"%zu\" skipped=\"0\" time=\"%.3f\"",
               sum->scenarios, failures, sum->errors, sum->seconds);
    junit_attr(b, "timestamp", sum->started_at);
    junit_attr(b, "hostname", sum->host);
    buf_puts(b, ">\n    <properties>\n");
    junit_prop(b, "commit", sum->commit);
    fmt_c(v, sizeof(v), "%u", sum->rounds);
    junit_prop(b, "rounds", v);
    junit_prop(b, "threshold_bytes_per_round", sum->threshold);
    junit_prop(b, "agent_version", sum->agent_version);
    junit_prop(b, "format", RPT_FORMAT);
    if (sum->interrupted[0]) {
        junit_prop(b, "interrupted", sum->interrupted);
    }
    buf_puts(b, "    </properties>\n");
}

void rpt_junit_render(const struct rpt_run *run, struct buf *b)
{
    struct rpt_summary sum;
    rpt_summary_of_run(run, &sum);
    junit_open(b, &sum);
    for (size_t i = 0; i < run->n_scenarios; i++) {
        junit_case(b, &run->scenarios[i], run->full_names);
    }
    buf_puts(b, "  </testsuite>\n</testsuites>\n");
}
