/*
 * test_pr.c - METRICS.md's per-PR rules (bw_pr_derive), one table row per
 * rule on hand-built event lists, and the packed event text (round trips,
 * malformed input, allocation failures).
 */
#include "testutil.h"

#include <math.h>

#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/pr.h"

#define T0 1790000000LL
#define H(x) (T0 + (int64_t)((x)*3600))
#define NT BW_NOTIME
#define MAXEV 12

enum {
    C = BW_PEV_COMMIT,
    R = BW_PEV_REVIEW,
    M = BW_PEV_COMMENT,
    RDY = BW_PEV_READY,
    DRF = BW_PEV_DRAFT
};
enum {
    AP = BW_RS_APPROVED,
    CR = BW_RS_CHANGES_REQUESTED,
    CO = BW_RS_COMMENTED,
    DI = BW_RS_DISMISSED,
    PE = BW_RS_PENDING
};
#define BOT BW_ACTOR_BOT
#define GHOST BW_ACTOR_GHOST

struct ev_spec {
    int kind;
    int64_t t, t2;
    int state;
    unsigned flags;
    const char *actor;
};

struct pr_spec {
    const char *author;
    unsigned author_flags;
    int draft;
    int64_t merged_at; /* 0: not merged */
    long commits;      /* 0 means -1 (unknown) */
    const char *label, *base;
    struct ev_spec ev[MAXEV];
};

struct rules_spec {
    const char *exclude_users, *exclude_labels, *exclude_base;
    int include_bot_prs;
};

/* Expected derived values; 0 means "not checked" for times, durations
 * are checked when given as >= 0 (use -1 for NAN, -2 for not checked). */
struct want {
    int64_t first_commit_at, ready_at, first_review_at, first_response_at,
        approved_at, pickup_at, response_at;
    long review_rounds;
    int truncated;
    int reason;
    int rle;
    double coding, pickup, review, cycle, ttfr;
};

struct derive_case {
    const char *name;
    struct pr_spec pr;
    struct rules_spec rules;
    struct want w;
};

#define NOCHK 0
#define NAN_ (-1.0)
#define SKIP (-2.0)

static const struct derive_case cases[] = {
    /* first_commit_at */
    {"no commits: opened_at",
     {"al", 0, 0, 0, 0, NULL, "main", {{0}}},
     {0},
     {H(0), H(0), NT, NT, NT, NT, NT, 0, 0, BW_PX_NONE, 0, SKIP, SKIP, SKIP,
      SKIP, SKIP}},
    {"min author date, not the first listed nor committer date",
     {"al",
      0,
      0,
      H(50),
      3,
      NULL,
      "main",
      {{C, H(-1), H(-5), 0, 0, NULL},
       {C, H(-2), H(-30), 0, 0, NULL},
       {C, H(-40), H(-10), 0, 0, NULL}}},
     {0},
     {H(-30), H(0), NT, NT, NT, NT, NT, 0, 0, BW_PX_NONE, 0, 30.0, NAN_, NAN_,
      80.0, NAN_}},
    {"truncated when the PR has more commits than listed",
     {"al", 0, 0, 0, 5, NULL, "main", {{C, H(-1), H(-2), 0, 0, NULL}}},
     {0},
     {H(-2), NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, 0, 1, BW_PX_NONE, 0,
      SKIP, SKIP, SKIP, SKIP, SKIP}},
    {"not truncated when counts agree",
     {"al", 0, 0, 0, 1, NULL, "main", {{C, H(-1), H(-2), 0, 0, NULL}}},
     {0},
     {H(-2), NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, 0, 0, BW_PX_NONE, 0,
      SKIP, SKIP, SKIP, SKIP, SKIP}},
    {"commit authored after ready: coding time clamps at 0",
     {"al", 0, 0, H(10), 0, NULL, "main", {{C, H(2), H(1), 0, 0, NULL}}},
     {0},
     {H(1), H(0), NT, NT, NT, NT, NT, 0, 0, BW_PX_NONE, 0, 0.0, NAN_, NAN_, 9.0,
      NAN_}},
    /* ready_at */
    {"opened as draft: first ready_for_review; later toggles ignored",
     {"al",
      0,
      0,
      H(20),
      0,
      NULL,
      "main",
      {{DRF, H(8), NT, 0, 0, "al"},
       {RDY, H(5), NT, 0, 0, "al"},
       {RDY, H(9), NT, 0, 0, "al"}}},
     {0},
     {H(0), H(5), NT, NT, NT, NT, NT, 0, 0, BW_PX_NONE, 0, 5.0, NAN_, NAN_,
      20.0, NAN_}},
    {"first draft event is convert_to_draft: ready at opening",
     {"al",
      0,
      1,
      0,
      0,
      NULL,
      "main",
      {{RDY, H(7), NT, 0, 0, "al"}, {DRF, H(3), NT, 0, 0, "al"}}},
     {0},
     {H(0), H(0), NT, NT, NT, NT, NT, 0, 0, BW_PX_NONE, 0, NAN_, NAN_, NAN_,
      NAN_, NAN_}},
    {"no draft events and a draft now: never ready",
     {"al", 0, 1, H(30), 0, NULL, "main", {{R, H(4), NT, AP, 0, "bo"}}},
     {0},
     {H(0), NT, H(4), H(4), H(4), NT, NT, 0, 0, BW_PX_NONE, 0, NAN_, NAN_, 26.0,
      30.0, NAN_}},
    {"no draft events, not a draft: ready at opening",
     {"al", 0, 0, 0, 0, NULL, "main", {{R, H(4), NT, AP, 0, "bo"}}},
     {0},
     {H(0), H(0), H(4), H(4), H(4), H(4), H(4), 0, 0, BW_PX_NONE, 0, NAN_, NAN_,
      NAN_, NAN_, NAN_}},
    {"opened as draft, only converted back: first ready counts",
     {"al",
      0,
      1,
      0,
      0,
      NULL,
      "main",
      {{RDY, H(2), NT, 0, 0, "al"}, {DRF, H(3), NT, 0, 0, "al"}}},
     {0},
     {NOCHK, H(2), NT, NT, NT, NT, NT, 0, 0, BW_PX_NONE, 0, SKIP, SKIP, SKIP,
      SKIP, SKIP}},
    /* counted reviews */
    {"author, bot, excluded, pending and none do not count",
     {"al",
      0,
      0,
      H(100),
      0,
      NULL,
      "main",
      {{R, H(1), NT, AP, 0, "al"},
       {R, H(2), NT, AP, BOT, "dependabot[bot]"},
       {R, H(3), NT, CR, 0, "ci-user"},
       {R, H(4), NT, PE, 0, "bo"},
       {R, H(5), NT, BW_RS_NONE, 0, "bo"},
       {R, H(6), NT, CO, 0, "bo"}}},
     {"ci-user", NULL, NULL, 0},
     {NOCHK, H(0), H(6), H(6), NT, H(6), H(6), 0, 0, BW_PX_NONE, 0, SKIP, 6.0,
      94.0, SKIP, 6.0}},
    {"reviews after merged_at do not count; at merged_at they do",
     {"al",
      0,
      0,
      H(10),
      0,
      NULL,
      "main",
      {{R, H(11), NT, AP, 0, "bo"},
       {R, H(10), NT, CR, 0, "cy"},
       {M, H(10.5), NT, 0, 0, "cy"}}},
     {0},
     {NOCHK, H(0), H(10), H(10), NT, H(10), H(10), 1, 0, BW_PX_NONE, 0, SKIP,
      10.0, 0.0, SKIP, 10.0}},
    {"open PR: every review counts, durations none",
     {"al", 0, 0, 0, 0, NULL, "main", {{R, H(11), NT, DI, 0, "bo"}}},
     {0},
     {NOCHK, H(0), H(11), H(11), NT, H(11), H(11), 0, 0, BW_PX_NONE, 0, NAN_,
      NAN_, NAN_, NAN_, NAN_}},
    {"deleted users are people and never the author",
     {NULL,
      GHOST,
      0,
      0,
      0,
      NULL,
      "main",
      {{R, H(3), NT, CO, GHOST, NULL}, {R, H(2), NT, AP, GHOST, "ghost"}}},
     {0},
     {NOCHK, H(0), H(2), H(2), H(2), H(2), H(2), 0, 0, BW_PX_NONE, 0, SKIP,
      SKIP, SKIP, SKIP, SKIP}},
    {"a deleted author's login is not matched against reviewers",
     {"ghost",
      GHOST,
      0,
      0,
      0,
      NULL,
      "main",
      {{R, H(3), NT, CO, GHOST, "ghost"}}},
     {0},
     {NOCHK, H(0), H(3), H(3), NT, H(3), H(3), 0, 0, BW_PX_NONE, 0, SKIP, SKIP,
      SKIP, SKIP, SKIP}},
    {"approved_at is the first counted approval; rounds count CR",
     {"al",
      0,
      0,
      H(40),
      0,
      NULL,
      "main",
      {{R, H(9), NT, AP, 0, "cy"},
       {R, H(3), NT, CR, 0, "bo"},
       {R, H(5), NT, CR, 0, "bo"},
       {R, H(7), NT, AP, 0, "bo"},
       {R, H(1), NT, AP, 0, "al"},
       {R, H(2), NT, CR, BOT, "lint[bot]"}}},
     {0},
     {NOCHK, H(0), H(3), H(3), H(7), H(3), H(3), 2, 0, BW_PX_NONE, 0, SKIP, 3.0,
      37.0, SKIP, 3.0}},
    /* first response */
    {"a counted comment can come first; author and bot comments do not",
     {"al",
      0,
      0,
      H(40),
      0,
      NULL,
      "main",
      {{M, H(1), NT, 0, 0, "al"},
       {M, H(1.5), NT, 0, BOT, "ci[bot]"},
       {M, H(2), NT, 0, 0, "bo"},
       {R, H(6), NT, CO, 0, "cy"}}},
     {0},
     {NOCHK, H(0), H(6), H(2), NT, H(6), H(2), 0, 0, BW_PX_NONE, 0, SKIP, 6.0,
      34.0, SKIP, 2.0}},
    {"comments by excluded users and after the merge do not count",
     {"al",
      0,
      0,
      H(10),
      0,
      NULL,
      "main",
      {{M, H(1), NT, 0, 0, "ci-user"}, {M, H(11), NT, 0, 0, "bo"}}},
     {"ci-user", NULL, NULL, 0},
     {NOCHK, H(0), NT, NT, NT, NT, NT, 0, 0, BW_PX_NONE, 0, SKIP, NAN_, NAN_,
      SKIP, NAN_}},
    /* pickup and response relative to ready_at */
    {"review while a draft is no pickup; the first at/after ready is",
     {"al",
      0,
      0,
      H(30),
      0,
      NULL,
      "main",
      {{RDY, H(10), NT, 0, 0, "al"},
       {R, H(4), NT, CO, 0, "bo"},
       {M, H(6), NT, 0, 0, "cy"},
       {M, H(12), NT, 0, 0, "cy"},
       {R, H(10), NT, AP, 0, "dd"},
       {C, H(-1), H(-2), 0, 0, NULL}}},
     {0},
     {H(-2), H(10), H(4), H(4), H(10), H(10), H(10), 0, 0, BW_PX_NONE, 0, 12.0,
      0.0, 26.0, 32.0, 0.0}},
    {"response after ready may be a comment before the pickup review",
     {"al",
      0,
      0,
      H(30),
      0,
      NULL,
      "main",
      {{RDY, H(10), NT, 0, 0, "al"},
       {M, H(11), NT, 0, 0, "cy"},
       {R, H(14), NT, AP, 0, "dd"}}},
     {0},
     {H(0), H(10), H(14), H(11), H(14), H(14), H(11), 0, 0, BW_PX_NONE, 0, 10.0,
      4.0, 16.0, 30.0, 1.0}},
    {"never ready: no pickup, no response",
     {"al",
      0,
      1,
      0,
      0,
      NULL,
      "main",
      {{M, H(1), NT, 0, 0, "cy"}, {R, H(2), NT, AP, 0, "dd"}}},
     {0},
     {NOCHK, NT, H(2), H(1), H(2), NT, NT, 0, 0, BW_PX_NONE, 0, NAN_, NAN_,
      NAN_, NAN_, NAN_}},
    /* exclusions */
    {"bot author excluded by default",
     {"renovate[bot]", BOT, 0, 0, 0, NULL, "main", {{0}}},
     {0},
     {NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, 0, 0, BW_PX_BOT, 0, SKIP,
      SKIP, SKIP, SKIP, SKIP}},
    {"bot author counted with include_bot_prs",
     {"renovate[bot]", BOT, 0, 0, 0, NULL, "main", {{0}}},
     {NULL, NULL, NULL, 1},
     {NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, 0, 0, BW_PX_NONE, 0,
      SKIP, SKIP, SKIP, SKIP, SKIP}},
    {"excluded user whatever include_bot_prs says",
     {"renovate[bot]", BOT, 0, 0, 0, NULL, "main", {{0}}},
     {"renovate[bot]", NULL, NULL, 1},
     {NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, 0, 0, BW_PX_USER, 0,
      SKIP, SKIP, SKIP, SKIP, SKIP}},
    {"excluded label, before bot",
     {"dependabot[bot]", BOT, 0, 0, 0, "dependencies", "main", {{0}}},
     {NULL, "wip,dependencies", NULL, 0},
     {NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, 0, 0, BW_PX_LABEL, 1,
      SKIP, SKIP, SKIP, SKIP, SKIP}},
    {"excluded base (glob), before user",
     {"al", 0, 0, 0, 0, "bug", "release/2.1", {{0}}},
     {"al", "wip", "hotfix,release/*", 0},
     {NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, 0, 0, BW_PX_BASE, 1,
      SKIP, SKIP, SKIP, SKIP, SKIP}},
    {"label beats base",
     {"al", 0, 0, 0, 0, "wip", "release/2.1", {{0}}},
     {NULL, "wip", "release/*", 0},
     {NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, 0, 0, BW_PX_LABEL, 1,
      SKIP, SKIP, SKIP, SKIP, SKIP}},
    {"a base that does not match",
     {"al", 0, 0, 0, 0, "bug", "main", {{0}}},
     {NULL, "wip", "release/*", 0},
     {NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, NOCHK, 0, 0, BW_PX_NONE, 0,
      SKIP, SKIP, SKIP, SKIP, SKIP}},
    {"excluded PRs still get their durations",
     {"al", 0, 0, H(5), 0, "wip", "main", {{R, H(1), NT, AP, 0, "bo"}}},
     {NULL, "wip", NULL, 0},
     {H(0), H(0), H(1), H(1), H(1), H(1), H(1), 0, 0, BW_PX_LABEL, 1, 0.0, 1.0,
      4.0, 5.0, 1.0}},
};

/* "a,b" into l, pointing into buf (no allocation). */
static void split_list(const char *s, struct bw_strlist *l, char **store,
                       char *buf, size_t n)
{
    char *p = buf;

    l->v = store;
    l->n = 0;
    if (s == NULL) {
        return;
    }
    snprintf(buf, n, "%s", s);
    store[l->n++] = p;
    for (; *p; p++) {
        if (*p == ',') {
            *p = '\0';
            store[l->n++] = p + 1;
        }
    }
}

static void build_pr(const struct pr_spec *s, struct bw_pr *pr)
{
    bw_pr_init(pr);
    pr->repo = bw_strdup("acme/api");
    pr->number = 7;
    pr->author = bw_strdup(s->author);
    pr->author_flags = s->author_flags;
    pr->draft = s->draft;
    pr->open = s->merged_at == 0;
    pr->created_at = H(0);
    pr->updated_at = H(100);
    pr->merged_at = s->merged_at ? s->merged_at : NT;
    pr->closed_at = pr->merged_at;
    pr->commits = s->commits ? s->commits : -1;
    pr->additions = 300;
    pr->deletions = 120;
    pr->base = bw_strdup(s->base);
    if (s->label) {
        pr->labels.v = bw_calloc(1, sizeof(char *));
        pr->labels.v[0] = bw_strdup(s->label);
        pr->labels.n = 1;
    }
    for (int i = 0; i < MAXEV && s->ev[i].kind; i++) {
        struct bw_pr_event ev = {s->ev[i].t,
                                 s->ev[i].t2,
                                 (uint8_t)s->ev[i].kind,
                                 (uint8_t)s->ev[i].state,
                                 (uint8_t)s->ev[i].flags,
                                 (char *)s->ev[i].actor};

        assert_int_equal(bw_pr_add_event(pr, &ev), 0);
    }
}

static void check_time(const char *name, const char *what, int64_t want,
                       int64_t got)
{
    if (want == NOCHK) {
        return;
    }
    if (want != got) {
        print_error("%s: %s: want %lld, got %lld\n", name, what,
                    (long long)want, (long long)got);
        fail();
    }
}

static void check_hours(const char *name, const char *what, double want,
                        double got)
{
    if (want == SKIP) {
        return;
    }
    if (want == NAN_ ? !isnan(got) : (isnan(got) || fabs(want - got) > 1e-9)) {
        print_error("%s: %s: want %g, got %g\n", name, what, want, got);
        fail();
    }
}

static void run_case(const struct derive_case *c)
{
    char *store[3][8];
    char buf[3][128];
    struct bw_strlist users, labels, bases;
    struct bw_pr_rules rules;
    struct bw_pr_derived d;
    struct bw_pr pr;

    split_list(c->rules.exclude_users, &users, store[0], buf[0], 128);
    split_list(c->rules.exclude_labels, &labels, store[1], buf[1], 128);
    split_list(c->rules.exclude_base, &bases, store[2], buf[2], 128);
    rules.exclude_users = &users;
    rules.exclude_labels = &labels;
    rules.exclude_base = &bases;
    rules.include_bot_prs = c->rules.include_bot_prs;
    build_pr(&c->pr, &pr);
    assert_int_equal(bw_pr_derive(&pr, &rules, &d), 0);
    check_time(c->name, "opened_at", H(0), d.opened_at);
    check_time(c->name, "first_commit_at", c->w.first_commit_at,
               d.first_commit_at);
    check_time(c->name, "ready_at", c->w.ready_at, d.ready_at);
    check_time(c->name, "first_review_at", c->w.first_review_at,
               d.first_review_at);
    check_time(c->name, "first_response_at", c->w.first_response_at,
               d.first_response_at);
    check_time(c->name, "approved_at", c->w.approved_at, d.approved_at);
    check_time(c->name, "pickup_at", c->w.pickup_at, d.pickup_at);
    check_time(c->name, "response_at", c->w.response_at, d.response_at);
    check_time(c->name, "merged_at", pr.merged_at, d.merged_at);
    if (c->w.review_rounds != d.review_rounds ||
        c->w.truncated != d.commits_truncated ||
        c->w.reason != d.excluded_reason ||
        (c->w.reason != BW_PX_NONE) != (d.excluded != 0) ||
        c->w.rle != d.review_load_excluded || d.size != 420) {
        print_error("%s: rounds %ld/%ld truncated %d/%d reason %d/%d rle "
                    "%d/%d size %ld\n",
                    c->name, c->w.review_rounds, d.review_rounds,
                    c->w.truncated, d.commits_truncated, c->w.reason,
                    d.excluded_reason, c->w.rle, d.review_load_excluded,
                    d.size);
        fail();
    }
    check_hours(c->name, "coding_time", c->w.coding, d.coding_time);
    check_hours(c->name, "pickup_time", c->w.pickup, d.pickup_time);
    check_hours(c->name, "review_time", c->w.review, d.review_time);
    check_hours(c->name, "cycle_time", c->w.cycle, d.cycle_time);
    check_hours(c->name, "time_to_first_response", c->w.ttfr,
                d.time_to_first_response);
    bw_pr_release(&pr);
}

static void test_derive_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(&cases[i]);
    }
}

static void test_derive_order_independent(void **state)
{
    struct bw_pr pr, rev;
    struct bw_pr_derived a, b;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        build_pr(&cases[i].pr, &pr);
        bw_pr_init(&rev);
        rev.created_at = pr.created_at;
        rev.merged_at = pr.merged_at;
        rev.closed_at = pr.closed_at;
        rev.author = pr.author;
        rev.author_flags = pr.author_flags;
        rev.draft = pr.draft;
        rev.commits = pr.commits;
        rev.additions = pr.additions;
        rev.deletions = pr.deletions;
        for (size_t k = pr.nevents; k-- > 0;) {
            assert_int_equal(bw_pr_add_event(&rev, &pr.events[k]), 0);
        }
        assert_int_equal(bw_pr_derive(&pr, NULL, &a), 0);
        assert_int_equal(bw_pr_derive(&rev, NULL, &b), 0);
        assert_int_equal(a.first_commit_at, b.first_commit_at);
        assert_int_equal(a.first_review_at, b.first_review_at);
        assert_int_equal(a.first_response_at, b.first_response_at);
        assert_int_equal(a.pickup_at, b.pickup_at);
        assert_int_equal(a.response_at, b.response_at);
        assert_int_equal(a.review_rounds, b.review_rounds);
        /* ready_at: ties aside, the first draft event is found by time */
        assert_int_equal(a.ready_at, b.ready_at);
        rev.author = NULL;
        bw_pr_release(&rev);
        bw_pr_release(&pr);
    }
}

static void test_review_counts(void **state)
{
    char bo[] = "bo", al[] = "al";
    struct bw_pr_event ev = {H(1), NT, BW_PEV_COMMENT, 0, 0, bo};
    struct bw_pr pr;

    (void)state;
    bw_pr_init(&pr);
    pr.author = al;
    pr.created_at = H(0);
    assert_false(bw_pr_review_counts(&pr, NULL, &ev)); /* a comment */
    ev.kind = BW_PEV_REVIEW;
    ev.state = BW_RS_DISMISSED;
    assert_true(bw_pr_review_counts(&pr, NULL, &ev));
    ev.t = NT; /* a review without submitted_at (pending) */
    assert_false(bw_pr_review_counts(&pr, NULL, &ev));
    ev.t = H(1);
    ev.actor = al;
    assert_false(bw_pr_review_counts(&pr, NULL, &ev));
    ev.actor_flags = GHOST; /* a deleted user is never the author */
    assert_true(bw_pr_review_counts(&pr, NULL, &ev));
    pr.author = NULL;
}

/* ------------------------------------------------------------- packing */

static void fill_pack_pr(struct bw_pr *pr)
{
    static const struct bw_pr_event evs[] = {
        {1790000000, 1789990000, BW_PEV_COMMIT, 0, 0, NULL},
        {1790000100, NT, BW_PEV_REVIEW, BW_RS_APPROVED, 0, (char *)"bo"},
        {1789000000, NT, BW_PEV_COMMENT, 0, BW_ACTOR_BOT, (char *)"ci[bot]"},
        {NT, NT, BW_PEV_REVIEW, BW_RS_PENDING, BW_ACTOR_GHOST, NULL},
        {INT64_MAX, INT64_MIN + 1, BW_PEV_READY, 0, 0, (char *)""},
        {0, 0, BW_PEV_DRAFT, 0, 0, (char *)"has space\nnewline%pct\x7f\x01"},
        {-5, 7, BW_PEV_CLOSED, 255, 255, (char *)"\xc3\xa9t\xc3\xa9"},
        {1790000200, NT, BW_PEV_REOPENED, 0, 0, (char *)"x"},
        {1790000300, NT, BW_PEV_MERGED, 0, 0, (char *)"merger"},
        {1790000300, NT, BW_PEV_REVIEW_REQUESTED, 0, 0, (char *)"y"},
    };

    bw_pr_init(pr);
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        assert_int_equal(bw_pr_add_event(pr, &evs[i]), 0);
    }
}

static void assert_same_events(const struct bw_pr *a, const struct bw_pr *b)
{
    assert_int_equal(a->nevents, b->nevents);
    for (size_t i = 0; i < a->nevents; i++) {
        const struct bw_pr_event *x = &a->events[i], *y = &b->events[i];

        assert_true(x->t == y->t);
        assert_true(x->t2 == y->t2);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->state, y->state);
        assert_int_equal(x->actor_flags, y->actor_flags);
        if (x->actor == NULL || y->actor == NULL) {
            assert_null(x->actor);
            assert_null(y->actor);
        } else {
            assert_string_equal(x->actor, y->actor);
        }
    }
}

static void test_pack_roundtrip(void **state)
{
    struct bw_buf b = BW_BUF_INIT, b2 = BW_BUF_INIT;
    struct bw_pr pr, back;

    (void)state;
    fill_pack_pr(&pr);
    assert_int_equal(bw_pr_pack_events(&pr, &b), 0);
    assert_null(memchr(b.data, '\0', b.len));
    bw_pr_init(&back);
    assert_int_equal(bw_pr_unpack_events(&back, b.data, b.len), 0);
    assert_same_events(&pr, &back);
    /* the form is canonical: packing again gives the same text */
    assert_int_equal(bw_pr_pack_events(&back, &b2), 0);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    bw_buf_release(&b);
    bw_buf_release(&b2);
    bw_pr_release(&back);
    /* empty list */
    bw_pr_init(&back);
    assert_int_equal(bw_pr_pack_events(&back, &b), 0);
    assert_string_equal(b.data, "e1");
    assert_int_equal(bw_pr_unpack_events(&back, b.data, b.len), 0);
    assert_int_equal(back.nevents, 0);
    bw_buf_release(&b);
    bw_pr_release(&pr);
}

static void test_pack_compact(void **state)
{
    struct bw_buf b = BW_BUF_INIT;
    struct bw_pr pr;
    struct bw_pr_event c = {1790000000, 1790000000, BW_PEV_COMMIT, 0, 0, NULL};
    struct bw_pr_event r = {1790003600,     NT, BW_PEV_REVIEW,
                            BW_RS_APPROVED, 0,  (char *)"bob"};

    (void)state;
    bw_pr_init(&pr);
    assert_int_equal(bw_pr_add_event(&pr, &c), 0);
    assert_int_equal(bw_pr_add_event(&pr, &r), 0);
    assert_int_equal(bw_pr_pack_events(&pr, &b), 0);
    assert_string_equal(b.data, "e1\nc1790000000:0\nr3600/1 bob");
    bw_buf_release(&b);
    bw_pr_release(&pr);
}

static void test_unpack_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "e2",
        "e1\n",
        "e1\nz5",
        "e1\nc",
        "e1\nc-",
        "e1\nc5x",
        "e1\nc5:",
        "e1\nc5/",
        "e1\nc5/256",
        "e1\nc5!-1",
        "e1\nc9223372036854775808",
        "e1\nc-9223372036854775809",
        "e1\nc5 a%",
        "e1\nc5 a%4",
        "e1\nc5 a%4g",
        "e1\nc5 a%00",
        "e1\nc5 a%4a",
        "e1x",
        "e1\nc5\n",
        "e1\nc5\n\nc6",
        "e1\nc+5",
        "e1\nc 5",
        "e1\nc5/1!1:3",
    };
    const char *s;
    struct bw_pr pr;
    struct bw_pr_event keep = {1, NT, BW_PEV_MERGED, 0, 0, (char *)"keep"};

    (void)state;
    bw_pr_init(&pr);
    assert_int_equal(bw_pr_add_event(&pr, &keep), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = bw_pr_unpack_events(&pr, bad[i], strlen(bad[i]));

        if (rc != BW_EPARSE) {
            print_error("'%s' unpacked (rc %d)\n", bad[i], rc);
            fail();
        }
        assert_int_equal(pr.nevents, 1); /* left as it was */
    }
    /* good edge cases */
    s = "e1\nc-9223372036854775808";
    assert_int_equal(bw_pr_unpack_events(&pr, s, strlen(s)), 0);
    assert_true(pr.events[1].t == INT64_MIN);
    s = "e1\nm0 a%20b%25";
    assert_int_equal(bw_pr_unpack_events(&pr, s, strlen(s)), 0);
    assert_string_equal(pr.events[2].actor, "a b%");
    bw_pr_release(&pr);
}

static void test_pack_torture(void **state)
{
    struct bw_pr pr, back;
    struct bw_buf b = BW_BUF_INIT, ref = BW_BUF_INIT;
    long n;

    (void)state;
    fill_pack_pr(&pr);
    assert_int_equal(bw_pr_pack_events(&pr, &ref), 0);
    for (n = 1; n < 200; n++) {
        int rc;

        bw_buf_release(&b);
        bw_mem_fail_at(n, 0);
        rc = bw_pr_pack_events(&pr, &b);
        bw_mem_fail_at(0, 0);
        if (rc == 0) {
            assert_string_equal(b.data, ref.data);
            break;
        }
        assert_int_equal(rc, BW_ENOMEM);
    }
    assert_true(n < 200);
    for (n = 1; n < 400; n++) {
        int rc;

        bw_pr_init(&back);
        bw_mem_fail_at(n, 0);
        rc = bw_pr_unpack_events(&back, ref.data, ref.len);
        bw_mem_fail_at(0, 0);
        if (rc == 0) {
            assert_same_events(&pr, &back);
            bw_pr_release(&back);
            break;
        }
        assert_int_equal(rc, BW_ENOMEM);
        assert_int_equal(back.nevents, 0);
        bw_pr_release(&back);
    }
    assert_true(n < 400);
    bw_buf_release(&b);
    bw_buf_release(&ref);
    bw_pr_release(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_table),
        cmocka_unit_test(test_derive_order_independent),
        cmocka_unit_test(test_review_counts),
        cmocka_unit_test(test_pack_roundtrip),
        cmocka_unit_test(test_pack_compact),
        cmocka_unit_test(test_unpack_bad),
        cmocka_unit_test(test_pack_torture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
