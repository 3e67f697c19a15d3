/* SPDX-License-Identifier: MIT */
/* ag_core.c - the agent's one state object and its recursion guard (see ag_core.h). */
#include "ag_core.h"

#define DEFAULT_DEPTH 32u

struct ag_state ag_state = {.chan_fd = -1, .depth = DEFAULT_DEPTH};
__thread int ag_guard __attribute__((tls_model("initial-exec")));
