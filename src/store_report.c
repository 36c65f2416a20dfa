/*
 * store_report.c - the weekly report's Redis calls: keeping rendered
 * reports with their history (P report:{SCOPE}:..., bookkeeping keys:
 * never part of the canonical dump) and reading one back. Declared in
 * report.h; the report's own file, built on the store's command queue
 * (store_priv.h) like the store's bookkeeping calls, so hiredis stays
 * inside src/store*.c. (Each source's last run, for the freshness line,
 * comes from bw_status_source(), status.h.)
 */
#include <stdio.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/report.h"
#include "store_priv.h"

/* Entries kept in P report:{SCOPE}:log (ten years of weekly reports). */
#define REPORT_LOG_MAX 520

/* ---------------------------------------------------------------- reports */

/* SCOPE of the hash tag: "org" or "team:NAME" with '{', '}', '%' and
 * control bytes as %XX so the tag stays one tag. */
static int scope_tag(struct bw_buf *b, const char *team)
{
    int rc;

    if (team == NULL) {
        return bw_buf_adds(b, "org");
    }
    rc = bw_buf_adds(b, "team:");
    for (const unsigned char *p = (const unsigned char *)team; !rc && *p; p++) {
        if (*p == '{' || *p == '}' || *p == '%' || *p < 0x20 || *p == 0x7F) {
            rc = bw_buf_printf(b, "%%%02X", *p);
        } else {
            rc = bw_buf_addch(b, (char)*p);
        }
    }
    return rc;
}

static int put_report_cmds(struct st_cmdq *q, struct bw_store *st,
                           const struct bw_report *r, const char *tag,
                           const char *md, size_t md_len, const char *json,
                           size_t json_len)
{
    char gen[32];
    char line[128];
    char start[32];

    snprintf(gen, sizeof(gen), "%lld", (long long)r->generated_at);
    snprintf(start, sizeof(start), "%lld", (long long)r->start);
    snprintf(line, sizeof(line), "%s %s %zu %zu", gen, r->week_name, md_len,
             json_len);
    return st_cmd(q) || st_args(q, "MULTI") ||
                   /* the week's latest rendering */
                   st_cmd(q) || st_args(q, "HSET") ||
                   st_argkey(q, st, "report", tag, r->week_name) ||
                   st_args(q, "md") || st_arg(q, md, md_len) ||
                   st_args(q, "json") || st_arg(q, json, json_len) ||
                   st_args(q, "week") || st_args(q, r->week_name) ||
                   st_args(q, "team") ||
                   st_args(q, r->main.team ? r->main.team : "") ||
                   st_args(q, "generated_at") || st_args(q, gen) || st_cmd(q) ||
                   st_args(q, "HSETNX") ||
                   st_argkey(q, st, "report", tag, r->week_name) ||
                   st_args(q, "first_generated_at") || st_args(q, gen) ||
                   st_cmd(q) || st_args(q, "HINCRBY") ||
                   st_argkey(q, st, "report", tag, r->week_name) ||
                   st_args(q, "generations") || st_args(q, "1") ||
                   /* the weeks reported, oldest first */
                   st_cmd(q) || st_args(q, "ZADD") ||
                   st_argkey(q, st, "report", tag, "weeks") ||
                   st_args(q, start) || st_args(q, r->week_name) ||
                   /* every generation, newest first, bounded */
                   st_cmd(q) || st_args(q, "LPUSH") ||
                   st_argkey(q, st, "report", tag, "log") || st_args(q, line) ||
                   st_cmd(q) || st_args(q, "LTRIM") ||
                   st_argkey(q, st, "report", tag, "log") || st_args(q, "0") ||
                   st_argi(q, REPORT_LOG_MAX - 1) || st_cmd(q) ||
                   st_args(q, "EXEC")
               ? BW_ENOMEM
               : 0;
}

int bw_store_report_put(struct bw_store *st, const struct bw_report *r,
                        const char *md, size_t md_len, const char *json,
                        size_t json_len)
{
    struct bw_buf tag = BW_BUF_INIT;
    struct st_cmdq q;
    redisReply **rep = NULL;
    int rc = scope_tag(&tag, r->main.team);

    st_cmdq_init(&q);
    if (rc == 0) {
        rc = put_report_cmds(&q, st, r, tag.data, md ? md : "", md_len,
                             json ? json : "", json_len);
    }
    if (rc == 0) {
        rc = st_run(st, &q, &rep);
    }
    for (size_t i = 0; rc == 0 && i < q.nc; i++) {
        rc = st_check(st, rep[i], i == 0 ? "MULTI" : "EXEC");
    }
    if (rc == 0 && (rep[q.nc - 1]->type != REDIS_REPLY_ARRAY)) {
        BW_ERROR("Redis at %s did not store the report of %s; check the "
                 "server's log",
                 bw_store_url(st), r->week_name);
        rc = BW_EREDIS;
    }
    for (size_t i = 0; rc == 0 && i < rep[q.nc - 1]->elements; i++) {
        rc = st_check(st, rep[q.nc - 1]->element[i], "EXEC");
    }
    st_replies_free(rep, q.nc);
    st_cmdq_release(&q);
    bw_buf_release(&tag);
    return rc;
}

int bw_store_report_get(struct bw_store *st, const char *team, const char *week,
                        int json, char **out)
{
    struct bw_buf tag = BW_BUF_INIT;
    struct st_cmdq q;
    redisReply **rep = NULL;
    int rc = scope_tag(&tag, team);

    *out = NULL;
    st_cmdq_init(&q);
    if (rc == 0) {
        rc = st_cmd(&q) || st_args(&q, "HGET") ||
                     st_argkey(&q, st, "report", tag.data, week) ||
                     st_args(&q, json ? "json" : "md")
                 ? BW_ENOMEM
                 : 0;
    }
    if (rc == 0) {
        rc = st_run(st, &q, &rep);
    }
    if (rc == 0) {
        rc = st_check(st, rep[0], "HGET");
    }
    if (rc == 0 && rep[0]->type == REDIS_REPLY_STRING) {
        *out = bw_strndup(rep[0]->str, rep[0]->len);
        rc = *out ? 0 : BW_ENOMEM;
    }
    st_replies_free(rep, q.nc);
    st_cmdq_release(&q);
    bw_buf_release(&tag);
    return rc;
}
