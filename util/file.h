/* SPDX-License-Identifier: MIT */
/* file.h - files and folders: atomic writes, capped reads, mkdir -p, safe names.
 *
 * Everything leakcheck writes for people or tools (reports, history, recordings' companions)
 * goes through file_write(): a temporary file in the same folder, fsync, rename, fsync of the
 * folder, so a reader sees the old file or the new one, never half of one. Input files are read
 * with a size cap. Errors fill a struct diag naming the path. No globals; thread-safe.
 */
#ifndef UTIL_FILE_H
#define UTIL_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "diag.h"

/* Writes `len` bytes to `path` atomically. Returns 0, or -errno with "PATH: why" in `d`; the
 * previous file, if any, is then unchanged. */
int file_write(const char *path, const void *data, size_t len, struct diag *d);

/* Writes the buffer with file_write(); a buffer that failed to render (b->err) is reported as
 * such and nothing is written. Returns 0 or -errno with `d` filled. */
int file_write_buf(const struct buf *b, const char *path, struct diag *d);

/* Reads a whole file of at most `max` bytes into a new NUL-terminated buffer (caller frees).
 * Returns 0, -EFBIG over the cap, or -errno, with `d` filled; *out is written on success only. */
int file_read(const char *path, size_t max, char **out, size_t *out_len, struct diag *d);

/* Creates `dir` and its parents (mode 0755). Returns 0, -ENOTDIR when something else is in the
 * way, or -errno. */
int file_mkdirs(const char *dir);

/* Removes `dir` and everything in it, never following a symbolic link (a link is removed, not
 * what it points to). A missing `dir` is not an error. Returns 0 or the first -errno. */
int file_remove_tree(const char *dir);

/* True when `path` names a regular file (following links). Can't fail. */
bool file_is_regular(const char *path);

/* Reduces `name` to a safe file name: [A-Za-z0-9._-], other bytes become '_', no leading dot,
 * no "..", at most 64 bytes, "scenario" when nothing is left. Can't fail. */
void file_safe_name(const char *name, char *out, size_t len);

#endif
