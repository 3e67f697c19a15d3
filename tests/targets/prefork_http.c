/* SPDX-License-Identifier: MIT */
/* prefork_http.c - a prefork HTTP server that leaves its workers behind when it is stopped.
 *
 * The master listens on 127.0.0.1:PORT, forks WORKERS workers that accept on the shared socket
 * and answer every request "200 ok" (keeping 1 KiB per request with --leak), and waits. On
 * SIGTERM the master exits at once without stopping its workers: they keep running, orphaned,
 * holding the port, which only a harness that owns the whole tree cleans up. --config FILE
 * reads "port N" and "workers N" lines from a file instead of the command line (a server
 * configured by a file leakcheck renders).
 *
 * Usage: prefork_http [--leak] [--pids FILE] (--port N [--workers N] | --config FILE)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Reads "port N" and "workers N" from `path`. Exits with a message on a bad file. */
static void read_config(const char *path, long *port, long *workers)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    char key[64];
    long v;
    while (fscanf(f, "%63s %ld", key, &v) == 2) {
        if (strcmp(key, "port") == 0) {
            *port = v;
        } else if (strcmp(key, "workers") == 0) {
            *workers = v;
        } else {
            fprintf(stderr, "%s: unknown key '%s'\n", path, key);
            exit(2);
        }
    }
    fclose(f);
}

/* Answers requests on `lfd` for ever: read up to the blank line, reply, close. */
static void serve(int lfd, int leak)
{
    char buf[8192];
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        size_t n = 0;
        while (n < sizeof(buf) - 1) {
            ssize_t r = read(c, buf + n, sizeof(buf) - 1 - n);
            if (r <= 0) {
                break;
            }
            n += (size_t)r;
            buf[n] = '\0';
            if (strstr(buf, "\r\n\r\n")) {
                break;
            }
        }
        char *per_request = malloc(1024);
        if (per_request) {
            memset(per_request, 'r', 1024);
        }
        if (!leak) {
            free(per_request);
        }
        static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: "
                                    "close\r\n\r\nok";
        (void)!write(c, reply, sizeof(reply) - 1);
        close(c);
    }
}

int main(int argc, char **argv)
{
    int leak = 0;
    long port = 0;
    long workers = 2;
    const char *pids = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--leak") == 0) {
            leak = 1;
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            workers = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            read_config(argv[++i], &port, &workers);
        } else if (strcmp(argv[i], "--pids") == 0 && i + 1 < argc) {
            pids = argv[++i];
        } else {
            fprintf(stderr, "usage: prefork_http [--leak] [--pids FILE] (--port N [--workers N] "
                            "| --config FILE)\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || workers < 1 || workers > 16) {
        fprintf(stderr, "prefork_http: need a port (1-65535) and 1-16 workers\n");
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 64) != 0) {
        perror("prefork_http: listen");
        return 1;
    }
    for (long w = 0; w < workers; w++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            serve(lfd, leak);
        }
        note_pid(pids, pid);
    }
    fprintf(stderr, "prefork_http: listening on 127.0.0.1:%ld with %ld workers\n", port, workers);
    for (;;) {
        pause(); /* SIGTERM ends the master alone: the workers are left behind */
    }
}
