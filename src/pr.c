/*
 * pr.c - the pull request model: its event list, METRICS.md's per-PR rules
 * (bw_pr_derive, the single implementation of them) and the packed text
 * form of the events the store keeps.
 *
 * The GitHub collector fills a struct bw_pr from API pages, the store packs
 * the events next to the PR's fields and calls bw_pr_derive() for the
 * derived fields; `reindex` unpacks and derives again without any request.
 * Everything here is pure: no I/O, no clock, no globals.
 *
 * Packed events (bw_pr_pack_events), version 1: the line "e1", then one
 * line per event, in the order of pr->events:
 *
 *     <kind><dt>[:<dt2>][/<state>][!<flags>][ <actor>]
 *
 * kind is one letter (c commit, r review, m comment, y ready_for_review,
 * d convert_to_draft, x closed, o reopened, g merged, q review_requested);
 * dt is t minus the previous event's t (the first: minus 0), dt2 is t2
 * minus t and present only when t2 is set; state and flags are decimal and
 * present only when nonzero; the actor is present only when not NULL, with
 * bytes below '!', '%' and DEL written as %XX. Differences are taken modulo
 * 2^64, so every int64_t (BW_NOTIME included) round-trips exactly.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/pack.h"
#include "bellwether/pr.h"

#define PACK_MAGIC "e1"

/* ------------------------------------------------------------- model */

void bw_pr_init(struct bw_pr *pr)
{
    memset(pr, 0, sizeof(*pr));
    pr->created_at = BW_NOTIME;
    pr->updated_at = BW_NOTIME;
    pr->closed_at = BW_NOTIME;
    pr->merged_at = BW_NOTIME;
    pr->commits = -1;
}

void bw_pr_release(struct bw_pr *pr)
{
    bw_free(pr->repo);
    bw_free(pr->title);
    bw_free(pr->url);
    bw_free(pr->author);
    bw_free(pr->base);
    bw_strlist_release(&pr->labels);
    for (size_t i = 0; i < pr->nevents; i++) {
        bw_free(pr->events[i].actor);
    }
    bw_free(pr->events);
    bw_pr_init(pr);
}

int bw_pr_add_event(struct bw_pr *pr, const struct bw_pr_event *ev)
{
    struct bw_pr_event *v;
    char *actor = NULL;
    size_t cap;

    if (ev->actor) {
        actor = bw_strdup(ev->actor);
        if (actor == NULL) {
            return BW_ENOMEM;
        }
    }
    if (pr->nevents == pr->cap) {
        cap = pr->cap ? pr->cap * 2 : 16;
        v = bw_realloc(pr->events, cap * sizeof(*v));
        if (v == NULL) {
            bw_free(actor);
            return BW_ENOMEM;
        }
        pr->events = v;
        pr->cap = cap;
    }
    pr->events[pr->nevents] = *ev;
    pr->events[pr->nevents].actor = actor;
    pr->nevents++;
    return 0;
}

/* A failed parse or unpack leaves the PR as it was. */
void bw_pr_truncate_events(struct bw_pr *pr, size_t n)
{
    while (pr->nevents > n) {
        pr->nevents--;
        bw_free(pr->events[pr->nevents].actor);
        pr->events[pr->nevents].actor = NULL;
    }
}

/* ------------------------------------------------------------- rules */

static int list_has(const struct bw_strlist *l, const char *s)
{
    return l != NULL && s != NULL && l->n > 0 && bw_strlist_has(l, s);
}

/* Is the author of ev the PR's author? A deleted user (on either side) is
 * never taken to be the author. */
static int is_author(const struct bw_pr *pr, const struct bw_pr_event *ev)
{
    if ((ev->actor_flags & BW_ACTOR_GHOST) || ev->actor == NULL) {
        return 0;
    }
    if ((pr->author_flags & BW_ACTOR_GHOST) || pr->author == NULL) {
        return 0;
    }
    return strcmp(ev->actor, pr->author) == 0;
}

/* A person whose review or comment on this PR may count: not the author,
 * not a bot, not excluded, and in time (no later than merged_at). */
static int person_counts(const struct bw_pr *pr, const struct bw_pr_rules *r,
                         const struct bw_pr_event *ev)
{
    if (ev->t == BW_NOTIME || (ev->actor_flags & BW_ACTOR_BOT)) {
        return 0;
    }
    if (is_author(pr, ev)) {
        return 0;
    }
    if (r != NULL && list_has(r->exclude_users, ev->actor)) {
        return 0;
    }
    return pr->merged_at == BW_NOTIME || ev->t <= pr->merged_at;
}

int bw_pr_review_counts(const struct bw_pr *pr, const struct bw_pr_rules *r,
                        const struct bw_pr_event *ev)
{
    if (ev->kind != BW_PEV_REVIEW) {
        return 0;
    }
    switch (ev->state) {
    case BW_RS_APPROVED:
    case BW_RS_CHANGES_REQUESTED:
    case BW_RS_COMMENTED:
    case BW_RS_DISMISSED:
        break;
    default:
        return 0;
    }
    return person_counts(pr, r, ev);
}

static int comment_counts(const struct bw_pr *pr, const struct bw_pr_rules *r,
                          const struct bw_pr_event *ev)
{
    return ev->kind == BW_PEV_COMMENT && person_counts(pr, r, ev);
}

static void take_min(int64_t *acc, int64_t t)
{
    if (t != BW_NOTIME && (*acc == BW_NOTIME || t < *acc)) {
        *acc = t;
    }
}

/* Hours from a to b, clamped at 0; NAN when either is missing. */
static double hours(int64_t a, int64_t b)
{
    if (a == BW_NOTIME || b == BW_NOTIME) {
        return NAN;
    }
    if (b <= a) {
        return 0.0;
    }
    return (double)((uint64_t)b - (uint64_t)a) / 3600.0;
}

/* ready_at: opened_at unless the PR was opened as a draft (its first
 * draft-related event is ready_for_review, or it has none and is a draft
 * now); then its first ready_for_review, or none. Independent of the order
 * of pr->events. */
static int64_t ready_at(const struct bw_pr *pr)
{
    const struct bw_pr_event *first = NULL;
    int64_t ready = BW_NOTIME;

    for (size_t i = 0; i < pr->nevents; i++) {
        const struct bw_pr_event *ev = &pr->events[i];

        if ((ev->kind != BW_PEV_READY && ev->kind != BW_PEV_DRAFT) ||
            ev->t == BW_NOTIME) {
            continue;
        }
        /* ties: ready before draft, the store's sorted order, so a
           reindex of sorted events derives what the collector did */
        if (first == NULL || ev->t < first->t ||
            (ev->t == first->t && ev->kind < first->kind)) {
            first = ev;
        }
        if (ev->kind == BW_PEV_READY) {
            take_min(&ready, ev->t);
        }
    }
    if (first != NULL ? first->kind == BW_PEV_READY : pr->draft != 0) {
        return ready;
    }
    return pr->created_at;
}

/* Why the PR is left out of PR metrics: label and base first (they also
 * take its reviews out of review load), then bot, then excluded user. */
static int exclusion(const struct bw_pr *pr, const struct bw_pr_rules *r)
{
    if (r == NULL) {
        return (pr->author_flags & BW_ACTOR_BOT) ? BW_PX_BOT : BW_PX_NONE;
    }
    for (size_t i = 0; i < pr->labels.n; i++) {
        if (list_has(r->exclude_labels, pr->labels.v[i])) {
            return BW_PX_LABEL;
        }
    }
    if (pr->base != NULL && r->exclude_base != NULL && r->exclude_base->n > 0 &&
        bw_strlist_glob(r->exclude_base, pr->base)) {
        return BW_PX_BASE;
    }
    if ((pr->author_flags & BW_ACTOR_BOT) && !r->include_bot_prs) {
        return BW_PX_BOT;
    }
    if (list_has(r->exclude_users, pr->author)) {
        return BW_PX_USER;
    }
    return BW_PX_NONE;
}

/* Commits: the earliest author date, and how many the timeline listed. */
static void commits(const struct bw_pr *pr, struct bw_pr_derived *d)
{
    long listed = 0;

    d->first_commit_at = BW_NOTIME;
    for (size_t i = 0; i < pr->nevents; i++) {
        if (pr->events[i].kind == BW_PEV_COMMIT) {
            listed++;
            take_min(&d->first_commit_at, pr->events[i].t2);
        }
    }
    if (d->first_commit_at == BW_NOTIME) {
        d->first_commit_at = pr->created_at;
    }
    d->commits_truncated = pr->commits >= 0 && pr->commits > listed;
}

/* Counted reviews and comments: first review, approval, rounds, first
 * response, and the first of each at or after ready_at. */
static void responses(const struct bw_pr *pr, const struct bw_pr_rules *r,
                      struct bw_pr_derived *d)
{
    for (size_t i = 0; i < pr->nevents; i++) {
        const struct bw_pr_event *ev = &pr->events[i];
        int late = d->ready_at != BW_NOTIME && ev->t >= d->ready_at;

        if (bw_pr_review_counts(pr, r, ev)) {
            take_min(&d->first_review_at, ev->t);
            if (ev->state == BW_RS_APPROVED) {
                take_min(&d->approved_at, ev->t);
            }
            if (ev->state == BW_RS_CHANGES_REQUESTED) {
                d->review_rounds++;
            }
            if (late) {
                take_min(&d->pickup_at, ev->t);
                take_min(&d->response_at, ev->t);
            }
        } else if (comment_counts(pr, r, ev)) {
            take_min(&d->first_response_at, ev->t);
            if (late) {
                take_min(&d->response_at, ev->t);
            }
        }
    }
    take_min(&d->first_response_at, d->first_review_at);
}

int bw_pr_derive(const struct bw_pr *pr, const struct bw_pr_rules *rules,
                 struct bw_pr_derived *out)
{
    struct bw_pr_derived d;
    int merged = pr->merged_at != BW_NOTIME;

    memset(&d, 0, sizeof(d));
    d.opened_at = pr->created_at;
    d.merged_at = pr->merged_at;
    d.closed_at = pr->closed_at;
    d.first_review_at = d.first_response_at = d.approved_at = BW_NOTIME;
    d.pickup_at = d.response_at = BW_NOTIME;
    commits(pr, &d);
    d.ready_at = ready_at(pr);
    responses(pr, rules, &d);
    d.size = pr->additions + pr->deletions;
    d.excluded_reason = exclusion(pr, rules);
    d.excluded = d.excluded_reason != BW_PX_NONE;
    d.review_load_excluded =
        d.excluded_reason == BW_PX_LABEL || d.excluded_reason == BW_PX_BASE;
    d.coding_time = d.pickup_time = d.review_time = d.cycle_time = NAN;
    d.time_to_first_response = NAN;
    if (merged) {
        d.coding_time = hours(d.first_commit_at, d.ready_at);
        d.pickup_time = hours(d.ready_at, d.pickup_at);
        d.review_time = hours(d.first_review_at, d.merged_at);
        d.cycle_time = hours(d.first_commit_at, d.merged_at);
        d.time_to_first_response = hours(d.ready_at, d.response_at);
    }
    *out = d;
    return 0;
}

/* ------------------------------------------------------------- packing */

static const char kind_letters[] = "?crmydxogq";

static int kind_letter(unsigned kind)
{
    if (kind == 0 || kind >= sizeof(kind_letters) - 1) {
        return -1;
    }
    return kind_letters[kind];
}

static int letter_kind(char c)
{
    const char *p = c ? strchr(kind_letters + 1, c) : NULL;

    return p ? (int)(p - kind_letters) : -1;
}

static int pack_one(struct bw_buf *out, const struct bw_pr_event *ev,
                    int64_t prev)
{
    int letter = kind_letter(ev->kind);
    int64_t dt = (int64_t)((uint64_t)ev->t - (uint64_t)prev);
    int rc;

    if (letter < 0) {
        return BW_EPARSE;
    }
    rc = bw_buf_printf(out, "\n%c%lld", letter, (long long)dt);
    if (rc == 0 && ev->t2 != BW_NOTIME) {
        dt = (int64_t)((uint64_t)ev->t2 - (uint64_t)ev->t);
        rc = bw_buf_printf(out, ":%lld", (long long)dt);
    }
    if (rc == 0 && ev->state) {
        rc = bw_buf_printf(out, "/%u", (unsigned)ev->state);
    }
    if (rc == 0 && ev->actor_flags) {
        rc = bw_buf_printf(out, "!%u", (unsigned)ev->actor_flags);
    }
    if (rc == 0 && ev->actor) {
        rc = bw_buf_addch(out, ' ');
        if (rc == 0) {
            rc = bw_pack_escape(out, ev->actor);
        }
    }
    return rc;
}

int bw_pr_pack_events(const struct bw_pr *pr, struct bw_buf *out)
{
    size_t start = out->len;
    int64_t prev = 0;
    int rc = bw_buf_adds(out, PACK_MAGIC);

    for (size_t i = 0; rc == 0 && i < pr->nevents; i++) {
        rc = pack_one(out, &pr->events[i], prev);
        prev = pr->events[i].t;
    }
    if (rc && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

static int unpack_small(const char **p, const char *end, uint8_t *v)
{
    int64_t x;

    if (bw_pack_parse_int(p, end, &x) || x < 0 || x > 255) {
        return BW_EPARSE;
    }
    *v = (uint8_t)x;
    return 0;
}

/* One line (without its '\n') into ev; ev->actor is allocated. */
static int unpack_one(const char *s, const char *end, int64_t prev,
                      struct bw_pr_event *ev)
{
    int kind = s < end ? letter_kind(*s) : -1;
    int64_t d;

    memset(ev, 0, sizeof(*ev));
    ev->t2 = BW_NOTIME;
    if (kind < 0) {
        return BW_EPARSE;
    }
    ev->kind = (uint8_t)kind;
    s++;
    if (bw_pack_parse_int(&s, end, &d)) {
        return BW_EPARSE;
    }
    ev->t = (int64_t)((uint64_t)prev + (uint64_t)d);
    if (s < end && *s == ':') {
        s++;
        if (bw_pack_parse_int(&s, end, &d)) {
            return BW_EPARSE;
        }
        ev->t2 = (int64_t)((uint64_t)ev->t + (uint64_t)d);
    }
    if (s < end && *s == '/') {
        s++;
        if (unpack_small(&s, end, &ev->state)) {
            return BW_EPARSE;
        }
    }
    if (s < end && *s == '!') {
        s++;
        if (unpack_small(&s, end, &ev->actor_flags)) {
            return BW_EPARSE;
        }
    }
    if (s < end && *s == ' ') {
        return bw_pack_unescape(s + 1, end, &ev->actor);
    }
    return s == end ? 0 : BW_EPARSE;
}

int bw_pr_unpack_events(struct bw_pr *pr, const char *s, size_t len)
{
    const char *end = s + len;
    const char *p = s + strlen(PACK_MAGIC);
    size_t n0 = pr->nevents;
    int64_t prev = 0;
    int rc = BW_EPARSE;

    if (len < strlen(PACK_MAGIC) ||
        memcmp(s, PACK_MAGIC, strlen(PACK_MAGIC)) != 0) {
        goto out;
    }
    while (p < end) {
        struct bw_pr_event ev;
        const char *eol;

        if (*p != '\n') {
            rc = BW_EPARSE;
            goto out;
        }
        p++;
        eol = memchr(p, '\n', (size_t)(end - p));
        eol = eol ? eol : end;
        rc = unpack_one(p, eol, prev, &ev);
        if (rc == 0) {
            rc = bw_pr_add_event(pr, &ev);
        }
        bw_free(ev.actor);
        if (rc) {
            goto out;
        }
        prev = ev.t;
        p = eol;
    }
    rc = 0;
out:
    if (rc) {
        bw_pr_truncate_events(pr, n0);
    }
    return rc;
}
