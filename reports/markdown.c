/*
 * markdown.c - the report as GitHub-flavoured Markdown, and the escaper
 * that keeps text from the outside world (PR titles, ticket summaries,
 * names) inert.
 *
 * The Markdown is the report's source form: it is written to .md files,
 * sent as the text/plain part of the mail, and rendered to HTML by html.c
 * with cmark-gfm. It is assembled in a struct bw_buf (never printf'ed to a
 * file) from the model alone, so the same model gives the same bytes.
 *
 * Escaping (bw_md_escape): text may only ever be literal text. Every ASCII
 * punctuation character that can open or close an inline construct is
 * backslash-escaped (CommonMark allows escaping any ASCII punctuation):
 * \ ` * _ [ ] < > & | ~ # $ — emphasis, code spans, links and images,
 * autolinks and raw HTML, entities, table cells, strikethrough, ATX heading
 * closers and GitHub's math. Line breaks, tabs and other control bytes
 * become one space each (a newline inside a table cell would end the row),
 * and invalid UTF-8 becomes U+FFFD so the file stays valid UTF-8. Other
 * punctuation (. - + ( ) : @ / ...) stays readable: it only means something
 * at the start of a line, and escaped text never starts one here (it always
 * follows a bullet's own text, a cell's pipe or a heading's words).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/query.h"
#include "bellwether/report.h"

#define EN_DASH "\xE2\x80\x93"
#define ELLIPSIS "\xE2\x80\xA6"

/* ------------------------------------------------------------------ UTF-8 */

size_t bw_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0];
    size_t len;
    uint32_t min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (n < len) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = c;
    return len;
}

int bw_utf8_put(struct bw_buf *b, uint32_t cp)
{
    char u[4];

    if (cp < 0x80) {
        return bw_buf_addch(b, (char)cp);
    }
    if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        return bw_buf_add(b, u, 2);
    }
    if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        return bw_buf_add(b, u, 3);
    }
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    return bw_buf_add(b, u, 4);
}

/* ---------------------------------------------------------------- escaping */

static int md_special(unsigned char c)
{
    return c != '\0' && strchr("\\`*_[]<>&|~#$", c) != NULL;
}

/* One code point of s[0..n) escaped; returns bytes consumed, 0 on error. */
static size_t escape_one(struct bw_buf *b, const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t used;

    if (s[0] < 0x80) {
        if (s[0] == '\r') {
            used = n > 1 && s[1] == '\n' ? 2 : 1;
            return bw_buf_addch(b, ' ') ? 0 : used;
        }
        if (s[0] < 0x20 || s[0] == 0x7F) {
            return bw_buf_addch(b, ' ') ? 0 : 1;
        }
        if (md_special(s[0]) && bw_buf_addch(b, '\\')) {
            return 0;
        }
        return bw_buf_addch(b, (char)s[0]) ? 0 : 1;
    }
    used = bw_utf8_decode(s, n, &cp);
    if (cp == 0xFFFD && used == 1) {
        return bw_utf8_put(b, 0xFFFD) ? 0 : 1;
    }
    /* C1 controls (U+0080..U+009F) are line-break-like in some viewers */
    if (cp >= 0x80 && cp <= 0x9F) {
        return bw_buf_addch(b, ' ') ? 0 : used;
    }
    return bw_buf_add(b, s, used) ? 0 : used;
}

int bw_md_escape(struct bw_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        size_t used = escape_one(b, p + i, len - i);

        if (used == 0) {
            return BW_ENOMEM;
        }
        i += used;
    }
    return 0;
}

int bw_md_escape_cut(struct bw_buf *b, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = s ? strlen(s) : 0;
    size_t i = 0;
    size_t cps = 0;

    while (i < len) {
        size_t used;

        if (cps == max) {
            return bw_buf_adds(b, ELLIPSIS);
        }
        used = escape_one(b, p + i, len - i);
        if (used == 0) {
            return BW_ENOMEM;
        }
        i += used;
        cps++;
    }
    return 0;
}

/* Bytes a link destination may keep as they are (RFC 3986 unreserved and
 * reserved characters, minus those that end or confuse a Markdown link
 * destination or a table cell: ( ) [ ] < > | and the blank). */
static int url_keep(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || strchr("-._~:/?#@!$&'*+,;=%", c);
}

int bw_md_link(struct bw_buf *b, const char *text_md, const char *url)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc;

    if (url == NULL ||
        (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)) {
        return bw_buf_adds(b, text_md);
    }
    rc =
        bw_buf_addch(b, '[') || bw_buf_adds(b, text_md) || bw_buf_adds(b, "](");
    for (const unsigned char *p = (const unsigned char *)url; !rc && *p; p++) {
        if (url_keep(*p)) {
            rc = bw_buf_addch(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            rc = bw_buf_add(b, e, 3);
        }
    }
    return rc || bw_buf_addch(b, ')') ? BW_ENOMEM : 0;
}

/* ------------------------------------------------------------ formatting */

/* A value in its metric's unit: "31.2 h", "4.0 d", "35%", "12", or "–". */
static int fmt_value(struct bw_buf *b, double v, int unit)
{
    if (bw_format_value(b, v, unit)) {
        return BW_ENOMEM;
    }
    if (isnan(v)) {
        return 0;
    }
    switch (unit) {
    case BW_MU_HOURS:
        return bw_buf_adds(b, " h");
    case BW_MU_DAYS:
        return bw_buf_adds(b, " d");
    case BW_MU_LINES:
        return bw_buf_adds(b, " lines");
    default:
        return 0;
    }
}

static int fmt_stat_label(struct bw_buf *b, const struct bw_metric *m, int stat)
{
    if (bw_buf_adds(b, m->title)) {
        return BW_ENOMEM;
    }
    if (stat == BW_QS_VALUE) {
        return 0;
    }
    return bw_buf_printf(b, ", %s", bw_query_stat_name(stat));
}

static int fmt_target(struct bw_buf *b, const struct bw_report_indicator *in)
{
    int rc = 0;

    if (!in->has_target) {
        return 0;
    }
    if (in->bound.has_min) {
        rc = bw_buf_adds(b, "\xE2\x89\xA5 ") || /* ≥ */
             fmt_value(b, in->bound.min, in->metric->unit);
    }
    if (!rc && in->bound.has_max) {
        rc = (in->bound.has_min && bw_buf_adds(b, ", ")) ||
             bw_buf_adds(b, "\xE2\x89\xA4 ") || /* ≤ */
             fmt_value(b, in->bound.max, in->metric->unit);
    }
    return rc ? BW_ENOMEM : 0;
}

static const char *status_mark(int status)
{
    switch (status) {
    case BW_TS_ON_TRACK:
        return "\xF0\x9F\x9F\xA2 on track"; /* green circle */
    case BW_TS_AT_RISK:
        return "\xF0\x9F\x9F\xA0 at risk"; /* orange circle */
    case BW_TS_OFF_TRACK:
        return "\xF0\x9F\x94\xB4 off track"; /* red circle */
    default:
        return "";
    }
}

/*
 * The trend as a code span, so its blanks (weeks with no data) survive a
 * table cell's trimming and show in a fixed-width font. CommonMark strips
 * one blank from each end of a code span when both ends have one, so such
 * a span gets one more on each side. All no data: an en dash.
 */
static int fmt_trend(struct bw_buf *b, const double *v, size_t n)
{
    struct bw_buf s = BW_BUF_INIT;
    int any = 0;
    int pad;
    int rc;

    for (size_t i = 0; i < n; i++) {
        any |= !isnan(v[i]);
    }
    if (!any) {
        return bw_buf_adds(b, EN_DASH);
    }
    rc = bw_sparkline(&s, v, n);
    if (rc == 0) {
        pad = s.len > 0 && s.data[0] == ' ' && s.data[s.len - 1] == ' ';
        rc = bw_buf_adds(b, pad ? "` " : "`") || bw_buf_add(b, s.data, s.len) ||
                     bw_buf_adds(b, pad ? " `" : "`")
                 ? BW_ENOMEM
                 : 0;
    }
    bw_buf_release(&s);
    return rc;
}

static int fmt_date(struct bw_buf *b, int64_t t)
{
    char d[BW_TIME_BUFSZ];

    if (bw_format_date_local(t, d)) {
        return bw_buf_adds(b, "?");
    }
    return bw_buf_adds(b, d);
}

/* "2026-11-16 00:00" in the report zone. */
static int fmt_time(struct bw_buf *b, int64_t t)
{
    int64_t wall;
    int64_t s;

    if (fmt_date(b, t)) {
        return BW_ENOMEM;
    }
    if (bw_local_wall(t, &wall)) {
        return 0;
    }
    s = ((wall % 86400) + 86400) % 86400;
    return bw_buf_printf(b, " %02d:%02d", (int)(s / 3600), (int)(s / 60 % 60));
}

static int heading(struct bw_buf *b, int level, const char *text)
{
    for (int i = 0; i < level; i++) {
        if (bw_buf_addch(b, '#')) {
            return BW_ENOMEM;
        }
    }
    return bw_buf_printf(b, " %s\n\n", text);
}

/* ------------------------------------------------------------------ items */

static int item_line(struct bw_buf *b, const struct bw_report_item *it,
                     int unit)
{
    struct bw_buf key = BW_BUF_INIT;
    int rc = bw_md_escape(&key, it->key, strlen(it->key));

    if (rc == 0) {
        rc = bw_md_link(b, key.data ? key.data : "", it->url);
    }
    if (rc == 0 && it->title && it->title[0]) {
        rc = bw_buf_addch(b, ' ') || bw_md_escape_cut(b, it->title, 100)
                 ? BW_ENOMEM
                 : 0;
    }
    if (rc == 0 && unit) {
        rc = bw_buf_adds(b, " (") || fmt_value(b, it->value, unit) ||
                     bw_buf_addch(b, ')')
                 ? BW_ENOMEM
                 : 0;
    }
    bw_buf_release(&key);
    return rc;
}

/* "- item\n" per item, then "- and N more\n". */
static int item_list(struct bw_buf *b, const struct bw_report_section *s)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < s->nitems; i++) {
        rc = bw_buf_adds(b, "- ") || item_line(b, &s->items[i], s->item_unit) ||
                     bw_buf_addch(b, '\n')
                 ? BW_ENOMEM
                 : 0;
    }
    if (rc == 0 && s->items_total > s->nitems) {
        rc = bw_buf_printf(b, "- and %zu more\n", s->items_total - s->nitems);
    }
    return rc;
}

/* ------------------------------------------------------- needs attention */

static int attention_indicator(struct bw_buf *b,
                               const struct bw_report_indicator *in)
{
    int rc = bw_buf_printf(b, "- %s **", status_mark(in->status)) ||
             fmt_stat_label(b, in->metric, in->stat) ||
             bw_buf_adds(b, "**: ") ||
             fmt_value(b, in->this_week, in->metric->unit) ||
             bw_buf_adds(b, " against ") || fmt_target(b, in) ||
             bw_buf_adds(b, ", last week ") ||
             fmt_value(b, in->last_week, in->metric->unit) ||
             bw_buf_adds(b, "; trend ") ||
             fmt_trend(b, in->trend, in->ntrend) || bw_buf_addch(b, '\n');

    return rc ? BW_ENOMEM : 0;
}

/* "- **Title:** item; item; ...\n" */
static int attention_list(struct bw_buf *b, const char *label,
                          const struct bw_report_section *s)
{
    size_t shown =
        s->nitems < BW_REPORT_SHORT_LIST ? s->nitems : BW_REPORT_SHORT_LIST;
    int rc;

    if (shown == 0) {
        return 0;
    }
    rc = bw_buf_printf(b, "- **%s:** ", label);
    for (size_t i = 0; rc == 0 && i < shown; i++) {
        rc = (i && bw_buf_adds(b, "; ")) ||
                     item_line(b, &s->items[i], s->item_unit)
                 ? BW_ENOMEM
                 : 0;
    }
    if (rc == 0 && s->items_total > shown) {
        rc = bw_buf_printf(b, "; and %zu more", s->items_total - shown);
    }
    return rc || bw_buf_addch(b, '\n') ? BW_ENOMEM : 0;
}

static int attention(struct bw_buf *b, const struct bw_report_scope *sc,
                     int level)
{
    const struct bw_report_section *blocked = &sc->sections[BW_RS_BLOCKED];
    const struct bw_report_section *waiting =
        &sc->sections[BW_RS_AWAITING_REVIEW];
    size_t on_track = 0;
    size_t shown = 0;
    int rc = heading(b, level, "Needs attention");
    char label[96];

    /* off track first, then at risk, each in table order */
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        int want = pass == 0 ? BW_TS_OFF_TRACK : BW_TS_AT_RISK;

        for (size_t i = 0; rc == 0 && i < sc->nindicators; i++) {
            if (sc->indicators[i].status == want) {
                rc = attention_indicator(b, &sc->indicators[i]);
                shown++;
            }
        }
    }
    if (rc == 0 && blocked->nitems) {
        snprintf(label, sizeof(label), "%zu ticket%s blocked over 3 days",
                 blocked->items_total, blocked->items_total == 1 ? "" : "s");
        rc = attention_list(b, label, blocked);
        shown++;
    }
    if (rc == 0 && waiting->nitems) {
        rc = attention_list(b, "PRs waiting longest for a first review",
                            waiting);
        shown++;
    }
    if (rc == 0 && shown == 0) {
        rc = bw_buf_adds(b, "Nothing needs attention this week.\n");
    }
    if (rc == 0) {
        for (size_t i = 0; i < sc->nindicators; i++) {
            on_track += sc->indicators[i].status == BW_TS_ON_TRACK;
        }
    }
    if (rc == 0 && on_track) {
        size_t k = 0;

        rc = bw_buf_adds(b, "\nOn track: ");
        for (size_t i = 0; rc == 0 && i < sc->nindicators; i++) {
            const struct bw_report_indicator *in = &sc->indicators[i];

            if (in->status != BW_TS_ON_TRACK) {
                continue;
            }
            rc = (k++ && bw_buf_adds(b, ", ")) ||
                         fmt_stat_label(b, in->metric, in->stat)
                     ? BW_ENOMEM
                     : 0;
        }
        rc = rc || bw_buf_adds(b, ".\n");
    }
    return rc || bw_buf_addch(b, '\n') ? BW_ENOMEM : 0;
}

/* ---------------------------------------------------- leading indicators */

static int indicator_row(struct bw_buf *b, const struct bw_report_indicator *in)
{
    int ratio = in->metric->unit == BW_MU_RATIO;
    int rc = bw_buf_adds(b, "| ") || fmt_stat_label(b, in->metric, in->stat) ||
             bw_buf_adds(b, " | ") ||
             fmt_value(b, in->this_week, in->metric->unit) ||
             bw_buf_adds(b, " | ") ||
             fmt_value(b, in->last_week, in->metric->unit) ||
             bw_buf_adds(b, " | ") || bw_format_delta(b, in->delta, ratio) ||
             bw_buf_adds(b, " | ") || fmt_trend(b, in->trend, in->ntrend) ||
             bw_buf_adds(b, " | ") || fmt_target(b, in) ||
             bw_buf_adds(b, " | ");

    if (rc == 0 && in->has_target) {
        rc = bw_buf_adds(b, in->status == BW_TS_NONE ? EN_DASH
                                                     : status_mark(in->status));
    }
    return rc || bw_buf_adds(b, " |\n") ? BW_ENOMEM : 0;
}

static int indicators(struct bw_buf *b, const struct bw_report *r,
                      const struct bw_report_scope *sc, int level)
{
    int rc = heading(b, level, "Leading indicators");

    if (rc == 0 && sc->nindicators == 0) {
        return bw_buf_adds(b, "No indicators.\n\n");
    }
    rc = rc || bw_buf_printf(b,
                             "| Indicator | This week | Last week | "
                             "\xCE\x94 | Trend (%ld weeks) | Target | "
                             "Status |\n"
                             "|:--|--:|--:|--:|:--|:--|:--|\n",
                             r->weeks_of_trend);
    for (size_t i = 0; rc == 0 && i < sc->nindicators; i++) {
        rc = indicator_row(b, &sc->indicators[i]);
    }
    return rc || bw_buf_addch(b, '\n') ? BW_ENOMEM : 0;
}

/* ---------------------------------------------------------------- sections */

/* The value of (metric, stat) in a section, or NAN. */
static double section_value(const struct bw_report_section *s,
                            const char *metric, int stat)
{
    for (size_t i = 0; i < s->nvalues; i++) {
        if (s->values[i].stat == stat &&
            strcmp(s->values[i].metric->name, metric) == 0) {
            return s->values[i].value;
        }
    }
    return NAN;
}

static int section_has(const struct bw_report_section *s, const char *metric)
{
    for (size_t i = 0; i < s->nvalues; i++) {
        if (strcmp(s->values[i].metric->name, metric) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Two tables per section: metrics with statistics as rows of p50 | p85,
 * then the single values. The order is the section's own (values[] as
 * report.c filled it); a metric's first appearance places its row.
 */
static int stats_table(struct bw_buf *b, const struct bw_report_section *s)
{
    int any = 0;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < s->nvalues; i++) {
        const struct bw_metric *m = s->values[i].metric;
        int first = 1;

        if (!bw_metric_has_stats(m)) {
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            first &= s->values[j].metric != m;
        }
        if (!first) {
            continue;
        }
        if (!any) {
            rc = bw_buf_adds(b, "| | p50 | p85 |\n|:--|--:|--:|\n");
            any = 1;
        }
        rc = rc || bw_buf_printf(b, "| %s | ", m->title) ||
             fmt_value(b, section_value(s, m->name, BW_QS_P50), m->unit) ||
             bw_buf_adds(b, " | ") ||
             fmt_value(b, section_value(s, m->name, BW_QS_P85), m->unit) ||
             bw_buf_adds(b, " |\n");
    }
    if (rc == 0 && any) {
        rc = bw_buf_addch(b, '\n');
    }
    return rc ? BW_ENOMEM : 0;
}

static int values_table(struct bw_buf *b, const struct bw_report_section *s)
{
    int any = 0;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < s->nvalues; i++) {
        const struct bw_report_value *v = &s->values[i];

        if (v->stat != BW_QS_VALUE) {
            continue;
        }
        if (!any) {
            rc = bw_buf_adds(b, "| | This week |\n|:--|--:|\n");
            any = 1;
        }
        rc = rc || bw_buf_printf(b, "| %s | ", v->metric->title) ||
             fmt_value(b, v->value, v->metric->unit) || bw_buf_adds(b, " |\n");
    }
    if (rc == 0 && any) {
        rc = bw_buf_addch(b, '\n');
    }
    return rc ? BW_ENOMEM : 0;
}

static int section(struct bw_buf *b, const struct bw_report_section *s,
                   int level)
{
    int rc =
        heading(b, level, s->title) || stats_table(b, s) || values_table(b, s);

    if (rc == 0 && s->item_metric) {
        if (s->nitems) {
            rc = item_list(b, s) || bw_buf_addch(b, '\n');
        } else {
            rc = bw_buf_adds(b, "None.\n\n");
        }
    }
    return rc ? BW_ENOMEM : 0;
}

static int scope(struct bw_buf *b, const struct bw_report *r,
                 const struct bw_report_scope *sc, int level)
{
    int rc = attention(b, sc, level) || indicators(b, r, sc, level);

    for (int i = 0; rc == 0 && i < BW_RS_COUNT; i++) {
        const struct bw_report_section *s = &sc->sections[i];
        int prs = i == BW_RS_PULL_REQUESTS || i == BW_RS_AWAITING_REVIEW;

        if (!(sc->subjects & (prs ? BW_REPORT_PRS : BW_REPORT_TICKETS))) {
            continue;
        }
        rc = section(b, s, level);
    }
    return rc;
}

/* -------------------------------------------------------- head and footer */

static int freshness(struct bw_buf *b, const struct bw_report *r)
{
    int rc = 0;
    int warn = 0;

    if (r->nsources == 0) {
        return 0;
    }
    rc = bw_buf_adds(b, "Data: ");
    for (size_t i = 0; rc == 0 && i < r->nsources; i++) {
        const struct bw_report_source *s = &r->sources[i];

        rc = (i && bw_buf_adds(b, "; ")) || bw_buf_adds(b, "**") ||
                     bw_md_escape(b, s->name, strlen(s->name)) ||
                     bw_buf_adds(b, "** ")
                 ? BW_ENOMEM
                 : 0;
        if (rc == 0 && s->last_success == BW_TIME_NONE) {
            rc = bw_buf_adds(b, "never synced");
        } else if (rc == 0) {
            rc = bw_buf_adds(b, "synced ") || fmt_time(b, s->last_success)
                     ? BW_ENOMEM
                     : 0;
        }
        warn |= s->stale || s->failed;
    }
    rc = rc || bw_buf_adds(b, ".\n\n");
    for (size_t i = 0; rc == 0 && warn && i < r->nsources; i++) {
        const struct bw_report_source *s = &r->sources[i];

        if (!s->stale && !s->failed) {
            continue;
        }
        rc = bw_buf_adds(b, "> \xE2\x9A\xA0\xEF\xB8\x8F **Source ") ||
                     bw_md_escape(b, s->name, strlen(s->name)) ||
                     bw_buf_adds(b, "**: ")
                 ? BW_ENOMEM
                 : 0;
        if (rc == 0 && s->failed) {
            rc = bw_buf_adds(b, "its last run failed");
            if (rc == 0 && s->last_run != BW_TIME_NONE) {
                rc = bw_buf_adds(b, " (") || fmt_time(b, s->last_run) ||
                             bw_buf_addch(b, ')')
                         ? BW_ENOMEM
                         : 0;
            }
            rc = rc || (s->stale && bw_buf_adds(b, "; "));
        }
        if (rc == 0 && s->stale) {
            rc = s->last_success == BW_TIME_NONE
                     ? bw_buf_adds(b, "it has never synced")
                     : bw_buf_printf(b,
                                     "its data is older than %.1f days at "
                                     "the week's end",
                                     (double)r->stale_after / 86400.0);
        }
        rc = rc || bw_buf_adds(b, "; the numbers below may be incomplete.\n\n");
    }
    return rc ? BW_ENOMEM : 0;
}

static int head(struct bw_buf *b, const struct bw_report *r)
{
    int rc = bw_buf_printf(b, "# Weekly report %s", r->week_name);

    if (rc == 0 && r->main.team) {
        rc = bw_buf_adds(b, ": team ") ||
                     bw_md_escape(b, r->main.team, strlen(r->main.team))
                 ? BW_ENOMEM
                 : 0;
    }
    rc = rc || bw_buf_adds(b, "\n\n**") || fmt_date(b, r->start) ||
         bw_buf_adds(b, " to ") || fmt_date(b, r->end - 1) ||
         bw_buf_adds(b, "** (") ||
         bw_md_escape(b, r->timezone, strlen(r->timezone)) ||
         bw_buf_adds(b, "), generated ") || fmt_time(b, r->generated_at) ||
         bw_buf_adds(b, ".\n\n") || freshness(b, r);
    return rc ? BW_ENOMEM : 0;
}

/* Is metric m shown anywhere in the report? */
static int shown_in(const struct bw_report_scope *sc, const struct bw_metric *m)
{
    for (size_t i = 0; i < sc->nindicators; i++) {
        if (sc->indicators[i].metric == m) {
            return 1;
        }
    }
    for (int i = 0; i < BW_RS_COUNT; i++) {
        if (sc->sections[i].item_metric == m ||
            section_has(&sc->sections[i], m->name)) {
            return 1;
        }
    }
    return 0;
}

static int footer(struct bw_buf *b, const struct bw_report *r)
{
    int rc = bw_buf_adds(b, "---\n\n## Definitions\n\n");

    for (const struct bw_metric *m = bw_metrics; rc == 0 && m->name; m++) {
        int shown = shown_in(&r->main, m);

        for (size_t t = 0; !shown && t < r->nteams; t++) {
            shown = shown_in(&r->teams[t], m);
        }
        if (!shown) {
            continue;
        }
        rc = bw_buf_printf(b, "- **%s** (`%s`, %s): %s.\n", m->title, m->name,
                           bw_metric_unit_name(m->unit), m->definition);
    }
    rc = rc || bw_buf_printf(
                   b,
                   "\nWeeks are ISO weeks (Monday to Sunday) in %s; "
                   "a week's end is the next Monday 00:00. "
                   "p50 and p85 are percentiles (half, and 85%%, of "
                   "the values are at or below). " EN_DASH " means no data. "
                   "\xCE\x94 is the change from last week in percent "
                   "(percentage points for rates). The trend shows the "
                   "last %ld weeks, oldest first, scaled to its own "
                   "range; a blank is a week with no data. A target is "
                   "at risk within its margin of the bound or right "
                   "after an off-track week.\n",
                   r->timezone, r->weeks_of_trend);
    return rc ? BW_ENOMEM : 0;
}

/* ------------------------------------------------------------------ report */

int bw_report_markdown(const struct bw_report *r, struct bw_buf *out)
{
    int rc = head(out, r) || scope(out, r, &r->main, 2);

    for (size_t t = 0; rc == 0 && t < r->nteams; t++) {
        const struct bw_report_scope *sc = &r->teams[t];

        rc = bw_buf_adds(out, "## Team ") ||
             bw_md_escape(out, sc->team, strlen(sc->team)) ||
             bw_buf_adds(out, "\n\n") || scope(out, r, sc, 3);
    }
    rc = rc || footer(out, r);
    return rc ? BW_ENOMEM : 0;
}
