/* SPDX-License-Identifier: MIT */
/* fuzz_report.c - libFuzzer target for the JSON report reader (reports/rpt_json.c).
 *
 * Parses the input as a leakcheck-report/1 file with rpt_json_parse(), as `compare`, `merge`
 * and `history add` do with reports from other machines. A report that loads is rendered in
 * every format (JSON, JUnit, Markdown, SVG, HTML, pprof, folded stacks); the JSON rendering must
 * parse back. No writer may emit a raw <script> built from data. Must never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reports/rpt_folded.h"
#include "../reports/rpt_html.h"
#include "../reports/rpt_json.h"
#include "../reports/rpt_junit.h"
#include "../reports/rpt_md.h"
#include "../reports/rpt_pprof.h"
#include "../reports/rpt_svg.h"
#include "../util/buf.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../reports/rpt_esc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fails when a rendered text holds a script element. */
static void no_script(struct buf *b)
{
    if (!b->err && b->data && strstr(b->data, "<script")) {
        fprintf(stderr, "a writer emitted <script>\n");
        abort();
    }
    buf_cleanup(b);
}

/* Fails unless every line of folded stacks is "FRAME;FRAME... COUNT": names from the report
 * can neither start a line of their own nor hide the count. */
static void check_folded(struct buf *b)
{
    const char *p = b->err ? NULL : b->data;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            fprintf(stderr, "folded: last line not terminated\n");
            abort();
        }
        const char *sp = nl;
        while (sp > p && sp[-1] >= '0' && sp[-1] <= '9') {
            sp--;
        }
        if (sp == nl || sp == p || sp[-1] != ' ') {
            fprintf(stderr, "folded: a line without its count: %.*s\n", (int)(nl - p), p);
            abort();
        }
        p = nl + 1;
    }
    buf_cleanup(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag dg = {{0}};
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    struct rpt_run *run = NULL;
    int rc = rpt_json_parse(text, "fuzz.json", &run, &dg);
    free(text);
    if (rc != 0) {
        if (dg.msg[0] == '\0' || run) {
            abort();
        }
        return 0;
    }
    struct buf b;
    buf_init(&b);
    rpt_junit_render(run, &b);
    no_script(&b);
    rpt_md_render(run, &b);
    no_script(&b);
    rpt_html_index(run, &b);
    no_script(&b);
    rpt_html_bench_json(run, &b);
    buf_cleanup(&b);
    for (size_t i = 0; i < run->n_scenarios; i++) {
        rpt_svg_render(&run->scenarios[i], true, &b);
        no_script(&b);
        rpt_pprof_render(run, &run->scenarios[i], RPT_PPROF_HEAP, &b);
        buf_cleanup(&b);
        rpt_pprof_render(run, &run->scenarios[i], RPT_PPROF_GROWTH, &b);
        buf_cleanup(&b);
        rpt_folded_render(&run->scenarios[i], &b);
        check_folded(&b);
    }
    char *json = NULL;
    if (rpt_json_render(run, &json) == 0) {
        struct rpt_run *again = NULL;
        if (rpt_json_parse(json, "rendered", &again, &dg) != 0) {
            fprintf(stderr, "rendered report does not parse back: %s\n", dg.msg);
            abort();
        }
        if (again->n_scenarios != run->n_scenarios) {
            abort();
        }
        rpt_run_free(again);
        free(json);
    }
    rpt_run_free(run);
    return 0;
}
