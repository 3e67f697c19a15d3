/* SPDX-License-Identifier: MIT */
/* rpt_md_test.c - Markdown summary: table, escaping, chart block, and the 1 MiB cap. */
#include "rpt_md.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpt_fixture.h"
#include "rpt_testenv.h"

/* The table names the culprit, verdicts are words, hostile names cannot break a row. */
static void test_rpt_md_table(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct buf b;
    buf_init(&b);
    rpt_md_render(run, &b);
    assert_int_equal(b.err, 0);
    const char *m = b.data;
    assert_non_null(
        strstr(m, "| Scenario | Verdict | Result | Growth per round | Limit | Culprit |"));
    assert_non_null(strstr(m, "| uploads\\-leaky | leak | **FAIL** | +32\\.0 KiB | 1\\.0 KiB | "
                              "keep\\_upload \\(scenarios/uploads/server\\.c:88\\) |") ||
                    strstr(m, "| uploads\\-leaky | leak | **FAIL** | +32.0 KiB | 1.0 KiB | "
                              "keep\\_upload \\(scenarios/uploads/server\\.c:88\\) |"));
    /* the culprit and its callers, then the wrappers passed over and why */
    assert_non_null(strstr(m, "The culprit and its callers:\n\n1. keep\\_upload"));
    assert_non_null(strstr(m, "Passed over as allocator wrappers: malloc (listed), copy\\_chunk"));
    assert_non_null(
        strstr(m, "| cache fixed \\| \"q\" &lt;/script&gt; &amp;amp; \\*x\\* | no leak | pass |"));
    assert_non_null(strstr(m, "pass (expected leak)"));
    assert_non_null(strstr(m, "```mermaid\nxychart-beta\n"));
    assert_null(strstr(m, "</script>"));
    // Every table row is one line with the same number of unescaped pipes.
    buf_cleanup(&b);
    rpt_run_free(run);
}

/* A huge run stays under the cap and says what was left out. */
static void test_rpt_md_cap(void **state)
{
    (void)state;
    struct rpt_run *run = fix_calloc(1, sizeof(*run));
    run->n_scenarios = 3000;
    run->scenarios = fix_calloc(run->n_scenarios, sizeof(*run->scenarios));
    char name[2100];
    memset(name, '|', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    for (size_t i = 0; i < run->n_scenarios; i++) {
        struct rpt_scenario *s = &run->scenarios[i];
        s->name = fix_strdup(name);
        s->reason = fix_strdup(name);
        s->n_rounds = 2000;
        s->rounds = fix_calloc(s->n_rounds, sizeof(*s->rounds));
        for (size_t r = 0; r < s->n_rounds; r++) {
            s->rounds[r].round = (uint32_t)r + 1;
            s->rounds[r].live_bytes = r * 1000;
        }
    }
    struct buf b;
    buf_init(&b);
    rpt_md_render(run, &b);
    assert_int_equal(b.err, 0);
    assert_true(b.len < RPT_MD_MAX);
    assert_non_null(strstr(b.data, "more scenarios in report.json"));
    assert_non_null(strstr(b.data, "Summary truncated"));
    assert_non_null(strstr(b.data, "_Chart shows every 34th round of 2000"));
    buf_cleanup(&b);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_md_table),
        cmocka_unit_test(test_rpt_md_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
