/* SPDX-License-Identifier: MIT */
/* scn.h - scenario files: loading and validating the JSON contract users write against.
 *
 * A scenario names a target (argv, env, cwd, readiness probe), a driver (stdio, http, command)
 * and how to judge it (rounds, warm-up, thresholds, expectation, suppressions). Every key is
 * documented in docs/SCENARIOS.md. Loading is strict (util/json.h): unknown keys, wrong types and
 * missing values fail with a message naming the file, the JSON path, what was found and what was
 * expected, and for a misspelt key the nearest known one. The "driver" object is read and written
 * by the driver its "kind" names (the table in drv.h). Not thread-safe per object; no globals.
 */
#ifndef HARNESS_SCN_H
#define HARNESS_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analysis/analysis.h"
#include "../analysis/supp.h"
#include "../model/rpt.h"
#include "../util/diag.h"
#include "drv.h"
#include "tpl.h"

#define SCN_DEFAULT_ROUNDS           20u
#define SCN_DEFAULT_WARMUP           3u
#define SCN_DEFAULT_READY_TIMEOUT_MS 10000
#define SCN_DEFAULT_ROUND_TIMEOUT_MS 60000
#define SCN_MAX_ROUNDS               100000u
#define SCN_MAX_NAME                 128u  /* bytes in a scenario's name (a folder name too) */
#define SCN_MAX_ARG                  4096u /* bytes in one argv entry */
#define SCN_MAX_ARGV                 1024u /* argv entries */

enum scn_ready_kind {
    SCN_READY_NONE,   /* ready when the agent said HELLO */
    SCN_READY_STDOUT, /* a stdout line matches `ready_value` (POSIX extended regex) */
    SCN_READY_TCP,    /* a TCP connect to 127.0.0.1:ready_port succeeds */
    SCN_READY_HTTP,   /* GET ready_value answers 2xx */
};

/* When the retainer scan runs (harness/retain.h). */
enum scn_retainers {
    SCN_RETAIN_LAST,  /* after the last measured round (the default) */
    SCN_RETAIN_EVERY, /* after each measured round */
    SCN_RETAIN_NONE,  /* never */
};

/* "last", "every", "none" -> enum scn_retainers, or -1. */
int scn_retainers_parse(const char *name);
/* The name of a value of enum scn_retainers. */
const char *scn_retainers_name(enum scn_retainers r);

struct scn {
    char *name;
    char *file; /* the scenario file, or NULL for a command-line scenario */
    /* target */
    char **argv; /* NULL-terminated; argv[0] resolved against the current directory if relative */
    char **env;  /* NULL-terminated "KEY=VALUE" entries, or NULL */
    char *cwd;   /* or NULL */
    char **vars; /* target.vars: "NAME=VALUE" entries for {NAME}, NULL-terminated, or NULL */
    struct tpl_file *files; /* target.files: rendered into the run's folder before the start */
    size_t n_files;
    char **port_names; /* each NAME of a {port:NAME} in argv, env, cwd or files (a port each) */
    size_t n_port_names;
    enum scn_ready_kind ready;
    char *ready_value;   /* regex or URL */
    uint16_t ready_port; /* for SCN_READY_TCP; 0 with ready_port_is_placeholder */
    bool ready_port_is_placeholder;
    int ready_timeout_ms;
    /* driver: its row of the table (drv.h) and its settings, the row's own struct (owned;
     * read and written by the driver only, e.g. struct drv_stdio_cfg for "stdio") */
    const struct drv_kind *driver;
    void *driver_cfg;
    /* judging */
    uint32_t rounds; /* measured rounds, after the warm-up */
    uint32_t warmup;
    int round_timeout_ms;
    double threshold_bytes_per_round;
    double threshold_blocks_per_round;    /* 0 = not used */
    double threshold_rss_bytes_per_round; /* 0 = not used: untracked growth that fails the run */
    enum rpt_expect expect;
    char *expect_culprit;
    struct supp_rule *supp; /* n_supp suppressions (analysis/supp.h) */
    size_t n_supp;
    char **wrappers; /* extra allocator-wrapper globs */
    size_t n_wrappers;
    char **roles; /* "NAME\x1fGLOB": processes of the tree matching GLOB are role NAME */
    size_t n_roles;
    struct analysis_role *role_rules; /* the same, as the analysis takes them (into roles) */
    bool uses_port;                   /* some string holds {port}: the harness picks a free port */
    enum scn_retainers retainers;     /* when the retainer scan runs */
    int retainers_stop_ms;            /* longest stop of a process by the scan (0: default) */
};

/* Returns an empty scenario with every default set (name "scenario", stdio driver, each
 * driver's defaults), or NULL when out of memory. Caller frees with scn_free(). */
struct scn *scn_new(void);

/* Frees the scenario, every driver's settings included. scn_free(NULL) is a no-op. */
void scn_free(struct scn *s);

/* Parses scenario JSON `text` (len bytes). `path` names it in messages and anchors relative
 * requests_file paths (may be NULL: the current directory). On success *out is owned by the
 * caller (scn_free). Returns 0, -EINVAL with `d` filled for invalid input, or -ENOMEM. */
int scn_parse(const char *text, size_t len, const char *path, struct scn **out, struct diag *d);

/* Reads and parses the file at `path`. Returns 0, -EINVAL (bad content), -errno (unreadable),
 * with `d` filled. */
int scn_load(const char *path, struct scn **out, struct diag *d);

/* Finishes a scenario built in code (command line): checks it like a file and computes
 * uses_port. Returns 0 or -EINVAL with `d` filled. */
int scn_finish(struct scn *s, struct diag *d);

/* Writes the scenario as JSON (the file format) to `path`, so a recording can be analysed again
 * with the same settings. Returns 0 or -errno. */
int scn_save(const struct scn *s, const char *path);

/* Points `o` at what the target's strings may name (target.vars, target.files). Borrowed: `s`
 * must outlive `o`. Can't fail. */
void scn_tpl_names(const struct scn *s, struct tpl_names *o);

/* Points `o` at the parts of `s` the analysis needs (borrowed: `s` must outlive `o`). Can't
 * fail. */
void scn_analysis_opts(const struct scn *s, struct analysis_opts *o);

#endif
