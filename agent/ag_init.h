/* SPDX-License-Identifier: MIT */
/* ag_init.h - the agent's start-up: environment, channel, self lookup, fork handlers.
 *
 * ag_init_start() is the body of the agent's constructor (the constructor itself is a one-line
 * function in ag_hook.c, so that unit tests can link this file without running it). In a
 * process of a harness's tree (LEAKCHECK_SOCK and LEAKCHECK_KEY set) it joins the harness on a
 * connection of its own and leaves those variables and LD_PRELOAD in the environment, so every
 * program the tree execs joins too. With an inherited channel (LEAKCHECK_FD) or the in-process
 * API (LEAKCHECK_INPROC) it removes its variables and its LD_PRELOAD entry, so exec'd children
 * start clean. Then it finds the agent's own code (frames there are dropped from stacks),
 * registers the fork handlers, sends HELLO, allocates the canary through the target's own
 * `malloc` symbol, and starts the channel thread. Without a channel, in a set-uid program, or
 * when any step fails, the agent stays in pass-through mode.
 *
 * Fork: prepare takes every agent lock, parent and child release them; the child closes the
 * parent's channel and, in a harness's tree, joins with a channel and a thread of its own
 * (HELLO flagged PROTO_HELLO_FORKED); elsewhere it stops tracking.
 */
#ifndef AGENT_AG_INIT_H
#define AGENT_AG_INIT_H

#include <stddef.h>

/* Starts the agent as described above. Can't fail (failures leave the agent in pass-through).
 * Called once, from the constructor, before the target's main(). */
void ag_init_start(void);

/* Parses a small decimal number (digits only, at most about 10^9). Returns it, or -1 for NULL,
 * an empty string, any other character, or a bigger number. Hook-safe. */
long ag_init_parse_small(const char *s);

/* Writes into out[0..cap) the LD_PRELOAD value `value` without the entries whose file name is
 * libleakcheck-agent.so; entries are separated by ':' or ' ' and rejoined with ':'. Returns the
 * length of the result (0: nothing left), or -ENAMETOOLONG when it does not fit (then `out` is
 * unspecified and the caller keeps the variable as it was). Hook-safe. */
int ag_init_preload_without_self(const char *value, char *out, size_t cap);

#endif
