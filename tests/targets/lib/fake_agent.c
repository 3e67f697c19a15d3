/* SPDX-License-Identifier: MIT */
/* fake_agent.c - a stand-in for the agent that speaks the channel protocol but tracks nothing,
 * preloaded instead of the real agent to check that the harness trusts no broken agent.
 *
 * Its constructor joins the harness's socket (LEAKCHECK_SOCK, with LEAKCHECK_KEY) and says HELLO; a
 * thread answers every snapshot request with an empty snapshot whose flags depend on
 * LEAKCHECK_FAKE_MODE: passthrough        canary live, and pass-through from the first snapshot on
 *   passthrough-later  canary live; pass-through from the snapshot of round 2 on
 *   no-canary          no flags: the canary is never seen
 *   canary-lost        canary live up to round 1, gone from round 2 on
 *   garbage            bytes that are not a frame
 *   die-mid-snapshot   the process SIGKILLs itself half-way through the snapshot of round 3
 * Frames are written by hand (little-endian), as common/proto.h describes them.
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../../common/proto.h"

static int chan_fd = -1;
static const char *mode = "";

struct frame {
    uint8_t data[512];
    size_t len;
};

static void put(struct frame *f, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++) {
        f->data[f->len++] = (uint8_t)(v >> (8 * i));
    }
}

static void begin(struct frame *f, uint16_t type)
{
    f->len = 0;
    put(f, PROTO_MAGIC, 4);
    put(f, PROTO_VERSION, 2);
    put(f, type, 2);
    put(f, 0, 4);
}

/* Patches the payload length and sends the frame. Returns 0 or -1. */
static int send_frame(struct frame *f)
{
    uint32_t n = (uint32_t)(f->len - PROTO_HEADER_SIZE);
    for (int i = 0; i < 4; i++) {
        f->data[8 + i] = (uint8_t)(n >> (8 * i));
    }
    size_t off = 0;
    while (off < f->len) {
        ssize_t w = send(chan_fd, f->data + off, f->len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

static int read_full(void *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t r = read(chan_fd, (uint8_t *)buf + off, n - off);
        if (r <= 0) {
            return -1;
        }
        off += (size_t)r;
    }
    return 0;
}

static void answer(uint32_t round)
{
    struct frame f;
    if (strcmp(mode, "garbage") == 0) {
        memset(f.data, 0x5a, 64);
        f.len = 64;
        send(chan_fd, f.data, f.len, MSG_NOSIGNAL);
        return;
    }
    uint32_t flags = 0;
    if (strcmp(mode, "no-canary") != 0 && (strcmp(mode, "canary-lost") != 0 || round < 2)) {
        flags |= PROTO_SNAP_CANARY_LIVE;
    }
    if (strcmp(mode, "passthrough") == 0 ||
        (strcmp(mode, "passthrough-later") == 0 && round >= 2)) {
        flags |= PROTO_SNAP_PASSTHROUGH;
    }
    begin(&f, PROTO_SNAP_BEGIN);
    put(&f, round, 4);
    put(&f, flags, 4);
    for (int i = 0; i < PROTO_NCOUNTERS; i++) {
        put(&f, i == PROTO_C_LIVE_BYTES ? PROTO_CANARY_SIZE : i == PROTO_C_LIVE_BLOCKS ? 1 : 0, 8);
    }
    send_frame(&f);
    if (strcmp(mode, "die-mid-snapshot") == 0 && round == 3) {
        kill(getpid(), SIGKILL);
    }
    begin(&f, PROTO_SNAP_END);
    put(&f, round, 4);
    put(&f, 0, 4);
    put(&f, 0, 4);
    put(&f, 0, 4);
    send_frame(&f);
}

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        uint8_t h[PROTO_HEADER_SIZE];
        uint8_t payload[64];
        if (read_full(h, sizeof(h)) < 0) {
            return NULL;
        }
        uint32_t len =
            (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
        if (len > sizeof(payload) || read_full(payload, len) < 0) {
            return NULL;
        }
        uint16_t type = (uint16_t)(h[6] | h[7] << 8);
        if (type == PROTO_REQ_SNAPSHOT && len >= 4) {
            answer((uint32_t)payload[0] | (uint32_t)payload[1] << 8 | (uint32_t)payload[2] << 16 |
                   (uint32_t)payload[3] << 24);
        }
    }
}

/* Joins the harness's socket (LEAKCHECK_SOCK) with its key (LEAKCHECK_KEY), as the real agent
 * does. Returns the connection, or -1. */
static int join(void)
{
    const char *name = getenv(PROTO_ENV_SOCK);
    const char *hex = getenv(PROTO_ENV_KEY);
    if (!name || !hex || strlen(hex) != 2 * PROTO_KEY_SIZE || strlen(name) > 100) {
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path + 1, name, strlen(name));
    if (fd < 0 ||
        connect(fd, (struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))) < 0) {
        return -1;
    }
    chan_fd = fd;
    struct frame f;
    begin(&f, PROTO_AUTH);
    for (size_t i = 0; i < PROTO_KEY_SIZE; i++) {
        char byte[3] = {hex[2 * i], hex[2 * i + 1], 0};
        put(&f, (uint64_t)strtoul(byte, NULL, 16), 1);
    }
    return send_frame(&f) < 0 ? -1 : fd;
}

__attribute__((constructor)) static void fake_init(void)
{
    const char *m = getenv("LEAKCHECK_FAKE_MODE");
    if (join() < 0) {
        return;
    }
    mode = m ? m : "";
    struct frame f;
    static const char version[] = "fake";
    begin(&f, PROTO_HELLO);
    put(&f, (uint64_t)getpid(), 4);
    put(&f, 0, 4);
    put(&f, PROTO_CANARY_SIZE, 8);
    put(&f, sizeof(version) - 1, 2);
    memcpy(f.data + f.len, version, sizeof(version) - 1);
    f.len += sizeof(version) - 1;
    put(&f, 0, 2);
    if (send_frame(&f) < 0) {
        return;
    }
    pthread_t th;
    pthread_create(&th, NULL, serve, NULL);
}
