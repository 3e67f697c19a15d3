/* SPDX-License-Identifier: MIT */
/* cmd_ci.h - `leakcheck report`: what a CI system needs from a JSON report, printed in the
 * forms CI reads, so CI scripts never parse JSON themselves.
 *
 *   leakcheck report annotations REPORT.json [--max N] [--level error|warning] [--root DIR]
 *     GitHub workflow commands (`::error file=F,line=L,title=T::message`), one per culprit of
 *     each scenario that did not meet its expectation (largest growth first, at most N,
 *     default 9), then one summary line; nothing when every scenario met its expectation.
 *   leakcheck report outputs REPORT.json
 *     `key=value` lines for $GITHUB_OUTPUT (or any shell): verdict, passed, scenarios, failed,
 *     growth-bytes-per-round, growth (JSON object by scenario), culprit, reason.
 *
 * Every value is one line; workflow-command data and properties are escaped as the runner
 * expects, so a hostile function or file name cannot start a command of its own.
 */
#ifndef HARNESS_CMD_CI_H
#define HARNESS_CMD_CI_H

#include <stddef.h>

#include "cli.h"

/* Runs `leakcheck report ...`; argv as main() gets it after the command word (argv[0] is
 * "report"). Prints git-style errors to stderr. Returns the exit status: 0 success, 2 usage or
 * input error (unreadable or malformed report). */
int cmd_ci_report(struct cli *cli, int argc, char **argv);

/* Appends `s` to `out` escaped for a workflow command: `%`, CR and LF as %25 %0D %0A, and when
 * `property` is set also `:` and `,` as %3A %2C; other control characters become '?'. Stops
 * before overflowing; `out` is always NUL-terminated (len > 0). Returns the length written.
 * Can't fail. */
size_t cmd_ci_escape(char *out, size_t len, const char *s, int property);

#endif
