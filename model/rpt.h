/* SPDX-License-Identifier: MIT */
/* rpt.h - the result model: everything one `leakcheck run` found, from which every report
 * (JSON, JUnit, pprof, folded stacks, SVG, Markdown, history) is written.
 *
 * The analysis fills it (analysis/), the harness adds the run's facts; writers (reports/) only
 * read it. All strings are owned by the model and freed by
 * rpt_run_free(); a NULL string means "unknown". Numbers are exact counts from the agent.
 * Rounds are numbered from 1; warm-up rounds come first and are flagged.
 */
#ifndef MODEL_RPT_H
#define MODEL_RPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPT_FORMAT "leakcheck-report/1"

enum rpt_verdict {
    RPT_VERDICT_NO_LEAK,
    RPT_VERDICT_LEAK,
    RPT_VERDICT_INCONCLUSIVE,
    RPT_VERDICT_ERROR,
};
#define RPT_N_VERDICTS 4

/* What `expect` asked for. RPT_EXPECT_ANY accepts leak and no-leak alike. */
enum rpt_expect {
    RPT_EXPECT_NO_LEAK,
    RPT_EXPECT_LEAK,
    RPT_EXPECT_ANY,
};
#define RPT_N_EXPECTS 3

/* How one allocation site behaved over the measured rounds. */
enum rpt_kind {
    RPT_KIND_FLAT,     /* nothing retained, or constant */
    RPT_KIND_LEAK,     /* survivors from (nearly) every measured round, steady growth */
    RPT_KIND_PLATEAU,  /* grew, then stopped (bounded cache, pool, high-water buffer) */
    RPT_KIND_STEP,     /* one-time jump inside the measured rounds */
    RPT_KIND_SAWTOOTH, /* grows and is released again, periodically */
    RPT_KIND_CHURN,    /* varies without a trend */
};

/* Where a site's memory came from. */
enum rpt_source {
    RPT_SOURCE_MALLOC, /* malloc and its family (C++ new included) */
    RPT_SOURCE_MMAP,   /* anonymous mmap / mremap called by the program */
    RPT_SOURCE_BRK,    /* sbrk / brk called by the program */
};
#define RPT_N_SOURCES 3

/* Why a frame was passed over on the way from the allocator to the culprit (rpt_frame.skip).
 * docs/ANALYSIS.md states the rules. */
enum rpt_skip {
    RPT_SKIP_NONE,    /* not passed over: the culprit, or a frame outside it */
    RPT_SKIP_LISTED,  /* its function is on the default allocator-wrapper list */
    RPT_SKIP_LIBRARY, /* it lives in a library on the default list, which allocates for its caller
                       */
    RPT_SKIP_USER,    /* matched the scenario's `wrappers` or --wrapper */
    RPT_SKIP_RELAY,   /* found in the recording to relay allocations for its callers */
};
#define RPT_N_SKIPS 5

/* One frame of a symbolized stack. Inlined frames are separate entries sharing `address`. */
struct rpt_frame {
    uint64_t address;       /* return address - 1 (the call instruction), absolute */
    char *function;         /* demangled, or NULL */
    char *system_name;      /* mangled name, or NULL when the same */
    char *file;             /* source file, or NULL */
    uint32_t line;          /* 0 when unknown */
    char *object;           /* path of the loaded object, or NULL */
    uint64_t object_offset; /* address relative to the object's load bias */
    bool inlined;           /* this frame was inlined into the next one */
    enum rpt_skip skip;     /* why the culprit is not this frame (sites' stacks only) */
};

struct rpt_round {
    uint32_t round; /* 1-based */
    bool warmup;
    uint64_t live_bytes; /* tracked live heap after the round */
    uint64_t live_blocks;
    uint64_t rss_bytes;
    uint64_t heap_inuse_bytes; /* allocator's own view (mallinfo2 uordblks) */
    uint64_t heap_free_bytes;  /* free memory the allocator holds (fordblks) */
    uint64_t agent_bytes;      /* the agent's own memory */
    double seconds;            /* wall time of the round's work */
};

/* What holds a leaking site's survivors: the shortest path from a root, grouped. */
enum rpt_root_kind {
    RPT_ROOT_UNREACHABLE = 0, /* "unreachable": lost, no pointer to the blocks remains */
    RPT_ROOT_GLOBAL,          /* "global" */
    RPT_ROOT_STACK,           /* "thread-stack" */
    RPT_ROOT_TLS,             /* "tls" */
    RPT_ROOT_REGISTER,        /* "register" */
};

/* One block on the way from the root to the survivors. */
struct rpt_hop {
    char *function;     /* the culprit function of the block's allocation site, or NULL */
    char *file;         /* or NULL */
    uint32_t line;      /* 0 = unknown */
    uint32_t site;      /* the block's site id (rpt_site.id) */
    int64_t offset;     /* byte offset in this block of the pointer to the next one (the most
                           common one of the group: offsets vary with the slot a block sits in) */
    bool offset_varies; /* the group's paths do not all have that offset */
};

struct rpt_retainer {
    enum rpt_root_kind kind;
    char *symbol;   /* global/tls: the variable; thread-stack: the frame's function; register: its
                       name ("rbx"); NULL when unknown or unreachable */
    char *object;   /* the object holding the root (global, tls), or of the frame (stack) */
    char *file;     /* the variable's definition file (global, tls), or the frame's source file at
                       its pc (thread-stack), or NULL */
    uint32_t line;  /* 0 = unknown */
    char *section;  /* global: the ELF section holding the pointer (".bss", ".data"), or NULL */
    int64_t offset; /* global/tls: byte offset of the pointer in the variable (or from the object's
                       base when unnamed); stack: above the frame's stack pointer (the group's most
                       common one) */
    bool offset_varies; /* the group's paths do not all have that offset (an array's slots) */
    uint32_t tid; /* stack, tls, register: the thread's id (0 otherwise; the most common one of
                     the group) */
    size_t n_via;
    struct rpt_hop *via; /* root side first, the survivor left out */
    uint64_t blocks;     /* sampled survivors held this way */
    uint64_t bytes;      /* and their bytes */
};

struct rpt_site {
    uint32_t id; /* stable within a scenario (the agent's stack id) */
    /* The culprit frame: the first frame that is not an allocator wrapper. */
    char *function;
    char *file;
    uint32_t line;
    char *object;
    enum rpt_kind kind;
    bool suppressed;        /* matched a suppression: never makes a leak verdict */
    bool suspect;           /* counted towards the verdict (leaking, not suppressed) */
    double bytes_per_round; /* robust growth over the measured rounds */
    double blocks_per_round;
    uint32_t rounds_with_survivors; /* measured rounds that left live blocks here */
    uint32_t measured_rounds;
    uint64_t peak_bytes;  /* high-water mark of live bytes over all rounds */
    uint64_t final_bytes; /* live after the last round */
    uint64_t final_blocks;
    uint64_t growth_bytes; /* last measured round minus first measured round (may be 0) */
    int64_t growth_bytes_signed;
    int64_t growth_blocks_signed;
    uint64_t alloc_bytes; /* cumulative allocations since start */
    uint64_t alloc_blocks;
    uint64_t *live_bytes; /* per round, n_rounds entries (index = round - 1) */
    uint64_t *live_blocks;
    size_t n_frames; /* full stack, allocator side first, inlined frames expanded */
    struct rpt_frame *frames;
    bool truncated;         /* the stack hit the depth limit */
    uint32_t culprit_frame; /* index of the culprit in frames (0 when there are none) */
    char *culprit_why;      /* the frames passed over on the way to it, and why; or NULL */
    enum rpt_source source;
    /* In a process tree: the role whose processes allocated here, and their pids. */
    char *role; /* NULL: a one-process recording */
    size_t n_pids;
    uint32_t *pids;
    /* Who holds its survivors (a retainer scan ran and sampled some): groups, most survivors
     * first. */
    size_t n_retainers;
    struct rpt_retainer *retainers;
    uint64_t retain_sampled; /* survivors the scan sampled for this site */
};

/* The retainer scan of a run (the last one, when it ran after several rounds). */
struct rpt_retain_scan {
    bool ran;               /* a scan was asked for and attempted */
    bool complete;          /* every process scanned to the end */
    char *note;             /* why it was cut short or failed, or NULL */
    uint32_t round;         /* the last round finished when it ran */
    uint32_t processes;     /* processes scanned */
    double stopped_seconds; /* longest time a process stayed stopped */
    double seconds;         /* the whole scan, all processes */
    uint64_t bytes_read;    /* target memory read */
    uint64_t live_blocks;
    uint64_t live_bytes;
    uint64_t memory_bytes; /* peak memory the scan used */
};

/* One process of the target's tree: each program image that joined (an exec makes a new entry
 * with the same pid), and each process that never joined. */
struct rpt_proc {
    uint32_t pid, ppid;
    char *exe;     /* executable path, or NULL */
    char *cmdline; /* arguments joined with spaces (the title it gave itself, if it did) */
    char *role;    /* the role it was measured in (tracked ones) */
    char *origin;  /* how it joined: "start", "fork", "exec", "spawn", "reconnect"; NULL if never */
    bool tracked;  /* joined and measured */
    char *why;     /* not tracked: why (NULL when tracked) */
    uint32_t joined_round; /* the last round finished when it joined (0: before round 1) */
    bool ended;            /* ended (or exec'd) before the run did */
    uint32_t ended_round;  /* the last round finished when it ended */
    char *end;             /* how it ended ("exited with code 0", "exec'd", ...), or NULL */
    uint32_t snapshots;    /* snapshots it answered */
};

struct rpt_scenario {
    char *name;
    char *file; /* scenario file path, or NULL for a command-line run */
    enum rpt_verdict verdict;
    enum rpt_expect expect;
    bool ok;                       /* verdict met expect */
    char *reason;                  /* one line: why this verdict */
    char *error;                   /* for RPT_VERDICT_ERROR: what failed and what to do */
    double growth_bytes_per_round; /* robust slope of the live heap, measured rounds */
    double growth_blocks_per_round;
    double trend_p_value; /* of the trend test (1 when not computed) */
    double threshold_bytes_per_round;
    double threshold_blocks_per_round; /* 0 = not set */
    uint32_t rounds_planned;           /* measured + warm-up as asked */
    uint32_t warmup;
    size_t n_rounds; /* rounds completed (may be fewer than planned) */
    struct rpt_round *rounds;
    size_t n_sites; /* sorted: suspects first, then by bytes_per_round descending */
    struct rpt_site *sites;
    int exit_code;   /* target's exit code, or -1 */
    int term_signal; /* signal that ended the target, or 0 */
    double seconds;  /* whole scenario */
    uint64_t unknown_frees, dropped, unwind_errors, truncated_stacks; /* agent's counters */
    bool stacks_truncated;
    char **argv; /* the target's argv, NULL-terminated (may be NULL) */
    /* Memory outside tracked blocks (analysis/rss.h): slopes over the measured rounds. */
    double rss_growth_bytes_per_round;    /* RSS less the agent's own memory */
    double untracked_bytes_per_round;     /* steady growth not in tracked blocks, or 0 */
    double threshold_rss_bytes_per_round; /* 0 = not set */
    char *rss_warning;                    /* one line with the figure, or NULL */
    int interrupted_signal; /* the stop signal (SIGTERM...) that ended this scenario early, or 0 */
    size_t n_procs;         /* the processes of the target's tree (0: a one-process recording) */
    struct rpt_proc *procs;
    size_t n_roles; /* distinct roles measured */
    struct rpt_retain_scan retain;
    /* Rounds' snapshot time: request sent to last byte received, all processes (n_rounds
     * entries, index = round - 1; NULL when not measured; negative for a round without one). */
    double *snapshot_seconds;
};

struct rpt_run {
    char *commit;         /* git sha of the code under test, or NULL */
    char *commit_message; /* first line, or NULL */
    char *started_at;     /* RFC 3339 UTC */
    char *agent_version;
    char *host;
    size_t n_scenarios;
    struct rpt_scenario *scenarios;
    int interrupted_signal; /* the stop signal that ended the run before its last scenario, or 0 */
    bool full_names;        /* views show C++ names in full (--full-names); JSON always does */
};

/* Frees everything the run owns, and the run. rpt_run_free(NULL) is a no-op. */
void rpt_run_free(struct rpt_run *run);
/* Frees what one scenario owns (not the struct itself). */
void rpt_scenario_cleanup(struct rpt_scenario *s);
/* Frees `n` retainer groups and the array. NULL-safe. */
void rpt_retainers_free(struct rpt_retainer *r, size_t n);

/* Names for the enums, as they appear in every report ("no-leak", "sawtooth", ...). Can't fail. */
const char *rpt_verdict_name(enum rpt_verdict v);
const char *rpt_expect_name(enum rpt_expect e);
const char *rpt_kind_name(enum rpt_kind k);
const char *rpt_source_name(enum rpt_source s);
/* "global", "thread-stack", "tls", "register", "unreachable". Can't fail. */
const char *rpt_root_kind_name(enum rpt_root_kind k);
/* The root kind from its name, or -1. Can't fail. */
int rpt_root_kind_parse(const char *name);
/* The source from its name ("malloc", "mmap", "brk"), or -1. Can't fail. */
int rpt_source_parse(const char *name);

/* The names of verdicts and expectations, indexed by value: the one table every reader and
 * writer of reports and scenarios uses. */
extern const char *const rpt_verdict_names[RPT_N_VERDICTS];
extern const char *const rpt_expect_names[RPT_N_EXPECTS];
/* The names of enum rpt_skip as reports write them ("", "listed", "library", "user", "relay").
 * rpt_skip_parse() returns the value, or -1. Can't fail. */
extern const char *const rpt_skip_names[RPT_N_SKIPS];
int rpt_skip_parse(const char *name);

/* The enums from their names, the inverse of rpt_verdict_name() and rpt_expect_name(). Return the
 * value, or -1 for a name that is none of them. Can't fail. */
int rpt_verdict_parse(const char *name);
int rpt_expect_parse(const char *name);

/* True when site `x` leaks (survivors from the measured rounds, a steady rise) yet made no leak
 * verdict because it grows under the scenario's threshold: kind leak, not a suspect, not
 * suppressed. Can't fail. */
bool rpt_site_leaks_under_threshold(const struct rpt_site *x);

/* Writes the one wording of that warning, used by the terminal, the CI annotations, the summary
 * and JUnit: "FUNCTION (FILE:LINE) leaks +50 B/round, under the threshold of 128 B". Can't
 * fail (truncates to `len`). */
void rpt_under_threshold_text(const struct rpt_scenario *sc, const struct rpt_site *x, char *out,
                              size_t len);

/* Index of the first measured round among the completed ones (n_rounds when there is none):
 * the warm-up rounds come first. Can't fail. */
size_t rpt_first_measured(const struct rpt_scenario *s);

/* The name reports give signal `sig`: "SIGTERM", "SIGINT", "SIGHUP"..., or "signal N" for one
 * without a name, in `buf` (returned). Can't fail. */
const char *rpt_signal_name(int sig, char *buf, size_t len);

#endif
