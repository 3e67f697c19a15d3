/* SPDX-License-Identifier: MIT */
/* timed.c - runs one program and prints what it cost, for benchmarks:
 *
 *   timed [--agent AGENT.so] [--cap SECONDS] [--stdout FILE] PROGRAM ARGS...
 *
 * Prints one line "wall=S cpu=S user=S sys=S status=N" (seconds; cpu = user + sys of the program
 * and every descendant it waited for, from wait4's rusage), or "wall=S status=capped" when the
 * program was still running after SECONDS (it and its process group are killed). The program's
 * stdout goes to FILE (default /dev/null); its stderr is left as it is.
 *
 * --agent preloads the agent with a live control channel, as the harness does (one inherited
 * socket, PROTO_ENV_FD): the agent tracks every allocation and answers snapshot requests, none
 * of which is sent, so the figure is the cost of tracking alone. Exits 0 once the line is printed
 * (whatever the program's status), 2 on a usage error, 1 when the program can't be started.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/proto.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t g_alarm;

static void on_alarm(int sig)
{
    (void)sig;
    g_alarm = 1;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    const char *agent = NULL;
    const char *out = "/dev/null";
    double cap = 0;
    int arg = 1;
    while (arg + 1 < argc && argv[arg][0] == '-') {
        if (strcmp(argv[arg], "--agent") == 0) {
            agent = argv[arg + 1];
        } else if (strcmp(argv[arg], "--cap") == 0) {
            char *end;
            cap = strtod(argv[arg + 1], &end);
            if (*end || cap < 0) {
                fprintf(stderr, "timed: --cap: expected seconds, found '%s'\n", argv[arg + 1]);
                return 2;
            }
        } else if (strcmp(argv[arg], "--stdout") == 0) {
            out = argv[arg + 1];
        } else {
            break;
        }
        arg += 2;
    }
    if (arg >= argc) {
        fprintf(stderr, "usage: timed [--agent AGENT.so] [--cap SECONDS] [--stdout FILE] "
                        "PROGRAM ARGS...\n");
        return 2;
    }
    int sv[2] = {-1, -1};
    if (agent && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("timed: socketpair");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        perror("timed: fork");
        return 1;
    }
    if (pid == 0) {
        setpgid(0, 0); /* its own group, so a cap ends everything it started */
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0) {
            perror("timed: stdout");
            _exit(127);
        }
        close(fd);
        if (agent) {
            int ch = dup(sv[1]); /* without CLOEXEC */
            char num[16];
            snprintf(num, sizeof(num), "%d", ch);
            setenv(PROTO_ENV_FD, num, 1);
            setenv("LD_PRELOAD", agent, 1);
        }
        execvp(argv[arg], argv + arg);
        fprintf(stderr, "timed: can't run %s: %s\n", argv[arg], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    if (agent) {
        close(sv[1]);
    }
    if (cap > 0) {
        /* no SA_RESTART: the alarm interrupts wait4 */
        struct sigaction sa = {.sa_handler = on_alarm};
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it = {
            .it_value = {.tv_sec = (time_t)cap,
                         .tv_usec = (suseconds_t)((cap - (double)(time_t)cap) * 1e6)}};
        setitimer(ITIMER_REAL, &it, NULL);
    }
    int status = 0;
    struct rusage ru;
    bool capped = false;
    for (;;) {
        pid_t w = wait4(pid, &status, 0, &ru);
        if (w == pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            perror("timed: wait");
            return 1;
        }
        if (g_alarm && !capped) {
            capped = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
    }
    double wall = now_s() - t0;
    if (capped) {
        kill(-pid, SIGKILL); /* anything of its group still left */
        printf("wall=%.4f status=capped\n", wall);
        return 0;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    double user = tv_s(ru.ru_utime);
    double sys = tv_s(ru.ru_stime);
    printf("wall=%.4f cpu=%.4f user=%.4f sys=%.4f status=%d\n", wall, user + sys, user, sys, code);
    return 0;
}
