/*
 * ticket.c - the Jira ticket model: its status transitions and Flagged
 * changes, METRICS.md's per-ticket rules (bw_ticket_derive, the single
 * implementation of them) and the packed text form of the history the
 * store keeps.
 *
 * The Jira collector fills a struct bw_ticket from search pages and
 * changelogs; the store packs the history next to the ticket's fields and
 * calls bw_ticket_derive() for the derived fields and index rows; `reindex`
 * unpacks and derives again with the current rules, without any request.
 * Everything here is pure: no I/O, no clock, no globals, no logging (the
 * collector warns about unknown statuses, since it sees them first).
 *
 * Stages (METRICS.md): a status in blocked_statuses is in_progress and
 * blocked; else stage_todo / stage_in_progress / stage_done map it by name;
 * else its category in the catalog decides (new, undefined -> todo,
 * indeterminate -> in_progress, done -> done); a status missing from the
 * catalog (deleted since) is todo and marked unknown. Names are matched
 * exactly (case-sensitive), against both the catalog's current name of the
 * status id and the name the history recorded, so a renamed status still
 * matches the name written in the config.
 *
 * Packed history (bw_ticket_pack_history), version 1: the line "h1", then
 * one line per status transition or Flagged change, the two sorted lists
 * merged by (t, hid), status first on a tie:
 *
 *     s<dt>:<dh> <to_id> <to_name>[ <from_id> <from_name>]
 *     f<dt>:<dh>[!<bits>]
 *
 * dt is t minus the previous line's t (the first: minus 0), dh likewise
 * for the history id; differences are taken modulo 2^64, so every int64_t
 * round-trips. The from pair is left out when it equals the previous
 * transition's to pair (the usual case: a status history is a chain).
 * Strings have bytes below '!', '%' and DEL written as %XX; a NULL string
 * is the lone token "%" and an empty one the empty token. bits: 1 = on
 * (the change set the flag), 2 = from_set (it was set before).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/pack.h"
#include "bellwether/ticket.h"

#define PACK_MAGIC "h1"
#define DAY 86400.0

/* ------------------------------------------------------------- model */

void bw_ticket_init(struct bw_ticket *t)
{
    memset(t, 0, sizeof(*t));
    t->story_points = NAN;
    t->created_at = BW_NOTIME;
    t->updated_at = BW_NOTIME;
}

static void tr_free(struct bw_ticket_tr *tr)
{
    bw_free(tr->from_id);
    bw_free(tr->from_name);
    bw_free(tr->to_id);
    bw_free(tr->to_name);
}

void bw_ticket_release(struct bw_ticket *t)
{
    char **strs[] = {
        &t->key,         &t->id,          &t->project,       &t->summary,
        &t->url,         &t->type,        &t->priority,      &t->status_id,
        &t->status_name, &t->assignee_id, &t->assignee_name, &t->parent};

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        bw_free(*strs[i]);
    }
    bw_strlist_release(&t->labels);
    bw_strlist_release(&t->components);
    for (size_t i = 0; i < t->ntrs; i++) {
        tr_free(&t->trs[i]);
    }
    bw_free(t->trs);
    bw_free(t->flags);
    bw_ticket_init(t);
}

static int dup_or_null(const char *s, char **out)
{
    *out = NULL;
    if (s != NULL && (*out = bw_strdup(s)) == NULL) {
        return BW_ENOMEM;
    }
    return 0;
}

int bw_ticket_add_tr(struct bw_ticket *t, const struct bw_ticket_tr *tr)
{
    struct bw_ticket_tr c;
    int rc = BW_ENOMEM;

    memset(&c, 0, sizeof(c));
    c.t = tr->t;
    c.hid = tr->hid;
    if (dup_or_null(tr->from_id, &c.from_id) ||
        dup_or_null(tr->from_name, &c.from_name) ||
        dup_or_null(tr->to_id, &c.to_id) ||
        dup_or_null(tr->to_name, &c.to_name)) {
        goto out;
    }
    if (t->ntrs == t->trs_cap) {
        size_t cap = t->trs_cap ? t->trs_cap * 2 : 8;
        struct bw_ticket_tr *v = bw_realloc(t->trs, cap * sizeof(*v));

        if (v == NULL) {
            goto out;
        }
        t->trs = v;
        t->trs_cap = cap;
    }
    t->trs[t->ntrs++] = c;
    memset(&c, 0, sizeof(c));
    rc = 0;
out:
    tr_free(&c);
    return rc;
}

int bw_ticket_add_flag(struct bw_ticket *t, const struct bw_ticket_flag *f)
{
    if (t->nflags == t->flags_cap) {
        size_t cap = t->flags_cap ? t->flags_cap * 2 : 4;
        struct bw_ticket_flag *v = bw_realloc(t->flags, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        t->flags = v;
        t->flags_cap = cap;
    }
    t->flags[t->nflags++] = *f;
    return 0;
}

void bw_ticket_truncate_history(struct bw_ticket *t, size_t ntrs, size_t nflags)
{
    while (t->ntrs > ntrs) {
        tr_free(&t->trs[--t->ntrs]);
    }
    if (t->nflags > nflags) {
        t->nflags = nflags;
    }
}

int bw_ticket_take_history(struct bw_ticket *dst, struct bw_ticket *src)
{
    size_t ntr = dst->ntrs + src->ntrs, nfl = dst->nflags + src->nflags;

    if (ntr > dst->trs_cap) {
        struct bw_ticket_tr *v = bw_realloc(dst->trs, ntr * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        dst->trs = v;
        dst->trs_cap = ntr;
    }
    if (nfl > dst->flags_cap) {
        struct bw_ticket_flag *v = bw_realloc(dst->flags, nfl * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        dst->flags = v;
        dst->flags_cap = nfl;
    }
    if (src->ntrs) {
        memcpy(dst->trs + dst->ntrs, src->trs, src->ntrs * sizeof(*src->trs));
    }
    if (src->nflags) {
        memcpy(dst->flags + dst->nflags, src->flags,
               src->nflags * sizeof(*src->flags));
    }
    dst->ntrs = ntr;
    dst->nflags = nfl;
    src->ntrs = src->nflags = 0; /* the strings moved with the structs */
    return 0;
}

/* ------------------------------------------------------------- stages */

static const struct bw_status_info *
catalog_find(const struct bw_ticket_rules *r, const char *id, const char *name)
{
    if (r == NULL || r->statuses == NULL) {
        return NULL;
    }
    if (id != NULL && *id != '\0') {
        for (size_t i = 0; i < r->nstatuses; i++) {
            if (r->statuses[i].id && strcmp(r->statuses[i].id, id) == 0) {
                return &r->statuses[i];
            }
        }
        return NULL; /* an id the catalog lacks: deleted, whatever its name */
    }
    for (size_t i = 0; name != NULL && i < r->nstatuses; i++) {
        if (r->statuses[i].name && strcmp(r->statuses[i].name, name) == 0) {
            return &r->statuses[i];
        }
    }
    return NULL;
}

/* Does list l hold the catalog name a or the recorded name b? */
static int named(const struct bw_strlist *l, const char *a, const char *b)
{
    if (l == NULL) {
        return 0;
    }
    return (a != NULL && bw_strlist_has(l, a)) ||
           (b != NULL && bw_strlist_has(l, b));
}

int bw_ticket_stage(const struct bw_ticket_rules *r, const char *status_id,
                    const char *status_name, int *blocked, int *unknown)
{
    const struct bw_status_info *s = catalog_find(r, status_id, status_name);
    const char *cname = s ? s->name : NULL;
    const char *cat = s ? s->category : NULL;

    if (blocked) {
        *blocked = 0;
    }
    if (unknown) {
        *unknown = 0;
    }
    if (r != NULL && named(r->blocked_statuses, cname, status_name)) {
        if (blocked) {
            *blocked = 1;
        }
        return BW_STAGE_IN_PROGRESS;
    }
    if (r != NULL && named(r->stage_todo, cname, status_name)) {
        return BW_STAGE_TODO;
    }
    if (r != NULL && named(r->stage_in_progress, cname, status_name)) {
        return BW_STAGE_IN_PROGRESS;
    }
    if (r != NULL && named(r->stage_done, cname, status_name)) {
        return BW_STAGE_DONE;
    }
    if (s == NULL) {
        if (unknown) {
            *unknown = 1;
        }
        return BW_STAGE_TODO;
    }
    if (cat != NULL && strcmp(cat, "indeterminate") == 0) {
        return BW_STAGE_IN_PROGRESS;
    }
    if (cat != NULL && strcmp(cat, "done") == 0) {
        return BW_STAGE_DONE;
    }
    return BW_STAGE_TODO; /* new, undefined, or a category we do not know */
}

/* ------------------------------------------------------------- derive */

/* A status as derive sees it. */
struct st {
    int stage, blocked;
};

struct spells {
    struct bw_spell *v;
    size_t n, cap;
};

static int spell_add(struct spells *s, int64_t start, int64_t end)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        struct bw_spell *v = bw_realloc(s->v, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].start = start;
    s->v[s->n].end = end;
    s->n++;
    return 0;
}

static int spell_cmp(const void *x, const void *y)
{
    const struct bw_spell *a = x, *b = y;

    if (a->start != b->start) {
        return a->start < b->start ? -1 : 1;
    }
    /* the order of equal starts does not change the union; fix it anyway */
    if (a->end == b->end) {
        return 0;
    }
    if (a->end == BW_NOTIME || b->end == BW_NOTIME) {
        return a->end == BW_NOTIME ? 1 : -1;
    }
    return a->end < b->end ? -1 : 1;
}

/* Join overlapping or touching stretches (in place), then drop those of
 * no length: a status entered and left within one second is no stretch
 * of time, but it still joins its neighbours. */
static void spells_union(struct spells *s)
{
    size_t n = 0;

    if (s->n > 1) {
        qsort(s->v, s->n, sizeof(*s->v), spell_cmp);
    }
    for (size_t i = 0; i < s->n; i++) {
        struct bw_spell *p = n ? &s->v[n - 1] : NULL;
        struct bw_spell c = s->v[i];

        if (p != NULL && (p->end == BW_NOTIME || c.start <= p->end)) {
            if (p->end != BW_NOTIME && (c.end == BW_NOTIME || c.end > p->end)) {
                p->end = c.end;
            }
            continue;
        }
        s->v[n++] = c;
    }
    s->n = n;
    n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].end == BW_NOTIME || s->v[i].end > s->v[i].start) {
            s->v[n++] = s->v[i];
        }
    }
    s->n = n;
}

/* Does transition (flag change) a of t come before b? By (t, hid). */
static int tr_before(const struct bw_ticket *t, size_t a, size_t b)
{
    const struct bw_ticket_tr *x = &t->trs[a], *y = &t->trs[b];

    return x->t < y->t || (x->t == y->t && x->hid < y->hid);
}

static int flag_before(const struct bw_ticket *t, size_t a, size_t b)
{
    const struct bw_ticket_flag *x = &t->flags[a], *y = &t->flags[b];

    return x->t < y->t || (x->t == y->t && x->hid < y->hid);
}

/*
 * The order to read n of t's transitions or flag changes in (before says
 * which comes first): stable (two items of one history keep their order).
 * NULL (no allocation) when they are in order already, as the store hands
 * them.
 */
static int order(const struct bw_ticket *t, size_t n,
                 int (*before)(const struct bw_ticket *, size_t, size_t),
                 size_t **out)
{
    size_t *ix;
    int sorted = 1;

    *out = NULL;
    for (size_t i = 1; i < n && sorted; i++) {
        sorted = !before(t, i, i - 1);
    }
    if (sorted) {
        return 0;
    }
    if ((ix = bw_malloc(n * sizeof(*ix))) == NULL) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) { /* insertion sort: stable */
        size_t j = i;

        while (j > 0 && before(t, i, ix[j - 1])) {
            ix[j] = ix[j - 1];
            j--;
        }
        ix[j] = i;
    }
    *out = ix;
    return 0;
}

#define TR(k) (&t->trs[trix ? trix[k] : (k)])
#define FL(k) (&t->flags[flix ? flix[k] : (k)])

static struct st status_of(const struct bw_ticket_rules *r, const char *id,
                           const char *name, int *unknown)
{
    struct st s;
    int unk = 0;

    s.stage = bw_ticket_stage(r, id, name, &s.blocked, &unk);
    *unknown |= unk;
    return s;
}

static double days(int64_t from, int64_t to)
{
    return to > from ? (double)(to - from) / DAY : 0.0;
}

static int excluded(const struct bw_ticket *t, const struct bw_ticket_rules *r)
{
    if (r == NULL) {
        return 0;
    }
    if (r->exclude_types && t->type &&
        bw_strlist_has(r->exclude_types, t->type)) {
        return 1;
    }
    for (size_t i = 0; r->exclude_labels && i < t->labels.n; i++) {
        if (bw_strlist_has(r->exclude_labels, t->labels.v[i])) {
            return 1;
        }
    }
    return 0;
}

/* Blocked-status stretches and in-progress stretches along the
 * transitions, and the status facts (started, done, reopens). */
static int walk_statuses(const struct bw_ticket *t,
                         const struct bw_ticket_rules *r, const size_t *trix,
                         struct bw_ticket_derived *d, struct spells *blk,
                         struct spells *inp)
{
    struct st cur;
    int64_t blk_since = t->created_at, inp_since = t->created_at;
    const char *init_id = t->ntrs ? TR(0)->from_id : t->status_id;
    int unk = 0;

    d->initial_status = t->ntrs ? TR(0)->from_name : t->status_name;
    cur = status_of(r, init_id, d->initial_status, &unk);
    if (cur.stage == BW_STAGE_IN_PROGRESS) {
        d->started_at = t->created_at;
    }
    for (size_t k = 0; k < t->ntrs; k++) {
        const struct bw_ticket_tr *tr = TR(k);
        struct st to = status_of(r, tr->to_id, tr->to_name, &unk);
        struct st from = status_of(r, tr->from_id, tr->from_name, &unk);

        if (to.stage == BW_STAGE_IN_PROGRESS && d->started_at == BW_NOTIME) {
            d->started_at = tr->t;
        }
        if (from.stage != BW_STAGE_DONE && to.stage == BW_STAGE_DONE) {
            d->done_at = tr->t; /* the last one wins; kept if done now */
        }
        if (from.stage == BW_STAGE_DONE && to.stage != BW_STAGE_DONE) {
            d->reopen_count++;
        }
        /* stretches follow the chain of "to"s: the state we were in is
           cur, whatever this transition's "from" says */
        if (cur.blocked && !to.blocked && spell_add(blk, blk_since, tr->t)) {
            return BW_ENOMEM;
        }
        if (!cur.blocked && to.blocked) {
            blk_since = tr->t;
        }
        if (cur.stage == BW_STAGE_IN_PROGRESS &&
            to.stage != BW_STAGE_IN_PROGRESS &&
            spell_add(inp, inp_since, tr->t)) {
            return BW_ENOMEM;
        }
        if (cur.stage != BW_STAGE_IN_PROGRESS &&
            to.stage == BW_STAGE_IN_PROGRESS) {
            inp_since = tr->t;
        }
        cur = to;
    }
    if (cur.blocked && spell_add(blk, blk_since, BW_NOTIME)) {
        return BW_ENOMEM;
    }
    if (cur.stage == BW_STAGE_IN_PROGRESS &&
        spell_add(inp, inp_since, BW_NOTIME)) {
        return BW_ENOMEM;
    }
    d->stage_now = status_of(r, t->status_id, t->status_name, &unk).stage;
    if (d->stage_now != BW_STAGE_DONE) {
        d->done_at = BW_NOTIME; /* reopened: none until done again */
    } else if (d->done_at == BW_NOTIME) {
        d->done_at = t->created_at; /* created done and never left */
    }
    d->unknown_status = unk;
    return 0;
}

/* Flagged stretches: from created_at when the first change has a
 * non-empty "from" (or there is none and the ticket is flagged now). */
static int walk_flags(const struct bw_ticket *t, const size_t *flix,
                      struct spells *blk)
{
    int at_creation = t->nflags ? FL(0)->from_set : t->flagged_now;
    int64_t on_since = at_creation ? t->created_at : BW_NOTIME;

    for (size_t k = 0; k < t->nflags; k++) {
        const struct bw_ticket_flag *f = FL(k);

        if (f->on && on_since == BW_NOTIME) {
            on_since = f->t;
        } else if (!f->on && on_since != BW_NOTIME) {
            if (spell_add(blk, on_since, f->t)) {
                return BW_ENOMEM;
            }
            on_since = BW_NOTIME;
        }
    }
    if (on_since != BW_NOTIME && spell_add(blk, on_since, BW_NOTIME)) {
        return BW_ENOMEM;
    }
    return 0;
}

/* Seconds of the spells inside [from, to]; open spells end at now. */
static double blocked_within(const struct spells *s, int64_t from, int64_t to,
                             int64_t now)
{
    double total = 0;

    for (size_t i = 0; i < s->n; i++) {
        int64_t e = s->v[i].end == BW_NOTIME ? now : s->v[i].end;
        int64_t lo = s->v[i].start > from ? s->v[i].start : from;
        int64_t hi = e < to ? e : to;

        if (hi > lo) {
            total += (double)(hi - lo);
        }
    }
    return total;
}

int bw_ticket_derive(const struct bw_ticket *t, const struct bw_ticket_rules *r,
                     int64_t now, struct bw_ticket_derived *out)
{
    struct spells blk = {NULL, 0, 0}, inp = {NULL, 0, 0};
    size_t *trix = NULL, *flix = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->started_at = BW_NOTIME;
    out->done_at = BW_NOTIME;
    out->blocked_time = NAN;
    out->cycle_time = NAN;
    out->lead_time = NAN;
    if ((rc = order(t, t->ntrs, tr_before, &trix)) != 0 ||
        (rc = order(t, t->nflags, flag_before, &flix)) != 0 ||
        (rc = walk_statuses(t, r, trix, out, &blk, &inp)) != 0 ||
        (rc = walk_flags(t, flix, &blk)) != 0) {
        goto out;
    }
    spells_union(&blk);
    spells_union(&inp);
    out->blocked_now = blk.n > 0 && blk.v[blk.n - 1].end == BW_NOTIME;
    out->excluded = excluded(t, r);
    if (out->started_at != BW_NOTIME) {
        int64_t end = out->done_at != BW_NOTIME ? out->done_at : now;

        out->blocked_time = blocked_within(&blk, out->started_at, end, now);
    }
    if (out->done_at != BW_NOTIME) {
        out->lead_time = days(t->created_at, out->done_at);
        if (out->started_at != BW_NOTIME) {
            out->cycle_time = days(out->started_at, out->done_at);
        }
    }
    out->blocked = blk.v;
    out->nblocked = blk.n;
    out->in_progress = inp.v;
    out->nin_progress = inp.n;
    blk.v = inp.v = NULL;
    rc = 0;
out:
    bw_free(blk.v);
    bw_free(inp.v);
    bw_free(trix);
    bw_free(flix);
    if (rc) {
        out->initial_status = NULL;
    }
    return rc;
}

#undef TR
#undef FL

void bw_ticket_derived_release(struct bw_ticket_derived *d)
{
    bw_free(d->blocked);
    bw_free(d->in_progress);
    d->blocked = d->in_progress = NULL;
    d->nblocked = d->nin_progress = 0;
}

/* ------------------------------------------------------------- packing */

static int pack_str(struct bw_buf *out, const char *s)
{
    int rc = bw_buf_addch(out, ' ');

    if (rc == 0) {
        rc = s == NULL ? bw_buf_addch(out, '%') : bw_pack_escape(out, s);
    }
    return rc;
}

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int pack_head(struct bw_buf *out, char kind, int64_t t, int64_t hid,
                     int64_t *pt, int64_t *ph)
{
    int64_t dt = (int64_t)((uint64_t)t - (uint64_t)*pt);
    int64_t dh = (int64_t)((uint64_t)hid - (uint64_t)*ph);

    *pt = t;
    *ph = hid;
    return bw_buf_printf(out, "\n%c%lld:%lld", kind, (long long)dt,
                         (long long)dh);
}

int bw_ticket_pack_history(const struct bw_ticket *t, struct bw_buf *out)
{
    size_t start = out->len;
    size_t i = 0, j = 0;
    int64_t pt = 0, ph = 0;
    const struct bw_ticket_tr *prev = NULL;
    int rc = bw_buf_adds(out, PACK_MAGIC);

    while (rc == 0 && (i < t->ntrs || j < t->nflags)) {
        if (i < t->ntrs && (j == t->nflags || t->trs[i].t < t->flags[j].t ||
                            (t->trs[i].t == t->flags[j].t &&
                             t->trs[i].hid <= t->flags[j].hid))) {
            const struct bw_ticket_tr *tr = &t->trs[i++];

            rc = pack_head(out, 's', tr->t, tr->hid, &pt, &ph);
            if (rc == 0) {
                rc = pack_str(out, tr->to_id);
            }
            if (rc == 0) {
                rc = pack_str(out, tr->to_name);
            }
            if (rc == 0 &&
                (prev == NULL || !same_str(prev->to_id, tr->from_id) ||
                 !same_str(prev->to_name, tr->from_name))) {
                rc = pack_str(out, tr->from_id);
                if (rc == 0) {
                    rc = pack_str(out, tr->from_name);
                }
            }
            prev = tr;
        } else {
            const struct bw_ticket_flag *f = &t->flags[j++];
            unsigned bits = (f->on ? 1u : 0u) | (f->from_set ? 2u : 0u);

            rc = pack_head(out, 'f', f->t, f->hid, &pt, &ph);
            if (rc == 0 && bits) {
                rc = bw_buf_printf(out, "!%u", bits);
            }
        }
    }
    if (rc && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

/* The token at *p (after its leading ' ') up to the next ' ' or end,
 * decoded; "%" alone is NULL. *p is advanced past it. */
static int unpack_str(const char **p, const char *end, char **out)
{
    const char *s = *p;
    const char *e;

    *out = NULL;
    if (s == end || *s != ' ') {
        return BW_EPARSE;
    }
    s++;
    e = memchr(s, ' ', (size_t)(end - s));
    e = e ? e : end;
    *p = e;
    if (e - s == 1 && *s == '%') {
        return 0;
    }
    return bw_pack_unescape(s, e, out);
}

/* "<dt>:<dh>" after the kind letter. */
static int unpack_head(const char **p, const char *end, int64_t *pt,
                       int64_t *ph)
{
    int64_t d;

    if (bw_pack_parse_int(p, end, &d)) {
        return BW_EPARSE;
    }
    *pt = (int64_t)((uint64_t)*pt + (uint64_t)d);
    if (*p == end || **p != ':') {
        return BW_EPARSE;
    }
    (*p)++;
    if (bw_pack_parse_int(p, end, &d)) {
        return BW_EPARSE;
    }
    *ph = (int64_t)((uint64_t)*ph + (uint64_t)d);
    return 0;
}

static int unpack_tr(struct bw_ticket *t, const char *s, const char *end,
                     int64_t tm, int64_t hid, size_t n0)
{
    struct bw_ticket_tr tr;
    const struct bw_ticket_tr *prev =
        t->ntrs > n0 ? &t->trs[t->ntrs - 1] : NULL;
    int rc;

    memset(&tr, 0, sizeof(tr));
    tr.t = tm;
    tr.hid = hid;
    if ((rc = unpack_str(&s, end, &tr.to_id)) != 0 ||
        (rc = unpack_str(&s, end, &tr.to_name)) != 0) {
        goto out;
    }
    if (s < end) {
        if ((rc = unpack_str(&s, end, &tr.from_id)) != 0 ||
            (rc = unpack_str(&s, end, &tr.from_name)) != 0) {
            goto out;
        }
        rc = s == end ? 0 : BW_EPARSE;
    } else if (prev == NULL) {
        rc = BW_EPARSE; /* the first transition always names its from */
    } else {
        rc = dup_or_null(prev->to_id, &tr.from_id);
        if (rc == 0) {
            rc = dup_or_null(prev->to_name, &tr.from_name);
        }
    }
    if (rc == 0) {
        rc = bw_ticket_add_tr(t, &tr);
    }
out:
    tr_free(&tr);
    return rc;
}

static int unpack_flag(struct bw_ticket *t, const char *s, const char *end,
                       int64_t tm, int64_t hid)
{
    struct bw_ticket_flag f;
    int64_t bits = 0;

    memset(&f, 0, sizeof(f));
    f.t = tm;
    f.hid = hid;
    if (s < end) {
        if (*s != '!') {
            return BW_EPARSE;
        }
        s++;
        if (bw_pack_parse_int(&s, end, &bits) || s != end || bits < 0 ||
            bits > 3) {
            return BW_EPARSE;
        }
    }
    f.on = (bits & 1) != 0;
    f.from_set = (bits & 2) != 0;
    return bw_ticket_add_flag(t, &f);
}

int bw_ticket_unpack_history(struct bw_ticket *t, const char *s, size_t len)
{
    const char *end = s + len;
    const char *p = s + strlen(PACK_MAGIC);
    size_t n0 = t->ntrs, f0 = t->nflags;
    int64_t pt = 0, ph = 0;
    int rc = BW_EPARSE;

    if (len < strlen(PACK_MAGIC) ||
        memcmp(s, PACK_MAGIC, strlen(PACK_MAGIC)) != 0) {
        goto out;
    }
    while (p < end) {
        const char *eol;
        char kind;

        if (*p != '\n' || end - p < 2) {
            rc = BW_EPARSE;
            goto out;
        }
        p++;
        eol = memchr(p, '\n', (size_t)(end - p));
        eol = eol ? eol : end;
        kind = *p++;
        if ((kind != 's' && kind != 'f') ||
            unpack_head(&p, eol, &pt, &ph) != 0) {
            rc = BW_EPARSE;
            goto out;
        }
        rc = kind == 's' ? unpack_tr(t, p, eol, pt, ph, n0)
                         : unpack_flag(t, p, eol, pt, ph);
        if (rc) {
            goto out;
        }
        p = eol;
    }
    rc = 0;
out:
    if (rc) {
        bw_ticket_truncate_history(t, n0, f0);
    }
    return rc;
}
