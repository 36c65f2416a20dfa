/*
 * metrics.h - the catalogue of METRICS.md: every metric's name, unit, kind
 * and one-line definition. `bellwether metrics`, `query`, the report's
 * definitions footer and [target] validation all read this one table.
 */
#ifndef BW_METRICS_H
#define BW_METRICS_H

enum bw_metric_kind {
    BW_MK_DURATION = 1, /* per-item values: statistics (p50, p85, ...) */
    BW_MK_DISTRIBUTION, /* per-item non-duration values (size, shares) */
    BW_MK_COUNT,        /* a count per period: value */
    BW_MK_RATE,         /* a ratio per period: value */
    BW_MK_POINT         /* a count at an instant (period end): value */
};

enum bw_metric_subject {
    BW_MS_PR = 1,
    BW_MS_TICKET
};

enum bw_metric_unit {
    BW_MU_HOURS = 1,
    BW_MU_DAYS,
    BW_MU_LINES,
    BW_MU_COUNT,
    BW_MU_RATIO
};

struct bw_metric {
    const char *name;
    int kind;               /* enum bw_metric_kind */
    int subject;            /* enum bw_metric_subject */
    int unit;               /* enum bw_metric_unit */
    const char *title;      /* short, for tables: "PR cycle time" */
    const char *definition; /* one line, from METRICS.md */
};

/* NULL-name-ended table. */
extern const struct bw_metric bw_metrics[];

const struct bw_metric *bw_metric_find(const char *name);
/* "hours", "days", "lines", "count", "ratio" */
const char *bw_metric_unit_name(int unit);
/* "duration", "distribution", "count", "rate", "point-in-time" */
const char *bw_metric_kind_name(int kind);
/* Does the metric take statistics (p50...) rather than a value? */
int bw_metric_has_stats(const struct bw_metric *m);
/*
 * Parse a target bound in the metric's unit: durations take "8h", "90m",
 * "3d" (or a bare number in the metric's unit), ratios "10%" or "0.1",
 * counts an integer. 0 or BW_EPARSE.
 */
int bw_metric_parse_bound(const struct bw_metric *m, const char *s,
                          double *out);

#endif
