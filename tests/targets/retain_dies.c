/* SPDX-License-Identifier: MIT */
/* retain_dies.c - a process killed while the retainer scan has it stopped.
 *
 * At start-up it builds MB megabytes of live blocks (so a scan takes a while) and forks a
 * watcher: the watcher polls its parent's TracerPid (/proc/PPID/status) and, the moment a tracer
 * (the scan) has stopped its parent, kills the parent with SIGKILL, then lives on for a few
 * seconds (it is scanned in turn). The parent serves stdio: "put KEY" keeps a copy of the key,
 * answers "ok KEY". Usage: retain_dies MB
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct node {
    struct node *next;
    char payload[88];
};

static struct node *g_nodes;

/* The TracerPid of process `pid`, or -1 when it is gone. */
static long tracer_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        return -1;
    }
    char line[256];
    long tracer = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "TracerPid:", 10) == 0) {
            tracer = atol(line + 10);
        }
    }
    fclose(f);
    return tracer;
}

/* The watcher's life: kill the parent once it is traced, linger, exit. */
static void watch(pid_t parent)
{
    struct timespec nap = {0, 100000};
    for (;;) {
        long t = tracer_of(parent);
        if (t < 0 || getppid() != parent) {
            break;
        }
        if (t > 0) {
            /* a moment later: the scan is reading the parent's memory by then */
            struct timespec later = {0, 20 * 1000 * 1000};
            nanosleep(&later, NULL);
            kill(parent, SIGKILL);
            break;
        }
        nanosleep(&nap, NULL);
    }
    sleep(3);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 2 || atol(argv[1]) <= 0) {
        fprintf(stderr, "usage: retain_dies MB\n");
        return 2;
    }
    size_t n = (size_t)atol(argv[1]) * 1024 * 1024 / sizeof(struct node);
    for (size_t i = 0; i < n; i++) {
        struct node *x = malloc(sizeof(*x));
        if (!x) {
            return 1;
        }
        x->next = g_nodes;
        g_nodes = x;
    }
    pid_t self = getpid();
    pid_t w = fork();
    if (w == 0) {
        watch(self);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *key = strncmp(line, "put ", 4) == 0 ? line + 4 : line;
        struct node *x = malloc(sizeof(*x));
        if (x) {
            snprintf(x->payload, sizeof(x->payload), "%.80s", key);
            x->next = g_nodes;
            g_nodes = x;
        }
        printf("ok %s\n", key);
    }
    return 0;
}
