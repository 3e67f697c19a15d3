/* SPDX-License-Identifier: MIT */
/* tiny_http.h - the HTTP serving the forking test servers share (prefork_srv.c, daemon_srv.c):
 * listen on 127.0.0.1:PORT, answer every request 200 "ok" with the connection closed, and hand
 * each request line but /healthz's to the server's own function. Header-only: each test program
 * is one file. */
#ifndef TESTS_TARGETS_TINY_HTTP_H
#define TESTS_TARGETS_TINY_HTTP_H

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listening socket on 127.0.0.1:port, or -1. */
static int tiny_listen(int port)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 128) < 0) {
        return -1;
    }
    return ls;
}

/* Answers one connection: reads the request head, passes its first line to on_request (not for
 * /healthz), replies 200. */
static void tiny_answer(int fd, void (*on_request)(const char *line))
{
    char buf[8192];
    size_t len = 0;
    buf[0] = '\0';
    while (len + 1 < sizeof(buf) && !strstr(buf, "\r\n\r\n")) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        len += (size_t)n;
        buf[len] = '\0';
    }
    char *eol = strstr(buf, "\r\n");
    if (eol) {
        *eol = '\0';
        if (!strstr(buf, " /healthz ")) {
            on_request(buf);
        }
    }
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
                                "\r\nok";
    ssize_t w = write(fd, reply, sizeof(reply) - 1);
    (void)w;
}

/* Serves connections on `ls` one at a time, forever (exits 1 when accept fails). */
static void tiny_serve(int ls, void (*on_request)(const char *line))
{
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) {
                continue;
            }
            _exit(1);
        }
        tiny_answer(fd, on_request);
        close(fd);
    }
}

#endif
