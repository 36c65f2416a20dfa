/*
 * http.h - the one HTTP client every collector uses (libcurl underneath).
 *
 * One struct bw_http per source: a curl_multi handle with at most
 * max_parallel transfers in flight, reused connections (keep-alive), one
 * easy handle per transfer slot. Requests are queued with bw_http_submit()
 * and run by bw_http_run(); each completion calls the request's callback,
 * which may submit more requests (the next page of a timeline, ...).
 *
 * Retries happen here, never in collectors: connection errors, 5xx, 429,
 * GitHub secondary limits and a callback that returns BW_HTTP_RETRY (a body
 * that did not parse) are retried with exponential backoff and jitter, up to
 * a fixed number of tries. Rate-limit headers are read per API: Retry-After
 * wins; GitHub's x-ratelimit-reset is epoch seconds, Jira's is ISO 8601. A
 * wait longer than max_rate_wait fails the request with BW_ERATELIMIT; a
 * shorter one sleeps in slices of at most one second, calling the tick hook
 * (lease renewal, signals) between slices. A 401, or a 403 with no sign of a
 * rate limit, is BW_EAUTH. The Authorization header is never logged (debug
 * output shows "Authorization: REDACTED") and goes only to the API's own
 * origin (opts.origin), never to a page another origin's link points at.
 *
 * Only src/http.c and src/mail.c include <curl/curl.h>.
 */
#ifndef BW_HTTP_H
#define BW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "bellwether/buf.h"

struct bw_http;

enum bw_api {
    BW_API_GENERIC = 0,
    BW_API_GITHUB,
    BW_API_JIRA
};

/* A callback returns this to have the request retried like a 5xx. */
#define BW_HTTP_RETRY 1

struct bw_http_opts {
    int api;                 /* enum bw_api: how to read rate limits */
    long max_parallel;       /* transfers in flight, >= 1 */
    long max_rate_wait;      /* seconds a quota wait may last (0: never
                                 wait, fail with BW_ERATELIMIT at once) */
    const char *ca_file;     /* extra CA bundle, or NULL */
    const char *auth;        /* full Authorization value, copied, secret */
    const char *auth_source; /* for messages: "GITHUB_TOKEN" (env name) or
                                 a file path; never the secret itself */
    const char *origin;      /* the API's base URL: auth goes only to its
                                 scheme, host and port (a `next` link to
                                 another origin is asked without it); NULL:
                                 to every URL */
    long connect_timeout;    /* seconds, default 10 */
    long timeout;            /* seconds per transfer, default 60 */
    size_t max_body;         /* bytes, default 64 MiB */
    int max_tries;           /* default 5 */
    /* Called about once a second while waiting (backoff, quota reset) and
       between transfers; nonzero stops everything with that status
       (BW_EINTR, BW_ELEASE). May be NULL. */
    int (*tick)(void *tick_arg);
    void *tick_arg;
    /* Source for error lines ("github:gh" prints "[github:gh] ..."),
       copied, or NULL. */
    const char *name;
};

/* Counters per source, for summaries, `status` and benchmarks. */
struct bw_http_stats {
    long requests;     /* transfers completed, retries included */
    long not_modified; /* 304s */
    long retries;
    long bytes;       /* response bodies */
    long quota_limit; /* from the last rate-limit headers; -1 unknown */
    long quota_remaining;
    int64_t quota_reset; /* epoch seconds; -1 unknown */
    double wait_seconds; /* time spent waiting for quota or backoff */
    long peak_parallel;  /* most transfers seen in flight at once */
    /* The last wait of the whole client for a rate limit: until this real
       epoch second (compare with bw_real_now(); 0: none yet), and whether
       it is for the quota reset (1) or a Retry-After / secondary limit
       (0). For progress lines: the tick hook runs during the wait. */
    int64_t wait_until;
    int wait_quota;
};

struct bw_http_resp {
    long status;        /* HTTP status; 304 for not modified */
    struct bw_buf body; /* owned by the client; valid during the callback */
    const char *etag;   /* ETag header or NULL */
    const char *next;   /* Link rel="next" URL, or NULL */
    const char *last;   /* Link rel="last" URL, or NULL */
    const char *url;    /* effective URL */
};

struct bw_http_req;
/*
 * Completion callback. Return 0 to go on, BW_HTTP_RETRY to retry the same
 * request, or a negative status to stop bw_http_run() with it (requests in
 * flight are abandoned). resp is NULL when the request failed for good;
 * then rc holds why (BW_EHTTP, BW_EAUTH, BW_ERATELIMIT, BW_EINTR) and the
 * callback's return is the run's result.
 */
typedef int (*bw_http_cb)(void *user, const struct bw_http_req *req,
                          const struct bw_http_resp *resp, int rc);

struct bw_http_req {
    const char *method;        /* "GET" (NULL) or "POST" */
    const char *url;           /* copied at submit */
    const char *body;          /* POST body (JSON), copied at submit */
    const char *if_none_match; /* ETag to send, copied, or NULL */
    bw_http_cb cb;
    void *user;
};

int bw_http_new(const struct bw_http_opts *opts, struct bw_http **out);
void bw_http_free(struct bw_http *h);

/* Queue a request (copies req's strings). */
int bw_http_submit(struct bw_http *h, const struct bw_http_req *req);
/*
 * Run until the queue is empty and nothing is in flight, or a callback or
 * failure stops it. Returns 0 or the stopping status.
 */
int bw_http_run(struct bw_http *h);
/* Convenience: one request, waited for; *resp_out is filled with a copy
 * (caller releases with bw_http_resp_release()). */
int bw_http_fetch(struct bw_http *h, const struct bw_http_req *req,
                  struct bw_http_resp *resp_out);
void bw_http_resp_release(struct bw_http_resp *resp);

const struct bw_http_stats *bw_http_stats(const struct bw_http *h);
/*
 * The last failure as one line (no secrets; http.c already logged it at
 * error level), or "". Owned by h; valid until its next failure.
 */
const char *bw_http_last_error(const struct bw_http *h);
/*
 * A failure a collector found in an answer the client delivered (a paging
 * loop, ...): log the line at error level, as given (fmt carries the
 * source's own "[github:gh]" prefix), and keep it as bw_http_last_error()
 * so `status` shows it. Never pass a secret.
 */
void bw_http_fail(struct bw_http *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A paginated walk's guard against a server whose paging never ends: a
 * `next` link back to a page the walk already read, a page token that
 * repeats, or more pages than any real walk has. Every walk that follows
 * links or tokens keeps one and asks it before following the next one.
 *
 * Keys (URLs, tokens) are kept as 64-bit FNV-1a hashes: a walk of 10,000
 * pages stores 80 KB, and two different keys sharing a hash (odds about
 * 1 in 10^11 at that size) would stop a good walk, never loop a bad one.
 *
 * Test knob: the environment variable BELLWETHER_MAX_PAGES lowers every
 * walk's limit (tests reach it in a few requests).
 */
struct bw_http_pager {
    uint64_t *seen; /* hashes of the pages read and the next one */
    size_t n, cap;
    long pages;     /* pages read so far */
    long max_pages; /* a walk may read this many; the next one fails */
};

/* clang-format off */
#define BW_HTTP_PAGER_INIT {NULL, 0, 0, 0, 0}
/* clang-format on */

/* Start a walk of at most max_pages pages (>= 1). */
void bw_http_pager_init(struct bw_http_pager *p, long max_pages);
/*
 * The walk read the page `cur` (its URL or token; NULL for none, e.g. the
 * first page of a token walk) and would follow `next` (NULL: the walk ends
 * here; nothing is checked). 0: follow it. BW_EHTTP: don't, with why (size
 * n, may be NULL) saying so for the caller's error line: "its next page is
 * one this walk already read" or "its next page would be page 10001 of one
 * walk, past the limit of 10000". BW_ENOMEM.
 */
int bw_http_pager_next(struct bw_http_pager *p, const char *cur,
                       const char *next, char *why, size_t n);
/* Free what the walk kept; the pager is BW_HTTP_PAGER_INIT again. */
void bw_http_pager_release(struct bw_http_pager *p);

/*
 * Parse a Link header value into the URLs of rel="next" and rel="last"
 * (either may be NULL). Caller frees both with bw_free(). Pure; fuzzed.
 */
int bw_http_parse_link(const char *value, size_t len, char **next, char **last);

/*
 * A rate-limit reset header value into *epoch: epoch seconds (GitHub) or
 * ISO 8601 (Jira: "2026-11-16T10:30Z"; seconds, fraction and offset
 * optional). 0 or BW_EPARSE. Pure.
 */
int bw_http_parse_reset(const char *value, int64_t *epoch);
/*
 * Retry-After: delay-seconds or an HTTP date (made relative to now, epoch
 * seconds) into *seconds, >= 0. 0 or BW_EPARSE. Pure.
 */
int bw_http_parse_retry_after(const char *value, int64_t now, long *seconds);

/* Percent-encode s for a query string into b. */
int bw_http_urlencode(struct bw_buf *b, const char *s);

/* Once per process, before threads: curl_global_init. */
int bw_http_global_init(void);
void bw_http_global_cleanup(void);

#endif
