/* SPDX-License-Identifier: MIT */
/* drv_cmd.h - the command driver: an argv run once per round against the running target.
 *
 * No shell. The child gets LEAKCHECK_ROUND and LEAKCHECK_PORT in its environment; a non-zero
 * exit fails the round with the tail of its stderr.
 */
#ifndef HARNESS_DRV_CMD_H
#define HARNESS_DRV_CMD_H

#include "diag.h"
#include "drv.h"
#include "scn.h"

/* Creates a command driver from `cfg` (copied). Returns the driver, or NULL with `d` filled. */
struct drv *drv_cmd_new(const struct scn_cmd *cfg, struct diag *d);

#endif
