/*
 * jira.c - the Jira collector: tickets and their status history, Cloud and
 * Data Center (DESIGN.md).
 *
 * (Key table only so far; the walk lands with the Jira collector issue.)
 */
#include <stddef.h>

#include "bellwether/error.h"
#include "bellwether/jira.h"

#define O(f) offsetof(struct bw_jira_opts, f)

static const struct bw_config_key jira_keys[] = {
    {BW_KT_URL, "url", NULL, O(url), "Jira base URL", BW_KF_REQUIRED, 0},
    {BW_KT_STR, "flavor", "auto", O(flavor),
     "cloud | datacenter | auto (asks /rest/api/2/serverInfo)", 0, 0},
    {BW_KT_LIST, "projects", NULL, O(projects),
     "project keys (or jql; exactly one of the two)", 0, 0},
    {BW_KT_STR, "jql", NULL, O(jql), "a JQL filter instead of projects", 0,
     0},
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
     "story points field id; found by name \"Story Points\" when absent", 0,
     0},
    {BW_KT_STR, "flagged_field", NULL, O(flagged_field),
     "Flagged field id; found by name \"Flagged\" when absent", 0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};

static int jira_init(const struct bw_source_conf *src, void **ctx)
{
    (void)src;
    *ctx = NULL;
    return 0;
}

static int jira_collect(void *ctx, struct bw_sink *sink)
{
    (void)ctx;
    (void)sink;
    return BW_EUSAGE;
}

static void jira_free(void *ctx)
{
    (void)ctx;
}

const struct bw_collector bw_collector_jira = {
    BW_COLLECTOR_ABI,
    "jira",
    "tickets and status history from Jira Cloud or Data Center",
    jira_keys,
    sizeof(struct bw_jira_opts),
    NULL,
    NULL,
    jira_init,
    jira_collect,
    NULL,
    NULL,
    jira_free};
