/* SPDX-License-Identifier: MIT */
/* drv_api.h - the contract every driver implements, and what drivers share with the scenario.
 *
 * A driver runs one round of work against a running target (struct drv_ops). Its settings are
 * its own struct, read from and written to the "driver" object of a scenario file by its own
 * functions, with the context struct drv_parse. Placeholders {port}, {round} and {i} (and {n}
 * in a requests command) are checked here when a scenario loads and expanded here when a round
 * sends them. This header is what a driver includes; the table of drivers is drv.h. No globals;
 * thread-safe.
 */
#ifndef HARNESS_DRV_API_H
#define HARNESS_DRV_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/diag.h"
#include "../util/json.h"

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
    /* Runs round `round` (1-based). Stores in *answered how many of the round's requests the
     * target answered, on success and on failure (0 for a driver that never hears from the
     * target itself). Returns 0, -ETIMEDOUT when the round exceeded timeout_ms, -EPIPE when the
     * target went away, or another negative errno; `d` says what failed (e.g. "request 3 of
     * round 5: http://127.0.0.1:4242/upload answered 500"). */
    int (*round)(struct drv *drv, const struct drv_target *t, uint32_t round, int timeout_ms,
                 uint32_t *answered, struct diag *d);
    void (*free)(struct drv *drv);
};

/* The head of every driver object. */
struct drv {
    const struct drv_ops *ops;
};

/* What a driver needs of the target's standard streams (the flags of its row in drv.c). */
enum drv_need {
    DRV_PIPES_STDIN = 1u << 0,  /* the target's stdin is a pipe the driver writes */
    DRV_READS_STDOUT = 1u << 1, /* the driver reads the target's stdout (else it goes to the log) */
};

/* What a driver's parse function gets besides the "driver" object. */
struct drv_parse {
    struct json_ctx *json; /* the file and the path ("driver"); failures go to its diag */
    const char *dir;       /* the scenario file's folder for relative paths, or NULL */
    bool *uses_port;       /* set to true when a string holds {port} */
};

/* Expands {port}, {round}, {i} (and {{ / }} for literal braces) in `tmpl`. Returns a malloc'ed
 * string the caller frees, or NULL when out of memory. Unknown placeholders are left as they are
 * (scenario validation rejects them first). */
char *drv_expand(const char *tmpl, uint16_t port, uint32_t round, uint32_t i);

/* Checks a string for placeholders: only {port}, {round}, {i}, {n} when `allow_n`, and {{ }}.
 * Returns 0, or -EINVAL with "WHERE: unknown placeholder '{x}' in '...'" in `d`. Sets
 * *uses_port (when not NULL) if {port} occurs. */
int drv_check_placeholders(const char *s, const char *where, bool allow_n, bool *uses_port,
                           struct diag *d);

/* Checks the strings v[0..n-1] (n == 0: up to v's NULL entry), named "KEY[i]" in the current
 * object of `c`, with drv_check_placeholders(). NULL `v` passes. Returns 0 or -EINVAL. */
int drv_check_strs(struct json_ctx *c, char *const *v, size_t n, const char *key, bool allow_n,
                   bool *uses_port);

/* Checks one string (NULL passes), named `key` in the current object of `c`. Returns 0 or
 * -EINVAL. */
int drv_check_str(struct json_ctx *c, const char *s, const char *key, bool *uses_port);

/* Makes argv[0] absolute against the current directory when it is a relative path with a slash
 * (a bare name is left for PATH). Returns 0, -ENOMEM, or -errno from getcwd(). */
int drv_resolve_argv0(char **argv);

/* Makes *path absolute against `dir` when it is relative (NULL path or dir: unchanged). Returns 0
 * or -ENOMEM. */
int drv_resolve_path(const char *dir, char **path);

#endif
