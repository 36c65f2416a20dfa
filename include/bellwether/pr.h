/*
 * pr.h - a pull request as bellwether keeps it: fields, one event list, and
 * the derived fields of METRICS.md.
 *
 * The GitHub collector fills struct bw_pr from API pages; the store packs it
 * (bw_pr_pack) into Redis and unpacks it again for `reindex`, so every
 * derived field is recomputable from stored events with no API request.
 * bw_pr_derive() is the single implementation of METRICS.md's per-PR rules.
 * Times are UTC epoch seconds; BW_NOTIME means "none".
 */
#ifndef BW_PR_H
#define BW_PR_H

#include <stddef.h>
#include <stdint.h>

#include "bellwether/buf.h"
#include "bellwether/config.h"

#define BW_NOTIME INT64_MIN

enum bw_pr_ev_kind {
    BW_PEV_COMMIT = 1, /* t = committer date, t2 = author date */
    BW_PEV_REVIEW,     /* t = submitted_at, state = enum bw_review_state */
    BW_PEV_COMMENT,    /* issue (conversation) comment */
    BW_PEV_READY,      /* ready_for_review */
    BW_PEV_DRAFT,      /* convert_to_draft */
    BW_PEV_CLOSED,
    BW_PEV_REOPENED,
    BW_PEV_MERGED,
    BW_PEV_REVIEW_REQUESTED
};

enum bw_review_state {
    BW_RS_NONE = 0,
    BW_RS_APPROVED,
    BW_RS_CHANGES_REQUESTED,
    BW_RS_COMMENTED,
    BW_RS_DISMISSED,
    BW_RS_PENDING
};

#define BW_ACTOR_BOT 0x1   /* type Bot, or login ending in "[bot]" */
#define BW_ACTOR_GHOST 0x2 /* deleted user: null user or login "ghost" */

struct bw_pr_event {
    int64_t t;
    int64_t t2;
    uint8_t kind;        /* enum bw_pr_ev_kind */
    uint8_t state;       /* enum bw_review_state (reviews) */
    uint8_t actor_flags; /* BW_ACTOR_* */
    char *actor;         /* login, or NULL for a deleted user */
};

struct bw_pr {
    char *repo; /* "owner/name" */
    long number;
    char *title;
    char *url;             /* html_url */
    char *author;          /* login, NULL when deleted */
    unsigned author_flags; /* BW_ACTOR_* */
    int open;              /* state == "open" */
    int draft;             /* draft now */
    char *base;            /* base branch */
    struct bw_strlist labels;
    int64_t created_at, updated_at, closed_at, merged_at;
    long additions, deletions;
    long commits;               /* the single PR's count; -1 unknown */
    struct bw_pr_event *events; /* any order (ties: the earlier first) */
    size_t nevents, cap;
};

/* The source's metric-affecting settings. Borrowed pointers. */
struct bw_pr_rules {
    const struct bw_strlist *exclude_users;
    const struct bw_strlist *exclude_labels;
    const struct bw_strlist *exclude_base; /* shell globs */
    int include_bot_prs;
};

enum bw_pr_excl {
    BW_PX_NONE = 0,
    BW_PX_BOT,   /* authored by a bot and include_bot_prs is false */
    BW_PX_USER,  /* authored by a user in exclude_users */
    BW_PX_LABEL, /* carries a label in exclude_labels */
    BW_PX_BASE   /* into a base branch matching exclude_base */
};

struct bw_pr_derived {
    int64_t opened_at, first_commit_at, ready_at, first_review_at,
        first_response_at, approved_at, merged_at, closed_at;
    int64_t pickup_at;   /* first counted review at or after ready_at */
    int64_t response_at; /* first counted review/comment at/after ready_at */
    long size, review_rounds;
    int commits_truncated;
    int excluded;             /* left out of PR metrics */
    int excluded_reason;      /* enum bw_pr_excl (label/base before bot/user) */
    int review_load_excluded; /* label or base: reviews leave review load */
    /* hours; NAN unless merged and the parts exist */
    double coding_time, pickup_time, review_time, cycle_time,
        time_to_first_response;
};

void bw_pr_init(struct bw_pr *pr);
/* Frees everything pr owns; pr is bw_pr_init()ed again. */
void bw_pr_release(struct bw_pr *pr);
/* Append an event (copies actor). */
int bw_pr_add_event(struct bw_pr *pr, const struct bw_pr_event *ev);
/* Drop every event after the first n (undo a failed page). */
void bw_pr_truncate_events(struct bw_pr *pr, size_t n);

/* METRICS.md's per-PR rules. Pure. */
int bw_pr_derive(const struct bw_pr *pr, const struct bw_pr_rules *rules,
                 struct bw_pr_derived *out);
/* Is this review one METRICS.md counts? (author, bots, excluded, merged) */
int bw_pr_review_counts(const struct bw_pr *pr, const struct bw_pr_rules *r,
                        const struct bw_pr_event *ev);

/* Compact, versioned text form of the events, for the store. */
int bw_pr_pack_events(const struct bw_pr *pr, struct bw_buf *out);
/* Parse events packed by bw_pr_pack_events into pr (appended). */
int bw_pr_unpack_events(struct bw_pr *pr, const char *s, size_t len);

#endif
