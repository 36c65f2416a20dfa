/*
 * cmd_query.c - `bellwether query METRIC [--from D] [--to D] [--by ...]
 * [--stat ...] [--where K=V]... [--items] [--format table|csv|json]`:
 * an ad-hoc question answered by the metrics engine (query.h), the one
 * the weekly report uses.
 *
 * Everything about the command line is checked before Redis is touched:
 * the metric (an unknown name gets the closest names as suggestions), the
 * grouping and statistics it supports, the --where keys, the dates (in the
 * [report] timezone, hence after the config) and the teams. Each problem
 * is one line on stderr and BW_EUSAGE (exit 2).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/cli.h"
#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/query.h"
#include "bellwether/store.h"

#define ERRSZ 512

struct query_opts {
    const struct bw_metric *metric;
    const char *from, *to;
    int by;
    const char *stat;
    struct bw_query_where where;
    int items;
    int format;
};

static int unknown_metric(const char *name)
{
    const char *near[4];
    size_t n = bw_metric_suggest(name, near, 4);
    char list[256] = "";
    size_t o = 0;

    for (size_t i = 0; i < n && o < sizeof(list); i++) {
        int w = snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
                         near[i]);

        o += w > 0 ? (size_t)w : 0;
    }
    if (n) {
        BW_ERROR("unknown metric '%s'; did you mean %s? 'bellwether metrics' "
                 "lists them all",
                 name, list);
    } else {
        BW_ERROR("unknown metric '%s'; 'bellwether metrics' lists them all",
                 name);
    }
    return BW_EUSAGE;
}

static int parse_args(int argc, char **argv, struct query_opts *o)
{
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"by", required_argument, NULL, 'b'},
        {"stat", required_argument, NULL, 's'},
        {"where", required_argument, NULL, 'w'},
        {"items", no_argument, NULL, 'i'},
        {"format", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0}};
    char err[ERRSZ];
    int c, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->from = optarg;
            break;
        case 't':
            o->to = optarg;
            break;
        case 'b':
            o->by = bw_query_by_find(optarg);
            if (o->by < 0) {
                BW_ERROR("unknown --by '%s'; use week, month, repo, project, "
                         "team, author or type",
                         optarg);
                return BW_EUSAGE;
            }
            break;
        case 's':
            o->stat = optarg;
            break;
        case 'w':
            rc = bw_query_where_parse(&o->where, optarg, strlen(optarg), err,
                                      sizeof(err));
            if (rc == BW_EUSAGE) {
                BW_ERROR("%s", err);
            }
            if (rc) {
                return rc;
            }
            break;
        case 'i':
            o->items = 1;
            break;
        case 'F':
            o->format = bw_query_format_find(optarg);
            if (o->format < 0) {
                BW_ERROR("unknown --format '%s'; use table, csv or json",
                         optarg);
                return BW_EUSAGE;
            }
            break;
        case ':':
            BW_ERROR("option '%s' needs a value; see 'bellwether help query'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        default:
            BW_ERROR("unknown option '%s' for query; see 'bellwether help "
                     "query'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        }
    }
    if (optind >= argc) {
        BW_ERROR("query needs a METRIC; 'bellwether metrics' lists them");
        return BW_EUSAGE;
    }
    if (optind + 1 < argc) {
        BW_ERROR("unexpected argument '%s' for query; see 'bellwether help "
                 "query'",
                 argv[optind + 1]);
        return BW_EUSAGE;
    }
    o->metric = bw_metric_find(argv[optind]);
    if (o->metric == NULL) {
        return unknown_metric(argv[optind]);
    }
    return 0;
}

/* What can be checked without the config. */
static int check_opts(const struct query_opts *o, struct bw_query_stats *s)
{
    char err[ERRSZ];

    if (!bw_query_by_applies(o->metric, o->by)) {
        BW_ERROR("--by %s does not apply to '%s', a %s metric; use week, "
                 "month, team, author or %s",
                 bw_query_by_name(o->by), o->metric->name,
                 o->metric->subject == BW_MS_PR ? "pull-request" : "ticket",
                 o->metric->subject == BW_MS_PR ? "repo" : "project, type");
        return BW_EUSAGE;
    }
    if (bw_query_stats_parse(o->metric, o->stat, s, err, sizeof(err))) {
        BW_ERROR("%s", err);
        return BW_EUSAGE;
    }
    for (int k = 0; k < BW_WK_COUNT; k++) {
        if (o->where.v[k].n && !bw_query_where_applies(o->metric, k)) {
            BW_ERROR("--where %s does not apply to '%s', a %s metric",
                     bw_query_where_key_name(k), o->metric->name,
                     o->metric->subject == BW_MS_PR ? "pull-request"
                                                    : "ticket");
            return BW_EUSAGE;
        }
    }
    return 0;
}

static int emit(const struct bw_buf *b)
{
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len) {
        BW_ERROR("cannot write the answer to standard output");
        return BW_EIO;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        BW_ERROR("cannot write the answer to standard output");
        return BW_EIO;
    }
    return 0;
}

int cmd_query(struct bw_cli *cli, int argc, char **argv)
{
    struct query_opts o;
    struct bw_query_stats stats;
    struct bw_config *cfg = NULL;
    struct bw_store *st = NULL;
    struct bw_query q;
    struct bw_query_result res;
    struct bw_buf out = BW_BUF_INIT;
    char err[ERRSZ];
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    rc = parse_args(argc, argv, &o);
    if (rc == 0) {
        rc = check_opts(&o, &stats);
    }
    if (rc == 0) {
        rc = bw_cli_load_config_offline(cli, &cfg);
    }
    if (rc == 0 && cfg->report.timezone) {
        rc = bw_tz_set(cfg->report.timezone);
    }
    if (rc) {
        goto out;
    }
    bw_query_init(&q, o.metric, cfg);
    q.by = o.by;
    q.where = &o.where;
    q.items = o.items;
    if (bw_query_where_check(&o.where, o.metric, cfg, err, sizeof(err)) ||
        bw_query_range(o.from, o.to, o.by, cfg->report.weeks_of_trend, q.now,
                       &q.from, &q.to, err, sizeof(err))) {
        BW_ERROR("%s", err);
        rc = BW_EUSAGE;
        goto out;
    }
    rc = bw_store_open(&cfg->redis, 0, &st);
    if (rc == 0) {
        rc = bw_query_run(st, &q, &res);
    }
    if (rc == 0 && o.items) {
        rc = bw_query_items_describe(st, &res, 0, res.nitems);
    }
    if (rc == 0) {
        rc = bw_query_write(&out, &res, &stats, o.format, o.items);
    }
    if (rc == 0) {
        rc = emit(&out);
    }
out:
    bw_buf_release(&out);
    bw_query_result_release(&res);
    bw_store_free(st);
    bw_config_free(cfg);
    bw_query_where_release(&o.where);
    return rc;
}
