/*
 * test_clock.c - BELLWETHER_NOW, zone switching, the timestamp parsers and
 * the local calendar (days, ISO weeks, months) across daylight-saving
 * changes in UTC, Europe/Berlin, America/New_York, and the oddities of
 * America/Sao_Paulo (midnight in a gap) and Australia/Lord_Howe (30-minute
 * changes). Expected instants were computed with Python's zoneinfo.
 */
#include "testutil.h"

#include <time.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Switch to zone, or skip the test when tzdata lacks it. */
static int use_zone(const char *zone)
{
    if (!bw_tz_valid(zone)) {
        print_message("skipped: time zone '%s' not installed (tzdata)\n", zone);
        return 0;
    }
    assert_int_equal(bw_tz_set(zone), 0);
    return 1;
}

#define USE_ZONE(z)                                                            \
    do {                                                                       \
        if (!use_zone(z)) {                                                    \
            skip();                                                            \
        }                                                                      \
    } while (0)

/* ==== BELLWETHER_NOW ===================================================== */

static void test_now_fixed(void **state)
{
    (void)state;
    setenv("BELLWETHER_NOW", "1763251200", 1);
    assert_int_equal(bw_clock_init(), 0);
    assert_int_equal(bw_now(), 1763251200);
    assert_int_equal(bw_now(), 1763251200);
    setenv("BELLWETHER_NOW", "0", 1);
    assert_int_equal(bw_clock_init(), 0);
    assert_int_equal(bw_now(), 0);
    setenv("BELLWETHER_NOW", "253402300799", 1);
    assert_int_equal(bw_clock_init(), 0);
    assert_int_equal(bw_now(), INT64_C(253402300799));
    unsetenv("BELLWETHER_NOW");
    assert_int_equal(bw_clock_init(), 0);
}

static void test_now_bad(void **state)
{
    static const char *const bad[] = {
        "abc",         "12x", "-5",           " 1763251200",
        "1763251200 ", "1.5", "253402300800", "99999999999999999999999",
        "0x10",        "+1"};
    size_t i;
    int64_t real;

    (void)state;
    for (i = 0; i < NELEM(bad); i++) {
        setenv("BELLWETHER_NOW", bad[i], 1);
        assert_int_equal(bw_clock_init(), BW_EUSAGE);
        /* after the error the real clock is used */
        real = (int64_t)time(NULL);
        assert_true(bw_now() >= real - 2 && bw_now() <= real + 2);
    }
    setenv("BELLWETHER_NOW", "", 1);
    assert_int_equal(bw_clock_init(), 0);
    real = (int64_t)time(NULL);
    assert_true(bw_now() >= real - 2 && bw_now() <= real + 2);
    unsetenv("BELLWETHER_NOW");
    assert_int_equal(bw_clock_init(), 0);
    real = (int64_t)time(NULL);
    assert_true(bw_now() >= real - 2 && bw_now() <= real + 2);
}

static void test_real_clocks(void **state)
{
    int64_t a, b, real;

    (void)state;
    setenv("BELLWETHER_NOW", "1000", 1);
    assert_int_equal(bw_clock_init(), 0);
    real = (int64_t)time(NULL);
    /* rate-limit waits use the real clock whatever BELLWETHER_NOW says */
    assert_true(bw_real_now() >= real - 2 && bw_real_now() <= real + 2);
    a = bw_monotonic_ms();
    b = bw_monotonic_ms();
    assert_true(b >= a);
    unsetenv("BELLWETHER_NOW");
    assert_int_equal(bw_clock_init(), 0);
}

/* ==== zones ============================================================== */

static void test_tz_valid(void **state)
{
    static const char *const bad[] = {"",
                                      "Nope/Zone",
                                      "../etc/passwd",
                                      "Europe/../UTC",
                                      "/usr/share/zoneinfo/UTC",
                                      ":Europe/Berlin",
                                      "Europe",
                                      "zone.tab",
                                      "Europe/Berlin ",
                                      "Europe/Berlin\n",
                                      "Europe//Berlin/",
                                      "CET;rm",
                                      "tzdata.zi",
                                      "leapseconds"};
    size_t i;

    (void)state;
    assert_true(bw_tz_valid("UTC"));
    assert_false(bw_tz_valid(NULL));
    for (i = 0; i < NELEM(bad); i++) {
        if (bw_tz_valid(bad[i])) {
            fail_msg("zone '%s' should be refused", bad[i]);
        }
    }
    if (!bw_tz_valid("Europe/Berlin")) {
        print_message("skipped: tzdata not installed\n");
        skip();
    }
    assert_true(bw_tz_valid("America/New_York"));
    assert_true(bw_tz_valid("Etc/GMT+5"));
    assert_int_equal(bw_tz_set("Europe/Berlin"), 0);
    assert_string_equal(bw_tz_current(), "Europe/Berlin");
    /* a refused zone leaves the current one in place */
    assert_int_equal(bw_tz_set("Mars/Olympus_Mons"), BW_ECONFIG);
    assert_string_equal(bw_tz_current(), "Europe/Berlin");
    assert_int_equal(bw_tz_set("UTC"), 0);
    assert_string_equal(bw_tz_current(), "UTC");
}

/* ==== ISO 8601 =========================================================== */

static void test_parse_iso8601(void **state)
{
    static const struct {
        const char *s;
        int64_t want;
    } ok[] = {
        {"2021-10-31T15:20:04Z", INT64_C(1635693604)},
        {"2012-05-27T00:33:23-07:00", INT64_C(1338104003)},
        {"2016-03-03T11:57:01.000+0000", INT64_C(1457006221)},
        {"2016-03-03T11:57:01.999+0800", INT64_C(1456977421)},
        {"2016-03-03T11:57:01+08", INT64_C(1456977421)},
        {"2026-11-16T10:00Z", INT64_C(1794823200)},
        {"2026-11-03t09:12:44z", INT64_C(1793697164)},
        {"2026-11-03 09:12:44Z", INT64_C(1793697164)},
        {"2026-11-03T09:12:44,5+01:00", INT64_C(1793693564)},
        {"2026-11-03T09:12:44.123456789-00:30", INT64_C(1793698964)},
        {"2026-11-03T09:12:44-0030", INT64_C(1793698964)},
        {"2024-02-29T00:00:00Z", INT64_C(1709164800)},
        {"2016-12-31T23:59:60Z", INT64_C(1483228800)},
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1},
        {"1970-01-01T00:00:00+01:00", -3600},
        {"9999-12-31T23:59:59Z", INT64_C(253402300799)},
        {"0001-01-01T00:00:00Z", INT64_C(-62135596800)},
    };
    static const char *const bad[] = {"",
                                      "2026-11-03",
                                      "2026-11-03T09:12:44",
                                      "2026-11-03T09:12",
                                      "2026-13-01T00:00:00Z",
                                      "2026-00-01T00:00:00Z",
                                      "2026-02-29T00:00:00Z",
                                      "2100-02-29T00:00:00Z",
                                      "2026-04-31T00:00:00Z",
                                      "2026-11-00T00:00:00Z",
                                      "2026-11-03T24:00:00Z",
                                      "2026-11-03T09:60:00Z",
                                      "2026-11-03T09:12:61Z",
                                      "2026-11-03T09:12:44.Z",
                                      "2026-11-03T09:12:44.",
                                      "2026-11-03T09:12:44+1",
                                      "2026-11-03T09:12:44+01:0",
                                      "2026-11-03T09:12:44+0160",
                                      "2026-11-03T09:12:44+24:00",
                                      "2026-11-03T09:12:44+01:00:00",
                                      "2026-11-03T09:12:44Zjunk",
                                      "26-11-03T09:12:44Z",
                                      "2026-11-03T09:12:44 Z",
                                      "2026/11/03T09:12:44Z",
                                      "+2026-11-03T09:12:44Z",
                                      "2026-11-03T9:12:44Z",
                                      "2026-11-03X09:12:44Z",
                                      "2026-11-03T09:12:4Z",
                                      "Z",
                                      "2026-11-03T09:12:44ZZ",
                                      "2026-11-03T09:12:44+",
                                      "-"};
    size_t i;
    int64_t t;

    (void)state;
    for (i = 0; i < NELEM(ok); i++) {
        t = 12345;
        if (bw_parse_iso8601(ok[i].s, strlen(ok[i].s), &t) != 0) {
            fail_msg("'%s' was refused", ok[i].s);
        }
        if (t != ok[i].want) {
            fail_msg("'%s' gave %lld, want %lld", ok[i].s, (long long)t,
                     (long long)ok[i].want);
        }
    }
    for (i = 0; i < NELEM(bad); i++) {
        t = 12345;
        if (bw_parse_iso8601(bad[i], strlen(bad[i]), &t) != BW_EPARSE) {
            fail_msg("'%s' was accepted", bad[i]);
        }
        assert_int_equal(t, 12345);
    }
    /* the length bounds the input: no NUL needed, nothing read past it */
    assert_int_equal(bw_parse_iso8601("2026-11-03T09:12:44Zxx", 20, &t), 0);
    assert_int_equal(t, INT64_C(1793697164));
    assert_int_equal(bw_parse_iso8601("2026-11-03T09:12:44Z", 19, &t),
                     BW_EPARSE);
    assert_int_equal(bw_parse_iso8601("2026-11-03T09:12:44.5Z", 21, &t),
                     BW_EPARSE);
    assert_int_equal(bw_parse_iso8601(NULL, 0, &t), BW_EPARSE);
}

static void test_format_iso8601(void **state)
{
    static const struct {
        int64_t t;
        const char *want;
    } rows[] = {
        {0, "1970-01-01T00:00:00Z"},
        {-1, "1969-12-31T23:59:59Z"},
        {INT64_C(1635693604), "2021-10-31T15:20:04Z"},
        {INT64_C(1709164800), "2024-02-29T00:00:00Z"},
        {INT64_C(253402300799), "9999-12-31T23:59:59Z"},
        {INT64_C(-62135596800), "0001-01-01T00:00:00Z"},
    };
    char buf[BW_TIME_BUFSZ];
    size_t i;
    int64_t t, back;

    (void)state;
    for (i = 0; i < NELEM(rows); i++) {
        assert_string_equal(bw_format_iso8601_utc(rows[i].t, buf),
                            rows[i].want);
    }
    /* round trip over four centuries, a prime stride apart */
    for (t = INT64_C(-2208988800); t < INT64_C(10413792000);
         t += INT64_C(9999991)) {
        bw_format_iso8601_utc(t, buf);
        assert_int_equal(bw_parse_iso8601(buf, strlen(buf), &back), 0);
        assert_int_equal(back, t);
    }
    /* extreme values format without overflowing the buffer */
    bw_format_iso8601_utc(INT64_MAX, buf);
    assert_true(strlen(buf) < BW_TIME_BUFSZ);
    bw_format_iso8601_utc(INT64_MIN, buf);
    assert_true(strlen(buf) < BW_TIME_BUFSZ);
}

/* ==== dates and weeks ==================================================== */

static void test_parse_date(void **state)
{
    static const struct {
        const char *s;
        int64_t want;
    } ok[] = {
        {"1970-01-01", 0},
        {"2024-02-29", INT64_C(1709164800)},
        {"2000-02-29", INT64_C(951782400)},
        {"2026-11-09", INT64_C(1794182400)},
    };
    static const char *const bad[] = {"2026-02-29",
                                      "2100-02-29",
                                      "2026-04-31",
                                      "2026-00-10",
                                      "2026-13-10",
                                      "2026-11-00",
                                      "2026-11-32",
                                      "2026-1-01",
                                      "2026-01-1",
                                      "2026-01-01x",
                                      "2026-01-01 ",
                                      " 2026-01-01",
                                      "",
                                      "20260101",
                                      "2026-W46",
                                      "2026/01/01",
                                      "2026-01-01T00:00:00Z"};
    size_t i;
    int64_t t;

    (void)state;
    assert_int_equal(bw_tz_set("UTC"), 0);
    for (i = 0; i < NELEM(ok); i++) {
        assert_int_equal(bw_parse_date(ok[i].s, &t), 0);
        assert_int_equal(t, ok[i].want);
    }
    for (i = 0; i < NELEM(bad); i++) {
        if (bw_parse_date(bad[i], &t) != BW_EPARSE) {
            fail_msg("'%s' was accepted", bad[i]);
        }
    }
    assert_int_equal(bw_parse_date(NULL, &t), BW_EPARSE);
    USE_ZONE("Europe/Berlin");
    /* local midnight, in winter and in summer time */
    assert_int_equal(bw_parse_date("2026-03-29", &t), 0);
    assert_int_equal(t, INT64_C(1774738800));
    assert_int_equal(bw_parse_date("2026-10-25", &t), 0);
    assert_int_equal(t, INT64_C(1792879200));
}

static void test_parse_week(void **state)
{
    static const struct {
        const char *s;
        int year, week;
    } ok[] = {
        {"2026-W46", 2026, 46}, {"2026-W53", 2026, 53}, {"2020-W53", 2020, 53},
        {"2027-W01", 2027, 1},  {"2026-w01", 2026, 1},  {"2015-W53", 2015, 53},
    };
    static const char *const bad[] = {
        "2027-W53",  "2025-W53", "2026-W54",  "2026-W00", "2026-W1",
        "2026-W001", "2026W46",  "2026-46",   "2026-X46", "",
        "2026-W46 ", "26-W46",   "2026-11-09"};
    size_t i;
    int y, w;

    (void)state;
    for (i = 0; i < NELEM(ok); i++) {
        assert_int_equal(bw_parse_week(ok[i].s, &y, &w), 0);
        assert_int_equal(y, ok[i].year);
        assert_int_equal(w, ok[i].week);
    }
    for (i = 0; i < NELEM(bad); i++) {
        if (bw_parse_week(bad[i], &y, &w) != BW_EPARSE) {
            fail_msg("'%s' was accepted", bad[i]);
        }
    }
    assert_int_equal(bw_parse_week(NULL, &y, &w), BW_EPARSE);
}

static void test_weeks_in_year(void **state)
{
    static const int long_years[] = {2015, 2020, 2026, 2032, 2037, 2043};
    size_t i;
    int y, n53 = 0;

    (void)state;
    for (i = 0; i < NELEM(long_years); i++) {
        assert_int_equal(bw_weeks_in_year(long_years[i]), 53);
    }
    assert_int_equal(bw_weeks_in_year(2021), 52);
    assert_int_equal(bw_weeks_in_year(2025), 52);
    assert_int_equal(bw_weeks_in_year(2027), 52);
    /* 71 long years in every 400 */
    for (y = 2000; y < 2400; y++) {
        n53 += bw_weeks_in_year(y) == 53;
    }
    assert_int_equal(n53, 71);
}

static void test_iso_week_edges(void **state)
{
    static const struct {
        int y, m, d, iso_year, week;
    } rows[] = {
        {2026, 12, 31, 2026, 53}, {2027, 1, 1, 2026, 53},
        {2027, 1, 3, 2026, 53},   {2027, 1, 4, 2027, 1},
        {2025, 12, 29, 2026, 1},  {2025, 12, 28, 2025, 52},
        {2024, 12, 30, 2025, 1},  {2021, 1, 3, 2020, 53},
        {2021, 1, 4, 2021, 1},    {2026, 11, 16, 2026, 47},
        {2026, 11, 15, 2026, 46}, {2008, 12, 29, 2009, 1},
        {2010, 1, 3, 2009, 53},
    };
    size_t i;
    int y, w, py, pw;
    int64_t day, cy;
    int cm, cd;

    (void)state;
    for (i = 0; i < NELEM(rows); i++) {
        bw_iso_week_of_date(rows[i].y, rows[i].m, rows[i].d, &y, &w);
        if (y != rows[i].iso_year || w != rows[i].week) {
            fail_msg("%04d-%02d-%02d gave %d-W%02d", rows[i].y, rows[i].m,
                     rows[i].d, y, w);
        }
    }
    /*
     * Every day from 1900 to 2100: a Monday starts the next week, any other
     * day stays in its predecessor's week; week 1 holds January 4.
     */
    day = bw_days_from_civil(1900, 1, 1);
    bw_iso_week_of_date(1900, 1, 1, &py, &pw);
    for (day++; day < bw_days_from_civil(2100, 12, 31); day++) {
        bw_civil_from_days(day, &cy, &cm, &cd);
        bw_iso_week_of_date(cy, cm, cd, &y, &w);
        if (bw_weekday(day) == 1) {
            bw_week_next(&py, &pw);
        }
        assert_int_equal(y, py);
        assert_int_equal(w, pw);
        if (cm == 1 && cd == 4) {
            assert_int_equal(w, 1);
            assert_int_equal(y, cy);
        }
    }
}

static void test_week_step_and_format(void **state)
{
    int y = 2026, w = 53;
    char buf[BW_TIME_BUFSZ];

    (void)state;
    bw_week_next(&y, &w);
    assert_int_equal(y, 2027);
    assert_int_equal(w, 1);
    bw_week_prev(&y, &w);
    assert_int_equal(y, 2026);
    assert_int_equal(w, 53);
    y = 2025;
    w = 52;
    bw_week_next(&y, &w);
    assert_int_equal(y, 2026);
    assert_int_equal(w, 1);
    bw_week_prev(&y, &w);
    assert_int_equal(y, 2025);
    assert_int_equal(w, 52);
    assert_string_equal(bw_week_format(2026, 46, buf), "2026-W46");
    assert_string_equal(bw_week_format(2027, 1, buf), "2027-W01");
}

struct week_row {
    const char *zone;
    int year, week;
    int64_t start, end;
};

static void check_week(const struct week_row *r)
{
    int y, w, ny = r->year, nw = r->week;

    assert_int_equal(bw_week_start(r->year, r->week), r->start);
    assert_int_equal(bw_week_end(r->year, r->week), r->end);
    /* the start belongs to the week, the end instant to the next one */
    assert_int_equal(bw_week_of(r->start, &y, &w), 0);
    assert_int_equal(y, r->year);
    assert_int_equal(w, r->week);
    assert_int_equal(bw_week_of(r->end - 1, &y, &w), 0);
    assert_int_equal(y, r->year);
    assert_int_equal(w, r->week);
    assert_int_equal(bw_week_of(r->end, &y, &w), 0);
    bw_week_next(&ny, &nw);
    assert_int_equal(y, ny);
    assert_int_equal(w, nw);
    assert_int_equal(bw_week_start(ny, nw), r->end);
    assert_int_equal(bw_week_of(r->start - 1, &y, &w), 0);
    bw_week_prev(&ny, &nw);
    bw_week_prev(&ny, &nw);
    assert_int_equal(y, ny);
    assert_int_equal(w, nw);
}

static void test_weeks_across_dst(void **state)
{
    static const struct week_row rows[] = {
        /* Berlin: spring forward Sun 2026-03-29, 167 hours */
        {"Europe/Berlin", 2026, 13, INT64_C(1774220400), INT64_C(1774821600)},
        /* Berlin: fall back Sun 2026-10-25, 169 hours */
        {"Europe/Berlin", 2026, 43, INT64_C(1792360800), INT64_C(1792969200)},
        /* New York: spring forward Sun 2026-03-08 */
        {"America/New_York", 2026, 10, INT64_C(1772427600),
         INT64_C(1773028800)},
        /* New York: fall back Sun 2026-11-01 */
        {"America/New_York", 2026, 44, INT64_C(1792987200),
         INT64_C(1793595600)},
        /* UTC: the 53rd week of 2026 */
        {"UTC", 2026, 53, INT64_C(1798416000), INT64_C(1799020800)},
        /* Sao Paulo 1997: Monday 10-06 00:00 fell in a gap; the week
         * started at 01:00 local, the instant the gap ended */
        {"America/Sao_Paulo", 1997, 40, INT64_C(875502000), INT64_C(876106800)},
    };
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(rows); i++) {
        if (!bw_tz_valid(rows[i].zone)) {
            print_message("skipped: zone %s missing\n", rows[i].zone);
            continue;
        }
        assert_int_equal(bw_tz_set(rows[i].zone), 0);
        check_week(&rows[i]);
    }
    assert_int_equal(INT64_C(1774821600) - INT64_C(1774220400),
                     7 * 86400 - 3600);
    assert_int_equal(INT64_C(1792969200) - INT64_C(1792360800),
                     7 * 86400 + 3600);
}

static void test_week_of_zone_dependent(void **state)
{
    int y, w;

    (void)state;
    /* 2027-01-03T23:30Z: still Sunday (2026-W53) in UTC and New York,
     * Monday 00:30 (2027-W01) in Berlin */
    assert_int_equal(bw_tz_set("UTC"), 0);
    assert_int_equal(bw_week_of(INT64_C(1799019000), &y, &w), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(w, 53);
    USE_ZONE("Europe/Berlin");
    assert_int_equal(bw_week_of(INT64_C(1799019000), &y, &w), 0);
    assert_int_equal(y, 2027);
    assert_int_equal(w, 1);
    /* 2026-12-31T23:30Z is 2027-01-01 in Berlin: still 2026-W53 */
    assert_int_equal(bw_week_of(INT64_C(1798759800), &y, &w), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(w, 53);
}

static void test_last_complete_week(void **state)
{
    int y, w;
    int64_t now = INT64_C(1794787200); /* 2026-11-16T00:00:00Z, Monday */

    (void)state;
    assert_int_equal(bw_tz_set("UTC"), 0);
    assert_int_equal(bw_last_complete_week(now, &y, &w), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(w, 46);
    USE_ZONE("America/New_York"); /* still Sunday 19:00 there */
    assert_int_equal(bw_last_complete_week(now, &y, &w), 0);
    assert_int_equal(w, 45);
    assert_int_equal(bw_tz_set("UTC"), 0);
    /* the first week of a year: the last complete one is the old year's */
    assert_int_equal(bw_last_complete_week(INT64_C(1799020800), &y, &w), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(w, 53);
}

static void test_months(void **state)
{
    int y, m;
    char buf[BW_TIME_BUFSZ];

    (void)state;
    USE_ZONE("Europe/Berlin");
    /* March 2026 starts in winter time and ends in summer time */
    assert_int_equal(bw_month_start(2026, 3), INT64_C(1772319600));
    assert_int_equal(bw_month_end(2026, 3), INT64_C(1774994400));
    assert_int_equal(bw_month_end(2026, 2), bw_month_start(2026, 3));
    assert_int_equal(bw_month_end(2026, 12), INT64_C(1798758000));
    assert_int_equal(bw_month_start(2026, 13), bw_month_start(2027, 1));
    assert_int_equal(bw_month_start(2026, 0), bw_month_start(2025, 12));
    assert_int_equal(bw_month_of(INT64_C(1774994400) - 1, &y, &m), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 3);
    assert_int_equal(bw_month_of(INT64_C(1774994400), &y, &m), 0);
    assert_int_equal(m, 4);
    bw_month_next(&y, &m);
    assert_int_equal(m, 5);
    y = 2026;
    m = 12;
    bw_month_next(&y, &m);
    assert_int_equal(y, 2027);
    assert_int_equal(m, 1);
    bw_month_prev(&y, &m);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 12);
    assert_string_equal(bw_month_format(2026, 3, buf), "2026-03");
}

/* ==== local time ========================================================= */

static void test_local_resolve(void **state)
{
    int64_t wall;

    (void)state;
    USE_ZONE("Europe/Berlin");
    /* 2026-03-29 02:30 does not exist: the gap ends at 03:00 = 01:00Z */
    wall = bw_days_from_civil(2026, 3, 29) * 86400 + 2 * 3600 + 30 * 60;
    assert_int_equal(bw_local_resolve(wall), INT64_C(1774746000));
    wall = bw_days_from_civil(2026, 3, 29) * 86400 + 2 * 3600;
    assert_int_equal(bw_local_resolve(wall), INT64_C(1774746000));
    wall = bw_days_from_civil(2026, 3, 29) * 86400 + 3 * 3600;
    assert_int_equal(bw_local_resolve(wall), INT64_C(1774746000));
    wall = bw_days_from_civil(2026, 3, 29) * 86400 + 2 * 3600 - 1;
    assert_int_equal(bw_local_resolve(wall), INT64_C(1774746000) - 1);
    /* 2026-10-25 02:30 happens twice: the first, 00:30Z */
    wall = bw_days_from_civil(2026, 10, 25) * 86400 + 2 * 3600 + 30 * 60;
    assert_int_equal(bw_local_resolve(wall), INT64_C(1792888200));
    assert_int_equal(bw_local_wall(INT64_C(1792888200), &wall), 0);
    assert_int_equal(bw_local_wall(INT64_C(1792888200) + 3600, &wall), 0);
    assert_int_equal(bw_local_resolve(wall), INT64_C(1792888200));

    if (bw_tz_valid("America/Sao_Paulo")) {
        /* 2018-11-04 started at 01:00 local (03:00Z): midnight skipped */
        assert_int_equal(bw_tz_set("America/Sao_Paulo"), 0);
        assert_int_equal(bw_day_start(2018, 11, 4), INT64_C(1541300400));
    }
    if (bw_tz_valid("Australia/Lord_Howe")) {
        /* half-hour changes: 02:00-02:30 skipped, 01:30-02:00 repeated */
        assert_int_equal(bw_tz_set("Australia/Lord_Howe"), 0);
        wall = bw_days_from_civil(2026, 10, 4) * 86400 + 2 * 3600 + 15 * 60;
        assert_int_equal(bw_local_resolve(wall), INT64_C(1791041400));
        wall = bw_days_from_civil(2026, 4, 5) * 86400 + 3600 + 45 * 60;
        assert_int_equal(bw_local_resolve(wall), INT64_C(1775313900));
    }
    assert_int_equal(bw_tz_set("UTC"), 0);
    assert_int_equal(bw_local_resolve(INT64_C(1) << 60), BW_TIME_NONE);
}

/* resolve(wall(t)) == t for every t that is not in a repeated hour */
static void test_local_roundtrip(void **state)
{
    static const char *const zones[] = {"Europe/Berlin", "America/New_York",
                                        "Australia/Lord_Howe", "UTC"};
    size_t i;
    int64_t t, wall, first;

    (void)state;
    for (i = 0; i < NELEM(zones); i++) {
        if (!bw_tz_valid(zones[i])) {
            continue;
        }
        assert_int_equal(bw_tz_set(zones[i]), 0);
        for (t = INT64_C(1767225600); t < INT64_C(1798761600); t += 997) {
            assert_int_equal(bw_local_wall(t, &wall), 0);
            first = bw_local_resolve(wall);
            /* the first occurrence: t itself, or up to an hour before */
            assert_true(first <= t && first >= t - 3600);
            assert_int_equal(bw_local_wall(first, &wall), 0);
        }
    }
}

static void test_parse_day_or_week(void **state)
{
    int64_t t;
    int is_week = -1;

    (void)state;
    assert_int_equal(bw_tz_set("UTC"), 0);
    assert_int_equal(
        bw_parse_day_or_week("2026-W46", BW_DAY_FROM, &t, &is_week), 0);
    assert_int_equal(t, INT64_C(1794182400));
    assert_int_equal(is_week, 1);
    assert_int_equal(bw_parse_day_or_week("2026-W46", BW_DAY_TO, &t, NULL), 0);
    assert_int_equal(t, INT64_C(1794787200));
    assert_int_equal(
        bw_parse_day_or_week("2026-11-09", BW_DAY_FROM, &t, &is_week), 0);
    assert_int_equal(t, INT64_C(1794182400));
    assert_int_equal(is_week, 0);
    assert_int_equal(bw_parse_day_or_week("2026-11-09", BW_DAY_TO, &t, NULL),
                     0);
    assert_int_equal(t, INT64_C(1794268800));
    /* the last day of a month and of a year roll over */
    assert_int_equal(bw_parse_day_or_week("2026-12-31", BW_DAY_TO, &t, NULL),
                     0);
    assert_int_equal(t, INT64_C(1798761600));
    assert_int_equal(bw_parse_day_or_week("2026-W53", BW_DAY_TO, &t, NULL), 0);
    assert_int_equal(t, INT64_C(1799020800));
    assert_int_equal(bw_parse_day_or_week("2026-02-30", BW_DAY_TO, &t, NULL),
                     BW_EPARSE);
    assert_int_equal(bw_parse_day_or_week("2027-W53", BW_DAY_FROM, &t, NULL),
                     BW_EPARSE);
    assert_int_equal(bw_parse_day_or_week("yesterday", BW_DAY_FROM, &t, NULL),
                     BW_EPARSE);
    assert_int_equal(bw_parse_day_or_week(NULL, BW_DAY_FROM, &t, NULL),
                     BW_EPARSE);
    USE_ZONE("Europe/Berlin");
    /* the spring-forward Sunday is 23 hours long */
    assert_int_equal(bw_parse_day_or_week("2026-03-29", BW_DAY_FROM, &t, NULL),
                     0);
    assert_int_equal(t, INT64_C(1774738800));
    assert_int_equal(bw_parse_day_or_week("2026-03-29", BW_DAY_TO, &t, NULL),
                     0);
    assert_int_equal(t, INT64_C(1774821600));
    assert_int_equal(bw_parse_day_or_week("2026-W46", BW_DAY_TO, &t, NULL), 0);
    assert_int_equal(t, INT64_C(1794783600));
}

/* ==== local formatting =================================================== */

static void test_format_local(void **state)
{
    char buf[BW_TIME_BUFSZ];

    (void)state;
    assert_int_equal(bw_tz_set("UTC"), 0);
    assert_int_equal(bw_format_date_local(INT64_C(1794182400), buf), 0);
    assert_string_equal(buf, "2026-11-09");
    assert_int_equal(bw_format_date_local(INT64_C(1794182400) - 1, buf), 0);
    assert_string_equal(buf, "2026-11-08");
    USE_ZONE("Europe/Berlin");
    assert_int_equal(bw_format_date_local(INT64_C(1794182400) - 1, buf), 0);
    assert_string_equal(buf, "2026-11-09");
    assert_int_equal(bw_format_date_local(INT64_C(1) << 60, buf), BW_EPARSE);
}

static void test_format_jql_minute(void **state)
{
    char buf[BW_TIME_BUFSZ];
    const char *tz_before;
    char saved[512];

    (void)state;
    if (!bw_tz_valid("Europe/Madrid") || !bw_tz_valid("America/New_York")) {
        print_message("skipped: tzdata not installed\n");
        skip();
    }
    assert_int_equal(bw_tz_set("America/New_York"), 0);
    tz_before = getenv("TZ");
    assert_non_null(tz_before);
    snprintf(saved, sizeof(saved), "%s", tz_before);

    /* 2026-11-03T09:12:44Z: 10:12 in Madrid (CET), seconds cut */
    assert_int_equal(
        bw_format_jql_minute(INT64_C(1793697164), "Europe/Madrid", buf), 0);
    assert_string_equal(buf, "2026-11-03 10:12");
    /* summer time: 2026-07-01T00:30Z is 02:30 in Madrid */
    assert_int_equal(
        bw_format_jql_minute(INT64_C(1782865800), "Europe/Madrid", buf), 0);
    assert_string_equal(buf, "2026-07-01 02:30");
    /* the zone is switched back, TZ exactly as before */
    assert_string_equal(bw_tz_current(), "America/New_York");
    assert_string_equal(getenv("TZ"), saved);
    assert_int_equal(bw_format_date_local(INT64_C(1793697164) - 10 * 3600, buf),
                     0);
    assert_string_equal(buf, "2026-11-02");
    /* NULL and the current zone format in place */
    assert_int_equal(bw_format_jql_minute(INT64_C(1793697164), NULL, buf), 0);
    assert_string_equal(buf, "2026-11-03 04:12");
    assert_int_equal(bw_format_jql_minute(INT64_C(1793697164), "UTC", buf), 0);
    assert_string_equal(buf, "2026-11-03 09:12");
    assert_string_equal(getenv("TZ"), saved);
    /* an unknown zone is a configuration error; nothing changes */
    assert_int_equal(
        bw_format_jql_minute(INT64_C(1793697164), "Moon/Tranquility", buf),
        BW_ECONFIG);
    assert_string_equal(buf, "");
    assert_string_equal(getenv("TZ"), saved);
    /* allocation failure (saving TZ): reported, nothing changes */
    bw_mem_fail_at(1, 1);
    assert_int_equal(
        bw_format_jql_minute(INT64_C(1793697164), "Europe/Madrid", buf),
        BW_ENOMEM);
    bw_mem_fail_at(0, 0);
    assert_string_equal(getenv("TZ"), saved);
    assert_string_equal(bw_tz_current(), "America/New_York");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_now_fixed),
        cmocka_unit_test(test_now_bad),
        cmocka_unit_test(test_real_clocks),
        cmocka_unit_test(test_tz_valid),
        cmocka_unit_test(test_parse_iso8601),
        cmocka_unit_test(test_format_iso8601),
        cmocka_unit_test(test_parse_date),
        cmocka_unit_test(test_parse_week),
        cmocka_unit_test(test_weeks_in_year),
        cmocka_unit_test(test_iso_week_edges),
        cmocka_unit_test(test_week_step_and_format),
        cmocka_unit_test(test_weeks_across_dst),
        cmocka_unit_test(test_week_of_zone_dependent),
        cmocka_unit_test(test_last_complete_week),
        cmocka_unit_test(test_months),
        cmocka_unit_test(test_local_resolve),
        cmocka_unit_test(test_local_roundtrip),
        cmocka_unit_test(test_parse_day_or_week),
        cmocka_unit_test(test_format_local),
        cmocka_unit_test(test_format_jql_minute),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
