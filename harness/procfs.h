/* SPDX-License-Identifier: MIT */
/* procfs.h - reading /proc/PID files: whole small files, and the fields of a stat file. */
#ifndef HARNESS_PROCFS_H
#define HARNESS_PROCFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What a stat file (/proc/PID/stat, /proc/PID/task/TID/stat) says: state, parent, start time
 * (clock ticks after boot) and, for a zombie, its exit status. */
struct procfs_stat {
    char state;
    pid_t ppid;
    unsigned long long start;
    int exit_code;
};

/* Reads /proc/PID/FILE into buf (at most cap - 1 bytes, NUL-terminated). Returns the length, or
 * -1 when unreadable. */
ssize_t procfs_read(pid_t pid, const char *file, char *buf, size_t cap);

/* Parses /proc/PID/FILE, a stat file ("stat" or "task/TID/stat"). Returns 0, or -1 when it is
 * gone or unreadable. */
int procfs_stat(pid_t pid, const char *file, struct procfs_stat *ps);

/* The nanoseconds the threads of process `pid` have run on a CPU (task/TID/schedstat), leaving
 * out threads whose name starts with `skip_name` (NULL: none), into *ns. Returns false when they
 * can't be read. */
bool procfs_cpu_ns(pid_t pid, const char *skip_name, uint64_t *ns);

#endif
