/*
 * collector.h - the collector plugin interface and the sink it writes to.
 *
 * A collector is one exported const struct bw_collector (compare Fluent
 * Bit's struct flb_input_plugin). Built-ins sit in the static table of
 * collectors/registry.c; an external plugin is a .so in [plugins] path that
 * exports `bw_collector_<name>`, refused when its abi differs from
 * BW_COLLECTOR_ABI. A collector never calls Redis, never sleeps and never
 * formats output: it reads and writes state only through the struct bw_sink
 * the core hands it, and talks HTTP only through sink->http.
 *
 * Checklist for adding a collector (after git's builtin.h):
 *   1. collectors/<name>.c exporting `const struct bw_collector
 *      bw_collector_<name>` with its key table and options struct;
 *   2. a row in collectors/registry.c;
 *   3. pure page parsers (JSON -> records) with unit tests on fixtures in
 *      tests/fixtures/<name>/ and on ../shared/api-samples when present;
 *   4. a fuzz target tests/fuzz/fuzz_<name>_page.c with a seed corpus;
 *   5. integration tests against tests/apisim;
 *   6. a section in docs/bellwether.ini.5.md.
 *
 * Sync rules every collector follows (DESIGN.md): each scope (a repository,
 * a project) has a high-water mark that moves (cursor_set) only when a walk
 * is complete; one API page of records is one commit_page() (one MULTI/EXEC);
 * check should_stop() between requests and return BW_EINTR when it is set.
 */
#ifndef BW_COLLECTOR_H
#define BW_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "bellwether/config.h"
#include "bellwether/http.h"
#include "bellwether/pr.h"
#include "bellwether/ticket.h"

#define BW_COLLECTOR_ABI 1

enum bw_record_kind {
    BW_REC_PR = 1,  /* u.pr */
    BW_REC_TICKET,  /* u.ticket */
    BW_REC_STATUSES /* u.statuses: the source's whole status catalog */
};

struct bw_record {
    int kind;
    const char *scope; /* repository "owner/name"; Jira: project key */
    union {
        const struct bw_pr *pr;
        const struct bw_ticket *ticket;
        struct {
            const struct bw_status_info *v;
            size_t n;
        } statuses;
    } u;
};

/* Run figures a collector keeps up to date (summaries, progress). */
struct bw_collect_stats {
    long items_seen;    /* listed and looked at */
    long items_new;     /* not stored before */
    long items_changed; /* stored before with another version */
    long items_known;   /* total to walk, when the API says; -1 unknown */
    long scopes_done, scopes_total;
    int quota_stop; /* stopped at min_quota_left (exit 0) */
};

struct bw_sink {
    void *ctx;            /* the store's; pass back to every call */
    struct bw_http *http; /* this source's client (auth set by init via
                              bw_collector_http_opts) */
    const struct bw_source_conf *src;
    int full;      /* --full: ignore marks and ETags */
    int64_t since; /* --since, or the source's since, or the
                              default: always set */
    struct bw_collect_stats stats;

    /* High-water mark of a scope: an opaque string ("" when none). */
    int (*cursor_get)(void *ctx, const char *scope, char *buf, size_t n);
    /* Takes effect with the next commit_page(). */
    int (*cursor_set)(void *ctx, const char *scope, const char *value);
    /* Stored versions (updated_at) of n items of a scope, one round trip.
       versions[i] is NULL when not stored, else caller frees with bw_free. */
    int (*item_versions)(void *ctx, const char *scope, const char *const *ids,
                         size_t n, char **versions);
    int (*etag_get)(void *ctx, const char *url, char *buf, size_t n);
    int (*etag_put)(void *ctx, const char *url, const char *etag);
    /* Queue a record for the page in progress (copied or packed now). */
    int (*emit)(void *ctx, const struct bw_record *rec);
    /* Write the page: one MULTI/EXEC of everything emitted since the last
       commit, cursors and ETags included. */
    int (*commit_page)(void *ctx);
    /* Drop what was emitted since the last commit. */
    void (*discard_page)(void *ctx);
    /* Nonzero (BW_EINTR, BW_ELEASE) when the run must stop now. */
    int (*should_stop)(void *ctx);
    /* Source-level bookkeeping values (a Jira user's time zone, ...):
       "" when unset. Not data keys. */
    int (*meta_get)(void *ctx, const char *name, char *buf, size_t n);
    int (*meta_set)(void *ctx, const char *name, const char *value);
};

struct bw_collector {
    unsigned abi;     /* BW_COLLECTOR_ABI */
    const char *name; /* the [source] type: "github", "jira" */
    const char *description;
    const struct bw_config_key *keys; /* its [source NAME] keys, {0}-ended */
    size_t opts_size;                 /* size of the options struct keys fill */
    /* Check options beyond the key table (e.g. "repos or org"); log
       "FILE:LINE: ..." via src and return BW_ECONFIG. May be NULL. */
    int (*validate)(const struct bw_source_conf *src);
    /* HTTP settings for this source: api kind, Authorization value, the
       secret's source name. The core creates sink->http from them. */
    int (*http_opts)(const struct bw_source_conf *src,
                     struct bw_http_opts *opts);
    int (*init)(const struct bw_source_conf *src, void **ctx);
    /* One pass. Returns 0 (also after a clean min_quota_left stop, with
       stats.quota_stop set) or a BW_E* status. */
    int (*collect)(void *ctx, struct bw_sink *sink);
    /* The metric rules of this source's items (derive, reindex), borrowed
       from src->opts; either pointer may be NULL. The store fills
       ticket->statuses from the stored catalog. */
    void (*rules)(const struct bw_source_conf *src, struct bw_pr_rules *pr,
                  struct bw_ticket_rules *ticket);
    /* One cheap request proving the credentials work (`bellwether check`). */
    int (*check)(void *ctx, struct bw_sink *sink);
    void (*free)(void *ctx);
};

/* The built-in collectors, NULL-ended (collectors/registry.c). */
extern const struct bw_collector *const bw_builtin_collectors[];
/* Find a collector by type name: built-ins, then plugins_path/<name>.so.
   NULL when none (or the .so's ABI differs: logged). */
const struct bw_collector *bw_collector_find(const char *name,
                                             const char *plugins_path);

#endif
