/* SPDX-License-Identifier: MIT */
/* cmd_run.h - `leakcheck run`: scenario files, or one program with the stdio driver (the quick
 * form after "--"), each run by a session (session.h) with progress on stderr, then the reports
 * and the result table.
 */
#ifndef HARNESS_CMD_RUN_H
#define HARNESS_CMD_RUN_H

#include "cli.h"
#include "cmd_common.h"
#include "scn.h"

/* `leakcheck run [options] SCENARIO.json...` or `... -- PROGRAM [ARGS...]`; argv[0] is "run".
 * Returns the exit code (cli.h). */
int cmd_run(struct cli *cli, int argc, char **argv);

/* Builds the quick-form scenario: the program prog[0..n_prog-1] (n_prog >= 1) driven over stdio
 * with the requests the options name; the name defaults to the program's base name, the
 * expectation to no-leak. On success stores a new scenario in *out (caller frees with
 * scn_free()) and returns CLI_CONTINUE; otherwise prints the error and returns its exit code. */
int cmd_run_quick_scenario(const struct cmd_args *a, char **prog, int n_prog, struct scn **out);

#endif
