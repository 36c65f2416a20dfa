/*
 * test_schedule.c - cron expressions: the parser (valid forms, one bad
 * expression per kind of mistake with the message it gives), due times in
 * UTC, Europe/Berlin and America/New_York through both daylight-saving
 * changes, and a replay of whole years against a brute-force reference
 * written here: it walks every minute instant, tracks the highest local
 * wall time reached so far, and marks an instant due when it is the first
 * to reach a matching wall minute. That is bellwether's rule stated
 * directly (first occurrence in a fold, the gap's end in a gap), computed
 * with timegm/gmtime_r instead of the module's own calendar code.
 */
#include "testutil.h"

#include <time.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/schedule.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int64_t iso(const char *s)
{
    int64_t t = 0;

    if (bw_parse_iso8601(s, strlen(s), &t) != 0) {
        fail_msg("bad timestamp in the test table: '%s'", s);
    }
    return t;
}

/* ==== parsing ============================================================ */

#define B(x) (UINT64_C(1) << (x))
#define R(lo, hi) (((UINT64_C(1) << ((hi) + 1)) - 1) & ~(B(lo) - 1))
#define MIN_ALL R(0, 59)
#define HOUR_ALL R(0, 23)
#define DOM_ALL R(1, 31)
#define MON_ALL R(1, 12)
#define DOW_ALL R(0, 6)

static void test_parse_valid(void **state)
{
    static const struct {
        const char *expr;
        uint64_t minutes, hours, days, months, weekdays;
        int dom_star, dow_star;
    } rows[] = {
        {"* * * * *", MIN_ALL, HOUR_ALL, DOM_ALL, MON_ALL, DOW_ALL, 1, 1},
        {"*/15 9-17 * * mon-fri", B(0) | B(15) | B(30) | B(45), R(9, 17),
         DOM_ALL, MON_ALL, R(1, 5), 1, 0},
        {"5,10-20/5 0 1,15 jan,JUL,Dec sun", B(5) | B(10) | B(15) | B(20), B(0),
         B(1) | B(15), B(1) | B(7) | B(12), B(0), 0, 0},
        /* Sunday is 0 or 7, also as a range end */
        {"0 0 * * 7", B(0), B(0), DOM_ALL, MON_ALL, B(0), 1, 0},
        {"0 0 * * 5-7", B(0), B(0), DOM_ALL, MON_ALL, B(0) | R(5, 6), 1, 0},
        {"0 0 * * fri-sun", B(0), B(0), DOM_ALL, MON_ALL, B(0) | R(5, 6), 1, 0},
        {"0 0 * * SAT-Sun", B(0), B(0), DOM_ALL, MON_ALL, B(0) | B(6), 1, 0},
        {"0 0 * * 0-7", B(0), B(0), DOM_ALL, MON_ALL, DOW_ALL, 1, 0},
        /* a field starting with '*' counts as '*' for the day rule */
        {"0 0 */2 * *", B(0), B(0), UINT64_C(0xAAAAAAAA), MON_ALL, DOW_ALL, 1,
         1},
        {"  0   0\t1-31/2 * *  ", B(0), B(0), UINT64_C(0xAAAAAAAA), MON_ALL,
         DOW_ALL, 0, 1},
        {"00 07 01 01 *", B(0), B(7), B(1), B(1), DOW_ALL, 0, 1},
        {"0-59/60 * * * *", B(0), HOUR_ALL, DOM_ALL, MON_ALL, DOW_ALL, 1, 1},
        {"59 23 31 12 6", B(59), B(23), B(31), B(12), B(6), 0, 0},
        {"@hourly", B(0), HOUR_ALL, DOM_ALL, MON_ALL, DOW_ALL, 1, 1},
        {"@daily", B(0), B(0), DOM_ALL, MON_ALL, DOW_ALL, 1, 1},
        {"@midnight", B(0), B(0), DOM_ALL, MON_ALL, DOW_ALL, 1, 1},
        {"@weekly", B(0), B(0), DOM_ALL, MON_ALL, B(0), 1, 0},
        {"@monthly", B(0), B(0), B(1), MON_ALL, DOW_ALL, 0, 1},
        {" @yearly ", B(0), B(0), B(1), B(1), DOW_ALL, 0, 1},
        {"@annually", B(0), B(0), B(1), B(1), DOW_ALL, 0, 1},
    };
    struct bw_cron c;
    char err[128];
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(rows); i++) {
        if (bw_cron_parse(rows[i].expr, &c, err, sizeof(err)) != 0) {
            fail_msg("'%s' was refused: %s", rows[i].expr, err);
        }
        assert_string_equal(err, "");
        assert_int_equal(bw_cron_validate(rows[i].expr, NULL, 0), 0);
        assert_int_equal(c.minutes, rows[i].minutes);
        assert_int_equal(c.hours, rows[i].hours);
        assert_int_equal(c.days, rows[i].days);
        assert_int_equal(c.months, rows[i].months);
        assert_int_equal(c.weekdays, rows[i].weekdays);
        assert_int_equal(c.dom_star, rows[i].dom_star);
        assert_int_equal(c.dow_star, rows[i].dow_star);
    }
}

static void test_parse_invalid(void **state)
{
    static const struct {
        const char *expr, *msg;
    } rows[] = {
        {"", "empty expression: expected 5 fields (minute hour "
             "day-of-month month day-of-week), found 0"},
        {"   ", "empty expression"},
        {"* * * *", "wrong number of fields: expected 5 fields"},
        {"0 * * * * *", "found 6"},
        {"0 0 8 * * * 2026", "found 7"},
        {"60 * * * *", "minute: 60 is out of range (0-59)"},
        {"* 24 * * *", "hour: 24 is out of range (0-23)"},
        {"* * 0 * *", "day of month: 0 is out of range (1-31)"},
        {"* * 32 * *", "day of month: 32 is out of range (1-31)"},
        {"* * * 0 *", "month: 0 is out of range (1-12)"},
        {"* * * 13 *", "month: 13 is out of range (1-12)"},
        {"* * * * 8", "day of week: 8 is out of range (0-7)"},
        {"*/0 * * * *", "minute: step 0 in '*/0' is invalid"},
        {"* 1-10/0 * * *", "hour: step 0 in '1-10/0' is invalid"},
        {"*/90 * * * *", "minute: step 90 is larger than the field's "
                         "range (0-59)"},
        {"*/ * * * *", "minute: missing step after '/' in '*/'"},
        {"5-1 * * * *", "minute: range '5-1' is reversed"},
        {"* 22-2 * * *", "hour: range '22-2' is reversed"},
        {"* * * * fri-mon", "day of week: range 'fri-mon' is reversed"},
        {"* * * dec-jan *", "month: range 'dec-jan' is reversed"},
        {"5/10 * * * *", "minute: a step needs a range or '*' in '5/10'"},
        {"* * * foo *", "month: 'foo' is not a number or a month name "
                        "(jan-dec)"},
        {"* * * january *", "month: 'january' is not a number"},
        {"* * * * funday", "day of week: 'funday' is not a number or a "
                           "day name (sun-sat)"},
        {"jan * * * *", "minute: 'jan' is not a number"},
        {"* * mon * *", "day of month: 'mon' is not a number"},
        {"* * * jan-foo *", "month: 'foo' is not a number"},
        {"1,,2 * * * *", "minute: empty list element"},
        {"1, * * * *", "minute: empty list element"},
        {",1 * * * *", "minute: empty list element"},
        {"1- * * * *", "minute: missing a value in '1-'"},
        {"** * * * *", "minute: unexpected '*' in '**'"},
        {"-1 * * * *", "minute: unexpected '-' in '-1'"},
        {"1-2-3 * * * *", "minute: unexpected '-' in '1-2-3'"},
        {"1/2/3 * * * *", "minute: a step needs a range"},
        {"*/2/3 * * * *", "minute: unexpected '/' in '*/2/3'"},
        {"? * * * *", "minute: unexpected '?' in '?'"},
        {"99999999999999999999 * * * *",
         "minute: 99999999999999999999 is out of range (0-59)"},
        {"0 0 30 2 *", "day of month: never falls on a day"},
        {"0 0 31 4,6,9,11 *", "day of month: never falls on a day"},
        {"@reboot", "'@reboot' is not a schedule"},
        {"@daily 0", "is not a schedule"},
        {"@every 5m", "'@every 5m' is not a schedule"},
        {"* * * * 1\x01", "day of week: unexpected '?' in '1?'"},
    };
    struct bw_cron c;
    char err[160];
    char tiny[8];
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(rows); i++) {
        err[0] = 'x';
        if (bw_cron_parse(rows[i].expr, &c, err, sizeof(err)) != BW_EPARSE) {
            fail_msg("'%s' was accepted", rows[i].expr);
        }
        if (strstr(err, rows[i].msg) == NULL) {
            fail_msg("'%s' gave '%s', want '%s'", rows[i].expr, err,
                     rows[i].msg);
        }
        assert_int_equal(bw_cron_validate(rows[i].expr, err, sizeof(err)),
                         BW_EPARSE);
        /* no buffer, and a buffer too small: still terminated */
        assert_int_equal(bw_cron_validate(rows[i].expr, NULL, 0), BW_EPARSE);
        memset(tiny, 'x', sizeof(tiny));
        assert_int_equal(bw_cron_validate(rows[i].expr, tiny, sizeof(tiny)),
                         BW_EPARSE);
        assert_true(memchr(tiny, '\0', sizeof(tiny)) != NULL);
    }
    assert_int_equal(bw_cron_validate(NULL, err, sizeof(err)), BW_EPARSE);
    assert_non_null(strstr(err, "empty expression"));
    /* a very long field is cut in the message */
    assert_int_equal(
        bw_cron_validate("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,99 * * * *", err,
                         sizeof(err)),
        BW_EPARSE);
    assert_string_equal(err, "minute: 99 is out of range (0-59)");
    assert_int_equal(bw_cron_validate("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
                                      "* * * *",
                                      err, sizeof(err)),
                     BW_EPARSE);
    assert_string_equal(err, "minute: 'aaaaaaaaaaaaaaaaaaaaaaaa...' is not "
                             "a number");
}

/* ==== due times ========================================================== */

struct next_row {
    const char *expr, *after, *want;
};

static void check_next(const char *zone, const struct next_row *rows, size_t n)
{
    struct bw_cron c;
    char err[128], got[BW_TIME_BUFSZ];
    size_t i;
    int64_t t;

    if (!bw_tz_valid(zone)) {
        print_message("skipped: time zone '%s' not installed\n", zone);
        skip();
    }
    assert_int_equal(bw_tz_set(zone), 0);
    for (i = 0; i < n; i++) {
        if (bw_cron_parse(rows[i].expr, &c, err, sizeof(err)) != 0) {
            fail_msg("'%s': %s", rows[i].expr, err);
        }
        t = bw_cron_next(&c, iso(rows[i].after));
        if (t != iso(rows[i].want)) {
            fail_msg("%s: '%s' after %s gave %s, want %s", zone, rows[i].expr,
                     rows[i].after, bw_format_iso8601_utc(t, got),
                     rows[i].want);
        }
    }
}

static void test_next_utc(void **state)
{
    static const struct next_row rows[] = {
        {"*/15 * * * *", "2026-11-16T10:07:00Z", "2026-11-16T10:15:00Z"},
        /* strictly after: a due instant is not due again */
        {"*/15 * * * *", "2026-11-16T10:15:00Z", "2026-11-16T10:30:00Z"},
        {"*/15 * * * *", "2026-11-16T10:14:59Z", "2026-11-16T10:15:00Z"},
        {"* * * * *", "2026-11-16T10:00:30Z", "2026-11-16T10:01:00Z"},
        {"* * * * *", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z"},
        {"0 8 * * 1", "2026-11-16T08:00:00Z", "2026-11-23T08:00:00Z"},
        {"0 8 * * 1", "2026-11-16T07:59:59Z", "2026-11-16T08:00:00Z"},
        {"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
        {"0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},
        {"0 12 31 * *", "2026-11-01T00:00:00Z", "2026-12-31T12:00:00Z"},
        {"59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"},
        {"@yearly", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z"},
        {"0 0 * * 0", "2026-11-16T00:00:00Z", "2026-11-22T00:00:00Z"},
        {"0 0 * * 7", "2026-11-16T00:00:00Z", "2026-11-22T00:00:00Z"},
        {"0 0 * * sun", "2026-11-16T00:00:00Z", "2026-11-22T00:00:00Z"},
        {"0 9 * jan,jul mon", "2026-11-16T00:00:00Z", "2027-01-04T09:00:00Z"},
        /* both day fields restricted: either matches (OR) */
        {"0 0 1,15 * 5", "2026-11-16T00:00:00Z", "2026-11-20T00:00:00Z"},
        {"0 0 1,15 * 5", "2026-11-27T00:00:00Z", "2026-12-01T00:00:00Z"},
        {"0 0 1-31/2 * 5", "2026-11-16T00:00:00Z", "2026-11-17T00:00:00Z"},
        /* a field starting with '*' makes it AND (Vixie): odd Fridays */
        {"0 0 */2 * 5", "2026-11-16T00:00:00Z", "2026-11-27T00:00:00Z"},
        {"0 0 1 * */2", "2026-11-02T00:00:00Z", "2026-12-01T00:00:00Z"},
        /* a restricted day of month with day of week '*': only dom */
        {"0 0 13 * *", "2026-11-16T00:00:00Z", "2026-12-13T00:00:00Z"},
        {"30 14 * * *", "2026-11-16T14:30:00Z", "2026-11-17T14:30:00Z"},
        {"0,30 9-10 * * *", "2026-11-16T10:30:00Z", "2026-11-17T09:00:00Z"},
    };

    (void)state;
    check_next("UTC", rows, NELEM(rows));
}

static void test_next_berlin(void **state)
{
    static const struct next_row rows[] = {
        /* spring forward 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z) */
        {"30 2 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"},
        {"30 2 * * *", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"},
        {"0 2 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"},
        {"0 3 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"},
        {"0 1 * * *", "2026-03-28T12:00:00Z", "2026-03-29T00:00:00Z"},
        {"59 1 * * *", "2026-03-28T12:00:00Z", "2026-03-29T00:59:00Z"},
        /* every 30 minutes: 01:30 CET, then ONE run at 03:00 CEST for
         * 02:00, 02:30 and 03:00 together, then 03:30 CEST */
        {"*/30 * * * *", "2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z"},
        {"*/30 * * * *", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z"},
        {"*/30 * * * *", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"},
        {"15 2 * * *", "2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z"},
        /* fall back 2026-10-25: 02:00-02:59 twice (00:xxZ CEST, 01:xxZ
         * CET); due at the first only */
        {"30 2 * * *", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"},
        {"30 2 * * *", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
        {"30 2 * * *", "2026-10-25T01:00:00Z", "2026-10-26T01:30:00Z"},
        {"*/30 * * * *", "2026-10-24T23:45:00Z", "2026-10-25T00:00:00Z"},
        {"*/30 * * * *", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z"},
        {"*/30 * * * *", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z"},
        {"*/30 * * * *", "2026-10-25T01:15:00Z", "2026-10-25T02:00:00Z"},
        {"0 * * * *", "2026-10-24T23:30:00Z", "2026-10-25T00:00:00Z"},
        {"0 * * * *", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"},
        {"0 3 * * *", "2026-10-24T12:00:00Z", "2026-10-25T02:00:00Z"},
        /* the daemon's weekly report, Monday 08:00 local */
        {"0 8 * * 1", "2026-11-16T00:00:00Z", "2026-11-16T07:00:00Z"},
        {"0 8 * * 1", "2026-06-01T00:00:00Z", "2026-06-01T06:00:00Z"},
    };

    (void)state;
    check_next("Europe/Berlin", rows, NELEM(rows));
}

static void test_next_new_york(void **state)
{
    static const struct next_row rows[] = {
        /* spring forward 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z) */
        {"30 2 * * *", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z"},
        {"30 2 * * *", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
        {"*/30 * * * *", "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z"},
        {"*/30 * * * *", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"},
        /* fall back 2026-11-01: 01:00-01:59 twice (05:xxZ EDT, 06:xxZ
         * EST) */
        {"30 1 * * *", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z"},
        {"30 1 * * *", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
        {"*/30 * * * *", "2026-11-01T05:45:00Z", "2026-11-01T07:00:00Z"},
        {"*/30 * * * *", "2026-11-01T06:10:00Z", "2026-11-01T07:00:00Z"},
        {"0 2 * * *", "2026-10-31T12:00:00Z", "2026-11-01T07:00:00Z"},
        {"0 0 * * *", "2026-11-01T03:00:00Z", "2026-11-01T04:00:00Z"},
        {"0 0 * * *", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"},
    };

    (void)state;
    check_next("America/New_York", rows, NELEM(rows));
}

static void test_next_edges(void **state)
{
    struct bw_cron c;
    int64_t t;

    (void)state;
    assert_int_equal(bw_tz_set("UTC"), 0);
    memset(&c, 0, sizeof(c));
    /* an empty set (never produced by the parser) ends, with no answer */
    assert_int_equal(bw_cron_next(&c, 0), BW_TIME_NONE);
    assert_int_equal(bw_cron_parse("* * * * *", &c, NULL, 0), 0);
    assert_int_equal(bw_cron_next(&c, INT64_MAX), BW_TIME_NONE);
    assert_int_equal(bw_cron_next(&c, INT64_MIN), BW_TIME_NONE);
    /* far but fine */
    t = bw_cron_next(&c, iso("9999-12-31T23:58:00Z"));
    assert_int_equal(t, iso("9999-12-31T23:59:00Z"));
    assert_int_equal(bw_cron_parse("0 0 29 2 1", &c, NULL, 0), 0);
    /* dom and dow restricted: OR, so any Monday in February */
    assert_int_equal(bw_cron_next(&c, iso("2026-11-16T00:00:00Z")),
                     iso("2027-02-01T00:00:00Z"));
    assert_int_equal(bw_cron_day_matches(&c, 2028, 2, 29), 1);
    assert_int_equal(bw_cron_day_matches(&c, 2026, 2, 28), 0);
    assert_int_equal(bw_cron_day_matches(&c, 2026, 13, 1), 0);
    /* a rare AND ('*' /5 starts with '*'): February 13th on a Sunday or
     * Friday */
    assert_int_equal(bw_cron_parse("0 0 13 feb */5", &c, NULL, 0), 0);
    assert_int_equal(bw_cron_next(&c, iso("2026-01-01T00:00:00Z")),
                     iso("2026-02-13T00:00:00Z"));
    assert_int_equal(bw_cron_next(&c, iso("2026-02-13T00:00:00Z")),
                     iso("2028-02-13T00:00:00Z"));
}

/* ==== a whole year against a brute-force reference ======================= */

/*
 * One zone-year for the reference: the wall time of every minute instant
 * from start, by the C library directly (localtime_r, then timegm), and the
 * calendar fields of every wall minute met (gmtime_r), computed once per
 * zone and shared by the expressions.
 */
#define REF_MINUTES 534000
#define REF_SPAN (REF_MINUTES - 4000)
static int64_t ref_walls[REF_MINUTES];
static uint32_t
    ref_fields[REF_MINUTES]; /* min|hour<<6|mday<<11|mon<<16|wday<<20 */
static int64_t ref_wall0;    /* the wall minute of ref_fields[0] */

static void ref_prepare(int64_t start, int64_t end)
{
    size_t i, n = (size_t)((end - start) / 60);
    time_t tt;
    struct tm tm;

    assert_true(n <= REF_SPAN);
    for (i = 0; i < n; i++) {
        tt = (time_t)(start + (int64_t)i * 60);
        assert_non_null(localtime_r(&tt, &tm));
        tm.tm_isdst = 0;
        ref_walls[i] = (int64_t)timegm(&tm);
    }
    /* wall minutes from a day before start's to well past end's */
    ref_wall0 = ref_walls[0] - 86400;
    for (i = 0; i < REF_MINUTES; i++) {
        tt = (time_t)(ref_wall0 + (int64_t)i * 60);
        assert_non_null(gmtime_r(&tt, &tm));
        ref_fields[i] = (uint32_t)tm.tm_min | (uint32_t)tm.tm_hour << 6 |
                        (uint32_t)tm.tm_mday << 11 |
                        (uint32_t)(tm.tm_mon + 1) << 16 |
                        (uint32_t)tm.tm_wday << 20;
    }
}

static int ref_matches(const struct bw_cron *c, int64_t wall)
{
    int64_t k = (wall - ref_wall0) / 60;
    uint32_t f;
    int dom, dow;

    assert_true(k >= 0 && k < REF_MINUTES);
    f = ref_fields[k];
    if (!((c->minutes >> (f & 63)) & 1) ||
        !((c->hours >> ((f >> 6) & 31)) & 1) ||
        !((c->months >> ((f >> 16) & 15)) & 1)) {
        return 0;
    }
    dom = (c->days >> ((f >> 11) & 31)) & 1;
    dow = (c->weekdays >> ((f >> 20) & 7)) & 1;
    return (c->dom_star || c->dow_star) ? dom && dow : dom || dow;
}

/*
 * Due instants in [start, end), one per instant, ascending: an instant is
 * due when it is the first to reach some matching wall minute.
 */
static size_t reference(const struct bw_cron *c, int64_t start, int64_t end,
                        int64_t *out, size_t max)
{
    size_t i, n = 0, count = (size_t)((end - start) / 60);
    int64_t w, reached = ref_walls[0] - 60, m;

    for (i = 0; i < count; i++) {
        w = ref_walls[i];
        if (w <= reached) {
            continue; /* the second pass of a repeated hour */
        }
        /* every wall minute reached for the first time here is due here */
        for (m = reached + 60; m <= w; m += 60) {
            if (ref_matches(c, m)) {
                assert_true(n < max);
                out[n++] = start + (int64_t)i * 60;
                break;
            }
        }
        reached = w;
    }
    return n;
}

static void replay(const char *zone, const char *from, const char *to)
{
    static const char *const exprs[] = {
        "*/30 * * * *", "0 * * * *",     "30 2 * * *",       "15 1,2,3 * * *",
        "0 8 * * 1",    "*/7 2-3 * * 0", "0 0 1,15 * 5",     "59 23 * * *",
        "0 0 * * *",    "45 1 * * sun",  "*/20 0-3 */3 * *", "0 12 1 * *",
    };
    static int64_t ref[40000];
    int64_t start = iso(from), end = iso(to), t, a;
    struct bw_cron c;
    size_t e, n, i, lo, hi;
    uint32_t rnd = 12345;
    char got[BW_TIME_BUFSZ], want[BW_TIME_BUFSZ], at[BW_TIME_BUFSZ];

    if (!bw_tz_valid(zone)) {
        print_message("skipped: time zone '%s' not installed\n", zone);
        return;
    }
    assert_int_equal(bw_tz_set(zone), 0);
    ref_prepare(start, end);
    for (e = 0; e < NELEM(exprs); e++) {
        assert_int_equal(bw_cron_parse(exprs[e], &c, NULL, 0), 0);
        n = reference(&c, start, end, ref, NELEM(ref));
        assert_true(n > 0);
        /* walking from due time to due time gives exactly the reference */
        t = start - 1;
        for (i = 0; i < n; i++) {
            t = bw_cron_next(&c, t);
            if (t != ref[i]) {
                fail_msg("%s '%s': run %zu at %s, want %s", zone, exprs[e], i,
                         bw_format_iso8601_utc(t, got),
                         bw_format_iso8601_utc(ref[i], want));
            }
        }
        assert_true(bw_cron_next(&c, t) >= end);
        /* and from arbitrary instants, not on a minute */
        for (i = 0; i < 2000; i++) {
            rnd = rnd * 1103515245u + 12345u;
            a = start + (int64_t)(rnd % (uint32_t)(ref[n - 1] - start));
            lo = 0;
            hi = n - 1;
            while (lo < hi) { /* the first reference entry > a */
                size_t mid = (lo + hi) / 2;

                if (ref[mid] > a) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            t = bw_cron_next(&c, a);
            if (t != ref[lo]) {
                fail_msg("%s '%s' after %s: %s, want %s", zone, exprs[e],
                         bw_format_iso8601_utc(a, at),
                         bw_format_iso8601_utc(t, got),
                         bw_format_iso8601_utc(ref[lo], want));
            }
        }
    }
}

static void test_replay_year(void **state)
{
    (void)state;
    replay("UTC", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    replay("Europe/Berlin", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    replay("America/New_York", "2026-01-01T12:00:00Z", "2027-01-01T12:00:00Z");
    /* half-hour changes at 02:00 */
    replay("Australia/Lord_Howe", "2026-01-01T12:00:00Z",
           "2027-01-01T12:00:00Z");
    /* a whole day skipped: 2011-12-30 never happened in Samoa */
    replay("Pacific/Apia", "2011-06-01T12:00:00Z", "2012-06-01T12:00:00Z");
    /* midnight skipped (2018-11-04) and midnight repeated (2019-02-17) */
    replay("America/Sao_Paulo", "2018-07-01T12:00:00Z", "2019-07-01T12:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_next_utc),
        cmocka_unit_test(test_next_berlin),
        cmocka_unit_test(test_next_new_york),
        cmocka_unit_test(test_next_edges),
        cmocka_unit_test(test_replay_year),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
