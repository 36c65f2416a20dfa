/*
 * schedule.h - 5-field cron expressions ([schedule] in the config) and their
 * due times, for the daemon.
 *
 * Syntax is Vixie cron's: "minute hour day-of-month month day-of-week",
 * fields separated by blanks; each field a comma list of '*', N, A-B, '*' /S
 * or A-B/S; month names jan..dec and day names sun..sat in any case (also
 * as range ends; "fri-sun" ends on Sunday as 7); Sunday is 0 or 7. Like
 * Vixie, "N/S" (a step without a range) is refused; so are reversed ranges
 * ("5-1": ranges do not wrap) and steps of 0 or larger than the field's
 * span ("* /90" in minutes cannot mean every 90 minutes). The @-macros
 * @yearly, @annually, @monthly, @weekly,
 * @daily, @midnight and @hourly are accepted; @reboot is not (it has no
 * due times). An expression whose day-of-month, month and day-of-week can
 * never meet ("0 0 31 2 *") is refused: a daemon job that never runs is a
 * configuration mistake.
 *
 * Day of month and day of week: when both are restricted, a day matches
 * when either does (OR). When either field starts with '*', a day must
 * match both (AND): with a plain '*' that means only the other field
 * counts, and "0 0 * /2 * 5" is odd-numbered Fridays (Vixie's rule).
 * (Star-slash is written "* /" in these comments, which it would otherwise
 * end.)
 *
 * Due times are local wall times in the current zone (bw_tz_set(), the
 * [report] timezone) with bellwether's daylight-saving rule: each matching
 * local time is due at the first instant the local clock reaches it
 * (bw_local_resolve()). So a time repeated by a fall-back change is due at
 * its first occurrence only, and a time skipped by a spring-forward gap is
 * due at the gap's end. Times mapping to one instant are one run: "* /30" on
 * Berlin's 2026-03-29 runs once at 03:00 CEST (01:00Z) for 02:00, 02:30 and
 * 03:00 together; on 2026-10-25 it runs at 02:00 and 02:30 CEST (00:00Z,
 * 00:30Z) and next at 03:00 CET (02:00Z), not in the repeated hour. This
 * is DESIGN.md's rule for every job, not Vixie cron's own DST heuristics.
 */
#ifndef BW_SCHEDULE_H
#define BW_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* A parsed expression: one bit per allowed value. */
struct bw_cron {
    uint64_t minutes;       /* bit m: minute m, 0-59 */
    uint32_t hours;         /* bit h: hour h, 0-23 */
    uint32_t days;          /* bit d: day of month d, 1-31 */
    uint16_t months;        /* bit m: month m, 1-12 */
    uint8_t weekdays;       /* bit w: 0 = Sunday .. 6 = Saturday */
    unsigned char dom_star; /* the day-of-month field began with '*' */
    unsigned char dow_star; /* the day-of-week field began with '*' */
};

/*
 * Check a cron expression. 0, or BW_EPARSE with a one-line message in err
 * (errlen bytes, always terminated; err may be NULL) naming the field
 * ("minute", "hour", "day of month", "month", "day of week") and what is
 * wrong, e.g. "hour: 24 is out of range (0-23)". The caller adds where the
 * expression came from.
 */
int bw_cron_validate(const char *expr, char *err, size_t errlen);

/* Parse expr into *out; same results and messages as bw_cron_validate(). */
int bw_cron_parse(const char *expr, struct bw_cron *out, char *err,
                  size_t errlen);

/* 1 when the local calendar day (year, month 1-12, day) matches c. */
int bw_cron_day_matches(const struct bw_cron *c, int64_t year, int month,
                        int day);

/*
 * The first due instant strictly after `after`, in the current zone, with
 * the daylight-saving rule above; BW_TIME_NONE (clock.h) when there is none
 * within 400 years or `after` is out of range. Cost: a walk over days to
 * the next matching one, then a few localtime_r() calls per candidate
 * minute; never a scan minute by minute.
 */
int64_t bw_cron_next(const struct bw_cron *c, int64_t after);

#endif
