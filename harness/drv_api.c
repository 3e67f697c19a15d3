/* SPDX-License-Identifier: MIT */
/* drv_api.c - placeholders and paths shared by the drivers and the scenario (see drv_api.h). */
#include "drv_api.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/fmt.h"

char *drv_expand(const char *tmpl, uint16_t port, uint32_t round, uint32_t i)
{
    size_t cap = strlen(tmpl) + 1;
    /* Each placeholder grows by at most 10 - 3 characters; count them for the exact bound. */
    for (const char *p = tmpl; *p; p++) {
        if (*p == '{') {
            cap += 10;
        }
    }
    char *out = malloc(cap);
    if (!out) {
        return NULL;
    }
    size_t n = 0;
    for (const char *p = tmpl; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            out[n++] = *p;
            p += 2;
        } else if (strncmp(p, "{port}", 6) == 0) {
            n += (size_t)snprintf(out + n, cap - n, "%u", port);
            p += 6;
        } else if (strncmp(p, "{round}", 7) == 0) {
            n += (size_t)snprintf(out + n, cap - n, "%u", round);
            p += 7;
        } else if (strncmp(p, "{i}", 3) == 0) {
            n += (size_t)snprintf(out + n, cap - n, "%u", i);
            p += 3;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return out;
}

/* True when the `n` bytes at `name` are a known placeholder name; notes {port}. */
static bool known_placeholder(const char *name, size_t n, bool allow_n, bool *uses_port)
{
    if (n == 4 && strncmp(name, "port", 4) == 0) {
        if (uses_port) {
            *uses_port = true;
        }
        return true;
    }
    return (n == 5 && strncmp(name, "round", 5) == 0) || (n == 1 && name[0] == 'i') ||
           (allow_n && n == 1 && name[0] == 'n');
}

int drv_check_placeholders(const char *s, const char *where, bool allow_n, bool *uses_port,
                           struct diag *d)
{
    for (const char *p = s; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            p++;
            continue;
        }
        if (*p != '{') {
            continue;
        }
        const char *end = strchr(p, '}');
        if (!end) {
            return diag_set(d, -EINVAL, "%s: unclosed '{' in '%s' (write '{{' for a literal brace)",
                            where, s);
        }
        size_t n = (size_t)(end - p - 1);
        if (!known_placeholder(p + 1, n, allow_n, uses_port)) {
            return diag_set(d, -EINVAL,
                            "%s: unknown placeholder '{%.*s}' in '%s' (known: {port}, {round}, "
                            "{i}%s; write '{{' for a literal brace)",
                            where, (int)(n > 40 ? 40 : n), p + 1, s, allow_n ? ", {n}" : "");
        }
        p = end;
    }
    return 0;
}

int drv_check_strs(struct json_ctx *c, char *const *v, size_t n, const char *key, bool allow_n,
                   bool *uses_port)
{
    for (size_t i = 0; v && (n ? i < n : v[i] != NULL); i++) {
        char name[JSON_PATH_MAX];
        char where[JSON_PATH_MAX + 256];
        fmt_c(name, sizeof(name), "%s[%zu]", key, i);
        json_where(c, name, where, sizeof(where));
        int rc = drv_check_placeholders(v[i], where, allow_n, uses_port, c->d);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

int drv_check_str(struct json_ctx *c, const char *s, const char *key, bool *uses_port)
{
    if (!s) {
        return 0;
    }
    char where[JSON_PATH_MAX + 256];
    json_where(c, key, where, sizeof(where));
    return drv_check_placeholders(s, where, false, uses_port, c->d);
}

int drv_resolve_argv0(char **argv)
{
    if (!argv || !argv[0] || argv[0][0] == '/' || !strchr(argv[0], '/')) {
        return 0;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd))) {
        return -errno;
    }
    size_t len = strlen(cwd) + strlen(argv[0]) + 2;
    char *p = malloc(len);
    if (!p) {
        return -ENOMEM;
    }
    snprintf(p, len, "%s/%s", cwd, argv[0]);
    free(argv[0]);
    argv[0] = p;
    return 0;
}

int drv_resolve_path(const char *dir, char **path)
{
    if (!*path || (*path)[0] == '/' || !dir) {
        return 0;
    }
    size_t len = strlen(dir) + strlen(*path) + 2;
    char *abs = malloc(len);
    if (!abs) {
        return -ENOMEM;
    }
    snprintf(abs, len, "%s/%s", dir, *path);
    free(*path);
    *path = abs;
    return 0;
}
