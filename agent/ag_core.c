/* SPDX-License-Identifier: MIT */
/* ag_core.c - the agent's one state object, its recursion guard, and the checked-build
 * assertion report (see ag_core.h). */
#include "ag_core.h"

#include <pthread.h>
#include <signal.h>

#include <link.h>

#include <string.h>
#include <unistd.h>

#define DEFAULT_DEPTH 32u

struct ag_state ag_state = {.chan_fd = -1, .depth = DEFAULT_DEPTH};
__thread int ag_guard __attribute__((tls_model("initial-exec")));

/* Appends the C string `s` to buf[*len..cap), truncating. */
static void append(char *buf, size_t *len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n > cap - *len) {
        n = cap - *len;
    }
    memcpy(buf + *len, s, n);
    *len += n;
}

void ag_core_assert_fail(const char *expr, const char *file, int line)
{
    char num[16];
    size_t k = sizeof(num);
    num[--k] = '\0';
    unsigned v = line > 0 ? (unsigned)line : 0;
    do {
        num[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && k > 0);

    char buf[512];
    size_t len = 0;
    append(buf, &len, sizeof(buf) - 1, "leakcheck agent: ");
    append(buf, &len, sizeof(buf) - 1, file);
    append(buf, &len, sizeof(buf) - 1, ":");
    append(buf, &len, sizeof(buf) - 1, num + k);
    append(buf, &len, sizeof(buf) - 1, ": assertion '");
    append(buf, &len, sizeof(buf) - 1, expr);
    append(buf, &len, sizeof(buf) - 1, "' failed");
    buf[len++] = '\n';
    ssize_t rc = write(2, buf, len);
    (void)rc;
    __builtin_trap();
}

/* The probe and what ag_core_code_range() found. */
struct code_range {
    uintptr_t probe, lo, hi;
};

/* dl_iterate_phdr callback: stops at the executable segment holding the probe. */
static int find_code(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct code_range *r = ctx;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        uintptr_t hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && r->probe >= lo && r->probe < hi) {
            r->lo = lo;
            r->hi = hi;
            return 1;
        }
    }
    return 0;
}

bool ag_core_code_range(const void *probe, uintptr_t *lo, uintptr_t *hi)
{
    struct code_range r = {.probe = (uintptr_t)probe};
    if (dl_iterate_phdr(find_code, &r) == 0) {
        return false;
    }
    *lo = r.lo;
    *hi = r.hi;
    return true;
}

int ag_thread_start(void *(*fn)(void *), void *arg, size_t stack_size)
{
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (stack_size) {
        pthread_attr_setstacksize(&attr, stack_size);
    }
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -rc;
}
