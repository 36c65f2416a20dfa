/*
 * test_metrics.c - the metric catalogue against METRICS.md: every metric
 * the contract defines is in bw_metrics[] with its kind, subject and unit,
 * and nothing else is; names, units and kinds print as documented; target
 * bounds parse in the metric's unit (bw_metric_parse_bound).
 *
 * The expected table below is METRICS.md written down; when ../shared is
 * there, the metric tables of METRICS.md itself are read too, so a metric
 * added to the contract without a row here (or in metrics.c) fails.
 */
#include "testutil.h"

#include <math.h>

#include "bellwether/error.h"
#include "bellwether/metrics.h"

struct expected_metric {
    const char *name;
    int kind;
    int subject;
    int unit;
};

static const struct expected_metric expected[] = {
    {"pr_coding_time", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS},
    {"pr_pickup_time", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS},
    {"pr_review_time", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS},
    {"pr_cycle_time", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS},
    {"pr_time_to_first_response", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS},
    {"pr_size", BW_MK_DISTRIBUTION, BW_MS_PR, BW_MU_LINES},
    {"pr_merged", BW_MK_COUNT, BW_MS_PR, BW_MU_COUNT},
    {"pr_opened", BW_MK_COUNT, BW_MS_PR, BW_MU_COUNT},
    {"pr_unreviewed_merge_rate", BW_MK_RATE, BW_MS_PR, BW_MU_RATIO},
    {"pr_large_rate", BW_MK_RATE, BW_MS_PR, BW_MU_RATIO},
    {"pr_open_awaiting_review", BW_MK_POINT, BW_MS_PR, BW_MU_COUNT},
    {"pr_stale", BW_MK_POINT, BW_MS_PR, BW_MU_COUNT},
    {"review_count_by_reviewer", BW_MK_COUNT, BW_MS_PR, BW_MU_COUNT},
    {"review_load_top_share", BW_MK_RATE, BW_MS_PR, BW_MU_RATIO},
    {"ticket_cycle_time", BW_MK_DURATION, BW_MS_TICKET, BW_MU_DAYS},
    {"ticket_lead_time", BW_MK_DURATION, BW_MS_TICKET, BW_MU_DAYS},
    {"ticket_throughput", BW_MK_COUNT, BW_MS_TICKET, BW_MU_COUNT},
    {"ticket_wip", BW_MK_POINT, BW_MS_TICKET, BW_MU_COUNT},
    {"ticket_age_in_progress", BW_MK_DURATION, BW_MS_TICKET, BW_MU_DAYS},
    {"ticket_blocked_over_3d", BW_MK_POINT, BW_MS_TICKET, BW_MU_COUNT},
    {"ticket_blocked_share", BW_MK_DISTRIBUTION, BW_MS_TICKET, BW_MU_RATIO},
    {"bug_cycle_time", BW_MK_DURATION, BW_MS_TICKET, BW_MU_DAYS},
    {"ticket_reopen_rate", BW_MK_RATE, BW_MS_TICKET, BW_MU_RATIO},
    {"ticket_net_flow", BW_MK_COUNT, BW_MS_TICKET, BW_MU_COUNT},
};

#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static size_t table_size(void)
{
    size_t n = 0;

    while (bw_metrics[n].name) {
        n++;
    }
    return n;
}

static void test_table_matches_contract(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < NEXPECTED; i++) {
        const struct bw_metric *m = bw_metric_find(expected[i].name);

        if (m == NULL) {
            print_error("metric '%s' is missing\n", expected[i].name);
        }
        assert_non_null(m);
        assert_string_equal(m->name, expected[i].name);
        if (m->kind != expected[i].kind || m->unit != expected[i].unit ||
            m->subject != expected[i].subject) {
            print_error("metric '%s': kind %d unit %d subject %d\n", m->name,
                        m->kind, m->unit, m->subject);
        }
        assert_int_equal(m->kind, expected[i].kind);
        assert_int_equal(m->subject, expected[i].subject);
        assert_int_equal(m->unit, expected[i].unit);
    }
    /* and nothing beyond the contract */
    assert_int_equal(table_size(), NEXPECTED);
}

static void test_rows_well_formed(void **state)
{
    const struct bw_metric *m;
    const struct bw_metric *o;

    (void)state;
    for (m = bw_metrics; m->name; m++) {
        size_t len = strlen(m->definition);

        assert_true(strlen(m->name) > 0);
        assert_non_null(m->title);
        assert_true(strlen(m->title) > 0);
        assert_non_null(m->definition);
        assert_true(len > 0);
        /* lower case, no full stop: it is printed inside sentences */
        assert_int_not_equal(m->definition[len - 1], '.');
        assert_null(strchr(m->definition, '\n'));
        for (o = m + 1; o->name; o++) {
            assert_string_not_equal(m->name, o->name);
        }
    }
}

static void test_find(void **state)
{
    const struct bw_metric *m;

    (void)state;
    assert_null(bw_metric_find("no_such_metric"));
    assert_null(bw_metric_find(""));
    assert_null(bw_metric_find("PR_CYCLE_TIME"));
    assert_null(bw_metric_find("pr_cycle_time "));
    m = bw_metric_find("pr_cycle_time");
    /* a row of the table, not a copy */
    assert_true(m >= bw_metrics && m < bw_metrics + table_size());
}

static void test_names_of_units_and_kinds(void **state)
{
    (void)state;
    assert_string_equal(bw_metric_unit_name(BW_MU_HOURS), "hours");
    assert_string_equal(bw_metric_unit_name(BW_MU_DAYS), "days");
    assert_string_equal(bw_metric_unit_name(BW_MU_LINES), "lines");
    assert_string_equal(bw_metric_unit_name(BW_MU_COUNT), "count");
    assert_string_equal(bw_metric_unit_name(BW_MU_RATIO), "ratio");
    assert_string_equal(bw_metric_unit_name(0), "");
    assert_string_equal(bw_metric_unit_name(99), "");
    assert_string_equal(bw_metric_kind_name(BW_MK_DURATION), "duration");
    assert_string_equal(bw_metric_kind_name(BW_MK_DISTRIBUTION),
                        "distribution");
    assert_string_equal(bw_metric_kind_name(BW_MK_COUNT), "count");
    assert_string_equal(bw_metric_kind_name(BW_MK_RATE), "rate");
    assert_string_equal(bw_metric_kind_name(BW_MK_POINT), "point-in-time");
    assert_string_equal(bw_metric_kind_name(0), "");
    assert_string_equal(bw_metric_kind_name(-1), "");
}

static void test_has_stats(void **state)
{
    const struct bw_metric *m;

    (void)state;
    for (m = bw_metrics; m->name; m++) {
        int want = m->kind == BW_MK_DURATION || m->kind == BW_MK_DISTRIBUTION;

        assert_int_equal(!!bw_metric_has_stats(m), want);
    }
    assert_true(bw_metric_has_stats(bw_metric_find("pr_size")));
    assert_true(bw_metric_has_stats(bw_metric_find("ticket_blocked_share")));
    assert_false(bw_metric_has_stats(bw_metric_find("pr_merged")));
    assert_false(bw_metric_has_stats(bw_metric_find("ticket_wip")));
}

/* ---- target bounds ------------------------------------------------------ */

struct bound_case {
    const char *metric;
    const char *text;
    int rc;
    double value;
};

static const struct bound_case bound_cases[] = {
    /* durations in hours: suffixes convert, a bare number is hours */
    {"pr_pickup_time", "8h", 0, 8.0},
    {"pr_pickup_time", "90m", 0, 1.5},
    {"pr_pickup_time", "3d", 0, 72.0},
    {"pr_pickup_time", "2.5", 0, 2.5},
    {"pr_pickup_time", "0", 0, 0.0},
    {"pr_pickup_time", "", BW_EPARSE, 0},
    {"pr_pickup_time", "abc", BW_EPARSE, 0},
    {"pr_pickup_time", "8x", BW_EPARSE, 0},
    {"pr_pickup_time", "-1", BW_EPARSE, 0},
    {"pr_pickup_time", "nan", BW_EPARSE, 0},
    {"pr_pickup_time", "inf", BW_EPARSE, 0},
    {"pr_pickup_time", "h", BW_EPARSE, 0},
    /* durations in days */
    {"ticket_cycle_time", "3d", 0, 3.0},
    {"ticket_cycle_time", "12h", 0, 0.5},
    {"ticket_cycle_time", "1.5", 0, 1.5},
    {"ticket_cycle_time", "2w", 0, 14.0},
    /* ratios */
    {"pr_large_rate", "10%", 0, 0.1},
    {"pr_large_rate", "0.1", 0, 0.1},
    {"pr_large_rate", "0", 0, 0.0},
    {"pr_large_rate", "abc", BW_EPARSE, 0},
    {"ticket_blocked_share", "25%", 0, 0.25},
    /* counts */
    {"pr_merged", "5", 0, 5.0},
    {"pr_merged", "0", 0, 0.0},
    {"pr_merged", "x", BW_EPARSE, 0},
    {"pr_merged", "-1", BW_EPARSE, 0},
    {"pr_merged", "", BW_EPARSE, 0},
    {"ticket_wip", "12", 0, 12.0},
    /* lines */
    {"pr_size", "400", 0, 400.0},
};

static void test_parse_bound(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bound_cases) / sizeof(bound_cases[0]); i++) {
        const struct bound_case *c = &bound_cases[i];
        const struct bw_metric *m = bw_metric_find(c->metric);
        double v = -12345.0;
        int rc;

        assert_non_null(m);
        rc = bw_metric_parse_bound(m, c->text, &v);
        if (rc != c->rc || (rc == 0 && fabs(v - c->value) > 1e-9)) {
            print_error("%s '%s': rc %d value %g, want rc %d value %g\n",
                        c->metric, c->text, rc, v, c->rc, c->value);
        }
        assert_int_equal(rc, c->rc);
        if (rc == 0) {
            assert_true(fabs(v - c->value) <= 1e-9);
        }
    }
}

static void test_parse_bound_null(void **state)
{
    double v = 0;

    (void)state;
    assert_int_equal(
        bw_metric_parse_bound(bw_metric_find("pr_merged"), NULL, &v),
        BW_EPARSE);
}

/* ---- METRICS.md itself -------------------------------------------------- */

/* The names in the first column of every table whose header starts with
 * "| metric". */
static void test_metrics_md(void **state)
{
    const char *shared = bw_test_shared_dir();
    char path[4096];
    char *text;
    char *line;
    char *next;
    int in_table = 0;
    size_t found = 0;

    (void)state;
    if (shared == NULL) {
        print_message("../shared/METRICS.md not found (set BW_SHARED_DIR); "
                      "checked against the built-in list only\n");
        skip();
    }
    snprintf(path, sizeof(path), "%s/METRICS.md", shared);
    text = bw_test_read_file(path, NULL);
    if (text == NULL) {
        print_message("cannot read '%s'\n", path);
        skip();
    }
    for (line = text; line && *line; line = next) {
        char name[64];
        size_t n = 0;
        const char *p;

        next = strchr(line, '\n');
        if (next) {
            *next++ = '\0';
        }
        if (strncmp(line, "| metric", 8) == 0) {
            in_table = 1;
            continue;
        }
        if (line[0] != '|') {
            in_table = 0;
            continue;
        }
        if (!in_table || strncmp(line, "|---", 4) == 0) {
            continue;
        }
        p = line + 1;
        while (*p == ' ') {
            p++;
        }
        while (n + 1 < sizeof(name) &&
               ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                *p == '_')) {
            name[n++] = *p++;
        }
        name[n] = '\0';
        if (n == 0) {
            continue;
        }
        if (bw_metric_find(name) == NULL) {
            print_error("METRICS.md defines '%s', bw_metrics[] lacks it\n",
                        name);
        }
        assert_non_null(bw_metric_find(name));
        found++;
    }
    free(text);
    /* every row of the table is in METRICS.md (one row per metric) */
    if (found != table_size()) {
        print_error("METRICS.md has %zu metric rows, bw_metrics[] %zu\n", found,
                    table_size());
    }
    assert_int_equal(found, table_size());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_contract),
        cmocka_unit_test(test_rows_well_formed),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_names_of_units_and_kinds),
        cmocka_unit_test(test_has_stats),
        cmocka_unit_test(test_parse_bound),
        cmocka_unit_test(test_parse_bound_null),
        cmocka_unit_test(test_metrics_md),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
