/* SPDX-License-Identifier: MIT */
/* drv_stdio.h - the stdio driver: request lines on the target's stdin, one reply line each.
 *
 * Requests come from templates used in turn, from a file read on through the whole run (each
 * round takes the next K lines, wrapping), or from a command run once per round.
 */
#ifndef HARNESS_DRV_STDIO_H
#define HARNESS_DRV_STDIO_H

#include "../util/diag.h"
#include "drv.h"
#include "scn.h"

/* Creates a stdio driver from `cfg` (copied). A requests file is read here. Returns the driver,
 * or NULL with `d` filled (unreadable file, empty source, out of memory). */
struct drv *drv_stdio_new(const struct scn_stdio *cfg, struct diag *d);

#endif
