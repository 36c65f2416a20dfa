/*
 * redisproc.h - a throw-away redis-server for the unit tests that need a
 * real one (test_store.c, test_lease.c), after hiredis's test.sh.
 *
 * bw_redisproc_start() makes a mkdtemp() directory
 * /tmp/bw-test-NAME-XXXXXX, writes a redis.conf there (a free port of
 * 127.0.0.1, no persistence, the log in the directory, then the caller's
 * own lines: users, databases) and starts the server, trying five ports.
 * The server dies with this process (PR_SET_PDEATHSIG). Without
 * redis-server, running stays 0 and the caller's tests skip (see
 * BW_NEED_REDIS). bw_redisproc_stop() stops it and removes the directory.
 *
 *     static struct bw_redisproc srv = {
 *         .name = "store", .admin_user = "bw", .admin_pw = "secret",
 *         .conf = "user bw on >secret ~* &* +@all\n"};
 */
#ifndef BW_REDISPROC_H
#define BW_REDISPROC_H

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis.h>

#include "cannedsrv.h" /* bw_dead_port(): a free port of 127.0.0.1 */

struct bw_redisproc {
    /* set by the caller */
    const char *name;       /* in the directory name */
    const char *conf;       /* redis.conf lines after the common ones */
    int unix_socket;        /* listen on DIR/redis.sock too (mode 700) */
    const char *admin_user; /* what bw_redisproc_admin() AUTHs with */
    const char *admin_pw;
    /* set by bw_redisproc_start() */
    int running; /* our server answers */
    int port;
    pid_t pid; /* 0 or -1: none */
    char dir[256];
    char url[128];      /* redis://127.0.0.1:PORT */
    char sock_url[320]; /* unix://DIR/redis.sock */
};

/* Skip the calling test when the server did not start. */
#define BW_NEED_REDIS(rp)                                                      \
    do {                                                                       \
        if (!(rp)->running) {                                                  \
            skip();                                                            \
        }                                                                      \
    } while (0)

/* A connection AUTHed as the admin user (redisFree() it), or NULL. */
static inline redisContext *bw_redisproc_admin(const struct bw_redisproc *rp)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", rp->port, tv);
    redisReply *r;

    if (c == NULL || c->err) {
        if (c) {
            redisFree(c);
        }
        return NULL;
    }
    r = redisCommand(c, "AUTH %s %s", rp->admin_user, rp->admin_pw);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        if (r) {
            freeReplyObject(r);
        }
        redisFree(c);
        return NULL;
    }
    freeReplyObject(r);
    return c;
}

/* Is the server on our port the one we started (not another run's)? */
static inline int bw_redisproc_is_ours(const struct bw_redisproc *rp)
{
    redisContext *c = bw_redisproc_admin(rp);
    redisReply *r;
    char want[32];
    int ours = 0;

    if (c == NULL) {
        return 0;
    }
    snprintf(want, sizeof(want), "process_id:%ld", (long)rp->pid);
    r = redisCommand(c, "INFO server");
    if (r && r->type == REDIS_REPLY_STRING && strstr(r->str, want)) {
        ours = 1;
    }
    if (r) {
        freeReplyObject(r);
    }
    redisFree(c);
    return ours;
}

static inline int bw_redisproc_write_conf(struct bw_redisproc *rp,
                                          const char *path)
{
    FILE *f = fopen(path, "w");

    rp->port = bw_dead_port();
    if (f == NULL || rp->port <= 0) {
        if (f) {
            fclose(f);
        }
        return 0;
    }
    fprintf(f,
            "port %d\nbind 127.0.0.1\ndir %s\nsave \"\"\nappendonly no\n"
            "logfile %s/redis.log\n",
            rp->port, rp->dir, rp->dir);
    if (rp->unix_socket) {
        fprintf(f, "unixsocket %s/redis.sock\nunixsocketperm 700\n", rp->dir);
    }
    fputs(rp->conf ? rp->conf : "", f);
    fclose(f);
    return 1;
}

/* One try on a free port: 1 when our server answers. */
static inline int bw_redisproc_launch(struct bw_redisproc *rp, const char *conf)
{
    if (!bw_redisproc_write_conf(rp, conf)) {
        return 0;
    }
    rp->pid = fork();
    if (rp->pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (null >= 0) {
            dup2(null, 1);
        }
        execlp("redis-server", "redis-server", conf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; rp->pid > 0 && i < 250; i++) {
        if (bw_redisproc_is_ours(rp)) {
            return 1;
        }
        if (waitpid(rp->pid, NULL, WNOHANG) == rp->pid) {
            rp->pid = -1; /* the port was taken, or no redis-server */
            return 0;
        }
        usleep(20000);
    }
    if (rp->pid > 0) {
        kill(rp->pid, SIGKILL);
        waitpid(rp->pid, NULL, 0);
        rp->pid = -1;
    }
    return 0;
}

/* Start the server; rp->running says whether it did (a line on stderr
 * when not). */
static inline void bw_redisproc_start(struct bw_redisproc *rp)
{
    char conf[512];

    snprintf(rp->dir, sizeof(rp->dir), "/tmp/bw-test-%s-XXXXXX", rp->name);
    if (mkdtemp(rp->dir) == NULL) {
        rp->dir[0] = '\0';
        return;
    }
    snprintf(conf, sizeof(conf), "%s/redis.conf", rp->dir);
    for (int attempt = 0; attempt < 5 && !rp->running; attempt++) {
        rp->running = bw_redisproc_launch(rp, conf);
    }
    snprintf(rp->url, sizeof(rp->url), "redis://127.0.0.1:%d", rp->port);
    snprintf(rp->sock_url, sizeof(rp->sock_url), "unix://%s/redis.sock",
             rp->dir);
    if (!rp->running) {
        fprintf(stderr, "# redis-server did not start: server tests skip\n");
    }
}

/* SIGTERM, SIGKILL after 5 s; then the directory and its files go. */
static inline void bw_redisproc_stop(struct bw_redisproc *rp)
{
    DIR *d;
    struct dirent *e;
    char p[512];

    if (rp->pid > 0) {
        kill(rp->pid, SIGTERM);
        for (int i = 0; i < 250; i++) {
            if (waitpid(rp->pid, NULL, WNOHANG) == rp->pid) {
                rp->pid = -1;
                break;
            }
            usleep(20000);
        }
        if (rp->pid > 0) {
            kill(rp->pid, SIGKILL);
            waitpid(rp->pid, NULL, 0);
            rp->pid = -1;
        }
    }
    rp->running = 0;
    if (rp->dir[0] == '\0' || (d = opendir(rp->dir)) == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof(p), "%s/%s", rp->dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    rmdir(rp->dir);
}

/* FLUSHALL, for a test that starts from an empty server: 0, or -1 when
 * the admin cannot connect. Nothing to do (0) when it is not running. */
static inline int bw_redisproc_flush(const struct bw_redisproc *rp)
{
    redisContext *c;
    redisReply *r;

    if (!rp->running) {
        return 0;
    }
    c = bw_redisproc_admin(rp);
    if (c == NULL) {
        return -1;
    }
    r = redisCommand(c, "FLUSHALL");
    if (r) {
        freeReplyObject(r);
    }
    redisFree(c);
    return 0;
}

#endif
