/* SPDX-License-Identifier: MIT */
/* drv_stdio.h - the stdio driver: request lines on the target's stdin, one reply line each.
 *
 * Requests come from templates used in turn, from a file read on through the whole run (each
 * round takes the next K lines, wrapping), or from a command run once per round. The driver
 * reads and writes its own part of a scenario file ("kind": "stdio").
 */
#ifndef HARNESS_DRV_STDIO_H
#define HARNESS_DRV_STDIO_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "../util/diag.h"
#include "drv_api.h"

#define DRV_STDIO_DEFAULT_REQUESTS_PER_ROUND 10u
#define DRV_STDIO_DEFAULT_REPLY_TIMEOUT_MS   10000

/* stdio driver settings. Exactly one source of requests is set: `requests` (templates used in
 * turn), `requests_file` (absolute or relative to the current directory once loaded: read on
 * through the run, K lines per round, wrapping), or `requests_command` (argv run once per round,
 * its stdout lines are the requests). Strings are owned. */
struct drv_stdio_cfg {
    char **requests;
    size_t n_requests;
    char *requests_file;
    char **requests_command; /* NULL-terminated argv, or NULL */
    unsigned requests_per_round;
    int reply_timeout_ms;
};

/* Sets the defaults (no requests yet) in `cfg` (a struct drv_stdio_cfg). Can't fail. */
void drv_stdio_init(void *cfg);

/* Frees the strings of `cfg`; it is empty afterwards. Can't fail. */
void drv_stdio_cleanup(void *cfg);

/* Reads the "driver" object `dv` of a scenario file into `cfg`: keys, exactly one source of
 * requests, placeholders, requests_file made absolute against p->dir. Returns 0, -EINVAL or
 * -ENOMEM with p->json's diag filled. */
int drv_stdio_parse(struct drv_parse *p, const cJSON *dv, void *cfg);

/* Checks the placeholders of settings made in code (the command line). Returns 0 or -EINVAL. */
int drv_stdio_check(struct drv_parse *p, const void *cfg);

/* Adds the settings to the "driver" object `dv` (without "kind"). Returns false when out of
 * memory. */
bool drv_stdio_save(const void *cfg, cJSON *dv);

/* Creates a stdio driver from `cfg` (copied). A requests file is read here. Returns the driver,
 * or NULL with `d` filled (unreadable file, empty source, out of memory). */
struct drv *drv_stdio_new(const void *cfg, struct diag *d);

#endif
