/* SPDX-License-Identifier: MIT */
/* drv_http.h - the http driver: requests with libcurl against a running target.
 *
 * Settings come from the scenario (struct scn_http): method, URL, headers, a body of a given
 * size or a multipart upload, requests per round, concurrency, timeout and expected status.
 */
#ifndef HARNESS_DRV_HTTP_H
#define HARNESS_DRV_HTTP_H

#include "../util/diag.h"
#include "drv.h"
#include "scn.h"

/* Creates an http driver from `cfg` (copied; the driver owns its copy). Returns the driver (free
 * with drv->ops->free), or NULL with `d` filled (bad settings, out of memory). */
struct drv *drv_http_new(const struct scn_http *cfg, struct diag *d);

#endif
