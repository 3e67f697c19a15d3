/* SPDX-License-Identifier: MIT */
/* cli.h - the `leakcheck` command line: subcommands, options, help and terminal output.
 *
 * cli_main() is the whole program (main.c only calls it). The pieces worth testing on their
 * own (shard selection, agent lookup) are exported too. Prints to stdout (results)
 * and stderr (progress, errors); nothing else in the harness prints.
 */
#ifndef HARNESS_CLI_H
#define HARNESS_CLI_H

#include <stddef.h>

#include "../util/diag.h"

/* Exit codes (DESIGN.md). */
#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_RUN   3

/* Runs the command line; returns the process exit code. */
int cli_main(int argc, char **argv);

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

#endif
