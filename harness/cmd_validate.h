/* SPDX-License-Identifier: MIT */
/* cmd_validate.h - `leakcheck validate`: scenario files checked (keys, types, placeholders,
 * regular expressions) without running anything.
 */
#ifndef HARNESS_CMD_VALIDATE_H
#define HARNESS_CMD_VALIDATE_H

#include "cli.h"

/* `leakcheck validate SCENARIO.json...`; argv[0] is "validate". Prints one "FILE: ok (...)"
 * line per valid file (unless quiet) and an error per invalid one. Returns CLI_EXIT_OK when
 * all are valid, else CLI_EXIT_USAGE. */
int cmd_validate(struct cli *cli, int argc, char **argv);

#endif
