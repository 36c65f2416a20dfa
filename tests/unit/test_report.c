/*
 * test_report.c - the report's writers and output files, on a model built
 * by hand (no Redis): Markdown presentation rules (no data, rounding, Δ,
 * sparklines, targets), hostile names and titles kept literal in every
 * format, the JSON shape (parsed back with cJSON), determinism, the HTML's
 * safety, file writes that are all or nothing (a missing directory, a file
 * size limit), and allocation failures.
 */
#include "testutil.h"

#include <cJSON.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/query.h"
#include "bellwether/report.h"

#define HOSTILE_TEAM "plat|form *x* <script>alert(1)</script>"
#define HOSTILE_TITLE "Fix | pipe **b** [x](y) <script>a</script> a\\@b.co\nl2"

static char *xstrdup(const char *s)
{
    return s ? bw_strdup(s) : NULL;
}

static void set_items(struct bw_report_section *s, const struct bw_metric *m,
                      int unit, size_t n, size_t total)
{
    s->item_metric = m;
    s->item_unit = unit;
    s->items = bw_calloc(n, sizeof(*s->items));
    s->nitems = n;
    s->items_total = total;
    for (size_t i = 0; i < n; i++) {
        char key[32];

        snprintf(key, sizeof(key), i == 0 ? "acme/api#%zu" : "OPS-%zu", i + 7);
        s->items[i].key = xstrdup(key);
        s->items[i].url =
            xstrdup(i == 1 ? "javascript:alert(1)"
                           : "https://github.com/acme/api/pull/7");
        s->items[i].title = xstrdup(i == 0 ? HOSTILE_TITLE : "plain title");
        s->items[i].value = 10.25 * (double)(n - i);
    }
}

static void set_values(struct bw_report_section *s, const char *const *names,
                       const int *stats, const double *values, size_t n)
{
    s->values = bw_calloc(n, sizeof(*s->values));
    s->nvalues = n;
    for (size_t i = 0; i < n; i++) {
        s->values[i].metric = bw_metric_find(names[i]);
        s->values[i].stat = stats[i];
        s->values[i].value = values[i];
    }
}

static void set_indicator(struct bw_report_indicator *in, const char *metric,
                          int stat, const double *trend, size_t n, int status)
{
    in->metric = bw_metric_find(metric);
    in->stat = stat;
    in->trend = bw_calloc(n, sizeof(double));
    memcpy(in->trend, trend, n * sizeof(double));
    in->ntrend = n;
    in->this_week = trend[n - 1];
    in->last_week = trend[n - 2];
    in->delta =
        bw_delta(in->this_week, in->last_week, in->metric->unit == BW_MU_RATIO);
    in->status = status;
}

static void fill_scope(struct bw_report_scope *sc)
{
    static const double t1[] = {NAN, 10, 12, 31.25};
    static const double t2[] = {0.1, 0.2, 0.05, 0.125};
    static const double t3[] = {NAN, NAN, NAN, NAN};
    static const double t4[] = {30, 30, 30, 30};
    static const char *const pr_names[] = {"pr_cycle_time", "pr_cycle_time",
                                           "pr_merged", "pr_large_rate"};
    static const int pr_stats[] = {BW_QS_P50, BW_QS_P85, BW_QS_VALUE,
                                   BW_QS_VALUE};
    static const double pr_values[] = {31.25, NAN, 12, 0.125};
    static const char *const t_names[] = {"ticket_cycle_time", "ticket_wip"};
    static const int t_stats[] = {BW_QS_P50, BW_QS_VALUE};
    static const double t_values[] = {2.04, 30};

    sc->indicators = bw_calloc(4, sizeof(*sc->indicators));
    sc->nindicators = 4;
    set_indicator(&sc->indicators[0], "pr_pickup_time", BW_QS_P50, t1, 4,
                  BW_TS_OFF_TRACK);
    sc->indicators[0].has_target = 1;
    sc->indicators[0].bound.has_max = 1;
    sc->indicators[0].bound.max = 8;
    sc->indicators[0].bound.margin = 0.1;
    set_indicator(&sc->indicators[1], "pr_unreviewed_merge_rate", BW_QS_VALUE,
                  t2, 4, BW_TS_AT_RISK);
    sc->indicators[1].has_target = 1;
    sc->indicators[1].bound.has_max = 1;
    sc->indicators[1].bound.max = 0.13;
    sc->indicators[1].bound.margin = 0.1;
    set_indicator(&sc->indicators[2], "ticket_cycle_time", BW_QS_P50, t3, 4,
                  BW_TS_NONE);
    sc->indicators[2].has_target = 1;
    sc->indicators[2].bound.has_min = 1;
    sc->indicators[2].bound.min = 1;
    set_indicator(&sc->indicators[3], "ticket_wip", BW_QS_VALUE, t4, 4,
                  BW_TS_ON_TRACK);
    sc->indicators[3].has_target = 1;
    sc->indicators[3].bound.has_max = 1;
    sc->indicators[3].bound.max = 40;
    set_values(&sc->sections[BW_RS_PULL_REQUESTS], pr_names, pr_stats,
               pr_values, 4);
    set_values(&sc->sections[BW_RS_TICKETS], t_names, t_stats, t_values, 2);
    set_items(&sc->sections[BW_RS_AWAITING_REVIEW],
              bw_metric_find("pr_open_awaiting_review"), BW_MU_HOURS, 2, 2);
    set_items(&sc->sections[BW_RS_BLOCKED],
              bw_metric_find("ticket_blocked_over_3d"), BW_MU_DAYS, 3, 7);
    set_items(&sc->sections[BW_RS_AGEING_WIP],
              bw_metric_find("ticket_age_in_progress"), BW_MU_DAYS, 1, 1);
}

static struct bw_report *model(void)
{
    struct bw_report *r = NULL;

    assert_int_equal(bw_tz_set("UTC"), 0);
    assert_int_equal(bw_report_new(2026, 46, "UTC", 4, &r), 0);
    r->generated_at = 1794787200;
    r->nsources = 2;
    r->sources = bw_calloc(2, sizeof(*r->sources));
    r->sources[0].name = xstrdup("gh");
    r->sources[0].type = xstrdup("github");
    r->sources[0].last_success = 1794787000;
    r->sources[0].last_run = 1794787000;
    r->sources[1].name = xstrdup("ji*ra");
    r->sources[1].type = xstrdup("jira");
    r->sources[1].last_success = 1794000000;
    r->sources[1].last_run = 1794780000;
    r->sources[1].failed = 1;
    r->sources[1].stale = 1;
    fill_scope(&r->main);
    r->nteams = 1;
    r->teams = bw_calloc(1, sizeof(*r->teams));
    for (int i = 0; i < BW_RS_COUNT; i++) {
        r->teams[0].sections[i] = r->main.sections[i];
        r->teams[0].sections[i].values = NULL;
        r->teams[0].sections[i].nvalues = 0;
        r->teams[0].sections[i].items = NULL;
        r->teams[0].sections[i].nitems = 0;
        r->teams[0].sections[i].items_total = 0;
    }
    r->teams[0].subjects = BW_REPORT_PRS | BW_REPORT_TICKETS;
    r->teams[0].team = xstrdup(HOSTILE_TEAM);
    fill_scope(&r->teams[0]);
    return r;
}

static char *render_md(const struct bw_report *r)
{
    struct bw_buf b = BW_BUF_INIT;

    assert_int_equal(bw_report_markdown(r, &b), 0);
    return bw_buf_detach(&b);
}

/* ---------------------------------------------------------------- Markdown */

static void test_markdown_rules(void **state)
{
    struct bw_report *r = model();
    char *md = render_md(r);
    char *again = render_md(r);

    (void)state;
    /* deterministic */
    assert_string_equal(md, again);
    assert_non_null(strstr(md, "# Weekly report 2026-W46\n"));
    assert_non_null(strstr(md, "**2026-11-09 to 2026-11-15** (UTC), "
                               "generated 2026-11-16 00:00."));
    /* freshness: both sources, a warning for the failed and stale one */
    assert_non_null(strstr(md, "**gh** synced 2026-11-15 23:56"));
    assert_non_null(strstr(md, "**Source ji\\*ra**: its last run failed"));
    /* indicators: one decimal for hours, whole percentages, pp for rates,
       an en dash for no data, sparklines with a blank for no data */
    assert_non_null(
        strstr(md, "| PR pickup time (review latency), p50 | 31.2 h | 12.0 h | "
                   "+160% | ` \xE2\x96\x81\xE2\x96\x81\xE2\x96\x88` | "
                   "\xE2\x89\xA4 8.0 h | \xF0\x9F\x94\xB4 off track |"));
    assert_non_null(strstr(md, "| Unreviewed merges | 12% | 5% | +8 pp |"));
    assert_non_null(strstr(md, "| Ticket cycle time, p50 | \xE2\x80\x93 | "
                               "\xE2\x80\x93 | \xE2\x80\x93 | \xE2\x80\x93 | "
                               "\xE2\x89\xA5 1.0 d | \xE2\x80\x93 |"));
    /* all equal: all ▄ */
    assert_non_null(strstr(md, "`\xE2\x96\x84\xE2\x96\x84\xE2\x96\x84"
                               "\xE2\x96\x84`"));
    /* needs attention first: off track, then at risk, blocked, waiting */
    assert_true(strstr(md, "## Needs attention") <
                strstr(md, "## Leading indicators"));
    assert_true(strstr(md, "off track **PR pickup") <
                strstr(md, "at risk **Unreviewed merges"));
    assert_non_null(strstr(md, "- **7 tickets blocked over 3 days:** "));
    assert_non_null(strstr(md, "and 4 more"));
    assert_non_null(strstr(md, "On track: Work in progress.\n"));
    /* sections: p50/p85 rows, a value table, no data as an en dash */
    assert_non_null(strstr(md, "| PR cycle time | 31.2 h | \xE2\x80\x93 |"));
    assert_non_null(strstr(md, "| Large PRs | 12% |"));
    assert_non_null(strstr(md, "| Ticket cycle time | 2.0 d | \xE2\x80\x93 |"));
    /* items: linked when http(s), hostile title escaped on one line */
    assert_non_null(strstr(
        md, "- [acme/api\\#7](https://github.com/acme/api/pull/7) Fix \\| "
            "pipe \\*\\*b\\*\\* \\[x\\](y) \\<script\\>a\\</script\\> "
            "a\\\\@b.co l2 (20.5 h)\n"));
    assert_non_null(strstr(md, "- OPS-8 plain title (20.5 d)\n"));
    /* the team, escaped, and the definitions footer */
    assert_non_null(strstr(md, "## Team plat\\|form \\*x\\* "
                               "\\<script\\>alert(1)\\</script\\>\n"));
    assert_non_null(strstr(md, "### Needs attention"));
    assert_non_null(strstr(md, "## Definitions"));
    assert_non_null(strstr(md, "- **PR pickup time (review latency)** "
                               "(`pr_pickup_time`, hours): "));
    /* every '<' is escaped: no HTML can start */
    for (const char *p = strchr(md, '<'); p; p = strchr(p + 1, '<')) {
        assert_true(p > md && p[-1] == '\\');
    }
    bw_free(md);
    bw_free(again);
    bw_report_free(r);
}

static void test_markdown_subjects(void **state)
{
    struct bw_report *r = model();
    char *md;

    (void)state;
    r->main.subjects = BW_REPORT_PRS;
    md = render_md(r);
    assert_non_null(strstr(md, "\n## Pull requests"));
    assert_null(strstr(md, "\n## Tickets"));
    assert_null(strstr(md, "\n## Blocked over 3 days"));
    bw_free(md);
    bw_report_free(r);
}

/* --------------------------------------------------------------------- HTML */

static void test_html(void **state)
{
    struct bw_report *r = model();
    struct bw_buf html = BW_BUF_INIT;

    (void)state;
    assert_int_equal(bw_report_html(r, &html), 0);
    assert_null(strstr(html.data, "<script"));
    assert_null(strstr(html.data, "href=\"javascript"));
    assert_non_null(strstr(html.data, "&lt;script&gt;a&lt;/script&gt;"));
    assert_non_null(strstr(html.data, "Fix | pipe **b** [x](y)"));
    assert_non_null(strstr(html.data, "a\\@b.co l2"));
    assert_non_null(strstr(html.data,
                           "<title>bellwether weekly report 2026-W46 "
                           "(2026-11-09 to 2026-11-15)</title>"));
    assert_non_null(strstr(html.data, "<table style=\""));
    assert_non_null(strstr(html.data, "<th style=\""));
    assert_non_null(strstr(html.data, "<a style=\"color:#0969da\" href=\""
                                      "https://github.com/acme/api/pull/7\">"));
    bw_buf_release(&html);
    bw_report_free(r);
}

/* --------------------------------------------------------------------- JSON */

static const cJSON *get(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    if (v == NULL) {
        print_error("no key '%s'\n", k);
        fail();
    }
    return v;
}

static void check_scope_json(const cJSON *sc)
{
    const cJSON *inds = get(sc, "indicators");
    const cJSON *secs = get(sc, "sections");
    const cJSON *in0, *in2, *s0, *items, *it0;

    assert_int_equal(cJSON_GetArraySize(inds), 4);
    in0 = cJSON_GetArrayItem(inds, 0);
    assert_string_equal(get(in0, "metric")->valuestring, "pr_pickup_time");
    assert_string_equal(get(in0, "stat")->valuestring, "p50");
    assert_true(get(in0, "this")->valuedouble == 31.25);
    assert_true(get(in0, "last")->valuedouble == 12);
    assert_true(fabs(get(in0, "delta")->valuedouble - 160.41666666666666) <
                1e-9);
    assert_int_equal(cJSON_GetArraySize(get(in0, "trend")), 4);
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(get(in0, "trend"), 0)));
    assert_true(get(get(in0, "target"), "max")->valuedouble == 8);
    assert_true(cJSON_IsNull(get(get(in0, "target"), "min")));
    assert_string_equal(get(in0, "status")->valuestring, "off track");
    in2 = cJSON_GetArrayItem(inds, 2);
    assert_true(cJSON_IsNull(get(in2, "this")));
    assert_true(cJSON_IsNull(get(in2, "delta")));
    assert_true(cJSON_IsNull(get(in2, "status")));
    /* every section with its values and items */
    assert_int_equal(cJSON_GetArraySize(secs), BW_RS_COUNT);
    s0 = cJSON_GetArrayItem(secs, 0);
    assert_string_equal(get(s0, "title")->valuestring, "Pull requests");
    assert_true(
        cJSON_IsNull(get(cJSON_GetArrayItem(get(s0, "values"), 1), "value")));
    items = get(cJSON_GetArrayItem(secs, BW_RS_AWAITING_REVIEW), "items");
    assert_int_equal(cJSON_GetArraySize(items), 2);
    it0 = cJSON_GetArrayItem(items, 0);
    assert_string_equal(get(it0, "key")->valuestring, "acme/api#7");
    assert_string_equal(get(it0, "title")->valuestring, HOSTILE_TITLE);
    assert_true(get(it0, "value")->valuedouble == 20.5);
    assert_non_null(get(it0, "url"));
}

static void test_json(void **state)
{
    struct bw_report *r = model();
    struct bw_buf b = BW_BUF_INIT;
    struct bw_buf again = BW_BUF_INIT;
    const char *end = NULL;
    cJSON *root;
    const cJSON *teams;

    (void)state;
    assert_int_equal(bw_report_json(r, &b), 0);
    assert_int_equal(bw_report_json(r, &again), 0);
    assert_string_equal(b.data, again.data);
    root = cJSON_ParseWithLengthOpts(b.data, b.len, &end, 0);
    if (root == NULL) {
        print_error("JSON does not parse near: %.60s\n", end ? end : "");
        fail();
    }
    assert_string_equal(get(root, "week")->valuestring, "2026-W46");
    assert_string_equal(get(root, "timezone")->valuestring, "UTC");
    assert_string_equal(get(root, "generated_at")->valuestring,
                        "2026-11-16T00:00:00Z");
    assert_true(cJSON_IsNull(get(root, "team")));
    assert_int_equal(cJSON_GetArraySize(get(root, "sources")), 2);
    assert_true(cJSON_IsTrue(
        get(cJSON_GetArrayItem(get(root, "sources"), 1), "stale")));
    check_scope_json(root);
    teams = get(root, "teams");
    check_scope_json(get(teams, HOSTILE_TEAM));
    cJSON_Delete(root);
    bw_buf_release(&b);
    bw_buf_release(&again);
    bw_report_free(r);
}

static void test_json_string(void **state)
{
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    assert_int_equal(
        bw_report_json_string(&b, "a\"b\\c\n\x01\xFF\xF0\x9F\x9A\x80"), 0);
    assert_string_equal(
        b.data, "\"a\\\"b\\\\c\\n\\u0001\xEF\xBF\xBD\xF0\x9F\x9A\x80\"");
    bw_buf_reset(&b);
    assert_int_equal(bw_report_json_string(&b, NULL), 0);
    assert_string_equal(b.data, "null");
    bw_buf_release(&b);
}

/* ------------------------------------------------------------ small pieces */

static void test_names(void **state)
{
    struct bw_report *r = NULL;
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    assert_int_equal(bw_tz_set("UTC"), 0);
    assert_int_equal(bw_report_new(2025, 53, "UTC", 12, &r), BW_EPARSE);
    assert_int_equal(bw_report_new(2026, 0, "UTC", 12, &r), BW_EPARSE);
    assert_int_equal(bw_report_new(2026, 1, "UTC", 12, &r), 0);
    assert_int_equal(bw_report_basename(r, &b), 0);
    assert_string_equal(b.data, "2026-W01");
    r->main.team = bw_strdup("../we b\n.x");
    bw_buf_reset(&b);
    assert_int_equal(bw_report_basename(r, &b), 0);
    assert_string_equal(b.data, "2026-W01-_._we_b_.x");
    bw_buf_reset(&b);
    assert_int_equal(bw_report_title(r, &b), 0);
    assert_string_equal(b.data, "bellwether weekly report 2026-W01 "
                                "(2025-12-29 to 2026-01-04), team ../we b .x");
    assert_int_equal(bw_report_format_find("md"), BW_RF_MD);
    assert_int_equal(bw_report_format_find("html"), BW_RF_HTML);
    assert_int_equal(bw_report_format_find("json"), BW_RF_JSON);
    assert_int_equal(bw_report_format_find("pdf"), 0);
    assert_string_equal(bw_report_format_ext(BW_RF_JSON), "json");
    bw_buf_release(&b);
    bw_report_free(r);
}

/* The week in another zone starts at its own midnight. */
static void test_zone(void **state)
{
    struct bw_report *r = NULL;

    (void)state;
    assert_int_equal(bw_tz_set("Europe/Berlin"), 0);
    /* week 43 holds the fall-back (Sunday 2026-10-25): 169 hours; week 44
       starts Monday 2026-10-26 00:00 CET = 2026-10-25T23:00:00Z */
    assert_int_equal(bw_report_new(2026, 43, "Europe/Berlin", 12, &r), 0);
    assert_true(r->start == 1792360800);
    assert_true(r->end - r->start == 169 * 3600);
    bw_report_free(r);
    assert_int_equal(bw_report_new(2026, 44, "Europe/Berlin", 12, &r), 0);
    assert_true(r->start == 1792969200);
    assert_true(r->end - r->start == 7 * 86400);
    bw_report_free(r);
    assert_int_equal(bw_tz_set("UTC"), 0);
}

/* -------------------------------------------------------------------- files */

static char *read_all(const char *path)
{
    return bw_test_read_file(path, NULL);
}

static int count_entries(const char *dir)
{
    char cmd[512];
    FILE *p;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    p = popen(cmd, "r");
    if (p && fscanf(p, "%d", &n) != 1) {
        n = -1;
    }
    if (p) {
        pclose(p);
    }
    return n;
}

static void test_write_file(void **state)
{
    char dir[] = "/tmp/bw-test-report.XXXXXX";
    char path[256];
    char bad[300];
    char *got;
    struct stat sb;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/2026-W46.md", dir);
    assert_int_equal(bw_report_write_file(path, "first\n", 6), 0);
    got = read_all(path);
    assert_string_equal(got, "first\n");
    free(got);
    /* replaced whole */
    assert_int_equal(bw_report_write_file(path, "second\n", 7), 0);
    got = read_all(path);
    assert_string_equal(got, "second\n");
    free(got);
    assert_int_equal(stat(path, &sb), 0);
    assert_true((sb.st_mode & 0644) == 0644 || (sb.st_mode & 0600) == 0600);
    assert_int_equal(count_entries(dir), 1);
    /* a missing directory: an error, nothing created */
    snprintf(bad, sizeof(bad), "%s/nope/2026-W46.md", dir);
    assert_int_equal(bw_report_write_file(bad, "x", 1), BW_EIO);
    assert_int_equal(count_entries(dir), 1);
    unlink(path);
    rmdir(dir);
}

/* Under RLIMIT_FSIZE the write fails cleanly: the old report stays, no
 * temp file is left, and the process is not killed by SIGXFSZ. */
static void test_write_file_size_limit(void **state)
{
    char dir[] = "/tmp/bw-test-report.XXXXXX";
    char path[256];
    size_t big = 256 * 1024;
    char *data;
    char *got;
    pid_t pid;
    int status;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/2026-W46.md", dir);
    assert_int_equal(bw_report_write_file(path, "old report\n", 11), 0);
    data = malloc(big);
    assert_non_null(data);
    memset(data, 'x', big);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {64 * 1024, 64 * 1024};

        setrlimit(RLIMIT_FSIZE, &rl);
        _exit(bw_report_write_file(path, data, big) == BW_EIO ? 42 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 42);
    got = read_all(path);
    assert_string_equal(got, "old report\n");
    assert_int_equal(count_entries(dir), 1);
    free(got);
    free(data);
    unlink(path);
    rmdir(dir);
}

/* ------------------------------------------------------------------ torture */

static void test_writers_torture(void **state)
{
    struct bw_report *r = model();
    int (*writers[])(const struct bw_report *,
                     struct bw_buf *) = {bw_report_markdown, bw_report_json};

    (void)state;
    for (size_t w = 0; w < 2; w++) {
        for (long n = 1; n < 100000; n++) {
            struct bw_buf b = BW_BUF_INIT;
            int rc;

            bw_mem_fail_at(n, 0);
            rc = writers[w](r, &b);
            bw_mem_fail_at(0, 0);
            bw_buf_release(&b);
            if (rc == 0) {
                break;
            }
            assert_int_equal(rc, BW_ENOMEM);
        }
    }
    bw_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown_rules),
        cmocka_unit_test(test_markdown_subjects),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_zone),
        cmocka_unit_test(test_write_file),
        cmocka_unit_test(test_write_file_size_limit),
        cmocka_unit_test(test_writers_torture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
