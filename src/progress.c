/*
 * progress.c - the operator's view of a collect: a live progress line on
 * a terminal, a summary line per source and a final status line (see
 * progress.h).
 *
 * The live line is drawn with "\r" and padded with blanks over what the
 * previous one left (no escape sequences, so any terminal, TERM=dumb
 * included, shows it right), and never wider than the terminal, since a
 * wrapped line can no longer be redrawn in place. Collect runs one source
 * at a time in one thread, so one static state is enough. The formatters
 * are pure (unit-tested in tests/unit/test_progress.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/progress.h"
#include "bellwether/store.h"

#define RATE_SAMPLES 8    /* ~8 s of ticks for requests per second */
#define ETA_MIN_SECONDS 2 /* too early for an ETA before this */

/* ------------------------------------------------------------ nouns */

const char *bw_progress_noun(const char *collector)
{
    if (collector != NULL && strcmp(collector, "github") == 0) {
        return "PRs";
    }
    if (collector != NULL && strcmp(collector, "jira") == 0) {
        return "tickets";
    }
    return "items";
}

const char *bw_progress_scope_noun(const char *collector)
{
    if (collector != NULL && strcmp(collector, "github") == 0) {
        return "repos";
    }
    if (collector != NULL && strcmp(collector, "jira") == 0) {
        return "projects";
    }
    return "scopes";
}

/* ------------------------------------------------------------ formatting */

/* The noun for n of them: "1 PR", "2 PRs" (nouns here end in 's'). */
static int noun_len(long n, const char *noun)
{
    size_t len = strlen(noun);

    return (int)(n == 1 && len > 1 && noun[len - 1] == 's' ? len - 1 : len);
}

char *bw_progress_duration(double seconds, char *buf, size_t n)
{
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;

    if (s < 60) {
        snprintf(buf, n, "%lds", s);
    } else if (s < 3600) {
        snprintf(buf, n, "%ldm%02lds", s / 60, s % 60);
    } else {
        snprintf(buf, n, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    }
    return buf;
}

long bw_progress_known_from_last(const char *last_url, long per_page)
{
    const char *q = last_url ? strchr(last_url, '?') : NULL;
    long page = -1;

    while (q != NULL && *q) {
        q++;
        if (strncmp(q, "page=", 5) == 0) {
            const char *p = q + 5;
            long v = 0;

            for (; *p >= '0' && *p <= '9' && v < 100000000L; p++) {
                v = v * 10 + (*p - '0');
            }
            if (p > q + 5 && (*p == '\0' || *p == '&' || *p == '#')) {
                page = v;
            }
        }
        q = strchr(q, '&');
    }
    if (page < 1 || per_page < 1) {
        return -1;
    }
    return page * per_page;
}

/* Append to out[*o..n) like snprintf, keeping *o at the string's end. */
static void put(char *out, size_t n, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *out, size_t n, size_t *o, const char *fmt, ...)
{
    va_list ap;
    int w;

    if (*o + 1 >= n) {
        return;
    }
    va_start(ap, fmt);
    w = vsnprintf(out + *o, n - *o, fmt, ap);
    va_end(ap);
    if (w < 0) {
        out[*o] = '\0';
        return;
    }
    *o += (size_t)w < n - *o ? (size_t)w : n - *o - 1;
}

/* Cut s to at most width bytes, not inside a UTF-8 sequence. */
static size_t cut(char *s, size_t len, int width)
{
    if (width <= 0 || len <= (size_t)width) {
        return len;
    }
    len = (size_t)width;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) {
        len--;
    }
    s[len] = '\0';
    return len;
}

size_t bw_progress_format(const struct bw_progress_view *v, int width,
                          char *out, size_t n)
{
    char d[32];
    size_t o = 0;
    const struct bw_collect_stats *c = &v->cs;

    if (n == 0) {
        return 0;
    }
    out[0] = '\0';
    put(out, n, &o, "%s: ", v->source ? v->source : "?");
    /* a wait first: it is what the operator needs to know now */
    if (v->wait_until > v->now) {
        put(out, n, &o, "waiting %s for the %s, ",
            bw_progress_duration((double)(v->wait_until - v->now), d,
                                 sizeof(d)),
            v->wait_quota ? "quota reset" : "rate limit");
    }
    if (c->items_known > 0) {
        put(out, n, &o, "%ld/%ld %s", c->items_seen, c->items_known, v->noun);
    } else {
        put(out, n, &o, "%ld %.*s", c->items_seen,
            noun_len(c->items_seen, v->noun), v->noun);
    }
    if (c->items_new + c->items_changed > 0) {
        put(out, n, &o, " (%ld new, %ld changed)", c->items_new,
            c->items_changed);
    }
    /* an ETA only from a total the API gave, once the pace is known */
    if (c->items_known > 0 && c->items_seen > 0 &&
        c->items_seen < c->items_known && v->elapsed >= ETA_MIN_SECONDS) {
        double eta = v->elapsed * (double)(c->items_known - c->items_seen) /
                     (double)c->items_seen;

        put(out, n, &o, ", ETA %s", bw_progress_duration(eta, d, sizeof(d)));
    }
    if (c->scopes_total > 1) {
        put(out, n, &o, ", %ld/%ld %s", c->scopes_done, c->scopes_total,
            v->scopes ? v->scopes : "scopes");
    }
    put(out, n, &o, ", %ld request%s", v->requests,
        v->requests == 1 ? "" : "s");
    if (v->not_modified > 0) {
        put(out, n, &o, " (%ld not modified)", v->not_modified);
    }
    put(out, n, &o, ", %.1f/s", v->rate > 0 ? v->rate : 0.0);
    if (v->quota_remaining >= 0) {
        put(out, n, &o, ", quota %ld", v->quota_remaining);
        if (v->quota_limit > 0) {
            put(out, n, &o, "/%ld", v->quota_limit);
        }
        if (v->quota_reset > v->now) {
            put(out, n, &o, " (resets in %s)",
                bw_progress_duration((double)(v->quota_reset - v->now), d,
                                     sizeof(d)));
        }
    }
    return cut(out, o, width);
}

/* ------------------------------------------------------------ the live line */

static struct {
    int on;     /* drawing at all (a terminal, not -q) */
    int active; /* a source's line is up */
    char source[128];
    const char *noun, *scopes;
    int64_t t0;    /* monotonic ms at begin */
    int64_t drawn; /* monotonic ms of the last draw */
    size_t shown;  /* bytes the line on screen holds */
    long rate_req[RATE_SAMPLES];
    int64_t rate_ms[RATE_SAMPLES];
    int nrate, rate_at;
} pl;

int bw_progress_setup(int quiet)
{
    memset(&pl, 0, sizeof(pl));
    pl.on = !quiet && isatty(STDERR_FILENO);
    return pl.on;
}

static int term_width(void)
{
    struct winsize ws;
    const char *cols = getenv("COLUMNS");

    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        return ws.ws_col;
    }
    if (cols != NULL) {
        long c = strtol(cols, NULL, 10);

        if (c > 0 && c < 10000) {
            return (int)c;
        }
    }
    return 80;
}

/* Write the whole buffer to stderr (a short write to a tty is rare). */
static void emit(const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, s, len);

        if (w <= 0) {
            return; /* progress is best effort: never fail a run for it */
        }
        s += w;
        len -= (size_t)w;
    }
}

/*
 * "\r", the line, blanks over the rest of the previous one, and "\r"
 * again: the cursor waits at the start of the line, so a warning or error
 * logged meanwhile (log.c knows nothing of this line) overwrites it from
 * the first column instead of being glued to its end.
 */
static void draw(const char *line, size_t len)
{
    char buf[BW_PROGRESS_LINE_MAX * 2 + 8];
    size_t o = 0;

    buf[o++] = '\r';
    memcpy(buf + o, line, len);
    o += len;
    if (pl.shown > len) {
        memset(buf + o, ' ', pl.shown - len);
        o += pl.shown - len;
    }
    buf[o++] = '\r';
    emit(buf, o);
    pl.shown = len;
}

void bw_progress_begin(const char *source, const char *collector)
{
    if (!pl.on) {
        return;
    }
    if (pl.active) {
        bw_progress_end();
    }
    pl.active = 1;
    snprintf(pl.source, sizeof(pl.source), "%s", source ? source : "?");
    for (char *p = pl.source; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    pl.noun = bw_progress_noun(collector);
    pl.scopes = bw_progress_scope_noun(collector);
    pl.t0 = bw_monotonic_ms();
    pl.drawn = 0;
    pl.nrate = 0;
    pl.rate_at = 0;
    bw_progress_update(NULL, NULL, 1);
}

/* Requests per second over the last RATE_SAMPLES updates. */
static double rate_of(long requests, int64_t now_ms)
{
    int oldest;
    double dt;

    pl.rate_req[pl.rate_at] = requests;
    pl.rate_ms[pl.rate_at] = now_ms;
    pl.rate_at = (pl.rate_at + 1) % RATE_SAMPLES;
    if (pl.nrate < RATE_SAMPLES) {
        pl.nrate++;
    }
    oldest = pl.nrate < RATE_SAMPLES ? 0 : pl.rate_at;
    dt = (double)(now_ms - pl.rate_ms[oldest]) / 1000.0;
    if (pl.nrate < 2 || dt <= 0.2) {
        dt = (double)(now_ms - pl.t0) / 1000.0;
        return dt > 0.2 ? (double)requests / dt : 0.0;
    }
    return (double)(requests - pl.rate_req[oldest]) / dt;
}

void bw_progress_update(const struct bw_collect_stats *cs,
                        const struct bw_http_stats *hs, int force)
{
    struct bw_progress_view v;
    char line[BW_PROGRESS_LINE_MAX];
    int64_t now_ms;
    size_t len;
    int width;

    if (!pl.on || !pl.active) {
        return;
    }
    now_ms = bw_monotonic_ms();
    if (!force && pl.drawn != 0 && now_ms - pl.drawn < BW_PROGRESS_REDRAW_MS) {
        return;
    }
    pl.drawn = now_ms;
    memset(&v, 0, sizeof(v));
    v.source = pl.source;
    v.noun = pl.noun;
    v.scopes = pl.scopes;
    v.cs.items_known = -1;
    if (cs != NULL) {
        v.cs = *cs;
    }
    v.quota_limit = v.quota_remaining = -1;
    v.quota_reset = -1;
    if (hs != NULL) {
        v.requests = hs->requests;
        v.not_modified = hs->not_modified;
        v.quota_limit = hs->quota_limit;
        v.quota_remaining = hs->quota_remaining;
        v.quota_reset = hs->quota_reset;
        v.wait_until = hs->wait_until;
        v.wait_quota = hs->wait_quota;
    }
    v.elapsed = (double)(now_ms - pl.t0) / 1000.0;
    v.rate = rate_of(v.requests, now_ms);
    v.now = bw_real_now();
    width = term_width() - 1; /* the last column would wrap on some */
    if (width > BW_PROGRESS_LINE_MAX - 1) {
        width = BW_PROGRESS_LINE_MAX - 1;
    }
    len = bw_progress_format(&v, width, line, sizeof(line));
    draw(line, len);
}

void bw_progress_end(void)
{
    char buf[BW_PROGRESS_LINE_MAX + 4];
    size_t o = 0;

    if (!pl.on || !pl.active) {
        return;
    }
    buf[o++] = '\r';
    memset(buf + o, ' ', pl.shown);
    o += pl.shown;
    buf[o++] = '\r';
    emit(buf, o);
    pl.shown = 0;
    pl.active = 0;
}

/* ------------------------------------------------------------ summaries */

void bw_summary_from(struct bw_run_summary *s, const char *source,
                     const char *collector, int rc,
                     const struct bw_collect_stats *cs,
                     const struct bw_http_stats *hs, double seconds,
                     long min_quota_left)
{
    memset(s, 0, sizeof(*s));
    s->source = source;
    s->noun = bw_progress_noun(collector);
    s->rc = rc;
    s->seconds = seconds;
    s->cs.items_known = -1;
    if (cs != NULL) {
        s->cs = *cs;
    }
    s->quota_limit = s->quota_remaining = -1;
    if (hs != NULL) {
        s->requests = hs->requests;
        s->not_modified = hs->not_modified;
        s->quota_limit = hs->quota_limit;
        s->quota_remaining = hs->quota_remaining;
    }
    s->min_quota_left = min_quota_left;
}

int bw_summary_line(struct bw_buf *b, const struct bw_run_summary *s)
{
    const struct bw_collect_stats *c = &s->cs;
    int rc;

    if (s->skipped) {
        return bw_buf_printf(b, "%s: skipped, being collected by %s", s->source,
                             s->holder && *s->holder ? s->holder
                                                     : "another process");
    }
    rc = bw_buf_printf(b,
                       "%s: %ld %.*s (%ld new, %ld changed) in %.1f s, %ld "
                       "request%s (%ld not modified)",
                       s->source, c->items_seen,
                       noun_len(c->items_seen, s->noun), s->noun, c->items_new,
                       c->items_changed, s->seconds, s->requests,
                       s->requests == 1 ? "" : "s", s->not_modified);
    if (rc == 0 && s->quota_remaining >= 0 && s->quota_limit > 0) {
        rc = bw_buf_printf(b, ", quota %ld/%ld left", s->quota_remaining,
                           s->quota_limit);
    } else if (rc == 0 && s->quota_remaining >= 0) {
        rc = bw_buf_printf(b, ", quota %ld left", s->quota_remaining);
    }
    if (rc == 0 && s->rc == 0 && c->quota_stop) {
        rc = bw_buf_printf(b, "; stopped at min_quota_left (%ld)",
                           s->min_quota_left);
    }
    if (rc == 0 && s->rc != 0) {
        rc = bw_buf_printf(b, "; %s: %s",
                           s->rc == BW_EINTR ? "interrupted" : "failed",
                           bw_strerror(s->rc));
    }
    return rc;
}

int bw_summary_final_line(struct bw_buf *b, int rc, size_t nsources,
                          size_t nfailed)
{
    int code = bw_exit_code(rc);

    if (rc == 0) {
        return bw_buf_printf(b, "collect: ok, %zu source%s (exit 0)", nsources,
                             nsources == 1 ? "" : "s");
    }
    if (rc == BW_EPARTIAL) {
        return bw_buf_printf(b,
                             "collect: partial, %zu of %zu sources failed; "
                             "the others stored their data (exit 3)",
                             nfailed, nsources);
    }
    if (rc == BW_EINTR) {
        return bw_buf_printf(b, "collect: interrupted by a signal; the next "
                                "run goes on from the last complete page "
                                "(exit 1)");
    }
    if (code == 2) {
        return bw_buf_printf(b,
                             "collect: failed, %s; fix the configuration "
                             "or credentials, then run 'bellwether check' "
                             "(exit 2)",
                             bw_strerror(rc));
    }
    return bw_buf_printf(b,
                         "collect: failed, %s; nothing half-written, the "
                         "next run retries (exit %d)",
                         bw_strerror(rc), code);
}

static void print_line(struct bw_buf *b)
{
    bw_progress_end();
    if (b->data != NULL) {
        fputs(b->data, stdout);
        fputc('\n', stdout);
        /* cron and pipes: the line is out before anything else happens */
        fflush(stdout);
    }
}

void bw_summary_print(const struct bw_run_summary *s, int quiet)
{
    struct bw_buf b = BW_BUF_INIT;

    if (!quiet && bw_summary_line(&b, s) == 0) {
        print_line(&b);
    }
    bw_buf_release(&b);
}

void bw_summary_print_final(int rc, size_t nsources, size_t nfailed, int quiet)
{
    struct bw_buf b = BW_BUF_INIT;

    if (!quiet && bw_summary_final_line(&b, rc, nsources, nfailed) == 0) {
        print_line(&b);
    }
    bw_buf_release(&b);
}

void bw_summary_fill_run(struct bw_store_run *run,
                         const struct bw_run_summary *s,
                         const struct bw_http_stats *hs,
                         const char *summary_text)
{
    run->items_seen = s->cs.items_seen;
    run->items_new = s->cs.items_new;
    run->items_changed = s->cs.items_changed;
    run->requests = s->requests;
    run->not_modified = s->not_modified;
    run->quota_left = s->quota_remaining;
    run->quota_limit = s->quota_limit;
    run->quota_reset = hs != NULL && hs->quota_reset > 0 ? hs->quota_reset : 0;
    if (summary_text != NULL) {
        run->summary = summary_text;
    }
}
