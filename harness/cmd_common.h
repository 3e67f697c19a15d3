/* SPDX-License-Identifier: MIT */
/* cmd_common.h - what `leakcheck run` and `leakcheck analyze` share: their options, the
 * overrides they apply to a scenario, the run they fill (commit, host, start time), the result
 * table and the end of the command (reports written, table printed, exit code).
 *
 * Functions that end a command on failure print the error (through cli.h) and return its exit
 * code; otherwise they return CLI_CONTINUE. No globals; not thread-safe (getopt).
 */
#ifndef HARNESS_CMD_COMMON_H
#define HARNESS_CMD_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/rpt.h"
#include "../util/buf.h"
#include "cli.h"
#include "scn.h"

#define CMD_DEFAULT_REPORT_DIR "leakcheck-reports"

/* Options of run and analyze; strings are borrowed from argv. Not given: rounds, warmup, rpr
 * and expect are -1, round_timeout_s is 0, have_threshold is false, strings are NULL. */
struct cmd_args {
    long rounds, warmup, rpr, round_timeout_s;
    double threshold;
    bool have_threshold;
    int expect;            /* enum rpt_expect, or -1 */
    const char **requests; /* owned array of borrowed strings */
    size_t n_requests;
    const char *requests_file, *requests_command, *report_dir, *name, *shard, *ready_line;
    const char *scenario, *record;
    double threshold_blocks; /* --threshold-blocks, when have_threshold_blocks */
    bool have_threshold_blocks;
    const char **suppress; /* --suppress values, owned array of borrowed strings */
    size_t n_suppress;
    char **files; /* the operands: argv after the options */
    size_t n_files;
    const char **wrappers; /* --wrapper GLOB, in order (owned array of borrowed strings) */
    size_t n_wrappers;
    bool full_names; /* --full-names: C++ names in full in every view */
    int retainers;   /* --retainers: enum scn_retainers, or -1 */
};

/* Sets every option to "not given". Can't fail. */
void cmd_args_init(struct cmd_args *a);

/* Frees what cmd_parse_args() allocated. Can't fail. */
void cmd_args_cleanup(struct cmd_args *a);

/* Parses the options of command `cmd` (for messages) from argv[0..argc-1] (argv[0] is the
 * command word) into `a`; --agent, --quiet and --verbose go to `cli`. -h prints `help`.
 * Returns CLI_CONTINUE, CLI_EXIT_OK after the help, CLI_EXIT_USAGE after printing a usage
 * error, or CLI_EXIT_RUN when out of memory. */
int cmd_parse_args(struct cli *cli, const char *cmd, const char *help, int argc, char **argv,
                   struct cmd_args *a);

/* Applies the options that override scenario files (rounds, warm-up, threshold, expectation,
 * round timeout) to `s`. Can't fail. */
void cmd_apply_overrides(struct scn *s, const struct cmd_args *a);

/* Appends a suppression rule to `s` for each --suppress: "object:GLOB" matches the objects of a
 * site's frames, anything else (or "function:GLOB") its functions. Returns 0, or -ENOMEM with
 * `s` unchanged. */
int cmd_apply_suppress(struct scn *s, const struct cmd_args *a);

/* The report folder the options name, or the default. Can't fail. */
const char *cmd_report_dir(const struct cmd_args *a);

/* Creates the report folder `dir`. Returns CLI_CONTINUE, or prints why not and returns
 * CLI_EXIT_RUN. */
int cmd_make_report_dir(const char *dir);

/* A new run with its start time, host and commit ($LEAKCHECK_COMMIT, $GITHUB_SHA, else git)
 * filled in and no scenarios. Caller frees with rpt_run_free(). NULL when out of memory. */
struct rpt_run *cmd_new_run(void);

/* Exit code of a finished run: CLI_EXIT_RUN when a scenario's run failed, else CLI_EXIT_FAIL
 * when one did not meet its expectation, else CLI_EXIT_OK. Can't fail. */
int cmd_exit_code(const struct rpt_run *run);

/* Appends, for every suspect of `run`, its stack from the culprit outward (frames passed over
 * as wrappers marked as such, and why), as `-v` shows it. Can't fail (a full buffer keeps its
 * sticky error). */
void cmd_render_stacks(struct buf *b, const struct rpt_run *run);

/* Appends the result table of `run` to `b`: one line per scenario (verdict, growth, top
 * culprit) and its reason, then where the reports went when `report_dir` is not NULL.
 * Failures stay in b->err. */
void cmd_render_table(struct buf *b, const struct rpt_run *run, const char *report_dir);

/* Ends run and analyze: writes every report of `run` into `report_dir`, prints the table
 * (unless quiet and every scenario met its expectation) and returns the exit code
 * (cmd_exit_code(), or CLI_EXIT_RUN when the reports could not be written). */
int cmd_finish(const struct cli *cli, const struct rpt_run *run, const char *report_dir);

#endif
