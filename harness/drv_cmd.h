/* SPDX-License-Identifier: MIT */
/* drv_cmd.h - the command driver: an argv run once per round against the running target.
 *
 * No shell. The child gets LEAKCHECK_ROUND and LEAKCHECK_PORT in its environment; a non-zero
 * exit fails the round with the tail of its stderr.
 */
#ifndef HARNESS_DRV_CMD_H
#define HARNESS_DRV_CMD_H

#include "../util/diag.h"
#include "drv.h"
#include "scn.h"

/* Creates a command driver from `cfg` (copied). Returns the driver, or NULL with `d` filled. */
struct drv *drv_cmd_new(const struct scn_cmd *cfg, struct diag *d);

/* What drv_run() collected from a child. */
struct drv_run_result {
    int status; /* waitpid status */
    char *out;  /* stdout (NUL-terminated, malloc'ed) when asked for, else NULL */
    size_t out_len;
    char err[2048]; /* the last bytes of stderr, NUL-terminated */
};

/* Runs argv (no shell; PATH searched) with env_add ("KEY=VALUE", may be NULL) added to the
 * environment, stdin /dev/null. Collects stdout when want_out (at most out_cap bytes: more is
 * -EFBIG) and the tail of stderr. Kills the child after timeout_ms (-ETIMEDOUT). Returns 0 when
 * the child ran to its end (whatever its status), or a negative errno with `d` filled; the
 * caller frees res->out. */
int drv_run(char *const *argv, char *const *env_add, bool want_out, size_t out_cap, int timeout_ms,
            struct drv_run_result *res, struct diag *d);

#endif
