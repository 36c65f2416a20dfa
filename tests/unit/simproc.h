/*
 * simproc.h - start and stop the API simulator (tests/apisim/apisim) from a
 * C unit test: fork/exec with --port 0, read "apisim listening on
 * 127.0.0.1:PORT" from its stdout, SIGTERM (then SIGKILL) at the end.
 *
 * Tests run from the repository root (make unit does so); BW_APISIM names
 * another simulator. bw_sim_start() returns 1 when the simulator does not
 * exist, so the caller can skip() with a clear message.
 */
#ifndef BW_SIMPROC_H
#define BW_SIMPROC_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct bw_sim {
    pid_t pid;
    int out; /* read end of its stdout, kept open until stop */
    int port;
    char base[64]; /* "http://127.0.0.1:PORT" */
};

static inline const char *bw_sim_path(void)
{
    const char *p = getenv("BW_APISIM");

    return p && *p ? p : "tests/apisim/apisim";
}

static inline void bw_sim_stop(struct bw_sim *s)
{
    int status;

    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        for (int i = 0; i < 300; i++) {
            struct timespec ts = {0, 10 * 1000000L};

            if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
                s->pid = 0;
                break;
            }
            nanosleep(&ts, NULL);
        }
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
        }
    }
    if (s->out >= 0) {
        close(s->out);
    }
    s->pid = 0;
    s->out = -1;
}

/*
 * Start the simulator with extra arguments (NULL-terminated, may be NULL).
 * 0: running, s->base set; 1: no simulator (skip); -1: it failed to start.
 */
static inline int bw_sim_start(struct bw_sim *s, const char *const *extra)
{
    const char *argv[40];
    char line[256];
    size_t len = 0;
    int fds[2];
    int n = 0;

    memset(s, 0, sizeof(*s));
    s->out = -1;
    if (access(bw_sim_path(), X_OK) != 0) {
        return 1;
    }
    argv[n++] = bw_sim_path();
    argv[n++] = "--port";
    argv[n++] = "0";
    for (int i = 0; extra && extra[i] && n < 38; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    if (pipe(fds) != 0) {
        return -1;
    }
    s->pid = fork();
    if (s->pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (s->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    s->out = fds[0];
    /* up to 20 s for the banner (a loaded machine, an ASan build) */
    while (len < sizeof(line) - 1) {
        struct pollfd p = {s->out, POLLIN, 0};
        ssize_t r;
        const char *at;

        if (poll(&p, 1, 20000) <= 0) {
            break;
        }
        r = read(s->out, line + len, sizeof(line) - 1 - len);
        if (r <= 0) {
            break;
        }
        len += (size_t)r;
        line[len] = '\0';
        at = strstr(line, "listening on 127.0.0.1:");
        if (at && strchr(at, '\n')) {
            s->port =
                (int)strtol(at + strlen("listening on 127.0.0.1:"), NULL, 10);
            snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
            return 0;
        }
    }
    fprintf(stderr, "simproc: '%s' did not start (got '%.*s')\n", argv[0],
            (int)len, line);
    bw_sim_stop(s);
    return -1;
}

#endif
