/*
 * store_status.c - the Redis reads behind `bellwether status` (status.h):
 * a source's last run, lease and stored item counts, and the server's
 * version and memory. Read-only, on the store's command queue
 * (store_priv.h) like the store's own bookkeeping calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/status.h"
#include "store_priv.h"

/* The value of field name in an HGETALL reply, or NULL. */
static const redisReply *hfield(const redisReply *h, const char *name)
{
    if (h == NULL || h->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i];

        if (k->type == REDIS_REPLY_STRING && strcmp(k->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING) {
            return h->element[i + 1];
        }
    }
    return NULL;
}

static int64_t hfield_i64(const redisReply *h, const char *name, int64_t def)
{
    const redisReply *v = hfield(h, name);
    char *end;
    long long x;

    if (v == NULL || v->len == 0) {
        return def;
    }
    x = strtoll(v->str, &end, 10);
    return *end == '\0' ? (int64_t)x : def;
}

static void hfield_str(const redisReply *h, const char *name, char *buf,
                       size_t n)
{
    const redisReply *v = hfield(h, name);

    snprintf(buf, n, "%.*s", v ? (int)v->len : 0, v ? v->str : "");
}

static void fill_run(const redisReply *h, struct bw_source_status *out)
{
    const redisReply *d = hfield(h, "duration");

    out->has_run = h && h->type == REDIS_REPLY_ARRAY && h->elements > 0;
    hfield_str(h, "status", out->status, sizeof(out->status));
    out->last_run = hfield_i64(h, "last_run", BW_TIME_NONE);
    out->last_success = hfield_i64(h, "last_success", BW_TIME_NONE);
    out->last_failure = hfield_i64(h, "last_failure", BW_TIME_NONE);
    out->duration = d ? strtod(d->str, NULL) : -1;
    out->items = (long)hfield_i64(h, "items", -1);
    out->requests = (long)hfield_i64(h, "requests", -1);
    out->not_modified = (long)hfield_i64(h, "not_modified", -1);
    out->quota_left = (long)hfield_i64(h, "quota_left", -1);
    /* the last failure's error: kept apart when the store records it,
       else the last run's (empty after a success) */
    hfield_str(h, "last_error", out->error, sizeof(out->error));
    if (out->error[0] == '\0') {
        hfield_str(h, "error", out->error, sizeof(out->error));
    }
}

static void fill_lease(const redisReply *get, const redisReply *pttl,
                       struct bw_lease_info *info)
{
    memset(info, 0, sizeof(*info));
    info->pid = -1;
    info->since = -1;
    info->ttl_ms = -1;
    if (get->type != REDIS_REPLY_STRING) {
        return;
    }
    bw_lease_parse(get->str, get->len, info);
    if (pttl->type == REDIS_REPLY_INTEGER && pttl->integer >= 0) {
        info->ttl_ms = (long)pttl->integer;
    }
}

/* ZCARD of the opened and created indexes of the source's scopes. */
static int count_items(struct bw_store *st, const char *source,
                       const redisReply *scopes, struct bw_source_status *out)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    size_t plen = strlen(source);
    int rc = 0;

    st_cmdq_init(&q);
    for (size_t i = 0;
         rc == 0 && scopes->type == REDIS_REPLY_ARRAY && i < scopes->elements;
         i++) {
        const redisReply *t = scopes->element[i];

        if (t->type != REDIS_REPLY_STRING || t->len <= plen ||
            strncmp(t->str, source, plen) != 0 || t->str[plen] != ':') {
            continue;
        }
        rc = st_cmd(&q) || st_args(&q, "ZCARD") ||
                     st_argkey(&q, st, "ix:opened", t->str, NULL) ||
                     st_cmd(&q) || st_args(&q, "ZCARD") ||
                     st_argkey(&q, st, "ix:created", t->str, NULL)
                 ? BW_ENOMEM
                 : 0;
    }
    if (rc == 0 && q.nc > 0) {
        rc = st_run(st, &q, &r);
    }
    for (size_t i = 0; rc == 0 && i < q.nc; i++) {
        rc = st_check(st, r[i], "ZCARD");
        if (rc == 0 && r[i]->type == REDIS_REPLY_INTEGER) {
            *(i % 2 ? &out->tickets : &out->prs) += (long)r[i]->integer;
        }
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

int bw_status_source(struct bw_store *st, const char *source,
                     struct bw_source_status *out)
{
    static const char *const cmds[] = {"HGETALL", "GET", "PTTL", "SMEMBERS"};
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "HGETALL") ||
                 st_argkey(&q, st, "run", source, NULL) || st_cmd(&q) ||
                 st_args(&q, "GET") ||
                 st_argkey(&q, st, "lease", source, NULL) || st_cmd(&q) ||
                 st_args(&q, "PTTL") ||
                 st_argkey(&q, st, "lease", source, NULL) || st_cmd(&q) ||
                 st_args(&q, "SMEMBERS") ||
                 st_argkey(&q, st, "scopes", NULL, NULL)
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run(st, &q, &r);
    }
    for (size_t i = 0; rc == 0 && i < q.nc; i++) {
        rc = st_check(st, r[i], cmds[i]);
    }
    if (rc == 0) {
        fill_run(r[0], out);
        fill_lease(r[1], r[2], &out->lease);
        rc = count_items(st, source, r[3], out);
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

int bw_status_info_field(const char *info, size_t len, const char *name,
                         char *buf, size_t n)
{
    size_t nl = strlen(name);
    const char *p = info;
    const char *end = info + len;

    buf[0] = '\0';
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;

        if ((size_t)(le - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == ':') {
            size_t vl = (size_t)(le - p) - nl - 1;

            if (vl > 0 && p[nl + 1 + vl - 1] == '\r') {
                vl--;
            }
            snprintf(buf, n, "%.*s", (int)vl, p + nl + 1);
            return 1;
        }
        p = le + 1;
    }
    return 0;
}

static long long info_num(const redisReply *r, const char *name)
{
    char buf[64];
    char *end;
    long long v;

    if (!bw_status_info_field(r->str, r->len, name, buf, sizeof(buf)) ||
        buf[0] == '\0') {
        return -1;
    }
    v = strtoll(buf, &end, 10);
    return *end == '\0' ? v : -1;
}

int bw_status_redis(struct bw_store *st, struct bw_redis_status *out)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->used_memory = out->used_memory_peak = out->maxmemory = -1;
    out->uptime = -1;
    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "INFO") || st_args(&q, "server") ||
                 st_cmd(&q) || st_args(&q, "INFO") || st_args(&q, "memory")
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run(st, &q, &r);
    }
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        rc = st_check(st, r[i], "INFO");
        /* hiredis 0.14 speaks RESP2: INFO is a bulk string */
        if (rc == 0 && r[i]->type != REDIS_REPLY_STRING) {
            rc = BW_EREDIS;
        }
    }
    if (rc == 0) {
        bw_status_info_field(r[0]->str, r[0]->len, "redis_version",
                             out->version, sizeof(out->version));
        bw_status_info_field(r[0]->str, r[0]->len, "redis_mode", out->mode,
                             sizeof(out->mode));
        out->uptime = info_num(r[0], "uptime_in_seconds");
        out->used_memory = info_num(r[1], "used_memory");
        out->used_memory_peak = info_num(r[1], "used_memory_peak");
        out->maxmemory = info_num(r[1], "maxmemory");
        bw_status_info_field(r[1]->str, r[1]->len, "maxmemory_policy",
                             out->maxmemory_policy,
                             sizeof(out->maxmemory_policy));
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}
