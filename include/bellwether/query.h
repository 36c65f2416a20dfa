/*
 * query.h - the metrics engine: every number of METRICS.md for a range of
 * time, grouped by period or by a dimension, filtered, for `bellwether
 * query` and the weekly report alike ("the same definitions and code").
 *
 * The engine reads only the store's index rows (store.h): one pipelined
 * ZRANGEBYSCORE per scope and index, rows decoded into reused buffers, the
 * values of each group collected into one growable double array. It never
 * reads an item's hash, except bw_query_items_describe() for the few items
 * a listing shows.
 *
 * How a query is answered (METRICS.md, DESIGN.md "Command line"):
 * - Periods are ISO weeks or calendar months cut in the current zone
 *   (bw_tz_set: [report] timezone). A period is [start, end) with end the
 *   instant the next one starts; for the current, unfinished period the end
 *   is `now`, and periods that start at or after `now` are left out.
 * - Event metrics count an item in the period of its event (merged_at,
 *   opened_at, submitted_at, done_at, created_at).
 * - Point-in-time metrics (pr_open_awaiting_review, pr_stale, ticket_wip,
 *   ticket_age_in_progress, ticket_blocked_over_3d) are taken at each
 *   period's end, or at the range's end (clamped to now) for groupings that
 *   are not periods.
 * - Excluded items (row flags) never count. Reviews count on any PR but
 *   those excluded by label or base (the store keeps no review rows for
 *   those), whoever wrote the PR.
 * - A PR belongs to a team when its repository is listed or its author is
 *   a member (logins and repositories compare case-insensitively); a
 *   ticket when its project is listed or its assignee (id or name) is one
 *   of jira_users. Review metrics follow the PR the review is on.
 * - --by author is the PR author, the ticket assignee (its id: the account
 *   id on Cloud, as jira_users names it), or the reviewer for review
 *   metrics. A deleted GitHub user is "ghost"; an unassigned ticket has no
 *   author (NULL).
 * - Counts and sums over nothing are 0; percentiles, means, minima,
 *   maxima and ratios over nothing are NAN ("no data").
 *
 * Typical use (the report: one metric, nweeks weeks, one team):
 *
 *   struct bw_query q;
 *   struct bw_query_result res;
 *   bw_query_init(&q, bw_metric_find("pr_pickup_time"), cfg);
 *   bw_query_weeks(&q, 2026, 46, 12);   // W35..W46, by week
 *   bw_query_where_set(&where, BW_WK_TEAM, "platform"); q.where = &where;
 *   bw_query_run(st, &q, &res);          // res.rows[11] is W46
 *   v = bw_query_row_stat(&res, &res.rows[11], BW_QS_P50);
 *   bw_query_result_release(&res);
 */
#ifndef BW_QUERY_H
#define BW_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "bellwether/buf.h"
#include "bellwether/config.h"
#include "bellwether/metrics.h"
#include "bellwether/stats.h"

struct bw_store;

/* ---- groupings (--by) --------------------------------------------------- */

enum bw_query_by {
    BW_BY_NONE = 0, /* one row for the whole range */
    BW_BY_WEEK,
    BW_BY_MONTH,
    BW_BY_REPO,    /* PR metrics */
    BW_BY_PROJECT, /* ticket metrics */
    BW_BY_TEAM,
    BW_BY_AUTHOR,
    BW_BY_TYPE /* ticket metrics: issue type */
};

/* "week", "month", ... ("" for BW_BY_NONE). */
const char *bw_query_by_name(int by);
/* enum bw_query_by of a name, or -1. */
int bw_query_by_find(const char *name);
/* Does grouping by `by` apply to the metric's subject? */
int bw_query_by_applies(const struct bw_metric *m, int by);
/* Week and month groupings are periods: point-in-time per period end. */
int bw_query_by_is_period(int by);
/* Is the metric taken at an instant (point-in-time counts, and
 * ticket_age_in_progress)? */
int bw_query_metric_is_pit(const struct bw_metric *m);

/* ---- statistics (--stat) ---------------------------------------------- */

enum bw_query_stat {
    BW_QS_COUNT = 0,
    BW_QS_SUM,
    BW_QS_MEAN,
    BW_QS_MIN,
    BW_QS_MAX,
    BW_QS_P50,
    BW_QS_P75,
    BW_QS_P85,
    BW_QS_P90,
    BW_QS_P95,
    BW_QS_P99,
    BW_QS_VALUE, /* counts, rates and point-in-time counts */
    BW_QS_NSTATS
};

#define BW_QUERY_MAX_STATS BW_QS_NSTATS

struct bw_query_stats {
    int id[BW_QUERY_MAX_STATS]; /* enum bw_query_stat, in the order asked */
    size_t n;
};

/* "count", ..., "value"; "" for another id. */
const char *bw_query_stat_name(int id);
/* enum bw_query_stat of a name, or -1. */
int bw_query_stat_find(const char *name);
/*
 * Parse a --stat list ("p50,p85", "value", duplicates dropped) for metric
 * m: statistics for durations and distributions, `value` for the others.
 * NULL or "" gives the default: count,p50,p85 or value. On error, a
 * one-line reason goes into err (size errn) and BW_EUSAGE is returned.
 * Pure.
 */
int bw_query_stats_parse(const struct bw_metric *m, const char *list,
                         struct bw_query_stats *out, char *err, size_t errn);

/* ---- filters (--where K=V) --------------------------------------------- */

enum bw_where_key {
    BW_WK_REPO = 0,
    BW_WK_PROJECT,
    BW_WK_TEAM,
    BW_WK_AUTHOR,
    BW_WK_TYPE,
    BW_WK_LABEL,
    BW_WK_COUNT
};

/*
 * Values of one key are OR-ed (--where repo=a --where repo=b), keys are
 * AND-ed. Initialise with memset 0, release with
 * bw_query_where_release().
 */
struct bw_query_where {
    struct bw_strlist v[BW_WK_COUNT];
};

/* "repo", "project", ...; "" for another key. */
const char *bw_query_where_key_name(int key);
/*
 * Parse one "K=V" of len bytes (no NUL needed) and add it: K one of repo,
 * project, team, author, type, label; V not empty, no control bytes, at
 * most 256 bytes; blanks around K and V are trimmed. BW_EUSAGE with a
 * one-line reason in err (size errn), or BW_ENOMEM. Pure; fuzzed.
 */
int bw_query_where_parse(struct bw_query_where *w, const char *s, size_t len,
                         char *err, size_t errn);
/* Add one value for key; 0 or BW_ENOMEM. */
int bw_query_where_set(struct bw_query_where *w, int key, const char *value);
void bw_query_where_release(struct bw_query_where *w);
/* Does the key apply to the metric's subject? (repo: PRs; project, type:
 * tickets; the others both) */
int bw_query_where_applies(const struct bw_metric *m, int key);
/*
 * Check w against m and cfg: keys that do not apply, unknown teams.
 * BW_EUSAGE with a one-line reason in err; 0 when fine.
 */
int bw_query_where_check(const struct bw_query_where *w,
                         const struct bw_metric *m, const struct bw_config *cfg,
                         char *err, size_t errn);

/* ---- ranges and periods ----------------------------------------------- */

/*
 * The range of a query, [*from, *to), from --from/--to (either may be
 * NULL): YYYY-MM-DD (inclusive) or YYYY-Www. Neither: the last
 * weeks_of_trend complete weeks before now. Only --from: up to now. Only
 * --to: the weeks_of_trend weeks ending with the week of --to. With
 * BW_BY_WEEK (BW_BY_MONTH) the range is widened to whole weeks (months).
 * BW_EUSAGE with a one-line reason in err: a bad date, or from not before
 * to. Uses the current zone.
 */
int bw_query_range(const char *from, const char *to, int by,
                   long weeks_of_trend, int64_t now, int64_t *out_from,
                   int64_t *out_to, char *err, size_t errn);

struct bw_query_period {
    int64_t start, end; /* [start, end); end clamped to now */
    char name[32];      /* "2026-W45", "2026-11", or "" */
};

/*
 * The periods of [from, to) for `by` (week, month; any other grouping has
 * one period, the whole range, named ""), without those starting at or
 * after now. Caller frees *out with bw_free(). 0 or BW_ENOMEM.
 */
int bw_query_periods(int by, int64_t from, int64_t to, int64_t now,
                     struct bw_query_period **out, size_t *n);

/* ---- a query ------------------------------------------------------------ */

struct bw_query {
    const struct bw_metric *metric;
    int by;                             /* enum bw_query_by */
    int64_t from, to;                   /* [from, to), already widened */
    int64_t now;                        /* bw_now() */
    const struct bw_query_where *where; /* may be NULL */
    const struct bw_config *cfg;        /* teams; may be NULL */
    int items;                          /* also list the items */
};

/* metric m, no grouping, no filter, now = bw_now(), range unset. */
void bw_query_init(struct bw_query *q, const struct bw_metric *m,
                   const struct bw_config *cfg);
/* By week over the nweeks ISO weeks ending with (year, week). */
void bw_query_weeks(struct bw_query *q, int year, int week, size_t nweeks);

/* One group of the answer. */
struct bw_query_row {
    char *name;         /* week "2026-W45", month, repo, project, team, author,
                    type; NULL: no grouping, or no author (unassigned) */
    char *label;        /* display name (a ticket assignee's), or NULL */
    int64_t start, end; /* the period, or the range (end clamped to now) */
    int64_t at; /* instant of point-in-time metrics (period or range end) */
    struct bw_stats stats; /* durations and distributions */
    double value;          /* counts, rates, point-in-time: NAN no data */
    long num, den;         /* what value came from (rates: num / den) */
};

/* One PR or ticket behind the numbers. */
struct bw_query_item {
    char *tag;    /* the store scope ("gh:acme/api", "jira:jira") */
    char *key;    /* "acme/api#42" or "OPS-7" */
    long number;  /* PR number; 0 for tickets */
    char *author; /* PR author, reviewer (review metrics) or assignee id;
                     NULL: none */
    char *label;  /* assignee display name, or NULL */
    double value; /* in the metric's unit, see bw_query_item_value_doc() */
    int64_t at;   /* the instant it counts at: its event, or the instant a
                     point-in-time metric is taken at */
    size_t row;   /* index of its row in the result */
    char *url;    /* NULL until bw_query_items_describe() */
    char *title;  /* likewise */
};

struct bw_query_result {
    const struct bw_metric *metric;
    int by;
    int64_t from, to; /* as asked (widened), not clamped */
    struct bw_query_row *rows;
    size_t nrows;
    struct bw_query_item *items; /* with q->items, ordered by row, then
                                    value (largest first), then key */
    size_t nitems;
};

/* What an item's value is, per metric (one line, for docs and help). */
const char *bw_query_item_value_doc(const struct bw_metric *m);

/*
 * Answer q from the store into *out (caller releases with
 * bw_query_result_release(), also after an error). Rows: every period of
 * the range; every team (or the teams of --where team) with --by team;
 * with other groupings the values seen, sorted (no author last). Scans go
 * through bw_store_scan_ranges(): per period and without scores unless
 * items are asked. BW_EREDIS, BW_ENOMEM, or BW_EUSAGE for a query that
 * does not apply (checked again here: bw_query_by_applies,
 * bw_query_where_check).
 */
int bw_query_run(struct bw_store *st, const struct bw_query *q,
                 struct bw_query_result *out);
void bw_query_result_release(struct bw_query_result *r);

/* A statistic of a row: bw_stats by id, or the value (BW_QS_VALUE); NAN
 * for a statistic the metric's kind does not have. */
double bw_query_row_stat(const struct bw_query_result *r,
                         const struct bw_query_row *row, int stat);

/* Fill url and title of items [first, first + n) from the stored items
 * (one load per item: for listings, not for whole years). */
int bw_query_items_describe(struct bw_store *st, struct bw_query_result *r,
                            size_t first, size_t n);

/* Sort the items of each row by value, largest first (the default), or
 * smallest first with ascending. */
void bw_query_items_sort(struct bw_query_result *r, int ascending);

/* ---- the engine without Redis (tests, and the store scan's callback) --- */

struct bw_query_engine;

/*
 * Start a query: periods, groups and the indexes to scan. The caller then
 * feeds rows of the indexes bw_query_engine_scans() names, in any order,
 * and finishes. bw_query_run() is exactly this over bw_store_scan().
 */
int bw_query_engine_new(const struct bw_query *q, struct bw_query_engine **out);
void bw_query_engine_free(struct bw_query_engine *e);

struct bw_query_scan {
    int ix;           /* enum bw_store_ix */
    int64_t from, to; /* inclusive score bounds; BW_NOTIME: open end */
    int events;       /* rows count at their score (an event): the scan may
                         be split at the periods' starts, and a row fed
                         without its score (NAN) counts in the period its
                         range starts (see bw_query_run) */
};
/* The scans the query needs, in order (at most 3). */
size_t bw_query_engine_scans(const struct bw_query_engine *e,
                             struct bw_query_scan *out, size_t max);
/* One member of index ix from scope tag with its score (NAN: unknown; an
 * event row then needs the time its range starts, a point-in-time row
 * nothing). A row that does not decode is skipped (counted, logged
 * once). 0 or BW_ENOMEM. */
int bw_query_engine_feed(struct bw_query_engine *e, int ix, const char *tag,
                         const char *member, size_t len, double score);
/* Compute the rows (and sort the items) into *out. */
int bw_query_engine_finish(struct bw_query_engine *e,
                           struct bw_query_result *out);

/* ---- output ----------------------------------------------------------- */

enum bw_query_format {
    BW_QF_TABLE = 0, /* aligned columns; the default stats fit 80 */
    BW_QF_CSV,       /* RFC 4180: CRLF, quoted when needed */
    BW_QF_JSON       /* one object, DESIGN.md's shape */
};

/* "table", "csv", "json" -> enum, or -1. */
int bw_query_format_find(const char *name);

/*
 * Write the rows (or, with items, the items) of r in format fmt with the
 * statistics s, appended to b. Tables and CSV name the columns on their
 * first line; JSON is one object on one line with a newline.
 */
int bw_query_write(struct bw_buf *b, const struct bw_query_result *r,
                   const struct bw_query_stats *s, int fmt, int items);

/* Append one CSV field, quoted when it holds a comma, quote, CR or LF (or
 * starts or ends with a blank). */
int bw_csv_field(struct bw_buf *b, const char *s);
/* Append s as a JSON string (quotes included); NULL as null. */
int bw_json_string(struct bw_buf *b, const char *s);
/* Append v as the shortest JSON number that reads back the same; NAN or
 * infinity as null. */
int bw_json_number(struct bw_buf *b, double v);
/* Display width of UTF-8 text in terminal columns (one per code point;
 * wide East Asian characters and emoji are not special-cased). */
size_t bw_text_width(const char *s);

/* ---- the metrics command ------------------------------------------------- */

/* Every metric of bw_metrics as a table or JSON (BW_QF_TABLE/_JSON). */
int bw_metrics_write(struct bw_buf *b, int fmt);

/*
 * Up to max names of metrics closest to name (edit distance, and names
 * containing it), best first, into out; returns how many.
 */
size_t bw_metric_suggest(const char *name, const char **out, size_t max);

#endif
