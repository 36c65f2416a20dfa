/*
 * cannedsrv.h - a tiny scripted HTTP/1.1 server on 127.0.0.1 for unit tests
 * that need exact bytes on the wire: odd headers, redirects to another
 * port, bare 403s, oversized bodies, and the request headers the client
 * really sent (the simulator does not echo them).
 *
 * One thread, one connection at a time, keep-alive. Responses are raw
 * strings served in order; the last one repeats. An empty string closes
 * the connection without a reply. Every request (head and body) is
 * appended to a log the test can search. Link with -lpthread (the Makefile
 * does).
 */
#ifndef BW_CANNEDSRV_H
#define BW_CANNEDSRV_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct bw_canned {
    int lfd;
    int port;
    char base[64];
    pthread_t th;
    int started;
    atomic_int stop;
    char **resp;
    size_t nresp;
    size_t next;
    pthread_mutex_t mu;
    char *log; /* requests, each followed by "\n=====\n" */
    size_t loglen;
    size_t logcap;
    long served;
};

static inline void bw_canned_log(struct bw_canned *c, const char *p, size_t n)
{
    pthread_mutex_lock(&c->mu);
    if (c->loglen + n + 8 > c->logcap) {
        size_t cap = (c->logcap + n + 8) * 2;
        char *q = realloc(c->log, cap);

        if (q == NULL) {
            pthread_mutex_unlock(&c->mu);
            return;
        }
        c->log = q;
        c->logcap = cap;
    }
    memcpy(c->log + c->loglen, p, n);
    c->loglen += n;
    memcpy(c->log + c->loglen, "\n=====\n", 8);
    c->loglen += 7;
    pthread_mutex_unlock(&c->mu);
}

/* Wait for input on fd up to 100 ms at a time; 0 when stopping. */
static inline int bw_canned_wait(struct bw_canned *c, int fd)
{
    while (!atomic_load(&c->stop)) {
        struct pollfd p = {fd, POLLIN, 0};

        if (poll(&p, 1, 100) > 0) {
            return 1;
        }
    }
    return 0;
}

/* Content-Length of a request head (case-insensitive name), or 0. */
static inline size_t bw_canned_clen(const char *head, size_t n)
{
    static const char name[] = "\r\ncontent-length:";
    size_t nl = sizeof(name) - 1;

    for (size_t i = 0; i + nl <= n; i++) {
        if (strncasecmp(head + i, name, nl) == 0) {
            return strtoul(head + i + nl, NULL, 10);
        }
    }
    return 0;
}

static inline void bw_canned_conn(struct bw_canned *c, int fd)
{
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    size_t len = 0;

    if (buf == NULL) {
        return;
    }
    buf[0] = '\0';
    for (;;) {
        char *r;
        char *end;
        int quit;
        size_t head = 0;
        size_t need = 0;
        ssize_t k;

        for (;;) {
            end = strstr(buf, "\r\n\r\n");
            if (end) {
                head = (size_t)(end - buf) + 4;
                need = head + bw_canned_clen(buf, head);
                if (len >= need) {
                    break;
                }
            }
            if (len + 1 >= cap || !bw_canned_wait(c, fd)) {
                goto done;
            }
            k = read(fd, buf + len, cap - 1 - len);
            if (k <= 0) {
                goto done;
            }
            len += (size_t)k;
            buf[len] = '\0';
        }
        bw_canned_log(c, buf, need);
        pthread_mutex_lock(&c->mu);
        r = strdup(c->resp[c->next < c->nresp ? c->next : c->nresp - 1]);
        c->next++;
        c->served++;
        pthread_mutex_unlock(&c->mu);
        quit = r == NULL || *r == '\0' ||
               send(fd, r, strlen(r), MSG_NOSIGNAL) < 0 ||
               strstr(r, "Connection: close") != NULL;
        free(r);
        if (quit) {
            goto done;
        }
        memmove(buf, buf + need, len - need);
        len -= need;
        buf[len] = '\0';
    }
done:
    free(buf);
}

static inline void *bw_canned_main(void *arg)
{
    struct bw_canned *c = arg;

    while (bw_canned_wait(c, c->lfd)) {
        int fd = accept(c->lfd, NULL, NULL);

        if (fd >= 0) {
            bw_canned_conn(c, fd);
            close(fd);
        }
    }
    return NULL;
}

/* Serve responses (copied; NULL-terminated). 0 or -1. */
static inline int bw_canned_start(struct bw_canned *c,
                                  const char *const *responses)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int one = 1;

    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    while (responses[c->nresp]) {
        c->nresp++;
    }
    c->resp = calloc(c->nresp + 1, sizeof(char *));
    for (size_t i = 0; c->resp && i < c->nresp; i++) {
        c->resp[i] = strdup(responses[i]);
    }
    c->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->resp == NULL || c->nresp == 0 || c->lfd < 0) {
        return -1;
    }
    setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(c->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(c->lfd, 16) != 0 ||
        getsockname(c->lfd, (struct sockaddr *)&a, &al) != 0) {
        return -1;
    }
    c->port = ntohs(a.sin_port);
    snprintf(c->base, sizeof(c->base), "http://127.0.0.1:%d", c->port);
    if (pthread_create(&c->th, NULL, bw_canned_main, c) != 0) {
        return -1;
    }
    c->started = 1;
    return 0;
}

/* Replace the script (before the client sends anything more). */
static inline void bw_canned_script(struct bw_canned *c,
                                    const char *const *responses)
{
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nresp; i++) {
        free(c->resp[i]);
    }
    free(c->resp);
    c->nresp = 0;
    while (responses[c->nresp]) {
        c->nresp++;
    }
    c->resp = calloc(c->nresp + 1, sizeof(char *));
    for (size_t i = 0; c->resp && i < c->nresp; i++) {
        c->resp[i] = strdup(responses[i]);
    }
    c->next = 0;
    pthread_mutex_unlock(&c->mu);
}

/* A copy of the request log (free() it). */
static inline char *bw_canned_requests(struct bw_canned *c)
{
    char *s;

    pthread_mutex_lock(&c->mu);
    s = strndup(c->log ? c->log : "", c->loglen);
    pthread_mutex_unlock(&c->mu);
    return s;
}

static inline void bw_canned_stop(struct bw_canned *c)
{
    if (c->started) {
        atomic_store(&c->stop, 1);
        pthread_join(c->th, NULL);
    }
    if (c->lfd > 0) {
        close(c->lfd);
    }
    for (size_t i = 0; c->resp && i < c->nresp; i++) {
        free(c->resp[i]);
    }
    free(c->resp);
    free(c->log);
    pthread_mutex_destroy(&c->mu);
    memset(c, 0, sizeof(*c));
}

/* A free TCP port on 127.0.0.1 nobody listens on (connection refused). */
static inline int bw_dead_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

#endif
