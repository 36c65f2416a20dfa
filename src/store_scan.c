/*
 * store_scan.c - bw_store_scan_ranges(): the query engine's read path. Many
 * score ranges of one index over many scopes in one pipeline, replies
 * handed to the caller as they arrive (the server keeps producing the
 * next while the client decodes this one, on a 2-core machine nearly
 * halving the wall time of a year's query), without WITHSCORES unless
 * asked (formatting 100,000 scores doubles Redis's own time), each reply
 * freed before the next is read (a flat, small memory peak).
 *
 * Part of the store module (it uses store_priv.h); added for the metrics
 * engine (src/query_engine.c), next to bw_store_scan() in store.c which
 * it does not change.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/store.h"
#include "store_priv.h"

struct scan_op {
    int ix;
    const struct bw_store_range *ranges;
    size_t nranges;
    const char *const *tags;
    size_t ntags;
    unsigned flags;
    bw_store_range_cb cb;
    void *arg;
    struct st_cmdq q;
    int delivered; /* rows were handed over: a retry would repeat them */
};

static int put_bound(struct st_cmdq *q, int64_t v, const char *inf)
{
    return v == BW_NOTIME ? st_args(q, inf) : st_argi(q, v);
}

static int build(struct bw_store *st, struct scan_op *o)
{
    char kind[24];

    snprintf(kind, sizeof(kind), "ix:%s", bw_store_ix_name(o->ix));
    for (size_t i = 0; i < o->ntags; i++) {
        for (size_t j = 0; j < o->nranges; j++) {
            if (st_cmd(&o->q) || st_args(&o->q, "ZRANGEBYSCORE") ||
                st_argkey(&o->q, st, kind, o->tags[i], NULL) ||
                put_bound(&o->q, o->ranges[j].from, "-inf") ||
                put_bound(&o->q, o->ranges[j].to, "+inf") ||
                ((o->flags & BW_SCAN_SCORES) && st_args(&o->q, "WITHSCORES"))) {
                return BW_ENOMEM;
            }
        }
    }
    return 0;
}

/* One reply: its members to the callback. */
static int deliver(struct bw_store *st, struct scan_op *o, size_t c,
                   const redisReply *a)
{
    size_t step = (o->flags & BW_SCAN_SCORES) ? 2 : 1;
    const char *tag = o->tags[c / o->nranges];
    int rc = st_check(st, a, "ZRANGEBYSCORE");

    if (rc || a->type != REDIS_REPLY_ARRAY) {
        return rc;
    }
    for (size_t j = 0; rc == 0 && j + step - 1 < a->elements; j += step) {
        const redisReply *m = a->element[j];
        double score = NAN;

        if (m->type != REDIS_REPLY_STRING) {
            continue;
        }
        if (step == 2 && a->element[j + 1]->type == REDIS_REPLY_STRING) {
            score = strtod(a->element[j + 1]->str, NULL);
        }
        o->delivered = 1;
        rc = o->cb(o->arg, tag, c % o->nranges, m->str, m->len, score);
    }
    return rc;
}

static int scan_op(struct bw_store *st, void *arg)
{
    struct scan_op *o = arg;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < o->q.nc; i++) {
        rc = st_append(st, &o->q, i);
    }
    for (size_t i = 0; rc == 0 && i < o->q.nc; i++) {
        redisReply *r = NULL;

        rc = st_read(st, &r);
        if (rc == 0) {
            rc = deliver(st, o, i, r);
            freeReplyObject(r);
        }
    }
    if (rc == ST_CONN_LOST && o->delivered) {
        /* rows were counted: reading them again would count them twice */
        BW_ERROR("lost the connection to Redis at %s in the middle of a "
                 "query; run it again",
                 bw_store_url(st));
        rc = BW_EREDIS;
    }
    if (rc && rc != ST_CONN_LOST) {
        st_drop(st); /* replies may be pending: out of step */
    }
    return rc;
}

int bw_store_scan_ranges(struct bw_store *st, int ix,
                         const struct bw_store_range *ranges, size_t nranges,
                         const char *const *tags, size_t ntags, unsigned flags,
                         bw_store_range_cb cb, void *arg)
{
    struct bw_strlist all = {NULL, 0};
    struct scan_op o;
    int rc = 0;

    if (ix < 0 || ix >= BW_IX_COUNT) {
        return BW_EUSAGE;
    }
    memset(&o, 0, sizeof(o));
    st_cmdq_init(&o.q);
    if (tags == NULL) {
        rc = bw_store_scopes(st, &all);
        tags = (const char *const *)all.v;
        ntags = all.n;
    }
    o.ix = ix;
    o.ranges = ranges;
    o.nranges = nranges;
    o.tags = tags;
    o.ntags = ntags;
    o.flags = flags;
    o.cb = cb;
    o.arg = arg;
    if (rc == 0 && nranges && ntags) {
        rc = build(st, &o);
        if (rc == 0) {
            rc = st_retry(st, scan_op, &o);
        }
    }
    st_cmdq_release(&o.q);
    bw_strlist_release(&all);
    return rc;
}
