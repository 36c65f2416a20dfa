/*
 * store_items.c - one PR or ticket as the store writes it: the packed hash
 * values (f, ev/hist, d, rows) and the index rows, built from the record
 * and the derived fields (bw_pr_derive / bw_ticket_derive, the single
 * implementation of METRICS.md's per-item rules), and the reverse
 * (stored values -> struct bw_pr / bw_ticket) for reindex and loads.
 *
 * Events are packed in a canonical order (sorted by time, then kind, ...),
 * so an item fetched twice, in whatever order the API listed its events,
 * is stored byte for byte the same: that is what lets the canonical dump
 * compare an incremental store with a --full one.
 *
 * Point-in-time rows carry the item's stretches: open/draft stretches and
 * stale windows for PRs (computed here from the events: METRICS.md's
 * "open at an instant" and "activity"), in-progress stretches and blocked
 * spells for tickets (from bw_ticket_derive).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/store.h"
#include "store_priv.h"

#define WEEK (7 * 86400)
/* Values in the "f" value: the item's fields, then the derived ones. */
#define PR_FIELDS 15
#define PR_DERIVED 17
#define TICKET_FIELDS 18
#define TICKET_DERIVED 11

void st_item_init(struct st_item *it)
{
    memset(it, 0, sizeof(*it));
}

void st_item_reset(struct st_item *it)
{
    bw_buf_reset(&it->tag);
    bw_buf_reset(&it->id);
    bw_buf_reset(&it->f);
    bw_buf_reset(&it->ev);
    bw_buf_reset(&it->rows);
    it->nrows = 0;
    it->kind = 0;
    it->version = BW_NOTIME;
}

void st_item_release(struct st_item *it)
{
    bw_buf_release(&it->tag);
    bw_buf_release(&it->id);
    bw_buf_release(&it->f);
    bw_buf_release(&it->ev);
    bw_buf_release(&it->rows);
    bw_free(it->rv);
    st_item_init(it);
}

/* Begin a row of index ix: "C " into it->rows; the member follows. */
static int row_begin(struct st_item *it, int ix, int64_t score)
{
    if (it->nrows == it->rcap) {
        size_t cap = it->rcap ? it->rcap * 2 : 8;
        struct st_row *v = bw_realloc(it->rv, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        it->rv = v;
        it->rcap = cap;
    }
    if (bw_buf_addch(&it->rows, st_ix_letter[ix]) ||
        bw_buf_addch(&it->rows, ' ')) {
        return BW_ENOMEM;
    }
    it->rv[it->nrows].ix = ix;
    it->rv[it->nrows].score = score;
    it->rv[it->nrows].off = it->rows.len;
    return 0;
}

static int row_end(struct st_item *it)
{
    struct st_row *r = &it->rv[it->nrows++];

    r->len = it->rows.len - r->off;
    return bw_buf_addch(&it->rows, '\n');
}

/* "|" then something: the separators of every packed value. */
#define SEP(b) bw_buf_addch((b), '|')

/* ================================================================== PRs */

static int actor_cmp(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return (a != NULL) - (b != NULL);
    }
    return strcmp(a, b);
}

static int cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static int ev_cmp(const void *x, const void *y)
{
    const struct bw_pr_event *a = x, *b = y;
    int c = cmp_i64(a->t, b->t);

    if (c == 0) {
        c = (a->kind > b->kind) - (a->kind < b->kind);
    }
    if (c == 0) {
        c = cmp_i64(a->t2, b->t2);
    }
    if (c == 0) {
        c = (a->state > b->state) - (a->state < b->state);
    }
    if (c == 0) {
        c = (a->actor_flags > b->actor_flags) -
            (a->actor_flags < b->actor_flags);
    }
    return c ? c : actor_cmp(a->actor, b->actor);
}

/* Spell list under construction. */
struct spells {
    struct bw_spell v[64];
    struct bw_spell *heap;
    size_t n, cap;
};

static struct bw_spell *sp_v(struct spells *s)
{
    return s->heap ? s->heap : s->v;
}

static int sp_add(struct spells *s, int64_t a, int64_t b)
{
    struct bw_spell *v = sp_v(s);

    if (s->n == (s->heap ? s->cap : 64)) {
        size_t cap = s->n * 2;
        struct bw_spell *h = bw_malloc(cap * sizeof(*h));

        if (h == NULL) {
            return BW_ENOMEM;
        }
        memcpy(h, v, s->n * sizeof(*h));
        bw_free(s->heap);
        s->heap = h;
        s->cap = cap;
        v = h;
    }
    v[s->n].start = a;
    v[s->n].end = b;
    s->n++;
    return 0;
}

static void sp_free(struct spells *s)
{
    bw_free(s->heap);
}

/* Open stretches from closed/reopened/merged events; the PR's current
 * state wins where the events disagree with it. */
static int open_stretches(const struct bw_pr *pr, struct spells *out)
{
    int64_t start = pr->created_at;
    int open = 1;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < pr->nevents; i++) {
        const struct bw_pr_event *ev = &pr->events[i];

        if (ev->t == BW_NOTIME) {
            continue;
        }
        if ((ev->kind == BW_PEV_CLOSED || ev->kind == BW_PEV_MERGED) && open) {
            rc = sp_add(out, start, ev->t < start ? start : ev->t);
            open = 0;
        } else if (ev->kind == BW_PEV_REOPENED && !open) {
            start = ev->t;
            open = 1;
        }
    }
    if (rc) {
        return rc;
    }
    if (open && !pr->open) {
        int64_t end = pr->merged_at != BW_NOTIME   ? pr->merged_at
                      : pr->closed_at != BW_NOTIME ? pr->closed_at
                                                   : pr->updated_at;

        if (end == BW_NOTIME || end < start) {
            end = start;
        }
        rc = sp_add(out, start, end);
    } else if (open) {
        rc = sp_add(out, start, BW_NOTIME);
    } else if (pr->open && out->n > 0) {
        sp_v(out)[out->n - 1].end = BW_NOTIME; /* a reopen went unseen */
    }
    return rc;
}

/* Draft stretches [start, end): opened as a draft (METRICS.md's rule, as
 * bw_pr_derive reads it), convert_to_draft and ready_for_review. */
static int draft_stretches(const struct bw_pr *pr, struct spells *out)
{
    const struct bw_pr_event *first = NULL;
    int64_t start = BW_NOTIME;
    int rc = 0;

    for (size_t i = 0; i < pr->nevents && first == NULL; i++) {
        const struct bw_pr_event *ev = &pr->events[i];

        if ((ev->kind == BW_PEV_READY || ev->kind == BW_PEV_DRAFT) &&
            ev->t != BW_NOTIME) {
            first = ev;
        }
    }
    if (first ? first->kind == BW_PEV_READY : pr->draft != 0) {
        start = pr->created_at;
    }
    for (size_t i = 0; rc == 0 && i < pr->nevents; i++) {
        const struct bw_pr_event *ev = &pr->events[i];

        if (ev->t == BW_NOTIME) {
            continue;
        }
        if (ev->kind == BW_PEV_DRAFT && start == BW_NOTIME) {
            start = ev->t;
        } else if (ev->kind == BW_PEV_READY && start != BW_NOTIME) {
            rc = sp_add(out, start, ev->t < start ? start : ev->t);
            start = BW_NOTIME;
        }
    }
    if (rc == 0 && start != BW_NOTIME) {
        rc = sp_add(out, start, BW_NOTIME);
    }
    return rc;
}

/* Does [a, b) meet an open stretch? (BW_NOTIME ends are +infinity) */
static int meets_open(const struct spells *open, int64_t a, int64_t b)
{
    const struct bw_spell *v = open->heap ? open->heap : open->v;

    for (size_t i = 0; i < open->n; i++) {
        int64_t lo = a > v[i].start ? a : v[i].start;
        int64_t hi = v[i].end;

        if (b != BW_NOTIME && (hi == BW_NOTIME || b < hi)) {
            hi = b;
        }
        if (hi == BW_NOTIME || lo < hi) {
            return 1;
        }
    }
    return 0;
}

/* Stale windows [activity + 7 d, next activity) that meet an open
 * stretch. Activity: the opening and every stored event (events sorted). */
static int stale_windows(const struct bw_pr *pr, const struct spells *open,
                         struct spells *out)
{
    int64_t last = BW_NOTIME;
    int used_open = 0;
    size_t i = 0;
    int rc = 0;

    while (rc == 0) {
        int64_t a;

        if (!used_open && pr->created_at != BW_NOTIME &&
            (i == pr->nevents || pr->events[i].t == BW_NOTIME ||
             pr->created_at <= pr->events[i].t)) {
            a = pr->created_at;
            used_open = 1;
        } else if (i < pr->nevents) {
            a = pr->events[i++].t;
            if (a == BW_NOTIME) {
                continue;
            }
        } else {
            break;
        }
        if (last != BW_NOTIME && a > last + WEEK &&
            meets_open(open, last + WEEK, a)) {
            rc = sp_add(out, last + WEEK, a);
        }
        if (last == BW_NOTIME || a > last) {
            last = a;
        }
    }
    if (rc == 0 && last != BW_NOTIME &&
        meets_open(open, last + WEEK, BW_NOTIME)) {
        rc = sp_add(out, last + WEEK, BW_NOTIME);
    }
    return rc;
}

static int pr_fields(struct bw_buf *b, const struct bw_pr *pr)
{
    if (st_put_str(b, pr->title) || SEP(b) || st_put_str(b, pr->url) ||
        SEP(b) || st_put_str(b, pr->author) || SEP(b) ||
        st_put_i64(b, pr->author_flags) || SEP(b) ||
        st_put_i64(b, pr->open != 0) || SEP(b) ||
        st_put_i64(b, pr->draft != 0) || SEP(b) || st_put_str(b, pr->base) ||
        SEP(b) || st_put_list(b, &pr->labels) || SEP(b) ||
        st_put_time(b, pr->created_at) || SEP(b) ||
        st_put_time(b, pr->updated_at) || SEP(b) ||
        st_put_time(b, pr->closed_at) || SEP(b) ||
        st_put_time(b, pr->merged_at) || SEP(b) ||
        st_put_i64(b, pr->additions) || SEP(b) ||
        st_put_i64(b, pr->deletions) || SEP(b) || st_put_i64(b, pr->commits)) {
        return BW_ENOMEM;
    }
    return 0;
}

/* Times relative to opened_at (shorter: the hash is most of a PR's bytes). */
static int pr_derived(struct bw_buf *b, const struct bw_pr_derived *d)
{
    int64_t base = d->opened_at != BW_NOTIME ? d->opened_at : 0;

    if (st_put_rel(b, d->first_commit_at, base) || SEP(b) ||
        st_put_rel(b, d->ready_at, base) || SEP(b) ||
        st_put_rel(b, d->first_review_at, base) || SEP(b) ||
        st_put_rel(b, d->first_response_at, base) || SEP(b) ||
        st_put_rel(b, d->approved_at, base) || SEP(b) ||
        st_put_rel(b, d->pickup_at, base) || SEP(b) ||
        st_put_rel(b, d->response_at, base) || SEP(b) ||
        st_put_i64(b, d->size) || SEP(b) || st_put_i64(b, d->review_rounds) ||
        SEP(b) || st_put_i64(b, d->commits_truncated != 0) || SEP(b) ||
        st_put_i64(b, d->excluded_reason) || SEP(b) ||
        st_put_i64(b, d->review_load_excluded != 0) || SEP(b) ||
        st_put_secs(b, d->coding_time, 3600) || SEP(b) ||
        st_put_secs(b, d->pickup_time, 3600) || SEP(b) ||
        st_put_secs(b, d->review_time, 3600) || SEP(b) ||
        st_put_secs(b, d->cycle_time, 3600) || SEP(b) ||
        st_put_secs(b, d->time_to_first_response, 3600)) {
        return BW_ENOMEM;
    }
    return 0;
}

static unsigned pr_flags(const struct bw_pr *pr, const struct bw_pr_derived *d)
{
    unsigned f = pr->author_flags & (BW_PRF_BOT | BW_PRF_GHOST);

    f |= d->excluded ? BW_PRF_EXCLUDED : 0;
    f |= d->review_load_excluded ? BW_PRF_LOAD_EXCL : 0;
    f |= d->first_review_at != BW_NOTIME ? BW_PRF_REVIEWED : 0;
    f |= d->commits_truncated ? BW_PRF_TRUNCATED : 0;
    f |= pr->open ? BW_PRF_OPEN : 0;
    f |= pr->draft ? BW_PRF_DRAFT : 0;
    f |= pr->merged_at != BW_NOTIME ? BW_PRF_MERGED : 0;
    return f;
}

/* "N|author|flags|excl" */
static int pr_head(struct bw_buf *b, const struct bw_pr *pr, unsigned flags,
                   const struct bw_pr_derived *d)
{
    if (st_put_i64(b, pr->number) || SEP(b) || st_put_str(b, pr->author) ||
        SEP(b) || st_put_i64(b, flags) || SEP(b) ||
        st_put_i64(b, d->excluded_reason)) {
        return BW_ENOMEM;
    }
    return 0;
}

static int pr_pit_row(struct st_item *it, const struct bw_pr *pr,
                      const struct bw_pr_derived *d, unsigned flags)
{
    struct spells open = {0}, draft = {0}, stale = {0};
    struct bw_buf *b = &it->rows;
    int64_t base = pr->created_at;
    int64_t end;
    int rc;

    rc = open_stretches(pr, &open);
    if (rc == 0) {
        rc = draft_stretches(pr, &draft);
    }
    if (rc == 0) {
        rc = stale_windows(pr, &open, &stale);
    }
    if (rc) {
        goto out;
    }
    end = open.n ? sp_v(&open)[open.n - 1].end : base;
    if (end == BW_NOTIME) {
        end = BW_STORE_OPEN_END;
    }
    rc = row_begin(it, BW_IX_PIT, end);
    if (rc == 0 && (pr_head(b, pr, flags, d) || SEP(b) || st_put_i64(b, base) ||
                    SEP(b) || st_put_spells(b, sp_v(&open), open.n, base) ||
                    SEP(b) || st_put_spells(b, sp_v(&draft), draft.n, base) ||
                    SEP(b) || st_put_rel(b, d->ready_at, base) || SEP(b) ||
                    st_put_rel(b, d->first_review_at, base) || SEP(b) ||
                    st_put_spells(b, sp_v(&stale), stale.n, base) || SEP(b) ||
                    st_put_list(b, &pr->labels))) {
        rc = BW_ENOMEM;
    }
    if (rc == 0) {
        rc = row_end(it);
    }
out:
    sp_free(&open);
    sp_free(&draft);
    sp_free(&stale);
    return rc;
}

static int pr_rows(struct st_item *it, const struct bw_pr *pr,
                   const struct bw_pr_rules *rules,
                   const struct bw_pr_derived *d)
{
    struct bw_buf *b = &it->rows;
    unsigned flags = pr_flags(pr, d);
    long k = 0;
    int rc = 0;

    if (pr->created_at == BW_NOTIME) {
        return 0; /* no opening time: no row can place it */
    }
    if (pr->merged_at != BW_NOTIME) {
        rc = row_begin(it, BW_IX_MERGED, pr->merged_at);
        if (rc == 0 && (pr_head(b, pr, flags, d) || SEP(b) ||
                        st_put_secs(b, d->coding_time, 3600) || SEP(b) ||
                        st_put_secs(b, d->pickup_time, 3600) || SEP(b) ||
                        st_put_secs(b, d->review_time, 3600) || SEP(b) ||
                        st_put_secs(b, d->cycle_time, 3600) || SEP(b) ||
                        st_put_secs(b, d->time_to_first_response, 3600) ||
                        SEP(b) || st_put_i64(b, d->size) || SEP(b) ||
                        st_put_i64(b, d->review_rounds) || SEP(b) ||
                        st_put_list(b, &pr->labels))) {
            rc = BW_ENOMEM;
        }
        if (rc == 0) {
            rc = row_end(it);
        }
    }
    if (rc == 0) {
        rc = row_begin(it, BW_IX_OPENED, pr->created_at);
    }
    if (rc == 0 &&
        (pr_head(b, pr, flags, d) || SEP(b) || st_put_list(b, &pr->labels))) {
        rc = BW_ENOMEM;
    }
    if (rc == 0) {
        rc = row_end(it);
    }
    if (rc == 0) {
        rc = pr_pit_row(it, pr, d, flags);
    }
    for (size_t i = 0; rc == 0 && i < pr->nevents; i++) {
        const struct bw_pr_event *ev = &pr->events[i];

        if (!bw_pr_review_counts(pr, rules, ev)) {
            continue;
        }
        if (!d->review_load_excluded) {
            rc = row_begin(it, BW_IX_REVIEWS, ev->t);
            if (rc == 0 &&
                (st_put_i64(b, pr->number) || SEP(b) ||
                 st_put_str(b, ev->actor) || SEP(b) ||
                 st_put_str(b, pr->author) || SEP(b) ||
                 st_put_i64(b, ev->state) || SEP(b) || st_put_i64(b, k))) {
                rc = BW_ENOMEM;
            }
            if (rc == 0) {
                rc = row_end(it);
            }
        }
        k++;
    }
    return rc;
}

int st_item_pr(struct st_item *it, const char *tag, const struct bw_pr *pr,
               const struct bw_pr_rules *rules)
{
    struct bw_pr sorted = *pr;
    struct bw_pr_derived d;
    struct bw_pr_event *ev = NULL;
    int rc;

    st_item_reset(it);
    it->kind = BW_REC_PR;
    it->version = pr->updated_at;
    if (pr->nevents) {
        ev = bw_malloc(pr->nevents * sizeof(*ev));
        if (ev == NULL) {
            return BW_ENOMEM;
        }
        memcpy(ev, pr->events, pr->nevents * sizeof(*ev));
        qsort(ev, pr->nevents, sizeof(*ev), ev_cmp);
    }
    sorted.events = ev; /* shallow: actors stay the caller's */
    sorted.cap = pr->nevents;
    rc = bw_pr_derive(&sorted, rules, &d);
    if (rc == 0 &&
        (bw_buf_adds(&it->tag, tag) || st_put_i64(&it->id, pr->number))) {
        rc = BW_ENOMEM;
    }
    if (rc == 0) {
        rc = pr_fields(&it->f, pr);
    }
    if (rc == 0) {
        rc = bw_pr_pack_events(&sorted, &it->ev);
    }
    if (rc == 0) {
        rc = SEP(&it->f) || pr_derived(&it->f, &d) ? BW_ENOMEM : 0;
    }
    if (rc == 0) {
        rc = pr_rows(it, &sorted, rules, &d);
    }
    /* the values must exist even when empty (HSET takes "") */
    if (rc == 0 && (bw_buf_grow(&it->rows, 0) || bw_buf_grow(&it->ev, 0))) {
        rc = BW_ENOMEM;
    }
    bw_free(ev);
    return rc;
}

/* ============================================================== tickets */

static int tr_cmp(const void *x, const void *y)
{
    const struct bw_ticket_tr *a = x, *b = y;
    int c = cmp_i64(a->t, b->t);

    return c ? c : cmp_i64(a->hid, b->hid);
}

static int flag_cmp(const void *x, const void *y)
{
    const struct bw_ticket_flag *a = x, *b = y;
    int c = cmp_i64(a->t, b->t);

    return c ? c : cmp_i64(a->hid, b->hid);
}

static int ticket_fields(struct bw_buf *b, const struct bw_ticket *t)
{
    if (st_put_str(b, t->id) || SEP(b) || st_put_str(b, t->project) || SEP(b) ||
        st_put_str(b, t->summary) || SEP(b) || st_put_str(b, t->url) ||
        SEP(b) || st_put_str(b, t->type) || SEP(b) ||
        st_put_str(b, t->priority) || SEP(b) || st_put_str(b, t->status_id) ||
        SEP(b) || st_put_str(b, t->status_name) || SEP(b) ||
        st_put_str(b, t->assignee_id) || SEP(b) ||
        st_put_str(b, t->assignee_name) || SEP(b) ||
        st_put_list(b, &t->labels) || SEP(b) ||
        st_put_list(b, &t->components) || SEP(b) || st_put_str(b, t->parent) ||
        SEP(b) || st_put_double(b, t->story_points) || SEP(b) ||
        st_put_i64(b, t->flagged_now != 0) || SEP(b) ||
        st_put_time(b, t->created_at) || SEP(b) ||
        st_put_time(b, t->updated_at) || SEP(b) ||
        st_put_i64(b, t->changelog_incomplete != 0)) {
        return BW_ENOMEM;
    }
    return 0;
}

/* Times relative to created_at, like the PR's. */
static int ticket_derived(struct bw_buf *b, const struct bw_ticket *t,
                          const struct bw_ticket_derived *d)
{
    int64_t base = t->created_at != BW_NOTIME ? t->created_at : 0;
    int done = d->done_at != BW_NOTIME;

    if (st_put_str(b, d->initial_status) || SEP(b) ||
        st_put_rel(b, d->started_at, base) || SEP(b) ||
        st_put_rel(b, d->done_at, base) || SEP(b) ||
        st_put_i64(b, d->reopen_count) || SEP(b) ||
        st_put_i64(b, d->stage_now) || SEP(b) ||
        st_put_i64(b, d->blocked_now != 0) || SEP(b) ||
        st_put_i64(b, d->excluded != 0) || SEP(b) ||
        st_put_i64(b, d->unknown_status != 0) || SEP(b) ||
        st_put_secs(b, done ? d->blocked_time : NAN, 1) || SEP(b) ||
        st_put_secs(b, d->cycle_time, 86400) || SEP(b) ||
        st_put_secs(b, d->lead_time, 86400)) {
        return BW_ENOMEM;
    }
    return 0;
}

static unsigned ticket_flags(const struct bw_ticket *t,
                             const struct bw_ticket_derived *d)
{
    unsigned f = d->excluded ? BW_TKF_EXCLUDED : 0;

    f |= t->changelog_incomplete ? BW_TKF_INCOMPLETE : 0;
    f |= d->unknown_status ? BW_TKF_UNKNOWN : 0;
    f |= d->blocked_now ? BW_TKF_BLOCKED : 0;
    f |= t->flagged_now ? BW_TKF_FLAGGED : 0;
    f |= d->stage_now == BW_STAGE_IN_PROGRESS ? BW_TKF_IN_PROGRESS : 0;
    f |= d->stage_now == BW_STAGE_DONE ? BW_TKF_DONE : 0;
    return f;
}

static int ticket_head(struct bw_buf *b, const struct bw_ticket *t,
                       unsigned flags)
{
    if (st_put_str(b, t->key) || SEP(b) || st_put_str(b, t->project) ||
        SEP(b) || st_put_str(b, t->type) || SEP(b) ||
        st_put_str(b, t->assignee_id) || SEP(b) ||
        st_put_str(b, t->assignee_name) || SEP(b) || st_put_i64(b, flags)) {
        return BW_ENOMEM;
    }
    return 0;
}

static int ticket_rows(struct st_item *it, const struct bw_ticket *t,
                       const struct bw_ticket_derived *d)
{
    struct bw_buf *b = &it->rows;
    unsigned flags = ticket_flags(t, d);
    int rc = 0;

    if (t->created_at == BW_NOTIME) {
        return 0;
    }
    rc = row_begin(it, BW_IX_CREATED, t->created_at);
    if (rc == 0 && (ticket_head(b, t, flags) || SEP(b) ||
                    st_put_list(b, &t->labels) || row_end(it))) {
        rc = BW_ENOMEM;
    }
    if (rc == 0 && d->done_at != BW_NOTIME) {
        rc = row_begin(it, BW_IX_DONE, d->done_at);
        if (rc == 0 && (ticket_head(b, t, flags) || SEP(b) ||
                        st_put_secs(b, d->cycle_time, 86400) || SEP(b) ||
                        st_put_secs(b, d->lead_time, 86400) || SEP(b) ||
                        st_put_secs(b, d->blocked_time, 1) || SEP(b) ||
                        st_put_i64(b, d->reopen_count) || SEP(b) ||
                        st_put_list(b, &t->labels) || row_end(it))) {
            rc = BW_ENOMEM;
        }
    }
    if (rc == 0 && d->nin_progress > 0) {
        const struct bw_spell *last = &d->in_progress[d->nin_progress - 1];
        int64_t base = d->started_at != BW_NOTIME ? d->started_at
                                                  : d->in_progress[0].start;
        int64_t end = last->end == BW_NOTIME ? BW_STORE_OPEN_END : last->end;

        rc = row_begin(it, BW_IX_TPIT, end);
        if (rc == 0 &&
            (ticket_head(b, t, flags) || SEP(b) || st_put_i64(b, base) ||
             SEP(b) ||
             st_put_spells(b, d->in_progress, d->nin_progress, base) ||
             SEP(b) || st_put_spells(b, d->blocked, d->nblocked, base) ||
             SEP(b) || st_put_list(b, &t->labels) || row_end(it))) {
            rc = BW_ENOMEM;
        }
    }
    return rc;
}

int st_item_ticket(struct st_item *it, const char *tag,
                   const struct bw_ticket *t,
                   const struct bw_ticket_rules *rules, int64_t now)
{
    struct bw_ticket sorted = *t;
    struct bw_ticket_derived d;
    struct bw_ticket_tr *trs = NULL;
    struct bw_ticket_flag *flags = NULL;
    int derived = 0;
    int rc = BW_ENOMEM;

    st_item_reset(it);
    memset(&d, 0, sizeof(d));
    it->kind = BW_REC_TICKET;
    it->version = t->updated_at;
    if (t->key == NULL || *t->key == '\0') {
        return BW_EPARSE;
    }
    if (t->ntrs) {
        trs = bw_malloc(t->ntrs * sizeof(*trs));
        if (trs == NULL) {
            goto out;
        }
        memcpy(trs, t->trs, t->ntrs * sizeof(*trs));
        qsort(trs, t->ntrs, sizeof(*trs), tr_cmp);
    }
    if (t->nflags) {
        flags = bw_malloc(t->nflags * sizeof(*flags));
        if (flags == NULL) {
            goto out;
        }
        memcpy(flags, t->flags, t->nflags * sizeof(*flags));
        qsort(flags, t->nflags, sizeof(*flags), flag_cmp);
    }
    sorted.trs = trs; /* shallow: strings stay the caller's */
    sorted.trs_cap = t->ntrs;
    sorted.flags = flags;
    sorted.flags_cap = t->nflags;
    rc = bw_ticket_derive(&sorted, rules, now, &d);
    if (rc) {
        goto out;
    }
    derived = 1;
    rc = BW_ENOMEM;
    if (bw_buf_adds(&it->tag, tag) || bw_buf_adds(&it->id, t->key) ||
        ticket_fields(&it->f, t)) {
        goto out;
    }
    rc = bw_ticket_pack_history(&sorted, &it->ev);
    if (rc == 0) {
        rc = SEP(&it->f) || ticket_derived(&it->f, t, &d) ? BW_ENOMEM : 0;
    }
    if (rc == 0) {
        rc = ticket_rows(it, &sorted, &d);
    }
    if (rc == 0 && (bw_buf_grow(&it->rows, 0) || bw_buf_grow(&it->ev, 0))) {
        rc = BW_ENOMEM;
    }
out:
    if (derived) {
        bw_ticket_derived_release(&d);
    }
    bw_free(trs);
    bw_free(flags);
    return rc;
}

/* ============================================================ unpacking */

/* Copy of a packed value, NUL-terminated, for in-place splitting. */
static char *dup_value(const char *s, size_t n)
{
    return memchr(s, '\0', n) ? NULL : bw_strndup(s, n);
}

static int dup_text(char *f, char **out)
{
    int bad = 0;
    char *s = st_unesc(f, &bad);

    if (bad) {
        return BW_EPARSE;
    }
    if (s == NULL) {
        *out = NULL;
        return 0;
    }
    *out = bw_strdup(s);
    return *out ? 0 : BW_ENOMEM;
}

static int get_time(const char *f, int64_t *out)
{
    return st_get_i64(f, BW_NOTIME, out);
}

static int get_flag(const char *f, int *out)
{
    int64_t v;

    if (st_get_i64(f, 0, &v) || v < 0 || v > 0xffff) {
        return BW_EPARSE;
    }
    *out = (int)v;
    return 0;
}

int st_unpack_pr(const char *repo, long number, const char *fv, size_t flen,
                 const char *ev, size_t evlen, struct bw_pr *pr)
{
    char *copy = dup_value(fv, flen);
    char *f[PR_FIELDS + PR_DERIVED];
    int64_t v;
    int flags = 0;
    int rc = BW_EPARSE;

    if (copy == NULL || st_split(copy, flen, f, PR_FIELDS + PR_DERIVED) !=
                            PR_FIELDS + PR_DERIVED) {
        goto out;
    }
    pr->number = number;
    rc = BW_ENOMEM;
    pr->repo = bw_strdup(repo);
    if (pr->repo == NULL) {
        goto out;
    }
    rc = dup_text(f[0], &pr->title);
    if (rc == 0) {
        rc = dup_text(f[1], &pr->url);
    }
    if (rc == 0) {
        rc = dup_text(f[2], &pr->author);
    }
    if (rc == 0) {
        rc = dup_text(f[6], &pr->base);
    }
    if (rc == 0) {
        rc = st_get_list(f[7], &pr->labels);
    }
    if (rc) {
        goto out;
    }
    rc = BW_EPARSE;
    if (get_flag(f[3], &flags) || get_flag(f[4], &pr->open) ||
        get_flag(f[5], &pr->draft) || get_time(f[8], &pr->created_at) ||
        get_time(f[9], &pr->updated_at) || get_time(f[10], &pr->closed_at) ||
        get_time(f[11], &pr->merged_at) || st_get_i64(f[12], 0, &v)) {
        goto out;
    }
    pr->author_flags = (unsigned)flags;
    pr->additions = (long)v;
    if (st_get_i64(f[13], 0, &v)) {
        goto out;
    }
    pr->deletions = (long)v;
    if (st_get_i64(f[14], -1, &v)) {
        goto out;
    }
    pr->commits = (long)v;
    rc = bw_pr_unpack_events(pr, ev, evlen);
out:
    bw_free(copy);
    return rc;
}

int st_unpack_ticket(const char *key, const char *fv, size_t flen,
                     const char *hist, size_t hlen, struct bw_ticket *t)
{
    char *copy = dup_value(fv, flen);
    char *f[TICKET_FIELDS + TICKET_DERIVED];
    char **text_at[] = {&t->id,           &t->project,     &t->summary,
                        &t->url,          &t->type,        &t->priority,
                        &t->status_id,    &t->status_name, &t->assignee_id,
                        &t->assignee_name};
    int rc = BW_EPARSE;

    if (copy == NULL ||
        st_split(copy, flen, f, TICKET_FIELDS + TICKET_DERIVED) !=
            TICKET_FIELDS + TICKET_DERIVED) {
        goto out;
    }
    t->key = bw_strdup(key);
    rc = t->key ? 0 : BW_ENOMEM;
    for (size_t i = 0; rc == 0 && i < sizeof(text_at) / sizeof(text_at[0]);
         i++) {
        rc = dup_text(f[i], text_at[i]);
    }
    if (rc == 0) {
        rc = st_get_list(f[10], &t->labels);
    }
    if (rc == 0) {
        rc = st_get_list(f[11], &t->components);
    }
    if (rc == 0) {
        rc = dup_text(f[12], &t->parent);
    }
    if (rc) {
        goto out;
    }
    rc = BW_EPARSE;
    if (st_get_double(f[13], &t->story_points) ||
        get_flag(f[14], &t->flagged_now) || get_time(f[15], &t->created_at) ||
        get_time(f[16], &t->updated_at) ||
        get_flag(f[17], &t->changelog_incomplete)) {
        goto out;
    }
    rc = bw_ticket_unpack_history(t, hist, hlen);
out:
    bw_free(copy);
    return rc;
}
