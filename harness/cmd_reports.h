/* SPDX-License-Identifier: MIT */
/* cmd_reports.h - the report commands of `leakcheck`: compare, merge and history.
 *
 * Each takes argv as main() gets it after the command word (argv[0] is the command name),
 * prints git-style errors ("error: ...") to stderr and returns the exit status: 0 success,
 * 1 (compare only) head retains more per round than base beyond the tolerance, 2 usage or
 * input error.
 */
#ifndef HARNESS_CMD_REPORTS_H
#define HARNESS_CMD_REPORTS_H

#include "cli.h"

/* leakcheck compare BASE.json HEAD.json [--tolerance BYTES] */
int cmd_compare(struct cli *cli, int argc, char **argv);
/* leakcheck merge --out DIR SHARD/report.json... */
int cmd_merge(struct cli *cli, int argc, char **argv);
/* leakcheck history add|render ... */
int cmd_history(struct cli *cli, int argc, char **argv);

#endif
