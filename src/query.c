/*
 * query.c - what a query asks, parsed and checked: groupings (--by),
 * statistics (--stat), filters (--where), the range (--from/--to) and its
 * periods, and metric-name suggestions. Pure apart from the current zone;
 * unit-tested in tests/unit/test_query.c, the --where parser fuzzed.
 *
 * The engine that answers a query is src/query_engine.c; the output
 * formats are src/query_out.c (query.h describes all three).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bellwether/clock.h"
#include "bellwether/editdist.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/query.h"

#define WHERE_VALUE_MAX 256

/* ------------------------------------------------------------- --by */

static const char *const by_names[] = {"",        "week", "month",  "repo",
                                       "project", "team", "author", "type"};

const char *bw_query_by_name(int by)
{
    if (by < 0 || by > BW_BY_TYPE) {
        return "";
    }
    return by_names[by];
}

int bw_query_by_find(const char *name)
{
    for (int i = BW_BY_WEEK; i <= BW_BY_TYPE; i++) {
        if (strcmp(by_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

int bw_query_by_applies(const struct bw_metric *m, int by)
{
    switch (by) {
    case BW_BY_NONE:
    case BW_BY_WEEK:
    case BW_BY_MONTH:
    case BW_BY_TEAM:
    case BW_BY_AUTHOR:
        return 1;
    case BW_BY_REPO:
        return m->subject == BW_MS_PR;
    case BW_BY_PROJECT:
    case BW_BY_TYPE:
        return m->subject == BW_MS_TICKET;
    default:
        return 0;
    }
}

int bw_query_by_is_period(int by)
{
    return by == BW_BY_WEEK || by == BW_BY_MONTH;
}

/* ----------------------------------------------------------- --stat */

static const char *const stat_names[] = {"count", "sum", "mean", "min",
                                         "max",   "p50", "p75",  "p85",
                                         "p90",   "p95", "p99",  "value"};

const char *bw_query_stat_name(int id)
{
    if (id < 0 || id >= BW_QS_NSTATS) {
        return "";
    }
    return stat_names[id];
}

int bw_query_stat_find(const char *name)
{
    for (int i = 0; i < BW_QS_NSTATS; i++) {
        if (strcmp(stat_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

static void errf(char *err, size_t errn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errn, const char *fmt, ...)
{
    va_list ap;

    if (err && errn) {
        va_start(ap, fmt);
        vsnprintf(err, errn, fmt, ap);
        va_end(ap);
    }
}

int bw_query_stats_parse(const struct bw_metric *m, const char *list,
                         struct bw_query_stats *out, char *err, size_t errn)
{
    int has = bw_metric_has_stats(m);
    const char *p = list;

    out->n = 0;
    if (list == NULL || *list == '\0') {
        if (has) {
            out->id[0] = BW_QS_COUNT;
            out->id[1] = BW_QS_P50;
            out->id[2] = BW_QS_P85;
            out->n = 3;
        } else {
            out->id[0] = BW_QS_VALUE;
            out->n = 1;
        }
        return 0;
    }
    while (*p) {
        char name[16];
        size_t n = strcspn(p, ",");
        int id;
        size_t i;

        if (n == 0 || n >= sizeof(name)) {
            errf(err, errn,
                 "bad --stat '%s' for '%s'; use a list such as "
                 "p50,p85 (see 'bellwether help query')",
                 list, m->name);
            return BW_EUSAGE;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        id = bw_query_stat_find(name);
        if (id < 0 || (id == BW_QS_VALUE) == has) {
            errf(err, errn,
                 has ? "--stat '%s' does not apply to '%s'; use count, sum, "
                       "mean, min, max, p50, p75, p85, p90, p95 or p99"
                     : "--stat '%s' does not apply to '%s'; it has a value: "
                       "use --stat value",
                 name, m->name);
            return BW_EUSAGE;
        }
        for (i = 0; i < out->n && out->id[i] != id; i++) {
        }
        if (i == out->n) {
            out->id[out->n++] = id;
        }
        p += n;
        if (*p == ',') {
            p++;
            if (*p == '\0') {
                errf(err, errn, "bad --stat '%s' for '%s': a trailing comma",
                     list, m->name);
                return BW_EUSAGE;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------- --where */

static const char *const where_names[] = {"repo",   "project", "team",
                                          "author", "type",    "label"};

const char *bw_query_where_key_name(int key)
{
    if (key < 0 || key >= BW_WK_COUNT) {
        return "";
    }
    return where_names[key];
}

int bw_query_where_set(struct bw_query_where *w, int key, const char *value)
{
    if (key < 0 || key >= BW_WK_COUNT) {
        return BW_EUSAGE;
    }
    return bw_strlist_add(&w->v[key], value);
}

void bw_query_where_release(struct bw_query_where *w)
{
    for (int i = 0; i < BW_WK_COUNT; i++) {
        bw_strlist_release(&w->v[i]);
    }
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) {
        (*n)--;
    }
}

/* Print at most 40 bytes of untrusted text, control bytes as '?'. */
static void shown(char *dst, size_t dn, const char *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o + 4 < dn && i < 40; i++) {
        unsigned char c = (unsigned char)s[i];

        dst[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (n > 40 && o + 4 < dn) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

int bw_query_where_parse(struct bw_query_where *w, const char *s, size_t len,
                         char *err, size_t errn)
{
    const char *eq = memchr(s, '=', len);
    const char *k = s, *v;
    size_t kn, vn;
    char show[64], val[WHERE_VALUE_MAX + 1];
    int key = -1;

    shown(show, sizeof(show), s, len);
    if (eq == NULL) {
        errf(err, errn,
             "bad --where '%s'; use K=V with K one of repo, "
             "project, team, author, type, label",
             show);
        return BW_EUSAGE;
    }
    kn = (size_t)(eq - s);
    v = eq + 1;
    vn = len - kn - 1;
    trim(&k, &kn);
    trim(&v, &vn);
    for (int i = 0; i < BW_WK_COUNT; i++) {
        if (strlen(where_names[i]) == kn &&
            memcmp(where_names[i], k, kn) == 0) {
            key = i;
        }
    }
    if (key < 0) {
        errf(err, errn,
             "unknown key in --where '%s'; use repo, project, "
             "team, author, type or label",
             show);
        return BW_EUSAGE;
    }
    if (vn == 0 || vn > WHERE_VALUE_MAX) {
        errf(err, errn,
             "bad value in --where '%s'; give a value of 1 to "
             "256 bytes",
             show);
        return BW_EUSAGE;
    }
    for (size_t i = 0; i < vn; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c < 0x20 || c == 0x7f) {
            errf(err, errn,
                 "bad value in --where '%s': control "
                 "characters are not allowed",
                 show);
            return BW_EUSAGE;
        }
    }
    memcpy(val, v, vn);
    val[vn] = '\0';
    return bw_strlist_add(&w->v[key], val) ? BW_ENOMEM : 0;
}

int bw_query_where_applies(const struct bw_metric *m, int key)
{
    switch (key) {
    case BW_WK_REPO:
        return m->subject == BW_MS_PR;
    case BW_WK_PROJECT:
    case BW_WK_TYPE:
        return m->subject == BW_MS_TICKET;
    case BW_WK_TEAM:
    case BW_WK_AUTHOR:
    case BW_WK_LABEL:
        return 1;
    default:
        return 0;
    }
}

int bw_query_where_check(const struct bw_query_where *w,
                         const struct bw_metric *m, const struct bw_config *cfg,
                         char *err, size_t errn)
{
    if (w == NULL) {
        return 0;
    }
    for (int k = 0; k < BW_WK_COUNT; k++) {
        if (w->v[k].n && !bw_query_where_applies(m, k)) {
            if (err && errn) {
                snprintf(err, errn,
                         "--where %s does not apply to '%s', a %s metric",
                         where_names[k], m->name,
                         m->subject == BW_MS_PR ? "pull-request" : "ticket");
            }
            return BW_EUSAGE;
        }
    }
    for (size_t i = 0; i < w->v[BW_WK_TEAM].n; i++) {
        const char *t = w->v[BW_WK_TEAM].v[i];

        if (cfg == NULL || bw_config_team(cfg, t) == NULL) {
            errf(err, errn,
                 "unknown team '%s'; add a [team NAME] section "
                 "or use a team the config names",
                 t);
            return BW_EUSAGE;
        }
    }
    return 0;
}

/* ---------------------------------------------------------- ranges */

static void widen(int by, int64_t *from, int64_t *to)
{
    int y, w;

    if (by == BW_BY_WEEK) {
        if (bw_week_of(*from, &y, &w) == 0) {
            *from = bw_week_start(y, w);
        }
        if (bw_week_of(*to - 1, &y, &w) == 0) {
            *to = bw_week_end(y, w);
        }
    } else if (by == BW_BY_MONTH) {
        if (bw_month_of(*from, &y, &w) == 0) {
            *from = bw_month_start(y, w);
        }
        if (bw_month_of(*to - 1, &y, &w) == 0) {
            *to = bw_month_end(y, w);
        }
    }
}

int bw_query_range(const char *from, const char *to, int by,
                   long weeks_of_trend, int64_t now, int64_t *out_from,
                   int64_t *out_to, char *err, size_t errn)
{
    long n = weeks_of_trend > 0 ? weeks_of_trend : 12;
    int64_t f = BW_TIME_NONE, t = BW_TIME_NONE;
    int y, w;

    if (from && bw_parse_day_or_week(from, BW_DAY_FROM, &f, NULL)) {
        errf(err, errn, "bad --from '%s'; use YYYY-MM-DD or YYYY-Www", from);
        return BW_EUSAGE;
    }
    if (to && bw_parse_day_or_week(to, BW_DAY_TO, &t, NULL)) {
        errf(err, errn, "bad --to '%s'; use YYYY-MM-DD or YYYY-Www", to);
        return BW_EUSAGE;
    }
    if (t == BW_TIME_NONE) {
        if (f != BW_TIME_NONE) {
            t = now;
        } else if (bw_last_complete_week(now, &y, &w) == 0) {
            t = bw_week_end(y, w);
        } else {
            errf(err, errn, "cannot place now in a week");
            return BW_EUSAGE;
        }
    }
    if (f == BW_TIME_NONE) {
        if (bw_week_of(t - 1, &y, &w)) {
            errf(err, errn, "bad --to '%s'", to ? to : "");
            return BW_EUSAGE;
        }
        for (long i = 1; i < n; i++) {
            bw_week_prev(&y, &w);
        }
        f = bw_week_start(y, w);
    }
    if (f >= t) {
        errf(err, errn, "--from %s is after --to %s; swap them",
             from ? from : "(default)", to ? to : "(now)");
        return BW_EUSAGE;
    }
    widen(by, &f, &t);
    if (f == BW_TIME_NONE || t == BW_TIME_NONE || f >= t) {
        errf(err, errn, "the range %s to %s is out of range", from ? from : "",
             to ? to : "");
        return BW_EUSAGE;
    }
    *out_from = f;
    *out_to = t;
    return 0;
}

static int add_period(struct bw_query_period **v, size_t *n, size_t *cap,
                      int64_t s, int64_t e, const char *name)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct bw_query_period *p = bw_realloc(*v, nc * sizeof(*p));

        if (p == NULL) {
            return BW_ENOMEM;
        }
        *v = p;
        *cap = nc;
    }
    (*v)[*n].start = s;
    (*v)[*n].end = e;
    snprintf((*v)[*n].name, sizeof((*v)[*n].name), "%s", name);
    (*n)++;
    return 0;
}

int bw_query_periods(int by, int64_t from, int64_t to, int64_t now,
                     struct bw_query_period **out, size_t *n)
{
    struct bw_query_period *v = NULL;
    size_t cnt = 0, cap = 0;
    char name[BW_TIME_BUFSZ];
    int y, w;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (!bw_query_by_is_period(by)) {
        if (from < now) {
            rc = add_period(&v, &cnt, &cap, from, to < now ? to : now, "");
        }
    } else if ((by == BW_BY_WEEK ? bw_week_of(from, &y, &w)
                                 : bw_month_of(from, &y, &w)) == 0) {
        /* bounded: one period per week of the range, at most ~ 10^5 */
        for (size_t guard = 0; rc == 0 && guard < 100000; guard++) {
            int64_t s =
                by == BW_BY_WEEK ? bw_week_start(y, w) : bw_month_start(y, w);
            int64_t e =
                by == BW_BY_WEEK ? bw_week_end(y, w) : bw_month_end(y, w);

            if (s == BW_TIME_NONE || e == BW_TIME_NONE || s >= to || s >= now) {
                break;
            }
            if (by == BW_BY_WEEK) {
                bw_week_format(y, w, name);
                bw_week_next(&y, &w);
            } else {
                bw_month_format(y, w, name);
                bw_month_next(&y, &w);
            }
            rc = add_period(&v, &cnt, &cap, s, e < now ? e : now, name);
        }
    }
    if (rc) {
        bw_free(v);
        return rc;
    }
    *out = v;
    *n = cnt;
    return 0;
}

/* ------------------------------------------------------- suggestions */

size_t bw_metric_suggest(const char *name, const char **out, size_t max)
{
    size_t dist[64];
    const char *cand[64];
    size_t n = 0, len = strlen(name);
    size_t limit = len / 3 + 2;

    for (const struct bw_metric *m = bw_metrics; m->name && n < 64; m++) {
        /* case-blind; names past 62 bytes are far from every metric */
        size_t d = bw_edit_distance(name, m->name, 62, 1);

        /* a name holding the input ("cycle") is a close match too */
        if (len >= 3 && strstr(m->name, name) != NULL) {
            d = d < 2 ? d : 2;
        }
        if (d <= limit) {
            cand[n] = m->name;
            dist[n] = d;
            n++;
        }
    }
    /* stable insertion sort by distance */
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && dist[j] < dist[j - 1]; j--) {
            size_t td = dist[j];
            const char *tc = cand[j];

            dist[j] = dist[j - 1];
            cand[j] = cand[j - 1];
            dist[j - 1] = td;
            cand[j - 1] = tc;
        }
    }
    /* only the best: a distance at most one more than the closest */
    for (size_t i = 0; i < n; i++) {
        if (dist[i] > dist[0] + 1) {
            n = i;
        }
    }
    for (size_t i = 0; i < n && i < max; i++) {
        out[i] = cand[i];
    }
    return n < max ? n : max;
}

/* ------------------------------------------------------------ query */

void bw_query_init(struct bw_query *q, const struct bw_metric *m,
                   const struct bw_config *cfg)
{
    memset(q, 0, sizeof(*q));
    q->metric = m;
    q->cfg = cfg;
    q->now = bw_now();
}

void bw_query_weeks(struct bw_query *q, int year, int week, size_t nweeks)
{
    int y = year, w = week;

    q->by = BW_BY_WEEK;
    q->to = bw_week_end(year, week);
    for (size_t i = 1; i < nweeks; i++) {
        bw_week_prev(&y, &w);
    }
    q->from = bw_week_start(y, w);
}
