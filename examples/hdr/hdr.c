/* SPDX-License-Identifier: MIT */
/* hdr.c - a tiny header-line parser, the example library for include/leakcheck.h. */
#include "hdr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One remembered header name, in a list. */
struct seen {
    struct seen *next;
    char name[240];
};

static struct seen *seen_list;
static size_t seen_count;

/* Splits `line` at the first ':' into out->name and out->value (leading blanks of the value
 * skipped). Returns 0 or -EINVAL. */
static int split(const char *line, struct hdr *out)
{
    const char *colon = strchr(line, ':');
    if (!colon) {
        return -EINVAL;
    }
    size_t n = (size_t)(colon - line);
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    size_t vn = strlen(v);
    if (n == 0 || n >= sizeof(out->name) || vn >= sizeof(out->value)) {
        return -EINVAL;
    }
    memcpy(out->name, line, n);
    out->name[n] = '\0';
    memcpy(out->value, v, vn + 1);
    return 0;
}

/* Appends a record for `name` to the list. Returns 0 or -ENOMEM. */
static int remember(const char *name)
{
    struct seen *s = calloc(1, sizeof(*s));
    if (!s) {
        return -ENOMEM;
    }
    strncpy(s->name, name, sizeof(s->name) - 1);
    s->next = seen_list;
    seen_list = s;
    seen_count++;
    return 0;
}

/* True when `name` is in the list. */
static int known(const char *name)
{
    for (const struct seen *s = seen_list; s; s = s->next) {
        if (strcmp(s->name, name) == 0) {
            return 1;
        }
    }
    return 0;
}

int hdr_parse(const char *line, struct hdr *out)
{
    int rc = split(line, out);
    if (rc == 0 && !known(out->name)) {
        rc = remember(out->name);
    }
    return rc;
}

int hdr_parse_leaky(const char *line, struct hdr *out)
{
    int rc = split(line, out);
    if (rc < 0) {
        return rc;
    }
    /* A record on every call, even for a name already known: the list only grows. */
    struct seen *s = calloc(1, sizeof(*s));
    if (!s) {
        return -ENOMEM;
    }
    strncpy(s->name, out->name, sizeof(s->name) - 1);
    s->next = seen_list;
    seen_list = s;
    seen_count++;
    return 0;
}

size_t hdr_known(void)
{
    return seen_count;
}

void hdr_reset(void)
{
    while (seen_list) {
        struct seen *s = seen_list;
        seen_list = s->next;
        free(s);
    }
    seen_count = 0;
}
