/*
 * test_progress.c - the operator's lines (progress.h): the progress line's
 * content and width limit, durations, items known from a `last` link, the
 * summary line's exact format (issue 10's example), the final status line
 * per exit code, the figures copied for P run:{SRC}, and that nothing is
 * drawn when stderr is not a terminal. Pure functions, no servers.
 */
#include "testutil.h"

#include <fcntl.h>
#include <unistd.h>

#include "bellwether/buf.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/progress.h"
#include "bellwether/store.h"

static void view_init(struct bw_progress_view *v)
{
    memset(v, 0, sizeof(*v));
    v->source = "gh";
    v->noun = "PRs";
    v->scopes = "repos";
    v->cs.items_known = -1;
    v->quota_limit = v->quota_remaining = -1;
    v->quota_reset = -1;
    v->now = 1794787200;
}

static void test_duration(void **state)
{
    static const struct {
        double s;
        const char *want;
    } cases[] = {{0, "0s"},        {-3, "0s"},      {44.6, "45s"},
                 {59.4, "59s"},    {60, "1m00s"},   {725, "12m05s"},
                 {3599, "59m59s"}, {3600, "1h00m"}, {12000, "3h20m"},
                 {90061, "25h01m"}};
    char buf[32];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(bw_progress_duration(cases[i].s, buf, sizeof(buf)),
                            cases[i].want);
    }
}

static void test_known_from_last(void **state)
{
    (void)state;
    assert_int_equal(bw_progress_known_from_last(
                         "https://api.github.com/repositories/1/pulls?state="
                         "all&per_page=100&page=12",
                         100),
                     1200);
    assert_int_equal(bw_progress_known_from_last(
                         "http://h/repos/a/b/pulls?page=3&per_page=100", 100),
                     300);
    /* per_page is not page */
    assert_int_equal(
        bw_progress_known_from_last("http://h/x?per_page=100", 100), -1);
    assert_int_equal(bw_progress_known_from_last("http://h/x?page=", 100), -1);
    assert_int_equal(bw_progress_known_from_last("http://h/x?page=0", 100), -1);
    assert_int_equal(bw_progress_known_from_last("http://h/x?page=2x", 100),
                     -1);
    assert_int_equal(bw_progress_known_from_last(NULL, 100), -1);
    assert_int_equal(bw_progress_known_from_last("http://h/x", 100), -1);
}

static void test_format_basic(void **state)
{
    struct bw_progress_view v;
    char out[BW_PROGRESS_LINE_MAX];

    (void)state;
    view_init(&v);
    v.cs.items_seen = 340;
    v.requests = 512;
    v.not_modified = 120;
    v.rate = 23.44;
    v.quota_limit = 5000;
    v.quota_remaining = 4200;
    v.quota_reset = v.now + 1385;
    bw_progress_format(&v, 0, out, sizeof(out));
    assert_string_equal(out, "gh: 340 PRs, 512 requests (120 not modified), "
                             "23.4/s, quota 4200/5000 (resets in 23m05s)");
}

static void test_format_known_eta_scopes(void **state)
{
    struct bw_progress_view v;
    char out[BW_PROGRESS_LINE_MAX];

    (void)state;
    view_init(&v);
    v.source = "jira";
    v.noun = "tickets";
    v.scopes = "projects";
    v.cs.items_seen = 250;
    v.cs.items_known = 1000;
    v.cs.items_new = 240;
    v.cs.items_changed = 10;
    v.cs.scopes_done = 1;
    v.cs.scopes_total = 3;
    v.elapsed = 10;
    v.requests = 3;
    v.rate = 0.3;
    bw_progress_format(&v, 0, out, sizeof(out));
    /* 250 in 10 s: 750 more take 30 s */
    assert_string_equal(out, "jira: 250/1000 tickets (240 new, 10 changed), "
                             "ETA 30s, 1/3 projects, 3 requests, 0.3/s");
    /* no ETA this early, nor when done */
    v.elapsed = 1.5;
    bw_progress_format(&v, 0, out, sizeof(out));
    assert_null(strstr(out, "ETA"));
    v.elapsed = 10;
    v.cs.items_seen = 1000;
    bw_progress_format(&v, 0, out, sizeof(out));
    assert_null(strstr(out, "ETA"));
    /* known only where the API says: -1 and 0 show no total */
    v.cs.items_known = 0;
    bw_progress_format(&v, 0, out, sizeof(out));
    assert_non_null(strstr(out, "jira: 1000 tickets"));
}

static void test_format_wait(void **state)
{
    struct bw_progress_view v;
    char out[BW_PROGRESS_LINE_MAX];

    (void)state;
    view_init(&v);
    v.wait_until = v.now + 245;
    v.wait_quota = 1;
    v.quota_limit = 5000;
    v.quota_remaining = 0;
    v.quota_reset = v.now + 244;
    bw_progress_format(&v, 0, out, sizeof(out));
    assert_string_equal(out, "gh: waiting 4m05s for the quota reset, 0 PRs, "
                             "0 requests, 0.0/s, quota 0/5000 (resets in "
                             "4m04s)");
    v.cs.items_seen = 1;
    v.requests = 1;
    bw_progress_format(&v, 0, out, sizeof(out));
    assert_non_null(strstr(out, " 1 PR, 1 request, "));
    v.wait_quota = 0;
    v.wait_until = v.now + 3;
    bw_progress_format(&v, 0, out, sizeof(out));
    assert_non_null(strstr(out, "waiting 3s for the rate limit"));
    /* a wait that is over says nothing */
    v.wait_until = v.now;
    bw_progress_format(&v, 0, out, sizeof(out));
    assert_null(strstr(out, "waiting"));
}

static void test_format_width(void **state)
{
    struct bw_progress_view v;
    char out[BW_PROGRESS_LINE_MAX];
    char small[16];
    size_t n;

    (void)state;
    view_init(&v);
    v.source = "s\xc3\xa9lection"; /* "sélection": é is 2 bytes */
    v.requests = 12345;
    n = bw_progress_format(&v, 40, out, sizeof(out));
    assert_int_equal(n, 40);
    assert_int_equal(strlen(out), 40);
    /* cut inside the é: the whole sequence goes */
    n = bw_progress_format(&v, 2, out, sizeof(out));
    assert_int_equal(n, 1);
    assert_string_equal(out, "s");
    /* a small buffer is cut, terminated */
    n = bw_progress_format(&v, 0, small, sizeof(small));
    assert_int_equal(n, sizeof(small) - 1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_summary_example(void **state)
{
    struct bw_run_summary s;
    struct bw_collect_stats cs;
    struct bw_http_stats hs;
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    memset(&cs, 0, sizeof(cs));
    memset(&hs, 0, sizeof(hs));
    cs.items_seen = 1234;
    cs.items_new = 56;
    cs.items_changed = 78;
    cs.items_known = -1;
    hs.requests = 1890;
    hs.not_modified = 1700;
    hs.quota_limit = 5000;
    hs.quota_remaining = 3100;
    hs.quota_reset = 1794790000;
    bw_summary_from(&s, "gh", "github", 0, &cs, &hs, 12.34, 500);
    assert_int_equal(bw_summary_line(&b, &s), 0);
    assert_string_equal(b.data, "gh: 1234 PRs (56 new, 78 changed) in 12.3 s, "
                                "1890 requests (1700 not modified), quota "
                                "3100/5000 left");
    bw_buf_release(&b);

    /* tickets for jira; no quota headers: no quota */
    hs.quota_limit = hs.quota_remaining = -1;
    bw_summary_from(&s, "jira", "jira", 0, &cs, &hs, 0.04, 500);
    assert_int_equal(bw_summary_line(&b, &s), 0);
    assert_string_equal(b.data, "jira: 1234 tickets (56 new, 78 changed) in "
                                "0.0 s, 1890 requests (1700 not modified)");
    bw_buf_release(&b);
}

static void test_summary_variants(void **state)
{
    struct bw_run_summary s;
    struct bw_collect_stats cs;
    struct bw_http_stats hs;
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    memset(&cs, 0, sizeof(cs));
    memset(&hs, 0, sizeof(hs));
    hs.quota_limit = -1;
    hs.quota_remaining = 498;
    cs.quota_stop = 1;
    bw_summary_from(&s, "gh", "github", 0, &cs, &hs, 1.0, 500);
    bw_summary_line(&b, &s);
    assert_string_equal(b.data, "gh: 0 PRs (0 new, 0 changed) in 1.0 s, 0 "
                                "requests (0 not modified), quota 498 left; "
                                "stopped at min_quota_left (500)");
    bw_buf_release(&b);

    bw_summary_from(&s, "gh", "github", BW_EAUTH, &cs, NULL, 0.2, 500);
    bw_summary_line(&b, &s);
    assert_string_equal(b.data, "gh: 0 PRs (0 new, 0 changed) in 0.2 s, 0 "
                                "requests (0 not modified); failed: "
                                "credentials refused");
    bw_buf_release(&b);

    bw_summary_from(&s, "x", "plugin", BW_EINTR, NULL, NULL, 0.2, 0);
    bw_summary_line(&b, &s);
    assert_string_equal(b.data, "x: 0 items (0 new, 0 changed) in 0.2 s, 0 "
                                "requests (0 not modified); interrupted: "
                                "interrupted by a signal");
    bw_buf_release(&b);

    /* one of each: singular */
    cs.items_seen = 1;
    cs.quota_stop = 0;
    memset(&hs, 0, sizeof(hs));
    hs.requests = 1;
    hs.quota_limit = hs.quota_remaining = -1;
    bw_summary_from(&s, "jira", "jira", 0, &cs, &hs, 0.3, 500);
    bw_summary_line(&b, &s);
    assert_string_equal(b.data, "jira: 1 ticket (0 new, 0 changed) in 0.3 s, "
                                "1 request (0 not modified)");
    bw_buf_release(&b);

    s.skipped = 1;
    s.holder = "build-1 pid 42";
    bw_summary_line(&b, &s);
    assert_string_equal(b.data,
                        "jira: skipped, being collected by build-1 pid 42");
    bw_buf_release(&b);
}

static void test_final_line(void **state)
{
    static const struct {
        int rc;
        size_t n, failed;
        const char *start;
        const char *end;
    } cases[] = {
        {0, 1, 0, "collect: ok, 1 source (exit 0)", "(exit 0)"},
        {0, 2, 0, "collect: ok, 2 sources (exit 0)", "(exit 0)"},
        {BW_EPARTIAL, 2, 1, "collect: partial, 1 of 2 sources failed",
         "(exit 3)"},
        {BW_EAUTH, 1, 1, "collect: failed, credentials refused", "(exit 2)"},
        {BW_ECONFIG, 1, 1, "collect: failed, configuration error", "(exit 2)"},
        {BW_EREDIS, 1, 1, "collect: failed, Redis error", "(exit 1)"},
        {BW_EINTR, 2, 1, "collect: interrupted by a signal", "(exit 1)"},
    };
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t el = strlen(cases[i].end);

        assert_int_equal(
            bw_summary_final_line(&b, cases[i].rc, cases[i].n, cases[i].failed),
            0);
        assert_true(strncmp(b.data, cases[i].start, strlen(cases[i].start)) ==
                    0);
        assert_true(b.len >= el &&
                    strcmp(b.data + b.len - el, cases[i].end) == 0);
        bw_buf_release(&b);
    }
}

static void test_fill_run(void **state)
{
    struct bw_run_summary s;
    struct bw_collect_stats cs;
    struct bw_http_stats hs;
    struct bw_store_run run;

    (void)state;
    memset(&cs, 0, sizeof(cs));
    memset(&hs, 0, sizeof(hs));
    memset(&run, 0, sizeof(run));
    cs.items_seen = 10;
    cs.items_new = 3;
    cs.items_changed = 2;
    hs.requests = 22;
    hs.not_modified = 4;
    hs.quota_limit = 5000;
    hs.quota_remaining = 4978;
    hs.quota_reset = 1794790000;
    bw_summary_from(&s, "gh", "github", 0, &cs, &hs, 1.5, 500);
    bw_summary_fill_run(&run, &s, &hs, "the line");
    assert_int_equal(run.items_seen, 10);
    assert_int_equal(run.items_new, 3);
    assert_int_equal(run.items_changed, 2);
    assert_int_equal(run.requests, 22);
    assert_int_equal(run.not_modified, 4);
    assert_int_equal(run.quota_left, 4978);
    assert_int_equal(run.quota_limit, 5000);
    assert_true(run.quota_reset == 1794790000);
    assert_string_equal(run.summary, "the line");
}

/* stderr is a file here: setup says no, and nothing is ever written. */
static void test_no_tty_no_output(void **state)
{
    char path[] = "/tmp/bw-test-progress.XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    struct bw_collect_stats cs;
    off_t size;

    (void)state;
    assert_true(fd >= 0 && saved >= 0);
    memset(&cs, 0, sizeof(cs));
    cs.items_seen = 5;
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    assert_int_equal(bw_progress_setup(0), 0);
    bw_progress_begin("gh", "github");
    bw_progress_update(&cs, NULL, 1);
    bw_progress_end();
    assert_int_equal(bw_progress_setup(1), 0);
    bw_progress_begin("gh", "github");
    bw_progress_update(&cs, NULL, 1);
    bw_progress_end();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    assert_int_equal(size, 0);
}

/* Allocation failures in the summary formatters: an error, never a crash
 * or a leak. */
static void test_summary_torture(void **state)
{
    struct bw_run_summary s;
    struct bw_collect_stats cs;

    (void)state;
    memset(&cs, 0, sizeof(cs));
    cs.items_seen = 1234;
    bw_summary_from(&s, "gh", "github", BW_EAUTH, &cs, NULL, 1, 500);
    for (long n = 1; n < 20; n++) {
        struct bw_buf b = BW_BUF_INIT;
        int rc;

        bw_mem_fail_at(n, 1);
        rc = bw_summary_line(&b, &s);
        if (rc == 0) {
            rc = bw_summary_final_line(&b, BW_EPARTIAL, 2, 1);
        }
        bw_mem_fail_at(0, 0);
        assert_true(rc == 0 || rc == BW_ENOMEM);
        bw_buf_release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_known_from_last),
        cmocka_unit_test(test_format_basic),
        cmocka_unit_test(test_format_known_eta_scopes),
        cmocka_unit_test(test_format_wait),
        cmocka_unit_test(test_format_width),
        cmocka_unit_test(test_summary_example),
        cmocka_unit_test(test_summary_variants),
        cmocka_unit_test(test_final_line),
        cmocka_unit_test(test_fill_run),
        cmocka_unit_test(test_no_tty_no_output),
        cmocka_unit_test(test_summary_torture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
