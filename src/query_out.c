/*
 * query_out.c - what `bellwether query` and `bellwether metrics` print:
 * aligned tables (the default statistics fit 80 columns), RFC 4180 CSV and
 * DESIGN.md's JSON object. Pure: everything is appended to a bw_buf, so
 * the unit tests check the layout byte for byte.
 *
 * JSON and CSV carry unrounded numbers (the shortest text that reads back
 * to the same double); tables show METRICS.md's presentation (hours and
 * days with one decimal, counts as integers, ratios as percentages, no
 * data as an en dash).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/metrics.h"
#include "bellwether/query.h"
#include "bellwether/stats.h"

#define EN_DASH "\xe2\x80\x93"
#define ELLIPSIS "\xe2\x80\xa6"
#define NAME_COLS 30 /* widest name column of a table */
#define TEXT_COLS 40 /* widest text column of a listing */

int bw_query_format_find(const char *name)
{
    if (strcmp(name, "table") == 0) {
        return BW_QF_TABLE;
    }
    if (strcmp(name, "csv") == 0) {
        return BW_QF_CSV;
    }
    if (strcmp(name, "json") == 0) {
        return BW_QF_JSON;
    }
    return -1;
}

int bw_query_metric_is_pit(const struct bw_metric *m)
{
    return m->kind == BW_MK_POINT ||
           strcmp(m->name, "ticket_age_in_progress") == 0;
}

/* ------------------------------------------------------ primitives */

int bw_csv_field(struct bw_buf *b, const char *s)
{
    size_t n;
    int quote;

    if (s == NULL) {
        return 0;
    }
    n = strlen(s);
    quote = strpbrk(s, ",\"\r\n") != NULL ||
            (n && (s[0] == ' ' || s[n - 1] == ' '));
    if (!quote) {
        return bw_buf_add(b, s, n);
    }
    if (bw_buf_addch(b, '"')) {
        return BW_ENOMEM;
    }
    for (const char *p = s; *p; p++) {
        if ((*p == '"' && bw_buf_addch(b, '"')) || bw_buf_addch(b, *p)) {
            return BW_ENOMEM;
        }
    }
    return bw_buf_addch(b, '"');
}

int bw_json_string(struct bw_buf *b, const char *s)
{
    if (s == NULL) {
        return bw_buf_adds(b, "null");
    }
    if (bw_buf_addch(b, '"')) {
        return BW_ENOMEM;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc;

        switch (*p) {
        case '"':
            rc = bw_buf_adds(b, "\\\"");
            break;
        case '\\':
            rc = bw_buf_adds(b, "\\\\");
            break;
        case '\n':
            rc = bw_buf_adds(b, "\\n");
            break;
        case '\r':
            rc = bw_buf_adds(b, "\\r");
            break;
        case '\t':
            rc = bw_buf_adds(b, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                rc = bw_buf_printf(b, "\\u%04x", *p);
            } else {
                rc = bw_buf_addch(b, (char)*p);
            }
            break;
        }
        if (rc) {
            return rc;
        }
    }
    return bw_buf_addch(b, '"');
}

int bw_json_number(struct bw_buf *b, double v)
{
    char tmp[40];

    if (!isfinite(v)) {
        return bw_buf_adds(b, "null");
    }
    if (v == 0) {
        return bw_buf_adds(b, "0"); /* no "-0" */
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        return bw_buf_printf(b, "%.0f", v);
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    return bw_buf_adds(b, tmp);
}

size_t bw_text_width(const char *s)
{
    size_t w = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) != 0x80) {
            w++;
        }
    }
    return w;
}

/* Text for a table cell: control bytes as '?', cut to max columns (the
 * last one an ellipsis). */
static int cell_text(struct bw_buf *b, const char *s, size_t max)
{
    size_t w = 0, keep = bw_text_width(s) > max ? max - 1 : (size_t)-1;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) != 0x80 && w++ == keep) {
            return bw_buf_adds(b, ELLIPSIS);
        }
        if (bw_buf_addch(b, *p < 0x20 || *p == 0x7f ? '?' : (char)*p)) {
            return BW_ENOMEM;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ tables */

/* A table is built row by row into a flat list of cells. */
struct cells {
    char **v;
    size_t n, cap;
};

static int cells_add(struct cells *c, struct bw_buf *text)
{
    char *s;

    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        char **v = bw_realloc(c->v, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        c->v = v;
        c->cap = cap;
    }
    s = bw_buf_detach(text);
    if (s == NULL) {
        return BW_ENOMEM;
    }
    c->v[c->n++] = s;
    return 0;
}

static int cells_adds(struct cells *c, const char *s, size_t max)
{
    struct bw_buf b = BW_BUF_INIT;
    int rc = cell_text(&b, s, max);

    if (rc == 0) {
        rc = cells_add(c, &b);
    }
    bw_buf_release(&b);
    return rc;
}

static void cells_release(struct cells *c)
{
    for (size_t i = 0; i < c->n; i++) {
        bw_free(c->v[i]);
    }
    bw_free(c->v);
}

/* Lay out c (ncols per row, the first row the header) into b: columns two
 * blanks apart, right-aligned where right[col]; no trailing blanks. */
static int table_write(struct bw_buf *b, const struct cells *c, size_t ncols,
                       const int *right)
{
    size_t width[32];

    if (ncols == 0 || ncols > 32) {
        return BW_EUSAGE;
    }
    memset(width, 0, sizeof(width));
    for (size_t i = 0; i < c->n; i++) {
        size_t w = bw_text_width(c->v[i]);

        if (w > width[i % ncols]) {
            width[i % ncols] = w;
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        size_t col = i % ncols;
        size_t pad = width[col] - bw_text_width(c->v[i]);
        int last = col == ncols - 1;
        int rc = 0;

        if (col > 0) {
            rc = bw_buf_adds(b, "  ");
        }
        if (rc == 0 && right[col]) {
            for (size_t k = 0; rc == 0 && k < pad; k++) {
                rc = bw_buf_addch(b, ' ');
            }
        }
        if (rc == 0) {
            rc = bw_buf_adds(b, c->v[i]);
        }
        if (rc == 0 && !right[col] && !last) {
            for (size_t k = 0; rc == 0 && k < pad; k++) {
                rc = bw_buf_addch(b, ' ');
            }
        }
        if (rc == 0 && last) {
            rc = bw_buf_addch(b, '\n');
        }
        if (rc) {
            return rc;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ ranges */

/* The range as JSON shows it: weeks, months or inclusive dates. */
static void range_names(const struct bw_query_result *r, char *from, char *to)
{
    int y, w;

    from[0] = to[0] = '\0';
    if (r->by == BW_BY_WEEK) {
        if (bw_week_of(r->from, &y, &w) == 0) {
            bw_week_format(y, w, from);
        }
        if (bw_week_of(r->to - 1, &y, &w) == 0) {
            bw_week_format(y, w, to);
        }
    } else if (r->by == BW_BY_MONTH) {
        if (bw_month_of(r->from, &y, &w) == 0) {
            bw_month_format(y, w, from);
        }
        if (bw_month_of(r->to - 1, &y, &w) == 0) {
            bw_month_format(y, w, to);
        }
    } else {
        bw_format_date_local(r->from, from);
        bw_format_date_local(r->to - 1, to);
    }
}

static const char *unit_of(const struct bw_query_result *r)
{
    return bw_metric_unit_name(r->metric->unit);
}

/* The name of a row as tables show it. */
static const char *row_title(const struct bw_query_result *r,
                             const struct bw_query_row *row, char *buf,
                             size_t n)
{
    char f[BW_TIME_BUFSZ], t[BW_TIME_BUFSZ];

    if (r->by == BW_BY_NONE) {
        range_names(r, f, t);
        snprintf(buf, n, "%s..%s", f, t);
        return buf;
    }
    if (row->label) {
        return row->label;
    }
    if (row->name == NULL) {
        return r->by == BW_BY_AUTHOR ? "(unassigned)" : "(none)";
    }
    return row->name;
}

/* One statistic of a row for a table, in the metric's presentation. */
static int table_value(struct bw_buf *b, const struct bw_query_result *r,
                       const struct bw_query_row *row, int stat)
{
    double v = bw_query_row_stat(r, row, stat);
    int unit = r->metric->unit;

    if (stat == BW_QS_COUNT) {
        unit = BW_MU_COUNT;
    } else if (stat == BW_QS_VALUE && r->metric->kind == BW_MK_COUNT) {
        unit = BW_MU_COUNT;
    }
    return bw_format_value(b, v, unit);
}

static int write_rows_table(struct bw_buf *b, const struct bw_query_result *r,
                            const struct bw_query_stats *s)
{
    struct cells c = {NULL, 0, 0};
    int right[32];
    size_t ncols = 1 + s->n;
    char title[80];
    int rc;

    memset(right, 0, sizeof(right));
    for (size_t i = 1; i < ncols && i < 32; i++) {
        right[i] = 1;
    }
    rc = cells_adds(&c, r->by == BW_BY_NONE ? "range" : bw_query_by_name(r->by),
                    NAME_COLS);
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        rc = cells_adds(&c, bw_query_stat_name(s->id[i]), NAME_COLS);
    }
    for (size_t j = 0; rc == 0 && j < r->nrows; j++) {
        const struct bw_query_row *row = &r->rows[j];

        rc = cells_adds(&c, row_title(r, row, title, sizeof(title)), NAME_COLS);
        for (size_t i = 0; rc == 0 && i < s->n; i++) {
            struct bw_buf v = BW_BUF_INIT;

            rc = table_value(&v, r, row, s->id[i]);
            if (rc == 0) {
                rc = cells_add(&c, &v);
            }
            bw_buf_release(&v);
        }
    }
    if (rc == 0) {
        rc = table_write(b, &c, ncols, right);
    }
    cells_release(&c);
    return rc;
}

/* ---------------------------------------------------------- CSV rows */

static int csv_end(struct bw_buf *b)
{
    return bw_buf_adds(b, "\r\n");
}

static int has_labels(const struct bw_query_result *r)
{
    for (size_t i = 0; i < r->nrows; i++) {
        if (r->rows[i].label) {
            return 1;
        }
    }
    return 0;
}

static int write_rows_csv(struct bw_buf *b, const struct bw_query_result *r,
                          const struct bw_query_stats *s)
{
    int named = r->by != BW_BY_NONE;
    int labels = named && has_labels(r);
    int rc = 0;
    int first = 1;

    if (named) {
        rc = bw_csv_field(b, bw_query_by_name(r->by));
        first = 0;
    }
    if (rc == 0 && labels) {
        rc = bw_buf_adds(b, ",name");
    }
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        if (!first) {
            rc = bw_buf_addch(b, ',');
        }
        first = 0;
        if (rc == 0) {
            rc = bw_buf_adds(b, bw_query_stat_name(s->id[i]));
        }
    }
    if (rc == 0) {
        rc = csv_end(b);
    }
    for (size_t j = 0; rc == 0 && j < r->nrows; j++) {
        const struct bw_query_row *row = &r->rows[j];

        first = 1;
        if (named) {
            rc = bw_csv_field(b, row->name);
            first = 0;
        }
        if (rc == 0 && labels) {
            rc = bw_buf_addch(b, ',');
            if (rc == 0) {
                rc = bw_csv_field(b, row->label);
            }
        }
        for (size_t i = 0; rc == 0 && i < s->n; i++) {
            double v = bw_query_row_stat(r, row, s->id[i]);

            if (!first) {
                rc = bw_buf_addch(b, ',');
            }
            first = 0;
            if (rc == 0 && !isnan(v)) {
                rc = bw_json_number(b, v);
            }
        }
        if (rc == 0) {
            rc = csv_end(b);
        }
    }
    return rc;
}

/* ---------------------------------------------------------- JSON rows */

static int json_head(struct bw_buf *b, const struct bw_query_result *r)
{
    char f[BW_TIME_BUFSZ], t[BW_TIME_BUFSZ];
    int rc;

    range_names(r, f, t);
    rc = bw_buf_adds(b, "{\"metric\":");
    if (rc == 0) {
        rc = bw_json_string(b, r->metric->name);
    }
    if (rc == 0) {
        rc = bw_buf_adds(b, ",\"unit\":");
    }
    if (rc == 0) {
        rc = bw_json_string(b, unit_of(r));
    }
    if (rc == 0) {
        rc = bw_buf_adds(b, ",\"by\":");
    }
    if (rc == 0) {
        rc = bw_json_string(b, r->by == BW_BY_NONE ? NULL
                                                   : bw_query_by_name(r->by));
    }
    if (rc == 0) {
        rc = bw_buf_adds(b, ",\"from\":");
    }
    if (rc == 0) {
        rc = bw_json_string(b, f);
    }
    if (rc == 0) {
        rc = bw_buf_adds(b, ",\"to\":");
    }
    if (rc == 0) {
        rc = bw_json_string(b, t);
    }
    return rc;
}

/* "KEY": then the value writer's output. */
static int json_key(struct bw_buf *b, int *first, const char *key)
{
    int rc = 0;

    if (!*first) {
        rc = bw_buf_addch(b, ',');
    }
    *first = 0;
    if (rc == 0) {
        rc = bw_json_string(b, key);
    }
    if (rc == 0) {
        rc = bw_buf_addch(b, ':');
    }
    return rc;
}

static int write_rows_json(struct bw_buf *b, const struct bw_query_result *r,
                           const struct bw_query_stats *s)
{
    int rc = json_head(b, r);

    if (rc == 0) {
        rc = bw_buf_adds(b, ",\"rows\":[");
    }
    for (size_t j = 0; rc == 0 && j < r->nrows; j++) {
        const struct bw_query_row *row = &r->rows[j];
        int first = 1;

        rc = bw_buf_adds(b, j ? ",{" : "{");
        if (rc == 0 && r->by != BW_BY_NONE) {
            rc = json_key(b, &first, bw_query_by_name(r->by));
            if (rc == 0) {
                rc = bw_json_string(b, row->name);
            }
        }
        if (rc == 0 && row->label) {
            rc = json_key(b, &first, "name");
            if (rc == 0) {
                rc = bw_json_string(b, row->label);
            }
        }
        for (size_t i = 0; rc == 0 && i < s->n; i++) {
            rc = json_key(b, &first, bw_query_stat_name(s->id[i]));
            if (rc == 0) {
                rc = bw_json_number(b, bw_query_row_stat(r, row, s->id[i]));
            }
        }
        if (rc == 0) {
            rc = bw_buf_addch(b, '}');
        }
    }
    if (rc == 0) {
        rc = bw_buf_adds(b, "]}\n");
    }
    return rc;
}

/* ------------------------------------------------------------- items */

/* The ISO week an item counts in: its event's, or for a point-in-time
 * value the week that ends at its instant. */
static void item_week(const struct bw_query_result *r,
                      const struct bw_query_item *it, char *buf)
{
    int y, w;
    int64_t t = it->at - (bw_query_metric_is_pit(r->metric) ? 1 : 0);

    buf[0] = '\0';
    if (bw_week_of(t, &y, &w) == 0) {
        bw_week_format(y, w, buf);
    }
}

/* Does the listing carry the row's name as a column of its own? */
/* Items carry their week and author already: no second column for them. */
static int item_group_col(const struct bw_query_result *r)
{
    return r->by != BW_BY_NONE && r->by != BW_BY_WEEK && r->by != BW_BY_AUTHOR;
}

static const char *item_group(const struct bw_query_result *r,
                              const struct bw_query_item *it)
{
    return it->row < r->nrows ? r->rows[it->row].name : NULL;
}

static int item_value_text(struct bw_buf *b, double v)
{
    if (isnan(v)) {
        return bw_buf_adds(b, EN_DASH);
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        return bw_buf_printf(b, "%.0f", v + 0.0);
    }
    return bw_buf_printf(b, "%.2f", v);
}

static int write_items_table(struct bw_buf *b, const struct bw_query_result *r)
{
    struct cells c = {NULL, 0, 0};
    int group = item_group_col(r);
    int right[6] = {0};
    size_t ncols = (size_t)(5 + group);
    char week[BW_TIME_BUFSZ];
    int rc = 0;

    if (group) {
        rc = cells_adds(&c, bw_query_by_name(r->by), NAME_COLS);
    }
    right[group + 1] = 1;
    if (rc == 0) {
        rc = cells_adds(&c, "key", TEXT_COLS);
    }
    if (rc == 0) {
        rc = cells_adds(&c, "value", TEXT_COLS);
    }
    if (rc == 0) {
        rc = cells_adds(&c, "week", TEXT_COLS);
    }
    if (rc == 0) {
        rc = cells_adds(&c, "author", TEXT_COLS);
    }
    if (rc == 0) {
        rc = cells_adds(&c, "url", 400);
    }
    for (size_t i = 0; rc == 0 && i < r->nitems; i++) {
        const struct bw_query_item *it = &r->items[i];
        const char *g = item_group(r, it);
        struct bw_buf v = BW_BUF_INIT;

        if (group) {
            rc = cells_adds(&c, g ? g : "(none)", NAME_COLS);
        }
        if (rc == 0) {
            rc = cells_adds(&c, it->key, TEXT_COLS);
        }
        if (rc == 0) {
            rc = item_value_text(&v, it->value);
        }
        if (rc == 0) {
            rc = cells_add(&c, &v);
        }
        bw_buf_release(&v);
        item_week(r, it, week);
        if (rc == 0) {
            rc = cells_adds(&c, week, TEXT_COLS);
        }
        if (rc == 0) {
            rc = cells_adds(&c,
                            it->label    ? it->label
                            : it->author ? it->author
                                         : "-",
                            TEXT_COLS);
        }
        if (rc == 0) {
            rc = cells_adds(&c, it->url ? it->url : "-", 400);
        }
    }
    if (rc == 0) {
        rc = table_write(b, &c, ncols, right);
    }
    cells_release(&c);
    return rc;
}

static int write_items_csv(struct bw_buf *b, const struct bw_query_result *r)
{
    int group = item_group_col(r);
    char week[BW_TIME_BUFSZ];
    int rc = 0;

    if (group) {
        rc = bw_csv_field(b, bw_query_by_name(r->by));
        if (rc == 0) {
            rc = bw_buf_addch(b, ',');
        }
    }
    if (rc == 0) {
        rc = bw_buf_adds(b, "key,url,value,week,author,name,title\r\n");
    }
    for (size_t i = 0; rc == 0 && i < r->nitems; i++) {
        const struct bw_query_item *it = &r->items[i];

        item_week(r, it, week);
        if (group) {
            rc = bw_csv_field(b, item_group(r, it));
            if (rc == 0) {
                rc = bw_buf_addch(b, ',');
            }
        }
        if (rc == 0 && (bw_csv_field(b, it->key) || bw_buf_addch(b, ',') ||
                        bw_csv_field(b, it->url) || bw_buf_addch(b, ',') ||
                        (!isnan(it->value) && bw_json_number(b, it->value)) ||
                        bw_buf_addch(b, ',') || bw_csv_field(b, week) ||
                        bw_buf_addch(b, ',') || bw_csv_field(b, it->author) ||
                        bw_buf_addch(b, ',') || bw_csv_field(b, it->label) ||
                        bw_buf_addch(b, ',') || bw_csv_field(b, it->title) ||
                        csv_end(b))) {
            rc = BW_ENOMEM;
        }
    }
    return rc;
}

static int json_str_field(struct bw_buf *b, int *first, const char *key,
                          const char *v)
{
    int rc = json_key(b, first, key);

    return rc ? rc : bw_json_string(b, v);
}

static int write_items_json(struct bw_buf *b, const struct bw_query_result *r)
{
    int group = item_group_col(r);
    char week[BW_TIME_BUFSZ];
    int rc = json_head(b, r);

    if (rc == 0) {
        rc = bw_buf_adds(b, ",\"items\":[");
    }
    for (size_t i = 0; rc == 0 && i < r->nitems; i++) {
        const struct bw_query_item *it = &r->items[i];
        int first = 1;

        item_week(r, it, week);
        rc = bw_buf_adds(b, i ? ",{" : "{");
        if (rc == 0) {
            rc = json_str_field(b, &first, "key", it->key);
        }
        if (rc == 0) {
            rc = json_str_field(b, &first, "url", it->url);
        }
        if (rc == 0) {
            rc = json_key(b, &first, "value");
        }
        if (rc == 0) {
            rc = bw_json_number(b, it->value);
        }
        if (rc == 0) {
            rc = json_str_field(b, &first, "week", week);
        }
        if (rc == 0 && group) {
            rc = json_str_field(b, &first, bw_query_by_name(r->by),
                                item_group(r, it));
        }
        if (rc == 0) {
            rc = json_str_field(b, &first, "author", it->author);
        }
        if (rc == 0 && it->label) {
            rc = json_str_field(b, &first, "name", it->label);
        }
        if (rc == 0 && it->title) {
            rc = json_str_field(b, &first, "title", it->title);
        }
        if (rc == 0) {
            rc = bw_buf_addch(b, '}');
        }
    }
    if (rc == 0) {
        rc = bw_buf_adds(b, "]}\n");
    }
    return rc;
}

int bw_query_write(struct bw_buf *b, const struct bw_query_result *r,
                   const struct bw_query_stats *s, int fmt, int items)
{
    switch (fmt) {
    case BW_QF_TABLE:
        return items ? write_items_table(b, r) : write_rows_table(b, r, s);
    case BW_QF_CSV:
        return items ? write_items_csv(b, r) : write_rows_csv(b, r, s);
    case BW_QF_JSON:
        return items ? write_items_json(b, r) : write_rows_json(b, r, s);
    default:
        return BW_EUSAGE;
    }
}

/* ----------------------------------------------------------- metrics */

static int metrics_json(struct bw_buf *b)
{
    int rc = bw_buf_adds(b, "{\"metrics\":[");

    for (const struct bw_metric *m = bw_metrics; rc == 0 && m->name; m++) {
        int first = 1;

        rc = bw_buf_adds(b, m == bw_metrics ? "{" : ",{");
        if (rc == 0) {
            rc = json_str_field(b, &first, "name", m->name);
        }
        if (rc == 0) {
            rc =
                json_str_field(b, &first, "unit", bw_metric_unit_name(m->unit));
        }
        if (rc == 0) {
            rc =
                json_str_field(b, &first, "kind", bw_metric_kind_name(m->kind));
        }
        if (rc == 0) {
            rc = json_str_field(b, &first, "subject",
                                m->subject == BW_MS_PR ? "pull request"
                                                       : "ticket");
        }
        if (rc == 0) {
            rc = json_str_field(b, &first, "title", m->title);
        }
        if (rc == 0) {
            rc = json_str_field(b, &first, "definition", m->definition);
        }
        if (rc == 0) {
            rc = bw_buf_addch(b, '}');
        }
    }
    if (rc == 0) {
        rc = bw_buf_adds(b, "]}\n");
    }
    return rc;
}

/* Append s wrapped at width columns, continuation lines indented by
 * indent blanks (the first line's indent is the caller's). */
static int wrap_text(struct bw_buf *b, const char *s, size_t indent,
                     size_t width)
{
    size_t col = 0;
    int rc = 0;

    while (rc == 0 && *s) {
        size_t n = strcspn(s, " ");

        if (col > 0 && col + 1 + n > width) {
            rc = bw_buf_addch(b, '\n');
            for (size_t i = 0; rc == 0 && i < indent; i++) {
                rc = bw_buf_addch(b, ' ');
            }
            col = 0;
        } else if (col > 0) {
            rc = bw_buf_addch(b, ' ');
            col++;
        }
        if (rc == 0) {
            rc = bw_buf_add(b, s, n);
        }
        col += n;
        s += n;
        while (*s == ' ') {
            s++;
        }
    }
    return rc ? rc : bw_buf_addch(b, '\n');
}

/* The table: name, unit and kind in columns, each definition on the lines
 * below, indented and wrapped to fit 80 columns. */
static int metrics_table(struct bw_buf *b)
{
    size_t wn = strlen("metric"), wu = strlen("unit");
    int rc;

    for (const struct bw_metric *m = bw_metrics; m->name; m++) {
        size_t u = strlen(bw_metric_unit_name(m->unit));

        wn = strlen(m->name) > wn ? strlen(m->name) : wn;
        wu = u > wu ? u : wu;
    }
    rc = bw_buf_printf(b, "%-*s  %-*s  kind\n", (int)wn, "metric", (int)wu,
                       "unit");
    for (const struct bw_metric *m = bw_metrics; rc == 0 && m->name; m++) {
        rc = bw_buf_printf(b, "%-*s  %-*s  %s\n    ", (int)wn, m->name, (int)wu,
                           bw_metric_unit_name(m->unit),
                           bw_metric_kind_name(m->kind));
        if (rc == 0) {
            rc = wrap_text(b, m->definition, 4, 76);
        }
    }
    return rc;
}

int bw_metrics_write(struct bw_buf *b, int fmt)
{
    if (fmt == BW_QF_JSON) {
        return metrics_json(b);
    }
    if (fmt == BW_QF_TABLE) {
        return metrics_table(b);
    }
    return BW_EUSAGE;
}
