/*
 * test_query.c - the metrics engine without Redis: --stat/--by/--where
 * parsing, ranges and periods, grouping and every metric kind over
 * hand-written index rows (the member formats of store.h), and the output
 * formats byte for byte (JSON shape, RFC 4180 CSV, aligned tables).
 *
 * Times are UTC (bw_tz_set("UTC")); W45 of 2026 starts 2026-11-02.
 */
#include "testutil.h"

#include <math.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/metrics.h"
#include "bellwether/pr.h"
#include "bellwether/query.h"
#include "bellwether/store.h"

#define W45 INT64_C(1793577600)
#define W46 INT64_C(1794182400)
#define W47 INT64_C(1794787200)
#define DAY INT64_C(86400)
#define HOUR INT64_C(3600)
#define OPEN_END 9e15

struct feed {
    int ix;
    const char *tag;
    const char *member;
    double score;
};

static int setup(void **state)
{
    (void)state;
    return bw_tz_set("UTC") ? -1 : 0;
}

static const struct bw_metric *metric(const char *name)
{
    const struct bw_metric *m = bw_metric_find(name);

    assert_non_null(m);
    return m;
}

/* A query of metric name over [from, to) at now, by `by`. */
static void query(struct bw_query *q, const char *name, int by, int64_t from,
                  int64_t to, int64_t now)
{
    bw_query_init(q, metric(name), NULL);
    q->by = by;
    q->from = from;
    q->to = to;
    q->now = now;
}

static void run(const struct bw_query *q, const struct feed *rows, size_t n,
                struct bw_query_result *res)
{
    struct bw_query_engine *e = NULL;

    assert_int_equal(bw_query_engine_new(q, &e), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(
            bw_query_engine_feed(e, rows[i].ix, rows[i].tag, rows[i].member,
                                 strlen(rows[i].member), rows[i].score),
            0);
    }
    assert_int_equal(bw_query_engine_finish(e, res), 0);
    bw_query_engine_free(e);
}

static char *written(const struct bw_query_result *r, const char *stats,
                     int fmt, int items)
{
    struct bw_query_stats s;
    struct bw_buf b = BW_BUF_INIT;
    char err[256];

    assert_int_equal(
        bw_query_stats_parse(r->metric, stats, &s, err, sizeof(err)), 0);
    assert_int_equal(bw_query_write(&b, r, &s, fmt, items), 0);
    return bw_buf_detach(&b);
}

/* The widest line of s, in columns. */
static size_t widest_line(const char *s)
{
    size_t best = 0;

    while (*s) {
        size_t n = strcspn(s, "\n");
        char line[512];

        snprintf(line, sizeof(line), "%.*s", (int)n, s);
        if (bw_text_width(line) > best) {
            best = bw_text_width(line);
        }
        s += n;
        s += *s == '\n';
    }
    return best;
}

static int near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

/* ------------------------------------------------------------ parsing */

static void test_stats_parse(void **state)
{
    struct bw_query_stats s;
    char err[256];

    (void)state;
    assert_int_equal(bw_query_stats_parse(metric("pr_cycle_time"), NULL, &s,
                                          err, sizeof(err)),
                     0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.id[0], BW_QS_COUNT);
    assert_int_equal(s.id[2], BW_QS_P85);
    assert_int_equal(
        bw_query_stats_parse(metric("pr_merged"), "", &s, err, sizeof(err)), 0);
    assert_true(s.n == 1 && s.id[0] == BW_QS_VALUE);
    assert_int_equal(bw_query_stats_parse(metric("pr_size"),
                                          "p99,mean,p99,count", &s, err,
                                          sizeof(err)),
                     0);
    assert_true(s.n == 3 && s.id[0] == BW_QS_P99 && s.id[1] == BW_QS_MEAN &&
                s.id[2] == BW_QS_COUNT);
    /* value for a duration, p50 for a count, junk */
    assert_int_equal(
        bw_query_stats_parse(metric("pr_size"), "value", &s, err, sizeof(err)),
        BW_EUSAGE);
    assert_non_null(strstr(err, "does not apply"));
    assert_int_equal(
        bw_query_stats_parse(metric("ticket_wip"), "p50", &s, err, sizeof(err)),
        BW_EUSAGE);
    assert_int_equal(
        bw_query_stats_parse(metric("pr_size"), "p50,", &s, err, sizeof(err)),
        BW_EUSAGE);
    assert_int_equal(
        bw_query_stats_parse(metric("pr_size"), ",p50", &s, err, sizeof(err)),
        BW_EUSAGE);
    assert_int_equal(
        bw_query_stats_parse(metric("pr_size"), "median", &s, err, sizeof(err)),
        BW_EUSAGE);
    assert_null(strchr(err, '\n'));
}

static void test_by(void **state)
{
    (void)state;
    assert_int_equal(bw_query_by_find("week"), BW_BY_WEEK);
    assert_int_equal(bw_query_by_find("type"), BW_BY_TYPE);
    assert_int_equal(bw_query_by_find("day"), -1);
    assert_int_equal(bw_query_by_find(""), -1);
    assert_true(bw_query_by_applies(metric("pr_cycle_time"), BW_BY_REPO));
    assert_false(bw_query_by_applies(metric("pr_cycle_time"), BW_BY_PROJECT));
    assert_false(bw_query_by_applies(metric("pr_merged"), BW_BY_TYPE));
    assert_true(bw_query_by_applies(metric("ticket_wip"), BW_BY_TYPE));
    assert_false(bw_query_by_applies(metric("ticket_wip"), BW_BY_REPO));
    assert_true(bw_query_by_applies(metric("ticket_wip"), BW_BY_AUTHOR));
    assert_true(bw_query_metric_is_pit(metric("ticket_age_in_progress")));
    assert_false(bw_query_metric_is_pit(metric("ticket_cycle_time")));
}

static void test_where_parse(void **state)
{
    struct bw_query_where w;
    char err[256];
    static const char *const bad[] = {"repo",   "=x",      "colour=red",
                                      "repo=",  "repo=  ", "repo=a\nb",
                                      "Repo=x", "team",    "label=\x7f"};

    (void)state;
    memset(&w, 0, sizeof(w));
    assert_int_equal(
        bw_query_where_parse(&w, "repo=acme/api", 13, err, sizeof(err)), 0);
    assert_int_equal(
        bw_query_where_parse(&w, " repo = acme/web ", 17, err, sizeof(err)), 0);
    assert_int_equal(bw_query_where_parse(&w, "label=a=b", 9, err, sizeof(err)),
                     0);
    assert_int_equal(w.v[BW_WK_REPO].n, 2);
    assert_string_equal(w.v[BW_WK_REPO].v[1], "acme/web");
    assert_string_equal(w.v[BW_WK_LABEL].v[0], "a=b");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(
            bw_query_where_parse(&w, bad[i], strlen(bad[i]), err, sizeof(err)),
            BW_EUSAGE);
        assert_true(err[0] != '\0');
        assert_null(strchr(err, '\n'));
    }
    /* len bytes only: the rest of the buffer is not read */
    assert_int_equal(
        bw_query_where_parse(&w, "type=Bugzzz", 8, err, sizeof(err)), 0);
    assert_string_equal(w.v[BW_WK_TYPE].v[0], "Bug");
    /* keys that do not apply, unknown teams */
    assert_int_equal(
        bw_query_where_check(&w, metric("pr_merged"), NULL, err, sizeof(err)),
        BW_EUSAGE);
    assert_non_null(strstr(err, "type"));
    bw_query_where_release(&w);
    memset(&w, 0, sizeof(w));
    assert_int_equal(bw_query_where_set(&w, BW_WK_TEAM, "ghosts"), 0);
    assert_int_equal(
        bw_query_where_check(&w, metric("pr_merged"), NULL, err, sizeof(err)),
        BW_EUSAGE);
    assert_non_null(strstr(err, "unknown team 'ghosts'"));
    bw_query_where_release(&w);
}

static void test_where_torture(void **state)
{
    (void)state;
    for (long n = 1; n < 20; n++) {
        struct bw_query_where w;
        char err[128];
        int rc;

        memset(&w, 0, sizeof(w));
        bw_mem_fail_at(n, 1);
        rc = bw_query_where_parse(&w, "author=alice", 12, err, sizeof(err));
        if (rc == 0) {
            rc = bw_query_where_parse(&w, "author=bob", 10, err, sizeof(err));
        }
        bw_mem_fail_at(0, 0);
        assert_true(rc == 0 || rc == BW_ENOMEM);
        bw_query_where_release(&w);
    }
}

static void test_range(void **state)
{
    int64_t f, t;
    int64_t now = W47 + HOUR;
    char err[256];

    (void)state;
    /* default: the last 12 complete weeks */
    assert_int_equal(bw_query_range(NULL, NULL, BW_BY_NONE, 12, now, &f, &t,
                                    err, sizeof(err)),
                     0);
    assert_true(t == W47 && f == W47 - 12 * 7 * DAY);
    assert_int_equal(bw_query_range(NULL, NULL, BW_BY_WEEK, 0, now, &f, &t, err,
                                    sizeof(err)),
                     0);
    assert_true(t == W47 && f == W47 - 12 * 7 * DAY);
    /* weeks, inclusive */
    assert_int_equal(bw_query_range("2026-W45", "2026-W46", BW_BY_NONE, 12, now,
                                    &f, &t, err, sizeof(err)),
                     0);
    assert_true(f == W45 && t == W47);
    /* days, inclusive; widened with --by week */
    assert_int_equal(bw_query_range("2026-11-04", "2026-11-05", BW_BY_NONE, 12,
                                    now, &f, &t, err, sizeof(err)),
                     0);
    assert_true(f == W45 + 2 * DAY && t == W45 + 4 * DAY);
    assert_int_equal(bw_query_range("2026-11-04", "2026-11-05", BW_BY_WEEK, 12,
                                    now, &f, &t, err, sizeof(err)),
                     0);
    assert_true(f == W45 && t == W46);
    /* months */
    assert_int_equal(bw_query_range("2026-10-15", "2026-11-03", BW_BY_MONTH, 12,
                                    now, &f, &t, err, sizeof(err)),
                     0);
    assert_true(f == INT64_C(1790812800) && t == INT64_C(1796083200));
    /* one end only */
    assert_int_equal(bw_query_range("2026-W46", NULL, BW_BY_NONE, 12, now, &f,
                                    &t, err, sizeof(err)),
                     0);
    assert_true(f == W46 && t == now);
    assert_int_equal(bw_query_range(NULL, "2026-W46", BW_BY_NONE, 2, now, &f,
                                    &t, err, sizeof(err)),
                     0);
    assert_true(f == W45 && t == W47);
    /* errors: bad dates, from after to */
    assert_int_equal(bw_query_range("2026-13-01", NULL, BW_BY_NONE, 12, now, &f,
                                    &t, err, sizeof(err)),
                     BW_EUSAGE);
    assert_non_null(strstr(err, "bad --from '2026-13-01'"));
    assert_int_equal(bw_query_range(NULL, "2026-W60", BW_BY_NONE, 12, now, &f,
                                    &t, err, sizeof(err)),
                     BW_EUSAGE);
    assert_non_null(strstr(err, "bad --to"));
    assert_int_equal(bw_query_range("2026-11-05", "2026-11-04", BW_BY_NONE, 12,
                                    now, &f, &t, err, sizeof(err)),
                     BW_EUSAGE);
    assert_non_null(strstr(err, "after"));
    /* one day is a range */
    assert_int_equal(bw_query_range("2026-11-05", "2026-11-05", BW_BY_NONE, 12,
                                    now, &f, &t, err, sizeof(err)),
                     0);
    assert_true(t - f == DAY);
}

static void test_periods(void **state)
{
    struct bw_query_period *p = NULL;
    size_t n = 0;

    (void)state;
    /* the current week ends now; later weeks are left out */
    assert_int_equal(
        bw_query_periods(BW_BY_WEEK, W45, W47 + 14 * DAY, W47 + HOUR, &p, &n),
        0);
    assert_int_equal(n, 3);
    assert_string_equal(p[0].name, "2026-W45");
    assert_true(p[0].start == W45 && p[0].end == W46);
    assert_string_equal(p[2].name, "2026-W47");
    assert_true(p[2].end == W47 + HOUR);
    bw_free(p);
    assert_int_equal(bw_query_periods(BW_BY_MONTH, INT64_C(1790812800),
                                      INT64_C(1796083200), W47 + HOUR, &p, &n),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(p[1].name, "2026-11");
    assert_true(p[1].start == INT64_C(1793491200) && p[1].end == W47 + HOUR);
    bw_free(p);
    assert_int_equal(bw_query_periods(BW_BY_REPO, W45, W47, W46, &p, &n), 0);
    assert_true(n == 1 && p[0].start == W45 && p[0].end == W46);
    bw_free(p);
    /* a range wholly after now has no period */
    assert_int_equal(bw_query_periods(BW_BY_NONE, W47, W47 + DAY, W46, &p, &n),
                     0);
    assert_int_equal(n, 0);
    bw_free(p);
}

static void test_suggest(void **state)
{
    const char *s[4];
    size_t n;

    (void)state;
    n = bw_metric_suggest("pr_cycle_tme", s, 4);
    assert_true(n >= 1);
    assert_string_equal(s[0], "pr_cycle_time");
    n = bw_metric_suggest("cycle", s, 4);
    assert_int_equal(n, 3);
    n = bw_metric_suggest("ticket_wipp", s, 4);
    assert_true(n >= 1);
    assert_string_equal(s[0], "ticket_wip");
    assert_int_equal(bw_metric_suggest("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", s, 4),
                     0);
}

/* ------------------------------------------------------------- engine */

/* A merged-index row: N|author|flags|excl|coding|pickup|review|cycle|
 * ttfr|size|rounds|labels, durations in seconds (-1: none). */
static const char *mrow(char *buf, size_t n, long num, const char *author,
                        unsigned flags, long cycle, long pickup, long size,
                        const char *labels)
{
    char c[24] = "", p[24] = "";

    if (cycle >= 0) {
        snprintf(c, sizeof(c), "%ld", cycle);
    }
    if (pickup >= 0) {
        snprintf(p, sizeof(p), "%ld", pickup);
    }
    snprintf(buf, n, "%ld|%s|%u|%d|%s|%s||%s||%ld|0|%s", num, author, flags,
             flags & BW_PRF_EXCLUDED ? 1 : 0, c, p, c, size, labels);
    return buf;
}

#define MERGED_OK (BW_PRF_MERGED | BW_PRF_REVIEWED)

static void test_cycle_by_week(void **state)
{
    char r[6][128];
    struct feed rows[] = {
        {BW_IX_MERGED, "gh:acme/api",
         mrow(r[0], 128, 1, "alice", MERGED_OK, 36000, 3600, 10, ""),
         (double)(W45 + 100)},
        {BW_IX_MERGED, "gh:acme/api",
         mrow(r[1], 128, 2, "bob", MERGED_OK, 72000, -1, 500, "big"),
         (double)(W45 + 200)},
        /* excluded: never counts */
        {BW_IX_MERGED, "gh:acme/api",
         mrow(r[2], 128, 3, "dependabot[bot]", MERGED_OK | BW_PRF_EXCLUDED, 1,
              1, 1, ""),
         (double)(W45 + 300)},
        /* at the week's end instant: the next week */
        {BW_IX_MERGED, "gh:acme/web",
         mrow(r[3], 128, 4, "carol", BW_PRF_MERGED, 7200, -1, 20, ""),
         (double)W46},
        /* the range's end: outside */
        {BW_IX_MERGED, "gh:acme/web",
         mrow(r[4], 128, 5, "carol", MERGED_OK, 7200, -1, 20, ""), (double)W47},
        /* a row that does not decode is skipped */
        {BW_IX_MERGED, "gh:acme/web", "garbage", (double)(W45 + 1)},
    };
    struct bw_query q;
    struct bw_query_result res;
    char *out;

    (void)state;
    query(&q, "pr_cycle_time", BW_BY_WEEK, W45, W47, W47 + HOUR);
    run(&q, rows, 6, &res);
    assert_int_equal(res.nrows, 2);
    assert_string_equal(res.rows[0].name, "2026-W45");
    assert_int_equal(res.rows[0].stats.count, 2);
    assert_true(near(res.rows[0].stats.p50, 15));
    assert_true(near(bw_query_row_stat(&res, &res.rows[0], BW_QS_P85), 18.5));
    assert_true(isnan(bw_query_row_stat(&res, &res.rows[0], BW_QS_VALUE)));
    assert_int_equal(res.rows[1].stats.count, 1);
    assert_true(near(res.rows[1].stats.p50, 2));
    out = written(&res, NULL, BW_QF_JSON, 0);
    assert_string_equal(
        out, "{\"metric\":\"pr_cycle_time\",\"unit\":\"hours\",\"by\":"
             "\"week\",\"from\":\"2026-W45\",\"to\":\"2026-W46\",\"rows\":["
             "{\"week\":\"2026-W45\",\"count\":2,\"p50\":15,\"p85\":18.5},"
             "{\"week\":\"2026-W46\",\"count\":1,\"p50\":2,\"p85\":2}]}\n");
    bw_free(out);
    out = written(&res, NULL, BW_QF_TABLE, 0);
    assert_string_equal(out, "week      count   p50   p85\n"
                             "2026-W45      2  15.0  18.5\n"
                             "2026-W46      1   2.0   2.0\n");
    bw_free(out);
    out = written(&res, "p50,max", BW_QF_CSV, 0);
    assert_string_equal(out, "week,p50,max\r\n2026-W45,15,20\r\n"
                             "2026-W46,2,2\r\n");
    bw_free(out);
    bw_query_result_release(&res);

    /* pickup: only PRs with a pickup; an empty week is no data */
    query(&q, "pr_pickup_time", BW_BY_WEEK, W45, W47, W47 + HOUR);
    q.items = 1;
    run(&q, rows, 6, &res);
    assert_int_equal(res.rows[0].stats.count, 1);
    assert_int_equal(res.rows[1].stats.count, 0);
    assert_true(isnan(res.rows[1].stats.p50));
    assert_int_equal(res.nitems, 1);
    assert_string_equal(res.items[0].key, "acme/api#1");
    assert_true(near(res.items[0].value, 1));
    out = written(&res, NULL, BW_QF_JSON, 0);
    assert_non_null(strstr(out, "{\"week\":\"2026-W46\",\"count\":0,\"p50\":"
                                "null,\"p85\":null}"));
    bw_free(out);
    out = written(&res, NULL, BW_QF_JSON, 1);
    assert_non_null(strstr(out, "\"items\":[{\"key\":\"acme/api#1\",\"url\":"
                                "null,\"value\":1,\"week\":\"2026-W45\","
                                "\"author\":\"alice\"}]"));
    bw_free(out);
    bw_query_result_release(&res);

    /* counts and rates */
    query(&q, "pr_merged", BW_BY_NONE, W45, W47, W47 + HOUR);
    run(&q, rows, 6, &res);
    assert_int_equal(res.nrows, 1);
    assert_null(res.rows[0].name);
    assert_true(res.rows[0].value == 3);
    out = written(&res, NULL, BW_QF_JSON, 0);
    assert_string_equal(out, "{\"metric\":\"pr_merged\",\"unit\":\"count\","
                             "\"by\":null,\"from\":\"2026-11-02\",\"to\":"
                             "\"2026-11-15\",\"rows\":[{\"value\":3}]}\n");
    bw_free(out);
    bw_query_result_release(&res);
    query(&q, "pr_unreviewed_merge_rate", BW_BY_NONE, W45, W47, W47 + HOUR);
    run(&q, rows, 6, &res);
    assert_true(near(res.rows[0].value, 1.0 / 3));
    bw_query_result_release(&res);
    query(&q, "pr_large_rate", BW_BY_REPO, W45, W47, W47 + HOUR);
    q.items = 1;
    run(&q, rows, 6, &res);
    assert_int_equal(res.nrows, 2);
    assert_string_equal(res.rows[0].name, "acme/api");
    assert_true(near(res.rows[0].value, 0.5));
    assert_string_equal(res.rows[1].name, "acme/web");
    assert_true(res.rows[1].value == 0 && res.rows[1].den == 1);
    assert_int_equal(res.nitems, 1);
    assert_true(res.items[0].value == 500);
    bw_query_result_release(&res);
    /* an empty range: no data, not an error */
    query(&q, "pr_unreviewed_merge_rate", BW_BY_WEEK, W45 - 7 * DAY, W45, W47);
    run(&q, rows, 6, &res);
    assert_int_equal(res.nrows, 1);
    assert_true(isnan(res.rows[0].value));
    bw_query_result_release(&res);
}

static void test_where_and_author(void **state)
{
    char r[4][128];
    struct feed rows[] = {
        {BW_IX_MERGED, "gh:acme/api",
         mrow(r[0], 128, 1, "Alice", MERGED_OK, 3600, -1, 10, "bug,ui"),
         (double)(W45 + 100)},
        {BW_IX_MERGED, "gh:acme/api",
         mrow(r[1], 128, 2, "alice", MERGED_OK, 7200, -1, 10, "ui"),
         (double)(W45 + 200)},
        {BW_IX_MERGED, "gh:acme/web",
         mrow(r[2], 128, 3, "%", MERGED_OK | BW_PRF_GHOST, 10800, -1, 10,
              "bug"),
         (double)(W45 + 300)},
        {BW_IX_MERGED, "gh:acme/web",
         mrow(r[3], 128, 4, "bob", MERGED_OK, 14400, -1, 10, ""),
         (double)(W45 + 400)},
    };
    struct bw_query_where w;
    struct bw_query q;
    struct bw_query_result res;

    (void)state;
    /* --by author: case-insensitive logins, a deleted user is ghost */
    query(&q, "pr_cycle_time", BW_BY_AUTHOR, W45, W46, W47);
    run(&q, rows, 4, &res);
    assert_int_equal(res.nrows, 3);
    assert_string_equal(res.rows[0].name, "Alice");
    assert_int_equal(res.rows[0].stats.count, 2);
    assert_string_equal(res.rows[1].name, "bob");
    assert_string_equal(res.rows[2].name, "ghost");
    bw_query_result_release(&res);
    /* --where label=bug --where repo=acme/api: AND across keys */
    memset(&w, 0, sizeof(w));
    assert_int_equal(bw_query_where_set(&w, BW_WK_LABEL, "bug"), 0);
    query(&q, "pr_cycle_time", BW_BY_NONE, W45, W46, W47);
    q.where = &w;
    run(&q, rows, 4, &res);
    assert_int_equal(res.rows[0].stats.count, 2);
    bw_query_result_release(&res);
    assert_int_equal(bw_query_where_set(&w, BW_WK_REPO, "ACME/api"), 0);
    run(&q, rows, 4, &res);
    assert_int_equal(res.rows[0].stats.count, 1);
    assert_true(near(res.rows[0].stats.p50, 1));
    bw_query_result_release(&res);
    /* values of one key OR-ed */
    assert_int_equal(bw_query_where_set(&w, BW_WK_REPO, "acme/web"), 0);
    run(&q, rows, 4, &res);
    assert_int_equal(res.rows[0].stats.count, 2);
    bw_query_result_release(&res);
    bw_query_where_release(&w);
    memset(&w, 0, sizeof(w));
    assert_int_equal(bw_query_where_set(&w, BW_WK_AUTHOR, "ghost"), 0);
    run(&q, rows, 4, &res);
    assert_int_equal(res.rows[0].stats.count, 1);
    assert_true(near(res.rows[0].stats.p50, 3));
    bw_query_result_release(&res);
    bw_query_where_release(&w);
}

static void test_teams(void **state)
{
    char r[3][128];
    struct feed rows[] = {
        {BW_IX_MERGED, "gh:acme/api",
         mrow(r[0], 128, 1, "alice", MERGED_OK, 3600, -1, 10, ""),
         (double)(W45 + 100)},
        {BW_IX_MERGED, "gh:acme/web",
         mrow(r[1], 128, 2, "bob", MERGED_OK, 7200, -1, 10, ""),
         (double)(W45 + 200)},
        {BW_IX_MERGED, "gh:acme/web",
         mrow(r[2], 128, 3, "carol", MERGED_OK, 10800, -1, 10, ""),
         (double)(W45 + 300)},
    };
    static char platform[] = "platform", web[] = "web", empty[] = "empty";
    static char api[] = "acme/api", webrepo[] = "Acme/Web", alice[] = "ALICE";
    char *platform_repos[] = {api};
    char *web_repos[] = {webrepo};
    char *web_members[] = {alice};
    struct bw_team_conf teams[3];
    struct bw_config cfg;
    struct bw_query_where w;
    struct bw_query q;
    struct bw_query_result res;
    char err[256];

    (void)state;
    memset(teams, 0, sizeof(teams));
    memset(&cfg, 0, sizeof(cfg));
    teams[0].name = platform;
    teams[0].repos.v = platform_repos;
    teams[0].repos.n = 1;
    teams[1].name = web;
    teams[1].repos.v = web_repos;
    teams[1].repos.n = 1;
    teams[1].members.v = web_members;
    teams[1].members.n = 1;
    teams[2].name = empty;
    cfg.teams = teams;
    cfg.nteams = 3;
    /* every team is a row (teams overlap; the empty one has no data) */
    query(&q, "pr_merged", BW_BY_TEAM, W45, W46, W47);
    q.cfg = &cfg;
    run(&q, rows, 3, &res);
    assert_int_equal(res.nrows, 3);
    assert_string_equal(res.rows[0].name, "platform");
    assert_true(res.rows[0].value == 1);
    assert_string_equal(res.rows[1].name, "web");
    assert_true(res.rows[1].value == 3);
    assert_string_equal(res.rows[2].name, "empty");
    assert_true(res.rows[2].value == 0);
    bw_query_result_release(&res);
    memset(&w, 0, sizeof(w));
    assert_int_equal(bw_query_where_set(&w, BW_WK_TEAM, "platform"), 0);
    assert_int_equal(bw_query_where_check(&w, q.metric, &cfg, err, sizeof(err)),
                     0);
    q.where = &w;
    run(&q, rows, 3, &res);
    assert_int_equal(res.nrows, 1);
    assert_true(res.rows[0].value == 1);
    bw_query_result_release(&res);
    q.by = BW_BY_NONE;
    bw_query_where_release(&w);
    memset(&w, 0, sizeof(w));
    assert_int_equal(bw_query_where_set(&w, BW_WK_TEAM, "nobody"), 0);
    {
        struct bw_query_engine *e = NULL;

        assert_int_equal(bw_query_engine_new(&q, &e), BW_EUSAGE);
        assert_null(e);
    }
    bw_query_where_release(&w);
}

static void test_point_in_time(void **state)
{
    char r[5][160];
    struct feed rows[5];
    struct bw_query q;
    struct bw_query_result res;
    int64_t o = W45 + 1000;

    (void)state;
    /* N|author|flags|excl|opened_at|open|draft|ready|first_review|stale|
       labels, spells relative to opened_at */
    snprintf(r[0], 160, "1|alice|64|0|%lld|0~||0|||", (long long)o);
    snprintf(r[1], 160, "2|bob|64|0|%lld|0~||0|%lld||", (long long)o,
             (long long)(W45 + 6000 - o));
    snprintf(r[2], 160, "3|carol|192|0|%lld|0~|0~||||", (long long)o);
    /* open since 10 days before W45, no activity: stale from day 7 */
    snprintf(r[3], 160, "4|dave|64|0|%lld|0~||0||%lld~|",
             (long long)(W45 - 10 * DAY), (long long)(7 * DAY));
    /* closed at W46 (the instant): not open at the end of W45? it is */
    snprintf(r[4], 160, "5|erin|0|0|%lld|0~%lld||0|||", (long long)o,
             (long long)(W46 + 1 - o));
    for (int i = 0; i < 5; i++) {
        rows[i].ix = BW_IX_PIT;
        rows[i].tag = "gh:acme/api";
        rows[i].member = r[i];
        rows[i].score = i == 4 ? (double)(W46 + 1) : OPEN_END;
    }
    /* awaiting: ready (rel 0), open, not a draft, no review before */
    query(&q, "pr_open_awaiting_review", BW_BY_WEEK, W45, W47, W46 + DAY);
    q.items = 1;
    run(&q, rows, 5, &res);
    assert_int_equal(res.nrows, 2);
    /* W45's end: 1 (alice), 2 (review at W45+6000 is before), 4, 5 */
    assert_true(res.rows[0].value == 3);
    /* W46 is unfinished: taken at now = W46 + 1 day; 5 is closed */
    assert_true(res.rows[1].at == W46 + DAY);
    assert_true(res.rows[1].value == 2);
    assert_string_equal(res.items[0].key, "acme/api#4");
    assert_true(
        near(res.items[0].value, (double)(W46 - (W45 - 10 * DAY)) / 3600.0));
    bw_query_result_release(&res);
    /* stale: dave only, at both instants */
    query(&q, "pr_stale", BW_BY_NONE, W45, W47, W46 + DAY);
    q.items = 1;
    run(&q, rows, 5, &res);
    assert_int_equal(res.nrows, 1);
    assert_true(res.rows[0].value == 1);
    assert_true(res.rows[0].at == W46 + DAY);
    assert_int_equal(res.nitems, 1);
    assert_true(near(res.items[0].value, 11 * 24.0 + 24 * 7));
    bw_query_result_release(&res);
}

static void test_reviews(void **state)
{
    struct feed rows[] = {
        {BW_IX_REVIEWS, "gh:acme/api", "1|alice|bob|1|0", (double)(W45 + 1)},
        {BW_IX_REVIEWS, "gh:acme/api", "1|alice|bob|3|1", (double)(W45 + 2)},
        {BW_IX_REVIEWS, "gh:acme/api", "2|alice|carol|1|0", (double)(W45 + 3)},
        {BW_IX_REVIEWS, "gh:acme/web", "3|%|alice|2|0", (double)(W45 + 4)},
        {BW_IX_REVIEWS, "gh:acme/web", "3|ghost|alice|2|1", (double)(W46)},
    };
    struct bw_query q;
    struct bw_query_result res;
    struct bw_query_where w;
    char *out;

    (void)state;
    query(&q, "review_load_top_share", BW_BY_WEEK, W45, W47, W47);
    run(&q, rows, 5, &res);
    assert_true(near(res.rows[0].value, 0.75));
    assert_true(res.rows[0].num == 3 && res.rows[0].den == 4);
    assert_true(near(res.rows[1].value, 1));
    bw_query_result_release(&res);
    /* by reviewer; a deleted reviewer is ghost */
    query(&q, "review_count_by_reviewer", BW_BY_AUTHOR, W45, W47, W47);
    run(&q, rows, 5, &res);
    assert_int_equal(res.nrows, 2);
    assert_string_equal(res.rows[0].name, "alice");
    assert_true(res.rows[0].value == 3);
    assert_string_equal(res.rows[1].name, "ghost");
    assert_true(res.rows[1].value == 2);
    out = written(&res, NULL, BW_QF_CSV, 0);
    assert_string_equal(out, "author,value\r\nalice,3\r\nghost,2\r\n");
    bw_free(out);
    bw_query_result_release(&res);
    /* --where author is the reviewer; teams follow the PR's author */
    memset(&w, 0, sizeof(w));
    assert_int_equal(bw_query_where_set(&w, BW_WK_AUTHOR, "alice"), 0);
    query(&q, "review_count_by_reviewer", BW_BY_NONE, W45, W47, W47);
    q.where = &w;
    run(&q, rows, 5, &res);
    assert_true(res.rows[0].value == 3);
    bw_query_result_release(&res);
    bw_query_where_release(&w);
    /* --where label joins the opened index */
    memset(&w, 0, sizeof(w));
    assert_int_equal(bw_query_where_set(&w, BW_WK_LABEL, "ui"), 0);
    {
        struct bw_query_engine *e = NULL;
        struct bw_query_scan sc[3];

        query(&q, "review_count_by_reviewer", BW_BY_NONE, W45, W47, W47);
        q.where = &w;
        assert_int_equal(bw_query_engine_new(&q, &e), 0);
        assert_int_equal(bw_query_engine_scans(e, sc, 3), 2);
        assert_int_equal(sc[0].ix, BW_IX_OPENED);
        assert_int_equal(sc[1].ix, BW_IX_REVIEWS);
        assert_int_equal(bw_query_engine_feed(e, BW_IX_OPENED, "gh:acme/api",
                                              "1|bob|0|0|ui", 12, (double)W45),
                         0);
        for (int i = 0; i < 5; i++) {
            assert_int_equal(
                bw_query_engine_feed(e, rows[i].ix, rows[i].tag, rows[i].member,
                                     strlen(rows[i].member), rows[i].score),
                0);
        }
        assert_int_equal(bw_query_engine_finish(e, &res), 0);
        bw_query_engine_free(e);
        assert_true(res.rows[0].value == 2);
        bw_query_result_release(&res);
    }
    bw_query_where_release(&w);
}

static void test_tickets(void **state)
{
    char r[8][200];
    struct feed rows[8];
    struct bw_query q;
    struct bw_query_result res;
    int64_t s1 = W45 - 5 * DAY;

    (void)state;
    /* tpit: KEY|project|type|assignee_id|assignee_name|flags|started_at|
       in_progress|blocked|labels (rel. started_at) */
    snprintf(r[0], 200, "OPS-1|OPS|Story|acc-1|Ann|40|%lld|0~|%lld~|",
             (long long)s1, (long long)DAY);
    snprintf(r[1], 200, "OPS-2|OPS|Bug|acc-2|Ben|32|%lld|0~|%lld~|",
             (long long)s1, (long long)(11 * DAY));
    snprintf(r[2], 200, "OPS-3|OPS|Story|%%|%%|0|%lld|0~%lld||", (long long)s1,
             (long long)DAY);
    snprintf(r[3], 200, "OPS-4|OPS|Epic|acc-1|Ann|33|%lld|0~||", (long long)s1);
    for (int i = 0; i < 4; i++) {
        rows[i].ix = BW_IX_TPIT;
        rows[i].tag = "jira:jira";
        rows[i].member = r[i];
        rows[i].score = i == 2 ? (double)(s1 + DAY) : OPEN_END;
    }
    query(&q, "ticket_wip", BW_BY_WEEK, W45, W46, W47);
    q.items = 1;
    run(&q, rows, 4, &res);
    assert_true(res.rows[0].value == 2);
    assert_int_equal(res.nitems, 2);
    assert_true(near(res.items[0].value, 12));
    bw_query_result_release(&res);
    query(&q, "ticket_age_in_progress", BW_BY_AUTHOR, W45, W46, W47);
    run(&q, rows, 4, &res);
    assert_int_equal(res.nrows, 2);
    assert_string_equal(res.rows[0].name, "acc-1");
    assert_string_equal(res.rows[0].label, "Ann");
    assert_true(near(res.rows[0].stats.p50, 12));
    bw_query_result_release(&res);
    /* blocked over 3 days: OPS-1 since day 1 (11 days at W46); OPS-2
       blocked only 1 day before W46 */
    query(&q, "ticket_blocked_over_3d", BW_BY_NONE, W45, W46, W47);
    q.items = 1;
    run(&q, rows, 4, &res);
    assert_true(res.rows[0].value == 1);
    assert_string_equal(res.items[0].key, "OPS-1");
    assert_true(near(res.items[0].value, 11));
    bw_query_result_release(&res);

    /* done: KEY|project|type|assignee_id|assignee_name|flags|cycle|lead|
       blocked|reopens|labels; created: KEY|project|type|id|name|flags|
       labels */
    snprintf(r[4], 200, "OPS-5|OPS|Bug|%%|Ann|64|%lld|%lld|%lld|1|",
             (long long)(2 * DAY), (long long)(4 * DAY), (long long)DAY);
    snprintf(r[5], 200, "API-6|API|Story|acc-2|%%|64||%lld||0|x",
             (long long)DAY);
    snprintf(r[6], 200, "OPS-7|OPS|Story|||0|");
    snprintf(r[7], 200, "OPS-8|OPS|Epic|||1|");
    rows[0] = (struct feed){BW_IX_DONE, "jira:jira", r[4], (double)W45};
    rows[1] = (struct feed){BW_IX_DONE, "jira:jira", r[5], (double)W45 + 9};
    rows[2] = (struct feed){BW_IX_CREATED, "jira:jira", r[6], (double)W45};
    rows[3] = (struct feed){BW_IX_CREATED, "jira:jira", r[7], (double)W45};
    query(&q, "ticket_net_flow", BW_BY_NONE, W45, W46, W47);
    run(&q, rows, 4, &res);
    assert_true(res.rows[0].value == -1);
    bw_query_result_release(&res);
    query(&q, "ticket_blocked_share", BW_BY_NONE, W45, W46, W47);
    run(&q, rows, 4, &res);
    assert_int_equal(res.rows[0].stats.count, 1);
    assert_true(near(res.rows[0].stats.p50, 0.5));
    bw_query_result_release(&res);
    query(&q, "bug_cycle_time", BW_BY_TYPE, W45, W46, W47);
    run(&q, rows, 4, &res);
    assert_int_equal(res.nrows, 1);
    assert_true(near(res.rows[0].stats.p50, 2));
    bw_query_result_release(&res);
    query(&q, "ticket_reopen_rate", BW_BY_PROJECT, W45, W46, W47);
    run(&q, rows, 4, &res);
    assert_int_equal(res.nrows, 2);
    assert_string_equal(res.rows[0].name, "API");
    assert_true(res.rows[0].value == 0);
    assert_true(res.rows[1].value == 1);
    bw_query_result_release(&res);
    query(&q, "ticket_lead_time", BW_BY_AUTHOR, W45, W46, W47);
    run(&q, rows, 4, &res);
    /* by author: the id, or the name when there is none */
    assert_int_equal(res.nrows, 2);
    assert_string_equal(res.rows[0].name, "Ann");
    assert_string_equal(res.rows[1].name, "acc-2");
    bw_query_result_release(&res);
}

static void test_torture_engine(void **state)
{
    char r[3][128];
    struct feed rows[] = {
        {BW_IX_MERGED, "gh:acme/api",
         mrow(r[0], 128, 1, "alice", MERGED_OK, 3600, -1, 10, "a,b"),
         (double)(W45 + 100)},
        {BW_IX_MERGED, "gh:acme/web",
         mrow(r[1], 128, 2, "bob", MERGED_OK, 7200, -1, 10, ""),
         (double)(W45 + 200)},
        {BW_IX_MERGED, "gh:acme/web",
         mrow(r[2], 128, 3, "carol", MERGED_OK, 10800, -1, 10, ""),
         (double)(W45 + 300)},
    };
    struct bw_query q;

    (void)state;
    query(&q, "pr_cycle_time", BW_BY_AUTHOR, W45, W47, W47);
    q.items = 1;
    for (long n = 1; n < 200; n++) {
        struct bw_query_engine *e = NULL;
        struct bw_query_result res;
        struct bw_query_stats s;
        struct bw_buf b = BW_BUF_INIT;
        int rc;

        memset(&res, 0, sizeof(res));
        bw_mem_fail_at(n, 0);
        rc = bw_query_engine_new(&q, &e);
        for (size_t i = 0; rc == 0 && i < 3; i++) {
            rc =
                bw_query_engine_feed(e, rows[i].ix, rows[i].tag, rows[i].member,
                                     strlen(rows[i].member), rows[i].score);
        }
        if (rc == 0) {
            rc = bw_query_engine_finish(e, &res);
        }
        if (rc == 0) {
            bw_query_stats_parse(q.metric, NULL, &s, NULL, 0);
            rc = bw_query_write(&b, &res, &s, (int)(n % 3), (int)(n & 1));
        }
        bw_mem_fail_at(0, 0);
        assert_true(rc == 0 || rc == BW_ENOMEM);
        bw_buf_release(&b);
        bw_query_result_release(&res);
        bw_query_engine_free(e);
    }
}

/* The engine's own sort and sums give bw_stats_compute()'s numbers. */
static void test_stats_equal(void **state)
{
    enum {
        N = 3000
    };
    static char mem[N][96];
    static struct feed rows[N];
    static double hours[N];
    struct bw_query q;
    struct bw_query_result res;
    struct bw_stats want;
    uint64_t x = 88172645463325252u;

    (void)state;
    for (int i = 0; i < N; i++) {
        long secs;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        secs = i % 7 == 0 ? 0 : (long)(x % 4000000);
        mrow(mem[i], sizeof(mem[i]), i + 1, "alice", MERGED_OK, secs, -1, 10,
             "");
        rows[i] = (struct feed){BW_IX_MERGED, "gh:acme/api", mem[i],
                                (double)(W45 + i)};
        hours[i] = (double)secs / 3600.0;
    }
    bw_stats_compute(hours, N, &want);
    query(&q, "pr_cycle_time", BW_BY_NONE, W45, W46, W47);
    run(&q, rows, N, &res);
    assert_int_equal(res.rows[0].stats.count, want.count);
    assert_true(res.rows[0].stats.sum == want.sum);
    assert_true(res.rows[0].stats.mean == want.mean);
    assert_true(res.rows[0].stats.min == want.min);
    assert_true(res.rows[0].stats.max == want.max);
    assert_true(res.rows[0].stats.p50 == want.p50);
    assert_true(res.rows[0].stats.p85 == want.p85);
    assert_true(res.rows[0].stats.p99 == want.p99);
    bw_query_result_release(&res);
}

/* ------------------------------------------------------------- output */

static void test_csv_quoting(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\r", "\"cr\r\""},
        {" padded", "\" padded\""},
        {"", ""},
        {"caf\xc3\xa9", "caf\xc3\xa9"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bw_buf b = BW_BUF_INIT;

        assert_int_equal(bw_csv_field(&b, cases[i].in), 0);
        assert_string_equal(b.data ? b.data : "", cases[i].out);
        bw_buf_release(&b);
    }
}

static void test_json_primitives(void **state)
{
    static const struct {
        double v;
        const char *out;
    } nums[] = {{0, "0"},       {-0.0, "0"},
                {12, "12"},     {31.25, "31.25"},
                {0.1, "0.1"},   {1.0 / 3, "0.3333333333333333"},
                {-2.5, "-2.5"}, {1e20, "1e+20"},
                {NAN, "null"},  {INFINITY, "null"}};
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        bw_buf_reset(&b);
        assert_int_equal(bw_json_number(&b, nums[i].v), 0);
        assert_string_equal(b.data, nums[i].out);
    }
    bw_buf_reset(&b);
    assert_int_equal(bw_json_string(&b, "a\"b\\c\n\x01<\xc3\xa9>"), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001<\xc3\xa9>\"");
    bw_buf_reset(&b);
    assert_int_equal(bw_json_string(&b, NULL), 0);
    assert_string_equal(b.data, "null");
    bw_buf_release(&b);
    assert_int_equal(bw_text_width("caf\xc3\xa9"), 4);
    assert_int_equal(bw_text_width("\xe2\x80\x93"), 1);
}

/* Table layout: names truncated, en dashes aligned, at most 80 columns. */
static void test_table_layout(void **state)
{
    char r[2][160];
    struct feed rows[2];
    struct bw_query q;
    struct bw_query_result res;
    char *out;

    (void)state;
    mrow(r[0], 160, 1, "a-very-long-login-name-that-goes-on-and-on-forever",
         MERGED_OK, 3600, -1, 10, "");
    mrow(r[1], 160, 2, "bob", MERGED_OK, 7200 * 100, -1, 10, "");
    rows[0] =
        (struct feed){BW_IX_MERGED, "gh:acme/api", r[0], (double)(W45 + 1)};
    rows[1] =
        (struct feed){BW_IX_MERGED, "gh:acme/api", r[1], (double)(W45 + 2)};
    query(&q, "pr_cycle_time", BW_BY_AUTHOR, W45, W46, W47);
    run(&q, rows, 2, &res);
    out = written(&res, NULL, BW_QF_TABLE, 0);
    assert_string_equal(
        out, "author                          count    p50    p85\n"
             "a-very-long-login-name-that-g\xe2\x80\xa6      1    "
             "1.0    1.0\n"
             "bob                                 1  200.0  200.0\n");
    assert_true(widest_line(out) <= 80);
    bw_free(out);
    bw_query_result_release(&res);
    /* no data: an en dash, one column wide */
    query(&q, "pr_pickup_time", BW_BY_WEEK, W45, W47, W47);
    run(&q, rows, 2, &res);
    out = written(&res, NULL, BW_QF_TABLE, 0);
    assert_string_equal(out, "week      count  p50  p85\n"
                             "2026-W45      0    \xe2\x80\x93    "
                             "\xe2\x80\x93\n"
                             "2026-W46      0    \xe2\x80\x93    "
                             "\xe2\x80\x93\n");
    bw_free(out);
    out = written(&res, "count,sum,mean,min,max,p50,p75,p85,p90,p95,p99",
                  BW_QF_CSV, 0);
    assert_non_null(strstr(out, "2026-W46,0,0,,,,,,,,,\r\n"));
    bw_free(out);
    /* every statistic still fits 80 columns */
    out = written(&res, "count,sum,mean,min,max,p50,p75,p85,p90,p95,p99",
                  BW_QF_TABLE, 0);
    assert_true(widest_line(out) <= 80);
    bw_free(out);
    bw_query_result_release(&res);
}

static void test_metrics_list(void **state)
{
    struct bw_buf b = BW_BUF_INIT;
    size_t n = 0;

    (void)state;
    assert_int_equal(bw_metrics_write(&b, BW_QF_TABLE), 0);
    for (const struct bw_metric *m = bw_metrics; m->name; m++) {
        assert_non_null(strstr(b.data, m->name));
        n++;
    }
    assert_int_equal(n, 24);
    assert_true(widest_line(b.data) <= 80);
    bw_buf_reset(&b);
    assert_int_equal(bw_metrics_write(&b, BW_QF_JSON), 0);
    assert_non_null(strstr(b.data,
                           "{\"name\":\"ticket_wip\",\"unit\":\"count\","
                           "\"kind\":\"point-in-time\""));
    assert_int_equal(bw_metrics_write(&b, BW_QF_CSV), BW_EUSAGE);
    bw_buf_release(&b);
    for (const struct bw_metric *m = bw_metrics; m->name; m++) {
        assert_true(bw_query_item_value_doc(m)[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_parse),
        cmocka_unit_test(test_by),
        cmocka_unit_test(test_where_parse),
        cmocka_unit_test(test_where_torture),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_cycle_by_week),
        cmocka_unit_test(test_where_and_author),
        cmocka_unit_test(test_teams),
        cmocka_unit_test(test_point_in_time),
        cmocka_unit_test(test_reviews),
        cmocka_unit_test(test_tickets),
        cmocka_unit_test(test_torture_engine),
        cmocka_unit_test(test_stats_equal),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_json_primitives),
        cmocka_unit_test(test_table_layout),
        cmocka_unit_test(test_metrics_list),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
