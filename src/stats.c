/*
 * stats.c - percentiles, deltas, sparklines, target statuses and value
 * formatting, to the letter of METRICS.md ("Statistics and presentation",
 * "Targets").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/metrics.h"
#include "bellwether/stats.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

double bw_percentile_sorted(const double *v, size_t n, double q)
{
    double pos;
    size_t lo;
    double frac;

    if (n == 0) {
        return NAN;
    }
    if (q <= 0) {
        return v[0];
    }
    if (q >= 1) {
        return v[n - 1];
    }
    pos = (double)(n - 1) * q;
    lo = (size_t)floor(pos);
    frac = pos - (double)lo;
    if (lo + 1 >= n) {
        return v[n - 1];
    }
    return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

void bw_stats_compute(double *v, size_t n, struct bw_stats *out)
{
    size_t m = 0;

    /* drop NANs, keeping the order irrelevant: they are sorted next */
    for (size_t i = 0; v != NULL && i < n; i++) {
        if (!isnan(v[i])) {
            v[m++] = v[i];
        }
    }
    if (m > 1) {
        qsort(v, m, sizeof(*v), cmp_double);
    }
    memset(out, 0, sizeof(*out));
    out->count = m;
    for (size_t i = 0; i < m; i++) {
        out->sum += v[i];
    }
    out->mean = m ? out->sum / (double)m : NAN;
    out->min = m ? v[0] : NAN;
    out->max = m ? v[m - 1] : NAN;
    out->p50 = bw_percentile_sorted(v, m, 0.50);
    out->p75 = bw_percentile_sorted(v, m, 0.75);
    out->p85 = bw_percentile_sorted(v, m, 0.85);
    out->p90 = bw_percentile_sorted(v, m, 0.90);
    out->p95 = bw_percentile_sorted(v, m, 0.95);
    out->p99 = bw_percentile_sorted(v, m, 0.99);
}

static const struct {
    const char *name;
    size_t offset;
} stat_fields[] = {
    {"sum", offsetof(struct bw_stats, sum)},
    {"mean", offsetof(struct bw_stats, mean)},
    {"min", offsetof(struct bw_stats, min)},
    {"max", offsetof(struct bw_stats, max)},
    {"p50", offsetof(struct bw_stats, p50)},
    {"p75", offsetof(struct bw_stats, p75)},
    {"p85", offsetof(struct bw_stats, p85)},
    {"p90", offsetof(struct bw_stats, p90)},
    {"p95", offsetof(struct bw_stats, p95)},
    {"p99", offsetof(struct bw_stats, p99)},
};

double bw_stats_get(const struct bw_stats *s, const char *name, int *ok)
{
    *ok = 1;
    if (strcmp(name, "count") == 0) {
        return (double)s->count;
    }
    for (size_t i = 0; i < sizeof(stat_fields) / sizeof(stat_fields[0]); i++) {
        if (strcmp(stat_fields[i].name, name) == 0) {
            return *(const double *)((const char *)s + stat_fields[i].offset);
        }
    }
    *ok = 0;
    return NAN;
}

int bw_stat_known(const char *name)
{
    struct bw_stats s;
    int ok;

    memset(&s, 0, sizeof(s));
    bw_stats_get(&s, name, &ok);
    return ok;
}

double bw_delta(double this_value, double last_value, int is_ratio)
{
    /* METRICS.md: no data when last is 0 or no data, ratios included */
    if (isnan(this_value) || isnan(last_value) || last_value == 0) {
        return NAN;
    }
    if (is_ratio) {
        return (this_value - last_value) * 100.0;
    }
    return (this_value - last_value) / last_value * 100.0;
}

int bw_sparkline(struct bw_buf *b, const double *v, size_t n)
{
    double lo = INFINITY;
    double hi = -INFINITY;
    int rc;

    for (size_t i = 0; i < n; i++) {
        if (!isnan(v[i])) {
            lo = fmin(lo, v[i]);
            hi = fmax(hi, v[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        /* U+2581..U+2588 are E2 96 81..88 in UTF-8 */
        char glyph[3] = {(char)0xE2, (char)0x96, (char)0x84};
        int level;

        if (isnan(v[i])) {
            rc = bw_buf_addch(b, ' ');
        } else {
            if (hi > lo) {
                level = (int)floor(7.0 * (v[i] - lo) / (hi - lo));
                if (level > 7) {
                    level = 7;
                }
                if (level < 0) {
                    level = 0;
                }
                glyph[2] = (char)(0x81 + level);
            }
            rc = bw_buf_add(b, glyph, sizeof(glyph));
        }
        if (rc) {
            return rc;
        }
    }
    return 0;
}

int bw_target_status(const struct bw_target_bound *t, double value,
                     int prev_status)
{
    int inside = 1;
    int near = 0;

    if (isnan(value) || (!t->has_max && !t->has_min)) {
        return BW_TS_NONE;
    }
    if (t->has_max) {
        if (value > t->max) {
            inside = 0;
        } else if (value > t->max * (1.0 - t->margin)) {
            near = 1;
        }
    }
    if (t->has_min) {
        if (value < t->min) {
            inside = 0;
        } else if (value < t->min * (1.0 + t->margin)) {
            near = 1;
        }
    }
    if (!inside) {
        return BW_TS_OFF_TRACK;
    }
    if (near || prev_status == BW_TS_OFF_TRACK) {
        return BW_TS_AT_RISK;
    }
    return BW_TS_ON_TRACK;
}

const char *bw_target_status_name(int status)
{
    switch (status) {
    case BW_TS_ON_TRACK:
        return "on track";
    case BW_TS_AT_RISK:
        return "at risk";
    case BW_TS_OFF_TRACK:
        return "off track";
    default:
        return "";
    }
}

#define EN_DASH "\xE2\x80\x93"

int bw_format_value(struct bw_buf *b, double v, int unit)
{
    if (isnan(v)) {
        return bw_buf_adds(b, EN_DASH);
    }
    switch (unit) {
    case BW_MU_HOURS:
    case BW_MU_DAYS:
        return bw_buf_printf(b, "%.1f", v + 0.0);
    case BW_MU_RATIO:
        return bw_buf_printf(b, "%.0f%%", v * 100.0 + 0.0);
    default:
        return bw_buf_printf(b, "%.0f", v + 0.0);
    }
}

int bw_format_delta(struct bw_buf *b, double delta, int is_ratio)
{
    if (isnan(delta)) {
        return bw_buf_adds(b, EN_DASH);
    }
    /* round first so that -0.4 prints as +0, not -0 */
    delta = round(delta) + 0.0;
    return bw_buf_printf(b, "%+.0f%s", delta, is_ratio ? " pp" : "%");
}
