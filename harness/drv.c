/* SPDX-License-Identifier: MIT */
/* drv.c - placeholder expansion and the driver factory. */
#include "drv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_cmd.h"
#include "drv_http.h"
#include "drv_stdio.h"
#include "scn.h"

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

struct drv *drv_new(const struct scn *s, struct diag *d)
{
    switch (s->driver) {
    case SCN_DRIVER_STDIO:
        return drv_stdio_new(&s->stdio, d);
    case SCN_DRIVER_COMMAND:
        return drv_cmd_new(&s->cmd, d);
    case SCN_DRIVER_HTTP:
        return drv_http_new(&s->http, d);
    }
    diag_set(d, -EINVAL, "unknown driver kind %d", (int)s->driver);
    return NULL;
}

void drv_free(struct drv *drv)
{
    if (drv) {
        drv->ops->free(drv);
    }
}
