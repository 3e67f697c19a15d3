/* SPDX-License-Identifier: MIT */
/* tree_daemon.c - a stdio target that leaves a process tree behind, for the harness's hold on
 * its descendants.
 *
 * At start it detaches a daemon the way daemons do (fork, setsid, fork again, the middle process
 * exits, every descriptor closed, SIGTERM ignored) and forks two workers that stay its children
 * and sleep. Then it answers each stdin line with "ok", keeping one 64-byte block per request
 * with --leak (freeing it without). It never stops its children: when it ends, they are left
 * behind (the workers orphaned, the daemon long detached), which only a harness that owns the
 * whole tree cleans up.
 *
 * Usage: tree_daemon [--leak] [--pids FILE] [--slow-start MS] [--slow-request MS] [--blocks N]
 *   --pids FILE         write the daemon's and the workers' pids there, one a line
 *   --slow-start MS     wait that long before the "ready" line (a signal during start-up)
 *   --slow-request MS   wait that long before each reply (a signal mid-round)
 *   --blocks N          keep N small blocks from start-up on, so each snapshot takes a while
 *                       (a signal mid-snapshot)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Sleeps `ms` milliseconds. */
static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Appends "PID\n" to `path` (when not NULL). */
static void note_pid(const char *path, pid_t pid)
{
    if (!path) {
        return;
    }
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
    }
}

/* Detaches a daemon that ignores SIGTERM and sleeps for ever; its pid goes to `pids`. */
static void detach_daemon(const char *pids)
{
    int p[2];
    if (pipe(p) != 0) {
        exit(1);
    }
    pid_t mid = fork();
    if (mid == 0) {
        setsid();
        pid_t d = fork();
        if (d == 0) {
            signal(SIGTERM, SIG_IGN);
            pid_t self = getpid();
            note_pid(pids, self);
            (void)!write(p[1], &self, sizeof(self));
            for (int fd = 0; fd < 1024; fd++) {
                close(fd);
            }
            for (;;) {
                pause();
            }
        }
        _exit(0);
    }
    pid_t d = 0;
    (void)!read(p[0], &d, sizeof(d)); /* the daemon exists before the target says ready */
    close(p[0]);
    close(p[1]);
    waitpid(mid, NULL, 0);
}

/* Forks a worker that sleeps until a signal ends it; its pid goes to `pids`. */
static void fork_worker(const char *pids)
{
    fflush(NULL);
    pid_t w = fork();
    if (w == 0) {
        for (;;) {
            pause();
        }
    }
    note_pid(pids, w);
}

int main(int argc, char **argv)
{
    int leak = 0;
    const char *pids = NULL;
    long slow_start = 0;
    long slow_request = 0;
    long blocks = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--leak") == 0) {
            leak = 1;
        } else if (strcmp(argv[i], "--pids") == 0 && i + 1 < argc) {
            pids = argv[++i];
        } else if (strcmp(argv[i], "--slow-start") == 0 && i + 1 < argc) {
            slow_start = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--slow-request") == 0 && i + 1 < argc) {
            slow_request = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--blocks") == 0 && i + 1 < argc) {
            blocks = strtol(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: tree_daemon [--leak] [--pids FILE] [--slow-start MS] "
                            "[--slow-request MS] [--blocks N]\n");
            return 2;
        }
    }
    detach_daemon(pids);
    fork_worker(pids);
    fork_worker(pids);
    void **ballast = blocks > 0 ? calloc((size_t)blocks, sizeof(*ballast)) : NULL;
    for (long b = 0; ballast && b < blocks; b++) {
        ballast[b] = malloc(16);
    }
    sleep_ms(slow_start);
    printf("ready\n");
    fflush(stdout);
    char line[4096];
    void **kept = NULL;
    size_t n_kept = 0;
    while (fgets(line, sizeof(line), stdin)) {
        char *block = malloc(64);
        if (!block) {
            return 1;
        }
        memcpy(block, line, 63);
        block[63] = '\0';
        if (leak) {
            void **more = realloc(kept, (n_kept + 1) * sizeof(*kept));
            if (!more) {
                return 1;
            }
            kept = more;
            kept[n_kept++] = block;
        } else {
            free(block);
        }
        sleep_ms(slow_request);
        printf("ok\n");
        fflush(stdout);
    }
    return 0;
}
