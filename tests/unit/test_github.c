/*
 * test_github.c - the GitHub page parsers (bw_gh_parse_*) on pages saved
 * from the simulator (tests/fixtures/github, see regen.sh there), checked
 * field by field against the simulator's /__truth, on the real recordings
 * in ../shared/api-samples/github when present, on malformed pages, and
 * under allocation failure; then the walk itself against a canned server
 * (cannedsrv.h) that pages in loops, and the progress estimate of a
 * backfill.
 */
#include "testutil.h"

#include <math.h>

#include <cJSON.h>

#include "cannedsrv.h"

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/github.h"
#include "bellwether/http.h"
#include "bellwether/mem.h"
#include "bellwether/pr.h"

#define FIX "tests/fixtures/github/"

static const long fixture_prs[] = {5, 6, 7, 8, 22, 36};

/* ------------------------------------------------------------- helpers */

static char *load(const char *path, size_t *len)
{
    char *data = bw_test_read_file(path, len);

    if (data == NULL) {
        print_error("cannot read '%s' (run from the repository root)\n", path);
        fail();
    }
    return data;
}

static void parse_file(int (*fn)(const char *, size_t, struct bw_pr *),
                       const char *path, struct bw_pr *pr)
{
    size_t len = 0;
    char *data = load(path, &len);
    int rc = fn(data, len, pr);

    if (rc != 0) {
        print_error("%s: rc %d\n", path, rc);
        fail();
    }
    free(data);
}

/* A simulator PR: the single PR and its timeline. */
static void load_fixture_pr(long n, struct bw_pr *pr)
{
    char path[256];

    bw_pr_init(pr);
    pr->repo = bw_strdup("acme/api");
    snprintf(path, sizeof(path), FIX "pull.%ld.json", n);
    parse_file(bw_gh_parse_pull, path, pr);
    snprintf(path, sizeof(path), FIX "timeline.%ld.json", n);
    parse_file(bw_gh_parse_timeline, path, pr);
}

static int64_t truth_time(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (v == NULL) {
        print_error("truth has no '%s'\n", key);
        fail();
    }
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : BW_NOTIME;
}

static void expect_time(const char *pr, const cJSON *t, const char *key,
                        int64_t got)
{
    int64_t want = truth_time(t, key);

    if (want != got) {
        print_error("%s %s: truth %lld, derived %lld\n", pr, key,
                    (long long)want, (long long)got);
        fail();
    }
}

static void expect_hours(const char *pr, const cJSON *t, const char *key,
                         double got)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, key);
    int ok = cJSON_IsNumber(v)
                 ? !isnan(got) && fabs(v->valuedouble - got) <= 1e-6
                 : isnan(got);

    if (!ok) {
        print_error("%s %s: truth %g, derived %g\n", pr, key,
                    cJSON_IsNumber(v) ? v->valuedouble : NAN, got);
        fail();
    }
}

static void expect_bool(const char *pr, const cJSON *t, const char *key,
                        int got)
{
    int want = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, key));

    if (want != (got != 0)) {
        print_error("%s %s: truth %d, derived %d\n", pr, key, want, got);
        fail();
    }
}

static void expect_long(const char *pr, const cJSON *t, const char *key,
                        long got)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, key);

    if (!cJSON_IsNumber(v) || (long)v->valuedouble != got) {
        print_error("%s %s: truth %g, got %ld\n", pr, key,
                    cJSON_IsNumber(v) ? v->valuedouble : NAN, got);
        fail();
    }
}

static void expect_str(const char *pr, const cJSON *t, const char *key,
                       const char *got)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, key);
    const char *want = cJSON_IsString(v) ? v->valuestring : NULL;

    if ((want == NULL) != (got == NULL) ||
        (want != NULL && strcmp(want, got) != 0)) {
        print_error("%s %s: truth '%s', got '%s'\n", pr, key,
                    want ? want : "(null)", got ? got : "(null)");
        fail();
    }
}

static const char *reason_name(int r)
{
    static const char *const names[] = {NULL, "bot", "user", "label", "base"};

    return r >= 0 && r <= BW_PX_BASE ? names[r] : "?";
}

/* The PR's own fields as the simulator says. */
static void expect_fields(const char *key, const cJSON *t,
                          const struct bw_pr *pr)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(t, "labels");
    const cJSON *lab;
    size_t i = 0;

    expect_str(key, t, "author", pr->author);
    expect_str(key, t, "base", pr->base);
    expect_str(key, t, "url", pr->url);
    expect_str(key, t, "title", pr->title);
    expect_long(key, t, "number", pr->number);
    expect_bool(key, t, "draft", pr->draft);
    expect_bool(key, t, "is_bot", pr->author_flags & BW_ACTOR_BOT);
    expect_str(key, t, "state", pr->open ? "open" : "closed");
    expect_time(key, t, "created_at", pr->created_at);
    expect_time(key, t, "updated_at", pr->updated_at);
    expect_time(key, t, "closed_at", pr->closed_at);
    expect_time(key, t, "merged_at", pr->merged_at);
    expect_long(key, t, "additions", pr->additions);
    expect_long(key, t, "deletions", pr->deletions);
    expect_long(key, t, "commits", pr->commits);
    cJSON_ArrayForEach(lab, labels)
    {
        assert_true(i < pr->labels.n);
        assert_string_equal(lab->valuestring, pr->labels.v[i]);
        i++;
    }
    assert_int_equal(i, pr->labels.n);
}

/* Every derived field of METRICS.md, as /__truth has it. */
static void expect_derived(const char *key, const cJSON *t,
                           const struct bw_pr_derived *d)
{
    expect_time(key, t, "opened_at", d->opened_at);
    expect_time(key, t, "first_commit_at", d->first_commit_at);
    expect_bool(key, t, "commits_truncated", d->commits_truncated);
    expect_time(key, t, "ready_at", d->ready_at);
    expect_time(key, t, "first_review_at", d->first_review_at);
    expect_time(key, t, "first_response_at", d->first_response_at);
    expect_time(key, t, "approved_at", d->approved_at);
    expect_time(key, t, "merged_at", d->merged_at);
    expect_time(key, t, "closed_at", d->closed_at);
    expect_time(key, t, "pickup_at", d->pickup_at);
    expect_time(key, t, "response_at", d->response_at);
    expect_long(key, t, "size", d->size);
    expect_long(key, t, "review_rounds", d->review_rounds);
    expect_bool(key, t, "excluded", d->excluded);
    expect_str(key, t, "excluded_reason", reason_name(d->excluded_reason));
    expect_bool(key, t, "review_load_excluded", d->review_load_excluded);
    expect_hours(key, t, "coding_time", d->coding_time);
    expect_hours(key, t, "pickup_time", d->pickup_time);
    expect_hours(key, t, "review_time", d->review_time);
    expect_hours(key, t, "cycle_time", d->cycle_time);
    expect_hours(key, t, "time_to_first_response", d->time_to_first_response);
}

/* The counted reviews, in time order, as /__truth lists them. */
static void expect_counted(const char *key, const cJSON *t,
                           const struct bw_pr *pr,
                           const struct bw_pr_rules *rules)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(t, "counted_reviews");
    int n = 0, want = cJSON_GetArraySize(list);

    for (size_t i = 0; i < pr->nevents; i++) {
        const struct bw_pr_event *ev = &pr->events[i];
        const cJSON *cr;

        if (!bw_pr_review_counts(pr, rules, ev)) {
            continue;
        }
        cr = cJSON_GetArrayItem(list, n++);
        if (cr == NULL) {
            print_error("%s: more counted reviews than the truth's %d\n", key,
                        want);
            fail();
        }
        expect_time(key, cr, "submitted_at", ev->t);
        expect_str(key, cr, "reviewer", ev->actor);
    }
    assert_int_equal(n, want);
}

static void split(const char *s, struct bw_strlist *l)
{
    const char *p = s;

    memset(l, 0, sizeof(*l));
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *item = bw_strndup(p, n);

        assert_non_null(item);
        assert_int_equal(bw_strlist_add(l, item), 0);
        bw_free(item);
        p = e ? e + 1 : NULL;
    }
}

static void check_truth(const char *truth_file, const char *users,
                        const char *labels, const char *bases, int bots)
{
    struct bw_strlist u, l, b;
    struct bw_pr_rules rules;
    size_t len;
    char *data = load(truth_file, &len);
    cJSON *root = cJSON_ParseWithLength(data, len);
    const cJSON *prs = cJSON_GetObjectItemCaseSensitive(root, "prs");

    assert_non_null(prs);
    split(users, &u);
    split(labels, &l);
    split(bases, &b);
    rules.exclude_users = &u;
    rules.exclude_labels = &l;
    rules.exclude_base = &b;
    rules.include_bot_prs = bots;
    for (size_t i = 0; i < sizeof(fixture_prs) / sizeof(*fixture_prs); i++) {
        char key[64];
        const cJSON *t;
        struct bw_pr pr;
        struct bw_pr_derived d;

        snprintf(key, sizeof(key), "acme/api#%ld", fixture_prs[i]);
        t = cJSON_GetObjectItemCaseSensitive(prs, key);
        assert_non_null(t);
        load_fixture_pr(fixture_prs[i], &pr);
        expect_fields(key, t, &pr);
        assert_int_equal(bw_pr_derive(&pr, &rules, &d), 0);
        expect_derived(key, t, &d);
        expect_counted(key, t, &pr, &rules);
        bw_pr_release(&pr);
    }
    bw_strlist_release(&u);
    bw_strlist_release(&l);
    bw_strlist_release(&b);
    cJSON_Delete(root);
    free(data);
}

/* ------------------------------------------------------ simulator pages */

static void test_fixtures_match_truth(void **state)
{
    (void)state;
    check_truth(FIX "truth.json", NULL, NULL, NULL, 0);
}

static void test_fixtures_match_truth_alt(void **state)
{
    (void)state;
    /* the rules regen.sh passed to /__truth for truth-alt.json */
    check_truth(FIX "truth-alt.json", "carol,ghost", "good first issue",
                "release/*", 1);
}

static void test_timeline_pages_append(void **state)
{
    struct bw_pr whole, paged;
    char path[128];

    (void)state;
    bw_pr_init(&whole);
    bw_pr_init(&paged);
    parse_file(bw_gh_parse_timeline, FIX "timeline.5.json", &whole);
    for (int p = 1; p < 10; p++) {
        FILE *f;

        snprintf(path, sizeof(path), FIX "timeline.5.page%d.json", p);
        if ((f = fopen(path, "r")) == NULL) {
            assert_true(p > 2); /* several pages, then no more */
            break;
        }
        fclose(f);
        parse_file(bw_gh_parse_timeline, path, &paged);
    }
    assert_true(whole.nevents > 5);
    assert_int_equal(whole.nevents, paged.nevents);
    for (size_t i = 0; i < whole.nevents; i++) {
        assert_true(whole.events[i].t == paged.events[i].t);
        assert_int_equal(whole.events[i].kind, paged.events[i].kind);
    }
    bw_pr_release(&whole);
    bw_pr_release(&paged);
}

struct list_seen {
    long numbers[128];
    int64_t updated[128];
    int open[128], draft[128], bots;
    size_t n;
    int stop_at; /* return 7 at this item (1-based), 0: never */
};

static int on_pull_item(void *arg, const struct bw_pr *pr)
{
    struct list_seen *s = arg;

    if (s->n >= 128) {
        return BW_EPARSE;
    }
    s->numbers[s->n] = pr->number;
    s->updated[s->n] = pr->updated_at;
    s->open[s->n] = pr->open;
    s->draft[s->n] = pr->draft;
    s->bots += (pr->author_flags & BW_ACTOR_BOT) != 0;
    assert_int_equal(pr->nevents, 0);
    assert_true(pr->created_at != BW_NOTIME);
    s->n++;
    return s->stop_at && (int)s->n == s->stop_at ? 7 : 0;
}

static void test_pulls_list(void **state)
{
    struct list_seen s;
    size_t len;
    char *data = load(FIX "pulls.page1.json", &len);

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(bw_gh_parse_pulls(data, len, on_pull_item, &s), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.numbers[0], 36);
    assert_true(s.open[0] && s.draft[0]);
    for (size_t i = 1; i < s.n; i++) {
        assert_true(s.updated[i - 1] >= s.updated[i]); /* newest first */
    }
    memset(&s, 0, sizeof(s));
    s.stop_at = 2; /* a nonzero callback return stops the parse */
    assert_int_equal(bw_gh_parse_pulls(data, len, on_pull_item, &s), 7);
    assert_int_equal(s.n, 2);
    free(data);
}

static void test_org_repos(void **state)
{
    struct bw_strlist l = {NULL, 0};
    size_t len;
    char *data = load(FIX "repos.json", &len);

    (void)state;
    assert_int_equal(bw_gh_parse_repos(data, len, &l), 0);
    assert_int_equal(l.n, 1); /* acme/legacy is archived */
    assert_string_equal(l.v[0], "acme/api");
    bw_strlist_release(&l);
    free(data);
}

static void test_fixture_pack_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fixture_prs) / sizeof(*fixture_prs); i++) {
        struct bw_buf b = BW_BUF_INIT;
        struct bw_pr pr, back;
        struct bw_pr_derived d1, d2;

        load_fixture_pr(fixture_prs[i], &pr);
        assert_int_equal(bw_pr_pack_events(&pr, &b), 0);
        bw_pr_init(&back);
        back.created_at = pr.created_at;
        back.merged_at = pr.merged_at;
        back.closed_at = pr.closed_at;
        back.draft = pr.draft;
        back.commits = pr.commits;
        back.author = bw_strdup(pr.author);
        back.author_flags = pr.author_flags;
        back.additions = pr.additions;
        back.deletions = pr.deletions;
        assert_int_equal(bw_pr_unpack_events(&back, b.data, b.len), 0);
        assert_int_equal(back.nevents, pr.nevents);
        assert_int_equal(bw_pr_derive(&pr, NULL, &d1), 0);
        assert_int_equal(bw_pr_derive(&back, NULL, &d2), 0);
        assert_true(d1.first_response_at == d2.first_response_at);
        assert_true(d1.ready_at == d2.ready_at);
        assert_true(d1.first_commit_at == d2.first_commit_at);
        /* packed text stays small: a few bytes per event */
        assert_true(b.len < 40 * pr.nevents + 8);
        bw_buf_release(&b);
        bw_pr_release(&back);
        bw_pr_release(&pr);
    }
}

/* --------------------------------------------------- real recordings */

static char *sample(const char *name, size_t *len)
{
    char path[4096];
    const char *dir = bw_test_shared_dir();

    snprintf(path, sizeof(path), "%s/api-samples/github/%s", dir, name);
    return load(path, len);
}

static int64_t iso(const char *s)
{
    int64_t t = 0;

    assert_int_equal(bw_parse_iso8601(s, strlen(s), &t), 0);
    return t;
}

static void test_samples_pulls_lists(void **state)
{
    static const struct {
        const char *file;
        size_t n;
        long first;
        int drafts;
    } lists[] = {
        {"pulls-list.page1.json", 20, 234, 0},
        {"pulls-list.devlake-ants.json", 20, 4, 0},
        {"pulls-list.sort-created-desc.json", 11, 1033, 1},
        {"pulls-list.sort-updated-asc.json", 3, 182, 0},
    };

    (void)state;
    if (bw_test_shared_dir() == NULL) {
        skip();
    }
    for (size_t i = 0; i < sizeof(lists) / sizeof(*lists); i++) {
        struct list_seen s;
        size_t len;
        char *data = sample(lists[i].file, &len);
        int drafts = 0;

        memset(&s, 0, sizeof(s));
        assert_int_equal(bw_gh_parse_pulls(data, len, on_pull_item, &s), 0);
        assert_int_equal(s.n, lists[i].n);
        assert_int_equal(s.numbers[0], lists[i].first);
        for (size_t k = 0; k < s.n; k++) {
            drafts += s.draft[k];
        }
        assert_int_equal(drafts, lists[i].drafts);
        free(data);
    }
}

static int first_list_pr(void *arg, const struct bw_pr *pr)
{
    struct bw_pr *out = arg;

    if (out->number != 0) {
        return 0;
    }
    out->number = pr->number;
    out->created_at = pr->created_at;
    out->updated_at = pr->updated_at;
    out->closed_at = pr->closed_at;
    out->merged_at = pr->merged_at;
    out->open = pr->open;
    out->author = bw_strdup(pr->author);
    out->base = bw_strdup(pr->base);
    if (pr->labels.n) {
        out->title = bw_strdup(pr->labels.v[0]); /* the first label */
    }
    return 0;
}

static void test_samples_list_fields(void **state)
{
    struct bw_pr pr;
    size_t len;
    char *data;

    (void)state;
    if (bw_test_shared_dir() == NULL) {
        skip();
    }
    data = sample("pulls-list.devlake-ants.json", &len);
    bw_pr_init(&pr);
    pr.number = 0;
    assert_int_equal(bw_gh_parse_pulls(data, len, first_list_pr, &pr), 0);
    assert_int_equal(pr.number, 4);
    assert_false(pr.open);
    assert_true(pr.created_at == 1532506770);
    assert_true(pr.updated_at == 1535515906);
    assert_true(pr.merged_at == 1532572361);
    assert_true(pr.closed_at == 1532572361);
    assert_string_equal(pr.author, "barryz");
    assert_string_equal(pr.base, "master");
    assert_string_equal(pr.title, "enhancement");
    bw_pr_release(&pr);
    free(data);
}

static void test_samples_pull(void **state)
{
    static const struct {
        const char *file;
        long number, add, del, commits;
        int open, draft;
        const char *author, *base, *merged;
    } pulls[] = {
        {"pull.json", 486, 3, 2, 3, 1, 0, "Anonycoders", "main", NULL},
        {"pull.created-as-draft.json", 486, 3, 2, 3, 1, 1, "Anonycoders",
         "main", NULL},
        {"pull.draft.json", 321, 2, 1, 2, 1, 1, "bitwiseman", "main", NULL},
        {"pull.pygithub-31.json", 31, 511, 384, 3, 0, 0, "jacquev6",
         "topic/RewriteWithGeneratedCode", "2012-05-27T10:29:07Z"},
    };

    (void)state;
    if (bw_test_shared_dir() == NULL) {
        skip();
    }
    for (size_t i = 0; i < sizeof(pulls) / sizeof(*pulls); i++) {
        struct bw_pr pr;
        size_t len;
        char *data = sample(pulls[i].file, &len);

        bw_pr_init(&pr);
        assert_int_equal(bw_gh_parse_pull(data, len, &pr), 0);
        assert_int_equal(pr.number, pulls[i].number);
        assert_int_equal(pr.additions, pulls[i].add);
        assert_int_equal(pr.deletions, pulls[i].del);
        assert_int_equal(pr.commits, pulls[i].commits);
        assert_int_equal(pr.open, pulls[i].open);
        assert_int_equal(pr.draft, pulls[i].draft);
        assert_string_equal(pr.author, pulls[i].author);
        assert_string_equal(pr.base, pulls[i].base);
        assert_int_equal(pr.author_flags, 0);
        assert_true(pr.merged_at ==
                    (pulls[i].merged ? iso(pulls[i].merged) : BW_NOTIME));
        bw_pr_release(&pr);
        free(data);
    }
}

/* PyGithub PR #31: the single PR, its timeline and its commit list. */
static void test_samples_pr31(void **state)
{
    static const int kinds[] = {BW_PEV_COMMIT, BW_PEV_COMMIT, BW_PEV_COMMIT,
                                BW_PEV_MERGED, BW_PEV_CLOSED, BW_PEV_COMMENT,
                                BW_PEV_REVIEW, BW_PEV_REVIEW};
    struct bw_pr pr, commits;
    struct bw_pr_derived d;
    size_t len;
    char *data;

    (void)state;
    if (bw_test_shared_dir() == NULL) {
        skip();
    }
    bw_pr_init(&pr);
    data = sample("pull.pygithub-31.json", &len);
    assert_int_equal(bw_gh_parse_pull(data, len, &pr), 0);
    free(data);
    data = sample("issue-timeline.json", &len);
    assert_int_equal(bw_gh_parse_timeline(data, len, &pr), 0);
    free(data);
    assert_int_equal(pr.nevents, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(pr.events[i].kind, kinds[i]);
    }
    /* committed: no actor, dates inside; reviewed: user + submitted_at,
       lower-case state */
    assert_null(pr.events[0].actor);
    assert_int_equal(pr.events[0].actor_flags, 0);
    assert_true(pr.events[0].t2 == iso("2012-05-27T07:33:23Z"));
    assert_string_equal(pr.events[5].actor, "jacquev6");
    assert_string_equal(pr.events[6].actor, "sfdye");
    assert_int_equal(pr.events[6].state, BW_RS_COMMENTED);
    assert_true(pr.events[6].t == iso("2018-03-21T12:34:59Z"));
    assert_int_equal(bw_pr_derive(&pr, NULL, &d), 0);
    assert_true(d.first_commit_at == iso("2012-05-27T07:33:23Z"));
    assert_false(d.commits_truncated);
    /* the reviews came years after the merge; the comment is the
       author's own: nothing counts */
    assert_true(d.first_review_at == BW_NOTIME);
    assert_true(d.first_response_at == BW_NOTIME);
    assert_true(isnan(d.pickup_time));
    assert_true(fabs(d.cycle_time -
                     (10 * 3600 + 29 * 60 + 7 - (7 * 3600 + 33 * 60 + 23)) /
                         3600.0) < 1e-9);
    /* the commit list, with -07:00 offsets, gives the same minimum */
    bw_pr_init(&commits);
    data = sample("pull-commits.pygithub-31.json", &len);
    assert_int_equal(bw_gh_parse_commits(data, len, &commits), 0);
    free(data);
    assert_int_equal(commits.nevents, 3);
    assert_string_equal(commits.events[0].actor, "jacquev6");
    assert_int_equal(bw_pr_derive(&commits, NULL, &d), 0);
    assert_true(d.first_commit_at == iso("2012-05-27T07:33:23Z"));
    bw_pr_release(&commits);
    bw_pr_release(&pr);
}

static void test_samples_timeline_issue28(void **state)
{
    struct bw_pr pr;
    size_t len;
    char *data;

    (void)state;
    if (bw_test_shared_dir() == NULL) {
        skip();
    }
    bw_pr_init(&pr);
    data = sample("issue-timeline.issue28.json", &len);
    assert_int_equal(bw_gh_parse_timeline(data, len, &pr), 0);
    free(data);
    assert_int_equal(pr.nevents, 4);
    assert_int_equal(pr.events[0].kind, BW_PEV_CLOSED);
    assert_int_equal(pr.events[3].kind, BW_PEV_COMMENT);
    assert_string_equal(pr.events[3].actor, "allevin");
    bw_pr_release(&pr);
}

static void test_samples_reviews(void **state)
{
    static const struct {
        const char *file;
        size_t n;
        int first_state;
        long approved, changes, ghosts;
        const char *min_submitted;
    } reviews[] = {
        {"pull-reviews.json", 5, BW_RS_APPROVED, 1, 0, 0,
         "2017-03-22T19:06:59Z"},
        {"pull-reviews.pending.json", 1, BW_RS_PENDING, 0, 0, 0, NULL},
        {"pull-reviews.devlake-ants-pr53.json", 15, BW_RS_CHANGES_REQUESTED, 0,
         3, 0, NULL},
        {"pull-reviews.github3-671.json", 5, BW_RS_COMMENTED, 0, 0, 0, NULL},
        {"pull-reviews.perceval.json", 2, BW_RS_APPROVED, 2, 0, 1, NULL},
        {"pull-reviews.approved.json", 1, BW_RS_APPROVED, 1, 0, 0, NULL},
        {"pull-review.dismissed.json", 1, BW_RS_DISMISSED, 0, 0, 0,
         "2017-03-22T19:06:59Z"},
        {"pull-review.submitted.json", 1, BW_RS_COMMENTED, 0, 0, 0, NULL},
    };

    (void)state;
    if (bw_test_shared_dir() == NULL) {
        skip();
    }
    for (size_t i = 0; i < sizeof(reviews) / sizeof(*reviews); i++) {
        struct bw_pr pr;
        size_t len;
        char *data = sample(reviews[i].file, &len);
        long ap = 0, cr = 0, gh = 0;
        int64_t min = BW_NOTIME;

        bw_pr_init(&pr);
        assert_int_equal(bw_gh_parse_reviews(data, len, &pr), 0);
        assert_int_equal(pr.nevents, reviews[i].n);
        assert_int_equal(pr.events[0].state, reviews[i].first_state);
        for (size_t k = 0; k < pr.nevents; k++) {
            ap += pr.events[k].state == BW_RS_APPROVED;
            cr += pr.events[k].state == BW_RS_CHANGES_REQUESTED;
            gh += (pr.events[k].actor_flags & BW_ACTOR_GHOST) != 0;
            if (pr.events[k].t != BW_NOTIME &&
                (min == BW_NOTIME || pr.events[k].t < min)) {
                min = pr.events[k].t;
            }
        }
        assert_int_equal(ap, reviews[i].approved);
        assert_int_equal(cr, reviews[i].changes);
        assert_int_equal(gh, reviews[i].ghosts);
        if (reviews[i].min_submitted) {
            assert_true(min == iso(reviews[i].min_submitted));
        }
        if (reviews[i].first_state == BW_RS_PENDING) {
            assert_true(pr.events[0].t == BW_NOTIME); /* no submitted_at */
        }
        bw_pr_release(&pr);
        free(data);
    }
}

static void test_samples_commits(void **state)
{
    static const struct {
        const char *file;
        size_t n;
        int64_t min_author, min_committer;
    } lists[] = {
        {"pull-commits.json", 3, 1567813117, 1567814929},
        {"pull-commits.pygithub-31.json", 3, 1338104003, 1338104003},
        /* not sorted: the earliest author date is the 7th element */
        {"pull-commits.devlake-ants-pr53.json", 16, 1570298560, 1570421259},
    };

    (void)state;
    if (bw_test_shared_dir() == NULL) {
        skip();
    }
    for (size_t i = 0; i < sizeof(lists) / sizeof(*lists); i++) {
        struct bw_pr pr;
        struct bw_pr_derived d;
        size_t len;
        char *data = sample(lists[i].file, &len);
        int64_t minc = BW_NOTIME;

        bw_pr_init(&pr);
        pr.created_at = 2000000000;
        assert_int_equal(bw_gh_parse_commits(data, len, &pr), 0);
        assert_int_equal(pr.nevents, lists[i].n);
        for (size_t k = 0; k < pr.nevents; k++) {
            if (minc == BW_NOTIME || pr.events[k].t < minc) {
                minc = pr.events[k].t;
            }
        }
        assert_int_equal(bw_pr_derive(&pr, NULL, &d), 0);
        assert_true(d.first_commit_at == lists[i].min_author);
        assert_true(minc == lists[i].min_committer);
        bw_pr_release(&pr);
        free(data);
    }
}

/* ------------------------------------------------------------ bad input */

static void test_bad_pages(void **state)
{
    static const struct {
        int which; /* 0 list, 1 pull, 2 timeline, 3 repos */
        const char *json;
    } bad[] = {
        {0, ""},
        {0, "{"},
        {0, "{}"},
        {0, "[1]"},
        {0, "[{\"number\":1}]"},
        {0, "[{\"number\":1,\"created_at\":\"2026-01-01T00:00:00Z\"}]"},
        {0, "[{\"number\":0,\"created_at\":\"2026-01-01T00:00:00Z\","
            "\"updated_at\":\"2026-01-01T00:00:00Z\"}]"},
        {0, "[{\"number\":1.5,\"created_at\":\"2026-01-01T00:00:00Z\","
            "\"updated_at\":\"2026-01-01T00:00:00Z\"}]"},
        {0, "[{\"number\":1,\"created_at\":\"yesterday\","
            "\"updated_at\":\"2026-01-01T00:00:00Z\"}]"},
        {0, "[{\"number\":1,\"created_at\":\"2026-01-01T00:00:00Z\","
            "\"updated_at\":\"2026-01-01T00:00:00Z\",\"user\":5}]"},
        {0, "[{\"number\":1,\"created_at\":\"2026-01-01T00:00:00Z\","
            "\"updated_at\":\"2026-01-01T00:00:00Z\",\"labels\":[{}]}]"},
        {1, "[]"},
        {1, "{\"number\":2,\"created_at\":\"2026-01-01T00:00:00Z\","
            "\"updated_at\":\"2026-01-01T00:00:00Z\",\"additions\":-1}"},
        {1, "{\"number\":2,\"created_at\":\"2026-01-01T00:00:00Z\","
            "\"updated_at\":\"2026-01-01T00:00:00Z\",\"merged_at\":7}"},
        {1, "{\"number\":2,\"created_at\":\"2026-01-01T00:00:00Z\","
            "\"updated_at\":\"2026-01-01T00:00:00Z\"} trailing"},
        {2, "{}"},
        {2, "[{\"event\":\"closed\",\"created_at\":\"2026-01-01T00:00:00Z\"},"
            "{\"event\":\"closed\",\"created_at\":\"nope\"}]"},
        {2, "[{\"event\":\"reviewed\",\"submitted_at\":\"2026-13-01T00:00:00Z\""
            "}]"},
        {2, "[{\"event\":\"committed\",\"author\":{\"date\":5}}]"},
        {2, "[3]"},
        {3, "[{\"name\":\"x\"}]"},
        {3, "[{\"full_name\":\"noslash\"}]"},
    };
    static const char good_ev[] =
        "[{\"event\":\"closed\",\"created_at\":\"2026-01-01T00:00:00Z\"}]";

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct list_seen s;
        struct bw_strlist l = {NULL, 0};
        struct bw_pr pr;
        size_t len = strlen(bad[i].json);
        int rc;

        memset(&s, 0, sizeof(s));
        bw_pr_init(&pr);
        /* what a failed page must leave alone */
        assert_int_equal(bw_gh_parse_timeline(good_ev, strlen(good_ev), &pr),
                         0);
        pr.number = 99;
        switch (bad[i].which) {
        case 0:
            rc = bw_gh_parse_pulls(bad[i].json, len, on_pull_item, &s);
            break;
        case 1:
            rc = bw_gh_parse_pull(bad[i].json, len, &pr);
            break;
        case 2:
            rc = bw_gh_parse_timeline(bad[i].json, len, &pr);
            break;
        default:
            rc = bw_gh_parse_repos(bad[i].json, len, &l);
            break;
        }
        if (rc != BW_EPARSE) {
            print_error("bad page %zu '%s' gave %d\n", i, bad[i].json, rc);
            fail();
        }
        assert_int_equal(pr.nevents, 1);
        assert_int_equal(pr.number, 99);
        assert_int_equal(l.n, 0);
        bw_strlist_release(&l);
        bw_pr_release(&pr);
    }
}

static void test_lenient_pages(void **state)
{
    /* shapes the API really sends: missing draft/labels keys (2013), null
       users (deleted), unknown timeline items, bot logins without type */
    static const char list[] =
        "[{\"number\":3,\"state\":\"closed\",\"created_at\":"
        "\"2012-05-27T00:33:23-07:00\",\"updated_at\":"
        "\"2012-05-27T07:33:24Z\",\"user\":null}]";
    static const char tl[] =
        "[{\"event\":\"subscribed\"},{\"event\":\"line-commented\"},"
        "{\"event\":\"commented\",\"user\":{\"login\":\"x[bot]\"},"
        "\"created_at\":\"2026-01-01T00:00:00Z\"},"
        "{\"event\":\"reviewed\",\"user\":{\"login\":\"ghost\",\"type\":"
        "\"User\"},\"state\":\"approved\",\"submitted_at\":null},"
        "{\"event\":\"ready_for_review\",\"actor\":null,\"created_at\":"
        "\"2026-01-02T00:00:00Z\"}]";
    struct list_seen s;
    struct bw_pr pr;

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(bw_gh_parse_pulls(list, strlen(list), on_pull_item, &s),
                     0);
    assert_int_equal(s.n, 1);
    assert_true(s.updated[0] == iso("2012-05-27T07:33:24Z"));
    assert_false(s.open[0]);
    assert_false(s.draft[0]);
    bw_pr_init(&pr);
    assert_int_equal(bw_gh_parse_timeline(tl, strlen(tl), &pr), 0);
    assert_int_equal(pr.nevents, 3);
    assert_int_equal(pr.events[0].actor_flags, BW_ACTOR_BOT);
    assert_int_equal(pr.events[1].actor_flags, BW_ACTOR_GHOST);
    assert_string_equal(pr.events[1].actor, "ghost");
    assert_true(pr.events[1].t == BW_NOTIME);
    assert_int_equal(pr.events[2].kind, BW_PEV_READY);
    assert_null(pr.events[2].actor);
    assert_int_equal(pr.events[2].actor_flags, BW_ACTOR_GHOST);
    bw_pr_release(&pr);
    assert_int_equal(bw_gh_actor_flags("dependabot[bot]", "Bot"), BW_ACTOR_BOT);
    assert_int_equal(bw_gh_actor_flags("renovate-bot", "User"), 0);
    assert_int_equal(bw_gh_actor_flags("app", "Bot"), BW_ACTOR_BOT);
    assert_int_equal(bw_gh_actor_flags(NULL, NULL), BW_ACTOR_GHOST);
}

/* ------------------------------------------------------------- torture */

static int count_items(void *arg, const struct bw_pr *pr)
{
    (void)pr;
    (*(int *)arg)++;
    return 0;
}

static void test_torture(void **state)
{
    static const char list[] =
        "[{\"number\":3,\"state\":\"open\",\"draft\":true,\"title\":\"t\","
        "\"html_url\":\"u\",\"created_at\":\"2026-01-01T00:00:00Z\","
        "\"updated_at\":\"2026-01-02T00:00:00Z\",\"user\":{\"login\":\"al\","
        "\"type\":\"User\"},\"base\":{\"ref\":\"main\"},\"labels\":[{\"name\":"
        "\"a\"},{\"name\":\"b\"}]},{\"number\":4,\"created_at\":"
        "\"2026-01-01T00:00:00Z\",\"updated_at\":\"2026-01-01T00:00:00Z\"}]";
    static const char tl[] =
        "[{\"event\":\"committed\",\"author\":{\"date\":"
        "\"2026-01-01T00:00:00Z\"},\"committer\":{\"date\":"
        "\"2026-01-01T01:00:00Z\"}},{\"event\":\"reviewed\",\"user\":"
        "{\"login\":\"bo\"},\"state\":\"changes_requested\",\"submitted_at\":"
        "\"2026-01-03T00:00:00Z\"},{\"event\":\"commented\",\"actor\":"
        "{\"login\":\"cy\"},\"created_at\":\"2026-01-03T00:00:00Z\"}]";
    static const char pull[] =
        "{\"number\":3,\"state\":\"closed\",\"title\":\"t\",\"created_at\":"
        "\"2026-01-01T00:00:00Z\",\"updated_at\":\"2026-01-02T00:00:00Z\","
        "\"merged_at\":\"2026-01-02T00:00:00Z\",\"user\":{\"login\":\"al\"},"
        "\"base\":{\"ref\":\"main\"},\"labels\":[{\"name\":\"a\"},{\"name\":"
        "\"b\"}],\"additions\":1,\"deletions\":2,\"commits\":1}";
    static const char repos[] =
        "[{\"full_name\":\"a/b\"},{\"full_name\":\"a/c\",\"archived\":true},"
        "{\"full_name\":\"a/d\"}]";
    long n, done = 0;

    (void)state;
    for (n = 1; n < 2000 && done != 0xf; n++) {
        struct bw_pr pr;
        struct bw_strlist l = {NULL, 0};
        int items = 0, rc;

        bw_pr_init(&pr);
        bw_mem_fail_at(n, 0);
        rc = bw_gh_parse_pulls(list, strlen(list), count_items, &items);
        if (rc == 0) {
            assert_int_equal(items, 2);
            done |= 1;
        }
        bw_mem_fail_at(n, 0);
        rc = bw_gh_parse_timeline(tl, strlen(tl), &pr);
        assert_true(rc == 0 ? pr.nevents == 3 : pr.nevents == 0);
        done |= rc == 0 ? 2 : 0;
        bw_mem_fail_at(n, 0);
        rc = bw_gh_parse_pull(pull, strlen(pull), &pr);
        if (rc == 0) {
            assert_int_equal(pr.number, 3);
            assert_int_equal(pr.labels.n, 2);
            assert_int_equal(pr.commits, 1);
            done |= 4;
        } else {
            assert_true(rc == BW_EPARSE || rc == BW_ENOMEM);
            assert_null(pr.title);
        }
        bw_mem_fail_at(n, 0);
        rc = bw_gh_parse_repos(repos, strlen(repos), &l);
        assert_true(rc == 0 ? l.n == 2 : l.n == 0);
        done |= rc == 0 ? 8 : 0;
        bw_mem_fail_at(0, 0);
        bw_strlist_release(&l);
        bw_pr_release(&pr);
    }
    assert_int_equal(done, 0xf);
}

/* ------------------------------------------ the walk, canned server */

/* What the collector wrote, through a sink that keeps counts only. */
struct fake {
    long emitted, commits, discards, meta_sets, etag_puts, cursor_sets;
};

static int f_get_none(void *ctx, const char *name, char *buf, size_t n)
{
    (void)ctx;
    (void)name;
    (void)n;
    buf[0] = '\0';
    return 0;
}

static int f_cursor_set(void *ctx, const char *scope, const char *value)
{
    (void)scope;
    (void)value;
    ((struct fake *)ctx)->cursor_sets++;
    return 0;
}

static int f_etag_put(void *ctx, const char *url, const char *etag)
{
    (void)url;
    (void)etag;
    ((struct fake *)ctx)->etag_puts++;
    return 0;
}

static int f_meta_set(void *ctx, const char *name, const char *value)
{
    (void)name;
    (void)value;
    ((struct fake *)ctx)->meta_sets++;
    return 0;
}

static int f_versions(void *ctx, const char *scope, const char *const *ids,
                      size_t n, char **versions)
{
    (void)ctx;
    (void)scope;
    (void)ids;
    for (size_t i = 0; i < n; i++) {
        versions[i] = NULL;
    }
    return 0;
}

static int f_emit(void *ctx, const struct bw_record *rec)
{
    assert_int_equal(rec->kind, BW_REC_PR);
    ((struct fake *)ctx)->emitted++;
    return 0;
}

static int f_commit(void *ctx)
{
    ((struct fake *)ctx)->commits++;
    return 0;
}

static void f_discard(void *ctx)
{
    ((struct fake *)ctx)->discards++;
}

static int f_stop(void *ctx)
{
    (void)ctx;
    return 0;
}

/* A 200 with body and, when link is not NULL, a Link header (@ in link
 * stands for the server's base URL). malloc'd. */
static char *gh_resp(const char *base, const char *link, const char *body)
{
    char hdr[1024] = "";
    size_t n = strlen(body) + 2048;
    char *s = malloc(n);

    assert_non_null(s);
    if (link != NULL) {
        size_t k = (size_t)snprintf(hdr, sizeof(hdr), "Link: ");

        for (; *link && k + strlen(base) + 8 < sizeof(hdr); link++) {
            k += (size_t)snprintf(hdr + k, sizeof(hdr) - k, "%s",
                                  *link == '@' ? base : (char[2]){*link, 0});
        }
        snprintf(hdr + k, sizeof(hdr) - k, "\r\n");
    }
    snprintf(s, n,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "%sContent-Length: %zu\r\n\r\n%s",
             hdr, strlen(body), body);
    return s;
}

/* A PR of a list page updated on day `day` of November 2026. */
#define LIST_PR(n, day)                                                        \
    "{\"number\":" n ",\"state\":\"open\",\"created_at\":\"2026-10-01T"        \
    "10:00:00Z\",\"updated_at\":\"2026-11-" day "T10:00:00Z\",\"user\":"       \
    "{\"login\":\"alice\"},\"title\":\"t\",\"base\":{\"ref\":\"main\"}}"
/* A PR of a list page last updated before `since` (2026-09-21). */
#define OLD_PR(n)                                                              \
    "{\"number\":" n ",\"state\":\"closed\",\"created_at\":\"2026-08-01T"      \
    "10:00:00Z\",\"updated_at\":\"2026-08-02T10:00:00Z\",\"user\":null}"
#define PULLS                                                                  \
    "/repos/acme/api/pulls?state=all&sort=updated&direction=desc"              \
    "&per_page=100"

/*
 * One backfill of acme/api (org: an organisation instead) from a server
 * that answers pages[i] = {Link header or NULL, body} in order, the last
 * one again and again: the collect's status, the sink's counts, the
 * requests answered and items_known.
 */
static int run_walk(const char *org, const char *const (*pages)[2], size_t np,
                    struct fake *f, long *served, long *known)
{
    const char *boot[] = {"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n",
                          NULL};
    char *resp[16];
    struct bw_canned srv;
    struct bw_github_opts o;
    struct bw_source_conf src;
    struct bw_http_opts ho;
    struct bw_sink sink;
    void *ctx = NULL;
    int rc;

    assert_true(np < 16);
    assert_int_equal(bw_canned_start(&srv, boot), 0);
    for (size_t i = 0; i < np; i++) {
        resp[i] = gh_resp(srv.base, pages[i][0], pages[i][1]);
    }
    resp[np] = NULL;
    bw_canned_script(&srv, (const char *const *)resp);
    memset(&o, 0, sizeof(o));
    assert_int_equal(bw_config_defaults(bw_collector_github.keys, &o), 0);
    bw_free(o.api_url);
    o.api_url = bw_strdup(srv.base);
    o.token = bw_strdup("tok");
    o.token_src.env = bw_strdup("GITHUB_TOKEN");
    if (org != NULL) {
        o.org = bw_strdup(org);
    } else {
        assert_int_equal(bw_strlist_add(&o.repos, "acme/api"), 0);
    }
    memset(&src, 0, sizeof(src));
    src.name = (char *)"gh";
    src.file = "test.ini";
    src.collector = &bw_collector_github;
    src.opts = &o;
    src.common.max_parallel = 1;
    src.common.since = -1;
    memset(&ho, 0, sizeof(ho));
    assert_int_equal(bw_collector_github.http_opts(&src, &ho), 0);
    ho.max_parallel = 1;
    ho.max_tries = 2;
    memset(&sink, 0, sizeof(sink));
    memset(f, 0, sizeof(*f));
    assert_int_equal(bw_http_new(&ho, &sink.http), 0);
    sink.ctx = f;
    sink.src = &src;
    sink.since = 1790000000; /* 2026-09-21 */
    sink.stats.items_known = -1;
    sink.cursor_get = f_get_none;
    sink.cursor_set = f_cursor_set;
    sink.item_versions = f_versions;
    sink.etag_get = f_get_none;
    sink.etag_put = f_etag_put;
    sink.emit = f_emit;
    sink.commit_page = f_commit;
    sink.discard_page = f_discard;
    sink.should_stop = f_stop;
    sink.meta_get = f_get_none;
    sink.meta_set = f_meta_set;
    assert_int_equal(bw_collector_github.init(&src, &ctx), 0);
    rc = bw_collector_github.collect(ctx, &sink);
    if (rc == BW_EHTTP) {
        /* one error line, and `status` shows it */
        assert_non_null(
            strstr(bw_http_last_error(sink.http), "stopped paging GET"));
    }
    bw_collector_github.free(ctx);
    *served = srv.served;
    *known = sink.stats.items_known;
    bw_canned_stop(&srv);
    for (size_t i = 0; i < np; i++) {
        free(resp[i]);
    }
    bw_http_free(sink.http);
    bw_config_opts_release(bw_collector_github.keys, &o);
    return rc;
}

static void test_walk_paging_loops(void **state)
{
    /* list pages 1 -> 2 -> 1 */
    static const char *const list_loop[][2] = {
        {"<@" PULLS "&page=2>; rel=\"next\"", "[]"},
        {"<@" PULLS ">; rel=\"next\"", "[]"}};
    /* a new next page each time, past BELLWETHER_MAX_PAGES */
    static const char *const list_many[][2] = {
        {"<@" PULLS "&page=2>; rel=\"next\"", "[]"},
        {"<@" PULLS "&page=3>; rel=\"next\"", "[]"},
        {"<@" PULLS "&page=4>; rel=\"next\"", "[]"}};
    /* one PR whose timeline's next page is itself */
    static const char *const tl_loop[][2] = {
        {NULL, "[" LIST_PR("5", "02") "]"},
        {"<@/repos/acme/api/issues/5/timeline?per_page=100>; rel=\"next\"",
         "[]"}};
    /* the organisation's repository pages 1 -> 2 -> 1 */
    static const char *const org_loop[][2] = {
        {"<@/orgs/acme/repos?per_page=100&page=2>; rel=\"next\"",
         "[{\"full_name\":\"acme/api\"}]"},
        {"<@/orgs/acme/repos?per_page=100>; rel=\"next\"",
         "[{\"full_name\":\"acme/web\"}]"}};
    struct fake f;
    long served = 0, known = 0;

    (void)state;
    assert_int_equal(run_walk(NULL, list_loop, 2, &f, &served, &known),
                     BW_EHTTP);
    assert_int_equal(served, 2);
    assert_int_equal(f.cursor_sets, 0); /* the mark stays */

    setenv("BELLWETHER_MAX_PAGES", "2", 1);
    assert_int_equal(run_walk(NULL, list_many, 3, &f, &served, &known),
                     BW_EHTTP);
    unsetenv("BELLWETHER_MAX_PAGES");
    assert_int_equal(served, 2);

    assert_int_equal(run_walk(NULL, tl_loop, 2, &f, &served, &known), BW_EHTTP);
    assert_int_equal(f.emitted, 0); /* the PR is not stored half */
    assert_int_equal(served, 2);
    assert_true(f.discards >= 1);

    assert_int_equal(run_walk("acme", org_loop, 2, &f, &served, &known),
                     BW_EHTTP);
    assert_int_equal(served, 2);
    assert_int_equal(f.meta_sets, 1); /* page 1's names, not page 2's */
    assert_int_equal(f.commits, 0);
}

static void test_walk_known(void **state)
{
    /* a backfill's first page says: 7 pages of 100 */
    static const char *const last7[][2] = {
        {"<@" PULLS "&page=2>; rel=\"next\", <@" PULLS "&page=7>; rel=\"last\"",
         "[]"},
        {NULL, "[]"}};
    /* one page, no links: its own count (both PRs older than since: the
       walk then lists the old open PRs, which adds nothing) */
    static const char *const one[][2] = {
        {NULL, "[" OLD_PR("5") "," OLD_PR("4") "]"}, {NULL, "[]"}};
    struct fake f;
    long served = 0, known = 0;

    (void)state;
    assert_int_equal(run_walk(NULL, last7, 2, &f, &served, &known), 0);
    assert_int_equal(known, 700);
    assert_int_equal(served, 2);
    assert_int_equal(f.cursor_sets, 0); /* no PR: no mark to set */

    assert_int_equal(run_walk(NULL, one, 2, &f, &served, &known), 0);
    assert_int_equal(known, 2);
    assert_int_equal(served, 2); /* the page, then the old open PRs */
    assert_int_equal(f.emitted, 0);
}

static int setup(void **state)
{
    (void)state;
    bw_mem_hook_cjson();
    if (bw_test_shared_dir() == NULL) {
        fprintf(stderr, "note: ../shared/api-samples is absent: the tests on "
                        "real GitHub recordings are skipped\n");
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_match_truth),
        cmocka_unit_test(test_fixtures_match_truth_alt),
        cmocka_unit_test(test_timeline_pages_append),
        cmocka_unit_test(test_pulls_list),
        cmocka_unit_test(test_org_repos),
        cmocka_unit_test(test_fixture_pack_roundtrip),
        cmocka_unit_test(test_samples_pulls_lists),
        cmocka_unit_test(test_samples_list_fields),
        cmocka_unit_test(test_samples_pull),
        cmocka_unit_test(test_samples_pr31),
        cmocka_unit_test(test_samples_timeline_issue28),
        cmocka_unit_test(test_samples_reviews),
        cmocka_unit_test(test_samples_commits),
        cmocka_unit_test(test_bad_pages),
        cmocka_unit_test(test_lenient_pages),
        cmocka_unit_test(test_torture),
        cmocka_unit_test(test_walk_paging_loops),
        cmocka_unit_test(test_walk_known),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
