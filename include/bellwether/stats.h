/*
 * stats.h - the statistics and presentation rules of METRICS.md, shared by
 * the report and the query command so both print the same numbers.
 *
 * Pure functions over arrays of doubles. "No data" is NAN throughout:
 * percentiles, means, minima, maxima and ratios over nothing are NAN,
 * counts and sums over nothing are 0.
 */
#ifndef BW_STATS_H
#define BW_STATS_H

#include <stddef.h>

#include "bellwether/buf.h"

struct bw_stats {
    size_t count;
    double sum, mean, min, max;
    double p50, p75, p85, p90, p95, p99;
};

/*
 * Percentile q (0..1) of n sorted values: linear interpolation between
 * closest ranks at position (n-1)*q (numpy's default). NAN when n == 0.
 */
double bw_percentile_sorted(const double *v, size_t n, double q);
/* Sort v in place (ascending) and fill out. NAN values are ignored. */
void bw_stats_compute(double *v, size_t n, struct bw_stats *out);
/* A statistic by name (count, sum, mean, min, max, p50, p75, p85, p90,
 * p95, p99); *ok = 0 for an unknown name. */
double bw_stats_get(const struct bw_stats *s, const char *name, int *ok);
/* Is name a statistic bw_stats_get knows? */
int bw_stat_known(const char *name);

/*
 * Week-over-week change: (this - last) / last * 100 (percent), or for a
 * ratio metric (this - last) * 100 (percentage points). NAN when last is 0
 * or either is NAN, ratios included (METRICS.md).
 */
double bw_delta(double this_value, double last_value, int is_ratio);

/* Append the sparkline of n values (NAN = no data) as UTF-8 to b. */
int bw_sparkline(struct bw_buf *b, const double *v, size_t n);

enum bw_target_status {
    BW_TS_NONE = 0, /* no target, or no data */
    BW_TS_ON_TRACK,
    BW_TS_AT_RISK,
    BW_TS_OFF_TRACK
};

struct bw_target_bound {
    int has_max, has_min;
    double max, min;
    double margin; /* at_risk_margin, e.g. 0.1 */
};

/*
 * Status of value against the bound, given the previous week's status
 * (BW_TS_NONE when it had no data or there was none).
 */
int bw_target_status(const struct bw_target_bound *t, double value,
                     int prev_status);
/* "on track", "at risk", "off track", "" */
const char *bw_target_status_name(int status);

/*
 * Markdown presentation of a value of the given unit (enum bw_metric_unit):
 * hours and days one decimal, counts and lines integers, ratios whole
 * percentages; NAN as an en dash.
 */
int bw_format_value(struct bw_buf *b, double v, int unit);
/* Signed delta: "+12%" / "-3%", or "+5 pp" for ratios; NAN as an en dash. */
int bw_format_delta(struct bw_buf *b, double delta, int is_ratio);

#endif
