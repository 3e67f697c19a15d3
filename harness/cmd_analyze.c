/* SPDX-License-Identifier: MIT */
/* cmd_analyze.c - `leakcheck analyze` (see cmd_analyze.h): reads the recording into a snapshot
 * stream, takes the scenario's settings, runs the analysis and ends like `run`. */
#include "cmd_analyze.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/analysis.h"
#include "../analysis/proctree.h"
#include "../analysis/rec.h"
#include "../analysis/snap.h"
#include "../model/rpt.h"
#include "../util/file.h"
#include "cmd_common.h"
#include "scn.h"

static const char help_analyze[] =
    "usage: leakcheck analyze [options] SNAPSHOTS.bin\n"
    "\n"
    "Analyses a recording written by 'leakcheck run' (REPORT-DIR/NAME/snapshots.bin) again and\n"
    "writes reports. Settings come from the scenario.json beside the recording unless given.\n"
    "\n"
    "options:\n"
    "      --scenario FILE     take settings (warm-up, threshold, suppressions...) from FILE\n"
    "      --warmup W          warm-up rounds\n"
    "      --threshold BYTES   leak threshold in bytes per round\n"
    "      --threshold-blocks N  also a leak from N blocks per round\n"
    "      --suppress FUNCTION   never blame sites with FUNCTION on their stack ('object:GLOB'\n"
    "                          for a library or program; repeatable)\n"
    "      --expect leak|no-leak|any\n"
    "      --name NAME         scenario name\n"
    "      --report-dir DIR    where reports go (default leakcheck-reports)\n"
    "      --wrapper GLOB      a function (or object:GLOB library) never to blame (repeatable)\n"
    "      --full-names        C++ names in full (default: template arguments elided)\n";

/* The scenario whose settings apply to recording `bin`: --scenario, else the scenario.json
 * beside it, else the defaults (with a placeholder program); then --name and the overrides. */
static int load_settings(const struct cmd_args *a, const char *bin, struct scn **out)
{
    char sc_path[PATH_MAX];
    const char *slash = strrchr(bin, '/');
    struct diag d = {{0}};
    struct scn *s = NULL;
    snprintf(sc_path, sizeof(sc_path), "%.*s%sscenario.json", slash ? (int)(slash - bin) : 0, bin,
             slash ? "/" : "");
    if (a->scenario || file_is_regular(sc_path)) {
        if (scn_load(a->scenario ? a->scenario : sc_path, &s, &d) < 0) {
            cli_error("%s", d.msg);
            return CLI_EXIT_USAGE;
        }
    } else {
        s = scn_new();
        if (!s) {
            return CLI_EXIT_RUN;
        }
        s->argv = calloc(2, sizeof(*s->argv));
        if (s->argv) {
            s->argv[0] = strdup("?");
        }
    }
    if (a->name) {
        free(s->name);
        s->name = strdup(a->name);
    }
    cmd_apply_overrides(s, a);
    if (cmd_apply_suppress(s, a) < 0) {
        scn_free(s);
        cli_error("out of memory");
        return CLI_EXIT_RUN;
    }
    *out = s;
    return CLI_CONTINUE;
}

/* Feeds the file at `path` to `st`. Returns CLI_CONTINUE, or prints why the recording can't be
 * read and returns CLI_EXIT_USAGE. */
static int read_recording(const char *path, struct rec *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: can't read: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    uint8_t buf[65536];
    size_t r;
    struct diag d = {{0}};
    int code = CLI_CONTINUE;
    for (;;) {
        r = fread(buf, 1, sizeof(buf), f);
        if (r == 0) {
            break;
        }
        if (rec_feed(st, buf, r, &d) < 0) {
            cli_error("%s: %s", path, d.msg);
            code = CLI_EXIT_USAGE;
            break;
        }
    }
    fclose(f);
    return code;
}

/* The rounds recorded decide how many are measured, whatever the scenario planned. */
static void fit_rounds(struct scn *s, const struct rec *rec)
{
    uint32_t max_round = 0;
    for (size_t p = 0; p < rec->n_procs; p++) {
        const struct snap_stream *st = &rec->procs[p]->st;
        for (size_t i = 0; i < st->n_snaps; i++) {
            if (st->snaps[i].round > max_round) {
                max_round = st->snaps[i].round;
            }
        }
    }
    if (max_round > s->warmup) {
        s->rounds = max_round - s->warmup;
    }
}

/* Analyses `st` with the settings of `s` into a new one-scenario run (*out, caller frees with
 * rpt_run_free()). Returns CLI_CONTINUE or CLI_EXIT_RUN (out of memory). */
static int analyse(const struct scn *s, const struct rec *rec, struct rpt_run **out)
{
    struct rpt_run *run = cmd_new_run();
    if (run) {
        run->scenarios = calloc(1, sizeof(*run->scenarios));
    }
    if (!run || !run->scenarios) {
        rpt_run_free(run);
        return CLI_EXIT_RUN;
    }
    run->n_scenarios = 1;
    const char *version = rec->n_procs ? rec->procs[0]->st.agent_version : NULL;
    run->agent_version = version ? strdup(version) : NULL;
    struct analysis_opts ao;
    scn_analysis_opts(s, &ao);
    if (proctree_analyse(&ao, rec, NULL, NULL, &run->scenarios[0]) < 0) {
        cli_error("out of memory");
        rpt_run_free(run);
        return CLI_EXIT_RUN;
    }
    *out = run;
    return CLI_CONTINUE;
}

/* Everything after the options: settings, recording, analysis, reports. */
static int analyze_recording(const struct cli *cli, const struct cmd_args *a, const char *bin,
                             struct rec *st)
{
    struct scn *s = NULL;
    struct rpt_run *run = NULL;
    int code = load_settings(a, bin, &s);
    if (code == CLI_CONTINUE) {
        code = read_recording(bin, st);
    }
    if (code == CLI_CONTINUE && rec_snapshots(st) == 0) {
        cli_error("%s: no complete snapshot in the recording", bin);
        code = CLI_EXIT_USAGE;
    }
    if (code == CLI_CONTINUE) {
        fit_rounds(s, st);
        code = analyse(s, st, &run);
        if (run) {
            run->full_names = cli->full_names;
        }
    }
    if (code == CLI_CONTINUE && rec_partial(st) && cli->verbose >= 0) {
        if (st->closed) {
            fprintf(stderr,
                    "note: %s ends inside a snapshot (the target ended while sending it); "
                    "analysing the %zu complete ones\n",
                    bin, rec_snapshots(st));
        } else {
            fprintf(stderr,
                    "note: %s was cut: it ends inside a snapshot and has no end mark (the disk "
                    "filled up, or leakcheck was stopped while writing it); analysing the %zu "
                    "complete snapshots it holds\n",
                    bin, rec_snapshots(st));
        }
    }
    if (code == CLI_CONTINUE) {
        code = cmd_make_report_dir(cmd_report_dir(a));
    }
    if (code == CLI_CONTINUE) {
        code = cmd_finish(cli, run, cmd_report_dir(a));
    }
    rpt_run_free(run);
    scn_free(s);
    return code;
}

int cmd_analyze(struct cli *cli, int argc, char **argv)
{
    struct cmd_args a;
    struct rec st;
    cmd_args_init(&a);
    rec_init(&st);
    int code = cmd_parse_args(cli, "analyze", help_analyze, argc, argv, &a);
    if (code == CLI_CONTINUE && a.n_files != 1) {
        code = cli_usage_error("analyze", "expected one recording (snapshots.bin), found %zu",
                               a.n_files);
    }
    if (code == CLI_CONTINUE) {
        code = analyze_recording(cli, &a, a.files[0], &st);
    }
    rec_cleanup(&st);
    cmd_args_cleanup(&a);
    return code;
}
