/* SPDX-License-Identifier: MIT */
/* rpt_layout.c - names inside a report folder (see rpt_layout.h). */
#include "rpt_layout.h"

#include <stdbool.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../util/file.h"
#include "../util/fmt.h"

/* Folder name of scenario `index` given the folder names of scenarios 0..index-1 in `taken`:
 * the safe name, or with "-N" (N = index + 1, then index + 2 ...) while that is taken. */
static void pick_name(const struct rpt_run *run, size_t index, char taken[][RPT_LAYOUT_DIR_MAX],
                      char *out)
{
    char mine[80];
    file_safe_name(run->scenarios[index].name, mine, sizeof(mine));
    fmt_c(out, RPT_LAYOUT_DIR_MAX, "%s", mine);
    for (size_t n = index + 1, i = 0; i < index; i++) {
        if (strcmp(out, taken[i]) == 0) {
            fmt_c(out, RPT_LAYOUT_DIR_MAX, "%s-%zu", mine, n++);
            i = (size_t)-1; /* check the new name against every earlier one again */
        }
    }
}

/* Scenarios whose folder names are worked out on the stack (48 KiB); beyond, on the heap. */
#define STACK_NAMES 512

void rpt_layout_dirname(const struct rpt_run *run, size_t index, char *out, size_t len)
{
    static_assert(STACK_NAMES * RPT_LAYOUT_DIR_MAX <= 48 * 1024, "names on the stack");
    char on_stack[STACK_NAMES][RPT_LAYOUT_DIR_MAX];
    char(*taken)[RPT_LAYOUT_DIR_MAX] =
        index < STACK_NAMES ? on_stack : calloc(index + 1, sizeof(*taken));
    if (!taken) {
        /* Out of memory past STACK_NAMES scenarios: the name with its index, unique unless
         * another scenario's own name looks like that. */
        char one[RPT_LAYOUT_DIR_MAX - 12];
        file_safe_name(run->scenarios[index].name, one, sizeof(one));
        fmt_c(out, len, "%s-%zu", one, index + 1);
        return;
    }
    for (size_t i = 0; i <= index; i++) {
        pick_name(run, i, taken, taken[i]);
    }
    fmt_c(out, len, "%s", taken[index]);
    if (taken != on_stack) {
        free(taken);
    }
}
