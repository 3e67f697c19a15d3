/* SPDX-License-Identifier: MIT */
/* rpt_html_test.c - index.html of a run (header facts, one escaped row and section per
 * scenario with its verdict, culprit, links and chart) and the history dashboard's charts. */
#include "rpt_html.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpt_fixture.h"
#include "rpt_layout.h"
#include "rpt_testenv.h"

#define HOSTILE_ESCAPED "cache fixed | &quot;q&quot; &lt;/script&gt;&#10;&amp;amp; *x*"

/* Renders index.html of `run` into a new string (caller frees). */
static char *render_index(const struct rpt_run *run)
{
    struct buf b;
    buf_init(&b);
    rpt_html_index(run, &b);
    assert_int_equal(b.err, 0);
    char *page = buf_take(&b);
    assert_non_null(page);
    return page;
}

/* The text of the section whose id is "s-DIR", into a new string (caller frees). */
static char *section_of(const char *page, const char *dir)
{
    char open[256];
    snprintf(open, sizeof(open), "<section id=\"s-%s\">", dir);
    const char *start = strstr(page, open);
    assert_non_null(start);
    const char *end = strstr(start, "</section>");
    assert_non_null(end);
    return strndup(start, (size_t)(end - start));
}

/* Who holds the culprit's survivors: the line and every path in the scenario with a scan
 * (the lost one too), escaped; nothing in the one without; a scan cut short says so. */
static void test_rpt_html_index_retainers(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char *page = render_index(run);
    char dir[RPT_LAYOUT_DIR_MAX];
    rpt_layout_dirname(run, 0, dir, sizeof(dir));
    char *sec = section_of(page, dir);
    assert_non_null(strstr(sec, "<p class=\"retainers\"><strong>Who holds it:</strong> held by "
                                "g_uploads +8 (scenarios/uploads/server.c:40) \u2192 block from "
                                "upload_table_new"));
    assert_non_null(strstr(sec, "<details><summary>all 2 paths</summary>"));
    assert_non_null(strstr(sec, "<li>lost: no pointer to these blocks remains: 4 of 64 sampled "
                                "survivors, 128.0 KiB</li>"));
    free(sec);
    rpt_layout_dirname(run, 2, dir, sizeof(dir));
    sec = section_of(page, dir);
    assert_null(strstr(sec, "retainers"));
    free(sec);
    free(page);
    run->scenarios[0].retain.complete = false;
    run->scenarios[0].retain.note = strdup("process 9: <gone>");
    page = render_index(run);
    assert_non_null(strstr(page, "scan cut short: process 9: &lt;gone&gt;)</p>"));
    free(page);
    rpt_run_free(run);
}

/* The header states the counts, the commit and its message escaped, and when the run started;
 * the hostile names never reach the page raw. */
static void test_rpt_html_index_header(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char *page = render_index(run);
    assert_non_null(strstr(page, "<title>leakcheck report</title>"));
    assert_non_null(strstr(page, "<p>4 scenarios, <span class=\"fail\">2 failed</span>."));
    assert_non_null(strstr(page, " Commit <code>0123456789abcdef0123456789abcdef01234567</code>: "
                                 "Fix &quot;uploads&quot; &amp; &lt;cache&gt; | 50% "
                                 "&lt;/script&gt;. Started 2024-05-01T12:00:00Z.</p>"));
    assert_null(strstr(page, "</script>"));
    assert_null(strstr(page, "<script"));
    assert_non_null(strstr(page, "<a href=\"report.json\">report.json</a>"));
    assert_true(strcmp(page + strlen(page) - 16, "</body>\n</html>\n") == 0);
    free(page);
    rpt_run_free(run);
}

/* One row per scenario: its name escaped and linked to its section, verdict in its colour,
 * the result, growth and limit, the culprit, and links to its files. */
static void test_rpt_html_index_rows(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char *page = render_index(run);
    assert_non_null(strstr(page, "<tr><td><a href=\"#s-uploads-leaky\">uploads-leaky</a></td>"
                                 "<td style=\"color:#c62828\">leak</td><td class=\"fail\">FAIL</td>"
                                 "<td class=\"num\">+32.0 KiB</td><td class=\"num\">1.0 KiB</td>"
                                 "<td><code>keep_upload (scenarios/uploads/server.c:88)</code></td>"
                                 "<td><a href=\"uploads-leaky/heap.svg\">chart</a> "
                                 "<a href=\"uploads-leaky/heap.pb.gz\">heap</a> "
                                 "<a href=\"uploads-leaky/growth.pb.gz\">growth</a> "
                                 "<a href=\"uploads-leaky/growth.folded\">folded</a></td></tr>"));
    assert_non_null(strstr(page, "\">" HOSTILE_ESCAPED "</a></td><td style=\"color:#2e7d32\">"
                                 "no-leak</td><td class=\"pass\">pass</td>"
                                 "<td class=\"num\">0 B</td>"));
    assert_non_null(strstr(page, ">uploads-expected</a></td><td style=\"color:#c62828\">leak"
                                 "</td><td class=\"pass\">pass (expected leak)</td>"));
    assert_non_null(strstr(page, ">crashed</a></td><td style=\"color:#6a1b9a\">error</td>"
                                 "<td class=\"fail\">FAIL</td>"));
    // The clean scenario has no suspect: its culprit cell says so.
    assert_int_equal(env_count(page, "<td>none</td>"), 2);
    free(page);
    rpt_run_free(run);
}

/* One section per scenario, each with its name escaped, its reason (and error), its chart
 * inlined and its sites; the suspect row is marked. */
static void test_rpt_html_index_sections(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char *page = render_index(run);
    assert_int_equal(env_count(page, "<section id="), 4);
    assert_int_equal(env_count(page, "class=\"leakcheck-chart\""), 4);
    assert_int_equal(env_count(page, "<?xml"), 0);

    char *sec = section_of(page, "uploads-leaky");
    assert_non_null(strstr(sec, "<h2>uploads-leaky</h2>"));
    assert_non_null(strstr(sec, "12 of 12 measured rounds left blocks behind at one site"));
    assert_int_equal(env_count(sec, "class=\"leakcheck-chart\""), 1);
    assert_non_null(strstr(sec, "<tr class=\"fail\"><td><details><summary><code>keep_upload "
                                "(scenarios/uploads/server.c:88)</code></summary>"));
    assert_non_null(strstr(sec, "</details></td><td>leak, suspect</td>"
                                "<td class=\"num\">+32768.0</td><td class=\"num\">+2.00</td>"
                                "<td class=\"num\">12 of 12</td>"));
    /* the stack folded under the site: wrappers greyed with why, the culprit in bold */
    assert_non_null(strstr(sec, "<li class=\"wrapper\">malloc [wrapper: listed]</li>"));
    assert_non_null(
        strstr(sec, "<li class=\"culprit\">keep_upload (scenarios/uploads/server.c:88)"));
    assert_non_null(strstr(sec, "<li>handle_request (scenarios/uploads/server.c:140)</li>"));
    /* C++ names shortened for display */
    assert_non_null(strstr(sec, "std::map&lt;\xe2\x80\xa6&gt;::operator[]"));
    assert_non_null(strstr(sec, "<td>step, suppressed</td>"));
    free(sec);

    sec = section_of(page, "cache_fixed____q____script___amp___x_");
    assert_non_null(strstr(sec, "<h2>" HOSTILE_ESCAPED "</h2>"));
    assert_int_equal(env_count(sec, "class=\"leakcheck-chart\""), 1);
    free(sec);

    sec = section_of(page, "crashed");
    assert_non_null(strstr(sec, "<strong>Error:</strong> target killed by signal 11 (SIGSEGV) "
                                "in round 4; run it under gdb<br>the target crashed in round 4"));
    assert_int_equal(env_count(sec, "class=\"leakcheck-chart\""), 1);
    assert_null(strstr(sec, "<table>"));
    free(sec);
    free(page);
    rpt_run_free(run);
}

/* A run without scenarios or commit still makes a whole page. */
static void test_rpt_html_index_empty(void **state)
{
    (void)state;
    struct rpt_run *run = fix_calloc(1, sizeof(*run));
    char *page = render_index(run);
    assert_non_null(strstr(page, "<p>0 scenarios, <span class=\"pass\">0 failed</span>.</p>"));
    assert_null(strstr(page, "Commit"));
    assert_int_equal(env_count(page, "<section"), 0);
    assert_non_null(strstr(page, "</table>\n</body>\n</html>\n"));
    free(page);
    rpt_run_free(run);
}

/* Two commits of the fixture: per scenario two across-commits charts and the curves; every
 * record is a point, red where growth crossed the limit; the limit line on growth charts. */
static void test_rpt_html_dashboard_charts(void **state)
{
    (void)state;
    struct rpt_history h = {0};
    struct diag dg = {{0}};
    struct rpt_run *run = fix_run();
    assert_int_equal(
        rpt_history_add(&h, run, "1111111aaaa", "first <b>", "2024-05-01T10:00:00Z", 0, &dg), 0);
    assert_int_equal(rpt_history_add(&h, run, "2222222bbbb", NULL, "2024-05-02T10:00:00Z", 0, &dg),
                     0);
    struct buf b;
    buf_init(&b);
    rpt_html_dashboard(&h, &b);
    assert_int_equal(b.err, 0);
    const char *page = b.data;
    assert_non_null(strstr(page, "<p>2 commits, 4 scenarios."));
    assert_int_equal(env_count(page, "class=\"dash-chart\""), 3 * 4);
    assert_int_equal(env_count(page, "growth per round, by commit"), 4);
    assert_int_equal(env_count(page, "live heap after the last round, by commit"), 4);
    // 4 scenarios x 2 commits x 2 charts; the two leaking scenarios crossed their limit.
    assert_int_equal(env_count(page, "<circle class=\"point\""), 8);
    assert_int_equal(env_count(page, "<circle class=\"crossed\""), 8);
    assert_int_equal(env_count(page, "<title>limit 1024.0 bytes/round</title>"), 4);
    assert_non_null(strstr(page, ">1111111</text>"));
    assert_non_null(strstr(page, ">2024-05-02</text>"));
    assert_non_null(strstr(page, "first &lt;b&gt;"));
    assert_null(strstr(page, "<b>"));
    assert_non_null(strstr(page, "<title>1111111 2024-05-01T10:00:00Z&#10;first &lt;b&gt;&#10;"
                                 "growth 32.0 KiB/round: leak</title>"));
    assert_non_null(
        strstr(page, "<title>2222222 2024-05-02T10:00:00Z&#10;Fix &quot;uploads&quot;"));
    buf_cleanup(&b);
    rpt_history_cleanup(&h);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_html_index_header),
        cmocka_unit_test(test_rpt_html_index_retainers),
        cmocka_unit_test(test_rpt_html_index_rows),
        cmocka_unit_test(test_rpt_html_index_sections),
        cmocka_unit_test(test_rpt_html_index_empty),
        cmocka_unit_test(test_rpt_html_dashboard_charts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
