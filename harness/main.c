/* SPDX-License-Identifier: MIT */
/* main.c - entry point of the `leakcheck` command: the table of its commands, in the order
 * `leakcheck --help` lists them, handed to cli_main(). */
#include "cli.h"
#include "cmd_analyze.h"
#include "cmd_ci.h"
#include "cmd_exec.h"
#include "cmd_reports.h"
#include "cmd_run.h"
#include "cmd_validate.h"

static const struct cli_cmd commands[] = {
    {"run", "run scenarios (or one program with the stdio driver) and judge them", cmd_run},
    {"validate", "check scenario files without running them", cmd_validate},
    {"analyze", "analyse a recorded snapshots.bin again and write reports", cmd_analyze},
    {"analyse", NULL, cmd_analyze},
    {"exec", "run a program with the agent preloaded and a control channel", cmd_exec},
    {"compare", "compare two JSON reports", cmd_compare},
    {"merge", "merge shard reports into one", cmd_merge},
    {"history", "append a report to the per-commit history and draw the dashboard", cmd_history},
    {"report", "print a report's CI annotations and outputs", cmd_ci_report},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    return cli_main(argc, argv, commands);
}
