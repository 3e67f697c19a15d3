/* SPDX-License-Identifier: MIT */
/* cmd_exec.h - `leakcheck exec`: one program run with the agent preloaded and a control channel
 * that leakcheck serves (and may record for `leakcheck analyze`), for programs that measure
 * themselves with include/leakcheck.h.
 */
#ifndef HARNESS_CMD_EXEC_H
#define HARNESS_CMD_EXEC_H

#include "cli.h"

/* `leakcheck exec [--record FILE] [--agent PATH] [--] PROGRAM [ARGS...]`; argv[0] is "exec".
 * Returns the program's exit status, 128 + N when signal N killed it, or an exit code of cli.h
 * when it could not run. SIGTERM, SIGINT and SIGHUP are passed on to the program meanwhile. */
int cmd_exec(struct cli *cli, int argc, char **argv);

#endif
