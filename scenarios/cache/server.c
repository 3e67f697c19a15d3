/* SPDX-License-Identifier: MIT */
/* server.c - a one-endpoint API service with an in-memory result cache (libmicrohttpd).
 *
 *   cache --port PORT [--mode leaky|fixed] [--max-entries N] [--ttl-s S] [--purge-interval-s S]
 *
 * GET /api/items?q=KEY answers a JSON list of items for KEY. Building it is the expensive
 * part (a database query in the real service), so results are cached by key: a hit answers
 * from the cache, a miss runs the query and stores the result. GET /stats shows the cache,
 * GET /healthz answers 200. SIGTERM, SIGINT or the end of stdin (a pipe) stop the service;
 * everything is freed at exit.
 *
 * The two modes are the story of a 20-40 GB service with a single endpoint:
 *   leaky  caches every result for 10000 seconds and nothing ever purges expired entries or
 *          bounds the cache; with keys that differ from request to request every result stays
 *          reachable (cache_put() stores them), and all of it is freed at exit, so valgrind
 *          reports nothing;
 *   fixed  bounds the cache (least recently used entries are evicted beyond --max-entries,
 *          64 by default) and purges expired entries every --purge-interval-s seconds: it fills
 *          up in the first requests, then stays flat.
 *
 * All request handling runs on libmicrohttpd's one internal polling thread, so the cache needs
 * no lock; the main thread touches it only after the daemon has stopped.
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
#include <time.h>
#include <unistd.h>

#define BUCKETS          4096u
#define ITEMS_PER_RESULT 12
#define LEAKY_TTL_S      10000

/* One cached result; key and value are stored after the header, in one block. */
struct entry {
    struct entry *hnext;               /* hash chain */
    struct entry *lru_prev, *lru_next; /* most recently used first */
    time_t expires;
    size_t key_len, val_len;
    char data[]; /* key '\0' value '\0' */
};

struct cache {
    struct entry **buckets;
    struct entry *lru_head, *lru_tail;
    size_t count;
    size_t max_entries; /* 0 = no bound */
    int ttl_s;
    int purge_interval_s; /* 0 = never purge */
    time_t last_purge;
    uint64_t hits, misses, evicted, expired;
};

struct service {
    bool leaky;
    struct cache cache;
};

/* FNV-1a of a string, for the bucket index. Can't fail. */
static uint32_t hash_key(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

static const char *entry_key(const struct entry *e)
{
    return e->data;
}

static const char *entry_value(const struct entry *e)
{
    return e->data + e->key_len + 1;
}

/* Unlinks an entry from the LRU list. Can't fail. */
static void lru_unlink(struct cache *c, struct entry *e)
{
    if (e->lru_prev) {
        e->lru_prev->lru_next = e->lru_next;
    } else {
        c->lru_head = e->lru_next;
    }
    if (e->lru_next) {
        e->lru_next->lru_prev = e->lru_prev;
    } else {
        c->lru_tail = e->lru_prev;
    }
    e->lru_prev = e->lru_next = NULL;
}

/* Links an entry at the front of the LRU list. Can't fail. */
static void lru_push_front(struct cache *c, struct entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = c->lru_head;
    if (c->lru_head) {
        c->lru_head->lru_prev = e;
    }
    c->lru_head = e;
    if (!c->lru_tail) {
        c->lru_tail = e;
    }
}

/* Removes an entry from the hash chain and the LRU list and frees it. Can't fail. */
static void cache_remove(struct cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[hash_key(entry_key(e)) % BUCKETS];
    while (*pp && *pp != e) {
        pp = &(*pp)->hnext;
    }
    if (*pp) {
        *pp = e->hnext;
    }
    lru_unlink(c, e);
    c->count--;
    free(e);
}

/* Initialises an empty cache. Returns 0 or -ENOMEM. */
static int cache_init(struct cache *c, size_t max_entries, int ttl_s, int purge_interval_s)
{
    memset(c, 0, sizeof(*c));
    c->buckets = calloc(BUCKETS, sizeof(*c->buckets));
    if (!c->buckets) {
        return -ENOMEM;
    }
    c->max_entries = max_entries;
    c->ttl_s = ttl_s;
    c->purge_interval_s = purge_interval_s;
    c->last_purge = time(NULL);
    return 0;
}

/* Frees every entry and the table. Can't fail. */
static void cache_cleanup(struct cache *c)
{
    while (c->lru_head) {
        cache_remove(c, c->lru_head);
    }
    free(c->buckets);
    memset(c, 0, sizeof(*c));
}

/* Drops expired entries when the purge interval has passed. Can't fail. */
static void cache_purge_expired(struct cache *c, time_t now)
{
    if (c->purge_interval_s <= 0 || now - c->last_purge < c->purge_interval_s) {
        return;
    }
    c->last_purge = now;
    struct entry *e = c->lru_head;
    while (e) {
        struct entry *next = e->lru_next;
        if (e->expires <= now) {
            cache_remove(c, e);
            c->expired++;
        }
        e = next;
    }
}

/* Looks a key up; a hit that has not expired moves to the front. Returns the entry or NULL. */
static const struct entry *cache_get(struct cache *c, const char *key, time_t now)
{
    struct entry *e = c->buckets[hash_key(key) % BUCKETS];
    while (e && strcmp(entry_key(e), key) != 0) {
        e = e->hnext;
    }
    if (!e || e->expires <= now) {
        return NULL;
    }
    lru_unlink(c, e);
    lru_push_front(c, e);
    return e;
}

/* Stores a copy of `value` under `key` (replacing an older entry), then evicts the least
 * recently used entries beyond the bound. Returns 0 or -ENOMEM. */
__attribute__((noinline)) static int cache_put(struct cache *c, const char *key, const char *value,
                                               time_t now)
{
    size_t key_len = strlen(key), val_len = strlen(value);
    struct entry *e = malloc(sizeof(*e) + key_len + 1 + val_len + 1);
    if (!e) {
        return -ENOMEM;
    }
    e->key_len = key_len;
    e->val_len = val_len;
    e->expires = now + c->ttl_s;
    memcpy(e->data, key, key_len + 1);
    memcpy(e->data + key_len + 1, value, val_len + 1);

    uint32_t b = hash_key(key) % BUCKETS;
    for (struct entry *old = c->buckets[b]; old; old = old->hnext) {
        if (strcmp(entry_key(old), key) == 0) {
            cache_remove(c, old);
            break;
        }
    }
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    e->lru_prev = e->lru_next = NULL;
    lru_push_front(c, e);
    c->count++;
    while (c->max_entries > 0 && c->count > c->max_entries) {
        cache_remove(c, c->lru_tail);
        c->evicted++;
    }
    return 0;
}

/* The expensive part: builds the JSON result for `key` (a database query in the real
 * service). Returns a malloc'ed string the caller frees, or NULL when out of memory. */
static char *query_items(const char *key)
{
    size_t cap = 256 + ITEMS_PER_RESULT * (96 + 2 * strlen(key));
    char *out = malloc(cap);
    if (!out) {
        return NULL;
    }
    uint32_t h = hash_key(key);
    size_t len = (size_t)snprintf(out, cap, "{\"q\":\"%s\",\"items\":[", key);
    for (int k = 0; k < ITEMS_PER_RESULT && len < cap; k++) {
        len += (size_t)snprintf(
            out + len, cap - len, "%s{\"id\":%u,\"name\":\"%s-item-%d\",\"price_cents\":%u}",
            k ? "," : "", (h + (uint32_t)k) % 100000u, key, k, (h >> (k % 16)) % 100000u);
    }
    if (len < cap) {
        snprintf(out + len, cap - len, "]}\n");
    }
    return out;
}

/* Queues a reply (copied). Returns what MHD_queue_response returns. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* GET /api/items?q=KEY: from the cache, or from the query and then into the cache. */
static enum MHD_Result get_items(struct service *svc, struct MHD_Connection *conn)
{
    const char *key = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "q");
    if (!key || !*key || strlen(key) > 256) {
        return reply(conn, MHD_HTTP_BAD_REQUEST, "text/plain",
                     "expected /api/items?q=KEY (KEY up to 256 bytes)\n");
    }
    time_t now = time(NULL);
    struct cache *c = &svc->cache;
    cache_purge_expired(c, now);
    const struct entry *e = cache_get(c, key, now);
    if (e) {
        c->hits++;
        return reply(conn, MHD_HTTP_OK, "application/json", entry_value(e));
    }
    c->misses++;
    char *result = query_items(key);
    if (!result || cache_put(c, key, result, now) != 0) {
        free(result);
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n");
    }
    enum MHD_Result ret = reply(conn, MHD_HTTP_OK, "application/json", result);
    free(result);
    return ret;
}

/* libmicrohttpd access handler. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct service *svc = cls;
    (void)version;
    (void)upload_data;
    (void)con_cls;

    if (*upload_data_size > 0) {
        *upload_data_size = 0; /* no endpoint takes a body */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0) {
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n");
    }
    if (strcmp(url, "/api/items") == 0) {
        return get_items(svc, conn);
    }
    if (strcmp(url, "/healthz") == 0) {
        return reply(conn, MHD_HTTP_OK, "text/plain", "ok\n");
    }
    if (strcmp(url, "/stats") == 0) {
        const struct cache *c = &svc->cache;
        char text[256];
        snprintf(text, sizeof(text),
                 "entries %zu hits %llu misses %llu evicted %llu expired %llu\n", c->count,
                 (unsigned long long)c->hits, (unsigned long long)c->misses,
                 (unsigned long long)c->evicted, (unsigned long long)c->expired);
        return reply(conn, MHD_HTTP_OK, "text/plain", text);
    }
    return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "no such endpoint\n");
}

/* Parses a whole decimal number in [lo, hi]. Returns 0 or -EINVAL. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi) {
        return -EINVAL;
    }
    *out = v;
    return 0;
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
    fputs("usage: cache --port PORT [--mode leaky|fixed] [--max-entries N] [--ttl-s S]\n"
          "             [--purge-interval-s S]\n",
          f);
}

int main(int argc, char **argv)
{
    struct service svc;
    memset(&svc, 0, sizeof(svc));
    long port = -1, max_entries = 64, ttl_s = 300, purge_s = 60;

    for (int k = 1; k < argc; k++) {
        const char *opt = argv[k];
        const char *val = k + 1 < argc ? argv[k + 1] : NULL;
        long *num = NULL, lo = 0, hi = 0;
        if (strcmp(opt, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (!val) {
            fprintf(stderr, "cache: '%s' needs a value or is unknown\n", opt);
            usage(stderr);
            return 2;
        }
        k++;
        if (strcmp(opt, "--mode") == 0) {
            if (strcmp(val, "leaky") == 0) {
                svc.leaky = true;
            } else if (strcmp(val, "fixed") != 0) {
                fprintf(stderr, "cache: unknown mode '%s'\n", val);
                return 2;
            }
            continue;
        }
        if (strcmp(opt, "--port") == 0) {
            num = &port, lo = 1, hi = 65535;
        } else if (strcmp(opt, "--max-entries") == 0) {
            num = &max_entries, lo = 1, hi = 100000000;
        } else if (strcmp(opt, "--ttl-s") == 0) {
            num = &ttl_s, lo = 1, hi = 100000000;
        } else if (strcmp(opt, "--purge-interval-s") == 0) {
            num = &purge_s, lo = 1, hi = 100000000;
        } else {
            fprintf(stderr, "cache: unknown argument '%s'\n", opt);
            usage(stderr);
            return 2;
        }
        if (parse_long(val, lo, hi, num) != 0) {
            fprintf(stderr, "cache: bad value '%s' for %s\n", val, opt);
            return 2;
        }
    }
    if (port < 0) {
        usage(stderr);
        return 2;
    }
    int err = svc.leaky ? cache_init(&svc.cache, 0, LEAKY_TTL_S, 0)
                        : cache_init(&svc.cache, (size_t)max_entries, (int)ttl_s, (int)purge_s);
    if (err) {
        fprintf(stderr, "cache: out of memory\n");
        return 1;
    }

    /* Block the stop signals before the daemon's thread starts, so only wait_for_stop()
     * sees them. */
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
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, on_request,
        &svc, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "cache: cannot listen on 127.0.0.1:%ld\n", port);
        cache_cleanup(&svc.cache);
        return 1;
    }
    printf("cache: listening on 127.0.0.1:%ld (mode %s)\n", port, svc.leaky ? "leaky" : "fixed");
    fflush(stdout);

    wait_for_stop(&stop);
    MHD_stop_daemon(d);
    printf("cache: %zu entries, %llu hits, %llu misses, %llu evicted, %llu expired\n",
           svc.cache.count, (unsigned long long)svc.cache.hits,
           (unsigned long long)svc.cache.misses, (unsigned long long)svc.cache.evicted,
           (unsigned long long)svc.cache.expired);
    cache_cleanup(&svc.cache);
    return 0;
}
