/*
 * github.h - options of a [source NAME] with type = github, and the pure
 * page parsers the collector is built from (unit-tested and fuzzed).
 */
#ifndef BW_GITHUB_H
#define BW_GITHUB_H

#include "bellwether/collector.h"
#include "bellwether/config.h"
#include "bellwether/pr.h"

struct bw_github_opts {
    char *api_url;           /* https://api.github.com or HOST/api/v3 */
    struct bw_strlist repos; /* owner/name */
    char *org;
    char *token;
    struct bw_secret_src token_src;
    struct bw_strlist exclude_users;
    int include_bot_prs;
    struct bw_strlist exclude_labels;
    struct bw_strlist exclude_base; /* shell globs */
    /* Not a key: the Authorization value ("Bearer TOKEN") built by the
       http_opts hook, kept here so it lives as long as the source does
       (bw_http_opts.auth borrows it until bw_http_new() copies it). */
    char auth[1024];
};

extern const struct bw_collector bw_collector_github;

/*
 * Pure page parsers (JSON -> struct bw_pr), unit-tested on simulator pages
 * and on ../shared/api-samples, and fuzzed. Each parses its page once
 * (cJSON_ParseWithLengthOpts, no NUL needed at json[len]) and returns 0,
 * BW_EPARSE (not JSON, or not the expected shape: a missing number or
 * created_at, a date that does not parse) or BW_ENOMEM. On error the PR is
 * left as it was: nothing of the page is kept.
 */

/* Called once per pull request of a list page, in page order. pr is filled
 * from the list item (no events, no additions/deletions/commits: the list
 * does not carry them) and is borrowed for the call. A nonzero return stops
 * the parse and is returned. */
typedef int (*bw_gh_pull_cb)(void *arg, const struct bw_pr *pr);

/* GET /repos/{o}/{r}/pulls: a JSON array of pull requests. */
int bw_gh_parse_pulls(const char *json, size_t len, bw_gh_pull_cb cb,
                      void *arg);
/* GET /repos/{o}/{r}/pulls/{n}: replaces pr's fields (all but repo and the
 * events) with the page's, additions, deletions and commits included. */
int bw_gh_parse_pull(const char *json, size_t len, struct bw_pr *pr);
/* GET /repos/{o}/{r}/issues/{n}/timeline: appends the page's committed,
 * reviewed, commented, ready_for_review, convert_to_draft, closed,
 * reopened, merged and review_requested items to pr's events; other items
 * are skipped. */
int bw_gh_parse_timeline(const char *json, size_t len, struct bw_pr *pr);
/* GET /repos/{o}/{r}/pulls/{n}/reviews (an array, or one review object):
 * appends BW_PEV_REVIEW events. Not used by the walk (the timeline carries
 * the reviews); kept for tests and for a fallback. */
int bw_gh_parse_reviews(const char *json, size_t len, struct bw_pr *pr);
/* GET /repos/{o}/{r}/pulls/{n}/commits: appends BW_PEV_COMMIT events
 * (t = committer date, t2 = author date). Same status as parse_reviews. */
int bw_gh_parse_commits(const char *json, size_t len, struct bw_pr *pr);
/* GET /orgs/{org}/repos: appends the full_name of every repository that is
 * not archived to out (caller releases with bw_strlist_release()). */
int bw_gh_parse_repos(const char *json, size_t len, struct bw_strlist *out);
/* BW_ACTOR_* of a GitHub user object's login and type (login NULL: a null
 * user). */
unsigned bw_gh_actor_flags(const char *login, const char *type);

#endif
