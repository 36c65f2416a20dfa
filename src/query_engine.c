/*
 * query_engine.c - the metrics engine: index rows in, grouped statistics
 * (and the items behind them) out. Shared by `bellwether query` and the
 * weekly report, so both print the same numbers (query.h has the rules).
 *
 * A query becomes one or more index scans (bw_query_engine_scans); every
 * row is decoded into one reused struct (bw_pr_row_parse and
 * bw_ticket_row_parse keep their buffers, so no allocation per row once
 * warm), filtered (exclusions, --where), given its groups (a period found
 * by binary search, a team by membership, or a name through a hash map)
 * and accumulated: a double pushed on its group's growable array for
 * durations and distributions, counters for counts and rates, a
 * (group, reviewer) counter for review_load_top_share. Point-in-time rows
 * are tested at each instant (period ends, or the range end). finish turns
 * each group into a row with bw_stats_compute().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/pr.h"
#include "bellwether/query.h"
#include "bellwether/store.h"
#include "bellwether/ticket.h"

#define HOUR 3600.0
#define DAY 86400.0
#define WEEK_SECS INT64_C(604800)
#define BLOCKED_OVER INT64_C(259200) /* 72 h */
#define LARGE_PR 400
#define MAX_GROUPS_PER_ROW 64

/* The metrics, as the engine tells them apart. */
enum mid {
    M_CODING = 0,
    M_PICKUP,
    M_REVIEW,
    M_CYCLE,
    M_TTFR,
    M_SIZE,
    M_MERGED,
    M_OPENED,
    M_UNREVIEWED,
    M_LARGE,
    M_AWAITING,
    M_STALE,
    M_REVIEWS,
    M_TOPSHARE,
    T_CYCLE,
    T_LEAD,
    T_THROUGHPUT,
    T_WIP,
    T_AGE,
    T_BLOCKED3D,
    T_BSHARE,
    T_BUG,
    T_REOPEN,
    T_NETFLOW,
    M_NMETRICS
};

static const struct {
    const char *name;
    const char *item_value;
} mids[M_NMETRICS] = {
    {"pr_coding_time", "coding time in hours"},
    {"pr_pickup_time", "pickup time in hours"},
    {"pr_review_time", "review time in hours"},
    {"pr_cycle_time", "cycle time in hours"},
    {"pr_time_to_first_response", "time to first response in hours"},
    {"pr_size", "lines added + deleted"},
    {"pr_merged", "1 per merged PR"},
    {"pr_opened", "1 per opened PR"},
    {"pr_unreviewed_merge_rate", "1 per merge without a counted review"},
    {"pr_large_rate", "the size of each PR over 400 lines"},
    {"pr_open_awaiting_review", "hours since ready for review"},
    {"pr_stale", "hours since the last activity"},
    {"review_count_by_reviewer", "1 per counted review (author: reviewer)"},
    {"review_load_top_share", "1 per counted review (author: reviewer)"},
    {"ticket_cycle_time", "cycle time in days"},
    {"ticket_lead_time", "lead time in days"},
    {"ticket_throughput", "1 per ticket done"},
    {"ticket_wip", "days since started"},
    {"ticket_age_in_progress", "days since started"},
    {"ticket_blocked_over_3d", "days since the blocked spell began"},
    {"ticket_blocked_share", "blocked time / cycle time"},
    {"bug_cycle_time", "cycle time in days"},
    {"ticket_reopen_rate", "the reopen count of each reopened ticket"},
    {"ticket_net_flow", "+1 per ticket created, -1 per ticket done"},
};

static int mid_of(const struct bw_metric *m)
{
    for (int i = 0; i < M_NMETRICS; i++) {
        if (strcmp(mids[i].name, m->name) == 0) {
            return i;
        }
    }
    return -1;
}

const char *bw_query_item_value_doc(const struct bw_metric *m)
{
    int id = m ? mid_of(m) : -1;

    return id < 0 ? "" : mids[id].item_value;
}

static int is_review_metric(int mid)
{
    return mid == M_REVIEWS || mid == M_TOPSHARE;
}

static int is_pit(int mid)
{
    return mid == M_AWAITING || mid == M_STALE || mid == T_WIP ||
           mid == T_AGE || mid == T_BLOCKED3D;
}

/* ------------------------------------------------------------ helpers */

struct dvec {
    double *v;
    size_t n, cap;
};

static int dvec_push(struct dvec *d, double x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        double *v = bw_realloc(d->v, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = x;
    return 0;
}

/* A string -> index hash map (open addressing, FNV-1a), keys owned. */
struct smap_ent {
    char *key;
    size_t val;
};

struct smap {
    struct smap_ent *e;
    size_t cap, n;
};

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = UINT64_C(1469598103934665603);

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static struct smap_ent *smap_slot(const struct smap *m, const char *k,
                                  size_t kn)
{
    size_t i = (size_t)fnv(k, kn) & (m->cap - 1);

    for (;;) {
        struct smap_ent *e = &m->e[i];

        if (e->key == NULL ||
            (strncmp(e->key, k, kn) == 0 && e->key[kn] == '\0')) {
            return e;
        }
        i = (i + 1) & (m->cap - 1);
    }
}

/* *val of k, or 0 when absent (1 when found). */
static int smap_get(const struct smap *m, const char *k, size_t kn, size_t *val)
{
    struct smap_ent *e;

    if (m->cap == 0) {
        return 0;
    }
    e = smap_slot(m, k, kn);
    if (e->key == NULL) {
        return 0;
    }
    *val = e->val;
    return 1;
}

static int smap_grow(struct smap *m)
{
    struct smap old = *m;
    size_t cap = m->cap ? m->cap * 2 : 64;

    m->e = bw_calloc(cap, sizeof(*m->e));
    if (m->e == NULL) {
        *m = old;
        return BW_ENOMEM;
    }
    m->cap = cap;
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.e[i].key) {
            *smap_slot(m, old.e[i].key, strlen(old.e[i].key)) = old.e[i];
            m->n++;
        }
    }
    bw_free(old.e);
    return 0;
}

static int smap_put(struct smap *m, const char *k, size_t kn, size_t val)
{
    struct smap_ent *e;

    if ((m->n + 1) * 2 > m->cap && smap_grow(m)) {
        return BW_ENOMEM;
    }
    e = smap_slot(m, k, kn);
    if (e->key == NULL) {
        e->key = bw_strndup(k, kn);
        if (e->key == NULL) {
            return BW_ENOMEM;
        }
        m->n++;
    }
    e->val = val;
    return 0;
}

static void smap_release(struct smap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        bw_free(m->e[i].key);
    }
    bw_free(m->e);
    memset(m, 0, sizeof(*m));
}

static int ci_has(const struct bw_strlist *l, const char *s)
{
    if (s == NULL) {
        return 0;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (strcasecmp(l->v[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------- engine */

struct qgroup {
    char *name;  /* owned; NULL: none */
    char *label; /* owned; NULL */
    struct dvec vals;
    long num, den;
};

struct bw_query_engine {
    struct bw_query q;
    int mid;
    struct bw_query_period *periods;
    size_t nperiods;
    int64_t ev_from, ev_to; /* event instants counted: [ev_from, ev_to) */
    int64_t range_end;      /* min(to, now): the non-period instant */
    int has_pit_instants;
    /* teams: those that count (all, or --where team), config order */
    const struct bw_team_conf **teams;
    size_t nteams;
    const struct bw_team_conf **wteams; /* --where team */
    size_t nwteams;
    /* groups */
    struct qgroup *groups;
    size_t ngroups, gcap;
    struct smap gmap;  /* categorical name (lower case) -> group */
    size_t null_group; /* group of a NULL name, or SIZE_MAX */
    struct smap rmap;  /* "group\x1freviewer" -> index in rcount */
    long *rcount;
    size_t *rgroup;
    size_t nr, rcap;
    struct smap labelset; /* "tag\x1fN" of PRs with a --where label */
    /* items */
    struct bw_query_item *items;
    size_t nitems, icap;
    /* scratch */
    struct bw_pr_row prow;
    struct bw_ticket_row trow;
    struct bw_buf key;
    long bad_rows;
    int fast;         /* merged rows read without decoding them (fast_merged) */
    const char *ctag; /* the last scope seen by the fast path, its group */
    size_t cgroup;
    int cpass;
};

/* What the filters, groupings and teams look at. */
struct qattr {
    const char *tag;
    const char *repo;        /* PRs: from the tag */
    const char *project;     /* tickets */
    const char *type;        /* tickets */
    const char *author;      /* PR author, reviewer, or assignee id */
    const char *author_name; /* assignee display name */
    const char *owner;       /* team membership: the PR's author */
    const char *const *labels;
    size_t nlabels;
    int review_label_ok; /* reviews: the PR has a --where label */
    long number;         /* PR */
    const char *key;     /* ticket */
};

static int is_ticket(const struct bw_query_engine *e)
{
    return e->q.metric->subject == BW_MS_TICKET;
}

static int new_group(struct bw_query_engine *e, const char *name,
                     const char *label, size_t *out)
{
    struct qgroup *g;

    if (e->ngroups == e->gcap) {
        size_t cap = e->gcap ? e->gcap * 2 : 16;
        struct qgroup *v = bw_realloc(e->groups, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        e->groups = v;
        e->gcap = cap;
    }
    g = &e->groups[e->ngroups];
    memset(g, 0, sizeof(*g));
    if ((name && (g->name = bw_strdup(name)) == NULL) ||
        (label && (g->label = bw_strdup(label)) == NULL)) {
        bw_free(g->name);
        return BW_ENOMEM;
    }
    *out = e->ngroups++;
    return 0;
}

/* The group of a categorical name; names compare case-insensitively
 * (GitHub logins and repositories are). */
static int named_group(struct bw_query_engine *e, const char *name,
                       const char *label, size_t *out)
{
    size_t n, g;
    int rc;

    if (name == NULL) {
        if (e->null_group == SIZE_MAX) {
            rc = new_group(e, NULL, label, &e->null_group);
            if (rc) {
                return rc;
            }
        }
        *out = e->null_group;
        return 0;
    }
    bw_buf_reset(&e->key);
    n = strlen(name);
    if (bw_buf_add(&e->key, name, n)) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        char c = e->key.data[i];

        if (c >= 'A' && c <= 'Z') {
            e->key.data[i] = (char)(c - 'A' + 'a');
        }
    }
    if (smap_get(&e->gmap, e->key.data, n, out)) {
        return 0;
    }
    rc = new_group(e, name, label, &g);
    if (rc == 0) {
        rc = smap_put(&e->gmap, e->key.data, n, g);
    }
    *out = g;
    return rc;
}

static int pr_in_team(const struct bw_team_conf *t, const struct qattr *a)
{
    return ci_has(&t->repos, a->repo) || ci_has(&t->members, a->owner);
}

static int ticket_in_team(const struct bw_team_conf *t, const struct qattr *a)
{
    return ci_has(&t->projects, a->project) ||
           bw_strlist_has(&t->jira_users, a->author) ||
           bw_strlist_has(&t->jira_users, a->author_name);
}

static int in_team(const struct bw_query_engine *e,
                   const struct bw_team_conf *t, const struct qattr *a)
{
    return is_ticket(e) ? ticket_in_team(t, a) : pr_in_team(t, a);
}

static int any_label(const struct bw_strlist *want, const struct qattr *a)
{
    for (size_t i = 0; i < want->n; i++) {
        if (bw_row_has_label(a->labels, a->nlabels, want->v[i])) {
            return 1;
        }
    }
    return 0;
}

/* --where: values of a key OR-ed, keys AND-ed. */
static int passes(const struct bw_query_engine *e, const struct qattr *a)
{
    const struct bw_query_where *w = e->q.where;
    int ok;

    if (w == NULL) {
        return 1;
    }
    if (w->v[BW_WK_REPO].n && !ci_has(&w->v[BW_WK_REPO], a->repo)) {
        return 0;
    }
    if (w->v[BW_WK_PROJECT].n && !ci_has(&w->v[BW_WK_PROJECT], a->project)) {
        return 0;
    }
    if (w->v[BW_WK_TYPE].n && !ci_has(&w->v[BW_WK_TYPE], a->type)) {
        return 0;
    }
    if (w->v[BW_WK_AUTHOR].n && !ci_has(&w->v[BW_WK_AUTHOR], a->author) &&
        !ci_has(&w->v[BW_WK_AUTHOR], a->author_name)) {
        return 0;
    }
    if (w->v[BW_WK_LABEL].n) {
        ok = is_review_metric(e->mid) ? a->review_label_ok
                                      : any_label(&w->v[BW_WK_LABEL], a);
        if (!ok) {
            return 0;
        }
    }
    if (e->nwteams) {
        ok = 0;
        for (size_t i = 0; i < e->nwteams && !ok; i++) {
            ok = in_team(e, e->wteams[i], a);
        }
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

/* The period holding t, or SIZE_MAX. */
static size_t period_of(const struct bw_query_engine *e, int64_t t)
{
    size_t lo = 0, hi = e->nperiods;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (e->periods[mid].start <= t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0 || t >= e->periods[lo - 1].end) {
        return SIZE_MAX;
    }
    return lo - 1;
}

/* How account() is told when an item counts: at an event (checked against
 * the range), at the range's end, or at the end of period p (>= 0). */
#define AT_EVENT SIZE_MAX
#define AT_RANGE_END (SIZE_MAX - 1)

/* The groups of an item that counts at t (see AT_*). */
static int groups_of(struct bw_query_engine *e, const struct qattr *a,
                     int64_t t, size_t p, size_t *out, size_t *n)
{
    size_t g = 0;
    int rc = 0;

    *n = 0;
    if (p == AT_EVENT && (t < e->ev_from || t >= e->ev_to)) {
        return 0;
    }
    switch (e->q.by) {
    case BW_BY_WEEK:
    case BW_BY_MONTH:
        g = p == AT_EVENT ? period_of(e, t) : p;
        if (g < e->nperiods) {
            out[(*n)++] = g;
        }
        return 0;
    case BW_BY_TEAM:
        for (size_t i = 0; i < e->nteams && *n < MAX_GROUPS_PER_ROW; i++) {
            if (in_team(e, e->teams[i], a)) {
                out[(*n)++] = i;
            }
        }
        return 0;
    case BW_BY_REPO:
        rc = named_group(e, a->repo, NULL, &g);
        break;
    case BW_BY_PROJECT:
        rc = named_group(e, a->project, NULL, &g);
        break;
    case BW_BY_TYPE:
        rc = named_group(e, a->type, NULL, &g);
        break;
    case BW_BY_AUTHOR:
        rc = named_group(e, a->author, a->author_name, &g);
        break;
    default:
        g = 0;
        break;
    }
    if (rc == 0) {
        out[(*n)++] = g;
    }
    return rc;
}

/* ---------------------------------------------------------- accumulate */

enum op {
    OP_VALUE = 1, /* a value for the statistics */
    OP_COUNT,     /* num++ (counts, point-in-time, numerators) */
    OP_DEN,       /* den++ only */
    OP_RATE_NUM,  /* den++ and num++ */
    OP_NEG,       /* den++ (net flow: done) */
    OP_REVIEWER   /* den++ and the (group, reviewer) counter */
};

static int add_item(struct bw_query_engine *e, const struct qattr *a, size_t g,
                    double v, int64_t at)
{
    struct bw_query_item *it;
    char buf[48];

    if (e->nitems == e->icap) {
        size_t cap = e->icap ? e->icap * 2 : 64;
        struct bw_query_item *x = bw_realloc(e->items, cap * sizeof(*x));

        if (x == NULL) {
            return BW_ENOMEM;
        }
        e->items = x;
        e->icap = cap;
    }
    it = &e->items[e->nitems];
    memset(it, 0, sizeof(*it));
    it->tag = bw_strdup(a->tag);
    if (a->key) {
        it->key = bw_strdup(a->key);
    } else {
        struct bw_buf k = BW_BUF_INIT;

        snprintf(buf, sizeof(buf), "#%ld", a->number);
        if (bw_buf_adds(&k, a->repo ? a->repo : "") == 0 &&
            bw_buf_adds(&k, buf) == 0) {
            it->key = bw_buf_detach(&k);
        }
        bw_buf_release(&k);
    }
    it->number = a->key ? 0 : a->number;
    it->author = a->author ? bw_strdup(a->author) : NULL;
    it->label = a->author_name ? bw_strdup(a->author_name) : NULL;
    it->value = v;
    it->at = at;
    it->row = g;
    e->nitems++;
    if (it->tag == NULL || it->key == NULL || (a->author && !it->author) ||
        (a->author_name && !it->label)) {
        return BW_ENOMEM;
    }
    return 0;
}

static int reviewer_add(struct bw_query_engine *e, size_t g,
                        const char *reviewer)
{
    size_t idx;
    int rc;

    bw_buf_reset(&e->key);
    if (bw_buf_printf(&e->key, "%zu\x1f%s", g, reviewer)) {
        return BW_ENOMEM;
    }
    if (smap_get(&e->rmap, e->key.data, e->key.len, &idx)) {
        e->rcount[idx]++;
        return 0;
    }
    if (e->nr == e->rcap) {
        size_t cap = e->rcap ? e->rcap * 2 : 64;
        long *c = bw_realloc(e->rcount, cap * sizeof(*c));
        size_t *gr;

        if (c == NULL) {
            return BW_ENOMEM;
        }
        e->rcount = c;
        gr = bw_realloc(e->rgroup, cap * sizeof(*gr));
        if (gr == NULL) {
            return BW_ENOMEM;
        }
        e->rgroup = gr;
        e->rcap = cap;
    }
    rc = smap_put(&e->rmap, e->key.data, e->key.len, e->nr);
    if (rc) {
        return rc;
    }
    e->rcount[e->nr] = 1;
    e->rgroup[e->nr] = g;
    e->nr++;
    return 0;
}

/*
 * Count an item in its groups: op says how, v is its value (OP_VALUE) or
 * its item value, item says whether it is listed.
 */
static int account(struct bw_query_engine *e, const struct qattr *a, int64_t t,
                   size_t p, int op, double v, int item)
{
    size_t gs[MAX_GROUPS_PER_ROW];
    size_t n;
    int rc;

    if (!passes(e, a)) {
        return 0;
    }
    rc = groups_of(e, a, t, p, gs, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct qgroup *g = &e->groups[gs[i]];

        switch (op) {
        case OP_VALUE:
            rc = dvec_push(&g->vals, v);
            break;
        case OP_COUNT:
            g->num++;
            break;
        case OP_DEN:
            g->den++;
            break;
        case OP_RATE_NUM:
            g->num++;
            g->den++;
            break;
        case OP_NEG:
            g->den++;
            break;
        case OP_REVIEWER:
            g->den++;
            rc = reviewer_add(e, gs[i], a->author ? a->author : "ghost");
            break;
        default:
            break;
        }
        if (rc == 0 && item && e->q.items) {
            rc = add_item(e, a, gs[i], v, t);
        }
    }
    return rc;
}

/* ------------------------------------------------------------ PR rows */

static void pr_attr(struct bw_query_engine *e, const char *tag, struct qattr *a)
{
    const struct bw_pr_row *r = &e->prow;
    const char *c = strchr(tag, ':');

    memset(a, 0, sizeof(*a));
    a->tag = tag;
    a->repo = c ? c + 1 : tag;
    a->author = r->author ? r->author : "ghost";
    a->owner = a->author;
    a->labels = r->labels;
    a->nlabels = r->nlabels;
    a->number = r->number;
}

/* A score as epoch seconds; NAN (not asked for) as none. */
static int64_t score_time(double score)
{
    return isnan(score) || score < -9e18 || score > 9e18 ? BW_NOTIME
                                                         : (int64_t)score;
}

static double secs_to(int64_t s, double unit)
{
    return s == BW_NOTIME ? NAN : (double)s / unit;
}

static int feed_merged(struct bw_query_engine *e, const struct qattr *a,
                       int64_t t)
{
    const struct bw_pr_row *r = &e->prow;
    double v = NAN;

    switch (e->mid) {
    case M_CODING:
        v = secs_to(r->coding, HOUR);
        break;
    case M_PICKUP:
        v = secs_to(r->pickup, HOUR);
        break;
    case M_REVIEW:
        v = secs_to(r->review, HOUR);
        break;
    case M_CYCLE:
        v = secs_to(r->cycle, HOUR);
        break;
    case M_TTFR:
        v = secs_to(r->ttfr, HOUR);
        break;
    case M_SIZE:
        v = r->size < 0 ? NAN : (double)r->size;
        break;
    case M_MERGED:
        return account(e, a, t, AT_EVENT, OP_COUNT, 1, 1);
    case M_UNREVIEWED:
        if (r->flags & BW_PRF_REVIEWED) {
            return account(e, a, t, AT_EVENT, OP_DEN, 0, 0);
        }
        return account(e, a, t, AT_EVENT, OP_RATE_NUM, 1, 1);
    case M_LARGE:
        if (r->size > LARGE_PR) {
            return account(e, a, t, AT_EVENT, OP_RATE_NUM, (double)r->size, 1);
        }
        return account(e, a, t, AT_EVENT, OP_DEN, 0, 0);
    default:
        return 0;
    }
    if (isnan(v)) {
        return 0;
    }
    return account(e, a, t, AT_EVENT, OP_VALUE, v, 1);
}

/* The last activity at or before t of a stale PR (its window's start
 * minus 7 days). */
static int64_t stale_since(const struct bw_pr_row *r, int64_t t)
{
    for (size_t i = 0; i < r->nstale; i++) {
        if (r->stale[i].start <= t &&
            (r->stale[i].end == BW_NOTIME || t < r->stale[i].end)) {
            return r->stale[i].start - WEEK_SECS;
        }
    }
    return t;
}

/* Each instant the query takes point-in-time values at: (T, period). */
static size_t instants(const struct bw_query_engine *e, size_t i, int64_t *t,
                       size_t *p)
{
    if (!e->has_pit_instants) {
        return 0;
    }
    if (bw_query_by_is_period(e->q.by)) {
        if (i >= e->nperiods) {
            return 0;
        }
        *t = e->periods[i].end;
        *p = i;
        return 1;
    }
    if (i > 0) {
        return 0;
    }
    *t = e->range_end;
    *p = AT_RANGE_END;
    return 1;
}

static int feed_pit(struct bw_query_engine *e, const struct qattr *a,
                    double score)
{
    const struct bw_pr_row *r = &e->prow;
    int64_t t;
    size_t p;
    int rc = 0;

    for (size_t i = 0; rc == 0 && instants(e, i, &t, &p); i++) {
        /* open at t needs opened_at < t < end of the last open stretch */
        if (r->opened_at >= t || (double)t >= score) {
            continue;
        }
        if (e->mid == M_AWAITING && bw_pr_row_awaiting_review_at(r, t)) {
            rc = account(e, a, t, p, OP_COUNT, (double)(t - r->ready_at) / HOUR,
                         1);
        } else if (e->mid == M_STALE && bw_pr_row_stale_at(r, t)) {
            rc = account(e, a, t, p, OP_COUNT,
                         (double)(t - stale_since(r, t)) / HOUR, 1);
        }
    }
    return rc;
}

/* ---- the fast path: merged rows without decoding them ---- */

/*
 * The numbers of a merged row read in place: a year of a large
 * organisation is 100,000 rows, and a query needs three of their twelve
 * fields. Only numeric fields are read (never escaped, store.h); the
 * author and labels, which are, go through bw_pr_row_parse().
 * Fields: N|author|flags|excl|coding|pickup|review|cycle|ttfr|size|...
 */
static int fast_int(const char *p, const char *end, int64_t *out)
{
    int64_t v = 0;

    if (p == end) {
        *out = BW_NOTIME;
        return 0;
    }
    if (end - p > 18) {
        return BW_EPARSE;
    }
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return BW_EPARSE;
        }
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

/* The group of a scope's rows on the fast path (SIZE_MAX: filtered out),
 * kept while the scan stays in one scope. */
static int fast_scope(struct bw_query_engine *e, const char *tag, size_t *g)
{
    const char *c = strchr(tag, ':');
    const char *repo = c ? c + 1 : tag;
    int rc = 0;

    if (tag != e->ctag || e->ctag == NULL || strcmp(tag, e->ctag) != 0) {
        e->ctag = tag;
        e->cgroup = 0;
        e->cpass = e->q.where == NULL || e->q.where->v[BW_WK_REPO].n == 0 ||
                   ci_has(&e->q.where->v[BW_WK_REPO], repo);
        if (e->cpass && e->q.by == BW_BY_REPO) {
            rc = named_group(e, repo, NULL, &e->cgroup);
        }
    }
    *g = e->cpass ? e->cgroup : SIZE_MAX;
    return rc;
}

static int fast_merged(struct bw_query_engine *e, const char *tag,
                       const char *s, size_t len, int64_t t)
{
    static const int field_of[] = {
        [M_CODING] = 4, [M_PICKUP] = 5, [M_REVIEW] = 6, [M_CYCLE] = 7,
        [M_TTFR] = 8,   [M_SIZE] = 9,   [M_LARGE] = 9};
    const char *f[11];
    const char *end = s + len, *p = s;
    int64_t flags, v = BW_NOTIME;
    size_t g;
    int n = 0;

    /* fields are short: a plain loop beats a memchr call per field */
    f[n++] = p;
    for (; p < end && n < 11; p++) {
        if (*p == '|') {
            f[n++] = p + 1;
        }
    }
    if (n < 11) {
        return BW_EPARSE;
    }
    if (fast_int(f[2], f[3] - 1, &flags) || flags == BW_NOTIME) {
        return BW_EPARSE;
    }
    if (flags & BW_PRF_EXCLUDED) {
        return 0;
    }
    if (e->mid <= M_SIZE || e->mid == M_LARGE) {
        int k = field_of[e->mid];

        if (fast_int(f[k], f[k + 1] - 1, &v)) {
            return BW_EPARSE;
        }
    }
    if (t < e->ev_from || t >= e->ev_to) {
        return 0;
    }
    if (fast_scope(e, tag, &g)) {
        return BW_ENOMEM;
    }
    if (g != SIZE_MAX && bw_query_by_is_period(e->q.by)) {
        g = period_of(e, t);
    }
    if (g >= e->ngroups) {
        return 0;
    }
    switch (e->mid) {
    case M_MERGED:
        e->groups[g].num++;
        return 0;
    case M_UNREVIEWED:
        e->groups[g].den++;
        e->groups[g].num += (flags & BW_PRF_REVIEWED) == 0;
        return 0;
    case M_LARGE:
        e->groups[g].den++;
        e->groups[g].num += v != BW_NOTIME && v > LARGE_PR;
        return 0;
    default:
        if (v == BW_NOTIME) {
            return 0;
        }
        return dvec_push(&e->groups[g].vals,
                         e->mid == M_SIZE ? (double)v : (double)v / HOUR);
    }
}

static int feed_pr(struct bw_query_engine *e, int ix, const char *tag,
                   const char *member, size_t len, double score)
{
    struct bw_pr_row *r = &e->prow;
    struct qattr a;
    int64_t t = score_time(score);
    int rc;

    if (e->fast && ix == BW_IX_MERGED) {
        return fast_merged(e, tag, member, len, t);
    }
    rc = bw_pr_row_parse(r, ix, member, len);
    if (rc) {
        return rc;
    }
    if (ix == BW_IX_OPENED && is_review_metric(e->mid)) {
        /* the --where label join: PRs carrying one of the labels */
        if (!any_label(
                &e->q.where->v[BW_WK_LABEL],
                &(struct qattr){.labels = r->labels, .nlabels = r->nlabels})) {
            return 0;
        }
        bw_buf_reset(&e->key);
        if (bw_buf_printf(&e->key, "%s\x1f%ld", tag, r->number)) {
            return BW_ENOMEM;
        }
        return smap_put(&e->labelset, e->key.data, e->key.len, 1);
    }
    pr_attr(e, tag, &a);
    if (ix == BW_IX_REVIEWS) {
        size_t one;

        a.author = r->reviewer ? r->reviewer : "ghost";
        a.owner = r->author ? r->author : "ghost";
        if (e->q.where && e->q.where->v[BW_WK_LABEL].n) {
            bw_buf_reset(&e->key);
            if (bw_buf_printf(&e->key, "%s\x1f%ld", tag, r->number)) {
                return BW_ENOMEM;
            }
            a.review_label_ok =
                smap_get(&e->labelset, e->key.data, e->key.len, &one);
        }
        return account(e, &a, t, AT_EVENT,
                       e->mid == M_TOPSHARE ? OP_REVIEWER : OP_COUNT, 1, 1);
    }
    if (r->flags & BW_PRF_EXCLUDED) {
        return 0;
    }
    switch (ix) {
    case BW_IX_MERGED:
        return feed_merged(e, &a, t);
    case BW_IX_OPENED:
        return e->mid == M_OPENED ? account(e, &a, t, AT_EVENT, OP_COUNT, 1, 1)
                                  : 0;
    case BW_IX_PIT:
        return feed_pit(e, &a, score);
    default:
        return 0;
    }
}

/* -------------------------------------------------------- ticket rows */

static void ticket_attr(const struct bw_ticket_row *r, const char *tag,
                        struct qattr *a)
{
    memset(a, 0, sizeof(*a));
    a->tag = tag;
    a->project = r->project;
    a->type = r->type;
    a->author =
        r->assignee_id && *r->assignee_id ? r->assignee_id : r->assignee_name;
    a->author_name = r->assignee_name;
    a->owner = a->author;
    a->labels = r->labels;
    a->nlabels = r->nlabels;
    a->key = r->key;
}

static int feed_done(struct bw_query_engine *e, const struct qattr *a,
                     int64_t t)
{
    const struct bw_ticket_row *r = &e->trow;
    double v = NAN;

    switch (e->mid) {
    case T_CYCLE:
        v = secs_to(r->cycle, DAY);
        break;
    case T_LEAD:
        v = secs_to(r->lead, DAY);
        break;
    case T_BUG:
        if (r->type == NULL || strcmp(r->type, "Bug") != 0) {
            return 0;
        }
        v = secs_to(r->cycle, DAY);
        break;
    case T_BSHARE:
        if (r->cycle == BW_NOTIME || r->cycle <= 0) {
            return 0;
        }
        v = (double)(r->blocked == BW_NOTIME ? 0 : r->blocked) /
            (double)r->cycle;
        break;
    case T_THROUGHPUT:
        return account(e, a, t, AT_EVENT, OP_COUNT, 1, 1);
    case T_REOPEN:
        if (r->reopen_count > 0) {
            return account(e, a, t, AT_EVENT, OP_RATE_NUM,
                           (double)r->reopen_count, 1);
        }
        return account(e, a, t, AT_EVENT, OP_DEN, 0, 0);
    case T_NETFLOW:
        return account(e, a, t, AT_EVENT, OP_NEG, -1, 1);
    default:
        return 0;
    }
    if (isnan(v)) {
        return 0;
    }
    return account(e, a, t, AT_EVENT, OP_VALUE, v, 1);
}

static int feed_tpit(struct bw_query_engine *e, const struct qattr *a,
                     double score)
{
    const struct bw_ticket_row *r = &e->trow;
    int64_t t, since;
    size_t p;
    int rc = 0;

    for (size_t i = 0; rc == 0 && instants(e, i, &t, &p); i++) {
        if (r->started_at > t || (double)t >= score ||
            !bw_ticket_row_in_progress_at(r, t)) {
            continue;
        }
        switch (e->mid) {
        case T_WIP:
            rc = account(e, a, t, p, OP_COUNT,
                         (double)(t - r->started_at) / DAY, 1);
            break;
        case T_AGE:
            rc = account(e, a, t, p, OP_VALUE,
                         (double)(t - r->started_at) / DAY, 1);
            break;
        case T_BLOCKED3D:
            if (bw_ticket_row_blocked_at(r, t, &since) &&
                t - since >= BLOCKED_OVER) {
                rc =
                    account(e, a, t, p, OP_COUNT, (double)(t - since) / DAY, 1);
            }
            break;
        default:
            break;
        }
    }
    return rc;
}

static int feed_ticket(struct bw_query_engine *e, int ix, const char *tag,
                       const char *member, size_t len, double score)
{
    struct bw_ticket_row *r = &e->trow;
    struct qattr a;
    int rc = bw_ticket_row_parse(r, ix, member, len);

    if (rc) {
        return rc;
    }
    if (r->flags & BW_TKF_EXCLUDED) {
        return 0;
    }
    ticket_attr(r, tag, &a);
    switch (ix) {
    case BW_IX_DONE:
        return feed_done(e, &a, score_time(score));
    case BW_IX_CREATED:
        return e->mid == T_NETFLOW
                   ? account(e, &a, (int64_t)score, AT_EVENT, OP_COUNT, 1, 1)
                   : 0;
    case BW_IX_TPIT:
        return feed_tpit(e, &a, score);
    default:
        return 0;
    }
}

int bw_query_engine_feed(struct bw_query_engine *e, int ix, const char *tag,
                         const char *member, size_t len, double score)
{
    int rc;

    if (ix >= BW_IX_MERGED && ix <= BW_IX_REVIEWS) {
        rc = e->q.metric->subject == BW_MS_PR
                 ? feed_pr(e, ix, tag, member, len, score)
                 : 0;
    } else {
        rc = e->q.metric->subject == BW_MS_TICKET
                 ? feed_ticket(e, ix, tag, member, len, score)
                 : 0;
    }
    if (rc == BW_EPARSE) {
        if (e->bad_rows++ == 0) {
            BW_WARN("skipped an index row of '%s' that does not decode; run "
                    "'bellwether reindex'",
                    tag);
        }
        rc = 0;
    }
    return rc;
}

/* ------------------------------------------------------- new and scans */

static int teams_setup(struct bw_query_engine *e)
{
    const struct bw_config *cfg = e->q.cfg;
    const struct bw_query_where *w = e->q.where;
    size_t nw = w ? w->v[BW_WK_TEAM].n : 0;
    size_t nt = cfg ? cfg->nteams : 0;

    if (nw) {
        e->wteams = bw_calloc(nw, sizeof(*e->wteams));
        if (e->wteams == NULL) {
            return BW_ENOMEM;
        }
        for (size_t i = 0; i < nw; i++) {
            const struct bw_team_conf *t =
                cfg ? bw_config_team(cfg, w->v[BW_WK_TEAM].v[i]) : NULL;

            if (t == NULL) {
                BW_ERROR("unknown team '%s'; add a [team NAME] section or "
                         "use a team the config names",
                         w->v[BW_WK_TEAM].v[i]);
                return BW_EUSAGE;
            }
            e->wteams[e->nwteams++] = t;
        }
    }
    if (nt) {
        e->teams = bw_calloc(nt, sizeof(*e->teams));
        if (e->teams == NULL) {
            return BW_ENOMEM;
        }
        for (size_t i = 0; i < nt; i++) {
            const struct bw_team_conf *t = &cfg->teams[i];
            int keep = nw == 0;

            for (size_t j = 0; j < e->nwteams && !keep; j++) {
                keep = e->wteams[j] == t;
            }
            if (keep) {
                e->teams[e->nteams++] = t;
            }
        }
    }
    return 0;
}

static int groups_setup(struct bw_query_engine *e)
{
    size_t g;
    int rc = 0;

    if (bw_query_by_is_period(e->q.by)) {
        for (size_t i = 0; rc == 0 && i < e->nperiods; i++) {
            rc = new_group(e, e->periods[i].name, NULL, &g);
        }
    } else if (e->q.by == BW_BY_TEAM) {
        for (size_t i = 0; rc == 0 && i < e->nteams; i++) {
            rc = new_group(e, e->teams[i]->name, NULL, &g);
        }
    } else if (e->q.by == BW_BY_NONE) {
        rc = new_group(e, NULL, NULL, &g);
    }
    return rc;
}

/* Can merged rows take the fast path? Only when nothing but the row's
 * numbers and time decide: no items, no grouping or filter that reads the
 * author or the labels (a repository comes from the scope). */
static int fast_ok(const struct bw_query *q, int mid)
{
    if (q->items || mid > M_LARGE || mid == M_OPENED || mid == M_AWAITING ||
        mid == M_STALE) {
        return 0;
    }
    if (q->by != BW_BY_NONE && q->by != BW_BY_REPO &&
        !bw_query_by_is_period(q->by)) {
        return 0;
    }
    for (int k = 0; q->where && k < BW_WK_COUNT; k++) {
        if (k != BW_WK_REPO && q->where->v[k].n) {
            return 0;
        }
    }
    return 1;
}

int bw_query_engine_new(const struct bw_query *q, struct bw_query_engine **out)
{
    struct bw_query_engine *e;
    int rc;

    *out = NULL;
    if (q->metric == NULL || mid_of(q->metric) < 0 ||
        !bw_query_by_applies(q->metric, q->by) ||
        bw_query_where_check(q->where, q->metric, q->cfg, NULL, 0)) {
        return BW_EUSAGE;
    }
    e = bw_calloc(1, sizeof(*e));
    if (e == NULL) {
        return BW_ENOMEM;
    }
    e->q = *q;
    e->mid = mid_of(q->metric);
    e->null_group = SIZE_MAX;
    bw_pr_row_init(&e->prow);
    bw_ticket_row_init(&e->trow);
    e->ev_from = q->from;
    e->ev_to = q->to < q->now ? q->to : q->now;
    e->range_end = e->ev_to;
    rc = bw_query_periods(q->by, q->from, q->to, q->now, &e->periods,
                          &e->nperiods);
    e->has_pit_instants = is_pit(e->mid) && e->nperiods > 0;
    e->fast = fast_ok(q, e->mid);
    if (rc == 0) {
        rc = teams_setup(e);
    }
    if (rc == 0) {
        rc = groups_setup(e);
    }
    if (rc) {
        bw_query_engine_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

size_t bw_query_engine_scans(const struct bw_query_engine *e,
                             struct bw_query_scan *out, size_t max)
{
    struct bw_query_scan s[3];
    size_t n = 0;
    int64_t evto = e->ev_to - 1;
    int events = e->nperiods > 0 && e->ev_from <= evto;
    int64_t tmin = BW_NOTIME;

    if (e->has_pit_instants) {
        tmin =
            bw_query_by_is_period(e->q.by) ? e->periods[0].end : e->range_end;
    }
    switch (e->mid) {
    case M_OPENED:
        if (events) {
            s[n++] = (struct bw_query_scan){BW_IX_OPENED, e->ev_from, evto, 1};
        }
        break;
    case M_AWAITING:
    case M_STALE:
        if (e->has_pit_instants) {
            s[n++] = (struct bw_query_scan){BW_IX_PIT, tmin, BW_NOTIME, 0};
        }
        break;
    case M_REVIEWS:
    case M_TOPSHARE:
        if (events && e->q.where && e->q.where->v[BW_WK_LABEL].n) {
            /* every PR a review in the range can be on: opened before */
            s[n++] = (struct bw_query_scan){BW_IX_OPENED, BW_NOTIME, evto, 0};
        }
        if (events) {
            s[n++] = (struct bw_query_scan){BW_IX_REVIEWS, e->ev_from, evto, 1};
        }
        break;
    case T_NETFLOW:
        if (events) {
            s[n++] = (struct bw_query_scan){BW_IX_CREATED, e->ev_from, evto, 1};
            s[n++] = (struct bw_query_scan){BW_IX_DONE, e->ev_from, evto, 1};
        }
        break;
    case T_WIP:
    case T_AGE:
    case T_BLOCKED3D:
        if (e->has_pit_instants) {
            s[n++] = (struct bw_query_scan){BW_IX_TPIT, tmin, BW_NOTIME, 0};
        }
        break;
    default:
        if (events) {
            s[n++] = (struct bw_query_scan){
                e->q.metric->subject == BW_MS_PR ? BW_IX_MERGED : BW_IX_DONE,
                e->ev_from, evto, 1};
        }
        break;
    }
    for (size_t i = 0; i < n && i < max; i++) {
        out[i] = s[i];
    }
    return n < max ? n : max;
}

static void group_release(struct qgroup *g)
{
    bw_free(g->name);
    bw_free(g->label);
    bw_free(g->vals.v);
}

static void item_release(struct bw_query_item *it)
{
    bw_free(it->tag);
    bw_free(it->key);
    bw_free(it->author);
    bw_free(it->label);
    bw_free(it->url);
    bw_free(it->title);
}

void bw_query_engine_free(struct bw_query_engine *e)
{
    if (e == NULL) {
        return;
    }
    for (size_t i = 0; i < e->ngroups; i++) {
        group_release(&e->groups[i]);
    }
    bw_free(e->groups);
    for (size_t i = 0; i < e->nitems; i++) {
        item_release(&e->items[i]);
    }
    bw_free(e->items);
    bw_free(e->periods);
    bw_free(e->teams);
    bw_free(e->wteams);
    smap_release(&e->gmap);
    smap_release(&e->rmap);
    smap_release(&e->labelset);
    bw_free(e->rcount);
    bw_free(e->rgroup);
    bw_pr_row_release(&e->prow);
    bw_ticket_row_release(&e->trow);
    bw_buf_release(&e->key);
    bw_free(e);
}

/* ------------------------------------------------------------- finish */

static const struct bw_query_engine *sort_engine; /* qsort has no arg */

static int cmp_group(const void *a, const void *b)
{
    const struct qgroup *x = &sort_engine->groups[*(const size_t *)a];
    const struct qgroup *y = &sort_engine->groups[*(const size_t *)b];
    int c;

    /* by what a reader sees (a ticket assignee's name), no name last */
    if (x->name == NULL || y->name == NULL) {
        return (x->name == NULL) - (y->name == NULL);
    }
    c = strcmp(x->label ? x->label : x->name, y->label ? y->label : y->name);
    return c ? c : strcmp(x->name, y->name);
}

static int cmp_item(const void *a, const void *b)
{
    const struct bw_query_item *x = a, *y = b;
    int c;

    if (x->row != y->row) {
        return x->row < y->row ? -1 : 1;
    }
    if (x->value != y->value) {
        return x->value > y->value ? -1 : 1;
    }
    c = strcmp(x->key, y->key);
    if (c) {
        return c;
    }
    return (x->at > y->at) - (x->at < y->at);
}

static int cmp_item_asc(const void *a, const void *b)
{
    const struct bw_query_item *x = a, *y = b;

    if (x->row == y->row && x->value != y->value) {
        return x->value < y->value ? -1 : 1;
    }
    return cmp_item(a, b);
}

void bw_query_items_sort(struct bw_query_result *r, int ascending)
{
    if (r->nitems > 1) {
        qsort(r->items, r->nitems, sizeof(*r->items),
              ascending ? cmp_item_asc : cmp_item);
    }
}

/*
 * Sort non-negative doubles (durations, sizes, shares: never negative, no
 * NAN here) as their IEEE bit patterns, which order the same way: an LSD
 * radix sort, one pass per byte, skipping bytes all values share. A year
 * of a large organisation is 100,000 values; qsort's comparisons were a
 * fifth of a query's CPU. tmp holds n values.
 */
static void radix_sort(double *v, double *tmp, size_t n)
{
    uint64_t *a = (uint64_t *)(void *)v, *b = (uint64_t *)(void *)tmp;

    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};

        for (size_t i = 0; i < n; i++) {
            count[((a[i] >> shift) & 0xff) + 1]++;
        }
        if (count[((a[0] >> shift) & 0xff) + 1] == n) {
            continue; /* every value has this byte */
        }
        for (int k = 0; k < 256; k++) {
            count[k + 1] += count[k];
        }
        for (size_t i = 0; i < n; i++) {
            b[count[(a[i] >> shift) & 0xff]++] = a[i];
        }
        memcpy(a, b, n * sizeof(*a));
    }
}

/*
 * bw_stats_compute()'s arithmetic (stats.c) over values sorted here: the
 * sum in ascending order, mean = sum / count, percentiles by
 * bw_percentile_sorted(). The unit test holds the two equal. Values that
 * are negative or NAN (none come from the store) take bw_stats_compute.
 */
static void stats_of(double *v, size_t n, struct bw_stats *out)
{
    double *tmp;
    double none = 0;
    int plain = 1;

    for (size_t i = 0; i < n && plain; i++) {
        v[i] += 0.0;       /* -0 as +0: the bit patterns must order */
        plain = v[i] >= 0; /* false for NAN too */
    }
    tmp = plain && n > 1 ? bw_malloc(n * sizeof(*tmp)) : NULL;
    if (tmp == NULL) {
        /* not v == NULL: stats.c passes it to qsort, whose base must not
           be NULL even for 0 values (UBSan) */
        bw_stats_compute(v ? v : &none, n, out);
        return;
    }
    radix_sort(v, tmp, n);
    bw_free(tmp);
    memset(out, 0, sizeof(*out));
    out->count = n;
    for (size_t i = 0; i < n; i++) {
        out->sum += v[i];
    }
    out->mean = out->sum / (double)n;
    out->min = v[0];
    out->max = v[n - 1];
    out->p50 = bw_percentile_sorted(v, n, 0.50);
    out->p75 = bw_percentile_sorted(v, n, 0.75);
    out->p85 = bw_percentile_sorted(v, n, 0.85);
    out->p90 = bw_percentile_sorted(v, n, 0.90);
    out->p95 = bw_percentile_sorted(v, n, 0.95);
    out->p99 = bw_percentile_sorted(v, n, 0.99);
}

static int metric_rows(struct bw_query_engine *e, struct bw_query_row *rows,
                       const size_t *order, size_t n)
{
    int kind = e->q.metric->kind;

    for (size_t i = 0; i < n; i++) {
        struct qgroup *g = &e->groups[order[i]];
        struct bw_query_row *row = &rows[i];

        row->name = g->name;
        row->label = g->label;
        g->name = g->label = NULL;
        if (bw_query_by_is_period(e->q.by)) {
            row->start = e->periods[order[i]].start;
            row->end = e->periods[order[i]].end;
        } else {
            row->start = e->q.from;
            row->end = e->range_end;
        }
        row->at = row->end;
        stats_of(g->vals.v, g->vals.n, &row->stats);
        row->num = g->num;
        row->den = g->den;
        if (kind == BW_MK_RATE) {
            row->value = g->den ? (double)g->num / (double)g->den : NAN;
        } else if (e->mid == T_NETFLOW) {
            row->value = (double)(g->num - g->den);
        } else if (kind == BW_MK_COUNT || kind == BW_MK_POINT) {
            row->value = (double)g->num;
        } else {
            row->value = NAN;
            row->num = (long)row->stats.count;
        }
    }
    return 0;
}

int bw_query_engine_finish(struct bw_query_engine *e,
                           struct bw_query_result *out)
{
    size_t *order = NULL, *rank = NULL;
    int rc = BW_ENOMEM;

    memset(out, 0, sizeof(*out));
    out->metric = e->q.metric;
    out->by = e->q.by;
    out->from = e->q.from;
    out->to = e->q.to;
    /* review load: the busiest reviewer of each group */
    if (e->mid == M_TOPSHARE) {
        for (size_t i = 0; i < e->nr; i++) {
            struct qgroup *g = &e->groups[e->rgroup[i]];

            if (e->rcount[i] > g->num) {
                g->num = e->rcount[i];
            }
        }
    }
    if (e->ngroups) {
        order = bw_calloc(e->ngroups, sizeof(*order));
        rank = bw_calloc(e->ngroups, sizeof(*rank));
        out->rows = bw_calloc(e->ngroups, sizeof(*out->rows));
        if (order == NULL || rank == NULL || out->rows == NULL) {
            goto out;
        }
    }
    for (size_t i = 0; i < e->ngroups; i++) {
        order[i] = i;
    }
    if (!bw_query_by_is_period(e->q.by) && e->q.by != BW_BY_TEAM &&
        e->ngroups > 1) {
        sort_engine = e;
        qsort(order, e->ngroups, sizeof(*order), cmp_group);
        sort_engine = NULL;
    }
    for (size_t i = 0; i < e->ngroups; i++) {
        rank[order[i]] = i;
    }
    metric_rows(e, out->rows, order, e->ngroups);
    out->nrows = e->ngroups;
    for (size_t i = 0; i < e->nitems; i++) {
        e->items[i].row = rank[e->items[i].row];
    }
    out->items = e->items;
    out->nitems = e->nitems;
    e->items = NULL;
    e->nitems = e->icap = 0;
    bw_query_items_sort(out, 0);
    rc = 0;
out:
    bw_free(order);
    bw_free(rank);
    return rc;
}

/* ---------------------------------------------------------------- run */

struct scan_arg {
    struct bw_query_engine *e;
    const struct bw_query_scan *scan;
    const struct bw_store_range *ranges;
};

static int scan_cb(void *arg, const char *tag, size_t range, const char *member,
                   size_t len, double score)
{
    struct scan_arg *a = arg;

    /* an event fed without its score counts where its range starts */
    if (isnan(score) && a->scan->events) {
        score = (double)a->ranges[range].from;
    }
    return bw_query_engine_feed(a->e, a->scan->ix, tag, member, len, score);
}

/* Scopes a --where repo narrows the scan to ("SRC:owner/repo"). */
static int scan_tags(struct bw_store *st, const struct bw_query *q,
                     struct bw_strlist *all, struct bw_strlist *pick)
{
    const struct bw_strlist *repos = q->where ? &q->where->v[BW_WK_REPO] : NULL;
    int rc;

    if (repos == NULL || repos->n == 0 || q->metric->subject != BW_MS_PR) {
        return 0;
    }
    rc = bw_store_scopes(st, all);
    for (size_t i = 0; rc == 0 && i < all->n; i++) {
        const char *c = strchr(all->v[i], ':');

        if (c && ci_has(repos, c + 1)) {
            rc = bw_strlist_add(pick, all->v[i]);
        }
    }
    return rc;
}

/*
 * The ranges of one scan. Without items, an event scan by period asks one
 * range per period and no scores: the period of a row is the range it
 * came in (Redis formats no 100,000 scores, the client parses none).
 * With items (which show each event's week) scores are asked.
 */
static int scan_ranges(const struct bw_query_engine *e,
                       const struct bw_query_scan *sc,
                       struct bw_store_range **out, size_t *n, unsigned *flags)
{
    struct bw_store_range *r;

    *flags = e->q.items ? BW_SCAN_SCORES : 0;
    if (sc->events && !e->q.items && bw_query_by_is_period(e->q.by) &&
        e->nperiods > 1) {
        r = bw_calloc(e->nperiods, sizeof(*r));
        if (r == NULL) {
            return BW_ENOMEM;
        }
        for (size_t i = 0; i < e->nperiods; i++) {
            r[i].from = e->periods[i].start;
            r[i].to = e->periods[i].end - 1;
        }
        *out = r;
        *n = e->nperiods;
        return 0;
    }
    r = bw_calloc(1, sizeof(*r));
    if (r == NULL) {
        return BW_ENOMEM;
    }
    r->from = sc->from;
    r->to = sc->to;
    *out = r;
    *n = 1;
    return 0;
}

int bw_query_run(struct bw_store *st, const struct bw_query *q,
                 struct bw_query_result *out)
{
    struct bw_query_engine *e = NULL;
    struct bw_query_scan scans[3];
    struct bw_strlist all = {NULL, 0}, pick = {NULL, 0};
    int narrow = q->where && q->where->v[BW_WK_REPO].n && q->metric &&
                 q->metric->subject == BW_MS_PR;
    size_t n;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = bw_query_engine_new(q, &e);
    if (rc == 0) {
        rc = scan_tags(st, q, &all, &pick);
    }
    if (rc) {
        goto out;
    }
    n = bw_query_engine_scans(e, scans, 3);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct bw_store_range *ranges = NULL;
        size_t nranges = 0;
        unsigned flags = 0;
        struct scan_arg a;

        if (narrow && pick.n == 0) {
            break; /* no scope holds the repositories asked for */
        }
        rc = scan_ranges(e, &scans[i], &ranges, &nranges, &flags);
        a.e = e;
        a.scan = &scans[i];
        a.ranges = ranges;
        if (rc == 0) {
            rc = bw_store_scan_ranges(st, scans[i].ix, ranges, nranges,
                                      narrow ? (const char *const *)pick.v
                                             : NULL,
                                      narrow ? pick.n : 0, flags, scan_cb, &a);
        }
        bw_free(ranges);
    }
    if (rc == 0) {
        rc = bw_query_engine_finish(e, out);
    }
out:
    bw_strlist_release(&all);
    bw_strlist_release(&pick);
    bw_query_engine_free(e);
    return rc;
}

void bw_query_result_release(struct bw_query_result *r)
{
    for (size_t i = 0; i < r->nrows; i++) {
        bw_free(r->rows[i].name);
        bw_free(r->rows[i].label);
    }
    bw_free(r->rows);
    for (size_t i = 0; i < r->nitems; i++) {
        item_release(&r->items[i]);
    }
    bw_free(r->items);
    memset(r, 0, sizeof(*r));
}

double bw_query_row_stat(const struct bw_query_result *r,
                         const struct bw_query_row *row, int stat)
{
    int has = r->metric && bw_metric_has_stats(r->metric);
    int ok;

    if (stat == BW_QS_VALUE) {
        return has ? NAN : row->value;
    }
    if (!has || stat < 0 || stat >= BW_QS_VALUE) {
        return NAN;
    }
    return bw_stats_get(&row->stats, bw_query_stat_name(stat), &ok);
}

int bw_query_items_describe(struct bw_store *st, struct bw_query_result *r,
                            size_t first, size_t n)
{
    int rc = 0;

    for (size_t i = first; rc == 0 && i < first + n && i < r->nitems; i++) {
        struct bw_query_item *it = &r->items[i];

        if (it->url || it->title) {
            continue;
        }
        if (r->metric->subject == BW_MS_PR) {
            struct bw_pr pr;

            bw_pr_init(&pr);
            rc = bw_store_load_pr(st, it->tag, it->number, &pr);
            if (rc == 0) {
                it->url = pr.url ? bw_strdup(pr.url) : NULL;
                it->title = pr.title ? bw_strdup(pr.title) : NULL;
            }
            bw_pr_release(&pr);
        } else {
            struct bw_ticket t;

            bw_ticket_init(&t);
            rc = bw_store_load_ticket(st, it->tag, it->key, &t);
            if (rc == 0) {
                it->url = t.url ? bw_strdup(t.url) : NULL;
                it->title = t.summary ? bw_strdup(t.summary) : NULL;
            }
            bw_ticket_release(&t);
        }
        if (rc == BW_ENOTFOUND || rc == BW_EPARSE) {
            rc = 0; /* gone or unreadable: listed without url and title */
        }
    }
    return rc;
}
