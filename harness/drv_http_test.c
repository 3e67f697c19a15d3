/* SPDX-License-Identifier: MIT */
/* drv_http_test.c - unit tests of the http driver against a tiny HTTP server in this process.
 *
 * The server is a thread per connection on 127.0.0.1 (port chosen by the kernel). It speaks just
 * enough HTTP/1.1 for curl: reads a request line, headers and a Content-Length body, records what
 * it saw, answers by path, and keeps the connection open for the next request:
 *   /status/NNN  answers NNN with the body "status NNN"
 *   /hang        reads the request and never answers (until the client goes away)
 *   anything else answers 200 with the number of body bytes received
 */
#include "drv_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define SRV_MAX_REQ  64
#define SRV_MAX_CONN 16
#define SRV_BUF      (1u << 20)

/* What the server saw of one request. */
struct srv_req {
    char method[16];
    char path[128];
    char x_round[64]; /* value of the X-Round header, if any */
    char content_type[128];
    size_t body_len;     /* bytes of body received */
    size_t part_len;     /* multipart: bytes of the first part's content, or 0 */
    char part_head[256]; /* multipart: the first part's header lines */
};

struct srv {
    int listen_fd;
    uint16_t port;
    pthread_t acceptor;
    pthread_t conns[SRV_MAX_CONN];
    int conn_fds[SRV_MAX_CONN];
    unsigned n_conns;
    pthread_mutex_t lock;
    struct srv_req reqs[SRV_MAX_REQ];
    unsigned n_reqs;
    int stop_pipe[2];
};

struct conn_arg {
    struct srv *srv;
    int fd;
};

/* Reads one byte-exact request from `fd` into buf (header block and body). Returns the total
 * length, 0 at end of stream, -1 on error; *head_len gets the length of the header block. */
static ssize_t srv_read_request(int fd, char *buf, size_t cap, size_t *head_len, size_t *body_len)
{
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        if (len + 1 >= cap) {
            return -1;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0) {
            return n == 0 && len == 0 ? 0 : -1;
        }
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    *head_len = (size_t)(end - buf) + 4;
    size_t want = 0;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl && cl < end) {
        want = strtoul(cl + 17, NULL, 10);
    }
    while (len < *head_len + want) {
        if (len + 1 >= cap) {
            return -1;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0) {
            return -1;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    *body_len = want;
    return (ssize_t)len;
}

/* Copies the value of header `name` from the header block into out. */
static void srv_header(const char *head, const char *name, char *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof(key), "\r\n%s:", name);
    const char *p = strcasestr(head, key);
    out[0] = '\0';
    if (!p) {
        return;
    }
    p += strlen(key);
    while (*p == ' ') {
        p++;
    }
    size_t n = strcspn(p, "\r\n");
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Finds the first multipart part: its header lines and content length. */
static void srv_multipart(struct srv_req *r, const char *body, size_t body_len)
{
    const char *b = strstr(r->content_type, "boundary=");
    if (!b) {
        return;
    }
    char delim[128];
    snprintf(delim, sizeof(delim), "\r\n--%s", b + 9);
    const char *head = strstr(body, "\r\n\r\n");
    if (!head) {
        return;
    }
    size_t hl = (size_t)(head - body);
    if (hl >= sizeof(r->part_head)) {
        hl = sizeof(r->part_head) - 1;
    }
    memcpy(r->part_head, body, hl);
    r->part_head[hl] = '\0';
    const char *content = head + 4;
    const char *stop = memmem(content, body_len - (size_t)(content - body), delim, strlen(delim));
    if (stop) {
        r->part_len = (size_t)(stop - content);
    }
}

/* Serves one connection until the client closes it. */
static void *srv_conn(void *arg)
{
    struct conn_arg *ca = arg;
    struct srv *srv = ca->srv;
    int fd = ca->fd;
    char *buf = malloc(SRV_BUF);
    free(ca);
    for (;;) {
        size_t head_len = 0, body_len = 0;
        ssize_t n = srv_read_request(fd, buf, SRV_BUF, &head_len, &body_len);
        if (n <= 0) {
            break;
        }
        struct srv_req r;
        memset(&r, 0, sizeof(r));
        sscanf(buf, "%15s %127s", r.method, r.path);
        srv_header(buf, "X-Round", r.x_round, sizeof(r.x_round));
        srv_header(buf, "Content-Type", r.content_type, sizeof(r.content_type));
        r.body_len = body_len;
        srv_multipart(&r, buf + head_len, body_len);
        pthread_mutex_lock(&srv->lock);
        if (srv->n_reqs < SRV_MAX_REQ) {
            srv->reqs[srv->n_reqs++] = r;
        }
        pthread_mutex_unlock(&srv->lock);

        if (strcmp(r.path, "/hang") == 0) {
            char c;
            while (read(fd, &c, 1) > 0) {
            }
            break;
        }
        int status = 200;
        char body[64];
        if (strncmp(r.path, "/status/", 8) == 0) {
            status = (int)strtol(r.path + 8, NULL, 10);
            snprintf(body, sizeof(body), "status %d\n", status);
        } else {
            snprintf(body, sizeof(body), "%zu\n", body_len);
        }
        char reply[256];
        int len = snprintf(reply, sizeof(reply),
                           "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nContent-Type: text/plain\r\n"
                           "\r\n%s",
                           status, strlen(body), body);
        if (write(fd, reply, (size_t)len) != len) {
            break;
        }
    }
    free(buf);
    return NULL;
}

/* Accepts connections until the stop pipe is written. */
static void *srv_accept(void *arg)
{
    struct srv *srv = arg;
    for (;;) {
        struct pollfd p[2] = {{srv->listen_fd, POLLIN, 0}, {srv->stop_pipe[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            continue;
        }
        if (p[1].revents) {
            break;
        }
        int fd = accept(srv->listen_fd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        pthread_mutex_lock(&srv->lock);
        if (srv->n_conns >= SRV_MAX_CONN) {
            pthread_mutex_unlock(&srv->lock);
            close(fd);
            continue;
        }
        struct conn_arg *ca = malloc(sizeof(*ca));
        ca->srv = srv;
        ca->fd = fd;
        srv->conn_fds[srv->n_conns] = fd;
        pthread_create(&srv->conns[srv->n_conns], NULL, srv_conn, ca);
        srv->n_conns++;
        pthread_mutex_unlock(&srv->lock);
    }
    return NULL;
}

/* Binds 127.0.0.1 on a kernel-chosen port; returns the socket, its port in *port. */
static int srv_bind(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t al = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int srv_setup(void **state)
{
    struct srv *srv = calloc(1, sizeof(*srv));
    assert_non_null(srv);
    pthread_mutex_init(&srv->lock, NULL);
    srv->listen_fd = srv_bind(&srv->port);
    assert_int_equal(listen(srv->listen_fd, 16), 0);
    assert_int_equal(pipe(srv->stop_pipe), 0);
    assert_int_equal(pthread_create(&srv->acceptor, NULL, srv_accept, srv), 0);
    *state = srv;
    return 0;
}

static int srv_teardown(void **state)
{
    struct srv *srv = *state;
    assert_int_equal(write(srv->stop_pipe[1], "x", 1), 1);
    pthread_join(srv->acceptor, NULL);
    for (unsigned k = 0; k < srv->n_conns; k++) {
        shutdown(srv->conn_fds[k], SHUT_RDWR);
        pthread_join(srv->conns[k], NULL);
        close(srv->conn_fds[k]);
    }
    close(srv->listen_fd);
    close(srv->stop_pipe[0]);
    close(srv->stop_pipe[1]);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
    return 0;
}

/* A driver configuration with the given URL template (copied); other fields zero. Free the
 * strings with cfg_cleanup(). */
static struct drv_http_cfg cfg_for(const char *url, const char *method, unsigned n, unsigned conc)
{
    struct drv_http_cfg c;
    memset(&c, 0, sizeof(c));
    c.url = url ? strdup(url) : NULL;
    c.method = strdup(method);
    c.requests_per_round = n;
    c.concurrency = conc;
    c.timeout_ms = 5000;
    return c;
}

static void cfg_cleanup(struct drv_http_cfg *c)
{
    free(c->url);
    free(c->method);
    free(c->multipart_field);
    free(c->multipart_filename);
    free(c->multipart_content_type);
    memset(c, 0, sizeof(*c));
}

/* Requests of the last run_round() the target answered. */
static uint32_t g_answered;

/* Runs one round of `drv`, keeping its count of answers in g_answered. */
static int run_round(struct drv *drv, const struct drv_target *t, uint32_t round, int timeout_ms,
                     struct diag *d)
{
    g_answered = 12345;
    return drv->ops->round(drv, t, round, timeout_ms, &g_answered, d);
}

static struct drv_target target_on(uint16_t port)
{
    struct drv_target t = {.stdin_fd = -1, .stdout_fd = -1, .port = port, .pid = 0};
    return t;
}

static void test_drv_http_get_expands_url_and_headers(void **state)
{
    struct srv *srv = *state;
    char hdr[] = "X-Round: r{round}-{i}";
    char *hdrs[] = {hdr};
    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/item/{round}/{i}", "GET", 3, 1);
    c.headers = hdrs;
    c.n_headers = 1;
    struct diag d = {{0}};
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    struct drv_target t = target_on(srv->port);
    assert_int_equal(run_round(drv, &t, 7, 10000, &d), 0);
    assert_int_equal(g_answered, 3);
    drv->ops->free(drv);
    cfg_cleanup(&c);

    assert_int_equal(srv->n_reqs, 3);
    for (unsigned k = 0; k < 3; k++) {
        char want[64];
        assert_string_equal(srv->reqs[k].method, "GET");
        snprintf(want, sizeof(want), "/item/7/%u", k);
        assert_string_equal(srv->reqs[k].path, want);
        snprintf(want, sizeof(want), "r7-%u", k);
        assert_string_equal(srv->reqs[k].x_round, want);
        assert_int_equal(srv->reqs[k].body_len, 0);
    }
}

static void test_drv_http_reuses_one_connection(void **state)
{
    struct srv *srv = *state;
    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/x", "GET", 5, 1);
    struct diag d = {{0}};
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    struct drv_target t = target_on(srv->port);
    for (uint32_t round = 1; round <= 3; round++) {
        assert_int_equal(run_round(drv, &t, round, 10000, &d), 0);
    }
    drv->ops->free(drv);
    cfg_cleanup(&c);
    assert_int_equal(srv->n_reqs, 15);
    assert_int_equal(srv->n_conns, 1);
}

static void test_drv_http_concurrency_opens_parallel_connections(void **state)
{
    struct srv *srv = *state;
    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/x", "GET", 12, 3);
    struct diag d = {{0}};
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    struct drv_target t = target_on(srv->port);
    assert_int_equal(run_round(drv, &t, 1, 10000, &d), 0);
    assert_int_equal(run_round(drv, &t, 2, 10000, &d), 0);
    drv->ops->free(drv);
    cfg_cleanup(&c);
    assert_int_equal(srv->n_reqs, 24);
    /* never more connections than slots, and kept across rounds */
    assert_true(srv->n_conns >= 1 && srv->n_conns <= 3);
}

static void test_drv_http_post_body_of_given_size(void **state)
{
    struct srv *srv = *state;
    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/put", "PUT", 2, 2);
    c.body_bytes = 100000;
    struct diag d = {{0}};
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    struct drv_target t = target_on(srv->port);
    assert_int_equal(run_round(drv, &t, 1, 10000, &d), 0);
    drv->ops->free(drv);
    cfg_cleanup(&c);
    assert_int_equal(srv->n_reqs, 2);
    for (unsigned k = 0; k < 2; k++) {
        assert_string_equal(srv->reqs[k].method, "PUT");
        assert_int_equal(srv->reqs[k].body_len, 100000);
    }
}

static void test_drv_http_multipart_upload(void **state)
{
    struct srv *srv = *state;
    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/upload", "POST", 2, 1);
    c.multipart_bytes = 65537;
    c.multipart_field = strdup("doc");
    c.multipart_filename = strdup("r{round}.csv");
    c.multipart_content_type = strdup("text/csv");
    struct diag d = {{0}};
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    struct drv_target t = target_on(srv->port);
    assert_int_equal(run_round(drv, &t, 4, 10000, &d), 0);
    drv->ops->free(drv);
    cfg_cleanup(&c);
    assert_int_equal(srv->n_reqs, 2);
    struct srv_req *r = &srv->reqs[0];
    assert_string_equal(r->method, "POST");
    assert_non_null(strstr(r->content_type, "multipart/form-data"));
    assert_int_equal(r->part_len, 65537);
    assert_non_null(strstr(r->part_head, "name=\"doc\""));
    assert_non_null(strstr(r->part_head, "filename=\"r4.csv\""));
    assert_non_null(strstr(r->part_head, "Content-Type: text/csv"));
    assert_true(r->body_len > 65537);
}

static void test_drv_http_error_names_request_and_status(void **state)
{
    struct srv *srv = *state;
    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/status/500", "POST", 4, 1);
    c.body_bytes = 10;
    struct diag d = {{0}};
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    struct drv_target t = target_on(srv->port);
    int err = run_round(drv, &t, 5, 10000, &d);
    assert_int_equal(g_answered, 1); /* a reply, even a 500, is an answer */
    drv->ops->free(drv);
    cfg_cleanup(&c);
    assert_int_equal(err, -EPROTO);
    char want[160];
    snprintf(want, sizeof(want),
             "request 1 of round 5: POST http://127.0.0.1:%u/status/500 answered 500 (status 500)",
             srv->port);
    assert_string_equal(d.msg, want);
    /* the round stops at the first failure */
    assert_int_equal(srv->n_reqs, 1);
}

static void test_drv_http_expect_status(void **state)
{
    struct srv *srv = *state;
    struct diag d = {{0}};
    struct drv_target t = target_on(srv->port);

    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/status/201", "GET", 2, 1);
    c.expect_status = 201;
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    assert_int_equal(run_round(drv, &t, 1, 10000, &d), 0);
    drv->ops->free(drv);
    cfg_cleanup(&c);

    c = cfg_for("http://127.0.0.1:{port}/ok", "GET", 1, 1);
    c.expect_status = 201;
    drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    assert_int_equal(run_round(drv, &t, 2, 10000, &d), -EPROTO);
    assert_non_null(strstr(d.msg, "answered 200, expected 201"));
    drv->ops->free(drv);
    cfg_cleanup(&c);

    /* by default a 404 is an error */
    c = cfg_for("http://127.0.0.1:{port}/status/404", "GET", 1, 1);
    drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    assert_int_equal(run_round(drv, &t, 3, 10000, &d), -EPROTO);
    assert_non_null(strstr(d.msg, "answered 404"));
    drv->ops->free(drv);
    cfg_cleanup(&c);
}

static void test_drv_http_request_timeout(void **state)
{
    struct srv *srv = *state;
    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/hang", "GET", 1, 1);
    c.timeout_ms = 150;
    struct diag d = {{0}};
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    struct drv_target t = target_on(srv->port);
    assert_int_equal(run_round(drv, &t, 2, 10000, &d), -ETIMEDOUT);
    assert_non_null(strstr(d.msg, "request 1 of round 2: GET"));
    assert_non_null(strstr(d.msg, "no reply within 150 ms"));
    drv->ops->free(drv);
    cfg_cleanup(&c);
}

static void test_drv_http_round_timeout(void **state)
{
    struct srv *srv = *state;
    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/hang", "GET", 2, 1);
    c.timeout_ms = 0; /* no per-request limit: the round's limit applies */
    struct diag d = {{0}};
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    struct drv_target t = target_on(srv->port);
    assert_int_equal(run_round(drv, &t, 3, 150, &d), -ETIMEDOUT);
    assert_int_equal(g_answered, 0);
    assert_non_null(strstr(d.msg, "round 3: 0 of 2 requests answered"));
    drv->ops->free(drv);
    cfg_cleanup(&c);
}

static void test_drv_http_connection_refused(void **state)
{
    (void)state;
    uint16_t port;
    int fd = srv_bind(&port); /* bound, not listening: connections are refused */
    struct drv_http_cfg c = cfg_for("http://127.0.0.1:{port}/upload", "POST", 3, 1);
    struct diag d = {{0}};
    struct drv *drv = drv_http_new(&c, &d);
    assert_non_null(drv);
    struct drv_target t = target_on(port);
    assert_int_equal(run_round(drv, &t, 1, 10000, &d), -EPIPE);
    assert_int_equal(g_answered, 0);
    assert_non_null(strstr(d.msg, "request 1 of round 1: POST"));
    assert_non_null(strstr(d.msg, "target not accepting connections"));
    drv->ops->free(drv);
    cfg_cleanup(&c);
    close(fd);
}

static void test_drv_http_rejects_bad_settings(void **state)
{
    (void)state;
    struct diag d = {{0}};
    struct drv_http_cfg c = cfg_for(NULL, "GET", 1, 1);
    assert_null(drv_http_new(&c, &d));
    assert_non_null(strstr(d.msg, "no url"));
    cfg_cleanup(&c);

    c = cfg_for("http://127.0.0.1:1/", "GET", 0, 1);
    assert_null(drv_http_new(&c, &d));
    assert_non_null(strstr(d.msg, "requests_per_round"));
    cfg_cleanup(&c);

    c = cfg_for("http://127.0.0.1:1/", "POST", 1, 1);
    c.body_bytes = 1;
    c.multipart_bytes = 1;
    assert_null(drv_http_new(&c, &d));
    assert_non_null(strstr(d.msg, "keep one"));
    cfg_cleanup(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_drv_http_get_expands_url_and_headers, srv_setup,
                                        srv_teardown),
        cmocka_unit_test_setup_teardown(test_drv_http_reuses_one_connection, srv_setup,
                                        srv_teardown),
        cmocka_unit_test_setup_teardown(test_drv_http_concurrency_opens_parallel_connections,
                                        srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_drv_http_post_body_of_given_size, srv_setup,
                                        srv_teardown),
        cmocka_unit_test_setup_teardown(test_drv_http_multipart_upload, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_drv_http_error_names_request_and_status, srv_setup,
                                        srv_teardown),
        cmocka_unit_test_setup_teardown(test_drv_http_expect_status, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_drv_http_request_timeout, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_drv_http_round_timeout, srv_setup, srv_teardown),
        cmocka_unit_test(test_drv_http_connection_refused),
        cmocka_unit_test(test_drv_http_rejects_bad_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
