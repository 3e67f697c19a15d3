/* SPDX-License-Identifier: MIT */
/* ag_chan.c - the channel thread: requests in, snapshots out.
 *
 * A snapshot is built from a copy of the live table taken shard by shard (each shard locked
 * only while it is copied), sorted by (stack id, round of birth) with a radix sort into
 * scratch regions mapped for the occasion and unmapped after, so the agent's memory between
 * snapshots is the tables alone. Output goes through one 1 MiB buffer, flushed between frames.
 */
#include "ag_chan.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/proto.h"
#include "ag_mem.h"

#define OUT_CAP    (1u << 20)
#define SITE_FIXED (4 + 4 + 8 * 4)
#define BIRTH_SIZE 24u

struct rec {
    uint64_t key; /* stack id << 32 | epoch */
    uint64_t size;
};

struct chan {
    struct ag_state *st;
    int fd; /* where snapshots go */
    struct proto_wbuf out;
    uint32_t stacks_sent; /* ids 1..stacks_sent have been sent */
    bool failed;          /* the channel broke: stop writing */
};

/* Writes all of buf, looping on EINTR and short writes. send(MSG_NOSIGNAL) on a socket, so a
 * vanished reader never raises SIGPIPE; write(2) on anything else (a pipe or file given to
 * ag_chan_snapshot_to). Returns 0 or a negative errno. */
static int send_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) {
            n = write(fd, buf, len);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void flush(struct chan *c)
{
    if (!c->failed && c->out.len > 0 && send_all(c->fd, c->out.data, c->out.len) < 0) {
        c->failed = true;
    }
    c->out.len = 0;
    c->out.overflow = false;
}

/* Makes sure `need` more bytes fit in the buffer. */
static void reserve(struct chan *c, size_t need)
{
    if (c->out.cap - c->out.len < need) {
        flush(c);
    }
}

int ag_chan_hello(struct ag_state *st)
{
    uint8_t buf[4200];
    struct proto_wbuf b = {.data = buf, .cap = sizeof(buf)};
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe));
    if (n < 0) {
        n = 0;
    }
    static const char version[] = LEAKCHECK_VERSION;
    proto_frame_begin(&b, PROTO_HELLO);
    proto_put_u32(&b, (uint32_t)getpid());
    proto_put_u32(&b, PROTO_HELLO_UNWIND);
    proto_put_u64(&b, PROTO_CANARY_SIZE);
    proto_put_str(&b, version, sizeof(version) - 1);
    proto_put_str(&b, exe, (size_t)n);
    proto_frame_end(&b);
    if (b.overflow) {
        return -ENOBUFS;
    }
    return send_all(st->chan_fd, b.data, b.len);
}

/* Reads exactly len bytes. Returns 0, -EPIPE at end of stream, or a negative errno. */
static int read_all(int fd, uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n == 0) {
            return -EPIPE;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static uint64_t rss_bytes(void)
{
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    char buf[128];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    const char *p = buf;
    while (*p && *p != ' ') {
        p++;
    }
    uint64_t pages = 0;
    while (*p == ' ') {
        p++;
    }
    while (*p >= '0' && *p <= '9') {
        pages = pages * 10 + (uint64_t)(*p - '0');
        p++;
    }
    return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* ---------------------------------------------------------------- collecting the table */

struct collect {
    struct rec *recs;
    size_t n;
    size_t cap;
    bool overflow;
    uintptr_t canary;
    bool canary_seen;
};

static void collect_visit(void *ctx, const struct ag_block *b)
{
    struct collect *c = ctx;
    if (b->ptr == c->canary) {
        c->canary_seen = true;
        return;
    }
    if (c->n == c->cap) {
        c->overflow = true;
        return;
    }
    c->recs[c->n].key = ((uint64_t)b->stack_id << 32) | b->epoch;
    c->recs[c->n].size = b->size;
    c->n++;
}

/* LSD radix sort of recs by key, 8 bits at a time, skipping bytes every key shares.
 * `tmp` has room for n records. Returns the buffer that holds the result. */
static struct rec *radix_sort(struct rec *a, struct rec *tmp, size_t n)
{
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++) {
            count[(a[i].key >> shift) & 0xff]++;
        }
        if (n == 0 || count[(a[0].key >> shift) & 0xff] == n) {
            continue;
        }
        size_t pos = 0;
        for (unsigned d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++) {
            tmp[count[(a[i].key >> shift) & 0xff]++] = a[i];
        }
        struct rec *swap = a;
        a = tmp;
        tmp = swap;
    }
    return a;
}

/* ---------------------------------------------------------------- frames */

static void put_begin(struct chan *c, uint32_t round, uint32_t flags, const uint64_t *counters)
{
    reserve(c, PROTO_HEADER_SIZE + 8 + 8 * PROTO_NCOUNTERS);
    proto_frame_begin(&c->out, PROTO_SNAP_BEGIN);
    proto_put_u32(&c->out, round);
    proto_put_u32(&c->out, flags);
    for (unsigned i = 0; i < PROTO_NCOUNTERS; i++) {
        proto_put_u64(&c->out, counters[i]);
    }
    proto_frame_end(&c->out);
}

static uint32_t put_new_stacks(struct chan *c, uint32_t upto)
{
    uint32_t sent = 0;
    for (uint32_t id = c->stacks_sent + 1; id <= upto; id++) {
        const struct ag_stack_entry *e = ag_stack_get(&c->st->stacks, id);
        if (!e) {
            break;
        }
        reserve(c, PROTO_HEADER_SIZE + 8 + 8u * e->depth);
        proto_frame_begin(&c->out, PROTO_STACK);
        proto_put_u32(&c->out, id);
        proto_put_u16(&c->out, e->depth);
        proto_put_u16(&c->out, e->flags);
        for (unsigned i = 0; i < e->depth; i++) {
            proto_put_u64(&c->out, (uint64_t)e->pcs[i]);
        }
        proto_frame_end(&c->out);
        c->stacks_sent = id;
        sent++;
    }
    return sent;
}

/* Emits one SITE for stack `id` from its sorted records r[0..n). The births list is capped to
 * what fits in the buffer; epochs beyond the cap are folded into the last entry. */
static void put_site(struct chan *c, uint32_t id, const struct rec *r, size_t n)
{
    uint64_t alloc_blocks;
    uint64_t alloc_bytes;
    ag_stack_allocs(&c->st->stacks, id, &alloc_blocks, &alloc_bytes);
    uint64_t live_bytes = 0;
    uint32_t births = 0;
    for (size_t i = 0; i < n; i++) {
        live_bytes += r[i].size;
        if (i == 0 || (uint32_t)r[i].key != (uint32_t)r[i - 1].key) {
            births++;
        }
    }
    uint32_t max_births = (OUT_CAP - PROTO_HEADER_SIZE - SITE_FIXED) / BIRTH_SIZE;
    if (births > max_births) {
        births = max_births;
    }
    reserve(c, PROTO_HEADER_SIZE + SITE_FIXED + (size_t)births * BIRTH_SIZE);
    proto_frame_begin(&c->out, PROTO_SITE);
    proto_put_u32(&c->out, id);
    proto_put_u32(&c->out, births);
    proto_put_u64(&c->out, live_bytes);
    proto_put_u64(&c->out, n);
    proto_put_u64(&c->out, alloc_blocks);
    proto_put_u64(&c->out, alloc_bytes);
    size_t i = 0;
    for (uint32_t b = 0; b < births; b++) {
        uint32_t epoch = (uint32_t)r[i].key;
        uint64_t blocks = 0;
        uint64_t bytes = 0;
        bool last = b + 1 == births;
        while (i < n && (last || (uint32_t)r[i].key == epoch)) {
            blocks++;
            bytes += r[i].size;
            i++;
        }
        proto_put_u32(&c->out, epoch);
        proto_put_u32(&c->out, 0);
        proto_put_u64(&c->out, blocks);
        proto_put_u64(&c->out, bytes);
    }
    proto_frame_end(&c->out);
}

static uint32_t put_sites(struct chan *c, const struct rec *r, size_t n, uint32_t n_stacks)
{
    uint32_t sites = 0;
    size_t i = 0;
    for (uint32_t id = 1; id <= n_stacks; id++) {
        size_t start = i;
        while (i < n && (uint32_t)(r[i].key >> 32) == id) {
            i++;
        }
        uint64_t alloc_blocks;
        uint64_t alloc_bytes;
        ag_stack_allocs(&c->st->stacks, id, &alloc_blocks, &alloc_bytes);
        if (i > start || alloc_blocks > 0) {
            put_site(c, id, r + start, i - start);
            sites++;
        }
    }
    return sites;
}

struct objects {
    struct chan *c;
    uint32_t n;
};

/* Copies the GNU build id of an object, if it has one. Returns its length. */
static size_t build_id(const struct dl_phdr_info *info, const uint8_t **out)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) {
            continue;
        }
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
            const uint8_t *name = p + sizeof(*nh);
            const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
            const uint8_t *next = desc + ((nh->n_descsz + 3) & ~3u);
            if (next > end) {
                break;
            }
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                *out = desc;
                return nh->n_descsz;
            }
            p = next;
        }
    }
    return 0;
}

static int object_visit(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct objects *o = ctx;
    struct chan *c = o->c;
    uint16_t segs = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X)) {
            segs++;
        }
    }
    if (segs == 0 || segs > PROTO_MAX_SEGS) {
        return 0;
    }
    char exe[4096];
    const char *path = info->dlpi_name;
    size_t path_len = path ? strlen(path) : 0;
    if (path_len == 0) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe));
        path = exe;
        path_len = n > 0 ? (size_t)n : 0;
    }
    const uint8_t *bid = NULL;
    size_t bid_len = build_id(info, &bid);
    reserve(c, PROTO_HEADER_SIZE + 16 + 24u * segs + 4 + path_len + bid_len);
    proto_frame_begin(&c->out, PROTO_OBJECT);
    proto_put_u64(&c->out, (uint64_t)info->dlpi_addr);
    proto_put_u16(&c->out, segs);
    proto_put_u16(&c->out, 0);
    proto_put_u32(&c->out, 0);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            proto_put_u64(&c->out, (uint64_t)(info->dlpi_addr + ph->p_vaddr));
            proto_put_u64(&c->out, (uint64_t)(info->dlpi_addr + ph->p_vaddr + ph->p_memsz));
            proto_put_u64(&c->out, (uint64_t)ph->p_offset);
        }
    }
    proto_put_str(&c->out, path, path_len);
    proto_put_str(&c->out, bid, bid_len);
    proto_frame_end(&c->out);
    o->n++;
    return 0;
}

/* ---------------------------------------------------------------- one snapshot */

static void snapshot(struct chan *c, uint32_t round)
{
    struct ag_state *st = c->st;
    /* Whatever is allocated from now on belongs to the next round. */
    atomic_store_explicit(&st->epoch, round + 1, memory_order_relaxed);

    /* The agent's own memory as it stands between snapshots, before the scratch below. */
    uint64_t agent_bytes = ag_mem_mapped();
    struct collect col = {.canary = st->canary};
    struct rec *tmp = NULL;
    size_t map_size = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
        struct ag_table_totals pre;
        ag_table_totals(&st->table, &pre);
        col.cap = pre.live_blocks + pre.live_blocks / 4 + 1024;
        map_size = col.cap * sizeof(struct rec);
        col.recs = ag_mem_map(map_size);
        tmp = ag_mem_map(map_size);
        col.n = 0;
        col.overflow = false;
        col.canary_seen = false;
        if (col.recs && tmp) {
            ag_table_walk(&st->table, collect_visit, &col);
            if (!col.overflow) {
                break;
            }
        }
        ag_mem_unmap(col.recs, map_size);
        ag_mem_unmap(tmp, map_size);
        col.recs = tmp = NULL;
    }

    struct ag_table_totals tot;
    ag_table_totals(&st->table, &tot);
    uint32_t n_stacks = ag_stack_count(&st->stacks); /* after the walk: covers every id seen */
    struct mallinfo2 mi = mallinfo2();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);

    uint64_t live_bytes = 0;
    uint64_t live_blocks = 0;
    struct rec *sorted = NULL;
    if (col.recs) {
        sorted = radix_sort(col.recs, tmp, col.n);
        for (size_t i = 0; i < col.n; i++) {
            live_bytes += sorted[i].size;
        }
        live_blocks = col.n;
    }
    uint64_t counters[PROTO_NCOUNTERS] = {0};
    counters[PROTO_C_LIVE_BYTES] = live_bytes;
    counters[PROTO_C_LIVE_BLOCKS] = live_blocks;
    counters[PROTO_C_RSS_BYTES] = rss_bytes();
    counters[PROTO_C_HEAP_ARENA] = mi.arena;
    counters[PROTO_C_HEAP_MMAP] = mi.hblkhd;
    counters[PROTO_C_HEAP_INUSE] = mi.uordblks;
    counters[PROTO_C_HEAP_FREE] = mi.fordblks;
    counters[PROTO_C_AGENT_BYTES] = agent_bytes;
    counters[PROTO_C_ALLOCS] = tot.allocs;
    counters[PROTO_C_FREES] = tot.frees;
    counters[PROTO_C_UNKNOWN_FREES] = tot.unknown;
    counters[PROTO_C_UNTRACKED] = atomic_load_explicit(&st->untracked, memory_order_relaxed);
    counters[PROTO_C_DROPPED] = tot.dropped + (col.recs ? 0 : tot.live_blocks);
    counters[PROTO_C_UNWIND_ERRORS] =
        atomic_load_explicit(&st->unwind_errors, memory_order_relaxed);
    counters[PROTO_C_TRUNCATED] = atomic_load_explicit(&st->truncated, memory_order_relaxed);
    counters[PROTO_C_TIME_NS] = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

    uint32_t flags = 0;
    if (col.canary_seen) {
        flags |= PROTO_SNAP_CANARY_LIVE;
    }
    if (atomic_load_explicit(&st->mode, memory_order_relaxed) != AG_MODE_TRACK) {
        flags |= PROTO_SNAP_PASSTHROUGH;
    }
    if (counters[PROTO_C_TRUNCATED] > 0) {
        flags |= PROTO_SNAP_TRUNCATED;
    }

    put_begin(c, round, flags, counters);
    uint32_t stacks = put_new_stacks(c, n_stacks);
    uint32_t sites = sorted ? put_sites(c, sorted, col.n, n_stacks) : 0;
    struct objects objs = {.c = c};
    dl_iterate_phdr(object_visit, &objs);
    reserve(c, PROTO_HEADER_SIZE + 16);
    proto_frame_begin(&c->out, PROTO_SNAP_END);
    proto_put_u32(&c->out, round);
    proto_put_u32(&c->out, stacks);
    proto_put_u32(&c->out, sites);
    proto_put_u32(&c->out, objs.n);
    proto_frame_end(&c->out);
    flush(c);

    ag_mem_unmap(col.recs, map_size);
    ag_mem_unmap(tmp, map_size);
}

static void *serve(void *arg)
{
    struct chan c = {.st = arg};
    c.fd = c.st->chan_fd;
    ag_guard = 1;
    c.out.data = ag_mem_map(OUT_CAP);
    c.out.cap = OUT_CAP;
    if (!c.out.data) {
        atomic_store(&c.st->mode, AG_MODE_PASS);
        return NULL;
    }
    for (;;) {
        uint8_t hdr[PROTO_HEADER_SIZE];
        struct proto_header h;
        uint8_t payload[64];
        if (read_all(c.st->chan_fd, hdr, sizeof(hdr)) < 0 || proto_header_parse(hdr, &h) < 0 ||
            h.length > sizeof(payload) || read_all(c.st->chan_fd, payload, h.length) < 0) {
            break;
        }
        if (h.type == PROTO_REQ_SNAPSHOT) {
            struct proto_rbuf r = {.data = payload, .len = h.length};
            uint32_t round;
            if (proto_get_u32(&r, &round) < 0) {
                break;
            }
            snapshot(&c, round);
            if (c.failed) {
                break;
            }
        }
    }
    /* The harness is gone: nobody will ask again, so stop paying for tracking. */
    atomic_store(&c.st->mode, AG_MODE_PASS);
    return NULL;
}

int ag_chan_start(struct ag_state *st)
{
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, serve, st);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -rc;
}

int ag_chan_snapshot_to(struct ag_state *st, int fd, uint32_t round)
{
    struct chan c = {.st = st, .fd = fd};
    c.out.data = ag_mem_map(OUT_CAP);
    c.out.cap = OUT_CAP;
    if (!c.out.data) {
        return -ENOMEM;
    }
    snapshot(&c, round);
    ag_mem_unmap(c.out.data, OUT_CAP);
    return c.failed ? -EIO : 0;
}
