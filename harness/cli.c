/* SPDX-License-Identifier: MIT */
/* cli.c - the `leakcheck` command line: global options, dispatch, and the pieces every command
 * shares (see cli.h).
 *
 * Messages follow git's style: "error: what failed: why (what to do)"; a usage error ends with
 * "(try 'leakcheck COMMAND --help')", the same words for every command.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/file.h"
#include "../util/json.h"

#define AGENT_NAME "libleakcheck-agent.so"

/* Longest distance at which a misspelt command still gets a suggestion, plus one. */
#define SUGGEST_DISTANCE 3

static const char help_head[] =
    "usage: leakcheck [--quiet | --verbose] [--agent PATH] COMMAND [ARGS]\n"
    "\n"
    "Finds memory a C or C++ program keeps more of every time it does the same work.\n"
    "\n"
    "commands:\n";

static const char help_tail[] =
    "\n"
    "options:\n"
    "  -q, --quiet        print only errors, and the final table when a scenario failed\n"
    "  -v, --verbose      print the per-round table too\n"
    "      --agent PATH   the agent library (default: $LEAKCHECK_AGENT, then beside leakcheck)\n"
    "  -h, --help         show help ('leakcheck COMMAND --help' for a command)\n"
    "  -V, --version      show the version\n"
    "\n"
    "exit status: 0 every scenario met its expectation, 1 a leak or another unexpected verdict,\n"
    "2 usage or input error, 3 the run itself failed (target crashed, hung, not found; agent\n"
    "not loaded).\n";

/* ---------------------------------------------------------------- messages */

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (try 'leakcheck %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
    va_end(ap);
    return CLI_EXIT_USAGE;
}

const char *cli_one_line(char *out, size_t len, const char *s)
{
    size_t o = 0;
    for (const char *p = s ? s : ""; *p && o + 1 < len; p++) {
        unsigned char c = (unsigned char)*p;
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : *p;
    }
    out[o] = '\0';
    return out;
}

void cli_help(struct buf *b, const struct cli_cmd *cmds)
{
    buf_puts(b, help_head);
    for (const struct cli_cmd *c = cmds; c->name; c++) {
        if (c->summary) {
            buf_printf(b, "  %-10s %s\n", c->name, c->summary);
        }
    }
    buf_puts(b, help_tail);
}

/* Prints the main help to `f`. */
static void print_help(FILE *f, const struct cli_cmd *cmds)
{
    struct buf b;
    buf_init(&b);
    cli_help(&b, cmds);
    if (b.data) {
        fputs(b.data, f);
    }
    buf_cleanup(&b);
}

/* ---------------------------------------------------------------- numbers and shards */

int cli_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (!s || !*s || *s == '-' || *s == '+') {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double *out)
{
    if (!s || !*s) {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < 0) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int cli_parse_shard(const char *s, unsigned *index, unsigned *count, struct diag *d)
{
    const char *slash = strchr(s, '/');
    unsigned long i;
    unsigned long n;
    char left[32];
    if (!slash || (size_t)(slash - s) >= sizeof(left)) {
        return diag_set(d, -EINVAL, "--shard: expected I/N (e.g. 2/4), found '%s'", s);
    }
    memcpy(left, s, (size_t)(slash - s));
    left[slash - s] = '\0';
    if (cli_parse_uint(left, 10000, &i) < 0 || cli_parse_uint(slash + 1, 10000, &n) < 0 || i < 1 ||
        n < 1 || i > n) {
        return diag_set(d, -EINVAL, "--shard: expected I/N with 1 <= I <= N, found '%s'", s);
    }
    *index = (unsigned)i;
    *count = (unsigned)n;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t cli_shard_select(char **paths, size_t n, unsigned index, unsigned count)
{
    qsort(paths, n, sizeof(*paths), cmp_str);
    size_t k = 0;
    for (size_t i = index - 1; i < n; i += count) {
        char *p = paths[i];
        memmove(paths + k + 1, paths + k, (i - k) * sizeof(*paths));
        paths[k++] = p;
    }
    return k;
}

/* ---------------------------------------------------------------- the agent */

int cli_find_agent(const char *opt, const char *self_exe, char *out, size_t len, struct diag *d)
{
    char tried[4 * PATH_MAX] = "";
    size_t tl = 0;
    const char *env = getenv("LEAKCHECK_AGENT");
    char cand[2][PATH_MAX];
    const char *list[4];
    size_t n = 0;
    if (opt) {
        list[n++] = opt;
    } else if (env && *env) {
        list[n++] = env;
    } else if (self_exe) {
        const char *slash = strrchr(self_exe, '/');
        int dl = slash ? (int)(slash - self_exe) : 1;
        const char *dir = slash ? self_exe : ".";
        snprintf(cand[0], sizeof(cand[0]), "%.*s/%s", dl, dir, AGENT_NAME);
        snprintf(cand[1], sizeof(cand[1]), "%.*s/../lib/leakcheck/%s", dl, dir, AGENT_NAME);
        list[n++] = cand[0];
        list[n++] = cand[1];
    }
    for (size_t i = 0; i < n; i++) {
        if (file_is_regular(list[i])) {
            char *real = realpath(list[i], NULL);
            snprintf(out, len, "%s", real ? real : list[i]);
            free(real);
            return 0;
        }
        tl += (size_t)snprintf(tried + tl, tl < sizeof(tried) ? sizeof(tried) - tl : 0, "%s'%s'",
                               i ? ", " : "", list[i]);
    }
    return diag_set(d, -ENOENT,
                    "agent library not found (tried %s); build it with 'make' or point --agent "
                    "or LEAKCHECK_AGENT at %s",
                    n ? tried : "nothing", AGENT_NAME);
}

/* The running executable's path into `buf`. Returns 0 or -errno. */
static int self_exe(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n < 0) {
        return -errno;
    }
    buf[n] = '\0';
    return 0;
}

int cli_agent(const struct cli *cli, char *out, size_t len)
{
    char exe[PATH_MAX];
    struct diag d = {{0}};
    if (cli_find_agent(cli->agent, self_exe(exe, sizeof(exe)) == 0 ? exe : NULL, out, len, &d) <
        0) {
        cli_error("%s", d.msg);
        return CLI_EXIT_RUN;
    }
    return CLI_CONTINUE;
}

/* ---------------------------------------------------------------- dispatch */

/* Parses the global options before the command word into `cli`; *next is the index of the
 * command word. Returns CLI_CONTINUE, or the exit code for --help, --version or a bad option. */
static int parse_global(struct cli *cli, int argc, char **argv, const struct cli_cmd *cmds,
                        int *next)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            print_help(stdout, cmds);
            return CLI_EXIT_OK;
        }
        if (strcmp(o, "-V") == 0 || strcmp(o, "--version") == 0) {
            printf("leakcheck %s\n", LEAKCHECK_VERSION);
            return CLI_EXIT_OK;
        }
        if (strcmp(o, "-q") == 0 || strcmp(o, "--quiet") == 0) {
            cli->verbose = -1;
        } else if (strcmp(o, "-v") == 0 || strcmp(o, "--verbose") == 0) {
            cli->verbose = 1;
        } else if (strcmp(o, "--agent") == 0 && i + 1 < argc) {
            cli->agent = argv[++i];
        } else if (strncmp(o, "--agent=", 8) == 0) {
            cli->agent = o + 8;
        } else {
            return cli_usage_error(NULL, "unknown option '%s'", o);
        }
    }
    *next = i;
    return CLI_CONTINUE;
}

/* Reports an unknown command, suggesting the nearest listed one. Returns CLI_EXIT_USAGE. */
static int unknown_command(const char *name, const struct cli_cmd *cmds)
{
    const char *best = NULL;
    size_t bd = SUGGEST_DISTANCE;
    for (const struct cli_cmd *c = cmds; c->name; c++) {
        size_t dist = c->summary ? json_edit_distance(name, c->name) : SIZE_MAX;
        if (dist < bd) {
            bd = dist;
            best = c->name;
        }
    }
    if (best) {
        cli_error("unknown command '%s' (did you mean '%s'?)", name, best);
        return CLI_EXIT_USAGE;
    }
    return cli_usage_error(NULL, "unknown command '%s'", name);
}

int cli_main(int argc, char **argv, const struct cli_cmd *cmds)
{
    struct cli cli = {.verbose = 0, .tty = isatty(STDERR_FILENO) == 1};
    signal(SIGPIPE, SIG_IGN);
    int i = 0;
    int code = parse_global(&cli, argc, argv, cmds, &i);
    if (code != CLI_CONTINUE) {
        return code;
    }
    if (i >= argc) {
        print_help(stderr, cmds);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        print_help(stdout, cmds);
        return CLI_EXIT_OK;
    }
    for (const struct cli_cmd *c = cmds; c->name; c++) {
        if (strcmp(name, c->name) == 0) {
            return c->fn(&cli, argc - i, argv + i);
        }
    }
    return unknown_command(name, cmds);
}

int cli_subcommand(int argc, char **argv, const char *cmd, const char *help,
                   const char *const *subs, size_t *which)
{
    if (argc < 2) {
        fputs(help, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; subs[i]; i++) {
        if (strcmp(argv[1], subs[i]) == 0) {
            *which = i;
            return CLI_CONTINUE;
        }
    }
    return cli_usage_error(cmd, "unknown subcommand '%s'", argv[1]);
}
