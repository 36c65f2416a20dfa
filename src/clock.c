/*
 * clock.c - "now", the one switch of time zones, timestamp parsers and the
 * local calendar (days, ISO weeks, months) that reports, queries and the
 * scheduler cut time with.
 *
 * The calendar is done in integer arithmetic on civil dates (Howard
 * Hinnant's days_from_civil), so it is exact for any year and independent of
 * the C library. The C library is used for one thing only: the UTC offset in
 * effect at an instant (localtime_r's tm_gmtoff, from the tzdata file of the
 * zone bw_tz_set() chose). Going the other way, from a local date and time to
 * an instant, is bw_local_resolve(): it finds the instants whose local time
 * is the wanted one by trying the offsets in effect nearby, and takes the
 * first. We do not use mktime(): with tm_isdst = -1 its answer for a time in
 * a gap or a fold is unspecified and differs between C libraries, and
 * bellwether's rule (first occurrence, gap's end) must hold everywhere.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
/* 9999-12-31T23:59:59Z: the largest BELLWETHER_NOW accepted. */
#define NOW_MAX INT64_C(253402300799)
/* Instants and wall times beyond +-2^48 s (~8.9 million years) are refused:
 * the C library cannot convert much further, and sums stay far from
 * overflow. */
#define TIME_LIMIT (INT64_C(1) << 48)
/* Offsets are probed this far around a wall time (more than any UTC offset
 * that ever existed, +-15:56 of Manila's LMT aside). */
#define PROBE_SPAN INT64_C(93600)

static int now_state; /* 0 not read yet, 1 fixed by BELLWETHER_NOW, 2 real */
static int64_t now_fixed;
static char cur_zone[BW_TZ_NAME_MAX + 1];

/* ==== small helpers ===================================================== */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b != 0 && (a < 0) != (b < 0)) {
        q--;
    }
    return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/* Copy s for a log line: printable ASCII only, cut at 64 bytes. */
static const char *printable(const char *s, char *out, size_t n)
{
    size_t i = 0;

    for (; s != NULL && *s != '\0' && i + 1 < n && i < 64; s++) {
        out[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    }
    out[i] = '\0';
    return out;
}

/* ==== now =============================================================== */

static int parse_epoch(const char *s, int64_t *out)
{
    int64_t v = 0;

    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return BW_EPARSE;
        }
        v = v * 10 + (*s - '0');
        if (v > NOW_MAX) {
            return BW_EPARSE;
        }
    }
    *out = v;
    return 0;
}

int bw_clock_init(void)
{
    const char *v = getenv("BELLWETHER_NOW");
    char shown[80];

    now_state = 2;
    if (v == NULL || *v == '\0') {
        return 0;
    }
    if (parse_epoch(v, &now_fixed) != 0) {
        BW_ERROR("bad BELLWETHER_NOW '%s': expected whole epoch seconds "
                 "(0 to 253402300799) such as 1763251200; unset it to use "
                 "the real clock",
                 printable(v, shown, sizeof(shown)));
        return BW_EUSAGE;
    }
    now_state = 1;
    return 0;
}

int64_t bw_now(void)
{
    if (now_state == 0) {
        (void)bw_clock_init();
    }
    if (now_state == 1) {
        return now_fixed;
    }
    return (int64_t)time(NULL);
}

int64_t bw_real_now(void)
{
    return (int64_t)time(NULL);
}

int64_t bw_monotonic_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return (int64_t)time(NULL) * 1000;
    }
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ==== time zones ======================================================== */

int bw_tz_valid(const char *zone)
{
    char path[sizeof(ZONEINFO_DIR) + BW_TZ_NAME_MAX + 2];
    unsigned char magic[4];
    struct stat st;
    size_t len, i;
    FILE *f;
    int ok;

    if (zone == NULL) {
        return 0;
    }
    if (strcmp(zone, "UTC") == 0) {
        return 1;
    }
    len = strlen(zone);
    if (len == 0 || len > BW_TZ_NAME_MAX || zone[0] == '/' || zone[0] == ':' ||
        strstr(zone, "..") != NULL) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char c = zone[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '+' ||
              c == '-' || c == '.')) {
            return 0;
        }
    }
    snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, zone);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    /* zone.tab, leapseconds, tzdata.zi are regular files but not zones */
    f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    ok = fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
         memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}

int bw_tz_set(const char *zone)
{
    char value[sizeof(ZONEINFO_DIR) + BW_TZ_NAME_MAX + 2];
    char shown[80];

    if (!bw_tz_valid(zone)) {
        BW_ERROR("unknown time zone '%s': no such zone in " ZONEINFO_DIR
                 "; use an IANA name such as Europe/Berlin or UTC "
                 "(package tzdata)",
                 printable(zone, shown, sizeof(shown)));
        return BW_ECONFIG;
    }
    /*
     * The absolute path makes glibc read the very file we checked, whatever
     * TZDIR says. "UTC" needs no file: "UTC0" is a POSIX TZ string.
     */
    if (strcmp(zone, "UTC") == 0) {
        snprintf(value, sizeof(value), "%s", "UTC0");
    } else {
        snprintf(value, sizeof(value), "%s/%s", ZONEINFO_DIR, zone);
    }
    if (setenv("TZ", value, 1) != 0) {
        BW_ERROR("cannot set TZ for time zone '%s': out of memory",
                 printable(zone, shown, sizeof(shown)));
        return BW_ENOMEM;
    }
    tzset();
    snprintf(cur_zone, sizeof(cur_zone), "%s", zone);
    return 0;
}

const char *bw_tz_current(void)
{
    return cur_zone;
}

/* ==== calendar arithmetic =============================================== */

int64_t bw_days_from_civil(int64_t year, int month, int day)
{
    int64_t m = month, era, yoe, doy, doe;

    /* normalise the month, so month 13 is January of the next year */
    year += floor_div(m - 1, 12);
    m = floor_mod(m - 1, 12) + 1;
    year -= m <= 2;
    era = floor_div(year, 400);
    yoe = year - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void bw_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 719468, era, doe, yoe, doy, mp;

    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int bw_days_in_month(int64_t year, int month)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (month < 1 || month > 12) {
        return 0;
    }
    return dim[month - 1] + (month == 2 && is_leap(year));
}

int bw_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday */
    return (int)floor_mod(days + 4, 7);
}

/* Day number of the Monday of ISO week 1: the week holding January 4. */
static int64_t week1_monday(int64_t year)
{
    int64_t jan4 = bw_days_from_civil(year, 1, 4);

    return jan4 - (bw_weekday(jan4) + 6) % 7;
}

int bw_weeks_in_year(int year)
{
    return (int)((week1_monday((int64_t)year + 1) - week1_monday(year)) / 7);
}

void bw_iso_week_of_date(int64_t year, int month, int day, int *iso_year,
                         int *week)
{
    int64_t z = bw_days_from_civil(year, month, day), ty;
    int64_t thursday = z - (bw_weekday(z) + 6) % 7 + 3;
    int tm, td;

    /* the ISO year is the year of the week's Thursday */
    bw_civil_from_days(thursday, &ty, &tm, &td);
    *iso_year = (int)ty;
    *week = (int)((thursday - bw_days_from_civil(ty, 1, 1)) / 7 + 1);
}

/* ==== local time ======================================================== */

static int local_tm(int64_t t, struct tm *tm)
{
    time_t tt;

    if (t < -TIME_LIMIT || t > TIME_LIMIT) {
        return BW_EPARSE;
    }
    tt = (time_t)t;
    if (localtime_r(&tt, tm) == NULL) {
        return BW_EPARSE;
    }
    return 0;
}

int bw_local_wall(int64_t t, int64_t *wall)
{
    struct tm tm;

    if (local_tm(t, &tm) != 0) {
        return BW_EPARSE;
    }
    *wall = t + tm.tm_gmtoff;
    return 0;
}

/* Add the offset in effect at instant t to offs[] unless known. */
static int add_offset(int64_t t, int64_t *offs, int *n, int max)
{
    struct tm tm;
    int i;

    if (local_tm(t, &tm) != 0) {
        return BW_EPARSE;
    }
    for (i = 0; i < *n; i++) {
        if (offs[i] == tm.tm_gmtoff) {
            return 0;
        }
    }
    if (*n < max) {
        offs[(*n)++] = tm.tm_gmtoff;
    }
    return 0;
}

/* The first instant in (lo, hi] whose wall time reaches wall. */
static int64_t gap_end(int64_t wall, int64_t lo, int64_t hi)
{
    int64_t w, mid;

    if (bw_local_wall(lo, &w) != 0 || w >= wall || bw_local_wall(hi, &w) != 0 ||
        w < wall) {
        return BW_TIME_NONE;
    }
    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        if (bw_local_wall(mid, &w) != 0) {
            return BW_TIME_NONE;
        }
        if (w >= wall) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    return hi;
}

int64_t bw_local_resolve(int64_t wall)
{
    int64_t offs[8], best = BW_TIME_NONE, omin, omax, t, w;
    int n = 0, i;

    if (wall < -TIME_LIMIT || wall > TIME_LIMIT) {
        return BW_TIME_NONE;
    }
    /*
     * An instant whose wall time is `wall` is wall - offset for an offset in
     * effect at that instant. Collect the offsets in effect around it, then
     * those at each candidate (one transition in 52 hours is the real world;
     * the second pass covers two).
     */
    if (add_offset(wall - PROBE_SPAN, offs, &n, 8) != 0 ||
        add_offset(wall, offs, &n, 8) != 0 ||
        add_offset(wall + PROBE_SPAN, offs, &n, 8) != 0) {
        return BW_TIME_NONE;
    }
    for (i = 0; i < n && i < 8; i++) {
        if (add_offset(wall - offs[i], offs, &n, 8) != 0) {
            return BW_TIME_NONE;
        }
    }
    omin = omax = offs[0];
    for (i = 0; i < n; i++) {
        t = wall - offs[i];
        if (bw_local_wall(t, &w) == 0 && w == wall &&
            (best == BW_TIME_NONE || t < best)) {
            best = t; /* the first of two in a fall-back fold */
        }
        omin = offs[i] < omin ? offs[i] : omin;
        omax = offs[i] > omax ? offs[i] : omax;
    }
    if (best != BW_TIME_NONE) {
        return best;
    }
    /* skipped by a spring-forward gap: the instant the gap ends */
    return gap_end(wall, wall - omax, wall - omin);
}

int64_t bw_day_start(int year, int month, int day)
{
    return bw_local_resolve(bw_days_from_civil(year, month, day) * 86400);
}

int bw_day_of(int64_t t, int *year, int *month, int *day)
{
    struct tm tm;

    if (local_tm(t, &tm) != 0) {
        return BW_EPARSE;
    }
    *year = tm.tm_year + 1900;
    *month = tm.tm_mon + 1;
    *day = tm.tm_mday;
    return 0;
}

/* ==== ISO weeks ========================================================= */

int64_t bw_week_start(int year, int week)
{
    int64_t monday = week1_monday(year) + ((int64_t)week - 1) * 7;

    return bw_local_resolve(monday * 86400);
}

int64_t bw_week_end(int year, int week)
{
    int64_t monday = week1_monday(year) + (int64_t)week * 7;

    return bw_local_resolve(monday * 86400);
}

int bw_week_of(int64_t t, int *year, int *week)
{
    int y, m, d;

    if (bw_day_of(t, &y, &m, &d) != 0) {
        return BW_EPARSE;
    }
    bw_iso_week_of_date(y, m, d, year, week);
    return 0;
}

void bw_week_prev(int *year, int *week)
{
    if (*week <= 1) {
        *year -= 1;
        *week = bw_weeks_in_year(*year);
    } else {
        *week -= 1;
    }
}

void bw_week_next(int *year, int *week)
{
    if (*week >= bw_weeks_in_year(*year)) {
        *year += 1;
        *week = 1;
    } else {
        *week += 1;
    }
}

int bw_last_complete_week(int64_t now, int *year, int *week)
{
    if (bw_week_of(now, year, week) != 0) {
        return BW_EPARSE;
    }
    bw_week_prev(year, week);
    return 0;
}

char *bw_week_format(int year, int week, char buf[BW_TIME_BUFSZ])
{
    snprintf(buf, BW_TIME_BUFSZ, "%04d-W%02d", year, week);
    return buf;
}

/* ==== months ============================================================ */

int64_t bw_month_start(int year, int month)
{
    return bw_local_resolve(bw_days_from_civil(year, month, 1) * 86400);
}

int64_t bw_month_end(int year, int month)
{
    int64_t y = year + floor_div((int64_t)month - 1, 12);
    int m = (int)floor_mod((int64_t)month - 1, 12) + 1;

    if (m == 12) {
        y++;
        m = 0;
    }
    return bw_local_resolve(bw_days_from_civil(y, m + 1, 1) * 86400);
}

int bw_month_of(int64_t t, int *year, int *month)
{
    int d;

    return bw_day_of(t, year, month, &d);
}

void bw_month_prev(int *year, int *month)
{
    if (*month <= 1) {
        *year -= 1;
        *month = 12;
    } else {
        *month -= 1;
    }
}

void bw_month_next(int *year, int *month)
{
    if (*month >= 12) {
        *year += 1;
        *month = 1;
    } else {
        *month += 1;
    }
}

char *bw_month_format(int year, int month, char buf[BW_TIME_BUFSZ])
{
    snprintf(buf, BW_TIME_BUFSZ, "%04d-%02d", year, month);
    return buf;
}

/* ==== formatting ======================================================== */

char *bw_format_iso8601_utc(int64_t t, char buf[BW_TIME_BUFSZ])
{
    int64_t days = t / 86400, sod = t % 86400, y;
    int m, d;

    if (sod < 0) { /* (not t - floor * 86400: that overflows at INT64_MIN) */
        sod += 86400;
        days--;
    }
    bw_civil_from_days(days, &y, &m, &d);
    snprintf(buf, BW_TIME_BUFSZ, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
             (long long)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
             (int)(sod % 60));
    return buf;
}

int bw_format_date_local(int64_t t, char buf[BW_TIME_BUFSZ])
{
    int y, m, d;

    buf[0] = '\0';
    if (bw_day_of(t, &y, &m, &d) != 0) {
        return BW_EPARSE;
    }
    snprintf(buf, BW_TIME_BUFSZ, "%04d-%02d-%02d", y, m, d);
    return 0;
}

int bw_format_jql_minute(int64_t t, const char *zone, char buf[BW_TIME_BUFSZ])
{
    char saved_zone[BW_TZ_NAME_MAX + 1];
    char *saved_tz = NULL;
    const char *env;
    int had_tz = 0, switched = 0, rc;
    struct tm tm;

    buf[0] = '\0';
    if (zone != NULL && strcmp(zone, cur_zone) != 0) {
        if (!bw_tz_valid(zone)) {
            rc = bw_tz_set(zone); /* logs the message, returns BW_ECONFIG */
            goto out;
        }
        env = getenv("TZ");
        if (env != NULL) {
            had_tz = 1;
            saved_tz = bw_strdup(env);
            if (saved_tz == NULL) {
                rc = BW_ENOMEM;
                goto out;
            }
        }
        memcpy(saved_zone, cur_zone, sizeof(saved_zone));
        rc = bw_tz_set(zone);
        if (rc != 0) {
            goto out;
        }
        switched = 1;
    }
    rc = local_tm(t, &tm);
    /* (the length is checked to tell gcc the fields are small) */
    if (rc == 0 && snprintf(buf, BW_TIME_BUFSZ, "%04d-%02d-%02d %02d:%02d",
                            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                            tm.tm_hour, tm.tm_min) >= BW_TIME_BUFSZ) {
        rc = BW_EPARSE;
    }
out:
    if (switched) {
        if (had_tz ? setenv("TZ", saved_tz, 1) : unsetenv("TZ")) {
            BW_ERROR("cannot restore TZ after formatting a JQL time: "
                     "out of memory");
        }
        tzset();
        memcpy(cur_zone, saved_zone, sizeof(cur_zone));
    }
    bw_free(saved_tz);
    return rc;
}

/* ==== parsers =========================================================== */

/* n decimal digits at s[*pos] (within len) into *out. */
static int take_digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
    int v = 0, i;

    if (*pos > len || len - *pos < (size_t)n) {
        return BW_EPARSE;
    }
    for (i = 0; i < n; i++) {
        char c = s[*pos + (size_t)i];

        if (c < '0' || c > '9') {
            return BW_EPARSE;
        }
        v = v * 10 + (c - '0');
    }
    *pos += (size_t)n;
    *out = v;
    return 0;
}

static int take_char(const char *s, size_t len, size_t *pos, const char *set)
{
    if (*pos >= len || s[*pos] == '\0' || strchr(set, s[*pos]) == NULL) {
        return BW_EPARSE;
    }
    (*pos)++;
    return 0;
}

/* YYYY-MM-DD at s[*pos], range-checked. */
static int take_ymd(const char *s, size_t len, size_t *pos, int *y, int *m,
                    int *d)
{
    if (take_digits(s, len, pos, 4, y) != 0 ||
        take_char(s, len, pos, "-") != 0 ||
        take_digits(s, len, pos, 2, m) != 0 ||
        take_char(s, len, pos, "-") != 0 ||
        take_digits(s, len, pos, 2, d) != 0) {
        return BW_EPARSE;
    }
    if (*m < 1 || *m > 12 || *d < 1 || *d > bw_days_in_month(*y, *m)) {
        return BW_EPARSE;
    }
    return 0;
}

/* Z, or +HH, +HHMM, +HH:MM (or '-'), to seconds east of UTC. */
static int take_zone(const char *s, size_t len, size_t *pos, int64_t *off)
{
    int sign, oh, om = 0;

    if (*pos < len && (s[*pos] == 'Z' || s[*pos] == 'z')) {
        (*pos)++;
        *off = 0;
        return 0;
    }
    if (*pos >= len || (s[*pos] != '+' && s[*pos] != '-')) {
        return BW_EPARSE;
    }
    sign = s[(*pos)++] == '-' ? -1 : 1;
    if (take_digits(s, len, pos, 2, &oh) != 0 || oh > 23) {
        return BW_EPARSE;
    }
    if (*pos < len && s[*pos] == ':') {
        (*pos)++;
        if (take_digits(s, len, pos, 2, &om) != 0) {
            return BW_EPARSE;
        }
    } else if (*pos < len) {
        if (take_digits(s, len, pos, 2, &om) != 0) {
            return BW_EPARSE;
        }
    }
    if (om > 59) {
        return BW_EPARSE;
    }
    *off = sign * (int64_t)(oh * 3600 + om * 60);
    return 0;
}

int bw_parse_iso8601(const char *s, size_t len, int64_t *out)
{
    size_t pos = 0;
    int y, mo, d, h, mi, sec = 0;
    int64_t off;

    if (s == NULL || take_ymd(s, len, &pos, &y, &mo, &d) != 0 ||
        take_char(s, len, &pos, "Tt ") != 0 ||
        take_digits(s, len, &pos, 2, &h) != 0 ||
        take_char(s, len, &pos, ":") != 0 ||
        take_digits(s, len, &pos, 2, &mi) != 0) {
        return BW_EPARSE;
    }
    if (pos < len && s[pos] == ':') {
        pos++;
        if (take_digits(s, len, &pos, 2, &sec) != 0) {
            return BW_EPARSE;
        }
        if (pos < len && (s[pos] == '.' || s[pos] == ',')) {
            /* a fraction: at least one digit, truncated */
            pos++;
            if (pos >= len || s[pos] < '0' || s[pos] > '9') {
                return BW_EPARSE;
            }
            while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
                pos++;
            }
        }
    }
    if (h > 23 || mi > 59 || sec > 60 || take_zone(s, len, &pos, &off) != 0 ||
        pos != len) {
        return BW_EPARSE;
    }
    *out =
        bw_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    return 0;
}

static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0') {
        n++;
    }
    return n;
}

int bw_parse_date(const char *s, int64_t *out)
{
    size_t pos = 0, len;
    int y, m, d;
    int64_t t;

    if (s == NULL) {
        return BW_EPARSE;
    }
    len = bounded_len(s, 11);
    if (len != 10 || take_ymd(s, len, &pos, &y, &m, &d) != 0) {
        return BW_EPARSE;
    }
    t = bw_day_start(y, m, d);
    if (t == BW_TIME_NONE) {
        return BW_EPARSE;
    }
    *out = t;
    return 0;
}

int bw_parse_week(const char *s, int *year, int *week)
{
    size_t pos = 0, len;
    int y, w;

    if (s == NULL) {
        return BW_EPARSE;
    }
    len = bounded_len(s, 9);
    if (len != 8 || take_digits(s, len, &pos, 4, &y) != 0 ||
        take_char(s, len, &pos, "-") != 0 ||
        take_char(s, len, &pos, "Ww") != 0 ||
        take_digits(s, len, &pos, 2, &w) != 0) {
        return BW_EPARSE;
    }
    if (w < 1 || w > bw_weeks_in_year(y)) {
        return BW_EPARSE;
    }
    *year = y;
    *week = w;
    return 0;
}

int bw_parse_day_or_week(const char *s, int flag, int64_t *out, int *is_week)
{
    size_t pos = 0, len;
    int y, m, d, w;
    int64_t t;

    if (s == NULL) {
        return BW_EPARSE;
    }
    len = bounded_len(s, 11);
    if (len == 8) {
        if (bw_parse_week(s, &y, &w) != 0) {
            return BW_EPARSE;
        }
        t = flag == BW_DAY_TO ? bw_week_end(y, w) : bw_week_start(y, w);
    } else if (len == 10 && take_ymd(s, len, &pos, &y, &m, &d) == 0) {
        t = bw_day_start(y, m, flag == BW_DAY_TO ? d + 1 : d);
    } else {
        return BW_EPARSE;
    }
    if (t == BW_TIME_NONE) {
        return BW_EPARSE;
    }
    *out = t;
    if (is_week != NULL) {
        *is_week = len == 8;
    }
    return 0;
}
