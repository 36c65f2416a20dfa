/*
 * cmd_check.c - `bellwether check`: validate the config, then reach every
 * service it names, printing one line per check:
 *
 *   ✓ config ./bellwether.ini: 2 sources, 1 team
 *   ✓ redis redis://127.0.0.1:6379: schema 1
 *   ✓ source gh (github): credentials accepted, quota 4999/5000 left
 *   ✗ source jira (jira): credentials refused
 *   ⚠ team platform: jira_users 'bob' matches no assignee of the stored
 *     tickets
 *   3 checks passed, 1 failed, 1 warning
 *
 * The checks are rows of checks[] (git's commands[] idea), run in order
 * over one shared context. The config check comes first and loads the
 * config the others read; when it fails nothing else can run. Every later
 * check reports its own lines and the run goes on, so one `check` shows
 * every problem. Details of a failure are the error line the failing
 * module logged on stderr just before (the ✗ line says what, stdout).
 *
 * Each source's credentials are proved by its collector's check hook: one
 * cheap request (GitHub GET /rate_limit, which costs no quota; Jira GET
 * /rest/api/2/myself); a collector without one is "not checked". For Jira
 * sources check also reads /rest/api/2/field and warns when story points
 * would stay empty: the collector finds the field by the name "Story
 * Points" only, and team-managed Cloud projects call theirs "Story point
 * estimate". Teams' jira_users are compared with the assignees of the
 * stored tickets (ids on Cloud, names on Data Center, as queries match
 * them): one that matches none is most likely a typo or a display name.
 *
 * SMTP ([email]) is probed without sending mail, with a plain socket
 * (only http.c and mail.c may use curl, and mail.h offers no probe): for
 * smtp:// the greeting, EHLO (is STARTTLS offered, which mail.c requires
 * with credentials except to a loopback address?) and QUIT; for smtps://
 * a TCP connection only (TLS and the login are proved by the first mail).
 * BELLWETHER_SMTP_CONNECT_TO (tests) is honoured as mail.c does.
 *
 * Exit status: 0 only when every check passed (warnings allowed); 2 when a
 * failure is of the configuration kind (bad config, credentials refused);
 * else 1 (a service unreachable).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>

#include "bellwether/buf.h"
#include "bellwether/cli.h"
#include "bellwether/clock.h"
#include "bellwether/collector.h"
#include "bellwether/config.h"
#include "bellwether/error.h"
#include "bellwether/http.h"
#include "bellwether/jira.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/pr.h"
#include "bellwether/store.h"

#define CHECK_TRIES 2         /* a check should not sit in backoff */
#define CHECK_TIMEOUT 20      /* seconds per request */
#define SMTP_TIMEOUT_MS 10000 /* connect and each reply */
#define SMTP_REPLY_MAX 4096

struct check_ctx {
    const struct bw_cli *cli;
    const char *path;      /* the config file checked */
    struct bw_config *cfg; /* set by the config check */
    struct bw_store *st;   /* set by the redis check when it passed */
    size_t passed, failed, warnings;
    int first_config; /* first failure of the exit-2 kind */
    int first_other;  /* first other failure */
};

struct check {
    const char *name;
    /* Prints its own lines (pass/fail/warn/skip); returns nonzero to stop
       the checks after it. */
    int (*run)(struct check_ctx *ctx);
};

/* ------------------------------------------------------------ output */

static void line(const char *mark, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void line(const char *mark, const char *fmt, va_list ap)
{
    fputs(mark, stdout);
    fputc(' ', stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    fflush(stdout); /* in step with the error lines on stderr */
}

static void pass(struct check_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct check_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct check_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void skip(struct check_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void pass(struct check_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    ctx->passed++;
    if (ctx->cli->quiet) {
        return;
    }
    va_start(ap, fmt);
    line("\u2713", fmt, ap);
    va_end(ap);
}

static void fail(struct check_ctx *ctx, int rc, const char *fmt, ...)
{
    va_list ap;

    ctx->failed++;
    if (bw_exit_code(rc) == 2) {
        ctx->first_config = ctx->first_config ? ctx->first_config : rc;
    } else {
        ctx->first_other = ctx->first_other ? ctx->first_other : rc;
    }
    va_start(ap, fmt);
    line("\u2717", fmt, ap);
    va_end(ap);
}

static void warn(struct check_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    ctx->warnings++;
    if (ctx->cli->quiet) {
        return;
    }
    va_start(ap, fmt);
    line("\u26a0", fmt, ap);
    va_end(ap);
}

/* Not checked: neither a pass nor a failure. */
static void skip(struct check_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->cli->quiet) {
        return;
    }
    va_start(ap, fmt);
    line("-", fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ config */

/* Load and validate the config: every error is logged as FILE:LINE. */
static int check_config(struct check_ctx *ctx)
{
    int rc = bw_config_load(ctx->path, &ctx->cfg);
    const struct bw_config *c = ctx->cfg;

    if (rc) {
        fail(ctx, rc == BW_ENOMEM ? rc : BW_ECONFIG, "config %s: %s", ctx->path,
             bw_strerror(rc));
        return 1;
    }
    pass(ctx, "config %s: %zu source%s, %zu team%s", ctx->path, c->nsources,
         c->nsources == 1 ? "" : "s", c->nteams, c->nteams == 1 ? "" : "s");
    if (c->nsources == 0) {
        warn(ctx,
             "config %s has no [source]; collect has nothing to do "
             "(add one, see 'bellwether init')",
             ctx->path);
    }
    return 0;
}

/* ------------------------------------------------------------ redis */

static int check_redis(struct check_ctx *ctx)
{
    const char *url = ctx->cfg->redis.url ? ctx->cfg->redis.url : "?";
    int rc = bw_store_open(&ctx->cfg->redis, 0, &ctx->st);

    if (rc) {
        fail(ctx, rc, "redis %s: %s", url, bw_strerror(rc));
        ctx->st = NULL;
        return 0;
    }
    if (bw_store_is_empty(ctx->st)) {
        pass(ctx,
             "redis %s: reachable, no data under '%s' yet (the first "
             "collect creates it)",
             bw_store_url(ctx->st), bw_store_prefix(ctx->st));
    } else {
        pass(ctx, "redis %s: reachable, schema %d under '%s'",
             bw_store_url(ctx->st), BW_STORE_SCHEMA, bw_store_prefix(ctx->st));
    }
    return 0;
}

/* ------------------------------------------------------------ sources */

/* A sink that stores nothing: check hooks only use sink->http. */
static int nul_get(void *c, const char *k, char *buf, size_t n)
{
    (void)c;
    (void)k;
    if (n > 0) {
        buf[0] = '\0';
    }
    return 0;
}

static int nul_set(void *c, const char *k, const char *v)
{
    (void)c;
    (void)k;
    (void)v;
    return 0;
}

static int nul_versions(void *c, const char *scope, const char *const *ids,
                        size_t n, char **versions)
{
    (void)c;
    (void)scope;
    (void)ids;
    for (size_t i = 0; i < n; i++) {
        versions[i] = NULL;
    }
    return 0;
}

static int nul_emit(void *c, const struct bw_record *rec)
{
    (void)c;
    (void)rec;
    return 0;
}

static int nul_commit(void *c)
{
    (void)c;
    return 0;
}

static void nul_discard(void *c)
{
    (void)c;
}

static void nul_sink(struct bw_sink *s, const struct bw_source_conf *src)
{
    memset(s, 0, sizeof(*s));
    s->src = src;
    s->stats.items_known = -1;
    s->cursor_get = nul_get;
    s->cursor_set = nul_set;
    s->item_versions = nul_versions;
    s->etag_get = nul_get;
    s->etag_put = nul_set;
    s->emit = nul_emit;
    s->commit_page = nul_commit;
    s->discard_page = nul_discard;
    s->should_stop = nul_commit;
    s->meta_get = nul_get;
    s->meta_set = nul_set;
}

static int open_http(const struct bw_source_conf *src, struct bw_http **out)
{
    const struct bw_collector *col = src->collector;
    struct bw_http_opts ho;
    char name[160];
    int rc;

    memset(&ho, 0, sizeof(ho));
    if (col->http_opts && (rc = col->http_opts(src, &ho)) != 0) {
        return rc;
    }
    snprintf(name, sizeof(name), "%s:%s", col->name, src->name);
    ho.max_parallel = 1;
    ho.max_rate_wait = 0; /* report a rate limit, never wait for it */
    ho.ca_file = src->common.ca_file;
    ho.max_tries = CHECK_TRIES;
    ho.timeout = CHECK_TIMEOUT;
    ho.name = ho.name ? ho.name : name;
    return bw_http_new(&ho, out);
}

/* ", quota 4999/5000 left" when the answer said. */
static void quota_text(const struct bw_http *h, char *buf, size_t n)
{
    const struct bw_http_stats *hs = bw_http_stats(h);

    buf[0] = '\0';
    if (hs != NULL && hs->quota_remaining >= 0 && hs->quota_limit > 0) {
        snprintf(buf, n, ", quota %ld/%ld left", hs->quota_remaining,
                 hs->quota_limit);
    } else if (hs != NULL && hs->quota_remaining >= 0) {
        snprintf(buf, n, ", quota %ld left", hs->quota_remaining);
    }
}

static void story_points_warn(struct check_ctx *ctx,
                              const struct bw_source_conf *src,
                              struct bw_http *h);

static void check_source(struct check_ctx *ctx,
                         const struct bw_source_conf *src)
{
    const struct bw_collector *col = src->collector;
    struct bw_sink sink;
    void *cctx = NULL;
    char quota[64];
    int rc;

    nul_sink(&sink, src);
    if (col->check == NULL) {
        skip(ctx, "source %s (%s): not checked (the collector has no check)",
             src->name, col->name);
        return;
    }
    rc = open_http(src, &sink.http);
    if (rc == 0) {
        rc = col->init(src, &cctx);
        if (rc) {
            cctx = NULL;
        }
    }
    if (rc == 0) {
        rc = col->check(cctx, &sink);
    }
    if (rc) {
        fail(ctx, rc, "source %s (%s): %s", src->name, col->name,
             bw_strerror(rc));
    } else {
        quota_text(sink.http, quota, sizeof(quota));
        pass(ctx, "source %s (%s): credentials accepted%s", src->name,
             col->name, quota);
        if (strcmp(col->name, "jira") == 0) {
            story_points_warn(ctx, src, sink.http);
        }
    }
    if (cctx != NULL) {
        col->free(cctx);
    }
    bw_http_free(sink.http);
}

static int check_sources(struct check_ctx *ctx)
{
    for (size_t i = 0; i < ctx->cfg->nsources; i++) {
        check_source(ctx, &ctx->cfg->sources[i]);
    }
    return 0;
}

/* ------------------------------------------------- jira: story points */

/* In a /rest/api/2/field answer: the name of field id, or the id of the
 * first field named name; NULL when none (borrowed from root). */
static const char *field_name(const cJSON *root, const char *id)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, root)
    {
        const cJSON *fid = cJSON_GetObjectItemCaseSensitive(f, "id");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");

        if (cJSON_IsString(fid) && cJSON_IsString(nm) &&
            strcmp(fid->valuestring, id) == 0) {
            return nm->valuestring;
        }
    }
    return NULL;
}

static const char *field_id(const cJSON *root, const char *name)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, root)
    {
        const cJSON *fid = cJSON_GetObjectItemCaseSensitive(f, "id");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");

        if (cJSON_IsString(fid) && cJSON_IsString(nm) &&
            strcmp(nm->valuestring, name) == 0) {
            return fid->valuestring;
        }
    }
    return NULL;
}

/* Judge the site's fields against story_points_field (or its absence). */
static void judge_fields(struct check_ctx *ctx,
                         const struct bw_source_conf *src, const cJSON *root)
{
    const struct bw_jira_opts *o = src->opts;
    const char *sp = field_id(root, "Story Points");
    const char *spe = field_id(root, "Story point estimate");

    if (o->story_points_field != NULL) {
        const char *nm = field_name(root, o->story_points_field);

        if (nm == NULL) {
            warn(ctx,
                 "source %s: story_points_field = %s is not a field of this "
                 "site; story points stay empty (fields named \"Story "
                 "Points\": %s, \"Story point estimate\": %s)",
                 src->name, o->story_points_field, sp ? sp : "none",
                 spe ? spe : "none");
        } else if (strcmp(nm, "Story Points") != 0 &&
                   strcmp(nm, "Story point estimate") != 0) {
            warn(ctx,
                 "source %s: story_points_field = %s is named \"%s\", "
                 "neither \"Story Points\" nor \"Story point estimate\"; "
                 "check it is the story points field",
                 src->name, o->story_points_field, nm);
        }
        return;
    }
    if (sp != NULL) {
        return; /* the collector finds it by this name */
    }
    if (spe != NULL) {
        warn(ctx,
             "source %s: story points are in \"Story point estimate\" (%s), "
             "which is not looked up by name; set story_points_field = %s",
             src->name, spe, spe);
    } else {
        warn(ctx,
             "source %s: no field is named \"Story Points\" or \"Story "
             "point estimate\"; story points stay empty unless "
             "story_points_field names yours",
             src->name);
    }
}

static void story_points_warn(struct check_ctx *ctx,
                              const struct bw_source_conf *src,
                              struct bw_http *h)
{
    const struct bw_jira_opts *o = src->opts;
    struct bw_buf url = BW_BUF_INIT;
    struct bw_http_req req;
    struct bw_http_resp resp;
    cJSON *root = NULL;
    size_t n;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    n = o->url ? strlen(o->url) : 0;
    while (n > 0 && o->url[n - 1] == '/') {
        n--;
    }
    if (bw_buf_printf(&url, "%.*s/rest/api/2/field", (int)n,
                      o->url ? o->url : "") != 0) {
        goto out;
    }
    req.url = url.data;
    if (bw_http_fetch(h, &req, &resp) != 0 || resp.status != 200) {
        skip(ctx,
             "source %s: story points field not checked (GET "
             "/rest/api/2/field failed)",
             src->name);
        goto out;
    }
    root = cJSON_ParseWithLengthOpts(resp.body.data, resp.body.len, NULL, 0);
    if (!cJSON_IsArray(root)) {
        skip(ctx,
             "source %s: story points field not checked (the field "
             "list did not parse)",
             src->name);
        goto out;
    }
    judge_fields(ctx, src, root);
out:
    cJSON_Delete(root);
    bw_http_resp_release(&resp);
    bw_buf_release(&url);
}

/* ------------------------------------------------- jira_users */

struct users_scan {
    const char **user; /* every team's jira_users, flattened */
    const char **team; /* the team of each */
    int *matched;
    size_t n, left;
    long tickets;
    struct bw_ticket_row row;
};

static int users_row(void *arg, const char *tag, const char *member, size_t len,
                     double score)
{
    struct users_scan *u = arg;

    (void)tag;
    (void)score;
    if (bw_ticket_row_parse(&u->row, BW_IX_CREATED, member, len) != 0) {
        return 0; /* a row that does not decode matches nobody */
    }
    u->tickets++;
    for (size_t i = 0; u->left > 0 && i < u->n; i++) {
        if (u->matched[i]) {
            continue;
        }
        if ((u->row.assignee_id &&
             strcmp(u->row.assignee_id, u->user[i]) == 0) ||
            (u->row.assignee_name &&
             strcmp(u->row.assignee_name, u->user[i]) == 0)) {
            u->matched[i] = 1;
            u->left--;
        }
    }
    return 0;
}

static int has_jira_source(const struct bw_config *cfg)
{
    for (size_t i = 0; i < cfg->nsources; i++) {
        if (strcmp(cfg->sources[i].collector->name, "jira") == 0) {
            return 1;
        }
    }
    return 0;
}

static int users_init(const struct bw_config *cfg, struct users_scan *u)
{
    size_t total = 0;

    for (size_t t = 0; t < cfg->nteams; t++) {
        total += cfg->teams[t].jira_users.n;
    }
    u->user = bw_calloc(total ? total : 1, sizeof(*u->user));
    u->team = bw_calloc(total ? total : 1, sizeof(*u->team));
    u->matched = bw_calloc(total ? total : 1, sizeof(*u->matched));
    if (u->user == NULL || u->team == NULL || u->matched == NULL) {
        return BW_ENOMEM;
    }
    for (size_t t = 0; t < cfg->nteams; t++) {
        for (size_t i = 0; i < cfg->teams[t].jira_users.n; i++) {
            u->user[u->n] = cfg->teams[t].jira_users.v[i];
            u->team[u->n++] = cfg->teams[t].name;
        }
    }
    u->left = u->n;
    return 0;
}

static int check_jira_users(struct check_ctx *ctx)
{
    struct users_scan u;
    int rc;

    memset(&u, 0, sizeof(u));
    bw_ticket_row_init(&u.row);
    if (!has_jira_source(ctx->cfg) || (rc = users_init(ctx->cfg, &u)) != 0 ||
        u.n == 0) {
        goto out;
    }
    if (ctx->st == NULL || bw_store_is_empty(ctx->st)) {
        skip(ctx, "jira_users: not checked, no tickets stored yet (run "
                  "'bellwether collect' first)");
        goto out;
    }
    rc = bw_store_scan(ctx->st, BW_IX_CREATED, BW_NOTIME, BW_NOTIME, NULL, 0,
                       users_row, &u);
    if (rc) {
        fail(ctx, rc, "jira_users: cannot read the stored tickets: %s",
             bw_strerror(rc));
    } else if (u.tickets == 0) {
        skip(ctx, "jira_users: not checked, no tickets stored yet (run "
                  "'bellwether collect' first)");
    } else {
        for (size_t i = 0; i < u.n; i++) {
            if (!u.matched[i]) {
                warn(ctx,
                     "team %s: jira_users '%s' matches no assignee of the "
                     "%ld stored tickets; use the account id (Cloud) or "
                     "user name (Data Center)",
                     u.team[i], u.user[i], u.tickets);
            }
        }
        if (u.left == 0) {
            pass(ctx, "jira_users: all %zu match assignees of stored tickets",
                 u.n);
        }
    }
out:
    bw_ticket_row_release(&u.row);
    bw_free(u.user);
    bw_free(u.team);
    bw_free(u.matched);
    return 0;
}

/* ------------------------------------------------------------ smtp */

struct smtp_target {
    int tls;        /* smtps:// */
    char host[256]; /* as in the URL (brackets removed) */
    char port[8];
    char conn_host[256]; /* where to connect (CONNECT_TO may change it) */
    char conn_port[8];
};

/* smtp[s]://[user@]HOST[:PORT][/...] into t. 0 or BW_ECONFIG. */
static int smtp_parse(const char *url, struct smtp_target *t)
{
    const char *h;
    const char *end;
    const char *at;
    const char *colon = NULL;
    size_t hl;

    memset(t, 0, sizeof(*t));
    if (strncasecmp(url, "smtps://", 8) == 0) {
        t->tls = 1;
        h = url + 8;
    } else if (strncasecmp(url, "smtp://", 7) == 0) {
        h = url + 7;
    } else {
        return BW_ECONFIG;
    }
    end = h + strcspn(h, "/?#");
    at = memchr(h, '@', (size_t)(end - h));
    h = at ? at + 1 : h;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));

        if (rb == NULL) {
            return BW_ECONFIG;
        }
        hl = (size_t)(rb - h - 1);
        memcpy(t->host, h + 1, hl < sizeof(t->host) ? hl : 0);
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        hl = (size_t)((colon ? colon : end) - h);
        if (hl < sizeof(t->host)) {
            memcpy(t->host, h, hl);
        }
    }
    if (t->host[0] == '\0') {
        return BW_ECONFIG;
    }
    snprintf(t->port, sizeof(t->port), "%.*s",
             colon ? (int)(end - colon - 1) : 0, colon ? colon + 1 : "");
    if (t->port[0] == '\0') {
        snprintf(t->port, sizeof(t->port), "%s", t->tls ? "465" : "25");
    }
    snprintf(t->conn_host, sizeof(t->conn_host), "%s", t->host);
    snprintf(t->conn_port, sizeof(t->conn_port), "%s", t->port);
    return 0;
}

/* BELLWETHER_SMTP_CONNECT_TO=HOST:PORT:CHOST:CPORT (tests; as mail.c). */
static void smtp_connect_to(struct smtp_target *t)
{
    const char *ct = getenv("BELLWETHER_SMTP_CONNECT_TO");
    char want[300];
    size_t wl;
    const char *rest;
    const char *c;

    if (ct == NULL || *ct == '\0') {
        return;
    }
    snprintf(want, sizeof(want), "%s:%s:", t->host, t->port);
    wl = strlen(want);
    if (strncmp(ct, want, wl) != 0) {
        return;
    }
    rest = ct + wl;
    c = strrchr(rest, ':');
    if (c == NULL || c == rest) {
        return;
    }
    snprintf(t->conn_host, sizeof(t->conn_host), "%.*s", (int)(c - rest), rest);
    snprintf(t->conn_port, sizeof(t->conn_port), "%s", c + 1);
}

/* Connect with a timeout; the socket or -1 (why in err). */
static int tcp_connect(const char *host, const char *port, char *err, size_t n)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    int fd = -1;
    int g;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        snprintf(err, n, "cannot resolve '%s': %s", host, gai_strerror(g));
        return -1;
    }
    snprintf(err, n, "no address");
    for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
        struct pollfd p;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);

        fd =
            socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 &&
            errno != EINPROGRESS) {
            snprintf(err, n, "%s", strerror(errno));
            close(fd);
            fd = -1;
            continue;
        }
        p.fd = fd;
        p.events = POLLOUT;
        if (poll(&p, 1, SMTP_TIMEOUT_MS) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
            soerr != 0) {
            snprintf(err, n, "%s", soerr ? strerror(soerr) : "timed out");
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Read one whole SMTP reply (its last line has "NNN "); the code, or -1. */
static int smtp_reply(int fd, struct bw_buf *b)
{
    bw_buf_reset(b);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        char chunk[512];
        ssize_t r;
        const char *last;

        if (poll(&p, 1, SMTP_TIMEOUT_MS) != 1) {
            return -1;
        }
        r = read(fd, chunk, sizeof(chunk));
        if (r <= 0 || bw_buf_add(b, chunk, (size_t)r) != 0 ||
            b->len > SMTP_REPLY_MAX) {
            return -1;
        }
        if (b->len < 2 || b->data[b->len - 1] != '\n') {
            continue;
        }
        /* the start of the last complete line */
        last = b->data + b->len - 1;
        while (last > b->data && last[-1] != '\n') {
            last--;
        }
        if (strlen(last) >= 4 && last[3] == ' ') {
            return (last[0] - '0') * 100 + (last[1] - '0') * 10 +
                   (last[2] - '0');
        }
    }
}

static int smtp_send(int fd, const char *s)
{
    size_t len = strlen(s);

    while (len > 0) {
        ssize_t w = send(fd, s, len, MSG_NOSIGNAL);

        if (w <= 0) {
            return -1;
        }
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Greeting, EHLO, QUIT: 0 (*starttls set when offered) or BW_ESMTP with
 * why filled. */
static int smtp_talk(int fd, int *starttls, char *why, size_t n)
{
    struct bw_buf b = BW_BUF_INIT;
    int code = smtp_reply(fd, &b);
    int rc = BW_ESMTP;

    if (code != 220) {
        snprintf(why, n, "no SMTP greeting (%d)", code);
        goto out;
    }
    if (smtp_send(fd, "EHLO bellwether\r\n") != 0 ||
        (code = smtp_reply(fd, &b)) != 250) {
        snprintf(why, n, "EHLO refused (%d)", code);
        goto out;
    }
    /* "250-STARTTLS" or "250 STARTTLS" on a line of its own */
    for (const char *p = b.data; p != NULL; p = strchr(p, '\n')) {
        p += *p == '\n';
        if (strlen(p) >= 12 && strncasecmp(p + 4, "STARTTLS", 8) == 0) {
            *starttls = 1;
        }
    }
    smtp_send(fd, "QUIT\r\n");
    smtp_reply(fd, &b);
    rc = 0;
out:
    bw_buf_release(&b);
    return rc;
}

/* 1 when host is loopback: localhost, 127.0.0.0/8, ::1 (as mail.c). */
static int loopback(const char *host)
{
    return strcasecmp(host, "localhost") == 0 ||
           strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

static int check_email(struct check_ctx *ctx)
{
    const struct bw_email_conf *e = &ctx->cfg->email;
    struct smtp_target t;
    char shown[512];
    char why[512];
    int starttls = 0;
    int creds;
    int fd;

    if (!e->present) {
        return 0;
    }
    bw_redact_url(e->smtp_url ? e->smtp_url : "", shown, sizeof(shown));
    if (e->smtp_url == NULL || smtp_parse(e->smtp_url, &t) != 0) {
        fail(ctx, BW_ECONFIG, "email %s: not an smtp:// or smtps:// URL",
             shown);
        return 0;
    }
    smtp_connect_to(&t);
    fd = tcp_connect(t.conn_host, t.conn_port, why, sizeof(why));
    if (fd < 0) {
        BW_ERROR("cannot reach the SMTP server at '%s': %s; check [email] "
                 "smtp_url and the network",
                 shown, why);
        fail(ctx, BW_ESMTP, "email %s: unreachable", shown);
        return 0;
    }
    if (t.tls) {
        close(fd);
        pass(ctx,
             "email %s: reachable (TLS and login are proved by the "
             "first mail)",
             shown);
        return 0;
    }
    if (smtp_talk(fd, &starttls, why, sizeof(why)) != 0) {
        close(fd);
        BW_ERROR("the server at '%s' does not speak SMTP: %s; check [email] "
                 "smtp_url",
                 shown, why);
        fail(ctx, BW_ESMTP, "email %s: %s", shown, why);
        return 0;
    }
    close(fd);
    creds = (e->username && *e->username) || (e->password && *e->password);
    if (creds && !starttls && !loopback(t.host)) {
        fail(ctx, BW_ECONFIG,
             "email %s: no STARTTLS offered, which credentials require; use "
             "smtps:// or a server that offers it",
             shown);
        return 0;
    }
    pass(ctx, "email %s: SMTP server answers%s", shown,
         starttls ? " (STARTTLS offered)" : "");
    return 0;
}

/* ------------------------------------------------------------ the table */

static const struct check checks[] = {
    {"config", check_config},         {"redis", check_redis},
    {"sources", check_sources},       {"email", check_email},
    {"jira_users", check_jira_users}, {NULL, NULL}};

/* Run every check; 0, or the status the worst failure calls for. */
static int run_checks(struct check_ctx *ctx, int config_only)
{
    for (const struct check *c = checks; c->name; c++) {
        /* --config-only: the file alone, no network (packaging, CI) */
        if (config_only && c != checks) {
            break;
        }
        if (c->run(ctx)) {
            break;
        }
    }
    if (!ctx->cli->quiet) {
        printf("%zu check%s passed, %zu failed, %zu warning%s\n", ctx->passed,
               ctx->passed == 1 ? "" : "s", ctx->failed, ctx->warnings,
               ctx->warnings == 1 ? "" : "s");
    }
    /* a configuration to fix comes before a service that may come back */
    return ctx->first_config ? ctx->first_config : ctx->first_other;
}

int cmd_check(struct bw_cli *cli, int argc, char **argv)
{
    struct check_ctx ctx;
    int config_only = 0;
    int rc;

    if (argc > 1 && strcmp(argv[1], "--config-only") == 0) {
        config_only = 1;
        argc--;
        argv++;
    }
    if (argc > 1) {
        BW_ERROR("unknown argument '%s' for 'check'; see 'bellwether help "
                 "check'",
                 argv[1]);
        return BW_EUSAGE;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.cli = cli;
    ctx.path = bw_config_path(cli->config_path);
    rc = run_checks(&ctx, config_only);
    bw_store_free(ctx.st);
    bw_config_free(ctx.cfg);
    return rc;
}
