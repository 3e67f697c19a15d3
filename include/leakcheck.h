/* SPDX-License-Identifier: MIT */
/* leakcheck.h - in-process leak assertions for unit tests and plain C programs.
 *
 * "Calling this N times does not keep memory", checked inside the test itself. A scope measures
 * a region of the calling process round by round with the leakcheck agent (the same agent and
 * the same analysis as `leakcheck run`: survivors by round of birth, thresholds, suppressions,
 * culprit frames symbolized from DWARF) and ends with a verdict naming the culprit:
 *
 *     struct lc_scope *s;
 *     if (lc_begin(NULL, &s) == 0) {
 *         for (int i = 0; i < 12; i++) {
 *             parse_header(line);
 *             lc_round(s);
 *         }
 *         struct lc_result r;
 *         lc_end(s, &r);   // r.verdict, and r.message, one line such as
 *     }                    // "leaked 264 B/round over 10 rounds at parse_header (parser.c:120)"
 *
 * With cmocka, include <cmocka.h> first, then this header, and write
 *     assert_no_leak_growth(fn, state, rounds);
 * which fails the test through cmocka with that message, or skips it when the agent is absent.
 *
 * The program must run under the agent: `leakcheck exec -- ./tests`, or set
 * LEAKCHECK_REEXEC=1 and the library re-executes the program with the agent preloaded at
 * start-up (the agent is found through $LEAKCHECK_AGENT, then the build and install folders).
 * Without the agent nothing is measured and every result says so (LC_SKIP), never a pass.
 *
 * Link: `-lleakcheck` plus its dependencies (`pkg-config --libs leakcheck`). One scope at a
 * time per process; the functions are not thread-safe, although the code measured may run
 * threads (every thread's allocations count). See docs/INPROC.md.
 */
#ifndef LEAKCHECK_H
#define LEAKCHECK_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LC_DEFAULT_WARMUP 2u  /* rounds run before measuring (lazy initialisation, caches) */
#define LC_DEFAULT_ROUNDS 10u /* measured rounds of lc_check() when none are given */
#define LC_MIN_ROUNDS     4u  /* fewest measured rounds a verdict is given on */
#define LC_MAX_SITES      5u  /* sites kept in a result */

/* Environment variables read by the library. */
#define LC_ENV_REEXEC "LEAKCHECK_REEXEC" /* "1": re-execute under the agent when it is absent */
#define LC_ENV_AGENT  "LEAKCHECK_AGENT"  /* path of libleakcheck-agent.so */

enum lc_verdict {
    LC_PASS = 0,         /* no leak: nothing kept growing over the threshold */
    LC_LEAK = 1,         /* at least one site kept memory from (nearly) every measured round */
    LC_INCONCLUSIVE = 2, /* no decision (too few rounds, heap grows with no site to blame...) */
    LC_SKIP = 3,         /* the agent is not loaded: nothing was measured */
    LC_ERROR = 4,        /* the measurement itself failed (message says why) */
};

/* Settings of a scope or of lc_check(). A zeroed struct (or NULL) means every default. */
struct lc_options {
    const char *name;                  /* names the scope in messages, or NULL */
    unsigned warmup;                   /* first rounds not measured; 0 = LC_DEFAULT_WARMUP */
    bool no_warmup;                    /* really no warm-up round (warmup 0 means the default) */
    unsigned rounds;                   /* lc_check(): measured rounds; 0 = LC_DEFAULT_ROUNDS */
    unsigned calls_per_round;          /* lc_check(): calls of fn per round; 0 = 1 */
    double threshold_bytes_per_round;  /* 0 = leakcheck's default (128 B/round) */
    double threshold_blocks_per_round; /* 0 = not used */
    /* NULL-terminated lists of fnmatch(3) globs, or NULL. A suppression "GLOB" matches the
     * function of any frame from the culprit outward, "object:GLOB" the object (library) path or
     * basename: such sites never make a leak verdict. A wrapper glob names one more allocator
     * wrapper to look through when naming the culprit (same syntax). */
    const char *const *suppress;
    const char *const *wrappers;
};

/* One allocation site of a result: the culprit frame and how it grew. */
struct lc_site {
    char function[128]; /* "" when unknown */
    char file[256];     /* source file as recorded in the debug info, "" when unknown */
    unsigned line;      /* 0 when unknown */
    double bytes_per_round;
    double blocks_per_round;
    unsigned rounds_with_survivors; /* measured rounds that left live blocks here */
    bool suspect;                   /* counted towards the leak verdict */
    bool suppressed;
};

/* A scope's verdict. Plain storage, nothing to free. */
struct lc_result {
    enum lc_verdict verdict;
    unsigned rounds; /* measured rounds */
    unsigned warmup;
    double bytes_per_round; /* robust slope of the whole live heap, measured rounds */
    double blocks_per_round;
    size_t n_sites; /* suspects first, then by growth */
    struct lc_site sites[LC_MAX_SITES];
    char reason[256];  /* the analysis's one-line reason */
    char message[512]; /* one line for a test failure or a skip, see lc_end() */
};

struct lc_scope;

/* The work lc_check() repeats; `arg` is passed through untouched. */
typedef void (*lc_work_fn)(void *arg);

/* True when the agent is loaded and tracking this process. Can't fail. */
bool lc_available(void);

/* Begins a measured region: takes the starting snapshot. `opt` is copied (may be NULL). On
 * success *out is owned by the caller, ended (and freed) by lc_end(). Returns 0; -ENOSYS when
 * the agent is not loaded (lc_available() is false: skip); -EBUSY when another scope is open;
 * -EINVAL for bad options; -ENOMEM or -EIO. */
int lc_begin(const struct lc_options *opt, struct lc_scope **out);

/* Marks the end of one round: snapshots the live heap and starts the next round. Allocates
 * nothing on the heap. Returns 0, -EINVAL (NULL scope) or -EIO (the snapshot failed; lc_end()
 * then reports LC_ERROR). */
int lc_round(struct lc_scope *s);

/* Ends the scope (frees it, whatever the result), analyses the rounds marked so far and fills
 * `out` (may be NULL to just cancel). out->message is one line:
 *   LC_LEAK          "leaked 264 B/round over 10 rounds at parse_header (parser.c:120)"
 *   LC_PASS          "no leak over 10 rounds: live heap flat (+0 B/round)"
 *   LC_INCONCLUSIVE  "inconclusive over 3 rounds: only 3 measured rounds, ..."
 *   LC_ERROR         what failed
 * Returns 0 when `out` holds a verdict (any of them), -EINVAL for a NULL scope, -ENOMEM. */
int lc_end(struct lc_scope *s, struct lc_result *out);

/* Runs fn(arg) calls_per_round times per round, for the warm-up then the measured rounds, in one
 * scope, and fills `out` (required). When the agent is absent nothing runs: LC_SKIP with a
 * message saying how to run under the agent. Returns the verdict (also out->verdict). */
enum lc_verdict lc_check(lc_work_fn fn, void *arg, const struct lc_options *opt,
                         struct lc_result *out);

/* If the agent is not loaded and LEAKCHECK_REEXEC=1, re-executes this program (/proc/self/exe,
 * same arguments) with the agent preloaded and LEAKCHECK_INPROC=1 (never a sanitized build, and
 * once at most). The library already does this by itself before main(); a program may call it
 * to learn why it did not happen. Returns only when it did not re-execute: 0 (not asked, or the
 * agent is loaded), or a negative errno (agent not found, sanitizer, exec failed, re-executed
 * already but the agent did not load) with a message in `why` (may be NULL; len bytes). */
int lc_reexec(char *why, size_t len);

#ifdef __cplusplus
}
#endif

/* ---------------------------------------------------------------- cmocka */

/* Defined when <cmocka.h> was included before this header. Runs fn(state) for the warm-up
 * rounds then `rounds` measured rounds; on a leak (or an inconclusive or failed measurement)
 * fails the test with the one-line message at the caller's file and line; without the agent
 * prints why and skips the test. */
#if defined(fail_msg) && defined(skip)
#define assert_no_leak_growth(fn, state, n_rounds)                                                 \
    do {                                                                                           \
        struct lc_options lc_opt_ = {0};                                                           \
        lc_opt_.rounds = (n_rounds);                                                               \
        assert_no_leak_growth_opts((fn), (state), &lc_opt_);                                       \
    } while (0)

#define assert_no_leak_growth_opts(fn, state, opt)                                                 \
    do {                                                                                           \
        struct lc_result lc_res_;                                                                  \
        enum lc_verdict lc_v_ = lc_check((fn), (state), (opt), &lc_res_);                          \
        if (lc_v_ == LC_SKIP) {                                                                    \
            print_message("[  SKIP    ] %s\n", lc_res_.message);                                   \
            skip();                                                                                \
        } else if (lc_v_ != LC_PASS) {                                                             \
            fail_msg("%s", lc_res_.message);                                                       \
        }                                                                                          \
    } while (0)
#endif

#endif
