/* SPDX-License-Identifier: MIT */
/* hdr_plain.c - the in-process leak check from a plain C program (no test framework).
 *
 * usage: hdr_plain fixed|leaky
 * Exits 0 when no leak, 1 on a leak (or an inconclusive or failed measurement), 77 when the
 * agent is absent (the automake and meson code for a skipped test), 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include <leakcheck.h>

#include "hdr.h"

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "fixed") != 0 && strcmp(argv[1], "leaky") != 0)) {
        fprintf(stderr, "usage: hdr_plain fixed|leaky\n");
        return 2;
    }
    int (*parse)(const char *, struct hdr *) =
        strcmp(argv[1], "leaky") == 0 ? hdr_parse_leaky : hdr_parse;

    struct lc_scope *scope;
    int rc = lc_begin(&(struct lc_options){.name = argv[1]}, &scope);
    if (rc < 0) {
        fprintf(stderr,
                "skipped: the leakcheck agent is not tracking this program (%s); run "
                "'leakcheck exec -- %s %s'\n",
                strerror(-rc), argv[0], argv[1]);
        return 77;
    }
    struct hdr h;
    for (unsigned round = 0; round < LC_DEFAULT_WARMUP + 10; round++) {
        parse("Host: example.org", &h);
        parse("Accept: */*", &h);
        lc_round(scope);
    }
    struct lc_result res;
    if (lc_end(scope, &res) < 0) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    hdr_reset();
    printf("%s\n", res.message);
    for (size_t i = 0; i < res.n_sites && res.sites[i].suspect; i++) {
        printf("  %s (%s:%u) %+.0f B/round\n", res.sites[i].function, res.sites[i].file,
               res.sites[i].line, res.sites[i].bytes_per_round);
    }
    return res.verdict == LC_PASS ? 0 : 1;
}
