/*
 * github.h - options of a [source NAME] with type = github, and the pure
 * page parsers the collector is built from (unit-tested and fuzzed).
 */
#ifndef BW_GITHUB_H
#define BW_GITHUB_H

#include "bellwether/collector.h"
#include "bellwether/config.h"

struct bw_github_opts {
    char *api_url;            /* https://api.github.com or HOST/api/v3 */
    struct bw_strlist repos;  /* owner/name */
    char *org;
    char *token;
    struct bw_secret_src token_src;
    struct bw_strlist exclude_users;
    int include_bot_prs;
    struct bw_strlist exclude_labels;
    struct bw_strlist exclude_base; /* shell globs */
};

extern const struct bw_collector bw_collector_github;

#endif
