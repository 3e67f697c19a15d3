/* SPDX-License-Identifier: MIT */
/* diag.c - filling a struct diag. */
#include "diag.h"

#include <stdarg.h>

#include "fmt.h"

int diag_set(struct diag *d, int err, const char *fmt, ...)
{
    if (d) {
        va_list ap;
        va_start(ap, fmt);
        fmt_vc(d->msg, sizeof(d->msg), fmt, ap);
        va_end(ap);
    }
    return err;
}
