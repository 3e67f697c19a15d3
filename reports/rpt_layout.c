/* SPDX-License-Identifier: MIT */
/* rpt_layout.c - names inside a report folder (see rpt_layout.h). */
#include "rpt_layout.h"

#include <stdbool.h>
#include <string.h>

#include "../util/file.h"
#include "../util/fmt.h"

void rpt_layout_dirname(const struct rpt_run *run, size_t index, char *out, size_t len)
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
