/* SPDX-License-Identifier: MIT */
/* drv.c - the table of drivers (see drv.h). */
#include "drv.h"

#include <errno.h>
#include <string.h>

#include "../util/fmt.h"
#include "drv_cmd.h"
#include "drv_http.h"
#include "drv_stdio.h"

static const struct drv_kind kinds[] = {
    {DRV_STDIO, "stdio", DRV_PIPES_STDIN | DRV_READS_STDOUT, drv_stdio_init, drv_stdio_cleanup,
     drv_stdio_parse, drv_stdio_check, drv_stdio_save, drv_stdio_new},
    {DRV_HTTP, "http", 0, drv_http_init, drv_http_cleanup, drv_http_parse, drv_http_check,
     drv_http_save, drv_http_new},
    {DRV_COMMAND, "command", 0, drv_cmd_init, drv_cmd_cleanup, drv_cmd_parse, drv_cmd_check,
     drv_cmd_save, drv_cmd_new},
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

const struct drv_kind *drv_kind_get(enum drv_id id)
{
    for (size_t i = 0; i < N_KINDS; i++) {
        if (kinds[i].id == id) {
            return &kinds[i];
        }
    }
    return NULL;
}

const struct drv_kind *drv_kind_find(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++) {
        if (strcmp(kinds[i].name, name) == 0) {
            return &kinds[i];
        }
    }
    return NULL;
}

size_t drv_kind_count(void)
{
    return N_KINDS;
}

const struct drv_kind *drv_kind_at(size_t i)
{
    return i < N_KINDS ? &kinds[i] : NULL;
}

void drv_kind_names(char *out, size_t len)
{
    size_t n = (size_t)fmt_c(out, len, "one of");
    for (size_t i = 0; i < N_KINDS && n < len; i++) {
        n += (size_t)fmt_c(out + n, len - n, "%s \"%s\"", i ? "," : "", kinds[i].name);
    }
}

struct drv *drv_new(enum drv_id id, const void *cfg, struct diag *d)
{
    const struct drv_kind *k = drv_kind_get(id);
    if (!k) {
        diag_set(d, -EINVAL, "unknown driver kind %d", (int)id);
        return NULL;
    }
    return k->create(cfg, d);
}

void drv_free(struct drv *drv)
{
    if (drv) {
        drv->ops->free(drv);
    }
}
