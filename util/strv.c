/* SPDX-License-Identifier: MIT */
/* strv.c - string vectors (see strv.h). */
#include "strv.h"

#include <stdlib.h>
#include <string.h>

void strv_free(char **v)
{
    for (char **p = v; p && *p; p++) {
        free(*p);
    }
    free(v);
}

void strv_free_n(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i]);
    }
    free(v);
}

size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n]) {
        n++;
    }
    return n;
}

char **strv_dup(char *const *v)
{
    if (!v) {
        return NULL;
    }
    size_t n = strv_len(v);
    char **out = calloc(n + 1, sizeof(*out));
    if (!out) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(v[i]);
        if (!out[i]) {
            strv_free(out);
            return NULL;
        }
    }
    return out;
}

char *strv_dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}
