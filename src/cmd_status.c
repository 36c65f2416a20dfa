/*
 * cmd_status.c - `bellwether status [--format table|json]`: per source the
 * last run, success and failure (with the error), items stored, requests
 * and quota left at the last run, the lease holder if any and the next
 * scheduled run; the Redis server's version and memory. For people (a
 * table) and for monitoring (--format json, one object).
 *
 * Exit status: 0 when every source is healthy; 1 when a source's last run
 * failed or its last success is older than [report] stale_after (or it
 * never succeeded), and when Redis cannot be reached (the JSON is still
 * printed, with "reachable": false). Reads only: status never writes to
 * Redis. The Redis reads are src/store_status.c (status.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/buf.h"
#include "bellwether/cli.h"
#include "bellwether/clock.h"
#include "bellwether/collector.h"
#include "bellwether/daemon.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/report.h"
#include "bellwether/status.h"
#include "bellwether/store.h"

/* One source as printed. */
struct row {
    const struct bw_source_conf *src;
    struct bw_source_status s;
    int known;  /* s was read */
    int failed; /* last run failed */
    int stale;  /* last success too old, or never */
};

struct status {
    const struct bw_config *cfg;
    int64_t now;
    int64_t next_collect;
    int reachable;
    struct bw_redis_status redis;
    const char *url;
    struct row *rows;
    size_t nrows;
};

/* ------------------------------------------------------------- options */

static int parse_args(int argc, char **argv, int *json)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c == 'f' && strcmp(optarg, "table") == 0) {
            *json = 0;
        } else if (c == 'f' && strcmp(optarg, "json") == 0) {
            *json = 1;
        } else if (c == 'f') {
            BW_ERROR("unknown --format '%s'; use table or json", optarg);
            return BW_EUSAGE;
        } else {
            BW_ERROR("%s '%s' for status; see 'bellwether help status'",
                     c == ':' ? "option needs a value:" : "unknown option",
                     argv[optind - 1]);
            return BW_EUSAGE;
        }
    }
    if (optind < argc) {
        BW_ERROR("unexpected argument '%s' for status; see 'bellwether help "
                 "status'",
                 argv[optind]);
        return BW_EUSAGE;
    }
    return 0;
}

/* --------------------------------------------------------------- reading */

static int read_all(struct status *s, struct bw_store *st)
{
    int rc = bw_status_redis(st, &s->redis);

    for (size_t i = 0; rc == 0 && i < s->nrows; i++) {
        struct row *r = &s->rows[i];

        rc = bw_status_source(st, r->src->name, &r->s);
        r->known = rc == 0;
    }
    return rc;
}

static void judge(struct status *s)
{
    long stale_after = s->cfg->report.stale_after;

    for (size_t i = 0; i < s->nrows; i++) {
        struct row *r = &s->rows[i];

        r->failed = r->known && strcmp(r->s.status, "failed") == 0;
        r->stale = r->known && (r->s.last_success == BW_TIME_NONE ||
                                s->now - r->s.last_success > stale_after);
    }
}

/* ------------------------------------------------------------- the table */

/* "3 h", "2 d", "45 s", "12 min" */
static const char *span(int64_t secs, char *buf, size_t n)
{
    int64_t a = secs < 0 ? -secs : secs;

    if (a < 120) {
        snprintf(buf, n, "%lld s", (long long)a);
    } else if (a < 2 * 3600) {
        snprintf(buf, n, "%lld min", (long long)(a / 60));
    } else if (a < 2 * 86400) {
        snprintf(buf, n, "%lld h", (long long)(a / 3600));
    } else {
        snprintf(buf, n, "%lld d", (long long)(a / 86400));
    }
    return buf;
}

/* "2026-11-16T00:00:00Z, 2 h ago" or "never" */
static const char *when(const struct status *s, int64_t t, char *buf, size_t n)
{
    char iso[BW_TIME_BUFSZ], sp[32];

    if (t == BW_TIME_NONE) {
        snprintf(buf, n, "never");
    } else {
        snprintf(buf, n, "%s, %s %s", bw_format_iso8601_utc(t, iso),
                 span(s->now - t, sp, sizeof(sp)),
                 t <= s->now ? "ago" : "from now");
    }
    return buf;
}

static const char *bytes(long long v, char *buf, size_t n)
{
    if (v < 0) {
        snprintf(buf, n, "unknown");
    } else if (v < 1024 * 1024) {
        snprintf(buf, n, "%.1f KiB", (double)v / 1024.0);
    } else if (v < 1024LL * 1024 * 1024) {
        snprintf(buf, n, "%.2f MiB", (double)v / 1048576.0);
    } else {
        snprintf(buf, n, "%.2f GiB", (double)v / 1073741824.0);
    }
    return buf;
}

static void print_headline(const struct status *s, const struct row *r)
{
    char sp[32], sa[32];
    const char *type = r->src->collector ? r->src->collector->name : "?";

    if (!r->known) {
        printf("%s (%s): unknown (Redis not reachable)\n", r->src->name, type);
    } else if (!r->s.has_run) {
        printf("%s (%s): STALE: never collected\n", r->src->name, type);
    } else if (r->failed) {
        printf("%s (%s): FAILED: %s\n", r->src->name, type,
               r->s.error[0] ? r->s.error : "see the collect log");
    } else if (r->stale) {
        printf("%s (%s): STALE: last success %s%s, stale_after is %s\n",
               r->src->name, type,
               r->s.last_success == BW_TIME_NONE
                   ? "never"
                   : span(s->now - r->s.last_success, sp, sizeof(sp)),
               r->s.last_success == BW_TIME_NONE ? "" : " ago",
               span(s->cfg->report.stale_after, sa, sizeof(sa)));
    } else {
        printf("%s (%s): ok\n", r->src->name, type);
    }
}

static void print_lease(const struct row *r)
{
    char iso[BW_TIME_BUFSZ];

    if (!r->s.lease.held) {
        printf("  lease         free\n");
        return;
    }
    printf("  lease         held by %s", r->s.lease.holder);
    if (r->s.lease.since >= 0) {
        printf(" since %s", bw_format_iso8601_utc(r->s.lease.since, iso));
    }
    if (r->s.lease.ttl_ms >= 0) {
        printf(", expires in %.0f s unless renewed",
               (double)r->s.lease.ttl_ms / 1000.0);
    }
    printf("\n");
}

static void print_row(const struct status *s, const struct row *r)
{
    char a[96], iso[BW_TIME_BUFSZ], quota[32] = "unknown";

    print_headline(s, r);
    if (!r->known) {
        return;
    }
    printf("  last run      %s", when(s, r->s.last_run, a, sizeof(a)));
    if (r->s.has_run) {
        printf(": %s in %.1f s", r->s.status[0] ? r->s.status : "?",
               r->s.duration);
    }
    printf("\n  last success  %s\n", when(s, r->s.last_success, a, sizeof(a)));
    printf("  last failure  %s", when(s, r->s.last_failure, a, sizeof(a)));
    if (r->s.last_failure != BW_TIME_NONE && r->s.error[0]) {
        printf(": %s", r->s.error);
    }
    printf("\n  items         %ld PRs and %ld tickets stored", r->s.prs,
           r->s.tickets);
    if (r->s.items >= 0) {
        printf("; %ld items written by the last run", r->s.items);
    }
    printf("\n");
    if (r->s.quota_left >= 0) {
        snprintf(quota, sizeof(quota), "%ld", r->s.quota_left);
    }
    if (r->s.requests >= 0) {
        printf("  requests      %ld at the last run (%ld not modified), "
               "quota left %s\n",
               r->s.requests, r->s.not_modified, quota);
    }
    print_lease(r);
    printf("  next run      %s (collect '%s' in %s)\n",
           s->next_collect == BW_TIME_NONE
               ? "none"
               : bw_format_iso8601_utc(s->next_collect, iso),
           bw_schedule_expr(s->cfg, BW_JOB_COLLECT), bw_tz_current());
}

static void print_table(const struct status *s)
{
    char a[32], b[32], c[32];

    for (size_t i = 0; i < s->nrows; i++) {
        print_row(s, &s->rows[i]);
    }
    if (s->nrows == 0) {
        printf("no [source] in the config\n");
    }
    if (!s->reachable) {
        printf("redis at %s: NOT REACHABLE\n", s->url);
        return;
    }
    printf("redis %s (%s) at %s, prefix '%s': %s used (peak %s), "
           "maxmemory %s%s%s\n",
           s->redis.version[0] ? s->redis.version : "?",
           s->redis.mode[0] ? s->redis.mode : "?", s->url,
           s->cfg->redis.prefix ? s->cfg->redis.prefix : "bw:",
           bytes(s->redis.used_memory, a, sizeof(a)),
           bytes(s->redis.used_memory_peak, b, sizeof(b)),
           s->redis.maxmemory == 0 ? "none"
                                   : bytes(s->redis.maxmemory, c, sizeof(c)),
           s->redis.maxmemory_policy[0] ? ", policy " : "",
           s->redis.maxmemory_policy);
}

/* -------------------------------------------------------------- JSON */

static int jstr(struct bw_buf *b, const char *key, const char *v)
{
    return bw_buf_printf(b, "\"%s\":", key) || bw_report_json_string(b, v);
}

static int jtime(struct bw_buf *b, const char *key, int64_t t)
{
    char iso[BW_TIME_BUFSZ];

    if (t == BW_TIME_NONE) {
        return bw_buf_printf(b, "\"%s\":null", key);
    }
    return bw_buf_printf(b, "\"%s\":\"%s\"", key,
                         bw_format_iso8601_utc(t, iso));
}

static int jlong(struct bw_buf *b, const char *key, long long v)
{
    if (v < 0) {
        return bw_buf_printf(b, "\"%s\":null", key);
    }
    return bw_buf_printf(b, "\"%s\":%lld", key, v);
}

static int json_lease(struct bw_buf *b, const struct bw_lease_info *l)
{
    int rc;

    if (!l->held) {
        return bw_buf_adds(b, "\"lease\":null");
    }
    rc = bw_buf_adds(b, "\"lease\":{") || jstr(b, "holder", l->holder) ||
         bw_buf_addch(b, ',') || jstr(b, "host", l->host) ||
         bw_buf_addch(b, ',') || jlong(b, "pid", l->pid) ||
         bw_buf_addch(b, ',') ||
         jtime(b, "since", l->since >= 0 ? l->since : BW_TIME_NONE) ||
         bw_buf_addch(b, ',') ||
         (l->ttl_ms >= 0 ? bw_buf_printf(b, "\"expires_in\":%.3f",
                                         (double)l->ttl_ms / 1000.0)
                         : bw_buf_adds(b, "\"expires_in\":null")) ||
         bw_buf_addch(b, '}');
    return rc ? BW_ENOMEM : 0;
}

static const char *state(const struct row *r)
{
    return !r->known       ? "unknown"
           : !r->s.has_run ? "never"
           : r->failed     ? "failed"
           : r->stale      ? "stale"
                           : "ok";
}

static int json_row(struct bw_buf *b, const struct status *s,
                    const struct row *r)
{
    const struct bw_source_status *x = &r->s;
    int rc =
        bw_buf_addch(b, '{') || jstr(b, "name", r->src->name) ||
        bw_buf_addch(b, ',') ||
        jstr(b, "type", r->src->collector ? r->src->collector->name : "") ||
        bw_buf_printf(b, ",\"state\":\"%s\",\"failed\":%s,\"stale\":%s,",
                      state(r), r->failed ? "true" : "false",
                      r->stale ? "true" : "false") ||
        jtime(b, "last_run", x->last_run) || bw_buf_addch(b, ',') ||
        jstr(b, "last_status", x->status[0] ? x->status : NULL) ||
        (x->duration >= 0 ? bw_buf_printf(b, ",\"duration\":%.3f,", x->duration)
                          : bw_buf_adds(b, ",\"duration\":null,")) ||
        jtime(b, "last_success", x->last_success) || bw_buf_addch(b, ',') ||
        (x->last_success == BW_TIME_NONE
             ? bw_buf_adds(b, "\"last_success_age\":null,")
             : bw_buf_printf(b, "\"last_success_age\":%lld,",
                             (long long)(s->now - x->last_success))) ||
        jtime(b, "last_failure", x->last_failure) || bw_buf_addch(b, ',') ||
        jstr(b, "error", x->error[0] ? x->error : NULL) ||
        bw_buf_printf(b, ",\"stored\":{\"prs\":%ld,\"tickets\":%ld},", x->prs,
                      x->tickets) ||
        jlong(b, "items_last_run", r->known ? x->items : -1) ||
        bw_buf_addch(b, ',') ||
        jlong(b, "requests", r->known ? x->requests : -1) ||
        bw_buf_addch(b, ',') ||
        jlong(b, "not_modified", r->known ? x->not_modified : -1) ||
        bw_buf_addch(b, ',') ||
        jlong(b, "quota_left", r->known ? x->quota_left : -1) ||
        bw_buf_addch(b, ',') || json_lease(b, &x->lease) ||
        bw_buf_addch(b, ',') || jtime(b, "next_run", s->next_collect) ||
        bw_buf_addch(b, '}');

    return rc ? BW_ENOMEM : 0;
}

static int json_redis(struct bw_buf *b, const struct status *s)
{
    int rc =
        bw_buf_adds(b, "\"redis\":{") || jstr(b, "url", s->url) ||
        bw_buf_addch(b, ',') ||
        jstr(b, "prefix",
             s->cfg->redis.prefix ? s->cfg->redis.prefix : "bw:") ||
        bw_buf_printf(b, ",\"reachable\":%s", s->reachable ? "true" : "false");

    if (rc == 0 && s->reachable) {
        rc = bw_buf_addch(b, ',') || jstr(b, "version", s->redis.version) ||
             bw_buf_addch(b, ',') || jstr(b, "mode", s->redis.mode) ||
             bw_buf_addch(b, ',') ||
             jlong(b, "used_memory", s->redis.used_memory) ||
             bw_buf_addch(b, ',') ||
             jlong(b, "used_memory_peak", s->redis.used_memory_peak) ||
             bw_buf_addch(b, ',') ||
             jlong(b, "maxmemory", s->redis.maxmemory) ||
             bw_buf_addch(b, ',') ||
             jstr(b, "maxmemory_policy", s->redis.maxmemory_policy) ||
             bw_buf_addch(b, ',') || jlong(b, "uptime", s->redis.uptime);
    }
    return rc || bw_buf_addch(b, '}') ? BW_ENOMEM : 0;
}

static int print_json(const struct status *s, int healthy)
{
    struct bw_buf b = BW_BUF_INIT;
    char iso[BW_TIME_BUFSZ];
    int rc = bw_buf_printf(&b,
                           "{\"ok\":%s,\"now\":\"%s\",\"stale_after\":%ld,"
                           "\"timezone\":",
                           healthy ? "true" : "false",
                           bw_format_iso8601_utc(s->now, iso),
                           s->cfg->report.stale_after) ||
             bw_report_json_string(&b, bw_tz_current()) ||
             bw_buf_adds(&b, ",\"schedule\":{") ||
             jstr(&b, "collect", bw_schedule_expr(s->cfg, BW_JOB_COLLECT)) ||
             bw_buf_addch(&b, ',') ||
             jstr(&b, "report", bw_schedule_expr(s->cfg, BW_JOB_REPORT)) ||
             bw_buf_adds(&b, "},") || json_redis(&b, s) ||
             bw_buf_adds(&b, ",\"sources\":[");

    for (size_t i = 0; rc == 0 && i < s->nrows; i++) {
        rc = (i && bw_buf_addch(&b, ',')) || json_row(&b, s, &s->rows[i]);
    }
    if (rc == 0) {
        rc = bw_buf_adds(&b, "]}\n");
    }
    if (rc == 0) {
        fwrite(b.data, 1, b.len, stdout);
    }
    bw_buf_release(&b);
    return rc ? BW_ENOMEM : 0;
}

/* --------------------------------------------------------------- command */

int cmd_status(struct bw_cli *cli, int argc, char **argv)
{
    struct bw_config *cfg = NULL;
    struct bw_store *st = NULL;
    struct status s;
    int json = 0, healthy = 1;
    int rc = parse_args(argc, argv, &json);
    int rc_redis = 0;

    memset(&s, 0, sizeof(s));
    if (rc == 0) {
        rc = bw_cli_load_config_offline(cli, &cfg);
    }
    if (rc == 0) {
        rc = bw_tz_set(cfg->report.timezone ? cfg->report.timezone : "UTC");
    }
    if (rc == 0 && cfg->nsources) {
        s.rows = bw_calloc(cfg->nsources, sizeof(*s.rows));
        rc = s.rows ? 0 : BW_ENOMEM;
    }
    if (rc) {
        goto out;
    }
    s.cfg = cfg;
    s.now = bw_now();
    s.url = cfg->redis.url ? cfg->redis.url : "";
    s.nrows = cfg->nsources;
    for (size_t i = 0; i < s.nrows; i++) {
        s.rows[i].src = &cfg->sources[i];
    }
    s.next_collect = bw_schedule_next(cfg, BW_JOB_COLLECT, s.now);
    rc_redis = bw_store_open(&cfg->redis, 0, &st);
    if (rc_redis == 0) {
        s.url = bw_store_url(st);
        rc_redis = read_all(&s, st);
    }
    s.reachable = rc_redis == 0;
    judge(&s);
    for (size_t i = 0; i < s.nrows; i++) {
        healthy &= !s.rows[i].failed && !s.rows[i].stale && s.rows[i].known;
    }
    healthy &= s.reachable;
    rc = json ? print_json(&s, healthy) : (print_table(&s), 0);
    if (rc == 0 && rc_redis) {
        rc = rc_redis;
    } else if (rc == 0 && !healthy) {
        /* exit 1: the output says which source and why */
        rc = BW_EIO;
    }
out:
    bw_free(s.rows);
    bw_store_free(st);
    bw_config_free(cfg);
    return rc;
}
