/* SPDX-License-Identifier: MIT */
/* drv.c - the table of drivers (see drv.h). */
#include "drv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fmt.h"
#include "drv_cmd.h"
#include "drv_http.h"
#include "drv_stdio.h"

static const struct drv_kind kinds[] = {
    {"stdio", DRV_PIPES_STDIN | DRV_READS_STDOUT, sizeof(struct drv_stdio_cfg), drv_stdio_init,
     drv_stdio_cleanup, drv_stdio_parse, drv_stdio_check, drv_stdio_save, drv_stdio_new},
    {"http", 0, sizeof(struct drv_http_cfg), drv_http_init, drv_http_cleanup, drv_http_parse,
     drv_http_check, drv_http_save, drv_http_new},
    {"command", 0, sizeof(struct drv_cmd_cfg), drv_cmd_init, drv_cmd_cleanup, drv_cmd_parse,
     drv_cmd_check, drv_cmd_save, drv_cmd_new},
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

const struct drv_kind *drv_kind_default(void)
{
    return &kinds[0];
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

void *drv_cfg_new(const struct drv_kind *k)
{
    void *cfg = calloc(1, k->cfg_size);
    if (cfg) {
        k->init(cfg);
    }
    return cfg;
}

void drv_cfg_free(const struct drv_kind *k, void *cfg)
{
    if (cfg) {
        k->cleanup(cfg);
        free(cfg);
    }
}

struct drv *drv_new(const struct drv_kind *k, const void *cfg, struct diag *d)
{
    if (!k || !cfg) {
        diag_set(d, -EINVAL, "no driver settings");
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
