/*
 * jira.h - options of a [source NAME] with type = jira, and the pure page
 * parsers the collector is built from (unit-tested and fuzzed).
 */
#ifndef BW_JIRA_H
#define BW_JIRA_H

#include "bellwether/collector.h"
#include "bellwether/config.h"

struct bw_jira_opts {
    char *url;
    char *flavor;             /* cloud | datacenter | auto */
    struct bw_strlist projects;
    char *jql;
    char *email;              /* Cloud basic auth user; NULL: bearer */
    char *token;
    struct bw_secret_src token_src;
    struct bw_strlist blocked_statuses;
    struct bw_strlist stage_todo, stage_in_progress, stage_done;
    struct bw_strlist exclude_types;
    struct bw_strlist exclude_labels;
    char *story_points_field; /* NULL: found by name "Story Points" */
    char *flagged_field;      /* NULL: found by name "Flagged" */
};

extern const struct bw_collector bw_collector_jira;

#endif
