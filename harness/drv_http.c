/* SPDX-License-Identifier: MIT */
/* drv_http.c - the http driver: one round of HTTP requests with libcurl's multi interface.
 *
 * A round sends `requests_per_round` requests with at most `concurrency` in flight. One multi
 * handle and a pool of `concurrency` easy handles live as long as the driver, so connections
 * (kept alive by curl's connection cache) are reused from request to request and from round to
 * round, as a real client would. Method, URL and headers are expanded per request ({port},
 * {round}, {i}); a body or multipart upload is served from one buffer of deterministic content,
 * read through callbacks, never copied per request.
 *
 * A request fails the round when curl fails (refused connection, timeout, reset) or when the
 * status is not the expected one (any 2xx by default). The first failure stops the round: the
 * transfers still in flight are dropped and the message names the request, the round, the
 * method, the URL and the status, with the start of the reply body when there is one.
 *
 * The settings (struct drv_http_cfg) are read from and written to the scenario's "driver" object
 * here too, with util/json. Not thread-safe per driver; drivers are independent of each other.
 */
#include "drv_http.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "../util/strv.h"

#define HTTP_REPLY_KEEP      160 /* bytes of a reply body kept for messages */
#define HTTP_MAX_CONCURRENCY 1024u
#define HTTP_MAX_BODY        ((size_t)1 << 30)
#define HTTP_POLL_MS         100

/* The data of a body or multipart part, read through callbacks from the shared buffer. */
struct http_src {
    const char *data;
    size_t size;
    size_t pos;
};

/* One easy handle of the pool, with what its current request owns. */
struct http_slot {
    CURL *easy;
    bool busy;
    uint32_t index;             /* request number within the round, 1-based */
    char *url;                  /* expanded, owned */
    char *method;               /* expanded, owned */
    char *filename;             /* expanded multipart file name, owned */
    struct curl_slist *headers; /* owned */
    curl_mime *mime;            /* owned */
    struct http_src src;
    char reply[HTTP_REPLY_KEEP];
    size_t reply_len;
    char errbuf[CURL_ERROR_SIZE];
};

struct drv_http {
    struct drv base; /* first: a struct drv * is a struct drv_http * */
    struct drv_http_cfg cfg;
    CURLM *multi;
    struct http_slot *slots;
    unsigned n_slots;
    char *payload; /* body_bytes or multipart_bytes of deterministic content */
    size_t payload_size;
    bool curl_ready;
};

static int http_round(struct drv *drv, const struct drv_target *t, uint32_t round, int timeout_ms,
                      uint32_t *answered, struct diag *d);
static void http_free(struct drv *drv);

static const struct drv_ops http_ops = {
    .kind = "http",
    .round = http_round,
    .free = http_free,
};

/* Copies `s` into *out (NULL stays NULL). Returns 0 or -ENOMEM. */
static int http_dup(const char *s, char **out)
{
    *out = NULL;
    if (!s) {
        return 0;
    }
    *out = strdup(s);
    return *out ? 0 : -ENOMEM;
}

/* Frees the strings of a copied configuration. Can't fail. */
static void http_cfg_cleanup(struct drv_http_cfg *c)
{
    free(c->url);
    free(c->method);
    strv_free_n(c->headers, c->n_headers);
    free(c->multipart_field);
    free(c->multipart_filename);
    free(c->multipart_content_type);
    memset(c, 0, sizeof(*c));
}

/* Deep-copies `src` into `dst` (zeroed by the caller). Returns 0 or -ENOMEM (dst then holds
 * what was copied so far, for http_cfg_cleanup). */
static int http_cfg_copy(struct drv_http_cfg *dst, const struct drv_http_cfg *src)
{
    *dst = *src;
    dst->url = dst->method = dst->multipart_field = NULL;
    dst->multipart_filename = dst->multipart_content_type = NULL;
    dst->headers = NULL;
    dst->n_headers = 0;
    if (http_dup(src->url, &dst->url) || http_dup(src->method, &dst->method) ||
        http_dup(src->multipart_field, &dst->multipart_field) ||
        http_dup(src->multipart_filename, &dst->multipart_filename) ||
        http_dup(src->multipart_content_type, &dst->multipart_content_type)) {
        return -ENOMEM;
    }
    if (src->n_headers > 0) {
        dst->headers = calloc(src->n_headers, sizeof(*dst->headers));
        if (!dst->headers) {
            return -ENOMEM;
        }
        for (size_t k = 0; k < src->n_headers; k++) {
            if (http_dup(src->headers[k], &dst->headers[k])) {
                dst->n_headers = k;
                return -ENOMEM;
            }
        }
        dst->n_headers = src->n_headers;
    }
    return 0;
}

/* ------------------------------------------------------------------ settings */

void drv_http_init(void *cfg)
{
    struct drv_http_cfg *c = cfg;
    memset(c, 0, sizeof(*c));
    c->requests_per_round = DRV_HTTP_DEFAULT_REQUESTS_PER_ROUND;
    c->concurrency = 1;
    c->timeout_ms = DRV_HTTP_DEFAULT_TIMEOUT_MS;
}

void drv_http_cleanup(void *cfg)
{
    http_cfg_cleanup(cfg);
}

/* Reads the "multipart" object of the driver. Returns 0, -EINVAL or -ENOMEM. */
static int http_parse_multipart(struct drv_parse *p, const cJSON *mp, struct drv_http_cfg *h)
{
    static const char *const known[] = {"field", "bytes", "filename", "content_type", NULL};
    struct json_ctx *c = p->json;
    int64_t v = 0;
    int rc = json_want_object(c, mp, "multipart");
    if (rc < 0) {
        return rc;
    }
    size_t mark = json_push(c, "multipart");
    rc = json_check_keys(c, mp, known);
    if (rc == 0) {
        rc = json_get_str(c, mp, "field", true, "the form field name of the upload",
                          &h->multipart_field);
    }
    if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(mp, "bytes")) {
        rc = json_missing(c, "bytes", "the size of the uploaded file");
    }
    if (rc == 0) {
        rc = json_get_int(c, mp, "bytes", 1, 1ll << 32, &v);
    }
    h->multipart_bytes = (size_t)v;
    if (rc == 0) {
        rc = json_get_str(c, mp, "filename", false, NULL, &h->multipart_filename);
    }
    if (rc == 0) {
        rc = json_get_str(c, mp, "content_type", false, NULL, &h->multipart_content_type);
    }
    json_pop(c, mark);
    if (rc == 0 && h->body_bytes > 0) {
        rc = json_fail(c, NULL, "'body_bytes' and 'multipart' exclude each other (keep one)");
    }
    return rc;
}

/* Reads the request: url, method, headers, body. Returns 0, -EINVAL or -ENOMEM. */
static int http_parse_request(struct drv_parse *p, const cJSON *dv, struct drv_http_cfg *h)
{
    struct json_ctx *c = p->json;
    int rc = json_get_str(c, dv, "url", true,
                          "the URL to request, e.g. \"http://127.0.0.1:{port}/upload\"", &h->url);
    if (rc == 0 && strncmp(h->url, "http://", 7) != 0 && strncmp(h->url, "https://", 8) != 0) {
        rc = json_fail(c, "url", "'%s' is not an http:// or https:// URL", h->url);
    }
    if (rc == 0) {
        rc = drv_check_str(c, h->url, "url", p->uses_port);
    }
    if (rc == 0) {
        rc = json_get_str(c, dv, "method", false, NULL, &h->method);
    }
    if (rc == 0) {
        rc = json_get_map(c, dv, "headers", ": ", &h->headers, &h->n_headers);
    }
    if (rc == 0) {
        rc = drv_check_strs(c, h->headers, h->n_headers, "headers", false, p->uses_port);
    }
    int64_t v = 0;
    if (rc == 0) {
        rc = json_get_int(c, dv, "body_bytes", 0, 1ll << 32, &v);
    }
    h->body_bytes = (size_t)v;
    const cJSON *mp = cJSON_GetObjectItemCaseSensitive(dv, "multipart");
    if (rc == 0 && mp) {
        rc = http_parse_multipart(p, mp, h);
    }
    return rc;
}

int drv_http_parse(struct drv_parse *p, const cJSON *dv, void *cfg)
{
    static const char *const known[] = {"kind",
                                        "url",
                                        "method",
                                        "headers",
                                        "body_bytes",
                                        "multipart",
                                        "requests_per_round",
                                        "concurrency",
                                        "timeout_s",
                                        "expect_status",
                                        NULL};
    struct drv_http_cfg *h = cfg;
    struct json_ctx *c = p->json;
    int rc = json_check_keys(c, dv, known);
    if (rc == 0) {
        rc = http_parse_request(p, dv, h);
    }
    int64_t v = h->requests_per_round;
    if (rc == 0) {
        rc = json_get_int(c, dv, "requests_per_round", 1, 10000000, &v);
    }
    h->requests_per_round = (unsigned)v;
    v = h->concurrency;
    if (rc == 0) {
        rc = json_get_int(c, dv, "concurrency", 1, 1024, &v);
    }
    h->concurrency = (unsigned)v;
    if (rc == 0) {
        rc = json_get_seconds(c, dv, "timeout_s", &h->timeout_ms);
    }
    v = 0;
    if (rc == 0) {
        rc = json_get_int(c, dv, "expect_status", 100, 599, &v);
    }
    h->expect_status = (int)v;
    if (rc == 0 && !h->method) {
        h->method = strdup(h->body_bytes || h->multipart_bytes ? "POST" : "GET");
        rc = h->method ? 0 : json_nomem(c);
    }
    return rc;
}

int drv_http_check(struct drv_parse *p, const void *cfg)
{
    const struct drv_http_cfg *h = cfg;
    int rc = drv_check_str(p->json, h->url, "url", p->uses_port);
    if (rc == 0) {
        rc = drv_check_strs(p->json, h->headers, h->n_headers, "headers", false, p->uses_port);
    }
    return rc;
}

/* Adds the multipart object. Returns false when out of memory. */
static bool http_save_multipart(const struct drv_http_cfg *h, cJSON *dv)
{
    cJSON *mp = cJSON_AddObjectToObject(dv, "multipart");
    bool ok = mp != NULL;
    ok &= cJSON_AddStringToObject(mp, "field", h->multipart_field) != NULL;
    ok &= cJSON_AddNumberToObject(mp, "bytes", (double)h->multipart_bytes) != NULL;
    if (h->multipart_filename) {
        ok &= cJSON_AddStringToObject(mp, "filename", h->multipart_filename) != NULL;
    }
    if (h->multipart_content_type) {
        ok &= cJSON_AddStringToObject(mp, "content_type", h->multipart_content_type) != NULL;
    }
    return ok;
}

bool drv_http_save(const void *cfg, cJSON *dv)
{
    const struct drv_http_cfg *h = cfg;
    bool ok = cJSON_AddStringToObject(dv, "url", h->url) != NULL;
    ok &= cJSON_AddStringToObject(dv, "method", h->method) != NULL;
    if (h->n_headers) {
        ok &= json_put_map(dv, "headers", h->headers, h->n_headers, ": ");
    }
    if (h->body_bytes) {
        ok &= cJSON_AddNumberToObject(dv, "body_bytes", (double)h->body_bytes) != NULL;
    }
    if (h->multipart_bytes) {
        ok &= http_save_multipart(h, dv);
    }
    ok &= cJSON_AddNumberToObject(dv, "requests_per_round", h->requests_per_round) != NULL;
    ok &= cJSON_AddNumberToObject(dv, "concurrency", h->concurrency) != NULL;
    ok &= cJSON_AddNumberToObject(dv, "timeout_s", h->timeout_ms / 1000.0) != NULL;
    if (h->expect_status) {
        ok &= cJSON_AddNumberToObject(dv, "expect_status", h->expect_status) != NULL;
    }
    return ok;
}

/* ------------------------------------------------------------------ the driver */

/* Fills `buf` with printable content that is the same on every run and easy to recognise in a
 * capture: "leakcheck 0000000000\n" lines, cut at `size`. Can't fail. */
static void http_fill_payload(char *buf, size_t size)
{
    char line[32];
    size_t pos = 0;
    for (unsigned long n = 0; pos < size; n++) {
        int len = snprintf(line, sizeof(line), "leakcheck %010lu\n", n);
        assert(len > 0 && (size_t)len < sizeof(line));
        size_t take = size - pos < (size_t)len ? size - pos : (size_t)len;
        memcpy(buf + pos, line, take);
        pos += take;
    }
}

/* Releases what a slot's current request owns, keeping the easy handle. Can't fail. */
static void http_slot_reset(struct http_slot *s)
{
    free(s->url);
    free(s->method);
    free(s->filename);
    curl_slist_free_all(s->headers);
    curl_mime_free(s->mime);
    s->url = NULL;
    s->method = NULL;
    s->filename = NULL;
    s->headers = NULL;
    s->mime = NULL;
    s->busy = false;
    s->reply_len = 0;
    s->errbuf[0] = '\0';
}

/* curl write callback: keeps the start of the reply body, drops the rest. Can't fail. */
static size_t http_on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct http_slot *s = arg;
    size_t n = size * nmemb;
    size_t room = sizeof(s->reply) - 1 - s->reply_len;
    size_t take = n < room ? n : room;
    memcpy(s->reply + s->reply_len, ptr, take);
    s->reply_len += take;
    s->reply[s->reply_len] = '\0';
    return n;
}

/* curl read callback for a body or a multipart part: copies from the shared payload. */
static size_t http_on_read(char *buf, size_t size, size_t nitems, void *arg)
{
    struct http_src *src = arg;
    size_t room = size * nitems;
    size_t left = src->size - src->pos;
    size_t take = left < room ? left : room;
    memcpy(buf, src->data + src->pos, take);
    src->pos += take;
    return take;
}

/* curl seek callback (a redirect or an authentication retry rewinds the body). */
static int http_on_seek(void *arg, curl_off_t offset, int origin)
{
    struct http_src *src = arg;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > src->size) {
        return CURL_SEEKFUNC_CANTSEEK;
    }
    src->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* True when the scenario sets a header named `name` (case-insensitive, before the colon). */
static bool http_has_header(const struct drv_http_cfg *c, const char *name)
{
    size_t len = strlen(name);
    for (size_t k = 0; k < c->n_headers; k++) {
        if (strncasecmp(c->headers[k], name, len) == 0 && c->headers[k][len] == ':') {
            return true;
        }
    }
    return false;
}

/* Expands slot `s`'s URL, method and header lines for request `index` (1-based) of `round`.
 * Returns 0 or -ENOMEM with `d` filled. */
static int http_build_request(const struct drv_http_cfg *c, struct http_slot *s, uint16_t port,
                              uint32_t round, uint32_t index, struct diag *d)
{
    uint32_t i = index - 1; /* {i} counts from 0 within the round */
    s->index = index;
    s->url = drv_expand(c->url, port, round, i);
    s->method = drv_expand(c->method ? c->method : "GET", port, round, i);
    if (!s->url || !s->method) {
        return diag_set(d, -ENOMEM, "round %u: out of memory expanding the request", round);
    }
    for (size_t k = 0; k < c->n_headers; k++) {
        char *line = drv_expand(c->headers[k], port, round, i);
        struct curl_slist *next = line ? curl_slist_append(s->headers, line) : NULL;
        free(line);
        if (!next) {
            return diag_set(d, -ENOMEM, "round %u: out of memory building headers", round);
        }
        s->headers = next;
    }
    /* Large bodies would otherwise wait for "100 Continue" first: a round trip per request that
     * a scenario did not ask for. A scenario that sets Expect itself keeps its own. */
    if (!http_has_header(c, "Expect")) {
        struct curl_slist *next = curl_slist_append(s->headers, "Expect:");
        if (!next) {
            return diag_set(d, -ENOMEM, "round %u: out of memory building headers", round);
        }
        s->headers = next;
    }
    return 0;
}

/* Sets a multipart upload of the payload on slot `s`. Returns the combined curl result, or -1
 * when out of memory. */
static int http_set_multipart(const struct drv_http_cfg *c, struct http_slot *s, uint16_t port,
                              uint32_t round)
{
    s->filename = drv_expand(c->multipart_filename ? c->multipart_filename : "upload.bin", port,
                             round, s->index - 1);
    s->mime = s->filename ? curl_mime_init(s->easy) : NULL;
    curl_mimepart *part = s->mime ? curl_mime_addpart(s->mime) : NULL;
    if (!part) {
        return -1;
    }
    CURLcode rc = curl_mime_name(part, c->multipart_field ? c->multipart_field : "file");
    rc |= curl_mime_filename(part, s->filename);
    rc |= curl_mime_type(part, c->multipart_content_type ? c->multipart_content_type
                                                         : "application/octet-stream");
    rc |=
        curl_mime_data_cb(part, (curl_off_t)s->src.size, http_on_read, http_on_seek, NULL, &s->src);
    rc |= curl_easy_setopt(s->easy, CURLOPT_MIMEPOST, s->mime);
    return (int)rc;
}

/* Sets the method and the body (multipart upload, plain body or none) on slot `s`. Returns the
 * combined curl result, or -1 when out of memory. */
static int http_set_body(const struct drv_http_cfg *c, struct http_slot *s, uint16_t port,
                         uint32_t round)
{
    CURL *e = s->easy;
    CURLcode rc = CURLE_OK;
    bool custom = strcmp(s->method, "POST") != 0;
    if (c->multipart_bytes > 0) {
        int mrc = http_set_multipart(c, s, port, round);
        if (mrc < 0) {
            return mrc;
        }
        rc = (CURLcode)mrc;
    } else if (c->body_bytes > 0) {
        rc |= curl_easy_setopt(e, CURLOPT_POST, 1L);
        rc |= curl_easy_setopt(e, CURLOPT_READFUNCTION, http_on_read);
        rc |= curl_easy_setopt(e, CURLOPT_READDATA, &s->src);
        rc |= curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, http_on_seek);
        rc |= curl_easy_setopt(e, CURLOPT_SEEKDATA, &s->src);
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->src.size);
    } else if (strcmp(s->method, "HEAD") == 0) {
        rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        custom = false;
    } else {
        custom = strcmp(s->method, "GET") != 0;
    }
    if (custom) {
        rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s->method);
    }
    return (int)rc;
}

/* Prepares slot `s` for request `index` (1-based) of `round` and adds it to the multi handle.
 * Returns 0, -ENOMEM, or -EIO when curl refuses an option (message in `d`). */
static int http_start(struct drv_http *h, struct http_slot *s, uint16_t port, uint32_t round,
                      uint32_t index, struct diag *d)
{
    const struct drv_http_cfg *c = &h->cfg;
    CURL *e = s->easy;
    curl_easy_reset(e);
    int err = http_build_request(c, s, port, round, index, d);
    if (err) {
        return err;
    }
    s->src.data = h->payload;
    s->src.size = h->payload_size;
    s->src.pos = 0;
    CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, s->url);
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_write);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    if (c->timeout_ms > 0) {
        rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    }
    int brc = http_set_body(c, s, port, round);
    if (brc < 0) {
        return diag_set(d, -ENOMEM, "round %u: out of memory building a multipart body", round);
    }
    if (rc != CURLE_OK || brc != CURLE_OK) {
        return diag_set(d, -EIO, "request %u of round %u: %s %s: libcurl refused an option", index,
                        round, s->method, s->url);
    }
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        return diag_set(d, -EIO, "request %u of round %u: %s %s: libcurl could not start it", index,
                        round, s->method, s->url);
    }
    s->busy = true;
    return 0;
}

/* Judges one finished transfer. Returns 0, or a negative errno with `d` filled:
 * -EPIPE (nothing listening), -ETIMEDOUT (no reply in time), -EPROTO (wrong status),
 * -EIO (any other transfer error). */
static int http_judge(const struct drv_http *h, struct http_slot *s, uint32_t round, CURLcode res,
                      struct diag *d)
{
    long status = 0;

    switch (res) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_CONNECT:
        return diag_set(d, -EPIPE,
                        "request %u of round %u: %s %s: target not accepting connections (%s); "
                        "check that it listens on the port in the URL",
                        s->index, round, s->method, s->url,
                        s->errbuf[0] ? s->errbuf : curl_easy_strerror(res));
    case CURLE_OPERATION_TIMEDOUT:
        return diag_set(d, -ETIMEDOUT,
                        "request %u of round %u: %s %s: no reply within %d ms; raise the "
                        "driver's timeout_ms or look for a stuck target",
                        s->index, round, s->method, s->url, h->cfg.timeout_ms);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return diag_set(d, -EPIPE, "request %u of round %u: %s %s: connection dropped (%s)",
                        s->index, round, s->method, s->url,
                        s->errbuf[0] ? s->errbuf : curl_easy_strerror(res));
    default:
        return diag_set(d, -EIO, "request %u of round %u: %s %s: %s", s->index, round, s->method,
                        s->url, s->errbuf[0] ? s->errbuf : curl_easy_strerror(res));
    }

    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    bool good =
        h->cfg.expect_status > 0 ? status == h->cfg.expect_status : status >= 200 && status <= 299;
    if (good) {
        return 0;
    }
    /* The first line of the body usually says why; keep it printable and short. */
    char why[HTTP_REPLY_KEEP];
    size_t n = 0;
    for (size_t k = 0; k < s->reply_len && s->reply[k] != '\n' && s->reply[k] != '\r'; k++) {
        unsigned char ch = (unsigned char)s->reply[k];
        why[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    why[n] = '\0';
    if (h->cfg.expect_status > 0) {
        return diag_set(d, -EPROTO, "request %u of round %u: %s %s answered %ld, expected %d%s%s%s",
                        s->index, round, s->method, s->url, status, h->cfg.expect_status,
                        n ? " (" : "", why, n ? ")" : "");
    }
    return diag_set(d, -EPROTO, "request %u of round %u: %s %s answered %ld%s%s%s", s->index, round,
                    s->method, s->url, status, n ? " (" : "", why, n ? ")" : "");
}

/* Drops every transfer still in flight (after a failure). Can't fail. */
static void http_abort_all(struct drv_http *h)
{
    for (unsigned k = 0; k < h->n_slots; k++) {
        if (h->slots[k].busy) {
            curl_multi_remove_handle(h->multi, h->slots[k].easy);
            http_slot_reset(&h->slots[k]);
        }
    }
}

/* Starts requests on the free slots while some of the round's `total` remain. Returns 0 or a
 * negative errno with `d` filled. */
static int http_fill_slots(struct drv_http *h, uint16_t port, uint32_t round, uint32_t total,
                           uint32_t *started, struct diag *d)
{
    for (unsigned k = 0; k < h->n_slots && *started < total; k++) {
        if (h->slots[k].busy) {
            continue;
        }
        int err = http_start(h, &h->slots[k], port, round, *started + 1, d);
        if (err) {
            http_slot_reset(&h->slots[k]);
            return err;
        }
        (*started)++;
    }
    return 0;
}

/* Judges the transfers curl finished. Counts them in *finished, and those that got a reply in
 * *answered. Returns 0 or the first failure (negative errno, `d` filled). */
static int http_collect(struct drv_http *h, uint32_t round, uint32_t *finished, uint32_t *answered,
                        struct diag *d)
{
    CURLMsg *msg;
    int left = 0;
    int err = 0;
    while (err == 0 && (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        struct http_slot *s = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        assert(s && s->easy == msg->easy_handle);
        CURLcode res = msg->data.result;
        curl_multi_remove_handle(h->multi, s->easy);
        err = http_judge(h, s, round, res, d);
        *answered += res == CURLE_OK; /* a reply, whatever its status */
        http_slot_reset(s);
        (*finished)++;
    }
    return err;
}

/* How long to wait for transfers: HTTP_POLL_MS at most, less before `deadline` (0: none), or
 * -ETIMEDOUT with `d` filled once it has passed. */
static int http_wait_ms(int64_t deadline, uint32_t round, uint32_t finished, uint32_t total,
                        int timeout_ms, struct diag *d)
{
    int64_t left_ms = deadline ? deadline - clock_ms() : HTTP_POLL_MS;
    if (left_ms <= 0) {
        return diag_set(d, -ETIMEDOUT,
                        "round %u: %u of %u requests answered within the round timeout of %d ms; "
                        "raise the scenario's round timeout or send less per round",
                        round, finished, total, timeout_ms);
    }
    return left_ms < HTTP_POLL_MS ? (int)left_ms : HTTP_POLL_MS;
}

/* Runs one round: see drv_ops.round. */
static int http_round(struct drv *drv, const struct drv_target *t, uint32_t round, int timeout_ms,
                      uint32_t *answered, struct diag *d)
{
    struct drv_http *h = (struct drv_http *)drv;
    uint32_t total = h->cfg.requests_per_round;
    uint32_t started = 0, finished = 0;
    int64_t deadline = timeout_ms > 0 ? clock_ms() + timeout_ms : 0;
    uint16_t port = t ? t->port : 0;
    int err = 0;
    *answered = 0;
    while (finished < total && err == 0) {
        err = http_fill_slots(h, port, round, total, &started, d);
        int running = 0;
        if (err == 0 && curl_multi_perform(h->multi, &running) != CURLM_OK) {
            err = diag_set(d, -EIO, "round %u: libcurl failed to run the transfers", round);
        }
        if (err == 0) {
            err = http_collect(h, round, &finished, answered, d);
        }
        if (err || finished >= total) {
            break;
        }
        int wait_ms = http_wait_ms(deadline, round, finished, total, timeout_ms, d);
        if (wait_ms < 0) {
            err = wait_ms;
        } else if (running > 0 && curl_multi_poll(h->multi, NULL, 0, wait_ms, NULL) != CURLM_OK) {
            err = diag_set(d, -EIO, "round %u: libcurl failed to wait for the transfers", round);
        }
    }
    http_abort_all(h);
    return err;
}

/* Frees the driver: see drv_ops.free. */
static void http_free(struct drv *drv)
{
    struct drv_http *h = (struct drv_http *)drv;
    if (!h) {
        return;
    }
    if (h->slots) {
        http_abort_all(h);
        for (unsigned k = 0; k < h->n_slots; k++) {
            if (h->slots[k].easy) {
                curl_easy_cleanup(h->slots[k].easy);
            }
        }
        free(h->slots);
    }
    if (h->multi) {
        curl_multi_cleanup(h->multi);
    }
    free(h->payload);
    http_cfg_cleanup(&h->cfg);
    if (h->curl_ready) {
        curl_global_cleanup();
    }
    free(h);
}

/* Checks settings a driver can run with. Returns 0 or -EINVAL with `d` filled. */
static int http_check_cfg(const struct drv_http_cfg *cfg, struct diag *d)
{
    if (!cfg || !cfg->url || !cfg->url[0]) {
        return diag_set(d, -EINVAL,
                        "http driver: no url; set driver.url, e.g. \"http://127.0.0.1:{port}/\"");
    }
    if (cfg->requests_per_round == 0) {
        return diag_set(d, -EINVAL,
                        "http driver: requests_per_round is 0; send at least one request");
    }
    if (cfg->body_bytes > 0 && cfg->multipart_bytes > 0) {
        return diag_set(d, -EINVAL,
                        "http driver: both a body and a multipart upload are set; keep one");
    }
    if (cfg->body_bytes > HTTP_MAX_BODY || cfg->multipart_bytes > HTTP_MAX_BODY) {
        return diag_set(d, -EINVAL, "http driver: body of %zu bytes is over the limit of %zu",
                        cfg->body_bytes > cfg->multipart_bytes ? cfg->body_bytes
                                                               : cfg->multipart_bytes,
                        HTTP_MAX_BODY);
    }
    if (cfg->concurrency > HTTP_MAX_CONCURRENCY) {
        return diag_set(d, -EINVAL, "http driver: concurrency %u is over the limit of %u",
                        cfg->concurrency, HTTP_MAX_CONCURRENCY);
    }
    if (cfg->timeout_ms < 0 || cfg->expect_status < 0 || cfg->expect_status > 999) {
        return diag_set(d, -EINVAL,
                        "http driver: timeout_ms and expect_status must not be negative, "
                        "and a status has three digits");
    }
    return 0;
}

/* Allocates the payload, the slots and the multi handle of `h`. Returns 0 or -ENOMEM. */
static int http_alloc(struct drv_http *h, const struct drv_http_cfg *cfg)
{
    h->payload_size = cfg->multipart_bytes > 0 ? cfg->multipart_bytes : cfg->body_bytes;
    if (h->payload_size > 0) {
        h->payload = malloc(h->payload_size);
        if (!h->payload) {
            return -ENOMEM;
        }
        http_fill_payload(h->payload, h->payload_size);
    }
    h->n_slots = cfg->concurrency > 0 ? cfg->concurrency : 1;
    if (h->n_slots > cfg->requests_per_round) {
        h->n_slots = cfg->requests_per_round;
    }
    h->slots = calloc(h->n_slots, sizeof(*h->slots));
    h->multi = curl_multi_init();
    if (!h->slots || !h->multi) {
        return -ENOMEM;
    }
    for (unsigned k = 0; k < h->n_slots; k++) {
        h->slots[k].easy = curl_easy_init();
        if (!h->slots[k].easy) {
            return -ENOMEM;
        }
    }
    /* Keep one connection per slot open between requests and rounds. */
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->n_slots);
    return 0;
}

struct drv *drv_http_new(const void *cfg_in, struct diag *d)
{
    const struct drv_http_cfg *cfg = cfg_in;
    if (http_check_cfg(cfg, d) < 0) {
        return NULL;
    }
    struct drv_http *h = calloc(1, sizeof(*h));
    if (!h) {
        diag_set(d, -ENOMEM, "http driver: out of memory");
        return NULL;
    }
    h->base.ops = &http_ops;
    if (http_cfg_copy(&h->cfg, cfg)) {
        goto nomem;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        diag_set(d, -EIO, "http driver: libcurl failed to initialise");
        http_free(&h->base);
        return NULL;
    }
    h->curl_ready = true;
    if (http_alloc(h, cfg) == 0) {
        return &h->base;
    }
nomem:
    diag_set(d, -ENOMEM, "http driver: out of memory");
    http_free(&h->base);
    return NULL;
}
