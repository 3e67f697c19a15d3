/* SPDX-License-Identifier: MIT */
/* agent_family.c - a stdio target for the agent's own integration tests.
 *
 * Each request line names one allocation pattern; the program performs it from a function of
 * its own (so the site is known), keeps what it allocated, and answers "ok" (or "fail: why").
 * Sizes are distinct per pattern so each site can be found by its bytes and blocks alone.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);

static void *kept[4096];
static int n_kept;

static void keep(void *p)
{
    if (n_kept < 4096) {
        kept[n_kept++] = p;
    }
}

static void do_malloc(void)
{
    for (int i = 0; i < 7; i++) {
        keep(malloc(1001));
    }
}

static void do_calloc(void)
{
    for (int i = 0; i < 6; i++) {
        keep(calloc(5, 211));
    }
}

static void do_realloc(void)
{
    for (int i = 0; i < 5; i++) {
        void *p = malloc(10);
        p = realloc(p, 3003);
        keep(p);
    }
}

static void do_reallocarray(void)
{
    for (int i = 0; i < 4; i++) {
        keep(reallocarray(NULL, 9, 111));
    }
}

static void do_posix_memalign(void)
{
    for (int i = 0; i < 3; i++) {
        void *p = NULL;
        if (posix_memalign(&p, 64, 1234) == 0 && ((uintptr_t)p & 63) == 0) {
            keep(p);
        }
    }
}

static void do_aligned_alloc(void)
{
    for (int i = 0; i < 2; i++) {
        void *p = aligned_alloc(256, 2560);
        if (p && ((uintptr_t)p & 255) == 0) {
            keep(p);
        }
    }
}

static void do_memalign(void)
{
    for (int i = 0; i < 3; i++) {
        keep(memalign(128, 555));
    }
}

static void do_valloc(void)
{
    for (int i = 0; i < 2; i++) {
        keep(valloc(700));
    }
}

static void do_pvalloc(void)
{
    for (int i = 0; i < 2; i++) {
        keep(pvalloc(900));
    }
}

static void *thread_body(void *arg)
{
    void **slot = arg;
    for (int i = 0; i < 100; i++) {
        slot[i] = malloc(77);
    }
    return NULL;
}

static void *thread_blocks[8][100];

/* Eight threads at once, 100 blocks of 77 bytes each. */
static void do_threads(void)
{
    pthread_t tid[8];
    for (int t = 0; t < 8; t++) {
        pthread_create(&tid[t], NULL, thread_body, thread_blocks[t]);
    }
    for (int t = 0; t < 8; t++) {
        pthread_join(tid[t], NULL);
    }
}

/* The forked child's own checks; its exit code names the first that failed (0: none). */
static int child_checks(void)
{
    for (int i = 0; i < 50; i++) {
        void *p = malloc(4242);
        if (!p) {
            return 2;
        }
        memset(p, 1, 4242);
    }
    /* With the agent loaded, a forked child is not tracked: the in-process API says so. */
    int (*snap)(int, unsigned) =
        (int (*)(int, unsigned))dlsym(RTLD_DEFAULT, "leakcheck_agent_snapshot");
    if (snap && snap(-1, 0) != -ENOSYS) {
        return 3;
    }
    /* Nor does it keep the parent's channel, the only socket this program is given. */
    for (int fd = 3; fd < 1024; fd++) {
        struct stat sb;
        if (fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
            return 4;
        }
    }
    return 0;
}

/* The child allocates, checks itself and exits; the parent waits for it, then keeps 3 blocks
 * of 515. Answers "ok" only when the child exited normally with status 0. */
static const char *do_fork(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        return "fail: fork failed";
    }
    if (pid == 0) {
        _exit(child_checks());
    }
    int status = 0;
    pid_t waited = waitpid(pid, &status, 0);
    for (int i = 0; i < 3; i++) {
        keep(malloc(515));
    }
    if (waited != pid || !WIFEXITED(status)) {
        return "fail: the forked child did not exit normally";
    }
    switch (WEXITSTATUS(status)) {
    case 0:
        return "ok";
    case 2:
        return "fail: malloc failed in the forked child";
    case 3:
        return "fail: the agent still tracks in the forked child";
    case 4:
        return "fail: the forked child holds the channel socket";
    default:
        return "fail: the forked child exited with an unexpected status";
    }
}

static void do_dlopen(void)
{
    void *h = dlopen(getenv("AGENT_DL_LIB"), RTLD_NOW);
    if (!h) {
        return;
    }
    void (*fn)(void) = (void (*)(void))dlsym(h, "dl_lib_alloc");
    if (fn) {
        fn(); /* 9 blocks of 321, kept inside the library */
    }
}

/* Frees a block the agent never saw, realloc(p, 0), free(NULL), a huge malloc that fails. */
static const char *do_edges(void)
{
    void *foreign = __libc_malloc(64);
    free(foreign);
    free(NULL);
    void *p = malloc(32);
    void *q = realloc(p, 0); /* glibc frees p and returns NULL */
    free(q);
    void *r = realloc(NULL, 16);
    free(r);
    volatile size_t huge_size = SIZE_MAX - 4096; /* volatile: keep the compiler from judging */
    volatile size_t half = SIZE_MAX / 2;
    errno = 0;
    void *huge = malloc(huge_size);
    if (huge || errno != ENOMEM) {
        return "fail: huge malloc did not fail with ENOMEM";
    }
    errno = 0;
    void *huge2 = calloc(half, 4);
    if (huge2 || errno != ENOMEM) {
        return "fail: overflowing calloc did not fail with ENOMEM";
    }
    errno = 1234;
    void *ok = malloc(8);
    int after = errno;
    free(ok);
    if (after != 1234) {
        return "fail: errno changed by a successful malloc";
    }
    return "ok";
}

static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
    (void)sig;
    void *p = malloc(99);
    free(p);
    handled++;
}

/* A signal handler that allocates, raised while the program allocates too. */
static void do_signals(void)
{
    signal(SIGUSR1, on_alarm);
    for (int i = 0; i < 2000; i++) {
        void *p = malloc(40);
        if (i % 10 == 0) {
            raise(SIGUSR1);
        }
        free(p);
    }
}

static void release_all(void)
{
    for (int i = 0; i < n_kept; i++) {
        free(kept[i]);
    }
    n_kept = 0;
    for (int t = 0; t < 8; t++) {
        for (int i = 0; i < 100; i++) {
            free(thread_blocks[t][i]);
            thread_blocks[t][i] = NULL;
        }
    }
}

int main(void)
{
    char line[256];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        const char *reply = "ok";
        if (strcmp(line, "malloc") == 0) {
            do_malloc();
        } else if (strcmp(line, "calloc") == 0) {
            do_calloc();
        } else if (strcmp(line, "realloc") == 0) {
            do_realloc();
        } else if (strcmp(line, "reallocarray") == 0) {
            do_reallocarray();
        } else if (strcmp(line, "posix_memalign") == 0) {
            do_posix_memalign();
        } else if (strcmp(line, "aligned_alloc") == 0) {
            do_aligned_alloc();
        } else if (strcmp(line, "memalign") == 0) {
            do_memalign();
        } else if (strcmp(line, "valloc") == 0) {
            do_valloc();
        } else if (strcmp(line, "pvalloc") == 0) {
            do_pvalloc();
        } else if (strcmp(line, "threads") == 0) {
            do_threads();
        } else if (strcmp(line, "fork") == 0) {
            reply = do_fork();
        } else if (strcmp(line, "dlopen") == 0) {
            do_dlopen();
        } else if (strcmp(line, "edges") == 0) {
            reply = do_edges();
        } else if (strcmp(line, "signals") == 0) {
            do_signals();
            reply = handled == 200 ? "ok" : "fail: signal handler did not run 200 times";
        } else if (strcmp(line, "release") == 0) {
            release_all();
        } else {
            reply = "fail: unknown request";
        }
        printf("%s\n", reply);
    }
    release_all();
    return 0;
}
