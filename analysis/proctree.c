/* SPDX-License-Identifier: MIT */
/* proctree.c - roles, merging a process tree by stack, and untracked work (see proctree.h). */
#include "proctree.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto.h"
#include "../util/arr.h"
#include "../util/buf.h"
#include "retainer.h"

#define ROLE_MAX     96
#define CMDLINE_SHOW 512
/* Merged objects are laid out far from any user address: object k at SYNTH_BASE + k * SYNTH_STEP,
 * so that processes with different layouts share one address space in the merged recording. */
#define SYNTH_BASE 0x800000000000ull
#define SYNTH_STEP 0x1000000000ull
/* Measured processes that ran less than this on a CPU over the measured rounds did no work:
 * an idle master waking for a timer runs microseconds; a worker serving even one request a
 * round runs more. */
#define IDLE_CPU_NS 200000ll

/* ---------------------------------------------------------------- names */

/* The command line as it joined: the agent's own reading, else the harness's (older agents). */
static const char *joined_cmdline(const struct rec_proc *p, size_t *len)
{
    if (p->st.cmdline) { /* the agent's own reading: the image that joined, whatever came next */
        *len = p->st.cmdline_len;
        return p->st.cmdline;
    }
    *len = p->cmdline_len;
    return p->cmdline;
}

/* The parent: the agent's reading at the moment it joined (a daemon's parent may be gone, and the
 * process adopted, by the time the harness looks), else the harness's. */
static uint32_t ppid_of(const struct rec_proc *p)
{
    return p->st.ppid ? p->st.ppid : p->ppid;
}

/* The executable: the agent's reading, else the harness's. */
static const char *exe_of(const struct rec_proc *p)
{
    return p->st.exe_path && p->st.exe_path[0] ? p->st.exe_path : p->exe ? p->exe : "";
}

/* The command line to show: the title a program gave itself (read last), else as it joined,
 * arguments joined with spaces. */
static void show_cmdline(const struct rec_proc *p, char *buf, size_t cap)
{
    size_t n;
    const char *c = joined_cmdline(p, &n);
    if (p->title) {
        c = p->title;
        n = p->title_len;
    }
    size_t k = 0;
    for (size_t i = 0; c && i < n && k + 1 < cap; i++) {
        buf[k++] = c[i] ? c[i] : ' ';
    }
    while (k > 0 && buf[k - 1] == ' ') {
        k--;
    }
    buf[k] = '\0';
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The latest image of the process `pid` that joined before index `before`, or NULL. */
static const struct rec_proc *find_pid(const struct rec *rec, uint32_t pid, size_t before)
{
    for (size_t i = before; i > 0; i--) {
        if (rec->procs[i - 1]->pid == pid) {
            return rec->procs[i - 1];
        }
    }
    return NULL;
}

/* The program's own name: its executable's base name, else argv[0]'s as it joined (a program may
 * have retitled itself before it forked). */
static void program_name(const struct rec_proc *p, char *buf, size_t cap)
{
    char a0[256];
    size_t n;
    const char *c = joined_cmdline(p, &n);
    rec_argv0(c, n, a0, sizeof(a0));
    const char *b = exe_of(p)[0] ? base_name(exe_of(p)) : base_name(a0);
    snprintf(buf, cap, "%s", b[0] ? b : "?");
}

/* A title a program gave itself ("nginx: worker process"), when it did: its first string
 * differs from argv[0] as it joined. Cut before its first path or option, and at ROLE_MAX. */
static bool title_role(const struct rec_proc *p, char *buf, size_t cap)
{
    if (!p->title) {
        return false;
    }
    char now[256];
    char was[256];
    size_t n;
    const char *c = joined_cmdline(p, &n);
    rec_argv0(p->title, p->title_len, now, sizeof(now));
    rec_argv0(c, n, was, sizeof(was));
    if (!now[0] || strcmp(now, was) == 0) {
        return false;
    }
    for (char *q = now; *q; q++) {
        if (q > now && q[-1] == ' ' && (*q == '/' || *q == '-')) {
            q[-1] = '\0';
            break;
        }
    }
    n = strlen(now);
    while (n > 0 && now[n - 1] == ' ') {
        now[--n] = '\0';
    }
    snprintf(buf, cap, "%.*s", ROLE_MAX, now);
    return buf[0] != '\0';
}

void proctree_role(const struct analysis_opts *o, const struct rec *rec, const struct rec_proc *p,
                   char *buf, size_t cap)
{
    char line[CMDLINE_SHOW];
    show_cmdline(p, line, sizeof(line));
    for (size_t i = 0; o && i < o->n_roles; i++) {
        const char *m = o->roles[i].match;
        if (fnmatch(m, line, 0) == 0 || fnmatch(m, exe_of(p), 0) == 0) {
            snprintf(buf, cap, "%s", o->roles[i].name);
            return;
        }
    }
    if (title_role(p, buf, cap)) {
        return;
    }
    program_name(p, buf, cap);
    if (p->origin != PROTO_ORIGIN_FORK) {
        return;
    }
    const struct rec_proc *parent = find_pid(rec, ppid_of(p), p->idx);
    char pname[256];
    if (parent) {
        program_name(parent, pname, sizeof(pname));
    }
    if (parent && strcmp(pname, buf) == 0) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, " (forked)");
    }
}

/* ---------------------------------------------------------------- the merge */

struct mstack {
    uint32_t role;
    uint16_t depth;
    bool truncated;
    uint64_t pcs[PROTO_MAX_DEPTH];
    uint32_t *pids;
    size_t n_pids, cap_pids;
};

struct gobj {
    const struct snap_object *ob; /* the first seen (borrowed) */
    uint64_t synth;
};

struct role {
    char name[ROLE_MAX + 16];
    uint32_t *pids;
    size_t n_pids, cap_pids;
};

struct pinfo {
    bool measured;
    const char *why; /* not measured: why (static text) */
    uint32_t role;
    uint32_t *mid; /* merged id per stack position of its stream (0: none) */
};

struct merge {
    const struct analysis_opts *o;
    const struct rec *rec;
    struct pinfo *pi;
    struct role *roles;
    size_t n_roles;
    struct mstack *ms; /* merged id k is ms[k - 1] */
    size_t n_ms, cap_ms;
    uint32_t *hash; /* open addressing: merged id, 0 = empty */
    size_t hash_cap;
    struct gobj *objs;
    size_t n_objs, cap_objs;
    struct snap_stream out;
    struct diag d;
};

/* Adds pid to a set kept as an array. */
static int add_pid(uint32_t **pids, size_t *n, size_t *cap, uint32_t pid)
{
    for (size_t i = 0; i < *n; i++) {
        if ((*pids)[i] == pid) {
            return 0;
        }
    }
    if (arr_grow((void **)pids, cap, *n, sizeof(**pids)) < 0) {
        return -ENOMEM;
    }
    (*pids)[(*n)++] = pid;
    return 0;
}

/* The role index named `name`, added when new; UINT32_MAX when out of memory. */
static uint32_t role_index(struct merge *m, const char *name)
{
    for (size_t i = 0; i < m->n_roles; i++) {
        if (strcmp(m->roles[i].name, name) == 0) {
            return (uint32_t)i;
        }
    }
    struct role *r = realloc(m->roles, (m->n_roles + 1) * sizeof(*r));
    if (!r) {
        return UINT32_MAX;
    }
    m->roles = r;
    memset(&r[m->n_roles], 0, sizeof(*r));
    snprintf(r[m->n_roles].name, sizeof(r[m->n_roles].name), "%s", name);
    return (uint32_t)m->n_roles++;
}

static bool same_object(const struct snap_object *a, const struct snap_object *b)
{
    return strcmp(a->path, b->path) == 0 && a->build_id_len == b->build_id_len &&
           memcmp(a->build_id, b->build_id, a->build_id_len) == 0;
}

/* The merged object for `ob`, added when new. Returns its index, or -1 when out of memory. */
static long object_index(struct merge *m, const struct snap_object *ob)
{
    for (size_t i = 0; i < m->n_objs; i++) {
        if (same_object(m->objs[i].ob, ob)) {
            return (long)i;
        }
    }
    if (arr_grow((void **)&m->objs, &m->cap_objs, m->n_objs, sizeof(*m->objs)) < 0) {
        return -1;
    }
    m->objs[m->n_objs] = (struct gobj){.ob = ob, .synth = SYNTH_BASE + m->n_objs * SYNTH_STEP};
    return (long)m->n_objs++;
}

/* pc in the merged address space: its object's synthetic base plus its offset in the object,
 * from the latest snapshot of `st` that maps it; unchanged when no object holds it. */
static uint64_t rebase(struct merge *m, const struct snap_stream *st, uint64_t pc)
{
    for (size_t i = st->n_snaps; i > 0; i--) {
        const struct snap_snapshot *sn = &st->snaps[i - 1];
        for (size_t j = 0; j < sn->n_objects; j++) {
            const struct snap_object *ob = &sn->objects[j];
            for (size_t k = 0; k < ob->n_segs; k++) {
                if (pc >= ob->segs[k].start && pc < ob->segs[k].end) {
                    long g = object_index(m, ob);
                    return g < 0 ? pc : pc - ob->base + m->objs[g].synth;
                }
            }
        }
    }
    return pc;
}

static uint64_t hash_stack(uint32_t role, const uint64_t *pcs, uint16_t depth)
{
    uint64_t h = 1469598103934665603ull ^ role;
    for (uint16_t i = 0; i < depth; i++) {
        h = (h ^ pcs[i]) * 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

/* The merged id of (role, pcs), added when new; 0 when out of memory. */
static uint32_t intern(struct merge *m, uint32_t role, const uint64_t *pcs, uint16_t depth,
                       bool truncated)
{
    if ((m->n_ms + 1) * 2 > m->hash_cap) {
        size_t nc = m->hash_cap ? m->hash_cap * 2 : 1024;
        uint32_t *nh = calloc(nc, sizeof(*nh));
        if (!nh) {
            return 0;
        }
        for (size_t i = 0; i < m->n_ms; i++) {
            const struct mstack *s = &m->ms[i];
            size_t k = hash_stack(s->role, s->pcs, s->depth) & (nc - 1);
            while (nh[k]) {
                k = (k + 1) & (nc - 1);
            }
            nh[k] = (uint32_t)i + 1;
        }
        free(m->hash);
        m->hash = nh;
        m->hash_cap = nc;
    }
    size_t k = hash_stack(role, pcs, depth) & (m->hash_cap - 1);
    while (m->hash[k]) {
        struct mstack *s = &m->ms[m->hash[k] - 1];
        if (s->role == role && s->depth == depth &&
            memcmp(s->pcs, pcs, depth * sizeof(*pcs)) == 0) {
            s->truncated |= truncated;
            return m->hash[k];
        }
        k = (k + 1) & (m->hash_cap - 1);
    }
    if (arr_grow((void **)&m->ms, &m->cap_ms, m->n_ms, sizeof(*m->ms)) < 0) {
        return 0;
    }
    struct mstack *s = &m->ms[m->n_ms];
    memset(s, 0, sizeof(*s));
    s->role = role;
    s->depth = depth;
    s->truncated = truncated;
    memcpy(s->pcs, pcs, depth * sizeof(*pcs));
    m->hash[k] = (uint32_t)++m->n_ms;
    return m->hash[k];
}

/* Gives every stack of a measured process its merged id. Returns 0 or -ENOMEM. */
static int map_stacks(struct merge *m, const struct rec_proc *p, struct pinfo *pi)
{
    const struct snap_stream *st = &p->st;
    pi->mid = calloc(st->n_stacks ? st->n_stacks : 1, sizeof(*pi->mid));
    if (!pi->mid) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < st->n_stacks; i++) {
        const struct snap_stack *s = &st->stacks[i];
        uint64_t pcs[PROTO_MAX_DEPTH];
        uint16_t depth = s->depth > PROTO_MAX_DEPTH ? PROTO_MAX_DEPTH : s->depth;
        for (uint16_t f = 0; f < depth; f++) {
            pcs[f] = rebase(m, st, s->pcs[f]);
        }
        pi->mid[i] = intern(m, pi->role, pcs, depth, s->truncated);
        if (!pi->mid[i]) {
            return -ENOMEM;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- encoding the merged stream */

/* A frame builder over a growable heap buffer, fed to the merged stream when ended. */
struct fb {
    struct proto_wbuf w;
    struct merge *m;
    int rc;
};

static void fb_begin(struct fb *f, enum proto_type type, size_t max_payload)
{
    size_t need = PROTO_HEADER_SIZE + max_payload;
    if (f->w.cap < need) {
        uint8_t *nb = realloc(f->w.data, need);
        if (!nb) {
            f->rc = -ENOMEM;
            return;
        }
        f->w.data = nb;
        f->w.cap = need;
    }
    f->w.len = 0;
    f->w.overflow = false;
    proto_frame_begin(&f->w, type);
}

static void fb_end(struct fb *f)
{
    if (f->rc < 0) {
        return;
    }
    proto_frame_end(&f->w);
    if (f->w.overflow) {
        f->rc = -ENOMEM;
        return;
    }
    int rc = snap_stream_feed(&f->m->out, f->w.data, f->w.len, &f->m->d);
    if (rc < 0) {
        f->rc = rc;
    }
}

/* One merged site being summed for a round. */
struct acc {
    uint64_t live_bytes, live_blocks, alloc_blocks, alloc_bytes;
    struct snap_birth *births;
    size_t n_births, cap_births;
    bool used;
};

static int add_birth(struct acc *a, const struct snap_birth *b)
{
    for (size_t i = 0; i < a->n_births; i++) {
        if (a->births[i].epoch == b->epoch) {
            a->births[i].blocks += b->blocks;
            a->births[i].bytes += b->bytes;
            return 0;
        }
    }
    if (arr_grow((void **)&a->births, &a->cap_births, a->n_births, sizeof(*a->births)) < 0) {
        return -ENOMEM;
    }
    a->births[a->n_births++] = *b;
    return 0;
}

static int cmp_birth(const void *a, const void *b)
{
    uint32_t x = ((const struct snap_birth *)a)->epoch;
    uint32_t y = ((const struct snap_birth *)b)->epoch;
    return x < y ? -1 : x > y;
}

/* Sums the snapshots of round `round` of every measured process into acc[] and counters. */
static int sum_round(struct merge *m, uint32_t round, struct acc *acc, uint64_t *counters,
                     uint32_t *flags, uint32_t *procs)
{
    bool canary = true;
    *flags = 0;
    *procs = 0;
    for (size_t i = 0; i < m->rec->n_procs; i++) {
        const struct rec_proc *p = m->rec->procs[i];
        const struct snap_snapshot *sn = m->pi[i].measured ? snap_stream_find(&p->st, round) : NULL;
        if (!sn) {
            continue;
        }
        (*procs)++;
        for (int c = 0; c < PROTO_NCOUNTERS; c++) {
            if (c == PROTO_C_TIME_NS) {
                counters[c] = sn->counters[c] > counters[c] ? sn->counters[c] : counters[c];
            } else {
                counters[c] += sn->counters[c];
            }
        }
        canary &= (sn->flags & PROTO_SNAP_CANARY_LIVE) != 0;
        *flags |= sn->flags & (PROTO_SNAP_PASSTHROUGH | PROTO_SNAP_TRUNCATED);
        for (size_t s = 0; s < sn->n_sites; s++) {
            const struct snap_site *site = &sn->sites[s];
            const struct snap_stack *stk = snap_stream_stack(&p->st, site->stack_id);
            if (!stk) {
                continue;
            }
            uint32_t id = m->pi[i].mid[stk - p->st.stacks];
            struct acc *a = &acc[id - 1];
            a->used = true;
            a->live_bytes += site->live_bytes;
            a->live_blocks += site->live_blocks;
            a->alloc_blocks += site->alloc_blocks;
            a->alloc_bytes += site->alloc_bytes;
            for (size_t b = 0; b < site->n_births; b++) {
                if (add_birth(a, &site->births[b]) < 0) {
                    return -ENOMEM;
                }
            }
            struct mstack *ms = &m->ms[id - 1];
            if (add_pid(&ms->pids, &ms->n_pids, &ms->cap_pids, p->pid) < 0) {
                return -ENOMEM;
            }
        }
    }
    if (canary && *procs > 0) {
        *flags |= PROTO_SNAP_CANARY_LIVE;
    }
    return 0;
}

/* Emits one merged snapshot of `round` (stacks first seen here, sites, objects). */
static void emit_round(struct merge *m, struct fb *f, uint32_t round, struct acc *acc,
                       uint32_t *stacks_sent)
{
    uint64_t counters[PROTO_NCOUNTERS] = {0};
    uint32_t flags;
    uint32_t procs;
    if (sum_round(m, round, acc, counters, &flags, &procs) < 0) {
        f->rc = -ENOMEM;
    }
    if (f->rc < 0 || procs == 0) {
        return;
    }
    fb_begin(f, PROTO_SNAP_BEGIN, 8 + 8 * PROTO_NCOUNTERS);
    proto_put_u32(&f->w, round);
    proto_put_u32(&f->w, flags);
    for (int c = 0; c < PROTO_NCOUNTERS; c++) {
        proto_put_u64(&f->w, counters[c]);
    }
    fb_end(f);
    uint32_t n_stacks = 0;
    uint32_t n_sites = 0;
    for (; *stacks_sent < m->n_ms && f->rc == 0; (*stacks_sent)++, n_stacks++) {
        const struct mstack *s = &m->ms[*stacks_sent];
        fb_begin(f, PROTO_STACK, 8 + 8u * s->depth);
        proto_put_u32(&f->w, *stacks_sent + 1);
        proto_put_u16(&f->w, s->depth);
        proto_put_u16(&f->w, s->truncated ? PROTO_STACK_TRUNCATED : 0);
        for (uint16_t k = 0; k < s->depth; k++) {
            proto_put_u64(&f->w, s->pcs[k]);
        }
        fb_end(f);
    }
    for (size_t id = 1; id <= m->n_ms && f->rc == 0; id++) {
        struct acc *a = &acc[id - 1];
        if (!a->used) {
            continue;
        }
        qsort(a->births, a->n_births, sizeof(*a->births), cmp_birth);
        fb_begin(f, PROTO_SITE, 40 + 24 * a->n_births);
        proto_put_u32(&f->w, (uint32_t)id);
        proto_put_u32(&f->w, (uint32_t)a->n_births);
        proto_put_u64(&f->w, a->live_bytes);
        proto_put_u64(&f->w, a->live_blocks);
        proto_put_u64(&f->w, a->alloc_blocks);
        proto_put_u64(&f->w, a->alloc_bytes);
        for (size_t b = 0; b < a->n_births; b++) {
            proto_put_u32(&f->w, a->births[b].epoch);
            proto_put_u32(&f->w, 0);
            proto_put_u64(&f->w, a->births[b].blocks);
            proto_put_u64(&f->w, a->births[b].bytes);
        }
        fb_end(f);
        n_sites++;
        free(a->births);
        memset(a, 0, sizeof(*a));
    }
    for (size_t i = 0; i < m->n_objs && f->rc == 0; i++) {
        const struct snap_object *ob = m->objs[i].ob;
        uint64_t delta = m->objs[i].synth - ob->base;
        size_t pn = strlen(ob->path);
        fb_begin(f, PROTO_OBJECT, 16 + 24 * ob->n_segs + 4 + pn + ob->build_id_len);
        proto_put_u64(&f->w, m->objs[i].synth);
        proto_put_u16(&f->w, (uint16_t)ob->n_segs);
        proto_put_u16(&f->w, 0);
        proto_put_u32(&f->w, 0);
        for (size_t k = 0; k < ob->n_segs; k++) {
            proto_put_u64(&f->w, ob->segs[k].start + delta);
            proto_put_u64(&f->w, ob->segs[k].end + delta);
            proto_put_u64(&f->w, ob->segs[k].file_offset);
        }
        proto_put_str(&f->w, ob->path, pn);
        proto_put_str(&f->w, ob->build_id, ob->build_id_len);
        fb_end(f);
    }
    fb_begin(f, PROTO_SNAP_END, 16);
    proto_put_u32(&f->w, round);
    proto_put_u32(&f->w, n_stacks);
    proto_put_u32(&f->w, n_sites);
    proto_put_u32(&f->w, (uint32_t)m->n_objs);
    fb_end(f);
}

/* The highest round any measured process answered. */
static uint32_t last_round(const struct merge *m)
{
    uint32_t last = 0;
    for (size_t i = 0; i < m->rec->n_procs; i++) {
        const struct snap_stream *st = &m->rec->procs[i]->st;
        for (size_t k = 0; m->pi[i].measured && k < st->n_snaps; k++) {
            last = st->snaps[k].round > last ? st->snaps[k].round : last;
        }
    }
    return last;
}

/* Builds m->out: HELLO of the first measured process, then one snapshot per round. */
static int build_merged(struct merge *m, const struct rec_proc *first)
{
    struct fb f = {.m = m};
    const char *ver = first->st.agent_version ? first->st.agent_version : "";
    const char *exe = first->st.exe_path ? first->st.exe_path : "";
    fb_begin(&f, PROTO_HELLO, 32 + strlen(ver) + strlen(exe));
    proto_put_u32(&f.w, first->pid);
    proto_put_u32(&f.w, first->st.hello_flags);
    proto_put_u64(&f.w, first->st.canary_size);
    proto_put_str(&f.w, ver, strlen(ver));
    proto_put_str(&f.w, exe, strlen(exe));
    fb_end(&f);
    struct acc *acc = calloc(m->n_ms ? m->n_ms : 1, sizeof(*acc));
    if (!acc) {
        f.rc = -ENOMEM;
    }
    uint32_t stacks_sent = 0;
    uint32_t last = last_round(m);
    for (uint32_t r = 0; acc && r <= last && f.rc == 0; r++) {
        emit_round(m, &f, r, acc, &stacks_sent);
    }
    for (size_t i = 0; acc && i < m->n_ms; i++) {
        free(acc[i].births);
    }
    free(acc);
    free(f.w.data);
    return f.rc == -ENOMEM ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------- the processes */

/* Decides which processes are measured and their roles; *first is the first measured one (or
 * NULL). Returns 0 or -ENOMEM. */
static int choose(struct merge *m, size_t *n_measured, const struct rec_proc **first)
{
    *first = NULL;
    *n_measured = 0;
    for (size_t i = 0; i < m->rec->n_procs; i++) {
        const struct rec_proc *p = m->rec->procs[i];
        struct pinfo *pi = &m->pi[i];
        char role[ROLE_MAX + 16];
        proctree_role(m->o, m->rec, p, role, sizeof(role));
        pi->role = role_index(m, role);
        if (pi->role == UINT32_MAX) {
            return -ENOMEM;
        }
        if (p->error) {
            pi->why = "its channel sent malformed data, so its memory can't be read";
            continue;
        }
        if (p->st.n_snaps == 0) {
            continue; /* exec'd or ended before it was asked: it joined, nothing to measure */
        }
        const struct snap_snapshot *s0 = &p->st.snaps[0];
        if (!(s0->flags & PROTO_SNAP_CANARY_LIVE)) {
            pi->why = "the agent is loaded but does not see its allocations (its canary block is "
                      "missing): its own allocator, or malloc linked in statically";
            continue;
        }
        if (s0->flags & PROTO_SNAP_PASSTHROUGH) {
            pi->why = "the agent stopped tracking it (pass-through) from its first snapshot on";
            continue;
        }
        pi->measured = true;
        (*n_measured)++;
        *first = *first ? *first : p;
        struct role *r = &m->roles[pi->role];
        if (add_pid(&r->pids, &r->n_pids, &r->cap_pids, p->pid) < 0) {
            return -ENOMEM;
        }
    }
    return 0;
}

static const char *origin_name(uint32_t origin)
{
    static const char *const names[] = {"start", "fork", "exec", "spawn", "reconnect"};
    return origin < sizeof(names) / sizeof(names[0]) ? names[origin] : "unknown";
}

/* How a process ended, in words. */
static char *describe_end(const struct rec_proc *p)
{
    char buf[160];
    if (!p->ended || p->end_how == PROTO_END_RUN) {
        return strdup("ran to the end of the run");
    }
    if (p->end_how == PROTO_END_EXEC) {
        return strdup("exec'd another program");
    }
    if (p->end_how == PROTO_END_CLOSED) {
        return strdup("closed its channel and went on untracked");
    }
    int st = p->status;
    if (st >= 0 && (st & 0x7f) == 0) {
        snprintf(buf, sizeof(buf), "exited with code %d", (st >> 8) & 0xff);
    } else if (st >= 0) {
        snprintf(buf, sizeof(buf), "was killed by signal %d", st & 0x7f);
    } else {
        snprintf(buf, sizeof(buf), "ended");
    }
    return strdup(buf);
}

/* Fills out->procs: every image that joined, then every process that never did (once each). */
static int list_procs(struct merge *m, struct rpt_scenario *out)
{
    const struct rec *rec = m->rec;
    size_t n = rec->n_procs + rec->n_untracked;
    out->procs = calloc(n ? n : 1, sizeof(*out->procs));
    if (!out->procs) {
        return -ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < rec->n_procs; i++) {
        const struct rec_proc *p = rec->procs[i];
        struct rpt_proc *q = &out->procs[k++];
        char line[CMDLINE_SHOW];
        show_cmdline(p, line, sizeof(line));
        q->pid = p->pid;
        q->ppid = ppid_of(p);
        q->exe = strdup(exe_of(p));
        q->cmdline = strdup(line);
        q->role = strdup(m->roles[m->pi[i].role].name);
        q->origin = strdup(origin_name(p->origin));
        q->tracked = m->pi[i].why == NULL;
        q->why = m->pi[i].why ? strdup(m->pi[i].why) : NULL;
        q->joined_round = p->joined;
        q->ended = p->ended && p->end_how != PROTO_END_RUN;
        q->ended_round = p->end_round;
        q->end = describe_end(p);
        q->snapshots = (uint32_t)p->st.n_snaps;
        if (!q->exe || !q->cmdline || !q->role || !q->origin || !q->end ||
            (m->pi[i].why && !q->why)) {
            out->n_procs = k;
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < rec->n_untracked; i++) {
        const struct rec_untracked *u = &rec->untracked[i];
        bool seen = false;
        for (size_t j = rec->n_procs; j < k; j++) {
            if (out->procs[j].pid == u->pid) {
                /* seen again: keep the latest round it was seen in */
                out->procs[j].ended_round = u->round;
                seen = true;
            }
        }
        if (seen) {
            continue;
        }
        struct rpt_proc *q = &out->procs[k++];
        q->pid = u->pid;
        q->ppid = u->ppid;
        q->exe = strdup(u->exe ? u->exe : "");
        q->cmdline = strdup(u->cmdline ? u->cmdline : "");
        q->why = strdup(u->why ? u->why : "never joined");
        q->joined_round = u->round; /* first seen */
        q->ended_round = u->round;  /* last seen */
        if (!q->exe || !q->cmdline || !q->why) {
            out->n_procs = k;
            return -ENOMEM;
        }
    }
    out->n_procs = k;
    out->n_roles = m->n_roles;
    return 0;
}

/* Role and pids of every site. */
static int annotate_sites(struct merge *m, struct rpt_scenario *out, bool merged,
                          const struct rec_proc *only)
{
    for (size_t i = 0; i < out->n_sites; i++) {
        struct rpt_site *s = &out->sites[i];
        uint32_t role;
        const uint32_t *pids;
        size_t n_pids;
        if (merged) {
            if (s->id == 0 || s->id > m->n_ms) {
                continue;
            }
            const struct mstack *ms = &m->ms[s->id - 1];
            role = ms->role;
            pids = ms->pids;
            n_pids = ms->n_pids;
        } else {
            role = m->pi[only->idx].role;
            pids = &only->pid;
            n_pids = 1;
        }
        s->role = strdup(m->roles[role].name);
        s->pids = malloc((n_pids ? n_pids : 1) * sizeof(*s->pids));
        if (!s->role || !s->pids) {
            return -ENOMEM;
        }
        memcpy(s->pids, pids, n_pids * sizeof(*pids));
        s->n_pids = n_pids;
    }
    return 0;
}

/* How the retainer scan's stacks map to sites: the merged id, or the one measured process's own
 * stack id. */
struct site_map {
    const struct merge *m;
    bool merged;
    const struct rec_proc *only;
};

static uint32_t site_of(void *ctx, const struct rec_proc *p, uint32_t stack_id)
{
    const struct site_map *sm = ctx;
    if (!sm->merged) {
        return p == sm->only ? stack_id : 0;
    }
    const struct pinfo *pi = &sm->m->pi[p->idx];
    const struct snap_stack *stk = snap_stream_stack(&p->st, stack_id);
    if (!pi->measured || !pi->mid || !stk) {
        return 0;
    }
    return pi->mid[stk - p->st.stacks];
}

/* ---------------------------------------------------------------- untracked work */

/* Replaces a no-leak verdict by inconclusive with `why`. */
static void inconclusive(const struct analysis_opts *o, struct rpt_scenario *out, const char *why)
{
    if (out->verdict != RPT_VERDICT_NO_LEAK) {
        return;
    }
    out->verdict = RPT_VERDICT_INCONCLUSIVE;
    free(out->reason);
    out->reason = strdup(why);
    analysis_judge(o, out);
}

/* Allocation calls made by the measured processes between the snapshot before the first
 * measured round and the last one; -1 when no measured round completed. */
static long long measured_allocs(const struct merge *m, const struct analysis_opts *o,
                                 uint32_t last)
{
    uint32_t from = o->round_base + o->warmup;
    if (last <= from) {
        return -1;
    }
    long long sum = 0;
    for (size_t i = 0; i < m->rec->n_procs; i++) {
        const struct snap_stream *st = &m->rec->procs[i]->st;
        if (!m->pi[i].measured || st->n_snaps == 0) {
            continue;
        }
        const struct snap_snapshot *a = snap_stream_find(st, from);
        const struct snap_snapshot *b = &st->snaps[st->n_snaps - 1];
        uint64_t before = a ? a->counters[PROTO_C_ALLOCS] : st->snaps[0].counters[PROTO_C_ALLOCS];
        if (b->round > from && b->counters[PROTO_C_ALLOCS] > before) {
            sum += (long long)(b->counters[PROTO_C_ALLOCS] - before);
        }
    }
    return sum;
}

/* Nanoseconds the measured processes ran on a CPU from the snapshot before the first measured
 * round to their last; -1 when the recording has no CPU times. */
static long long measured_cpu(const struct merge *m, const struct analysis_opts *o, uint32_t last)
{
    uint32_t from = o->round_base + o->warmup;
    long long sum = -1;
    for (size_t i = 0; i < m->rec->n_procs; i++) {
        const struct rec_proc *p = m->rec->procs[i];
        if (!m->pi[i].measured) {
            continue;
        }
        uint64_t a = UINT64_MAX;
        uint64_t b = UINT64_MAX;
        for (uint32_t r = from; r <= last; r++) {
            uint64_t v = rec_cpu(p, r);
            if (v != UINT64_MAX) {
                a = a == UINT64_MAX ? v : a;
                b = v;
            }
        }
        if (a != UINT64_MAX) {
            sum = (sum < 0 ? 0 : sum) + (long long)(b - a);
        }
    }
    return sum;
}

/* Makes untracked work inconclusive: a process of the tree not measured during the measured
 * rounds, or, in a tree of several processes, no allocation at all by the measured ones. */
static void judge_untracked(struct merge *m, const struct analysis_opts *o,
                            struct rpt_scenario *out, uint32_t last)
{
    uint32_t first_measured = o->round_base + o->warmup;
    for (size_t i = 0; i < out->n_procs; i++) {
        const struct rpt_proc *q = &out->procs[i];
        bool during = q->origin ? (!q->ended || q->ended_round > first_measured)
                                : q->ended_round >= first_measured;
        if (q->tracked || !during) {
            continue;
        }
        char why[1024];
        snprintf(why, sizeof(why),
                 "process %u (%.200s) of the target's tree ran untracked during the measured "
                 "rounds: %.400s; its memory was not measured",
                 q->pid, q->cmdline && q->cmdline[0] ? q->cmdline : q->exe, q->why);
        inconclusive(o, out, why);
        return;
    }
    /* A lone program may well serve its work from memory it allocated at start-up (a pool), and
     * so may busy workers (apache's pools): in a tree, only measured processes that neither
     * allocated nor ran mean the work went where no agent sees it. */
    long long cpu = measured_cpu(m, o, last);
    if (out->n_procs > 1 && measured_allocs(m, o, last) == 0 && cpu < IDLE_CPU_NS) {
        inconclusive(o, out,
                     "no tracked process allocated anything or used the CPU during the measured "
                     "rounds, so the work was done where leakcheck can't see it (an untracked "
                     "process); nothing was measured");
    }
}

/* ---------------------------------------------------------------- the entry point */

static void merge_cleanup(struct merge *m)
{
    for (size_t i = 0; m->pi && i < m->rec->n_procs; i++) {
        free(m->pi[i].mid);
    }
    free(m->pi);
    for (size_t i = 0; i < m->n_roles; i++) {
        free(m->roles[i].pids);
    }
    free(m->roles);
    for (size_t i = 0; i < m->n_ms; i++) {
        free(m->ms[i].pids);
    }
    free(m->ms);
    free(m->hash);
    free(m->objs);
    snap_stream_cleanup(&m->out);
}

/* Fills out->snapshot_seconds from the recording's snapshot times (REC_SNAP_TIME), one per
 * round of `out`; leaves it NULL when the recording has none for any of them. Returns 0 or
 * -ENOMEM. */
static int snap_times(const struct analysis_opts *o, const struct rec *rec,
                      struct rpt_scenario *out)
{
    bool any = false;
    for (size_t i = 0; i < out->n_rounds && !any; i++) {
        any = rec_snapshot_seconds(rec, o->round_base + out->rounds[i].round) >= 0;
    }
    if (!any) {
        return 0;
    }
    free(out->snapshot_seconds);
    out->snapshot_seconds = malloc(out->n_rounds * sizeof(*out->snapshot_seconds));
    if (!out->snapshot_seconds) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < out->n_rounds; i++) {
        out->snapshot_seconds[i] = rec_snapshot_seconds(rec, o->round_base + out->rounds[i].round);
    }
    return 0;
}

int proctree_analyse(const struct analysis_opts *o, const struct rec *rec, const double *seconds,
                     const char *run_error, struct rpt_scenario *out)
{
    static const struct snap_stream empty;
    if (!rec->tree) {
        return analysis_run(o, rec->n_procs ? &rec->procs[0]->st : &empty, seconds, run_error, out);
    }
    struct merge m = {.o = o, .rec = rec};
    snap_stream_init(&m.out);
    m.pi = calloc(rec->n_procs ? rec->n_procs : 1, sizeof(*m.pi));
    if (!m.pi) {
        return -ENOMEM;
    }
    size_t n_measured = 0;
    const struct rec_proc *first = NULL;
    int rc = choose(&m, &n_measured, &first);
    bool merged = n_measured > 1;
    uint32_t last = 0;
    for (size_t i = 0; rc == 0 && merged && i < rec->n_procs; i++) {
        if (m.pi[i].measured) {
            rc = map_stacks(&m, rec->procs[i], &m.pi[i]);
        }
    }
    if (rc == 0 && merged) {
        rc = build_merged(&m, first);
    }
    if (rc == 0) {
        const struct snap_stream *st = merged ? &m.out : first ? &first->st : &empty;
        rc = analysis_run(o, st, seconds, run_error, out);
        last = st->n_snaps ? st->snaps[st->n_snaps - 1].round : 0;
    }
    if (rc == 0 && (merged || first)) {
        rc = annotate_sites(&m, out, merged, first);
    }
    if (rc == 0) {
        struct site_map sm = {.m = &m, .merged = merged, .only = first};
        rc = retainer_attach(o, rec, site_of, &sm, out);
    }
    if (rc == 0) {
        rc = list_procs(&m, out);
    }
    if (rc == 0) {
        rc = snap_times(o, rec, out);
    }
    if (rc == 0 && !run_error) {
        judge_untracked(&m, o, out, last);
    }
    merge_cleanup(&m);
    return rc;
}
