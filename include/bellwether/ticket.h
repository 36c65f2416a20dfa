/*
 * ticket.h - a Jira ticket as bellwether keeps it: current fields, status
 * transitions, Flagged changes, and the derived fields of METRICS.md.
 *
 * The Jira collector fills struct bw_ticket; the store packs the history
 * (bw_ticket_pack_history) and unpacks it for `reindex`. Stages come from the
 * source's status catalog (id -> category, from /rest/api/2/status, stored in
 * Redis with the source) and its stage_* / blocked_statuses settings.
 * bw_ticket_derive() is the single implementation of METRICS.md's per-ticket
 * rules. Times are UTC epoch seconds (Jira's milliseconds truncated).
 */
#ifndef BW_TICKET_H
#define BW_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "bellwether/buf.h"
#include "bellwether/config.h"
#include "bellwether/pr.h" /* BW_NOTIME */

enum bw_stage {
    BW_STAGE_TODO = 0,
    BW_STAGE_IN_PROGRESS,
    BW_STAGE_DONE
};

struct bw_ticket_tr { /* a status transition */
    int64_t t;
    int64_t hid; /* history id: ties in t are ordered by it */
    char *from_id, *from_name;
    char *to_id, *to_name;
};

struct bw_ticket_flag { /* a change of the Flagged field */
    int64_t t;
    int64_t hid;
    int on;       /* "to" is non-empty */
    int from_set; /* "from" was non-empty */
};

struct bw_ticket {
    char *key, *id, *project;
    char *summary, *url;
    char *type, *priority;
    char *status_id, *status_name;
    char *assignee_id, *assignee_name;
    struct bw_strlist labels, components;
    char *parent;
    double story_points; /* NAN when none */
    int flagged_now;
    int64_t created_at, updated_at;
    struct bw_ticket_tr *trs;
    size_t ntrs, trs_cap;
    struct bw_ticket_flag *flags;
    size_t nflags, flags_cap;
    int changelog_incomplete; /* the history stayed short */
};

struct bw_status_info {
    char *id, *name;
    char *category; /* "new", "indeterminate", "done", "undefined" */
};

struct bw_ticket_rules {                   /* borrowed pointers */
    const struct bw_status_info *statuses; /* the catalog */
    size_t nstatuses;
    const struct bw_strlist *stage_todo, *stage_in_progress, *stage_done;
    const struct bw_strlist *blocked_statuses;
    const struct bw_strlist *exclude_types, *exclude_labels;
};

struct bw_spell {
    int64_t start, end; /* end == BW_NOTIME: still going */
};

struct bw_ticket_derived {
    const char *initial_status; /* borrowed from the ticket */
    int64_t started_at, done_at;
    long reopen_count;
    int stage_now, blocked_now;
    int excluded;
    struct bw_spell *blocked; /* union of blocked and flagged */
    size_t nblocked;
    struct bw_spell *in_progress; /* stretches in an in_progress stage */
    size_t nin_progress;
    double blocked_time; /* seconds inside [started_at, done_at or now];
                             NAN without started_at */
    double cycle_time, lead_time; /* days, NAN when not done */
    int unknown_status; /* a status missing from the catalog was seen */
};

void bw_ticket_init(struct bw_ticket *t);
void bw_ticket_release(struct bw_ticket *t);
int bw_ticket_add_tr(struct bw_ticket *t, const struct bw_ticket_tr *tr);
int bw_ticket_add_flag(struct bw_ticket *t, const struct bw_ticket_flag *f);
/* Drop the history past the first ntrs transitions and nflags flag
 * changes (undo a failed page). */
void bw_ticket_truncate_history(struct bw_ticket *t, size_t ntrs,
                                size_t nflags);
/* Move src's transitions and flag changes to the end of dst's (src's
 * history is empty afterwards). 0 or BW_ENOMEM (both unchanged). */
int bw_ticket_take_history(struct bw_ticket *dst, struct bw_ticket *src);

/* Stage of a status by the rules; *blocked set for blocked_statuses;
 * an unknown status is todo and sets *unknown. */
int bw_ticket_stage(const struct bw_ticket_rules *r, const char *status_id,
                    const char *status_name, int *blocked, int *unknown);

/* METRICS.md's per-ticket rules at instant now. Pure; caller frees the
 * spell arrays with bw_ticket_derived_release(). */
int bw_ticket_derive(const struct bw_ticket *t, const struct bw_ticket_rules *r,
                     int64_t now, struct bw_ticket_derived *out);
void bw_ticket_derived_release(struct bw_ticket_derived *d);

int bw_ticket_pack_history(const struct bw_ticket *t, struct bw_buf *out);
int bw_ticket_unpack_history(struct bw_ticket *t, const char *s, size_t len);

#endif
