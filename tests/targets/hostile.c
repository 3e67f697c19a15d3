/* SPDX-License-Identifier: MIT */
/* hostile.c - a test target that misbehaves on request, for the harness's lifecycle tests.
 *
 * It answers every stdin line with "ok" (stdin is read one byte at a time, so nothing is lost
 * when it exec's itself). Lines are counted over the whole run: with K requests per round,
 * round r holds lines (r-1)K+1 .. rK. At line N (or at start) it can:
 *   --kill-at N          SIGKILL itself
 *   --sibling-kill-at N  fork a child that SIGKILLs its parent, then wait to die
 *   --hang-at N          stop answering, for ever
 *   --close-stdout-at N  close stdout and keep reading stdin without answering
 *   --exec-at N          exec a fresh copy of itself (without the agent) that goes on answering
 *   --fork-at N          fork a child (glibc fork(), or with --raw-fork a bare clone that skips
 *                        the atfork handlers and so keeps the agent's channel open) that lives
 *                        --child-lifetime S seconds (default 30) holding every inherited
 *                        descriptor; --exit-after-fork makes the parent exit 0 right after
 *   --exit-at-start CODE exit with CODE before reading anything
 *   --flood-stdout B     prefix every reply with B bytes (one huge reply line)
 *   --flood-stderr B     write B bytes to stderr for every line
 *   --print-ready        print "ready" first (for a stdout readiness probe)
 *   --idle               with stdin at EOF, stay alive (until a signal) instead of exiting
 *   --flood-idle B       when idle, write B bytes of lines to stdout and to stderr, then wait
 *   --flood-done PATH    create PATH once the idle flood is written
 *   --pidfile PATH       the forked child writes its pid there
 * --answer-one answers one line before reading (used by --exec-at for the line it consumed).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static long opt_num(const char *s)
{
    return strtol(s, NULL, 10);
}

/* Writes all of buf to fd; gives up on error. */
static void write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w <= 0) {
            return;
        }
        buf += w;
        n -= (size_t)w;
    }
}

/* Writes `bytes` of filler to fd: lines of 1023 'x' and a newline when `lines`, else no newline. */
static void flood(int fd, long bytes, int lines)
{
    static char chunk[65536];
    if (chunk[0] != 'x') {
        memset(chunk, 'x', sizeof(chunk));
        for (size_t i = 1023; i < sizeof(chunk); i += 1024) {
            chunk[i] = '\n';
        }
    }
    while (bytes > 0) {
        size_t n = bytes > (long)sizeof(chunk) ? sizeof(chunk) : (size_t)bytes;
        if (!lines) {
            /* One long line: only 'x' from the chunk's first 1023 bytes at a time. */
            n = n > 1023 ? 1023 : n;
        }
        write_all(fd, chunk, n);
        bytes -= (long)n;
    }
}

/* Reads one line (without the newline) from stdin a byte at a time. Returns 0, or -1 at EOF. */
static int read_line(char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(0, &c, 1);
        if (r <= 0) {
            return n > 0 ? 0 : -1;
        }
        if (c == '\n') {
            break;
        }
        if (n + 1 < cap) {
            line[n++] = c;
        }
    }
    line[n] = '\0';
    return 0;
}

/* Forks a child that keeps every inherited descriptor for `lifetime_s` seconds. */
static void fork_child(int raw, long lifetime_s, const char *pidfile)
{
    pid_t pid = raw ? (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
    if (pid != 0) {
        return;
    }
    /* The child: only async-signal-safe calls (a bare clone copies held locks). */
    if (pidfile) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
        FILE *f = fopen(pidfile, "w");
        if (f) {
            fwrite(buf, 1, (size_t)n, f);
            fclose(f);
        }
    }
    sleep((unsigned)lifetime_s);
    _exit(0);
}

int main(int argc, char **argv)
{
    long kill_at = -1, sibling_kill_at = -1, hang_at = -1, close_stdout_at = -1, exec_at = -1;
    long fork_at = -1, lifetime = 30, flood_out = 0, flood_err = 0, flood_idle = 0;
    int raw_fork = 0, exit_after_fork = 0, print_ready = 0, idle = 0, answer_one = 0;
    const char *pidfile = NULL;
    const char *flood_done = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "0";
        if (strcmp(a, "--kill-at") == 0) {
            kill_at = opt_num(v), i++;
        } else if (strcmp(a, "--sibling-kill-at") == 0) {
            sibling_kill_at = opt_num(v), i++;
        } else if (strcmp(a, "--hang-at") == 0) {
            hang_at = opt_num(v), i++;
        } else if (strcmp(a, "--close-stdout-at") == 0) {
            close_stdout_at = opt_num(v), i++;
        } else if (strcmp(a, "--exec-at") == 0) {
            exec_at = opt_num(v), i++;
        } else if (strcmp(a, "--fork-at") == 0) {
            fork_at = opt_num(v), i++;
        } else if (strcmp(a, "--child-lifetime") == 0) {
            lifetime = opt_num(v), i++;
        } else if (strcmp(a, "--exit-at-start") == 0) {
            exit((int)opt_num(v));
        } else if (strcmp(a, "--flood-stdout") == 0) {
            flood_out = opt_num(v), i++;
        } else if (strcmp(a, "--flood-stderr") == 0) {
            flood_err = opt_num(v), i++;
        } else if (strcmp(a, "--flood-idle") == 0) {
            flood_idle = opt_num(v), i++;
        } else if (strcmp(a, "--pidfile") == 0) {
            pidfile = v, i++;
        } else if (strcmp(a, "--flood-done") == 0) {
            flood_done = v, i++;
        } else if (strcmp(a, "--raw-fork") == 0) {
            raw_fork = 1;
        } else if (strcmp(a, "--exit-after-fork") == 0) {
            exit_after_fork = 1;
        } else if (strcmp(a, "--print-ready") == 0) {
            print_ready = 1;
        } else if (strcmp(a, "--idle") == 0) {
            idle = 1;
        } else if (strcmp(a, "--answer-one") == 0) {
            answer_one = 1;
        }
    }
    if (print_ready) {
        write_all(1, "ready\n", 6);
    }
    if (fork_at == 0) {
        fork_child(raw_fork, lifetime, pidfile);
        if (exit_after_fork) {
            exit(0);
        }
    }
    if (answer_one) {
        write_all(1, "ok\n", 3);
    }
    char line[4096];
    long n = 0;
    while (read_line(line, sizeof(line)) == 0) {
        n++;
        char *kept = strdup(line); /* some heap traffic for the agent to see */
        free(kept);
        if (n == kill_at) {
            kill(getpid(), SIGKILL);
        }
        if (n == sibling_kill_at) {
            if (fork() == 0) {
                kill(getppid(), SIGKILL);
                _exit(0);
            }
            for (;;) {
                pause();
            }
        }
        if (n == hang_at) {
            for (;;) {
                pause();
            }
        }
        if (n == close_stdout_at) {
            close(1);
            while (read_line(line, sizeof(line)) == 0) {
            }
            return 0;
        }
        if (n == exec_at) {
            char *args[] = {argv[0], (char *)"--answer-one", NULL};
            execv("/proc/self/exe", args);
            _exit(126);
        }
        if (n == fork_at) {
            fork_child(raw_fork, lifetime, pidfile);
            if (exit_after_fork) {
                exit(0);
            }
        }
        if (flood_err > 0) {
            flood(2, flood_err, 1);
        }
        if (flood_out > 0) {
            flood(1, flood_out, 0);
        }
        write_all(1, "ok\n", 3);
    }
    if (idle) {
        if (flood_idle > 0) {
            flood(1, flood_idle, 1);
            flood(2, flood_idle, 1);
            if (flood_done) {
                int fd = open(flood_done, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd >= 0) {
                    close(fd);
                }
            }
        }
        for (;;) {
            pause();
        }
    }
    return 0;
}
