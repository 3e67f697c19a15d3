/* SPDX-License-Identifier: MIT */
/* cmd_exec.c - `leakcheck exec` (see cmd_exec.h): starts the program with the agent and
 * LEAKCHECK_INPROC=1, forwards stop signals to it (harness/sig.h), reads (and records) the
 * channel until the program ends, stops whatever it left running (harness/tree.h), and exits as
 * the program did. The program stays in leakcheck's process group, so it keeps the terminal. */
#include "cmd_exec.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/proto.h"
#include "sig.h"
#include "target.h"
#include "tree.h"

static const char help_exec[] =
    "usage: leakcheck exec [--record FILE] [--] PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with the agent preloaded and LEAKCHECK_FD set to a channel served by\n"
    "leakcheck, takes a start-up snapshot, waits for the program to end and exits with its\n"
    "status. --record writes the channel's bytes to FILE for 'leakcheck analyze'.\n"
    "LEAKCHECK_INPROC=1 is set too, so unit tests using include/leakcheck.h measure\n"
    "themselves (see docs/INPROC.md).\n";

/* How long the program gets to end after its channel closed before it is killed. */
#define EXEC_STOP_GRACE_MS 1000000

/* After a stop signal passed on to the program: how long it gets to end before its whole tree
 * gets SIGTERM, and then SIGKILL (well within 10 s of the signal). */
#define EXEC_SIG_TERM_MS 5000
#define EXEC_SIG_KILL_MS 2000

/* Parses the options before the program (--record goes to *record, --agent to `cli`); *first
 * is the program's index. Returns CLI_CONTINUE or an exit code (help, usage error). */
static int parse_exec_args(struct cli *cli, int argc, char **argv, const char **record, int *first)
{
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(help_exec, stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--record") == 0 && i + 1 < argc) {
            *record = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--agent") == 0 && i + 1 < argc) {
            cli->agent = argv[i + 1];
            i += 2;
        } else {
            return cli_usage_error("exec", "unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc) {
        return cli_usage_error("exec", "no program given");
    }
    *first = i;
    return CLI_CONTINUE;
}

/* Serves the channel until the program closes it, writing everything it sends to `record`
 * (when not NULL; a file that can't be written is reported and the program still runs). */
static void serve_channel(int fd, const char *record)
{
    FILE *bin = record ? fopen(record, "wb") : NULL;
    if (record && !bin) {
        cli_error("can't write '%s': %s", record, strerror(errno));
    }
    uint8_t buf[65536];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        if (bin) {
            fwrite(buf, 1, (size_t)r, bin);
        }
    }
    if (bin) {
        fclose(bin);
    }
}

/* Starts prog[] with the agent and the channel, serves it, and returns how it ended. */
static int exec_program(const struct cli *cli, char **prog, const char *agent, const char *record)
{
    /* LEAKCHECK_INPROC=1 also lets the program measure itself (include/leakcheck.h). */
    static char inproc[] = PROTO_ENV_INPROC "=1";
    char *env_add[] = {inproc, NULL};
    struct target_opts to = {.argv = prog,
                             .agent_path = agent,
                             .channel = true,
                             .inherit_stdio = true,
                             .env_add = env_add};
    struct target *t = NULL;
    struct diag d = {{0}};
    struct sig_opts so = {.term_after_ms = EXEC_SIG_TERM_MS, .kill_after_ms = EXEC_SIG_KILL_MS};
    if (tree_adopt(&d) < 0 && cli->verbose >= 0) {
        fprintf(stderr, "warning: %s\n", d.msg);
    }
    if (sig_catch(&so, &d) < 0) {
        cli_error("%s", d.msg);
        return CLI_EXIT_RUN;
    }
    if (target_start(&to, &t, &d) < 0) {
        sig_release();
        cli_error("%s", d.msg);
        return CLI_EXIT_RUN;
    }
    sig_forward_to(target_pid(t));
    if (sig_caught()) {
        kill(target_pid(t), sig_caught()); /* it came while the program was starting */
    }
    serve_channel(target_chan_fd(t), record);
    target_stop(t, EXEC_STOP_GRACE_MS);
    sig_release();
    int code = target_exit_code(t);
    int sig = target_term_signal(t);
    target_free(t);
    if (sig) {
        if (cli->verbose >= 0) {
            cli_error("'%s' was killed by signal %d (%s)", prog[0], sig, strsignal(sig));
        }
        return 128 + sig;
    }
    return code < 0 ? CLI_EXIT_RUN : code;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
    const char *record = NULL;
    int first = 0;
    char agent[PATH_MAX];
    int code = parse_exec_args(cli, argc, argv, &record, &first);
    if (code == CLI_CONTINUE) {
        code = cli_agent(cli, agent, sizeof(agent));
    }
    if (code == CLI_CONTINUE) {
        code = exec_program(cli, argv + first, agent, record);
    }
    return code;
}
