/*
 * github.c - the GitHub collector: pull requests, reviews and their
 * timeline, walked incrementally per repository (DESIGN.md).
 *
 * (Key table only so far; the walk lands with the GitHub collector issue.)
 */
#include <stddef.h>

#include "bellwether/error.h"
#include "bellwether/github.h"

#define O(f) offsetof(struct bw_github_opts, f)

static const struct bw_config_key gh_keys[] = {
    {BW_KT_URL, "api_url", "https://api.github.com", O(api_url),
     "API base URL; GitHub Enterprise: https://HOST/api/v3", 0, 0},
    {BW_KT_LIST, "repos", NULL, O(repos),
     "repositories owner/name (and/or org)", 0, 0},
    {BW_KT_STR, "org", NULL, O(org),
     "collect every non-archived repository of this organisation", 0, 0},
    {BW_KT_SECRET, "token", NULL, O(token),
     "token_env names a variable, token_file a file holding the token",
     BW_KF_REQUIRED, O(token_src)},
    {BW_KT_LIST, "exclude_users", NULL, O(exclude_users),
     "users left out as authors and reviewers", BW_KF_METRIC, 0},
    {BW_KT_BOOL, "include_bot_prs", "false", O(include_bot_prs),
     "count PRs authored by bots", BW_KF_METRIC, 0},
    {BW_KT_LIST, "exclude_labels", NULL, O(exclude_labels),
     "PRs with any of these labels are left out of metrics", BW_KF_METRIC,
     0},
    {BW_KT_LIST, "exclude_base", NULL, O(exclude_base),
     "PRs into base branches matching these shell globs are left out",
     BW_KF_METRIC, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};

static int gh_init(const struct bw_source_conf *src, void **ctx)
{
    (void)src;
    *ctx = NULL;
    return 0;
}

static int gh_collect(void *ctx, struct bw_sink *sink)
{
    (void)ctx;
    (void)sink;
    return BW_EUSAGE;
}

static void gh_free(void *ctx)
{
    (void)ctx;
}

const struct bw_collector bw_collector_github = {
    BW_COLLECTOR_ABI,
    "github",
    "pull requests, reviews and timelines from GitHub's REST API",
    gh_keys,
    sizeof(struct bw_github_opts),
    NULL,
    NULL,
    gh_init,
    gh_collect,
    NULL,
    NULL,
    gh_free};
