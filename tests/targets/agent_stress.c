/* SPDX-License-Identifier: MIT */
/* agent_stress.c - a stdio target that works the agent hard, for tests/it_agent_stress.c.
 *
 * Requests (one reply line each):
 *   stress      16 threads x 200000 mixed calls (malloc, calloc, realloc, posix_memalign,
 *               aligned_alloc, free); each thread keeps exactly 100 blocks of 1111 bytes at the
 *               end; replies "ok BLOCKS BYTES" with what the program itself holds
 *   forkstorm   4 threads allocating while the main thread forks 200 children that allocate
 *               and exit; replies "ok CHILDREN" (children that exited 0)
 *   cancel      8 threads allocating in a loop, cancelled with pthread_cancel; replies "ok"
 *   longjmp     longjmp out of nested frames that allocated, and out of a signal handler
 *               raised outside the allocator; replies "ok"
 *   dlopen      dlopen a library (env AGENT_DL_LIB) that keeps 9 blocks of 321 bytes
 *   dlclose     dlclose it again, its blocks still live; replies "ok"
 *   free        frees what stress kept; replies "ok"
 */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS   16
#define OPS       200000
#define KEEP      100
#define KEEP_SIZE 1111

static void *kept[THREADS][KEEP];

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One thread of the storm: a working set of 64 slots churned with every allocator call. */
static void *stress_worker(void *arg)
{
    long t = (long)arg;
    uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
    void *slots[64] = {NULL};
    for (int i = 0; i < OPS; i++) {
        uint64_t r = next_rand(&seed);
        int k = (int)(r % 64);
        size_t size = 1 + (size_t)((r >> 8) % 2048);
        switch ((r >> 24) % 6) {
        case 0:
            free(slots[k]);
            slots[k] = malloc(size);
            break;
        case 1:
            free(slots[k]);
            slots[k] = calloc(1, size);
            break;
        case 2: {
            void *p = realloc(slots[k], size);
            if (p) {
                slots[k] = p;
            }
            break;
        }
        case 3: {
            void *p = NULL;
            free(slots[k]);
            slots[k] = posix_memalign(&p, 64, size) == 0 ? p : NULL;
            break;
        }
        case 4:
            free(slots[k]);
            slots[k] = aligned_alloc(32, (size + 31) & ~(size_t)31);
            break;
        default:
            free(slots[k]);
            slots[k] = NULL;
            break;
        }
    }
    for (int k = 0; k < 64; k++) {
        free(slots[k]);
    }
    for (int k = 0; k < KEEP; k++) {
        kept[t][k] = malloc(KEEP_SIZE);
    }
    return NULL;
}

static void do_stress(char *reply, size_t len)
{
    pthread_t tid[THREADS];
    for (long t = 0; t < THREADS; t++) {
        pthread_create(&tid[t], NULL, stress_worker, (void *)t);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(tid[t], NULL);
    }
    unsigned long blocks = 0;
    for (int t = 0; t < THREADS; t++) {
        for (int k = 0; k < KEEP; k++) {
            blocks += kept[t][k] != NULL;
        }
    }
    snprintf(reply, len, "ok %lu %lu", blocks, blocks * KEEP_SIZE);
}

static atomic_bool storm_on;

static void *background_allocator(void *arg)
{
    (void)arg;
    while (atomic_load(&storm_on)) {
        void *p = malloc(100);
        void *q = calloc(3, 33);
        free(p);
        free(q);
    }
    return NULL;
}

static void do_forkstorm(char *reply, size_t len)
{
    pthread_t tid[4];
    atomic_store(&storm_on, true);
    for (int t = 0; t < 4; t++) {
        pthread_create(&tid[t], NULL, background_allocator, NULL);
    }
    int ok = 0;
    for (int i = 0; i < 200; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            void *p = malloc(64);
            free(p);
            _exit(0);
        }
        int status;
        if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0) {
            ok++;
        }
    }
    atomic_store(&storm_on, false);
    for (int t = 0; t < 4; t++) {
        pthread_join(tid[t], NULL);
    }
    snprintf(reply, len, "ok %d", ok);
}

static void *cancellable(void *arg)
{
    (void)arg;
    for (;;) {
        void *p = malloc(48);
        usleep(100); /* a cancellation point */
        free(p);
    }
    return NULL;
}

static void do_cancel(void)
{
    pthread_t tid[8];
    for (int t = 0; t < 8; t++) {
        pthread_create(&tid[t], NULL, cancellable, NULL);
    }
    usleep(20000);
    for (int t = 0; t < 8; t++) {
        pthread_cancel(tid[t]);
        pthread_join(tid[t], NULL);
    }
}

static jmp_buf jump;
static sigjmp_buf sigjump;

static void nested(volatile int *depth)
{
    void *p = malloc(16);
    free(p);
    if (--*depth > 0) {
        void (*volatile deeper)(volatile int *) = nested; /* an opaque call: frames pile up */
        deeper(depth);
    }
    longjmp(jump, 1);
}

static void on_usr2(int sig)
{
    (void)sig;
    siglongjmp(sigjump, 1);
}

static void do_longjmp(void)
{
    for (int i = 0; i < 1000; i++) {
        volatile int depth = 8;
        if (setjmp(jump) == 0) {
            nested(&depth);
        }
    }
    signal(SIGUSR2, on_usr2);
    for (int i = 0; i < 100; i++) {
        if (sigsetjmp(sigjump, 1) == 0) {
            void *p = malloc(24);
            free(p);
            raise(SIGUSR2);
        }
    }
}

static void *dl_handle;

int main(void)
{
    char line[256];
    char reply[256];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        snprintf(reply, sizeof(reply), "ok");
        if (strcmp(line, "stress") == 0) {
            do_stress(reply, sizeof(reply));
        } else if (strcmp(line, "forkstorm") == 0) {
            do_forkstorm(reply, sizeof(reply));
        } else if (strcmp(line, "cancel") == 0) {
            do_cancel();
        } else if (strcmp(line, "longjmp") == 0) {
            do_longjmp();
        } else if (strcmp(line, "dlopen") == 0) {
            dl_handle = dlopen(getenv("AGENT_DL_LIB"), RTLD_NOW);
            void (*fn)(void) = dl_handle ? (void (*)(void))dlsym(dl_handle, "dl_lib_alloc") : NULL;
            if (fn) {
                fn();
            } else {
                snprintf(reply, sizeof(reply), "fail: %.200s", dlerror());
            }
        } else if (strcmp(line, "dlclose") == 0) {
            if (!dl_handle || dlclose(dl_handle) != 0) {
                snprintf(reply, sizeof(reply), "fail: dlclose");
            }
            dl_handle = NULL;
        } else if (strcmp(line, "free") == 0) {
            for (int t = 0; t < THREADS; t++) {
                for (int k = 0; k < KEEP; k++) {
                    free(kept[t][k]);
                    kept[t][k] = NULL;
                }
            }
        } else {
            snprintf(reply, sizeof(reply), "fail: unknown request '%.200s'", line);
        }
        printf("%s\n", reply);
    }
    return 0;
}
