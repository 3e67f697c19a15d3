/* SPDX-License-Identifier: MIT */
/* rss.h - memory the process holds beyond what the agent tracks: RSS against the tracked heap.
 *
 * The verdict reads tracked blocks only. When the process's resident memory (less the agent's
 * own) or the allocator's held memory (in use plus free, mallinfo2) grows steadily over the
 * measured rounds while the tracked memory stays flat, the difference is memory the program
 * keeps without a tracked allocation: allocator fragmentation, an allocator the agent does not
 * see, or system calls it does not hook. rss_check() measures that growth, puts a warning with
 * its figure on the scenario, and turns a `no-leak` into `leak` when it reaches the scenario's
 * threshold.rss_bytes_per_round.
 *
 * Pure computation over the scenario's rounds; thread-safe.
 */
#ifndef ANALYSIS_RSS_H
#define ANALYSIS_RSS_H

#include "../model/rpt.h"

/* Untracked growth under which no warning is given: one page a round. */
#define RSS_WARN_FLOOR_BYTES 4096.0

/* The trend test's p-value the growth must reach. */
#define RSS_TREND_P 0.01

/* Fills s->rss_growth_bytes_per_round and s->untracked_bytes_per_round from s->rounds (measured
 * rounds only; nothing when fewer than 4), sets s->rss_warning when the untracked growth is
 * steady, at least RSS_WARN_FLOOR_BYTES (or `threshold_rss` when set and lower) and the tracked
 * heap grows less than the scenario's threshold; with `threshold_rss` > 0 and untracked growth
 * at or above it, a `no-leak` verdict becomes `leak` with a reason naming the figure. Call after
 * the verdict is decided and before it is judged. Returns 0 or -ENOMEM. */
int rss_check(struct rpt_scenario *s, double threshold_rss);

#endif
