/*
 * progress.h - what `bellwether collect` shows an operator: a
 * self-updating progress line per source on a terminal, and a one-line
 * summary per source plus a final status line after the run (src/progress.c).
 *
 * Progress goes to stderr and only when stderr is a terminal and -q is not
 * given: cron, systemd and CI see none of it. The line is redrawn at most
 * BW_PROGRESS_REDRAW_MS apart (the HTTP client's tick hook calls
 * bw_progress_update() about once a second, quota waits included), is
 * never wider than the terminal (so "\r" can redraw it) and is cleared
 * when the source ends. It shows items done (and known, with an ETA,
 * only where the API says how many there are: bw_collect_stats.items_known,
 * set by a collector from a Data Center `total` or a GitHub `last` link),
 * requests sent and how many were 304s, requests per second, the quota
 * left and when it resets, and a countdown while the client waits for a
 * rate-limit reset (bw_http_stats.wait_until).
 *
 * The summary goes to stdout, so that under cron a successful run mails
 * exactly the summary, and -q prints nothing on success (failures are
 * the error lines the failing module logged):
 *
 *   gh: 1234 PRs (56 new, 78 changed) in 12.3 s, 1890 requests (1700 not
 *   modified), quota 3100/5000 left                        (one line)
 *   collect: ok, 2 sources (exit 0)
 *
 * The same figures are kept in P run:{SRC} for `status`
 * (bw_summary_fill_run() + bw_store_run_record()).
 *
 * The formatters are pure and unit-tested; the rest keeps one static
 * state: collect runs one source at a time in one thread.
 */
#ifndef BW_PROGRESS_H
#define BW_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "bellwether/buf.h"
#include "bellwether/collector.h"
#include "bellwether/http.h"

struct bw_store_run;

#define BW_PROGRESS_REDRAW_MS 250 /* at most ~4 redraws a second */
#define BW_PROGRESS_LINE_MAX 512  /* longest line drawn, in bytes */

/* ---- what to show ---------------------------------------------------- */

/* One source's figures at one instant, for the formatters. */
struct bw_progress_view {
    const char *source; /* [source NAME] */
    const char *noun;   /* "PRs", "tickets", "items" (bw_progress_noun) */
    const char *scopes; /* "repos", "projects", "scopes" */
    struct bw_collect_stats cs;
    long requests, not_modified;
    long quota_limit, quota_remaining; /* -1 unknown */
    int64_t quota_reset;               /* real epoch seconds; -1 unknown */
    int64_t wait_until;                /* real epoch s; 0: not waiting */
    int wait_quota;                    /* the wait is for the quota */
    double elapsed;                    /* seconds since the source began */
    double rate;                       /* requests per second, recent */
    int64_t now;                       /* real epoch seconds */
};

/* Noun for a collector's items ("github" -> "PRs", "jira" -> "tickets",
 * else "items") and its scopes ("repos", "projects", "scopes"). Static. */
const char *bw_progress_noun(const char *collector);
const char *bw_progress_scope_noun(const char *collector);

/*
 * The progress line of v into out (size n, always terminated), cut to
 * width bytes (never inside a UTF-8 sequence; width <= 0: no cut).
 * Returns the length written. Pure.
 */
size_t bw_progress_format(const struct bw_progress_view *v, int width,
                          char *out, size_t n);

/* "45s", "12m05s", "3h20m": a duration for people; returns buf. */
char *bw_progress_duration(double seconds, char *buf, size_t n);

/*
 * A GitHub-style rel="last" URL into an item count: its page=N times
 * per_page (the last page may be shorter: an upper bound within one
 * page). -1 when the URL carries no page number. For collectors that set
 * stats.items_known on a full walk. Pure.
 */
long bw_progress_known_from_last(const char *last_url, long per_page);

/* ---- the live line (stderr, terminals only) ------------------------- */

/*
 * Decide once per run: the line is drawn only when stderr is a terminal
 * and quiet is 0. Returns whether it is on.
 */
int bw_progress_setup(int quiet);
/* Start a source's line (does nothing when progress is off). */
void bw_progress_begin(const char *source, const char *collector);
/*
 * Redraw from the source's current figures, at most every
 * BW_PROGRESS_REDRAW_MS (force: now). Either pointer may be NULL.
 */
void bw_progress_update(const struct bw_collect_stats *cs,
                        const struct bw_http_stats *hs, int force);
/* Clear the line; the next output starts on a clean line. */
void bw_progress_end(void);

/* ---- the summary (stdout) ------------------------------------------- */

/* What one source's run did. */
struct bw_run_summary {
    const char *source;
    const char *noun;   /* bw_progress_noun() */
    int rc;             /* the source's status */
    int skipped;        /* leased by another process */
    const char *holder; /* then: "HOST pid N", or NULL */
    double seconds;
    struct bw_collect_stats cs;
    long requests, not_modified;
    long quota_limit, quota_remaining; /* -1 unknown */
    long min_quota_left;
};

/* Fill s from a source's figures (hs may be NULL: no HTTP client). */
void bw_summary_from(struct bw_run_summary *s, const char *source,
                     const char *collector, int rc,
                     const struct bw_collect_stats *cs,
                     const struct bw_http_stats *hs, double seconds,
                     long min_quota_left);

/*
 * The summary line of one source (no newline) appended to b:
 *   gh: 1234 PRs (56 new, 78 changed) in 12.3 s, 1890 requests (1700 not
 *   modified), quota 3100/5000 left
 * then "; stopped at min_quota_left (500)", "; failed: REASON" or, for a
 * skipped source, "gh: skipped, being collected by HOST pid N". Pure.
 */
int bw_summary_line(struct bw_buf *b, const struct bw_run_summary *s);

/*
 * The final line of a collect over nsources sources of which nfailed
 * failed, with status rc (no newline): "collect: ok, 2 sources (exit 0)",
 * "collect: partial, 1 of 2 sources failed; ... (exit 3)", ... Pure.
 */
int bw_summary_final_line(struct bw_buf *b, int rc, size_t nsources,
                          size_t nfailed);

/* Print a source's summary line to stdout unless quiet (clears the
 * progress line first). */
void bw_summary_print(const struct bw_run_summary *s, int quiet);
/* Print the final line to stdout unless quiet. */
void bw_summary_print_final(int rc, size_t nsources, size_t nfailed, int quiet);

/*
 * Copy s's figures into run (the fields bw_store_run_record() writes:
 * items seen/new/changed, requests, quota left/limit/reset, the summary
 * text). summary_text is borrowed until the record is written; NULL
 * leaves run->summary unset.
 */
void bw_summary_fill_run(struct bw_store_run *run,
                         const struct bw_run_summary *s,
                         const struct bw_http_stats *hs,
                         const char *summary_text);

#endif
