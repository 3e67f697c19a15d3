/* SPDX-License-Identifier: MIT */
/* drv_cmd.h - the command driver: an argv run once per round against the running target.
 *
 * No shell. The child gets LEAKCHECK_ROUND and LEAKCHECK_PORT in its environment; a non-zero
 * exit fails the round with the tail of its stderr. The driver reads and writes its own part of
 * a scenario file ("kind": "command").
 */
#ifndef HARNESS_DRV_CMD_H
#define HARNESS_DRV_CMD_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "../util/diag.h"
#include "drv_api.h"

#define DRV_CMD_DEFAULT_TIMEOUT_MS 60000

/* command driver settings: argv run once per round (no shell), LEAKCHECK_ROUND and
 * LEAKCHECK_PORT set. Strings are owned. */
struct drv_cmd_cfg {
    char **argv; /* NULL-terminated */
    char **env;  /* NULL-terminated "KEY=VALUE" entries added to the environment, or NULL */
    int timeout_ms;
};

/* Sets the defaults (no argv) in `cfg` (a struct drv_cmd_cfg). Can't fail. */
void drv_cmd_init(void *cfg);

/* Frees the strings of `cfg`; it is empty afterwards. Can't fail. */
void drv_cmd_cleanup(void *cfg);

/* Reads the "driver" object `dv` of a scenario file into `cfg`: argv (argv[0] made absolute
 * when it is a relative path), env, timeout_s, placeholders. Returns 0, -EINVAL or -ENOMEM with
 * p->json's diag filled. */
int drv_cmd_parse(struct drv_parse *p, const cJSON *dv, void *cfg);

/* Checks the placeholders of settings made in code. Returns 0 or -EINVAL. */
int drv_cmd_check(struct drv_parse *p, const void *cfg);

/* Adds the settings to the "driver" object `dv` (without "kind"). Returns false when out of
 * memory. */
bool drv_cmd_save(const void *cfg, cJSON *dv);

/* Creates a command driver from `cfg` (copied). Returns the driver, or NULL with `d` filled. */
struct drv *drv_cmd_new(const void *cfg, struct diag *d);

#endif
