/* SPDX-License-Identifier: MIT */
/* drv.h - the table of drivers: one row per kind of workload.
 *
 * A row names the kind as a scenario file spells it, what the driver needs of the target's
 * standard streams, and the driver's functions over its settings struct: defaults, cleanup,
 * reading the scenario's "driver" object, checking settings made in code, writing them back
 * for scenario.json, and creating the round runner. Adding a driver is its file (drv_x.c and
 * drv_x.h, over drv_api.h) and its row in drv.c: a scenario holds its kind's row and an opaque
 * settings struct of the row's cfg_size (scn.h), so nothing else names the kinds. Kinds: stdio
 * (lines on the target's stdin, one reply line each on its stdout), http (libcurl, multipart
 * uploads, concurrency), command (an argv run once per round, no shell). A driver is created before
 * the target starts, runs once per round (warm-up rounds too), and is freed after the target stops.
 */
#ifndef HARNESS_DRV_H
#define HARNESS_DRV_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "../util/diag.h"
#include "drv_api.h"

/* One row of the table. The functions take the driver's own settings struct. */
struct drv_kind {
    const char *name; /* "kind" in a scenario file */
    unsigned needs;   /* DRV_PIPES_STDIN, DRV_READS_STDOUT (drv_api.h) */
    size_t cfg_size;  /* the size of the driver's settings struct */
    void (*init)(void *cfg);
    void (*cleanup)(void *cfg);
    int (*parse)(struct drv_parse *p, const cJSON *dv, void *cfg);
    int (*check)(struct drv_parse *p, const void *cfg);
    bool (*save)(const void *cfg, cJSON *dv);
    struct drv *(*create)(const void *cfg, struct diag *d);
};

/* The first row (stdio): the kind of a scenario that names none. Can't fail. */
const struct drv_kind *drv_kind_default(void);

/* The row of the kind a scenario file names `name`, or NULL. Can't fail. */
const struct drv_kind *drv_kind_find(const char *name);

/* The number of rows; drv_kind_at(i) for i below it gives each. Can't fail. */
size_t drv_kind_count(void);
const struct drv_kind *drv_kind_at(size_t i);

/* The kinds for messages: "one of \"stdio\", \"http\", \"command\"" into `out`. Can't fail. */
void drv_kind_names(char *out, size_t len);

/* A new settings struct of kind `k` with the driver's defaults (caller frees with
 * drv_cfg_free()), or NULL when out of memory. */
void *drv_cfg_new(const struct drv_kind *k);

/* Frees settings made by drv_cfg_new() for the same kind. NULL is a no-op. */
void drv_cfg_free(const struct drv_kind *k, void *cfg);

/* Creates the driver of kind `k` from its settings `cfg` (copied). Returns it, or NULL with `d`
 * filled. Caller frees with drv_free(). */
struct drv *drv_new(const struct drv_kind *k, const void *cfg, struct diag *d);

/* Frees a driver through its ops. drv_free(NULL) is a no-op. */
void drv_free(struct drv *drv);

#endif
