/*
 * test_torture.c - allocation failures in the writers and formatters that
 * append to a struct bw_buf, the ones the module tests do not torture:
 * the report's escaper, links, JSON strings, UTF-8 and HTML
 * (reports/markdown.c, json.c, html.c), the query output and the metrics
 * list (src/query_out.c), value and delta formatting (src/stats.c), the
 * mail's Subject, Date and CRLF bodies (src/mail.c) and URL encoding
 * (src/http.c). One shared driver, so the cases stay a table.
 *
 * Each case runs with the Nth allocation failing, n = 1, 2, ... until a
 * run sees no injected failure, three ways: only the Nth fails; every
 * allocation from the Nth on fails; only the Nth fails while appending to
 * a buffer that already holds text. A run with a failure must return
 * BW_ENOMEM (0 would be an error swallowed: a truncated report sent as
 * whole), never crash, keep what the buffer held before, and leak nothing
 * (ASan's leak checker: `make asan`, then build-asan/test_torture). The run
 * without a failure must give the expected bytes, the same as an untortured
 * call. The inputs are small (under 4 KB) but long enough for the buffer
 * to grow a few times, so failures land in the middle of the output too.
 */
#include "testutil.h"

#include <cJSON.h>
#include <math.h>

#include "bellwether/buf.h"
#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/http.h"
#include "bellwether/mail.h"
#include "bellwether/mem.h"
#include "bellwether/metrics.h"
#include "bellwether/query.h"
#include "bellwether/report.h"
#include "bellwether/stats.h"

#define MAX_ALLOCS 10000 /* a bound far above any case's allocations */
/* 63 bytes: fills the first 64-byte block, so the next byte grows it */
#define PREFIX "text already in the buffer, 63 bytes: the next append grows it."

#define W45 INT64_C(1793577600) /* 2026-11-02, Monday, UTC */
#define W46 INT64_C(1794182400)
#define W47 INT64_C(1794787200)
#define DAY INT64_C(86400)

#define EN_DASH "\xE2\x80\x93"
#define ELLIPSIS "\xE2\x80\xA6"
#define FFFD "\xEF\xBF\xBD"

/* A call under test: append to b from arg, return 0 or a BW_E* status. */
typedef int (*writer_fn)(struct bw_buf *b, const void *arg);

struct tcase {
    const char *name;
    writer_fn fn;
    const void *arg;
    const char *want;               /* the exact output; NULL: check() */
    void (*check)(const char *out); /* more checks of the output; or NULL */
};

/* s repeated k times, for inputs and outputs long enough to grow a buffer
 * a few times (allocated before any failure is injected). */
static char *rep(const char *s, int k)
{
    struct bw_buf b = BW_BUF_INIT;

    for (int i = 0; i < k; i++) {
        assert_int_equal(bw_buf_adds(&b, s), 0);
    }
    return bw_buf_detach(&b);
}

/* One pass: n = 1.. until a run has no injected failure. */
static void torture_pass(const struct tcase *c, const struct bw_buf *ref,
                         int fail_all, int prefix)
{
    size_t plen = prefix ? strlen(PREFIX) : 0;
    int done = 0;

    for (long n = 1; n <= MAX_ALLOCS && !done; n++) {
        struct bw_buf b = BW_BUF_INIT;
        int rc, failed;

        if (prefix) {
            assert_int_equal(bw_buf_adds(&b, PREFIX), 0);
        }
        bw_mem_fail_at(n, fail_all);
        rc = c->fn(&b, c->arg);
        failed = bw_mem_failed();
        bw_mem_fail_at(0, 0);
        if (!failed) {
            if (rc != 0 || b.len != plen + ref->len ||
                memcmp(b.data + plen, ref->data, ref->len) != 0) {
                fail_msg("%s: no failure injected (n %ld), rc %d, %zu bytes "
                         "instead of %zu",
                         c->name, n, rc, b.len - plen, ref->len);
            }
            done = 1;
        } else if (rc != BW_ENOMEM) {
            fail_msg("%s: allocation %ld failed (%s%s), rc %d instead of "
                     "BW_ENOMEM",
                     c->name, n, fail_all ? "and all after it" : "alone",
                     prefix ? ", appending" : "", rc);
        }
        if (prefix && (b.len < plen || memcmp(b.data, PREFIX, plen) != 0)) {
            fail_msg("%s: allocation %ld failed: the buffer lost its text",
                     c->name, n);
        }
        bw_buf_release(&b);
    }
    if (!done) {
        fail_msg("%s: still failing after %d allocations", c->name, MAX_ALLOCS);
    }
}

static void torture(const struct tcase *c)
{
    struct bw_buf ref = BW_BUF_INIT;
    int rc;

    bw_mem_fail_at(0, 0);
    rc = c->fn(&ref, c->arg);
    if (bw_mem_count() == 0) {
        fail_msg("%s: no allocation to fail", c->name);
    }
    if (rc != 0) {
        fail_msg("%s: rc %d without a failure", c->name, rc);
    }
    if (ref.data == NULL) {
        fail_msg("%s: no output", c->name);
    }
    if (c->want && strcmp(ref.data, c->want) != 0) {
        fail_msg("%s: got\n%s\nwant\n%s", c->name, ref.data, c->want);
    }
    if (c->check) {
        c->check(ref.data);
    }
    torture_pass(c, &ref, 0, 0);
    torture_pass(c, &ref, 1, 0);
    torture_pass(c, &ref, 0, 1);
    bw_buf_release(&ref);
}

static void torture_all(const struct tcase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        torture(&cases[i]);
    }
}

/* ------------------------------------------------------------------ reports */

struct cut_arg {
    const char *s;
    size_t max;
};

static int call_md_escape_cut(struct bw_buf *b, const void *arg)
{
    const struct cut_arg *a = arg;

    return bw_md_escape_cut(b, a->s, a->max);
}

struct link_arg {
    const char *text_md, *url;
};

static int call_md_link(struct bw_buf *b, const void *arg)
{
    const struct link_arg *a = arg;

    return bw_md_link(b, a->text_md, a->url);
}

static int call_report_json_string(struct bw_buf *b, const void *arg)
{
    return bw_report_json_string(b, arg);
}

/* Code points 'A', U+00E9, U+20AC, U+1F680, U+FFFD, 30 times: every
 * length of UTF-8. */
static int call_utf8_put(struct bw_buf *b, const void *arg)
{
    static const uint32_t cps[] = {0x41, 0xE9, 0x20AC, 0x1F680, 0xFFFD};
    int rc = 0;

    (void)arg;
    for (int k = 0; rc == 0 && k < 30; k++) {
        for (size_t i = 0; rc == 0 && i < sizeof(cps) / sizeof(cps[0]); i++) {
            rc = bw_utf8_put(b, cps[i]);
        }
    }
    return rc;
}

/*
 * cmark-gfm allocates with its own allocator (calloc, abort on OOM; html.c
 * says so), which the hook does not reach: the HTML cases torture only our
 * side, the output buffer and (bw_report_html) the Markdown and the title
 * it renders first.
 */
#define HTML_MD                                                                \
    "# Week\n\n| metric | value |\n|---|---|\n| pickup \\| p50 | 3.0 h |\n\n"  \
    "*x* `c` <script>alert(1)</script> [l](javascript:alert(1)) "              \
    "[ok](https://x.test/a)\n\n> quoted\n"

static int call_markdown_to_html(struct bw_buf *b, const void *arg)
{
    (void)arg;
    return bw_markdown_to_html(HTML_MD, strlen(HTML_MD), "a & <b> \"c\"", b);
}

static void check_markdown_html(const char *html)
{
    assert_non_null(strstr(html, "<title>a &amp; &lt;b&gt; &quot;c&quot;"
                                 "</title>"));
    assert_non_null(strstr(html, "<table style=\""));
    assert_non_null(strstr(html, "<td style=\""));
    assert_non_null(strstr(html, "pickup | p50"));
    assert_non_null(strstr(html, "<a style=\"color:#0969da\" "
                                 "href=\"https://x.test/a\">ok</a>"));
    assert_non_null(strstr(html, "<blockquote style=\""));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "href=\"javascript"));
    assert_non_null(strstr(html, "</html>\n"));
}

static int call_report_html(struct bw_buf *b, const void *arg)
{
    return bw_report_html(arg, b);
}

static void check_report_html(const char *html)
{
    assert_non_null(strstr(html, "<title>bellwether weekly report 2026-W46 "
                                 "(2026-11-09 to 2026-11-15)</title>"));
    assert_non_null(strstr(html, "&lt;script&gt;x&lt;/script&gt;"));
    assert_non_null(strstr(html, "href=\"https://github.com/acme/api/pull/"
                                 "42\""));
    assert_null(strstr(html, "<script"));
}

/* A small model: one source, one indicator, one listed PR. */
static struct bw_report *small_report(void)
{
    static const double trend[] = {NAN, 10, 12, 31.25};
    struct bw_report *r = NULL;
    struct bw_report_indicator *in;
    struct bw_report_section *s;

    assert_int_equal(bw_report_new(2026, 46, "UTC", 4, &r), 0);
    r->generated_at = W47;
    r->nsources = 1;
    r->sources = bw_calloc(1, sizeof(*r->sources));
    r->sources[0].name = bw_strdup("gh");
    r->sources[0].type = bw_strdup("github");
    r->sources[0].last_success = W47 - 600;
    r->sources[0].last_run = W47 - 600;
    r->main.nindicators = 1;
    r->main.indicators = bw_calloc(1, sizeof(*r->main.indicators));
    in = &r->main.indicators[0];
    in->metric = bw_metric_find("pr_pickup_time");
    in->stat = BW_QS_P50;
    in->trend = bw_calloc(4, sizeof(double));
    memcpy(in->trend, trend, sizeof(trend));
    in->ntrend = 4;
    in->this_week = 31.25;
    in->last_week = 12;
    in->delta = bw_delta(31.25, 12, 0);
    in->has_target = 1;
    in->bound.has_max = 1;
    in->bound.max = 8;
    in->bound.margin = 0.1;
    in->status = BW_TS_OFF_TRACK;
    s = &r->main.sections[BW_RS_AWAITING_REVIEW];
    s->item_metric = bw_metric_find("pr_open_awaiting_review");
    s->item_unit = BW_MU_HOURS;
    s->items = bw_calloc(1, sizeof(*s->items));
    s->nitems = 1;
    s->items_total = 1;
    s->items[0].key = bw_strdup("acme/api#42");
    s->items[0].url = bw_strdup("https://github.com/acme/api/pull/42");
    s->items[0].title = bw_strdup("Fix | pipe <script>x</script>");
    s->items[0].value = 50.5;
    assert_non_null(s->items[0].title);
    return r;
}

static void test_reports(void **state)
{
    /* 15 code points, every kind of escape */
    static const char unit_in[] = "a|*b*_<c>&\t\xC3\xA9\xF0\x9F\x9A\x80\xFF~";
    static const char unit_md[] = "a\\|\\*b\\*\\_\\<c\\>\\& "
                                  "\xC3\xA9\xF0\x9F\x9A\x80" FFFD "\\~";
    static const char json_in[] =
        "q\"b\\n\nr\rt\tc\x01\x7f\xC3\xA9\xF0\x9F\x9A\x80\xFF\xE0\x80";
    static const char json_out[] = "q\\\"b\\\\n\\nr\\rt\\tc\\u0001\\u007f"
                                   "\xC3\xA9\xF0\x9F\x9A\x80" FFFD FFFD FFFD;
    char *in20 = rep(unit_in, 20);
    char *md20 = rep(unit_md, 20);
    char *md3 = rep(unit_md, 3);
    char *json_in20 = rep(json_in, 20);
    char *json_out20 = rep(json_out, 20);
    char *url_in = rep("a b|(", 40);
    char *url_out = rep("a%20b%7C%28", 40);
    char *utf8 = rep("A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x9A\x80" FFFD, 30);
    struct bw_buf cut_want = BW_BUF_INIT;
    struct bw_buf json_want = BW_BUF_INIT;
    struct bw_buf link_url = BW_BUF_INIT;
    struct bw_buf link_want = BW_BUF_INIT;
    struct cut_arg whole = {NULL, 1000}, cut = {NULL, 3 * 15 + 2};
    struct link_arg link = {"PR \\#42 \\*x\\*", NULL};
    struct link_arg odd = {"PR \\#42",
                           "https://x.test/a b|c(d)[e]<f>\"g\"\xC3\xA9"
                           "?q=1&r=2#h"};
    struct link_arg not_http = {"PR \\#42", "javascript:alert(1)"};
    struct bw_report *r;

    (void)state;
    assert_int_equal(bw_tz_set("UTC"), 0);
    r = small_report();
    whole.s = in20;
    cut.s = in20;
    assert_int_equal(bw_buf_adds(&cut_want, md3), 0);
    assert_int_equal(bw_buf_adds(&cut_want, "a\\|" ELLIPSIS), 0);
    assert_int_equal(bw_buf_printf(&json_want, "\"%s\"", json_out20), 0);
    assert_int_equal(bw_buf_printf(&link_url, "https://x.test/%s", url_in), 0);
    assert_int_equal(bw_buf_printf(&link_want, "[%s](https://x.test/%s)",
                                   link.text_md, url_out),
                     0);
    link.url = link_url.data;
    {
        const struct tcase cases[] = {
            {"bw_md_escape_cut whole", call_md_escape_cut, &whole, md20, NULL},
            {"bw_md_escape_cut cut", call_md_escape_cut, &cut, cut_want.data,
             NULL},
            {"bw_md_link long", call_md_link, &link, link_want.data, NULL},
            {"bw_md_link odd bytes", call_md_link, &odd,
             "[PR \\#42](https://x.test/a%20b%7Cc%28d%29%5Be%5D%3Cf%3E%22g%22"
             "%C3%A9?q=1&r=2#h)",
             NULL},
            {"bw_md_link not http", call_md_link, &not_http, "PR \\#42", NULL},
            {"bw_report_json_string", call_report_json_string, json_in20,
             json_want.data, NULL},
            {"bw_report_json_string NULL", call_report_json_string, NULL,
             "null", NULL},
            {"bw_utf8_put", call_utf8_put, NULL, utf8, NULL},
            {"bw_markdown_to_html", call_markdown_to_html, NULL, NULL,
             check_markdown_html},
            {"bw_report_html", call_report_html, r, NULL, check_report_html},
        };

        torture_all(cases, sizeof(cases) / sizeof(cases[0]));
    }
    bw_report_free(r);
    bw_buf_release(&cut_want);
    bw_buf_release(&json_want);
    bw_buf_release(&link_url);
    bw_buf_release(&link_want);
    bw_free(in20);
    bw_free(md20);
    bw_free(md3);
    bw_free(json_in20);
    bw_free(json_out20);
    bw_free(url_in);
    bw_free(url_out);
    bw_free(utf8);
}

/* ------------------------------------------------------------ query output */

/* Rows by author of a ticket metric (a label, no author, no data), and
 * items by repo of a PR metric (CSV quoting in names and titles). */
static char s_ana[] = "5b10ac8d82e05b22cc7d4ef5";
static char s_ana_label[] = "Ana \"Q\" Lima, PhD";
static char s_bob[] = "bob";
static char s_api[] = "acme/api";
static char s_web[] = "acme/web,x";
static char s_tag_api[] = "gh:acme/api";
static char s_tag_web[] = "gh:acme/web,x";
static char s_key42[] = "acme/api#42";
static char s_key7[] = "acme/web,x#7";
static char s_alice[] = "alice";
static char s_url42[] = "https://github.com/acme/api/pull/42";
static char s_title42[] = "Fix \"quotes\", commas\nand lines";

struct qw_arg {
    const struct bw_query_result *r;
    int fmt, items;
};

static int call_query_write(struct bw_buf *b, const void *arg)
{
    const struct qw_arg *a = arg;
    const struct bw_query_stats s = {{BW_QS_COUNT, BW_QS_P50, BW_QS_P85}, 3};

    return bw_query_write(b, a->r, &s, a->fmt, a->items);
}

static void fill_results(struct bw_query_row *rows, struct bw_query_row *irows,
                         struct bw_query_item *items,
                         struct bw_query_result *byrow,
                         struct bw_query_result *byitem)
{
    memset(rows, 0, 3 * sizeof(*rows));
    rows[0].name = s_ana;
    rows[0].label = s_ana_label;
    rows[0].stats.count = 3;
    rows[0].stats.p50 = 2.04;
    rows[0].stats.p85 = 6.5;
    rows[1].name = s_bob;
    rows[1].stats.count = 1;
    rows[1].stats.p50 = 0.5;
    rows[1].stats.p85 = 0.5;
    rows[2].stats.p50 = NAN;
    rows[2].stats.p85 = NAN;
    memset(byrow, 0, sizeof(*byrow));
    byrow->metric = bw_metric_find("ticket_cycle_time");
    byrow->by = BW_BY_AUTHOR;
    byrow->from = W45;
    byrow->to = W47;
    byrow->rows = rows;
    byrow->nrows = 3;

    memset(irows, 0, 2 * sizeof(*irows));
    irows[0].name = s_api;
    irows[1].name = s_web;
    items[0] = (struct bw_query_item){.tag = s_tag_api,
                                      .key = s_key42,
                                      .number = 42,
                                      .author = s_alice,
                                      .value = 31.25,
                                      .at = W45 + DAY,
                                      .row = 0,
                                      .url = s_url42,
                                      .title = s_title42};
    items[1] = (struct bw_query_item){.tag = s_tag_web,
                                      .key = s_key7,
                                      .number = 7,
                                      .value = 2,
                                      .at = W46 + DAY,
                                      .row = 1};
    memset(byitem, 0, sizeof(*byitem));
    byitem->metric = bw_metric_find("pr_cycle_time");
    byitem->by = BW_BY_REPO;
    byitem->from = W45;
    byitem->to = W47;
    byitem->rows = irows;
    byitem->nrows = 2;
    byitem->items = items;
    byitem->nitems = 2;
}

static int call_csv_field(struct bw_buf *b, const void *arg)
{
    return bw_csv_field(b, arg);
}

static int call_json_string(struct bw_buf *b, const void *arg)
{
    return bw_json_string(b, arg);
}

static int call_metrics_write(struct bw_buf *b, const void *arg)
{
    return bw_metrics_write(b, *(const int *)arg);
}

static void check_metrics_table(const char *out)
{
    for (const struct bw_metric *m = bw_metrics; m->name; m++) {
        assert_non_null(strstr(out, m->name));
    }
}

static void check_metrics_json(const char *out)
{
    cJSON *j = cJSON_Parse(out);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "metrics");
    size_t n = 0;

    for (const struct bw_metric *m = bw_metrics; m->name; m++) {
        n++;
    }
    assert_true(cJSON_IsArray(a));
    assert_int_equal((size_t)cJSON_GetArraySize(a), n);
    cJSON_Delete(j);
}

static void test_query_output(void **state)
{
    static const int table = BW_QF_TABLE, json = BW_QF_JSON;
    char *csv_in = rep("say \"hi\", ok\r\n", 30);
    char *csv_plain = rep("plain text; no quotes needed.", 20);
    char *js_in = rep("a\"b\\c\n\r\t\x01\x7f\xC3\xA9/", 30);
    char *js_out = rep("a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f\xC3\xA9/", 30);
    struct bw_buf csv_want = BW_BUF_INIT;
    struct bw_buf js_want = BW_BUF_INIT;
    struct bw_query_row rows[3], irows[2];
    struct bw_query_item items[2];
    struct bw_query_result byrow, byitem;
    struct qw_arg qa[6];
    char *quoted;

    (void)state;
    assert_int_equal(bw_tz_set("UTC"), 0);
    fill_results(rows, irows, items, &byrow, &byitem);
    for (int f = 0; f < 3; f++) {
        qa[f] = (struct qw_arg){&byrow, f, 0};
        qa[3 + f] = (struct qw_arg){&byitem, f, 1};
    }
    quoted = rep("say \"\"hi\"\", ok\r\n", 30);
    assert_int_equal(bw_buf_printf(&csv_want, "\"%s\"", quoted), 0);
    bw_free(quoted);
    assert_int_equal(bw_buf_printf(&js_want, "\"%s\"", js_out), 0);
    {
        const struct tcase cases[] = {
            {"bw_query_write rows table", call_query_write, &qa[0],
             "author             count  p50  p85\n"
             "Ana \"Q\" Lima, PhD      3  2.0  6.5\n"
             "bob                    1  0.5  0.5\n"
             "(unassigned)           0    " EN_DASH "    " EN_DASH "\n",
             NULL},
            {"bw_query_write rows csv", call_query_write, &qa[1],
             "author,name,count,p50,p85\r\n"
             "5b10ac8d82e05b22cc7d4ef5,\"Ana \"\"Q\"\" Lima, PhD\",3,2.04,6.5"
             "\r\n"
             "bob,,1,0.5,0.5\r\n"
             ",,0,,\r\n",
             NULL},
            {"bw_query_write rows json", call_query_write, &qa[2],
             "{\"metric\":\"ticket_cycle_time\",\"unit\":\"days\","
             "\"by\":\"author\",\"from\":\"2026-11-02\","
             "\"to\":\"2026-11-15\",\"rows\":["
             "{\"author\":\"5b10ac8d82e05b22cc7d4ef5\","
             "\"name\":\"Ana \\\"Q\\\" Lima, PhD\","
             "\"count\":3,\"p50\":2.04,\"p85\":6.5},"
             "{\"author\":\"bob\",\"count\":1,\"p50\":0.5,\"p85\":0.5},"
             "{\"author\":null,\"count\":0,\"p50\":null,\"p85\":null}]}\n",
             NULL},
            {"bw_query_write items table", call_query_write, &qa[3],
             "repo        key           value  week      author  url\n"
             "acme/api    acme/api#42   31.25  2026-W45  alice   "
             "https://github.com/acme/api/pull/42\n"
             "acme/web,x  acme/web,x#7      2  2026-W46  -       -\n",
             NULL},
            {"bw_query_write items csv", call_query_write, &qa[4],
             "repo,key,url,value,week,author,name,title\r\n"
             "acme/api,acme/api#42,https://github.com/acme/api/pull/42,"
             "31.25,2026-W45,alice,,\"Fix \"\"quotes\"\", commas\nand lines\""
             "\r\n"
             "\"acme/web,x\",\"acme/web,x#7\",,2,2026-W46,,,\r\n",
             NULL},
            {"bw_query_write items json", call_query_write, &qa[5],
             "{\"metric\":\"pr_cycle_time\",\"unit\":\"hours\","
             "\"by\":\"repo\",\"from\":\"2026-11-02\",\"to\":\"2026-11-15\","
             "\"items\":["
             "{\"key\":\"acme/api#42\","
             "\"url\":\"https://github.com/acme/api/pull/42\","
             "\"value\":31.25,\"week\":\"2026-W45\",\"repo\":\"acme/api\","
             "\"author\":\"alice\","
             "\"title\":\"Fix \\\"quotes\\\", commas\\nand lines\"},"
             "{\"key\":\"acme/web,x#7\",\"url\":null,\"value\":2,"
             "\"week\":\"2026-W46\",\"repo\":\"acme/web,x\","
             "\"author\":null}]}\n",
             NULL},
            {"bw_csv_field quoted", call_csv_field, csv_in, csv_want.data,
             NULL},
            {"bw_csv_field plain", call_csv_field, csv_plain, csv_plain, NULL},
            {"bw_json_string", call_json_string, js_in, js_want.data, NULL},
            {"bw_json_string NULL", call_json_string, NULL, "null", NULL},
            {"bw_metrics_write table", call_metrics_write, &table, NULL,
             check_metrics_table},
            {"bw_metrics_write json", call_metrics_write, &json, NULL,
             check_metrics_json},
        };

        torture_all(cases, sizeof(cases) / sizeof(cases[0]));
    }
    bw_buf_release(&csv_want);
    bw_buf_release(&js_want);
    bw_free(csv_in);
    bw_free(csv_plain);
    bw_free(js_in);
    bw_free(js_out);
}

/* -------------------------------------------------------------------- stats */

/* Each value of the list, one blank after each, 20 times. */
static int call_format_values(struct bw_buf *b, const void *arg)
{
    static const struct {
        double v;
        int unit;
    } vals[] = {{31.25, BW_MU_HOURS}, {2.0, BW_MU_DAYS},  {12, BW_MU_COUNT},
                {0.126, BW_MU_RATIO}, {NAN, BW_MU_HOURS}, {512, BW_MU_LINES}};
    int rc = 0;

    (void)arg;
    for (int k = 0; rc == 0 && k < 20; k++) {
        for (size_t i = 0; rc == 0 && i < sizeof(vals) / sizeof(vals[0]); i++) {
            rc = bw_format_value(b, vals[i].v, vals[i].unit);
            if (rc == 0) {
                rc = bw_buf_addch(b, ' ');
            }
        }
    }
    return rc;
}

static int call_format_value(struct bw_buf *b, const void *arg)
{
    (void)arg;
    return bw_format_value(b, 0.126, BW_MU_RATIO);
}

static int call_format_deltas(struct bw_buf *b, const void *arg)
{
    static const struct {
        double d;
        int ratio;
    } vals[] = {{12.4, 0}, {-0.4, 0}, {-5, 1}, {NAN, 1}, {250, 0}};
    int rc = 0;

    (void)arg;
    for (int k = 0; rc == 0 && k < 20; k++) {
        for (size_t i = 0; rc == 0 && i < sizeof(vals) / sizeof(vals[0]); i++) {
            rc = bw_format_delta(b, vals[i].d, vals[i].ratio);
            if (rc == 0) {
                rc = bw_buf_addch(b, ' ');
            }
        }
    }
    return rc;
}

static int call_format_delta(struct bw_buf *b, const void *arg)
{
    (void)arg;
    return bw_format_delta(b, -5, 1);
}

static void test_stats_format(void **state)
{
    char *values = rep("31.2 2.0 12 13% " EN_DASH " 512 ", 20);
    char *deltas = rep("+12% +0% -5 pp " EN_DASH " +250% ", 20);

    (void)state;
    {
        const struct tcase cases[] = {
            {"bw_format_value", call_format_value, NULL, "13%", NULL},
            {"bw_format_value list", call_format_values, NULL, values, NULL},
            {"bw_format_delta", call_format_delta, NULL, "-5 pp", NULL},
            {"bw_format_delta list", call_format_deltas, NULL, deltas, NULL},
        };

        torture_all(cases, sizeof(cases) / sizeof(cases[0]));
    }
    bw_free(values);
    bw_free(deltas);
}

/* --------------------------------------------------------------------- mail */

static int call_mail_subject(struct bw_buf *b, const void *arg)
{
    return bw_mail_subject(b, arg);
}

struct crlf_arg {
    const char *s;
    size_t len;
};

static int call_mail_crlf(struct bw_buf *b, const void *arg)
{
    const struct crlf_arg *a = arg;

    return bw_mail_crlf(b, a->s, a->len);
}

static int call_mail_date(struct bw_buf *b, const void *arg)
{
    return bw_mail_date(b, *(const int64_t *)arg);
}

static void test_mail(void **state)
{
    static const int64_t monday = W47;
    /* 250 euro signs: cut at 200 code points, 600 bytes, 13 words of 15
       and one of 5 ("4oKs" is one euro sign in base64) */
    char *euros = rep("\xE2\x82\xAC", 250);
    char *word15 = rep("4oKs", 15);
    char *word5 = rep("4oKs", 5);
    char *crlf_in = rep("a\nb\r\nc\rd", 50);
    char *crlf_out = rep("a\r\nb\r\nc\r\nd", 50);
    struct bw_buf words = BW_BUF_INIT;
    struct crlf_arg crlf = {crlf_in, strlen(crlf_in)};

    (void)state;
    for (int i = 0; i < 13; i++) {
        assert_int_equal(
            bw_buf_printf(&words, "%s=?UTF-8?B?%s?=", i ? " " : "", word15), 0);
    }
    assert_int_equal(bw_buf_printf(&words, " =?UTF-8?B?%s?=", word5), 0);
    {
        const struct tcase cases[] = {
            {"bw_mail_subject ascii", call_mail_subject,
             "bellwether weekly report 2026-W46 (2026-11-09 to 2026-11-15), "
             "team x\r\nBcc: y@z",
             "bellwether weekly report 2026-W46 (2026-11-09 to 2026-11-15), "
             "team x  Bcc: y@z",
             NULL},
            {"bw_mail_subject utf-8", call_mail_subject, "team caf\xC3\xA9",
             "=?UTF-8?B?dGVhbSBjYWbDqQ==?=", NULL},
            {"bw_mail_subject long", call_mail_subject, euros, words.data,
             NULL},
            {"bw_mail_subject NULL", call_mail_subject, NULL, "", NULL},
            {"bw_mail_crlf", call_mail_crlf, &crlf, crlf_out, NULL},
            {"bw_mail_date", call_mail_date, &monday,
             "Mon, 16 Nov 2026 00:00:00 +0000", NULL},
        };

        torture_all(cases, sizeof(cases) / sizeof(cases[0]));
    }
    bw_buf_release(&words);
    bw_free(euros);
    bw_free(word15);
    bw_free(word5);
    bw_free(crlf_in);
    bw_free(crlf_out);
}

/* --------------------------------------------------------------------- http */

static int call_urlencode(struct bw_buf *b, const void *arg)
{
    return bw_http_urlencode(b, arg);
}

static void test_http_urlencode(void **state)
{
    char *in = rep("a b&c=d/\xC3\xA9~_.-Z9", 40);
    char *out = rep("a%20b%26c%3Dd%2F%C3%A9~_.-Z9", 40);

    (void)state;
    {
        const struct tcase cases[] = {
            {"bw_http_urlencode", call_urlencode, in, out, NULL},
            /* "" is still a string: one allocation, which may fail */
            {"bw_http_urlencode empty", call_urlencode, "", "", NULL},
        };

        torture_all(cases, sizeof(cases) / sizeof(cases[0]));
    }
    bw_free(in);
    bw_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_query_output),
        cmocka_unit_test(test_stats_format),
        cmocka_unit_test(test_mail),
        cmocka_unit_test(test_http_urlencode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
