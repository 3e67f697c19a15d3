/* SPDX-License-Identifier: MIT */
/* drv_http.h - the http driver: requests with libcurl against a running target.
 *
 * Settings (struct drv_http_cfg): method, URL, headers, a body of a given size or a multipart
 * upload, requests per round, concurrency, timeout and expected status. The driver reads and
 * writes its own part of a scenario file ("kind": "http").
 */
#ifndef HARNESS_DRV_HTTP_H
#define HARNESS_DRV_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "../util/diag.h"
#include "drv_api.h"

#define DRV_HTTP_DEFAULT_REQUESTS_PER_ROUND 10u
#define DRV_HTTP_DEFAULT_TIMEOUT_MS         10000

/* http driver settings, as drv_http_new() takes them. Strings may hold {port}, {round}, {i};
 * they are owned. headers are "Name: value" lines. body_bytes > 0 sends a body of that many
 * bytes; multipart_bytes > 0 sends a multipart/form-data upload instead. */
struct drv_http_cfg {
    char *url, *method;
    char **headers;
    size_t n_headers;
    size_t body_bytes;
    char *multipart_field, *multipart_filename, *multipart_content_type;
    size_t multipart_bytes;
    unsigned requests_per_round, concurrency;
    int timeout_ms;
    int expect_status; /* 0 = any 2xx */
};

/* Sets the defaults (no URL yet) in `cfg` (a struct drv_http_cfg). Can't fail. */
void drv_http_init(void *cfg);

/* Frees the strings of `cfg`; it is empty afterwards. Can't fail. */
void drv_http_cleanup(void *cfg);

/* Reads the "driver" object `dv` of a scenario file into `cfg`: url, method (GET, or POST with
 * a body), headers, body or multipart upload, counts, timeout, expected status, placeholders.
 * Returns 0, -EINVAL or -ENOMEM with p->json's diag filled. */
int drv_http_parse(struct drv_parse *p, const cJSON *dv, void *cfg);

/* Checks the placeholders of settings made in code. Returns 0 or -EINVAL. */
int drv_http_check(struct drv_parse *p, const void *cfg);

/* Adds the settings to the "driver" object `dv` (without "kind"). Returns false when out of
 * memory. */
bool drv_http_save(const void *cfg, cJSON *dv);

/* Creates an http driver from `cfg` (a struct drv_http_cfg, copied; the driver owns its copy).
 * Returns the driver (free with drv->ops->free), or NULL with `d` filled (bad settings, out of
 * memory). */
struct drv *drv_http_new(const void *cfg, struct diag *d);

#endif
