/* SPDX-License-Identifier: MIT */
/* rpt_folded.c - folded-stack writer (see rpt_folded.h). A frame is its function name, or
 * "[object]+0xoffset" when unsymbolized; ';' and line breaks inside names are replaced so that
 * each line keeps the "frames count" shape. */
#include "rpt_folded.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct folded_line {
    char *stack;
    uint64_t bytes;
};

/* Appends one frame name with the separators made harmless. */
static void folded_frame(struct buf *b, const struct rpt_frame *f)
{
    if (f->function && f->function[0]) {
        for (const char *p = f->function; *p; p++) {
            char c = *p;
            if (c == ';') {
                c = ':';
            } else if (c == '\n' || c == '\r' || c == '\t') {
                c = ' ';
            }
            buf_add(b, &c, 1);
        }
        return;
    }
    const char *obj = f->object ? strrchr(f->object, '/') : NULL;
    obj = obj ? obj + 1 : (f->object ? f->object : "unknown");
    buf_puts(b, "[");
    for (const char *p = obj; *p; p++) {
        char c = (*p == ';' || *p == ' ' || *p == '\n') ? '_' : *p;
        buf_add(b, &c, 1);
    }
    buf_printf(b, "]+0x%llx", (unsigned long long)f->object_offset);
}

/* qsort comparator on the stack text. */
static int folded_cmp(const void *a, const void *b)
{
    const struct folded_line *x = a, *y = b;
    return strcmp(x->stack, y->stack);
}

void rpt_folded_render(const struct rpt_scenario *s, struct buf *b)
{
    struct folded_line *lines = calloc(s->n_sites ? s->n_sites : 1, sizeof(*lines));
    size_t n = 0;
    if (!lines) {
        b->err = b->err ? b->err : -ENOMEM;
        return;
    }
    for (size_t i = 0; i < s->n_sites; i++) {
        const struct rpt_site *site = &s->sites[i];
        if (site->growth_bytes_signed <= 0) {
            continue;
        }
        struct buf t;
        buf_init(&t);
        if (site->n_frames == 0) {
            buf_puts(&t, site->function ? site->function : "[unknown]");
        }
        // The model lists the allocator side first; folded stacks start at the root.
        for (size_t f = site->n_frames; f-- > 0;) {
            folded_frame(&t, &site->frames[f]);
            if (f) {
                buf_puts(&t, ";");
            }
        }
        if (t.err || !t.data) {
            b->err = b->err ? b->err : (t.err ? t.err : -ENOMEM);
            buf_cleanup(&t);
            break;
        }
        lines[n].stack = t.data;
        lines[n].bytes = (uint64_t)site->growth_bytes_signed;
        n++;
    }
    qsort(lines, n, sizeof(*lines), folded_cmp);
    for (size_t i = 0; i < n; i++) {
        uint64_t bytes = lines[i].bytes;
        while (i + 1 < n && strcmp(lines[i].stack, lines[i + 1].stack) == 0) {
            free(lines[i].stack);
            i++;
            bytes += lines[i].bytes;
        }
        buf_printf(b, "%s %llu\n", lines[i].stack, (unsigned long long)bytes);
        free(lines[i].stack);
    }
    free(lines);
}
