/* SPDX-License-Identifier: MIT */
/* argv_echo.c - a test target that reports what it was started with, for the security tests.
 *
 * argv_echo OUT [ARGS...] writes to OUT: every ARG followed by a NUL byte, then one line each
 * for "secure=N" (getauxval(AT_SECURE): 1 in a set-uid or set-gid program), "agent=N" (1 when
 * the leakcheck agent is loaded in this process), "fd_env=..." (LEAKCHECK_FD as the program
 * sees it), and "sock FD named=N" for every open socket (N=1 when the socket is bound to a
 * path another process could open). Then it answers every stdin line with "ok" until EOF;
 * after EOF it exits when run by the command driver (LEAKCHECK_ROUND set), else it waits to be
 * stopped, like a server.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

/* True when the unix socket with this inode has a path in /proc/net/unix. */
static int socket_named(unsigned long ino)
{
    FILE *f = fopen("/proc/net/unix", "r");
    char line[512];
    int named = 0;
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char path[256] = "";
        unsigned long i = 0;
        // Num RefCount Protocol Flags Type St Inode [Path]
        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %255s", &i, path) >= 1 && i == ino) {
            named = path[0] != '\0' && path[0] != '@';
        }
    }
    fclose(f);
    return named;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: argv_echo OUT [ARGS...]\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        fwrite(argv[i], 1, strlen(argv[i]) + 1, out);
    }
    const char *fd_env = getenv("LEAKCHECK_FD");
    fprintf(out, "\nsecure=%lu\nagent=%d\nfd_env=%s\n", getauxval(AT_SECURE),
            dlsym(RTLD_DEFAULT, "leakcheck_agent_snapshot") != NULL, fd_env ? fd_env : "(unset)");
    for (int fd = 0; fd < 1024; fd++) {
        char link[64], target[128];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0) {
            continue;
        }
        target[n] = '\0';
        unsigned long ino = 0;
        if (sscanf(target, "socket:[%lu]", &ino) == 1) {
            fprintf(out, "sock %d named=%d\n", fd, socket_named(ino));
        }
    }
    fclose(out);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        fputs("ok\n", stdout);
        fflush(stdout);
    }
    if (!getenv("LEAKCHECK_ROUND")) {
        pause();
    }
    return 0;
}
