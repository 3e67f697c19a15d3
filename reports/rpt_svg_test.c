/* SPDX-License-Identifier: MIT */
/* rpt_svg_test.c - SVG charts: nice ticks, escaping, well-formed (xmllint), and drawn by a
 * headless Chromium (screenshot written; index.html's DOM holds one chart per scenario). */
#include "rpt_svg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpt_fixture.h"
#include "rpt_testenv.h"
#include "rpt_write.h"

/* Ticks are 1-2-5 steps in a binary unit, covering the data. */
static void test_rpt_svg_nice_ticks(void **state)
{
    (void)state;
    struct rpt_svg_axes a;
    rpt_svg_axes_init(&a, 0, 0, 100, 100, 0, 1, 0, 600.0 * 1024);
    assert_string_equal(a.unit, "KiB");
    assert_true(a.step == 100.0 * 1024 || a.step == 200.0 * 1024);
    assert_true(a.ymax >= 600.0 * 1024);
    char l[32];
    rpt_svg_tick_label(&a, 200.0 * 1024, l, sizeof(l));
    assert_string_equal(l, "200 KiB");
    rpt_svg_axes_init(&a, 0, 0, 100, 100, 0, 1, 0, 5.5 * 1024 * 1024);
    assert_string_equal(a.unit, "MiB");
    assert_true(a.step == 2.0 * 1024 * 1024);
    assert_true(a.ymax == 6.0 * 1024 * 1024);
    rpt_svg_axes_init(&a, 0, 0, 100, 100, 0, 1, 0, 0);
    assert_true(a.ymax > 0);
}

/* Every element a reader needs is there, names escaped, no script. */
static void test_rpt_svg_content(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct buf b;
    buf_init(&b);
    rpt_svg_render(&run->scenarios[1], true, &b);
    assert_int_equal(b.err, 0);
    assert_null(strstr(b.data, "<script"));
    assert_null(strstr(b.data, "</script>"));
    assert_non_null(strstr(b.data, "cache fixed | &quot;q&quot; &lt;/script&gt;"));
    assert_non_null(strstr(b.data, "class=\"warmup\""));
    assert_non_null(strstr(b.data, "class=\"trend\""));
    assert_non_null(strstr(b.data, "class=\"threshold\""));
    assert_non_null(strstr(b.data, "class=\"rss\""));
    assert_non_null(strstr(b.data, "class=\"live\""));
    assert_int_equal(env_count(b.data, "class=\"site\""), 1);
    assert_null(strstr(b.data, "snapshot")); /* no snapshot times: no word of them */
    buf_cleanup(&b);
    /* each round's tooltip gives its snapshot time when measured */
    struct rpt_scenario *s = &run->scenarios[1];
    s->snapshot_seconds = malloc(s->n_rounds * sizeof(*s->snapshot_seconds));
    assert_non_null(s->snapshot_seconds);
    for (size_t i = 0; i < s->n_rounds; i++) {
        s->snapshot_seconds[i] = i == 0 ? -1 : 0.0125;
    }
    buf_init(&b);
    rpt_svg_render(s, true, &b);
    assert_int_equal(env_count(b.data, ", snapshot 12.5 ms</title>"), s->n_rounds - 1);
    buf_cleanup(&b);
    buf_init(&b);
    rpt_svg_render(&run->scenarios[0], true, &b);
    assert_int_equal(env_count(b.data, "class=\"site\""), 3);
    assert_non_null(strstr(b.data, "#c62828\">leak (FAIL)"));
    buf_cleanup(&b);
    rpt_run_free(run);
}

/* xmllint finds every chart well-formed; Chromium renders one and reads index.html. */
static void test_rpt_svg_browser(void **state)
{
    (void)state;
    char dir[PATH_MAX], cmd[PATH_MAX * 3], path[PATH_MAX * 2];
    ENV_WRITE_FIXTURE(dir);
    snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'/*/heap.svg", dir);
    assert_int_equal(env_run(cmd, NULL), 0);
    if (!env_have("chromium")) {
        print_message("SKIPPED: chromium not found\n");
        env_rmrf(dir);
        skip();
    }
    char png[PATH_MAX * 2], what[PATH_MAX * 3];
    snprintf(png, sizeof(png), "%s/leaky.png", dir);
    snprintf(what, sizeof(what), "--screenshot='%s' --window-size=900,500", png);
    snprintf(path, sizeof(path), "%s/uploads-leaky/heap.svg", dir);
    char *out = NULL;
    int st = env_chromium(what, path, &out);
    free(out);
    assert_int_equal(st, 0);
    size_t len = 0;
    char *img = env_slurp(png, &len);
    assert_non_null(img);
    assert_true(len > 1000);
    assert_memory_equal(img, "\x89PNG", 4);
    free(img);

    snprintf(path, sizeof(path), "%s/index.html", dir);
    assert_int_equal(env_chromium("--dump-dom", path, &out), 0);
    // One chart per scenario, parsed as SVG elements (not text) by the browser.
    assert_int_equal(env_count(out, "<svg "), 4);
    assert_int_equal(env_count(out, "class=\"leakcheck-chart\""), 4);
    assert_null(strstr(out, "<script"));
    free(out);
    env_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_svg_nice_ticks),
        cmocka_unit_test(test_rpt_svg_content),
        cmocka_unit_test(test_rpt_svg_browser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
