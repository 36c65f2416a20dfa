/*
 * json.c - the report as JSON: every number of the model, unrounded, for
 * tools and for the exactness test (tests/integration/
 * report_truth_check.py compares each one with an independent
 * computation).
 *
 * Shape (issue 6; extra keys are additive):
 *   {"week", "from", "to", "timezone", "generated_at", "team",
 *    "weeks_of_trend", "sources": [{name, type, last_success, last_run,
 *    status, stale}],
 *    "indicators": [{metric, stat, unit, this, last, delta, trend,
 *                    target: {stat, max, min, at_risk_margin} | null,
 *                    status}],
 *    "sections": [{id, title, values: [{metric, stat, value}],
 *                  item_metric, items_total,
 *                  items: [{key, url, title, value}]}],
 *    "teams": {NAME: {"indicators": [...], "sections": [...]}}}
 * No data is null; delta is in percent (percentage points for ratios);
 * trend is oldest first, ending with this week; times are ISO 8601 UTC.
 * Keys come in a fixed order and one indicator, value or item per line,
 * so equal models give equal bytes and diffs stay readable.
 */
#include <stdio.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/query.h"
#include "bellwether/report.h"

int bw_report_json_string(struct bw_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len;
    size_t i = 0;
    int rc;

    if (s == NULL) {
        return bw_buf_adds(b, "null");
    }
    len = strlen(s);
    rc = bw_buf_addch(b, '"');
    while (rc == 0 && i < len) {
        uint32_t cp;
        size_t used;

        switch (p[i]) {
        case '"':
            rc = bw_buf_adds(b, "\\\"");
            i++;
            continue;
        case '\\':
            rc = bw_buf_adds(b, "\\\\");
            i++;
            continue;
        case '\n':
            rc = bw_buf_adds(b, "\\n");
            i++;
            continue;
        case '\r':
            rc = bw_buf_adds(b, "\\r");
            i++;
            continue;
        case '\t':
            rc = bw_buf_adds(b, "\\t");
            i++;
            continue;
        default:
            break;
        }
        if (p[i] < 0x20 || p[i] == 0x7F) {
            rc = bw_buf_printf(b, "\\u%04x", p[i]);
            i++;
            continue;
        }
        used = bw_utf8_decode(p + i, len - i, &cp);
        if (cp == 0xFFFD && used == 1) {
            rc = bw_utf8_put(b, 0xFFFD);
        } else {
            rc = bw_buf_add(b, p + i, used);
        }
        i += used;
    }
    return rc || bw_buf_addch(b, '"') ? BW_ENOMEM : 0;
}

static int time_or_null(struct bw_buf *b, int64_t t)
{
    char buf[BW_TIME_BUFSZ];

    if (t == BW_TIME_NONE) {
        return bw_buf_adds(b, "null");
    }
    return bw_buf_printf(b, "\"%s\"", bw_format_iso8601_utc(t, buf));
}

static int key(struct bw_buf *b, const char *name)
{
    return bw_buf_printf(b, "\"%s\": ", name);
}

static int sources(struct bw_buf *b, const struct bw_report *r)
{
    int rc = bw_buf_adds(b, "  \"sources\": [");

    for (size_t i = 0; rc == 0 && i < r->nsources; i++) {
        const struct bw_report_source *s = &r->sources[i];

        rc = bw_buf_adds(b, i ? ",\n    {" : "\n    {") || key(b, "name") ||
             bw_report_json_string(b, s->name) || bw_buf_adds(b, ", ") ||
             key(b, "type") || bw_report_json_string(b, s->type) ||
             bw_buf_adds(b, ", ") || key(b, "last_success") ||
             time_or_null(b, s->last_success) || bw_buf_adds(b, ", ") ||
             key(b, "last_run") || time_or_null(b, s->last_run) ||
             bw_buf_adds(b, ", ") || key(b, "status") ||
             bw_buf_adds(b, s->last_run == BW_TIME_NONE ? "null"
                            : s->failed                 ? "\"failed\""
                                                        : "\"ok\"") ||
             bw_buf_adds(b, ", ") || key(b, "stale") ||
             bw_buf_adds(b, s->stale ? "true}" : "false}");
    }
    rc = rc || bw_buf_adds(b, r->nsources ? "\n  ],\n" : "],\n");
    return rc ? BW_ENOMEM : 0;
}

static int target(struct bw_buf *b, const struct bw_report_indicator *in)
{
    int rc;

    if (!in->has_target) {
        return bw_buf_adds(b, "null");
    }
    rc = bw_buf_addch(b, '{') || key(b, "stat") ||
         bw_report_json_string(b, bw_query_stat_name(in->stat)) ||
         bw_buf_adds(b, ", ") || key(b, "max") ||
         (in->bound.has_max ? bw_json_number(b, in->bound.max)
                            : bw_buf_adds(b, "null")) ||
         bw_buf_adds(b, ", ") || key(b, "min") ||
         (in->bound.has_min ? bw_json_number(b, in->bound.min)
                            : bw_buf_adds(b, "null")) ||
         bw_buf_adds(b, ", ") || key(b, "at_risk_margin") ||
         bw_json_number(b, in->bound.margin) || bw_buf_addch(b, '}');
    return rc ? BW_ENOMEM : 0;
}

static int indicator(struct bw_buf *b, const struct bw_report_indicator *in,
                     const char *indent)
{
    int rc = bw_buf_printf(b, "%s{", indent) || key(b, "metric") ||
             bw_report_json_string(b, in->metric->name) ||
             bw_buf_adds(b, ", ") || key(b, "stat") ||
             bw_report_json_string(b, bw_query_stat_name(in->stat)) ||
             bw_buf_adds(b, ", ") || key(b, "unit") ||
             bw_report_json_string(b, bw_metric_unit_name(in->metric->unit)) ||
             bw_buf_adds(b, ", ") || key(b, "this") ||
             bw_json_number(b, in->this_week) || bw_buf_adds(b, ", ") ||
             key(b, "last") || bw_json_number(b, in->last_week) ||
             bw_buf_adds(b, ", ") || key(b, "delta") ||
             bw_json_number(b, in->delta) || bw_buf_adds(b, ", ") ||
             key(b, "trend") || bw_buf_addch(b, '[');

    for (size_t i = 0; rc == 0 && i < in->ntrend; i++) {
        rc = (i && bw_buf_adds(b, ", ")) || bw_json_number(b, in->trend[i]);
    }
    rc = rc || bw_buf_adds(b, "], ") || key(b, "target") || target(b, in) ||
         bw_buf_adds(b, ", ") || key(b, "status") ||
         (in->status == BW_TS_NONE
              ? bw_buf_adds(b, "null")
              : bw_report_json_string(b, bw_target_status_name(in->status))) ||
         bw_buf_addch(b, '}');
    return rc ? BW_ENOMEM : 0;
}

static int item(struct bw_buf *b, const struct bw_report_item *it,
                const char *indent)
{
    int rc = bw_buf_printf(b, "%s{", indent) || key(b, "key") ||
             bw_report_json_string(b, it->key) || bw_buf_adds(b, ", ") ||
             key(b, "url") || bw_report_json_string(b, it->url) ||
             bw_buf_adds(b, ", ") || key(b, "title") ||
             bw_report_json_string(b, it->title) || bw_buf_adds(b, ", ") ||
             key(b, "value") || bw_json_number(b, it->value) ||
             bw_buf_addch(b, '}');

    return rc ? BW_ENOMEM : 0;
}

static int section(struct bw_buf *b, const struct bw_report_section *s,
                   const char *indent)
{
    int rc = bw_buf_printf(b, "%s{", indent) || key(b, "id") ||
             bw_report_json_string(b, s->slug) || bw_buf_adds(b, ", ") ||
             key(b, "title") || bw_report_json_string(b, s->title) ||
             bw_buf_adds(b, ",\n") || bw_buf_printf(b, "%s ", indent) ||
             key(b, "values") || bw_buf_addch(b, '[');

    for (size_t i = 0; rc == 0 && i < s->nvalues; i++) {
        const struct bw_report_value *v = &s->values[i];

        rc = bw_buf_printf(b, "%s\n%s   {", i ? "," : "", indent) ||
             key(b, "metric") || bw_report_json_string(b, v->metric->name) ||
             bw_buf_adds(b, ", ") || key(b, "stat") ||
             bw_report_json_string(b, bw_query_stat_name(v->stat)) ||
             bw_buf_adds(b, ", ") || key(b, "value") ||
             bw_json_number(b, v->value) || bw_buf_addch(b, '}');
    }
    rc = rc || bw_buf_adds(b, "],\n") || bw_buf_printf(b, "%s ", indent) ||
         key(b, "item_metric") ||
         bw_report_json_string(b,
                               s->item_metric ? s->item_metric->name : NULL) ||
         bw_buf_adds(b, ", ") || key(b, "item_unit") ||
         bw_report_json_string(
             b, s->item_metric ? bw_metric_unit_name(s->item_unit) : NULL) ||
         bw_buf_adds(b, ", ") || key(b, "items_total") ||
         bw_buf_printf(b, "%zu", s->items_total) || bw_buf_adds(b, ", ") ||
         key(b, "items") || bw_buf_addch(b, '[');
    for (size_t i = 0; rc == 0 && i < s->nitems; i++) {
        char in[32];

        snprintf(in, sizeof(in), "%s   ", indent);
        rc = bw_buf_adds(b, i ? ",\n" : "\n") || item(b, &s->items[i], in);
    }
    rc = rc || bw_buf_adds(b, "]}");
    return rc ? BW_ENOMEM : 0;
}

/* "indicators": [...], "sections": [...] of one scope; indent is the
 * scope's own (2 for the report, 6 inside "teams"). */
static int scope(struct bw_buf *b, const struct bw_report_scope *sc,
                 size_t indent)
{
    char in[16];
    char in2[16];
    size_t nsec = 0;
    int rc;

    snprintf(in, sizeof(in), "%*s", (int)indent, "");
    snprintf(in2, sizeof(in2), "%*s", (int)indent + 2, "");
    rc = bw_buf_printf(b, "%s", in) || key(b, "indicators") ||
         bw_buf_addch(b, '[');
    for (size_t i = 0; rc == 0 && i < sc->nindicators; i++) {
        rc = bw_buf_adds(b, i ? ",\n" : "\n") ||
             indicator(b, &sc->indicators[i], in2);
    }
    rc = rc || bw_buf_printf(b, "%s],\n%s", sc->nindicators ? "\n" : "", in) ||
         key(b, "sections") || bw_buf_addch(b, '[');
    for (int i = 0; rc == 0 && i < BW_RS_COUNT; i++) {
        const struct bw_report_section *s = &sc->sections[i];
        int prs = i == BW_RS_PULL_REQUESTS || i == BW_RS_AWAITING_REVIEW;

        if (!(sc->subjects & (prs ? BW_REPORT_PRS : BW_REPORT_TICKETS))) {
            continue;
        }
        rc = bw_buf_adds(b, nsec++ ? ",\n" : "\n") || section(b, s, in2);
    }
    rc = rc || bw_buf_printf(b, "%s%s]", nsec ? "\n" : "", nsec ? in : "");
    return rc ? BW_ENOMEM : 0;
}

int bw_report_json(const struct bw_report *r, struct bw_buf *out)
{
    char from[BW_TIME_BUFSZ] = "";
    char to[BW_TIME_BUFSZ] = "";
    int rc;

    bw_format_date_local(r->start, from);
    bw_format_date_local(r->end - 1, to);
    rc = bw_buf_adds(out, "{\n  ") || key(out, "week") ||
         bw_report_json_string(out, r->week_name) || bw_buf_adds(out, ", ") ||
         key(out, "from") || bw_report_json_string(out, from) ||
         bw_buf_adds(out, ", ") || key(out, "to") ||
         bw_report_json_string(out, to) || bw_buf_adds(out, ",\n  ") ||
         key(out, "timezone") || bw_report_json_string(out, r->timezone) ||
         bw_buf_adds(out, ", ") || key(out, "generated_at") ||
         time_or_null(out, r->generated_at) || bw_buf_adds(out, ",\n  ") ||
         key(out, "team") || bw_report_json_string(out, r->main.team) ||
         bw_buf_adds(out, ", ") || key(out, "weeks_of_trend") ||
         bw_buf_printf(out, "%ld", r->weeks_of_trend) ||
         bw_buf_adds(out, ",\n") || sources(out, r) ||
         scope(out, &r->main, 2) || bw_buf_adds(out, ",\n  ") ||
         key(out, "teams") || bw_buf_addch(out, '{');
    for (size_t t = 0; rc == 0 && t < r->nteams; t++) {
        rc = bw_buf_adds(out, t ? ",\n    " : "\n    ") ||
             bw_report_json_string(out, r->teams[t].team) ||
             bw_buf_adds(out, ": {\n") || scope(out, &r->teams[t], 6) ||
             bw_buf_adds(out, "\n    }");
    }
    rc = rc || bw_buf_adds(out, r->nteams ? "\n  }\n}\n" : "}\n}\n");
    return rc ? BW_ENOMEM : 0;
}
