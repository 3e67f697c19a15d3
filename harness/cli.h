/* SPDX-License-Identifier: MIT */
/* cli.h - the `leakcheck` command line: dispatch to one function per command, and the pieces
 * every command shares (settings, exit codes, error and usage messages, checked numbers, agent
 * lookup, shard selection).
 *
 * cli_main() parses the global options and calls the command it finds in a table that the
 * caller hands in (main.c lists the commands, each in its own harness/cmd_*.c), so this module
 * depends on no command and every command may depend on it. Commands print results to stdout
 * and progress and errors to stderr, the errors through cli_error() and cli_usage_error();
 * nothing below the CLI prints.
 */
#ifndef HARNESS_CLI_H
#define HARNESS_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/buf.h"
#include "../util/diag.h"

/* Exit codes (DESIGN.md). */
#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_RUN   3 /* the run failed; also a report or history that could not be written */

/* What a step of a command returns when the command goes on; any other result is the exit
 * code the command ends with. */
#define CLI_CONTINUE (-1)

/* Settings shared by every command: global options, which some commands' options override. */
struct cli {
    int verbose;       /* -1 quiet, 0 normal, 1 verbose */
    const char *agent; /* --agent, or NULL */
    bool tty;          /* stderr is a terminal */
    bool full_names;   /* --full-names: C++ names in full in every view */
};

/* A command: argv as main() gets it after the global options (argv[0] is the command word).
 * Returns the exit code. */
typedef int (*cli_cmd_fn)(struct cli *cli, int argc, char **argv);

/* One entry of the command table. A NULL `summary` marks an alias: it runs, but is neither
 * listed in the help nor suggested for a misspelt command. */
struct cli_cmd {
    const char *name;
    const char *summary; /* one line for `leakcheck --help` */
    cli_cmd_fn fn;
};

/* Runs the command line with the commands of `cmds` (ended by an entry whose name is NULL;
 * borrowed). Returns the process exit code. */
int cli_main(int argc, char **argv, const struct cli_cmd *cmds);

/* Appends the main help text (usage, the listed commands of `cmds`, global options, exit
 * status) to `b`. Failures stay in b->err. */
void cli_help(struct buf *b, const struct cli_cmd *cmds);

/* Prints "error: MESSAGE" and a newline to stderr. Can't fail. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "error: MESSAGE (try 'leakcheck CMD --help')" to stderr ("leakcheck --help" when
 * `cmd` is NULL), the one wording of every usage error. Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads the subcommand of `cmd` from argv[1]: one of subs[] (NULL-terminated), whose index goes
 * to *which. No argument prints `help` to stderr (usage error); --help or -h prints it to
 * stdout. Returns CLI_CONTINUE, or the exit code of what was printed. */
int cli_subcommand(int argc, char **argv, const char *cmd, const char *help,
                   const char *const *subs, size_t *which);

/* Checked unsigned parser: no empty string, sign, trailing junk or overflow, at most `max`.
 * Returns 0 with *out set, or -EINVAL. */
int cli_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* Checked parser of a finite number >= 0 (no empty string, no trailing junk). Returns 0 with
 * *out set, or -EINVAL. */
int cli_parse_double(const char *s, double *out);

/* Copies `s` (NULL reads as "") into `out` as one terminal line: control characters become
 * '?'. Truncates to len - 1 bytes (len > 0). Returns `out`. Can't fail. */
const char *cli_one_line(char *out, size_t len, const char *s);

/* Parses "I/N" (1 <= I <= N <= 10000). Returns 0 or -EINVAL with `d` filled. */
int cli_parse_shard(const char *s, unsigned *index, unsigned *count, struct diag *d);

/* Sorts paths[0..n-1] in place (strcmp order) and moves the shard's share (every count-th,
 * starting at index-1) to the front, keeping order. Returns how many belong to the shard.
 * Can't fail. */
size_t cli_shard_select(char **paths, size_t n, unsigned index, unsigned count);

/* Finds the agent: `opt` (--agent), else $LEAKCHECK_AGENT, else libleakcheck-agent.so beside
 * `self_exe`, else ../lib/leakcheck/libleakcheck-agent.so relative to its folder. On success
 * writes the path to out and returns 0; else -ENOENT with the paths tried in `d`. */
int cli_find_agent(const char *opt, const char *self_exe, char *out, size_t len, struct diag *d);

/* cli_find_agent() for this process: cli->agent, the environment, then beside the running
 * executable. Writes the path to `out` and returns CLI_CONTINUE, or prints the error and
 * returns CLI_EXIT_RUN. */
int cli_agent(const struct cli *cli, char *out, size_t len);

#endif
