/*
 * fuzz_dates.c - every date and time parser of clock.c on arbitrary bytes,
 * plus the invariants that tie them to the formatters and the local
 * calendar: a parsed instant formats and parses back to itself, and lies in
 * the week and month bw_week_of()/bw_month_of() give it; a parsed week's
 * start and end bracket it, 6 to 8 days apart.
 *
 * Input: the first byte picks the time zone (its value modulo the table
 * below: '0' UTC, '1' Berlin, '2' New York, '3' Sao Paulo, '4' Lord Howe,
 * '5' Apia), the rest is the text. Corpus files are plain text such as
 * "12026-03-29" (Berlin, "2026-03-29").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/mem.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const zones[] = {"UTC",
                                    "Europe/Berlin",
                                    "America/New_York",
                                    "America/Sao_Paulo",
                                    "Australia/Lord_Howe",
                                    "Pacific/Apia"};

static void pick_zone(uint8_t b)
{
    static int current = -1;
    int i = b % (int)(sizeof(zones) / sizeof(zones[0]));

    if (i == current) {
        return;
    }
    if (!bw_tz_valid(zones[i])) {
        i = 0; /* tzdata missing: UTC still works */
    }
    CHECK(bw_tz_set(zones[i]) == 0);
    current = i;
}

/* t lies in its own week and month. */
static void check_instant(int64_t t)
{
    int y, w, m;
    int64_t start, end;

    if (bw_week_of(t, &y, &w) == 0) {
        start = bw_week_start(y, w);
        end = bw_week_end(y, w);
        CHECK(start != BW_TIME_NONE && end != BW_TIME_NONE);
        CHECK(start <= t && t < end);
    }
    if (bw_month_of(t, &y, &m) == 0) {
        start = bw_month_start(y, m);
        end = bw_month_end(y, m);
        CHECK(start != BW_TIME_NONE && end != BW_TIME_NONE);
        CHECK(start <= t && t < end);
    }
}

static void check_week(const char *s, int y, int w)
{
    char buf[BW_TIME_BUFSZ];
    int64_t start = bw_week_start(y, w), end = bw_week_end(y, w);
    int y2, w2;

    CHECK(w >= 1 && w <= 53);
    CHECK(start != BW_TIME_NONE && end != BW_TIME_NONE);
    /* Apia skipped a whole day in 2011: 6 days is possible */
    CHECK(end - start >= 6 * 86400 && end - start <= 8 * 86400);
    CHECK(bw_week_of(start, &y2, &w2) == 0 && y2 == y && w2 == w);
    CHECK(bw_week_of(end - 1, &y2, &w2) == 0 && y2 == y && w2 == w);
    bw_week_format(y, w, buf);
    CHECK(strncmp(buf, s, 5) == 0 && strcmp(buf + 6, s + 6) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[BW_TIME_BUFSZ];
    char *s;
    int64_t t, back, from, to;
    int y, w, is_week;

    if (size == 0) {
        return 0;
    }
    pick_zone(data[0]);
    data++;
    size--;

    /* length-bounded: the raw bytes, no terminator */
    if (bw_parse_iso8601((const char *)data, size, &t) == 0) {
        /* an offset can push 0000-01-01 or 9999-12-31 out of 4 digits */
        bw_format_iso8601_utc(t, buf);
        if (t >= INT64_C(-62167219200) && t <= INT64_C(253402300799)) {
            CHECK(bw_parse_iso8601(buf, strlen(buf), &back) == 0 && back == t);
        }
        check_instant(t);
    }

    s = bw_malloc(size + 1);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';

    if (bw_parse_date(s, &t) == 0) {
        /* the day starts on that date, or later when the whole day fell in
         * a gap (Apia, 2011-12-30) */
        CHECK(bw_format_date_local(t, buf) == 0);
        CHECK(strcmp(buf, s) >= 0);
        check_instant(t);
    }
    if (bw_parse_week(s, &y, &w) == 0) {
        check_week(s, y, w);
    }
    if (bw_parse_day_or_week(s, BW_DAY_FROM, &from, &is_week) == 0) {
        CHECK(bw_parse_day_or_week(s, BW_DAY_TO, &to, NULL) == 0);
        CHECK(from <= to);
        CHECK(is_week ? to - from >= 6 * 86400 : to - from <= 26 * 3600);
    } else {
        CHECK(bw_parse_day_or_week(s, BW_DAY_TO, &to, NULL) != 0);
    }
    bw_free(s);
    return 0;
}
