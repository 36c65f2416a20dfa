/*
 * jira.c - the Jira collector: tickets and their status history, Cloud and
 * Data Center (DESIGN.md "Collector plugins", METRICS.md "Tickets").
 *
 * A run first reads what the site is: the flavour (serverInfo, when
 * flavor = auto: deploymentType Cloud, else Data Center), the user's time
 * zone (/myself: JQL date literals are read in it), the status catalog
 * (/status, emitted as BW_REC_STATUSES so reindex maps stages without the
 * API) and the custom field ids (/field: "Story Points" and "Flagged" by
 * name unless configured). Then it searches, asking only the fields
 * METRICS.md needs with expand=changelog:
 *
 *   Cloud        GET /rest/api/3/search/jql, following nextPageToken
 *                (maxResults=100 asked, never assumed); the projects that
 *                share a mark are walked by one query.
 *   Data Center  GET /rest/api/2/search with startAt, one project at a
 *                time, paging by what came back; a walk that would reach
 *                past the 10,000-result window goes on in windows of
 *                `updated` (ORDER BY updated: the next window starts at
 *                the newest minute listed, skipping its keys seen).
 *
 * The JQL is `project in (...)` (or the configured jql in parentheses)
 * AND `updated >= "yyyy-MM-dd HH:mm"` in the user's zone, from the mark
 * minus 61 minutes; with no mark (the first run, --full) from `since`, plus
 * a second walk `updated < since AND statusCategory != Done`: work not done
 * is collected however old (two AND-only queries rather than one with OR).
 * Tickets whose stored version (updated) is unchanged are skipped.
 *
 * Changelogs: a ticket whose inline changelog is cut short (total >
 * histories) is held back. On Cloud the held tickets, batched across search
 * pages (100 at a time: a batch's commit is no bigger than a page's), are
 * completed by POST /rest/api/3/changelog/bulkfetch (fieldIds
 * status and Flagged, 2000 histories a page), or when that is refused
 * (403/404/405) by paging /rest/api/3/issue/{key}/changelog; on Data Center
 * by GET /rest/api/2/issue/{key}?expand=changelog, a ticket that stays
 * short being stored flagged incomplete with a warning. Each batch is
 * written whole, in its own MULTI/EXEC, and a scope's mark (the newest
 * updated listed) moves only after every batch, in the last commit.
 *
 * Paging is never trusted to end: a walk stops with an error (the source
 * fails, nothing of the offending page is stored) on a nextPageToken or a
 * bulkfetch token that comes back, a startAt that does not move on, an
 * empty page that says more follow, or more pages than any real walk has
 * (struct bw_http_pager; MAX_PAGES and friends below).
 *
 * The pure page parsers (bw_jira_parse_*) come first: JSON ->
 * struct bw_ticket, one pass per page, unit-tested and fuzzed. Search and
 * bulkfetch pages are walked issue by issue (walk_page()), so that the
 * collector's peak memory is one issue's cJSON tree, not a whole page's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/jira.h"
#include "bellwether/jsonutil.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"

#define O(f) offsetof(struct bw_jira_opts, f)

static const struct bw_config_key jira_keys[] = {
    {BW_KT_URL, "url", NULL, O(url), "Jira base URL", BW_KF_REQUIRED, 0},
    {BW_KT_STR, "flavor", "auto", O(flavor),
     "cloud | datacenter | auto (asks /rest/api/2/serverInfo)", 0, 0},
    {BW_KT_LIST, "projects", NULL, O(projects),
     "project keys (or jql; exactly one of the two)", BW_KF_ONEOF, 0},
    {BW_KT_STR, "jql", NULL, O(jql), "a JQL filter instead of projects",
     BW_KF_ONEOF, 0},
    {BW_KT_STR, "email", NULL, O(email),
     "Cloud basic-auth user; omit for a Data Center bearer token", 0, 0},
    {BW_KT_SECRET, "token", NULL, O(token),
     "token_env names a variable, token_file a file holding the token",
     BW_KF_REQUIRED, O(token_src)},
    {BW_KT_LIST, "blocked_statuses", "Blocked, On Hold", O(blocked_statuses),
     "statuses that are in progress and blocked", BW_KF_METRIC, 0},
    {BW_KT_LIST, "stage_todo", NULL, O(stage_todo),
     "statuses mapped to the todo stage", BW_KF_METRIC, 0},
    {BW_KT_LIST, "stage_in_progress", NULL, O(stage_in_progress),
     "statuses mapped to the in-progress stage", BW_KF_METRIC, 0},
    {BW_KT_LIST, "stage_done", NULL, O(stage_done),
     "statuses mapped to the done stage", BW_KF_METRIC, 0},
    {BW_KT_LIST, "exclude_types", "Epic", O(exclude_types),
     "issue types left out of every ticket metric", BW_KF_METRIC, 0},
    {BW_KT_LIST, "exclude_labels", NULL, O(exclude_labels),
     "tickets with any of these labels are left out", BW_KF_METRIC, 0},
    {BW_KT_STR, "story_points_field", NULL, O(story_points_field),
     "story points field id; found by name \"Story Points\" when absent", 0, 0},
    {BW_KT_STR, "flagged_field", NULL, O(flagged_field),
     "Flagged field id; found by name \"Flagged\" when absent", 0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};

/* ================================================================ parsers */

/* A string or a whole number as text (Jira ids come either way). */
static const char *get_id(const cJSON *o, const char *key, char *buf, size_t n)
{
    const cJSON *v = bw_json_get(o, key);

    if (cJSON_IsString(v)) {
        return v->valuestring;
    }
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9.0e15 &&
        v->valuedouble == (double)(long long)v->valuedouble) {
        snprintf(buf, n, "%lld", (long long)v->valuedouble);
        return buf;
    }
    return NULL;
}

/* A Jira date-time string or epoch milliseconds (bulkfetch) to seconds;
 * BW_EPARSE when absent or neither. */
static int get_when(const cJSON *o, const char *key, int64_t *out)
{
    const cJSON *v = bw_json_get(o, key);

    if (cJSON_IsString(v)) {
        return bw_parse_iso8601(v->valuestring, strlen(v->valuestring), out);
    }
    if (cJSON_IsNumber(v) && v->valuedouble > -9.0e15 &&
        v->valuedouble < 9.0e15) {
        int64_t ms = (int64_t)v->valuedouble;

        /* truncate toward minus infinity, as the ISO strings do */
        *out = ms >= 0 ? ms / 1000 : -((999 - ms) / 1000);
        return 0;
    }
    return BW_EPARSE;
}

static int parse_json(const char *json, size_t len, cJSON **root)
{
    const char *end = NULL;

    *root = NULL;
    if (json == NULL || len == 0) {
        return BW_EPARSE;
    }
    *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (*root == NULL) {
        /* cJSON says nothing about memory: an allocation that failed looks
           like bad input; the torture tests accept either */
        return BW_EPARSE;
    }
    return 0;
}

/*
 * A page walked member by member at its top level, so that only one value
 * at a time is a cJSON tree: each element of the page's big array (an
 * issue of a search page, an entry of a bulkfetch page) and each other
 * member. A search page of 100 issues with their changelogs is ~1.2 MB of
 * JSON and would be a ~5.8 MB tree at once: the collector's peak memory,
 * growing with the largest page a walk meets rather than staying flat.
 * Each value is still parsed by cJSON (its nesting limit included), so
 * what parses is exactly what a whole-page parse accepts, except that the
 * first of two members with the same key wins for the array too (as a
 * look-up in the whole tree would) and bytes after the object are ignored
 * (as parse_json does).
 */
struct page_walk {
    const char *array_key; /* the member whose elements are parsed one by
                              one */
    int (*element)(void *arg, const cJSON *elem);
    int (*member)(void *arg, const char *key, const cJSON *value);
    void *arg;
    int saw_key;   /* array_key was there (the first one counts) */
    int saw_array; /* and was an array: 1 about to walk it, 2 walked */
};

/* What cJSON skips between tokens: every byte up to ' '. */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (unsigned char)*p <= ' ') {
        p++;
    }
    return p;
}

/* Parse one JSON value at *p (whitespace before it skipped); NULL when
 * there is none (or no memory: cJSON tells the two apart no better). */
static cJSON *value_at(const char **p, const char *end)
{
    const char *e = NULL;
    cJSON *v;

    *p = skip_ws(*p, end);
    if (*p >= end) {
        return NULL;
    }
    v = cJSON_ParseWithLengthOpts(*p, (size_t)(end - *p), &e, 0);
    if (v != NULL) {
        *p = e;
    }
    return v;
}

/* The elements of the array at *p, one tree each. */
static int walk_array(struct page_walk *pw, const char **p, const char *end)
{
    int rc;

    *p = skip_ws(*p, end);
    if (*p >= end || **p != '[') {
        return BW_EPARSE;
    }
    *p = skip_ws(*p + 1, end);
    if (*p < end && **p == ']') {
        (*p)++;
        return 0;
    }
    for (;;) {
        cJSON *v = value_at(p, end);

        if (v == NULL) {
            return BW_EPARSE;
        }
        rc = pw->element(pw->arg, v);
        cJSON_Delete(v);
        if (rc) {
            return rc;
        }
        *p = skip_ws(*p, end);
        if (*p < end && **p == ',') {
            (*p)++;
            continue;
        }
        if (*p < end && **p == ']') {
            (*p)++;
            return 0;
        }
        return BW_EPARSE;
    }
}

static int walk_page(struct page_walk *pw, const char *json, size_t len)
{
    const char *end = json + len;
    const char *p = json;
    int rc;

    if (json == NULL || len == 0) {
        return BW_EPARSE;
    }
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3; /* a UTF-8 byte order mark, as cJSON skips it */
    }
    p = skip_ws(p, end);
    if (p >= end || *p != '{') {
        return BW_EPARSE;
    }
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        return 0;
    }
    for (;;) {
        cJSON *key = value_at(&p, end);
        cJSON *v;

        if (key == NULL || !cJSON_IsString(key)) {
            cJSON_Delete(key);
            return BW_EPARSE;
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ':') {
            cJSON_Delete(key);
            return BW_EPARSE;
        }
        p = skip_ws(p + 1, end);
        if (!pw->saw_key && strcmp(key->valuestring, pw->array_key) == 0) {
            pw->saw_key = 1;
            pw->saw_array = p < end && *p == '[';
        }
        if (pw->saw_array == 1) {
            pw->saw_array = 2;
            rc = walk_array(pw, &p, end);
        } else if ((v = value_at(&p, end)) == NULL) {
            rc = BW_EPARSE;
        } else {
            rc = pw->member(pw->arg, key->valuestring, v);
            cJSON_Delete(v);
        }
        cJSON_Delete(key);
        if (rc) {
            return rc;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        return p < end && *p == '}' ? 0 : BW_EPARSE;
    }
}

/* A history id: decimal text or a number; 0 when it is neither (the
 * order of such histories then rests on their times alone). */
static int64_t history_id(const cJSON *h)
{
    char buf[32];
    const char *s = get_id(h, "id", buf, sizeof(buf));
    int64_t v = 0;

    if (s == NULL) {
        return 0;
    }
    for (size_t i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 18) {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int nonempty(const cJSON *it, const char *key)
{
    const cJSON *v = bw_json_get(it, key);

    return cJSON_IsString(v) && v->valuestring[0] != '\0';
}

enum item_kind {
    ITEM_OTHER = 0,
    ITEM_STATUS,
    ITEM_FLAG
};

static int item_kind(const cJSON *it, const struct bw_jira_fieldmap *f)
{
    const char *fid = bw_json_str(it, "fieldId");
    const char *field = bw_json_str(it, "field");
    const char *ftype = bw_json_str(it, "fieldtype");

    if (fid != NULL) {
        if (strcmp(fid, "status") == 0) {
            return ITEM_STATUS;
        }
        return f && f->flagged && strcmp(fid, f->flagged) == 0 ? ITEM_FLAG
                                                               : ITEM_OTHER;
    }
    if (field == NULL) {
        return ITEM_OTHER;
    }
    if (strcmp(field, "status") == 0 &&
        (ftype == NULL || strcmp(ftype, "jira") == 0)) {
        return ITEM_STATUS;
    }
    if (f && f->flagged_name && strcmp(field, f->flagged_name) == 0 &&
        (ftype == NULL || strcmp(ftype, "jira") != 0)) {
        return ITEM_FLAG;
    }
    return ITEM_OTHER;
}

/* One history's status and Flagged items appended to t. */
static int history(const cJSON *h, const struct bw_jira_fieldmap *f,
                   struct bw_ticket *t)
{
    const cJSON *items = bw_json_get(h, "items");
    const cJSON *it;
    int64_t when;
    int64_t hid;
    int rc;

    if (!cJSON_IsObject(h) || get_when(h, "created", &when) != 0 ||
        (items != NULL && !cJSON_IsArray(items))) {
        return BW_EPARSE;
    }
    hid = history_id(h);
    cJSON_ArrayForEach(it, items)
    {
        int kind = item_kind(it, f);

        if (kind == ITEM_STATUS) {
            struct bw_ticket_tr tr;
            char b1[32], b2[32];

            memset(&tr, 0, sizeof(tr));
            tr.t = when;
            tr.hid = hid;
            tr.from_id = (char *)get_id(it, "from", b1, sizeof(b1));
            tr.from_name = (char *)bw_json_str(it, "fromString");
            tr.to_id = (char *)get_id(it, "to", b2, sizeof(b2));
            tr.to_name = (char *)bw_json_str(it, "toString");
            if ((rc = bw_ticket_add_tr(t, &tr)) != 0) {
                return rc;
            }
        } else if (kind == ITEM_FLAG) {
            struct bw_ticket_flag fl;

            memset(&fl, 0, sizeof(fl));
            fl.t = when;
            fl.hid = hid;
            fl.on = nonempty(it, "to") || nonempty(it, "toString");
            fl.from_set = nonempty(it, "from") || nonempty(it, "fromString");
            if ((rc = bw_ticket_add_flag(t, &fl)) != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* An array of histories appended to t; *count gets how many there were. */
static int histories(const cJSON *arr, const struct bw_jira_fieldmap *f,
                     struct bw_ticket *t, long *count)
{
    const cJSON *h;
    int rc;

    if (!cJSON_IsArray(arr)) {
        return BW_EPARSE;
    }
    *count = 0;
    cJSON_ArrayForEach(h, arr)
    {
        if ((rc = history(h, f, t)) != 0) {
            return rc;
        }
        (*count)++;
    }
    return 0;
}

static int str_list(const cJSON *arr, const char *key, struct bw_strlist *out)
{
    const cJSON *v;

    if (arr == NULL || cJSON_IsNull(arr)) {
        return 0;
    }
    if (!cJSON_IsArray(arr)) {
        return BW_EPARSE;
    }
    cJSON_ArrayForEach(v, arr)
    {
        const char *s = key ? bw_json_str(v, key)
                            : (cJSON_IsString(v) ? v->valuestring : NULL);

        if (s == NULL) {
            return BW_EPARSE;
        }
        if (bw_strlist_add(out, s) != 0) {
            return BW_ENOMEM;
        }
    }
    return 0;
}

/* A user object's id (Cloud accountId, else Data Center name, else key)
 * and display name; both NULL for a null user. */
static int user(const cJSON *u, char **id, char **name)
{
    const char *i;

    if (u == NULL || cJSON_IsNull(u)) {
        return 0;
    }
    if (!cJSON_IsObject(u)) {
        return BW_EPARSE;
    }
    i = bw_json_str(u, "accountId");
    i = i ? i : bw_json_str(u, "name");
    i = i ? i : bw_json_str(u, "key");
    if (bw_json_copy_str(id, i) ||
        bw_json_copy_str(name, bw_json_str(u, "displayName"))) {
        return BW_ENOMEM;
    }
    return 0;
}

/* The value of the Flagged field: set when it is a non-empty array (or
 * any other non-null, non-empty value). */
static int flag_value(const cJSON *v)
{
    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    if (cJSON_IsArray(v)) {
        return cJSON_GetArraySize(v) > 0;
    }
    if (cJSON_IsString(v)) {
        return v->valuestring[0] != '\0';
    }
    return 1;
}

static int ticket_fields(const cJSON *fl, const struct bw_jira_fieldmap *f,
                         struct bw_ticket *t)
{
    const cJSON *st = bw_json_get(fl, "status");
    const cJSON *v;
    char buf[32];
    int rc;

    if (!cJSON_IsObject(fl) || !cJSON_IsObject(st) ||
        get_when(fl, "created", &t->created_at) != 0) {
        return BW_EPARSE;
    }
    if (bw_json_get(fl, "updated") && get_when(fl, "updated", &t->updated_at)) {
        return BW_EPARSE;
    }
    if (t->updated_at == BW_NOTIME) {
        t->updated_at = t->created_at;
    }
    if (bw_json_copy_str(&t->status_id, get_id(st, "id", buf, sizeof(buf))) ||
        bw_json_copy_str(&t->status_name, bw_json_str(st, "name")) ||
        bw_json_copy_str(&t->summary, bw_json_str(fl, "summary")) ||
        bw_json_copy_str(&t->type,
                         bw_json_str(bw_json_get(fl, "issuetype"), "name")) ||
        bw_json_copy_str(&t->priority,
                         bw_json_str(bw_json_get(fl, "priority"), "name")) ||
        bw_json_copy_str(&t->parent,
                         bw_json_str(bw_json_get(fl, "parent"), "key"))) {
        return BW_ENOMEM;
    }
    if (t->status_id == NULL && t->status_name == NULL) {
        return BW_EPARSE;
    }
    if (bw_json_str(bw_json_get(fl, "project"), "key") != NULL &&
        bw_json_copy_str(&t->project,
                         bw_json_str(bw_json_get(fl, "project"), "key"))) {
        return BW_ENOMEM;
    }
    if ((rc = user(bw_json_get(fl, "assignee"), &t->assignee_id,
                   &t->assignee_name)) != 0 ||
        (rc = str_list(bw_json_get(fl, "labels"), NULL, &t->labels)) != 0 ||
        (rc = str_list(bw_json_get(fl, "components"), "name",
                       &t->components)) != 0) {
        return rc;
    }
    v = f && f->story_points ? bw_json_get(fl, f->story_points) : NULL;
    if (cJSON_IsNumber(v)) {
        t->story_points = v->valuedouble;
    }
    t->flagged_now =
        f && f->flagged ? flag_value(bw_json_get(fl, f->flagged)) : 0;
    return 0;
}

/* One issue object (a search page's element, or GET issue). */
static int issue(const cJSON *o, const char *base,
                 const struct bw_jira_fieldmap *f, struct bw_jira_issue *is)
{
    const char *key = bw_json_str(o, "key");
    const cJSON *cl = bw_json_get(o, "changelog");
    char buf[32];
    const char *dash;
    int rc;

    is->cl_total = -1;
    is->cl_count = 0;
    if (key == NULL || *key == '\0' ||
        get_id(o, "id", buf, sizeof(buf)) == NULL) {
        return BW_EPARSE;
    }
    if (bw_json_copy_str(&is->t.key, key) ||
        bw_json_copy_str(&is->t.id, get_id(o, "id", buf, sizeof(buf)))) {
        return BW_ENOMEM;
    }
    if ((rc = ticket_fields(bw_json_get(o, "fields"), f, &is->t)) != 0) {
        return rc;
    }
    if (is->t.project == NULL && (dash = strrchr(key, '-')) != NULL &&
        (is->t.project = bw_strndup(key, (size_t)(dash - key))) == NULL) {
        return BW_ENOMEM;
    }
    if (is->t.project == NULL) {
        return BW_EPARSE;
    }
    if (base != NULL) {
        struct bw_buf u = BW_BUF_INIT;

        if (bw_buf_printf(&u, "%s/browse/%s", base, key) ||
            (is->t.url = bw_buf_detach(&u)) == NULL) {
            bw_buf_release(&u);
            return BW_ENOMEM;
        }
    }
    if (cl != NULL && !cJSON_IsNull(cl)) {
        const cJSON *tot = bw_json_get(cl, "total");

        if ((rc = histories(bw_json_get(cl, "histories"), f, &is->t,
                            &is->cl_count)) != 0) {
            return rc;
        }
        is->cl_total = cJSON_IsNumber(tot) && tot->valuedouble >= 0 &&
                               tot->valuedouble < 1e15
                           ? (long)tot->valuedouble
                           : is->cl_count;
        if (cJSON_IsNumber(bw_json_get(cl, "startAt")) &&
            bw_json_get(cl, "startAt")->valuedouble > 0) {
            is->cl_total = is->cl_count + 1; /* not from the start: short */
        }
    }
    return 0;
}

int bw_jira_issue_complete(const struct bw_jira_issue *is)
{
    return is->cl_total < 0 || is->cl_count >= is->cl_total;
}

void bw_jira_search_init(struct bw_jira_search *s)
{
    memset(s, 0, sizeof(*s));
    s->start_at = s->max_results = s->total = -1;
}

void bw_jira_search_release(struct bw_jira_search *s)
{
    for (size_t i = 0; i < s->n; i++) {
        bw_ticket_release(&s->v[i].t);
    }
    bw_free(s->v);
    bw_free(s->next_token);
    bw_jira_search_init(s);
}

/* A count (a whole number below 10^15), or -1. */
static long count_of(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15
               ? (long)v->valuedouble
               : -1;
}

static long get_count(const cJSON *o, const char *key)
{
    return count_of(bw_json_get(o, key));
}

/* A search page's envelope and issues, as walk_page() hands them over. */
struct search_walk {
    struct bw_jira_search *out;
    const char *base;
    const struct bw_jira_fieldmap *f;
    char *token;
    long start_at, max_results, total;
    int is_last;   /* -1: no isLast */
    unsigned seen; /* envelope keys met (the first one counts) */
};

static int search_issue(void *arg, const cJSON *o)
{
    struct search_walk *sw = arg;
    struct bw_jira_search *out = sw->out;
    struct bw_jira_issue *is;

    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        struct bw_jira_issue *v = bw_realloc(out->v, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        out->v = v;
        out->cap = cap;
    }
    is = &out->v[out->n++];
    bw_ticket_init(&is->t);
    return issue(o, sw->base, sw->f, is);
}

static int search_member(void *arg, const char *key, const cJSON *v)
{
    static const char *const keys[] = {"nextPageToken", "startAt", "maxResults",
                                       "total", "isLast"};
    struct search_walk *sw = arg;
    unsigned i = 0;

    while (i < 5 && strcmp(key, keys[i]) != 0) {
        i++;
    }
    if (i == 5 || (sw->seen & (1u << i))) {
        return 0;
    }
    sw->seen |= 1u << i;
    switch (i) {
    case 0:
        if (cJSON_IsString(v) && *v->valuestring != '\0' &&
            (sw->token = bw_strdup(v->valuestring)) == NULL) {
            return BW_ENOMEM;
        }
        break;
    case 1:
        sw->start_at = count_of(v);
        break;
    case 2:
        sw->max_results = count_of(v);
        break;
    case 3:
        sw->total = count_of(v);
        break;
    default:
        sw->is_last = cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
        break;
    }
    return 0;
}

int bw_jira_parse_search(const char *json, size_t len, const char *base,
                         const struct bw_jira_fieldmap *f,
                         struct bw_jira_search *out)
{
    struct search_walk sw = {out, base, f, NULL, -1, -1, -1, -1, 0};
    struct page_walk pw = {"issues", search_issue, search_member, &sw, 0, 0};
    size_t n0 = out->n;
    int rc;

    if ((rc = walk_page(&pw, json, len)) != 0) {
        goto out;
    }
    rc = BW_EPARSE;
    if (!pw.saw_array) {
        goto out;
    }
    bw_free(out->next_token);
    out->next_token = sw.token;
    sw.token = NULL;
    out->start_at = sw.start_at;
    out->max_results = sw.max_results;
    out->total = sw.total;
    if (sw.is_last >= 0) {
        out->is_last = sw.is_last;
    } else if (out->next_token != NULL) {
        out->is_last = 0;
    } else if (out->total >= 0 && out->start_at >= 0) {
        out->is_last =
            (size_t)out->start_at + (out->n - n0) >= (size_t)out->total;
    } else {
        out->is_last = 1;
    }
    rc = 0;
out:
    if (rc) {
        while (out->n > n0) {
            bw_ticket_release(&out->v[--out->n].t);
        }
    }
    bw_free(sw.token);
    return rc;
}

int bw_jira_parse_issue(const char *json, size_t len, const char *base,
                        const struct bw_jira_fieldmap *f,
                        struct bw_jira_issue *out)
{
    cJSON *root = NULL;
    struct bw_jira_issue is;
    int rc;

    bw_ticket_init(&is.t);
    if ((rc = parse_json(json, len, &root)) == 0 &&
        (rc = issue(root, base, f, &is)) == 0) {
        bw_ticket_release(&out->t);
        *out = is;
        bw_ticket_init(&is.t);
    }
    bw_ticket_release(&is.t);
    cJSON_Delete(root);
    return rc;
}

int bw_jira_parse_changelog(const char *json, size_t len,
                            const struct bw_jira_fieldmap *f,
                            struct bw_ticket *t, int *is_last, long *next_start)
{
    cJSON *root = NULL;
    size_t n0 = t->ntrs, f0 = t->nflags;
    const cJSON *last;
    long count = 0, start, total;
    int rc;

    if ((rc = parse_json(json, len, &root)) != 0) {
        goto out;
    }
    if ((rc = histories(bw_json_get(root, "values"), f, t, &count)) != 0) {
        goto out;
    }
    start = get_count(root, "startAt");
    start = start < 0 ? 0 : start;
    total = get_count(root, "total");
    last = bw_json_get(root, "isLast");
    *next_start = start + count;
    if (cJSON_IsBool(last)) {
        *is_last = cJSON_IsTrue(last);
    } else {
        *is_last = count == 0 || (total >= 0 && start + count >= total);
    }
    rc = 0;
out:
    if (rc) {
        bw_ticket_truncate_history(t, n0, f0);
    }
    cJSON_Delete(root);
    return rc;
}

/* A bulkfetch page's entries, as walk_page() hands them over. */
struct bulk_walk {
    const struct bw_jira_fieldmap *f;
    struct bw_ticket *h; /* one per entry: its id and histories */
    size_t n, cap;
    char *token;
    int seen_token;
};

static int bulk_entry(void *arg, const cJSON *o)
{
    struct bulk_walk *bw = arg;
    struct bw_ticket *h;
    char buf[32];
    const char *id = get_id(o, "issueId", buf, sizeof(buf));
    long count;

    if (id == NULL) {
        return BW_EPARSE;
    }
    if (bw->n == bw->cap) {
        size_t cap = bw->cap ? bw->cap * 2 : 16;
        struct bw_ticket *v = bw_realloc(bw->h, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        bw->h = v;
        bw->cap = cap;
    }
    h = &bw->h[bw->n++];
    bw_ticket_init(h);
    if (bw_json_copy_str(&h->id, id) != 0) {
        return BW_ENOMEM;
    }
    return histories(bw_json_get(o, "changeHistories"), bw->f, h, &count);
}

static int bulk_member(void *arg, const char *key, const cJSON *v)
{
    struct bulk_walk *bw = arg;

    if (bw->seen_token || strcmp(key, "nextPageToken") != 0) {
        return 0;
    }
    bw->seen_token = 1;
    if (cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsString(v)) {
        return BW_EPARSE;
    }
    if (*v->valuestring != '\0' &&
        (bw->token = bw_strdup(v->valuestring)) == NULL) {
        return BW_ENOMEM;
    }
    return 0;
}

int bw_jira_parse_bulkfetch(const char *json, size_t len,
                            const struct bw_jira_fieldmap *f,
                            bw_jira_hist_cb cb, void *arg, char **next_token)
{
    struct bulk_walk bw = {f, NULL, 0, 0, NULL, 0};
    struct page_walk pw = {
        "issueChangeLogs", bulk_entry, bulk_member, &bw, 0, 0};
    int rc;

    if ((rc = walk_page(&pw, json, len)) != 0) {
        goto out;
    }
    rc = BW_EPARSE;
    if (!pw.saw_array) {
        goto out;
    }
    for (size_t k = 0; k < bw.n; k++) {
        if ((rc = cb(arg, bw.h[k].id, &bw.h[k])) != 0) {
            goto out;
        }
    }
    *next_token = bw.token;
    bw.token = NULL;
    rc = 0;
out:
    for (size_t k = 0; k < bw.n; k++) {
        bw_ticket_release(&bw.h[k]);
    }
    bw_free(bw.h);
    bw_free(bw.token);
    return rc;
}

int bw_jira_parse_server_info(const char *json, size_t len, int *cloud)
{
    cJSON *root = NULL;
    const char *dt;
    int rc;

    if ((rc = parse_json(json, len, &root)) == 0) {
        if (!cJSON_IsObject(root)) {
            rc = BW_EPARSE;
        } else {
            dt = bw_json_str(root, "deploymentType");
            *cloud = dt != NULL && strcmp(dt, "Cloud") == 0;
        }
    }
    cJSON_Delete(root);
    return rc;
}

int bw_jira_parse_myself(const char *json, size_t len, char **tz)
{
    cJSON *root = NULL;
    const char *z;
    int rc;

    if ((rc = parse_json(json, len, &root)) == 0) {
        if (!cJSON_IsObject(root)) {
            rc = BW_EPARSE;
        } else {
            z = bw_json_str(root, "timeZone");
            *tz = NULL;
            if (z != NULL && *z != '\0' && (*tz = bw_strdup(z)) == NULL) {
                rc = BW_ENOMEM;
            }
        }
    }
    cJSON_Delete(root);
    return rc;
}

void bw_jira_statuses_free(struct bw_status_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        bw_free(v[i].id);
        bw_free(v[i].name);
        bw_free(v[i].category);
    }
    bw_free(v);
}

int bw_jira_parse_statuses(const char *json, size_t len,
                           struct bw_status_info **v, size_t *n)
{
    cJSON *root = NULL;
    const cJSON *o;
    struct bw_status_info *out = NULL;
    size_t k = 0;
    int rc;

    if ((rc = parse_json(json, len, &root)) != 0) {
        goto out;
    }
    rc = BW_EPARSE;
    if (!cJSON_IsArray(root)) {
        goto out;
    }
    out = bw_calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(*out));
    if (out == NULL) {
        rc = BW_ENOMEM;
        goto out;
    }
    cJSON_ArrayForEach(o, root)
    {
        char buf[32];
        const char *id = get_id(o, "id", buf, sizeof(buf));
        const char *name = bw_json_str(o, "name");
        const char *cat = bw_json_str(bw_json_get(o, "statusCategory"), "key");
        size_t j = 0;

        if (id == NULL || name == NULL) {
            rc = BW_EPARSE;
            goto out;
        }
        while (j < k && strcmp(out[j].id, id) != 0) {
            j++;
        }
        if (j < k) {
            continue; /* Cloud lists a shared status once per project */
        }
        out[k].id = bw_strdup(id);
        out[k].name = bw_strdup(name);
        out[k].category = bw_strdup(cat ? cat : "undefined");
        k++;
        if (!out[k - 1].id || !out[k - 1].name || !out[k - 1].category) {
            rc = BW_ENOMEM;
            goto out;
        }
    }
    *v = out;
    *n = k;
    out = NULL;
    rc = 0;
out:
    bw_jira_statuses_free(out, k);
    cJSON_Delete(root);
    return rc;
}

void bw_jira_fieldmap_release(struct bw_jira_fieldmap *f)
{
    bw_free(f->story_points);
    bw_free(f->flagged);
    bw_free(f->flagged_name);
    memset(f, 0, sizeof(*f));
}

int bw_jira_parse_fields(const char *json, size_t len, const char *story_points,
                         const char *flagged, struct bw_jira_fieldmap *out)
{
    struct bw_jira_fieldmap m;
    cJSON *root = NULL;
    const cJSON *o;
    const char *sp = story_points, *fl = flagged, *fl_name = NULL;
    int rc;

    memset(&m, 0, sizeof(m));
    if ((rc = parse_json(json, len, &root)) != 0) {
        goto out;
    }
    rc = BW_EPARSE;
    if (!cJSON_IsArray(root)) {
        goto out;
    }
    cJSON_ArrayForEach(o, root)
    {
        const char *id = bw_json_str(o, "id");
        const char *name = bw_json_str(o, "name");

        if (id == NULL || name == NULL) {
            continue;
        }
        if (story_points == NULL && sp == NULL &&
            strcmp(name, "Story Points") == 0) {
            sp = id;
        }
        if (flagged == NULL && fl == NULL && strcmp(name, "Flagged") == 0) {
            fl = id;
        }
        if (fl != NULL && fl_name == NULL && strcmp(id, fl) == 0) {
            fl_name = name;
        }
    }
    if (fl != NULL && fl_name == NULL) {
        fl_name = "Flagged";
    }
    rc = BW_ENOMEM;
    if (bw_json_copy_str(&m.story_points, sp) ||
        bw_json_copy_str(&m.flagged, fl) ||
        bw_json_copy_str(&m.flagged_name, fl_name)) {
        goto out;
    }
    bw_jira_fieldmap_release(out);
    *out = m;
    memset(&m, 0, sizeof(m));
    rc = 0;
out:
    bw_jira_fieldmap_release(&m);
    cJSON_Delete(root);
    return rc;
}

/* s into out with control characters as blanks. */
static int add_clean(struct bw_buf *out, const char *s)
{
    int rc = 0;

    for (; rc == 0 && *s; s++) {
        unsigned char c = (unsigned char)*s;

        rc = bw_buf_addch(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
    return rc;
}

int bw_jira_parse_errors(const char *json, size_t len, struct bw_buf *out)
{
    cJSON *root = NULL;
    const cJSON *msgs, *errs, *v;
    size_t start = out->len;
    int n = 0;
    int rc;

    if ((rc = parse_json(json, len, &root)) != 0) {
        goto out;
    }
    msgs = bw_json_get(root, "errorMessages");
    errs = bw_json_get(root, "errors");
    rc = BW_EPARSE;
    if (!cJSON_IsArray(msgs) && !cJSON_IsObject(errs)) {
        goto out;
    }
    rc = 0;
    msgs = cJSON_IsArray(msgs) ? msgs : NULL;
    errs = cJSON_IsObject(errs) ? errs : NULL;
    cJSON_ArrayForEach(v, msgs)
    {
        if (cJSON_IsString(v) && rc == 0) {
            rc = (n++ ? bw_buf_adds(out, "; ") : 0) ||
                         add_clean(out, v->valuestring)
                     ? BW_ENOMEM
                     : 0;
        }
    }
    cJSON_ArrayForEach(v, errs)
    {
        if (cJSON_IsString(v) && v->string && rc == 0) {
            rc = (n++ ? bw_buf_adds(out, "; ") : 0) ||
                         add_clean(out, v->string) || bw_buf_adds(out, ": ") ||
                         add_clean(out, v->valuestring)
                     ? BW_ENOMEM
                     : 0;
        }
    }
out:
    if (rc && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    cJSON_Delete(root);
    return rc;
}

/* ============================================================== collector */

#define OVERLAP 3660    /* 61 minutes: a fall-back hour repeats minutes */
#define PAGE_SIZE 100   /* asked per search page; fewer may come */
#define DC_WINDOW 10000 /* Data Center's max_result_window */
/* Tickets completed per bulkfetch batch: no more than a search page holds,
 * so that a batch's commit is no bigger than a page's (the peak memory of
 * a long walk stays that of one page, as in a short one). */
#define BULK_BATCH PAGE_SIZE
#define BULK_PAGE 2000 /* histories asked per bulkfetch page */
#define CL_PAGE 100    /* histories per changelog page (fallback) */
/* Pages one walk may read: past this the server is paging in a loop (a
 * search of 10 million tickets, or 20 million histories for one batch). */
#define MAX_PAGES 100000
#define MAX_BULK_PAGES 1000 /* bulkfetch pages of one batch */
#define MAX_CL_PAGES 1000   /* changelog pages of one ticket */
#define WARN_MAX 10         /* per-ticket warnings before a summary */
#define ORDER " ORDER BY updated ASC, key ASC"

struct jira_ctx {
    const struct bw_source_conf *src;
    const struct bw_jira_opts *o;
    char *base; /* url without a trailing '/' */
    int cloud;  /* the flavour in use */
    char *tz;   /* the Jira user's zone; NULL: UTC */
    char *jql;  /* the configured jql without its ORDER BY, or NULL */
    struct bw_jira_fieldmap fm;
    struct bw_status_info *cat;
    size_t ncat;
    struct bw_ticket_rules rules; /* to warn about unknown statuses */
    char *fields;                 /* the search's fields parameter */
    long window;                  /* Data Center result window */
    int bulk_refused;             /* bulkfetch answered 403/404/405 */
    struct bw_strlist warned;     /* unknown status ids warned about */
    long incomplete;              /* tickets stored with a short history */
};

/* ------------------------------------------------------------ requests */

typedef int (*parse_fn)(void *arg, const char *json, size_t len);

/* One request's outcome, for callers that look at more than success. */
struct call {
    struct jira_ctx *c;
    parse_fn parse;
    void *arg;
    int soft;          /* a failed request (resp NULL) is reported, not
                           fatal: the caller looks at failed */
    long status;       /* HTTP status, 0 when it failed for good */
    int failed;        /* the BW_E* status of a request that failed */
    struct bw_buf why; /* Jira's errorMessages of a non-200 answer */
};

static int on_call(void *user, const struct bw_http_req *req,
                   const struct bw_http_resp *resp, int rc)
{
    struct call *k = user;

    (void)req;
    if (resp == NULL) {
        k->failed = rc < 0 ? rc : BW_EHTTP;
        return k->soft ? 0 : k->failed;
    }
    k->status = resp->status;
    if (resp->status == 200) {
        rc = k->parse(k->arg, resp->body.data, resp->body.len);
        return rc == BW_EPARSE ? BW_HTTP_RETRY : rc;
    }
    bw_buf_reset(&k->why);
    rc = bw_jira_parse_errors(resp->body.data, resp->body.len, &k->why);
    return rc == BW_ENOMEM ? rc : 0;
}

static void call_init(struct call *k, struct jira_ctx *c, parse_fn parse,
                      void *arg)
{
    memset(k, 0, sizeof(*k));
    k->c = c;
    k->parse = parse;
    k->arg = arg;
}

/* One request, waited for. 0 with k->status set (200 or another answer
 * the caller judges), or the failure. */
static int call_run(struct call *k, struct bw_sink *sink, const char *method,
                    const char *url, const char *body)
{
    struct bw_http_req req;
    int rc;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.body = body;
    req.cb = on_call;
    req.user = k;
    k->status = 0;
    k->failed = 0;
    if ((rc = sink->should_stop(sink->ctx)) != 0) {
        return rc;
    }
    rc = bw_http_submit(sink->http, &req);
    if (rc == 0) {
        rc = bw_http_run(sink->http);
    }
    if (rc == 0 && k->failed && !k->soft) {
        rc = k->failed;
    }
    return rc;
}

/* A non-200 answer as one error line; the status it maps to. */
static int bad_answer(struct jira_ctx *c, const struct call *k,
                      const char *method, const char *url)
{
    char shown[1024];
    const char *why = k->why.len ? k->why.data : "no error message";

    /* the path is enough: the query (JQL, fields) would drown the line */
    bw_redact_url(url, shown, sizeof(shown));
    shown[strcspn(shown, "?")] = '\0';
    if (k->status == 400) {
        BW_ERROR("[%s] Jira refused %s %s (HTTP 400): %s; check projects "
                 "or jql of [source %s]",
                 c->src->name, method, shown, why, c->src->name);
        return BW_ECONFIG;
    }
    if (k->status == 410) {
        BW_ERROR("[%s] %s %s is gone (HTTP 410): %s; this is Jira Cloud: "
                 "set flavor = cloud (or auto)",
                 c->src->name, method, shown, why);
        return BW_ECONFIG;
    }
    if (k->status == 404) {
        BW_ERROR("[%s] %s %s answered HTTP 404: %s; check url (and "
                 "flavor: Data Center has no /rest/api/3)",
                 c->src->name, method, shown, why);
        return BW_ECONFIG;
    }
    BW_ERROR("[%s] %s %s answered HTTP %ld: %s; check url and the Jira "
             "server",
             c->src->name, method, shown, k->status, why);
    return BW_EHTTP;
}

/*
 * A walk that would not end: a page token or startAt that repeats, an
 * empty page that says more follow, more pages than any real walk. One
 * error line (kept for `status`); the walk stops before anything of that
 * page is stored and the source fails.
 */
static int paging_stop(struct jira_ctx *c, struct bw_sink *sink,
                       const char *method, const char *url, const char *why)
{
    char shown[1024];

    bw_redact_url(url, shown, sizeof(shown));
    shown[strcspn(shown, "?")] = '\0';
    bw_http_fail(sink->http,
                 "[%s] stopped paging %s %s: %s; nothing of that page is "
                 "stored; check url and the Jira server",
                 c->src->name, method, shown, why);
    return BW_EHTTP;
}

/* GET base + path, parsed by parse; any answer but 200 is an error. */
static int get_json(struct jira_ctx *c, struct bw_sink *sink, const char *path,
                    parse_fn parse, void *arg)
{
    struct bw_buf url = BW_BUF_INIT;
    struct call k;
    int rc;

    call_init(&k, c, parse, arg);
    if ((rc = bw_buf_printf(&url, "%s%s", c->base, path)) != 0) {
        goto out;
    }
    rc = call_run(&k, sink, NULL, url.data, NULL);
    if (rc == 0 && k.status != 200) {
        rc = bad_answer(c, &k, "GET", url.data);
    }
out:
    bw_buf_release(&k.why);
    bw_buf_release(&url);
    return rc;
}

/* ------------------------------------------------------------- set-up */

static int p_server_info(void *arg, const char *json, size_t len)
{
    return bw_jira_parse_server_info(json, len, arg);
}

static int p_myself(void *arg, const char *json, size_t len)
{
    struct jira_ctx *c = arg;
    char *tz = NULL;
    int rc = bw_jira_parse_myself(json, len, &tz);

    if (rc == 0) {
        bw_free(c->tz);
        c->tz = tz;
    }
    return rc;
}

static int p_statuses(void *arg, const char *json, size_t len)
{
    struct jira_ctx *c = arg;
    struct bw_status_info *v = NULL;
    size_t n = 0;
    int rc = bw_jira_parse_statuses(json, len, &v, &n);

    if (rc == 0) {
        bw_jira_statuses_free(c->cat, c->ncat);
        c->cat = v;
        c->ncat = n;
    }
    return rc;
}

static int p_fields(void *arg, const char *json, size_t len)
{
    struct jira_ctx *c = arg;

    return bw_jira_parse_fields(json, len, c->o->story_points_field,
                                c->o->flagged_field, &c->fm);
}

/* The fields parameter of every search: only what METRICS.md needs. */
static int fields_param(struct jira_ctx *c)
{
    struct bw_buf b = BW_BUF_INIT;
    int rc = bw_buf_adds(&b, "summary,status,issuetype,priority,assignee,"
                             "labels,components,parent,project,created,"
                             "updated");

    if (rc == 0 && c->fm.story_points) {
        rc = bw_buf_printf(&b, ",%s", c->fm.story_points);
    }
    if (rc == 0 && c->fm.flagged) {
        rc = bw_buf_printf(&b, ",%s", c->fm.flagged);
    }
    bw_free(c->fields);
    c->fields = NULL;
    if (rc == 0 && (c->fields = bw_buf_detach(&b)) == NULL) {
        rc = BW_ENOMEM;
    }
    bw_buf_release(&b);
    return rc;
}

static int setup(struct jira_ctx *c, struct bw_sink *sink)
{
    const char *flavor = c->o->flavor ? c->o->flavor : "auto";
    struct bw_record rec;
    int rc;

    if (strcmp(flavor, "auto") == 0) {
        if ((rc = get_json(c, sink, "/rest/api/2/serverInfo", p_server_info,
                           &c->cloud)) != 0) {
            return rc;
        }
    } else {
        c->cloud = strcmp(flavor, "cloud") == 0;
    }
    if ((rc = get_json(c, sink, "/rest/api/2/myself", p_myself, c)) != 0) {
        return rc;
    }
    if (c->tz != NULL && !bw_tz_valid(c->tz)) {
        BW_WARN("[%s] the Jira user's time zone '%s' is unknown here; "
                "reading JQL dates as UTC (install tzdata)",
                c->src->name, c->tz);
        bw_free(c->tz);
        c->tz = NULL;
    } else if (c->tz == NULL) {
        BW_WARN("[%s] /rest/api/2/myself gives no time zone; reading JQL "
                "dates as UTC (set one in the Jira user's profile)",
                c->src->name);
    }
    if ((rc = get_json(c, sink, "/rest/api/2/status", p_statuses, c)) != 0 ||
        (rc = get_json(c, sink, "/rest/api/2/field", p_fields, c)) != 0 ||
        (rc = fields_param(c)) != 0) {
        return rc;
    }
    if (c->fm.flagged == NULL) {
        BW_WARN("[%s] this Jira has no field named 'Flagged'; flags are not "
                "collected (set flagged_field to its id)",
                c->src->name);
    }
    c->rules.statuses = c->cat;
    c->rules.nstatuses = c->ncat;
    memset(&rec, 0, sizeof(rec));
    rec.kind = BW_REC_STATUSES;
    rec.u.statuses.v = c->cat;
    rec.u.statuses.n = c->ncat;
    if ((rc = sink->emit(sink->ctx, &rec)) != 0) {
        return rc;
    }
    return sink->commit_page(sink->ctx);
}

/* ---------------------------------------------------------------- walk */

/* A ticket waiting for the rest of its changelog. */
struct pend {
    struct bw_ticket t;
    struct jira_ctx *c;
    long have;  /* histories in hand (Data Center) */
    long total; /* changelog.total */
    long next;  /* next changelog startAt (Cloud fallback) */
    long pages;
    struct call k;
    struct bw_jira_issue is; /* Data Center: the refetched issue */
};

struct walk {
    struct jira_ctx *c;
    struct bw_sink *sink;
    int64_t newest; /* greatest updated listed: the next mark */
    struct bw_jira_search page;
    struct pend *pend;
    size_t npend, cap;
    int quota_stop;
    /* Data Center windows: keys listed in the newest minute so far */
    int64_t edge;
    struct bw_strlist edge_keys;
};

static void pend_release(struct walk *w)
{
    for (size_t i = 0; i < w->npend; i++) {
        bw_ticket_release(&w->pend[i].t);
        bw_ticket_release(&w->pend[i].is.t);
        bw_buf_release(&w->pend[i].k.why);
    }
    w->npend = 0;
}

static int quota_low(const struct walk *w)
{
    const struct bw_http_stats *st = bw_http_stats(w->sink->http);
    long min = w->c->src->common.min_quota_left;

    return st != NULL && st->quota_remaining >= 0 && min > 0 &&
           st->quota_remaining < min;
}

/*
 * Say once per run and status id that a status is not in the catalog (it
 * counts as todo). A status deleted from the workflow stays in old
 * histories for good, so this is no news after the first run: it goes at
 * info level (-v), not to a cron job's mail on every run.
 */
static int warn_unknown(struct jira_ctx *c, const struct bw_ticket *t,
                        const char *id, const char *name)
{
    int unknown = 0;

    bw_ticket_stage(&c->rules, id, name, NULL, &unknown);
    if (!unknown || id == NULL || bw_strlist_has(&c->warned, id)) {
        return 0;
    }
    BW_INFO("[%s] status '%s' (id %s) of '%s' is not in /rest/api/2/status "
            "(deleted?); it counts as todo (map it with stage_*)",
            c->src->name, name ? name : "", id, t->key);
    return bw_strlist_add(&c->warned, id);
}

static int check_statuses(struct jira_ctx *c, const struct bw_ticket *t)
{
    int rc = warn_unknown(c, t, t->status_id, t->status_name);

    for (size_t i = 0; rc == 0 && i < t->ntrs; i++) {
        rc = warn_unknown(c, t, t->trs[i].from_id, t->trs[i].from_name);
        if (rc == 0) {
            rc = warn_unknown(c, t, t->trs[i].to_id, t->trs[i].to_name);
        }
    }
    return rc;
}

static int emit_ticket(struct walk *w, const struct bw_ticket *t)
{
    struct bw_record rec;
    int rc;

    if ((rc = check_statuses(w->c, t)) != 0) {
        return rc;
    }
    memset(&rec, 0, sizeof(rec));
    rec.kind = BW_REC_TICKET;
    rec.scope = t->project;
    rec.u.ticket = t;
    return w->sink->emit(w->sink->ctx, &rec);
}

/* A stored version (updated_at as epoch seconds) equal to t? */
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
    return v[i] == '\0' && x == t;
}

static int pend_add(struct walk *w, struct bw_jira_issue *is)
{
    struct pend *p;

    if (w->npend == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct pend *v = bw_realloc(w->pend, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        w->pend = v;
        w->cap = cap;
    }
    p = &w->pend[w->npend++];
    memset(p, 0, sizeof(*p));
    p->c = w->c;
    p->t = is->t;
    bw_ticket_init(&is->t);
    bw_ticket_init(&p->is.t);
    p->have = is->cl_count;
    p->total = is->cl_total;
    if (w->c->cloud) {
        /* the completion brings the whole history */
        bw_ticket_truncate_history(&p->t, 0, 0);
    }
    return 0;
}

/* Data Center windows: is this key one the previous window listed? Keeps
 * the keys of the newest minute seen. */
static int edge_seen(struct walk *w, const struct bw_ticket *t, int *seen)
{
    int64_t m = t->updated_at - ((t->updated_at % 60) + 60) % 60;

    *seen = 0;
    if (w->c->cloud) {
        return 0;
    }
    if (w->edge != BW_NOTIME && m == w->edge &&
        bw_strlist_has(&w->edge_keys, t->key)) {
        *seen = 1;
        return 0;
    }
    if (w->edge == BW_NOTIME || m > w->edge) {
        w->edge = m;
        bw_strlist_release(&w->edge_keys);
    }
    return m == w->edge ? bw_strlist_add(&w->edge_keys, t->key) : 0;
}

static int flush_pending(struct walk *w);

/* The page in hand: skip unchanged tickets, emit whole ones, keep the
 * others for completion; one commit. */
static int process_page(struct walk *w)
{
    struct bw_sink *sink = w->sink;
    struct bw_jira_search *pg = &w->page;
    const char **ids = NULL;
    char **ver = NULL;
    size_t n = pg->n;
    int dirty = 0;
    int rc = BW_ENOMEM;

    if (n > 0 && ((ids = bw_calloc(n, sizeof(*ids))) == NULL ||
                  (ver = bw_calloc(n, sizeof(*ver))) == NULL)) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = pg->v[i].t.key;
    }
    if (n > 0 && (rc = sink->item_versions(sink->ctx, pg->v[0].t.project, ids,
                                           n, ver)) != 0) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct bw_jira_issue *is = &pg->v[i];
        int seen = 0;

        if ((rc = edge_seen(w, &is->t, &seen)) != 0) {
            goto out;
        }
        if (seen) {
            continue;
        }
        sink->stats.items_seen++;
        if (w->newest == BW_NOTIME || is->t.updated_at > w->newest) {
            w->newest = is->t.updated_at;
        }
        if (!sink->full && same_version(ver[i], is->t.updated_at)) {
            continue;
        }
        if (ver[i] == NULL) {
            sink->stats.items_new++;
        } else {
            sink->stats.items_changed++;
        }
        if (bw_jira_issue_complete(is)) {
            if ((rc = emit_ticket(w, &is->t)) != 0) {
                goto out;
            }
            dirty = 1;
        } else if ((rc = pend_add(w, is)) != 0) {
            goto out;
        }
    }
    rc = dirty ? sink->commit_page(sink->ctx) : 0;
    if (rc == 0 && (w->npend >= BULK_BATCH || (!w->c->cloud && w->npend))) {
        rc = flush_pending(w);
    }
out:
    for (size_t i = 0; ver && i < n; i++) {
        bw_free(ver[i]);
    }
    bw_free(ver);
    bw_free(ids);
    return rc;
}

static int p_search(void *arg, const char *json, size_t len)
{
    struct walk *w = arg;

    bw_jira_search_release(&w->page);
    return bw_jira_parse_search(json, len, w->c->base, &w->c->fm, &w->page);
}

/* GET one search page into w->page. */
static int search_page(struct walk *w, const char *url)
{
    struct call k;
    int rc;

    call_init(&k, w->c, p_search, w);
    rc = call_run(&k, w->sink, NULL, url, NULL);
    if (rc == 0 && k.status != 200) {
        rc = bad_answer(w->c, &k, "GET", url);
    }
    bw_buf_release(&k.why);
    return rc;
}

/* The search URL of a JQL (ORDER appended) at a page position. */
static int search_url(struct walk *w, const char *jql, long start, long ask,
                      const char *token, struct bw_buf *url)
{
    struct jira_ctx *c = w->c;
    struct bw_buf q = BW_BUF_INIT;
    int rc;

    bw_buf_reset(url);
    rc = bw_buf_printf(&q, "%s" ORDER, jql);
    if (rc == 0) {
        rc = bw_buf_printf(url, "%s/rest/api/%s?jql=", c->base,
                           c->cloud ? "3/search/jql" : "2/search");
    }
    if (rc == 0) {
        rc = bw_http_urlencode(url, q.data);
    }
    if (rc == 0 && !c->cloud) {
        rc = bw_buf_printf(url, "&startAt=%ld", start);
    }
    if (rc == 0) {
        rc =
            bw_buf_printf(url, "&maxResults=%ld&expand=changelog&fields=", ask);
    }
    if (rc == 0) {
        rc = bw_http_urlencode(url, c->fields);
    }
    if (rc == 0 && token != NULL) {
        rc = bw_buf_adds(url, "&nextPageToken=");
        if (rc == 0) {
            rc = bw_http_urlencode(url, token);
        }
    }
    bw_buf_release(&q);
    return rc;
}

/* Cloud: follow nextPageToken to the end. */
static int walk_cloud(struct walk *w, const char *jql)
{
    struct bw_buf url = BW_BUF_INIT;
    struct bw_http_pager pager;
    char why[160];
    char *token = NULL;
    int rc = 0;

    bw_http_pager_init(&pager, MAX_PAGES);
    for (;;) {
        if (quota_low(w)) {
            w->quota_stop = 1;
            break;
        }
        if ((rc = search_url(w, jql, 0, PAGE_SIZE, token, &url)) != 0 ||
            (rc = search_page(w, url.data)) != 0) {
            break;
        }
        if (!w->page.is_last && w->page.next_token != NULL) {
            /* about to follow the token: is the walk going anywhere? */
            if (w->page.n == 0) {
                rc = paging_stop(w->c, w->sink, "GET", url.data,
                                 "an empty page says more follow");
                break;
            }
            rc = bw_http_pager_next(&pager, token, w->page.next_token, why,
                                    sizeof(why));
            if (rc) {
                if (rc == BW_EHTTP) {
                    rc = paging_stop(w->c, w->sink, "GET", url.data, why);
                }
                break;
            }
        }
        if ((rc = process_page(w)) != 0) {
            break;
        }
        if (w->page.is_last || w->page.next_token == NULL) {
            break;
        }
        bw_free(token);
        token = w->page.next_token;
        w->page.next_token = NULL;
        bw_jira_search_release(&w->page);
    }
    bw_jira_search_release(&w->page);
    bw_http_pager_release(&pager);
    bw_free(token);
    bw_buf_release(&url);
    return rc;
}

/* A JQL time literal of t in the user's zone: "yyyy-MM-dd HH:mm". */
static int jql_time(struct jira_ctx *c, int64_t t, char buf[BW_TIME_BUFSZ])
{
    int rc = bw_format_jql_minute(t, c->tz, buf);

    if (rc == BW_EPARSE) {
        BW_ERROR("[%s] cannot write %lld as a JQL date; check since",
                 c->src->name, (long long)t);
    }
    return rc;
}

/*
 * Data Center: startAt paging, split into windows of `updated` so that no
 * request reaches past the result window: when startAt would, the walk
 * goes on with `updated >= "the newest minute listed"` from startAt 0,
 * skipping the keys of that minute it already listed.
 */
static int walk_dc(struct walk *w, const char *jql)
{
    struct jira_ctx *c = w->c;
    struct bw_buf url = BW_BUF_INIT, q = BW_BUF_INIT;
    int64_t lo = BW_NOTIME;
    char when[BW_TIME_BUFSZ];
    char why[160];
    long start = 0;
    int first = 1;
    int rc = 0;

    w->edge = BW_NOTIME;
    bw_strlist_release(&w->edge_keys);
    for (long pages = 0;; pages++) {
        long ask =
            c->window - start < PAGE_SIZE ? c->window - start : PAGE_SIZE;

        if (pages >= MAX_PAGES) {
            snprintf(why, sizeof(why),
                     "its next page would be page %ld of one walk, past "
                     "the limit of %ld",
                     pages + 1, (long)MAX_PAGES);
            rc = paging_stop(c, w->sink, "GET", url.data, why);
            break;
        }
        if (ask <= 0) {
            if (w->edge == BW_NOTIME || w->edge == lo) {
                BW_ERROR("[%s] more than %ld tickets were updated in the "
                         "minute from %lld; Jira cannot page past them; "
                         "narrow projects or jql",
                         c->src->name, c->window, (long long)w->edge);
                rc = BW_EHTTP;
                break;
            }
            lo = w->edge;
            start = 0;
            continue;
        }
        if (quota_low(w)) {
            w->quota_stop = 1;
            break;
        }
        bw_buf_reset(&q);
        rc = bw_buf_adds(&q, jql);
        if (rc == 0 && lo != BW_NOTIME && (rc = jql_time(c, lo, when)) == 0) {
            rc = bw_buf_printf(&q, " AND updated >= \"%s\"", when);
        }
        if (rc || (rc = search_url(w, q.data, start, ask, NULL, &url)) != 0 ||
            (rc = search_page(w, url.data)) != 0) {
            break;
        }
        /* a page that is not the one asked for, or an empty one that says
           more follow: following it would never end */
        if (w->page.start_at >= 0 && w->page.start_at != start) {
            snprintf(why, sizeof(why),
                     "asked for startAt=%ld, it answered startAt=%ld", start,
                     w->page.start_at);
            rc = paging_stop(c, w->sink, "GET", url.data, why);
            break;
        }
        if (w->page.n == 0 && w->page.total >= 0 && start < w->page.total) {
            snprintf(why, sizeof(why),
                     "an empty page at startAt=%ld says %ld tickets in all",
                     start, w->page.total);
            rc = paging_stop(c, w->sink, "GET", url.data, why);
            break;
        }
        if (first && w->page.total >= 0) {
            w->sink->stats.items_known += w->page.total;
            first = 0;
        }
        start += (long)w->page.n;
        if ((rc = process_page(w)) != 0) {
            break;
        }
        if (w->page.n == 0 || (w->page.total >= 0 && start >= w->page.total)) {
            break;
        }
        bw_jira_search_release(&w->page);
    }
    bw_jira_search_release(&w->page);
    bw_buf_release(&url);
    bw_buf_release(&q);
    return rc;
}

/* ------------------------------------------------- completing histories */

static int emit_pending(struct walk *w)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < w->npend; i++) {
        rc = emit_ticket(w, &w->pend[i].t);
    }
    if (rc == 0 && w->npend) {
        rc = w->sink->commit_page(w->sink->ctx);
    }
    pend_release(w);
    return rc;
}

struct bulk {
    struct walk *w;
    char *token;
    long entries; /* issueChangeLogs entries of the last page */
};

static int bulk_merge(void *arg, const char *issue_id, struct bw_ticket *h)
{
    struct bulk *b = arg;
    struct walk *w = b->w;

    b->entries++;
    for (size_t i = 0; i < w->npend; i++) {
        if (w->pend[i].t.id && strcmp(w->pend[i].t.id, issue_id) == 0) {
            return bw_ticket_take_history(&w->pend[i].t, h);
        }
    }
    return 0; /* an issue we did not ask for */
}

static int p_bulk(void *arg, const char *json, size_t len)
{
    struct bulk *b = arg;
    size_t n = b->w->npend;
    size_t *nt = bw_calloc(n + 1, sizeof(*nt));
    size_t *nf = bw_calloc(n + 1, sizeof(*nf));
    char *token = NULL;
    int rc = BW_ENOMEM;

    b->entries = 0;
    if (nt && nf) {
        for (size_t i = 0; i < n; i++) {
            nt[i] = b->w->pend[i].t.ntrs;
            nf[i] = b->w->pend[i].t.nflags;
        }
        rc = bw_jira_parse_bulkfetch(json, len, &b->w->c->fm, bulk_merge, b,
                                     &token);
        if (rc) { /* a retry must not add the page twice */
            for (size_t i = 0; i < n; i++) {
                bw_ticket_truncate_history(&b->w->pend[i].t, nt[i], nf[i]);
            }
        } else {
            bw_free(b->token);
            b->token = token;
        }
    }
    bw_free(nt);
    bw_free(nf);
    return rc;
}

static int bulk_body(struct walk *w, const char *token, char **out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *ids = o ? cJSON_AddArrayToObject(o, "issueIdsOrKeys") : NULL;
    cJSON *fids = o ? cJSON_AddArrayToObject(o, "fieldIds") : NULL;
    int ok = ids && fids;

    for (size_t i = 0; ok && i < w->npend; i++) {
        cJSON *s = cJSON_CreateString(w->pend[i].t.id);

        ok = s != NULL && cJSON_AddItemToArray(ids, s);
    }
    if (ok) {
        cJSON *s = cJSON_CreateString("status");

        ok = s && cJSON_AddItemToArray(fids, s);
    }
    if (ok && w->c->fm.flagged) {
        cJSON *s = cJSON_CreateString(w->c->fm.flagged);

        ok = s && cJSON_AddItemToArray(fids, s);
    }
    ok = ok && cJSON_AddNumberToObject(o, "maxResults", BULK_PAGE) != NULL;
    if (ok && token) {
        ok = cJSON_AddStringToObject(o, "nextPageToken", token) != NULL;
    }
    *out = NULL;
    if (ok) {
        char *p = cJSON_PrintUnformatted(o);

        if (p != NULL) {
            *out = bw_strdup(p);
            cJSON_free(p);
        }
    }
    cJSON_Delete(o);
    return *out ? 0 : BW_ENOMEM;
}

/* POST /rest/api/3/changelog/bulkfetch for every pending ticket, all
 * pages. *refused: the endpoint is not offered (403, 404, 405). */
static int bulkfetch(struct walk *w, int *refused)
{
    struct bw_buf url = BW_BUF_INIT;
    struct bulk b = {w, NULL, 0};
    struct bw_http_pager pager;
    struct call k;
    char why[160];
    char *body = NULL;
    char *prev = NULL;
    int rc;

    *refused = 0;
    bw_http_pager_init(&pager, MAX_BULK_PAGES);
    call_init(&k, w->c, p_bulk, &b);
    k.soft = 1;
    if ((rc = bw_buf_printf(&url, "%s/rest/api/3/changelog/bulkfetch",
                            w->c->base)) != 0) {
        goto out;
    }
    for (;;) {
        bw_free(body);
        if ((rc = bulk_body(w, b.token, &body)) != 0) {
            goto out;
        }
        bw_free(prev);
        prev = b.token;
        b.token = NULL;
        if ((rc = call_run(&k, w->sink, "POST", url.data, body)) != 0) {
            goto out;
        }
        if (k.failed == BW_EAUTH || k.status == 403 || k.status == 404 ||
            k.status == 405) {
            *refused = 1;
            break;
        }
        if (k.failed) {
            rc = k.failed;
            goto out;
        }
        if (k.status != 200) {
            rc = bad_answer(w->c, &k, "POST", url.data);
            goto out;
        }
        if (b.token == NULL) {
            break;
        }
        /* the pending tickets are not stored until every page is in:
           stopping here keeps nothing of this batch */
        if (b.entries == 0) {
            rc = paging_stop(w->c, w->sink, "POST", url.data,
                             "an empty page says more follow");
            goto out;
        }
        rc = bw_http_pager_next(&pager, prev, b.token, why, sizeof(why));
        if (rc) {
            if (rc == BW_EHTTP) {
                rc = paging_stop(w->c, w->sink, "POST", url.data, why);
            }
            goto out;
        }
    }
out:
    bw_http_pager_release(&pager);
    bw_free(body);
    bw_free(prev);
    bw_free(b.token);
    bw_buf_release(&k.why);
    bw_buf_release(&url);
    return rc;
}

static int p_changelog(void *arg, const char *json, size_t len);

static int submit_changelog(struct pend *p, struct bw_sink *sink)
{
    struct bw_buf url = BW_BUF_INIT;
    struct bw_http_req req;
    int rc = bw_buf_printf(&url, "%s/rest/api/3/issue/", p->c->base);

    if (rc == 0) {
        rc = bw_http_urlencode(&url, p->t.key);
    }
    if (rc == 0) {
        rc = bw_buf_printf(&url, "/changelog?startAt=%ld&maxResults=%d",
                           p->next, CL_PAGE);
    }
    if (rc == 0) {
        memset(&req, 0, sizeof(req));
        req.url = url.data;
        req.cb = on_call;
        req.user = &p->k;
        rc = bw_http_submit(sink->http, &req);
    }
    bw_buf_release(&url);
    return rc;
}

struct cl_arg {
    struct pend *p;
    struct bw_sink *sink;
};

static int p_changelog(void *arg, const char *json, size_t len)
{
    struct cl_arg *a = arg;
    struct pend *p = a->p;
    long next = 0;
    int last = 0;
    int rc = bw_jira_parse_changelog(json, len, &p->c->fm, &p->t, &last, &next);

    if (rc || last) {
        return rc;
    }
    /* not the last page: the next one must start further on (an empty
       page, or a startAt going back, would be asked for again and again) */
    if (next <= p->next || ++p->pages >= MAX_CL_PAGES) {
        struct bw_buf url = BW_BUF_INIT;
        char why[160];

        if (next <= p->next) {
            snprintf(why, sizeof(why),
                     "asked for startAt=%ld, the page says the next one is "
                     "startAt=%ld",
                     p->next, next);
        } else {
            snprintf(why, sizeof(why),
                     "its next page would be page %ld of one changelog, past "
                     "the limit of %ld",
                     p->pages + 1, (long)MAX_CL_PAGES);
        }
        rc = bw_buf_printf(&url, "%s/rest/api/3/issue/%s/changelog", p->c->base,
                           p->t.key ? p->t.key : "");
        rc = rc ? rc : paging_stop(p->c, a->sink, "GET", url.data, why);
        bw_buf_release(&url);
        return rc;
    }
    p->next = next;
    return submit_changelog(p, a->sink);
}

/* Bulkfetch refused: each pending ticket's changelog, page by page, up
 * to max_parallel tickets at once. */
static int changelog_paging(struct walk *w)
{
    struct cl_arg *args = bw_calloc(w->npend + 1, sizeof(*args));
    int rc = 0;

    if (args == NULL) {
        return BW_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < w->npend; i++) {
        struct pend *p = &w->pend[i];

        bw_ticket_truncate_history(&p->t, 0, 0);
        args[i].p = p;
        args[i].sink = w->sink;
        call_init(&p->k, w->c, p_changelog, &args[i]);
        rc = submit_changelog(p, w->sink);
    }
    if (rc == 0) {
        rc = bw_http_run(w->sink->http);
    }
    for (size_t i = 0; rc == 0 && i < w->npend; i++) {
        struct call *k = &w->pend[i].k;

        if (k->status != 200) {
            rc =
                bad_answer(w->c, k, "GET", "/rest/api/3/issue/{key}/changelog");
        }
    }
    bw_free(args);
    return rc;
}

static int p_issue(void *arg, const char *json, size_t len)
{
    struct pend *p = arg;

    return bw_jira_parse_issue(json, len, p->c->base, &p->c->fm, &p->is);
}

/* Data Center: each short ticket again through GET issue?expand=changelog
 * (up to max_parallel at once); one that stays short is stored flagged
 * incomplete with what came (the newest histories). */
static int refetch_issues(struct walk *w)
{
    struct jira_ctx *c = w->c;
    struct bw_buf url = BW_BUF_INIT;
    struct bw_http_req req;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < w->npend; i++) {
        struct pend *p = &w->pend[i];

        call_init(&p->k, c, p_issue, p);
        bw_buf_reset(&url);
        rc = bw_buf_printf(&url, "%s/rest/api/2/issue/", c->base);
        if (rc == 0) {
            rc = bw_http_urlencode(&url, p->t.key);
        }
        if (rc == 0) {
            rc = bw_buf_adds(&url, "?expand=changelog&fields=");
        }
        if (rc == 0) {
            rc = bw_http_urlencode(&url, c->fields);
        }
        if (rc == 0) {
            memset(&req, 0, sizeof(req));
            req.url = url.data;
            req.cb = on_call;
            req.user = &p->k;
            rc = bw_http_submit(w->sink->http, &req);
        }
    }
    bw_buf_release(&url);
    if (rc == 0) {
        rc = bw_http_run(w->sink->http);
    }
    for (size_t i = 0; rc == 0 && i < w->npend; i++) {
        struct pend *p = &w->pend[i];

        if (p->k.status == 200 && p->is.t.key != NULL &&
            p->is.cl_count > p->have) {
            bw_ticket_release(&p->t);
            p->t = p->is.t;
            bw_ticket_init(&p->is.t);
            p->have = p->is.cl_count;
            p->total = p->is.cl_total;
        } else if (p->k.status != 200 && p->k.status != 404) {
            rc = bad_answer(c, &p->k, "GET", "/rest/api/2/issue/{key}");
            break;
        }
        if (p->have < p->total) {
            p->t.changelog_incomplete = 1;
            if (++c->incomplete <= WARN_MAX) {
                BW_WARN("[%s] the changelog of '%s' stays short (%ld of %ld "
                        "histories); stored flagged incomplete, its derived "
                        "fields may be off",
                        c->src->name, p->t.key, p->have, p->total);
            }
        }
    }
    return rc;
}

/* Complete every pending ticket's history, then write them all in one
 * MULTI/EXEC of their own. */
static int flush_pending(struct walk *w)
{
    struct jira_ctx *c = w->c;
    int refused = 0;
    int rc = 0;

    if (w->npend == 0) {
        return 0;
    }
    if (!c->cloud) {
        rc = refetch_issues(w);
    } else {
        if (!c->bulk_refused && (rc = bulkfetch(w, &refused)) == 0 && refused) {
            BW_WARN("[%s] Jira refused POST /rest/api/3/changelog/bulkfetch; "
                    "paging each long changelog instead",
                    c->src->name);
            c->bulk_refused = 1;
        }
        if (rc == 0 && c->bulk_refused) {
            rc = changelog_paging(w);
        }
    }
    if (rc) {
        pend_release(w);
        return rc;
    }
    return emit_pending(w);
}

/* ---------------------------------------------------------- the scopes */

/* The filter part of the JQL, ORDER BY left off: project in (...) or the
 * configured jql in parentheses. */
static int base_jql(struct jira_ctx *c, const char *const *projects, size_t n,
                    struct bw_buf *b)
{
    int rc;

    if (c->jql != NULL) {
        return bw_buf_printf(b, "(%s)", c->jql);
    }
    rc = bw_buf_adds(b, "project in (");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = bw_buf_printf(b, "%s\"", i ? ", " : "");
        for (const char *s = projects[i]; rc == 0 && *s; s++) {
            rc = (*s == '"' || *s == '\\') ? bw_buf_addch(b, '\\') : 0;
            rc = rc ? rc : bw_buf_addch(b, *s);
        }
        rc = rc ? rc : bw_buf_addch(b, '"');
    }
    return rc ? rc : bw_buf_addch(b, ')');
}

/* One group of scopes sharing a mark (BW_NOTIME: never walked): walk it
 * and move every scope's mark to the newest updated listed. */
static int walk_group(struct jira_ctx *c, struct bw_sink *sink,
                      const char *const *scopes, size_t nscopes,
                      const char *const *projects, size_t nprojects,
                      int64_t mark, const char *mark_suffix)
{
    struct walk w;
    struct bw_buf b = BW_BUF_INIT, q = BW_BUF_INIT;
    char when[BW_TIME_BUFSZ];
    char val[64];
    int64_t lower = sink->since;
    int rc;

    memset(&w, 0, sizeof(w));
    w.c = c;
    w.sink = sink;
    w.newest = BW_NOTIME;
    w.edge = BW_NOTIME;
    bw_jira_search_init(&w.page);
    if (mark != BW_NOTIME && mark - OVERLAP > lower) {
        lower = mark - OVERLAP;
    }
    if ((rc = base_jql(c, projects, nprojects, &b)) != 0 ||
        (rc = jql_time(c, lower, when)) != 0 ||
        (rc = bw_buf_printf(&q, "%s AND updated >= \"%s\"", b.data, when)) !=
            0) {
        goto out;
    }
    rc = c->cloud ? walk_cloud(&w, q.data) : walk_dc(&w, q.data);
    if (rc == 0 && !w.quota_stop && mark == BW_NOTIME) {
        /* the backfill: work not done is collected however old */
        bw_buf_reset(&q);
        rc = bw_buf_printf(&q,
                           "%s AND updated < \"%s\" AND statusCategory "
                           "!= Done",
                           b.data, when);
        if (rc == 0) {
            rc = c->cloud ? walk_cloud(&w, q.data) : walk_dc(&w, q.data);
        }
    }
    if (rc == 0 && !w.quota_stop) {
        rc = flush_pending(&w);
    }
    if (rc == 0 && !w.quota_stop) {
        int64_t m = w.newest;

        if (mark != BW_NOTIME && (m == BW_NOTIME || mark > m)) {
            m = mark;
        }
        for (size_t i = 0; rc == 0 && m != BW_NOTIME && i < nscopes; i++) {
            snprintf(val, sizeof(val), "%lld%s", (long long)m, mark_suffix);
            rc = sink->cursor_set(sink->ctx, scopes[i], val);
        }
        if (rc == 0) {
            rc = sink->commit_page(sink->ctx);
        }
        sink->stats.scopes_done += (long)nscopes;
    }
    if (rc == 0 && w.quota_stop) {
        sink->stats.quota_stop = 1;
    }
out:
    if (rc) {
        sink->discard_page(sink->ctx);
    }
    pend_release(&w);
    bw_free(w.pend);
    bw_jira_search_release(&w.page);
    bw_strlist_release(&w.edge_keys);
    bw_buf_release(&b);
    bw_buf_release(&q);
    return rc;
}

/* A scope's stored mark: "EPOCH" (projects) or "EPOCH SUFFIX" (jql, the
 * suffix naming the query), BW_NOTIME when none or for another query. */
static int mark_get(struct jira_ctx *c, struct bw_sink *sink, const char *scope,
                    const char *suffix, int64_t *mark)
{
    char buf[96];
    int64_t v = 0;
    size_t i = 0;
    int rc = sink->cursor_get(sink->ctx, scope, buf, sizeof(buf));

    *mark = BW_NOTIME;
    if (rc) {
        return rc;
    }
    for (; buf[i] >= '0' && buf[i] <= '9' && i < 18; i++) {
        v = v * 10 + (buf[i] - '0');
    }
    if (i > 0 && strcmp(buf + i, suffix) == 0) {
        *mark = v;
    } else if (i > 0 && *suffix != '\0') {
        BW_INFO("[%s] the jql changed since the last run; collecting from "
                "since again",
                c->src->name);
    } else if (buf[0] != '\0') {
        BW_WARN("[%s] ignoring the stored mark '%s' of '%s'; walking from "
                "since",
                c->src->name, buf, scope);
    }
    return 0;
}

/* FNV-1a of the configured jql: a changed query starts over. */
static void jql_suffix(const char *jql, char out[24])
{
    uint64_t h = 1469598103934665603ULL;

    for (; *jql; jql++) {
        h = (h ^ (unsigned char)*jql) * 1099511628211ULL;
    }
    snprintf(out, 24, " %016llx", (unsigned long long)h);
}

/* Projects: Cloud walks the projects that share a mark together (one
 * query); Data Center walks each alone (its result window). */
static int walk_projects(struct jira_ctx *c, struct bw_sink *sink)
{
    const struct bw_strlist *pl = &c->o->projects;
    int64_t *marks = bw_calloc(pl->n + 1, sizeof(*marks));
    const char **grp = bw_calloc(pl->n + 1, sizeof(*grp));
    unsigned char *done = bw_calloc(pl->n + 1, 1);
    int rc = marks && grp && done ? 0 : BW_ENOMEM;

    for (size_t i = 0; rc == 0 && i < pl->n; i++) {
        rc = mark_get(c, sink, pl->v[i], "", &marks[i]);
    }
    sink->stats.scopes_total = (long)pl->n;
    for (size_t i = 0; rc == 0 && i < pl->n && !sink->stats.quota_stop; i++) {
        size_t n = 0;

        if (done[i]) {
            continue;
        }
        for (size_t j = i; j < pl->n; j++) {
            int dup = 0;

            if (done[j] || marks[j] != marks[i] ||
                (!c->cloud && strcmp(pl->v[j], pl->v[i]) != 0)) {
                continue;
            }
            done[j] = 1;
            for (size_t k = 0; k < n; k++) {
                dup |= strcmp(grp[k], pl->v[j]) == 0;
            }
            if (!dup) {
                grp[n++] = pl->v[j];
            }
        }
        rc = walk_group(c, sink, grp, n, grp, n, marks[i], "");
    }
    bw_free(marks);
    bw_free(grp);
    bw_free(done);
    return rc;
}

static int walk_jql(struct jira_ctx *c, struct bw_sink *sink)
{
    static const char *const scope[] = {"jql"};
    char suffix[24];
    int64_t mark;
    int rc;

    jql_suffix(c->jql, suffix);
    sink->stats.scopes_total = 1;
    if ((rc = mark_get(c, sink, "jql", suffix, &mark)) != 0) {
        return rc;
    }
    return walk_group(c, sink, scope, 1, NULL, 0, mark, suffix);
}

static int jira_collect(void *ctx, struct bw_sink *sink)
{
    struct jira_ctx *c = ctx;
    int rc;

    c->incomplete = 0;
    bw_strlist_release(&c->warned); /* once per run, not per process */
    if ((rc = setup(c, sink)) != 0) {
        return rc;
    }
    sink->stats.items_known = c->cloud ? -1 : 0;
    rc = c->jql ? walk_jql(c, sink) : walk_projects(c, sink);
    if (c->incomplete > WARN_MAX) {
        BW_WARN("[%s] %ld tickets in all keep a short changelog and are "
                "stored flagged incomplete",
                c->src->name, c->incomplete);
    }
    if (rc == 0 && sink->stats.quota_stop) {
        const struct bw_http_stats *st = bw_http_stats(sink->http);

        BW_WARN("[%s] stopped with %ld requests of quota left "
                "(min_quota_left = %ld); the next run goes on from here",
                c->src->name, st ? st->quota_remaining : -1L,
                c->src->common.min_quota_left);
    }
    return rc;
}

/* ------------------------------------------------------------- plumbing */

/* The configured jql without a trailing ORDER BY (outside quotes). */
static char *strip_order(const char *jql)
{
    size_t n = strlen(jql);
    char q = 0;

    for (size_t i = 0; i < n; i++) {
        if (q) {
            if (jql[i] == '\\' && i + 1 < n) {
                i++;
            } else if (jql[i] == q) {
                q = 0;
            }
            continue;
        }
        if (jql[i] == '"' || jql[i] == '\'') {
            q = jql[i];
            continue;
        }
        if ((i == 0 || jql[i - 1] == ' ' || jql[i - 1] == ')' ||
             jql[i - 1] == '\t') &&
            strncasecmp(jql + i, "order", 5) == 0 &&
            (jql[i + 5] == ' ' || jql[i + 5] == '\t')) {
            size_t j = i + 5;

            while (jql[j] == ' ' || jql[j] == '\t') {
                j++;
            }
            if (strncasecmp(jql + j, "by", 2) == 0 &&
                (jql[j + 2] == ' ' || jql[j + 2] == '\t' ||
                 jql[j + 2] == '\0')) {
                n = i;
                break;
            }
        }
    }
    while (n > 0 && (jql[n - 1] == ' ' || jql[n - 1] == '\t')) {
        n--;
    }
    return bw_strndup(jql, n);
}

static void ctx_free(struct jira_ctx *c)
{
    if (c == NULL) {
        return;
    }
    bw_free(c->base);
    bw_free(c->tz);
    bw_free(c->jql);
    bw_free(c->fields);
    bw_jira_fieldmap_release(&c->fm);
    bw_jira_statuses_free(c->cat, c->ncat);
    bw_strlist_release(&c->warned);
    bw_free(c);
}

/* The result window; BELLWETHER_JIRA_WINDOW (1..10000) lowers it so tests
 * exercise the split at small scale. */
static long result_window(void)
{
    const char *s = getenv("BELLWETHER_JIRA_WINDOW");
    long v = 0;

    if (s == NULL || *s == '\0') {
        return DC_WINDOW;
    }
    for (; *s >= '0' && *s <= '9' && v <= DC_WINDOW; s++) {
        v = v * 10 + (*s - '0');
    }
    return *s == '\0' && v >= 1 && v <= DC_WINDOW ? v : DC_WINDOW;
}

static void jira_rules(const struct bw_source_conf *src, struct bw_pr_rules *pr,
                       struct bw_ticket_rules *t)
{
    const struct bw_jira_opts *o = src->opts;

    (void)pr;
    if (t != NULL) {
        memset(t, 0, sizeof(*t));
        t->blocked_statuses = &o->blocked_statuses;
        t->stage_todo = &o->stage_todo;
        t->stage_in_progress = &o->stage_in_progress;
        t->stage_done = &o->stage_done;
        t->exclude_types = &o->exclude_types;
        t->exclude_labels = &o->exclude_labels;
    }
}

static int jira_init(const struct bw_source_conf *src, void **ctx)
{
    struct jira_ctx *c = bw_calloc(1, sizeof(*c));
    const struct bw_jira_opts *o = src->opts;
    size_t n;

    *ctx = NULL;
    if (c == NULL) {
        return BW_ENOMEM;
    }
    c->src = src;
    c->o = o;
    c->window = result_window();
    c->base = bw_strdup(o->url ? o->url : "");
    if (c->base == NULL ||
        (o->jql != NULL && (c->jql = strip_order(o->jql)) == NULL)) {
        ctx_free(c);
        return BW_ENOMEM;
    }
    n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/') {
        c->base[--n] = '\0';
    }
    jira_rules(src, NULL, &c->rules); /* to warn about unknown statuses */
    *ctx = c;
    return 0;
}

static void jira_free(void *ctx)
{
    ctx_free(ctx);
}

static int project_key_ok(const char *s)
{
    if (*s < 'A' || *s > 'Z') {
        return 0;
    }
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_')) {
            return 0;
        }
    }
    return 1;
}

static int jira_validate(const struct bw_source_conf *src)
{
    const struct bw_jira_opts *o = src->opts;
    int rc = 0;

    if (o->flavor != NULL && strcmp(o->flavor, "auto") != 0 &&
        strcmp(o->flavor, "cloud") != 0 &&
        strcmp(o->flavor, "datacenter") != 0) {
        BW_ERROR("%s:%d: [source %s] flavor: '%s' is none of cloud, "
                 "datacenter, auto; write one of them",
                 src->file, src->line, src->name, o->flavor);
        rc = BW_ECONFIG;
    }
    for (size_t i = 0; i < o->projects.n; i++) {
        if (!project_key_ok(o->projects.v[i])) {
            BW_ERROR("%s:%d: [source %s] projects: '%s' is not a project "
                     "key; write keys like OPS (upper case)",
                     src->file, src->line, src->name, o->projects.v[i]);
            rc = BW_ECONFIG;
        }
    }
    if (o->jql != NULL && strpbrk(o->jql, "\r\n") != NULL) {
        BW_ERROR("%s:%d: [source %s] jql: write the query on one line",
                 src->file, src->line, src->name);
        rc = BW_ECONFIG;
    }
    if (o->url != NULL && strncmp(o->url, "http://", 7) != 0 &&
        strncmp(o->url, "https://", 8) != 0) {
        BW_ERROR("%s:%d: [source %s] url: '%s' is not an http(s) URL; "
                 "write e.g. https://acme.atlassian.net",
                 src->file, src->line, src->name, o->url);
        rc = BW_ECONFIG;
    }
    return rc;
}

static int base64(const char *in, size_t n, char *out, size_t cap)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        size_t left = n - i;

        v |= left > 1 ? (unsigned)(unsigned char)in[i + 1] << 8 : 0;
        v |= left > 2 ? (unsigned char)in[i + 2] : 0;
        if (o + 4 >= cap) {
            return BW_ECONFIG;
        }
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = left > 1 ? tab[(v >> 6) & 63] : '=';
        out[o++] = left > 2 ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return 0;
}

/* Cloud: Basic base64(email:token); Data Center: Bearer token. */
static int jira_http_opts(const struct bw_source_conf *src,
                          struct bw_http_opts *h)
{
    struct bw_jira_opts *o = src->opts;
    const char *tok = o->token ? o->token : "";
    const char *from = o->token_src.env ? o->token_src.env : o->token_src.file;
    char plain[768];
    size_t n = strlen(tok);
    int len, rc = 0;

    while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' ||
                     tok[n - 1] == ' ' || tok[n - 1] == '\t')) {
        n--;
    }
    if (o->email != NULL) {
        len = snprintf(plain, sizeof(plain), "%s:%.*s", o->email, (int)n, tok);
        rc = len < 0 || (size_t)len >= sizeof(plain) ? BW_ECONFIG : 0;
        if (rc == 0) {
            memcpy(o->auth, "Basic ", 6);
            rc = base64(plain, (size_t)len, o->auth + 6, sizeof(o->auth) - 6);
        }
        memset(plain, 0, sizeof(plain));
    } else {
        len = snprintf(o->auth, sizeof(o->auth), "Bearer %.*s", (int)n, tok);
        rc = len < 0 || (size_t)len >= sizeof(o->auth) ? BW_ECONFIG : 0;
    }
    if (rc || memchr(tok, '\n', n) || memchr(tok, '\r', n)) {
        BW_ERROR("%s:%d: [source %s] the token is not a single line of "
                 "under 500 bytes; check %s",
                 src->file, src->line, src->name, from ? from : "the token");
        return BW_ECONFIG;
    }
    h->api = BW_API_JIRA;
    h->origin = o->url;
    h->auth = o->auth;
    h->auth_source = from;
    return 0;
}

static int p_ignore(void *arg, const char *json, size_t len)
{
    char *tz = NULL;
    int rc = bw_jira_parse_myself(json, len, &tz);

    (void)arg;
    bw_free(tz);
    return rc;
}

/* GET /rest/api/2/myself: proves the credentials (a 401 is BW_EAUTH). */
static int jira_check(void *ctx, struct bw_sink *sink)
{
    return get_json(ctx, sink, "/rest/api/2/myself", p_ignore, NULL);
}

const struct bw_collector bw_collector_jira = {
    BW_COLLECTOR_ABI,
    "jira",
    "tickets and status history from Jira Cloud or Data Center",
    jira_keys,
    sizeof(struct bw_jira_opts),
    jira_validate,
    jira_http_opts,
    jira_init,
    jira_collect,
    jira_rules,
    jira_check,
    jira_free};
