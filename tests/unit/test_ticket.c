/*
 * test_ticket.c - METRICS.md's per-ticket rules (bw_ticket_derive,
 * bw_ticket_stage), one table row per rule on hand-built histories, and
 * the packed history text (round trips, malformed input, allocation
 * failures).
 *
 * Statuses are named; the catalog below gives them ids and categories as
 * the simulator's Jira does ("Triage" is deleted: in no catalog).
 */
#include "testutil.h"

#include <math.h>

#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/ticket.h"

#define C0 1790000000LL /* every case's created_at */
#define NOW (C0 + 100000)
#define NT BW_NOTIME
#define MAXH 10
#define MAXS 6

/* ------------------------------------------------------------- catalog */

static const char *const catalog_src[][3] = {
    {"1", "To Do", "new"},
    {"2", "In Progress", "indeterminate"},
    {"3", "Blocked", "indeterminate"},
    {"4", "On Hold", "new"},
    {"5", "Done", "done"},
    {"6", "Closed", "done"},
    {"7", "Peer Check", "undefined"},
    {"8", "Reopened", "new"},
    {"9", "In Review", "indeterminate"}};
#define NCAT (sizeof(catalog_src) / sizeof(catalog_src[0]))
static struct bw_status_info catalog[NCAT];

/* The catalog as struct bw_status_info (its strings are never written). */
static void catalog_fill(void)
{
    for (size_t i = 0; i < NCAT; i++) {
        catalog[i].id = (char *)catalog_src[i][0];
        catalog[i].name = (char *)catalog_src[i][1];
        catalog[i].category = (char *)catalog_src[i][2];
    }
}

static const char *status_id(const char *name)
{
    for (size_t i = 0; i < NCAT; i++) {
        if (strcmp(catalog[i].name, name) == 0) {
            return catalog[i].id;
        }
    }
    return "99"; /* Triage and other deleted ones */
}

/* "A, B" into a list (static storage, test only). */
static void list_of(const char *s, struct bw_strlist *l, char **v, char *buf,
                    size_t n)
{
    char *p;

    l->v = v;
    l->n = 0;
    if (s == NULL) {
        return;
    }
    snprintf(buf, n, "%s", s);
    for (p = buf; *p;) {
        char *e = strchr(p, ',');

        if (e) {
            *e = '\0';
        }
        while (*p == ' ') {
            p++;
        }
        v[l->n++] = p;
        if (!e) {
            break;
        }
        p = e + 1;
    }
}

struct rules_spec {
    const char *blocked; /* NULL: the default "Blocked, On Hold" */
    const char *todo, *inprog, *done;
    const char *types; /* NULL: the default "Epic" */
    const char *labels;
};

struct rules_mem {
    struct bw_strlist l[6];
    char *v[6][8];
    char buf[6][128];
    struct bw_ticket_rules r;
};

static void make_rules(const struct rules_spec *s, struct rules_mem *m)
{
    const char *src[6] = {s->blocked ? s->blocked : "Blocked, On Hold",
                          s->todo,
                          s->inprog,
                          s->done,
                          s->types ? s->types : "Epic",
                          s->labels};

    memset(m, 0, sizeof(*m));
    catalog_fill();
    for (int i = 0; i < 6; i++) {
        list_of(src[i], &m->l[i], m->v[i], m->buf[i], sizeof(m->buf[i]));
    }
    m->r.statuses = catalog;
    m->r.nstatuses = NCAT;
    m->r.blocked_statuses = &m->l[0];
    m->r.stage_todo = &m->l[1];
    m->r.stage_in_progress = &m->l[2];
    m->r.stage_done = &m->l[3];
    m->r.exclude_types = &m->l[4];
    m->r.exclude_labels = &m->l[5];
}

/* ------------------------------------------------------------- cases */

struct tr_spec {
    int64_t dt; /* seconds after created; 0 with no names ends the list */
    int64_t hid;
    const char *from, *to;
};

struct fl_spec {
    int64_t dt;
    int64_t hid;
    int on, from_set;
    int used;
};

#define OPEN (-1)   /* a spell end still going */
#define NONE (-2)   /* a time expected to be none */
#define NAN_ (-1.0) /* a duration expected to be NAN */

struct tcase {
    const char *name;
    const char *status; /* current */
    const char *type;
    const char *label;
    int flagged_now;
    struct tr_spec tr[MAXH];
    struct fl_spec fl[MAXH];
    struct rules_spec rules;
    /* expected */
    const char *initial;
    int64_t started, done; /* dt, or NONE */
    long reopens;
    int stage, blocked_now, excluded, unknown;
    int64_t spells[MAXS][2]; /* dt pairs, {0, 0} ends; OPEN end */
    double blocked_time;     /* seconds, NAN_ */
    int64_t inprog[MAXS][2]; /* in-progress stretches, {0, 0} ends */
};

enum {
    TODO = BW_STAGE_TODO,
    INP = BW_STAGE_IN_PROGRESS,
    DONE = BW_STAGE_DONE
};

static const struct tcase cases[] = {
    {"no history: the current status is the initial one",
     "To Do",
     "Task",
     NULL,
     0,
     {{0}},
     {{0}},
     {0},
     "To Do",
     NONE,
     NONE,
     0,
     TODO,
     0,
     0,
     0,
     {{0}},
     NAN_,
     {{0}}},
    {"created in progress: started at creation",
     "In Progress",
     "Task",
     NULL,
     0,
     {{0}},
     {{0}},
     {0},
     "In Progress",
     0,
     NONE,
     0,
     INP,
     0,
     0,
     0,
     {{0}},
     0,
     {{0, OPEN}}},
    {"created in progress, moved on: started at creation",
     "Done",
     "Task",
     NULL,
     0,
     {{500, 1, "In Progress", "Done"}},
     {{0}},
     {0},
     "In Progress",
     0,
     500,
     0,
     DONE,
     0,
     0,
     0,
     {{0}},
     0,
     {{0, 500}}},
    {"started_at is the first move into progress, kept after going back",
     "In Progress",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "In Progress"},
      {200, 2, "In Progress", "To Do"},
      {300, 3, "To Do", "In Progress"}},
     {{0}},
     {0},
     "To Do",
     100,
     NONE,
     0,
     INP,
     0,
     0,
     0,
     {{0}},
     0,
     {{100, 200}, {300, OPEN}}},
    {"Done -> Closed does not move done_at",
     "Closed",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "In Progress"},
      {500, 2, "In Progress", "Done"},
      {600, 3, "Done", "Closed"}},
     {{0}},
     {0},
     "To Do",
     100,
     500,
     0,
     DONE,
     0,
     0,
     0,
     {{0}},
     0,
     {{100, 500}}},
    {"reopened: no done_at until done again",
     "Reopened",
     "Bug",
     NULL,
     0,
     {{100, 1, "To Do", "In Progress"},
      {500, 2, "In Progress", "Done"},
      {600, 3, "Done", "Reopened"}},
     {{0}},
     {0},
     "To Do",
     100,
     NONE,
     1,
     TODO,
     0,
     0,
     0,
     {{0}},
     0,
     {{100, 500}}},
    {"reopened and done again: the last move into done",
     "Done",
     "Bug",
     NULL,
     0,
     {{100, 1, "To Do", "In Progress"},
      {500, 2, "In Progress", "Done"},
      {600, 3, "Done", "Reopened"},
      {700, 4, "Reopened", "In Progress"},
      {800, 5, "In Progress", "Closed"}},
     {{0}},
     {0},
     "To Do",
     100,
     800,
     1,
     DONE,
     0,
     0,
     0,
     {{0}},
     0,
     {{100, 500}, {700, 800}}},
    {"created done and never left: done at creation",
     "Done",
     "Task",
     NULL,
     0,
     {{0}},
     {{0}},
     {0},
     "Done",
     NONE,
     0,
     0,
     DONE,
     0,
     0,
     0,
     {{0}},
     NAN_,
     {{0}}},
    {"created done, reopened, done again",
     "Done",
     "Task",
     NULL,
     0,
     {{100, 1, "Done", "In Progress"}, {200, 2, "In Progress", "Done"}},
     {{0}},
     {0},
     "Done",
     100,
     200,
     1,
     DONE,
     0,
     0,
     0,
     {{0}},
     0,
     {{100, 200}}},
    {"a move between two done statuses is no reopen",
     "Done",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "Closed"}, {200, 2, "Closed", "Done"}},
     {{0}},
     {0},
     "To Do",
     NONE,
     100,
     0,
     DONE,
     0,
     0,
     0,
     {{0}},
     NAN_,
     {{0}}},
    {"a blocked status is a spell inside [started, done]",
     "Done",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "In Progress"},
      {200, 2, "In Progress", "Blocked"},
      {300, 3, "Blocked", "In Progress"},
      {400, 4, "In Progress", "Done"}},
     {{0}},
     {0},
     "To Do",
     100,
     400,
     0,
     DONE,
     0,
     0,
     0,
     {{200, 300}},
     100,
     {{100, 400}}},
    {"flagged and blocked status overlap: one spell",
     "Done",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "In Progress"},
      {200, 2, "In Progress", "Blocked"},
      {300, 4, "Blocked", "In Progress"},
      {500, 6, "In Progress", "Done"}},
     {{250, 3, 1, 0, 1}, {400, 5, 0, 1, 1}},
     {0},
     "To Do",
     100,
     500,
     0,
     DONE,
     0,
     0,
     0,
     {{200, 400}},
     200,
     {{100, 500}}},
    {"touching stretches join",
     "In Progress",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "In Progress"},
      {200, 2, "In Progress", "On Hold"},
      {300, 3, "On Hold", "In Progress"}},
     {{300, 4, 1, 0, 1}, {350, 5, 0, 1, 1}},
     {0},
     "To Do",
     100,
     NONE,
     0,
     INP,
     0,
     0,
     0,
     {{200, 350}},
     150,
     {{100, OPEN}}},
    {"first Flagged change with a from: flagged since creation",
     "To Do",
     "Task",
     NULL,
     0,
     {{0}},
     {{150, 1, 0, 1, 1}},
     {0},
     "To Do",
     NONE,
     NONE,
     0,
     TODO,
     0,
     0,
     0,
     {{0, 150}},
     NAN_,
     {{0}}},
    {"flagged now, no Flagged change: since creation, blocked now",
     "To Do",
     "Task",
     NULL,
     1,
     {{0}},
     {{0}},
     {0},
     "To Do",
     NONE,
     NONE,
     0,
     TODO,
     1,
     0,
     0,
     {{0, OPEN}},
     NAN_,
     {{0}}},
    {"blocked_time clipped to [started_at, done_at]",
     "Done",
     "Task",
     NULL,
     0,
     {{100, 2, "To Do", "In Progress"}, {400, 4, "In Progress", "Done"}},
     {{150, 3, 0, 1, 1}, {380, 5, 1, 0, 1}, {600, 6, 0, 1, 1}},
     {0},
     "To Do",
     100,
     400,
     0,
     DONE,
     0,
     0,
     0,
     {{0, 150}, {380, 600}},
     70,
     {{100, 400}}},
    {"blocked_time up to now while not done",
     "In Progress",
     "Task",
     NULL,
     1,
     {{100, 1, "To Do", "In Progress"}},
     {{99000, 2, 1, 0, 1}},
     {0},
     "To Do",
     100,
     NONE,
     0,
     INP,
     1,
     0,
     0,
     {{99000, OPEN}},
     1000,
     {{100, OPEN}}},
    {"a deleted status is todo and marked unknown",
     "Done",
     "Task",
     NULL,
     0,
     {{100, 1, "Triage", "Done"}},
     {{0}},
     {0},
     "Triage",
     NONE,
     100,
     0,
     DONE,
     0,
     0,
     1,
     {{0}},
     NAN_,
     {{0}}},
    {"a deleted status mapped by name is what the map says",
     "Done",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "Triage"}, {200, 2, "Triage", "Done"}},
     {{0}},
     {NULL, NULL, "Triage", NULL, NULL, NULL},
     "To Do",
     100,
     200,
     0,
     DONE,
     0,
     0,
     0,
     {{0}},
     0,
     {{100, 200}}},
    {"stage_* map statuses by name",
     "In Review",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "Peer Check"},
      {200, 2, "Peer Check", "Done"},
      {300, 3, "Done", "In Review"}},
     {{0}},
     {NULL, "Done", "Peer Check", "In Review", NULL, NULL},
     "To Do",
     100,
     300,
     0,
     DONE,
     0,
     0,
     0,
     {{0}},
     0,
     {{100, 200}}},
    {"blocked_statuses win over stage_* and category",
     "On Hold",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "On Hold"}},
     {{0}},
     {"On Hold", "On Hold", NULL, NULL, NULL, NULL},
     "To Do",
     100,
     NONE,
     0,
     INP,
     1,
     0,
     0,
     {{100, OPEN}},
     99900,
     {{100, OPEN}}},
    {"not in blocked_statuses: a Blocked status is just in progress",
     "Blocked",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "Blocked"}},
     {{0}},
     {"On Hold", NULL, NULL, NULL, NULL, NULL},
     "To Do",
     100,
     NONE,
     0,
     INP,
     0,
     0,
     0,
     {{0}},
     0,
     {{100, OPEN}}},
    {"exclude_types",
     "To Do",
     "Epic",
     NULL,
     0,
     {{0}},
     {{0}},
     {0},
     "To Do",
     NONE,
     NONE,
     0,
     TODO,
     0,
     1,
     0,
     {{0}},
     NAN_,
     {{0}}},
    {"exclude_types set: sub-tasks count unless listed",
     "To Do",
     "Sub-task",
     NULL,
     0,
     {{0}},
     {{0}},
     {NULL, NULL, NULL, NULL, "Story", NULL},
     "To Do",
     NONE,
     NONE,
     0,
     TODO,
     0,
     0,
     0,
     {{0}},
     NAN_,
     {{0}}},
    {"exclude_labels",
     "To Do",
     "Task",
     "noise",
     0,
     {{0}},
     {{0}},
     {NULL, NULL, NULL, NULL, NULL, "perf, noise"},
     "To Do",
     NONE,
     NONE,
     0,
     TODO,
     0,
     1,
     0,
     {{0}},
     NAN_,
     {{0}}},
    {"ties in time are ordered by history id",
     "Done",
     "Task",
     NULL,
     0,
     {{100, 7, "In Progress", "Done"}, {100, 6, "To Do", "In Progress"}},
     {{0}},
     {0},
     "To Do",
     100,
     100,
     0,
     DONE,
     0,
     0,
     0,
     {{0}},
     0,
     {{0}}},
    {"a status left within its second is no spell, but joins",
     "In Progress",
     "Task",
     NULL,
     0,
     {{100, 1, "To Do", "Blocked"},
      {100, 2, "Blocked", "In Progress"},
      {200, 3, "In Progress", "Blocked"},
      {200, 4, "Blocked", "In Progress"}},
     {{200, 5, 1, 0, 1}, {300, 6, 0, 1, 1}},
     {0},
     "To Do",
     100,
     NONE,
     0,
     INP,
     0,
     0,
     0,
     {{200, 300}},
     100,
     {{100, OPEN}}},
    {"durations are clamped at 0",
     "Done",
     "Task",
     NULL,
     0,
     {{-50, 1, "To Do", "In Progress"}, {-40, 2, "In Progress", "Done"}},
     {{0}},
     {0},
     "To Do",
     -50,
     -40,
     0,
     DONE,
     0,
     0,
     0,
     {{0}},
     0,
     {{-50, -40}}},
};

static void build(const struct tcase *c, struct bw_ticket *t)
{
    bw_ticket_init(t);
    t->key = bw_strdup("OPS-1");
    t->project = bw_strdup("OPS");
    t->type = bw_strdup(c->type);
    t->status_name = bw_strdup(c->status);
    t->status_id = bw_strdup(status_id(c->status));
    t->created_at = C0;
    t->updated_at = C0;
    t->flagged_now = c->flagged_now;
    if (c->label) {
        assert_int_equal(bw_strlist_add(&t->labels, c->label), 0);
    }
    for (int i = 0; i < MAXH && c->tr[i].from; i++) {
        struct bw_ticket_tr tr;

        tr.t = C0 + c->tr[i].dt;
        tr.hid = c->tr[i].hid;
        tr.from_name = (char *)c->tr[i].from;
        tr.from_id = (char *)status_id(c->tr[i].from);
        tr.to_name = (char *)c->tr[i].to;
        tr.to_id = (char *)status_id(c->tr[i].to);
        assert_int_equal(bw_ticket_add_tr(t, &tr), 0);
    }
    for (int i = 0; i < MAXH && c->fl[i].used; i++) {
        struct bw_ticket_flag f;

        f.t = C0 + c->fl[i].dt;
        f.hid = c->fl[i].hid;
        f.on = c->fl[i].on;
        f.from_set = c->fl[i].from_set;
        assert_int_equal(bw_ticket_add_flag(t, &f), 0);
    }
}

static int64_t at(int64_t dt)
{
    return dt == NONE ? NT : C0 + dt;
}

static void expect_spells(const char *name, const char *what,
                          const int64_t (*want)[2], const struct bw_spell *got,
                          size_t n)
{
    size_t k = 0;

    for (; k < MAXS && (want[k][0] || want[k][1]); k++) {
        int64_t e = want[k][1] == OPEN ? NT : C0 + want[k][1];

        if (k >= n || got[k].start != C0 + want[k][0] || got[k].end != e) {
            print_error("%s: %s #%zu: want [%lld, %lld], got %s\n", name, what,
                        k, (long long)want[k][0], (long long)want[k][1],
                        k >= n ? "none" : "other");
            fail();
        }
    }
    if (n != k) {
        print_error("%s: %zu %s, want %zu\n", name, n, what, k);
        fail();
    }
}

static void check_case(const struct tcase *c)
{
    struct rules_mem m;
    struct bw_ticket t;
    struct bw_ticket_derived d;
    double cycle, lead;

    make_rules(&c->rules, &m);
    build(c, &t);
    assert_int_equal(bw_ticket_derive(&t, &m.r, NOW, &d), 0);
    if (strcmp(d.initial_status ? d.initial_status : "", c->initial) != 0) {
        print_error("%s: initial '%s'\n", c->name, d.initial_status);
        fail();
    }
    if (d.started_at != at(c->started) || d.done_at != at(c->done)) {
        print_error("%s: started %lld done %lld\n", c->name,
                    (long long)(d.started_at == NT ? -2 : d.started_at - C0),
                    (long long)(d.done_at == NT ? -2 : d.done_at - C0));
        fail();
    }
    if (d.reopen_count != c->reopens || d.stage_now != c->stage ||
        d.blocked_now != c->blocked_now || d.excluded != c->excluded ||
        d.unknown_status != c->unknown) {
        print_error("%s: reopens %ld stage %d blocked %d excluded %d "
                    "unknown %d\n",
                    c->name, d.reopen_count, d.stage_now, d.blocked_now,
                    d.excluded, d.unknown_status);
        fail();
    }
    expect_spells(c->name, "blocked spells", c->spells, d.blocked, d.nblocked);
    expect_spells(c->name, "in-progress stretches", c->inprog, d.in_progress,
                  d.nin_progress);
    if (c->blocked_time < 0 ? !isnan(d.blocked_time)
                            : d.blocked_time != c->blocked_time) {
        print_error("%s: blocked_time %g\n", c->name, d.blocked_time);
        fail();
    }
    cycle = c->done != NONE && c->started != NONE
                ? (c->done > c->started ? (double)(c->done - c->started) : 0) /
                      86400.0
                : NAN;
    lead =
        c->done != NONE ? (c->done > 0 ? (double)c->done : 0) / 86400.0 : NAN;
    if ((isnan(cycle) ? !isnan(d.cycle_time) : d.cycle_time != cycle) ||
        (isnan(lead) ? !isnan(d.lead_time) : d.lead_time != lead)) {
        print_error("%s: cycle %g lead %g\n", c->name, d.cycle_time,
                    d.lead_time);
        fail();
    }
    bw_ticket_derived_release(&d);
    bw_ticket_release(&t);
}

static void test_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_case(&cases[i]);
    }
}

static void test_stage(void **state)
{
    struct rules_spec rs = {NULL, NULL, "Peer Check", NULL, NULL, NULL};
    struct rules_mem m;
    int blocked = -1, unknown = -1;

    (void)state;
    make_rules(&rs, &m);
    assert_int_equal(
        bw_ticket_stage(&m.r, "2", "In Progress", &blocked, &unknown),
        BW_STAGE_IN_PROGRESS);
    assert_int_equal(blocked, 0);
    assert_int_equal(unknown, 0);
    assert_int_equal(bw_ticket_stage(&m.r, "7", "Peer Check", NULL, NULL),
                     BW_STAGE_IN_PROGRESS);
    assert_int_equal(bw_ticket_stage(&m.r, "4", "On Hold", &blocked, NULL),
                     BW_STAGE_IN_PROGRESS);
    assert_int_equal(blocked, 1);
    /* the catalog's current name counts: a renamed status still matches */
    assert_int_equal(bw_ticket_stage(&m.r, "4", "Parked", &blocked, NULL),
                     BW_STAGE_IN_PROGRESS);
    assert_int_equal(blocked, 1);
    assert_int_equal(bw_ticket_stage(&m.r, "99", "Triage", NULL, &unknown),
                     BW_STAGE_TODO);
    assert_int_equal(unknown, 1);
    /* an id the catalog lacks is unknown even when a name matches */
    assert_int_equal(bw_ticket_stage(&m.r, "98", "Done", NULL, &unknown),
                     BW_STAGE_TODO);
    assert_int_equal(unknown, 1);
    /* without an id the name finds the catalog entry */
    assert_int_equal(bw_ticket_stage(&m.r, NULL, "Done", NULL, &unknown),
                     BW_STAGE_DONE);
    assert_int_equal(unknown, 0);
    assert_int_equal(bw_ticket_stage(NULL, "5", "Done", NULL, &unknown),
                     BW_STAGE_TODO);
    assert_int_equal(unknown, 1);
}

/* The same history given in another order derives the same. */
static void test_order_independent(void **state)
{
    const struct tcase *c = &cases[11]; /* flagged and blocked overlap */
    struct rules_mem m;
    struct bw_ticket a, b;
    struct bw_ticket_derived da, db;

    (void)state;
    make_rules(&c->rules, &m);
    build(c, &a);
    build(c, &b);
    for (size_t i = 0; i < b.ntrs / 2; i++) {
        struct bw_ticket_tr x = b.trs[i];

        b.trs[i] = b.trs[b.ntrs - 1 - i];
        b.trs[b.ntrs - 1 - i] = x;
    }
    for (size_t i = 0; i < b.nflags / 2; i++) {
        struct bw_ticket_flag x = b.flags[i];

        b.flags[i] = b.flags[b.nflags - 1 - i];
        b.flags[b.nflags - 1 - i] = x;
    }
    assert_int_equal(bw_ticket_derive(&a, &m.r, NOW, &da), 0);
    assert_int_equal(bw_ticket_derive(&b, &m.r, NOW, &db), 0);
    assert_int_equal(da.started_at, db.started_at);
    assert_int_equal(da.done_at, db.done_at);
    assert_int_equal(da.nblocked, db.nblocked);
    assert_memory_equal(da.blocked, db.blocked,
                        da.nblocked * sizeof(*da.blocked));
    assert_string_equal(da.initial_status, db.initial_status);
    bw_ticket_derived_release(&da);
    bw_ticket_derived_release(&db);
    bw_ticket_release(&a);
    bw_ticket_release(&b);
}

/* ------------------------------------------------------------- packing */

static void add_tr(struct bw_ticket *t, int64_t when, int64_t hid,
                   const char *fi, const char *fn, const char *ti,
                   const char *tn)
{
    struct bw_ticket_tr tr = {when,       hid,        (char *)fi,
                              (char *)fn, (char *)ti, (char *)tn};

    assert_int_equal(bw_ticket_add_tr(t, &tr), 0);
}

static void add_flag(struct bw_ticket *t, int64_t when, int64_t hid, int on,
                     int from_set)
{
    struct bw_ticket_flag f = {when, hid, on, from_set};

    assert_int_equal(bw_ticket_add_flag(t, &f), 0);
}

static int same_s(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void assert_same_history(const struct bw_ticket *a,
                                const struct bw_ticket *b)
{
    assert_int_equal(a->ntrs, b->ntrs);
    assert_int_equal(a->nflags, b->nflags);
    for (size_t i = 0; i < a->ntrs; i++) {
        assert_int_equal(a->trs[i].t, b->trs[i].t);
        assert_int_equal(a->trs[i].hid, b->trs[i].hid);
        assert_true(same_s(a->trs[i].from_id, b->trs[i].from_id));
        assert_true(same_s(a->trs[i].from_name, b->trs[i].from_name));
        assert_true(same_s(a->trs[i].to_id, b->trs[i].to_id));
        assert_true(same_s(a->trs[i].to_name, b->trs[i].to_name));
    }
    for (size_t i = 0; i < a->nflags; i++) {
        assert_int_equal(a->flags[i].t, b->flags[i].t);
        assert_int_equal(a->flags[i].hid, b->flags[i].hid);
        assert_int_equal(a->flags[i].on, b->flags[i].on);
        assert_int_equal(a->flags[i].from_set, b->flags[i].from_set);
    }
}

static void sample_history(struct bw_ticket *t)
{
    bw_ticket_init(t);
    add_tr(t, C0 + 10, 100, "1", "To Do", "2", "In Progress");
    add_flag(t, C0 + 10, 101, 1, 0);
    add_tr(t, C0 + 20, 102, "2", "In Progress", "3", "Won't %do|x,y~z");
    add_flag(t, C0 + 30, 103, 0, 1);
    /* not a chain: the from pair is written */
    add_tr(t, C0 + 30, 104, "99", "Tri age\n\t", NULL, "");
    add_tr(t, C0 + 40, 104, NULL, NULL, "5",
           "\xe5\xb7\xb2\xe5\xae\x8c\xe6"
           "\x88\x90");
    add_tr(t, INT64_MIN, INT64_MIN, "", "", "%", "%%");
    add_tr(t, INT64_MAX, INT64_MAX, "a b", " ", "7", "x");
    add_flag(t, INT64_MAX, 0, 1, 1);
    add_flag(t, -5, -7, 0, 0);
}

static void test_pack_roundtrip(void **state)
{
    struct bw_ticket a, b, e, z;
    struct bw_buf buf = BW_BUF_INIT;

    (void)state;
    sample_history(&a);
    assert_int_equal(bw_ticket_pack_history(&a, &buf), 0);
    bw_ticket_init(&b);
    assert_int_equal(bw_ticket_unpack_history(&b, buf.data, buf.len), 0);
    /* the merge interleaves the two lists, each keeps its order */
    assert_same_history(&a, &b);
    /* appended, not replaced */
    assert_int_equal(bw_ticket_unpack_history(&b, buf.data, buf.len), 0);
    assert_int_equal(b.ntrs, 2 * a.ntrs);
    assert_int_equal(b.nflags, 2 * a.nflags);
    /* no history at all */
    bw_ticket_init(&e);
    bw_buf_reset(&buf);
    assert_int_equal(bw_ticket_pack_history(&e, &buf), 0);
    assert_string_equal(buf.data, "h1");
    bw_ticket_init(&z);
    assert_int_equal(bw_ticket_unpack_history(&z, buf.data, buf.len), 0);
    assert_int_equal(z.ntrs + z.nflags, 0);
    bw_buf_release(&buf);
    bw_ticket_release(&a);
    bw_ticket_release(&b);
    bw_ticket_release(&z);
}

static void test_pack_compact(void **state)
{
    struct bw_ticket t;
    struct bw_buf buf = BW_BUF_INIT;

    (void)state;
    bw_ticket_init(&t);
    add_tr(&t, 1000, 50, "1", "To Do", "2", "In Progress");
    add_tr(&t, 1010, 52, "2", "In Progress", "5", "Done");
    add_flag(&t, 1010, 53, 1, 0);
    assert_int_equal(bw_ticket_pack_history(&t, &buf), 0);
    /* a chain writes each status once; times and ids as differences */
    assert_string_equal(buf.data, "h1\ns1000:50 2 In%20Progress 1 To%20Do"
                                  "\ns10:2 5 Done\nf0:1!1");
    bw_buf_release(&buf);
    bw_ticket_release(&t);
}

static void test_unpack_bad(void **state)
{
    static const char *bad[] = {
        "",
        "h2",
        "h1\n",
        "h1\nx1:1",
        "h1\ns1:1",                 /* no to pair */
        "h1\ns1:1 2 In",            /* the first needs its from */
        "h1\ns1:1 2 In 1",          /* half a from pair */
        "h1\ns1:1 2 In 1 To extra", /* too many tokens */
        "h1\ns1 2 In 1 To",         /* no id difference */
        "h1\ns1:1 2 In%0 1 To",     /* a short escape */
        "h1\ns1:1 2 In%00 1 To",    /* NUL */
        "h1\ns1:1 2 In%zz 1 To",
        "h1\nf1:1!4",
        "h1\nf1:1!",
        "h1\nf1:1 x",
        "h1\nf99999999999999999999:1",
        "h1s1:1 2 a 1 b",
        "h1\n\ns1:1 2 a 1 b",
    };
    struct bw_ticket t;

    (void)state;
    bw_ticket_init(&t);
    add_flag(&t, 1, 1, 1, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bw_ticket_unpack_history(&t, bad[i], strlen(bad[i])) != BW_EPARSE) {
            print_error("'%s' unpacked\n", bad[i]);
            fail();
        }
        /* what was there stays, nothing is added */
        assert_int_equal(t.ntrs, 0);
        assert_int_equal(t.nflags, 1);
    }
    bw_ticket_release(&t);
}

static void test_take_and_truncate(void **state)
{
    struct bw_ticket a, b;

    (void)state;
    sample_history(&a);
    bw_ticket_init(&b);
    add_tr(&b, 1, 1, "1", "x", "2", "y");
    assert_int_equal(bw_ticket_take_history(&b, &a), 0);
    assert_int_equal(a.ntrs + a.nflags, 0);
    assert_int_equal(b.ntrs, 7);
    assert_int_equal(b.nflags, 4);
    assert_string_equal(b.trs[1].to_name, "In Progress");
    bw_ticket_truncate_history(&b, 1, 1);
    assert_int_equal(b.ntrs, 1);
    assert_int_equal(b.nflags, 1);
    bw_ticket_release(&a);
    bw_ticket_release(&b);
}

/* Every allocation of derive, pack, unpack and add fails in turn: an
 * error comes back, nothing leaks (ASan), the inputs are unchanged. */
static void test_torture(void **state)
{
    struct rules_mem m;
    struct bw_ticket t, u;
    struct bw_ticket_derived d;
    struct bw_buf buf = BW_BUF_INIT;
    struct bw_buf packed = BW_BUF_INIT;
    const struct tcase *c = &cases[15];
    int rc;

    (void)state;
    make_rules(&c->rules, &m);
    build(c, &t);
    for (size_t k = 0; k < t.ntrs / 2; k++) { /* out of order: sorts too */
        struct bw_ticket_tr x = t.trs[k];

        t.trs[k] = t.trs[t.ntrs - 1 - k];
        t.trs[t.ntrs - 1 - k] = x;
    }
    for (long n = 1; n < 200; n++) {
        bw_mem_fail_at(n, 0);
        rc = bw_ticket_derive(&t, &m.r, NOW, &d);
        bw_mem_fail_at(0, 0);
        if (rc == 0) {
            bw_ticket_derived_release(&d);
            break;
        }
        assert_int_equal(rc, BW_ENOMEM);
    }
    sample_history(&u);
    assert_int_equal(bw_ticket_pack_history(&u, &packed), 0);
    for (long n = 1; n < 200; n++) {
        bw_buf_release(&buf);
        bw_mem_fail_at(n, 0);
        rc = bw_ticket_pack_history(&u, &buf);
        bw_mem_fail_at(0, 0);
        if (rc == 0) {
            assert_string_equal(buf.data, packed.data);
            break;
        }
        assert_int_equal(rc, BW_ENOMEM);
    }
    for (long n = 1; n < 400; n++) {
        struct bw_ticket v;

        bw_ticket_init(&v);
        bw_mem_fail_at(n, 0);
        rc = bw_ticket_unpack_history(&v, packed.data, packed.len);
        bw_mem_fail_at(0, 0);
        if (rc == 0) {
            assert_same_history(&u, &v);
            bw_ticket_release(&v);
            break;
        }
        assert_int_equal(rc, BW_ENOMEM);
        assert_int_equal(v.ntrs + v.nflags, 0);
        bw_ticket_release(&v);
    }
    for (long n = 1; n < 50; n++) {
        struct bw_ticket v;

        bw_ticket_init(&v);
        add_flag(&v, 1, 1, 1, 1);
        bw_mem_fail_at(n, 0);
        rc = bw_ticket_take_history(&v, &u);
        bw_mem_fail_at(0, 0);
        if (rc == 0) {
            assert_int_equal(v.ntrs, 6);
            bw_ticket_release(&v);
            break;
        }
        assert_int_equal(rc, BW_ENOMEM);
        assert_int_equal(v.ntrs, 0);
        assert_int_equal(u.ntrs, 6);
        bw_ticket_release(&v);
    }
    bw_buf_release(&buf);
    bw_buf_release(&packed);
    bw_ticket_release(&t);
    bw_ticket_release(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_stage),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_pack_roundtrip),
        cmocka_unit_test(test_pack_compact),
        cmocka_unit_test(test_unpack_bad),
        cmocka_unit_test(test_take_and_truncate),
        cmocka_unit_test(test_torture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
