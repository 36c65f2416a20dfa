/*
 * report.h - the weekly report: its model (every number of one ISO week
 * for the organisation or one team), the Markdown, HTML and JSON writers,
 * the output files, its copy in Redis, and the driver `bellwether report`,
 * the daemon and the demo share.
 *
 * Data flows one way (DESIGN.md): store -> metrics engine (query.h) ->
 * model (reports/report.c) -> writers. The model never computes a metric
 * itself: every number is a row statistic the engine returned, so the
 * report and `bellwether query` always agree. The writers are pure
 * functions of the model (and of nothing else: no clock, no zone lookups
 * beyond the zone the model was built in), so re-running a week with
 * BELLWETHER_NOW fixed gives the same bytes.
 *
 *   reports/report.c    the model: which metrics, targets, freshness
 *   reports/markdown.c  GitHub-flavoured Markdown + the Markdown escaper
 *   reports/html.c      Markdown -> HTML with cmark-gfm (table and
 *                       strikethrough, safe mode, inline CSS for mail)
 *   reports/json.c      JSON, every number unrounded
 *   reports/output.c    output paths, temp file + rename, the driver
 *   src/store_report.c  the report's Redis calls (P report:...)
 *
 * Presentation rules are METRICS.md's: no data is NAN in the model, null
 * in JSON and an en dash in Markdown; hours and days one decimal, counts
 * integers, ratios whole percentages; delta in percent (percentage points
 * for ratios); a weeks_of_trend sparkline; target statuses.
 */
#ifndef BW_REPORT_H
#define BW_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "bellwether/buf.h"
#include "bellwether/clock.h"
#include "bellwether/config.h"
#include "bellwether/metrics.h"
#include "bellwether/stats.h"

struct bw_store;

/* ---- the model -------------------------------------------------------- */

/* Lists are cut to this many items (the JSON says how many there were). */
#define BW_REPORT_MAX_ITEMS 20
/* "the five oldest", "the PRs waiting longest": the short lists. */
#define BW_REPORT_SHORT_LIST 5

/* Subjects a report covers: PR sections need a GitHub-like source, ticket
 * sections a Jira-like one (an unknown plugin counts as both). */
#define BW_REPORT_PRS 0x1
#define BW_REPORT_TICKETS 0x2

/* One PR or ticket of a list. */
struct bw_report_item {
    char *key;    /* "acme/api#42", "OPS-7" */
    char *url;    /* or NULL */
    char *title;  /* or NULL */
    double value; /* in the unit of the section's item_metric */
};

/* One number: a statistic of a metric this week. */
struct bw_report_value {
    const struct bw_metric *metric;
    int stat;     /* enum bw_query_stat */
    double value; /* NAN: no data */
};

/* Sections, in the order the writers print them. */
enum bw_report_section_id {
    BW_RS_PULL_REQUESTS = 0,
    BW_RS_AWAITING_REVIEW, /* PRs waiting longest for a first review */
    BW_RS_TICKETS,
    BW_RS_AGEING_WIP, /* the oldest tickets in progress */
    BW_RS_BLOCKED,    /* tickets blocked over 3 days */
    BW_RS_COUNT
};

struct bw_report_section {
    int id;            /* enum bw_report_section_id */
    const char *slug;  /* "pull_requests", ...: static */
    const char *title; /* "Pull requests", ...: static */
    struct bw_report_value *values;
    size_t nvalues;
    const struct bw_metric *item_metric; /* whose items; or NULL */
    int item_unit; /* enum bw_metric_unit of item values (the engine's
                      bw_query_item_value_doc(): hours waiting, days) */
    struct bw_report_item *items; /* largest value first */
    size_t nitems;
    size_t items_total; /* before the cut to BW_REPORT_MAX_ITEMS / short */
};

/* One row of the leading-indicators table. */
struct bw_report_indicator {
    const struct bw_metric *metric;
    int stat;         /* enum bw_query_stat */
    double this_week; /* NAN: no data */
    double last_week;
    double delta;  /* bw_delta(): percent, or points for ratios; NAN */
    double *trend; /* weeks_of_trend values, oldest first, this week last */
    size_t ntrend;
    int has_target;
    struct bw_target_bound bound;
    int status;      /* enum bw_target_status of this week */
    int last_status; /* of last week (for "right after an off-track week") */
};

/* What the report says for the organisation, or for one team. */
struct bw_report_scope {
    char *team; /* NULL: the whole organisation */
    struct bw_report_indicator *indicators;
    size_t nindicators;
    struct bw_report_section sections[BW_RS_COUNT];
    unsigned subjects; /* BW_REPORT_PRS | BW_REPORT_TICKETS */
};

/* The freshness of one source at the week's end. */
struct bw_report_source {
    char *name;           /* [source NAME] */
    char *type;           /* "github", "jira", ... */
    int64_t last_success; /* BW_TIME_NONE: never */
    int64_t last_run;     /* BW_TIME_NONE: never */
    int failed;           /* its last run failed */
    int stale;            /* last success older than stale_after at the
                             week's end (or never) */
};

struct bw_report {
    int year, week;
    char week_name[BW_TIME_BUFSZ]; /* "2026-W46" */
    int64_t start, end;   /* [start, end): the week in the report zone */
    char *timezone;       /* [report] timezone */
    int64_t generated_at; /* bw_now() */
    long weeks_of_trend;
    long stale_after; /* seconds */
    unsigned subjects;
    struct bw_report_source *sources;
    size_t nsources;
    struct bw_report_scope main;   /* the organisation, or --team's team */
    struct bw_report_scope *teams; /* one per [team] for the organisation */
    size_t nteams;
};

struct bw_report_opts {
    int year, week;   /* 0, 0: the last complete week before now */
    const char *team; /* NULL: the organisation, with a section per team */
    int64_t now;      /* bw_now() */
    int no_teams;     /* leave the per-team sections out */
};

/*
 * Build the model of a week from the store with the engine (query.h),
 * in the current zone (the caller has set [report] timezone). Errors:
 * BW_EUSAGE (unknown team, a week that has not started: logged),
 * BW_EREDIS, BW_ENOMEM. On success the caller frees *out with
 * bw_report_free().
 */
int bw_report_build(struct bw_store *st, const struct bw_config *cfg,
                    const struct bw_report_opts *o, struct bw_report **out);
void bw_report_free(struct bw_report *r);

/* An empty model for week (year, week) in the current zone, to be filled
 * by hand (tests) or by bw_report_build(). Caller frees with
 * bw_report_free(). 0, BW_EPARSE (bad week) or BW_ENOMEM. */
int bw_report_new(int year, int week, const char *timezone, long weeks_of_trend,
                  struct bw_report **out);

/* The leading indicators every report shows (then any metric with a
 * [target]): NULL-name-ended {metric, stat} pairs. */
struct bw_report_ind_spec {
    const char *metric;
    int stat; /* enum bw_query_stat */
};
extern const struct bw_report_ind_spec bw_report_indicators[];

/* "platform" or NULL -> "2026-W46" or "2026-W46-platform" (the file name
 * without extension; the team name made safe for a file name). */
int bw_report_basename(const struct bw_report *r, struct bw_buf *out);
/* "bellwether weekly report 2026-W46 (2026-11-09 to 2026-11-15)" + the
 * team; plain UTF-8, one line (mail subject, HTML title). */
int bw_report_title(const struct bw_report *r, struct bw_buf *out);

/* ---- writers (pure) --------------------------------------------------- */

enum bw_report_format {
    BW_RF_MD = 0x1,
    BW_RF_HTML = 0x2,
    BW_RF_JSON = 0x4
};
/* "md", "html", "json" -> BW_RF_*, or 0. */
int bw_report_format_find(const char *name);
/* The extension of one format: "md", "html", "json". */
const char *bw_report_format_ext(int fmt);

/* Append the report as GitHub-flavoured Markdown. */
int bw_report_markdown(const struct bw_report *r, struct bw_buf *out);
/* Append the report as one HTML document (the Markdown rendered). */
int bw_report_html(const struct bw_report *r, struct bw_buf *out);
/* Append the report as JSON (one object, a newline at the end). */
int bw_report_json(const struct bw_report *r, struct bw_buf *out);

/*
 * Render Markdown (len bytes) to one HTML document with cmark-gfm: the
 * table and strikethrough extensions attached (never autolink), safe mode
 * (raw HTML and javascript: links dropped; never CMARK_OPT_UNSAFE), inline
 * CSS on the tags mail clients style, title HTML-escaped into <title>.
 * 0 or BW_ENOMEM.
 */
int bw_markdown_to_html(const char *md, size_t len, const char *title,
                        struct bw_buf *out);

/*
 * Append s (len bytes, any bytes) as inert inline Markdown text: every
 * ASCII punctuation character backslash-escaped (so no emphasis, link,
 * code span, HTML, entity, table pipe or strikethrough can start), line
 * breaks, tabs and other control bytes as one space each (CR LF as one),
 * invalid UTF-8 as U+FFFD. The result renders as the literal text in a
 * paragraph, a heading, a list item or a table cell. Pure; fuzzed.
 */
int bw_md_escape(struct bw_buf *b, const char *s, size_t len);
/* bw_md_escape() of at most max code points of s, "…" when cut. */
int bw_md_escape_cut(struct bw_buf *b, const char *s, size_t max);
/*
 * Append a link to url with text already in Markdown (bw_md_escape()d):
 * "[text](url)" when url is http(s) (bytes outside a safe set
 * percent-encoded, so the destination never ends early or breaks a table
 * cell), else the text alone.
 */
int bw_md_link(struct bw_buf *b, const char *text_md, const char *url);

/*
 * Decode one UTF-8 sequence at s (n > 0 bytes left): returns its length
 * (1..4) and the code point in *cp, or 1 and U+FFFD for an invalid or
 * overlong sequence, a surrogate or a truncated one.
 */
size_t bw_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Append code point cp as UTF-8. */
int bw_utf8_put(struct bw_buf *b, uint32_t cp);
/* Append s as a JSON string (quotes included; NULL as null) that is
 * always valid UTF-8: invalid bytes become U+FFFD. */
int bw_report_json_string(struct bw_buf *b, const char *s);

/* ---- output ------------------------------------------------------------- */

/*
 * Write len bytes to path all or nothing: a temp file in the same
 * directory, fwrite, fflush, ferror, fsync, fclose checked, then rename
 * over path; on any failure (a full disk, RLIMIT_FSIZE: SIGXFSZ is
 * ignored so the write fails with EFBIG) the temp file is removed and an
 * existing path is left as it was. "-" writes to stdout. BW_EIO (logged).
 */
int bw_report_write_file(const char *path, const char *data, size_t len);

/* What `report` (and the daemon, and the demo) asks for. */
struct bw_report_run_opts {
    int year, week;      /* 0, 0: the last complete week before now */
    const char *team;    /* NULL: the organisation */
    int formats;         /* BW_RF_* mask; 0: md (all three into out_dir) */
    const char *out;     /* --out FILE or "-"; NULL: out_dir, else stdout */
    const char *out_dir; /* overrides [report] out_dir when set */
    int email;           /* also mail it ([email]) */
    int no_store;        /* do not keep a copy in Redis */
};

/* What a run produced, for the caller's summary. */
struct bw_report_run_result {
    char week_name[BW_TIME_BUFSZ];
    char *paths[3];           /* files written, in md, html, json order; NULL */
    int mailed;               /* the message was accepted by the server */
    struct bw_report *report; /* the model (owned: release frees it) */
};
void bw_report_run_result_release(struct bw_report_run_result *res);

/*
 * Build, render, write (files or stdout), keep in Redis and optionally
 * mail one report. The files are written before the mail is sent, so an
 * SMTP failure (BW_ESMTP) still leaves them. Other errors: those of
 * bw_report_build(), BW_EIO (a file), BW_ECONFIG (--email without
 * [email]). res may be NULL.
 */
int bw_report_run(struct bw_store *st, const struct bw_config *cfg,
                  const struct bw_report_run_opts *o,
                  struct bw_report_run_result *res);

/* ---- Redis (src/store_report.c) ----------------------------------------- */

/*
 * Keep a rendered report (bookkeeping keys, one MULTI/EXEC):
 *   P report:{SCOPE}:WEEK   hash: md, json, week, team, generated_at,
 *                           first_generated_at, generations
 *   P report:{SCOPE}:weeks  sorted set: WEEK scored by the week's start
 *                           (the report's history, oldest first)
 *   P report:{SCOPE}:log    list, newest first, at most 520 entries:
 *                           "GENERATED_AT WEEK MD_BYTES JSON_BYTES"
 * SCOPE is "org" or "team:NAME" ('{', '}', '%' and control bytes of NAME
 * as %XX, so the hash tag stays whole). BW_EREDIS or BW_ENOMEM.
 */
int bw_store_report_put(struct bw_store *st, const struct bw_report *r,
                        const char *md, size_t md_len, const char *json,
                        size_t json_len);
/* The stored Markdown (or JSON with json set) of a week, for tests and
 * tools: *out is a copy (caller frees with bw_free()), NULL when none. */
int bw_store_report_get(struct bw_store *st, const char *team, const char *week,
                        int json, char **out);

#endif
