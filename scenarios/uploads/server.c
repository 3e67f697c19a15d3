/* SPDX-License-Identifier: MIT */
/* server.c - a file upload service: multipart/form-data over HTTP, parsed with libmicrohttpd.
 *
 *   uploads --port PORT [--mode leaky|fixed|plateau]
 *
 * POST /upload takes a multipart/form-data body with a "file" part and answers with the number
 * of file bytes it received. When the client says how many it sent (X-Upload-Bytes), a mismatch
 * is answered 400, so a lost byte fails the run. GET /healthz answers 200, GET /recent lists the
 * recent uploads. SIGTERM, SIGINT or the end of stdin (a pipe) stop the service; everything is
 * freed before exit.
 *
 * The three modes are the three ways the service has kept upload data:
 *   leaky    keeps a copy of every upload for the "recent uploads" page, and nothing ever trims
 *            that list: memory grows with every upload, yet all of it is still reachable and
 *            freed at exit, so valgrind reports nothing (keep_upload() is where it is kept);
 *   fixed    streams the file part: counts and checksums it as it arrives, keeps nothing;
 *   plateau  parses into a large buffer (1 MiB, like a form parser's in-memory limit) that is
 *            kept for reuse after the request: one buffer per upload in flight at the busiest
 *            moment, then no more. Memory rises once and stays flat: a plateau, not a leak.
 *
 * All request handling runs on libmicrohttpd's one internal polling thread, so the service's
 * own state needs no lock; the main thread touches it only after the daemon has stopped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARSE_BUF_BYTES ((size_t)1 << 20)
#define PP_BUF_BYTES    65536
#define RECENT_SHOWN    10

enum mode {
    MODE_LEAKY,
    MODE_FIXED,
    MODE_PLATEAU,
};

/* A parse buffer of the plateau mode, on the free list between requests. */
struct parse_buf {
    struct parse_buf *next;
    size_t cap;
    char data[];
};

/* One upload kept for the "recent uploads" page (leaky mode). */
struct kept_upload {
    struct kept_upload *next;
    uint64_t seq;
    size_t size;
    char name[64];
    char data[];
};

struct service {
    enum mode mode;
    uint64_t uploads;
    struct kept_upload *recent; /* newest first, never trimmed: the leak */
    size_t recent_count;
    struct parse_buf *spare; /* plateau: parse buffers kept for reuse */
    size_t spare_count;
};

/* What one request owns while it is in progress. */
struct upload {
    struct MHD_PostProcessor *pp;
    bool is_upload;
    size_t expect;     /* X-Upload-Bytes, or 0 when not given */
    size_t received;   /* bytes of the file part */
    uint32_t checksum; /* FNV-1a of the file part */
    char name[64];
    bool in_memory; /* leaky: the whole file part is read into `form` */
    char *form;
    size_t form_len, form_cap;
    struct parse_buf *pb; /* plateau: the parse buffer in use */
    bool failed;
};

/* Returns a parse buffer: a spare one, or a new one when none is free. NULL when out of
 * memory. */
static struct parse_buf *parse_buffer_get(struct service *svc)
{
    struct parse_buf *pb = svc->spare;
    if (pb) {
        svc->spare = pb->next;
        svc->spare_count--;
        return pb;
    }
    pb = malloc(sizeof(*pb) + PARSE_BUF_BYTES);
    if (pb) {
        pb->cap = PARSE_BUF_BYTES;
    }
    return pb;
}

/* Puts a parse buffer back on the free list for the next upload. Can't fail. */
static void parse_buffer_put(struct service *svc, struct parse_buf *pb)
{
    pb->next = svc->spare;
    svc->spare = pb;
    svc->spare_count++;
}

/* Appends to the in-memory form (leaky mode). Returns 0 or -ENOMEM. */
static int form_append(struct upload *up, const char *data, size_t size)
{
    if (up->form_len + size > up->form_cap) {
        size_t cap = up->form_cap ? up->form_cap : 16384;
        while (cap < up->form_len + size) {
            cap *= 2;
        }
        char *grown = realloc(up->form, cap);
        if (!grown) {
            return -ENOMEM;
        }
        up->form = grown;
        up->form_cap = cap;
    }
    memcpy(up->form + up->form_len, data, size);
    up->form_len += size;
    return 0;
}

/* Keeps a copy of a finished upload at the head of the "recent uploads" list. The list has no
 * bound and nothing removes from it: this is the leak of the leaky mode. Returns 0 or -ENOMEM. */
__attribute__((noinline)) static int keep_upload(struct service *svc, const struct upload *up)
{
    struct kept_upload *k = malloc(sizeof(*k) + up->form_len);
    if (!k) {
        return -ENOMEM;
    }
    k->seq = svc->uploads;
    k->size = up->form_len;
    snprintf(k->name, sizeof(k->name), "%s", up->name);
    memcpy(k->data, up->form, up->form_len);
    k->next = svc->recent;
    svc->recent = k;
    svc->recent_count++;
    return 0;
}

/* Post-processor callback: receives the file part in pieces. */
static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    struct upload *up = cls;
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    (void)off;

    if (strcmp(key, "file") != 0) {
        return MHD_YES; /* other form fields are ignored */
    }
    if (filename && up->name[0] == '\0') {
        snprintf(up->name, sizeof(up->name), "%s", filename);
    }
    for (size_t k = 0; k < size; k++) {
        up->checksum = (up->checksum ^ (unsigned char)data[k]) * 16777619u;
    }
    if (up->in_memory) {
        if (form_append(up, data, size) != 0) {
            up->failed = true;
            return MHD_NO;
        }
    } else if (up->pb) {
        /* Like a form parser's in-memory part: what does not fit would go to a temporary file,
         * which this demo only counts. */
        if (up->received < up->pb->cap) {
            size_t room = up->pb->cap - up->received;
            memcpy(up->pb->data + up->received, data, size < room ? size : room);
        }
    }
    up->received += size;
    return MHD_YES;
}

/* Queues a plain-text reply. Returns what MHD_queue_response returns. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Parses a non-negative decimal size. Returns 0 or -EINVAL. */
static int parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-') {
        return -EINVAL;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v > SIZE_MAX) {
        return -EINVAL;
    }
    *out = (size_t)v;
    return 0;
}

/* Starts an upload on the first call of a POST /upload. Returns the new state or NULL (the
 * reason is answered by the caller). */
static struct upload *upload_begin(struct service *svc, struct MHD_Connection *conn)
{
    struct upload *up = calloc(1, sizeof(*up));
    if (!up) {
        return NULL;
    }
    up->is_upload = true;
    up->checksum = 2166136261u;
    const char *want = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Upload-Bytes");
    if (want && parse_size(want, &up->expect) != 0) {
        up->failed = true;
    }
    up->pp = MHD_create_post_processor(conn, PP_BUF_BYTES, on_part, up);
    if (svc->mode == MODE_LEAKY) {
        up->in_memory = true;
    } else if (svc->mode == MODE_PLATEAU) {
        up->pb = parse_buffer_get(svc);
        if (!up->pb) {
            up->failed = true;
        }
    }
    return up;
}

/* Releases the buffers of an upload: its post processor, its in-memory form, its parse buffer
 * (back to the spares). Safe to call twice. Can't fail. */
static void upload_release(struct service *svc, struct upload *up)
{
    if (up->pp) {
        MHD_destroy_post_processor(up->pp);
        up->pp = NULL;
    }
    free(up->form);
    up->form = NULL;
    up->form_len = up->form_cap = 0;
    if (up->pb) {
        parse_buffer_put(svc, up->pb);
        up->pb = NULL;
    }
}

/* Answers a finished upload with the byte count, or 400 on a size mismatch. The request's
 * buffers are released before the reply is queued: libmicrohttpd reports a request completed
 * only after the client has its answer, and a service should not hold a body's buffers while
 * the next request is already under way. */
static enum MHD_Result upload_finish(struct service *svc, struct MHD_Connection *conn,
                                     struct upload *up)
{
    char text[160];
    unsigned status = MHD_HTTP_OK;
    if (!up->pp) {
        snprintf(text, sizeof(text), "expected a multipart/form-data body with a 'file' part\n");
        status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
    } else if (up->failed) {
        snprintf(text, sizeof(text), "bad X-Upload-Bytes or out of memory\n");
        status = MHD_HTTP_BAD_REQUEST;
    } else if (up->expect > 0 && up->received != up->expect) {
        snprintf(text, sizeof(text), "size mismatch: got %zu of %zu bytes\n", up->received,
                 up->expect);
        status = MHD_HTTP_BAD_REQUEST;
    } else {
        svc->uploads++;
        if (svc->mode == MODE_LEAKY && keep_upload(svc, up) != 0) {
            snprintf(text, sizeof(text), "out of memory\n");
            status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        } else {
            snprintf(text, sizeof(text), "%zu\n", up->received);
        }
    }
    upload_release(svc, up);
    return reply(conn, status, text);
}

/* Lists the newest uploads (the page the leaky mode keeps its copies for). */
static enum MHD_Result recent_page(struct service *svc, struct MHD_Connection *conn)
{
    char text[1024];
    size_t len = 0;
    int n = snprintf(text, sizeof(text), "%llu uploads, %zu kept\n",
                     (unsigned long long)svc->uploads, svc->recent_count);
    len = n > 0 ? (size_t)n : 0;
    unsigned shown = 0;
    for (const struct kept_upload *k = svc->recent; k && shown < RECENT_SHOWN; k = k->next) {
        n = snprintf(text + len, sizeof(text) - len, "#%llu %s %zu\n", (unsigned long long)k->seq,
                     k->name, k->size);
        if (n < 0 || (size_t)n >= sizeof(text) - len) {
            break;
        }
        len += (size_t)n;
        shown++;
    }
    return reply(conn, MHD_HTTP_OK, text);
}

/* libmicrohttpd access handler: routes a request, feeding upload data to the post processor. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct service *svc = cls;
    (void)version;

    if (strcmp(method, "POST") == 0 && strcmp(url, "/upload") == 0) {
        struct upload *up = *con_cls;
        if (!up) {
            up = upload_begin(svc, conn);
            if (!up) {
                return MHD_NO;
            }
            *con_cls = up;
            return MHD_YES;
        }
        if (*upload_data_size > 0) {
            if (up->pp && !up->failed &&
                MHD_post_process(up->pp, upload_data, *upload_data_size) != MHD_YES) {
                up->failed = true;
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        return upload_finish(svc, conn, up);
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/healthz") == 0) {
        return reply(conn, MHD_HTTP_OK, "ok\n");
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/recent") == 0) {
        return recent_page(svc, conn);
    }
    return reply(conn, MHD_HTTP_NOT_FOUND, "no such page\n");
}

/* Called when a request is over, answered or not: releases what it owns. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct service *svc = cls;
    struct upload *up = *con_cls;
    (void)conn;
    (void)toe;
    if (!up) {
        return;
    }
    upload_release(svc, up); /* a request that ended before its answer */
    free(up);
    *con_cls = NULL;
}

/* Frees the service's own state at exit. Can't fail. */
static void service_cleanup(struct service *svc)
{
    while (svc->recent) {
        struct kept_upload *k = svc->recent;
        svc->recent = k->next;
        free(k);
    }
    while (svc->spare) {
        struct parse_buf *pb = svc->spare;
        svc->spare = pb->next;
        free(pb);
    }
}

/* Waits for SIGTERM or SIGINT (blocked in every thread, read here through a signalfd), or for
 * the end of stdin when stdin is a pipe or socket (a supervisor closing it means "stop"; a
 * terminal or /dev/null is not watched). Can't fail: on an error it returns, which stops too. */
static void wait_for_stop(const sigset_t *stop)
{
    struct stat sb;
    bool watch_stdin =
        fstat(STDIN_FILENO, &sb) == 0 && (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode));
    int sfd = signalfd(-1, stop, SFD_CLOEXEC);
    if (sfd < 0) {
        return;
    }
    for (;;) {
        struct pollfd p[2] = {{sfd, POLLIN, 0}, {watch_stdin ? STDIN_FILENO : -1, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (p[0].revents) {
            break;
        }
        if (p[1].revents) {
            char buf[512];
            ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                break;
            }
        }
    }
    close(sfd);
}

static void usage(FILE *f)
{
    fputs("usage: uploads --port PORT [--mode leaky|fixed|plateau]\n", f);
}

int main(int argc, char **argv)
{
    struct service svc;
    memset(&svc, 0, sizeof(svc));
    svc.mode = MODE_FIXED;
    long port = -1;

    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--port") == 0 && k + 1 < argc) {
            char *end = NULL;
            port = strtol(argv[++k], &end, 10);
            if (*end != '\0' || port <= 0 || port > 65535) {
                fprintf(stderr, "uploads: bad port '%s'\n", argv[k]);
                return 2;
            }
        } else if (strcmp(argv[k], "--mode") == 0 && k + 1 < argc) {
            const char *m = argv[++k];
            if (strcmp(m, "leaky") == 0) {
                svc.mode = MODE_LEAKY;
            } else if (strcmp(m, "fixed") == 0) {
                svc.mode = MODE_FIXED;
            } else if (strcmp(m, "plateau") == 0) {
                svc.mode = MODE_PLATEAU;
            } else {
                fprintf(stderr, "uploads: unknown mode '%s'\n", m);
                usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[k], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "uploads: unknown argument '%s'\n", argv[k]);
            usage(stderr);
            return 2;
        }
    }
    if (port < 0) {
        usage(stderr);
        return 2;
    }

    /* Block the stop signals before the daemon's thread starts, so it inherits the mask and
     * only wait_for_stop() sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
                         NULL, on_request, &svc, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, &svc, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "uploads: cannot listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    printf("uploads: listening on 127.0.0.1:%ld (mode %s)\n", port,
           svc.mode == MODE_LEAKY   ? "leaky"
           : svc.mode == MODE_FIXED ? "fixed"
                                    : "plateau");
    fflush(stdout);

    wait_for_stop(&stop);
    MHD_stop_daemon(d);
    printf("uploads: %llu uploads, %zu kept, %zu parse buffers\n", (unsigned long long)svc.uploads,
           svc.recent_count, svc.spare_count);
    service_cleanup(&svc);
    return 0;
}
