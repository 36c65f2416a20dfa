/*
 * store_sink.c - the sink collectors write to (collector.h), pages as
 * WATCH + MULTI/EXEC, item loads and reindex.
 *
 * emit() packs a record at once (store_items.c) into the page in progress;
 * cursor_set() and etag_put() queue bookkeeping commands for the same page.
 * commit_page() writes it all in two round trips:
 *   1. SADD P scopes for new tags (outside the transaction: it crosses
 *      slots), WATCH the page's item keys, HGET each item's stored "rows";
 *   2. MULTI, per item ZREM the stored rows it no longer has, ZADD its rows,
 *      HSET its packed values and its version, then the bookkeeping, EXEC.
 * WATCH makes the read-then-write safe against a reindex or a second
 * collector on the same keys: a nil EXEC sends the page again (up to three
 * times). A dropped connection reconnects and sends the page once more
 * (st_retry): writes are idempotent. A page that fails is dropped; the
 * collector's cursor did not move, so the next run walks it again.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/store.h"
#include "store_priv.h"

#define EXEC_TRIES 3
/* Internal: EXEC came back nil, a WATCHed key changed (not ST_CONN_LOST) */
#define ST_CONFLICT 2
#define REINDEX_BATCH 100

struct sink_ctx {
    struct bw_store *st;
    const struct bw_source_conf *src;
    const char *source;
    struct bw_buf srctag; /* "SRC:SRC" */
    int per_source;       /* every key under srctag */
    int full;
    struct bw_pr_rules prr;
    const struct bw_pr_rules *prp;
    struct bw_ticket_rules tkr;
    struct bw_status_info *cat; /* the status catalog (owned) */
    size_t ncat;
    /* the page in progress */
    struct st_item *items;
    size_t nitems, capitems;
    struct st_cmdq book;     /* cursors, ETags, catalog */
    struct bw_strlist known; /* tags in P scopes already */
    struct bw_buf tag;       /* scratch */
    struct bw_store_sink_stats stats;
    /* the commit in progress */
    struct st_cmdq q;
    redisReply **old; /* round 1 replies */
    size_t nold;
};

/* ------------------------------------------------------------- helpers */

static int scope_tag(struct sink_ctx *c, const char *scope)
{
    if (c->per_source) {
        bw_buf_reset(&c->tag);
        return bw_buf_add(&c->tag, c->srctag.data, c->srctag.len);
    }
    if (st_tag(&c->tag, c->source, scope)) {
        BW_ERROR("cannot store scope '%s' of source '%s': a hash tag may not "
                 "hold '{' or '}' and must not be empty; check the source's "
                 "repositories",
                 scope ? scope : "", c->source);
        return BW_EPARSE;
    }
    return 0;
}

static int copy_out(const redisReply *r, char *buf, size_t n, const char *what)
{
    buf[0] = '\0';
    if (r->type != REDIS_REPLY_STRING) {
        return 0;
    }
    if (r->len >= n) {
        BW_ERROR("stored %s is %zu bytes, more than the %zu the collector "
                 "takes; run 'bellwether collect --full'",
                 what, r->len, n - 1);
        return BW_EPARSE;
    }
    memcpy(buf, r->str, r->len);
    buf[r->len] = '\0';
    return 0;
}

/* HGET kind:{tag} field into buf. */
static int hget(struct sink_ctx *c, const char *kind, const char *tag,
                const char *field, char *buf, size_t n)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    buf[0] = '\0';
    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "HGET") ||
                 st_argkey(&q, c->st, kind, tag, NULL) || st_args(&q, field)
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(c->st, &q, "HGET", &r);
    }
    if (rc == 0) {
        rc = copy_out(r[0], buf, n, kind);
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

/* ------------------------------------------------------- status catalog */

static void catalog_free(struct bw_status_info *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bw_free(v[i].id);
        bw_free(v[i].name);
        bw_free(v[i].category);
    }
    bw_free(v);
}

static int cat_cmp(const void *a, const void *b)
{
    return strcmp(((const struct bw_status_info *)a)->id,
                  ((const struct bw_status_info *)b)->id);
}

static int catalog_load(struct sink_ctx *c)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    size_t n = 0;
    int rc;

    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "HGETALL") ||
                 st_argkey(&q, c->st, "statuses", c->srctag.data, NULL)
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(c->st, &q, "HGETALL", &r);
    }
    if (rc || r[0]->type != REDIS_REPLY_ARRAY || r[0]->elements < 2) {
        goto out;
    }
    c->cat = bw_calloc(r[0]->elements / 2, sizeof(*c->cat));
    if (c->cat == NULL) {
        rc = BW_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i + 1 < r[0]->elements; i += 2) {
        const redisReply *id = r[0]->element[i];
        const redisReply *v = r[0]->element[i + 1];
        const char *sep = v->str ? memchr(v->str, 0x1f, v->len) : NULL;
        struct bw_status_info *s = &c->cat[n];

        if (id->type != REDIS_REPLY_STRING || sep == NULL) {
            continue;
        }
        s->id = bw_strndup(id->str, id->len);
        s->category = bw_strndup(v->str, (size_t)(sep - v->str));
        s->name = bw_strndup(sep + 1, v->len - (size_t)(sep - v->str) - 1);
        n++;
        if (!s->id || !s->category || !s->name) {
            rc = BW_ENOMEM;
            break;
        }
    }
    c->ncat = n;
    if (rc == 0 && n > 1) {
        qsort(c->cat, n, sizeof(*c->cat), cat_cmp);
    }
out:
    c->tkr.statuses = c->cat;
    c->tkr.nstatuses = c->ncat;
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

static int same_catalog(const struct bw_status_info *a, size_t na,
                        const struct bw_status_info *b, size_t nb)
{
    if (na != nb) {
        return 0;
    }
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i].id, b[i].id) || strcmp(a[i].name, b[i].name) ||
            strcmp(a[i].category, b[i].category)) {
            return 0;
        }
    }
    return 1;
}

/* A statuses record: the new catalog now (later tickets derive with it),
 * and its replacement in Redis with the page. */
static int emit_statuses(struct sink_ctx *c, const struct bw_status_info *v,
                         size_t n)
{
    struct bw_status_info *cat = bw_calloc(n ? n : 1, sizeof(*cat));
    struct st_cmdq *q = &c->book;
    int rc = 0;

    if (cat == NULL) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        cat[i].id = bw_strdup(v[i].id ? v[i].id : "");
        cat[i].name = bw_strdup(v[i].name ? v[i].name : "");
        cat[i].category = bw_strdup(v[i].category ? v[i].category : "");
        if (!cat[i].id || !cat[i].name || !cat[i].category) {
            rc = BW_ENOMEM;
        }
    }
    if (rc) {
        catalog_free(cat, n);
        return rc;
    }
    if (n > 1) {
        qsort(cat, n, sizeof(*cat), cat_cmp);
    }
    if (c->ncat > 0 && !same_catalog(c->cat, c->ncat, cat, n)) {
        c->stats.catalog_changed = 1;
    }
    catalog_free(c->cat, c->ncat);
    c->cat = cat;
    c->ncat = n;
    c->tkr.statuses = cat;
    c->tkr.nstatuses = n;
    if (st_cmd(q) || st_args(q, "DEL") ||
        st_argkey(q, c->st, "statuses", c->srctag.data, NULL)) {
        return BW_ENOMEM;
    }
    if (n == 0) {
        return 0;
    }
    if (st_cmd(q) || st_args(q, "HSET") ||
        st_argkey(q, c->st, "statuses", c->srctag.data, NULL)) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (st_args(q, cat[i].id)) {
            return BW_ENOMEM;
        }
        st_arg_begin(q);
        if (bw_buf_adds(&q->data, cat[i].category) ||
            bw_buf_addch(&q->data, 0x1f) ||
            bw_buf_adds(&q->data, cat[i].name) || st_arg_end(q)) {
            return BW_ENOMEM;
        }
    }
    return 0;
}

/* ------------------------------------------------------------- the page */

static struct st_item *page_slot(struct sink_ctx *c)
{
    if (c->nitems == c->capitems) {
        size_t cap = c->capitems ? c->capitems * 2 : 32;
        struct st_item *v = bw_realloc(c->items, cap * sizeof(*v));

        if (v == NULL) {
            return NULL;
        }
        for (size_t i = c->capitems; i < cap; i++) {
            st_item_init(&v[i]);
        }
        c->items = v;
        c->capitems = cap;
    }
    return &c->items[c->nitems];
}

static void page_drop(struct sink_ctx *c)
{
    c->nitems = 0;
    st_cmdq_reset(&c->book);
}

static const char *item_kind(const struct st_item *it)
{
    return it->kind == BW_REC_PR ? "pr" : "ticket";
}

static int known_tag(const struct sink_ctx *c, const char *tag)
{
    for (size_t i = c->known.n; i > 0; i--) {
        if (strcmp(c->known.v[i - 1], tag) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Round 1: SADD new tags, WATCH the items, HGET their stored rows. */
static int round1(struct bw_store *st, struct sink_ctx *c)
{
    struct st_cmdq *q = &c->q;
    size_t first = 0;
    int rc;

    st_cmdq_reset(q);
    for (size_t i = 0; i < c->nitems; i++) {
        const char *tag = c->items[i].tag.data;
        int seen = known_tag(c, tag);

        for (size_t j = 0; j < i && !seen; j++) {
            seen = strcmp(c->items[j].tag.data, tag) == 0;
        }
        if (!seen &&
            (st_cmd(q) || st_args(q, "SADD") ||
             st_argkey(q, st, "scopes", NULL, NULL) || st_args(q, tag))) {
            return BW_ENOMEM;
        }
    }
    first = q->nc;
    if (c->nitems) {
        if (st_cmd(q) || st_args(q, "WATCH")) {
            return BW_ENOMEM;
        }
        for (size_t i = 0; i < c->nitems; i++) {
            const struct st_item *it = &c->items[i];

            if (st_argkey(q, st, item_kind(it), it->tag.data, it->id.data)) {
                return BW_ENOMEM;
            }
        }
    }
    for (size_t i = 0; i < c->nitems; i++) {
        const struct st_item *it = &c->items[i];

        if (st_cmd(q) || st_args(q, "HGET") ||
            st_argkey(q, st, item_kind(it), it->tag.data, it->id.data) ||
            st_args(q, "rows")) {
            return BW_ENOMEM;
        }
    }
    rc = st_roundtrip(st, q, &c->old);
    if (rc) {
        return rc;
    }
    c->nold = q->nc;
    for (size_t i = 0; rc == 0 && i < q->nc; i++) {
        rc = st_check(st, c->old[i],
                      i < first    ? "SADD"
                      : i == first ? "WATCH"
                                   : "HGET");
    }
    return rc;
}

/* The rows an item had before this page: a previous item of the page with
 * the same key, else what round 1 read. */
static void old_rows(const struct sink_ctx *c, size_t i, const char **s,
                     size_t *n)
{
    const struct st_item *it = &c->items[i];
    const redisReply *r;

    for (size_t j = i; j > 0; j--) {
        const struct st_item *p = &c->items[j - 1];

        if (p->kind == it->kind && strcmp(p->id.data, it->id.data) == 0 &&
            strcmp(p->tag.data, it->tag.data) == 0) {
            *s = p->rows.data;
            *n = p->rows.len;
            return;
        }
    }
    r = c->old[c->nold - c->nitems + i];
    *s = r->type == REDIS_REPLY_STRING ? r->str : "";
    *n = r->type == REDIS_REPLY_STRING ? r->len : 0;
}

static int has_row(const struct st_item *it, char letter, const char *m,
                   size_t n)
{
    for (size_t i = 0; i < it->nrows; i++) {
        const struct st_row *r = &it->rv[i];

        if (st_ix_letter[r->ix] == letter && r->len == n &&
            memcmp(it->rows.data + r->off, m, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int ix_key(struct st_cmdq *q, const struct bw_store *st, int ix,
                  const char *tag)
{
    char kind[24];

    snprintf(kind, sizeof(kind), "ix:%s", bw_store_ix_name(ix));
    return st_argkey(q, st, kind, tag, NULL);
}

/* The commands of item i inside the MULTI. */
static int item_cmds(struct bw_store *st, struct sink_ctx *c, size_t i)
{
    const struct st_item *it = &c->items[i];
    struct st_cmdq *q = &c->q;
    const char *tag = it->tag.data;
    const char *s;
    size_t n;

    old_rows(c, i, &s, &n);
    while (n > 0) {
        const char *nl = memchr(s, '\n', n);
        size_t len = nl ? (size_t)(nl - s) : n;
        int ix = len > 2 && s[1] == ' ' ? st_ix_of_letter(s[0]) : -1;

        if (ix >= 0 && !has_row(it, s[0], s + 2, len - 2) &&
            (st_cmd(q) || st_args(q, "ZREM") || ix_key(q, st, ix, tag) ||
             st_arg(q, s + 2, len - 2))) {
            return BW_ENOMEM;
        }
        s += nl ? len + 1 : len;
        n -= nl ? len + 1 : len;
    }
    for (size_t r = 0; r < it->nrows; r++) {
        const struct st_row *row = &it->rv[r];

        if (st_cmd(q) || st_args(q, "ZADD") || ix_key(q, st, row->ix, tag) ||
            st_argi(q, row->score) ||
            st_arg(q, it->rows.data + row->off, row->len)) {
            return BW_ENOMEM;
        }
    }
    if (st_cmd(q) || st_args(q, "HSET") ||
        st_argkey(q, st, item_kind(it), tag, it->id.data) || st_args(q, "f") ||
        st_arg(q, it->f.data, it->f.len) ||
        st_args(q, it->kind == BW_REC_PR ? "ev" : "hist") ||
        st_arg(q, it->ev.data, it->ev.len) || st_args(q, "rows") ||
        st_arg(q, it->rows.data, it->rows.len)) {
        return BW_ENOMEM;
    }
    if (it->version != BW_NOTIME &&
        (st_cmd(q) || st_args(q, "HSET") ||
         st_argkey(q, st, "ver", tag, NULL) ||
         st_arg(q, it->id.data, it->id.len) || st_argi(q, it->version))) {
        return BW_ENOMEM;
    }
    return 0;
}

/* Round 2's commands: MULTI, items, bookkeeping, EXEC. */
static int round2_build(struct bw_store *st, struct sink_ctx *c)
{
    struct st_cmdq *q = &c->q;

    st_cmdq_reset(q);
    if (st_cmd(q) || st_args(q, "MULTI")) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; i < c->nitems; i++) {
        if (item_cmds(st, c, i)) {
            return BW_ENOMEM;
        }
    }
    for (size_t i = 0; i < c->book.nc; i++) {
        if (st_cmd(q)) {
            return BW_ENOMEM;
        }
        for (size_t j = 0; j < st_cmd_argc(&c->book, i); j++) {
            size_t len;
            const char *a = st_cmd_arg(&c->book, i, j, &len);

            if (st_arg(q, a, len)) {
                return BW_ENOMEM;
            }
        }
    }
    return st_cmd(q) || st_args(q, "EXEC") ? BW_ENOMEM : 0;
}

/* Append round 2's commands, with the test fault when one is set. 0,
 * ST_CONN_LOST or BW_E*; *extra is 1 when a fault command went out too. */
static int round2_append(struct bw_store *st, struct sink_ctx *c, int *extra)
{
    struct st_cmdq *q = &c->q;
    struct st_cmdq bad;
    size_t stop = q->nc;
    int fault = st->fault_times > 0 ? st->fault_kind : BW_STORE_FAULT_NONE;
    int rc = 0;

    *extra = 0;
    if (fault) {
        st->fault_times--;
        stop = 1 + (size_t)(st->fault_after > 0 ? st->fault_after : 0);
        if (stop >= q->nc) {
            stop = q->nc - 1;
        }
    }
    for (size_t i = 0; rc == 0 && i < q->nc; i++) {
        if (i == stop && fault == BW_STORE_FAULT_DROP) {
            st_fault_drop(st);
            break;
        }
        if (i == stop && fault == BW_STORE_FAULT_BADCMD) {
            st_cmdq_init(&bad);
            rc = st_cmd(&bad) || st_args(&bad, "HSET") ||
                         st_args(&bad, "bw-fault")
                     ? BW_ENOMEM
                     : st_append(st, &bad, 0);
            st_cmdq_release(&bad);
            *extra = 1;
        }
        if (rc == 0) {
            rc = st_append(st, q, i);
        }
    }
    if (rc && rc != ST_CONN_LOST) {
        st_drop(st); /* half a MULTI may sit in the output buffer */
    }
    return rc;
}

/* Send round 2 and read its replies. 0, ST_CONFLICT, ST_CONN_LOST or
 * BW_E*. */
static int round2_send(struct bw_store *st, struct sink_ctx *c)
{
    redisReply *r = NULL;
    size_t stop;
    int extra = 0;
    int rc = round2_append(st, c, &extra);
    int first_err = 0;

    stop = c->q.nc + (size_t)extra;
    for (size_t i = 0; rc == 0 && i < stop; i++) {
        rc = st_read(st, &r);
        if (rc) {
            break;
        }
        if (i + 1 < stop) {
            /* MULTI's OK, then QUEUED or an error per command */
            if (r->type == REDIS_REPLY_ERROR && !first_err) {
                first_err = st_reply_error(st, r, "a page command");
            }
        } else if (r->type == REDIS_REPLY_NIL) {
            rc = ST_CONFLICT;
        } else if (r->type == REDIS_REPLY_ERROR) {
            rc = first_err ? first_err : st_reply_error(st, r, "EXEC");
        } else if (r->type == REDIS_REPLY_ARRAY) {
            for (size_t j = 0; rc == 0 && j < r->elements; j++) {
                rc = st_check(st, r->element[j], "a page command");
            }
        }
        freeReplyObject(r);
        r = NULL;
    }
    return rc;
}

static int commit_op(struct bw_store *st, void *arg)
{
    struct sink_ctx *c = arg;
    int rc = ST_CONFLICT;

    for (int attempt = 0; rc == ST_CONFLICT && attempt < EXEC_TRIES;
         attempt++) {
        if (attempt) {
            c->stats.retries++;
        }
        st_replies_free(c->old, c->nold);
        c->old = NULL;
        c->nold = 0;
        rc = round1(st, c);
        if (rc == 0) {
            rc = round2_build(st, c);
        }
        if (rc == 0) {
            rc = round2_send(st, c);
        }
    }
    if (rc == ST_CONFLICT) {
        BW_ERROR("the items of a page of source '%s' kept changing under it "
                 "in Redis at %s; check that no second collector or reindex "
                 "runs on it",
                 c->source, st->url);
        rc = BW_EREDIS;
    }
    if (rc == ST_CONN_LOST) {
        c->stats.retries++;
    }
    return rc;
}

static int page_commit(struct sink_ctx *c)
{
    int rc;

    if (c->nitems == 0 && c->book.nc == 0) {
        return 0;
    }
    rc = st_retry(c->st, commit_op, c);
    st_replies_free(c->old, c->nold);
    c->old = NULL;
    c->nold = 0;
    if (rc == 0) {
        for (size_t i = 0; i < c->nitems; i++) {
            const char *tag = c->items[i].tag.data;

            if (!known_tag(c, tag) && bw_strlist_add(&c->known, tag)) {
                rc = BW_ENOMEM;
                break;
            }
        }
        c->stats.items += (long)c->nitems;
        c->stats.pages++;
    }
    page_drop(c);
    return rc;
}

/* --------------------------------------------------------- sink methods */

static int s_cursor_get(void *ctx, const char *scope, char *buf, size_t n)
{
    struct sink_ctx *c = ctx;
    int rc;

    buf[0] = '\0';
    if (c->full) {
        return 0;
    }
    rc = scope_tag(c, scope);
    return rc ? rc : hget(c, "cursor", c->tag.data, scope, buf, n);
}

static int s_cursor_set(void *ctx, const char *scope, const char *value)
{
    struct sink_ctx *c = ctx;
    struct st_cmdq *q = &c->book;
    int rc = scope_tag(c, scope);

    if (rc == 0 && (st_cmd(q) || st_args(q, "HSET") ||
                    st_argkey(q, c->st, "cursor", c->tag.data, NULL) ||
                    st_args(q, scope) || st_args(q, value ? value : ""))) {
        rc = BW_ENOMEM;
    }
    return rc;
}

static int s_item_versions(void *ctx, const char *scope, const char *const *ids,
                           size_t n, char **versions)
{
    struct sink_ctx *c = ctx;
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    for (size_t i = 0; i < n; i++) {
        versions[i] = NULL;
    }
    if (n == 0) {
        return 0;
    }
    rc = scope_tag(c, scope);
    if (rc) {
        return rc;
    }
    st_cmdq_init(&q);
    if (st_cmd(&q) || st_args(&q, "HMGET") ||
        st_argkey(&q, c->st, "ver", c->tag.data, NULL)) {
        rc = BW_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = st_args(&q, ids[i]) ? BW_ENOMEM : 0;
    }
    if (rc == 0) {
        rc = st_run_one(c->st, &q, "HMGET", &r);
    }
    if (rc == 0 && (r[0]->type != REDIS_REPLY_ARRAY || r[0]->elements != n)) {
        BW_ERROR("Redis at %s sent an odd HMGET reply; check the server",
                 c->st->url);
        rc = BW_EREDIS;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const redisReply *v = r[0]->element[i];

        if (v->type == REDIS_REPLY_STRING) {
            versions[i] = bw_strndup(v->str, v->len);
            rc = versions[i] ? 0 : BW_ENOMEM;
        }
    }
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            bw_free(versions[i]);
            versions[i] = NULL;
        }
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

static int s_etag_get(void *ctx, const char *url, char *buf, size_t n)
{
    struct sink_ctx *c = ctx;

    buf[0] = '\0';
    if (c->full) {
        return 0;
    }
    return hget(c, "etag", c->srctag.data, url, buf, n);
}

static int s_etag_put(void *ctx, const char *url, const char *etag)
{
    struct sink_ctx *c = ctx;
    struct st_cmdq *q = &c->book;

    if (st_cmd(q) || st_args(q, etag ? "HSET" : "HDEL") ||
        st_argkey(q, c->st, "etag", c->srctag.data, NULL) || st_args(q, url) ||
        (etag && st_args(q, etag))) {
        return BW_ENOMEM;
    }
    return 0;
}

static int s_emit(void *ctx, const struct bw_record *rec)
{
    struct sink_ctx *c = ctx;
    struct st_item *it;
    int rc;

    if (rec->kind == BW_REC_STATUSES) {
        return emit_statuses(c, rec->u.statuses.v, rec->u.statuses.n);
    }
    if (rec->kind != BW_REC_PR && rec->kind != BW_REC_TICKET) {
        BW_ERROR("source '%s' emitted a record of unknown kind %d; fix the "
                 "collector",
                 c->source, rec->kind);
        return BW_EUSAGE;
    }
    rc = scope_tag(c, rec->scope               ? rec->scope
                      : rec->kind == BW_REC_PR ? rec->u.pr->repo
                                               : rec->u.ticket->project);
    if (rc) {
        return rc;
    }
    it = page_slot(c);
    if (it == NULL) {
        return BW_ENOMEM;
    }
    if (rec->kind == BW_REC_PR) {
        rc = st_item_pr(it, c->tag.data, rec->u.pr, c->prp);
    } else {
        rc = st_item_ticket(it, c->tag.data, rec->u.ticket, &c->tkr, bw_now());
    }
    if (rc == BW_EPARSE) {
        BW_ERROR("cannot store an item of source '%s' (scope '%s'): it does "
                 "not pack; report it as a bellwether bug",
                 c->source, c->tag.data);
    }
    if (rc == 0) {
        c->nitems++;
    }
    return rc;
}

static int s_commit_page(void *ctx)
{
    return page_commit(ctx);
}

static void s_discard_page(void *ctx)
{
    page_drop(ctx);
}

static int s_should_stop(void *ctx)
{
    (void)ctx;
    return bw_store_stop_requested ? BW_EINTR : 0;
}

static int s_meta_get(void *ctx, const char *name, char *buf, size_t n)
{
    struct sink_ctx *c = ctx;

    return hget(c, "meta", c->source, name, buf, n);
}

static int s_meta_set(void *ctx, const char *name, const char *value)
{
    struct sink_ctx *c = ctx;
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "HSET") ||
                 st_argkey(&q, c->st, "meta", c->source, NULL) ||
                 st_args(&q, name) || st_args(&q, value ? value : "")
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(c->st, &q, "HSET", &r);
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

/* ------------------------------------------------------ init, release */

static void ctx_free(struct sink_ctx *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->capitems; i++) {
        st_item_release(&c->items[i]);
    }
    bw_free(c->items);
    st_cmdq_release(&c->book);
    st_cmdq_release(&c->q);
    st_replies_free(c->old, c->nold);
    bw_strlist_release(&c->known);
    bw_buf_release(&c->tag);
    bw_buf_release(&c->srctag);
    catalog_free(c->cat, c->ncat);
    bw_free(c);
}

static int ctx_new(struct bw_store *st, const struct bw_source_conf *src,
                   int full, struct sink_ctx **out)
{
    struct sink_ctx *c = bw_calloc(1, sizeof(*c));
    const struct bw_collector *col = src->collector;
    int rc;

    *out = NULL;
    if (c == NULL) {
        return BW_ENOMEM;
    }
    c->st = st;
    c->src = src;
    c->source = src->name;
    c->full = full;
    /* notes/store.md: Jira keys per source (a JQL walk may cross
       projects); everything else per scope, which keeps PR numbers of two
       repositories apart for any collector */
    c->per_source = col != NULL && strcmp(col->name, "jira") == 0;
    st_cmdq_init(&c->book);
    st_cmdq_init(&c->q);
    rc = st_tag(&c->srctag, src->name, src->name);
    if (rc == BW_EPARSE) {
        BW_ERROR("cannot store source '%s': its name may not hold ':', '{' or "
                 "'}'; rename the [source] section",
                 src->name ? src->name : "");
        rc = BW_ECONFIG;
    }
    if (rc == 0 && col && col->rules) {
        col->rules(src, &c->prr, &c->tkr);
        c->prp = &c->prr;
    }
    if (rc == 0) {
        rc = catalog_load(c);
    }
    if (rc) {
        ctx_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int sources_add(struct bw_store *st, const char *name)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "SADD") ||
                 st_argkey(&q, st, "sources", NULL, NULL) || st_args(&q, name)
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(st, &q, "SADD", &r);
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

int bw_store_sink_init(struct bw_store *st, const struct bw_source_conf *src,
                       int full, int64_t since, struct bw_sink *sink)
{
    struct sink_ctx *c;
    int rc;

    memset(sink, 0, sizeof(*sink));
    rc = ctx_new(st, src, full, &c);
    if (rc == 0) {
        rc = sources_add(st, src->name);
        if (rc) {
            ctx_free(c);
        }
    }
    if (rc) {
        return rc;
    }
    sink->ctx = c;
    sink->src = src;
    sink->full = full;
    sink->since = since;
    sink->stats.items_known = -1;
    sink->cursor_get = s_cursor_get;
    sink->cursor_set = s_cursor_set;
    sink->item_versions = s_item_versions;
    sink->etag_get = s_etag_get;
    sink->etag_put = s_etag_put;
    sink->emit = s_emit;
    sink->commit_page = s_commit_page;
    sink->discard_page = s_discard_page;
    sink->should_stop = s_should_stop;
    sink->meta_get = s_meta_get;
    sink->meta_set = s_meta_set;
    return 0;
}

void bw_store_sink_release(struct bw_sink *sink)
{
    ctx_free(sink->ctx);
    sink->ctx = NULL;
}

void bw_store_sink_stats(const struct bw_sink *sink,
                         struct bw_store_sink_stats *out)
{
    const struct sink_ctx *c = sink->ctx;

    memset(out, 0, sizeof(*out));
    if (c) {
        *out = c->stats;
    }
}

/* ---------------------------------------------------------------- loads */

/* Split "PREFIX KIND:{TAG}:ID" (prefix already cut): tag and id in place. */
static int split_key(char *k, const char *kind, char **tag, char **id)
{
    size_t kl = strlen(kind);
    char *close;

    if (strncmp(k, kind, kl) != 0 || k[kl] != ':' || k[kl + 1] != '{') {
        return BW_EPARSE;
    }
    *tag = k + kl + 2;
    close = strchr(*tag, '}');
    if (close == NULL || close[1] != ':' || close[2] == '\0') {
        return BW_EPARSE;
    }
    *close = '\0';
    *id = close + 2;
    return 0;
}

static int number_of(const char *id, long *n)
{
    int64_t v;

    if (st_get_i64(id, -1, &v) || v < 0 || v > LONG_MAX) {
        return BW_EPARSE;
    }
    *n = (long)v;
    return 0;
}

static const redisReply *hfield(const redisReply *h, const char *name)
{
    for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements;
         i += 2) {
        if (h->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING) {
            return h->element[i + 1];
        }
    }
    return NULL;
}

/* An item hash (HGETALL reply) into a PR or ticket. */
static int decode_item(int kind, const char *tag, const char *id,
                       const redisReply *h, struct bw_pr *pr,
                       struct bw_ticket *t)
{
    const redisReply *f = hfield(h, "f");
    const redisReply *ev = hfield(h, kind == BW_REC_PR ? "ev" : "hist");
    const char *colon = strchr(tag, ':');
    long number;

    if (f == NULL || ev == NULL || colon == NULL) {
        return BW_EPARSE;
    }
    if (kind == BW_REC_PR) {
        if (number_of(id, &number)) {
            return BW_EPARSE;
        }
        return st_unpack_pr(colon + 1, number, f->str, f->len, ev->str, ev->len,
                            pr);
    }
    return st_unpack_ticket(id, f->str, f->len, ev->str, ev->len, t);
}

static int load(struct bw_store *st, int kind, const char *tag, const char *id,
                struct bw_pr *pr, struct bw_ticket *t)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "HGETALL") ||
                 st_argkey(&q, st, kind == BW_REC_PR ? "pr" : "ticket", tag, id)
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(st, &q, "HGETALL", &r);
    }
    if (rc == 0 && (r[0]->type != REDIS_REPLY_ARRAY || r[0]->elements == 0)) {
        rc = BW_ENOTFOUND;
    }
    if (rc == 0) {
        rc = decode_item(kind, tag, id, r[0], pr, t);
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

int bw_store_load_pr(struct bw_store *st, const char *tag, long number,
                     struct bw_pr *pr)
{
    char id[24];

    snprintf(id, sizeof(id), "%ld", number);
    return load(st, BW_REC_PR, tag, id, pr, NULL);
}

int bw_store_load_ticket(struct bw_store *st, const char *tag, const char *key,
                         struct bw_ticket *t)
{
    return load(st, BW_REC_TICKET, tag, key, NULL, t);
}

/* -------------------------------------------------------------- reindex */

/* Keys [from, to) of one kind: HGETALL each, decode, re-pack, commit. */
static int reindex_batch(struct sink_ctx *c, int kind, char **keys, size_t from,
                         size_t to, struct bw_store_reindex_stats *stats)
{
    struct bw_store *st = c->st;
    struct st_cmdq q;
    redisReply **r = NULL;
    int64_t now = bw_now();
    int rc = 0;

    st_cmdq_init(&q);
    for (size_t i = from; rc == 0 && i < to; i++) {
        rc = st_cmd(&q) || st_args(&q, "HGETALL") || st_args(&q, keys[i])
                 ? BW_ENOMEM
                 : 0;
    }
    if (rc == 0) {
        rc = st_run(st, &q, &r);
    }
    for (size_t i = 0; rc == 0 && i < q.nc; i++) {
        char *key = keys[from + i] + st->plen;
        char *tag, *id;
        struct bw_pr pr;
        struct bw_ticket t;
        struct st_item *it;

        if (r[i]->type == REDIS_REPLY_ERROR ||
            r[i]->type != REDIS_REPLY_ARRAY || r[i]->elements == 0) {
            continue; /* deleted meanwhile, or not a hash */
        }
        bw_pr_init(&pr);
        bw_ticket_init(&t);
        rc = split_key(key, kind == BW_REC_PR ? "pr" : "ticket", &tag, &id);
        if (rc == 0) {
            rc = decode_item(kind, tag, id, r[i], &pr, &t);
        }
        it = rc == 0 ? page_slot(c) : NULL;
        if (rc == 0 && it == NULL) {
            rc = BW_ENOMEM;
        } else if (rc == 0 && kind == BW_REC_PR) {
            rc = st_item_pr(it, tag, &pr, c->prp);
        } else if (rc == 0) {
            rc = st_item_ticket(it, tag, &t, &c->tkr, now);
        }
        if (rc == BW_EPARSE) {
            BW_WARN("cannot decode '%s%s' in Redis at %s; left as it is (run "
                    "'bellwether collect --full' to fetch it again)",
                    st->prefix, key, st->url);
            stats->skipped++;
            rc = 0;
        } else if (rc == 0) {
            c->nitems++;
            *(kind == BW_REC_PR ? &stats->prs : &stats->tickets) += 1;
        }
        bw_pr_release(&pr);
        bw_ticket_release(&t);
    }
    if (rc == 0) {
        rc = page_commit(c);
    }
    page_drop(c);
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int reindex_kind(struct sink_ctx *c, int kind,
                        struct bw_store_reindex_stats *stats)
{
    struct bw_strlist keys = {NULL, 0};
    struct bw_buf pat = BW_BUF_INIT;
    int rc;

    rc = st_glob_escape(&pat, c->st->prefix);
    if (rc == 0 &&
        (bw_buf_adds(&pat, kind == BW_REC_PR ? "pr:{" : "ticket:{") ||
         st_glob_escape(&pat, c->source) || bw_buf_add(&pat, ":*", 2))) {
        rc = BW_ENOMEM;
    }
    if (rc == 0) {
        rc = st_scan_keys(c->st, pat.data, &keys);
    }
    if (rc == 0 && keys.n > 1) {
        qsort(keys.v, keys.n, sizeof(char *), cmp_key);
    }
    for (size_t i = 0; rc == 0 && i < keys.n; i += REINDEX_BATCH) {
        rc = reindex_batch(
            c, kind, keys.v, i,
            i + REINDEX_BATCH < keys.n ? i + REINDEX_BATCH : keys.n, stats);
        if (rc == 0 && bw_store_stop_requested) {
            rc = BW_EINTR;
        }
    }
    bw_strlist_release(&keys);
    bw_buf_release(&pat);
    return rc;
}

int bw_store_reindex(struct bw_store *st, const struct bw_source_conf *src,
                     struct bw_store_reindex_stats *out)
{
    struct bw_store_reindex_stats stats = {0, 0, 0};
    struct sink_ctx *c = NULL;
    int rc;

    rc = ctx_new(st, src, 0, &c);
    if (rc == 0) {
        rc = reindex_kind(c, BW_REC_PR, &stats);
    }
    if (rc == 0) {
        rc = reindex_kind(c, BW_REC_TICKET, &stats);
    }
    if (rc == 0) {
        rc = bw_store_config_hash_set(st, src->name,
                                      src->metric_hash ? src->metric_hash : "");
    }
    ctx_free(c);
    if (out) {
        *out = stats;
    }
    return rc;
}
