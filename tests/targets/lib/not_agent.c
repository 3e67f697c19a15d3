/* SPDX-License-Identifier: MIT */
/* not_agent.c - a shared library that is not the agent (it does nothing): preloaded in its
 * place, the target runs untracked and never says hello. */
int not_agent_marker(void);

int not_agent_marker(void)
{
    return 42;
}
