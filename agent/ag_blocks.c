/* SPDX-License-Identifier: MIT */
/* ag_blocks.c - the live block list for the retainer scan (see ag_blocks.h). */
#include "ag_blocks.h"

#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ag_mem.h"

#define COPY_TRIES     4
#define BLOCK_WIRE     24u /* one block in a BLOCKS frame */
#define OBJECT_HEAD    (8u + 4u + 4u + 8u + 8u)
#define MAX_RANGES     16u                  /* writable segments per object, at most */
#define STATIC_TLS_MAX ((uintptr_t)1 << 20) /* a static TLS block lies this close below the TP */

/* The copy of the table. */
struct copy {
    struct ag_block *b;
    size_t n, cap;
    bool overflow;
};

/* ag_table_walk callback: copies one block (quick: the shard is locked). */
static void copy_visit(void *ctx, const struct ag_block *b)
{
    struct copy *c = ctx;
    if (c->n == c->cap) {
        c->overflow = true;
        return;
    }
    c->b[c->n++] = *b;
}

/* ag_region_walk callback: one of the program's own mappings (or break growth) as a block of its
 * stack, as snapshots count it. */
static void copy_region(void *ctx, const struct ag_region *g)
{
    struct copy *c = ctx;
    if (c->n == c->cap) {
        c->overflow = true;
        return;
    }
    c->b[c->n++] = (struct ag_block){
        .ptr = g->start, .size = g->end - g->start, .stack_id = g->stack_id, .epoch = g->epoch};
}

/* Copies the live table and the regions into a scratch mapping of *map_size bytes (c->b NULL on
 * failure). */
static void copy_table(struct ag_state *st, struct copy *c, size_t *map_size)
{
    for (int attempt = 0; attempt < COPY_TRIES; attempt++) {
        struct ag_table_totals pre;
        ag_table_totals(&st->table, &pre);
        size_t regions = ag_region_count(&st->regions);
        c->cap = pre.live_blocks + regions + (pre.live_blocks + regions) / 4 + 1024;
        *map_size = c->cap * sizeof(struct ag_block);
        c->b = ag_mem_map(*map_size);
        c->n = 0;
        c->overflow = false;
        if (c->b) {
            ag_table_walk(&st->table, copy_visit, c);
            ag_region_walk(&st->regions, copy_region, c);
            if (!c->overflow) {
                return;
            }
        }
        ag_mem_unmap(c->b, *map_size);
        c->b = NULL;
    }
}

/* ---------------------------------------------------------------- loaded objects */

struct objects {
    struct ag_snap_out *o;
    uintptr_t self; /* an address in the agent's own writable data */
    uintptr_t tp;   /* this thread's thread pointer */
};

/* dl_iterate_phdr callback: one BLOCKS_OBJECT per object with writable data or TLS. */
static int object_visit(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct objects *objs = ctx;
    struct ag_snap_out *o = objs->o;
    uint32_t n_ranges = 0;
    uint32_t flags = 0;
    uint64_t tls_memsz = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && ph->p_memsz > 0 &&
            n_ranges < MAX_RANGES) {
            n_ranges++;
            if (objs->self >= lo && objs->self < lo + ph->p_memsz) {
                flags |= PROTO_BOBJ_AGENT;
            }
        } else if (ph->p_type == PT_TLS && ph->p_memsz > 0) {
            tls_memsz = ph->p_memsz;
        }
    }
    int64_t tls_offset = 0;
    if (tls_memsz > 0) {
        /* Static TLS sits just below the thread pointer, at the same offset in every thread; a
         * module loaded later gets blocks the loader allocates (none yet for this thread, which
         * never touches them). */
        uintptr_t data = (uintptr_t)info->dlpi_tls_data;
        if (data != 0 && data < objs->tp && objs->tp - data <= STATIC_TLS_MAX) {
            flags |= PROTO_BOBJ_TLS_STATIC;
            tls_offset = -(int64_t)(objs->tp - data);
        } else {
            flags |= PROTO_BOBJ_TLS_DYNAMIC;
        }
    }
    if (n_ranges == 0 && tls_memsz == 0) {
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
    ag_snap_out_reserve(o, PROTO_HEADER_SIZE + OBJECT_HEAD + 16u * n_ranges + 2 + path_len);
    proto_frame_begin(&o->buf, PROTO_BLOCKS_OBJECT);
    proto_put_u64(&o->buf, (uint64_t)info->dlpi_addr);
    proto_put_u32(&o->buf, flags);
    proto_put_u32(&o->buf, n_ranges);
    proto_put_u64(&o->buf, (uint64_t)tls_offset);
    proto_put_u64(&o->buf, tls_memsz);
    uint32_t put = 0;
    for (int i = 0; i < info->dlpi_phnum && put < n_ranges; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && ph->p_memsz > 0) {
            proto_put_u64(&o->buf, (uint64_t)(info->dlpi_addr + ph->p_vaddr));
            proto_put_u64(&o->buf, (uint64_t)(info->dlpi_addr + ph->p_vaddr + ph->p_memsz));
            put++;
        }
    }
    proto_put_str(&o->buf, path, path_len);
    proto_frame_end(&o->buf);
    return 0;
}

/* ---------------------------------------------------------------- the answer */

/* BLOCKS frames, as many blocks as fit the buffer each. */
static void put_blocks(struct ag_snap_out *o, const struct copy *c)
{
    size_t per = (o->buf.cap - PROTO_HEADER_SIZE - 8) / BLOCK_WIRE;
    if (per > (PROTO_MAX_PAYLOAD - 8) / BLOCK_WIRE) {
        per = (PROTO_MAX_PAYLOAD - 8) / BLOCK_WIRE;
    }
    for (size_t i = 0; i < c->n;) {
        size_t n = c->n - i < per ? c->n - i : per;
        ag_snap_out_reserve(o, PROTO_HEADER_SIZE + 8 + n * BLOCK_WIRE);
        proto_frame_begin(&o->buf, PROTO_BLOCKS);
        proto_put_u32(&o->buf, (uint32_t)n);
        proto_put_u32(&o->buf, 0);
        for (size_t k = i; k < i + n; k++) {
            proto_put_u64(&o->buf, (uint64_t)c->b[k].ptr);
            proto_put_u64(&o->buf, c->b[k].size);
            proto_put_u32(&o->buf, c->b[k].stack_id);
            proto_put_u32(&o->buf, c->b[k].epoch);
        }
        proto_frame_end(&o->buf);
        i += n;
    }
}

void ag_blocks_write(struct ag_state *st, struct ag_snap_out *out)
{
    AG_ASSERT_GUARDED();
    AG_ASSERT(out->buf.cap >= AG_SNAP_BUF_MIN && out->buf.len == 0);
    /* The snapshot lock: a fork waits for the loader's lock taken below (see ag_core.h). */
    ag_lock_take(&st->snap_lock);
    struct copy c = {0};
    size_t map_size = 0;
    copy_table(st, &c, &map_size);

    ag_snap_out_reserve(out, PROTO_HEADER_SIZE + 16);
    proto_frame_begin(&out->buf, PROTO_BLOCKS_BEGIN);
    proto_put_u32(&out->buf, (uint32_t)syscall(SYS_gettid));
    proto_put_u32(&out->buf, 0);
    proto_put_u64(&out->buf, c.n);
    proto_frame_end(&out->buf);

    struct objects objs = {
        .o = out, .self = (uintptr_t)&ag_state, .tp = (uintptr_t)__builtin_thread_pointer()};
    dl_iterate_phdr(object_visit, &objs);
    if (c.b) {
        put_blocks(out, &c);
    }
    ag_snap_out_reserve(out, PROTO_HEADER_SIZE + 16);
    proto_frame_begin(&out->buf, PROTO_BLOCKS_END);
    proto_put_u64(&out->buf, c.n);
    proto_put_u32(&out->buf, c.b ? 0 : PROTO_BLOCKS_PARTIAL);
    proto_put_u32(&out->buf, 0);
    proto_frame_end(&out->buf);
    ag_snap_out_flush(out);
    ag_mem_unmap(c.b, map_size);
    ag_lock_release(&st->snap_lock);
}
