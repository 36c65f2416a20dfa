/*
 * test_jira.c - the Jira page parsers (bw_jira_parse_*) on pages saved from
 * the simulator (tests/fixtures/jira, see regen.sh there): every ticket of
 * both flavours parsed, its cut changelog completed (bulkfetch pages, paged
 * changelogs, GET issue), derived with bw_ticket_derive() and checked field
 * by field against /__truth, with the default rules and another set; the
 * small parsers; the real recordings in ../shared/api-samples/jira when
 * present; malformed pages; allocation failures on small pages.
 */
#include "testutil.h"

#include <math.h>

#include "cannedsrv.h"

#include <cJSON.h>

#include "bellwether/config.h"
#include "bellwether/error.h"
#include "bellwether/http.h"
#include "bellwether/jira.h"
#include "bellwether/mem.h"
#include "bellwether/ticket.h"

#define FIX "tests/fixtures/jira/"
#define BASE "https://acme.atlassian.test"
/* A string literal and its length. */
#define S(lit) (lit), (sizeof(lit) - 1)

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

static int exists(const char *path)
{
    FILE *f = fopen(path, "r");

    if (f) {
        fclose(f);
    }
    return f != NULL;
}

/* A site as the collector sees it after its set-up requests. */
struct site {
    struct bw_jira_fieldmap fm;
    struct bw_status_info *cat;
    size_t ncat;
};

static void site_load(const char *flavor, struct site *s)
{
    char path[256];
    size_t len = 0;
    char *data;

    memset(s, 0, sizeof(*s));
    snprintf(path, sizeof(path), FIX "%s.field.json", flavor);
    data = load(path, &len);
    assert_int_equal(bw_jira_parse_fields(data, len, NULL, NULL, &s->fm), 0);
    free(data);
    snprintf(path, sizeof(path), FIX "%s.status.json", flavor);
    data = load(path, &len);
    assert_int_equal(bw_jira_parse_statuses(data, len, &s->cat, &s->ncat), 0);
    free(data);
}

static void site_release(struct site *s)
{
    bw_jira_fieldmap_release(&s->fm);
    bw_jira_statuses_free(s->cat, s->ncat);
}

/* Every search page of a flavour, in order. */
static void load_search(const char *flavor, const struct site *s,
                        struct bw_jira_search *out)
{
    char path[256];

    bw_jira_search_init(out);
    for (int n = 1;; n++) {
        size_t len = 0;
        char *data;

        snprintf(path, sizeof(path), FIX "%s.search.page%d.json", flavor, n);
        if (!exists(path)) {
            assert_true(n > 1);
            break;
        }
        data = load(path, &len);
        assert_int_equal(bw_jira_parse_search(data, len, BASE, &s->fm, out), 0);
        free(data);
        if (out->is_last) {
            break;
        }
    }
}

static struct bw_jira_issue *find(struct bw_jira_search *p, const char *id,
                                  const char *key)
{
    for (size_t i = 0; i < p->n; i++) {
        if ((id && strcmp(p->v[i].t.id, id) == 0) ||
            (key && strcmp(p->v[i].t.key, key) == 0)) {
            return &p->v[i];
        }
    }
    return NULL;
}

static int merge(void *arg, const char *issue_id, struct bw_ticket *h)
{
    struct bw_jira_issue *is = find(arg, issue_id, NULL);

    assert_non_null(is);
    return bw_ticket_take_history(&is->t, h);
}

/* Cloud: the truncated tickets' histories from the bulkfetch pages. */
static void complete_by_bulkfetch(struct bw_jira_search *p,
                                  const struct site *s)
{
    char path[256];
    char *tok = NULL;
    int n = 1;

    for (size_t i = 0; i < p->n; i++) {
        if (!bw_jira_issue_complete(&p->v[i])) {
            bw_ticket_truncate_history(&p->v[i].t, 0, 0);
        }
    }
    for (;; n++) {
        size_t len = 0;
        char *data;

        snprintf(path, sizeof(path), FIX "cloud.bulkfetch.page%d.json", n);
        data = load(path, &len);
        bw_free(tok);
        tok = NULL;
        assert_int_equal(
            bw_jira_parse_bulkfetch(data, len, &s->fm, merge, p, &tok), 0);
        free(data);
        if (tok == NULL) {
            break;
        }
    }
    assert_true(n > 1); /* the fixture spans pages */
}

/* ------------------------------------------------------ truth compare */

static const cJSON *item(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    if (v == NULL) {
        print_error("truth has no '%s'\n", k);
        fail();
    }
    return v;
}

static int64_t t_time(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);

    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : BW_NOTIME;
}

static void eq_str(const char *key, const char *what, const char *want,
                   const char *got)
{
    if ((want == NULL) != (got == NULL) ||
        (want != NULL && strcmp(want, got) != 0)) {
        print_error("%s %s: truth '%s', got '%s'\n", key, what,
                    want ? want : "(null)", got ? got : "(null)");
        fail();
    }
}

static void eq_i64(const char *key, const char *what, int64_t want, int64_t got)
{
    if (want != got) {
        print_error("%s %s: truth %lld, got %lld\n", key, what, (long long)want,
                    (long long)got);
        fail();
    }
}

static void eq_num(const char *key, const char *what, const cJSON *want,
                   double got)
{
    int ok = cJSON_IsNumber(want)
                 ? !isnan(got) && fabs(want->valuedouble - got) <= 1e-6
                 : isnan(got);

    if (!ok) {
        print_error("%s %s: truth %g, got %g\n", key, what,
                    cJSON_IsNumber(want) ? want->valuedouble : NAN, got);
        fail();
    }
}

static void eq_list(const char *key, const char *what, const cJSON *want,
                    const struct bw_strlist *got)
{
    size_t i = 0;
    const cJSON *v;

    cJSON_ArrayForEach(v, want)
    {
        if (i >= got->n || strcmp(v->valuestring, got->v[i]) != 0) {
            print_error("%s %s: item %zu differs\n", key, what, i);
            fail();
        }
        i++;
    }
    eq_i64(key, what, (int64_t)i, (int64_t)got->n);
}

static const char *const stage_names[] = {"todo", "in_progress", "done"};

static void check_history(const char *key, const cJSON *tr,
                          const struct bw_ticket *t)
{
    const cJSON *fl = item(tr, "flags");
    const cJSON *v;
    size_t i = 0;
    char id[32];

    /* the parser keeps API order (newest first inline): compare sorted */
    cJSON_ArrayForEach(v, item(tr, "transitions"))
    {
        const struct bw_ticket_tr *best = NULL;

        for (size_t k = 0; k < t->ntrs; k++) {
            snprintf(id, sizeof(id), "%lld", (long long)t->trs[k].hid);
            if (strcmp(id, item(v, "id")->valuestring) == 0 &&
                strcmp(t->trs[k].to_name, item(v, "to")->valuestring) == 0) {
                best = &t->trs[k];
            }
        }
        if (best == NULL) {
            print_error("%s: transition %s not parsed\n", key,
                        item(v, "id")->valuestring);
            fail();
        }
        eq_i64(key, "transition t", t_time(v, "t"), best->t);
        eq_str(key, "transition from", item(v, "from")->valuestring,
               best->from_name);
        i++;
    }
    eq_i64(key, "transitions", (int64_t)i, (int64_t)t->ntrs);
    i = 0;
    cJSON_ArrayForEach(v, fl)
    {
        int found = 0;

        for (size_t k = 0; k < t->nflags; k++) {
            snprintf(id, sizeof(id), "%lld", (long long)t->flags[k].hid);
            if (strcmp(id, item(v, "id")->valuestring) == 0) {
                found = 1;
                eq_i64(key, "flag t", t_time(v, "t"), t->flags[k].t);
                eq_i64(key, "flag on", cJSON_IsTrue(item(v, "on")),
                       t->flags[k].on);
            }
        }
        if (!found) {
            print_error("%s: flag change %s not parsed\n", key,
                        item(v, "id")->valuestring);
            fail();
        }
        i++;
    }
    eq_i64(key, "flags", (int64_t)i, (int64_t)t->nflags);
}

static void check_spells(const char *key, const cJSON *want,
                         const struct bw_ticket_derived *d)
{
    size_t i = 0;
    const cJSON *v;

    cJSON_ArrayForEach(v, want)
    {
        const cJSON *e = cJSON_GetArrayItem(v, 1);

        if (i >= d->nblocked) {
            print_error("%s: blocked spell %zu missing\n", key, i);
            fail();
        }
        eq_i64(key, "spell start",
               (int64_t)cJSON_GetArrayItem(v, 0)->valuedouble,
               d->blocked[i].start);
        eq_i64(key, "spell end",
               cJSON_IsNumber(e) ? (int64_t)e->valuedouble : BW_NOTIME,
               d->blocked[i].end);
        i++;
    }
    eq_i64(key, "blocked spells", (int64_t)i, (int64_t)d->nblocked);
}

/* One ticket against its truth record, derived under rules at now. */
static void check_ticket(const cJSON *tr, const struct bw_ticket *t,
                         const struct bw_ticket_rules *rules, int64_t now)
{
    const char *key = t->key;
    struct bw_ticket_derived d;
    const cJSON *sp = item(tr, "story_points");

    eq_str(key, "id", item(tr, "id")->valuestring, t->id);
    eq_str(key, "project", item(tr, "project")->valuestring, t->project);
    eq_str(key, "type", item(tr, "type")->valuestring, t->type);
    eq_str(key, "priority", item(tr, "priority")->valuestring, t->priority);
    eq_str(key, "status", item(tr, "status")->valuestring, t->status_name);
    eq_str(key, "assignee", cJSON_GetStringValue(item(tr, "assignee")),
           t->assignee_id);
    eq_str(key, "assignee_name",
           cJSON_GetStringValue(item(tr, "assignee_name")), t->assignee_name);
    eq_str(key, "parent", cJSON_GetStringValue(item(tr, "parent")), t->parent);
    eq_list(key, "labels", item(tr, "labels"), &t->labels);
    eq_list(key, "components", item(tr, "components"), &t->components);
    eq_num(key, "story_points", sp, t->story_points);
    eq_i64(key, "created_at", t_time(tr, "created_at"), t->created_at);
    eq_i64(key, "updated_at", t_time(tr, "updated_at"), t->updated_at);
    eq_i64(key, "flagged_now", cJSON_IsTrue(item(tr, "flagged_now")),
           t->flagged_now);
    check_history(key, tr, t);
    assert_int_equal(bw_ticket_derive(t, rules, now, &d), 0);
    eq_str(key, "initial_status", item(tr, "initial_status")->valuestring,
           d.initial_status);
    eq_i64(key, "started_at", t_time(tr, "started_at"), d.started_at);
    eq_i64(key, "done_at", t_time(tr, "done_at"), d.done_at);
    eq_i64(key, "reopen_count", t_time(tr, "reopen_count"), d.reopen_count);
    eq_str(key, "stage", item(tr, "stage")->valuestring,
           stage_names[d.stage_now]);
    eq_i64(key, "blocked_now", cJSON_IsTrue(item(tr, "blocked_now")),
           d.blocked_now);
    eq_i64(key, "excluded", cJSON_IsTrue(item(tr, "excluded")), d.excluded);
    check_spells(key, item(tr, "blocked_spells"), &d);
    eq_num(key, "blocked_time", item(tr, "blocked_time"), d.blocked_time);
    eq_num(key, "cycle_time", item(tr, "cycle_time"), d.cycle_time);
    eq_num(key, "lead_time", item(tr, "lead_time"), d.lead_time);
    bw_ticket_derived_release(&d);
}

static cJSON *load_truth(const char *name, int64_t *now)
{
    char path[256];
    size_t len = 0;
    char *data;
    cJSON *root;

    snprintf(path, sizeof(path), FIX "%s", name);
    data = load(path, &len);
    root = cJSON_ParseWithLength(data, len);
    free(data);
    assert_non_null(root);
    *now = (int64_t)item(root, "now")->valuedouble;
    return root;
}

static char *rule_v[6][8];
static struct bw_strlist rule_l[6];

/* The rules: defaults, or the "alt" set of regen.sh and t_jira.sh. */
static void rules_for(int alt, const struct site *s, struct bw_ticket_rules *r)
{
    static const char *const def[6][3] = {{"Blocked", "On Hold", NULL},
                                          {NULL},
                                          {NULL},
                                          {NULL},
                                          {"Epic", NULL},
                                          {NULL}};
    static const char *const alts[6][3] = {{"Blocked", NULL},
                                           {"In Review", NULL},
                                           {"Peer Check", "Triage", NULL},
                                           {"QA", NULL},
                                           {"Epic", "Sub-task", NULL},
                                           {"noise", "tech-debt", NULL}};

    for (int i = 0; i < 6; i++) {
        const char *const *src = alt ? alts[i] : def[i];

        rule_l[i].v = rule_v[i];
        rule_l[i].n = 0;
        for (int k = 0; k < 3 && src[k]; k++) {
            rule_v[i][rule_l[i].n++] = (char *)src[k];
        }
    }
    memset(r, 0, sizeof(*r));
    r->statuses = s->cat;
    r->nstatuses = s->ncat;
    r->blocked_statuses = &rule_l[0];
    r->stage_todo = &rule_l[1];
    r->stage_in_progress = &rule_l[2];
    r->stage_done = &rule_l[3];
    r->exclude_types = &rule_l[4];
    r->exclude_labels = &rule_l[5];
}

static void check_all(struct bw_jira_search *p, const struct site *s,
                      const char *truth_file, int alt)
{
    struct bw_ticket_rules rules;
    int64_t now;
    cJSON *truth = load_truth(truth_file, &now);
    const cJSON *tickets = item(truth, "tickets");
    const cJSON *tr;
    size_t n = 0;

    rules_for(alt, s, &rules);
    cJSON_ArrayForEach(tr, tickets)
    {
        struct bw_jira_issue *is = find(p, NULL, tr->string);

        if (is == NULL) {
            print_error("%s: in the truth, not on the pages\n", tr->string);
            fail();
        }
        check_ticket(tr, &is->t, &rules, now);
        n++;
    }
    eq_i64(truth_file, "tickets", (int64_t)n, (int64_t)p->n);
    cJSON_Delete(truth);
}

/* ------------------------------------------------------ fixture tests */

static void test_cloud_pages(void **state)
{
    struct site s;
    struct bw_jira_search p;
    size_t cut = 0;

    (void)state;
    site_load("cloud", &s);
    assert_string_equal(s.fm.story_points, "customfield_10016");
    assert_string_equal(s.fm.flagged, "customfield_10021");
    load_search("cloud", &s, &p);
    assert_true(p.is_last);
    assert_null(p.next_token);
    assert_int_equal(p.total, -1);
    for (size_t i = 0; i < p.n; i++) {
        cut += !bw_jira_issue_complete(&p.v[i]);
        assert_non_null(p.v[i].t.url);
        assert_int_equal(strncmp(p.v[i].t.url, BASE "/browse/OPS-",
                                 strlen(BASE "/browse/OPS-")),
                         0);
    }
    assert_true(cut > 0); /* the inline changelog was cut to 5 */
    complete_by_bulkfetch(&p, &s);
    check_all(&p, &s, "cloud.truth.json", 0);
    check_all(&p, &s, "cloud.truth-alt.json", 1);
    bw_jira_search_release(&p);
    site_release(&s);
}

static void test_cloud_changelog_pages(void **state)
{
    struct site s;
    struct bw_jira_search p;
    struct bw_jira_issue *is;
    struct bw_ticket_rules rules;
    char key[32] = "";
    char path[256];
    long next = 0;
    int last = 0;
    int64_t now;
    cJSON *truth;
    FILE *f;

    (void)state;
    f = fopen(FIX "cloud.changelog.key", "r");
    assert_non_null(f);
    assert_non_null(fgets(key, sizeof(key), f));
    fclose(f);
    key[strcspn(key, "\n")] = '\0';
    site_load("cloud", &s);
    load_search("cloud", &s, &p);
    is = find(&p, NULL, key);
    assert_non_null(is);
    assert_false(bw_jira_issue_complete(is));
    bw_ticket_truncate_history(&is->t, 0, 0);
    for (int n = 1; !last; n++) {
        size_t len = 0;
        char *data;
        long before = next;

        snprintf(path, sizeof(path), FIX "cloud.changelog.page%d.json", n);
        data = load(path, &len);
        assert_int_equal(
            bw_jira_parse_changelog(data, len, &s.fm, &is->t, &last, &next), 0);
        free(data);
        assert_true(next > before);
    }
    assert_int_equal(next, is->cl_total);
    truth = load_truth("cloud.truth.json", &now);
    rules_for(0, &s, &rules);
    check_ticket(item(item(truth, "tickets"), key), &is->t, &rules, now);
    cJSON_Delete(truth);
    bw_jira_search_release(&p);
    site_release(&s);
}

static void test_dc_pages(void **state)
{
    struct site s;
    struct bw_jira_search p;
    struct bw_jira_issue one;
    struct bw_ticket_rules rules;
    size_t len = 0;
    char *data;
    int64_t now;
    cJSON *truth;

    (void)state;
    site_load("dc", &s);
    assert_string_equal(s.fm.story_points, "customfield_10106");
    assert_string_equal(s.fm.flagged, "customfield_10200");
    assert_string_equal(s.fm.flagged_name, "Flagged");
    load_search("dc", &s, &p);
    assert_int_equal(p.total, 20);
    assert_true(p.start_at > 0);
    for (size_t i = 0; i < p.n; i++) {
        assert_true(bw_jira_issue_complete(&p.v[i])); /* full inline */
    }
    check_all(&p, &s, "dc.truth.json", 0);
    /* GET issue?expand=changelog: the same ticket */
    data = load(FIX "dc.issue.OPS-4.json", &len);
    bw_ticket_init(&one.t);
    assert_int_equal(bw_jira_parse_issue(data, len, BASE, &s.fm, &one), 0);
    free(data);
    assert_true(bw_jira_issue_complete(&one));
    truth = load_truth("dc.truth.json", &now);
    rules_for(0, &s, &rules);
    check_ticket(item(item(truth, "tickets"), "OPS-4"), &one.t, &rules, now);
    cJSON_Delete(truth);
    bw_ticket_release(&one.t);
    bw_jira_search_release(&p);
    site_release(&s);
}

static void test_small_parsers(void **state)
{
    struct bw_jira_fieldmap fm;
    struct bw_status_info *v = NULL;
    struct bw_buf b = BW_BUF_INIT;
    size_t n = 0, len;
    char *data;
    char *tz = NULL;
    int cloud = -1;

    (void)state;
    data = load(FIX "cloud.serverinfo.json", &len);
    assert_int_equal(bw_jira_parse_server_info(data, len, &cloud), 0);
    assert_int_equal(cloud, 1);
    free(data);
    data = load(FIX "dc.serverinfo.json", &len);
    assert_int_equal(bw_jira_parse_server_info(data, len, &cloud), 0);
    assert_int_equal(cloud, 0);
    free(data);
    data = load(FIX "cloud.myself.json", &len);
    assert_int_equal(bw_jira_parse_myself(data, len, &tz), 0);
    assert_string_equal(tz, "America/New_York");
    bw_free(tz);
    free(data);
    assert_int_equal(bw_jira_parse_myself(S("{\"name\":\"x\"}"), &tz), 0);
    assert_null(tz);
    data = load(FIX "cloud.status.json", &len);
    assert_int_equal(bw_jira_parse_statuses(data, len, &v, &n), 0);
    assert_int_equal(n, 12);
    free(data);
    bw_jira_statuses_free(v, n);
    /* configured ids win; the Flagged name comes from the list */
    memset(&fm, 0, sizeof(fm));
    data = load(FIX "cloud.field.json", &len);
    assert_int_equal(bw_jira_parse_fields(data, len, "customfield_10026",
                                          "customfield_10021", &fm),
                     0);
    assert_string_equal(fm.story_points, "customfield_10026");
    assert_string_equal(fm.flagged_name, "Flagged");
    assert_int_equal(bw_jira_parse_fields(data, len, NULL, "cf_nope", &fm), 0);
    assert_string_equal(fm.story_points, "customfield_10016");
    assert_string_equal(fm.flagged, "cf_nope");
    assert_string_equal(fm.flagged_name, "Flagged");
    free(data);
    assert_int_equal(bw_jira_parse_fields("[]", 2, NULL, NULL, &fm), 0);
    assert_null(fm.story_points);
    assert_null(fm.flagged);
    bw_jira_fieldmap_release(&fm);
    data = load(FIX "cloud.error-400.json", &len);
    assert_int_equal(bw_jira_parse_errors(data, len, &b), 0);
    assert_non_null(strstr(b.data, "Error in the JQL Query"));
    free(data);
    bw_buf_reset(&b);
    assert_int_equal(bw_jira_parse_errors(S("{\"errorMessages\":[\"a\\nb\","
                                            "\"c\"],\"errors\":{\"jql\":"
                                            "\"bad\"}}"),
                                          &b),
                     0);
    assert_string_equal(b.data, "a b; c; jql: bad");
    bw_buf_reset(&b);
    assert_int_equal(bw_jira_parse_errors(S("<html>"), &b), BW_EPARSE);
    assert_int_equal(bw_jira_parse_errors(S("{\"message\":1}"), &b), BW_EPARSE);
    bw_buf_release(&b);
}

/* ------------------------------------------------------ hand-made pages */

/* Cloud-style: fieldIds, a Flagged field, a cut changelog, and items
 * that are neither status nor Flagged. */
static const char small_search[] =
    "{\"isLast\":false,\"nextPageToken\":\"tok2\",\"issues\":[{\"id\":\"7\","
    "\"key\":\"OPS-7\",\"fields\":{\"summary\":\"s\",\"status\":{\"id\":\"3\","
    "\"name\":\"In Progress\"},\"issuetype\":{\"name\":\"Bug\"},\"priority\":"
    "null,\"assignee\":{\"accountId\":\"acc1\",\"displayName\":\"Al\"},"
    "\"labels\":[\"x\",\"y\"],\"components\":[{\"name\":\"C\"}],\"project\":"
    "{\"key\":\"OPS\"},\"created\":\"2026-11-01T10:00:00.000+0100\","
    "\"updated\":\"2026-11-02T10:00:00.123+0100\",\"cf_sp\":2.5,\"cf_fl\":[{"
    "\"value\":\"Impediment\"}]},\"changelog\":{\"startAt\":0,\"maxResults\":2,"
    "\"total\":3,\"histories\":[{\"id\":\"12\",\"created\":\"2026-11-02T10:00:"
    "00.123+0100\",\"items\":[{\"field\":\"Flagged\",\"fieldtype\":\"custom\","
    "\"fieldId\":\"cf_fl\",\"from\":null,\"fromString\":null,\"to\":\"[1]\","
    "\"toString\":\"Impediment\"},{\"field\":\"Rank\",\"fieldtype\":\"custom\","
    "\"fieldId\":\"cf_rank\",\"from\":\"\",\"to\":\"\"}]},{\"id\":\"11\","
    "\"created\":\"2026-11-01T11:00:00.000+0100\",\"items\":[{\"field\":"
    "\"status\",\"fieldtype\":\"jira\",\"fieldId\":\"status\",\"from\":\"1\","
    "\"fromString\":\"To Do\",\"to\":\"3\",\"toString\":\"In Progress\"},{"
    "\"field\":\"Workflow\",\"fieldtype\":\"jira\",\"from\":\"1\",\"to\":\"2\""
    "}]}]}}]}";

/* Data Center-style: no fieldIds, the Flagged field by name. */
static const char small_dc[] =
    "{\"startAt\":0,\"maxResults\":50,\"total\":1,\"issues\":[{\"id\":\"8\","
    "\"key\":\"API-8\",\"fields\":{\"status\":{\"id\":\"5\",\"name\":\"Done\"},"
    "\"assignee\":{\"name\":\"bob\",\"key\":\"JIRAUSER1\",\"displayName\":"
    "\"Bob\"},\"created\":\"2026-11-01T10:00:00.000+0000\",\"updated\":"
    "\"2026-11-01T12:00:00.000+0000\",\"parent\":{\"key\":\"API-1\"}},"
    "\"changelog\":{\"startAt\":0,\"maxResults\":1,\"total\":1,\"histories\":"
    "[{\"id\":\"20\",\"created\":\"2026-11-01T12:00:00.000+0000\",\"items\":"
    "[{\"field\":\"status\",\"fieldtype\":\"jira\",\"from\":\"3\",\"fromString"
    "\":\"In Progress\",\"to\":\"5\",\"toString\":\"Done\"},{\"field\":\"Flagg"
    "ed\",\"fieldtype\":\"custom\",\"from\":\"[1]\",\"fromString\":\"Impedime"
    "nt\",\"to\":null,\"toString\":null},{\"field\":\"status\",\"fieldtype\":"
    "\"custom\",\"from\":\"x\",\"to\":\"y\"}]}]}}]}";

static const char small_bulk[] =
    "{\"issueChangeLogs\":[{\"issueId\":\"7\",\"changeHistories\":[{\"id\":"
    "\"10\",\"created\":1793523600000,\"items\":[{\"field\":\"status\","
    "\"fieldId\":\"status\",\"from\":\"9\",\"fromString\":\"Triage\",\"to\":"
    "\"1\",\"toString\":\"To Do\"}]}]},{\"issueId\":7,\"changeHistories\":[{"
    "\"id\":11,\"created\":\"2026-11-01T11:00:00.000+0100\",\"items\":[{\"fie"
    "ld\":\"status\",\"fieldId\":\"status\",\"from\":\"1\",\"fromString\":\"T"
    "o Do\",\"to\":\"3\",\"toString\":\"In Progress\"}]}]}],\"nextPageToken\":"
    "\"n2\"}";

static const char small_changelog[] =
    "{\"self\":\"x\",\"maxResults\":2,\"startAt\":2,\"total\":3,\"values\":[{"
    "\"id\":\"12\",\"created\":\"2026-11-02T10:00:00.123+0100\",\"items\":[{"
    "\"field\":\"Flagged\",\"fieldtype\":\"custom\",\"fieldId\":\"cf_fl\","
    "\"from\":null,\"fromString\":null,\"to\":\"[1]\",\"toString\":\"Impedim"
    "ent\"}]}]}";

static const struct bw_jira_fieldmap small_fm = {
    (char *)"cf_sp", (char *)"cf_fl", (char *)"Flagged"};

static void test_small_search(void **state)
{
    struct bw_jira_search p;
    const struct bw_ticket *t;

    (void)state;
    bw_jira_search_init(&p);
    assert_int_equal(bw_jira_parse_search(small_search, strlen(small_search),
                                          NULL, &small_fm, &p),
                     0);
    assert_int_equal(p.n, 1);
    assert_false(p.is_last);
    assert_string_equal(p.next_token, "tok2");
    t = &p.v[0].t;
    assert_null(t->url);
    assert_null(t->priority);
    assert_string_equal(t->assignee_id, "acc1");
    assert_string_equal(t->assignee_name, "Al");
    assert_true(t->story_points == 2.5);
    assert_int_equal(t->flagged_now, 1);
    assert_int_equal(t->created_at, 1793523600);
    assert_int_equal(t->updated_at, 1793610000); /* ms truncated */
    assert_int_equal(t->ntrs, 1);
    assert_int_equal(t->trs[0].hid, 11);
    assert_string_equal(t->trs[0].from_id, "1");
    assert_int_equal(t->nflags, 1);
    assert_int_equal(t->flags[0].on, 1);
    assert_int_equal(t->flags[0].from_set, 0);
    assert_false(bw_jira_issue_complete(&p.v[0]));
    /* the next page appends */
    assert_int_equal(
        bw_jira_parse_search(small_dc, strlen(small_dc), "B", &small_fm, &p),
        0);
    assert_int_equal(p.n, 2);
    assert_true(p.is_last);
    assert_null(p.next_token);
    assert_int_equal(p.total, 1);
    t = &p.v[1].t;
    assert_string_equal(t->url, "B/browse/API-8");
    assert_string_equal(t->assignee_id, "bob");
    assert_string_equal(t->parent, "API-1");
    assert_string_equal(t->project, "API"); /* from the key */
    assert_true(isnan(t->story_points));
    assert_int_equal(t->ntrs, 1); /* a custom field named status is not */
    assert_int_equal(t->nflags, 1);
    assert_int_equal(t->flags[0].on, 0);
    assert_int_equal(t->flags[0].from_set, 1);
    assert_true(bw_jira_issue_complete(&p.v[1]));
    bw_jira_search_release(&p);
}

static int collect(void *arg, const char *id, struct bw_ticket *h)
{
    struct bw_ticket *t = arg;

    assert_string_equal(id, "7");
    return bw_ticket_take_history(t, h);
}

static void test_small_histories(void **state)
{
    struct bw_ticket t;
    char *tok = NULL;
    long next = 0;
    int last = -1;

    (void)state;
    bw_ticket_init(&t);
    assert_int_equal(bw_jira_parse_bulkfetch(small_bulk, strlen(small_bulk),
                                             &small_fm, collect, &t, &tok),
                     0);
    assert_string_equal(tok, "n2");
    bw_free(tok);
    assert_int_equal(t.ntrs, 2);
    assert_int_equal(t.trs[0].t, 1793523600); /* epoch milliseconds */
    assert_int_equal(t.trs[1].hid, 11);       /* a numeric id */
    assert_int_equal(bw_jira_parse_changelog(small_changelog,
                                             strlen(small_changelog), &small_fm,
                                             &t, &last, &next),
                     0);
    assert_int_equal(last, 1); /* no isLast: startAt + values >= total */
    assert_int_equal(next, 3);
    assert_int_equal(t.nflags, 1);
    bw_ticket_release(&t);
}

static void test_malformed(void **state)
{
    static const char *bad_search[] = {
        "",
        "{",
        "[]",
        "{\"issues\":{}}",
        "{\"issues\":[1]}",
        "{\"issues\":[{\"id\":\"1\",\"fields\":{}}]}",
        "{\"issues\":[{\"key\":\"A-1\",\"fields\":{}}]}",
        "{\"issues\":[{\"key\":\"A-1\",\"id\":\"1\",\"fields\":{\"status\":{"
        "\"id\":\"1\"},\"created\":\"yesterday\"}}]}",
        "{\"issues\":[{\"key\":\"A-1\",\"id\":\"1\",\"fields\":{\"created\":"
        "\"2026-11-01T10:00:00.000+0000\"}}]}",
        "{\"issues\":[{\"key\":\"A-1\",\"id\":\"1\",\"fields\":{\"status\":{"
        "\"id\":\"1\"},\"created\":\"2026-11-01T10:00:00.000+0000\",\"labels"
        "\":[1]}}]}",
        "{\"issues\":[{\"key\":\"A-1\",\"id\":\"1\",\"fields\":{\"status\":{"
        "\"id\":\"1\"},\"created\":\"2026-11-01T10:00:00.000+0000\"},\"change"
        "log\":{\"histories\":[{\"id\":\"1\",\"items\":[]}]}}]}",
    };
    struct bw_jira_search p;
    struct bw_ticket t;
    size_t len = 0;
    char *data = load(FIX "cloud.search.page1.json", &len);
    char *tok = NULL;
    long next = 0;
    int last = 0;

    (void)state;
    bw_jira_search_init(&p);
    assert_int_equal(
        bw_jira_parse_search(small_dc, strlen(small_dc), NULL, &small_fm, &p),
        0);
    for (size_t i = 0; i < sizeof(bad_search) / sizeof(bad_search[0]); i++) {
        if (bw_jira_parse_search(bad_search[i], strlen(bad_search[i]), NULL,
                                 &small_fm, &p) != BW_EPARSE) {
            print_error("search page %zu parsed\n", i);
            fail();
        }
        assert_int_equal(p.n, 1); /* what was there stays */
    }
    /* a page cut anywhere (a truncated body) never parses */
    for (size_t cut = 1; cut < len; cut += len / 97 + 1) {
        assert_int_equal(bw_jira_parse_search(data, cut, NULL, &small_fm, &p),
                         BW_EPARSE);
    }
    assert_int_equal(p.n, 1);
    bw_jira_search_release(&p);
    free(data);
    bw_ticket_init(&t);
    assert_int_equal(bw_jira_parse_changelog(S("{\"values\":[{\"id\":\"1\"}]}"),
                                             &small_fm, &t, &last, &next),
                     BW_EPARSE);
    assert_int_equal(bw_jira_parse_changelog(small_changelog,
                                             strlen(small_changelog) - 3,
                                             &small_fm, &t, &last, &next),
                     BW_EPARSE);
    assert_int_equal(t.ntrs + t.nflags, 0);
    assert_int_equal(bw_jira_parse_bulkfetch(S("{\"issueChangeLogs\":[{}]}"),
                                             &small_fm, collect, &t, &tok),
                     BW_EPARSE);
    assert_int_equal(bw_jira_parse_bulkfetch(S("{\"issueChangeLogs\":[],"
                                               "\"nextPageToken\":5}"),
                                             &small_fm, collect, &t, &tok),
                     BW_EPARSE);
    assert_null(tok);
    bw_ticket_release(&t);
}

/* Every allocation fails in turn on the small pages: an error comes back,
 * nothing leaks (ASan), the outputs are as they were. */
static void test_torture(void **state)
{
    struct bw_status_info *v = NULL;
    struct bw_jira_fieldmap fm;
    struct bw_buf b = BW_BUF_INIT;
    size_t n = 0, len;
    char *status = load(FIX "cloud.status.json", &len);
    int rc, done;

    (void)state;
    memset(&fm, 0, sizeof(fm));
    done = 0;
    for (long k = 1; k < 5000 && !done; k++) {
        struct bw_jira_search p;

        bw_jira_search_init(&p);
        bw_mem_fail_at(k, 0);
        rc = bw_jira_parse_search(small_search, strlen(small_search), "B",
                                  &small_fm, &p);
        if (rc == 0) {
            rc = bw_jira_parse_search(small_dc, strlen(small_dc), "B",
                                      &small_fm, &p);
        }
        bw_mem_fail_at(0, 0);
        done = rc == 0;
        assert_true(rc == 0 || rc == BW_ENOMEM || rc == BW_EPARSE);
        assert_true(rc == 0 || p.n <= 1);
        bw_jira_search_release(&p);
    }
    assert_true(done);
    done = 0;
    for (long k = 1; k < 5000 && !done; k++) {
        struct bw_ticket t;
        char *tok = NULL;
        long next;
        int last;

        bw_ticket_init(&t);
        bw_mem_fail_at(k, 0);
        rc = bw_jira_parse_bulkfetch(small_bulk, strlen(small_bulk), &small_fm,
                                     collect, &t, &tok);
        if (rc == 0) {
            rc = bw_jira_parse_changelog(small_changelog,
                                         strlen(small_changelog), &small_fm, &t,
                                         &last, &next);
        }
        bw_mem_fail_at(0, 0);
        done = rc == 0;
        assert_true(rc == 0 || rc == BW_ENOMEM || rc == BW_EPARSE);
        bw_free(tok);
        bw_ticket_release(&t);
    }
    assert_true(done);
    done = 0;
    for (long k = 1; k < 5000 && !done; k++) {
        bw_mem_fail_at(k, 0);
        rc = bw_jira_parse_statuses(status, len, &v, &n);
        if (rc == 0) {
            rc = bw_jira_parse_fields(S("[{\"id\":\"c1\",\"name\":\"Flag"
                                        "ged\"},{\"id\":\"c2\",\"name\":"
                                        "\"Story Points\"}]"),
                                      NULL, NULL, &fm);
        }
        if (rc == 0) {
            rc = bw_jira_parse_errors(S("{\"errorMessages\":[\"a\"],\"err"
                                        "ors\":{\"b\":\"c\"}}"),
                                      &b);
        }
        bw_mem_fail_at(0, 0);
        done = rc == 0;
        assert_true(rc == 0 || rc == BW_ENOMEM || rc == BW_EPARSE);
        bw_jira_statuses_free(v, n);
        v = NULL;
        n = 0;
        bw_buf_release(&b);
    }
    assert_true(done);
    assert_string_equal(fm.flagged, "c1");
    bw_jira_fieldmap_release(&fm);
    free(status);
}

/* --------------------------------------------- the walk, canned server */

/* What the collector wrote, through a sink that keeps it in memory. */
struct fake {
    int statuses, commits, discards;
    char cursor[128];
    char key[32];
    size_t ntrs, nflags;
    int64_t hid0;
    int incomplete;
    long emitted;
};

static int f_cursor_get(void *ctx, const char *scope, char *buf, size_t n)
{
    (void)ctx;
    (void)scope;
    buf[0] = '\0';
    (void)n;
    return 0;
}

static int f_cursor_set(void *ctx, const char *scope, const char *value)
{
    struct fake *f = ctx;

    snprintf(f->cursor, sizeof(f->cursor), "%s=%s", scope, value);
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

/* etag_get and meta_get: nothing stored. */
static int f_get_none(void *ctx, const char *name, char *buf, size_t n)
{
    (void)ctx;
    (void)name;
    (void)n;
    buf[0] = '\0';
    return 0;
}

/* etag_put and meta_set: nothing kept. */
static int f_put_none(void *ctx, const char *name, const char *value)
{
    (void)ctx;
    (void)name;
    (void)value;
    return 0;
}

static int f_emit(void *ctx, const struct bw_record *rec)
{
    struct fake *f = ctx;
    const struct bw_ticket *t = rec->u.ticket;

    if (rec->kind == BW_REC_STATUSES) {
        f->statuses++;
        return 0;
    }
    assert_int_equal(rec->kind, BW_REC_TICKET);
    assert_string_equal(rec->scope, "OPS");
    snprintf(f->key, sizeof(f->key), "%s", t->key);
    f->ntrs = t->ntrs;
    f->nflags = t->nflags;
    f->hid0 = t->ntrs ? t->trs[0].hid : -1;
    f->incomplete = t->changelog_incomplete;
    f->emitted++;
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

static char *http_ok(const char *body)
{
    size_t n = strlen(body) + 200;
    char *s = malloc(n);

    assert_non_null(s);
    snprintf(s, n,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    return s;
}

#define ISSUE_CREATED "\"created\":\"2026-11-01T10:00:00.000+0000\""
#define HIST(id, when, item)                                                   \
    "{\"id\":\"" id "\",\"created\":\"2026-11-0" when                          \
    "T10:00:00.000+0000\",\"items\":[" item "]}"
#define ST_ITEM(f, t)                                                          \
    "{\"field\":\"status\",\"fieldtype\":\"jira\",\"fieldId\":\"status\","     \
    "\"from\":\"" f "\",\"fromString\":\"S" f "\",\"to\":\"" t                 \
    "\",\"toString\":\"S" t "\"}"

/* One Cloud backfill of one ticket whose inline changelog is cut: the
 * bulkfetch is refused with `refusal`, so its changelog is paged. */
static void run_refused(const char *refusal)
{
    static const char *const bodies[] = {
        "{\"deploymentType\":\"Cloud\"}",
        "{\"accountId\":\"a\",\"timeZone\":\"Europe/Berlin\"}",
        "[{\"id\":\"1\",\"name\":\"S1\",\"statusCategory\":{\"key\":\"new\"}},"
        "{\"id\":\"3\",\"name\":\"S3\",\"statusCategory\":{\"key\":"
        "\"indeterminate\"}}]",
        "[{\"id\":\"cf_fl\",\"name\":\"Flagged\"}]",
        "{\"isLast\":true,\"issues\":[{\"id\":\"7\",\"key\":\"OPS-7\","
        "\"fields\":{\"status\":{\"id\":\"3\",\"name\":\"S3\"},"
        "\"project\":{\"key\":\"OPS\"}," ISSUE_CREATED ",\"updated\":"
        "\"2026-11-04T10:00:00.000+0000\",\"cf_fl\":null},\"changelog\":{"
        "\"startAt\":0,\"maxResults\":1,\"total\":3,\"histories\":["
        "{\"id\":\"103\",\"created\":\"2026-11-04T10:00:00.000+0000\","
        "\"items\":[{\"field\":\"Flagged\",\"fieldtype\":\"custom\","
        "\"fieldId\":\"cf_fl\",\"from\":\"[1]\",\"to\":null}]}]}}]}",
        "{\"isLast\":true,\"issues\":[]}",
        NULL, /* the refusal */
        "{\"startAt\":0,\"maxResults\":2,\"total\":3,\"isLast\":false,"
        "\"values\":[" HIST(
            "101", "2",
            ST_ITEM(
                "1",
                "3")) ","
                      "{\"id\":\"102\",\"created\":\"2026-11-03T10:00:00.000+"
                      "0000\","
                      "\"items\":[{\"field\":\"Flagged\",\"fieldtype\":"
                      "\"custom\","
                      "\"fieldId\":\"cf_fl\",\"from\":null,\"to\":\"[1]\"}]}]}",
        "{\"startAt\":2,\"maxResults\":2,\"total\":3,\"isLast\":true,"
        "\"values\":[{\"id\":\"103\",\"created\":\"2026-11-04T10:00:00.000"
        "+0000\",\"items\":[{\"field\":\"Flagged\",\"fieldtype\":\"custom\","
        "\"fieldId\":\"cf_fl\",\"from\":\"[1]\",\"to\":null}]}]}"};
    const size_t nb = sizeof(bodies) / sizeof(bodies[0]);
    const char *resp[16];
    char *own[16];
    struct bw_canned srv;
    struct bw_jira_opts o;
    struct bw_source_conf src;
    struct bw_http_opts ho;
    struct bw_sink sink;
    struct fake f;
    char *log;
    void *ctx = NULL;

    for (size_t i = 0; i < nb; i++) {
        own[i] = bodies[i] ? http_ok(bodies[i]) : NULL;
        resp[i] = own[i] ? own[i] : refusal;
    }
    resp[nb] = NULL;
    assert_int_equal(bw_canned_start(&srv, resp), 0);
    memset(&o, 0, sizeof(o));
    assert_int_equal(bw_config_defaults(bw_collector_jira.keys, &o), 0);
    bw_free(o.url);
    o.url = bw_strdup(srv.base);
    o.email = bw_strdup("bot@acme.test");
    o.token = bw_strdup("tok");
    o.token_src.env = bw_strdup("JIRA_TOKEN");
    assert_int_equal(bw_strlist_add(&o.projects, "OPS"), 0);
    memset(&src, 0, sizeof(src));
    src.name = (char *)"jira";
    src.file = "test.ini";
    src.collector = &bw_collector_jira;
    src.opts = &o;
    src.common.max_parallel = 1;
    src.common.since = -1;
    memset(&ho, 0, sizeof(ho));
    assert_int_equal(bw_collector_jira.http_opts(&src, &ho), 0);
    /* base64("bot@acme.test:tok") */
    assert_string_equal(ho.auth, "Basic Ym90QGFjbWUudGVzdDp0b2s=");
    ho.max_parallel = 1;
    ho.max_tries = 2;
    memset(&sink, 0, sizeof(sink));
    memset(&f, 0, sizeof(f));
    assert_int_equal(bw_http_new(&ho, &sink.http), 0);
    sink.ctx = &f;
    sink.src = &src;
    sink.since = 1790000000;
    sink.cursor_get = f_cursor_get;
    sink.cursor_set = f_cursor_set;
    sink.item_versions = f_versions;
    sink.etag_get = f_get_none;
    sink.etag_put = f_put_none;
    sink.emit = f_emit;
    sink.commit_page = f_commit;
    sink.discard_page = f_discard;
    sink.should_stop = f_stop;
    sink.meta_get = f_get_none;
    sink.meta_set = f_put_none;
    assert_int_equal(bw_collector_jira.init(&src, &ctx), 0);
    assert_int_equal(bw_collector_jira.collect(ctx, &sink), 0);
    bw_collector_jira.free(ctx);
    log = bw_canned_requests(&srv);
    bw_canned_stop(&srv);
    assert_int_equal(f.statuses, 1);
    assert_int_equal(f.emitted, 1);
    assert_string_equal(f.key, "OPS-7");
    assert_int_equal(f.ntrs, 1); /* the whole history, paged */
    assert_int_equal(f.nflags, 2);
    assert_int_equal(f.hid0, 101);
    assert_int_equal(f.incomplete, 0);
    assert_string_equal(f.cursor, "OPS=1793786400"); /* the newest updated */
    assert_int_equal(f.discards, 0);
    assert_non_null(strstr(log, "POST /rest/api/3/changelog/bulkfetch"));
    assert_non_null(strstr(log, "GET /rest/api/3/issue/OPS-7/changelog?"
                                "startAt=0&maxResults=100"));
    assert_non_null(strstr(log, "GET /rest/api/3/issue/OPS-7/changelog?"
                                "startAt=2&maxResults=100"));
    /* the backfill: everything updated since `since` (in the user's zone),
       then what is not done, however old */
    assert_non_null(strstr(log, "updated%20%3E%3D%20%222026-09-21%2016%3A"
                                "13%22"));
    assert_non_null(strstr(log, "statusCategory%20%21%3D%20Done"));
    assert_non_null(strstr(log, "Authorization: Basic "));
    free(log);
    for (size_t i = 0; i < nb; i++) {
        free(own[i]);
    }
    bw_http_free(sink.http);
    bw_config_opts_release(bw_collector_jira.keys, &o);
}

static void test_bulkfetch_refused(void **state)
{
    (void)state;
    run_refused("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                "Content-Length: 2\r\n\r\n{}");
    run_refused("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
    run_refused("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
}

/* ------------------------------------------ hostile paging, canned */

/* A ticket of project OPS updated on day `day` of November; whole (no cut
 * changelog) unless `cut`, whose inline changelog has 1 history of 3. */
#define OPS_ISSUE(id, day, cut)                                                \
    "{\"id\":\"" id "\",\"key\":\"OPS-" id "\",\"fields\":{\"status\":{"       \
    "\"id\":\"1\",\"name\":\"S1\"},\"project\":{\"key\":\"OPS\"}"              \
    "," ISSUE_CREATED ",\"updated\":\"2026-11-" day "T10:00:00.000+0000\"}"    \
    ",\"changelog\":{\"startAt\":0,\"maxResults\":1,\"total\":" cut            \
    ",\"histories\":[" HIST(id "01", "2", ST_ITEM("1", "3")) "]}}"

/*
 * One backfill of project OPS against a server that answers `bodies` (JSON
 * bodies served as 200s, or whole responses "HTTP/1.1 ...", in order, the
 * last one again and again) after the
 * set-up requests of `flavor` ("Cloud" or "Server"): the collect's status,
 * what the sink saw and how many requests the server answered.
 */
static int run_hostile(const char *flavor, const char *const *bodies,
                       struct fake *f, long *served)
{
    char info[64];
    const char *setup[] = {
        info, "{\"accountId\":\"a\",\"timeZone\":\"UTC\"}",
        "[{\"id\":\"1\",\"name\":\"S1\",\"statusCategory\":{\"key\":\"new\"}},"
        "{\"id\":\"3\",\"name\":\"S3\",\"statusCategory\":{\"key\":"
        "\"indeterminate\"}}]",
        "[{\"id\":\"cf_fl\",\"name\":\"Flagged\"}]"};
    const size_t ns = sizeof(setup) / sizeof(setup[0]);
    char *own[32];
    size_t n = 0;
    struct bw_canned srv;
    struct bw_jira_opts o;
    struct bw_source_conf src;
    struct bw_http_opts ho;
    struct bw_sink sink;
    void *ctx = NULL;
    int rc;

    snprintf(info, sizeof(info), "{\"deploymentType\":\"%s\"}", flavor);
    for (size_t i = 0; i < ns; i++) {
        own[n++] = http_ok(setup[i]);
    }
    for (size_t i = 0; bodies[i] != NULL && n < 31; i++) {
        /* a whole response as given, or a body answered with a 200 */
        own[n++] = strncmp(bodies[i], "HTTP/", 5) == 0 ? strdup(bodies[i])
                                                       : http_ok(bodies[i]);
    }
    own[n] = NULL;
    assert_int_equal(bw_canned_start(&srv, (const char *const *)own), 0);
    memset(&o, 0, sizeof(o));
    assert_int_equal(bw_config_defaults(bw_collector_jira.keys, &o), 0);
    bw_free(o.url);
    o.url = bw_strdup(srv.base);
    o.token = bw_strdup("tok");
    o.token_src.env = bw_strdup("JIRA_TOKEN");
    assert_int_equal(bw_strlist_add(&o.projects, "OPS"), 0);
    memset(&src, 0, sizeof(src));
    src.name = (char *)"jira";
    src.file = "test.ini";
    src.collector = &bw_collector_jira;
    src.opts = &o;
    src.common.max_parallel = 1;
    src.common.since = -1;
    memset(&ho, 0, sizeof(ho));
    assert_int_equal(bw_collector_jira.http_opts(&src, &ho), 0);
    ho.max_parallel = 1;
    ho.max_tries = 2;
    memset(&sink, 0, sizeof(sink));
    memset(f, 0, sizeof(*f));
    assert_int_equal(bw_http_new(&ho, &sink.http), 0);
    sink.ctx = f;
    sink.src = &src;
    sink.since = 1790000000;
    sink.cursor_get = f_cursor_get;
    sink.cursor_set = f_cursor_set;
    sink.item_versions = f_versions;
    sink.etag_get = f_get_none;
    sink.etag_put = f_put_none;
    sink.emit = f_emit;
    sink.commit_page = f_commit;
    sink.discard_page = f_discard;
    sink.should_stop = f_stop;
    sink.meta_get = f_get_none;
    sink.meta_set = f_put_none;
    assert_int_equal(bw_collector_jira.init(&src, &ctx), 0);
    rc = bw_collector_jira.collect(ctx, &sink);
    if (rc == BW_EHTTP) {
        /* the one error line is what `status` shows */
        assert_non_null(
            strstr(bw_http_last_error(sink.http), "stopped paging"));
    }
    bw_collector_jira.free(ctx);
    *served = srv.served - (long)ns;
    bw_canned_stop(&srv);
    for (size_t i = 0; i < n; i++) {
        free(own[i]);
    }
    bw_http_free(sink.http);
    bw_config_opts_release(bw_collector_jira.keys, &o);
    return rc;
}

static void test_hostile_paging(void **state)
{
    /* Cloud: the second page hands out the token that fetched it */
    static const char *const token_loop[] = {
        "{\"isLast\":false,\"nextPageToken\":\"A\",\"issues\":[" OPS_ISSUE(
            "1", "02", "1") "]}",
        "{\"isLast\":false,\"nextPageToken\":\"B\",\"issues\":[" OPS_ISSUE(
            "2", "03", "1") "]}",
        "{\"isLast\":false,\"nextPageToken\":\"A\",\"issues\":[" OPS_ISSUE(
            "3", "04", "1") "]}",
        NULL};
    /* Cloud: an empty page that says more follow */
    static const char *const empty_more[] = {
        "{\"isLast\":false,\"nextPageToken\":\"A\",\"issues\":[" OPS_ISSUE(
            "1", "02", "1") "]}",
        "{\"isLast\":false,\"nextPageToken\":\"B\",\"issues\":[]}", NULL};
    /* Cloud: new tokens, but more pages than BELLWETHER_MAX_PAGES */
    static const char *const many[] = {
        "{\"nextPageToken\":\"t1\",\"issues\":[" OPS_ISSUE("1", "02", "1") "]}",
        "{\"nextPageToken\":\"t2\",\"issues\":[" OPS_ISSUE("2", "03", "1") "]}",
        "{\"nextPageToken\":\"t3\",\"issues\":[" OPS_ISSUE("3", "04", "1") "]}",
        "{\"nextPageToken\":\"t4\",\"issues\":[" OPS_ISSUE("4", "05", "1") "]}",
        NULL};
    /* Data Center: startAt ignored, the first page again and again */
    static const char *const dc_stuck[] = {
        "{\"startAt\":0,\"maxResults\":1,\"total\":500,\"issues\":[" OPS_ISSUE(
            "1", "02", "1") "]}",
        NULL};
    /* Data Center: an empty page short of the total */
    static const char *const dc_empty[] = {
        "{\"startAt\":0,\"maxResults\":1,\"total\":5,\"issues\":[" OPS_ISSUE(
            "1", "02", "1") "]}",
        "{\"startAt\":1,\"maxResults\":1,\"total\":5,\"issues\":[]}", NULL};
    /* Cloud bulkfetch: a token that comes back, then an empty page that
       says more follow; the cut ticket is never stored */
    static const char *const bulk_loop[] = {
        "{\"isLast\":true,\"issues\":[" OPS_ISSUE("7", "02", "3") "]}",
        "{\"isLast\":true,\"issues\":[]}",
        "{\"issueChangeLogs\":[{\"issueId\":\"7\",\"changeHistories\":["
        "]}],\"nextPageToken\":\"X\"}",
        "{\"issueChangeLogs\":[{\"issueId\":\"7\",\"changeHistories\":["
        "]}],\"nextPageToken\":\"Y\"}",
        "{\"issueChangeLogs\":[{\"issueId\":\"7\",\"changeHistories\":["
        "]}],\"nextPageToken\":\"X\"}",
        NULL};
    static const char *const bulk_empty[] = {
        "{\"isLast\":true,\"issues\":[" OPS_ISSUE("7", "02", "3") "]}",
        "{\"isLast\":true,\"issues\":[]}",
        "{\"issueChangeLogs\":[],\"nextPageToken\":\"X\"}", NULL};
    struct fake f;
    long served = 0;

    (void)state;
    assert_int_equal(run_hostile("Cloud", token_loop, &f, &served), BW_EHTTP);
    assert_int_equal(f.emitted, 2); /* pages 1 and 2, not the third */
    assert_int_equal(served, 3);
    assert_string_equal(f.cursor, ""); /* no mark moved */

    assert_int_equal(run_hostile("Cloud", empty_more, &f, &served), BW_EHTTP);
    assert_int_equal(f.emitted, 1);
    assert_int_equal(served, 2);

    setenv("BELLWETHER_MAX_PAGES", "3", 1);
    assert_int_equal(run_hostile("Cloud", many, &f, &served), BW_EHTTP);
    unsetenv("BELLWETHER_MAX_PAGES");
    assert_int_equal(f.emitted, 2);
    assert_int_equal(served, 3);

    assert_int_equal(run_hostile("Server", dc_stuck, &f, &served), BW_EHTTP);
    assert_int_equal(f.emitted, 1);
    assert_int_equal(served, 2);

    assert_int_equal(run_hostile("Server", dc_empty, &f, &served), BW_EHTTP);
    assert_int_equal(f.emitted, 1);
    assert_int_equal(served, 2);

    assert_int_equal(run_hostile("Cloud", bulk_loop, &f, &served), BW_EHTTP);
    assert_int_equal(f.emitted, 0);
    assert_int_equal(served, 5);

    assert_int_equal(run_hostile("Cloud", bulk_empty, &f, &served), BW_EHTTP);
    assert_int_equal(f.emitted, 0);
    assert_int_equal(served, 3);
}

/* The Cloud fallback when bulkfetch is refused: a ticket's changelog page
 * that does not move on (an empty page that is not the last) stops. */
static void test_hostile_changelog(void **state)
{
    static const char *const stuck[] = {
        "{\"isLast\":true,\"issues\":[" OPS_ISSUE("7", "02", "3") "]}",
        "{\"isLast\":true,\"issues\":[]}",
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        "{\"startAt\":0,\"maxResults\":2,\"total\":3,\"isLast\":false,"
        "\"values\":[]}",
        NULL};
    struct fake f;
    long served = 0;

    (void)state;
    assert_int_equal(run_hostile("Cloud", stuck, &f, &served), BW_EHTTP);
    assert_int_equal(f.emitted, 0);
    assert_int_equal(served, 4);
}

/* -------------------------------------------- real recordings (shared) */

static char *shared_file(const char *name, size_t *len)
{
    const char *dir = bw_test_shared_dir();
    char path[1024];

    if (dir == NULL) {
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/api-samples/jira/%s", dir, name);
    return bw_test_read_file(path, len);
}

/* The DevLake recordings are bare arrays: give them their envelope. */
static char *wrap(const char *pre, const char *body, size_t len,
                  const char *post, size_t *out_len)
{
    size_t a = strlen(pre), c = strlen(post);
    char *s = malloc(a + len + c + 1);

    assert_non_null(s);
    memcpy(s, pre, a);
    memcpy(s + a, body, len);
    memcpy(s + a + len, post, c + 1);
    *out_len = a + len + c;
    return s;
}

static int collect_any(void *arg, const char *id, struct bw_ticket *h)
{
    (void)id;
    return bw_ticket_take_history(arg, h);
}

static void test_shared_samples(void **state)
{
    static const char *const searches[] = {"search.v2-server.page1.json",
                                           "search.v2-server.page2.json",
                                           "search.v2-server.empty.json"};
    /* Atlassian's illustrative examples: their issue has neither status
       nor created (and "updated": 1), which no search with our fields
       returns; the page is refused whole */
    static const char *const examples[] = {
        "spec-examples/search-jql.v3.example.json",
        "spec-examples/search.v3-legacy.example.json"};
    static const char *const boards[] = {
        "board-issues.cloud.expand-changelog.json",
        "board-issues.server.expand-changelog.json"};
    static const char *const statuses[] = {
        "status.v2-cloud.json", "status.v2.go-jira.json",
        "status.v2-server.jira-ruby.json",
        "spec-examples/status.v3.example.json"};
    struct bw_jira_fieldmap fm;
    struct bw_jira_search p;
    size_t len, wlen, n, ntr = 0;
    char *data, *w;
    char *tok = NULL;
    long next;
    int last;

    (void)state;
    if (bw_test_shared_dir() == NULL) {
        print_message("../shared/api-samples is absent: skipping the real "
                      "Jira recordings\n");
        skip();
    }
    memset(&fm, 0, sizeof(fm));
    data = shared_file("fields.v2-server.json", &len);
    assert_non_null(data);
    assert_int_equal(bw_jira_parse_fields(data, len, NULL, NULL, &fm), 0);
    assert_string_equal(fm.flagged, "customfield_10200");
    assert_null(fm.story_points); /* none on that site */
    free(data);
    for (size_t i = 0; i < sizeof(searches) / sizeof(searches[0]); i++) {
        data = shared_file(searches[i], &len);
        assert_non_null(data);
        bw_jira_search_init(&p);
        if (bw_jira_parse_search(data, len, BASE, &fm, &p) != 0) {
            print_error("%s does not parse\n", searches[i]);
            fail();
        }
        free(data);
        bw_jira_search_release(&p);
    }
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        data = shared_file(examples[i], &len);
        assert_non_null(data);
        bw_jira_search_init(&p);
        assert_int_equal(bw_jira_parse_search(data, len, BASE, &fm, &p),
                         BW_EPARSE);
        assert_int_equal(p.n, 0);
        free(data);
        bw_jira_search_release(&p);
    }
    data = shared_file("search.v2-server.page1.json", &len);
    bw_jira_search_init(&p);
    assert_int_equal(bw_jira_parse_search(data, len, BASE, &fm, &p), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.total, 3);
    assert_false(p.is_last); /* startAt 0 + 2 < total 3 */
    assert_string_equal(p.v[0].t.status_name, "Open");
    free(data);
    bw_jira_search_release(&p);
    for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++) {
        data = shared_file(boards[i], &len);
        assert_non_null(data);
        w = wrap("{\"issues\":", data, len, "}", &wlen);
        bw_jira_search_init(&p);
        if (bw_jira_parse_search(w, wlen, BASE, &fm, &p) != 0) {
            print_error("%s does not parse\n", boards[i]);
            fail();
        }
        for (size_t k = 0; k < p.n; k++) {
            struct bw_ticket_derived d;

            ntr += p.v[k].t.ntrs;
            assert_true(bw_jira_issue_complete(&p.v[k]));
            assert_int_equal(bw_ticket_derive(&p.v[k].t, NULL, 1800000000, &d),
                             0);
            bw_ticket_derived_release(&d);
        }
        assert_true(p.n > 0);
        bw_jira_search_release(&p);
        free(w);
        free(data);
    }
    /* the Cloud board has status changes (the server one only links) */
    assert_true(ntr > 0);
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        struct bw_status_info *v = NULL;

        data = shared_file(statuses[i], &len);
        assert_non_null(data);
        assert_int_equal(bw_jira_parse_statuses(data, len, &v, &n), 0);
        assert_true(n > 0);
        bw_jira_statuses_free(v, n);
        free(data);
    }
    data = shared_file("issue-changelog.cloud-v3.values.json", &len);
    assert_non_null(data);
    w = wrap("{\"isLast\":true,\"values\":", data, len, "}", &wlen);
    {
        struct bw_ticket t;

        bw_ticket_init(&t);
        assert_int_equal(
            bw_jira_parse_changelog(w, wlen, &fm, &t, &last, &next), 0);
        assert_int_equal(last, 1);
        assert_int_equal(next, 100);
        assert_true(t.ntrs > 0);
        bw_ticket_release(&t);
    }
    free(w);
    free(data);
    data = shared_file("spec-examples/issue-changelog.v3.example.json", &len);
    assert_non_null(data);
    {
        struct bw_ticket t;

        bw_ticket_init(&t);
        assert_int_equal(
            bw_jira_parse_changelog(data, len, &fm, &t, &last, &next), 0);
        assert_int_equal(last, 0);
        assert_int_equal(next, 4);
        bw_ticket_release(&t);
    }
    free(data);
    data =
        shared_file("spec-examples/changelog-bulkfetch.v3.example.json", &len);
    assert_non_null(data);
    {
        struct bw_ticket t;

        bw_ticket_init(&t);
        assert_int_equal(
            bw_jira_parse_bulkfetch(data, len, &fm, collect_any, &t, &tok), 0);
        assert_string_equal(tok, "UxAQBFRF");
        bw_free(tok);
        bw_ticket_release(&t);
    }
    free(data);
    bw_jira_fieldmap_release(&fm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cloud_pages),
        cmocka_unit_test(test_cloud_changelog_pages),
        cmocka_unit_test(test_dc_pages),
        cmocka_unit_test(test_small_parsers),
        cmocka_unit_test(test_small_search),
        cmocka_unit_test(test_small_histories),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_torture),
        cmocka_unit_test(test_shared_samples),
        cmocka_unit_test(test_bulkfetch_refused),
        cmocka_unit_test(test_hostile_paging),
        cmocka_unit_test(test_hostile_changelog),
    };

    setenv("BELLWETHER_BACKOFF_BASE_MS", "10", 1);
    bw_http_global_init();
    bw_mem_hook_cjson();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
