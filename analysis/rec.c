/* SPDX-License-Identifier: MIT */
/* rec.c - reading a recording of a process tree (see rec.h). */
#include "rec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto.h"
#include "../util/arr.h"
#include "series.h"

void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
}

static void proc_free(struct rec_proc *p)
{
    if (!p) {
        return;
    }
    free(p->exe);
    free(p->cmdline);
    free(p->title);
    free(p->error);
    free(p->cpu);
    rec_retain_free(p->retain);
    snap_stream_cleanup(&p->st);
    free(p);
}

void rec_cleanup(struct rec *r)
{
    for (size_t i = 0; i < r->n_procs; i++) {
        proc_free(r->procs[i]);
    }
    free(r->procs);
    for (size_t i = 0; i < r->n_untracked; i++) {
        free(r->untracked[i].exe);
        free(r->untracked[i].cmdline);
        free(r->untracked[i].why);
    }
    free(r->untracked);
    free(r->snap_seconds);
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

/* Appends a new process (zeroed, stream ready). Returns it, or NULL when out of memory. */
static struct rec_proc *add_proc(struct rec *r)
{
    if (arr_grow((void **)&r->procs, &r->cap_procs, r->n_procs, sizeof(*r->procs)) < 0) {
        return NULL;
    }
    struct rec_proc *p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    snap_stream_init(&p->st);
    p->idx = (uint32_t)r->n_procs;
    p->prev = PROTO_NO_PROC;
    p->status = -1;
    r->procs[r->n_procs++] = p;
    return p;
}

#define BAD(r, d, type, ...)                                                                       \
    do {                                                                                           \
        char what_[256];                                                                           \
        snprintf(what_, sizeof(what_), __VA_ARGS__);                                               \
        return diag_set(d, -EBADMSG, "recording: frame type %u at byte %llu: %s", (type),          \
                        (unsigned long long)(r)->offset, what_);                                   \
    } while (0)

/* A string field as a new NUL-terminated copy (*len its length). */
static int get_str(struct proto_rbuf *rb, char **out, size_t *len)
{
    const uint8_t *p;
    size_t n;
    if (proto_get_str(rb, &p, &n) < 0) {
        return -EBADMSG;
    }
    *out = malloc(n + 1);
    if (!*out) {
        return -ENOMEM;
    }
    memcpy(*out, p, n);
    (*out)[n] = '\0';
    if (len) {
        *len = n;
    }
    return 0;
}

/* The process named by a frame's first field, or NULL when there is none such. */
static struct rec_proc *frame_proc(struct rec *r, struct proto_rbuf *rb)
{
    uint32_t idx;
    if (proto_get_u32(rb, &idx) < 0 || idx >= r->n_procs) {
        return NULL;
    }
    return r->procs[idx];
}

static int parse_proc(struct rec *r, struct proto_rbuf *rb, uint16_t type, struct diag *d)
{
    uint32_t v[6];
    for (int i = 0; i < 6; i++) {
        if (proto_get_u32(rb, &v[i]) < 0) {
            BAD(r, d, type, "payload too short");
        }
    }
    if (v[0] != r->n_procs) {
        BAD(r, d, type, "process %u joins as number %zu", v[0], r->n_procs);
    }
    if (r->n_procs >= REC_MAX_PROCS) {
        BAD(r, d, type, "more than %u processes", REC_MAX_PROCS);
    }
    if (v[4] != PROTO_NO_PROC && v[4] >= r->n_procs) {
        BAD(r, d, type, "exec'd from process %u, which never joined", v[4]);
    }
    struct rec_proc *p = add_proc(r);
    if (!p) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    p->pid = v[1];
    p->ppid = v[2];
    p->origin = v[3];
    p->prev = v[4];
    p->joined = v[5];
    int rc = get_str(rb, &p->exe, NULL);
    if (rc == 0) {
        rc = get_str(rb, &p->cmdline, &p->cmdline_len);
    }
    if (rc == -ENOMEM) {
        return diag_set(d, rc, "out of memory");
    }
    if (rc < 0) {
        BAD(r, d, type, "payload too short");
    }
    return 0;
}

/* A process's channel bytes: a process whose channel is malformed is kept with its error and
 * its complete snapshots; the recording goes on. */
static int parse_data(struct rec *r, struct proto_rbuf *rb, uint16_t type, struct diag *d)
{
    struct rec_proc *p = frame_proc(r, rb);
    if (!p) {
        BAD(r, d, type, "data for a process that never joined");
    }
    if (p->st.error) {
        return 0;
    }
    struct diag pd = {{0}};
    int rc = snap_stream_feed(&p->st, rb->data + rb->pos, rb->len - rb->pos, &pd);
    if (rc == -ENOMEM) {
        return diag_set(d, rc, "out of memory");
    }
    if (rc < 0 && !p->error) {
        p->error = strdup(pd.msg);
    }
    return 0;
}

static int parse_title(struct rec *r, struct proto_rbuf *rb, uint16_t type, struct diag *d)
{
    struct rec_proc *p = frame_proc(r, rb);
    if (!p) {
        BAD(r, d, type, "a title for a process that never joined");
    }
    char *t = NULL;
    size_t n = 0;
    int rc = get_str(rb, &t, &n);
    if (rc == -ENOMEM) {
        return diag_set(d, rc, "out of memory");
    }
    if (rc < 0) {
        BAD(r, d, type, "payload too short");
    }
    free(p->title);
    p->title = t;
    p->title_len = n;
    return 0;
}

static int parse_end(struct rec *r, struct proto_rbuf *rb, uint16_t type, struct diag *d)
{
    struct rec_proc *p = frame_proc(r, rb);
    uint32_t how;
    uint32_t round;
    uint32_t status;
    if (!p) {
        BAD(r, d, type, "the end of a process that never joined");
    }
    if (proto_get_u32(rb, &how) < 0 || proto_get_u32(rb, &round) < 0 ||
        proto_get_u32(rb, &status) < 0) {
        BAD(r, d, type, "payload too short");
    }
    p->ended = true;
    p->end_how = how;
    p->end_round = round;
    p->status = (int32_t)status;
    return 0;
}

#define REC_MAX_CPU_ROUNDS 1000000u

static int parse_cpu(struct rec *r, struct proto_rbuf *rb, uint16_t type, struct diag *d)
{
    struct rec_proc *p = frame_proc(r, rb);
    uint32_t round;
    uint64_t ticks;
    if (!p) {
        BAD(r, d, type, "CPU time of a process that never joined");
    }
    if (proto_get_u32(rb, &round) < 0 || proto_get_u64(rb, &ticks) < 0) {
        BAD(r, d, type, "payload too short");
    }
    if (round >= REC_MAX_CPU_ROUNDS) {
        return 0;
    }
    if (round >= p->n_cpu) {
        size_t n = round + 1 > p->n_cpu * 2 ? round + 1 : p->n_cpu * 2;
        uint64_t *c = realloc(p->cpu, n * sizeof(*c));
        if (!c) {
            return diag_set(d, -ENOMEM, "out of memory");
        }
        for (size_t i = p->n_cpu; i < n; i++) {
            c[i] = UINT64_MAX;
        }
        p->cpu = c;
        p->n_cpu = n;
    }
    p->cpu[round] = ticks;
    return 0;
}

uint64_t rec_cpu(const struct rec_proc *p, uint32_t round)
{
    return round < p->n_cpu ? p->cpu[round] : UINT64_MAX;
}

static int parse_snap_time(struct rec *r, struct proto_rbuf *rb, uint16_t type, struct diag *d)
{
    uint32_t round;
    uint32_t zero;
    uint64_t ns;
    if (proto_get_u32(rb, &round) < 0 || proto_get_u32(rb, &zero) < 0 ||
        proto_get_u64(rb, &ns) < 0) {
        BAD(r, d, type, "payload too short");
    }
    if (round >= REC_MAX_CPU_ROUNDS) {
        return 0;
    }
    if (round >= r->n_snap_seconds) {
        size_t n = round + 1 > r->n_snap_seconds * 2 ? round + 1 : r->n_snap_seconds * 2;
        double *t = realloc(r->snap_seconds, n * sizeof(*t));
        if (!t) {
            return diag_set(d, -ENOMEM, "out of memory");
        }
        for (size_t i = r->n_snap_seconds; i < n; i++) {
            t[i] = -1;
        }
        r->snap_seconds = t;
        r->n_snap_seconds = n;
    }
    r->snap_seconds[round] = (double)ns / 1e9;
    return 0;
}

double rec_snapshot_seconds(const struct rec *r, uint32_t round)
{
    return round < r->n_snap_seconds ? r->snap_seconds[round] : -1;
}

static int parse_untracked(struct rec *r, struct proto_rbuf *rb, uint16_t type, struct diag *d)
{
    if (r->n_untracked >= REC_MAX_UNTRACKED) {
        return 0; /* enough to say it */
    }
    if (arr_grow((void **)&r->untracked, &r->cap_untracked, r->n_untracked, sizeof(*r->untracked)) <
        0) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    struct rec_untracked *u = &r->untracked[r->n_untracked];
    memset(u, 0, sizeof(*u));
    if (proto_get_u32(rb, &u->pid) < 0 || proto_get_u32(rb, &u->ppid) < 0 ||
        proto_get_u32(rb, &u->round) < 0) {
        BAD(r, d, type, "payload too short");
    }
    int rc = get_str(rb, &u->exe, NULL);
    if (rc == 0) {
        rc = get_str(rb, &u->cmdline, NULL);
    }
    if (rc == 0) {
        rc = get_str(rb, &u->why, NULL);
    }
    r->n_untracked++; /* owned from here on, even half-filled */
    if (rc == -ENOMEM) {
        return diag_set(d, rc, "out of memory");
    }
    if (rc < 0) {
        BAD(r, d, type, "payload too short");
    }
    return 0;
}

void rec_retain_free(struct rec_retain *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->n_objs; i++) {
        free(t->objs[i].path);
    }
    free(t->objs);
    free(t->paths);
    free(t->hops);
    free(t->note);
    free(t);
}

/* Bytes of one REC_RETAIN object and path without their strings and hops: what a count must
 * leave room for before anything is allocated for it. */
#define RETAIN_OBJ_MIN  (8u + 2u)
#define RETAIN_PATH_MIN (4u + 4u + 8u + 4u + 4u + 8u + 8u + 4u + 4u)
#define RETAIN_HOP_SIZE 8u

/* Reads the objects table of a REC_RETAIN into t. Returns 0, -EBADMSG (what in *what) or
 * -ENOMEM. */
static int retain_objs(struct proto_rbuf *rb, uint32_t n, struct rec_retain *t, const char **what)
{
    if ((uint64_t)n * RETAIN_OBJ_MIN > rb->len - rb->pos) {
        *what = "more objects than the frame holds";
        return -EBADMSG;
    }
    t->objs = calloc(n ? n : 1, sizeof(*t->objs));
    if (!t->objs) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_u64(rb, &t->objs[i].base) < 0) {
            *what = "an object cut short";
            return -EBADMSG;
        }
        int rc = get_str(rb, &t->objs[i].path, NULL);
        if (rc < 0) {
            *what = "an object's path cut short";
            return rc;
        }
        t->n_objs++;
    }
    return 0;
}

/* Reads one path (its hops appended to t->hops at *n_hops). Returns 0 or -EBADMSG (what in
 * *what). */
static int retain_path(struct proto_rbuf *rb, struct rec_retain *t, struct rec_path *pa,
                       size_t *n_hops, size_t cap_hops, const char **what)
{
    if (proto_get_u32(rb, &pa->stack_id) < 0 || proto_get_u32(rb, &pa->epoch) < 0 ||
        proto_get_u64(rb, &pa->size) < 0 || proto_get_u32(rb, &pa->root_kind) < 0 ||
        proto_get_u32(rb, &pa->root_obj) < 0 || proto_get_u64(rb, &pa->root_addr) < 0 ||
        proto_get_u64(rb, &pa->root_pc) < 0 || proto_get_u32(rb, &pa->root_tid) < 0 ||
        proto_get_u32(rb, &pa->n_hops) < 0) {
        *what = "a path cut short";
        return -EBADMSG;
    }
    if (pa->root_kind > PROTO_ROOT_REGISTER) {
        *what = "a path with an unknown root kind (expected 0 to 4)";
        return -EBADMSG;
    }
    if (pa->root_obj != PROTO_NO_OBJ && pa->root_obj >= t->n_objs) {
        *what = "a path whose root names an object the frame does not list";
        return -EBADMSG;
    }
    if (pa->root_kind == PROTO_ROOT_REGISTER && pa->root_addr >= PROTO_REG_COUNT) {
        *what = "a register root with an unknown register number";
        return -EBADMSG;
    }
    if ((uint64_t)pa->n_hops > cap_hops - *n_hops) {
        *what = "a path with more hops than the frame holds";
        return -EBADMSG;
    }
    for (uint32_t h = 0; h < pa->n_hops; h++) {
        struct rec_hop *hop = &t->hops[*n_hops + h];
        if (proto_get_u32(rb, &hop->stack_id) < 0 || proto_get_u32(rb, &hop->offset) < 0) {
            *what = "a path's hops cut short";
            return -EBADMSG;
        }
    }
    pa->hops = &t->hops[*n_hops];
    *n_hops += pa->n_hops;
    return 0;
}

/* REC_RETAIN: a process's retainer scan; the latest one of a process replaces an earlier one. */
static int parse_retain(struct rec *r, struct proto_rbuf *rb, uint16_t type, struct diag *d)
{
    struct rec_proc *p = frame_proc(r, rb);
    if (!p) {
        BAD(r, d, type, "a retainer scan of a process that never joined");
    }
    uint32_t v[5];
    uint64_t f[6];
    for (int i = 0; i < 5; i++) {
        if (proto_get_u32(rb, &v[i]) < 0) {
            BAD(r, d, type, "retainer scan: payload too short for its header");
        }
    }
    for (int i = 0; i < 6; i++) {
        if (proto_get_u64(rb, &f[i]) < 0) {
            BAD(r, d, type, "retainer scan: payload too short for its figures");
        }
    }
    struct rec_retain *t = calloc(1, sizeof(*t));
    if (!t) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    t->round = v[0];
    t->flags = v[1];
    t->stopped_us = f[0];
    t->scan_us = f[1];
    t->bytes_read = f[2];
    t->live_blocks = f[3];
    t->live_bytes = f[4];
    t->memory_bytes = f[5];
    const char *what = "its note cut short";
    int rc = get_str(rb, &t->note, NULL);
    if (rc == 0) {
        rc = retain_objs(rb, v[2], t, &what);
    }
    uint32_t n_paths = v[3];
    if (rc == 0 && (uint64_t)n_paths * RETAIN_PATH_MIN > rb->len - rb->pos) {
        what = "more paths than the frame holds";
        rc = -EBADMSG;
    }
    /* every hop is 8 bytes of what is left after the paths' fixed parts */
    size_t cap_hops =
        rc == 0 ? (rb->len - rb->pos - (size_t)n_paths * RETAIN_PATH_MIN) / RETAIN_HOP_SIZE : 0;
    if (rc == 0) {
        t->paths = calloc(n_paths ? n_paths : 1, sizeof(*t->paths));
        t->hops = calloc(cap_hops ? cap_hops : 1, sizeof(*t->hops));
        rc = t->paths && t->hops ? 0 : -ENOMEM;
    }
    size_t n_hops = 0;
    for (uint32_t i = 0; rc == 0 && i < n_paths; i++) {
        rc = retain_path(rb, t, &t->paths[i], &n_hops, cap_hops, &what);
        t->n_paths += rc == 0;
    }
    if (rc == 0 && rb->pos != rb->len) {
        what = "bytes left over after the last path";
        rc = -EBADMSG;
    }
    if (rc < 0) {
        rec_retain_free(t);
        if (rc == -ENOMEM) {
            return diag_set(d, rc, "out of memory");
        }
        BAD(r, d, type, "retainer scan of process %u: %s", p->idx, what);
    }
    rec_retain_free(p->retain);
    p->retain = t;
    return 0;
}

static int parse_frame(struct rec *r, const struct proto_header *h, const uint8_t *payload,
                       struct diag *d)
{
    struct proto_rbuf rb = {.data = payload, .len = h->length};
    switch (h->type) {
    case PROTO_REC_PROC:
        return parse_proc(r, &rb, h->type, d);
    case PROTO_REC_DATA:
        return parse_data(r, &rb, h->type, d);
    case PROTO_REC_TITLE:
        return parse_title(r, &rb, h->type, d);
    case PROTO_REC_END:
        return parse_end(r, &rb, h->type, d);
    case PROTO_REC_UNTRACKED:
        return parse_untracked(r, &rb, h->type, d);
    case PROTO_REC_CPU:
        return parse_cpu(r, &rb, h->type, d);
    case PROTO_REC_RETAIN:
        return parse_retain(r, &rb, h->type, d);
    case PROTO_REC_SNAP_TIME:
        return parse_snap_time(r, &rb, h->type, d);
    case PROTO_REC_CLOSE:
        r->closed = true; /* its figures are for people reading the file */
        return 0;
    default:
        if (h->type > PROTO_REC_SNAP_TIME) {
            return 0; /* a newer harness's frame: skipped */
        }
        BAD(r, d, h->type, "not a recording frame");
    }
}

/* The first bytes decide: a recording frame starts a tree; anything else is one process's
 * channel as it came. Returns 0 once decided, 1 while fewer than a header's bytes arrived. */
static int start(struct rec *r, const uint8_t **p, size_t *n, struct diag *d)
{
    size_t take = PROTO_HEADER_SIZE - r->buf_len;
    if (take > *n) {
        take = *n;
    }
    if (arr_grow((void **)&r->buf, &r->buf_cap, PROTO_HEADER_SIZE, 1) < 0) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    memcpy(r->buf + r->buf_len, *p, take);
    r->buf_len += take;
    *p += take;
    *n -= take;
    if (r->buf_len < PROTO_HEADER_SIZE) {
        return 1;
    }
    struct proto_header h;
    r->started = true;
    r->tree = proto_header_parse(r->buf, &h) == 0 && h.type >= PROTO_REC_PROC &&
              h.type <= PROTO_REC_RETAIN;
    if (r->tree) {
        return 0; /* the header stays in buf for the frame reader */
    }
    struct rec_proc *one = add_proc(r);
    if (!one) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    int rc = snap_stream_feed(&one->st, r->buf, r->buf_len, d);
    r->buf_len = 0;
    return rc;
}

/* Reads recording frames from p[0..n). */
static int feed_tree(struct rec *r, const uint8_t *p, size_t n, struct diag *d)
{
    while (n > 0 || r->buf_len >= PROTO_HEADER_SIZE) {
        size_t need = PROTO_HEADER_SIZE;
        struct proto_header h = {0};
        if (r->buf_len >= PROTO_HEADER_SIZE) {
            if (proto_header_parse(r->buf, &h) < 0) {
                return diag_set(d, -EBADMSG,
                                "recording: bad frame header at byte %llu (is this a leakcheck "
                                "recording from the same version?)",
                                (unsigned long long)r->offset);
            }
            need = PROTO_HEADER_SIZE + h.length;
        }
        if (r->buf_len == need && r->buf_len >= PROTO_HEADER_SIZE) {
            int rc = parse_frame(r, &h, r->buf + PROTO_HEADER_SIZE, d);
            if (rc < 0) {
                return rc;
            }
            r->offset += r->buf_len;
            r->buf_len = 0;
            continue;
        }
        if (n == 0) {
            break;
        }
        size_t take = need - r->buf_len;
        if (take > n) {
            take = n;
        }
        if (arr_grow((void **)&r->buf, &r->buf_cap, r->buf_len + take, 1) < 0) {
            return diag_set(d, -ENOMEM, "out of memory");
        }
        memcpy(r->buf + r->buf_len, p, take);
        r->buf_len += take;
        p += take;
        n -= take;
    }
    return 0;
}

int rec_feed(struct rec *r, const uint8_t *p, size_t n, struct diag *d)
{
    if (r->error) {
        return diag_set(d, r->error, "recording: already failed");
    }
    int rc = 0;
    if (!r->started) {
        rc = start(r, &p, &n, d);
        if (rc == 1) {
            return 0;
        }
    }
    if (rc == 0 && n > 0) {
        rc = r->tree ? feed_tree(r, p, n, d) : snap_stream_feed(&r->procs[0]->st, p, n, d);
    } else if (rc == 0 && r->tree) {
        rc = feed_tree(r, p, 0, d);
    }
    if (rc < 0) {
        r->error = rc;
    }
    return rc;
}

bool rec_partial(const struct rec *r)
{
    if (r->tree && r->buf_len > 0) {
        return true;
    }
    if (!r->started && r->buf_len > 0) {
        return true;
    }
    for (size_t i = 0; i < r->n_procs; i++) {
        if (snap_stream_partial(&r->procs[i]->st)) {
            return true;
        }
    }
    return false;
}

size_t rec_snapshots(const struct rec *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_procs; i++) {
        n += r->procs[i]->st.n_snaps;
    }
    return n;
}

void rec_argv0(const char *cmdline, size_t len, char *buf, size_t cap)
{
    size_t n = cmdline ? strnlen(cmdline, len) : 0;
    if (n >= cap) {
        n = cap - 1;
    }
    if (n > 0) {
        memcpy(buf, cmdline, n);
    }
    buf[n] = '\0';
}

size_t rec_round(const struct rec *r, uint32_t round, bool warmup, double seconds,
                 struct rpt_round *out)
{
    memset(out, 0, sizeof(*out));
    out->round = round;
    out->warmup = warmup;
    out->seconds = seconds;
    size_t summed = 0;
    for (size_t i = 0; i < r->n_procs; i++) {
        const struct snap_snapshot *sn = snap_stream_find(&r->procs[i]->st, round);
        if (!sn) {
            continue;
        }
        struct rpt_round one;
        series_round(sn, round, warmup, seconds, &one);
        out->live_bytes += one.live_bytes;
        out->live_blocks += one.live_blocks;
        out->rss_bytes += one.rss_bytes;
        out->heap_inuse_bytes += one.heap_inuse_bytes;
        out->heap_free_bytes += one.heap_free_bytes;
        out->agent_bytes += one.agent_bytes;
        summed++;
    }
    return summed;
}
