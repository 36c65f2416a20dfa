/*
 * report.c - the weekly report's model: every number of one ISO week for
 * the organisation (and each [team]) or for one team, collected into
 * struct bw_report for the writers.
 *
 * Nothing here computes a metric. The report is a plan of engine queries
 * (query.h): one per (scope, metric) by week over the trend's weeks for
 * the leading indicators, one over the report week for the other section
 * numbers, and one with items for the lists (the PRs waiting longest for a
 * first review, the oldest work in progress, tickets blocked over 3 days).
 * The queries do not each go to Redis: every engine says which index
 * ranges it needs (bw_query_engine_scans), the plan scans each index once
 * over the union of those ranges (bw_store_scan, one pipelined
 * ZRANGEBYSCORE per scope) and feeds each row to the engines whose own
 * range holds it. That is exactly what bw_query_run() does per query, so
 * the numbers are the query command's, for a fraction of the round trips.
 *
 * Targets ([target METRIC]) give a row in the indicators table (its stat)
 * and a status per week: bw_target_status() over the trend, so "at risk
 * right after an off-track week" sees last week's status.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/collector.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/query.h"
#include "bellwether/report.h"
#include "bellwether/status.h"
#include "bellwether/store.h"

/* ------------------------------------------------------------ the tables */

const struct bw_report_ind_spec bw_report_indicators[] = {
    {"pr_cycle_time", BW_QS_P50},
    {"pr_pickup_time", BW_QS_P50},
    {"pr_merged", BW_QS_VALUE},
    {"pr_open_awaiting_review", BW_QS_VALUE},
    {"pr_unreviewed_merge_rate", BW_QS_VALUE},
    {"review_load_top_share", BW_QS_VALUE},
    {"ticket_cycle_time", BW_QS_P50},
    {"ticket_throughput", BW_QS_VALUE},
    {"ticket_wip", BW_QS_VALUE},
    {"ticket_blocked_over_3d", BW_QS_VALUE},
    {NULL, 0}};

static const struct {
    const char *slug;
    const char *title;
} section_names[BW_RS_COUNT] = {
    {"pull_requests", "Pull requests"},
    {"awaiting_review", "Waiting longest for a first review"},
    {"tickets", "Tickets"},
    {"ageing_wip", "Ageing work in progress"},
    {"blocked", "Blocked over 3 days"},
};

/* The numbers of each section, in the order they are printed. */
static const struct {
    int section;
    const char *metric;
    int stat;
} section_values[] = {
    {BW_RS_PULL_REQUESTS, "pr_cycle_time", BW_QS_P50},
    {BW_RS_PULL_REQUESTS, "pr_cycle_time", BW_QS_P85},
    {BW_RS_PULL_REQUESTS, "pr_coding_time", BW_QS_P50},
    {BW_RS_PULL_REQUESTS, "pr_coding_time", BW_QS_P85},
    {BW_RS_PULL_REQUESTS, "pr_pickup_time", BW_QS_P50},
    {BW_RS_PULL_REQUESTS, "pr_pickup_time", BW_QS_P85},
    {BW_RS_PULL_REQUESTS, "pr_review_time", BW_QS_P50},
    {BW_RS_PULL_REQUESTS, "pr_review_time", BW_QS_P85},
    {BW_RS_PULL_REQUESTS, "pr_time_to_first_response", BW_QS_P50},
    {BW_RS_PULL_REQUESTS, "pr_time_to_first_response", BW_QS_P85},
    {BW_RS_PULL_REQUESTS, "pr_size", BW_QS_P50},
    {BW_RS_PULL_REQUESTS, "pr_size", BW_QS_P85},
    {BW_RS_PULL_REQUESTS, "pr_merged", BW_QS_VALUE},
    {BW_RS_PULL_REQUESTS, "pr_opened", BW_QS_VALUE},
    {BW_RS_PULL_REQUESTS, "pr_unreviewed_merge_rate", BW_QS_VALUE},
    {BW_RS_PULL_REQUESTS, "pr_large_rate", BW_QS_VALUE},
    {BW_RS_PULL_REQUESTS, "review_load_top_share", BW_QS_VALUE},
    {BW_RS_PULL_REQUESTS, "pr_stale", BW_QS_VALUE},
    {BW_RS_AWAITING_REVIEW, "pr_open_awaiting_review", BW_QS_VALUE},
    {BW_RS_TICKETS, "ticket_cycle_time", BW_QS_P50},
    {BW_RS_TICKETS, "ticket_cycle_time", BW_QS_P85},
    {BW_RS_TICKETS, "ticket_lead_time", BW_QS_P50},
    {BW_RS_TICKETS, "ticket_lead_time", BW_QS_P85},
    {BW_RS_TICKETS, "bug_cycle_time", BW_QS_P50},
    {BW_RS_TICKETS, "bug_cycle_time", BW_QS_P85},
    {BW_RS_TICKETS, "ticket_blocked_share", BW_QS_P50},
    {BW_RS_TICKETS, "ticket_blocked_share", BW_QS_P85},
    {BW_RS_TICKETS, "ticket_throughput", BW_QS_VALUE},
    {BW_RS_TICKETS, "ticket_wip", BW_QS_VALUE},
    {BW_RS_TICKETS, "ticket_reopen_rate", BW_QS_VALUE},
    {BW_RS_TICKETS, "ticket_net_flow", BW_QS_VALUE},
    {BW_RS_AGEING_WIP, "ticket_age_in_progress", BW_QS_P50},
    {BW_RS_AGEING_WIP, "ticket_age_in_progress", BW_QS_P85},
    {BW_RS_BLOCKED, "ticket_blocked_over_3d", BW_QS_VALUE},
};

/* The lists: which metric's items, how many to keep, and the unit of an
 * item's value (bw_query_item_value_doc: hours since ready for review,
 * days since started, days since the blocked spell began). */
static const struct {
    int section;
    const char *metric;
    size_t keep;
    int unit;
} section_items[] = {
    {BW_RS_AWAITING_REVIEW, "pr_open_awaiting_review", BW_REPORT_SHORT_LIST,
     BW_MU_HOURS},
    {BW_RS_AGEING_WIP, "ticket_age_in_progress", BW_REPORT_SHORT_LIST,
     BW_MU_DAYS},
    {BW_RS_BLOCKED, "ticket_blocked_over_3d", BW_REPORT_MAX_ITEMS, BW_MU_DAYS},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int section_subject(int section)
{
    return section == BW_RS_PULL_REQUESTS || section == BW_RS_AWAITING_REVIEW
               ? BW_REPORT_PRS
               : BW_REPORT_TICKETS;
}

static unsigned metric_subject(const struct bw_metric *m)
{
    return m->subject == BW_MS_PR ? BW_REPORT_PRS : BW_REPORT_TICKETS;
}

/* ------------------------------------------------------- model basics */

int bw_report_format_find(const char *name)
{
    if (strcmp(name, "md") == 0 || strcmp(name, "markdown") == 0) {
        return BW_RF_MD;
    }
    if (strcmp(name, "html") == 0) {
        return BW_RF_HTML;
    }
    if (strcmp(name, "json") == 0) {
        return BW_RF_JSON;
    }
    return 0;
}

const char *bw_report_format_ext(int fmt)
{
    return fmt == BW_RF_HTML ? "html" : fmt == BW_RF_JSON ? "json" : "md";
}

static void scope_init(struct bw_report_scope *sc)
{
    memset(sc, 0, sizeof(*sc));
    for (int i = 0; i < BW_RS_COUNT; i++) {
        sc->sections[i].id = i;
        sc->sections[i].slug = section_names[i].slug;
        sc->sections[i].title = section_names[i].title;
    }
    sc->subjects = BW_REPORT_PRS | BW_REPORT_TICKETS;
}

static void scope_release(struct bw_report_scope *sc)
{
    bw_free(sc->team);
    for (size_t i = 0; i < sc->nindicators; i++) {
        bw_free(sc->indicators[i].trend);
    }
    bw_free(sc->indicators);
    for (int i = 0; i < BW_RS_COUNT; i++) {
        struct bw_report_section *s = &sc->sections[i];

        bw_free(s->values);
        for (size_t j = 0; j < s->nitems; j++) {
            bw_free(s->items[j].key);
            bw_free(s->items[j].url);
            bw_free(s->items[j].title);
        }
        bw_free(s->items);
    }
    memset(sc, 0, sizeof(*sc));
}

void bw_report_free(struct bw_report *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->nsources; i++) {
        bw_free(r->sources[i].name);
        bw_free(r->sources[i].type);
    }
    bw_free(r->sources);
    scope_release(&r->main);
    for (size_t i = 0; i < r->nteams; i++) {
        scope_release(&r->teams[i]);
    }
    bw_free(r->teams);
    bw_free(r->timezone);
    bw_free(r);
}

int bw_report_new(int year, int week, const char *timezone, long weeks_of_trend,
                  struct bw_report **out)
{
    struct bw_report *r;

    *out = NULL;
    if (week < 1 || week > bw_weeks_in_year(year)) {
        return BW_EPARSE;
    }
    r = bw_calloc(1, sizeof(*r));
    if (r == NULL) {
        return BW_ENOMEM;
    }
    r->year = year;
    r->week = week;
    bw_week_format(year, week, r->week_name);
    r->start = bw_week_start(year, week);
    r->end = bw_week_end(year, week);
    r->weeks_of_trend = weeks_of_trend > 0 ? weeks_of_trend : 12;
    r->stale_after = 2 * 86400;
    r->subjects = BW_REPORT_PRS | BW_REPORT_TICKETS;
    r->generated_at = BW_TIME_NONE;
    scope_init(&r->main);
    r->timezone = bw_strdup(timezone ? timezone : "UTC");
    if (r->timezone == NULL || r->start == BW_TIME_NONE ||
        r->end == BW_TIME_NONE) {
        int rc = r->timezone == NULL ? BW_ENOMEM : BW_EPARSE;

        bw_report_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int bw_report_basename(const struct bw_report *r, struct bw_buf *out)
{
    int rc = bw_buf_adds(out, r->week_name);

    if (rc == 0 && r->main.team) {
        rc = bw_buf_addch(out, '-');
        for (const char *p = r->main.team; rc == 0 && *p; p++) {
            char c = *p;
            int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                     (c == '.' && p != r->main.team);

            rc = bw_buf_addch(out, ok ? c : '_');
        }
    }
    return rc;
}

int bw_report_title(const struct bw_report *r, struct bw_buf *out)
{
    char from[BW_TIME_BUFSZ] = "?";
    char to[BW_TIME_BUFSZ] = "?";
    int rc;

    bw_format_date_local(r->start, from);
    bw_format_date_local(r->end - 1, to);
    rc = bw_buf_printf(out, "bellwether weekly report %s (%s to %s)",
                       r->week_name, from, to);
    if (rc == 0 && r->main.team) {
        rc = bw_buf_adds(out, ", team ");
        for (const char *p = r->main.team; rc == 0 && *p; p++) {
            unsigned char c = (unsigned char)*p;

            rc = bw_buf_addch(out, c < 0x20 || c == 0x7F ? ' ' : (char)c);
        }
    }
    return rc;
}

/* ------------------------------------------------------------- the plan */

/* One engine query of the plan. */
struct pq {
    struct bw_report_scope *sc;
    const struct bw_metric *m;
    int trend;   /* by week over the trend's weeks, else the week alone */
    size_t keep; /* items to describe and keep (0: no items) */
    struct bw_query q;
    struct bw_query_where where;
    struct bw_query_engine *e;
    struct bw_query_scan scans[3];
    size_t nscans;
    struct bw_query_result res;
    int finished;
};

struct plan {
    struct pq *v;
    size_t n, cap;
    const struct bw_config *cfg;
    const struct bw_report *r;
    int64_t now;
    int y0, w0;    /* first week of the trend range */
    size_t nweeks; /* weeks of the trend range (at least 2: last week) */
};

static struct pq *plan_find(struct plan *p, const struct bw_report_scope *sc,
                            const struct bw_metric *m, int trend, int items)
{
    for (size_t i = 0; i < p->n; i++) {
        struct pq *q = &p->v[i];

        if (q->sc == sc && q->m == m && (trend < 0 || q->trend == trend) &&
            (items < 0 || (q->keep > 0) == items)) {
            return q;
        }
    }
    return NULL;
}

static int plan_add(struct plan *p, struct bw_report_scope *sc,
                    const struct bw_metric *m, int trend, size_t keep)
{
    struct pq *q;

    if (plan_find(p, sc, m, trend, keep > 0)) {
        return 0;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        struct pq *v = bw_realloc(p->v, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        p->v = v;
        p->cap = cap;
    }
    q = &p->v[p->n++];
    memset(q, 0, sizeof(*q));
    q->sc = sc;
    q->m = m;
    q->trend = trend;
    q->keep = keep;
    return 0;
}

/* The indicator rows of a scope: the defaults, then targets' own. */
static int scope_indicators(struct bw_report_scope *sc,
                            const struct bw_config *cfg)
{
    size_t cap = NELEM(bw_report_indicators) + (cfg ? cfg->ntargets : 0);
    size_t n = 0;

    sc->indicators = bw_calloc(cap, sizeof(*sc->indicators));
    if (sc->indicators == NULL) {
        return BW_ENOMEM;
    }
    for (const struct bw_report_ind_spec *s = bw_report_indicators; s->metric;
         s++) {
        const struct bw_metric *m = bw_metric_find(s->metric);

        if (m && (metric_subject(m) & sc->subjects)) {
            sc->indicators[n].metric = m;
            sc->indicators[n++].stat = s->stat;
        }
    }
    for (size_t t = 0; cfg && t < cfg->ntargets; t++) {
        const struct bw_target_conf *tc = &cfg->targets[t];
        const struct bw_metric *m = bw_metric_find(tc->metric);
        int stat = tc->stat ? bw_query_stat_find(tc->stat) : -1;
        size_t i;

        if (m == NULL || stat < 0) {
            continue; /* config.c validated them; be safe anyway */
        }
        for (i = 0; i < n; i++) {
            if (sc->indicators[i].metric == m &&
                sc->indicators[i].stat == stat) {
                break;
            }
        }
        if (i == n) {
            sc->indicators[n].metric = m;
            sc->indicators[n++].stat = stat;
        }
        if (!sc->indicators[i].has_target) {
            sc->indicators[i].has_target = 1;
            sc->indicators[i].bound.has_max = tc->has_max;
            sc->indicators[i].bound.has_min = tc->has_min;
            sc->indicators[i].bound.max = tc->max;
            sc->indicators[i].bound.min = tc->min;
            sc->indicators[i].bound.margin = tc->at_risk_margin;
        }
    }
    sc->nindicators = n;
    return 0;
}

/* Every query a scope needs. */
static int plan_scope(struct plan *p, struct bw_report_scope *sc)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sc->nindicators; i++) {
        rc = plan_add(p, sc, sc->indicators[i].metric, 1, 0);
    }
    for (size_t i = 0; rc == 0 && i < NELEM(section_items); i++) {
        const struct bw_metric *m = bw_metric_find(section_items[i].metric);

        if (m && (sc->subjects & section_subject(section_items[i].section))) {
            rc = plan_add(p, sc, m, 0, section_items[i].keep);
        }
    }
    for (size_t i = 0; rc == 0 && i < NELEM(section_values); i++) {
        const struct bw_metric *m = bw_metric_find(section_values[i].metric);

        if (m && (sc->subjects & section_subject(section_values[i].section)) &&
            plan_find(p, sc, m, -1, -1) == NULL) {
            rc = plan_add(p, sc, m, 0, 0);
        }
    }
    return rc;
}

/* Start every engine and learn its scans. */
static int plan_start(struct plan *p)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < p->n; i++) {
        struct pq *q = &p->v[i];

        bw_query_init(&q->q, q->m, p->cfg);
        q->q.now = p->now;
        if (q->trend) {
            int y = p->r->year, w = p->r->week;

            bw_query_weeks(&q->q, y, w, p->nweeks);
        } else {
            bw_query_weeks(&q->q, p->r->year, p->r->week, 1);
        }
        q->q.items = q->keep > 0;
        if (q->sc->team) {
            rc = bw_query_where_set(&q->where, BW_WK_TEAM, q->sc->team);
            q->q.where = &q->where;
        }
        if (rc == 0) {
            rc = bw_query_engine_new(&q->q, &q->e);
        }
        if (rc == 0) {
            q->nscans = bw_query_engine_scans(q->e, q->scans, 3);
        }
    }
    return rc;
}

/* Who wants rows of one index: (engine, score range) pairs. */
struct ixwant {
    struct bw_query_engine *e;
    int64_t from, to;
};

struct scanarg {
    int ix;
    struct ixwant *w;
    size_t n;
};

static int in_range(double score, int64_t from, int64_t to)
{
    return (from == BW_NOTIME || score >= (double)from) &&
           (to == BW_NOTIME || score <= (double)to);
}

static int on_row(void *arg, const char *tag, const char *member, size_t len,
                  double score)
{
    struct scanarg *a = arg;

    for (size_t i = 0; i < a->n; i++) {
        struct bw_query_engine *e = a->w[i].e;

        if (!in_range(score, a->w[i].from, a->w[i].to)) {
            continue;
        }
        /* one feed per engine and row, even with two ranges on one index */
        if (i > 0 && a->w[i - 1].e == e &&
            in_range(score, a->w[i - 1].from, a->w[i - 1].to)) {
            continue;
        }
        if (bw_query_engine_feed(e, a->ix, tag, member, len, score)) {
            return BW_ENOMEM;
        }
    }
    return 0;
}

/* One bw_store_scan per index over the union of the ranges asked. */
static int plan_scan(struct plan *p, struct bw_store *st)
{
    struct ixwant *w = NULL;
    int rc = 0;

    for (int ix = 0; rc == 0 && ix < BW_IX_COUNT; ix++) {
        struct scanarg a = {ix, NULL, 0};
        int64_t from = 0, to = 0;

        bw_free(w);
        w = NULL;
        for (size_t i = 0; i < p->n; i++) {
            for (size_t j = 0; j < p->v[i].nscans; j++) {
                a.n += p->v[i].scans[j].ix == ix;
            }
        }
        if (a.n == 0) {
            continue;
        }
        w = bw_calloc(a.n, sizeof(*w));
        if (w == NULL) {
            rc = BW_ENOMEM;
            break;
        }
        a.n = 0;
        for (size_t i = 0; i < p->n; i++) {
            for (size_t j = 0; j < p->v[i].nscans; j++) {
                const struct bw_query_scan *s = &p->v[i].scans[j];

                if (s->ix != ix) {
                    continue;
                }
                if (a.n == 0) {
                    from = s->from;
                    to = s->to;
                } else {
                    from = from == BW_NOTIME || s->from == BW_NOTIME
                               ? BW_NOTIME
                               : (s->from < from ? s->from : from);
                    to = to == BW_NOTIME || s->to == BW_NOTIME
                             ? BW_NOTIME
                             : (s->to > to ? s->to : to);
                }
                w[a.n].e = p->v[i].e;
                w[a.n].from = s->from;
                w[a.n++].to = s->to;
            }
        }
        a.w = w;
        rc = bw_store_scan(st, ix, from, to, NULL, 0, on_row, &a);
    }
    bw_free(w);
    return rc;
}

static int plan_finish(struct plan *p, struct bw_store *st)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < p->n; i++) {
        struct pq *q = &p->v[i];

        rc = bw_query_engine_finish(q->e, &q->res);
        q->finished = 1;
        if (rc == 0 && q->keep) {
            rc = bw_query_items_describe(st, &q->res, 0, q->keep);
        }
    }
    return rc;
}

static void plan_release(struct plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        struct pq *q = &p->v[i];

        bw_query_engine_free(q->e);
        bw_query_where_release(&q->where);
        bw_query_result_release(&q->res);
    }
    bw_free(p->v);
    memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------- filling the model */

static const struct bw_query_row *row_named(const struct bw_query_result *res,
                                            const char *name)
{
    for (size_t i = 0; i < res->nrows; i++) {
        if (res->rows[i].name && strcmp(res->rows[i].name, name) == 0) {
            return &res->rows[i];
        }
    }
    return NULL;
}

static double stat_of(const struct pq *q, const char *week, int stat)
{
    const struct bw_query_row *row;

    if (q == NULL || !q->finished) {
        return NAN;
    }
    row = row_named(&q->res, week);
    return row ? bw_query_row_stat(&q->res, row, stat) : NAN;
}

static int fill_indicator(struct plan *p, struct bw_report_indicator *in,
                          const struct pq *q)
{
    const struct bw_report *r = p->r;
    char name[BW_TIME_BUFSZ];
    size_t n = (size_t)r->weeks_of_trend;
    int y = r->year, w = r->week;
    int prev = BW_TS_NONE;
    double *v;

    v = bw_calloc(p->nweeks, sizeof(*v));
    if (v == NULL) {
        return BW_ENOMEM;
    }
    /* v[p->nweeks - 1] is this week, walking back */
    for (size_t i = p->nweeks; i-- > 0;) {
        v[i] = stat_of(q, bw_week_format(y, w, name), in->stat);
        bw_week_prev(&y, &w);
    }
    in->this_week = v[p->nweeks - 1];
    in->last_week = v[p->nweeks - 2];
    in->delta =
        bw_delta(in->this_week, in->last_week, in->metric->unit == BW_MU_RATIO);
    in->status = BW_TS_NONE;
    in->last_status = BW_TS_NONE;
    if (in->has_target) {
        for (size_t i = 0; i < p->nweeks; i++) {
            int s = bw_target_status(&in->bound, v[i], prev);

            if (i + 2 == p->nweeks) {
                in->last_status = s;
            }
            in->status = s;
            prev = s;
        }
    }
    /* the trend is the last weeks_of_trend weeks */
    memmove(v, v + (p->nweeks - n), n * sizeof(*v));
    in->trend = v;
    in->ntrend = n;
    return 0;
}

static int fill_items(struct bw_report_section *s, const struct pq *q, int unit)
{
    size_t n = q->res.nitems < q->keep ? q->res.nitems : q->keep;

    s->item_metric = q->m;
    s->item_unit = unit;
    s->items_total = q->res.nitems;
    if (n == 0) {
        return 0;
    }
    s->items = bw_calloc(n, sizeof(*s->items));
    if (s->items == NULL) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct bw_query_item *it = &q->res.items[i];
        struct bw_report_item *dst = &s->items[s->nitems];

        dst->key = bw_strdup(it->key ? it->key : "?");
        dst->url = it->url ? bw_strdup(it->url) : NULL;
        dst->title = it->title ? bw_strdup(it->title) : NULL;
        dst->value = it->value;
        s->nitems++;
        if (dst->key == NULL || (it->url && dst->url == NULL) ||
            (it->title && dst->title == NULL)) {
            return BW_ENOMEM;
        }
    }
    return 0;
}

static int fill_scope(struct plan *p, struct bw_report_scope *sc)
{
    const char *week = p->r->week_name;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sc->nindicators; i++) {
        struct bw_report_indicator *in = &sc->indicators[i];

        rc = fill_indicator(p, in, plan_find(p, sc, in->metric, 1, 0));
    }
    for (int s = 0; rc == 0 && s < BW_RS_COUNT; s++) {
        struct bw_report_section *sec = &sc->sections[s];
        size_t n = 0;

        if (!(sc->subjects & section_subject(s))) {
            continue;
        }
        for (size_t i = 0; i < NELEM(section_values); i++) {
            n += section_values[i].section == s;
        }
        sec->values = bw_calloc(n ? n : 1, sizeof(*sec->values));
        if (sec->values == NULL) {
            return BW_ENOMEM;
        }
        for (size_t i = 0; i < NELEM(section_values); i++) {
            const struct bw_metric *m;
            struct bw_report_value *v;

            if (section_values[i].section != s) {
                continue;
            }
            m = bw_metric_find(section_values[i].metric);
            if (m == NULL) {
                continue;
            }
            v = &sec->values[sec->nvalues++];
            v->metric = m;
            v->stat = section_values[i].stat;
            v->value = stat_of(plan_find(p, sc, m, -1, -1), week, v->stat);
        }
        for (size_t i = 0; rc == 0 && i < NELEM(section_items); i++) {
            const struct bw_metric *m = bw_metric_find(section_items[i].metric);
            const struct pq *q = m ? plan_find(p, sc, m, 0, 1) : NULL;

            if (section_items[i].section == s && q) {
                rc = fill_items(sec, q, section_items[i].unit);
            }
        }
    }
    return rc;
}

/* ------------------------------------------------------------- freshness */

/*
 * Each source's last run (P run:{SRC}, through bw_status_source()): its
 * last success, stale when older than stale_after at the week's end (or
 * now, for the current week) or never; failed when its last run did not
 * end "ok".
 */
static int fill_sources(struct bw_store *st, const struct bw_config *cfg,
                        struct bw_report *r)
{
    int64_t at = r->generated_at != BW_TIME_NONE && r->generated_at < r->end
                     ? r->generated_at
                     : r->end;
    int rc = 0;

    if (cfg->nsources == 0) {
        return 0;
    }
    r->sources = bw_calloc(cfg->nsources, sizeof(*r->sources));
    if (r->sources == NULL) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < cfg->nsources; i++) {
        const struct bw_source_conf *src = &cfg->sources[i];
        struct bw_report_source *s = &r->sources[r->nsources++];
        struct bw_source_status ss;

        s->name = bw_strdup(src->name);
        s->type = bw_strdup(src->collector ? src->collector->name : "");
        if (s->name == NULL || s->type == NULL) {
            return BW_ENOMEM;
        }
        memset(&ss, 0, sizeof(ss));
        rc = bw_status_source(st, src->name, &ss);
        if (rc) {
            break;
        }
        s->last_success = ss.has_run ? ss.last_success : BW_TIME_NONE;
        s->last_run = ss.has_run ? ss.last_run : BW_TIME_NONE;
        s->failed = ss.has_run && ss.status[0] && strcmp(ss.status, "ok") != 0;
        s->stale = s->last_success == BW_TIME_NONE ||
                   at - s->last_success > r->stale_after;
    }
    return rc;
}

/* ------------------------------------------------------------------ build */

/* Which subjects the configured sources bring. */
static unsigned config_subjects(const struct bw_config *cfg)
{
    unsigned s = 0;

    for (size_t i = 0; i < cfg->nsources; i++) {
        const struct bw_collector *c = cfg->sources[i].collector;
        const char *name = c ? c->name : "";

        if (strcmp(name, "github") == 0) {
            s |= BW_REPORT_PRS;
        } else if (strcmp(name, "jira") == 0) {
            s |= BW_REPORT_TICKETS;
        } else {
            s |= BW_REPORT_PRS | BW_REPORT_TICKETS;
        }
    }
    return s ? s : BW_REPORT_PRS | BW_REPORT_TICKETS;
}

static int setup_scope(struct bw_report_scope *sc, const char *team,
                       unsigned subjects, const struct bw_config *cfg)
{
    scope_init(sc);
    sc->subjects = subjects;
    if (team) {
        sc->team = bw_strdup(team);
        if (sc->team == NULL) {
            return BW_ENOMEM;
        }
    }
    return scope_indicators(sc, cfg);
}

static int pick_week(const struct bw_report_opts *o, int *y, int *w)
{
    char name[BW_TIME_BUFSZ];

    if (o->year == 0) {
        if (bw_last_complete_week(o->now, y, w)) {
            BW_ERROR("cannot tell the last complete week before now; check "
                     "BELLWETHER_NOW");
            return BW_EUSAGE;
        }
        return 0;
    }
    *y = o->year;
    *w = o->week;
    if (bw_week_start(*y, *w) >= o->now) {
        BW_ERROR("week '%s' has not started yet; pick an earlier --week",
                 bw_week_format(*y, *w, name));
        return BW_EUSAGE;
    }
    return 0;
}

/* The scopes: the organisation (or --team's team), then each [team]. */
static int setup_scopes(struct bw_report *r, const struct bw_config *cfg,
                        const struct bw_report_opts *o)
{
    int rc = setup_scope(&r->main, o->team, r->subjects, cfg);

    if (rc == 0 && o->team == NULL && !o->no_teams && cfg->nteams) {
        r->teams = bw_calloc(cfg->nteams, sizeof(*r->teams));
        rc = r->teams ? 0 : BW_ENOMEM;
        for (size_t i = 0; rc == 0 && i < cfg->nteams; i++) {
            r->nteams++;
            rc =
                setup_scope(&r->teams[i], cfg->teams[i].name, r->subjects, cfg);
        }
    }
    return rc;
}

/* Plan every scope's queries, scan the store once, fill the model. */
static int run_plan(struct bw_store *st, const struct bw_config *cfg,
                    struct bw_report *r, int64_t now)
{
    struct plan p;
    int rc = 0;

    memset(&p, 0, sizeof(p));
    p.cfg = cfg;
    p.r = r;
    p.now = now;
    p.nweeks = (size_t)(r->weeks_of_trend > 2 ? r->weeks_of_trend : 2);
    rc = plan_scope(&p, &r->main);
    for (size_t i = 0; rc == 0 && i < r->nteams; i++) {
        rc = plan_scope(&p, &r->teams[i]);
    }
    if (rc == 0) {
        rc = plan_start(&p);
    }
    if (rc == 0) {
        rc = plan_scan(&p, st);
    }
    if (rc == 0) {
        rc = plan_finish(&p, st);
    }
    if (rc == 0) {
        rc = fill_scope(&p, &r->main);
    }
    for (size_t i = 0; rc == 0 && i < r->nteams; i++) {
        rc = fill_scope(&p, &r->teams[i]);
    }
    plan_release(&p);
    return rc;
}

int bw_report_build(struct bw_store *st, const struct bw_config *cfg,
                    const struct bw_report_opts *o, struct bw_report **out)
{
    struct bw_report *r = NULL;
    int y = 0, w = 0;
    int rc;

    *out = NULL;
    if (o->team && bw_config_team(cfg, o->team) == NULL) {
        BW_ERROR("unknown team '%s'; add a [team %s] section or pick one "
                 "the config has",
                 o->team, o->team);
        return BW_EUSAGE;
    }
    rc = pick_week(o, &y, &w);
    if (rc == 0) {
        rc = bw_report_new(y, w, cfg->report.timezone,
                           cfg->report.weeks_of_trend, &r);
    }
    if (rc) {
        return rc == BW_EPARSE ? BW_EUSAGE : rc;
    }
    r->generated_at = o->now;
    r->stale_after = cfg->report.stale_after;
    r->subjects = config_subjects(cfg);
    rc = setup_scopes(r, cfg, o);
    if (rc == 0) {
        rc = run_plan(st, cfg, r, o->now);
    }
    if (rc == 0) {
        rc = fill_sources(st, cfg, r);
    }
    if (rc) {
        bw_report_free(r);
        return rc;
    }
    *out = r;
    return 0;
}
