/*
 * jira.h - options of a [source NAME] with type = jira, and the pure page
 * parsers the collector is built from (unit-tested and fuzzed).
 */
#ifndef BW_JIRA_H
#define BW_JIRA_H

#include "bellwether/buf.h"
#include "bellwether/collector.h"
#include "bellwether/config.h"
#include "bellwether/ticket.h"

struct bw_jira_opts {
    char *url;
    char *flavor; /* cloud | datacenter | auto */
    struct bw_strlist projects;
    char *jql;
    char *email; /* Cloud basic auth user; NULL: bearer */
    char *token;
    struct bw_secret_src token_src;
    struct bw_strlist blocked_statuses;
    struct bw_strlist stage_todo, stage_in_progress, stage_done;
    struct bw_strlist exclude_types;
    struct bw_strlist exclude_labels;
    char *story_points_field; /* NULL: found by name "Story Points" */
    char *flagged_field;      /* NULL: found by name "Flagged" */
    /* Not a key: the Authorization value built by the http_opts hook
       (Basic base64(email:token) or Bearer token), kept here so it lives
       as long as the source does (bw_http_new() copies it). */
    char auth[1024];
};

extern const struct bw_collector bw_collector_jira;

/*
 * Pure page parsers (JSON -> struct bw_ticket), unit-tested on simulator
 * pages and on ../shared/api-samples/jira, and fuzzed. Each parses its
 * page once (cJSON_ParseWithLengthOpts, no NUL needed at json[len]; the
 * search and bulkfetch parsers one issue or entry at a time, so a page
 * never becomes one big tree) and returns 0, BW_EPARSE (not JSON, or not
 * the expected shape: a missing
 * key, status or created, a date that does not parse) or BW_ENOMEM. On
 * error nothing of the page is kept: outputs are as they were.
 *
 * History items are read per API-FACTS 39: a status change is the item
 * with fieldId "status" (Cloud) or, without a fieldId, field "status" of
 * fieldtype jira (Data Center); a Flagged change is the item whose fieldId
 * is the Flagged field's id or, without a fieldId, whose field is its name.
 * A history's created is ISO 8601 (search, issue, changelog pages) or
 * epoch milliseconds (bulkfetch); its id is a decimal string or number.
 */

/* Which custom fields mean what on this site (from /rest/api/2/field or
 * the config). Any may be NULL: not on this site. */
struct bw_jira_fieldmap {
    char *story_points; /* field id */
    char *flagged;      /* field id */
    char *flagged_name; /* its name: Data Center history items carry it */
};
void bw_jira_fieldmap_release(struct bw_jira_fieldmap *f);

/* An issue of a search page (or GET issue): the ticket with its fields and
 * whatever changelog came inline. */
struct bw_jira_issue {
    struct bw_ticket t;
    long cl_total; /* changelog.total; -1 when no changelog came */
    long cl_count; /* histories received (status or not) */
};
/* The inline changelog is whole (or there was none to cut). */
int bw_jira_issue_complete(const struct bw_jira_issue *is);

struct bw_jira_search {
    struct bw_jira_issue *v; /* page order */
    size_t n, cap;
    int is_last;      /* isLast when sent; else 0 with a nextPageToken,
                         else startAt + issues >= total (Data Center),
                         else 1 */
    char *next_token; /* Cloud: nextPageToken, NULL on the last page */
    long start_at, max_results, total; /* Data Center; -1 when absent */
};
void bw_jira_search_init(struct bw_jira_search *s);
void bw_jira_search_release(struct bw_jira_search *s);

/*
 * GET /rest/api/3/search/jql (Cloud: {issues, isLast, nextPageToken}) or
 * /rest/api/2/search (Data Center: {startAt, maxResults, total, issues}).
 * base (may be NULL) makes each ticket's url BASE/browse/KEY. Appends the
 * page's issues to out->v and sets the envelope fields.
 */
int bw_jira_parse_search(const char *json, size_t len, const char *base,
                         const struct bw_jira_fieldmap *f,
                         struct bw_jira_search *out);
/* GET /rest/api/2/issue/{key}?expand=changelog: one issue into *out
 * (bw_ticket_init()ed by the caller; released by it whatever happens). */
int bw_jira_parse_issue(const char *json, size_t len, const char *base,
                        const struct bw_jira_fieldmap *f,
                        struct bw_jira_issue *out);
/*
 * GET /rest/api/3/issue/{key}/changelog: appends the page's status and
 * Flagged changes to t. *is_last: isLast, or (without it) the page reached
 * total or was empty; *next_start: startAt + values received.
 */
int bw_jira_parse_changelog(const char *json, size_t len,
                            const struct bw_jira_fieldmap *f,
                            struct bw_ticket *t, int *is_last,
                            long *next_start);
/*
 * POST /rest/api/3/changelog/bulkfetch: for each issueChangeLogs entry,
 * once the whole page parsed, cb(arg, issueId, h) with h holding that
 * issue's status and Flagged changes of the page (cb may take h's arrays:
 * it is released after the call). *next_token: nextPageToken, NULL when
 * absent or null (the last page); caller frees. A nonzero cb return stops
 * and is returned.
 */
typedef int (*bw_jira_hist_cb)(void *arg, const char *issue_id,
                               struct bw_ticket *h);
int bw_jira_parse_bulkfetch(const char *json, size_t len,
                            const struct bw_jira_fieldmap *f,
                            bw_jira_hist_cb cb, void *arg, char **next_token);

/* GET /rest/api/2/serverInfo: *cloud = deploymentType is "Cloud". */
int bw_jira_parse_server_info(const char *json, size_t len, int *cloud);
/* GET /rest/api/2/myself: *tz = timeZone, NULL when none (caller frees). */
int bw_jira_parse_myself(const char *json, size_t len, char **tz);
/* GET /rest/api/2/status: the catalog (id, name, statusCategory.key);
 * caller frees with bw_jira_statuses_free(). A status listed twice (per
 * project on Cloud) is kept once. */
int bw_jira_parse_statuses(const char *json, size_t len,
                           struct bw_status_info **v, size_t *n);
void bw_jira_statuses_free(struct bw_status_info *v, size_t n);
/*
 * GET /rest/api/2/field: fills out (released first). story_points and
 * flagged are the configured ids or NULL; NULL ones are found by the names
 * "Story Points" and "Flagged" (exact); flagged_name is the Flagged field's
 * name from the list ("Flagged" when the list lacks the id).
 */
int bw_jira_parse_fields(const char *json, size_t len, const char *story_points,
                         const char *flagged, struct bw_jira_fieldmap *out);
/* An error body {"errorMessages": [...], "errors": {k: v}} as one line
 * ("msg; msg; k: v") appended to out, control characters blanked.
 * BW_EPARSE when it is no such body. */
int bw_jira_parse_errors(const char *json, size_t len, struct bw_buf *out);

#endif
