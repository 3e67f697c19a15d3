/* SPDX-License-Identifier: MIT */
/* ag_fd.h - the descriptor hooks: close, close_range, closefrom, dup2 and dup3 leave the
 * channel's descriptor open (a program that closes every descriptor, as daemons do, keeps its
 * channel), and dup2/dup3 onto it move the channel first. Exported from the agent (agent.map);
 * the functions themselves are in ag_fd.c. Hook-safe. */
#ifndef AGENT_AG_FD_H
#define AGENT_AG_FD_H

/* Resolves the real descriptor functions with dlsym(RTLD_NEXT). Called once at start-up, guard
 * set; until then system calls stand in. */
void ag_fd_resolve(void);

#endif
