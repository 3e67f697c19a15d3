/* SPDX-License-Identifier: MIT */
/* cmd_validate.c - `leakcheck validate` (see cmd_validate.h): every file is loaded with
 * scn_load(), so validation and a run accept exactly the same files. */
#include "cmd_validate.h"

#include <getopt.h>
#include <stdio.h>

#include "drv.h"
#include "scn.h"

static const char help_validate[] =
    "usage: leakcheck validate SCENARIO.json...\n"
    "\n"
    "Checks scenario files (keys, types, placeholders, regular expressions) without running\n"
    "anything. Exit status 0 when all are valid, 2 otherwise. See docs/SCENARIOS.md.\n";

/* Checks one file; prints its result. Returns CLI_EXIT_OK or CLI_EXIT_USAGE. */
static int validate_file(const struct cli *cli, const char *path)
{
    struct scn *s = NULL;
    struct diag d = {{0}};
    if (scn_load(path, &s, &d) < 0) {
        cli_error("%s", d.msg);
        return CLI_EXIT_USAGE;
    }
    if (cli->verbose >= 0) {
        printf("%s: ok (%s, %s driver, %u+%u rounds)\n", path, s->name, s->driver->name, s->warmup,
               s->rounds);
    }
    scn_free(s);
    return CLI_EXIT_OK;
}

int cmd_validate(struct cli *cli, int argc, char **argv)
{
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    // 0, not 1: glibc then forgets the state of an earlier scan (tests parse many times).
    optind = 0;
    opterr = 0;
    int c = getopt_long(argc, argv, "h", lo, NULL);
    if (c == 'h') {
        fputs(help_validate, stdout);
        return CLI_EXIT_OK;
    }
    if (c != -1) {
        return cli_usage_error("validate", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc) {
        return cli_usage_error("validate", "no scenario files given");
    }
    int code = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        if (validate_file(cli, argv[i]) != CLI_EXIT_OK) {
            code = CLI_EXIT_USAGE;
        }
    }
    return code;
}
