/* SPDX-License-Identifier: MIT */
/* cmd_exec.c - `leakcheck exec` (see cmd_exec.h): starts the program with the agent and
 * LEAKCHECK_INPROC=1, forwards stop signals to it (harness/sig.h), serves (and records) the
 * channels of its whole tree until the program ends, stops whatever it left running
 * (harness/tree.h), and exits as the program did. The program stays in leakcheck's process
 * group, so it keeps the terminal. */
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
#include "sig.h"
#include "target.h"
#include "tree.h"

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

/* Starts prog[] with the agent, serves the channels of its whole tree (recording them to `record`
 * when not NULL) until the program ends, stops what it left running, and returns how it ended.
 * Programs it execs (env, nice, sh -c, wrapper scripts) and their children join the same run;
 * closing descriptors ends nothing. */
static int run_program(const struct cli *cli, char **prog, const char *agent, struct chan *ch)
{
    /* LEAKCHECK_INPROC=1 also lets the program measure itself (include/leakcheck.h). */
    static char inproc[] = PROTO_ENV_INPROC "=1";
    char ce[2][160];
    chan_env(ch, ce);
    char *env_add[] = {inproc, ce[0], ce[1], NULL};
    struct target_opts to = {
        .argv = prog, .agent_path = agent, .inherit_stdio = true, .env_add = env_add};
    struct target *t = NULL;
    struct diag d = {{0}};
    if (target_start(&to, &t, &d) < 0) {
        cli_error("%s", d.msg);
        return CLI_EXIT_RUN;
    }
    ch->main_pid = target_pid(t);
    sig_forward_to(target_pid(t));
    if (sig_caught()) {
        kill(target_pid(t), sig_caught()); /* it came while the program was starting */
    }
    while (target_alive(t)) {
        chan_pump(ch, EXEC_POLL_MS, &d);
    }
    chan_pump(ch, 0, &d);
    chan_close(ch);
    target_stop(t, EXEC_STOP_GRACE_MS); /* and whatever the program left running */
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

/* Sets up the signals, the tree and the channel around run_program(). */
static int exec_program(const struct cli *cli, char **prog, const char *agent, const char *record)
{
    struct diag d = {{0}};
    struct sig_opts so = {.term_after_ms = EXEC_SIG_TERM_MS, .kill_after_ms = EXEC_SIG_KILL_MS};
    if (tree_adopt(&d) < 0 && cli->verbose >= 0) {
        fprintf(stderr, "warning: %s\n", d.msg);
    }
    if (sig_catch(&so, &d) < 0) {
        cli_error("%s", d.msg);
        return CLI_EXIT_RUN;
    }
    FILE *bin = record ? fopen(record, "wb") : NULL;
    if (record && !bin) {
        cli_error("can't write '%s': %s", record, strerror(errno));
    }
    struct rec rec;
    struct chan ch;
    rec_init(&rec);
    int code = CLI_EXIT_RUN;
    if (chan_open(&ch, &rec, bin, &d) < 0) {
        cli_error("%s", d.msg);
    } else {
        code = run_program(cli, prog, agent, &ch);
    }
    chan_close(&ch);
    sig_release();
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
