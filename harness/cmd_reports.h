/* SPDX-License-Identifier: MIT */
/* cmd_reports.h - the report commands of `leakcheck`: compare, merge and history.
 *
 * Each takes argv as main() gets it after the command word (argv[0] is the command name),
 * prints git-style errors ("error: ...") to stderr and returns the exit status: 0 success,
 * 1 (compare only) head retains more per round than base beyond the tolerance, 2 usage or
 * input error, 3 a report or history that could not be written.
 */
#ifndef HARNESS_CMD_REPORTS_H
#define HARNESS_CMD_REPORTS_H

#include "../model/rpt.h"
#include "../util/buf.h"
#include "cli.h"

/* leakcheck compare BASE.json HEAD.json [--tolerance BYTES] */
int cmd_compare(struct cli *cli, int argc, char **argv);
/* leakcheck merge --out DIR SHARD/report.json... */
int cmd_merge(struct cli *cli, int argc, char **argv);
/* leakcheck history add|render ... */
int cmd_history(struct cli *cli, int argc, char **argv);

/* Appends the comparison `compare` prints to `b`: per scenario of `head` its growth per round
 * against `base` (a scenario missing from base counts as 0), the sites whose growth changed by
 * more than `tolerance` (or are new), then the scenarios of base missing from head. Both runs
 * are borrowed. Returns CLI_EXIT_FAIL when a scenario of head grows more than `tolerance` bytes
 * per round beyond base, else CLI_EXIT_OK. Failures of `b` stay in b->err. */
int cmd_compare_render(struct buf *b, const struct rpt_run *base, const struct rpt_run *head,
                       double tolerance);

#endif
