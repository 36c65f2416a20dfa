/*
 * clock.h - "now", the report time zone, timestamp parsing and the calendar
 * (days, ISO weeks, months) cut in that zone.
 *
 * bw_now() is the only reader of the wall clock for "now" (DESIGN.md, Time):
 * BELLWETHER_NOW=EPOCH_SECONDS fixes it for tests and the demo. bw_tz_set()
 * is the only place that switches time zones; it sets TZ and calls tzset(),
 * so the zone is process-wide and nothing here is thread-safe. Every "local"
 * function below works in the zone last set (the process default until the
 * first bw_tz_set()).
 *
 * Instants are int64_t epoch seconds (UTC). A "wall" time is a local calendar
 * time written as seconds since 1970-01-01 00:00 *local* (as if the zone were
 * UTC): it is what a clock on the wall shows, not an instant.
 *
 * Daylight saving: a local date and time maps to an instant by
 * bw_local_resolve(), which picks the first instant at which the local clock
 * reaches it. A time repeated by a fall-back change maps to its first
 * occurrence; a time skipped by a spring-forward gap maps to the gap's end.
 * Day, week and month starts are computed this way from the calendar date,
 * never by adding 86400 * 7, so a week may last 167 or 169 hours and a day
 * whose midnight falls in a gap (America/Sao_Paulo until 2018) starts at
 * 01:00.
 */
#ifndef BW_CLOCK_H
#define BW_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Returned by the int64_t functions below when there is no answer. */
#define BW_TIME_NONE INT64_MIN
/* Size of every formatting buffer in this module. */
#define BW_TIME_BUFSZ 32
/* Longest zone name accepted, without the terminating NUL. */
#define BW_TZ_NAME_MAX 255

/* ---- now ------------------------------------------------------------- */

/*
 * Read BELLWETHER_NOW once. Unset or empty: bw_now() is time(NULL). Set: it
 * must be whole epoch seconds in 0 .. 253402300799 (9999-12-31T23:59:59Z),
 * else an error is logged and BW_EUSAGE returned (main exits 2). Calling it
 * again re-reads the variable (tests).
 */
int bw_clock_init(void);

/*
 * "Now" in epoch seconds: BELLWETHER_NOW when set, else time(NULL). Calls
 * bw_clock_init() on first use when main has not (a bad value then falls
 * back to the real clock after the logged error).
 */
int64_t bw_now(void);

/*
 * The real clock, ignoring BELLWETHER_NOW: for rate-limit waits
 * (x-ratelimit-reset, Retry-After), lease timing and log stamps only.
 */
int64_t bw_real_now(void);

/* Monotonic milliseconds, for timeouts and durations. */
int64_t bw_monotonic_ms(void);

/* ---- time zones ------------------------------------------------------ */

/*
 * 1 when zone is "UTC" or names a compiled zone file under
 * /usr/share/zoneinfo (a regular TZif file: "zone.tab" is not a zone), else
 * 0. Relative names only: absolute paths, "..", a leading ':' and characters
 * outside [A-Za-z0-9/_+-.] are refused. glibc would silently use UTC for an
 * unknown name, hence this check.
 */
int bw_tz_valid(const char *zone);

/*
 * Switch the process to zone (TZ + tzset). BW_ECONFIG with a logged message
 * when bw_tz_valid() refuses it; the zone is then unchanged.
 */
int bw_tz_set(const char *zone);

/* The zone last set by bw_tz_set(), or "" before the first call. */
const char *bw_tz_current(void);

/* ---- parsing (pure apart from the current zone; fuzzed) --------------- */

/*
 * ISO 8601 / RFC 3339 date-time of len bytes (no NUL needed):
 * YYYY-MM-DDTHH:MM[:SS[.fff...]] followed by Z, +HH:MM, +HHMM or +HH (or
 * '-'). 'T' may be 't' or a space, the fraction may use ',' and is
 * truncated (Jira's milliseconds). A zone is required. Covers GitHub
 * "2021-10-31T15:20:04Z", "2012-05-27T00:33:23-07:00", Jira
 * "2016-03-03T11:57:01.000+0000" and Jira's rate-limit reset
 * "2026-11-16T10:00Z". Fields are range-checked (second 60 is accepted as a
 * leap second and lands on the next minute). 0 or BW_EPARSE.
 */
int bw_parse_iso8601(const char *s, size_t len, int64_t *out);

/*
 * "YYYY-MM-DD" (exactly) to the first instant of that day in the current
 * zone. Month and day are checked, leap years included. 0 or BW_EPARSE.
 */
int bw_parse_date(const char *s, int64_t *out);

/*
 * "YYYY-Www" (W or w), week 01..53, week 53 only in years that have one.
 * 0 or BW_EPARSE.
 */
int bw_parse_week(const char *s, int *year, int *week);

/* Flags of bw_parse_day_or_week(). */
#define BW_DAY_FROM 0 /* a range start: a week means its Monday */
#define BW_DAY_TO 1   /* an inclusive range end: a week means its Sunday */

/*
 * The query's --from/--to: "YYYY-MM-DD" or "YYYY-Www". With BW_DAY_FROM,
 * *out is the first instant of the day (of the week's Monday); with
 * BW_DAY_TO, *out is the *exclusive* end of the inclusive day (of the week's
 * Sunday), i.e. the instant the next day starts. So [from, to) is the
 * half-open range to query. *is_week (may be NULL) says which form was
 * given. 0 or BW_EPARSE.
 */
int bw_parse_day_or_week(const char *s, int flag, int64_t *out, int *is_week);

/* ---- calendar arithmetic (proleptic Gregorian, no zone) -------------- */

/* Days since 1970-01-01 of a civil date; month 1..12, day may overflow. */
int64_t bw_days_from_civil(int64_t year, int month, int day);
/* The civil date of a day number. */
void bw_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
/* 28..31; month 1..12. */
int bw_days_in_month(int64_t year, int month);
/* Day of week of a day number: 0 = Sunday .. 6 = Saturday (cron's). */
int bw_weekday(int64_t days);
/* 52 or 53: the number of ISO weeks in an ISO week-numbering year. */
int bw_weeks_in_year(int year);
/* ISO week-numbering year and week of a civil date. */
void bw_iso_week_of_date(int64_t year, int month, int day, int *iso_year,
                         int *week);

/* ---- local time ------------------------------------------------------ */

/*
 * The instant a local wall time maps to: its first occurrence, or the end
 * of the spring-forward gap it falls in. BW_TIME_NONE outside the range the
 * C library can convert.
 */
int64_t bw_local_resolve(int64_t wall);
/* The local wall time (see above) of instant t. 0 or BW_EPARSE. */
int bw_local_wall(int64_t t, int64_t *wall);

/* First instant of a local calendar day (day may overflow the month). */
int64_t bw_day_start(int year, int month, int day);
/* Local calendar date of t. 0 or BW_EPARSE (t out of range). */
int bw_day_of(int64_t t, int *year, int *month, int *day);

/* ---- ISO weeks in the current zone ----------------------------------- */

/*
 * Monday 00:00 local of ISO week (year, week), as above. Week numbers out of
 * range roll over: week 0 is the last week of year - 1, week 54 of a
 * 53-week year is week 1 of year + 1.
 */
int64_t bw_week_start(int year, int week);
/* The instant the next week starts ("the week's end", METRICS.md). */
int64_t bw_week_end(int year, int week);
/*
 * ISO week-numbering year and week of instant t in the current zone; the
 * week's end instant itself belongs to the next week. 0 or BW_EPARSE.
 */
int bw_week_of(int64_t t, int *year, int *week);
/* Step (year, week) one week back or forward, across year ends. */
void bw_week_prev(int *year, int *week);
void bw_week_next(int *year, int *week);
/* The week before the one containing now. 0 or BW_EPARSE. */
int bw_last_complete_week(int64_t now, int *year, int *week);
/* "2026-W46" into buf; returns buf. */
char *bw_week_format(int year, int week, char buf[BW_TIME_BUFSZ]);

/* ---- months in the current zone (query --by month) ------------------- */

/* The 1st 00:00 local; month out of 1..12 rolls the year. */
int64_t bw_month_start(int year, int month);
/* The instant the next month starts. */
int64_t bw_month_end(int year, int month);
/* Local year and month of t. 0 or BW_EPARSE. */
int bw_month_of(int64_t t, int *year, int *month);
void bw_month_prev(int *year, int *month);
void bw_month_next(int *year, int *month);
/* "2026-11" into buf; returns buf. */
char *bw_month_format(int year, int month, char buf[BW_TIME_BUFSZ]);

/* ---- formatting ------------------------------------------------------ */

/* "2026-11-03T09:12:44Z" (any int64_t, no zone involved); returns buf. */
char *bw_format_iso8601_utc(int64_t t, char buf[BW_TIME_BUFSZ]);

/* "2026-11-09": the local date of t. 0 or BW_EPARSE. */
int bw_format_date_local(int64_t t, char buf[BW_TIME_BUFSZ]);

/*
 * "yyyy-MM-dd HH:mm" of t in zone (a JQL literal in the Jira user's zone,
 * API-FACTS 44-45; seconds are truncated, so subtract the overlap before).
 * zone NULL means the current zone. The zone is switched for the call and
 * switched back (TZ restored exactly as it was): not thread-safe, like every
 * zone function here. 0, BW_ECONFIG (unknown zone, logged), BW_ENOMEM or
 * BW_EPARSE (t out of range).
 */
int bw_format_jql_minute(int64_t t, const char *zone, char buf[BW_TIME_BUFSZ]);

#endif
