/* SPDX-License-Identifier: MIT */
/* prefork_srv.c - leak case: a prefork HTTP server whose workers keep every request.
 *
 * The master binds 127.0.0.1:PORT, forks WORKERS workers that accept on the shared socket, and
 * waits; SIGTERM to the master stops the workers. Each worker answers every request with 200.
 * With --leak a worker keeps a 1 KiB record of every request it served in a list nothing
 * prunes (remember_request); with --fixed the record is freed once the request is answered.
 * The master itself does no work per request, so only measuring the workers finds the leak.
 * Usage: prefork_srv --port PORT [--workers N] --leak|--fixed
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tiny_http.h"

#define RECORD_BYTES 1024
#define MAX_WORKERS  16

struct record {
    struct record *next;
    char line[RECORD_BYTES - sizeof(struct record *)];
};

static struct record *kept;
static bool leak;
static pid_t workers[MAX_WORKERS];
static int n_workers = 2;

/* Keeps a record of the request line (the leak: nothing ever prunes the list). */
static struct record *remember_request(const char *line)
{
    struct record *r = malloc(sizeof(*r));
    if (!r) {
        return NULL;
    }
    snprintf(r->line, sizeof(r->line), "%s", line);
    r->next = kept;
    kept = r;
    return r;
}

/* One request: its record kept for good (--leak) or freed once answered (--fixed). */
static void on_request(const char *line)
{
    struct record *r = remember_request(line);
    if (!leak && r) {
        kept = r->next;
        free(r);
    }
}

static void worker(int ls)
{
    signal(SIGTERM, SIG_DFL);
    tiny_serve(ls, on_request);
}

static void stop(int sig)
{
    (void)sig;
    for (int i = 0; i < n_workers; i++) {
        if (workers[i] > 0) {
            kill(workers[i], SIGTERM);
        }
    }
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            n_workers = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--leak") == 0) {
            leak = true;
        } else if (strcmp(argv[i], "--fixed") != 0) {
            fprintf(stderr, "usage: prefork_srv --port PORT [--workers N] --leak|--fixed\n");
            return 2;
        }
    }
    if (port <= 0 || n_workers < 1 || n_workers > MAX_WORKERS) {
        fprintf(stderr, "prefork_srv: --port and 1..%d workers needed\n", MAX_WORKERS);
        return 2;
    }
    int ls = tiny_listen(port);
    if (ls < 0) {
        perror("prefork_srv: bind");
        return 1;
    }
    for (int i = 0; i < n_workers; i++) {
        workers[i] = fork();
        if (workers[i] == 0) {
            worker(ls);
        }
    }
    signal(SIGTERM, stop);
    int alive = n_workers;
    while (alive > 0) {
        if (wait(NULL) > 0) {
            alive--;
        } else if (errno != EINTR) {
            break;
        }
    }
    return 0;
}
