/*
 * http.c - the one HTTP client every collector uses (see http.h).
 *
 * One curl multi handle per struct bw_http and a fixed pool of easy handles,
 * one per transfer slot (max_parallel of them). An easy handle is set up once
 * and reused for every transfer of its slot; connections live in the multi's
 * connection cache, so keep-alive and HTTP/2 multiplexing come for free.
 *
 * Requests wait in a FIFO; requests that must wait (backoff after an error)
 * sit in a small "delayed" list with a due time. bw_http_run() starts what
 * is due while a slot is free, drives curl_multi_perform/poll, and hands
 * each finished transfer to finish(), which decides: deliver to the
 * callback, retry after a backoff, pause the whole client for a quota
 * reset, or fail the request for good (callback with resp == NULL).
 *
 * A response body lands in its slot's buffer: sized once from the
 * Content-Length when there is one (else grown by doubling), kept for the
 * slot's next transfer up to 2 MiB and freed after its callback beyond
 * that, so one large page does not stay resident for the rest of a run.
 *
 * Quota waits pause the whole client (no new transfers start) so that one
 * rate-limited request does not let the others hammer the API. Every wait
 * sleeps in slices of at most a second and calls opts.tick between slices,
 * so a signal or a lost lease stops the run within about a second. Rate
 * limit arithmetic uses the real clock (time()): reset headers are real
 * epoch seconds, whatever BELLWETHER_NOW says.
 *
 * Test knobs (environment variables, for tests and the demo):
 *   BELLWETHER_BACKOFF_BASE_MS       base of the exponential backoff
 *                                    (default 500 ms)
 *   BELLWETHER_MIN_SECONDARY_WAIT    floor of a GitHub secondary-limit wait
 *                                    without Retry-After (default 60 s)
 *   BELLWETHER_MAX_PAGES             lowers the page limit of every
 *                                    paginated walk (struct bw_http_pager)
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bellwether/error.h"
#include "bellwether/http.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"

#ifndef BW_VERSION
#define BW_VERSION "0.0.0"
#endif

#define DEF_PARALLEL 4
#define DEF_CONNECT_TIMEOUT 10
#define DEF_TIMEOUT 60
#define DEF_MAX_BODY ((size_t)64 << 20)
#define DEF_TRIES 5
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 30000
#define SECONDARY_FLOOR_S 60
#define SLICE_MS 1000     /* longest sleep between two tick calls */
#define LOW_SPEED_TIME 30 /* < 1 byte/s for this long aborts */
#define MAX_REDIRS 5
#define KEEP_BODY_CAP ((size_t)2 << 20) /* larger slot buffers are freed */
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
#define URL_LOG 1024 /* redacted URL in messages */

/* Response headers we keep, indexed by enum hdr. */
enum hdr {
    H_CONTENT_ENCODING,
    H_ETAG,
    H_LINK,
    H_RETRY_AFTER,
    H_RL_LIMIT,
    H_RL_REMAINING,
    H_RL_RESET,
    H_RL_RESOURCE,
    H_COUNT
};

static const char *const hdr_names[H_COUNT] = {
    "content-encoding",
    "etag",
    "link",
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-resource",
};

struct job {
    struct job *next;
    struct bw_http_req req; /* view over the copies below */
    char *url;
    char *body;
    char *inm;
    char *method;
    int tries;   /* transfers started so far */
    int64_t due; /* monotonic ms before which it must not start */
};

struct slot {
    struct bw_http *h;
    CURL *easy;
    struct job *job; /* NULL: the slot is free */
    struct curl_slist *hdrs;
    struct bw_buf body;
    struct bw_buf resp_hdr[H_COUNT];
    int last_hdr; /* header a continuation line belongs to, or -1 */
    int too_big;  /* body went past max_body */
    int oom;
    int64_t started; /* monotonic ms */
    char errbuf[CURL_ERROR_SIZE];
};

struct bw_http {
    struct bw_http_opts opts; /* strings point to the copies below */
    char *auth_hdr;           /* "Authorization: ...": secret */
    char *home; /* "scheme://host:port" auth_hdr goes to; NULL: anywhere */
    char *auth_source;
    char *name;
    char *ca_blob; /* system bundle + ca_file, or NULL */
    size_t ca_len;
    char ua[64];
    struct curl_slist *base_hdrs;
    CURLM *multi;
    struct slot *slots;
    long nslots;
    long active;
    struct job *head, *tail; /* ready to start, in order */
    struct job *delayed;     /* waiting for their due time */
    struct bw_http_stats stats;
    int64_t pause_until;   /* monotonic ms: quota wait of the client */
    int64_t blocked_until; /* epoch s: quota beyond max_rate_wait */
    char blocked_msg[URL_LOG + 512];
    int64_t last_tick;
    long base_ms;
    long floor_s;
    uint64_t rng;
    int stop; /* nonzero: bw_http_run() returns it */
    int running;
    char errstr[URL_LOG + CURL_ERROR_SIZE + 512];
};

/* ------------------------------------------------------------ utilities */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms; 1 when a signal cut it short (the caller ticks at once). */
static int sleep_ms(int64_t ms)
{
    struct timespec ts;

    if (ms <= 0) {
        return 0;
    }
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    return nanosleep(&ts, NULL) != 0 && errno == EINTR;
}

static uint64_t next_rand(struct bw_http *h)
{
    /* splitmix64: jitter only, no need for more */
    uint64_t z = (h->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static long env_long(const char *name, long def, long lo, long hi)
{
    const char *s = getenv(name);
    char *end;
    long v;

    if (s == NULL || *s == '\0') {
        return def;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < lo || v > hi) {
        BW_WARN("ignoring %s='%s': not a number from %ld to %ld", name, s, lo,
                hi);
        return def;
    }
    return v;
}

static const char *method_of(const struct job *j)
{
    return j->method ? j->method : "GET";
}

static const char *api_name(const struct bw_http *h)
{
    switch (h->opts.api) {
    case BW_API_GITHUB:
        return "GitHub";
    case BW_API_JIRA:
        return "Jira";
    default:
        return "API";
    }
}

static void fmt_utc(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        snprintf(out, n, "%" PRId64, t);
    }
}

/* Log a failure once (with the source name) and keep it for callers. */
static void set_error(struct bw_http *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct bw_http *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(h->errstr, sizeof(h->errstr), fmt, ap);
    va_end(ap);
    if (h->name) {
        BW_ERROR("[%s] %s", h->name, h->errstr);
    } else {
        BW_ERROR("%s", h->errstr);
    }
}

/* ------------------------------------------------------------ pure parts */

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Does rel's value (a space-separated list) name rel type want? */
static int rel_has(const char *v, size_t len, const char *want)
{
    size_t wl = strlen(want);
    size_t i = 0;

    while (i < len) {
        size_t start;

        while (i < len && is_ws(v[i])) {
            i++;
        }
        start = i;
        while (i < len && !is_ws(v[i])) {
            i++;
        }
        if (i - start == wl && strncasecmp(v + start, want, wl) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Read one link-param value at *pos (quoted-string or token) into out
 * (unescaped, at most outn - 1 bytes kept). Stops at ';' or ',' outside
 * quotes. Returns the kept length.
 */
static size_t link_param_value(const char *s, size_t len, size_t *pos,
                               char *out, size_t outn)
{
    size_t i = *pos;
    size_t o = 0;

    while (i < len && is_ws(s[i])) {
        i++;
    }
    if (i < len && s[i] == '"') {
        i++;
        while (i < len && s[i] != '"') {
            if (s[i] == '\\' && i + 1 < len) {
                i++;
            }
            if (o + 1 < outn) {
                out[o++] = s[i];
            }
            i++;
        }
        if (i < len) {
            i++; /* closing quote */
        }
        while (i < len && s[i] != ';' && s[i] != ',') {
            i++; /* junk after the quotes */
        }
    }
    while (i < len && s[i] != ';' && s[i] != ',') {
        if (o + 1 < outn && !is_ws(s[i])) {
            out[o++] = s[i];
        }
        i++;
    }
    out[o] = '\0';
    *pos = i;
    return o;
}

/*
 * Parse the params after one <URL> up to the ',' that ends the entry.
 * Sets *is_next / *is_last from rel.
 */
static void link_params(const char *s, size_t len, size_t *pos, int *is_next,
                        int *is_last)
{
    size_t i = *pos;
    char val[256];

    while (i < len && s[i] != ',') {
        size_t name;
        size_t nlen;

        if (s[i] != ';') {
            i++; /* junk between params: skip */
            continue;
        }
        i++;
        while (i < len && is_ws(s[i])) {
            i++;
        }
        name = i;
        while (i < len && s[i] != '=' && s[i] != ';' && s[i] != ',' &&
               !is_ws(s[i])) {
            i++;
        }
        nlen = i - name;
        while (i < len && is_ws(s[i])) {
            i++;
        }
        if (i >= len || s[i] != '=') {
            continue;
        }
        i++;
        link_param_value(s, len, &i, val, sizeof(val));
        if (nlen == 3 && strncasecmp(s + name, "rel", 3) == 0) {
            *is_next |= rel_has(val, strlen(val), "next");
            *is_last |= rel_has(val, strlen(val), "last");
        }
    }
    *pos = i;
}

/* No control bytes (NUL included) in a URL worth following. */
static int url_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

int bw_http_parse_link(const char *value, size_t len, char **next, char **last)
{
    size_t i = 0;
    int rc = BW_ENOMEM;

    *next = NULL;
    *last = NULL;
    while (value != NULL && i < len) {
        size_t ustart;
        size_t uend;
        int is_next = 0;
        int is_last = 0;

        while (i < len && (is_ws(value[i]) || value[i] == ',')) {
            i++;
        }
        if (i >= len) {
            break;
        }
        if (value[i] != '<') {
            /* not a link-value: skip to the next entry */
            while (i < len && value[i] != ',') {
                i++;
            }
            continue;
        }
        ustart = ++i;
        while (i < len && value[i] != '>') {
            if (value[i] == '<') {
                ustart = i + 1; /* "<a, <b>": the first was never closed */
            }
            i++;
        }
        if (i >= len) {
            break; /* unterminated URL: ignore the rest */
        }
        uend = i++;
        while (ustart < uend && is_ws(value[ustart])) {
            ustart++;
        }
        while (uend > ustart && is_ws(value[uend - 1])) {
            uend--;
        }
        link_params(value, len, &i, &is_next, &is_last);
        if (uend == ustart || !url_chars(value + ustart, uend - ustart)) {
            continue;
        }
        if (is_next && *next == NULL) {
            *next = bw_strndup(value + ustart, uend - ustart);
            if (*next == NULL) {
                goto out;
            }
        }
        if (is_last && *last == NULL) {
            *last = bw_strndup(value + ustart, uend - ustart);
            if (*last == NULL) {
                goto out;
            }
        }
    }
    rc = 0;
out:
    if (rc) {
        bw_free(*next);
        bw_free(*last);
        *next = NULL;
        *last = NULL;
    }
    return rc;
}

int bw_http_urlencode(struct bw_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;

    for (; s && *s && rc == 0; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            rc = bw_buf_addch(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

            rc = bw_buf_add(b, esc, 3);
        }
    }
    if (rc == 0 && b->data == NULL) {
        rc = bw_buf_grow(b, 0); /* "" rather than NULL for empty input */
    }
    return rc;
}

/* Parse exactly n digits at s into *v. */
static int digits(const char *s, int n, int *v)
{
    int x = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

/* "+01:00", "+0100", "-05", "Z" at s; *off in seconds east of UTC. */
static int parse_offset(const char *s, long *off)
{
    int hh;
    int mm = 0;
    int sign;

    if (*s == 'Z' || *s == 'z') {
        *off = 0;
        return s[1] == '\0' ? 0 : -1;
    }
    if (*s != '+' && *s != '-') {
        return -1;
    }
    sign = *s == '-' ? -1 : 1;
    s++;
    if (digits(s, 2, &hh)) {
        return -1;
    }
    s += 2;
    if (*s == ':') {
        s++;
    }
    if (*s && (digits(s, 2, &mm) || s[2] != '\0')) {
        return -1;
    }
    if (hh > 23 || mm > 59) {
        return -1;
    }
    *off = sign * (hh * 3600L + mm * 60L);
    return 0;
}

/* ISO 8601 / RFC 3339 date-time, seconds optional ("2026-11-16T10:30Z"). */
static int parse_iso(const char *s, int64_t *out)
{
    struct tm tm;
    int y, mo, d, hh, mi, ss = 0;
    long off = 0;
    time_t t;

    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &hh) || s[13] != ':' || digits(s + 14, 2, &mi)) {
        return BW_EPARSE;
    }
    s += 16;
    if (*s == ':') {
        if (digits(s + 1, 2, &ss)) {
            return BW_EPARSE;
        }
        s += 3;
        if (*s == '.' || *s == ',') {
            s++;
            while (*s >= '0' && *s <= '9') {
                s++;
            }
        }
    }
    if (*s && parse_offset(s, &off)) {
        return BW_EPARSE;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60) {
        return BW_EPARSE;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mi;
    tm.tm_sec = ss;
    t = timegm(&tm);
    if (t == (time_t)-1) {
        return BW_EPARSE;
    }
    *out = (int64_t)t - off;
    return 0;
}

static int parse_uint(const char *s, int64_t *out)
{
    int64_t v = 0;

    if (*s == '\0') {
        return BW_EPARSE;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > INT64_MAX / 10 - 10) {
            return BW_EPARSE;
        }
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

int bw_http_parse_reset(const char *value, int64_t *epoch)
{
    if (value == NULL) {
        return BW_EPARSE;
    }
    if (parse_uint(value, epoch) == 0) {
        return 0;
    }
    return parse_iso(value, epoch);
}

int bw_http_parse_retry_after(const char *value, int64_t now, long *seconds)
{
    int64_t v;
    time_t t;

    if (value == NULL || *value == '\0') {
        return BW_EPARSE;
    }
    if (parse_uint(value, &v) == 0) {
        *seconds = v > 86400L * 366 ? 86400L * 366 : (long)v;
        return 0;
    }
    t = curl_getdate(value, NULL); /* IMF-fixdate and the obsolete forms */
    if (t == (time_t)-1) {
        return BW_EPARSE;
    }
    v = (int64_t)t - now;
    *seconds = v < 0 ? 0 : v > 86400L * 366 ? 86400L * 366 : (long)v;
    return 0;
}

/* ------------------------------------------------------------ jobs */

static void job_free(struct job *j)
{
    if (j == NULL) {
        return;
    }
    bw_free(j->url);
    bw_free(j->body);
    bw_free(j->inm);
    bw_free(j->method);
    bw_free(j);
}

static void queue_push(struct bw_http *h, struct job *j, int front)
{
    j->next = NULL;
    if (front) {
        j->next = h->head;
        h->head = j;
        if (h->tail == NULL) {
            h->tail = j;
        }
    } else {
        if (h->tail) {
            h->tail->next = j;
        } else {
            h->head = j;
        }
        h->tail = j;
    }
}

static struct job *queue_pop(struct bw_http *h)
{
    struct job *j = h->head;

    if (j) {
        h->head = j->next;
        if (h->head == NULL) {
            h->tail = NULL;
        }
        j->next = NULL;
    }
    return j;
}

/* Move delayed jobs that are due to the front of the queue. */
static void promote_due(struct bw_http *h, int64_t now)
{
    struct job **pp = &h->delayed;

    while (*pp) {
        struct job *j = *pp;

        if (j->due <= now) {
            *pp = j->next;
            queue_push(h, j, 1);
        } else {
            pp = &j->next;
        }
    }
}

/* Only plain header-safe strings go into request headers. */
static int header_safe(const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\r' || *s == '\n') {
            return 0;
        }
    }
    return 1;
}

static int method_ok(const char *m)
{
    if (m == NULL) {
        return 1;
    }
    if (*m == '\0' || strlen(m) > 16) {
        return 0;
    }
    for (; *m; m++) {
        if (*m < 'A' || *m > 'Z') {
            return 0;
        }
    }
    return 1;
}

int bw_http_submit(struct bw_http *h, const struct bw_http_req *req)
{
    struct job *j = NULL;
    char shown[URL_LOG];
    int rc = BW_EUSAGE;

    if (req == NULL || req->url == NULL ||
        (strncasecmp(req->url, "http://", 7) != 0 &&
         strncasecmp(req->url, "https://", 8) != 0) ||
        !method_ok(req->method) || !header_safe(req->if_none_match)) {
        BW_ERROR("cannot request '%s': not an http(s) URL or a bad method "
                 "or ETag; fix the caller",
                 bw_redact_url(req ? req->url : NULL, shown, sizeof(shown)));
        goto out;
    }
    rc = BW_ENOMEM;
    j = bw_calloc(1, sizeof(*j));
    if (j == NULL || (j->url = bw_strdup(req->url)) == NULL) {
        goto out;
    }
    if (req->method && strcmp(req->method, "GET") != 0 &&
        (j->method = bw_strdup(req->method)) == NULL) {
        goto out;
    }
    if (req->body && (j->body = bw_strdup(req->body)) == NULL) {
        goto out;
    }
    if (req->if_none_match &&
        (j->inm = bw_strdup(req->if_none_match)) == NULL) {
        goto out;
    }
    j->req = *req;
    j->req.url = j->url;
    j->req.method = method_of(j);
    j->req.body = j->body;
    j->req.if_none_match = j->inm;
    queue_push(h, j, 0);
    j = NULL;
    rc = 0;
out:
    job_free(j);
    return rc;
}

/* ------------------------------------------------------------ callbacks */

static void trim(const char **s, size_t *len)
{
    while (*len && is_ws(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_ws((*s)[*len - 1])) {
        (*len)--;
    }
}

static void slot_clear(struct slot *s)
{
    if (s->body.cap > KEEP_BODY_CAP) {
        bw_buf_release(&s->body);
    }
    bw_buf_reset(&s->body);
    for (int i = 0; i < H_COUNT; i++) {
        bw_buf_reset(&s->resp_hdr[i]);
    }
    s->last_hdr = -1;
    s->too_big = 0;
    s->oom = 0;
}

/* Headers of each response; a new status line (redirect, 100) starts over. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct slot *s = arg;
    size_t len = size * n;
    const char *name = data;
    const char *colon;
    const char *val;
    size_t nlen;
    size_t vlen;
    int rc = 0;

    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        slot_clear(s);
        return len;
    }
    if (len && (data[0] == ' ' || data[0] == '\t')) {
        /* obsolete line folding: continues the previous header */
        val = data;
        vlen = len;
        trim(&val, &vlen);
        if (s->last_hdr >= 0 && vlen) {
            rc = bw_buf_addch(&s->resp_hdr[s->last_hdr], ' ');
            rc = rc ? rc : bw_buf_add(&s->resp_hdr[s->last_hdr], val, vlen);
        }
        goto out;
    }
    s->last_hdr = -1;
    colon = memchr(data, ':', len);
    if (colon == NULL) {
        return len;
    }
    nlen = (size_t)(colon - data);
    trim(&name, &nlen);
    val = colon + 1;
    vlen = len - (size_t)(val - data);
    trim(&val, &vlen);
    for (int i = 0; i < H_COUNT; i++) {
        struct bw_buf *b = &s->resp_hdr[i];

        if (strlen(hdr_names[i]) != nlen ||
            strncasecmp(name, hdr_names[i], nlen) != 0) {
            continue;
        }
        if (i == H_LINK && b->len) {
            rc = bw_buf_add(b, ", ", 2); /* several Link lines: one list */
        } else {
            bw_buf_reset(b);
        }
        rc = rc ? rc : bw_buf_add(b, val, vlen);
        s->last_hdr = i;
        break;
    }
out:
    if (rc) {
        s->oom = 1;
        return 0;
    }
    return len;
}

/* Make the empty b hold at least need bytes in one block of cap bytes
 * (nothing to copy, so the old block goes first). */
static int buf_fresh(struct bw_buf *b, size_t need, size_t cap)
{
    char *p;

    if (need <= b->cap) {
        return 0;
    }
    bw_free(b->data);
    b->data = NULL;
    b->cap = 0;
    if ((p = bw_malloc(cap)) == NULL) {
        return BW_ENOMEM;
    }
    p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return 0;
}

/*
 * Before the first byte of a body: with a Content-Length (and no content
 * coding, which makes it the compressed size), one block that holds it,
 * instead of a realloc (and a copy) at each doubling on the way up to it:
 * a 1.1 MB page took 15. The block keeps the power-of-two size doubling
 * would have reached: the slots' buffers then come in few sizes that the
 * allocator reuses, where exact sizes left a long GitHub walk's heap
 * fragmented (peak RSS +2 MiB at 20x1000 PRs). Only the pages a body
 * fills are resident. Larger than max_body: left to CURLOPT_MAXFILESIZE
 * and on_body.
 */
static int body_presize(struct slot *s)
{
    const char *coding = s->resp_hdr[H_CONTENT_ENCODING].len
                             ? s->resp_hdr[H_CONTENT_ENCODING].data
                             : NULL;
    curl_off_t cl = -1;
    size_t cap = 64;

    if ((coding != NULL && strcasecmp(coding, "identity") != 0) ||
        curl_easy_getinfo(s->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) !=
            CURLE_OK ||
        cl <= 0 || (uint64_t)cl >= (uint64_t)SIZE_MAX / 4 ||
        (s->body.max && (uint64_t)cl > (uint64_t)s->body.max)) {
        return 0;
    }
    while (cap < (size_t)cl + 1) {
        cap *= 2;
    }
    return buf_fresh(&s->body, (size_t)cl + 1, cap);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct slot *s = arg;
    size_t len = size * n;
    int rc = s->body.len == 0 ? body_presize(s) : 0;

    if (rc == 0) {
        rc = bw_buf_add(&s->body, data, len);
    }

    if (rc == BW_EIO) {
        s->too_big = 1;
        return 0;
    }
    if (rc) {
        s->oom = 1;
        return 0;
    }
    return len;
}

static const char *hdr(const struct slot *s, int i)
{
    return s->resp_hdr[i].len ? s->resp_hdr[i].data : NULL;
}

/* Case-insensitive search for an ASCII needle in the response body. */
static int body_mentions(const struct slot *s, const char *needle)
{
    size_t nl = strlen(needle);

    for (size_t i = 0; s->body.data && i + nl <= s->body.len; i++) {
        if (strncasecmp(s->body.data + i, needle, nl) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ failures */

static void shown_url(const char *url, char *out, size_t n)
{
    bw_redact_url(url, out, n);
}

/* Fail a request for good: the callback learns why; the job is freed. */
static void give_up(struct bw_http *h, struct job *j, int why)
{
    int ret = why;

    if (j->req.cb) {
        ret = j->req.cb(j->req.user, &j->req, NULL, why);
    }
    if (ret < 0 && h->stop == 0) {
        h->stop = ret;
    }
    job_free(j);
}

static void fail_http(struct bw_http *h, struct job *j, const char *reason,
                      const char *hint)
{
    char url[URL_LOG];

    shown_url(j->url, url, sizeof(url));
    set_error(h, "%s %s failed: %s (after %d %s); %s", method_of(j), url,
              reason, j->tries, j->tries == 1 ? "try" : "tries",
              hint ? hint : "check the network or the service");
    give_up(h, j, BW_EHTTP);
}

static void fail_auth(struct bw_http *h, struct job *j, long status)
{
    char url[URL_LOG];

    shown_url(j->url, url, sizeof(url));
    if (h->auth_hdr == NULL) {
        set_error(h,
                  "%s %s needs credentials (%ld); configure a token "
                  "(token_env or token_file)",
                  method_of(j), url, status);
    } else {
        set_error(h, "credentials refused by %s (%ld); check the token in %s",
                  url, status,
                  h->auth_source ? h->auth_source : "the configuration");
    }
    give_up(h, j, BW_EAUTH);
}

static int64_t backoff_ms(struct bw_http *h, int tries)
{
    int64_t cap = BACKOFF_CAP_MS;
    int64_t exp = h->base_ms;

    for (int i = 1; i < tries && exp < cap; i++) {
        exp *= 2;
    }
    if (exp > cap) {
        exp = cap;
    }
    /* full jitter: anything from 0 to the exponential step */
    return (int64_t)(next_rand(h) % (uint64_t)(exp + 1));
}

/*
 * Try j again after wait_ms (at least); pause: the whole client waits (a
 * quota), else only this request does (a backoff). Gives up after
 * max_tries.
 */
static void retry_job(struct bw_http *h, struct job *j, const char *reason,
                      int64_t wait_ms, int pause)
{
    int64_t now = mono_ms();
    char url[URL_LOG];

    if (j->tries >= h->opts.max_tries) {
        fail_http(h, j, reason, NULL);
        return;
    }
    if (!pause) {
        int64_t b = backoff_ms(h, j->tries);

        wait_ms = b > wait_ms ? b : wait_ms;
    }
    h->stats.retries++;
    if (bw_log_level >= BW_LOG_DEBUG) {
        shown_url(j->url, url, sizeof(url));
        BW_DEBUG("retrying %s %s in %.1f s: %s (try %d of %d)", method_of(j),
                 url, (double)wait_ms / 1000.0, reason, j->tries + 1,
                 h->opts.max_tries);
    }
    if (pause) {
        if (now + wait_ms > h->pause_until) {
            h->pause_until = now + wait_ms;
        }
        queue_push(h, j, 1);
    } else {
        j->due = now + wait_ms;
        j->next = h->delayed;
        h->delayed = j;
    }
}

/*
 * A rate limit says: wait wait_ms (until epoch `until`). Longer than
 * max_rate_wait fails the request with BW_ERATELIMIT, and every request
 * after it until then, without asking the API again.
 */
static void rate_wait(struct bw_http *h, struct job *j, long status,
                      int64_t wait_ms, int64_t until, int quota)
{
    char url[URL_LOG];
    char when[40];
    char reason[64];

    shown_url(j->url, url, sizeof(url));
    fmt_utc(until, when, sizeof(when));
    if (h->opts.max_rate_wait <= 0 ||
        wait_ms > (int64_t)h->opts.max_rate_wait * 1000) {
        snprintf(h->blocked_msg, sizeof(h->blocked_msg),
                 "%s %s until %s (%s %s got %ld); raise max_rate_wait "
                 "(now %ld s) or run later",
                 api_name(h), quota ? "quota exhausted" : "rate limit", when,
                 method_of(j), url, status,
                 h->opts.max_rate_wait < 0 ? 0 : h->opts.max_rate_wait);
        h->blocked_until = until;
        set_error(h, "%s", h->blocked_msg);
        give_up(h, j, BW_ERATELIMIT);
        return;
    }
    if (wait_ms >= 5000 && j->tries < h->opts.max_tries) {
        BW_INFO("waiting %.0f s for the %s %s (until %s) after %s %s "
                "got %ld",
                (double)wait_ms / 1000.0, api_name(h),
                quota ? "quota" : "rate limit", when, method_of(j), url,
                status);
    }
    snprintf(reason, sizeof(reason), "rate limited (HTTP %ld)", status);
    /* the client pauses: say until when, for progress countdowns */
    if (until > h->stats.wait_until) {
        h->stats.wait_until = until;
        h->stats.wait_quota = quota;
    }
    retry_job(h, j, reason, wait_ms, 1);
}

static int64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wait_until_ms(int64_t reset)
{
    int64_t left;

    /* a reset past year 9999 is nonsense: treat it as "too far", which
       fails the wait against max_rate_wait, without overflowing */
    if (reset > 253402300799) {
        reset = 253402300799;
    }
    left = reset * 1000 - real_ms();

    /* one second past the reset: clocks are never quite in step */
    return (left > 0 ? left : 0) + 1000;
}

/* 403 or 429: which rate limit, if any, and how long to wait. */
static void rate_limited(struct bw_http *h, struct slot *s, struct job *j,
                         long status)
{
    int64_t now = (int64_t)time(NULL);
    int64_t reset = -1;
    int64_t remaining = -1;
    int64_t wait;
    long ra;
    int secondary;

    if (hdr(s, H_RL_RESET) &&
        bw_http_parse_reset(hdr(s, H_RL_RESET), &reset) != 0) {
        reset = -1;
    }
    if (hdr(s, H_RL_REMAINING) &&
        parse_uint(hdr(s, H_RL_REMAINING), &remaining) != 0) {
        remaining = -1;
    }
    secondary =
        body_mentions(s, "secondary rate limit") || body_mentions(s, "abuse");
    if (hdr(s, H_RETRY_AFTER) &&
        bw_http_parse_retry_after(hdr(s, H_RETRY_AFTER), now, &ra) == 0) {
        rate_wait(h, j, status, (int64_t)ra * 1000, now + ra, 0);
    } else if (remaining == 0 && reset >= 0) {
        rate_wait(h, j, status, wait_until_ms(reset), reset, 1);
    } else if (secondary || remaining == 0) {
        wait = backoff_ms(h, j->tries);
        if (wait < (int64_t)h->floor_s * 1000) {
            wait = (int64_t)h->floor_s * 1000;
        }
        rate_wait(h, j, status, wait, now + (wait + 999) / 1000, 0);
    } else if (status == 429 && reset >= 0) {
        rate_wait(h, j, status, wait_until_ms(reset), reset, 1);
    } else if (status == 429) {
        wait = backoff_ms(h, j->tries);
        rate_wait(h, j, status, wait, now + (wait + 999) / 1000, 0);
    } else {
        fail_auth(h, j, status); /* a 403 with no sign of a rate limit */
    }
}

/* ------------------------------------------------------------ responses */

/* Link URLs may be relative (RFC 8288): resolve against the response URL. */
static int absolute(const char *base, char **url)
{
    CURLU *u = NULL;
    char *abs = NULL;
    char *copy;
    int rc = 0;

    if (*url == NULL || strncasecmp(*url, "http://", 7) == 0 ||
        strncasecmp(*url, "https://", 8) == 0) {
        return 0;
    }
    u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, *url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &abs, 0) == CURLUE_OK) {
        copy = bw_strdup(abs);
        if (copy == NULL) {
            rc = BW_ENOMEM;
        } else {
            bw_free(*url);
            *url = copy;
        }
    }
    curl_free(abs);
    curl_url_cleanup(u);
    return rc;
}

static void deliver(struct bw_http *h, struct slot *s, struct job *j,
                    long status)
{
    struct bw_http_resp r;
    char *next = NULL;
    char *last = NULL;
    char *eff = NULL;
    int ret;

    memset(&r, 0, sizeof(r));
    curl_easy_getinfo(s->easy, CURLINFO_EFFECTIVE_URL, &eff);
    r.url = eff ? eff : j->url;
    if ((s->body.data == NULL && bw_buf_grow(&s->body, 0) != 0) ||
        (hdr(s, H_LINK) &&
         (bw_http_parse_link(s->resp_hdr[H_LINK].data, s->resp_hdr[H_LINK].len,
                             &next, &last) != 0 ||
          absolute(r.url, &next) != 0 || absolute(r.url, &last) != 0))) {
        set_error(h, "out of memory reading a response; free some memory");
        give_up(h, j, BW_ENOMEM);
        goto out;
    }
    r.status = status;
    r.body = s->body;
    r.etag = hdr(s, H_ETAG);
    r.next = next;
    r.last = last;
    ret = j->req.cb ? j->req.cb(j->req.user, &j->req, &r, 0) : 0;
    if (ret == BW_HTTP_RETRY) {
        retry_job(h, j, "the response did not parse", 0, 0);
        goto out;
    }
    if (ret < 0 && h->stop == 0) {
        h->stop = ret;
    }
    job_free(j);
out:
    bw_free(next);
    bw_free(last);
}

static void server_error(struct bw_http *h, struct slot *s, struct job *j,
                         long status)
{
    int64_t now = (int64_t)time(NULL);
    char reason[64];
    long ra;

    if (hdr(s, H_RETRY_AFTER) &&
        bw_http_parse_retry_after(hdr(s, H_RETRY_AFTER), now, &ra) == 0) {
        rate_wait(h, j, status, (int64_t)ra * 1000, now + ra, 0);
        return;
    }
    snprintf(reason, sizeof(reason), "HTTP %ld", status);
    retry_job(h, j, reason, 0, 0);
}

static int retryable(CURLcode res)
{
    switch (res) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

static void transport_error(struct bw_http *h, struct slot *s, struct job *j,
                            CURLcode res)
{
    char reason[CURL_ERROR_SIZE + 64];

    if (s->oom) {
        set_error(h, "out of memory reading a response; free some memory");
        give_up(h, j, BW_ENOMEM);
        return;
    }
    if (s->too_big || res == CURLE_FILESIZE_EXCEEDED) {
        snprintf(reason, sizeof(reason),
                 "the response is larger than %zu bytes", h->opts.max_body);
        fail_http(h, j, reason, "check the URL");
        return;
    }
    snprintf(reason, sizeof(reason), "%s",
             s->errbuf[0] ? s->errbuf : curl_easy_strerror(res));
    if (retryable(res)) {
        retry_job(h, j, reason, 0, 0);
    } else if (res == CURLE_PEER_FAILED_VERIFICATION ||
               res == CURLE_SSL_CACERT_BADFILE ||
               res == CURLE_SSL_CERTPROBLEM) {
        fail_http(h, j, reason,
                  "check the server's certificate or set ca_file");
    } else {
        fail_http(h, j, reason, NULL);
    }
}

static void update_quota(struct bw_http *h, const struct slot *s)
{
    const char *res = hdr(s, H_RL_RESOURCE);
    int64_t v;

    /* search has its own small budget: it must not hide the core one */
    if (res && strstr(res, "search")) {
        return;
    }
    if (hdr(s, H_RL_LIMIT) && parse_uint(hdr(s, H_RL_LIMIT), &v) == 0) {
        h->stats.quota_limit = (long)v;
    }
    if (hdr(s, H_RL_REMAINING) && parse_uint(hdr(s, H_RL_REMAINING), &v) == 0) {
        h->stats.quota_remaining = (long)v;
    }
    if (hdr(s, H_RL_RESET) &&
        bw_http_parse_reset(hdr(s, H_RL_RESET), &v) == 0) {
        h->stats.quota_reset = v;
    }
}

static void log_done(const struct job *j, const struct slot *s, CURLcode res,
                     long status, int64_t ms)
{
    char url[URL_LOG];

    if (bw_log_level < BW_LOG_DEBUG) {
        return;
    }
    shown_url(j->url, url, sizeof(url));
    if (res == CURLE_OK) {
        BW_DEBUG("%s %s -> %ld (%zu bytes, %" PRId64 " ms)", method_of(j), url,
                 status, s->body.len, ms);
    } else {
        BW_DEBUG("%s %s -> failed: %s (%" PRId64 " ms)", method_of(j), url,
                 s->errbuf[0] ? s->errbuf : curl_easy_strerror(res), ms);
    }
}

/* A transfer ended: deliver, retry, wait or give up. */
static void finish(struct bw_http *h, struct slot *s, CURLcode res)
{
    struct job *j = s->job;
    long status = 0;

    curl_multi_remove_handle(h->multi, s->easy);
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
    s->job = NULL;
    h->active--;
    h->stats.requests++;
    h->stats.bytes += (long)s->body.len;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    update_quota(h, s);
    log_done(j, s, res, status, mono_ms() - s->started);
    if (res != CURLE_OK) {
        transport_error(h, s, j, res);
    } else if (status == 304) {
        h->stats.not_modified++;
        bw_buf_reset(&s->body);
        deliver(h, s, j, status);
    } else if (status == 401) {
        fail_auth(h, j, status);
    } else if (status == 403 || status == 429) {
        rate_limited(h, s, j, status);
    } else if (status >= 500) {
        server_error(h, s, j, status);
    } else {
        deliver(h, s, j, status);
    }
    slot_clear(s);
}

/* ------------------------------------------------------------ transfers */

static int slot_init(struct bw_http *h, struct slot *s)
{
    CURL *e = curl_easy_init();
    struct curl_blob ca;

    s->h = h;
    s->last_hdr = -1;
    s->body.max = h->opts.max_body;
    if (e == NULL) {
        return BW_ENOMEM;
    }
    s->easy = e;
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, h->opts.connect_timeout);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, h->opts.timeout);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_TIME);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)h->opts.max_body);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* all it supports */
    curl_easy_setopt(e, CURLOPT_USERAGENT, h->ua);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* redirects: followed, but the Authorization header stays with the
       first host (libcurl >= 7.58 drops custom Authorization headers when
       host, port or scheme change unless UNRESTRICTED_AUTH is 1) */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* HTTP/2 over TLS when libcurl has it, HTTP/1.1 otherwise */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    /* proxies: nothing set, so libcurl reads http_proxy, https_proxy and
       no_proxy from the environment */
    if (h->ca_blob) {
        ca.data = h->ca_blob;
        ca.len = h->ca_len;
        ca.flags = CURL_BLOB_NOCOPY; /* h outlives its handles */
        if (curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca) != CURLE_OK) {
            BW_ERROR("libcurl cannot take an in-memory CA bundle; "
                     "use libcurl >= 7.77 with OpenSSL");
            return BW_ECONFIG;
        }
    }
    return 0;
}

static int add_header(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = curl_slist_append(*l, line);

    if (n == NULL) {
        return BW_ENOMEM;
    }
    *l = n;
    return 0;
}

/* url's "scheme://host:port" (lower case, the scheme's port when none is
 * given) into out; BW_EPARSE when it is no URL curl can read. */
static int origin_of(const char *url, char *out, size_t n)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = BW_EPARSE;

    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
            CURLUE_OK &&
        (size_t)snprintf(out, n, "%s://%s:%s", scheme, host, port) < n) {
        for (char *c = out; *c; c++) {
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        }
        rc = 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* Does the token go with a request to url: the API's own origin only (a
 * `next` link elsewhere gets no credentials; redirects are libcurl's
 * business, see CURLOPT_UNRESTRICTED_AUTH). */
static int to_home(const struct bw_http *h, const char *url)
{
    char o[URL_LOG];

    return h->home == NULL ||
           (origin_of(url, o, sizeof(o)) == 0 && strcmp(o, h->home) == 0);
}

static int request_headers(struct bw_http *h, const struct job *j,
                           struct curl_slist **out)
{
    struct curl_slist *l = NULL;
    struct bw_buf b = BW_BUF_INIT;
    int rc = 0;

    for (struct curl_slist *i = h->base_hdrs; i && rc == 0; i = i->next) {
        rc = add_header(&l, i->data);
    }
    if (rc == 0 && h->auth_hdr != NULL && to_home(h, j->url)) {
        rc = add_header(&l, h->auth_hdr);
    }
    if (rc == 0 && j->inm) {
        rc = bw_buf_printf(&b, "If-None-Match: %s", j->inm);
        rc = rc ? rc : add_header(&l, b.data);
    }
    if (rc == 0 && j->body) {
        rc = add_header(&l, "Content-Type: application/json");
        rc = rc ? rc : add_header(&l, "Expect:"); /* no 100-continue */
    }
    bw_buf_release(&b);
    if (rc) {
        curl_slist_free_all(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

static int start_job(struct bw_http *h, struct slot *s, struct job *j)
{
    CURL *e = s->easy;
    struct curl_slist *l = NULL;
    int rc = request_headers(h, j, &l);

    if (rc) {
        return rc;
    }
    slot_clear(s);
    s->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    if (j->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(j->body));
    } else if (j->method && strcmp(j->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    if (j->method && strcmp(j->method, "POST") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, j->method);
    }
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(l);
        return BW_EHTTP;
    }
    s->hdrs = l;
    s->job = j;
    s->started = mono_ms();
    j->tries++;
    h->active++;
    if (h->active > h->stats.peak_parallel) {
        h->stats.peak_parallel = h->active;
    }
    return 0;
}

static struct slot *free_slot(struct bw_http *h)
{
    for (long i = 0; i < h->nslots; i++) {
        if (h->slots[i].job == NULL) {
            return &h->slots[i];
        }
    }
    return NULL;
}

/* Start what is due while a slot is free and the client is not paused. */
static void start_ready(struct bw_http *h)
{
    int64_t now = mono_ms();
    char url[URL_LOG];
    int rc;

    promote_due(h, now);
    if (now < h->pause_until) {
        return;
    }
    while (h->head && h->active < h->nslots && h->stop == 0) {
        struct job *j = queue_pop(h);

        if (h->blocked_until > (int64_t)time(NULL)) {
            /* the quota is gone for longer than we may wait: no request */
            snprintf(h->errstr, sizeof(h->errstr), "%s", h->blocked_msg);
            give_up(h, j, BW_ERATELIMIT);
            continue;
        }
        rc = start_job(h, free_slot(h), j);
        if (rc) {
            shown_url(j->url, url, sizeof(url));
            set_error(h, "cannot start %s %s: %s; check the URL", method_of(j),
                      url, bw_strerror(rc));
            give_up(h, j, rc);
        }
    }
}

/* Monotonic ms at which something queued may start; INT64_MAX if none. */
static int64_t next_due(const struct bw_http *h, int64_t now)
{
    int64_t due = INT64_MAX;

    if (h->head && h->active < h->nslots) {
        due = now;
    }
    for (const struct job *j = h->delayed; j; j = j->next) {
        if (j->due < due) {
            due = j->due;
        }
    }
    if (due != INT64_MAX && due < h->pause_until) {
        due = h->pause_until;
    }
    return due;
}

static int do_tick(struct bw_http *h, int force)
{
    int64_t now;

    if (h->opts.tick == NULL) {
        return 0;
    }
    now = mono_ms();
    if (!force && now - h->last_tick < SLICE_MS) {
        return 0;
    }
    h->last_tick = now;
    return h->opts.tick(h->opts.tick_arg);
}

/* Nothing in flight: sleep toward the next due time, one slice at most. */
static int idle_wait(struct bw_http *h)
{
    int64_t now = mono_ms();
    int64_t ms = next_due(h, now) - now;
    int cut;

    if (ms <= 0) {
        return 0;
    }
    if (ms > SLICE_MS) {
        ms = SLICE_MS;
    }
    cut = sleep_ms(ms);
    h->stats.wait_seconds += (double)(mono_ms() - now) / 1000.0;
    /* a full slice or a signal: tick now; short backoffs tick as usual */
    return do_tick(h, cut || ms == SLICE_MS);
}

static int reap(struct bw_http *h)
{
    CURLMsg *m;
    int left;
    int n = 0;

    while (h->stop == 0 &&
           (m = curl_multi_info_read(h->multi, &left)) != NULL) {
        struct slot *s = NULL;
        CURLcode res = m->data.result;

        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
        finish(h, s, res);
        n++;
    }
    return n;
}

static int drive(struct bw_http *h)
{
    int64_t now;
    int64_t wait;
    int running = 0;
    CURLMcode mc = curl_multi_perform(h->multi, &running);

    if (mc == CURLM_OK && reap(h) == 0 && h->active > 0 && h->stop == 0) {
        now = mono_ms();
        wait = next_due(h, now) - now;
        wait = wait < 0 ? 0 : wait > SLICE_MS ? SLICE_MS : wait;
        mc = curl_multi_poll(h->multi, NULL, 0, (int)wait, NULL);
    }
    if (mc != CURLM_OK) {
        set_error(h, "HTTP transfers failed: %s; report a bug",
                  curl_multi_strerror(mc));
        return BW_EHTTP;
    }
    return 0;
}

/* Drop everything queued or in flight (a stop); callbacks are not called. */
static void abandon(struct bw_http *h)
{
    struct job *j;

    for (long i = 0; h->slots && i < h->nslots; i++) {
        struct slot *s = &h->slots[i];

        if (s->job) {
            curl_multi_remove_handle(h->multi, s->easy);
            curl_slist_free_all(s->hdrs);
            s->hdrs = NULL;
            job_free(s->job);
            s->job = NULL;
            slot_clear(s);
        }
    }
    h->active = 0;
    while ((j = queue_pop(h)) != NULL) {
        job_free(j);
    }
    while ((j = h->delayed) != NULL) {
        h->delayed = j->next;
        job_free(j);
    }
}

int bw_http_run(struct bw_http *h)
{
    int rc = 0;

    if (h->running) {
        BW_ERROR("bw_http_run called from an HTTP callback; submit instead");
        return BW_EUSAGE;
    }
    h->running = 1;
    h->stop = 0;
    for (;;) {
        rc = do_tick(h, 0);
        if (rc) {
            break;
        }
        start_ready(h);
        if (h->stop) {
            rc = h->stop;
            break;
        }
        if (h->active == 0) {
            if (h->head == NULL && h->delayed == NULL) {
                break;
            }
            rc = idle_wait(h);
        } else {
            rc = drive(h);
            rc = rc ? rc : h->stop;
        }
        if (rc) {
            break;
        }
    }
    if (rc) {
        abandon(h);
    }
    h->running = 0;
    return rc;
}

/* ------------------------------------------------------------ set-up */

static int read_into(const char *path, struct bw_buf *b)
{
    FILE *f = fopen(path, "rb");
    char chunk[16384];
    size_t n;
    int rc = 0;

    if (f == NULL) {
        return BW_EIO;
    }
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = bw_buf_add(b, chunk, n);
    }
    if (rc == 0 && ferror(f)) {
        rc = BW_EIO;
    }
    fclose(f);
    return rc;
}

/*
 * ca_file adds a CA: CURLOPT_CAINFO would replace the system bundle, so
 * trust both through one in-memory bundle (libcurl's default CA file, then
 * ca_file).
 */
static int load_ca(struct bw_http *h, const char *ca_file)
{
    struct bw_buf b = BW_BUF_INIT;
    char *sys = NULL;
    char *def = NULL;
    CURL *e = curl_easy_init();
    size_t mark;
    int rc = BW_ENOMEM;

    b.max = (size_t)32 << 20;
    if (e && curl_easy_getinfo(e, CURLINFO_CAINFO, &def) == CURLE_OK && def) {
        sys = bw_strdup(def);
    } else {
        sys = bw_strdup(SYSTEM_CA);
    }
    if (sys == NULL) {
        goto out;
    }
    if (read_into(sys, &b) != 0) {
        BW_WARN("cannot read the system CA bundle '%s'; trusting only "
                "ca_file '%s'",
                sys, ca_file);
        bw_buf_reset(&b);
    }
    rc = bw_buf_addch(&b, '\n');
    if (rc) {
        goto out;
    }
    mark = b.len;
    errno = 0;
    if (read_into(ca_file, &b) != 0) {
        BW_ERROR("cannot read ca_file '%s': %s; fix the path", ca_file,
                 errno ? strerror(errno) : "too large");
        rc = BW_ECONFIG;
        goto out;
    }
    if (strstr(b.data + mark, "-----BEGIN CERTIFICATE-----") == NULL) {
        BW_ERROR("no PEM certificate in ca_file '%s'; give a PEM file",
                 ca_file);
        rc = BW_ECONFIG;
        goto out;
    }
    h->ca_len = b.len;
    h->ca_blob = bw_buf_detach(&b);
    rc = h->ca_blob ? 0 : BW_ENOMEM;
out:
    bw_buf_release(&b);
    bw_free(sys);
    if (e) {
        curl_easy_cleanup(e);
    }
    return rc;
}

static int base_headers(struct bw_http *h, const char *auth)
{
    struct bw_buf b = BW_BUF_INIT;
    int rc = 0;

    if (h->opts.api == BW_API_GITHUB) {
        rc = add_header(&h->base_hdrs, "Accept: application/vnd.github+json");
        rc = rc ? rc
                : add_header(&h->base_hdrs, "X-GitHub-Api-Version: 2022-11-28");
    } else if (h->opts.api == BW_API_JIRA) {
        rc = add_header(&h->base_hdrs, "Accept: application/json");
    }
    if (rc == 0 && auth) {
        if (!header_safe(auth)) {
            BW_ERROR("the token from %s holds a line break; fix the token",
                     h->auth_source ? h->auth_source : "the configuration");
            rc = BW_ECONFIG;
        } else {
            /* added per request: only those to the API's origin carry it */
            rc = bw_buf_printf(&b, "Authorization: %s", auth);
            h->auth_hdr = rc ? NULL : bw_buf_detach(&b);
            rc = rc ? rc : h->auth_hdr ? 0 : BW_ENOMEM;
        }
    }
    if (b.data) {
        explicit_bzero(b.data, b.cap);
    }
    bw_buf_release(&b);
    return rc;
}

static void set_defaults(struct bw_http_opts *o)
{
    o->max_parallel = o->max_parallel > 0 ? o->max_parallel : DEF_PARALLEL;
    /* max_rate_wait is taken as is: 0 (or less) means never wait */
    o->connect_timeout =
        o->connect_timeout > 0 ? o->connect_timeout : DEF_CONNECT_TIMEOUT;
    o->timeout = o->timeout > 0 ? o->timeout : DEF_TIMEOUT;
    o->max_body = o->max_body ? o->max_body : DEF_MAX_BODY;
    o->max_tries = o->max_tries > 0 ? o->max_tries : DEF_TRIES;
}

int bw_http_new(const struct bw_http_opts *opts, struct bw_http **out)
{
    struct bw_http *h = bw_calloc(1, sizeof(*h));
    int rc = BW_ENOMEM;

    *out = NULL;
    if (h == NULL) {
        goto out;
    }
    h->opts = *opts;
    set_defaults(&h->opts);
    h->opts.auth = NULL;    /* only auth_hdr keeps the secret */
    h->opts.ca_file = NULL; /* read once, below */
    if ((opts->auth_source &&
         (h->auth_source = bw_strdup(opts->auth_source)) == NULL) ||
        (opts->name && (h->name = bw_strdup(opts->name)) == NULL)) {
        goto out;
    }
    h->opts.auth_source = h->auth_source;
    h->opts.name = h->name;
    snprintf(h->ua, sizeof(h->ua), "bellwether/%s (pid %ld)", BW_VERSION,
             (long)getpid());
    rc = base_headers(h, opts->auth);
    if (rc == 0 && opts->origin != NULL) {
        char home[URL_LOG];

        h->opts.origin = NULL;
        if (origin_of(opts->origin, home, sizeof(home)) != 0) {
            BW_ERROR("cannot read the API URL '%s'; fix api_url or url",
                     bw_redact_url(opts->origin, home, sizeof(home)));
            rc = BW_ECONFIG;
        } else if ((h->home = bw_strdup(home)) == NULL) {
            rc = BW_ENOMEM;
        }
    }
    if (rc == 0 && opts->ca_file && *opts->ca_file) {
        rc = load_ca(h, opts->ca_file);
    }
    if (rc) {
        goto out;
    }
    rc = BW_ENOMEM;
    h->multi = curl_multi_init();
    h->nslots = h->opts.max_parallel;
    h->slots = bw_calloc((size_t)h->nslots, sizeof(*h->slots));
    if (h->multi == NULL || h->slots == NULL) {
        goto out;
    }
    for (long i = 0; i < h->nslots; i++) {
        rc = slot_init(h, &h->slots[i]);
        if (rc) {
            goto out;
        }
    }
    h->stats.quota_limit = -1;
    h->stats.quota_remaining = -1;
    h->stats.quota_reset = -1;
    h->rng = (uint64_t)mono_ms() ^ ((uint64_t)getpid() << 32) ^
             (uint64_t)(uintptr_t)h;
    h->base_ms = env_long("BELLWETHER_BACKOFF_BASE_MS", BACKOFF_BASE_MS, 1,
                          BACKOFF_CAP_MS);
    h->floor_s =
        env_long("BELLWETHER_MIN_SECONDARY_WAIT", SECONDARY_FLOOR_S, 0, 3600);
    *out = h;
    h = NULL;
    rc = 0;
out:
    bw_http_free(h);
    return rc;
}

void bw_http_free(struct bw_http *h)
{
    if (h == NULL) {
        return;
    }
    abandon(h);
    for (long i = 0; h->slots && i < h->nslots; i++) {
        struct slot *s = &h->slots[i];

        if (s->easy) {
            curl_easy_cleanup(s->easy);
        }
        bw_buf_release(&s->body);
        for (int k = 0; k < H_COUNT; k++) {
            bw_buf_release(&s->resp_hdr[k]);
        }
    }
    bw_free(h->slots);
    if (h->multi) {
        curl_multi_cleanup(h->multi);
    }
    curl_slist_free_all(h->base_hdrs);
    if (h->auth_hdr) {
        explicit_bzero(h->auth_hdr, strlen(h->auth_hdr));
        bw_free(h->auth_hdr);
    }
    bw_free(h->auth_source);
    bw_free(h->home);
    bw_free(h->name);
    bw_free(h->ca_blob);
    bw_free(h);
}

/* ------------------------------------------------------------ the rest */

struct fetch_ctx {
    struct bw_http_resp *out;
    int done;
};

static int copy_str(const char *s, const char **out)
{
    char *c;

    if (s == NULL) {
        *out = NULL;
        return 0;
    }
    c = bw_strdup(s);
    *out = c;
    return c ? 0 : BW_ENOMEM;
}

static int fetch_cb(void *user, const struct bw_http_req *req,
                    const struct bw_http_resp *resp, int rc)
{
    struct fetch_ctx *ctx = user;
    struct bw_http_resp *o = ctx->out;

    (void)req;
    ctx->done = 1;
    if (resp == NULL) {
        return rc;
    }
    o->status = resp->status;
    rc = buf_fresh(&o->body, resp->body.len + 1, resp->body.len + 1);
    rc = rc ? rc : bw_buf_add(&o->body, resp->body.data, resp->body.len);
    rc = rc ? rc : copy_str(resp->etag, &o->etag);
    rc = rc ? rc : copy_str(resp->next, &o->next);
    rc = rc ? rc : copy_str(resp->last, &o->last);
    rc = rc ? rc : copy_str(resp->url, &o->url);
    return rc;
}

int bw_http_fetch(struct bw_http *h, const struct bw_http_req *req,
                  struct bw_http_resp *resp_out)
{
    struct fetch_ctx ctx = {resp_out, 0};
    struct bw_http_req r = *req;
    int rc;

    memset(resp_out, 0, sizeof(*resp_out));
    r.cb = fetch_cb;
    r.user = &ctx;
    rc = bw_http_submit(h, &r);
    rc = rc ? rc : bw_http_run(h);
    if (rc == 0 && !ctx.done) {
        rc = BW_EHTTP; /* cannot happen: a run ends with every callback */
    }
    if (rc) {
        bw_http_resp_release(resp_out);
    }
    return rc;
}

void bw_http_resp_release(struct bw_http_resp *resp)
{
    if (resp == NULL) {
        return;
    }
    bw_buf_release(&resp->body);
    bw_free((char *)resp->etag);
    bw_free((char *)resp->next);
    bw_free((char *)resp->last);
    bw_free((char *)resp->url);
    memset(resp, 0, sizeof(*resp));
}

const struct bw_http_stats *bw_http_stats(const struct bw_http *h)
{
    return &h->stats;
}

const char *bw_http_last_error(const struct bw_http *h)
{
    return h->errstr;
}

void bw_http_fail(struct bw_http *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(h->errstr, sizeof(h->errstr), fmt, ap);
    va_end(ap);
    BW_ERROR("%s", h->errstr);
}

/* ------------------------------------------------------------ paging */

static uint64_t fnv1a(const char *s)
{
    uint64_t x = 1469598103934665603ULL;

    for (; *s; s++) {
        x = (x ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return x;
}

/* Remember key's hash; 1 when it was there already. */
static int pager_add(struct bw_http_pager *p, uint64_t x, int *dup)
{
    *dup = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->seen[i] == x) {
            *dup = 1;
            return 0;
        }
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        uint64_t *v = bw_realloc(p->seen, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        p->seen = v;
        p->cap = cap;
    }
    p->seen[p->n++] = x;
    return 0;
}

void bw_http_pager_init(struct bw_http_pager *p, long max_pages)
{
    const char *s = getenv("BELLWETHER_MAX_PAGES");
    char *end = NULL;
    long knob = 0;

    /* read quietly: a walk starts per PR, and a test knob that does not
       parse is simply not set */
    if (s != NULL && *s != '\0') {
        errno = 0;
        knob = strtol(s, &end, 10);
        if (errno || *end != '\0') {
            knob = 0;
        }
    }
    memset(p, 0, sizeof(*p));
    p->max_pages = max_pages > 0 ? max_pages : 1;
    if (knob > 0 && knob < p->max_pages) {
        p->max_pages = knob;
    }
}

int bw_http_pager_next(struct bw_http_pager *p, const char *cur,
                       const char *next, char *why, size_t n)
{
    int dup = 0;
    int rc;

    p->pages++;
    if (next == NULL) {
        return 0;
    }
    /* a walk that never links on costs nothing: the first page with a
       next one is when the walk starts remembering */
    if (cur != NULL && (rc = pager_add(p, fnv1a(cur), &dup)) != 0) {
        return rc;
    }
    if ((rc = pager_add(p, fnv1a(next), &dup)) != 0) {
        return rc;
    }
    if (dup) {
        if (why != NULL && n > 0) {
            snprintf(why, n, "its next page is one this walk already read");
        }
        return BW_EHTTP;
    }
    if (p->pages >= p->max_pages) {
        if (why != NULL && n > 0) {
            snprintf(why, n,
                     "its next page would be page %ld of one walk, past "
                     "the limit of %ld",
                     p->pages + 1, p->max_pages);
        }
        return BW_EHTTP;
    }
    return 0;
}

void bw_http_pager_release(struct bw_http_pager *p)
{
    bw_free(p->seen);
    memset(p, 0, sizeof(*p));
}

int bw_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : BW_EHTTP;
}

void bw_http_global_cleanup(void)
{
    curl_global_cleanup();
}
