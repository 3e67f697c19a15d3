/* SPDX-License-Identifier: MIT */
/* file.c - atomic writes, capped reads, mkdir -p and safe names (see file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "io.h"

/* Ends the messages of a failed file_write(): the file on disk is the one from before. */
#define KEPT                                                                                       \
    "; the previous file, if any, is unchanged (free space or fix the folder, then run again)"

/* Makes the rename of a file in `path`'s folder durable. Best effort: can't fail. */
static void sync_parent(const char *path)
{
    char dir[PATH_MAX];
    fmt_c(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        if (slash == dir) {
            slash[1] = '\0';
        } else {
            *slash = '\0';
        }
    } else {
        fmt_c(dir, sizeof(dir), ".");
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

int file_write(const char *path, const void *data, size_t len, struct diag *d)
{
    char tmp[PATH_MAX];
    int rc = 0;
    if (fmt_c(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
        return diag_set(d, -ENAMETOOLONG, "%s: path too long", path);
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = -errno;
        return diag_set(d, rc, "%s: cannot create a temporary file: %s", path, strerror(-rc));
    }
    rc = io_write_all(fd, data, len);
    if (rc != 0) {
        diag_set(d, rc, "%s: write failed: %s%s", path, strerror(-rc), KEPT);
        goto out;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        rc = -errno;
        diag_set(d, rc, "%s: cannot sync: %s%s", path, strerror(-rc), KEPT);
        goto out;
    }
    int cr = close(fd);
    fd = -1;
    if (cr != 0) {
        rc = -errno;
        diag_set(d, rc, "%s: close failed: %s%s", path, strerror(-rc), KEPT);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = -errno;
        diag_set(d, rc, "%s: cannot rename the temporary file: %s%s", path, strerror(-rc), KEPT);
        goto out;
    }
    sync_parent(path);
out:
    if (fd >= 0) {
        close(fd);
    }
    if (rc != 0) {
        unlink(tmp);
    }
    return rc;
}

int file_write_buf(const struct buf *b, const char *path, struct diag *d)
{
    if (b->err) {
        return diag_set(d, b->err, "%s: cannot render: %s", path, strerror(-b->err));
    }
    return file_write(path, b->data ? b->data : "", b->len, d);
}

/* Reads fd to its end into b, at most `max` bytes. Returns 0 or -errno with `d` filled. */
static int read_capped(int fd, const char *path, size_t max, struct buf *b, struct diag *d)
{
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int rc = -errno;
            return diag_set(d, rc, "%s: read failed: %s", path, strerror(-rc));
        }
        if (r == 0) {
            return 0;
        }
        if (b->len + (size_t)r > max) {
            return diag_set(d, -EFBIG, "%s: larger than the %zu-byte limit", path, max);
        }
        buf_add(b, chunk, (size_t)r);
        if (b->err) {
            return diag_set(d, b->err, "%s: out of memory", path);
        }
    }
}

int file_read(const char *path, size_t max, char **out, size_t *out_len, struct diag *d)
{
    struct buf b;
    buf_init(&b);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        return diag_set(d, rc, "%s: cannot open: %s", path, strerror(-rc));
    }
    int rc = read_capped(fd, path, max, &b, d);
    close(fd);
    if (rc != 0) {
        buf_cleanup(&b);
        return rc;
    }
    size_t len = b.len;
    char *data = buf_take(&b);
    if (!data) {
        buf_cleanup(&b);
        return diag_set(d, -ENOMEM, "%s: out of memory", path);
    }
    *out = data;
    *out_len = len;
    return 0;
}

/* nftw() callback of file_remove_tree(): removes one entry, children first. */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc == 0 || errno == ENOENT ? 0 : -errno;
}

int file_remove_tree(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    int rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc < 0 ? -errno : -rc;
}

int file_mkdirs(const char *dir)
{
    char tmp[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            return -errno;
        }
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        return -errno;
    }
    struct stat st;
    if (stat(tmp, &st) != 0) {
        return -errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        return -ENOTDIR;
    }
    return 0;
}

bool file_is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void file_safe_name(const char *name, char *out, size_t len)
{
    if (len == 0) {
        return;
    }
    size_t max = len - 1 < 64 ? len - 1 : 64;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p && o < max; p++) {
        unsigned char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            c = '_';
        }
        if (c == '.' && (o == 0 || out[o - 1] == '.')) {
            c = '_';
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (o == 0) {
        fmt_c(out, len, "scenario");
    }
}
