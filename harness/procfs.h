/* SPDX-License-Identifier: MIT */
/* procfs.h - reading /proc/PID files: whole small files, and the fields of a stat file. */
#ifndef HARNESS_PROCFS_H
#define HARNESS_PROCFS_H

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

#endif
