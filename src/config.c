/*
 * config.c - the INI configuration: parsed with inih, checked against key
 * tables, secrets resolved, every error collected and reported.
 *
 * Loading runs in two phases. Phase one feeds the file to inih's
 * ini_parse_stream() through our own line reader. The reader numbers the
 * lines (Debian's inih 55 is built without INI_HANDLER_LINENO), refuses
 * lines of 200 bytes or more (Debian's inih cuts them silently at
 * INI_MAX_LINE) and classifies each line the way inih will: blank, comment,
 * [section], key = value, or an indented continuation of the previous key.
 * It parses section headers itself, because inih calls no handler for a
 * section without keys and reports only the first malformed line; inih
 * then splits key lines and hands over continuation lines (repeated calls
 * with the same name; Debian's build leaves their inline comments in, so
 * we strip them). The handler only records raw sections and keys and never
 * fails, so one run finds every error of the file.
 *
 * Phase two walks the raw sections with the key tables - the core's below,
 * each collector's own (struct bw_collector.keys) - fills the typed structs
 * of config.h, and checks required keys, key groups ("repos or org"),
 * types, secrets and the rules of [target]. Errors are kept with their line
 * numbers and printed sorted, one line each: "FILE:LINE: what is wrong;
 * what to do". Secret values never reach a message: secrets are named by
 * *_env and *_file keys, and only those names and paths are printed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "bellwether/buf.h"
#include "bellwether/clock.h"
#include "bellwether/collector.h"
#include "bellwether/config.h"
#include "bellwether/editdist.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/metrics.h"

/* The cron parser lives in src/schedule.c; until it lands, the field count
   is all we check. */
#if defined(__has_include)
#if __has_include("bellwether/schedule.h")
#include "bellwether/schedule.h"
#define HAVE_CRON_VALIDATE 1
#endif
#endif

#define LINE_LIMIT 200        /* Debian's INI_MAX_LINE */
#define FILE_LIMIT (1L << 20) /* a config larger than 1 MiB is a mistake */
#define SECRET_LIMIT 65536    /* a secret file holds one secret */
#define DIAG_LIMIT 200        /* messages kept; the rest are counted */
#define NAME_LIMIT 64         /* source, team and key names */

/* Private key flags of the core's tables (config.h leaves 0x100 up). */
#define KF_REDIS_URL 0x100 /* URL: redis:// or unix:// */
#define KF_SMTP_URL 0x200  /* URL: smtp:// or smtps:// */
#define KF_EMAIL 0x400     /* STR or LIST items: mail addresses */
#define KF_MIN1 0x800      /* INT: at least 1 */

/* ---------------------------------------------------------------------- */
/* The core's key tables                                                   */
/* ---------------------------------------------------------------------- */

#define R(f) offsetof(struct bw_redis_conf, f)
static const struct bw_config_key redis_keys[] = {
    {BW_KT_URL, "url", NULL, R(url),
     "redis://HOST[:PORT] (port 6379) or unix:///PATH; no password here",
     BW_KF_REQUIRED | KF_REDIS_URL, 0},
    {BW_KT_INT, "db", "0", R(db), "database number", 0, 0},
    {BW_KT_STR, "username", NULL, R(username), "Redis 6+ ACL user", 0, 0},
    {BW_KT_SECRET, "password", NULL, R(password),
     "password_env names a variable, password_file a file holding the "
     "password",
     0, R(password_src)},
    {BW_KT_STR, "prefix", "bw:", R(prefix), "prefix of every key", 0, 0},
    {BW_KT_DURATION, "timeout", "5s", R(timeout), "connect and command timeout",
     0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};
#undef R

#define C(f) offsetof(struct bw_source_common, f)
static const struct bw_config_key common_keys[] = {
    {BW_KT_DATE, "since", NULL, C(since),
     "backfill items updated since YYYY-MM-DD (default: 180 days before "
     "now)",
     0, 0},
    {BW_KT_STR, "ca_file", NULL, C(ca_file),
     "extra CA bundle (PEM) for this API", 0, 0},
    {BW_KT_INT, "max_parallel", "4", C(max_parallel),
     "requests in flight to this API", KF_MIN1, 0},
    {BW_KT_DURATION, "max_rate_wait", "15m", C(max_rate_wait),
     "wait for a quota reset up to this, else fail the source", 0, 0},
    {BW_KT_INT, "min_quota_left", "500", C(min_quota_left),
     "stop cleanly (exit 0) rather than spend the last of the quota", 0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};
#undef C

#define T(f) offsetof(struct bw_team_conf, f)
static const struct bw_config_key team_keys[] = {
    {BW_KT_LIST, "repos", NULL, T(repos), "repositories owner/name",
     BW_KF_ANYOF, 0},
    {BW_KT_LIST, "projects", NULL, T(projects), "Jira project keys",
     BW_KF_ANYOF, 0},
    {BW_KT_LIST, "members", NULL, T(members), "GitHub logins", BW_KF_ANYOF, 0},
    {BW_KT_LIST, "jira_users", NULL, T(jira_users),
     "Jira account ids (Cloud) or user names (Data Center)", BW_KF_ANYOF, 0},
    {BW_KT_STR, "email_to", NULL, T(email_to),
     "the daemon also mails this team its own report", KF_EMAIL, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};
#undef T

#define P(f) offsetof(struct bw_report_conf, f)
static const struct bw_config_key report_keys[] = {
    {BW_KT_ZONE, "timezone", "UTC", P(timezone),
     "weeks, schedules and dates are in this zone", 0, 0},
    {BW_KT_STR, "out_dir", NULL, P(out_dir),
     "where YYYY-Www[-team].md, .html and .json go", 0, 0},
    {BW_KT_INT, "weeks_of_trend", "12", P(weeks_of_trend),
     "weeks shown in trends and the default query range", KF_MIN1, 0},
    {BW_KT_DURATION, "stale_after", "2d", P(stale_after),
     "a source whose last success is older is flagged", 0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};
#undef P

#define G(f) offsetof(struct bw_target_conf, f)
static const struct bw_config_key target_keys[] = {
    {BW_KT_STR, "stat", NULL, G(stat),
     "p50, p75, p85, p90, p95, p99, mean, min or max for durations and "
     "distributions; value for counts, rates and point-in-time metrics",
     BW_KF_REQUIRED, 0},
    {BW_KT_BOUND, "max", NULL, G(max),
     "upper bound in the metric's unit (8h, 3d, 10%, 5)", BW_KF_ONEOF,
     G(has_max)},
    {BW_KT_BOUND, "min", NULL, G(min),
     "lower bound in the metric's unit (8h, 3d, 10%, 5)", BW_KF_ONEOF,
     G(has_min)},
    {BW_KT_RATIO, "at_risk_margin", "10%", G(at_risk_margin),
     "within this share of the bound a value is at risk", 0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};
#undef G

#define E(f) offsetof(struct bw_email_conf, f)
static const struct bw_config_key email_keys[] = {
    {BW_KT_URL, "smtp_url", NULL, E(smtp_url),
     "smtps://HOST[:PORT], or smtp://HOST[:PORT] with STARTTLS",
     BW_KF_REQUIRED | KF_SMTP_URL, 0},
    {BW_KT_STR, "from", NULL, E(from), "sender address",
     BW_KF_REQUIRED | KF_EMAIL, 0},
    {BW_KT_LIST, "to", NULL, E(to), "recipient addresses",
     BW_KF_REQUIRED | KF_EMAIL, 0},
    {BW_KT_SECRET, "username", NULL, E(username),
     "SMTP user: username_env names a variable, username_file a file", 0,
     E(username_src)},
    {BW_KT_SECRET, "password", NULL, E(password),
     "SMTP password: password_env names a variable, password_file a file", 0,
     E(password_src)},
    {BW_KT_STR, "ca_file", NULL, E(ca_file), "extra CA bundle (PEM)", 0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};
#undef E

#define S(f) offsetof(struct bw_schedule_conf, f)
static const struct bw_config_key schedule_keys[] = {
    {BW_KT_CRON, "collect", NULL, S(collect),
     "5-field cron expression (Vixie syntax) in the report time zone", 0, 0},
    {BW_KT_CRON, "report", NULL, S(report),
     "5-field cron expression: write and mail the weekly report", 0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};
#undef S

static const struct bw_config_key plugins_keys[] = {
    {BW_KT_STR, "path", NULL, offsetof(struct bw_config, plugins_path),
     "directory of external collectors (*.so)", 0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};

enum sec_kind {
    SK_REDIS = 0,
    SK_SOURCE,
    SK_TEAM,
    SK_REPORT,
    SK_TARGET,
    SK_EMAIL,
    SK_SCHEDULE,
    SK_PLUGINS
};

static const struct {
    const char *kind;
    int named; /* [kind NAME] */
    const struct bw_config_key *keys;
} kinds[] = {{"redis", 0, redis_keys},
             {"source", 1, common_keys},
             {"team", 1, team_keys},
             {"report", 0, report_keys},
             {"target", 1, target_keys},
             {"email", 0, email_keys},
             {"schedule", 0, schedule_keys},
             {"plugins", 0, plugins_keys},
             {NULL, 0, NULL}};

static const char *const target_stats[] = {"p50", "p75",  "p85", "p90", "p95",
                                           "p99", "mean", "min", "max", NULL};

/* ---------------------------------------------------------------------- */
/* Loader state and diagnostics                                            */
/* ---------------------------------------------------------------------- */

struct part {
    char *text;
    int line;
};

struct raw_key {
    char *name;
    int line;
    struct part *parts; /* [0]: the key's line, then continuation lines */
    size_t nparts;
    int used;
};

struct raw_section {
    int kind;    /* enum sec_kind */
    char *name;  /* NULL for unnamed kinds */
    char *label; /* "[source gh]", for messages */
    int line;
    struct raw_key *keys;
    size_t nkeys, cap;
};

struct diag {
    int level; /* BW_LOG_ERROR or BW_LOG_WARN */
    int line;  /* 0: no line */
    size_t seq;
    char *msg;
};

enum line_kind {
    LK_SKIP = 0, /* blank, comment, or replaced by a comment */
    LK_SECTION,
    LK_KEY,
    LK_CONT
};

struct loader {
    const char *file;
    unsigned flags;
    const char *data;
    size_t len, pos;
    int line;
    int kind;      /* enum line_kind of the line inih is on */
    int have_prev; /* inih holds a previous key name (continuations) */
    int seen_section;
    long cur;  /* section keys go to, or -1 (none, or ignored) */
    long prev; /* key of cur continuation lines go to, or -1 */
    struct raw_section *secs;
    size_t nsecs, capsecs;
    struct diag *diags;
    size_t ndiags, capdiags, dropped, seq;
    int nerrors;
    int oom;
    struct bw_buf *out;
};

static void vdiag(struct loader *ld, int level, int line, const char *fmt,
                  va_list ap) __attribute__((format(printf, 4, 0)));

static void vdiag(struct loader *ld, int level, int line, const char *fmt,
                  va_list ap)
{
    char msg[768];
    struct diag *d;

    if (level == BW_LOG_ERROR) {
        ld->nerrors++;
    }
    if (ld->ndiags >= DIAG_LIMIT) {
        ld->dropped++;
        return;
    }
    if (ld->ndiags == ld->capdiags) {
        size_t cap = ld->capdiags ? ld->capdiags * 2 : 16;

        d = bw_realloc(ld->diags, cap * sizeof(*d));
        if (d == NULL) {
            ld->oom = 1;
            return;
        }
        ld->diags = d;
        ld->capdiags = cap;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    d = &ld->diags[ld->ndiags];
    d->msg = bw_strdup(msg);
    if (d->msg == NULL) {
        ld->oom = 1;
        return;
    }
    d->level = level;
    d->line = line;
    d->seq = ld->seq++;
    ld->ndiags++;
}

static void err(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err(struct loader *ld, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(ld, BW_LOG_ERROR, line, fmt, ap);
    va_end(ap);
}

static void warn(struct loader *ld, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(ld, BW_LOG_WARN, line, fmt, ap);
    va_end(ap);
}

static int diag_cmp(const void *a, const void *b)
{
    const struct diag *x = a;
    const struct diag *y = b;

    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print (or hand over) the messages in line order. */
static void diag_flush(struct loader *ld)
{
    if (ld->ndiags > 1) {
        qsort(ld->diags, ld->ndiags, sizeof(*ld->diags), diag_cmp);
    }
    for (size_t i = 0; i < ld->ndiags; i++) {
        const struct diag *d = &ld->diags[i];
        char where[64] = "";

        if (d->line > 0) {
            snprintf(where, sizeof(where), ":%d", d->line);
        }
        if (ld->out != NULL) {
            if (bw_buf_printf(ld->out, "%s%s%s: %s\n",
                              d->level == BW_LOG_WARN ? "warning: " : "",
                              ld->file, where, d->msg) != 0) {
                ld->oom = 1; /* the caller would miss a message */
            }
        } else if (d->level == BW_LOG_WARN) {
            BW_WARN("%s%s: %s", ld->file, where, d->msg);
        } else {
            BW_ERROR("%s%s: %s", ld->file, where, d->msg);
        }
    }
    if (ld->dropped > 0) {
        if (ld->out != NULL) {
            if (bw_buf_printf(ld->out, "%s: %zu more messages not shown\n",
                              ld->file, ld->dropped) != 0) {
                ld->oom = 1;
            }
        } else {
            BW_ERROR("%s: %zu more messages not shown; fix the ones above "
                     "first",
                     ld->file, ld->dropped);
        }
    }
}

static void raw_section_release(struct raw_section *sec)
{
    for (size_t i = 0; i < sec->nkeys; i++) {
        struct raw_key *k = &sec->keys[i];

        for (size_t j = 0; j < k->nparts; j++) {
            bw_free(k->parts[j].text);
        }
        bw_free(k->parts);
        bw_free(k->name);
    }
    bw_free(sec->keys);
    bw_free(sec->name);
    bw_free(sec->label);
}

static void loader_release(struct loader *ld)
{
    for (size_t i = 0; i < ld->nsecs; i++) {
        raw_section_release(&ld->secs[i]);
    }
    bw_free(ld->secs);
    for (size_t i = 0; i < ld->ndiags; i++) {
        bw_free(ld->diags[i].msg);
    }
    bw_free(ld->diags);
}

/* ---------------------------------------------------------------------- */
/* Small text helpers                                                      */
/* ---------------------------------------------------------------------- */

static const char *lskip(const char *s)
{
    while (*s && isspace((unsigned char)*s)) {
        s++;
    }
    return s;
}

/* Length of s without trailing white space. */
static size_t rtrim_len(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    return n;
}

/* inih's find_chars_or_comment(): the first of chars, or a ';' that
   follows white space (an inline comment), or the end. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
    int was_space = 0;

    while (*s && (chars == NULL || strchr(chars, *s) == NULL) &&
           !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n > NAME_LIMIT) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') {
            return 0;
        }
    }
    return 1;
}

/*
 * Write "'a', 'b'" (or "[a], [b]") of the candidates closest to name:
 * the nearest by edit distance when it is small, plus those that contain
 * name or are contained in it. "" when none is close.
 */
static void suggest(const char *name, const char *const *cand, size_t n,
                    int brackets, char *out, size_t outn)
{
    size_t nl = strlen(name);
    size_t best = SIZE_MAX;
    size_t len = 0;
    int shown = 0;
    int near;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t d = bw_edit_distance(name, cand[i], NAME_LIMIT, 0);

        if (d < best) {
            best = d;
        }
    }
    /* a typo or two, more for longer names; else substrings only */
    near = best <= (nl < 6 ? 1 : nl < 12 ? 2 : 3);
    for (size_t i = 0; i < n && shown < 3; i++) {
        int close =
            (near && bw_edit_distance(name, cand[i], NAME_LIMIT, 0) == best) ||
            (strlen(name) >= 3 && strstr(cand[i], name) != NULL) ||
            (strlen(cand[i]) >= 3 && strstr(name, cand[i]) != NULL);
        int w;

        if (!close) {
            continue;
        }
        w = snprintf(out + len, outn - len, "%s%c%s%c", shown ? ", " : "",
                     brackets ? '[' : '\'', cand[i], brackets ? ']' : '\'');
        if (w < 0 || (size_t)w >= outn - len) {
            break;
        }
        len += (size_t)w;
        shown++;
    }
}

/* ---------------------------------------------------------------------- */
/* Phase one: lines and sections                                           */
/* ---------------------------------------------------------------------- */

static struct raw_section *cur_section(struct loader *ld)
{
    return ld->cur >= 0 ? &ld->secs[ld->cur] : NULL;
}

static int section_kind(const char *kind, size_t n)
{
    for (int i = 0; kinds[i].kind; i++) {
        if (strlen(kinds[i].kind) == n && memcmp(kinds[i].kind, kind, n) == 0) {
            return i;
        }
    }
    return -1;
}

static void unknown_section(struct loader *ld, const char *kind, size_t n,
                            const char *header, size_t hn)
{
    const char *names[sizeof(kinds) / sizeof(kinds[0])];
    char k[NAME_LIMIT + 1];
    char hint[160];
    size_t nn = 0;

    for (; kinds[nn].kind; nn++) {
        names[nn] = kinds[nn].kind;
    }
    snprintf(k, sizeof(k), "%.*s", (int)(n > NAME_LIMIT ? NAME_LIMIT : n),
             kind);
    for (char *p = k; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    suggest(k, names, nn, 1, hint, sizeof(hint));
    err(ld, ld->line,
        "unknown section [%.*s]; %s%s%ssections are [redis], [source NAME], "
        "[team NAME], [report], [target METRIC], [email], [schedule], "
        "[plugins]",
        (int)(hn > 60 ? 60 : hn), header, hint[0] ? "did you mean " : "", hint,
        hint[0] ? "? " : "");
}

static int add_section(struct loader *ld, int kind, const char *name,
                       size_t nlen)
{
    struct raw_section *sec;
    struct bw_buf label = BW_BUF_INIT;
    int rc;

    for (size_t i = 0; i < ld->nsecs; i++) {
        const struct raw_section *o = &ld->secs[i];

        if (o->kind == kind &&
            (name == NULL ? o->name == NULL
                          : o->name != NULL && strlen(o->name) == nlen &&
                                memcmp(o->name, name, nlen) == 0)) {
            err(ld, ld->line,
                "duplicate section %s (first on line %d); merge the two or "
                "rename one",
                o->label, o->line);
            return -1;
        }
    }
    if (ld->nsecs == ld->capsecs) {
        size_t cap = ld->capsecs ? ld->capsecs * 2 : 8;

        sec = bw_realloc(ld->secs, cap * sizeof(*sec));
        if (sec == NULL) {
            ld->oom = 1;
            return -1;
        }
        ld->secs = sec;
        ld->capsecs = cap;
    }
    sec = &ld->secs[ld->nsecs];
    memset(sec, 0, sizeof(*sec));
    sec->kind = kind;
    sec->line = ld->line;
    if (name != NULL) {
        rc = bw_buf_printf(&label, "[%s %.*s]", kinds[kind].kind, (int)nlen,
                           name);
        sec->name = bw_strndup(name, nlen);
    } else {
        rc = bw_buf_printf(&label, "[%s]", kinds[kind].kind);
    }
    sec->label = rc == 0 ? bw_buf_detach(&label) : NULL;
    if (sec->label == NULL || (name != NULL && sec->name == NULL)) {
        raw_section_release(sec);
        ld->oom = 1;
        return -1;
    }
    ld->nsecs++;
    return (int)(ld->nsecs - 1);
}

/*
 * A "[kind NAME]" line (t points at '['): record the section, or report
 * what is wrong with the header. Keys up to the next header go to the new
 * section, or nowhere after an error.
 */
static void section_line(struct loader *ld, const char *t)
{
    const char *q = find_chars_or_comment(t + 1, "]");
    const char *in;
    const char *after;
    size_t n, klen;
    int kind, idx;

    ld->cur = -1;
    ld->seen_section = 1;
    if (*q != ']') {
        err(ld, ld->line,
            "section header without ']'; write [section] or [section NAME]");
        return;
    }
    after = lskip(q + 1);
    if (*after && *after != ';' && *after != '#') {
        err(ld, ld->line,
            "text after ']' in a section header; start comments with ';'");
        return;
    }
    in = lskip(t + 1);
    n = rtrim_len(in, (size_t)(q - in));
    for (klen = 0; klen < n && !isspace((unsigned char)in[klen]); klen++) {
    }
    kind = section_kind(in, klen);
    if (kind < 0) {
        unknown_section(ld, in, klen, in, n);
        return;
    }
    for (t = in + klen; (size_t)(t - in) < n && isspace((unsigned char)*t);
         t++) {
    }
    n -= (size_t)(t - in);
    if (kinds[kind].named && n == 0) {
        err(ld, ld->line, "section [%s] needs a name; write [%s %s]",
            kinds[kind].kind, kinds[kind].kind,
            kind == SK_TARGET ? "METRIC" : "NAME");
        return;
    }
    if (!kinds[kind].named && n > 0) {
        err(ld, ld->line, "section [%s] takes no name; write [%s]",
            kinds[kind].kind, kinds[kind].kind);
        return;
    }
    if (kinds[kind].named && kind != SK_TARGET && !name_ok(t, n)) {
        err(ld, ld->line,
            "bad %s name '%.*s'; use up to %d letters, digits, '-' and '_'",
            kinds[kind].kind, (int)(n > 60 ? 60 : n), t, NAME_LIMIT);
        return;
    }
    idx = add_section(ld, kind, kinds[kind].named ? t : NULL, n);
    ld->cur = idx;
}

/* Decide what the line is and what inih gets to see of it (in str). */
static void classify(struct loader *ld, char *str, size_t rawlen, int too_long)
{
    const char *t = lskip(str);
    const char *e;

    ld->kind = LK_SKIP;
    if (too_long) {
        err(ld, ld->line,
            "line is %zu bytes long; keep lines under %d bytes (Debian's "
            "inih cuts longer ones) and continue lists on indented lines",
            rawlen, LINE_LIMIT);
        if (*t == '[') {
            ld->cur = -1; /* its keys would land in the wrong section */
            ld->seen_section = 1;
            ld->have_prev = 0;
            memcpy(str, "[s]", 4);
        } else {
            ld->prev = -1;
            memcpy(str, ";", 2);
        }
        return;
    }
    if (*t == '\0' || *t == ';' || *t == '#') {
        return;
    }
    if (t > str && ld->have_prev) {
        ld->kind = LK_CONT;
        return;
    }
    if (*t == '[') {
        section_line(ld, t);
        ld->have_prev = 0;
        ld->prev = -1;
        memcpy(str, "[s]", 4); /* our section state is the one that counts */
        return;
    }
    e = find_chars_or_comment(t, "=:");
    if (*e != '=' && *e != ':') {
        err(ld, ld->line,
            "expected 'key = value' or '[section]'; indent a line only to "
            "continue a list");
        memcpy(str, ";", 2);
        return;
    }
    ld->kind = LK_KEY;
}

/* inih's line reader: one line of our buffer per call, never more than
   num - 1 bytes (longer lines were refused above). */
static char *line_reader(char *str, int num, void *stream)
{
    struct loader *ld = stream;
    const char *p;
    const char *nl;
    size_t n, raw;
    int too_long;

    if (ld->pos >= ld->len || num < 4) {
        return NULL;
    }
    p = ld->data + ld->pos;
    nl = memchr(p, '\n', ld->len - ld->pos);
    n = nl ? (size_t)(nl - p) : ld->len - ld->pos;
    ld->pos += n + (nl ? 1 : 0);
    ld->line++;
    raw = n;
    if (ld->line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    if (n > 0 && p[n - 1] == '\r') {
        n--;
    }
    if (memchr(p, '\0', n) != NULL) {
        err(ld, ld->line, "line holds a NUL byte; save the file as text");
        ld->kind = LK_SKIP;
        memcpy(str, ";", 2);
        return str;
    }
    /* inih's buffer is INI_MAX_LINE; a smaller one would cut lines too */
    too_long = raw >= LINE_LIMIT || n > (size_t)num - 1;
    n = n < (size_t)num - 1 ? n : (size_t)num - 1;
    memcpy(str, p, n);
    str[n] = '\0';
    classify(ld, str, raw, too_long);
    return str;
}

static int add_part(struct loader *ld, struct raw_key *k, const char *text,
                    size_t n)
{
    struct part *p = bw_realloc(k->parts, (k->nparts + 1) * sizeof(*p));

    if (p == NULL) {
        ld->oom = 1;
        return -1;
    }
    k->parts = p;
    p[k->nparts].text = bw_strndup(text, n);
    if (p[k->nparts].text == NULL) {
        ld->oom = 1;
        return -1;
    }
    p[k->nparts].line = ld->line;
    k->nparts++;
    return 0;
}

static struct raw_key *find_key(const struct raw_section *sec, const char *name)
{
    for (size_t i = 0; i < sec->nkeys; i++) {
        if (strcmp(sec->keys[i].name, name) == 0) {
            return &sec->keys[i];
        }
    }
    return NULL;
}

static void add_key(struct loader *ld, const char *name, const char *value)
{
    struct raw_section *sec = cur_section(ld);
    struct raw_key *k;

    ld->prev = -1;
    if (sec == NULL) {
        if (!ld->seen_section) {
            err(ld, ld->line,
                "key '%.60s' comes before any section; move it under its "
                "[section]",
                name);
        }
        return;
    }
    if (*name == '\0') {
        err(ld, ld->line, "a value without a key name; write 'key = value'");
        return;
    }
    k = find_key(sec, name);
    if (k != NULL) {
        err(ld, ld->line,
            "duplicate key '%.60s' in %s (first on line %d); keep one", name,
            sec->label, k->line);
        return;
    }
    if (sec->nkeys == sec->cap) {
        size_t cap = sec->cap ? sec->cap * 2 : 8;

        k = bw_realloc(sec->keys, cap * sizeof(*k));
        if (k == NULL) {
            ld->oom = 1;
            return;
        }
        sec->keys = k;
        sec->cap = cap;
    }
    k = &sec->keys[sec->nkeys];
    memset(k, 0, sizeof(*k));
    k->line = ld->line;
    k->name = bw_strdup(name);
    if (k->name == NULL) {
        ld->oom = 1;
        return;
    }
    sec->nkeys++;
    if (add_part(ld, k, value, strlen(value)) == 0) {
        ld->prev = (long)(sec->nkeys - 1);
    }
}

static int key_handler(void *user, const char *section, const char *name,
                       const char *value)
{
    struct loader *ld = user;
    struct raw_section *sec = cur_section(ld);

    (void)section;
    if (ld->kind != LK_KEY && ld->kind != LK_CONT) {
        return 1; /* never happens: inih and classify() agree on lines */
    }
    if (ld->kind == LK_CONT) {
        /* Debian's inih 55 keeps inline comments on continuation lines */
        const char *end = find_chars_or_comment(value, NULL);

        if (sec != NULL && ld->prev >= 0) {
            add_part(ld, &sec->keys[ld->prev], value,
                     rtrim_len(value, (size_t)(end - value)));
        }
        return 1;
    }
    ld->have_prev = *name != '\0';
    add_key(ld, name, value);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Value parsers                                                           */
/* ---------------------------------------------------------------------- */

int bw_parse_duration(const char *s, long *seconds)
{
    static const struct {
        char unit;
        long mult;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
    long v = 0;
    size_t i = 0;

    if (s == NULL || !isdigit((unsigned char)s[0])) {
        return BW_EPARSE;
    }
    for (; isdigit((unsigned char)s[i]); i++) {
        if (v > (LONG_MAX - (s[i] - '0')) / 10) {
            return BW_EPARSE;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (s[i] == '\0' || s[i + 1] != '\0') {
        return BW_EPARSE;
    }
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (s[i] == units[u].unit) {
            if (v > LONG_MAX / units[u].mult) {
                return BW_EPARSE;
            }
            *seconds = v * units[u].mult;
            return 0;
        }
    }
    return BW_EPARSE;
}

/* Plain decimal: digits with an optional fraction, nothing else (strtod
   alone would take "inf", "0x1p3" and leading spaces). */
static int parse_decimal(const char *s, size_t n, double *out)
{
    char buf[64];
    size_t i = 0;
    size_t digits = 0;

    if (n == 0 || n >= sizeof(buf)) {
        return BW_EPARSE;
    }
    for (; i < n && isdigit((unsigned char)s[i]); i++) {
        digits++;
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && isdigit((unsigned char)s[i]); i++) {
            digits++;
        }
    }
    if (i != n || digits == 0) {
        return BW_EPARSE;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return 0;
}

int bw_parse_ratio(const char *s, double *ratio)
{
    size_t n;
    double v;

    if (s == NULL) {
        return BW_EPARSE;
    }
    n = strlen(s);
    if (n > 0 && s[n - 1] == '%') {
        if (parse_decimal(s, n - 1, &v) || v > 100.0) {
            return BW_EPARSE;
        }
        *ratio = v / 100.0;
        return 0;
    }
    if (parse_decimal(s, n, &v) || v > 1.0) {
        return BW_EPARSE;
    }
    *ratio = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* YYYY-MM-DD, a real calendar date from 1970, to the epoch of its UTC
   midnight (clock.c's bw_parse_date() works in the current zone). */
static int parse_utc_date(const char *s, int64_t *epoch)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, leap;

    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return BW_EPARSE;
    }
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) {
            return BW_EPARSE;
        }
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
        (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || m < 1 || m > 12 || d < 1 ||
        d > mdays[m - 1] + (m == 2 && leap)) {
        return BW_EPARSE;
    }
    *epoch = days_from_civil(y, m, d) * 86400;
    return 0;
}

static int parse_long(const char *s, long *out)
{
    long v = 0;

    if (!isdigit((unsigned char)*s)) {
        return BW_EPARSE;
    }
    for (; isdigit((unsigned char)*s); s++) {
        if (v > (LONG_MAX - (*s - '0')) / 10) {
            return BW_EPARSE;
        }
        v = v * 10 + (*s - '0');
    }
    if (*s != '\0') {
        return BW_EPARSE;
    }
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return BW_EPARSE;
}

/* Scheme prefix match, case-insensitive; returns what follows "://". */
static const char *after_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);

    if (strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0) {
        return url + n + 3;
    }
    return NULL;
}

static int has_space(const char *s)
{
    for (; *s; s++) {
        if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s)) {
            return 1;
        }
    }
    return 0;
}

/* Parse a redis/unix URL; *why says what is wrong (for the message). */
/* HOST[:PORT] or [V6]:PORT in p..end of a redis:// URL. */
static int redis_host_port(const char *p, const char *end,
                           struct bw_redis_addr *a, const char **why)
{
    const char *host = p;
    const char *hend;
    long port = 6379;

    if (*p == '[') {
        host = p + 1;
        hend = memchr(host, ']', (size_t)(end - host));
        if (hend == NULL) {
            return BW_EPARSE;
        }
        p = hend + 1;
    } else {
        hend = p + strcspn(p, ":/?#");
        p = hend;
    }
    if (hend == host || (size_t)(hend - host) >= sizeof(a->host)) {
        *why = "no host; write redis://HOST[:PORT]";
        return BW_EPARSE;
    }
    if (*p == ':') {
        char digits[8];
        size_t n = (size_t)(end - p - 1);

        if (n == 0 || n >= sizeof(digits)) {
            *why = "bad port; use 1 to 65535";
            return BW_EPARSE;
        }
        memcpy(digits, p + 1, n);
        digits[n] = '\0';
        if (parse_long(digits, &port) || port < 1 || port > 65535) {
            *why = "bad port; use 1 to 65535";
            return BW_EPARSE;
        }
    } else if (p != end) {
        return BW_EPARSE;
    }
    memcpy(a->host, host, (size_t)(hend - host));
    a->host[hend - host] = '\0';
    a->port = (int)port;
    return 0;
}

static int redis_url(const char *url, struct bw_redis_addr *a, const char **why)
{
    const char *p;
    const char *end;
    const char *at;

    memset(a, 0, sizeof(*a));
    *why = "not a Redis URL; write redis://HOST[:PORT] or unix:///PATH";
    if (has_space(url)) {
        return BW_EPARSE;
    }
    if ((p = after_scheme(url, "unix")) != NULL) {
        if (*p != '/' || p[1] == '\0' || strlen(p) >= sizeof(a->path) ||
            strpbrk(p, "?#@") != NULL) {
            *why = "not an absolute socket path; write unix:///PATH";
            return BW_EPARSE;
        }
        memcpy(a->path, p, strlen(p) + 1);
        return 0;
    }
    if (after_scheme(url, "rediss") != NULL) {
        *why = "TLS (rediss://) is not supported by hiredis 0.14; use "
               "redis:// on a trusted network or unix:///PATH";
        return BW_EPARSE;
    }
    if ((p = after_scheme(url, "redis")) == NULL) {
        return BW_EPARSE;
    }
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    if (at != NULL || strchr(end, '@') != NULL) {
        *why = at != NULL && memchr(p, ':', (size_t)(at - p)) == NULL
                   ? "it holds a user name; remove it and set 'username'"
                   : "it holds a password; remove it and use password_env "
                     "or password_file";
        return BW_EPARSE;
    }
    if (*end != '\0' && strcmp(end, "/") != 0) {
        *why = "the database goes in 'db'; write redis://HOST[:PORT]";
        return BW_EPARSE;
    }
    return redis_host_port(p, end, a, why);
}

int bw_redis_url_parse(const char *url, struct bw_redis_addr *addr)
{
    const char *why;

    return url == NULL ? BW_EPARSE : redis_url(url, addr, &why);
}

/* http(s) or smtp(s) URL: the scheme, a host, and no credentials. */
static const char *web_url_problem(const char *url, int smtp)
{
    const char *p = after_scheme(url, smtp ? "smtps" : "https");
    const char *end;

    if (p == NULL) {
        p = after_scheme(url, smtp ? "smtp" : "http");
    }
    if (p == NULL || has_space(url)) {
        return smtp ? "smtps://HOST[:PORT] or smtp://HOST[:PORT]"
                    : "an http:// or https:// URL";
    }
    end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)) != NULL) {
        return NULL; /* credentials: the caller words that one */
    }
    if (end == p || *p == ':') {
        return "a URL with a host name";
    }
    return "";
}

/* ---------------------------------------------------------------------- */
/* Phase two: filling structs from key tables                              */
/* ---------------------------------------------------------------------- */

struct tab {
    const struct bw_config_key *keys;
    void *opts;
};

#define FIELD(opts, off, type) ((type *)(void *)((char *)(opts) + (off)))

static void clear_field(const struct bw_config_key *k, void *opts)
{
    switch (k->type) {
    case BW_KT_LIST:
        memset(FIELD(opts, k->offset, struct bw_strlist), 0,
               sizeof(struct bw_strlist));
        break;
    case BW_KT_INT:
    case BW_KT_DURATION:
        *FIELD(opts, k->offset, long) = 0;
        break;
    case BW_KT_BOOL:
        *FIELD(opts, k->offset, int) = 0;
        break;
    case BW_KT_RATIO:
        *FIELD(opts, k->offset, double) = 0;
        break;
    case BW_KT_DATE:
        *FIELD(opts, k->offset, int64_t) = -1;
        break;
    case BW_KT_BOUND:
        *FIELD(opts, k->offset, double) = 0;
        *FIELD(opts, k->aux_offset, int) = 0;
        break;
    case BW_KT_SECRET:
        memset(FIELD(opts, k->aux_offset, struct bw_secret_src), 0,
               sizeof(struct bw_secret_src));
        *FIELD(opts, k->offset, char *) = NULL;
        break;
    default:
        *FIELD(opts, k->offset, char *) = NULL;
        break;
    }
}

/* Where a value sits, for messages. */
struct at {
    struct loader *ld;
    const struct raw_section *sec;
    const struct bw_config_key *key;
    const struct bw_metric *metric; /* [target] bounds; NULL elsewhere */
    int line;
};

static void bad_value(const struct at *at, const char *value,
                      const char *expected)
{
    err(at->ld, at->line, "bad value '%.60s%s' for '%s' in %s; expected %s",
        value, strlen(value) > 60 ? "..." : "", at->key->name, at->sec->label,
        expected);
}

static int email_ok(const char *s)
{
    const char *a = strchr(s, '@');

    return a != NULL && a != s && a[1] != '\0' && strpbrk(s, ",;\"") == NULL;
}

static int set_str(const struct at *at, const char *value, char **field)
{
    if ((at->key->flags & KF_EMAIL) && !email_ok(value)) {
        bad_value(at, value, "a mail address user@domain");
        return BW_ECONFIG;
    }
    *field = bw_strdup(value);
    if (*field == NULL) {
        at->ld->oom = 1;
        return BW_ENOMEM;
    }
    return 0;
}

static int set_url(const struct at *at, const char *value, char **field)
{
    struct bw_redis_addr addr;
    const char *why;

    if (at->key->flags & KF_REDIS_URL) {
        if (redis_url(value, &addr, &why) != 0) {
            /* never echo it: it may hold a password */
            err(at->ld, at->line, "bad 'url' in %s: %s", at->sec->label, why);
            return BW_ECONFIG;
        }
    } else {
        why = web_url_problem(value, (at->key->flags & KF_SMTP_URL) != 0);
        if (why == NULL) {
            err(at->ld, at->line,
                "'%s' in %s carries credentials; remove them and use the "
                "*_env or *_file keys",
                at->key->name, at->sec->label);
            return BW_ECONFIG;
        }
        if (*why != '\0') {
            bad_value(at, value, why);
            return BW_ECONFIG;
        }
        if (strpbrk(value, "?#") != NULL) {
            /* a query may hold a token (?access_token=...): not echoed */
            err(at->ld, at->line,
                "'%s' in %s has a query or fragment; give the base URL only "
                "(secrets go in the *_env or *_file keys)",
                at->key->name, at->sec->label);
            return BW_ECONFIG;
        }
    }
    return set_str(at, value, field);
}

static int set_cron(const struct at *at, const char *value, char **field)
{
    size_t fields = 0;

    for (const char *p = lskip(value); *p; p = lskip(p)) {
        fields++;
        while (*p && !isspace((unsigned char)*p)) {
            p++;
        }
    }
    if (fields != 5) {
        err(at->ld, at->line,
            "bad cron expression '%.60s' for '%s' in %s: %zu fields; "
            "expected 5 (minute hour day-of-month month day-of-week), e.g. "
            "'*/30 * * * *'",
            value, at->key->name, at->sec->label, fields);
        return BW_ECONFIG;
    }
#ifdef HAVE_CRON_VALIDATE
    {
        char why[256] = "";

        if (bw_cron_validate(value, why, sizeof(why)) != 0) {
            err(at->ld, at->line,
                "bad cron expression '%.60s' for '%s' in %s: %s; fix that "
                "field (crontab(5) syntax)",
                value, at->key->name, at->sec->label, why);
            return BW_ECONFIG;
        }
    }
#endif
    return set_str(at, value, field);
}

static const char *bound_expected(const struct bw_metric *m)
{
    switch (m->unit) {
    case BW_MU_HOURS:
        return "a duration such as 8h, 90m or 2d, or a number of hours";
    case BW_MU_DAYS:
        return "a duration such as 3d, 36h or 2w, or a number of days";
    case BW_MU_RATIO:
        return "a ratio such as 10% or 0.1";
    default:
        return "a number (0 or more)";
    }
}

/* One value of a scalar type (not LIST, not SECRET) into its field. */
static int set_scalar(const struct at *at, const char *v, void *opts)
{
    const struct bw_config_key *k = at->key;
    size_t off = k->offset;

    switch (k->type) {
    case BW_KT_INT:
        if (parse_long(v, FIELD(opts, off, long)) ||
            ((k->flags & KF_MIN1) && *FIELD(opts, off, long) < 1)) {
            bad_value(at, v,
                      k->flags & KF_MIN1 ? "a whole number (1 or more)"
                                         : "a whole number (0 or more)");
            return BW_ECONFIG;
        }
        return 0;
    case BW_KT_BOOL:
        if (parse_bool(v, FIELD(opts, off, int))) {
            bad_value(at, v, "true or false (yes/no, on/off, 1/0)");
            return BW_ECONFIG;
        }
        return 0;
    case BW_KT_DURATION:
        if (bw_parse_duration(v, FIELD(opts, off, long))) {
            bad_value(at, v, "a duration such as 90s, 15m, 8h, 3d or 2w");
            return BW_ECONFIG;
        }
        return 0;
    case BW_KT_RATIO:
        if (bw_parse_ratio(v, FIELD(opts, off, double))) {
            bad_value(at, v, "a ratio from 0 to 1 such as 10% or 0.1");
            return BW_ECONFIG;
        }
        return 0;
    case BW_KT_DATE:
        if (parse_utc_date(v, FIELD(opts, off, int64_t))) {
            bad_value(at, v, "a date YYYY-MM-DD");
            return BW_ECONFIG;
        }
        return 0;
    case BW_KT_ZONE:
        if (!bw_tz_valid(v)) { /* glibc would silently use UTC */
            bad_value(at, v,
                      "a time zone with a file under /usr/share/zoneinfo "
                      "such as Europe/Berlin (package tzdata)");
            return BW_ECONFIG;
        }
        return set_str(at, v, FIELD(opts, off, char *));
    case BW_KT_CRON:
        return set_cron(at, v, FIELD(opts, off, char *));
    case BW_KT_URL:
        return set_url(at, v, FIELD(opts, off, char *));
    case BW_KT_BOUND:
        if (at->metric == NULL) {
            return 0; /* unknown metric: reported already */
        }
        if (bw_metric_parse_bound(at->metric, v, FIELD(opts, off, double))) {
            bad_value(at, v, bound_expected(at->metric));
            return BW_ECONFIG;
        }
        *FIELD(opts, k->aux_offset, int) = 1;
        return 0;
    default:
        return set_str(at, v, FIELD(opts, off, char *));
    }
}

int bw_strlist_add(struct bw_strlist *l, const char *s)
{
    char **v = bw_realloc(l->v, (l->n + 1) * sizeof(*v));
    char *copy;

    if (v == NULL) {
        return BW_ENOMEM;
    }
    l->v = v;
    copy = bw_strdup(s);
    if (copy == NULL) {
        return BW_ENOMEM;
    }
    v[l->n++] = copy;
    return 0;
}

/* Add the comma-separated items of one line; a trailing comma is fine
   when another line follows. */
static int list_line(const struct at *at, const char *text, int more,
                     struct bw_strlist *l)
{
    char item[LINE_LIMIT];
    const char *p = text;

    for (;;) {
        const char *comma = strchr(p, ',');
        const char *s = lskip(p);
        size_t n = comma ? (size_t)(comma - s) : strlen(s);

        n = rtrim_len(s, n);
        if (n >= sizeof(item)) {
            err(at->ld, at->line, "an item of '%s' in %s is too long",
                at->key->name, at->sec->label);
            return BW_ECONFIG;
        }
        if (n == 0 && !(comma == NULL && more && p != text)) {
            err(at->ld, at->line,
                "empty item in the list '%s' in %s; remove the extra comma",
                at->key->name, at->sec->label);
            return BW_ECONFIG;
        }
        if (n > 0) {
            memcpy(item, s, n);
            item[n] = '\0';
            if ((at->key->flags & KF_EMAIL) && !email_ok(item)) {
                bad_value(at, item, "mail addresses user@domain");
                return BW_ECONFIG;
            }
            if (bw_strlist_add(l, item)) {
                at->ld->oom = 1;
                return BW_ENOMEM;
            }
        }
        if (comma == NULL) {
            return 0;
        }
        p = comma + 1;
    }
}

static int set_list(struct at *at, const struct raw_key *rk,
                    struct bw_strlist *l)
{
    for (size_t i = 0; i < rk->nparts; i++) {
        const char *t = rk->parts[i].text;
        int more = i + 1 < rk->nparts;
        int rc;

        at->line = rk->parts[i].line;
        if (*t == '\0' && (more || rk->nparts == 1)) {
            continue; /* "key =" then indented lines, or an empty list */
        }
        rc = list_line(at, t, more, l);
        if (rc) {
            return rc;
        }
    }
    at->line = rk->line;
    if (l->n == 0 && (at->key->flags & BW_KF_REQUIRED)) {
        err(at->ld, rk->line, "'%s' in %s is empty; list at least one",
            at->key->name, at->sec->label);
        return BW_ECONFIG;
    }
    return 0;
}

/* The value of a raw key: one line, or a text joined from several. */
static char *key_text(struct at *at, const struct raw_key *rk)
{
    struct bw_buf b = BW_BUF_INIT;

    if (rk->nparts > 1 && at->key->type != BW_KT_STR) {
        err(at->ld, rk->parts[1].line,
            "indented line continues '%s' in %s, which takes one value; "
            "remove the indentation",
            at->key->name, at->sec->label);
        return NULL;
    }
    for (size_t i = 0; i < rk->nparts; i++) {
        if (*rk->parts[i].text == '\0') {
            continue;
        }
        if ((b.len > 0 && bw_buf_addch(&b, ' ')) ||
            bw_buf_adds(&b, rk->parts[i].text)) {
            bw_buf_release(&b);
            at->ld->oom = 1;
            return NULL;
        }
    }
    if (b.len == 0) {
        err(at->ld, rk->line,
            "'%s' in %s has no value; give one or remove the line",
            at->key->name, at->sec->label);
        bw_buf_release(&b);
        return NULL;
    }
    return bw_buf_detach(&b);
}

static int set_default(struct at *at, void *opts)
{
    struct raw_key rk;
    struct part part;
    int rc;

    clear_field(at->key, opts);
    if (at->key->def == NULL || at->key->type == BW_KT_SECRET) {
        return 0;
    }
    part.text = (char *)(uintptr_t)at->key->def;
    part.line = at->sec->line;
    memset(&rk, 0, sizeof(rk));
    rk.line = at->sec->line;
    rk.parts = &part;
    rk.nparts = 1;
    at->line = at->sec->line;
    if (at->key->type == BW_KT_LIST) {
        return set_list(at, &rk,
                        FIELD(opts, at->key->offset, struct bw_strlist));
    }
    rc = set_scalar(at, at->key->def, opts);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Secrets                                                                 */
/* ---------------------------------------------------------------------- */

static int env_name_ok(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_') {
        return 0;
    }
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && *s != '_') {
            return 0;
        }
    }
    return 1;
}

/* Expand ${VAR} in a *_file value; an unset or empty variable is an
   error. A '$' not followed by '{' stays as it is. */
static char *expand_vars(const struct at *at, const char *key, const char *text)
{
    struct bw_buf b = BW_BUF_INIT;
    const char *p = text;
    int rc = 0;

    while (rc == 0 && *p) {
        const char *close;
        char name[NAME_LIMIT + 1];
        const char *v;
        size_t n;

        if (p[0] != '$' || p[1] != '{') {
            rc = bw_buf_addch(&b, *p++);
            continue;
        }
        close = strchr(p + 2, '}');
        n = close ? (size_t)(close - p - 2) : 0;
        if (close == NULL || n == 0 || n > NAME_LIMIT) {
            err(at->ld, at->line, "bad '${' in '%s' of %s; write ${VARIABLE}",
                key, at->sec->label);
            bw_buf_release(&b);
            return NULL;
        }
        memcpy(name, p + 2, n);
        name[n] = '\0';
        v = getenv(name);
        if (!env_name_ok(name) || v == NULL || *v == '\0') {
            err(at->ld, at->line,
                "variable '%s' used in '%s' of %s is not set; %s", name, key,
                at->sec->label,
                strcmp(name, "CREDENTIALS_DIRECTORY") == 0
                    ? "systemd sets it with LoadCredential=, elsewhere "
                      "write the path"
                    : "set it or write the path");
            bw_buf_release(&b);
            return NULL;
        }
        rc = bw_buf_adds(&b, v);
        p = close + 1;
    }
    if (rc) {
        at->ld->oom = 1;
        bw_buf_release(&b);
        return NULL;
    }
    return bw_buf_detach(&b);
}

/* Read a whole secret file (bounded), trailing newlines trimmed. */
static char *read_secret(const struct at *at, const char *key, const char *path)
{
    struct bw_buf b = BW_BUF_INIT;
    struct stat st;
    char chunk[4096];
    ssize_t got;
    int fd;

    fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err(at->ld, at->line,
            "cannot read secret file '%s' ('%s' in %s): %s; check the path "
            "and its permissions",
            path, key, at->sec->label, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err(at->ld, at->line,
            "secret file '%s' ('%s' in %s) is not a regular file; name the "
            "file that holds the secret",
            path, key, at->sec->label);
        close(fd);
        return NULL;
    }
    if (st.st_mode & (S_IRGRP | S_IROTH)) {
        warn(at->ld, at->line,
             "secret file '%s' is readable by group or others; chmod 600 "
             "'%s'",
             path, path);
    }
    b.max = SECRET_LIMIT;
    while ((got = read(fd, chunk, sizeof(chunk))) > 0) {
        int rc = bw_buf_add(&b, chunk, (size_t)got);

        if (rc) {
            if (rc == BW_ENOMEM) {
                at->ld->oom = 1;
            } else {
                err(at->ld, at->line,
                    "secret file '%s' is larger than %d bytes; it should "
                    "hold the secret only",
                    path, SECRET_LIMIT);
            }
            got = -2;
            break;
        }
    }
    if (got == -1) {
        err(at->ld, at->line, "cannot read secret file '%s': %s", path,
            strerror(errno));
    }
    close(fd);
    explicit_bzero(chunk, sizeof(chunk));
    while (b.len > 0 &&
           (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r')) {
        b.data[--b.len] = '\0';
    }
    if (got == 0 && b.len == 0) {
        err(at->ld, at->line,
            "secret file '%s' is empty; write the secret into it", path);
    }
    if (got != 0 || b.len == 0) {
        if (b.data != NULL) {
            explicit_bzero(b.data, b.cap);
        }
        bw_buf_release(&b);
        return NULL;
    }
    return bw_buf_detach(&b);
}

/* A "variable name" that is really a token pasted in (ghp_..., a hex
   string): long, with lower case letters and digits. Such a name is never
   printed. Conventional names (GITHUB_TOKEN) are upper case. */
static int looks_like_secret(const char *name)
{
    int lower = 0, digit = 0;

    for (const char *p = name; *p; p++) {
        lower |= islower((unsigned char)*p) != 0;
        digit |= isdigit((unsigned char)*p) != 0;
    }
    return strlen(name) > 16 && lower && digit;
}

static void secret_env(struct at *at, const char *key, const char *name,
                       struct bw_secret_src *src, char **field)
{
    const char *v;

    if (!env_name_ok(name) || strlen(name) > 255) {
        /* not echoed: it might be the secret itself */
        err(at->ld, at->line,
            "'%s' in %s is not a variable name; it names the environment "
            "variable that holds the secret, never the secret itself",
            key, at->sec->label);
        return;
    }
    src->env = bw_strdup(name);
    if (src->env == NULL) {
        at->ld->oom = 1;
        return;
    }
    v = getenv(name);
    if ((v == NULL || *v == '\0') && looks_like_secret(name)) {
        err(at->ld, at->line,
            "the environment variable '%s' in %s names is not set, and its "
            "name looks like a token (not shown); give the variable's name, "
            "never the secret",
            key, at->sec->label);
        return;
    }
    if (v == NULL || *v == '\0') {
        err(at->ld, at->line,
            "environment variable '%s' ('%s' in %s) is not set or empty; "
            "export it or use %.*s_file",
            name, key, at->sec->label, (int)(strlen(key) - 4), key);
        return;
    }
    *field = bw_strdup(v);
    if (*field == NULL) {
        at->ld->oom = 1;
    }
}

static void secret_file(struct at *at, const char *key, const char *text,
                        struct bw_secret_src *src, char **field)
{
    src->file = expand_vars(at, key, text);
    if (src->file != NULL) {
        *field = read_secret(at, key, src->file);
    }
}

static void fill_secret(struct at *at, struct raw_section *sec, void *opts)
{
    const struct bw_config_key *k = at->key;
    struct bw_secret_src *src =
        FIELD(opts, k->aux_offset, struct bw_secret_src);
    char **field = FIELD(opts, k->offset, char *);
    char nenv[NAME_LIMIT + 8];
    char nfile[NAME_LIMIT + 8];
    struct raw_key *ke;
    struct raw_key *kf;
    struct raw_key *rk;
    char *text;

    clear_field(k, opts);
    snprintf(nenv, sizeof(nenv), "%s_env", k->name);
    snprintf(nfile, sizeof(nfile), "%s_file", k->name);
    ke = find_key(sec, nenv);
    kf = find_key(sec, nfile);
    if (ke != NULL) {
        ke->used = 1;
    }
    if (kf != NULL) {
        kf->used = 1;
    }
    if (ke != NULL && kf != NULL) {
        err(at->ld, ke->line > kf->line ? ke->line : kf->line,
            "both '%s' and '%s' in %s; keep one", nenv, nfile, sec->label);
        return;
    }
    if (ke == NULL && kf == NULL) {
        if (k->flags & BW_KF_REQUIRED) {
            err(at->ld, sec->line, "missing '%s' or '%s' in %s; add one (%s)",
                nenv, nfile, sec->label, k->desc ? k->desc : k->name);
        }
        return;
    }
    rk = ke ? ke : kf;
    at->line = rk->line;
    text = key_text(at, rk);
    if (text == NULL) {
        return;
    }
    if ((at->ld->flags & BW_CONFIG_NO_SOURCE_SECRETS) &&
        sec->kind == SK_SOURCE && (kf != NULL || env_name_ok(text))) {
        /* a command that calls no API: name the secret, never read it */
        if (ke != NULL) {
            src->env = text;
        } else {
            src->file = text;
        }
        return;
    }
    if (ke != NULL) {
        secret_env(at, nenv, text, src, field);
    } else {
        secret_file(at, nfile, text, src, field);
    }
    bw_free(text);
}

/* ---------------------------------------------------------------------- */
/* Sections                                                                */
/* ---------------------------------------------------------------------- */

static int key_present(const struct raw_section *sec,
                       const struct bw_config_key *k)
{
    const struct raw_key *rk;

    if (k->type == BW_KT_SECRET) {
        char n[NAME_LIMIT + 8];

        snprintf(n, sizeof(n), "%s_env", k->name);
        if (find_key(sec, n) != NULL) {
            return 1;
        }
        snprintf(n, sizeof(n), "%s_file", k->name);
        return find_key(sec, n) != NULL;
    }
    rk = find_key(sec, k->name);
    if (rk == NULL) {
        return 0;
    }
    for (size_t i = 0; i < rk->nparts; i++) {
        if (strspn(rk->parts[i].text, " \t,") != strlen(rk->parts[i].text)) {
            return 1;
        }
    }
    return 0;
}

static void fill_key(struct at *at, struct raw_section *sec, void *opts)
{
    const struct bw_config_key *k = at->key;
    struct raw_key *rk;
    char *text;

    at->line = sec->line;
    if (k->type == BW_KT_SECRET) {
        fill_secret(at, sec, opts);
        return;
    }
    rk = find_key(sec, k->name);
    if (rk == NULL) {
        if (k->flags & BW_KF_REQUIRED) {
            err(at->ld, sec->line, "missing '%s' in %s; add it (%s)", k->name,
                sec->label, k->desc ? k->desc : k->name);
        }
        set_default(at, opts);
        return;
    }
    rk->used = 1;
    clear_field(k, opts);
    at->line = rk->line;
    if (k->type == BW_KT_LIST) {
        set_list(at, rk, FIELD(opts, k->offset, struct bw_strlist));
        return;
    }
    text = key_text(at, rk);
    if (text != NULL) {
        set_scalar(at, text, opts);
        bw_free(text);
    }
}

/* "repos or org" (ANYOF) and "projects or jql" (ONEOF) across a section. */
static void check_groups(struct loader *ld, const struct raw_section *sec,
                         const struct tab *tabs, size_t ntabs)
{
    static const unsigned groups[] = {BW_KF_ANYOF, BW_KF_ONEOF};

    for (size_t g = 0; g < 2; g++) {
        char names[256] = "";
        size_t len = 0;
        int members = 0, set = 0, last_line = 0;

        for (size_t t = 0; t < ntabs; t++) {
            for (const struct bw_config_key *k = tabs[t].keys; k->type; k++) {
                const struct raw_key *rk = find_key(sec, k->name);
                int w;

                if (!(k->flags & groups[g])) {
                    continue;
                }
                members++;
                w = snprintf(names + len, sizeof(names) - len, "%s'%s%s'",
                             len ? " or " : "", k->name,
                             k->type == BW_KT_SECRET ? "_env" : "");
                if (w > 0 && (size_t)w < sizeof(names) - len) {
                    len += (size_t)w;
                }
                if (key_present(sec, k)) {
                    set++;
                    if (rk != NULL && rk->line > last_line) {
                        last_line = rk->line;
                    }
                }
            }
        }
        if (members == 0) {
            continue;
        }
        if (set == 0) {
            err(ld, sec->line, "%s needs %s; add %s", sec->label, names,
                groups[g] == BW_KF_ONEOF ? "one" : "at least one");
        } else if (set > 1 && groups[g] == BW_KF_ONEOF) {
            err(ld, last_line ? last_line : sec->line,
                "%s takes only one of %s; keep one", sec->label, names);
        }
    }
}

static void unknown_keys(struct loader *ld, const struct raw_section *sec,
                         const struct tab *tabs, size_t ntabs)
{
    const char *names[128];
    size_t n = 0;
    char known[400];
    char hint[200];
    size_t len = 0;

    known[0] = '\0';
    for (size_t t = 0; t < ntabs; t++) {
        for (const struct bw_config_key *k = tabs[t].keys; k->type; k++) {
            int w =
                snprintf(known + len, sizeof(known) - len,
                         k->type == BW_KT_SECRET ? "%s%s_env, %s_file" : "%s%s",
                         len ? ", " : "", k->name, k->name);

            if (w > 0 && (size_t)w < sizeof(known) - len) {
                len += (size_t)w;
            }
            if (n < sizeof(names) / sizeof(names[0])) {
                names[n++] = k->name;
            }
        }
    }
    for (size_t i = 0; i < sec->nkeys; i++) {
        const struct raw_key *rk = &sec->keys[i];

        if (rk->used) {
            continue;
        }
        suggest(rk->name, names, n, 0, hint, sizeof(hint));
        err(ld, rk->line, "unknown key '%.60s' in %s; %s%s%sknown keys: %s%s",
            rk->name, sec->label, hint[0] ? "did you mean " : "", hint,
            hint[0] ? "? " : "", sec->kind == SK_SOURCE ? "type, " : "", known);
    }
}

static void fill_section(struct loader *ld, struct raw_section *sec,
                         const struct tab *tabs, size_t ntabs,
                         const struct bw_metric *metric)
{
    for (size_t t = 0; t < ntabs; t++) {
        for (const struct bw_config_key *k = tabs[t].keys; k->type; k++) {
            struct at at = {ld, sec, k, metric, sec->line};

            fill_key(&at, sec, tabs[t].opts);
        }
    }
    check_groups(ld, sec, tabs, ntabs);
    unknown_keys(ld, sec, tabs, ntabs);
}

/* ---------------------------------------------------------------------- */
/* Config change hash                                                      */
/* ---------------------------------------------------------------------- */

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ c[i]) * FNV_PRIME;
    }
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return s ? fnv(h, s, strlen(s) + 1) : fnv(h, "\xff", 1);
}

/* One key's normalized value; list order does not matter (a sum of item
   hashes), so reordering a list does not rebuild anything. */
static uint64_t hash_key(uint64_t h, const struct bw_config_key *k,
                         const void *opts)
{
    const char *base = opts;
    char num[64];

    h = fnv_str(h, k->name);
    switch (k->type) {
    case BW_KT_LIST: {
        const struct bw_strlist *l = (const void *)(base + k->offset);
        uint64_t sum = 0;

        for (size_t i = 0; i < l->n; i++) {
            sum += fnv_str(FNV_OFFSET, l->v[i]);
        }
        snprintf(num, sizeof(num), "%zu:%016llx", l->n,
                 (unsigned long long)sum);
        return fnv_str(h, num);
    }
    case BW_KT_INT:
    case BW_KT_DURATION:
        snprintf(num, sizeof(num), "%ld", *(const long *)(base + k->offset));
        return fnv_str(h, num);
    case BW_KT_BOOL:
        return fnv_str(h, *(const int *)(base + k->offset) ? "true" : "false");
    case BW_KT_RATIO:
    case BW_KT_BOUND:
        snprintf(num, sizeof(num), "%.17g",
                 *(const double *)(base + k->offset));
        return fnv_str(h, num);
    case BW_KT_DATE:
        snprintf(num, sizeof(num), "%lld",
                 (long long)*(const int64_t *)(base + k->offset));
        return fnv_str(h, num);
    case BW_KT_SECRET:
        return h; /* secrets never leave the process, not even hashed */
    default:
        return fnv_str(h, *(char *const *)(const void *)(base + k->offset));
    }
}

static char *metric_hash(const char *type, const struct tab *tabs, size_t ntabs)
{
    uint64_t h = fnv_str(FNV_OFFSET, type);
    char hex[17];

    for (size_t t = 0; t < ntabs; t++) {
        for (const struct bw_config_key *k = tabs[t].keys; k->type; k++) {
            if (k->flags & BW_KF_METRIC) {
                h = hash_key(h, k, tabs[t].opts);
            }
        }
    }
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
    return bw_strdup(hex);
}

/* ---------------------------------------------------------------------- */
/* Section processors                                                      */
/* ---------------------------------------------------------------------- */

static int grow(struct loader *ld, void **v, size_t n, size_t size)
{
    void *p = bw_realloc(*v, (n + 1) * size);

    if (p == NULL) {
        ld->oom = 1;
        return BW_ENOMEM;
    }
    *v = p;
    memset((char *)p + n * size, 0, size);
    return 0;
}

static int type_ok(const char *s)
{
    if (*s == '\0' || strlen(s) > NAME_LIMIT) {
        return 0;
    }
    for (; *s; s++) {
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
            *s != '_') {
            return 0;
        }
    }
    return 1;
}

/* The collector a [source] names with `type`, or NULL (reported). */
static const struct bw_collector *source_type(struct loader *ld,
                                              struct raw_section *sec,
                                              const struct bw_config *cfg)
{
    struct raw_key *rk = find_key(sec, "type");
    const struct bw_collector *c;
    const char *t;

    if (rk == NULL) {
        err(ld, sec->line,
            "missing 'type' in %s; add type = github or "
            "type = jira",
            sec->label);
        return NULL;
    }
    rk->used = 1;
    t = rk->parts[0].text;
    if (rk->nparts > 1 || !type_ok(t)) {
        err(ld, rk->line,
            "bad type '%.60s' in %s; built-in types are github and jira", t,
            sec->label);
        return NULL;
    }
    c = bw_collector_find(
        t, (ld->flags & BW_CONFIG_NO_PLUGINS) ? NULL : cfg->plugins_path);
    if (c == NULL) {
        err(ld, rk->line,
            "unknown source type '%s' in %s; built-in types are github and "
            "jira, others load from [plugins] path",
            t, sec->label);
    }
    return c;
}

static void do_source(struct loader *ld, struct raw_section *sec,
                      struct bw_config *cfg)
{
    const struct bw_collector *c = source_type(ld, sec, cfg);
    struct bw_source_conf *src;
    struct tab tabs[2];
    int before = ld->nerrors;

    if (c == NULL) {
        return;
    }
    if (grow(ld, (void **)&cfg->sources, cfg->nsources, sizeof(*src))) {
        return;
    }
    src = &cfg->sources[cfg->nsources];
    src->name = bw_strdup(sec->name);
    src->opts = bw_calloc(1, c->opts_size);
    if (src->name == NULL || src->opts == NULL) {
        bw_free(src->name);
        bw_free(src->opts);
        ld->oom = 1;
        return;
    }
    src->collector = c;
    src->file = cfg->file;
    src->line = sec->line;
    cfg->nsources++;
    tabs[0].keys = common_keys;
    tabs[0].opts = &src->common;
    tabs[1].keys = c->keys;
    tabs[1].opts = src->opts;
    fill_section(ld, sec, tabs, 2, NULL);
    src->metric_hash = metric_hash(c->name, tabs, 2);
    if (src->metric_hash == NULL) {
        ld->oom = 1;
    }
    if (ld->nerrors == before && !ld->oom && c->validate != NULL &&
        c->validate(src) != 0) {
        /* the collector logged its own FILE:LINE message; a caller that
           collects messages gets a line here too */
        if (ld->out != NULL) {
            err(ld, sec->line,
                "the %s collector refused %s (its message went to the log); "
                "fix what it says",
                c->name, sec->label);
        } else {
            ld->nerrors++;
        }
    }
}

static void do_team(struct loader *ld, struct raw_section *sec,
                    struct bw_config *cfg)
{
    struct bw_team_conf *team;
    struct tab tab;

    if (grow(ld, (void **)&cfg->teams, cfg->nteams, sizeof(*team))) {
        return;
    }
    team = &cfg->teams[cfg->nteams];
    team->name = bw_strdup(sec->name);
    if (team->name == NULL) {
        ld->oom = 1;
        return;
    }
    team->line = sec->line;
    cfg->nteams++;
    tab.keys = team_keys;
    tab.opts = team;
    fill_section(ld, sec, &tab, 1, NULL);
}

static const struct bw_metric *target_metric(struct loader *ld,
                                             const struct raw_section *sec)
{
    const char *names[64];
    size_t n = 0;
    char hint[200];
    const struct bw_metric *m = bw_metric_find(sec->name);

    if (m != NULL) {
        return m;
    }
    for (const struct bw_metric *i = bw_metrics; i->name && n < 64; i++) {
        names[n++] = i->name;
    }
    suggest(sec->name, names, n, 0, hint, sizeof(hint));
    err(ld, sec->line,
        "unknown metric '%.60s' in %s; %s%s%s'bellwether "
        "metrics' lists them",
        sec->name, sec->label, hint[0] ? "did you mean " : "", hint,
        hint[0] ? "? " : "");
    return NULL;
}

/* stat must fit the metric: statistics for per-item metrics, value for
   counts, rates and point-in-time metrics. */
static void target_stat(struct loader *ld, const struct raw_section *sec,
                        const struct bw_metric *m, const char *stat)
{
    const struct raw_key *rk = find_key(sec, "stat");
    int line = rk ? rk->line : sec->line;
    int known = 0;

    for (size_t i = 0; target_stats[i]; i++) {
        known |= strcmp(stat, target_stats[i]) == 0;
    }
    if (bw_metric_has_stats(m) && !known) {
        err(ld, line,
            "stat '%.30s' does not fit '%s' (a %s metric); use one of p50, "
            "p75, p85, p90, p95, p99, mean, min, max",
            stat, m->name, bw_metric_kind_name(m->kind));
    } else if (!bw_metric_has_stats(m) && strcmp(stat, "value") != 0) {
        err(ld, line,
            "stat '%.30s' does not fit '%s' (a %s metric); use "
            "value",
            stat, m->name, bw_metric_kind_name(m->kind));
    }
}

static void do_target(struct loader *ld, struct raw_section *sec,
                      struct bw_config *cfg)
{
    const struct bw_metric *m = target_metric(ld, sec);
    struct bw_target_conf *t;
    struct tab tab;

    if (grow(ld, (void **)&cfg->targets, cfg->ntargets, sizeof(*t))) {
        return;
    }
    t = &cfg->targets[cfg->ntargets];
    t->metric = bw_strdup(sec->name);
    if (t->metric == NULL) {
        ld->oom = 1;
        return;
    }
    t->line = sec->line;
    cfg->ntargets++;
    tab.keys = target_keys;
    tab.opts = t;
    fill_section(ld, sec, &tab, 1, m);
    if (m != NULL && t->stat != NULL) {
        target_stat(ld, sec, m, t->stat);
    }
}

/* A section that appears at most once; absent: the table's defaults. */
static void do_single(struct loader *ld, int kind, void *opts)
{
    struct tab tab = {kinds[kind].keys, opts};
    struct raw_section *sec = NULL;

    for (size_t i = 0; i < ld->nsecs; i++) {
        if (ld->secs[i].kind == kind) {
            sec = &ld->secs[i];
            break;
        }
    }
    if (sec != NULL) {
        fill_section(ld, sec, &tab, 1, NULL);
        return;
    }
    if (kind == SK_REDIS) {
        err(ld, 0,
            "missing section [redis]; add one with url = "
            "redis://127.0.0.1:6379");
    }
    if (bw_config_defaults(kinds[kind].keys, opts) == BW_ENOMEM) {
        ld->oom = 1;
    }
}

static struct bw_config *build(struct loader *ld)
{
    struct bw_config *cfg = bw_calloc(1, sizeof(*cfg));

    if (cfg == NULL || (cfg->file = bw_strdup(ld->file)) == NULL) {
        ld->oom = 1;
        return cfg;
    }
    do_single(ld, SK_PLUGINS, cfg);
    do_single(ld, SK_REDIS, &cfg->redis);
    do_single(ld, SK_REPORT, &cfg->report);
    do_single(ld, SK_SCHEDULE, &cfg->schedule);
    do_single(ld, SK_EMAIL, &cfg->email);
    for (size_t i = 0; i < ld->nsecs; i++) {
        struct raw_section *sec = &ld->secs[i];

        if (sec->kind == SK_EMAIL) {
            cfg->email.present = 1;
        } else if (sec->kind == SK_SOURCE) {
            do_source(ld, sec, cfg);
        } else if (sec->kind == SK_TEAM) {
            do_team(ld, sec, cfg);
        } else if (sec->kind == SK_TARGET) {
            do_target(ld, sec, cfg);
        }
    }
    return cfg;
}

/* ---------------------------------------------------------------------- */
/* Public API                                                              */
/* ---------------------------------------------------------------------- */

const char *bw_config_path(const char *path)
{
    const char *env = getenv("BELLWETHER_CONFIG");

    if (path != NULL && *path != '\0') {
        return path;
    }
    if (env != NULL && *env != '\0') {
        return env;
    }
    if (access("bellwether.ini", F_OK) == 0) {
        return "bellwether.ini";
    }
    return "/etc/bellwether/bellwether.ini";
}

int bw_config_parse(const char *name, const char *data, size_t len,
                    unsigned flags, struct bw_buf *diag, struct bw_config **out)
{
    struct loader ld;
    struct bw_config *cfg = NULL;
    int rc;

    *out = NULL;
    memset(&ld, 0, sizeof(ld));
    ld.file = name ? name : "config";
    ld.flags = flags;
    ld.data = data ? data : "";
    ld.len = data ? len : 0;
    ld.cur = -1;
    ld.prev = -1;
    ld.out = diag;
    rc = ini_parse_stream(line_reader, &ld, key_handler, &ld);
    if (rc > 0 && ld.nerrors == 0) {
        err(&ld, rc, "cannot parse this line; write 'key = value'");
    }
    if (!ld.oom) {
        cfg = build(&ld);
    }
    diag_flush(&ld);
    rc = ld.oom ? BW_ENOMEM : ld.nerrors > 0 ? BW_ECONFIG : 0;
    loader_release(&ld);
    if (rc) {
        bw_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

static void file_error(struct bw_buf *diag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A message about the file as a whole: to diag, or logged. */
static void file_error(struct bw_buf *diag, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (diag != NULL) {
        bw_buf_printf(diag, "%s\n", msg);
    } else {
        BW_ERROR("%s", msg);
    }
}

/* Read a whole config file, at most FILE_LIMIT bytes. */
static int read_file(const char *path, struct bw_buf *b, struct bw_buf *diag)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t got;
    int rc = 0;

    if (f == NULL) {
        file_error(diag,
                   "cannot read config '%s': %s; pass -c FILE or set "
                   "BELLWETHER_CONFIG",
                   path, strerror(errno));
        return BW_ECONFIG;
    }
    b->max = (size_t)FILE_LIMIT;
    while (rc == 0 && (got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = bw_buf_add(b, chunk, got);
    }
    if (rc == 0 && ferror(f)) {
        file_error(diag, "cannot read config '%s': %s; pass a regular file",
                   path, strerror(errno));
        rc = BW_ECONFIG;
    } else if (rc == BW_EIO) {
        file_error(diag,
                   "config '%s' is larger than 1 MiB; pass the right file",
                   path);
        rc = BW_ECONFIG;
    }
    fclose(f);
    return rc;
}

int bw_config_load_ex(const char *path, unsigned flags, struct bw_buf *diag,
                      struct bw_config **out)
{
    struct bw_buf b = BW_BUF_INIT;
    int rc;

    *out = NULL;
    if (path == NULL) {
        path = bw_config_path(NULL);
    }
    rc = read_file(path, &b, diag);
    if (rc == 0) {
        rc = bw_config_parse(path, b.data, b.len, flags, diag, out);
    }
    bw_buf_release(&b);
    return rc;
}

int bw_config_load(const char *path, struct bw_config **out)
{
    return bw_config_load_ex(path, 0, NULL, out);
}

int bw_config_defaults(const struct bw_config_key *keys, void *opts)
{
    struct loader ld;
    struct raw_section sec;
    int rc;

    memset(&ld, 0, sizeof(ld));
    memset(&sec, 0, sizeof(sec));
    ld.file = "defaults";
    ld.cur = -1;
    ld.prev = -1;
    ld.out = NULL;
    sec.label = (char *)(uintptr_t) "[defaults]";
    for (const struct bw_config_key *k = keys; k->type; k++) {
        struct at at = {&ld, &sec, k, NULL, 0};

        set_default(&at, opts);
    }
    rc = ld.oom ? BW_ENOMEM : ld.nerrors ? BW_EPARSE : 0;
    if (ld.nerrors) {
        diag_flush(&ld); /* a bad default is a bug in the table */
    }
    for (size_t i = 0; i < ld.ndiags; i++) {
        bw_free(ld.diags[i].msg);
    }
    bw_free(ld.diags);
    if (rc) {
        bw_config_opts_release(keys, opts);
    }
    return rc;
}

static void free_secret(char **s)
{
    if (*s != NULL) {
        explicit_bzero(*s, strlen(*s));
        bw_free(*s);
        *s = NULL;
    }
}

void bw_config_opts_release(const struct bw_config_key *keys, void *opts)
{
    if (keys == NULL || opts == NULL) {
        return;
    }
    for (const struct bw_config_key *k = keys; k->type; k++) {
        switch (k->type) {
        case BW_KT_LIST:
            bw_strlist_release(FIELD(opts, k->offset, struct bw_strlist));
            break;
        case BW_KT_SECRET: {
            struct bw_secret_src *src =
                FIELD(opts, k->aux_offset, struct bw_secret_src);

            free_secret(FIELD(opts, k->offset, char *));
            bw_free(src->env);
            bw_free(src->file);
            src->env = NULL;
            src->file = NULL;
            break;
        }
        case BW_KT_STR:
        case BW_KT_ZONE:
        case BW_KT_CRON:
        case BW_KT_URL:
            bw_free(*FIELD(opts, k->offset, char *));
            *FIELD(opts, k->offset, char *) = NULL;
            break;
        default:
            break;
        }
    }
}

void bw_config_free(struct bw_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    bw_config_opts_release(redis_keys, &cfg->redis);
    for (size_t i = 0; i < cfg->nsources; i++) {
        struct bw_source_conf *s = &cfg->sources[i];

        bw_config_opts_release(common_keys, &s->common);
        bw_config_opts_release(s->collector->keys, s->opts);
        bw_free(s->opts);
        bw_free(s->name);
        bw_free(s->metric_hash);
    }
    bw_free(cfg->sources);
    for (size_t i = 0; i < cfg->nteams; i++) {
        bw_config_opts_release(team_keys, &cfg->teams[i]);
        bw_free(cfg->teams[i].name);
    }
    bw_free(cfg->teams);
    for (size_t i = 0; i < cfg->ntargets; i++) {
        bw_config_opts_release(target_keys, &cfg->targets[i]);
        bw_free(cfg->targets[i].metric);
    }
    bw_free(cfg->targets);
    bw_config_opts_release(report_keys, &cfg->report);
    bw_config_opts_release(email_keys, &cfg->email);
    bw_config_opts_release(schedule_keys, &cfg->schedule);
    bw_config_opts_release(plugins_keys, cfg);
    bw_free(cfg->file);
    bw_free(cfg);
}

const struct bw_config_key *bw_config_section_keys(const char *kind)
{
    int i = kind ? section_kind(kind, strlen(kind)) : -1;

    return i >= 0 ? kinds[i].keys : NULL;
}

int bw_strlist_has(const struct bw_strlist *l, const char *s)
{
    if (l == NULL || s == NULL) {
        return 0;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

int bw_strlist_glob(const struct bw_strlist *l, const char *s)
{
    if (l == NULL || s == NULL) {
        return 0;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (fnmatch(l->v[i], s, 0) == 0) {
            return 1;
        }
    }
    return 0;
}

void bw_strlist_release(struct bw_strlist *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        bw_free(l->v[i]);
    }
    bw_free(l->v);
    l->v = NULL;
    l->n = 0;
}

const struct bw_team_conf *bw_config_team(const struct bw_config *cfg,
                                          const char *name)
{
    for (size_t i = 0; cfg != NULL && name != NULL && i < cfg->nteams; i++) {
        if (strcmp(cfg->teams[i].name, name) == 0) {
            return &cfg->teams[i];
        }
    }
    return NULL;
}

const struct bw_source_conf *bw_config_source(const struct bw_config *cfg,
                                              const char *name)
{
    for (size_t i = 0; cfg != NULL && name != NULL && i < cfg->nsources; i++) {
        if (strcmp(cfg->sources[i].name, name) == 0) {
            return &cfg->sources[i];
        }
    }
    return NULL;
}
