/*
 * store_rows.c - the store's packed text: the escaped field codec every
 * packed hash value and index row uses, the row parsers queries decode
 * index members with, and the point-in-time rules over pit/tpit rows.
 *
 * Formats are in store.h. Everything here is pure (no Redis, no clock), so
 * it is unit-tested without a server and safe to fuzz. Encoding is the hot
 * path of a collect (a few rows per PR): integers are written by hand, not
 * through printf, and runs of plain bytes are copied at once.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/store.h"
#include "store_priv.h"

/* ------------------------------------------------------------ index names */

static const char *const ix_names[BW_IX_COUNT] = {
    "merged", "opened", "pit", "reviews", "done", "created", "tpit"};

const char st_ix_letter[BW_IX_COUNT] = {'m', 'o', 'p', 'r', 'd', 'c', 't'};

const char *bw_store_ix_name(int ix)
{
    return ix >= 0 && ix < BW_IX_COUNT ? ix_names[ix] : "";
}

int bw_store_ix_find(const char *name)
{
    for (int i = 0; name && i < BW_IX_COUNT; i++) {
        if (strcmp(name, ix_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

int st_ix_of_letter(char c)
{
    for (int i = 0; i < BW_IX_COUNT; i++) {
        if (st_ix_letter[i] == c) {
            return i;
        }
    }
    return -1;
}

/* ------------------------------------------------------------- encoding */

static int special(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '%' || c == '|' || c == ',' ||
           c == '~';
}

int st_put_strn(struct bw_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;

    if (s == NULL) {
        return bw_buf_addch(b, '%');
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3];

        if (!special(c)) {
            continue;
        }
        if (bw_buf_add(b, s + run, i - run)) {
            return BW_ENOMEM;
        }
        esc[0] = '%';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 15];
        if (bw_buf_add(b, esc, 3)) {
            return BW_ENOMEM;
        }
        run = i + 1;
    }
    return bw_buf_add(b, s + run, n - run) ? BW_ENOMEM : 0;
}

int st_put_str(struct bw_buf *b, const char *s)
{
    return st_put_strn(b, s, s ? strlen(s) : 0);
}

int st_put_i64(struct bw_buf *b, int64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        tmp[--i] = '-';
    }
    return bw_buf_add(b, tmp + i, sizeof(tmp) - i) ? BW_ENOMEM : 0;
}

int st_put_time(struct bw_buf *b, int64_t t)
{
    return t == BW_NOTIME ? 0 : st_put_i64(b, t);
}

int st_put_rel(struct bw_buf *b, int64_t t, int64_t base)
{
    if (t == BW_NOTIME) {
        return 0;
    }
    return st_put_i64(b, (int64_t)((uint64_t)t - (uint64_t)base));
}

int st_put_list(struct bw_buf *b, const struct bw_strlist *l)
{
    for (size_t i = 0; l && i < l->n; i++) {
        if ((i && bw_buf_addch(b, ',')) || st_put_str(b, l->v[i])) {
            return BW_ENOMEM;
        }
    }
    return 0;
}

int st_put_spells(struct bw_buf *b, const struct bw_spell *v, size_t n,
                  int64_t base)
{
    for (size_t i = 0; i < n; i++) {
        if ((i && bw_buf_addch(b, ',')) || st_put_rel(b, v[i].start, base) ||
            bw_buf_addch(b, '~') || st_put_rel(b, v[i].end, base)) {
            return BW_ENOMEM;
        }
    }
    return 0;
}

int st_put_double(struct bw_buf *b, double v)
{
    char tmp[40];

    if (isnan(v)) {
        return 0;
    }
    snprintf(tmp, sizeof(tmp), "%.15g", v);
    if (strtod(tmp, NULL) != v) {
        snprintf(tmp, sizeof(tmp), "%.17g", v);
    }
    return bw_buf_adds(b, tmp) ? BW_ENOMEM : 0;
}

int st_put_secs(struct bw_buf *b, double v, double unit)
{
    if (isnan(v)) {
        return 0;
    }
    return st_put_i64(b, (int64_t)llround(v * unit));
}

/* ------------------------------------------------------------- decoding */

int st_split(char *s, size_t len, char **fields, int max)
{
    int n = 0;

    fields[n++] = s;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '|') {
            if (n == max) {
                return -1;
            }
            s[i] = '\0';
            fields[n++] = s + i + 1;
        }
    }
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

char *st_unesc(char *f, int *bad)
{
    char *o = f;

    if (f[0] == '%' && f[1] == '\0') {
        return NULL;
    }
    for (char *p = f; *p; p++) {
        if (*p != '%') {
            *o++ = *p;
            continue;
        }
        if (hexval(p[1]) < 0 || hexval(p[2]) < 0 ||
            (p[1] == '0' && p[2] == '0')) {
            *bad = 1;
            break;
        }
        *o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
        p += 2;
    }
    *o = '\0';
    return f;
}

int st_get_i64(const char *f, int64_t def, int64_t *out)
{
    const char *p = f;
    uint64_t acc = 0;
    int neg = 0;

    if (*p == '\0') {
        *out = def;
        return 0;
    }
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (*p == '\0') {
        return BW_EPARSE;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || acc > (uint64_t)INT64_MAX / 10) {
            return BW_EPARSE;
        }
        acc = acc * 10 + (uint64_t)(*p - '0');
    }
    if (acc > (uint64_t)INT64_MAX + (uint64_t)neg) {
        return BW_EPARSE;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

int st_get_long(const char *f, long def, long *out)
{
    int64_t v;

    if (st_get_i64(f, def, &v) || v < LONG_MIN || v > LONG_MAX) {
        return BW_EPARSE;
    }
    *out = (long)v;
    return 0;
}

int st_get_double(const char *f, double *out)
{
    char *end;

    if (*f == '\0') {
        *out = NAN;
        return 0;
    }
    *out = strtod(f, &end);
    return *end == '\0' ? 0 : BW_EPARSE;
}

/* Split the ','-list field f in place and hand each item, unescaped, to
 * add; "" is the empty list, a NULL ("%") or badly escaped item is
 * BW_EPARSE, and add's error ends the walk. */
static int each_item(char *f, int (*add)(void *arg, char *s), void *arg)
{
    char *p = f;
    int bad = 0;
    int rc;

    if (*f == '\0') {
        return 0;
    }
    for (;;) {
        char *c = strchr(p, ',');
        char *s;

        if (c) {
            *c = '\0';
        }
        s = st_unesc(p, &bad);
        if (bad || s == NULL) {
            return BW_EPARSE;
        }
        if ((rc = add(arg, s)) != 0) {
            return rc;
        }
        if (c == NULL) {
            return 0;
        }
        p = c + 1;
    }
}

static int strlist_item(void *arg, char *s)
{
    return bw_strlist_add(arg, s) ? BW_ENOMEM : 0;
}

int st_get_list(char *f, struct bw_strlist *out)
{
    return each_item(f, strlist_item, out);
}

/* ------------------------------------------------------------ row parsing */

/* &v[i], or NULL while nothing was allocated (no arithmetic on NULL). */
static const struct bw_spell *at(const struct bw_spell *v, size_t i)
{
    return v ? v + i : NULL;
}

/* A row's memory while one member is parsed into it. */
struct rowmem {
    struct bw_row_mem *own;
    size_t nspells;
    size_t nlabels;
};

static void row_mem_release(struct bw_row_mem *m)
{
    bw_buf_release(&m->text);
    bw_free(m->spells);
    bw_free(m->labels);
}

static int add_spell(struct rowmem *m, int64_t s, int64_t e)
{
    struct bw_row_mem *own = m->own;

    if (m->nspells == own->spells_cap) {
        size_t cap = own->spells_cap ? own->spells_cap * 2 : 8;
        struct bw_spell *v = bw_realloc(own->spells, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        own->spells = v;
        own->spells_cap = cap;
    }
    own->spells[m->nspells].start = s;
    own->spells[m->nspells].end = e;
    m->nspells++;
    return 0;
}

/* A spell list relative to base into m's spells; *first gets the index of
 * the first, *n the count. */
static int get_spells(struct rowmem *m, char *f, int64_t base, size_t *first,
                      size_t *n)
{
    char *p = f;

    *first = m->nspells;
    *n = 0;
    if (*f == '\0') {
        return 0;
    }
    for (;;) {
        char *c = strchr(p, ',');
        char *t;
        int64_t s, e;

        if (c) {
            *c = '\0';
        }
        t = strchr(p, '~');
        if (t == NULL) {
            return BW_EPARSE;
        }
        *t = '\0';
        if (*p == '\0' || st_get_i64(p, 0, &s) ||
            st_get_i64(t + 1, BW_NOTIME, &e)) {
            return BW_EPARSE;
        }
        s = (int64_t)((uint64_t)s + (uint64_t)base);
        if (e != BW_NOTIME) {
            e = (int64_t)((uint64_t)e + (uint64_t)base);
        }
        if (add_spell(m, s, e)) {
            return BW_ENOMEM;
        }
        (*n)++;
        if (c == NULL) {
            return 0;
        }
        p = c + 1;
    }
}

static int label_item(void *arg, char *s)
{
    struct rowmem *m = arg;

    if (m->nlabels == m->own->labels_cap) {
        size_t cap = m->own->labels_cap ? m->own->labels_cap * 2 : 8;
        char **v = bw_realloc(m->own->labels, cap * sizeof(*v));

        if (v == NULL) {
            return BW_ENOMEM;
        }
        m->own->labels = v;
        m->own->labels_cap = cap;
    }
    m->own->labels[m->nlabels++] = s;
    return 0;
}

static int get_labels(struct rowmem *m, char *f)
{
    m->nlabels = 0;
    return each_item(f, label_item, m);
}

/* Copy s into mem and split it into exactly want fields. */
static int load_fields(struct bw_buf *mem, const char *s, size_t len,
                       char **fields, int want)
{
    bw_buf_reset(mem);
    if (memchr(s, '\0', len)) {
        return BW_EPARSE;
    }
    if (bw_buf_add(mem, s, len)) {
        return BW_ENOMEM;
    }
    return st_split(mem->data, len, fields, want) == want ? 0 : BW_EPARSE;
}

static int text(char *f, const char **out)
{
    int bad = 0;

    *out = st_unesc(f, &bad);
    return bad ? BW_EPARSE : 0;
}

static int flags_of(const char *f, unsigned *out)
{
    int64_t v;

    if (*f == '\0' || st_get_i64(f, 0, &v) || v < 0 || v > 0xffffff) {
        return BW_EPARSE;
    }
    *out = (unsigned)v;
    return 0;
}

void bw_pr_row_init(struct bw_pr_row *r)
{
    memset(r, 0, sizeof(*r));
}

void bw_pr_row_release(struct bw_pr_row *r)
{
    row_mem_release(&r->mem_);
    bw_pr_row_init(r);
}

static void pr_row_clear(struct bw_pr_row *r, int ix)
{
    struct bw_row_mem mem = r->mem_;

    memset(r, 0, sizeof(*r));
    r->mem_ = mem;
    r->ix = ix;
    r->coding = r->pickup = r->review = r->cycle = r->ttfr = BW_NOTIME;
    r->opened_at = r->ready_at = r->first_review_at = BW_NOTIME;
    r->size = r->review_rounds = r->rank = -1;
}

static int pr_head(struct bw_pr_row *r, char **f, int with_flags)
{
    int64_t n;

    if (*f[0] == '\0' || st_get_i64(f[0], 0, &n) || n < 0 || n > LONG_MAX) {
        return BW_EPARSE;
    }
    r->number = (long)n;
    if (text(f[1], &r->author)) {
        return BW_EPARSE;
    }
    if (with_flags) {
        int64_t x;

        if (flags_of(f[2], &r->flags) || st_get_i64(f[3], 0, &x) || x < 0 ||
            x > 16) {
            return BW_EPARSE;
        }
        r->excluded_reason = (int)x;
    }
    return 0;
}

static int pr_merged(struct bw_pr_row *r, char **f)
{
    if (pr_head(r, f, 1) || st_get_i64(f[4], BW_NOTIME, &r->coding) ||
        st_get_i64(f[5], BW_NOTIME, &r->pickup) ||
        st_get_i64(f[6], BW_NOTIME, &r->review) ||
        st_get_i64(f[7], BW_NOTIME, &r->cycle) ||
        st_get_i64(f[8], BW_NOTIME, &r->ttfr) ||
        st_get_long(f[9], -1, &r->size) ||
        st_get_long(f[10], -1, &r->review_rounds)) {
        return BW_EPARSE;
    }
    return 0;
}

static int pr_pit(struct bw_pr_row *r, struct rowmem *m, char **f)
{
    size_t o, nopen, d, ndraft, s, nstale;
    int rc;

    if (pr_head(r, f, 1) || *f[4] == '\0' ||
        st_get_i64(f[4], 0, &r->opened_at) ||
        st_get_i64(f[7], BW_NOTIME, &r->ready_at) ||
        st_get_i64(f[8], BW_NOTIME, &r->first_review_at)) {
        return BW_EPARSE;
    }
    if (r->ready_at != BW_NOTIME) {
        r->ready_at = (int64_t)((uint64_t)r->ready_at + (uint64_t)r->opened_at);
    }
    if (r->first_review_at != BW_NOTIME) {
        r->first_review_at =
            (int64_t)((uint64_t)r->first_review_at + (uint64_t)r->opened_at);
    }
    rc = get_spells(m, f[5], r->opened_at, &o, &nopen);
    if (rc == 0) {
        rc = get_spells(m, f[6], r->opened_at, &d, &ndraft);
    }
    if (rc == 0) {
        rc = get_spells(m, f[9], r->opened_at, &s, &nstale);
    }
    if (rc) {
        return rc;
    }
    /* pointers only now: the array may have moved while it grew */
    r->open = at(r->mem_.spells, o);
    r->nopen = nopen;
    r->draft = at(r->mem_.spells, d);
    r->ndraft = ndraft;
    r->stale = at(r->mem_.spells, s);
    r->nstale = nstale;
    return 0;
}

static int pr_review(struct bw_pr_row *r, char **f)
{
    int64_t state;

    if (pr_head(r, f, 0) || text(f[1], &r->reviewer) ||
        text(f[2], &r->author) || st_get_i64(f[3], -1, &state) || state < 0 ||
        state > 16 || *f[4] == '\0' || st_get_long(f[4], -1, &r->rank) ||
        r->rank < 0) {
        return BW_EPARSE;
    }
    r->state = (int)state;
    return 0;
}

int bw_pr_row_parse(struct bw_pr_row *r, int ix, const char *s, size_t len)
{
    static const int nfields[] = {12, 5, 11, 5};
    struct rowmem m = {&r->mem_, 0, 0};
    char *f[12];
    int rc;

    pr_row_clear(r, ix);
    if (ix < BW_IX_MERGED || ix > BW_IX_REVIEWS) {
        return BW_EPARSE;
    }
    rc = load_fields(&r->mem_.text, s, len, f, nfields[ix]);
    if (rc == 0) {
        switch (ix) {
        case BW_IX_MERGED:
            rc = pr_merged(r, f);
            break;
        case BW_IX_OPENED:
            rc = pr_head(r, f, 1);
            break;
        case BW_IX_PIT:
            rc = pr_pit(r, &m, f);
            break;
        default:
            rc = pr_review(r, f);
            break;
        }
    }
    if (rc == 0 && ix != BW_IX_REVIEWS) {
        rc = get_labels(&m, f[nfields[ix] - 1]);
        r->labels = (const char *const *)r->mem_.labels;
        r->nlabels = m.nlabels;
    }
    if (rc) {
        pr_row_clear(r, ix);
    }
    return rc;
}

void bw_ticket_row_init(struct bw_ticket_row *r)
{
    memset(r, 0, sizeof(*r));
}

void bw_ticket_row_release(struct bw_ticket_row *r)
{
    row_mem_release(&r->mem_);
    bw_ticket_row_init(r);
}

static void ticket_row_clear(struct bw_ticket_row *r, int ix)
{
    struct bw_row_mem mem = r->mem_;

    memset(r, 0, sizeof(*r));
    r->mem_ = mem;
    r->ix = ix;
    r->cycle = r->lead = r->blocked = r->started_at = BW_NOTIME;
    r->reopen_count = -1;
}

static int ticket_head(struct bw_ticket_row *r, char **f)
{
    if (text(f[0], &r->key) || r->key == NULL || *r->key == '\0' ||
        text(f[1], &r->project) || text(f[2], &r->type) ||
        text(f[3], &r->assignee_id) || text(f[4], &r->assignee_name) ||
        flags_of(f[5], &r->flags)) {
        return BW_EPARSE;
    }
    return 0;
}

static int ticket_tpit(struct bw_ticket_row *r, struct rowmem *m, char **f)
{
    size_t p, np, b, nb;
    int rc;

    if (*f[6] == '\0' || st_get_i64(f[6], 0, &r->started_at)) {
        return BW_EPARSE;
    }
    rc = get_spells(m, f[7], r->started_at, &p, &np);
    if (rc == 0) {
        rc = get_spells(m, f[8], r->started_at, &b, &nb);
    }
    if (rc) {
        return rc;
    }
    r->in_progress = at(r->mem_.spells, p);
    r->nin_progress = np;
    r->blocked_spells = at(r->mem_.spells, b);
    r->nblocked = nb;
    return 0;
}

int bw_ticket_row_parse(struct bw_ticket_row *r, int ix, const char *s,
                        size_t len)
{
    struct rowmem m = {&r->mem_, 0, 0};
    int want = ix == BW_IX_DONE ? 11 : ix == BW_IX_CREATED ? 7 : 10;
    char *f[11];
    int rc;

    ticket_row_clear(r, ix);
    if (ix < BW_IX_DONE || ix > BW_IX_TPIT) {
        return BW_EPARSE;
    }
    rc = load_fields(&r->mem_.text, s, len, f, want);
    if (rc == 0) {
        rc = ticket_head(r, f);
    }
    if (rc == 0 && ix == BW_IX_DONE) {
        if (st_get_i64(f[6], BW_NOTIME, &r->cycle) ||
            st_get_i64(f[7], BW_NOTIME, &r->lead) ||
            st_get_i64(f[8], BW_NOTIME, &r->blocked) ||
            st_get_long(f[9], -1, &r->reopen_count)) {
            rc = BW_EPARSE;
        }
    } else if (rc == 0 && ix == BW_IX_TPIT) {
        rc = ticket_tpit(r, &m, f);
    }
    if (rc == 0) {
        rc = get_labels(&m, f[want - 1]);
        r->labels = (const char *const *)r->mem_.labels;
        r->nlabels = m.nlabels;
    }
    if (rc) {
        ticket_row_clear(r, ix);
    }
    return rc;
}

int bw_row_has_label(const char *const *labels, size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(labels[i], label) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ----------------------------------------------------- point in time */

/* t inside [start, end) (end BW_NOTIME: going on) of any spell. */
static const struct bw_spell *within(const struct bw_spell *v, size_t n,
                                     int64_t t)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].start <= t && (v[i].end == BW_NOTIME || t < v[i].end)) {
            return &v[i];
        }
    }
    return NULL;
}

int bw_pr_row_open_at(const struct bw_pr_row *r, int64_t t)
{
    /* opened before t; a later reopening at t itself counts, as a close
       at t does (the state at an instant includes events at it) */
    for (size_t i = 0; i < r->nopen; i++) {
        if ((i == 0 ? r->open[i].start < t : r->open[i].start <= t) &&
            (r->open[i].end == BW_NOTIME || t < r->open[i].end)) {
            return 1;
        }
    }
    return 0;
}

int bw_pr_row_draft_at(const struct bw_pr_row *r, int64_t t)
{
    return within(r->draft, r->ndraft, t) != NULL;
}

int bw_pr_row_awaiting_review_at(const struct bw_pr_row *r, int64_t t)
{
    return bw_pr_row_open_at(r, t) && !bw_pr_row_draft_at(r, t) &&
           r->ready_at != BW_NOTIME && r->ready_at < t &&
           (r->first_review_at == BW_NOTIME || r->first_review_at >= t);
}

int bw_pr_row_stale_at(const struct bw_pr_row *r, int64_t t)
{
    return bw_pr_row_open_at(r, t) && within(r->stale, r->nstale, t) != NULL;
}

int bw_ticket_row_in_progress_at(const struct bw_ticket_row *r, int64_t t)
{
    return within(r->in_progress, r->nin_progress, t) != NULL;
}

int bw_ticket_row_blocked_at(const struct bw_ticket_row *r, int64_t t,
                             int64_t *since)
{
    const struct bw_spell *s;

    if (!bw_ticket_row_in_progress_at(r, t)) {
        return 0;
    }
    s = within(r->blocked_spells, r->nblocked, t);
    if (s && since) {
        *since = s->start;
    }
    return s != NULL;
}
