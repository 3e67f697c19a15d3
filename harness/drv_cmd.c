/* SPDX-License-Identifier: MIT */
/* drv_cmd.c - the command driver: one command per round, run with util/spawn under the round's
 * deadline. The command never reports answers of the target itself (see drv_ops.round). The
 * settings (struct drv_cmd_cfg) are read from and written to the scenario's "driver" object here.
 */
#include "drv_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../util/spawn.h"
#include "../util/strv.h"

/* ------------------------------------------------------------------ settings */

void drv_cmd_init(void *cfg)
{
    struct drv_cmd_cfg *c = cfg;
    memset(c, 0, sizeof(*c));
    c->timeout_ms = DRV_CMD_DEFAULT_TIMEOUT_MS;
}

void drv_cmd_cleanup(void *cfg)
{
    struct drv_cmd_cfg *c = cfg;
    strv_free(c->argv);
    strv_free(c->env);
    memset(c, 0, sizeof(*c));
}

int drv_cmd_parse(struct drv_parse *p, const cJSON *dv, void *cfg)
{
    static const char *const known[] = {"kind", "argv", "env", "timeout_s", NULL};
    struct drv_cmd_cfg *c = cfg;
    size_t n = 0;
    int rc = json_check_keys(p->json, dv, known);
    if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(dv, "argv")) {
        rc = json_missing(p->json, "argv", "the command to run once per round");
    }
    if (rc == 0) {
        rc = json_get_strs(p->json, dv, "argv", true, &c->argv, &n);
    }
    if (rc == 0) {
        rc = drv_check_strs(p->json, c->argv, n, "argv", false, p->uses_port);
    }
    if (rc == 0) {
        rc = json_get_map(p->json, dv, "env", "=", &c->env, NULL);
    }
    if (rc == 0) {
        rc = drv_check_strs(p->json, c->env, 0, "env", false, p->uses_port);
    }
    if (rc == 0) {
        rc = json_get_seconds(p->json, dv, "timeout_s", &c->timeout_ms);
    }
    if (rc == 0) {
        rc = drv_resolve_argv0(c->argv);
    }
    return rc;
}

int drv_cmd_check(struct drv_parse *p, const void *cfg)
{
    const struct drv_cmd_cfg *c = cfg;
    int rc = drv_check_strs(p->json, c->argv, 0, "argv", false, p->uses_port);
    if (rc == 0) {
        rc = drv_check_strs(p->json, c->env, 0, "env", false, p->uses_port);
    }
    return rc;
}

bool drv_cmd_save(const void *cfg, cJSON *dv)
{
    const struct drv_cmd_cfg *c = cfg;
    bool ok = json_put_strs(dv, "argv", c->argv, 0);
    if (c->env) {
        ok &= json_put_map(dv, "env", c->env, 0, "=");
    }
    ok &= cJSON_AddNumberToObject(dv, "timeout_s", c->timeout_ms / 1000.0) != NULL;
    return ok;
}

/* ------------------------------------------------------------------ the driver */

struct drv_cmd {
    struct drv base;
    char **argv;
    char **env;
    int timeout_ms;
};

/* Copies `v` with placeholders expanded for `round`, leaving `extra` NULL slots at the end.
 * Returns the vector (owned) or NULL when out of memory. */
static char **expand_all(char *const *v, size_t extra, uint16_t port, uint32_t round)
{
    size_t n = strv_len(v);
    char **out = calloc(n + extra + 1, sizeof(*out));
    for (size_t i = 0; out && i < n; i++) {
        out[i] = drv_expand(v[i], port, round, 0);
        if (!out[i]) {
            strv_free(out);
            return NULL;
        }
    }
    return out;
}

/* The round's environment additions: the scenario's, then LEAKCHECK_ROUND and LEAKCHECK_PORT.
 * Returns the vector (owned) or NULL when out of memory. */
static char **round_env(const struct drv_cmd *c, uint16_t port, uint32_t round)
{
    size_t n = strv_len(c->env);
    char **env = expand_all(c->env, 2, port, round);
    if (env && asprintf(&env[n], "LEAKCHECK_ROUND=%u", round) < 0) {
        env[n] = NULL;
        strv_free(env);
        return NULL;
    }
    if (env && asprintf(&env[n + 1], "LEAKCHECK_PORT=%u", port) < 0) {
        env[n + 1] = NULL;
        strv_free(env);
        return NULL;
    }
    return env;
}

/* Fails round `round` after the command ended with `status`, with the last line of its stderr
 * (`err`, trimmed in place). Returns -EIO. */
static int command_failed(uint32_t round, const char *prog, int status, char *err, struct diag *d)
{
    size_t n = strlen(err);
    while (n > 0 && err[n - 1] == '\n') {
        err[--n] = '\0';
    }
    char *last = strrchr(err, '\n');
    return diag_set(d, -EIO, "round %u: driver command '%s' %s %d%s%s", round, prog,
                    WIFEXITED(status) ? "exited with code" : "was killed by signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), n ? ": " : "",
                    last ? last + 1 : err);
}

static int cmd_round(struct drv *drv, const struct drv_target *t, uint32_t round, int timeout_ms,
                     uint32_t *answered, struct diag *d)
{
    struct drv_cmd *c = (struct drv_cmd *)drv;
    char **argv = expand_all(c->argv, 0, t->port, round);
    char **env = round_env(c, t->port, round);
    int rc = 0;
    *answered = 0; /* the command talks to the target; the driver never hears its answers */
    if (!argv || !env) {
        rc = diag_set(d, -ENOMEM, "out of memory");
    }
    struct spawn_result res;
    if (rc == 0) {
        struct diag rd = {{0}};
        int limit = c->timeout_ms < timeout_ms ? c->timeout_ms : timeout_ms;
        rc = spawn_run(argv, env, false, 0, limit, &res, &rd);
        if (rc < 0) {
            rc = diag_set(d, rc, "round %u: %s", round, rd.msg);
        }
    }
    if (rc == 0 && (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)) {
        rc = command_failed(round, argv[0], res.status, res.err, d);
    }
    strv_free(argv);
    strv_free(env);
    return rc;
}

static void cmd_free(struct drv *drv)
{
    struct drv_cmd *c = (struct drv_cmd *)drv;
    strv_free(c->argv);
    strv_free(c->env);
    free(c);
}

static const struct drv_ops cmd_ops = {.kind = "command", .round = cmd_round, .free = cmd_free};

struct drv *drv_cmd_new(const void *cfg, struct diag *d)
{
    const struct drv_cmd_cfg *cc = cfg;
    if (!cc->argv || !cc->argv[0]) {
        diag_set(d, -EINVAL, "command driver: no argv");
        return NULL;
    }
    struct drv_cmd *c = calloc(1, sizeof(*c));
    if (!c) {
        diag_set(d, -ENOMEM, "out of memory");
        return NULL;
    }
    c->base.ops = &cmd_ops;
    c->argv = strv_dup(cc->argv);
    c->env = strv_dup(cc->env);
    c->timeout_ms = cc->timeout_ms > 0 ? cc->timeout_ms : DRV_CMD_DEFAULT_TIMEOUT_MS;
    if (!c->argv || (cc->env && !c->env)) {
        cmd_free(&c->base);
        diag_set(d, -ENOMEM, "out of memory");
        return NULL;
    }
    return &c->base;
}
