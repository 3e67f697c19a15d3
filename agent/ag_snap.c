/* SPDX-License-Identifier: MIT */
/* ag_snap.c - one snapshot: read the counters, sort them by site and round, encode the frames.
 *
 * Nothing here walks or locks the live blocks: the table counts every block in its cell (stack
 * id, round of birth) as it is inserted and removed (ag_table.h), so a snapshot sums the
 * threads' counters per cell and per stack into one scratch region, adds one record per region
 * the program mapped, sorts the records by (stack id, round of birth) with a radix sort so each
 * site's records are contiguous and in birth order, and encodes them. The scratch region is
 * O(cells + stacks), not O(blocks), and is unmapped before returning, so the agent's memory
 * between snapshots is the tables alone; the threads that allocate meanwhile are never stopped.
 */
#include "ag_snap.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ag_heap.h"
#include "ag_mem.h"

#define SITE_FIXED  (4 + 4 + 8 * 4) /* SITE payload before its births */
#define BIRTH_SIZE  24u
#define COPY_TRIES  4
#define OBJECT_HEAD (16u + 4u) /* OBJECT payload without segments, path and build id */

/* The live blocks of one (stack, round of birth): a cell's counter sums, or a region. */
struct rec {
    uint64_t key; /* stack id << 32 | epoch */
    int64_t blocks;
    int64_t bytes;
};

/* What a snapshot reads: the cells' and stacks' counter sums, and the sorted records. */
struct collect {
    struct rec *recs; /* after merge_recs: one per (stack, epoch) with live blocks, sorted */
    size_t n;
    size_t cap;
    bool overflow;
    int64_t *alloc_blocks; /* per stack id - 1 */
    int64_t *alloc_bytes;
    uint32_t n_stacks;
    void *map;       /* one scratch mapping for all of the above */
    size_t map_size; /* its size */
    uintptr_t canary;
    bool canary_seen;
};

/* ---------------------------------------------------------------- output */

void ag_snap_out_flush(struct ag_snap_out *o)
{
    if (o->buf.len > 0) {
        o->flush(o->ctx, o->buf.data, o->buf.len);
    }
    o->buf.len = 0;
    o->buf.overflow = false;
}

void ag_snap_out_reserve(struct ag_snap_out *o, size_t need)
{
    if (o->buf.cap - o->buf.len < need) {
        ag_snap_out_flush(o);
    }
}

/* ---------------------------------------------------------------- collecting the counters */

/* ag_region_walk callback: one record per region. */
static void collect_region(void *ctx, const struct ag_region *g)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        c->overflow = true;
        return;
    }
    c->recs[c->n].key = ((uint64_t)g->stack_id << 32) | g->epoch;
    c->recs[c->n].blocks = 1;
    c->recs[c->n].bytes = (int64_t)(g->end - g->start);
    c->n++;
}

/* Bytes of `n` elements of `size`, rounded up to 16. */
static size_t scratch_len(size_t n, size_t size)
{
    return (n * size + 15) & ~(size_t)15;
}

/* Reads the counters into one scratch mapping: per cell, the live blocks and bytes summed over
 * the threads, made into one record per cell with live blocks (the canary taken out), plus one
 * record per region; per stack 1..n_stacks, the allocations. The records have room for the
 * sort after them (*tmp). On failure (no memory, or the regions outgrew every try) c->map and
 * c->recs are NULL. */
static void collect_counters(struct ag_state *st, struct collect *c, struct rec **tmp)
{
    uint32_t n_cells = ag_table_cell_count(&st->table);
    /* Read after the cells: every cell's stack is at or below it. */
    c->n_stacks = ag_stack_count(&st->stacks);
    struct ag_block canary;
    c->canary_seen = c->canary && ag_table_find(&st->table, c->canary, &canary);
    for (int attempt = 0; attempt < COPY_TRIES; attempt++) {
        size_t regions = ag_region_count(&st->regions);
        c->cap = (size_t)n_cells + regions + regions / 4 + 64;
        size_t sums = scratch_len(n_cells, sizeof(int64_t));
        size_t allocs = scratch_len(c->n_stacks, sizeof(int64_t));
        size_t recs = scratch_len(c->cap, sizeof(struct rec));
        c->map_size = 2 * sums + 2 * allocs + 2 * recs;
        uint8_t *m = ag_mem_map(c->map_size);
        if (!m) {
            break;
        }
        c->map = m;
        int64_t *cell_blocks = (int64_t *)(void *)m;
        int64_t *cell_bytes = (int64_t *)(void *)(m + sums);
        c->alloc_blocks = (int64_t *)(void *)(m + 2 * sums);
        c->alloc_bytes = (int64_t *)(void *)(m + 2 * sums + allocs);
        c->recs = (struct rec *)(void *)(m + 2 * sums + 2 * allocs);
        *tmp = (struct rec *)(void *)(m + 2 * sums + 2 * allocs + recs);
        c->n = 0;
        c->overflow = false;
        ag_table_cell_sums(&st->table, n_cells, cell_blocks, cell_bytes);
        ag_stack_alloc_sums(&st->stacks, c->n_stacks, c->alloc_blocks, c->alloc_bytes);
        for (uint32_t id = 1; id <= n_cells; id++) {
            struct ag_table_cell cell;
            if ((cell_blocks[id - 1] == 0 && cell_bytes[id - 1] == 0) ||
                !ag_table_cell(&st->table, id, &cell)) {
                continue;
            }
            c->recs[c->n].key = ((uint64_t)cell.stack_id << 32) | cell.epoch;
            c->recs[c->n].blocks = cell_blocks[id - 1];
            c->recs[c->n].bytes = cell_bytes[id - 1];
            c->n++;
        }
        if (c->canary_seen) {
            /* Counted like any block; taken back out here (its record merges with its cell's). */
            c->recs[c->n].key = ((uint64_t)canary.stack_id << 32) | canary.epoch;
            c->recs[c->n].blocks = -1;
            c->recs[c->n].bytes = -(int64_t)canary.size;
            c->n++;
        }
        ag_region_walk(&st->regions, collect_region, c);
        if (!c->overflow) {
            return;
        }
        ag_mem_unmap(c->map, c->map_size);
        c->map = NULL;
    }
    c->map = NULL;
    c->recs = NULL;
    *tmp = NULL;
    c->n = 0;
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

/* Folds the records of one key in sorted r[0..n) into one and drops those with no live block
 * (a sum read while threads count may even dip below 0). Returns the new count. */
static size_t merge_recs(struct rec *r, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        struct rec m = r[i++];
        while (i < n && r[i].key == m.key) {
            m.blocks += r[i].blocks;
            m.bytes += r[i].bytes;
            i++;
        }
        if (m.blocks > 0) {
            if (m.bytes < 0) {
                m.bytes = 0;
            }
            r[out++] = m;
        }
    }
    return out;
}

/* ---------------------------------------------------------------- counters */

/* Resident set size from /proc/self/statm, in bytes; 0 when it cannot be read. */
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

/* What a snapshot reads right after the counters. */
struct figures {
    struct ag_table_totals tot;
    struct ag_heap_figures mi;
    struct timespec ts;
};

/* Reads the table totals, the allocator's figures and the clock. */
static void read_figures(struct ag_state *st, struct figures *f)
{
    ag_table_totals(&st->table, &f->tot);
    ag_heap_read(AG_HEAP_WAIT_MS, &f->mi);
    clock_gettime(CLOCK_MONOTONIC, &f->ts);
}

/* Fills the SNAP_BEGIN counters. `c` is what was collected (c->recs NULL when that failed),
 * `sorted` its merged records, `agent_bytes` the agent's memory before the scratch region. */
static void fill_counters(struct ag_state *st, const struct collect *c, const struct rec *sorted,
                          const struct figures *f, uint64_t agent_bytes, uint64_t *counters)
{
    uint64_t live_bytes = 0;
    uint64_t live_blocks = 0;
    for (size_t i = 0; sorted && i < c->n; i++) {
        live_bytes += (uint64_t)sorted[i].bytes;
        live_blocks += (uint64_t)sorted[i].blocks;
    }
    memset(counters, 0, PROTO_NCOUNTERS * sizeof(*counters));
    counters[PROTO_C_LIVE_BYTES] = live_bytes;
    counters[PROTO_C_LIVE_BLOCKS] = live_blocks;
    counters[PROTO_C_RSS_BYTES] = rss_bytes();
    counters[PROTO_C_HEAP_ARENA] = f->mi.arena;
    counters[PROTO_C_HEAP_MMAP] = f->mi.hblkhd;
    counters[PROTO_C_HEAP_INUSE] = f->mi.uordblks;
    counters[PROTO_C_HEAP_FREE] = f->mi.fordblks;
    counters[PROTO_C_AGENT_BYTES] = agent_bytes;
    counters[PROTO_C_ALLOCS] = f->tot.allocs;
    counters[PROTO_C_FREES] = f->tot.frees;
    counters[PROTO_C_UNKNOWN_FREES] = f->tot.unknown;
    counters[PROTO_C_UNTRACKED] = atomic_load_explicit(&st->untracked, memory_order_relaxed);
    counters[PROTO_C_DROPPED] = f->tot.dropped + (c->recs ? 0 : f->tot.live_blocks);
    counters[PROTO_C_UNWIND_ERRORS] =
        atomic_load_explicit(&st->unwind_errors, memory_order_relaxed);
    counters[PROTO_C_TRUNCATED] = atomic_load_explicit(&st->truncated, memory_order_relaxed);
    counters[PROTO_C_TIME_NS] = (uint64_t)f->ts.tv_sec * 1000000000ull + (uint64_t)f->ts.tv_nsec;
}

/* SNAP_BEGIN flags from the copy, the mode and the counters. */
static uint32_t snap_flags(struct ag_state *st, const struct collect *c, const uint64_t *counters)
{
    uint32_t flags = 0;
    if (c->canary_seen) {
        flags |= PROTO_SNAP_CANARY_LIVE;
    }
    if (atomic_load_explicit(&st->mode, memory_order_relaxed) != AG_MODE_TRACK) {
        flags |= PROTO_SNAP_PASSTHROUGH;
    }
    if (counters[PROTO_C_TRUNCATED] > 0) {
        flags |= PROTO_SNAP_TRUNCATED;
    }
    return flags;
}

/* ---------------------------------------------------------------- frames */

/* SNAP_BEGIN. */
static void put_begin(struct ag_snap_out *o, uint32_t round, uint32_t flags,
                      const uint64_t *counters)
{
    ag_snap_out_reserve(o, PROTO_HEADER_SIZE + 8 + 8 * PROTO_NCOUNTERS);
    proto_frame_begin(&o->buf, PROTO_SNAP_BEGIN);
    proto_put_u32(&o->buf, round);
    proto_put_u32(&o->buf, flags);
    for (unsigned i = 0; i < PROTO_NCOUNTERS; i++) {
        proto_put_u64(&o->buf, counters[i]);
    }
    proto_frame_end(&o->buf);
}

/* One STACK per id from o->stacks_sent + 1 to `upto`. Returns how many were sent. */
static uint32_t put_new_stacks(struct ag_state *st, struct ag_snap_out *o, uint32_t upto)
{
    uint32_t sent = 0;
    for (uint32_t id = o->stacks_sent + 1; id <= upto; id++) {
        const struct ag_stack_entry *e = ag_stack_get(&st->stacks, id);
        if (!e) {
            break;
        }
        ag_snap_out_reserve(o, PROTO_HEADER_SIZE + 8 + 8u * e->depth);
        proto_frame_begin(&o->buf, PROTO_STACK);
        proto_put_u32(&o->buf, id);
        proto_put_u16(&o->buf, e->depth);
        proto_put_u16(&o->buf, e->flags);
        for (unsigned i = 0; i < e->depth; i++) {
            proto_put_u64(&o->buf, (uint64_t)e->pcs[i]);
        }
        proto_frame_end(&o->buf);
        o->stacks_sent = id;
        sent++;
    }
    return sent;
}

/* One SITE for stack `id` from its merged records r[0..n) (one per epoch, ascending). The
 * births list is capped to what fits in the buffer; epochs beyond the cap are folded into the
 * last entry. */
static void put_site(const struct collect *c, struct ag_snap_out *o, uint32_t id,
                     const struct rec *r, size_t n)
{
    uint64_t alloc_blocks = c->alloc_blocks[id - 1] > 0 ? (uint64_t)c->alloc_blocks[id - 1] : 0;
    uint64_t alloc_bytes = c->alloc_bytes[id - 1] > 0 ? (uint64_t)c->alloc_bytes[id - 1] : 0;
    uint64_t live_bytes = 0;
    uint64_t live_blocks = 0;
    for (size_t i = 0; i < n; i++) {
        live_bytes += (uint64_t)r[i].bytes;
        live_blocks += (uint64_t)r[i].blocks;
    }
    uint32_t max_births = (uint32_t)((o->buf.cap - PROTO_HEADER_SIZE - SITE_FIXED) / BIRTH_SIZE);
    uint32_t births = n > max_births ? max_births : (uint32_t)n;
    ag_snap_out_reserve(o, PROTO_HEADER_SIZE + SITE_FIXED + (size_t)births * BIRTH_SIZE);
    proto_frame_begin(&o->buf, PROTO_SITE);
    proto_put_u32(&o->buf, id);
    proto_put_u32(&o->buf, births);
    proto_put_u64(&o->buf, live_bytes);
    proto_put_u64(&o->buf, live_blocks);
    proto_put_u64(&o->buf, alloc_blocks);
    proto_put_u64(&o->buf, alloc_bytes);
    size_t i = 0;
    for (uint32_t b = 0; b < births; b++) {
        uint32_t epoch = (uint32_t)r[i].key;
        uint64_t blocks = 0;
        uint64_t bytes = 0;
        bool last = b + 1 == births;
        while (i < n && (last || (uint32_t)r[i].key == epoch)) {
            blocks += (uint64_t)r[i].blocks;
            bytes += (uint64_t)r[i].bytes;
            i++;
        }
        proto_put_u32(&o->buf, epoch);
        proto_put_u32(&o->buf, 0);
        proto_put_u64(&o->buf, blocks);
        proto_put_u64(&o->buf, bytes);
    }
    proto_frame_end(&o->buf);
}

/* One SITE per stack 1..c->n_stacks that has live records in r[0..n) or allocated anything.
 * Returns how many were sent. */
static uint32_t put_sites(const struct collect *c, struct ag_snap_out *o, const struct rec *r,
                          size_t n)
{
    uint32_t sites = 0;
    size_t i = 0;
    while (i < n && (uint32_t)(r[i].key >> 32) == 0) {
        i++; /* blocks whose stack could not be stored: counted, no site */
    }
    for (uint32_t id = 1; id <= c->n_stacks; id++) {
        size_t start = i;
        while (i < n && (uint32_t)(r[i].key >> 32) == id) {
            i++;
        }
        if (i > start || c->alloc_blocks[id - 1] > 0) {
            put_site(c, o, id, r + start, i - start);
            sites++;
        }
    }
    return sites;
}

/* ---------------------------------------------------------------- loaded objects */

struct objects {
    struct ag_snap_out *o;
    uint32_t n;
};

/* Points *out at the GNU build id of an object, if it has one. Returns its length, or 0. */
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

/* Executable PT_LOAD segments of an object. */
static uint16_t exec_segments(const struct dl_phdr_info *info)
{
    uint16_t segs = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X)) {
            segs++;
        }
    }
    return segs;
}

/* dl_iterate_phdr callback: one OBJECT per object with 1..PROTO_MAX_SEGS executable segments
 * (the main program, whose name is empty, under the path of /proc/self/exe). */
static int object_visit(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct objects *objs = ctx;
    struct ag_snap_out *o = objs->o;
    uint16_t segs = exec_segments(info);
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
    ag_snap_out_reserve(o, PROTO_HEADER_SIZE + OBJECT_HEAD + 24u * segs + path_len + bid_len);
    proto_frame_begin(&o->buf, PROTO_OBJECT);
    proto_put_u64(&o->buf, (uint64_t)info->dlpi_addr);
    proto_put_u16(&o->buf, segs);
    proto_put_u16(&o->buf, 0);
    proto_put_u32(&o->buf, 0);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            proto_put_u64(&o->buf, (uint64_t)(info->dlpi_addr + ph->p_vaddr));
            proto_put_u64(&o->buf, (uint64_t)(info->dlpi_addr + ph->p_vaddr + ph->p_memsz));
            proto_put_u64(&o->buf, (uint64_t)ph->p_offset);
        }
    }
    proto_put_str(&o->buf, path, path_len);
    proto_put_str(&o->buf, bid, bid_len);
    proto_frame_end(&o->buf);
    objs->n++;
    return 0;
}

/* ---------------------------------------------------------------- one snapshot */

/* SNAP_END. */
static void put_end(struct ag_snap_out *o, uint32_t round, uint32_t stacks, uint32_t sites,
                    uint32_t objects)
{
    ag_snap_out_reserve(o, PROTO_HEADER_SIZE + 16);
    proto_frame_begin(&o->buf, PROTO_SNAP_END);
    proto_put_u32(&o->buf, round);
    proto_put_u32(&o->buf, stacks);
    proto_put_u32(&o->buf, sites);
    proto_put_u32(&o->buf, objects);
    proto_frame_end(&o->buf);
}

void ag_snap_write(struct ag_state *st, struct ag_snap_out *out, uint32_t round)
{
    AG_ASSERT_GUARDED();
    AG_ASSERT(out->buf.cap >= AG_SNAP_BUF_MIN && out->buf.len == 0);
    ag_lock_take(&st->snap_lock);
    /* Whatever is allocated from now on belongs to the next round. */
    atomic_store_explicit(&st->epoch, round + 1, memory_order_relaxed);

    /* The agent's own memory as it stands between snapshots, before the scratch below. */
    uint64_t agent_bytes = ag_mem_mapped();
    struct collect col = {.canary = st->canary};
    struct rec *tmp = NULL;
    collect_counters(st, &col, &tmp);
    struct figures fig;
    read_figures(st, &fig);
    struct rec *sorted = NULL;
    if (col.recs) {
        sorted = radix_sort(col.recs, tmp, col.n);
        col.n = merge_recs(sorted, col.n);
    }

    uint64_t counters[PROTO_NCOUNTERS];
    fill_counters(st, &col, sorted, &fig, agent_bytes, counters);
    put_begin(out, round, snap_flags(st, &col, counters), counters);
    uint32_t stacks = put_new_stacks(st, out, col.n_stacks);
    uint32_t sites = sorted ? put_sites(&col, out, sorted, col.n) : 0;
    struct objects objs = {.o = out};
    dl_iterate_phdr(object_visit, &objs);
    put_end(out, round, stacks, sites, objs.n);
    ag_snap_out_flush(out);

    ag_mem_unmap(col.map, col.map_size);
    ag_lock_release(&st->snap_lock);
}
