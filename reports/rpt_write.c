/* SPDX-License-Identifier: MIT */
/* rpt_write.c - writes every report of a run into one folder (see rpt_write.h).
 *
 * Order: per-scenario files first, then the run-level files, report.json last, so a reader
 * that sees report.json can rely on the rest being there. Each file is written atomically.
 */
#include "rpt_write.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "rpt_folded.h"
#include "rpt_html.h"
#include "rpt_json.h"
#include "rpt_junit.h"
#include "rpt_layout.h"
#include "rpt_md.h"
#include "rpt_pprof.h"
#include "rpt_svg.h"

/* Renders one file of a scenario's folder. */
typedef void (*scenario_render_fn)(const struct rpt_run *run, const struct rpt_scenario *s,
                                   struct buf *b);

/* Renders one run-level file. */
typedef void (*run_render_fn)(const struct rpt_run *run, struct buf *b);

/* The chart as a file of its own. */
static void render_svg(const struct rpt_run *run, const struct rpt_scenario *s, struct buf *b)
{
    (void)run;
    rpt_svg_render(s, true, b);
}

/* The final-heap profile. */
static void render_heap(const struct rpt_run *run, const struct rpt_scenario *s, struct buf *b)
{
    rpt_pprof_render(run, s, RPT_PPROF_HEAP, b);
}

/* The growth profile. */
static void render_growth(const struct rpt_run *run, const struct rpt_scenario *s, struct buf *b)
{
    rpt_pprof_render(run, s, RPT_PPROF_GROWTH, b);
}

/* The folded growth stacks. */
static void render_folded(const struct rpt_run *run, const struct rpt_scenario *s, struct buf *b)
{
    (void)run;
    rpt_folded_render(s, b);
}

static const struct {
    const char *name;
    scenario_render_fn render;
} scenario_files[] = {
    {RPT_LAYOUT_HEAP_SVG, render_svg},
    {RPT_LAYOUT_HEAP_PPROF, render_heap},
    {RPT_LAYOUT_GROWTH_PPROF, render_growth},
    {RPT_LAYOUT_GROWTH_FOLDED, render_folded},
};

static const struct {
    const char *name;
    run_render_fn render;
    size_t max; /* cap on the file's size, 0 = none */
} run_files[] = {
    {RPT_LAYOUT_JUNIT_XML, rpt_junit_render, 0},
    {RPT_LAYOUT_SUMMARY_MD, rpt_md_render, RPT_MD_MAX + 4096},
    {RPT_LAYOUT_INDEX_HTML, rpt_html_index, 0},
    {RPT_LAYOUT_BENCH_JSON, rpt_html_bench_json, 0},
};

/* Joins "dir/name" into `out` (PATH_MAX). Returns 0, or -ENAMETOOLONG with `d` filled. */
static int join_path(char *out, const char *dir, const char *name, struct diag *d)
{
    if (fmt_c(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
        return diag_set(d, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
    }
    return 0;
}

/* Writes the rendered buffer `b` to dir/name and empties it. Returns 0 or -errno with `d`
 * filled (a buffer that failed to render is reported and not written). */
static int write_one(const char *dir, const char *name, struct buf *b, struct diag *d)
{
    char path[PATH_MAX];
    int rc = join_path(path, dir, name, d);
    if (rc == 0) {
        rc = file_write_buf(b, path, d);
    }
    buf_cleanup(b);
    return rc;
}

/* Writes the per-scenario files of scenario `i` into dir/<its folder>/. Returns 0 or -errno
 * with `d` filled. */
static int write_scenario(const struct rpt_run *run, size_t i, const char *dir, struct diag *d)
{
    char sub[RPT_LAYOUT_DIR_MAX], path[PATH_MAX];
    rpt_layout_dirname(run, i, sub, sizeof(sub));
    int rc = join_path(path, dir, sub, d);
    if (rc) {
        return rc;
    }
    rc = file_mkdirs(path);
    if (rc) {
        return diag_set(d, rc, "%s: cannot create: %s", path, strerror(-rc));
    }
    for (size_t k = 0; k < sizeof(scenario_files) / sizeof(scenario_files[0]) && rc == 0; k++) {
        struct buf b;
        buf_init(&b);
        scenario_files[k].render(run, &run->scenarios[i], &b);
        rc = write_one(path, scenario_files[k].name, &b, d);
    }
    return rc;
}

/* Writes the run-level files but report.json. Returns 0 or -errno with `d` filled. */
static int write_run_files(const struct rpt_run *run, const char *dir, struct diag *d)
{
    int rc = 0;
    for (size_t k = 0; k < sizeof(run_files) / sizeof(run_files[0]) && rc == 0; k++) {
        struct buf b;
        buf_init(&b);
        b.max = run_files[k].max;
        run_files[k].render(run, &b);
        rc = write_one(dir, run_files[k].name, &b, d);
    }
    return rc;
}

int rpt_write_all(const struct rpt_run *run, const char *dir, struct diag *d)
{
    char path[PATH_MAX];
    int rc = file_mkdirs(dir);
    if (rc) {
        return diag_set(d, rc, "%s: cannot create the report directory: %s", dir, strerror(-rc));
    }
    for (size_t i = 0; i < run->n_scenarios && rc == 0; i++) {
        rc = write_scenario(run, i, dir, d);
    }
    if (rc == 0) {
        rc = write_run_files(run, dir, d);
    }
    if (rc) {
        return rc;
    }
    if (fmt_c(path, sizeof(path), "%s/" RPT_LAYOUT_REPORT_JSON, dir) >= (int)sizeof(path)) {
        return diag_set(d, -ENAMETOOLONG, "%s: path too long", dir);
    }
    return rpt_json_write(run, path, d);
}
