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

#include "rpt_json.h"
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

int rpt_write_all(const struct rpt_run *run, const char *dir, char *err, size_t err_len)
{
    char path[PATH_MAX];
    int rc = rpt_mkdirs(dir);
    if (rc) {
        return rpt_err(err, err_len, rc, "%s: cannot create the report directory: %s", dir,
                       strerror(-rc));
    }
    for (size_t i = 0; i < run->n_scenarios; i++) {
        char sub[96];
        rpt_write_dirname(run, i, sub, sizeof(sub));
        if (rpt_fmt(path, sizeof(path), "%s/%s", dir, sub) >= (int)sizeof(path)) {
            return rpt_err(err, err_len, -ENAMETOOLONG, "%s/%s: path too long", dir, sub);
        }
        rc = rpt_mkdirs(path);
        if (rc) {
            return rpt_err(err, err_len, rc, "%s: cannot create: %s", path, strerror(-rc));
        }
    }
    if (rpt_fmt(path, sizeof(path), "%s/report.json", dir) >= (int)sizeof(path)) {
        return rpt_err(err, err_len, -ENAMETOOLONG, "%s: path too long", dir);
    }
    return rpt_json_write(run, path, err, err_len);
}
