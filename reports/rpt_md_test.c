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

/* The culprit's retainers: one line in the scenario with a scan (the lost case too, and a scan
 * cut short), none in the one without; hostile names are escaped. */
static void test_rpt_md_retainers(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct buf b;
    buf_init(&b);
    rpt_md_render(run, &b);
    assert_int_equal(env_count(b.data, "\nRetainers: "), 1);
    assert_non_null(strstr(b.data, "\nRetainers: held by g\\_uploads \\+8 "
                                   "\\(scenarios/uploads/server\\.c:40\\) \u2192 block from "
                                   "upload\\_table\\_new"));
    assert_non_null(strstr(b.data, "60 of 64 sampled survivors; 1 other path"));
    buf_cleanup(&b);
    struct rpt_scenario *sc = &run->scenarios[0];
    struct rpt_retainer t = sc->sites[0].retainers[0];
    sc->sites[0].retainers[0] = sc->sites[0].retainers[1];
    sc->sites[0].retainers[1] = t;
    sc->retain.complete = false;
    sc->retain.note = strdup("process 3: memory bound <64 MiB>");
    buf_init(&b);
    rpt_md_render(run, &b);
    assert_non_null(strstr(b.data, "\nRetainers: lost: no pointer to these blocks remains "));
    assert_non_null(strstr(b.data, "scan cut short: process 3: memory bound &lt;64 MiB&gt;"));
    buf_cleanup(&b);
    rpt_run_free(run);
}

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
        strstr(m, "| Scenario | Verdict | Result | Heap growth per round | Limit | Culprit |"));
    assert_null(strstr(m, "**Warning:**"));
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

/* A site leaking under the threshold: a warning under the table and one in its scenario. */
static void test_rpt_md_warns_under_threshold(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct rpt_site *x = &run->scenarios[1].sites[0];
    x->kind = RPT_KIND_LEAK;
    x->suspect = false;
    x->bytes_per_round = 72;
    run->scenarios[1].threshold_bytes_per_round = 128;
    struct buf b;
    buf_init(&b);
    rpt_md_render(run, &b);
    assert_int_equal(b.err, 0);
    assert_non_null(strstr(b.data,
                           "**Warning:** 1 site leaks under the threshold; the scenarios below say "
                           "where.\n"));
    // Markdown-escaped as every name in the summary
    assert_non_null(strstr(b.data, " leaks \\+72 B/round, under the threshold of 128 B\n"));
    buf_cleanup(&b);
    rpt_run_free(run);
}

/* CI=true (GitHub Actions and most CI systems set it): a consumer that cannot run fails there
 * instead of skipping. */
static int in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && strcmp(ci, "true") == 0;
}

/* summary.md rendered by a real CommonMark renderer (Debian's cmark, raw HTML kept as GitHub
 * keeps <details>): the <summary> line shows names as they are (no Markdown backslashes) and
 * hostile names stay text; the table's escapes render away. */
static void test_rpt_md_cmark_renders_summary(void **state)
{
    (void)state;
    if (!env_have("cmark")) {
        if (in_ci()) {
            fail_msg("cmark not found under CI=true; install it with ci/install-deps.sh --test");
        }
        print_message("SKIPPED: cmark not found (ci/install-deps.sh --test installs it)\n");
        skip();
    }
    struct rpt_run *run = fix_run();
    free(run->scenarios[0].name);
    run->scenarios[0].name = fix_strdup("kvlru-leaky_2 *x* <b>&amp;");
    struct buf b;
    buf_init(&b);
    rpt_md_render(run, &b);
    assert_int_equal(b.err, 0);
    char dir[PATH_MAX];
    char path[PATH_MAX + 16];
    char cmd[2 * PATH_MAX];
    env_tmpdir(dir, "md");
    snprintf(path, sizeof(path), "%s/summary.md", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
    assert_int_equal(fclose(f), 0);
    snprintf(cmd, sizeof(cmd), "cmark --unsafe '%s'", path);
    char *html = NULL;
    int rc = env_run(cmd, &html);
    env_rmrf(dir);
    assert_int_equal(rc, 0);
    assert_non_null(html);
    assert_non_null(strstr(html, "<summary>kvlru-leaky_2 *x* &lt;b&gt;&amp;amp;: leak, FAIL"));
    assert_null(strstr(html, "kvlru\\-leaky"));
    assert_null(strstr(html, "<b>"));
    // the same name in the table (a paragraph to plain CommonMark): Markdown escapes, rendered
    // to the same text
    assert_non_null(strstr(html, "| kvlru-leaky_2 *x* &lt;b&gt;&amp;amp; | leak |"));
    assert_null(strstr(html, "</script>"));
    free(html);
    buf_cleanup(&b);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_md_table),
        cmocka_unit_test(test_rpt_md_retainers),
        cmocka_unit_test(test_rpt_md_cap),
        cmocka_unit_test(test_rpt_md_warns_under_threshold),
        cmocka_unit_test(test_rpt_md_cmark_renders_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
