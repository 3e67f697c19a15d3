/* SPDX-License-Identifier: MIT */
/* cmd_analyze.h - `leakcheck analyze`: a recording written by `leakcheck run`
 * (REPORT-DIR/NAME/snapshots.bin) analysed again, with the settings of the scenario.json beside
 * it unless options say otherwise, into the same reports and table as a run.
 */
#ifndef HARNESS_CMD_ANALYZE_H
#define HARNESS_CMD_ANALYZE_H

#include "cli.h"

/* `leakcheck analyze [options] SNAPSHOTS.bin`; argv[0] is "analyze" (or "analyse"). Returns
 * the exit code (cli.h): 2 also for an unreadable or empty recording. */
int cmd_analyze(struct cli *cli, int argc, char **argv);

#endif
