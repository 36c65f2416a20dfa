/*
 * store.c - the Redis connection behind struct bw_store (store.h): URL
 * parsing, connect + AUTH + SELECT with timeouts, one reconnect on a
 * dropped connection, pipelines of argument vectors, the schema key,
 * bookkeeping hashes, index scans for queries and the canonical dump.
 *
 * Every command goes through a struct st_cmdq (argument vectors in one
 * arena) and redisAppendCommandArgv + redisGetReply, so keys and values are
 * binary-safe and nothing is format-string built. Every reply is checked
 * and freed. A NULL reply or an I/O error means the connection is gone:
 * the context is freed, a new one made (AUTH and SELECT again), and the
 * whole operation sent once more, which is safe because reads are reads
 * and every write is an idempotent MULTI/EXEC page or SADD/HSET.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/store.h"
#include "store_priv.h"

volatile sig_atomic_t bw_store_stop_requested;

/* ------------------------------------------------------------ the URL */

static int host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static int ipv6_char(unsigned char c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           (c >= '0' && c <= '9') || c == ':' || c == '.';
}

static int parse_port(const char *p, const char *end, int *port)
{
    long v = 0;

    if (p == end || end - p > 5) {
        return BW_EPARSE;
    }
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return BW_EPARSE;
        }
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > 65535) {
        return BW_EPARSE;
    }
    *port = (int)v;
    return 0;
}

static int parse_tcp(const char *p, const char *end, struct bw_redis_addr *a)
{
    const char *h = p;
    const char *he;

    if (p < end && *p == '[') {
        h = ++p;
        while (p < end && ipv6_char((unsigned char)*p)) {
            p++;
        }
        if (p == end || *p != ']' || p == h) {
            return BW_EPARSE;
        }
        he = p++;
    } else {
        while (p < end && host_char((unsigned char)*p)) {
            p++;
        }
        if (p == h) {
            return BW_EPARSE;
        }
        he = p;
    }
    if ((size_t)(he - h) >= sizeof(a->host)) {
        return BW_EPARSE;
    }
    memcpy(a->host, h, (size_t)(he - h));
    a->host[he - h] = '\0';
    a->port = 6379;
    if (p < end && *p == ':') {
        const char *ps = ++p;

        while (p < end && *p != '/') {
            p++;
        }
        if (parse_port(ps, p, &a->port)) {
            return BW_EPARSE;
        }
    }
    if (p < end && *p == '/') {
        p++;
    }
    return p == end ? 0 : BW_EPARSE;
}

static int parse_unix(const char *p, const char *end, struct bw_redis_addr *a)
{
    size_t n = (size_t)(end - p);

    /* sun_path holds 108 bytes with the NUL on Linux */
    if (n < 2 || n > 107 || *p != '/') {
        return BW_EPARSE;
    }
    for (const char *s = p; s < end; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c == 0x7f) {
            return BW_EPARSE;
        }
    }
    memcpy(a->path, p, n);
    a->path[n] = '\0';
    a->port = 0;
    return 0;
}

int bw_store_parse_url(const char *s, size_t len, struct bw_redis_addr *out)
{
    const char *end = s + len;
    int rc = BW_EPARSE;

    memset(out, 0, sizeof(*out));
    if (s == NULL) {
        return BW_EPARSE;
    }
    if (len > 8 && strncasecmp(s, "redis://", 8) == 0) {
        rc = parse_tcp(s + 8, end, out);
    } else if (len > 7 && strncasecmp(s, "unix://", 7) == 0) {
        rc = parse_unix(s + 7, end, out);
    }
    if (rc) {
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

/* ------------------------------------------------------ command queue */

void st_cmdq_init(struct st_cmdq *q)
{
    memset(q, 0, sizeof(*q));
}

void st_cmdq_reset(struct st_cmdq *q)
{
    bw_buf_reset(&q->data);
    q->na = 0;
    q->nc = 0;
}

void st_cmdq_release(struct st_cmdq *q)
{
    bw_buf_release(&q->data);
    bw_free(q->aoff);
    bw_free(q->alen);
    bw_free(q->first);
    bw_free(q->argv);
    bw_free(q->argvlen);
    st_cmdq_init(q);
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 16;
    void *p;

    if (need <= *cap) {
        return 0;
    }
    while (c < need) {
        c *= 2;
    }
    p = bw_realloc(*v, c * size);
    if (p == NULL) {
        return BW_ENOMEM;
    }
    *v = p;
    *cap = c;
    return 0;
}

int st_cmd(struct st_cmdq *q)
{
    size_t cap = q->ccap;

    if (grow((void **)&q->first, &cap, q->nc + 1, sizeof(size_t))) {
        return BW_ENOMEM;
    }
    q->ccap = cap;
    q->first[q->nc++] = q->na;
    return 0;
}

void st_arg_begin(struct st_cmdq *q)
{
    q->arg_start = q->data.len;
}

int st_arg_end(struct st_cmdq *q)
{
    size_t cap = q->acap;

    if (grow((void **)&q->aoff, &cap, q->na + 1, sizeof(size_t))) {
        return BW_ENOMEM;
    }
    cap = q->acap;
    if (grow((void **)&q->alen, &cap, q->na + 1, sizeof(size_t))) {
        return BW_ENOMEM;
    }
    q->acap = cap;
    q->aoff[q->na] = q->arg_start;
    q->alen[q->na] = q->data.len - q->arg_start;
    q->na++;
    /* an empty arena still needs a valid pointer for empty arguments */
    return bw_buf_grow(&q->data, 0);
}

int st_arg(struct st_cmdq *q, const void *p, size_t n)
{
    st_arg_begin(q);
    if (bw_buf_add(&q->data, p, n)) {
        return BW_ENOMEM;
    }
    return st_arg_end(q);
}

int st_args(struct st_cmdq *q, const char *s)
{
    return st_arg(q, s, strlen(s));
}

int st_argi(struct st_cmdq *q, int64_t v)
{
    st_arg_begin(q);
    if (st_put_i64(&q->data, v)) {
        return BW_ENOMEM;
    }
    return st_arg_end(q);
}

static int put_key(struct bw_buf *b, const struct bw_store *st,
                   const char *kind, const char *tag, const char *id)
{
    int rc = bw_buf_add(b, st->prefix, st->plen);

    if (rc == 0) {
        rc = bw_buf_adds(b, kind);
    }
    if (rc == 0 && tag) {
        rc = bw_buf_add(b, ":{", 2);
        if (rc == 0) {
            rc = bw_buf_adds(b, tag);
        }
        if (rc == 0) {
            rc = bw_buf_addch(b, '}');
        }
    }
    if (rc == 0 && id) {
        rc = bw_buf_addch(b, ':');
        if (rc == 0) {
            rc = bw_buf_adds(b, id);
        }
    }
    return rc;
}

int st_argkey(struct st_cmdq *q, const struct bw_store *st, const char *kind,
              const char *tag, const char *id)
{
    st_arg_begin(q);
    if (put_key(&q->data, st, kind, tag, id)) {
        return BW_ENOMEM;
    }
    return st_arg_end(q);
}

size_t st_cmd_argc(const struct st_cmdq *q, size_t i)
{
    size_t next = i + 1 < q->nc ? q->first[i + 1] : q->na;

    return next - q->first[i];
}

const char *st_cmd_arg(const struct st_cmdq *q, size_t i, size_t j, size_t *len)
{
    size_t a = q->first[i] + j;

    *len = q->alen[a];
    return q->data.data + q->aoff[a];
}

/* ----------------------------------------------------------- replies */

static int conn_lost(struct bw_store *st)
{
    if (st->c == NULL) {
        return ST_CONN_LOST;
    }
    if (st->c->err == REDIS_ERR_IO || st->c->err == REDIS_ERR_EOF) {
        BW_WARN("lost the connection to Redis at %s: %s; reconnecting", st->url,
                st->c->errstr[0] ? st->c->errstr : "closed");
        return ST_CONN_LOST;
    }
    BW_ERROR("Redis at %s sent what hiredis cannot read: %s; check that the "
             "url names a Redis server",
             st->url, st->c->errstr);
    st_drop(st);
    return BW_EREDIS;
}

void st_drop(struct bw_store *st)
{
    if (st->c) {
        redisFree(st->c);
        st->c = NULL;
    }
}

int st_append(struct bw_store *st, const struct st_cmdq *q, size_t i)
{
    size_t argc = st_cmd_argc(q, i);
    size_t cap = q->vcap;
    struct st_cmdq *mq = (struct st_cmdq *)q; /* the scratch only */

    if (st->c == NULL) {
        return ST_CONN_LOST;
    }
    if (grow((void **)&mq->argv, &cap, argc, sizeof(char *))) {
        return BW_ENOMEM;
    }
    cap = q->vcap;
    if (grow((void **)&mq->argvlen, &cap, argc, sizeof(size_t))) {
        return BW_ENOMEM;
    }
    mq->vcap = cap;
    for (size_t j = 0; j < argc; j++) {
        mq->argv[j] = st_cmd_arg(q, i, j, &mq->argvlen[j]);
    }
    if (redisAppendCommandArgv(st->c, (int)argc, mq->argv, mq->argvlen) !=
        REDIS_OK) {
        return conn_lost(st);
    }
    return 0;
}

int st_read(struct bw_store *st, redisReply **out)
{
    void *r = NULL;

    *out = NULL;
    if (st->c == NULL) {
        return ST_CONN_LOST;
    }
    if (redisGetReply(st->c, &r) != REDIS_OK || r == NULL) {
        if (r) {
            freeReplyObject(r);
        }
        return conn_lost(st);
    }
    *out = r;
    return 0;
}

void st_replies_free(redisReply **r, size_t n)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (r[i]) {
            freeReplyObject(r[i]);
        }
    }
    bw_free(r);
}

int st_roundtrip(struct bw_store *st, const struct st_cmdq *q,
                 redisReply ***out)
{
    redisReply **r = NULL;
    int rc = 0;

    *out = NULL;
    if (q->nc == 0) {
        return 0;
    }
    r = bw_calloc(q->nc, sizeof(*r));
    if (r == NULL) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < q->nc; i++) {
        rc = st_append(st, q, i);
    }
    for (size_t i = 0; rc == 0 && i < q->nc; i++) {
        rc = st_read(st, &r[i]);
    }
    if (rc) {
        /* replies may be pending: the connection is out of step */
        st_replies_free(r, q->nc);
        if (rc != ST_CONN_LOST) {
            st_drop(st);
        }
        return rc;
    }
    *out = r;
    return 0;
}

static int store_connect(struct bw_store *st);

int st_retry(struct bw_store *st, int (*op)(struct bw_store *, void *),
             void *arg)
{
    int rc = 0;

    /* a connection an earlier operation lost: make a new one first */
    if (st->c == NULL) {
        rc = store_connect(st);
        if (rc) {
            return rc;
        }
    }
    rc = op(st, arg);
    if (rc != ST_CONN_LOST) {
        return rc;
    }
    st_drop(st);
    rc = store_connect(st);
    if (rc) {
        return rc;
    }
    rc = op(st, arg);
    if (rc == ST_CONN_LOST) {
        BW_ERROR("lost the connection to Redis at %s again; check the "
                 "server's log and its timeout and maxclients settings",
                 st->url);
        st_drop(st);
        rc = BW_EREDIS;
    }
    return rc;
}

struct run_arg {
    const struct st_cmdq *q;
    redisReply ***out;
};

static int run_op(struct bw_store *st, void *arg)
{
    struct run_arg *a = arg;

    return st_roundtrip(st, a->q, a->out);
}

int st_run(struct bw_store *st, const struct st_cmdq *q, redisReply ***out)
{
    struct run_arg a = {q, out};

    return st_retry(st, run_op, &a);
}

int st_run_one(struct bw_store *st, const struct st_cmdq *q, const char *cmd,
               redisReply ***out)
{
    int rc = st_run(st, q, out);

    if (rc == 0) {
        rc = st_check(st, (*out)[0], cmd);
    }
    return rc;
}

int st_reply_error(struct bw_store *st, const redisReply *r, const char *cmd)
{
    const char *e = r && r->str ? r->str : "unknown error";

    if (strncmp(e, "NOAUTH", 6) == 0) {
        BW_ERROR("Redis at %s requires a password; set [redis] password_env "
                 "or password_file (and username for an ACL user)",
                 st->url);
        return BW_EAUTH;
    }
    if (strncmp(e, "NOPERM", 6) == 0) {
        BW_ERROR("Redis at %s does not let user '%s' run %s: %s; grant the "
                 "user ~%s* and +@all (or the commands bellwether needs)",
                 st->url, st->username ? st->username : "default", cmd, e,
                 st->prefix);
        return BW_EAUTH;
    }
    if (strncmp(e, "OOM", 3) == 0) {
        BW_ERROR("Redis at %s is out of memory (%s): %s; raise maxmemory or "
                 "free memory",
                 st->url, cmd, e);
        return BW_EREDIS;
    }
    if (strncmp(e, "READONLY", 8) == 0) {
        BW_ERROR("Redis at %s is a read-only replica: %s; point [redis] url "
                 "at the primary",
                 st->url, e);
        return BW_EREDIS;
    }
    BW_ERROR("Redis at %s refused %s: %s; check the server and that nothing "
             "else writes keys under prefix '%s'",
             st->url, cmd, e, st->prefix);
    return BW_EREDIS;
}

int st_check(struct bw_store *st, const redisReply *r, const char *cmd)
{
    if (r == NULL) {
        BW_ERROR("Redis at %s sent no reply to %s; check the server", st->url,
                 cmd);
        return BW_EREDIS;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        return st_reply_error(st, r, cmd);
    }
    return 0;
}

/* ------------------------------------------------- connect, AUTH, SELECT */

/* A command of the connection set-up got no reply: say why; BW_EREDIS. */
static int no_reply(const struct bw_store *st)
{
    BW_ERROR("cannot reach Redis at %s: %s; start redis-server or fix "
             "[redis] url",
             st->url, st->c->errstr[0] ? st->c->errstr : "no reply");
    return BW_EREDIS;
}

static int auth(struct bw_store *st)
{
    const char *argv[3];
    size_t len[3];
    int argc = 0;
    redisReply *r;
    int rc = 0;

    argv[argc] = "AUTH";
    len[argc++] = 4;
    if (st->username) {
        argv[argc] = st->username;
        len[argc++] = strlen(st->username);
    }
    argv[argc] = st->password;
    len[argc++] = strlen(st->password);
    r = redisCommandArgv(st->c, argc, argv, len);
    if (r == NULL) {
        return no_reply(st);
    }
    if (r->type == REDIS_REPLY_ERROR) {
        const char *e = r->str ? r->str : "";

        if (strstr(e, "without any password configured")) {
            BW_ERROR("Redis at %s has no password for its default user, but "
                     "[redis] gives one (%s); set [redis] username for an ACL "
                     "user, or drop the password",
                     st->url, st->secret_name);
            rc = BW_EAUTH;
        } else if (strstr(e, "wrong number of arguments")) {
            BW_ERROR("Redis at %s does not know ACL users (Redis 6 or later "
                     "does): %s; drop [redis] username",
                     st->url, e);
            rc = BW_EAUTH;
        } else if (strncmp(e, "WRONGPASS", 9) == 0 ||
                   strstr(e, "invalid password") ||
                   strstr(e, "invalid username")) {
            BW_ERROR("Redis at %s refused the password of user '%s' from "
                     "%s; fix the secret there or [redis] username",
                     st->url, st->username ? st->username : "default",
                     st->secret_name);
            rc = BW_EAUTH;
        } else {
            BW_ERROR("Redis at %s refused AUTH (password from %s): %s; check "
                     "[redis] username and the secret",
                     st->url, st->secret_name, e);
            rc = BW_EAUTH;
        }
    }
    freeReplyObject(r);
    return rc;
}

static int select_db(struct bw_store *st)
{
    char db[24];
    const char *argv[2] = {"SELECT", db};
    size_t len[2];
    redisReply *r;
    int rc = 0;

    snprintf(db, sizeof(db), "%ld", st->db);
    len[0] = 6;
    len[1] = strlen(db);
    r = redisCommandArgv(st->c, 2, argv, len);
    if (r == NULL) {
        return no_reply(st);
    }
    if (r->type == REDIS_REPLY_ERROR) {
        if (r->str && strncmp(r->str, "NOAUTH", 6) == 0) {
            rc = st_reply_error(st, r, "SELECT");
        } else {
            BW_ERROR("Redis at %s refused database %ld: %s; fix [redis] db",
                     st->url, st->db, r->str ? r->str : "");
            rc = BW_ECONFIG;
        }
    }
    freeReplyObject(r);
    return rc;
}

static int store_connect(struct bw_store *st)
{
    redisContext *c;
    int rc;

    if (st->addr.path[0]) {
        c = redisConnectUnixWithTimeout(st->addr.path, st->tv);
    } else {
        c = redisConnectWithTimeout(st->addr.host, st->addr.port, st->tv);
    }
    if (c == NULL) {
        BW_ERROR("cannot reach Redis at %s: out of memory; free memory and "
                 "try again",
                 st->url);
        return BW_ENOMEM;
    }
    if (c->err) {
        BW_ERROR("cannot reach Redis at %s: %s; start redis-server or fix "
                 "[redis] url",
                 st->url, c->errstr);
        redisFree(c);
        return BW_EREDIS;
    }
    if (redisSetTimeout(c, st->tv) != REDIS_OK) {
        BW_ERROR("cannot reach Redis at %s: cannot set a timeout: %s; start "
                 "redis-server or fix [redis] url",
                 st->url, c->errstr);
        redisFree(c);
        return BW_EREDIS;
    }
    st->c = c;
    rc = st->password ? auth(st) : 0;
    if (rc == 0 && st->db != 0) {
        rc = select_db(st);
    }
    if (rc) {
        st_drop(st);
    }
    return rc;
}

/* --------------------------------------------------------------- schema */

static int schema_refuse(struct bw_store *st, const redisReply *r)
{
    char shown[40];
    size_t n = 0;

    for (size_t i = 0; i < r->len && n + 5 < sizeof(shown); i++) {
        unsigned char c = (unsigned char)r->str[i];

        if (c < 0x20 || c >= 0x7f) {
            n += (size_t)snprintf(shown + n, sizeof(shown) - n, "\\x%02X", c);
        } else {
            shown[n++] = (char)c;
        }
    }
    shown[n] = '\0';
    BW_ERROR("the store at %s prefix '%s' has schema %s, this bellwether "
             "needs %d; use another prefix or db ([redis] prefix, db), or the "
             "bellwether release that wrote it",
             st->url, st->prefix, shown, BW_STORE_SCHEMA);
    return BW_ESCHEMA;
}

/* GET P schema, and with CREATE the EXISTS of the registries (data that
 * predates a schema key). *r gets the replies (caller frees, *n of them). */
static int schema_get(struct bw_store *st, unsigned flags, redisReply ***r,
                      size_t *n)
{
    struct st_cmdq q;
    int rc;

    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "GET") ||
                 st_argkey(&q, st, "schema", NULL, NULL)
             ? BW_ENOMEM
             : 0;
    if (rc == 0 && (flags & BW_STORE_CREATE)) {
        rc = st_cmd(&q) || st_args(&q, "EXISTS") ||
                     st_argkey(&q, st, "scopes", NULL, NULL) ||
                     st_argkey(&q, st, "sources", NULL, NULL)
                 ? BW_ENOMEM
                 : 0;
    }
    if (rc == 0) {
        rc = st_run(st, &q, r);
        *n = q.nc;
    }
    for (size_t i = 0; rc == 0 && i < *n; i++) {
        rc = st_check(st, (*r)[i], i == 0 ? "GET" : "EXISTS");
    }
    st_cmdq_release(&q);
    return rc;
}

/* SET P schema 1 NX: *created = 0 when another process was first. */
static int schema_create(struct bw_store *st, int *created)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "SET") ||
                 st_argkey(&q, st, "schema", NULL, NULL) ||
                 st_argi(&q, BW_STORE_SCHEMA) || st_args(&q, "NX")
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(st, &q, "SET", &r);
    }
    *created = rc == 0 && r[0]->type == REDIS_REPLY_STATUS;
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

static int schema_check(struct bw_store *st, unsigned flags)
{
    char want[8];
    int rc = 0;

    snprintf(want, sizeof(want), "%d", BW_STORE_SCHEMA);
    /* twice at most: a second process may create the key meanwhile */
    for (int attempt = 0; rc == 0 && attempt < 2; attempt++) {
        redisReply **r = NULL;
        size_t n = 0;
        int created = 0;

        rc = schema_get(st, flags, &r, &n);
        if (rc == 0 && r[0]->type == REDIS_REPLY_STRING) {
            if (r[0]->len != strlen(want) ||
                memcmp(r[0]->str, want, r[0]->len) != 0) {
                rc = schema_refuse(st, r[0]);
            }
            st_replies_free(r, n);
            return rc;
        }
        if (rc == 0 && !(flags & BW_STORE_CREATE)) {
            st->empty = 1;
            st_replies_free(r, n);
            return 0;
        }
        if (rc == 0 && r[1]->type == REDIS_REPLY_INTEGER && r[1]->integer > 0) {
            BW_ERROR("the store at %s prefix '%s' holds bellwether data but "
                     "no schema key; use another prefix or db, or delete the "
                     "keys under '%s'",
                     st->url, st->prefix, st->prefix);
            rc = BW_ESCHEMA;
        }
        st_replies_free(r, n);
        if (rc == 0) {
            rc = schema_create(st, &created);
        }
        if (rc == 0 && created) {
            return 0;
        }
    }
    return rc;
}

/* ----------------------------------------------------------- open, free */

static int copy_conf(struct bw_store *st, const struct bw_redis_conf *conf)
{
    const char *prefix = conf->prefix ? conf->prefix : "bw:";
    long timeout = conf->timeout > 0 ? conf->timeout : 5;

    bw_redact_url(conf->url, st->url, sizeof(st->url));
    st->prefix = bw_strdup(prefix);
    st->plen = strlen(prefix);
    st->db = conf->db;
    st->tv.tv_sec = timeout;
    st->tv.tv_usec = 0;
    if (conf->username && conf->username[0]) {
        st->username = bw_strdup(conf->username);
        if (st->username == NULL) {
            return BW_ENOMEM;
        }
    }
    if (conf->password) {
        st->password = bw_strdup(conf->password);
        if (st->password == NULL) {
            return BW_ENOMEM;
        }
    }
    if (conf->password_src.env) {
        snprintf(st->secret_name, sizeof(st->secret_name), "$%s",
                 conf->password_src.env);
    } else if (conf->password_src.file) {
        snprintf(st->secret_name, sizeof(st->secret_name), "file '%s'",
                 conf->password_src.file);
    } else {
        snprintf(st->secret_name, sizeof(st->secret_name), "%s",
                 "[redis] password");
    }
    return st->prefix ? 0 : BW_ENOMEM;
}

int bw_store_open(const struct bw_redis_conf *conf, unsigned flags,
                  struct bw_store **out)
{
    struct bw_store *st;
    int rc;

    *out = NULL;
    st = bw_calloc(1, sizeof(*st));
    if (st == NULL) {
        return BW_ENOMEM;
    }
    rc = copy_conf(st, conf);
    if (rc) {
        goto out;
    }
    if (conf->url == NULL ||
        bw_store_parse_url(conf->url, strlen(conf->url), &st->addr)) {
        BW_ERROR("bad [redis] url '%s'; use redis://HOST[:PORT] or "
                 "unix:///PATH, with no user or password in it (see [redis] "
                 "username, password_env)",
                 st->url);
        rc = BW_ECONFIG;
        goto out;
    }
    if (conf->db < 0) {
        BW_ERROR("bad [redis] db %ld; use a database number from 0", conf->db);
        rc = BW_ECONFIG;
        goto out;
    }
    rc = store_connect(st);
    if (rc == 0) {
        rc = schema_check(st, flags);
    }
    if (rc == 0) {
        *out = st;
        st = NULL;
    }
out:
    bw_store_free(st);
    return rc;
}

void bw_store_free(struct bw_store *st)
{
    if (st == NULL) {
        return;
    }
    st_drop(st);
    bw_free(st->prefix);
    bw_free(st->username);
    if (st->password) {
        memset(st->password, 0, strlen(st->password));
        bw_free(st->password);
    }
    bw_free(st);
}

const char *bw_store_prefix(const struct bw_store *st)
{
    return st->prefix;
}

const char *bw_store_url(const struct bw_store *st)
{
    return st->url;
}

int bw_store_is_empty(const struct bw_store *st)
{
    return st->empty;
}

void bw_store_set_fault(struct bw_store *st, int kind, long after, int times)
{
    st->fault_kind = kind;
    st->fault_after = after;
    st->fault_times = times;
}

/* ---------------------------------------------------------- tags, keys */

static int tag_name_ok(const char *s)
{
    if (s == NULL || *s == '\0') {
        return 0;
    }
    return strpbrk(s, "{}") == NULL;
}

int st_tag(struct bw_buf *out, const char *source, const char *scope)
{
    bw_buf_reset(out);
    if (!tag_name_ok(source) || strchr(source, ':') || !tag_name_ok(scope)) {
        return BW_EPARSE;
    }
    if (bw_buf_adds(out, source) || bw_buf_addch(out, ':') ||
        bw_buf_adds(out, scope)) {
        return BW_ENOMEM;
    }
    return 0;
}

int st_glob_escape(struct bw_buf *out, const char *s)
{
    for (; *s; s++) {
        if (strchr("*?[]\\", *s) && bw_buf_addch(out, '\\')) {
            return BW_ENOMEM;
        }
        if (bw_buf_addch(out, *s)) {
            return BW_ENOMEM;
        }
    }
    return 0;
}

struct scan_arg {
    const char *pattern;
    struct bw_strlist *out;
    size_t n0; /* entries of out before the scan (dropped on a retry) */
};

static int scan_op(struct bw_store *st, void *arg)
{
    struct scan_arg *a = arg;
    struct st_cmdq q;
    char cursor[32] = "0";
    redisReply **r = NULL;
    int rc = 0;

    st_cmdq_init(&q);
    while (a->out->n > a->n0) {
        bw_free(a->out->v[--a->out->n]);
    }
    do {
        redisReply *keys;

        st_cmdq_reset(&q);
        if (st_cmd(&q) || st_args(&q, "SCAN") || st_args(&q, cursor) ||
            st_args(&q, "MATCH") || st_args(&q, a->pattern) ||
            st_args(&q, "COUNT") || st_args(&q, "1000")) {
            rc = BW_ENOMEM;
            break;
        }
        rc = st_roundtrip(st, &q, &r);
        if (rc == 0) {
            rc = st_check(st, r[0], "SCAN");
        }
        if (rc) {
            break;
        }
        if (r[0]->type != REDIS_REPLY_ARRAY || r[0]->elements != 2 ||
            r[0]->element[0]->type != REDIS_REPLY_STRING ||
            r[0]->element[0]->len >= sizeof(cursor) ||
            r[0]->element[1]->type != REDIS_REPLY_ARRAY) {
            BW_ERROR("Redis at %s sent an odd SCAN reply; check the server",
                     st->url);
            rc = BW_EREDIS;
            break;
        }
        memcpy(cursor, r[0]->element[0]->str, r[0]->element[0]->len);
        cursor[r[0]->element[0]->len] = '\0';
        keys = r[0]->element[1];
        for (size_t i = 0; rc == 0 && i < keys->elements; i++) {
            if (keys->element[i]->type == REDIS_REPLY_STRING) {
                rc = bw_strlist_add(a->out, keys->element[i]->str);
            }
        }
        st_replies_free(r, 1);
        r = NULL;
    } while (rc == 0 && strcmp(cursor, "0") != 0);
    st_replies_free(r, 1);
    st_cmdq_release(&q);
    return rc;
}

int st_scan_keys(struct bw_store *st, const char *pattern,
                 struct bw_strlist *out)
{
    struct scan_arg a = {pattern, out, out->n};

    return st_retry(st, scan_op, &a);
}

/* --------------------------------------------------------- bookkeeping */

int bw_store_config_hash_get(struct bw_store *st, const char *source, char *buf,
                             size_t n)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    buf[0] = '\0';
    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "HGET") ||
                 st_argkey(&q, st, "meta", source, NULL) ||
                 st_args(&q, "config_hash")
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(st, &q, "HGET", &r);
    }
    if (rc == 0 && r[0]->type == REDIS_REPLY_STRING) {
        snprintf(buf, n, "%.*s", (int)r[0]->len, r[0]->str);
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

int bw_store_config_hash_set(struct bw_store *st, const char *source,
                             const char *hash)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "HSET") ||
                 st_argkey(&q, st, "meta", source, NULL) ||
                 st_args(&q, "config_hash") || st_args(&q, hash ? hash : "")
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(st, &q, "HSET", &r);
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

static int hset_num(struct st_cmdq *q, const char *field, int64_t v)
{
    return st_args(q, field) || st_argi(q, v) ? BW_ENOMEM : 0;
}

static const char *run_status(int rc)
{
    return rc == 0 ? "ok" : rc == BW_EINTR ? "interrupted" : "failed";
}

int bw_store_run_record(struct bw_store *st, const char *source,
                        const struct bw_store_run *run)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    char dur[32];
    int rc;

    snprintf(dur, sizeof(dur), "%.3f", run->duration);
    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "HSET") ||
                 st_argkey(&q, st, "run", source, NULL) ||
                 hset_num(&q, "last_run", run->started) ||
                 st_args(&q, "duration") || st_args(&q, dur) ||
                 st_args(&q, "status") || st_args(&q, run_status(run->rc)) ||
                 st_args(&q, "error") ||
                 st_args(&q, run->rc ? bw_strerror(run->rc) : "") ||
                 hset_num(&q, "items", run->items) ||
                 hset_num(&q, "requests", run->requests) ||
                 hset_num(&q, "not_modified", run->not_modified) ||
                 hset_num(&q, "quota_left", run->quota_left) ||
                 hset_num(&q, "items_seen", run->items_seen) ||
                 hset_num(&q, "items_new", run->items_new) ||
                 hset_num(&q, "items_changed", run->items_changed) ||
                 (run->quota_limit > 0 &&
                  hset_num(&q, "quota_limit", run->quota_limit)) ||
                 (run->quota_reset > 0 &&
                  hset_num(&q, "quota_reset", run->quota_reset)) ||
                 (run->summary != NULL &&
                  (st_args(&q, "summary") || st_args(&q, run->summary))) ||
                 hset_num(&q, run->rc ? "last_failure" : "last_success",
                          run->started) ||
                 (run->rc && (st_args(&q, "last_error") ||
                              st_args(&q, run->error && *run->error
                                              ? run->error
                                              : bw_strerror(run->rc))))
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(st, &q, "HSET", &r);
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

/* ----------------------------------------------------------- index scans */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int bw_store_scopes(struct bw_store *st, struct bw_strlist *out)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "SMEMBERS") ||
                 st_argkey(&q, st, "scopes", NULL, NULL)
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(st, &q, "SMEMBERS", &r);
    }
    if (rc == 0 && r[0]->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; rc == 0 && i < r[0]->elements; i++) {
            if (r[0]->element[i]->type == REDIS_REPLY_STRING) {
                rc = bw_strlist_add(out, r[0]->element[i]->str);
            }
        }
    }
    if (rc == 0 && out->n > 1) {
        qsort(out->v, out->n, sizeof(char *), cmp_str);
    }
    if (rc) {
        bw_strlist_release(out);
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

static int put_bound(struct st_cmdq *q, int64_t v, const char *inf)
{
    return v == BW_NOTIME ? st_args(q, inf) : st_argi(q, v);
}

int bw_store_scan(struct bw_store *st, int ix, int64_t from, int64_t to,
                  const char *const *tags, size_t ntags, bw_store_row_cb cb,
                  void *arg)
{
    struct bw_strlist all = {NULL, 0};
    struct st_cmdq q;
    redisReply **r = NULL;
    char kind[24];
    int rc = 0;

    if (ix < 0 || ix >= BW_IX_COUNT) {
        return BW_EUSAGE;
    }
    st_cmdq_init(&q);
    if (tags == NULL) {
        rc = bw_store_scopes(st, &all);
        tags = (const char *const *)all.v;
        ntags = all.n;
    }
    snprintf(kind, sizeof(kind), "ix:%s", bw_store_ix_name(ix));
    for (size_t i = 0; rc == 0 && i < ntags; i++) {
        if (st_cmd(&q) || st_args(&q, "ZRANGEBYSCORE") ||
            st_argkey(&q, st, kind, tags[i], NULL) ||
            put_bound(&q, from, "-inf") || put_bound(&q, to, "+inf") ||
            st_args(&q, "WITHSCORES")) {
            rc = BW_ENOMEM;
        }
    }
    if (rc == 0 && q.nc) {
        rc = st_run(st, &q, &r);
    }
    for (size_t i = 0; rc == 0 && i < q.nc; i++) {
        const redisReply *a = r[i];

        rc = st_check(st, a, "ZRANGEBYSCORE");
        if (rc || a->type != REDIS_REPLY_ARRAY) {
            continue;
        }
        for (size_t j = 0; rc == 0 && j + 1 < a->elements; j += 2) {
            const redisReply *m = a->element[j];
            const redisReply *s = a->element[j + 1];

            if (m->type != REDIS_REPLY_STRING ||
                s->type != REDIS_REPLY_STRING) {
                continue;
            }
            rc = cb(arg, tags[i], m->str, m->len, strtod(s->str, NULL));
        }
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    bw_strlist_release(&all);
    return rc;
}

/* -------------------------------------------------------- canonical dump */

/* Data keys, after the prefix: the rest are bookkeeping. */
static int data_key(const char *k)
{
    static const char *const exact[] = {"schema", "sources", "scopes"};
    static const char *const starts[] = {"pr:", "ticket:", "statuses:", "ix:"};

    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
        if (strcmp(k, exact[i]) == 0) {
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        if (strncmp(k, starts[i], strlen(starts[i])) == 0) {
            return 1;
        }
    }
    return 0;
}

static int dump_text(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\\') {
            fputs("\\\\", f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\x%02X", c);
        } else {
            fputc(c, f);
        }
    }
    return ferror(f) ? BW_EIO : 0;
}

struct pair {
    const redisReply *a, *b;
};

static int cmp_reply(const redisReply *x, const redisReply *y)
{
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->str, y->str, n);

    if (c) {
        return c;
    }
    return x->len < y->len ? -1 : x->len > y->len;
}

static int cmp_pair(const void *x, const void *y)
{
    return cmp_reply(((const struct pair *)x)->a, ((const struct pair *)y)->a);
}

static void dump_score(FILE *f, const redisReply *s)
{
    char tmp[64];
    double v;

    snprintf(tmp, sizeof(tmp), "%.*s", (int)s->len, s->str);
    v = strtod(tmp, NULL);
    if (v == (double)(long long)v && v > -9.2e18 && v < 9.2e18) {
        fprintf(f, "%lld", (long long)v);
    } else {
        fprintf(f, "%.17g", v);
    }
}

/* One key's content: pairs for hashes and zsets, singles otherwise. */
static int dump_value(FILE *f, const char *type, const redisReply *v)
{
    struct pair *p = NULL;
    size_t n = 0;
    int pairs = strcmp(type, "hash") == 0 || strcmp(type, "zset") == 0;
    int rc = 0;

    if (v->type == REDIS_REPLY_STRING) {
        fputs("  ", f);
        rc = dump_text(f, v->str, v->len);
        fputc('\n', f);
        return rc;
    }
    if (v->type != REDIS_REPLY_ARRAY) {
        return 0;
    }
    n = pairs ? v->elements / 2 : v->elements;
    p = bw_calloc(n ? n : 1, sizeof(*p));
    if (p == NULL) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (pairs) {
            p[i].a = v->element[2 * i];
            p[i].b = v->element[2 * i + 1];
        } else {
            p[i].a = v->element[i];
        }
    }
    qsort(p, n, sizeof(*p), cmp_pair);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        fputs("  ", f);
        if (strcmp(type, "zset") == 0) {
            dump_score(f, p[i].b);
            fputc(' ', f);
            rc = dump_text(f, p[i].a->str, p[i].a->len);
        } else if (pairs) {
            rc = dump_text(f, p[i].a->str, p[i].a->len);
            fputs(" = ", f);
            if (rc == 0) {
                rc = dump_text(f, p[i].b->str, p[i].b->len);
            }
        } else {
            rc = dump_text(f, p[i].a->str, p[i].a->len);
        }
        fputc('\n', f);
    }
    bw_free(p);
    return rc;
}

static const char *content_cmd(const char *type)
{
    if (strcmp(type, "hash") == 0) {
        return "HGETALL";
    }
    if (strcmp(type, "set") == 0) {
        return "SMEMBERS";
    }
    if (strcmp(type, "zset") == 0) {
        return "ZRANGE";
    }
    if (strcmp(type, "string") == 0) {
        return "GET";
    }
    return NULL;
}

/* Keys [from, to) of keys: TYPE of each, then their contents. */
static int dump_batch(struct bw_store *st, FILE *f, char **keys, size_t from,
                      size_t to)
{
    struct st_cmdq q;
    redisReply **t = NULL, **v = NULL;
    size_t nt = 0, nv = 0;
    int rc = 0;

    st_cmdq_init(&q);
    for (size_t i = from; rc == 0 && i < to; i++) {
        rc = st_cmd(&q) || st_args(&q, "TYPE") || st_args(&q, keys[i])
                 ? BW_ENOMEM
                 : 0;
    }
    if (rc == 0) {
        rc = st_run(st, &q, &t);
        nt = q.nc;
    }
    st_cmdq_reset(&q);
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        const char *cmd;

        rc = st_check(st, t[i], "TYPE");
        cmd = rc == 0 && t[i]->type == REDIS_REPLY_STATUS
                  ? content_cmd(t[i]->str)
                  : NULL;
        if (rc || st_cmd(&q)) {
            rc = rc ? rc : BW_ENOMEM;
            break;
        }
        /* every key gets a command so replies line up: ECHO for odd ones */
        if (cmd == NULL) {
            rc = st_args(&q, "ECHO") || st_args(&q, "") ? BW_ENOMEM : 0;
        } else if (strcmp(cmd, "ZRANGE") == 0) {
            rc = st_args(&q, cmd) || st_args(&q, keys[from + i]) ||
                         st_args(&q, "0") || st_args(&q, "-1") ||
                         st_args(&q, "WITHSCORES")
                     ? BW_ENOMEM
                     : 0;
        } else {
            rc =
                st_args(&q, cmd) || st_args(&q, keys[from + i]) ? BW_ENOMEM : 0;
        }
    }
    if (rc == 0) {
        rc = st_run(st, &q, &v);
        nv = q.nc;
    }
    for (size_t i = 0; rc == 0 && i < nv; i++) {
        const char *type = t[i]->str;

        if (t[i]->type != REDIS_REPLY_STATUS || content_cmd(type) == NULL) {
            continue; /* deleted meanwhile ("none"), or not ours */
        }
        rc = st_check(st, v[i], "dump");
        if (rc == 0) {
            fprintf(f, "%s ", type);
            rc = dump_text(f, keys[from + i] + st->plen,
                           strlen(keys[from + i] + st->plen));
            fputc('\n', f);
        }
        if (rc == 0) {
            rc = dump_value(f, type, v[i]);
        }
    }
    st_replies_free(t, nt);
    st_replies_free(v, nv);
    st_cmdq_release(&q);
    return rc;
}

int bw_store_dump(struct bw_store *st, FILE *f)
{
    struct bw_strlist keys = {NULL, 0};
    struct bw_buf pat = BW_BUF_INIT;
    size_t n = 0;
    int rc;

    rc = st_glob_escape(&pat, st->prefix);
    if (rc == 0) {
        rc = bw_buf_addch(&pat, '*');
    }
    if (rc == 0) {
        rc = st_scan_keys(st, pat.data, &keys);
    }
    if (rc) {
        goto out;
    }
    /* keep data keys only */
    for (size_t i = 0; i < keys.n; i++) {
        if (data_key(keys.v[i] + st->plen)) {
            keys.v[n++] = keys.v[i];
        } else {
            bw_free(keys.v[i]);
        }
    }
    keys.n = n;
    if (n > 1) {
        qsort(keys.v, n, sizeof(char *), cmp_str);
    }
    /* SCAN may return a key twice */
    n = 0;
    for (size_t i = 0; i < keys.n; i++) {
        if (n > 0 && strcmp(keys.v[n - 1], keys.v[i]) == 0) {
            bw_free(keys.v[i]);
        } else {
            keys.v[n++] = keys.v[i];
        }
    }
    keys.n = n;
    for (size_t i = 0; rc == 0 && i < keys.n; i += 100) {
        rc = dump_batch(st, f, keys.v, i, i + 100 < keys.n ? i + 100 : keys.n);
    }
    if (rc == 0 && (fflush(f) != 0 || ferror(f))) {
        BW_ERROR("cannot write the dump: %s; check the output",
                 strerror(errno));
        rc = BW_EIO;
    }
out:
    bw_strlist_release(&keys);
    bw_buf_release(&pat);
    return rc;
}

void st_fault_drop(struct bw_store *st)
{
    if (st->c && st->c->fd >= 0) {
        int done = 0;

        /* push out what is buffered, so the server sees half a page */
        while (!done && redisBufferWrite(st->c, &done) == REDIS_OK) {
        }
        shutdown(st->c->fd, SHUT_RDWR);
    }
}
