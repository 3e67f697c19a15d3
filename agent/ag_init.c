/* SPDX-License-Identifier: MIT */
/* ag_init.c - the agent's start-up and fork handlers (see ag_init.h).
 *
 * Runs once, on the thread that loads the program, with the recursion guard set throughout,
 * so that what the dynamic loader, libunwind and libc allocate here is never counted; the guard
 * is cleared only around the canary allocation, which must be tracked. secure_getenv, setenv and
 * unsetenv are used here only, before the target's main(), as agent rule 5 allows.
 */
#include "ag_init.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "../common/proto.h"
#include "ag_boot.h"
#include "ag_chan.h"
#include "ag_core.h"
#include "ag_fd.h"
#include "ag_heap.h"

#define SELF_NAME "libleakcheck-agent.so"

/* ---------------------------------------------------------------- fork */

/* Takes every agent lock, so that no lock is held mid-update in the child: first the snapshot's
 * (a snapshot under way finishes, with every lock it takes), then the tables'. */
static void fork_prepare(void)
{
    ag_state.forking_pid = (int)getpid();
    ag_lock_take(&ag_state.snap_lock);
    ag_stack_lock(&ag_state.stacks);
    ag_table_lock_all(&ag_state.table);
    ag_region_lock(&ag_state.regions);
    ag_heap_lock();
}

/* Releases what fork_prepare took. */
static void fork_release(void)
{
    ag_heap_unlock();
    ag_region_unlock(&ag_state.regions);
    ag_table_unlock_all(&ag_state.table);
    ag_stack_unlock(&ag_state.stacks);
    ag_lock_release(&ag_state.snap_lock);
}

static void fork_parent(void)
{
    fork_release();
}

/* Releases the locks; then, in a process of a harness's tree, joins the harness on a channel of
 * its own (the inherited descriptor is the parent's); anywhere else, stops tracking. The child's
 * table is a copy of the parent's, as its heap is: every block the parent had live is live here
 * too, with its round of birth. */
static void fork_child(void)
{
    fork_release();
    ag_table_fork_child(&ag_state.table);
    ag_stack_fork_child(&ag_state.stacks);
    int inherited = ag_state.chan_fd;
    ag_state.chan_fd = -1;
    if (inherited >= 0) {
        ag_chan_close_raw(inherited);
    }
    if (atomic_load(&ag_state.mode) != AG_MODE_TRACK) {
        return;
    }
    int was = ag_guard;
    ag_guard = 1;
    int saved = errno;
    if (ag_state.sock_len == 0 || ag_chan_connect(&ag_state, PROTO_HELLO_FORKED) < 0 ||
        ag_chan_start(&ag_state) < 0) {
        atomic_store(&ag_state.mode, AG_MODE_PASS);
    }
    errno = saved;
    ag_guard = was;
}

/* ---------------------------------------------------------------- environment */

long ag_init_parse_small(const char *s)
{
    if (!s || !*s) {
        return -1;
    }
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000) {
            return -1;
        }
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* True when the entry start[0..n) names this library (by file name, any directory). */
static bool is_self(const char *start, size_t n)
{
    const char *base = memrchr(start, '/', n);
    base = base ? base + 1 : start;
    size_t base_len = n - (size_t)(base - start);
    return base_len == sizeof(SELF_NAME) - 1 && memcmp(base, SELF_NAME, base_len) == 0;
}

int ag_init_preload_without_self(const char *value, char *out, size_t cap)
{
    size_t len = 0;
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ':') {
            p++;
        }
        const char *start = p;
        while (*p && *p != ' ' && *p != ':') {
            p++;
        }
        size_t n = (size_t)(p - start);
        if (n == 0 || is_self(start, n)) {
            continue;
        }
        if (len + n + 2 > cap) {
            return -ENAMETOOLONG;
        }
        if (len > 0) {
            out[len++] = ':';
        }
        memcpy(out + len, start, n);
        len += n;
    }
    if (cap > 0) {
        out[len] = '\0';
    }
    return (int)len;
}

/* Removes this library from LD_PRELOAD, so exec'd programs start without it. A value too long
 * to rewrite is left as it is. */
static void strip_preload(void)
{
    const char *pre = secure_getenv("LD_PRELOAD");
    if (!pre) {
        return;
    }
    char out[4096];
    int len = ag_init_preload_without_self(pre, out, sizeof(out));
    if (len < 0) {
        return;
    }
    if (len == 0) {
        unsetenv("LD_PRELOAD");
    } else {
        setenv("LD_PRELOAD", out, 1);
    }
}

/* ---------------------------------------------------------------- start-up */

/* Parses 2 * PROTO_KEY_SIZE hex digits into key. Returns false when `hex` is not that. */
static bool parse_key(const char *hex, uint8_t key[PROTO_KEY_SIZE])
{
    if (!hex || strlen(hex) != 2 * PROTO_KEY_SIZE) {
        return false;
    }
    for (size_t i = 0; i < 2 * PROTO_KEY_SIZE; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) {
            return false;
        }
        key[i / 2] = (uint8_t)(i % 2 ? key[i / 2] | v : v << 4);
    }
    return true;
}

/* Reads the harness's socket name and key. True when both are there and well formed; the
 * variables stay in the environment (with LD_PRELOAD), so that every program the tree execs
 * joins the same run. */
static bool read_sock_env(void)
{
    const char *name = secure_getenv(PROTO_ENV_SOCK);
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= sizeof(ag_state.sock_name) ||
        !parse_key(secure_getenv(PROTO_ENV_KEY), ag_state.key)) {
        return false;
    }
    memcpy(ag_state.sock_name, name, n);
    ag_state.sock_len = n;
    return true;
}

/* Reads the agent's variables. Returns true when the agent should attach (a harness's socket,
 * an inherited channel socket, or the in-process API); *fd is an inherited channel, or -1.
 * The inherited-socket and in-process variables are removed, with this library from
 * LD_PRELOAD: such a channel belongs to this process alone. Called with the guard set. */
static bool read_env(int *fd)
{
    long depth = ag_init_parse_small(secure_getenv(PROTO_ENV_DEPTH));
    *fd = -1;
    bool sock = read_sock_env();
    long chan = ag_init_parse_small(secure_getenv(PROTO_ENV_FD));
    bool inproc = ag_init_parse_small(secure_getenv(PROTO_ENV_INPROC)) == 1;
    struct stat sb;
    bool channel = !sock && chan >= 0 && fstat((int)chan, &sb) == 0 && S_ISSOCK(sb.st_mode);
    if (!sock && !channel && !inproc) {
        return false;
    }
    if (depth >= 1 && depth <= (long)AG_STACK_MAX_DEPTH) {
        ag_state.depth = (unsigned)depth;
    }
    if (sock) {
        return true;
    }
    *fd = channel ? (int)chan : -1;
    unsetenv(PROTO_ENV_FD);
    unsetenv(PROTO_ENV_DEPTH);
    unsetenv(PROTO_ENV_INPROC);
    strip_preload();
    return true;
}

/* Allocates the canary through whatever `malloc` the target itself calls: if that is not this
 * agent's (a static binary, a private allocator), the harness sees no canary and says so.
 * Called with the guard set; clears it around the allocation only. */
static void make_canary(void)
{
    AG_ASSERT_GUARDED();
    void *(*target_malloc)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "malloc");
    if (!target_malloc) {
        return;
    }
    ag_guard = 0;
    void *canary = target_malloc(PROTO_CANARY_SIZE);
    ag_guard = 1;
    if (canary) {
        memset(canary, 0xca, PROTO_CANARY_SIZE);
        ag_state.canary = (uintptr_t)canary;
    }
}

/* Attaches: channel set-up, self lookup, fork handlers, HELLO, canary, channel thread. Returns
 * 0, or a negative errno when the agent must pass through. Called with the guard set. */
static int attach(int fd)
{
    AG_ASSERT_GUARDED();
    ag_fd_resolve();
    ag_core_code_range((const void *)(uintptr_t)&ag_init_start, &ag_state.self_lo,
                       &ag_state.self_hi);
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    pthread_atfork(fork_prepare, fork_parent, fork_child);

    bool channel = false;
    if (ag_state.sock_len > 0) {
        int rc = ag_chan_connect(&ag_state, 0);
        if (rc < 0) {
            return rc;
        }
        channel = true;
    } else if (fd >= 0) {
        ag_chan_adopt(&ag_state, fd);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        int rc = ag_chan_hello(&ag_state, 0);
        if (rc < 0) {
            return rc;
        }
        channel = true;
    }
    atomic_store(&ag_state.epoch, 0);
    atomic_store(&ag_state.mode, AG_MODE_TRACK);
    make_canary();
    if (channel) {
        return ag_chan_start(&ag_state);
    }
    return 0;
}

void ag_init_start(void)
{
    ag_boot_resolve();
    ag_guard = 1;
    int fd = -1;
    /* Set-uid or set-gid: never trust the environment, never attach. */
    if (getauxval(AT_SECURE) || !read_env(&fd) || attach(fd) < 0) {
        atomic_store(&ag_state.mode, AG_MODE_PASS);
    }
    ag_guard = 0;
}
