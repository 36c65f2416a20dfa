/*
 * test_stats.c - percentiles, deltas, sparklines, targets and formatting
 * against METRICS.md's worked rules.
 */
#include "testutil.h"

#include <math.h>

#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/metrics.h"
#include "bellwether/stats.h"

static void test_percentile_numpy_linear(void **state)
{
    /* numpy.percentile([1,2,3,4], [50,85,75]) = 2.5, 3.55, 3.25 */
    double v[] = {4, 1, 3, 2};
    struct bw_stats s;

    (void)state;
    bw_stats_compute(v, 4, &s);
    assert_int_equal(s.count, 4);
    assert_true(fabs(s.p50 - 2.5) < 1e-12);
    assert_true(fabs(s.p85 - 3.55) < 1e-12);
    assert_true(fabs(s.p75 - 3.25) < 1e-12);
    assert_true(fabs(s.mean - 2.5) < 1e-12);
    assert_true(s.min == 1 && s.max == 4 && s.sum == 10);
}

static void test_percentile_edges(void **state)
{
    double one[] = {7};
    double nan_only[] = {NAN, NAN};
    struct bw_stats s;
    int ok;

    (void)state;
    bw_stats_compute(one, 1, &s);
    assert_true(s.p50 == 7 && s.p99 == 7);
    bw_stats_compute(NULL, 0, &s);
    assert_int_equal(s.count, 0);
    assert_true(isnan(s.p50));
    bw_stats_compute(nan_only, 2, &s);
    assert_int_equal(s.count, 0);
    assert_true(isnan(s.p50) && isnan(s.mean) && isnan(s.min));
    assert_true(bw_stats_get(&s, "sum", &ok) == 0 && ok);
    assert_true(bw_stats_get(&s, "count", &ok) == 0 && ok);
    bw_stats_get(&s, "p42", &ok);
    assert_false(ok);
    assert_true(bw_stat_known("p95"));
    assert_false(bw_stat_known("median"));
}

static void test_delta(void **state)
{
    (void)state;
    assert_true(fabs(bw_delta(12, 10, 0) - 20) < 1e-12);
    assert_true(fabs(bw_delta(8, 10, 0) + 20) < 1e-12);
    assert_true(isnan(bw_delta(5, 0, 0)));
    assert_true(isnan(bw_delta(NAN, 3, 0)));
    assert_true(isnan(bw_delta(3, NAN, 0)));
    /* ratios: percentage points; no data when last is 0 (METRICS.md) */
    assert_true(fabs(bw_delta(0.25, 0.20, 1) - 5) < 1e-9);
    assert_true(isnan(bw_delta(0.25, 0, 1)));
}

static void test_sparkline(void **state)
{
    double v[] = {0, 7, NAN, 3.5};
    double flat[] = {2, 2, NAN};
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    assert_int_equal(bw_sparkline(&b, v, 4), 0);
    assert_string_equal(b.data, "\xE2\x96\x81\xE2\x96\x88 \xE2\x96\x84");
    bw_buf_reset(&b);
    assert_int_equal(bw_sparkline(&b, flat, 3), 0);
    assert_string_equal(b.data, "\xE2\x96\x84\xE2\x96\x84 ");
    bw_buf_release(&b);
}

static void test_target_status(void **state)
{
    struct bw_target_bound max8 = {1, 0, 8, 0, 0.1};
    struct bw_target_bound min10 = {0, 1, 0, 10, 0.1};

    (void)state;
    assert_int_equal(bw_target_status(&max8, 9, BW_TS_NONE), BW_TS_OFF_TRACK);
    assert_int_equal(bw_target_status(&max8, 8, BW_TS_NONE), BW_TS_AT_RISK);
    assert_int_equal(bw_target_status(&max8, 7.5, BW_TS_NONE), BW_TS_AT_RISK);
    assert_int_equal(bw_target_status(&max8, 7.2, BW_TS_NONE), BW_TS_ON_TRACK);
    assert_int_equal(bw_target_status(&max8, 5, BW_TS_NONE), BW_TS_ON_TRACK);
    /* inside right after an off-track week: at risk */
    assert_int_equal(bw_target_status(&max8, 5, BW_TS_OFF_TRACK),
                     BW_TS_AT_RISK);
    assert_int_equal(bw_target_status(&max8, NAN, BW_TS_OFF_TRACK), BW_TS_NONE);
    assert_int_equal(bw_target_status(&min10, 9.99, BW_TS_NONE),
                     BW_TS_OFF_TRACK);
    assert_int_equal(bw_target_status(&min10, 10.5, BW_TS_NONE), BW_TS_AT_RISK);
    assert_int_equal(bw_target_status(&min10, 11.5, BW_TS_NONE),
                     BW_TS_ON_TRACK);
    assert_string_equal(bw_target_status_name(BW_TS_AT_RISK), "at risk");
}

static void test_format(void **state)
{
    static const struct {
        double v;
        int unit;
        const char *want;
    } cases[] = {
        {31.25, BW_MU_HOURS, "31.2"}, {31.26, BW_MU_HOURS, "31.3"},
        {2.0, BW_MU_DAYS, "2.0"},     {12, BW_MU_COUNT, "12"},
        {0.126, BW_MU_RATIO, "13%"},  {NAN, BW_MU_HOURS, "\xE2\x80\x93"},
        {512, BW_MU_LINES, "512"},
    };
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bw_buf_reset(&b);
        assert_int_equal(bw_format_value(&b, cases[i].v, cases[i].unit), 0);
        assert_string_equal(b.data, cases[i].want);
    }
    bw_buf_reset(&b);
    bw_format_delta(&b, 12.4, 0);
    assert_string_equal(b.data, "+12%");
    bw_buf_reset(&b);
    bw_format_delta(&b, -0.4, 0);
    assert_string_equal(b.data, "+0%");
    bw_buf_reset(&b);
    bw_format_delta(&b, -5, 1);
    assert_string_equal(b.data, "-5 pp");
    bw_buf_reset(&b);
    bw_format_delta(&b, NAN, 1);
    assert_string_equal(b.data, "\xE2\x80\x93");
    bw_buf_release(&b);
}

static void test_sparkline_torture(void **state)
{
    double v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    int clean = 0;

    (void)state;
    /* every allocation fails in turn: BW_ENOMEM each time, never a silent
       success, until a run needs no more than n - 1 allocations */
    for (long n = 1; n < 64 && !clean; n++) {
        struct bw_buf b = BW_BUF_INIT;
        int rc;

        bw_mem_fail_at(n, 1);
        rc = bw_sparkline(&b, v, 12);
        if (!bw_mem_failed()) {
            clean = 1;
            assert_int_equal(rc, 0);
            assert_int_equal(b.len, 36);
        } else {
            assert_int_equal(rc, BW_ENOMEM);
        }
        bw_mem_fail_at(0, 0);
        bw_buf_release(&b);
    }
    assert_true(clean);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_numpy_linear),
        cmocka_unit_test(test_percentile_edges),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_sparkline),
        cmocka_unit_test(test_target_status),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_sparkline_torture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
