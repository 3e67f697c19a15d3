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
#include "rpt_util.h"

void rpt_write_dirname(const struct rpt_run *run, size_t index, char *out, size_t len)
{
    char mine[80];
    char other[80];
    rpt_safe_name(run->scenarios[index].name, mine, sizeof(mine));
    bool clash = false;
    for (size_t i = 0; i < index && !clash; i++) {
        rpt_safe_name(run->scenarios[i].name, other, sizeof(other));
        clash = strcmp(mine, other) == 0;
    }
    if (clash) {
        rpt_fmt(out, len, "%s-%zu", mine, index + 1);
    } else {
        rpt_fmt(out, len, "%s", mine);
    }
}

/* Renders one file with `render` into dir/name. */
static int write_one(const char *dir, const char *name, struct rpt_buf *b, char *err,
                     size_t err_len)
{
    char path[PATH_MAX];
    int rc;
    if (rpt_fmt(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        rc = rpt_err(err, err_len, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
    } else {
        rc = rpt_buf_write(b, path, err, err_len);
    }
    rpt_buf_cleanup(b);
    return rc;
}

/* Writes the per-scenario files of scenario `i` into dir/<safe-name>/. */
static int write_scenario(const struct rpt_run *run, size_t i, const char *dir, char *err,
                          size_t err_len)
{
    const struct rpt_scenario *s = &run->scenarios[i];
    char sub[96], path[PATH_MAX];
    rpt_write_dirname(run, i, sub, sizeof(sub));
    if (rpt_fmt(path, sizeof(path), "%s/%s", dir, sub) >= (int)sizeof(path)) {
        return rpt_err(err, err_len, -ENAMETOOLONG, "%s/%s: path too long", dir, sub);
    }
    int rc = rpt_mkdirs(path);
    if (rc) {
        return rpt_err(err, err_len, rc, "%s: cannot create: %s", path, strerror(-rc));
    }
    struct rpt_buf b;
    rpt_buf_init(&b);
    rpt_svg_render(s, true, &b);
    if ((rc = write_one(path, "heap.svg", &b, err, err_len))) {
        return rc;
    }
    rpt_pprof_render(run, s, RPT_PPROF_HEAP, &b);
    if ((rc = write_one(path, "heap.pb.gz", &b, err, err_len))) {
        return rc;
    }
    rpt_pprof_render(run, s, RPT_PPROF_GROWTH, &b);
    if ((rc = write_one(path, "growth.pb.gz", &b, err, err_len))) {
        return rc;
    }
    rpt_folded_render(s, &b);
    return write_one(path, "growth.folded", &b, err, err_len);
}

int rpt_write_all(const struct rpt_run *run, const char *dir, char *err, size_t err_len)
{
    char path[PATH_MAX];
    int rc = rpt_mkdirs(dir);
    if (rc) {
        return rpt_err(err, err_len, rc, "%s: cannot create the report directory: %s", dir,
                       strerror(-rc));
    }
    for (size_t i = 0; i < run->n_scenarios; i++) {
        if ((rc = write_scenario(run, i, dir, err, err_len))) {
            return rc;
        }
    }
    struct rpt_buf b;
    rpt_buf_init(&b);
    rpt_junit_render(run, &b);
    if ((rc = write_one(dir, "junit.xml", &b, err, err_len))) {
        return rc;
    }
    b.max = RPT_MD_MAX + 4096;
    rpt_md_render(run, &b);
    if ((rc = write_one(dir, "summary.md", &b, err, err_len))) {
        return rc;
    }
    rpt_html_index(run, &b);
    if ((rc = write_one(dir, "index.html", &b, err, err_len))) {
        return rc;
    }
    rpt_html_bench_json(run, &b);
    if ((rc = write_one(dir, "benchmark.json", &b, err, err_len))) {
        return rc;
    }
    if (rpt_fmt(path, sizeof(path), "%s/report.json", dir) >= (int)sizeof(path)) {
        return rpt_err(err, err_len, -ENAMETOOLONG, "%s: path too long", dir);
    }
    return rpt_json_write(run, path, err, err_len);
}
