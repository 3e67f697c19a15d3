/* SPDX-License-Identifier: MIT */
/* rpt_history.h - per-commit history of results, as JSON Lines (one record per commit and
 * scenario), kept on a branch by the CI action and drawn by the dashboard (rpt_html.h).
 *
 * Records stay in the order commits were added (oldest first), grouped by commit. Adding a
 * commit that is already there (a re-run, or another shard of the same commit) replaces the
 * records of the scenarios it reports and keeps that commit's other scenarios, and the commit
 * moves last; with `replace_commit` all of its old records go. Only the last `max_commits`
 * commits are kept. Adding is linear in the size of the history. The file is rewritten
 * atomically. Reading rejects malformed lines with "FILE:LINE: what is wrong".
 */
#ifndef REPORTS_RPT_HISTORY_H
#define REPORTS_RPT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/rpt.h"
#include "../util/diag.h"

#define RPT_HISTORY_MAX_FILE        (64u << 20)
#define RPT_HISTORY_MAX_LINE        (4u << 20)
#define RPT_HISTORY_DEFAULT_COMMITS 100

struct rpt_history_rec {
    char *commit;    /* full sha */
    char *short_sha; /* first 7 characters */
    char *date;      /* as given (RFC 3339 or git's %cI), or NULL */
    char *message;   /* first line of the commit message, or NULL */
    char *scenario;
    char *verdict; /* rpt_verdict_name() */
    bool ok;
    double growth_bytes_per_round;
    uint64_t final_live_bytes;
    double threshold_bytes_per_round;
    size_t n_live;
    uint64_t *live_bytes; /* per round */
};

struct rpt_history {
    size_t n;
    size_t cap; /* records `recs` has room for */
    struct rpt_history_rec *recs;
};

/* What one rpt_history_add_ex() did, for the command to say. */
struct rpt_history_change {
    size_t added;    /* records of the run */
    size_t replaced; /* earlier records of the same commit that went (same scenario, or all) */
    size_t kept;     /* earlier records of the same commit kept (other scenarios) */
    size_t dropped;  /* records of old commits dropped by max_commits */
};

/* Reads `path` into `h` (initialized by the caller with {0}); a missing file is an empty
 * history. Returns 0, or -EINVAL with "PATH:LINE: ..." / -errno in `err`; on failure `h` is
 * left empty. */
int rpt_history_read(const char *path, struct rpt_history *h, struct diag *d);

/* Parses history text in memory (`len` bytes; the buffer is modified: line ends become NULs),
 * named `name` in messages, appending to `h`. Returns 0, or -EINVAL with "NAME:LINE: ..." /
 * -ENOMEM in `err`; on failure `h` is left empty. rpt_history_read() is this over a file. */
int rpt_history_parse(char *text, size_t len, const char *name, struct rpt_history *h,
                      struct diag *d);

/* Adds the records of `run` under `commit` (NULL: run->commit), `message` and `date` (NULL:
 * from the run), replacing the same commit's records of the same scenarios, then keeps the last
 * `max_commits` commits (0 = RPT_HISTORY_DEFAULT_COMMITS). Returns 0, -EINVAL when there is no
 * commit, or -ENOMEM, with a message in `err`. */
int rpt_history_add(struct rpt_history *h, const struct rpt_run *run, const char *commit,
                    const char *message, const char *date, size_t max_commits, struct diag *d);

/* rpt_history_add() with the choice of replacing every earlier record of the commit
 * (`replace_commit`) or only those of the scenarios `run` reports, and what it did in *chg (may
 * be NULL). Same returns. */
int rpt_history_add_ex(struct rpt_history *h, const struct rpt_run *run, const char *commit,
                       const char *message, const char *date, size_t max_commits,
                       bool replace_commit, struct rpt_history_change *chg, struct diag *d);

/* Writes `h` to `path` atomically. Returns 0 or -errno with a message in `err`. */
int rpt_history_write(const struct rpt_history *h, const char *path, struct diag *d);

/* Frees everything `h` owns; `h` is empty again. Can't fail. */
void rpt_history_cleanup(struct rpt_history *h);

#endif
