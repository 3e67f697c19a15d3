/* SPDX-License-Identifier: MIT */
/* cmd_exec.c - `leakcheck exec` (see cmd_exec.h): starts the program with the agent and
 * LEAKCHECK_INPROC=1, forwards stop signals to it, serves (and records) the channels of its
 * whole tree until the program ends, stops what it left running, and exits as it did. */
#include "cmd_exec.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../analysis/rec.h"
#include "../common/proto.h"
#include "chan.h"
#include "target.h"

static const char help_exec[] =
    "usage: leakcheck exec [--record FILE] [--] PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with the agent preloaded in it and in every process it starts (programs it\n"
    "execs, such as env, nice, sh -c and wrapper scripts, and their children), serves their\n"
    "channels, waits for PROGRAM to end, stops anything it left running, and exits with its\n"
    "status. --record writes the channels' bytes to FILE for 'leakcheck analyze'.\n"
    "LEAKCHECK_INPROC=1 is set too, so unit tests using include/leakcheck.h measure\n"
    "themselves (see docs/INPROC.md).\n";

/* How long processes the program left running get to end after it did, before SIGKILL. */
#define EXEC_STOP_GRACE_MS 3000
#define EXEC_POLL_MS       200

/* The program `leakcheck exec` runs: SIGTERM, SIGINT and SIGHUP sent to leakcheck are passed
 * on to it, so a CI job that stops leakcheck stops the program too. */
static volatile sig_atomic_t exec_child;

static void forward_signal(int sig)
{
    if (exec_child > 0) {
        kill((pid_t)exec_child, sig);
    }
}

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

/* Passes SIGTERM, SIGINT and SIGHUP on to process `pid` from now on. */
static void forward_signals_to(pid_t pid)
{
    exec_child = pid;
    struct sigaction sa = {.sa_handler = forward_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Starts prog[] with the agent, serves the channels of its whole tree (recording them to `record`
 * when not NULL) until the program ends, stops what it left running, and returns how it ended.
 * Programs it execs (env, nice, sh -c, wrapper scripts) and their children join the same run;
 * closing descriptors ends nothing. */
static int exec_program(const struct cli *cli, char **prog, const char *agent, const char *record)
{
    FILE *bin = record ? fopen(record, "wb") : NULL;
    if (record && !bin) {
        cli_error("can't write '%s': %s", record, strerror(errno));
    }
    struct rec rec;
    struct chan ch;
    struct diag d = {{0}};
    rec_init(&rec);
    if (chan_open(&ch, &rec, bin, &d) < 0) {
        cli_error("%s", d.msg);
        rec_cleanup(&rec);
        if (bin) {
            fclose(bin);
        }
        return CLI_EXIT_RUN;
    }
    /* LEAKCHECK_INPROC=1 also lets the program measure itself (include/leakcheck.h). */
    static char inproc[] = PROTO_ENV_INPROC "=1";
    char ce[2][160];
    chan_env(&ch, ce);
    char *env_add[] = {inproc, ce[0], ce[1], NULL};
    struct target_opts to = {
        .argv = prog, .agent_path = agent, .inherit_stdio = true, .env_add = env_add};
    struct target *t = NULL;
    int code = CLI_EXIT_RUN;
    if (target_start(&to, &t, &d) < 0) {
        cli_error("%s", d.msg);
    } else {
        ch.main_pid = target_pid(t);
        forward_signals_to(target_pid(t));
        while (target_alive(t)) {
            chan_pump(&ch, EXEC_POLL_MS, &d);
        }
        chan_pump(&ch, 0, &d);
        int ec = target_exit_code(t);
        int sig = target_term_signal(t);
        if (sig) {
            if (cli->verbose >= 0) {
                cli_error("'%s' was killed by signal %d (%s)", prog[0], sig, strsignal(sig));
            }
            code = 128 + sig;
        } else {
            code = ec < 0 ? CLI_EXIT_RUN : ec;
        }
    }
    chan_close(&ch);
    chan_stop_tree(&ch, EXEC_STOP_GRACE_MS);
    target_free(t);
    rec_cleanup(&rec);
    if (bin && fclose(bin) != 0) {
        cli_error("can't write '%s': %s", record, strerror(errno));
    }
    return code;
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
