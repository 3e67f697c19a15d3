/* SPDX-License-Identifier: MIT */
/* procfs.c - reading /proc/PID files. */
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t procfs_read(pid_t pid, const char *file, char *buf, size_t cap)
{
    char path[400];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

int procfs_stat(pid_t pid, const char *file, struct procfs_stat *ps)
{
    char buf[1024];
    if (procfs_read(pid, file, buf, sizeof(buf)) <= 0) {
        return -1;
    }
    const char *p = strrchr(buf, ')'); /* the command name may hold anything */
    if (!p) {
        return -1;
    }
    /* Fields after the name: 3 state, 4 ppid, ..., 22 starttime, ..., 52 exit_code. */
    char *end = NULL;
    p += 2;
    ps->state = *p;
    p += 2;
    ps->ppid = (pid_t)strtol(p, &end, 10);
    ps->start = 0;
    ps->exit_code = -1;
    int field = 4;
    for (p = end; *p && field < 52;) {
        while (*p == ' ') {
            p++;
        }
        field++;
        unsigned long long v = strtoull(p, &end, 10);
        if (field == 22) {
            ps->start = v;
        }
        if (field == 52) {
            ps->exit_code = (int)v;
        }
        p = end;
    }
    return 0;
}

bool procfs_cpu_ns(pid_t pid, const char *skip_name, uint64_t *ns)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    if (!dir) {
        return false;
    }
    uint64_t sum = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        char file[300];
        char text[128];
        snprintf(file, sizeof(file), "task/%s/comm", e->d_name);
        if (skip_name && procfs_read(pid, file, text, sizeof(text)) > 0 &&
            strncmp(text, skip_name, strlen(skip_name)) == 0) {
            continue;
        }
        snprintf(file, sizeof(file), "task/%s/schedstat", e->d_name);
        if (procfs_read(pid, file, text, sizeof(text)) > 0) {
            sum += strtoull(text, NULL, 10);
        }
    }
    closedir(dir);
    *ns = sum;
    return true;
}
