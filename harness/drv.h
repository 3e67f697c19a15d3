/* SPDX-License-Identifier: MIT */
/* drv.h - drivers: one round of work against a running target.
 *
 * A driver is created from its scenario settings before the target starts, runs once per round
 * (warm-up rounds too), and is freed after the target stops. Kinds: stdio (lines on the target's
 * stdin, one reply line each on its stdout), http (libcurl, multipart uploads, concurrency),
 * command (an argv run once per round, no shell). Placeholders {port}, {round} and {i} expand in
 * every string a driver sends.
 */
#ifndef HARNESS_DRV_H
#define HARNESS_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/diag.h"

/* What a driver may use of the running target. */
struct drv_target {
    int stdin_fd;  /* write end of the target's stdin, or -1 */
    int stdout_fd; /* read end of the target's stdout, or -1 (stdio driver reads replies) */
    uint16_t port; /* the port chosen for {port}, or 0 */
    int pid;
};

struct drv;

struct drv_ops {
    const char *kind;
    /* Runs round `round` (1-based). Returns 0, -ETIMEDOUT when the round exceeded timeout_ms,
     * -EPIPE when the target went away, or another negative errno; `d` says what failed
     * (e.g. "request 3 of round 5: http://127.0.0.1:4242/upload answered 500"). */
    int (*round)(struct drv *drv, const struct drv_target *t, uint32_t round, int timeout_ms,
                 struct diag *d);
    void (*free)(struct drv *drv);
};

struct drv {
    const struct drv_ops *ops;
};

/* Expands {port}, {round}, {i} (and {{ / }} for literal braces) in `tmpl`. Returns a malloc'ed
 * string the caller frees, or NULL when out of memory. Unknown placeholders are left as they are
 * (scenario validation rejects them first). */
char *drv_expand(const char *tmpl, uint16_t port, uint32_t round, uint32_t i);

struct scn;

/* Creates the driver the scenario asks for (drv_stdio_new, drv_http_new or drv_cmd_new).
 * Returns it, or NULL with `d` filled. Caller frees with drv_free(). */
struct drv *drv_new(const struct scn *s, struct diag *d);

/* Frees a driver through its ops. drv_free(NULL) is a no-op. */
void drv_free(struct drv *drv);

#endif
