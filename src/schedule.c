/*
 * schedule.c - cron expressions for the daemon's [schedule]: the parser
 * (Vixie syntax, messages that name the field) and the next due instant in
 * the report time zone under bellwether's daylight-saving rule.
 *
 * A parsed expression is a bit set per field. Finding the next due time
 * works on local wall times (clock.h): next_wall() walks days, skipping
 * months that cannot match, to the first matching minute at or after a wall
 * time, by bit arithmetic; bw_cron_next() maps it to an instant with
 * bw_local_resolve() ("the first instant the local clock reaches it"), which
 * is monotonic in the wall time. So the first matching wall time whose
 * instant lies after `after` gives the answer. Wall times up to wall(after)
 * always map at or before `after` and are skipped outright; after them only
 * the minutes of a repeated (fall-back) hour can map before `after`, so the
 * loop runs at most about 60 times past the first candidate.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/schedule.h"

/* The calendar repeats every 400 years; searching further is pointless. */
#define HORIZON_DAYS INT64_C(146097)
/* Candidates tried by bw_cron_next(): more than any fold holds minutes. */
#define MAX_CANDIDATES 100000

enum {
    F_MINUTE,
    F_HOUR,
    F_DOM,
    F_MONTH,
    F_DOW,
    NFIELDS
};

struct field {
    const char *name;
    int lo, hi;
    const char *const *names; /* names[v - lo], or NULL */
    int nnames;
    const char *what; /* how names are described in messages */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr",
                                          "may", "jun", "jul", "aug",
                                          "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed",
                                        "thu", "fri", "sat"};

static const struct field fields[NFIELDS] = {
    {"minute", 0, 59, NULL, 0, NULL},
    {"hour", 0, 23, NULL, 0, NULL},
    {"day of month", 1, 31, NULL, 0, NULL},
    {"month", 1, 12, month_names, 12, "a month name (jan-dec)"},
    {"day of week", 0, 7, day_names, 7, "a day name (sun-sat)"},
};

static const struct {
    const char *name, *expr;
} macros[] = {
    {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* ==== messages ========================================================== */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* s[0..len) for a message: printable ASCII, cut to 24 bytes with "...". */
static const char *shown(const char *s, size_t len, char out[32])
{
    size_t i, n = len > 24 ? 24 : len;

    for (i = 0; i < n; i++) {
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    }
    if (len > n) {
        memcpy(out + n, "...", 4);
    } else {
        out[n] = '\0';
    }
    return out;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* ==== parsing =========================================================== */

/*
 * One value at s[*pos] (the element is s[elem..elem_end)): a number within
 * the field's range or one of its names.
 */
static int parse_value(const struct field *f, const char *s, size_t elem,
                       size_t elem_end, size_t *pos, int *v, char *err,
                       size_t errlen)
{
    size_t start = *pos, i;
    long n = 0;
    char t1[32], t2[32];

    if (start >= elem_end) {
        if (elem == elem_end) {
            set_err(err, errlen, "%s: empty list element", f->name);
        } else {
            set_err(err, errlen, "%s: missing a value in '%s'", f->name,
                    shown(s + elem, elem_end - elem, t1));
        }
        return BW_EPARSE;
    }
    if (is_digit(s[start])) {
        while (*pos < elem_end && is_digit(s[*pos])) {
            n = n < 100000 ? n * 10 + (s[*pos] - '0') : n;
            (*pos)++;
        }
        if (n < f->lo || n > f->hi) {
            set_err(err, errlen, "%s: %s is out of range (%d-%d)", f->name,
                    shown(s + start, *pos - start, t1), f->lo, f->hi);
            return BW_EPARSE;
        }
        *v = (int)n;
        return 0;
    }
    if (is_alpha(s[start])) {
        while (*pos < elem_end && (is_alpha(s[*pos]) || is_digit(s[*pos]))) {
            (*pos)++;
        }
        for (i = 0; f->names != NULL && (int)i < f->nnames; i++) {
            if (*pos - start == 3 && lower(s[start]) == f->names[i][0] &&
                lower(s[start + 1]) == f->names[i][1] &&
                lower(s[start + 2]) == f->names[i][2]) {
                *v = f->lo + (int)i;
                return 0;
            }
        }
        set_err(err, errlen, "%s: '%s' is not a number%s%s", f->name,
                shown(s + start, *pos - start, t1), f->what ? " or " : "",
                f->what ? f->what : "");
        return BW_EPARSE;
    }
    set_err(err, errlen, "%s: unexpected '%s' in '%s'", f->name,
            shown(s + start, 1, t1), shown(s + elem, elem_end - elem, t2));
    return BW_EPARSE;
}

/* The step after '/' at s[*pos]: 1 .. the field's span. */
static int parse_step(const struct field *f, const char *s, size_t elem,
                      size_t elem_end, size_t *pos, int *step, char *err,
                      size_t errlen)
{
    size_t start = *pos;
    long n = 0;
    char t1[32], t2[32];

    while (*pos < elem_end && is_digit(s[*pos])) {
        n = n < 100000 ? n * 10 + (s[*pos] - '0') : n;
        (*pos)++;
    }
    if (*pos == start) {
        set_err(err, errlen, "%s: missing step after '/' in '%s'", f->name,
                shown(s + elem, elem_end - elem, t1));
        return BW_EPARSE;
    }
    if (n == 0) {
        set_err(err, errlen, "%s: step 0 in '%s' is invalid (use 1 or more)",
                f->name, shown(s + elem, elem_end - elem, t1));
        return BW_EPARSE;
    }
    if (n > f->hi - f->lo + 1) {
        set_err(err, errlen,
                "%s: step %s is larger than the field's range (%d-%d)", f->name,
                shown(s + start, *pos - start, t2), f->lo, f->hi);
        return BW_EPARSE;
    }
    *step = (int)n;
    return 0;
}

/* One comma-separated element s[elem..elem_end) into *bits. */
static int parse_element(const struct field *f, const char *s, size_t elem,
                         size_t elem_end, uint64_t *bits, char *err,
                         size_t errlen)
{
    size_t pos = elem;
    int a, b, step = 1, ranged = 0, v;
    char t1[32], t2[32];

    if (pos < elem_end && s[pos] == '*') {
        pos++;
        a = f->lo;
        b = f->hi;
        ranged = 1;
    } else {
        if (parse_value(f, s, elem, elem_end, &pos, &a, err, errlen) != 0) {
            return BW_EPARSE;
        }
        b = a;
        if (pos < elem_end && s[pos] == '-') {
            pos++;
            if (parse_value(f, s, elem, elem_end, &pos, &b, err, errlen) != 0) {
                return BW_EPARSE;
            }
            ranged = 1;
            /* "fri-sun": Sunday as the end of a range is 7 */
            if (f == &fields[F_DOW] && b == 0 && a > 0) {
                b = 7;
            }
            if (a > b) {
                set_err(err, errlen,
                        "%s: range '%s' is reversed (write the smaller "
                        "value first; ranges do not wrap around)",
                        f->name, shown(s + elem, elem_end - elem, t1));
                return BW_EPARSE;
            }
        }
    }
    if (pos < elem_end && s[pos] == '/') {
        if (!ranged) {
            set_err(err, errlen,
                    "%s: a step needs a range or '*' in '%s' (write "
                    "%d-%d/N or */N)",
                    f->name, shown(s + elem, elem_end - elem, t1), a, f->hi);
            return BW_EPARSE;
        }
        pos++;
        if (parse_step(f, s, elem, elem_end, &pos, &step, err, errlen) != 0) {
            return BW_EPARSE;
        }
    }
    if (pos < elem_end) {
        set_err(err, errlen, "%s: unexpected '%s' in '%s'", f->name,
                shown(s + pos, 1, t1), shown(s + elem, elem_end - elem, t2));
        return BW_EPARSE;
    }
    for (v = a; v <= b; v += step) {
        *bits |= UINT64_C(1) << v;
    }
    return 0;
}

static int parse_field(const struct field *f, const char *s, size_t len,
                       uint64_t *bits, char *err, size_t errlen)
{
    size_t elem = 0, end;

    *bits = 0;
    for (;;) {
        end = elem;
        while (end < len && s[end] != ',') {
            end++;
        }
        if (parse_element(f, s, elem, end, bits, err, errlen) != 0) {
            return BW_EPARSE;
        }
        if (end >= len) {
            return 0;
        }
        elem = end + 1; /* past the ',' ("1," ends in an empty element) */
    }
}

int bw_cron_day_matches(const struct bw_cron *c, int64_t year, int month,
                        int day)
{
    int dom_ok, dow_ok;

    if (month < 1 || month > 12 || day < 1 || day > 31 ||
        !((c->months >> month) & 1)) {
        return 0;
    }
    dom_ok = (c->days >> day) & 1;
    dow_ok =
        (c->weekdays >> bw_weekday(bw_days_from_civil(year, month, day))) & 1;
    if (c->dom_star || c->dow_star) {
        return dom_ok && dow_ok;
    }
    return dom_ok || dow_ok;
}

/*
 * The first matching local wall minute at or after wall time x (a whole
 * minute), or BW_TIME_NONE within HORIZON_DAYS.
 */
static int64_t next_wall(const struct bw_cron *c, int64_t x)
{
    int64_t day = x >= 0 ? x / 86400 : -((-x + 86399) / 86400);
    int64_t last = day + HORIZON_DAYS, y;
    int sod = (int)(x - day * 86400), h0 = sod / 3600, m0 = sod / 60 % 60;
    int m, d, h, bit;
    uint64_t mins;

    while (day <= last) {
        bw_civil_from_days(day, &y, &m, &d);
        if (!((c->months >> m) & 1)) {
            /* jump to the 1st of the next month */
            day = bw_days_from_civil(y, m + 1, 1);
            h0 = m0 = 0;
            continue;
        }
        if (bw_cron_day_matches(c, y, m, d)) {
            for (h = h0; h < 24; h++) {
                if (!((c->hours >> h) & 1)) {
                    continue;
                }
                mins = c->minutes & (~UINT64_C(0) << (h == h0 ? m0 : 0));
                if (mins != 0) {
                    for (bit = 0; !((mins >> bit) & 1); bit++) {
                    }
                    return day * 86400 + h * 3600 + bit * 60;
                }
            }
        }
        day++;
        h0 = m0 = 0;
    }
    return BW_TIME_NONE;
}

/* The five fields of a macro-free expression. */
static int parse_fields(const char *expr, struct bw_cron *out, char *err,
                        size_t errlen)
{
    size_t start[NFIELDS], len[NFIELDS], i = 0, n = 0;
    uint64_t bits[NFIELDS];
    int k;

    while (expr[i] != '\0') {
        while (is_blank(expr[i])) {
            i++;
        }
        if (expr[i] == '\0') {
            break;
        }
        if (n < NFIELDS) {
            start[n] = i;
        }
        while (expr[i] != '\0' && !is_blank(expr[i])) {
            i++;
        }
        if (n < NFIELDS) {
            len[n] = i - start[n];
        }
        n++;
    }
    if (n != NFIELDS) {
        set_err(err, errlen,
                "%s: expected 5 fields (minute hour day-of-month month "
                "day-of-week), found %zu",
                n == 0 ? "empty expression" : "wrong number of fields", n);
        return BW_EPARSE;
    }
    for (k = 0; k < NFIELDS; k++) {
        if (parse_field(&fields[k], expr + start[k], len[k], &bits[k], err,
                        errlen) != 0) {
            return BW_EPARSE;
        }
    }
    memset(out, 0, sizeof(*out));
    out->minutes = bits[F_MINUTE];
    out->hours = (uint32_t)bits[F_HOUR];
    out->days = (uint32_t)bits[F_DOM];
    out->months = (uint16_t)bits[F_MONTH];
    /* Sunday is 0 or 7 */
    out->weekdays = (uint8_t)((bits[F_DOW] | (bits[F_DOW] >> 7)) & 0x7f);
    out->dom_star = expr[start[F_DOM]] == '*';
    out->dow_star = expr[start[F_DOW]] == '*';
    return 0;
}

/* 1 when some day in the 400-year cycle matches (months are never empty). */
static int ever_matches(const struct bw_cron *c)
{
    return next_wall(c, 0) != BW_TIME_NONE;
}

int bw_cron_parse(const char *expr, struct bw_cron *out, char *err,
                  size_t errlen)
{
    const char *p, *e;
    struct bw_cron c;
    size_t i, n;
    char t1[32];

    set_err(err, errlen, "%s", "");
    if (expr == NULL) {
        set_err(err, errlen,
                "empty expression: expected 5 fields (minute "
                "hour day-of-month month day-of-week)");
        return BW_EPARSE;
    }
    for (p = expr; is_blank(*p); p++) {
    }
    if (*p == '@') {
        for (e = p; *e != '\0' && !is_blank(*e); e++) {
        }
        n = (size_t)(e - p);
        while (is_blank(*e)) {
            e++;
        }
        for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
            if (*e == '\0' && strlen(macros[i].name) == n &&
                strncmp(macros[i].name, p, n) == 0) {
                return bw_cron_parse(macros[i].expr, out, err, errlen);
            }
        }
        set_err(err, errlen,
                "'%s' is not a schedule: use 5 fields or one of @hourly, "
                "@daily, @midnight, @weekly, @monthly, @yearly",
                shown(p, strlen(p), t1));
        return BW_EPARSE;
    }
    if (parse_fields(p, &c, err, errlen) != 0) {
        return BW_EPARSE;
    }
    if (!ever_matches(&c)) {
        set_err(err, errlen,
                "%s: never falls on a day the other day fields allow, so "
                "the job would never run",
                c.dom_star ? "day of week" : "day of month");
        return BW_EPARSE;
    }
    *out = c;
    return 0;
}

int bw_cron_validate(const char *expr, char *err, size_t errlen)
{
    struct bw_cron c;

    return bw_cron_parse(expr, &c, err, errlen);
}

/* ==== due times ========================================================= */

int64_t bw_cron_next(const struct bw_cron *c, int64_t after)
{
    int64_t wall, x, w, t;
    int i;

    if (bw_local_wall(after, &wall) != 0) {
        return BW_TIME_NONE;
    }
    /*
     * Every wall time up to wall(after) is first reached at or before
     * `after`, so start at the next whole minute after it.
     */
    x = (wall >= 0 ? wall / 60 : -((-wall + 59) / 60)) * 60 + 60;
    for (i = 0; i < MAX_CANDIDATES; i++) {
        w = next_wall(c, x);
        if (w == BW_TIME_NONE) {
            return BW_TIME_NONE;
        }
        t = bw_local_resolve(w);
        if (t == BW_TIME_NONE) {
            return BW_TIME_NONE;
        }
        if (t > after) {
            return t;
        }
        x = w + 60; /* in a repeated hour's second pass: already done */
    }
    return BW_TIME_NONE;
}
