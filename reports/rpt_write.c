/* SPDX-License-Identifier: MIT */
/* rpt_write.c - writes every report of a run into one directory (see rpt_write.h).
 *
 * Order: per-scenario files first, then the run-level files, report.json last, so a reader
 * that sees report.json can rely on the rest being there. Each file is written atomically.
 */
#include "rpt_write.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_folded.h"
#include "rpt_json.h"
#include "rpt_junit.h"
#include "rpt_md.h"
#include "rpt_pprof.h"
#include "rpt_svg.h"
#include "rpt_html.h"
#include "../util/buf.h"
#include "../util/diag.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../util/stats.h"
#include "rpt_esc.h"

void rpt_write_dirname(const struct rpt_run *run, size_t index, char *out, size_t len)
{
    char mine[80];
    char other[80];
    file_safe_name(run->scenarios[index].name, mine, sizeof(mine));
    bool clash = false;
    for (size_t i = 0; i < index && !clash; i++) {
        file_safe_name(run->scenarios[i].name, other, sizeof(other));
        clash = strcmp(mine, other) == 0;
    }
    if (clash) {
        fmt_c(out, len, "%s-%zu", mine, index + 1);
    } else {
        fmt_c(out, len, "%s", mine);
    }
}

/* Renders one file with `render` into dir/name. */
static int write_one(const char *dir, const char *name, struct buf *b, struct diag *d)
{
    char path[PATH_MAX];
    int rc;
    if (fmt_c(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        rc = diag_set(d, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
    } else {
        rc = file_write_buf(b, path, d);
    }
    buf_cleanup(b);
    return rc;
}

/* Writes the per-scenario files of scenario `i` into dir/<safe-name>/. */
static int write_scenario(const struct rpt_run *run, size_t i, const char *dir, struct diag *d)
{
    const struct rpt_scenario *s = &run->scenarios[i];
    char sub[96], path[PATH_MAX];
    rpt_write_dirname(run, i, sub, sizeof(sub));
    if (fmt_c(path, sizeof(path), "%s/%s", dir, sub) >= (int)sizeof(path)) {
        return diag_set(d, -ENAMETOOLONG, "%s/%s: path too long", dir, sub);
    }
    int rc = file_mkdirs(path);
    if (rc) {
        return diag_set(d, rc, "%s: cannot create: %s", path, strerror(-rc));
    }
    struct buf b;
    buf_init(&b);
    rpt_svg_render(s, true, &b);
    if ((rc = write_one(path, "heap.svg", &b, d))) {
        return rc;
    }
    rpt_pprof_render(run, s, RPT_PPROF_HEAP, &b);
    if ((rc = write_one(path, "heap.pb.gz", &b, d))) {
        return rc;
    }
    rpt_pprof_render(run, s, RPT_PPROF_GROWTH, &b);
    if ((rc = write_one(path, "growth.pb.gz", &b, d))) {
        return rc;
    }
    rpt_folded_render(s, &b);
    return write_one(path, "growth.folded", &b, d);
}

int rpt_write_all(const struct rpt_run *run, const char *dir, struct diag *d)
{
    char path[PATH_MAX];
    int rc = file_mkdirs(dir);
    if (rc) {
        return diag_set(d, rc, "%s: cannot create the report directory: %s", dir, strerror(-rc));
    }
    for (size_t i = 0; i < run->n_scenarios; i++) {
        if ((rc = write_scenario(run, i, dir, d))) {
            return rc;
        }
    }
    struct buf b;
    buf_init(&b);
    rpt_junit_render(run, &b);
    if ((rc = write_one(dir, "junit.xml", &b, d))) {
        return rc;
    }
    b.max = RPT_MD_MAX + 4096;
    rpt_md_render(run, &b);
    if ((rc = write_one(dir, "summary.md", &b, d))) {
        return rc;
    }
    rpt_html_index(run, &b);
    if ((rc = write_one(dir, "index.html", &b, d))) {
        return rc;
    }
    rpt_html_bench_json(run, &b);
    if ((rc = write_one(dir, "benchmark.json", &b, d))) {
        return rc;
    }
    if (fmt_c(path, sizeof(path), "%s/report.json", dir) >= (int)sizeof(path)) {
        return diag_set(d, -ENAMETOOLONG, "%s: path too long", dir);
    }
    return rpt_json_write(run, path, d);
}
