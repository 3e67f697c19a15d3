/* SPDX-License-Identifier: MIT */
/* router.c - the request router of a small blog engine, with an object pool per route.
 *
 *   pool [--mode leaky|fixed]
 *
 * Requests arrive one per stdin line ("GET /post/17", "GET /tag/c", "GET /archive/2015/10",
 * "GET /feed") and are answered with one line: "200 ROUTE PARAM slot=K", "404 PATH" or
 * "400 REASON". A request borrows a context object from its route's pool for the time it is
 * handled, as the router of a web framework hands out request contexts without allocating.
 * End of input, SIGTERM or SIGINT stop the router; everything is freed before exit.
 *
 * The two modes are the story of a blog whose memory went from 14 MB to 228 MB in a day:
 *   leaky  builds the route's pool when a request is dispatched instead of when the route is
 *          registered, with the framework's default size of 800 pre-allocated contexts, and
 *          parks it on the route so the contexts it handed out stay valid. Nothing ever takes
 *          the parked pools back (until exit), so each request leaves 800 contexts behind
 *          (pool_new() allocates them);
 *   fixed  one pool per route, built at registration with 10 contexts and reused by every
 *          request; a request that finds the pool empty gets a context of its own, freed after.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEAKY_POOL_SLOTS 800 /* the framework's default */
#define FIXED_POOL_SLOTS 10
#define MAX_LINE         4096

/* A request context: what a handler needs while it runs. */
struct req_ctx {
    char param[64];
    unsigned route;
    unsigned slot;
    bool busy;
    uint64_t started;
};

/* A fixed set of pre-allocated contexts. */
struct pool {
    struct pool *next; /* leaky mode: the route's parked pools */
    size_t size;
    size_t used;
    struct req_ctx *slots;
};

struct route;
typedef int (*handler_fn)(const struct route *r, struct req_ctx *ctx, char *out, size_t cap);

struct route {
    const char *prefix; /* path prefix, the parameter follows */
    const char *name;
    handler_fn handle;
    struct pool *pool; /* fixed: the route's pool; leaky: the newest parked pool */
    size_t n_pools;
    uint64_t hits;
};

struct router {
    bool leaky;
    struct route *routes;
    size_t n_routes;
    uint64_t requests;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Builds a pool of `size` pre-allocated contexts. Returns it, or NULL when out of memory. */
__attribute__((noinline)) static struct pool *pool_new(size_t size)
{
    struct pool *p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    p->slots = calloc(size, sizeof(*p->slots));
    if (!p->slots) {
        free(p);
        return NULL;
    }
    p->size = size;
    for (size_t k = 0; k < size; k++) {
        p->slots[k].slot = (unsigned)k;
    }
    return p;
}

/* Frees a pool. pool_free(NULL) is a no-op. */
static void pool_free(struct pool *p)
{
    if (p) {
        free(p->slots);
        free(p);
    }
}

/* Takes a free context from the pool, or NULL when all are in use. */
static struct req_ctx *pool_get(struct pool *p)
{
    for (size_t k = 0; k < p->size; k++) {
        if (!p->slots[k].busy) {
            p->slots[k].busy = true;
            p->used++;
            return &p->slots[k];
        }
    }
    return NULL;
}

/* Returns a context to its pool. Can't fail. */
static void pool_put(struct pool *p, struct req_ctx *ctx)
{
    ctx->busy = false;
    ctx->param[0] = '\0';
    p->used--;
}

static int handle_post(const struct route *r, struct req_ctx *ctx, char *out, size_t cap)
{
    char *end = NULL;
    errno = 0;
    unsigned long id = strtoul(ctx->param, &end, 10);
    if (errno || end == ctx->param || *end != '\0') {
        return snprintf(out, cap, "400 post id '%s' is not a number", ctx->param);
    }
    return snprintf(out, cap, "200 %s %lu slot=%u", r->name, id, ctx->slot);
}

static int handle_named(const struct route *r, struct req_ctx *ctx, char *out, size_t cap)
{
    if (ctx->param[0] == '\0') {
        return snprintf(out, cap, "400 %s needs a name", r->name);
    }
    return snprintf(out, cap, "200 %s %s slot=%u", r->name, ctx->param, ctx->slot);
}

static int handle_feed(const struct route *r, struct req_ctx *ctx, char *out, size_t cap)
{
    return snprintf(out, cap, "200 %s latest slot=%u", r->name, ctx->slot);
}

/* Registers the blog's routes. In the fixed mode each gets its pool now. Returns 0 or
 * -ENOMEM. */
static int router_init(struct router *rt, bool leaky)
{
    static const struct route table[] = {
        {"/post/", "post", handle_post, NULL, 0, 0},
        {"/tag/", "tag", handle_named, NULL, 0, 0},
        {"/archive/", "archive", handle_named, NULL, 0, 0},
        {"/page/", "page", handle_named, NULL, 0, 0},
        {"/feed", "feed", handle_feed, NULL, 0, 0},
    };
    memset(rt, 0, sizeof(*rt));
    rt->leaky = leaky;
    rt->n_routes = sizeof(table) / sizeof(table[0]);
    rt->routes = calloc(rt->n_routes, sizeof(*rt->routes));
    if (!rt->routes) {
        return -ENOMEM;
    }
    memcpy(rt->routes, table, sizeof(table));
    if (!leaky) {
        for (size_t k = 0; k < rt->n_routes; k++) {
            rt->routes[k].pool = pool_new(FIXED_POOL_SLOTS);
            if (!rt->routes[k].pool) {
                return -ENOMEM;
            }
            rt->routes[k].n_pools = 1;
        }
    }
    return 0;
}

/* Frees the routes and every pool they hold. Can't fail. */
static void router_cleanup(struct router *rt)
{
    for (size_t k = 0; k < rt->n_routes; k++) {
        while (rt->routes[k].pool) {
            struct pool *p = rt->routes[k].pool;
            rt->routes[k].pool = p->next;
            pool_free(p);
        }
    }
    free(rt->routes);
    memset(rt, 0, sizeof(*rt));
}

/* The pool a request on route `r` borrows from. Leaky mode: a new one per dispatch, parked on
 * the route for good. Returns NULL when out of memory. */
static struct pool *route_pool(struct router *rt, struct route *r)
{
    if (!rt->leaky) {
        return r->pool;
    }
    struct pool *p = pool_new(LEAKY_POOL_SLOTS);
    if (p) {
        p->next = r->pool;
        r->pool = p;
        r->n_pools++;
    }
    return p;
}

/* Dispatches one request line; writes the one-line reply to out. Returns 0, or -ENOMEM. */
static int router_dispatch(struct router *rt, const char *line, char *out, size_t cap)
{
    if (strncmp(line, "GET ", 4) != 0) {
        snprintf(out, cap, "400 expected 'GET /PATH'");
        return 0;
    }
    const char *path = line + 4;
    struct route *r = NULL;
    for (size_t k = 0; k < rt->n_routes && !r; k++) {
        size_t len = strlen(rt->routes[k].prefix);
        if (strncmp(path, rt->routes[k].prefix, len) == 0) {
            r = &rt->routes[k];
        }
    }
    if (!r) {
        snprintf(out, cap, "404 %.200s", path);
        return 0;
    }
    rt->requests++;
    r->hits++;

    struct pool *p = route_pool(rt, r);
    if (!p) {
        return -ENOMEM;
    }
    struct req_ctx *ctx = pool_get(p);
    struct req_ctx own;
    if (!ctx) {
        memset(&own, 0, sizeof(own));
        own.slot = UINT32_MAX;
        ctx = &own;
    }
    snprintf(ctx->param, sizeof(ctx->param), "%s", path + strlen(r->prefix));
    ctx->route = (unsigned)(r - rt->routes);
    ctx->started = rt->requests;
    r->handle(r, ctx, out, cap);
    if (ctx != &own) {
        pool_put(p, ctx);
    }
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: pool [--mode leaky|fixed]\n", f);
}

int main(int argc, char **argv)
{
    bool leaky = false;
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--mode") == 0 && k + 1 < argc) {
            const char *m = argv[++k];
            if (strcmp(m, "leaky") == 0) {
                leaky = true;
            } else if (strcmp(m, "fixed") != 0) {
                fprintf(stderr, "pool: unknown mode '%s'\n", m);
                usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[k], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "pool: unknown argument '%s'\n", argv[k]);
            usage(stderr);
            return 2;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop; /* no SA_RESTART: a blocked read returns so we can stop */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct router rt;
    int status = 1;
    char line[MAX_LINE];
    char out[512];
    if (router_init(&rt, leaky) != 0) {
        fprintf(stderr, "pool: out of memory\n");
        goto out;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready mode=%s routes=%zu\n", leaky ? "leaky" : "fixed", rt.n_routes);
    while (!stop_requested && fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0') {
            continue;
        }
        if (router_dispatch(&rt, line, out, sizeof(out)) != 0) {
            fprintf(stderr, "pool: out of memory\n");
            goto out;
        }
        printf("%s\n", out);
    }
    size_t pools = 0;
    for (size_t k = 0; k < rt.n_routes; k++) {
        pools += rt.routes[k].n_pools;
    }
    fprintf(stderr, "pool: %llu requests, %zu pools\n", (unsigned long long)rt.requests, pools);
    status = 0;
out:
    router_cleanup(&rt);
    return status;
}
