/*
 * github.c - the GitHub collector: pull requests, reviews and their
 * timeline, walked incrementally per repository (DESIGN.md).
 *
 * Per repository, the walk lists pulls?state=all&sort=updated&direction=desc
 * &per_page=100 until it passes the high-water mark minus 5 minutes (or
 * `since`, whichever is later). For each listed PR whose stored version
 * (updated_at) differs, it fetches the issue timeline (every page: commits,
 * reviews, comments, draft changes, close/reopen/merge) and the single PR
 * (size, labels, draft, commit count, merged_at) in parallel through
 * bw_http_submit(), emits the PR when both parts are in, and commits the
 * list page when all of its PRs are emitted: about 2.01 requests per PR.
 * The first list page goes out with If-None-Match; a 304 means nothing
 * changed and costs no quota. The mark and that page's ETag move only when
 * a repository's walk is complete, so an interrupted walk (crash, signal,
 * min_quota_left) is simply re-walked, cheaply, since unchanged PRs are
 * skipped by version.
 *
 * Open PRs are collected however old. A PR that is open but was not updated
 * since the last mark was collected when it last changed, so only a walk
 * with no mark (the first, backfill run, or --full) can miss any: the open
 * PRs updated before `since`. When such a walk stopped at `since` (rather
 * than at the end of the list), it lists state=open&sort=updated&
 * direction=asc from the oldest up to `since`: one request per 100 old
 * open PRs, instead of walking all of history to the end.
 *
 * Paging is never trusted to end: a list, timeline or organisation walk
 * stops with an error (the source fails, nothing of the offending page is
 * stored) when a `next` link leads back to a page the walk read already or
 * past a page count no real walk reaches (struct bw_http_pager).
 *
 * Progress: a walk with no mark adds the first list page's `last` link
 * (pages x 100) to stats.items_known for the progress line's ETA, an upper
 * bound: it counts PRs updated before `since` too (add_known()).
 *
 * The pure page parsers (bw_gh_parse_*) come first: JSON -> struct bw_pr,
 * one cJSON parse per page, unit-tested and fuzzed.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/github.h"
#include "bellwether/jsonutil.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/progress.h"

#define O(f) offsetof(struct bw_github_opts, f)

static const struct bw_config_key gh_keys[] = {
    {BW_KT_URL, "api_url", "https://api.github.com", O(api_url),
     "API base URL; GitHub Enterprise: https://HOST/api/v3", 0, 0},
    {BW_KT_LIST, "repos", NULL, O(repos),
     "repositories owner/name (and/or org)", BW_KF_ANYOF, 0},
    {BW_KT_STR, "org", NULL, O(org),
     "collect every non-archived repository of this organisation", BW_KF_ANYOF,
     0},
    {BW_KT_SECRET, "token", NULL, O(token),
     "token_env names a variable, token_file a file holding the token",
     BW_KF_REQUIRED, O(token_src)},
    {BW_KT_LIST, "exclude_users", NULL, O(exclude_users),
     "users left out as authors and reviewers", BW_KF_METRIC, 0},
    {BW_KT_BOOL, "include_bot_prs", "false", O(include_bot_prs),
     "count PRs authored by bots", BW_KF_METRIC, 0},
    {BW_KT_LIST, "exclude_labels", NULL, O(exclude_labels),
     "PRs with any of these labels are left out of metrics", BW_KF_METRIC, 0},
    {BW_KT_LIST, "exclude_base", NULL, O(exclude_base),
     "PRs into base branches matching these shell globs are left out",
     BW_KF_METRIC, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};

/* ================================================================ parsers */

/* A date, or BW_NOTIME when absent or null; BW_EPARSE when it is there but
 * is no date (or is absent and required). */
static int get_time(const cJSON *o, const char *key, int required, int64_t *out)
{
    const cJSON *v = bw_json_get(o, key);

    *out = BW_NOTIME;
    if (v == NULL || cJSON_IsNull(v)) {
        return required ? BW_EPARSE : 0;
    }
    if (!cJSON_IsString(v) ||
        bw_parse_iso8601(v->valuestring, strlen(v->valuestring), out) != 0) {
        *out = BW_NOTIME;
        return BW_EPARSE;
    }
    return 0;
}

/* A whole number in [lo, LONG_MAX] or BW_EPARSE; def when absent/null. */
static int get_long(const cJSON *o, const char *key, long lo, long def,
                    long *out)
{
    const cJSON *v = bw_json_get(o, key);

    *out = def;
    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo) ||
        !(v->valuedouble < 9.0e15) ||
        v->valuedouble != (double)(long)v->valuedouble) {
        return BW_EPARSE;
    }
    *out = (long)v->valuedouble;
    return 0;
}

unsigned bw_gh_actor_flags(const char *login, const char *type)
{
    size_t n;

    if (login == NULL || strcmp(login, "ghost") == 0) {
        return BW_ACTOR_GHOST;
    }
    n = strlen(login);
    if ((type != NULL && strcmp(type, "Bot") == 0) ||
        (n >= 5 && strcmp(login + n - 5, "[bot]") == 0)) {
        return BW_ACTOR_BOT;
    }
    return 0;
}

/* The login (borrowed from the JSON, NULL for a null or missing user) and
 * the BW_ACTOR_* flags of a user object. */
static int get_actor(const cJSON *u, const char **login, unsigned *flags)
{
    *login = NULL;
    if (u == NULL || cJSON_IsNull(u)) {
        *flags = BW_ACTOR_GHOST;
        return 0;
    }
    if (!cJSON_IsObject(u)) {
        return BW_EPARSE;
    }
    *login = bw_json_str(u, "login");
    *flags = bw_gh_actor_flags(*login, bw_json_str(u, "type"));
    return 0;
}

static int get_labels(const cJSON *o, struct bw_strlist *out)
{
    const cJSON *labels = bw_json_get(o, "labels");
    const cJSON *lab;
    int rc = 0;

    if (labels == NULL || cJSON_IsNull(labels)) {
        return 0;
    }
    if (!cJSON_IsArray(labels)) {
        return BW_EPARSE;
    }
    cJSON_ArrayForEach(lab, labels)
    {
        const char *name = bw_json_str(lab, "name");

        if (name == NULL) {
            return BW_EPARSE;
        }
        if ((rc = bw_strlist_add(out, name)) != 0) {
            return rc;
        }
    }
    return 0;
}

/* The fields the list item and the single PR share, into a fresh pr. */
static int pr_fields(const cJSON *o, struct bw_pr *pr)
{
    const char *login, *state;
    int rc;

    if (!cJSON_IsObject(o)) {
        return BW_EPARSE;
    }
    if ((rc = get_long(o, "number", 1, 0, &pr->number)) != 0 ||
        pr->number < 1 ||
        (rc = get_time(o, "created_at", 1, &pr->created_at)) != 0 ||
        (rc = get_time(o, "updated_at", 1, &pr->updated_at)) != 0 ||
        (rc = get_time(o, "closed_at", 0, &pr->closed_at)) != 0 ||
        (rc = get_time(o, "merged_at", 0, &pr->merged_at)) != 0 ||
        (rc = get_actor(bw_json_get(o, "user"), &login, &pr->author_flags)) !=
            0) {
        return rc ? rc : BW_EPARSE;
    }
    state = bw_json_str(o, "state");
    pr->open = state != NULL && strcmp(state, "open") == 0;
    pr->draft = cJSON_IsTrue(bw_json_get(o, "draft"));
    if ((rc = bw_json_copy_str(&pr->author, login)) != 0 ||
        (rc = bw_json_copy_str(&pr->title, bw_json_str(o, "title"))) != 0 ||
        (rc = bw_json_copy_str(&pr->url, bw_json_str(o, "html_url"))) != 0 ||
        (rc = bw_json_copy_str(
             &pr->base, bw_json_str(bw_json_get(o, "base"), "ref"))) != 0) {
        return rc;
    }
    return get_labels(o, &pr->labels);
}

static int parse_json(const char *json, size_t len, cJSON **root)
{
    const char *end = NULL;

    *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (*root == NULL) {
        /* cJSON returns NULL for malformed input and for a failed
           allocation alike: both are a page to fetch again */
        return BW_EPARSE;
    }
    while (end < json + len &&
           (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) {
        end++;
    }
    if (end != json + len) {
        cJSON_Delete(*root); /* something after the value: a bad body */
        *root = NULL;
        return BW_EPARSE;
    }
    return 0;
}

int bw_gh_parse_pulls(const char *json, size_t len, bw_gh_pull_cb cb, void *arg)
{
    cJSON *root = NULL;
    const cJSON *it;
    struct bw_pr pr;
    int rc;

    bw_pr_init(&pr);
    if ((rc = parse_json(json, len, &root)) != 0) {
        goto out;
    }
    rc = BW_EPARSE;
    if (!cJSON_IsArray(root)) {
        goto out;
    }
    cJSON_ArrayForEach(it, root)
    {
        if ((rc = pr_fields(it, &pr)) != 0 || (rc = cb(arg, &pr)) != 0) {
            goto out;
        }
        bw_pr_release(&pr);
    }
    rc = 0;
out:
    bw_pr_release(&pr);
    cJSON_Delete(root);
    return rc;
}

/* Move src's fields into dst, keeping dst's repo and events. */
static void take_fields(struct bw_pr *dst, struct bw_pr *src)
{
    struct bw_pr keep = *dst;

    src->repo = keep.repo;
    src->events = keep.events;
    src->nevents = keep.nevents;
    src->cap = keep.cap;
    keep.repo = NULL;
    keep.events = NULL;
    keep.nevents = keep.cap = 0;
    bw_pr_release(&keep);
    *dst = *src;
    bw_pr_init(src);
}

int bw_gh_parse_pull(const char *json, size_t len, struct bw_pr *pr)
{
    cJSON *root = NULL;
    struct bw_pr tmp;
    int rc;

    bw_pr_init(&tmp);
    if ((rc = parse_json(json, len, &root)) != 0 ||
        (rc = pr_fields(root, &tmp)) != 0 ||
        (rc = get_long(root, "additions", 0, 0, &tmp.additions)) != 0 ||
        (rc = get_long(root, "deletions", 0, 0, &tmp.deletions)) != 0 ||
        (rc = get_long(root, "commits", 0, -1, &tmp.commits)) != 0) {
        goto out;
    }
    take_fields(pr, &tmp);
out:
    bw_pr_release(&tmp);
    cJSON_Delete(root);
    return rc;
}

static const struct {
    const char *name;
    int kind;
} tl_kinds[] = {
    {"committed", BW_PEV_COMMIT},
    {"reviewed", BW_PEV_REVIEW},
    {"commented", BW_PEV_COMMENT},
    {"ready_for_review", BW_PEV_READY},
    {"convert_to_draft", BW_PEV_DRAFT},
    {"closed", BW_PEV_CLOSED},
    {"reopened", BW_PEV_REOPENED},
    {"merged", BW_PEV_MERGED},
    {"review_requested", BW_PEV_REVIEW_REQUESTED},
};

static int review_state(const char *s)
{
    static const char *const names[] = {
        NULL,        "approved",  "changes_requested",
        "commented", "dismissed", "pending"};

    for (int i = 1; s != NULL && i <= BW_RS_PENDING; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            return i;
        }
    }
    return BW_RS_NONE;
}

static int timeline_kind(const char *name)
{
    for (size_t i = 0; name && i < sizeof(tl_kinds) / sizeof(*tl_kinds); i++) {
        if (strcmp(name, tl_kinds[i].name) == 0) {
            return tl_kinds[i].kind;
        }
    }
    return 0;
}

/* A review object (timeline `reviewed` item or /reviews element). */
static int review_event(const cJSON *it, struct bw_pr *pr)
{
    struct bw_pr_event ev = {BW_NOTIME, BW_NOTIME, BW_PEV_REVIEW, 0, 0, NULL};
    const char *login;
    unsigned flags;
    int rc;

    if ((rc = get_time(it, "submitted_at", 0, &ev.t)) != 0 ||
        (rc = get_actor(bw_json_get(it, "user"), &login, &flags)) != 0) {
        return rc;
    }
    ev.state = (uint8_t)review_state(bw_json_str(it, "state"));
    ev.actor_flags = (uint8_t)flags;
    ev.actor = (char *)login; /* copied by bw_pr_add_event */
    return bw_pr_add_event(pr, &ev);
}

/* A commit: git dates from `dates` (the item itself in the timeline, its
 * `commit` object in /commits), the GitHub user (if any) from `user`. */
static int commit_event(const cJSON *dates, const cJSON *user, struct bw_pr *pr)
{
    struct bw_pr_event ev = {BW_NOTIME, BW_NOTIME, BW_PEV_COMMIT, 0, 0, NULL};
    const char *login = NULL;
    unsigned flags = 0;
    int rc;

    if ((rc = get_time(bw_json_get(dates, "committer"), "date", 0, &ev.t)) !=
            0 ||
        (rc = get_time(bw_json_get(dates, "author"), "date", 0, &ev.t2)) != 0) {
        return rc;
    }
    if (cJSON_IsObject(user) && bw_json_str(user, "login") != NULL &&
        (rc = get_actor(user, &login, &flags)) != 0) {
        return rc;
    }
    ev.actor_flags = (uint8_t)flags;
    ev.actor = (char *)login;
    return bw_pr_add_event(pr, &ev);
}

static int timeline_item(const cJSON *it, struct bw_pr *pr)
{
    struct bw_pr_event ev = {BW_NOTIME, BW_NOTIME, 0, 0, 0, NULL};
    int kind = timeline_kind(bw_json_str(it, "event"));
    const cJSON *who;
    const char *login;
    unsigned flags;
    int rc;

    switch (kind) {
    case 0:
        return cJSON_IsObject(it) ? 0 : BW_EPARSE;
    case BW_PEV_COMMIT:
        return commit_event(it, NULL, pr);
    case BW_PEV_REVIEW:
        return review_event(it, pr);
    default:
        break;
    }
    /* comments carry `user` (and, in the timeline, `actor` too) */
    who = bw_json_get(it, "actor");
    if (who == NULL && kind == BW_PEV_COMMENT) {
        who = bw_json_get(it, "user");
    }
    if ((rc = get_time(it, "created_at", 0, &ev.t)) != 0 ||
        (rc = get_actor(who, &login, &flags)) != 0) {
        return rc;
    }
    ev.kind = (uint8_t)kind;
    ev.actor_flags = (uint8_t)flags;
    ev.actor = (char *)login;
    return bw_pr_add_event(pr, &ev);
}

enum list_kind {
    LIST_TIMELINE,
    LIST_REVIEWS,
    LIST_COMMITS
};

static int list_item(const cJSON *it, int what, struct bw_pr *pr)
{
    switch (what) {
    case LIST_TIMELINE:
        return timeline_item(it, pr);
    case LIST_REVIEWS:
        return cJSON_IsObject(it) ? review_event(it, pr) : BW_EPARSE;
    default:
        return cJSON_IsObject(it) ? commit_event(bw_json_get(it, "commit"),
                                                 bw_json_get(it, "author"), pr)
                                  : BW_EPARSE;
    }
}

/* Append the events of an array page; all or nothing. */
static int parse_events(const char *json, size_t len, int what,
                        struct bw_pr *pr)
{
    size_t n0 = pr->nevents;
    cJSON *root = NULL;
    const cJSON *it;
    int rc;

    if ((rc = parse_json(json, len, &root)) != 0) {
        goto out;
    }
    if (what == LIST_REVIEWS && cJSON_IsObject(root)) {
        rc = review_event(root, pr);
        goto out;
    }
    rc = BW_EPARSE;
    if (!cJSON_IsArray(root)) {
        goto out;
    }
    cJSON_ArrayForEach(it, root)
    {
        if ((rc = list_item(it, what, pr)) != 0) {
            goto out;
        }
    }
    rc = 0;
out:
    if (rc) {
        bw_pr_truncate_events(pr, n0);
    }
    cJSON_Delete(root);
    return rc;
}

int bw_gh_parse_timeline(const char *json, size_t len, struct bw_pr *pr)
{
    return parse_events(json, len, LIST_TIMELINE, pr);
}

int bw_gh_parse_reviews(const char *json, size_t len, struct bw_pr *pr)
{
    return parse_events(json, len, LIST_REVIEWS, pr);
}

int bw_gh_parse_commits(const char *json, size_t len, struct bw_pr *pr)
{
    return parse_events(json, len, LIST_COMMITS, pr);
}

int bw_gh_parse_repos(const char *json, size_t len, struct bw_strlist *out)
{
    size_t n0 = out->n;
    cJSON *root = NULL;
    const cJSON *it;
    int rc;

    if ((rc = parse_json(json, len, &root)) != 0) {
        goto out;
    }
    rc = BW_EPARSE;
    if (!cJSON_IsArray(root)) {
        goto out;
    }
    cJSON_ArrayForEach(it, root)
    {
        const char *name = bw_json_str(it, "full_name");

        if (name == NULL || strchr(name, '/') == NULL) {
            rc = BW_EPARSE;
            goto out;
        }
        if (!cJSON_IsTrue(bw_json_get(it, "archived")) &&
            (rc = bw_strlist_add(out, name)) != 0) {
            goto out;
        }
    }
    rc = 0;
out:
    while (rc && out->n > n0) {
        bw_free(out->v[--out->n]);
    }
    cJSON_Delete(root);
    return rc;
}

/* ============================================================== collector */

#define OVERLAP 300    /* seconds re-read below the high-water mark */
#define PER_PAGE "100" /* the API's maximum */
#define PER_PAGE_N 100L
#define META_MAX (64 * 1024) /* an org page's stored repository names */
/* Pages one walk may read before the server's paging counts as a loop: a
 * million PRs in one repository, 100,000 timeline events of one PR, a
 * million repositories in one organisation. */
#define MAX_LIST_PAGES 10000
#define MAX_TIMELINE_PAGES 1000
#define MAX_ORG_PAGES 10000

enum walk_phase {
    PHASE_UPDATED, /* state=all, newest first, down to stop_at */
    PHASE_OPEN     /* no mark: open PRs updated before stop_at, oldest
                      first, up to stop_at */
};

struct gh_ctx {
    const struct bw_source_conf *src;
    const struct bw_github_opts *o;
    char *api; /* api_url without a trailing '/' */
};

struct gh_walk;

/* A changed PR of the list page in progress, while its timeline pages and
 * the single PR come in. */
struct gh_item {
    struct gh_walk *w;
    struct bw_pr pr;
    struct bw_http_pager tl; /* its timeline pages */
    int64_t listed_at;       /* updated_at as the list page had it */
    unsigned char have_pull, have_timeline, done, stored_before;
};

/* One repository's walk. */
struct gh_walk {
    struct gh_ctx *c;
    struct bw_sink *sink;
    const char *repo;
    int explicit_repo; /* listed in `repos`: a 404 is a config error */
    int phase;         /* enum walk_phase */
    int first_run;     /* no mark (or --full): old open PRs to list */
    int64_t mark;      /* the stored mark, BW_NOTIME when none */
    int64_t stop_at;   /* PRs updated before it were collected before */
    int64_t newest;    /* greatest updated_at listed: the next mark */
    char *url1;        /* the first list page of the updated walk */
    char *etag1;       /* its ETag, stored when the walk is complete */
    char *next;        /* the next list page, or NULL */
    int first_page;    /* the page in progress is url1 */
    int not_modified;  /* the first page answered 304 */
    int phase_end;     /* this phase needs no further page */
    int saw_old;       /* the updated walk stopped at stop_at */
    int not_found;     /* the repository answered 404 */
    int quota_stop;    /* min_quota_left reached */
    int dirty;         /* something to commit (records, mark, ETag) */
    struct bw_http_pager pager; /* the list pages of both phases */
    struct gh_item *items;
    size_t nitems, next_item, inflight, window;
};

static void items_release(struct gh_walk *w)
{
    for (size_t i = 0; i < w->nitems; i++) {
        bw_pr_release(&w->items[i].pr);
        bw_http_pager_release(&w->items[i].tl);
    }
    bw_free(w->items);
    w->items = NULL;
    w->nitems = w->next_item = w->inflight = 0;
}

static void walk_release(struct gh_walk *w)
{
    items_release(w);
    bw_http_pager_release(&w->pager);
    bw_free(w->url1);
    bw_free(w->etag1);
    bw_free(w->next);
}

static int quota_low(const struct gh_walk *w)
{
    const struct bw_http_stats *st = bw_http_stats(w->sink->http);
    long min = w->c->src->common.min_quota_left;

    return st != NULL && st->quota_remaining >= 0 && min > 0 &&
           st->quota_remaining < min;
}

static int bad_status(const struct gh_walk *w, const struct bw_http_resp *resp)
{
    char url[1024];

    bw_redact_url(resp->url, url, sizeof(url));
    BW_ERROR("[github:%s] GET %s answered HTTP %ld; check api_url and the "
             "repository",
             w->c->src->name, url, resp->status);
    return BW_EHTTP;
}

/*
 * The page at url links on to a page that would make the walk loop (or
 * never end): one error line (kept for `status`), and the walk stops
 * before anything of that page is stored.
 */
static int paging_stop(struct gh_ctx *c, struct bw_sink *sink, const char *url,
                       const char *why)
{
    char shown[1024];

    bw_redact_url(url, shown, sizeof(shown));
    bw_http_fail(sink->http,
                 "[github:%s] stopped paging GET %s: %s; nothing of that "
                 "page is stored; check api_url and the server",
                 c->src->name, shown, why);
    return BW_EHTTP;
}

/* ----------------------------------------------------------- PR fetches */

static int submit_items(struct gh_walk *w);

/* Both parts of a PR are in: emit it, free it, start the next one. */
static int item_done(struct gh_item *it)
{
    struct gh_walk *w = it->w;
    struct bw_record rec;
    int rc;

    if (!it->have_pull || !it->have_timeline || it->done) {
        return 0;
    }
    memset(&rec, 0, sizeof(rec));
    rec.kind = BW_REC_PR;
    rec.scope = w->repo;
    rec.u.pr = &it->pr;
    if ((rc = w->sink->emit(w->sink->ctx, &rec)) != 0) {
        return rc;
    }
    it->done = 1;
    w->dirty++;
    if (it->stored_before) {
        w->sink->stats.items_changed++;
    } else {
        w->sink->stats.items_new++;
    }
    w->inflight--;
    bw_pr_release(&it->pr);
    return submit_items(w);
}

/* A PR part's answer (rc as the fetch callback got it) parsed into it->pr:
 * 0, or what the callback returns instead (the failure, a bad status, a
 * retry of a body that does not parse). */
static int part_parse(struct gh_item *it, const struct bw_http_resp *resp,
                      int rc,
                      int (*parse)(const char *, size_t, struct bw_pr *))
{
    if (resp == NULL) {
        return rc < 0 ? rc : BW_EHTTP;
    }
    if (resp->status != 200) {
        return bad_status(it->w, resp);
    }
    rc = parse(resp->body.data, resp->body.len, &it->pr);
    return rc == BW_EPARSE ? BW_HTTP_RETRY : rc;
}

static int on_pull(void *user, const struct bw_http_req *req,
                   const struct bw_http_resp *resp, int rc)
{
    struct gh_item *it = user;

    (void)req;
    if ((rc = part_parse(it, resp, rc, bw_gh_parse_pull)) != 0) {
        return rc;
    }
    /* Keep the version the list showed: if the PR changed while its parts
       were fetched, the next run sees a newer one and fetches it again. */
    if (it->listed_at != BW_NOTIME && it->pr.updated_at > it->listed_at) {
        it->pr.updated_at = it->listed_at;
    }
    it->have_pull = 1;
    return item_done(it);
}

static int on_timeline(void *user, const struct bw_http_req *req,
                       const struct bw_http_resp *resp, int rc)
{
    struct gh_item *it = user;
    struct bw_http_req more;

    if ((rc = part_parse(it, resp, rc, bw_gh_parse_timeline)) != 0) {
        return rc;
    }
    if (resp->next != NULL) {
        char why[160];

        if ((rc = bw_http_pager_next(&it->tl, req->url, resp->next, why,
                                     sizeof(why))) != 0) {
            return rc == BW_EHTTP
                       ? paging_stop(it->w->c, it->w->sink, req->url, why)
                       : rc;
        }
        /* the PR's remaining pages are fetched whatever the quota: a PR
           is stored whole or not at all */
        memset(&more, 0, sizeof(more));
        more.url = resp->next;
        more.cb = on_timeline;
        more.user = it;
        return bw_http_submit(it->w->sink->http, &more);
    }
    it->have_timeline = 1;
    bw_http_pager_release(&it->tl);
    return item_done(it);
}

/* Start the timeline and single-PR fetches of the next PRs, keeping about
 * max_parallel PRs in flight, unless the quota is low or we must stop. */
static int submit_items(struct gh_walk *w)
{
    struct bw_http_req req;
    struct bw_buf url = BW_BUF_INIT;
    int rc = 0;

    while (rc == 0 && w->inflight < w->window && w->next_item < w->nitems) {
        struct gh_item *it = &w->items[w->next_item];

        if ((rc = w->sink->should_stop(w->sink->ctx)) != 0) {
            break;
        }
        if (quota_low(w)) {
            w->quota_stop = 1;
            break;
        }
        memset(&req, 0, sizeof(req));
        req.user = it;
        bw_buf_reset(&url);
        if ((rc = bw_buf_printf(&url,
                                "%s/repos/%s/issues/%ld/timeline"
                                "?per_page=" PER_PAGE,
                                w->c->api, w->repo, it->pr.number)) != 0) {
            break;
        }
        req.url = url.data;
        req.cb = on_timeline;
        if ((rc = bw_http_submit(w->sink->http, &req)) != 0) {
            break;
        }
        bw_buf_reset(&url);
        if ((rc = bw_buf_printf(&url, "%s/repos/%s/pulls/%ld", w->c->api,
                                w->repo, it->pr.number)) != 0) {
            break;
        }
        req.url = url.data;
        req.cb = on_pull;
        if ((rc = bw_http_submit(w->sink->http, &req)) != 0) {
            break;
        }
        w->next_item++;
        w->inflight++;
    }
    bw_buf_release(&url);
    return rc;
}

/* ----------------------------------------------------------- list pages */

/* What one list page found, applied to the walk only once it parsed. */
struct page_scan {
    struct gh_walk *w;
    struct gh_item *items;
    size_t n, cap;
    long listed;
    long total; /* PRs on the page, listed or not */
    int64_t newest;
    int saw_old, phase_end;
};

static int scan_add(struct page_scan *ps, const struct bw_pr *pr)
{
    struct gh_item *v;

    for (size_t i = 0; i < ps->n; i++) {
        if (ps->items[i].pr.number == pr->number) {
            return 0; /* listed twice on one page */
        }
    }
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 32;

        v = bw_realloc(ps->items, cap * sizeof(*v));
        if (v == NULL) {
            return BW_ENOMEM;
        }
        ps->items = v;
        ps->cap = cap;
    }
    v = &ps->items[ps->n];
    memset(v, 0, sizeof(*v));
    bw_pr_init(&v->pr);
    bw_http_pager_init(&v->tl, MAX_TIMELINE_PAGES);
    v->w = ps->w;
    v->pr.number = pr->number;
    v->pr.updated_at = v->listed_at = pr->updated_at;
    ps->n++;
    if ((v->pr.repo = bw_strdup(ps->w->repo)) == NULL) {
        return BW_ENOMEM;
    }
    return 0;
}

static int scan_pull(void *arg, const struct bw_pr *pr)
{
    struct page_scan *ps = arg;
    struct gh_walk *w = ps->w;

    ps->total++;
    if (w->phase == PHASE_UPDATED) {
        ps->listed++;
        if (ps->newest == BW_NOTIME || pr->updated_at > ps->newest) {
            ps->newest = pr->updated_at;
        }
        if (pr->updated_at < w->stop_at) {
            ps->saw_old = ps->phase_end = 1;
            return 0;
        }
    } else if (pr->updated_at >= w->stop_at) {
        ps->phase_end = 1; /* the updated walk listed it */
        return 0;
    } else if (!pr->open) {
        return 0;
    } else {
        ps->listed++;
    }
    return scan_add(ps, pr);
}

static void scan_release(struct page_scan *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        bw_pr_release(&ps->items[i].pr);
        bw_http_pager_release(&ps->items[i].tl);
    }
    bw_free(ps->items);
    memset(ps, 0, sizeof(*ps));
}

/* A stored version (updated_at as epoch seconds, or ISO 8601) equal to t? */
static int same_version(const char *v, int64_t t)
{
    int64_t x = 0;
    size_t i = 0;

    if (v == NULL || *v == '\0') {
        return 0;
    }
    for (; v[i] >= '0' && v[i] <= '9' && i < 18; i++) {
        x = x * 10 + (v[i] - '0');
    }
    if (v[i] == '\0') {
        return x == t;
    }
    return bw_parse_iso8601(v, strlen(v), &x) == 0 && x == t;
}

/* Keep only the PRs whose stored version differs (all of them on --full):
 * one item_versions() round trip per list page. */
static int drop_unchanged(struct gh_walk *w)
{
    struct bw_sink *sink = w->sink;
    char(*ids)[24] = NULL;
    const char **idp = NULL;
    char **ver = NULL;
    size_t n = w->nitems, kept = 0;
    int rc = BW_ENOMEM;

    if (n == 0) {
        return 0;
    }
    ids = bw_calloc(n, sizeof(*ids));
    idp = bw_calloc(n, sizeof(*idp));
    ver = bw_calloc(n, sizeof(*ver));
    if (ids == NULL || idp == NULL || ver == NULL) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof(ids[i]), "%ld", w->items[i].pr.number);
        idp[i] = ids[i];
    }
    if ((rc = sink->item_versions(sink->ctx, w->repo, idp, n, ver)) != 0) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!sink->full && same_version(ver[i], w->items[i].pr.updated_at)) {
            bw_pr_release(&w->items[i].pr);
            continue;
        }
        w->items[i].stored_before = ver[i] != NULL;
        w->items[kept++] = w->items[i];
    }
    w->nitems = kept;
    rc = 0;
out:
    for (size_t i = 0; ver && i < n; i++) {
        bw_free(ver[i]);
    }
    bw_free(ver);
    bw_free(idp);
    bw_free(ids);
    return rc;
}

static int page_ok(struct gh_walk *w, const struct bw_http_resp *resp,
                   struct page_scan *ps)
{
    int rc;

    w->items = ps->items;
    w->nitems = ps->n;
    ps->items = NULL;
    ps->n = 0;
    if (ps->newest != BW_NOTIME &&
        (w->newest == BW_NOTIME || ps->newest > w->newest)) {
        w->newest = ps->newest;
    }
    w->saw_old |= ps->saw_old;
    w->phase_end = ps->phase_end || resp->next == NULL;
    if (!w->phase_end && (w->next = bw_strdup(resp->next)) == NULL) {
        return BW_ENOMEM;
    }
    if (w->first_page && resp->etag &&
        (w->etag1 = bw_strdup(resp->etag)) == NULL) {
        return BW_ENOMEM;
    }
    if ((rc = drop_unchanged(w)) != 0) {
        return rc;
    }
    return submit_items(w);
}

/* Before a page's PRs are looked at: would following its next link make
 * the walk loop (a page it read already) or never end? */
static int page_next_ok(struct gh_walk *w, const char *url,
                        const struct bw_http_resp *resp,
                        const struct page_scan *ps)
{
    char why[160];
    int rc;

    if (ps->phase_end || resp->next == NULL) {
        return 0; /* the phase ends here: no next page to follow */
    }
    rc = bw_http_pager_next(&w->pager, url, resp->next, why, sizeof(why));
    return rc == BW_EHTTP ? paging_stop(w->c, w->sink, url, why) : rc;
}

/*
 * The progress line's "done/known" and ETA: on the first list page of a
 * walk with no mark (a backfill, --full), the `last` link's page number
 * times 100 (or, with no next page, the page's own count) is added to
 * items_known. It is an upper bound: it counts every PR of the repository,
 * those updated before `since` too, which the walk never lists; a walk
 * with a mark adds nothing (it lists only what changed, which no header
 * tells in advance).
 */
static void add_known(struct gh_walk *w, const struct bw_http_resp *resp,
                      const struct page_scan *ps)
{
    struct bw_collect_stats *st = &w->sink->stats;
    long n = -1;

    if (!w->first_page || !w->first_run || w->phase != PHASE_UPDATED) {
        return;
    }
    if (resp->last != NULL) {
        n = bw_progress_known_from_last(resp->last, PER_PAGE_N);
    } else if (resp->next == NULL) {
        n = ps->total;
    }
    if (n < 0) {
        return;
    }
    if (st->items_known < 0) {
        st->items_known = 0;
    }
    st->items_known += n;
}

static int on_list(void *user, const struct bw_http_req *req,
                   const struct bw_http_resp *resp, int rc)
{
    struct gh_walk *w = user;
    struct page_scan ps;

    if (resp == NULL) {
        return rc < 0 ? rc : BW_EHTTP;
    }
    if (resp->status == 304) {
        w->not_modified = 1;
        return 0;
    }
    if (resp->status == 404) {
        w->not_found = 1;
        return 0;
    }
    if (resp->status != 200) {
        return bad_status(w, resp);
    }
    if ((rc = w->sink->should_stop(w->sink->ctx)) != 0) {
        return rc;
    }
    memset(&ps, 0, sizeof(ps));
    ps.w = w;
    ps.newest = BW_NOTIME;
    rc = bw_gh_parse_pulls(resp->body.data, resp->body.len, scan_pull, &ps);
    if (rc == BW_EPARSE) {
        rc = BW_HTTP_RETRY; /* nothing of the page is kept */
    } else if (rc == 0 && (rc = page_next_ok(w, req->url, resp, &ps)) == 0) {
        w->sink->stats.items_seen += ps.listed;
        add_known(w, resp, &ps);
        rc = page_ok(w, resp, &ps);
    }
    scan_release(&ps);
    return rc;
}

/* ---------------------------------------------------------------- walk */

static int list_url(struct gh_walk *w, char **out)
{
    struct bw_buf b = BW_BUF_INIT;
    int rc;

    if (w->phase == PHASE_UPDATED) {
        rc = bw_buf_printf(&b,
                           "%s/repos/%s/pulls?state=all&sort=updated"
                           "&direction=desc&per_page=" PER_PAGE,
                           w->c->api, w->repo);
    } else {
        rc = bw_buf_printf(&b,
                           "%s/repos/%s/pulls?state=open&sort=updated"
                           "&direction=asc&per_page=" PER_PAGE,
                           w->c->api, w->repo);
    }
    if (rc == 0 && (*out = bw_buf_detach(&b)) == NULL) {
        rc = BW_ENOMEM;
    }
    bw_buf_release(&b);
    return rc;
}

/* The mark, stop_at and first list page of a repository. */
static int walk_start(struct gh_walk *w)
{
    struct bw_sink *sink = w->sink;
    char buf[64];
    int64_t mark = 0;
    size_t i = 0;
    int rc;

    w->mark = w->newest = BW_NOTIME;
    if (!sink->full) {
        if ((rc = sink->cursor_get(sink->ctx, w->repo, buf, sizeof(buf))) !=
            0) {
            return rc;
        }
        for (; buf[i] >= '0' && buf[i] <= '9' && i < 18; i++) {
            mark = mark * 10 + (buf[i] - '0');
        }
        if (i > 0 && buf[i] == '\0') {
            w->mark = mark;
        } else if (buf[0] != '\0') {
            BW_WARN(
                "[github:%s] ignoring the stored mark '%s' of '%s'; walking "
                "from since",
                w->c->src->name, buf, w->repo);
        }
    }
    bw_http_pager_init(&w->pager, MAX_LIST_PAGES);
    w->first_run = w->mark == BW_NOTIME;
    w->stop_at = sink->since;
    if (!w->first_run && w->mark - OVERLAP > w->stop_at) {
        w->stop_at = w->mark - OVERLAP;
    }
    w->phase = PHASE_UPDATED;
    w->window = w->c->src->common.max_parallel > 0
                    ? (size_t)w->c->src->common.max_parallel
                    : 1;
    return list_url(w, &w->url1);
}

/* Fetch one list page and every changed PR on it. */
static int list_page(struct gh_walk *w, const char *url, const char *inm)
{
    struct bw_http_req req;
    int rc;

    memset(&req, 0, sizeof(req));
    req.url = url;
    req.if_none_match = inm;
    req.cb = on_list;
    req.user = w;
    bw_free(w->next);
    w->next = NULL;
    w->phase_end = 0;
    rc = bw_http_submit(w->sink->http, &req);
    if (rc == 0) {
        rc = bw_http_run(w->sink->http);
    }
    items_release(w);
    return rc;
}

/* The walk is complete: the new mark and the first page's ETag go into the
 * last page's commit. */
static int walk_complete(struct gh_walk *w)
{
    struct bw_sink *sink = w->sink;
    char buf[32];
    int64_t mark = w->newest;
    int rc = 0;

    if (w->mark != BW_NOTIME && (mark == BW_NOTIME || w->mark > mark)) {
        mark = w->mark;
    }
    if (mark != BW_NOTIME) {
        snprintf(buf, sizeof(buf), "%lld", (long long)mark);
        rc = sink->cursor_set(sink->ctx, w->repo, buf);
    }
    if (rc == 0 && w->etag1 != NULL) {
        rc = sink->etag_put(sink->ctx, w->url1, w->etag1);
    }
    w->dirty++;
    return rc;
}

/* After a page: the next URL to list (NULL: the walk ends here). */
static int walk_next(struct gh_walk *w, char **url)
{
    *url = NULL;
    if (w->quota_stop) {
        return 0;
    }
    if (!w->phase_end && w->next != NULL) {
        *url = w->next;
        w->next = NULL;
        return 0;
    }
    if (w->phase == PHASE_UPDATED && w->first_run && w->saw_old) {
        w->phase = PHASE_OPEN;
        return list_url(w, url);
    }
    return walk_complete(w);
}

static int walk_loop(struct gh_walk *w)
{
    struct bw_sink *sink = w->sink;
    char etag[512];
    char *url = NULL;
    const char *inm = NULL;
    int rc = 0;

    etag[0] = '\0';
    if (!sink->full &&
        (rc = sink->etag_get(sink->ctx, w->url1, etag, sizeof(etag))) != 0) {
        return rc;
    }
    inm = etag[0] ? etag : NULL;
    if ((url = bw_strdup(w->url1)) == NULL) {
        return BW_ENOMEM;
    }
    w->first_page = 1;
    while (url != NULL) {
        if ((rc = sink->should_stop(sink->ctx)) != 0) {
            break;
        }
        if (quota_low(w)) {
            w->quota_stop = 1;
            break;
        }
        rc = list_page(w, url, inm);
        inm = NULL;
        w->first_page = 0;
        bw_free(url);
        url = NULL;
        if (rc || w->not_modified || w->not_found) {
            break;
        }
        if ((rc = walk_next(w, &url)) != 0) {
            break;
        }
        if (w->dirty && (rc = sink->commit_page(sink->ctx)) != 0) {
            break;
        }
        w->dirty = 0;
    }
    bw_free(url);
    return rc;
}

static int walk_repo(struct gh_ctx *c, struct bw_sink *sink, const char *repo,
                     int explicit_repo)
{
    struct gh_walk w;
    int rc;

    memset(&w, 0, sizeof(w));
    w.c = c;
    w.sink = sink;
    w.repo = repo;
    w.explicit_repo = explicit_repo;
    if ((rc = walk_start(&w)) == 0) {
        rc = walk_loop(&w);
    }
    if (rc == 0 && w.not_found) {
        if (explicit_repo) {
            BW_ERROR(
                "[github:%s] unknown repository '%s'; check repos (owner/name) "
                "and that the token can read it",
                c->src->name, repo);
            rc = BW_ECONFIG;
        } else {
            BW_WARN(
                "[github:%s] repository '%s' of org '%s' is gone; skipping it",
                c->src->name, repo, c->o->org);
        }
    }
    if (rc == 0 && w.quota_stop) {
        /* PRs emitted so far are whole: keep them; the mark stays */
        if (w.dirty) {
            rc = sink->commit_page(sink->ctx);
        }
        sink->stats.quota_stop = 1;
    }
    if (rc) {
        sink->discard_page(sink->ctx);
    }
    walk_release(&w);
    return rc;
}

/* ------------------------------------------------------- organisation */

/*
 * The org's repositories, page by page, each page asked with its ETag. A
 * 304 page is answered from what the source's meta keeps for that URL
 * ("NEXT-URL\nowner/a,owner/b,..."), since no response body is stored.
 */
static int org_page_meta(struct bw_sink *sink, const char *key,
                         struct bw_strlist *out, char **next)
{
    char *buf = bw_malloc(META_MAX);
    char *nl, *p;
    int rc = BW_ENOMEM;

    *next = NULL;
    if (buf == NULL) {
        return rc;
    }
    buf[0] = '\0';
    if ((rc = sink->meta_get(sink->ctx, key, buf, META_MAX)) != 0) {
        goto out;
    }
    rc = BW_ENOTFOUND;
    if ((nl = strchr(buf, '\n')) == NULL) {
        goto out;
    }
    *nl = '\0';
    rc = 0;
    if (buf[0] != '\0' && (*next = bw_strdup(buf)) == NULL) {
        rc = BW_ENOMEM;
    }
    for (p = nl + 1; rc == 0 && *p; p = nl) {
        nl = strchr(p, ',');
        nl = nl ? nl : p + strlen(p);
        if (*nl == ',') {
            *nl++ = '\0';
        }
        rc = *p ? bw_strlist_add(out, p) : 0;
    }
out:
    bw_free(buf);
    return rc;
}

static int org_page_store(struct bw_sink *sink, const char *key,
                          const char *url, const struct bw_http_resp *resp,
                          const struct bw_strlist *names, size_t from)
{
    struct bw_buf b = BW_BUF_INIT;
    int rc = bw_buf_adds(&b, resp->next ? resp->next : "");

    for (size_t i = from; rc == 0 && i < names->n; i++) {
        rc = bw_buf_printf(&b, "%s%s", i > from ? "," : "\n", names->v[i]);
    }
    if (rc == 0 && names->n == from) {
        rc = bw_buf_addch(&b, '\n');
    }
    if (rc == 0 && b.len < META_MAX) {
        rc = sink->meta_set(sink->ctx, key, b.data);
        if (rc == 0 && resp->etag) {
            rc = sink->etag_put(sink->ctx, url, resp->etag);
        }
    }
    bw_buf_release(&b);
    return rc;
}

/* The org page at url links on to next (NULL: the last page): would
 * following it loop? Checked before anything of the page is stored. */
static int org_next_ok(struct gh_ctx *c, struct bw_sink *sink,
                       struct bw_http_pager *pager, const char *url,
                       const char *next)
{
    char why[160];
    int rc = bw_http_pager_next(pager, url, next, why, sizeof(why));

    return rc == BW_EHTTP ? paging_stop(c, sink, url, why) : rc;
}

static int org_page(struct gh_ctx *c, struct bw_sink *sink, const char *url,
                    struct bw_http_pager *pager, struct bw_strlist *out,
                    char **next)
{
    struct bw_http_req req;
    struct bw_http_resp resp;
    struct bw_buf key = BW_BUF_INIT;
    char etag[512];
    size_t n0 = out->n;
    int rc;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    etag[0] = '\0';
    *next = NULL;
    if ((rc = bw_buf_printf(&key, "org:%s", url)) != 0 ||
        (!sink->full &&
         (rc = sink->etag_get(sink->ctx, url, etag, sizeof(etag))) != 0)) {
        goto out;
    }
    req.url = url;
    req.if_none_match = etag[0] ? etag : NULL;
    for (int tries = 0; tries < 3; tries++) {
        if ((rc = bw_http_fetch(sink->http, &req, &resp)) != 0) {
            goto out;
        }
        if (resp.status != 304 ||
            (rc = org_page_meta(sink, key.data, out, next)) != BW_ENOTFOUND) {
            break;
        }
        /* a 304 we hold no names for: ask again, unconditionally */
        bw_http_resp_release(&resp);
        req.if_none_match = NULL;
    }
    if (resp.status == 304) {
        rc = rc ? rc : org_next_ok(c, sink, pager, url, *next);
        goto out;
    }
    if (resp.status == 404) {
        BW_ERROR(
            "[github:%s] unknown organisation '%s'; check org and that the "
            "token can read it",
            c->src->name, c->o->org);
        rc = BW_ECONFIG;
        goto out;
    }
    if (resp.status != 200 ||
        bw_gh_parse_repos(resp.body.data, resp.body.len, out) != 0) {
        char shown[1024];

        bw_redact_url(url, shown, sizeof(shown));
        BW_ERROR(
            "[github:%s] cannot list repositories from '%s' (HTTP %ld); check "
            "org and api_url",
            c->src->name, shown, resp.status);
        rc = BW_EHTTP;
        goto out;
    }
    if ((rc = org_next_ok(c, sink, pager, url, resp.next)) != 0) {
        goto out;
    }
    if ((resp.next && (*next = bw_strdup(resp.next)) == NULL) ||
        (rc = org_page_store(sink, key.data, url, &resp, out, n0)) != 0) {
        rc = rc ? rc : BW_ENOMEM;
    }
out:
    bw_http_resp_release(&resp);
    bw_buf_release(&key);
    return rc;
}

static int org_repos(struct gh_ctx *c, struct bw_sink *sink,
                     struct bw_strlist *out)
{
    struct bw_buf first = BW_BUF_INIT;
    struct bw_http_pager pager;
    char *url = NULL, *next = NULL;
    int rc;

    bw_http_pager_init(&pager, MAX_ORG_PAGES);
    if ((rc = bw_buf_printf(&first, "%s/orgs/%s/repos?per_page=" PER_PAGE,
                            c->api, c->o->org)) != 0 ||
        (url = bw_buf_detach(&first)) == NULL) {
        rc = rc ? rc : BW_ENOMEM;
        goto out;
    }
    while (url != NULL) {
        if ((rc = sink->should_stop(sink->ctx)) != 0 ||
            (rc = org_page(c, sink, url, &pager, out, &next)) != 0) {
            goto out;
        }
        bw_free(url);
        url = next;
        next = NULL;
    }
    rc = sink->commit_page(sink->ctx);
out:
    bw_http_pager_release(&pager);
    bw_free(url);
    bw_free(next);
    bw_buf_release(&first);
    return rc;
}

/* ---------------------------------------------------------------- hooks */

static int same_repo(const struct bw_strlist *l, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(l->v[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

/* `repos`, then the org's repositories not already listed (the union). */
static int repo_list(struct gh_ctx *c, struct bw_sink *sink,
                     struct bw_strlist *out, size_t *nexplicit)
{
    struct bw_strlist org = {NULL, 0};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < c->o->repos.n; i++) {
        if (!same_repo(out, out->n, c->o->repos.v[i])) {
            rc = bw_strlist_add(out, c->o->repos.v[i]);
        }
    }
    *nexplicit = out->n;
    if (rc == 0 && c->o->org != NULL && *c->o->org != '\0') {
        rc = org_repos(c, sink, &org);
    }
    for (size_t i = 0; rc == 0 && i < org.n; i++) {
        if (!same_repo(out, out->n, org.v[i])) {
            rc = bw_strlist_add(out, org.v[i]);
        }
    }
    bw_strlist_release(&org);
    return rc;
}

static int gh_collect(void *ctx, struct bw_sink *sink)
{
    struct gh_ctx *c = ctx;
    struct bw_strlist repos = {NULL, 0};
    size_t nexplicit = 0;
    int rc, failed = 0;

    if ((rc = repo_list(c, sink, &repos, &nexplicit)) != 0) {
        goto out;
    }
    sink->stats.scopes_total = (long)repos.n;
    for (size_t i = 0; i < repos.n && !sink->stats.quota_stop; i++) {
        rc = walk_repo(c, sink, repos.v[i], i < nexplicit);
        if (rc == BW_ECONFIG) {
            failed = rc; /* an unknown repository: go on with the others */
            continue;
        }
        if (rc) {
            goto out;
        }
        if (!sink->stats.quota_stop) {
            sink->stats.scopes_done++;
        }
    }
    if (sink->stats.quota_stop) {
        const struct bw_http_stats *st = bw_http_stats(sink->http);

        BW_WARN("[github:%s] stopped with %ld requests of quota left "
                "(min_quota_left = %ld); the next run goes on from here",
                c->src->name, st ? st->quota_remaining : -1L,
                c->src->common.min_quota_left);
    }
    rc = failed;
out:
    bw_strlist_release(&repos);
    return rc;
}

static int gh_init(const struct bw_source_conf *src, void **ctx)
{
    struct gh_ctx *c = bw_calloc(1, sizeof(*c));
    const struct bw_github_opts *o = src->opts;
    size_t n;

    if (c == NULL) {
        return BW_ENOMEM;
    }
    c->src = src;
    c->o = o;
    c->api = bw_strdup(o->api_url ? o->api_url : "https://api.github.com");
    if (c->api == NULL) {
        bw_free(c);
        return BW_ENOMEM;
    }
    n = strlen(c->api);
    while (n > 0 && c->api[n - 1] == '/') {
        c->api[--n] = '\0';
    }
    *ctx = c;
    return 0;
}

static void gh_free(void *ctx)
{
    struct gh_ctx *c = ctx;

    if (c != NULL) {
        bw_free(c->api);
        bw_free(c);
    }
}

/* Does s hold only ASCII letters, digits and bytes of extra? */
static int name_chars_ok(const char *s, const char *extra)
{
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(extra, *s) != NULL)) {
            return 0;
        }
    }
    return 1;
}

static int repo_name_ok(const char *s)
{
    const char *slash = strchr(s, '/');

    if (slash == NULL || slash == s || slash[1] == '\0' ||
        strchr(slash + 1, '/') != NULL) {
        return 0;
    }
    return name_chars_ok(s, "-_./");
}

static int org_name_ok(const char *s)
{
    return *s != '\0' && name_chars_ok(s, "-_.");
}

static int gh_validate(const struct bw_source_conf *src)
{
    const struct bw_github_opts *o = src->opts;
    int rc = 0;

    for (size_t i = 0; i < o->repos.n; i++) {
        if (!repo_name_ok(o->repos.v[i])) {
            BW_ERROR("%s:%d: [source %s] repos: '%s' is not owner/name; "
                     "write e.g. acme/api",
                     src->file, src->line, src->name, o->repos.v[i]);
            rc = BW_ECONFIG;
        }
    }
    if (o->org != NULL && !org_name_ok(o->org)) {
        BW_ERROR("%s:%d: [source %s] org: '%s' is not an organisation "
                 "login; write e.g. acme",
                 src->file, src->line, src->name, o->org);
        rc = BW_ECONFIG;
    }
    return rc;
}

static int gh_http_opts(const struct bw_source_conf *src,
                        struct bw_http_opts *h)
{
    struct bw_github_opts *o = src->opts;
    const char *tok = o->token ? o->token : "";
    size_t n = strlen(tok);
    int len;

    while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' ||
                     tok[n - 1] == ' ' || tok[n - 1] == '\t')) {
        n--;
    }
    len = snprintf(o->auth, sizeof(o->auth), "Bearer %.*s", (int)n, tok);
    if (len < 0 || (size_t)len >= sizeof(o->auth) ||
        strpbrk(o->auth, "\r\n") != NULL) {
        BW_ERROR("%s:%d: [source %s] the token is not a single line of "
                 "under %zu bytes; check %s",
                 src->file, src->line, src->name, sizeof(o->auth) - 8,
                 o->token_src.env ? o->token_src.env : o->token_src.file);
        return BW_ECONFIG;
    }
    h->api = BW_API_GITHUB;
    h->origin = o->api_url ? o->api_url : "https://api.github.com";
    h->auth = o->auth;
    h->auth_source = o->token_src.env ? o->token_src.env : o->token_src.file;
    return 0;
}

static void gh_rules(const struct bw_source_conf *src, struct bw_pr_rules *pr,
                     struct bw_ticket_rules *ticket)
{
    const struct bw_github_opts *o = src->opts;

    (void)ticket;
    if (pr != NULL) {
        memset(pr, 0, sizeof(*pr));
        pr->exclude_users = &o->exclude_users;
        pr->exclude_labels = &o->exclude_labels;
        pr->exclude_base = &o->exclude_base;
        pr->include_bot_prs = o->include_bot_prs;
    }
}

/* GET /rate_limit: costs no quota and proves the token (a 401 is
 * BW_EAUTH). GitHub Enterprise without rate limits answers 404: fine. */
static int gh_check(void *ctx, struct bw_sink *sink)
{
    struct gh_ctx *c = ctx;
    struct bw_http_req req;
    struct bw_http_resp resp;
    struct bw_buf url = BW_BUF_INIT;
    int rc;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    if ((rc = bw_buf_printf(&url, "%s/rate_limit", c->api)) != 0) {
        goto out;
    }
    req.url = url.data;
    if ((rc = bw_http_fetch(sink->http, &req, &resp)) != 0) {
        goto out;
    }
    if (resp.status != 200 && resp.status != 404) {
        char shown[1024];

        bw_redact_url(url.data, shown, sizeof(shown));
        BW_ERROR("[github:%s] GET %s answered HTTP %ld; check api_url",
                 c->src->name, shown, resp.status);
        rc = BW_EHTTP;
    }
out:
    bw_http_resp_release(&resp);
    bw_buf_release(&url);
    return rc;
}

const struct bw_collector bw_collector_github = {
    BW_COLLECTOR_ABI,
    "github",
    "pull requests, reviews and timelines from GitHub's REST API",
    gh_keys,
    sizeof(struct bw_github_opts),
    gh_validate,
    gh_http_opts,
    gh_init,
    gh_collect,
    gh_rules,
    gh_check,
    gh_free};
