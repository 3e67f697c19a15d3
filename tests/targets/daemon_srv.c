/* SPDX-License-Identifier: MIT */
/* daemon_srv.c - leak case: an HTTP server that daemonizes as classic daemons do.
 *
 * The program forks and exits; the child calls setsid() and forks again; the grandchild closes
 * every descriptor it did not open (a close() loop, then close_range), puts /dev/null over
 * stdin, stdout and stderr with a storm of dup2 calls over many numbers, changes to /, and
 * serves HTTP on 127.0.0.1:PORT until SIGTERM. With --leak it keeps a 512-byte record of each
 * client it served in a list nothing prunes (remember_client); with --fixed the record is freed
 * after the answer. Usage: daemon_srv --port PORT --leak|--fixed
 */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tiny_http.h"

struct client {
    struct client *next;
    char line[512 - sizeof(struct client *)];
};

static struct client *clients;
static bool leak;

/* Keeps a record of the client's request (the leak: the list is never pruned). */
static struct client *remember_client(const char *line)
{
    struct client *c = malloc(sizeof(*c));
    if (!c) {
        return NULL;
    }
    snprintf(c->line, sizeof(c->line), "%s", line);
    c->next = clients;
    clients = c;
    return c;
}

/* Detaches as daemon(3) would, and more: closes every inherited descriptor by every means. */
static void daemonize(void)
{
    if (fork() != 0) {
        _exit(0);
    }
    setsid();
    if (fork() != 0) {
        _exit(0);
    }
    for (int fd = 3; fd < 1024; fd++) {
        close(fd);
    }
    close_range(3, ~0U, 0);
    int nul = open("/dev/null", O_RDWR);
    for (int round = 0; round < 4; round++) {
        for (int fd = 3; fd < 600; fd += 7) {
            if (fd != nul) {
                dup2(nul, fd);
            }
        }
        for (int fd = 3; fd < 600; fd += 7) {
            if (fd != nul) {
                close(fd);
            }
        }
    }
    dup2(nul, 0);
    dup2(nul, 1);
    dup2(nul, 2);
    if (nul > 2) {
        close(nul);
    }
    if (chdir("/") != 0) {
        _exit(1);
    }
    umask(0);
}

/* One request: its record kept for good (--leak) or freed once answered (--fixed). */
static void on_request(const char *line)
{
    struct client *c = remember_client(line);
    if (!leak && c) {
        clients = c->next;
        free(c);
    }
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--leak") == 0) {
            leak = true;
        } else if (strcmp(argv[i], "--fixed") != 0) {
            fprintf(stderr, "usage: daemon_srv --port PORT --leak|--fixed\n");
            return 2;
        }
    }
    if (port <= 0) {
        fprintf(stderr, "daemon_srv: --port needed\n");
        return 2;
    }
    daemonize();
    int ls = tiny_listen(port);
    if (ls < 0) {
        return 1;
    }
    tiny_serve(ls, on_request);
    return 0;
}
