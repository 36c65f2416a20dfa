/*
 * fuzz_cron.c - the cron parser and bw_cron_next() on arbitrary input.
 * Never crash; a refused expression has a message; an accepted one gives
 * due times that increase, that are found again from one second before,
 * and whose local time matches the expression unless the instant ends a
 * spring-forward gap (where skipped times run).
 *
 * Input: the first byte picks the time zone (value modulo the table:
 * '0' UTC, '1' Berlin, '2' New York, '3' Sao Paulo, '4' Lord Howe,
 * '5' Apia); then the expression; optionally '|' and the decimal epoch
 * seconds to start after (else a point in 2026-2029 derived from the
 * input). Corpus files are plain text: "10 8 * * 1|1774738800" is
 * "0 8 * * 1" in Berlin after 2026-03-28T23:00:00Z.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/mem.h"
#include "bellwether/schedule.h"

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
        i = 0;
    }
    CHECK(bw_tz_set(zones[i]) == 0);
    current = i;
}

/* The local time of a due instant matches, or the instant ends a gap. */
static void check_due(const struct bw_cron *c, int64_t t)
{
    int64_t wall, before, sod, days, y;
    int m, d;

    CHECK(bw_local_wall(t, &wall) == 0);
    CHECK(bw_local_wall(t - 1, &before) == 0);
    if (before + 1 != wall) {
        return; /* the clock jumped: times in the gap run here */
    }
    days = wall >= 0 ? wall / 86400 : -((-wall + 86399) / 86400);
    sod = wall - days * 86400;
    CHECK(sod % 60 == 0);
    bw_civil_from_days(days, &y, &m, &d);
    CHECK((c->minutes >> (sod / 60 % 60)) & 1);
    CHECK((c->hours >> (sod / 3600)) & 1);
    CHECK(bw_cron_day_matches(c, y, m, d));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bw_cron c;
    char err[160];
    char *expr, *bar;
    int64_t after = 0, t, n;
    uint32_t h = 2166136261u;
    size_t i;
    int rc, k;

    if (size == 0 || size > 4096) {
        return 0;
    }
    pick_zone(data[0]);
    expr = bw_malloc(size);
    if (expr == NULL) {
        return 0;
    }
    memcpy(expr, data + 1, size - 1);
    expr[size - 1] = '\0';
    for (i = 0; i < size; i++) {
        h = (h ^ data[i]) * 16777619u;
    }
    /* 2026-01-01 plus up to four years */
    after = INT64_C(1767225600) + (int64_t)(h % (4u * 366u * 86400u));
    bar = strchr(expr, '|');
    if (bar != NULL) {
        *bar = '\0';
        after = 0;
        for (bar++; *bar >= '0' && *bar <= '9' && after < INT64_C(1) << 40;
             bar++) {
            after = after * 10 + (*bar - '0');
        }
    }

    err[0] = 'x';
    rc = bw_cron_parse(expr, &c, err, sizeof(err));
    CHECK(bw_cron_validate(expr, NULL, 0) == rc);
    if (rc != 0) {
        CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        goto out;
    }
    CHECK(err[0] == '\0');
    t = after;
    for (k = 0; k < 6; k++) {
        n = bw_cron_next(&c, t);
        if (n == BW_TIME_NONE) {
            break;
        }
        CHECK(n > t);
        CHECK(bw_cron_next(&c, n - 1) == n);
        check_due(&c, n);
        t = n;
    }
out:
    bw_free(expr);
    return 0;
}
