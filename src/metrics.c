/*
 * metrics.c - the metric catalogue (METRICS.md as data).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/config.h"
#include "bellwether/error.h"
#include "bellwether/metrics.h"

const struct bw_metric bw_metrics[] = {
    {"pr_coding_time", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS, "PR coding time",
     "first commit to ready for review, PRs merged in the week"},
    {"pr_pickup_time", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS,
     "PR pickup time (review latency)",
     "ready for review to the first counted review at or after it, PRs "
     "merged in the week"},
    {"pr_review_time", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS, "PR review time",
     "first counted review to merge, PRs merged in the week"},
    {"pr_cycle_time", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS, "PR cycle time",
     "first commit to merge, PRs merged in the week"},
    {"pr_time_to_first_response", BW_MK_DURATION, BW_MS_PR, BW_MU_HOURS,
     "PR time to first response",
     "ready for review to the first counted review or comment at or after "
     "it, PRs merged in the week"},
    {"pr_size", BW_MK_DISTRIBUTION, BW_MS_PR, BW_MU_LINES, "PR size",
     "lines added + deleted, PRs merged in the week"},
    {"pr_merged", BW_MK_COUNT, BW_MS_PR, BW_MU_COUNT, "PRs merged",
     "PRs merged in the week (throughput)"},
    {"pr_opened", BW_MK_COUNT, BW_MS_PR, BW_MU_COUNT, "PRs opened",
     "PRs opened in the week"},
    {"pr_unreviewed_merge_rate", BW_MK_RATE, BW_MS_PR, BW_MU_RATIO,
     "Unreviewed merges",
     "PRs merged with no counted review / PRs merged in the week"},
    {"pr_large_rate", BW_MK_RATE, BW_MS_PR, BW_MU_RATIO, "Large PRs",
     "PRs merged with size > 400 / PRs merged in the week"},
    {"pr_open_awaiting_review", BW_MK_POINT, BW_MS_PR, BW_MU_COUNT,
     "PRs awaiting review",
     "at the week's end: open, not a draft, ready, no counted review yet"},
    {"pr_stale", BW_MK_POINT, BW_MS_PR, BW_MU_COUNT, "Stale PRs",
     "at the week's end: open (drafts included), no activity for 7 days"},
    {"review_count_by_reviewer", BW_MK_COUNT, BW_MS_PR, BW_MU_COUNT, "Reviews",
     "counted reviews in the week, per reviewer"},
    {"review_load_top_share", BW_MK_RATE, BW_MS_PR, BW_MU_RATIO,
     "Review load top share",
     "the busiest reviewer's counted reviews / all counted reviews of the "
     "week"},
    {"ticket_cycle_time", BW_MK_DURATION, BW_MS_TICKET, BW_MU_DAYS,
     "Ticket cycle time", "started to done, tickets done in the week"},
    {"ticket_lead_time", BW_MK_DURATION, BW_MS_TICKET, BW_MU_DAYS,
     "Ticket lead time", "created to done, tickets done in the week"},
    {"ticket_throughput", BW_MK_COUNT, BW_MS_TICKET, BW_MU_COUNT,
     "Tickets done", "tickets whose done time falls in the week"},
    {"ticket_wip", BW_MK_POINT, BW_MS_TICKET, BW_MU_COUNT, "Work in progress",
     "tickets in an in-progress stage at the week's end"},
    {"ticket_age_in_progress", BW_MK_DURATION, BW_MS_TICKET, BW_MU_DAYS,
     "Age of work in progress",
     "week end minus started, each ticket in progress at the week's end"},
    {"ticket_blocked_over_3d", BW_MK_POINT, BW_MS_TICKET, BW_MU_COUNT,
     "Blocked over 3 days",
     "in-progress tickets blocked at the week's end for at least 72 hours"},
    {"ticket_blocked_share", BW_MK_DISTRIBUTION, BW_MS_TICKET, BW_MU_RATIO,
     "Blocked share of cycle time",
     "blocked time / cycle time, tickets done in the week with a cycle "
     "time"},
    {"bug_cycle_time", BW_MK_DURATION, BW_MS_TICKET, BW_MU_DAYS,
     "Bug cycle time", "ticket cycle time of bugs done in the week"},
    {"ticket_reopen_rate", BW_MK_RATE, BW_MS_TICKET, BW_MU_RATIO, "Reopen rate",
     "tickets done in the week that were reopened / tickets done in the "
     "week"},
    {"ticket_net_flow", BW_MK_COUNT, BW_MS_TICKET, BW_MU_COUNT, "Net flow",
     "tickets created minus tickets done in the week"},
    {NULL, 0, 0, 0, NULL, NULL}};

const struct bw_metric *bw_metric_find(const char *name)
{
    for (const struct bw_metric *m = bw_metrics; m->name; m++) {
        if (strcmp(m->name, name) == 0) {
            return m;
        }
    }
    return NULL;
}

const char *bw_metric_unit_name(int unit)
{
    static const char *const names[] = {"",      "hours", "days",
                                        "lines", "count", "ratio"};

    return unit >= BW_MU_HOURS && unit <= BW_MU_RATIO ? names[unit] : "";
}

const char *bw_metric_kind_name(int kind)
{
    static const char *const names[] = {"",      "duration", "distribution",
                                        "count", "rate",     "point-in-time"};

    return kind >= BW_MK_DURATION && kind <= BW_MK_POINT ? names[kind] : "";
}

int bw_metric_has_stats(const struct bw_metric *m)
{
    return m->kind == BW_MK_DURATION || m->kind == BW_MK_DISTRIBUTION;
}

int bw_metric_parse_bound(const struct bw_metric *m, const char *s, double *out)
{
    char *end;
    double v;
    long secs;

    if (s == NULL || *s == '\0') {
        return BW_EPARSE;
    }
    switch (m->unit) {
    case BW_MU_HOURS:
    case BW_MU_DAYS:
        v = strtod(s, &end);
        if (end != s && *end == '\0' && isfinite(v) && v >= 0) {
            *out = v;
            return 0;
        }
        if (bw_parse_duration(s, &secs)) {
            return BW_EPARSE;
        }
        *out = (double)secs / (m->unit == BW_MU_HOURS ? 3600.0 : 86400.0);
        return 0;
    case BW_MU_RATIO:
        return bw_parse_ratio(s, out);
    default:
        v = strtod(s, &end);
        if (end == s || *end != '\0' || !isfinite(v) || v < 0) {
            return BW_EPARSE;
        }
        *out = v;
        return 0;
    }
}
