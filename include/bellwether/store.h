/*
 * store.h - bellwether's Redis store: the connection, the schema, the sink
 * collectors write to, the index rows queries read, reindex and the
 * canonical dump (hiredis 0.14 underneath; only src/store*.c include it).
 *
 * Every key sits under one prefix P (default "bw:"). Hash tags keep what one
 * API page writes in one slot: a Jira source (collector "jira") tags per
 * source, TAG = "SRC:SRC" (e.g. bw:ticket:{jira:jira}:OPS-7); every other
 * source tags per scope, GitHub per repository, TAG = "SRC:owner/repo"
 * (e.g. bw:pr:{gh:acme/api}:42). SRC is the [source NAME]; it may not hold
 * ':', '{' or '}' (BW_ECONFIG), a scope not '{' or '}'.
 *
 * Data keys (compared by the canonical dump: "the store equals a --full
 * run"):
 *   P schema             string "1" (BW_STORE_SCHEMA); another value is
 *                        refused (BW_ESCHEMA); created in an empty store
 *   P sources            set of source names that have a sink
 *   P scopes             set of TAGs that hold data (queries iterate them)
 *   P pr:{TAG}:N         hash, one PR: f = fields and derived fields,
 *                        ev = events, rows = its index members
 *   P ticket:{TAG}:KEY   hash, one ticket: f, hist = history, rows
 *   P statuses:{TAG}     hash, the Jira status catalog: id ->
 *                        "category\x1fname" (needed by reindex)
 *   P ix:INDEX:{TAG}     sorted sets of compact rows (below), scored by
 *                        epoch seconds; INDEX is one of enum bw_store_ix
 * Bookkeeping keys (not compared, not dumped):
 *   P cursor:{TAG}       hash scope -> high-water mark (cursor_set)
 *   P ver:{TAG}          hash item id -> updated_at as decimal epoch
 *                        seconds (item_versions: one HMGET per call)
 *   P etag:{SRC:SRC}     hash URL -> ETag (per source: a URL names no scope)
 *   P meta:{SRC}         hash: config_hash and the collector's meta_set
 *   P run:{SRC}          hash: last run figures (bw_store_run_record)
 *   P lease:{SRC}, P report:...  (other modules)
 * Cursors, ETags and versions are written in the same MULTI/EXEC as the
 * page they describe. P sources / P scopes are written outside it (they
 * cross slots; idempotent SADDs).
 *
 * Why an item hash packs its fields into three values instead of one
 * hash field per PR field (as first planned): Redis keeps a hash with a
 * value longer than 64 bytes (the events always are) as a real hash table,
 * at ~80 bytes per field. One field per PR field measured 3.9 KB of Redis
 * memory per PR against the 2 KB budget; this layout (f holding fields and
 * derived fields, derived times relative) 1.97 KB per PR on the
 * simulator's small organisation, 1.88 KB on test_store.c's typical PR
 * (test "memory_and_cpu"), index rows and versions included. Merging
 * f and the derived fields saved ~60 bytes, relative times ~40.
 *
 * ---- packed values (escaped text) ----------------------------------------
 * A packed value is fields separated by '|'. In every text field the bytes
 * '%', '|', ',', '~', and those below 0x20 or equal to 0x7f are written as
 * %XX (upper-case hex); a NULL string is the lone field "%" (a deleted
 * user); a missing time (BW_NOTIME) or a NAN number is the empty field.
 * Times are decimal epoch seconds, durations whole seconds. Lists are
 * items joined by ','; a spell is "START~END" with END empty while it goes
 * on. Times inside rows marked (rel) are offsets from the row's base time.
 *
 * PR hash (P pr:{TAG}:N):
 *   f    the fields, 15 values: title|url|author|author_flags|open|draft|
 *        base|labels|created_at|updated_at|closed_at|merged_at|additions|
 *        deletions|commits
 *        then the derived fields (bw_pr_derive()), 17 values:
 *        first_commit_at|ready_at|first_review_at|first_response_at|
 *        approved_at|pickup_at|response_at (these seven relative to
 *        created_at)|size|review_rounds|commits_truncated|excluded_reason|
 *        review_load_excluded|coding|pickup|review|cycle|ttfr (the last
 *        five in whole seconds; opened, merged and closed are the fields'
 *        created_at, merged_at and closed_at)
 *   ev   bw_pr_pack_events() of the events sorted by (t, kind, t2, state,
 *        actor_flags, actor), so the text does not depend on API order
 *   rows one line per index member the PR has now: "C MEMBER" with C the
 *        index's letter (m o p r d c t); the next write ZREMs those lines
 *        that it does not write again
 * Ticket hash (P ticket:{TAG}:KEY):
 *   f    the fields, 18 values: id|project|summary|url|type|priority|
 *        status_id|status_name|assignee_id|assignee_name|labels|
 *        components|parent|story_points|flagged_now|created_at|updated_at|
 *        changelog_incomplete
 *        then the derived fields (bw_ticket_derive()), 11 values:
 *        initial_status|started_at|done_at (relative to created_at)|
 *        reopen_count|stage_now|blocked_now|excluded|unknown_status|
 *        blocked|cycle|lead (seconds; blocked = blocked_time, written
 *        only once done, since before that it depends on "now")
 *   hist bw_ticket_pack_history() of the transitions and flag changes
 *        sorted by (t, hid)
 *   rows as for PRs
 *
 * ---- index rows (members of P ix:INDEX:{TAG}) -----------------------------
 *   merged  score merged_at, PRs merged:
 *           N|author|flags|excl|coding|pickup|review|cycle|ttfr|size|
 *           rounds|labels
 *   opened  score opened_at, every PR:  N|author|flags|excl|labels
 *   pit     score = end of the PR's last open stretch (BW_STORE_OPEN_END
 *           while open), every PR:
 *           N|author|flags|excl|opened_at|open(rel)|draft(rel)|ready(rel)|
 *           first_review(rel)|stale(rel)|labels      (base: opened_at)
 *   reviews score submitted_at, one per counted review (bw_pr_review_counts)
 *           of PRs not excluded by label or base:
 *           N|reviewer|author|state|k     (k: 0-based rank of the review
 *           among the PR's counted ones, keeping members unique)
 *   done    score done_at, tickets done:
 *           KEY|project|type|assignee_id|assignee_name|flags|cycle|lead|
 *           blocked|reopens|labels
 *   created score created_at, every ticket:
 *           KEY|project|type|assignee_id|assignee_name|flags|labels
 *   tpit    score = end of the last in-progress stretch
 *           (BW_STORE_OPEN_END while in progress), tickets ever in progress:
 *           KEY|project|type|assignee_id|assignee_name|flags|started_at|
 *           in_progress(rel)|blocked(rel)|labels    (base: started_at)
 * flags are BW_PRF_* / BW_TKF_* in decimal; excl is enum bw_pr_excl.
 * Excluded items keep their rows, flagged: queries filter on flags. Labels
 * ride in the rows (for --where label=X). Decode members with
 * bw_pr_row_parse() / bw_ticket_row_parse(); never split them by hand.
 *
 * Errors: every function returns 0 or a BW_E* status and logs what failed
 * (with the URL, never a password) and what to do. A dropped connection is
 * reconnected once and the operation (a whole page) retried once: pages are
 * MULTI/EXEC and every write is idempotent. A page is atomic against
 * anything that fails before EXEC (a refused command: EXECABORT; a dropped
 * connection); a command failing inside EXEC (WRONGTYPE: someone else's
 * key under our prefix) is reported, but Redis has applied the others.
 * hiredis 0.14 aborts on out-of-memory inside itself (no allocator hooks).
 */
#ifndef BW_STORE_H
#define BW_STORE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bellwether/buf.h"
#include "bellwether/collector.h"
#include "bellwether/config.h"
#include "bellwether/ticket.h" /* struct bw_spell */

#define BW_STORE_SCHEMA 1
/* Score of a pit/tpit row whose stretch is still going (< 2^53). */
#define BW_STORE_OPEN_END INT64_C(9000000000000000)

/* ---- connection ---------------------------------------------------- */

/*
 * Take a [redis] url apart: "redis://HOST[:PORT][/]" (HOST a name, an IPv4
 * address or a bracketed IPv6 address; PORT 1..65535, default 6379) or
 * "unix:///PATH" (an absolute path shorter than a socket path may be).
 * len bytes of s, no NUL needed. User info ("user:pass@"), a database path
 * ("/2": use [redis] db), queries and blanks are refused. Pure, fuzzed.
 * 0 or BW_EPARSE (*out is then cleared).
 */
int bw_store_parse_url(const char *s, size_t len, struct bw_redis_addr *out);

struct bw_store;

#define BW_STORE_CREATE 0x1 /* write the schema key into an empty store */

/*
 * Connect (connect and command timeout conf->timeout seconds, default 5),
 * AUTH (user + password, or password alone), SELECT conf->db, then check
 * the schema key: another version is BW_ESCHEMA; none is created with
 * BW_STORE_CREATE, else the store counts as empty (reads find nothing).
 * Errors: BW_EREDIS ("cannot reach Redis at URL: reason; ..."), BW_EAUTH
 * (password refused: the message names password_env / password_file),
 * BW_ECONFIG (bad url, SELECT refused), BW_ESCHEMA, BW_ENOMEM. On success
 * the caller frees *out with bw_store_free().
 */
int bw_store_open(const struct bw_redis_conf *conf, unsigned flags,
                  struct bw_store **out);
void bw_store_free(struct bw_store *st);
/* The prefix, and the URL for messages (no credentials). Borrowed. */
const char *bw_store_prefix(const struct bw_store *st);
const char *bw_store_url(const struct bw_store *st);
/* 1 when the store has no schema key yet (opened without CREATE). */
int bw_store_is_empty(const struct bw_store *st);

/*
 * Set by the SIGINT/SIGTERM handlers cmd_collect (and the daemon) install:
 * every sink's should_stop() then returns BW_EINTR. Reset it with 0.
 */
extern volatile sig_atomic_t bw_store_stop_requested;

/* ---- the sink (collector.h) ------------------------------------------ */

/*
 * Fill sink for one source: its callbacks, ctx, src, full and since (the
 * caller sets sink->http). Loads the source's metric rules
 * (collector->rules) and its stored status catalog, and adds the source to
 * P sources. full makes cursor_get/etag_get return "" (item_versions
 * still answers: the collector decides, it sees sink->full). Release with
 * bw_store_sink_release() (drops an uncommitted page).
 */
int bw_store_sink_init(struct bw_store *st, const struct bw_source_conf *src,
                       int full, int64_t since, struct bw_sink *sink);
void bw_store_sink_release(struct bw_sink *sink);

/* What a sink did, for summaries and P run:{SRC}. */
struct bw_store_sink_stats {
    long items;          /* PRs and tickets written by committed pages */
    long pages;          /* pages committed */
    long retries;        /* pages sent again (reconnect, WATCH conflict) */
    int catalog_changed; /* a stored, different status catalog was
                            replaced: run bw_store_reindex() afterwards */
};
void bw_store_sink_stats(const struct bw_sink *sink,
                         struct bw_store_sink_stats *out);

/* ---- bookkeeping ----------------------------------------------------- */

/* P meta:{SRC} "config_hash" into buf ("" when none). */
int bw_store_config_hash_get(struct bw_store *st, const char *source, char *buf,
                             size_t n);
int bw_store_config_hash_set(struct bw_store *st, const char *source,
                             const char *hash);

/* One run of one source, written to P run:{SRC} (bookkeeping). */
struct bw_store_run {
    int64_t started; /* bw_now() at the start */
    double duration; /* seconds */
    int rc;          /* the source's status */
    long items, requests, not_modified;
    long quota_left; /* -1 unknown */
    /* The summary's figures (progress.h: bw_summary_fill_run()); a
       caller that leaves them 0 / NULL writes items_* as 0 and no
       quota_limit, quota_reset or summary. */
    long items_seen, items_new, items_changed;
    long quota_limit;    /* <= 0: unknown, not written */
    int64_t quota_reset; /* real epoch seconds; <= 0: not written */
    const char *summary; /* the summary line, or NULL */
    const char *error;   /* a failure's one-line detail (no secrets), or
                            NULL: bw_strerror(rc) */
};
/* Fields: last_run, duration, status ("ok", "interrupted" or "failed"),
 * error ("" or bw_strerror), items, requests, not_modified, quota_left,
 * items_seen, items_new, items_changed, [quota_limit, quota_reset,
 * summary,] and last_success or last_failure (bw_now() epoch seconds);
 * a failure also sets last_error (the detail), which a later success
 * leaves in place for `status`. */
int bw_store_run_record(struct bw_store *st, const char *source,
                        const struct bw_store_run *run);

/* ---- reindex --------------------------------------------------------- */

struct bw_store_reindex_stats {
    long prs, tickets; /* items rewritten */
    long skipped;      /* keys that did not decode (logged) */
};

/*
 * Rebuild the derived fields and index rows of every stored item of src
 * from the stored fields and events, with src's current rules: SCAN MATCH
 * P pr:{SRC:* and P ticket:{SRC:*, HGETALL in pipelined batches, one
 * MULTI/EXEC per batch of 100. No HTTP. Then store src->metric_hash as the
 * config hash. out may be NULL.
 */
int bw_store_reindex(struct bw_store *st, const struct bw_source_conf *src,
                     struct bw_store_reindex_stats *out);

/* ---- queries: index rows --------------------------------------------- */

enum bw_store_ix {
    BW_IX_MERGED = 0, /* PRs, score merged_at */
    BW_IX_OPENED,     /* PRs, score opened_at */
    BW_IX_PIT,        /* PRs, score end of last open stretch */
    BW_IX_REVIEWS,    /* counted reviews, score submitted_at */
    BW_IX_DONE,       /* tickets, score done_at */
    BW_IX_CREATED,    /* tickets, score created_at */
    BW_IX_TPIT,       /* tickets, score end of last in-progress stretch */
    BW_IX_COUNT
};
/* "merged", "opened", "pit", "reviews", "done", "created", "tpit". */
const char *bw_store_ix_name(int ix);
/* enum bw_store_ix of a name, or -1. */
int bw_store_ix_find(const char *name);

/* The TAGs in P scopes, sorted (caller releases with
 * bw_strlist_release()). */
int bw_store_scopes(struct bw_store *st, struct bw_strlist *out);

/*
 * Called per member: tag is the scope's TAG ("gh:acme/api"), member the
 * row (len bytes, NUL-terminated, valid during the call), score its score.
 * A nonzero return stops the scan and is returned.
 */
typedef int (*bw_store_row_cb)(void *arg, const char *tag, const char *member,
                               size_t len, double score);

/*
 * Every member of index ix (enum bw_store_ix) with from <= score <= to
 * (both inclusive; BW_NOTIME for an open end), over the given tags (NULL:
 * every tag of P scopes), one pipelined ZRANGEBYSCORE per tag. Members
 * come per tag in the order of tags, each tag's by score.
 */
int bw_store_scan(struct bw_store *st, int ix, int64_t from, int64_t to,
                  const char *const *tags, size_t ntags, bw_store_row_cb cb,
                  void *arg);

/* ---- bw_store_scan_ranges (src/store_scan.c, for the query engine) ---- */

struct bw_store_range {
    int64_t from, to; /* inclusive score bounds; BW_NOTIME: open end */
};

#define BW_SCAN_SCORES 0x1 /* also the scores (WITHSCORES); else NAN */

/* Called per member with the index of the range it was asked under. */
typedef int (*bw_store_range_cb)(void *arg, const char *tag, size_t range,
                                 const char *member, size_t len, double score);

/*
 * bw_store_scan() for many ranges at once: one ZRANGEBYSCORE per tag and
 * range in one pipeline (tags in order, each tag's ranges in order),
 * members handed to cb as each reply arrives and freed after it, scores
 * only with BW_SCAN_SCORES. A connection lost before the first member is
 * retried once; after it, BW_EREDIS (the caller counted rows already).
 */
int bw_store_scan_ranges(struct bw_store *st, int ix,
                         const struct bw_store_range *ranges, size_t nranges,
                         const char *const *tags, size_t ntags, unsigned flags,
                         bw_store_range_cb cb, void *arg);

/* Row flags of PR rows (merged, opened, pit; reviews carry none). */
#define BW_PRF_BOT 0x1        /* author is a bot (BW_ACTOR_BOT) */
#define BW_PRF_GHOST 0x2      /* author deleted (BW_ACTOR_GHOST) */
#define BW_PRF_EXCLUDED 0x4   /* left out of PR metrics (excl says why) */
#define BW_PRF_LOAD_EXCL 0x8  /* excluded by label/base: out of review load */
#define BW_PRF_REVIEWED 0x10  /* has a counted review (first_review_at) */
#define BW_PRF_TRUNCATED 0x20 /* commits_truncated */
#define BW_PRF_OPEN 0x40      /* open now */
#define BW_PRF_DRAFT 0x80     /* a draft now */
#define BW_PRF_MERGED 0x100   /* merged */

/* Row flags of ticket rows. */
#define BW_TKF_EXCLUDED 0x1     /* left out of every ticket metric */
#define BW_TKF_INCOMPLETE 0x2   /* changelog stayed short */
#define BW_TKF_UNKNOWN 0x4      /* a status missing from the catalog */
#define BW_TKF_BLOCKED 0x8      /* blocked now (status or flag) */
#define BW_TKF_FLAGGED 0x10     /* Flagged now */
#define BW_TKF_IN_PROGRESS 0x20 /* in an in_progress stage now */
#define BW_TKF_DONE 0x40        /* in a done stage now */

/* The memory a decoded row's strings and arrays point into (private to
 * store_rows.c); kept across parses, so a scan reuses it row after row. */
struct bw_row_mem {
    struct bw_buf text; /* the member, split into its fields */
    struct bw_spell *spells;
    size_t spells_cap;
    char **labels;
    size_t labels_cap;
};

/*
 * A decoded PR row. Which fields an index carries is in the list above;
 * the others are BW_NOTIME / -1 / NULL / 0. Strings and arrays point into
 * the row's own memory and stay valid until the next parse or release.
 */
struct bw_pr_row {
    int ix;              /* BW_IX_MERGED, _OPENED, _PIT or _REVIEWS */
    long number;         /* the PR number */
    const char *author;  /* PR author login; NULL: deleted user */
    unsigned flags;      /* BW_PRF_* (not in reviews rows) */
    int excluded_reason; /* enum bw_pr_excl (not in reviews rows) */
    /* merged: durations in whole seconds, BW_NOTIME when none (hours =
       seconds / 3600.0, as bw_pr_derive computes them) */
    int64_t coding, pickup, review, cycle, ttfr;
    long size;          /* additions + deletions; -1 not carried */
    long review_rounds; /* CHANGES_REQUESTED counted reviews; -1 */
    /* pit: absolute epoch seconds */
    int64_t opened_at;
    int64_t ready_at;            /* BW_NOTIME: never ready */
    int64_t first_review_at;     /* first counted review; BW_NOTIME: none */
    const struct bw_spell *open; /* open stretches (start, end) */
    size_t nopen;
    const struct bw_spell *draft; /* draft stretches [start, end) */
    size_t ndraft;
    const struct bw_spell *stale; /* [last activity + 7 d, next activity) */
    size_t nstale;
    /* reviews */
    const char *reviewer; /* NULL: deleted user */
    int state;            /* enum bw_review_state */
    long rank;            /* k */
    /* all but reviews */
    const char *const *labels;
    size_t nlabels;
    struct bw_row_mem mem_; /* private */
};

struct bw_ticket_row {
    int ix;                    /* BW_IX_DONE, _CREATED or _TPIT */
    const char *key;           /* "OPS-7" */
    const char *project;       /* project key */
    const char *type;          /* issue type name */
    const char *assignee_id;   /* account id (Cloud) or key; NULL: none */
    const char *assignee_name; /* display or user name; NULL: none */
    unsigned flags;            /* BW_TKF_* */
    /* done: whole seconds, BW_NOTIME when none (days = s / 86400.0) */
    int64_t cycle, lead;
    int64_t blocked;   /* blocked_time inside [started, done] */
    long reopen_count; /* -1 not carried */
    /* tpit: absolute epoch seconds */
    int64_t started_at;
    const struct bw_spell *in_progress; /* [start, end) */
    size_t nin_progress;
    const struct bw_spell *blocked_spells; /* [start, end) */
    size_t nblocked;
    const char *const *labels;
    size_t nlabels;
    struct bw_row_mem mem_; /* private */
};

void bw_pr_row_init(struct bw_pr_row *r);
void bw_pr_row_release(struct bw_pr_row *r);
/* Decode a member of index ix. 0, BW_EPARSE (row left cleared) or
 * BW_ENOMEM. Pure; fuzzable. */
int bw_pr_row_parse(struct bw_pr_row *r, int ix, const char *s, size_t len);
void bw_ticket_row_init(struct bw_ticket_row *r);
void bw_ticket_row_release(struct bw_ticket_row *r);
int bw_ticket_row_parse(struct bw_ticket_row *r, int ix, const char *s,
                        size_t len);
/* Does a row carry this label (exact match)? */
int bw_row_has_label(const char *const *labels, size_t n, const char *label);

/*
 * Point-in-time answers from a pit row at instant t (METRICS.md; state at
 * t counts the events at t):
 *   open:     opened_at < t and not closed or merged at t
 *             (some open stretch with start < t < end)
 *   draft:    some draft stretch with start <= t < end
 *   awaiting: open, not a draft, ready_at < t, and no counted review
 *             before t (first_review_at none or >= t)
 *   stale:    open, and the last activity at or before t is at or before
 *             t - 7 d (t inside a stale window)
 * Exclusions are the caller's (flags).
 */
int bw_pr_row_open_at(const struct bw_pr_row *r, int64_t t);
int bw_pr_row_draft_at(const struct bw_pr_row *r, int64_t t);
int bw_pr_row_awaiting_review_at(const struct bw_pr_row *r, int64_t t);
int bw_pr_row_stale_at(const struct bw_pr_row *r, int64_t t);
/*
 * From a tpit row at instant t: in progress (some stretch start <= t <
 * end); blocked (in progress and inside a blocked spell: *since, when not
 * NULL, gets that spell's start, for "blocked over 3 days").
 */
int bw_ticket_row_in_progress_at(const struct bw_ticket_row *r, int64_t t);
int bw_ticket_row_blocked_at(const struct bw_ticket_row *r, int64_t t,
                             int64_t *since);

/* ---- items ----------------------------------------------------------- */

/*
 * Load one stored PR (fields and events) into pr (bw_pr_init()ed by the
 * caller; released with bw_pr_release()). tag as in the key ("gh:acme/
 * api"). BW_ENOTFOUND when absent, BW_EPARSE when it does not decode.
 */
int bw_store_load_pr(struct bw_store *st, const char *tag, long number,
                     struct bw_pr *pr);
int bw_store_load_ticket(struct bw_store *st, const char *tag, const char *key,
                         struct bw_ticket *t);

/* ---- canonical dump ---------------------------------------------------- */

/*
 * Write every data key under the prefix to f, sorted by key, the prefix cut
 * off, so two stores holding the same data dump the same:
 *   "<type> <key>\n" then one line per element: "  <field> = <value>"
 *   (hash, by field), "  <member>" (set), "  <score> <member>" (zset, by
 *   member; integral scores without a fraction), "  <value>" (string).
 * Bytes below 0x20, 0x7f and '\\' are written as \xHH and \\.
 */
int bw_store_dump(struct bw_store *st, FILE *f);

/* ---- tests ------------------------------------------------------------- */

enum bw_store_fault {
    BW_STORE_FAULT_NONE = 0,
    BW_STORE_FAULT_DROP,  /* drop the connection after `after` commands of
                             the page's MULTI (no EXEC sent) */
    BW_STORE_FAULT_BADCMD /* queue an invalid command there (EXECABORT) */
};
/* Make the next `times` page commits fail that way (tests only). */
void bw_store_set_fault(struct bw_store *st, int kind, long after, int times);

#endif
