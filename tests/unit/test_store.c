/*
 * test_store.c - the Redis store against a real, throw-away redis-server
 * (hiredis's test.sh idea): URL parsing, connect failures, AUTH with a
 * password and with an ACL user, the schema key, pages (atomicity, faults,
 * reconnects), the sink's cursors/ETags/versions, PRs and tickets packed
 * into hashes and index rows, reindex, the canonical dump, and a memory
 * and CPU measurement of a typical PR.
 *
 * The server (redisproc.h) runs in a mkdtemp() directory with its own
 * redis.conf on a free port of 127.0.0.1 and a unix socket, so two runs
 * never collide; it is stopped at teardown (and killed by the kernel if
 * this process dies first: PR_SET_PDEATHSIG). Without redis-server the
 * server tests skip.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>

#include "bellwether/collector.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/pr.h"
#include "bellwether/store.h"
#include "bellwether/ticket.h"

#include "../../src/store_priv.h" /* the codec, tested directly */
#include "redisproc.h"

#define T0 INT64_C(1760000000) /* 2025-10-09T08:53:20Z */
#define H 3600
#define D 86400

/* ------------------------------------------------------------ the server */

static struct bw_redisproc srv = {.name = "store",
                                  .conf = "databases 16\n"
                                          "user default on >defpw ~* &* +@all\n"
                                          "user bw on >secret ~* &* +@all\n",
                                  .unix_socket = 1,
                                  .admin_user = "bw",
                                  .admin_pw = "secret"};

static int start_server(void **state)
{
    (void)state;
    bw_redisproc_start(&srv);
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    bw_redisproc_stop(&srv);
    return 0;
}

/* Each server test starts from an empty server. */
static int fresh(void **state)
{
    (void)state;
    if (!srv.running) {
        return 0;
    }
    if (bw_redisproc_flush(&srv) != 0) {
        return -1;
    }
    bw_store_stop_requested = 0;
    return 0;
}

#define NEED_REDIS() BW_NEED_REDIS(&srv)

/* A command on the admin connection; the reply to the caller. */
static redisReply *cmd(const char *fmt, ...)
{
    redisContext *c = bw_redisproc_admin(&srv);
    redisReply *r;
    va_list ap;

    assert_non_null(c);
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    assert_non_null(r);
    return r;
}

static long long cmd_int(const char *fmt, const char *arg)
{
    redisReply *r = cmd(fmt, arg);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

    freeReplyObject(r);
    return v;
}

/* ----------------------------------------------------- stderr capture */

static int saved_fd = -1;
static char captured[8192];

static void cap_start(void)
{
    char p[512];
    int fd;

    snprintf(p, sizeof(p), "%s/err.txt", srv.dir[0] ? srv.dir : "/tmp");
    fflush(stderr);
    saved_fd = dup(2);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    dup2(fd, 2);
    close(fd);
}

static const char *cap_stop(void)
{
    char p[512];
    FILE *f;
    size_t n = 0;

    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    snprintf(p, sizeof(p), "%s/err.txt", srv.dir[0] ? srv.dir : "/tmp");
    f = fopen(p, "r");
    if (f) {
        n = fread(captured, 1, sizeof(captured) - 1, f);
        fclose(f);
    }
    captured[n] = '\0';
    unlink(p);
    if (getenv("BW_TEST_VERBOSE")) {
        fputs(captured, stderr);
    }
    return captured;
}

/* ------------------------------------------------- configs and sources */

static char prefix_buf[32] = "t:";
static char pw_default[] = "defpw";
static char pw_env[] = "BW_TEST_REDIS_PASSWORD";

static struct bw_redis_conf conf_tcp(void)
{
    struct bw_redis_conf c;

    memset(&c, 0, sizeof(c));
    c.url = srv.url;
    c.password = pw_default;
    c.password_src.env = pw_env;
    c.prefix = prefix_buf;
    c.timeout = 5;
    return c;
}

static struct bw_store *open_store(unsigned flags)
{
    struct bw_redis_conf c = conf_tcp();
    struct bw_store *st = NULL;

    assert_int_equal(bw_store_open(&c, flags, &st), 0);
    assert_non_null(st);
    return st;
}

/* Metric rules the test collectors hand out. */
static struct bw_strlist excl_labels;
static struct bw_pr_rules pr_rules;
static struct bw_strlist blocked_statuses;
static struct bw_strlist excl_types;

static void test_rules(const struct bw_source_conf *src, struct bw_pr_rules *pr,
                       struct bw_ticket_rules *t)
{
    (void)src;
    *pr = pr_rules;
    pr->exclude_labels = &excl_labels;
    memset(t, 0, sizeof(*t));
    t->blocked_statuses = &blocked_statuses;
    t->exclude_types = &excl_types;
}

static struct bw_collector gh_col, jira_col;
static char gh_name[] = "gh", jira_name[] = "jira", hash1[] = "hash-1";
static struct bw_source_conf gh_src, jira_src;

/* Stand-ins for the built-in collectors: the store reads only their name
 * (jira tags per source) and their rules. */
static void sources_init(void)
{
    memset(&gh_col, 0, sizeof(gh_col));
    gh_col.abi = BW_COLLECTOR_ABI;
    gh_col.name = "github";
    gh_col.rules = test_rules;
    jira_col = gh_col;
    jira_col.name = "jira";
    memset(&gh_src, 0, sizeof(gh_src));
    gh_src.name = gh_name;
    gh_src.collector = &gh_col;
    gh_src.common.since = -1;
    gh_src.metric_hash = hash1;
    jira_src = gh_src;
    jira_src.name = jira_name;
    jira_src.collector = &jira_col;
}

/* ---------------------------------------------------------- items */

static void ev(struct bw_pr *pr, int kind, int64_t t, int64_t t2, int state,
               unsigned flags, const char *actor)
{
    struct bw_pr_event e;

    memset(&e, 0, sizeof(e));
    e.kind = (uint8_t)kind;
    e.t = t;
    e.t2 = t2;
    e.state = (uint8_t)state;
    e.actor_flags = (uint8_t)flags;
    e.actor = (char *)actor; /* copied by bw_pr_add_event */
    assert_int_equal(bw_pr_add_event(pr, &e), 0);
}

/* A typical merged PR: 3 commits, a comment, 3 reviews, merged after 30 h.
 * Events are added in a scrambled order (the store sorts them). */
static void typical_pr(struct bw_pr *pr, long n, int64_t t0)
{
    bw_pr_init(pr);
    pr->repo = bw_strdup("acme/api");
    pr->number = n;
    pr->title = bw_strdup("Fix the flaky retry logic in the payment service");
    pr->url = bw_strdup("https://github.com/acme/api/pull/42");
    pr->author = bw_strdup("alice");
    pr->base = bw_strdup("main");
    assert_int_equal(bw_strlist_add(&pr->labels, "backend"), 0);
    assert_int_equal(bw_strlist_add(&pr->labels, "bug"), 0);
    pr->created_at = t0;
    pr->updated_at = t0 + 30 * H;
    pr->closed_at = pr->merged_at = t0 + 30 * H;
    pr->additions = 120;
    pr->deletions = 30;
    pr->commits = 3;
    ev(pr, BW_PEV_MERGED, t0 + 30 * H, BW_NOTIME, 0, 0, "alice");
    ev(pr, BW_PEV_COMMIT, t0 - 2 * H, t0 - 3 * H, 0, 0, "alice");
    ev(pr, BW_PEV_REVIEW, t0 + 2 * H, BW_NOTIME, BW_RS_COMMENTED, 0, "bob");
    ev(pr, BW_PEV_COMMIT, t0 - 1 * H, t0 - 2 * H, 0, 0, "alice");
    ev(pr, BW_PEV_REVIEW_REQUESTED, t0 + 60, BW_NOTIME, 0, 0, "alice");
    ev(pr, BW_PEV_COMMENT, t0 + 1 * H, BW_NOTIME, 0, 0, "dave");
    ev(pr, BW_PEV_REVIEW, t0 + 5 * H, BW_NOTIME, BW_RS_CHANGES_REQUESTED, 0,
       "carol");
    ev(pr, BW_PEV_COMMIT, t0 + 6 * H, t0 + 6 * H, 0, 0, "alice");
    ev(pr, BW_PEV_REVIEW, t0 + 26 * H, BW_NOTIME, BW_RS_APPROVED, 0, "carol");
    ev(pr, BW_PEV_CLOSED, t0 + 30 * H, BW_NOTIME, 0, 0, "alice");
}

static int emit_pr(struct bw_sink *s, const struct bw_pr *pr)
{
    struct bw_record rec;

    memset(&rec, 0, sizeof(rec));
    rec.kind = BW_REC_PR;
    rec.scope = pr->repo;
    rec.u.pr = pr;
    return s->emit(s->ctx, &rec);
}

static void tr(struct bw_ticket *t, int64_t at, int64_t hid, const char *from,
               const char *to)
{
    struct bw_ticket_tr x;
    char fid[8], tid[8];

    snprintf(fid, sizeof(fid), "%d", from[0]);
    snprintf(tid, sizeof(tid), "%d", to[0]);
    memset(&x, 0, sizeof(x));
    x.t = at;
    x.hid = hid;
    x.from_id = fid;
    x.from_name = (char *)from;
    x.to_id = tid;
    x.to_name = (char *)to;
    assert_int_equal(bw_ticket_add_tr(t, &x), 0);
}

/* The catalog the test tickets use: ids are the first letter's code. */
static char s_todo[] = "84", s_prog[] = "73", s_blk[] = "66", s_done[] = "68";
static char n_todo[] = "To Do", n_prog[] = "In Progress", n_blk[] = "Blocked",
            n_done[] = "Done";
static char c_new[] = "new", c_ind[] = "indeterminate", c_done[] = "done";
static struct bw_status_info catalog[] = {{s_todo, n_todo, c_new},
                                          {s_prog, n_prog, c_ind},
                                          {s_blk, n_blk, c_ind},
                                          {s_done, n_done, c_done}};

static void typical_ticket(struct bw_ticket *t, const char *key, int64_t t0)
{
    bw_ticket_init(t);
    t->key = bw_strdup(key);
    t->id = bw_strdup("10042");
    t->project = bw_strdup("OPS");
    t->summary = bw_strdup("Rotate | the, keys ~ now %");
    t->url = bw_strdup("https://acme.atlassian.net/browse/OPS-7");
    t->type = bw_strdup("Bug");
    t->priority = bw_strdup("High");
    t->status_id = bw_strdup(s_done);
    t->status_name = bw_strdup(n_done);
    t->assignee_id = bw_strdup("5b10ac8d82e05b22cc7d4ef5");
    t->assignee_name = bw_strdup("Erin Example");
    assert_int_equal(bw_strlist_add(&t->labels, "infra"), 0);
    t->story_points = 3;
    t->created_at = t0;
    t->updated_at = t0 + 5 * D;
    /* added out of order on purpose */
    tr(t, t0 + 4 * D, 4, n_blk, n_prog);
    tr(t, t0 + 1 * D, 1, n_todo, n_prog);
    tr(t, t0 + 5 * D, 5, n_prog, n_done);
    tr(t, t0 + 2 * D, 2, n_prog, n_blk);
}

static int emit_ticket(struct bw_sink *s, const struct bw_ticket *t)
{
    struct bw_record rec;

    memset(&rec, 0, sizeof(rec));
    rec.kind = BW_REC_TICKET;
    rec.scope = t->project;
    rec.u.ticket = t;
    return s->emit(s->ctx, &rec);
}

static int emit_catalog(struct bw_sink *s)
{
    struct bw_record rec;

    memset(&rec, 0, sizeof(rec));
    rec.kind = BW_REC_STATUSES;
    rec.u.statuses.v = catalog;
    rec.u.statuses.n = sizeof(catalog) / sizeof(catalog[0]);
    return s->emit(s->ctx, &rec);
}

/* The dump of the store with this prefix, as a malloc'd string. */
static char *dump_of(const char *prefix)
{
    struct bw_redis_conf c = conf_tcp();
    struct bw_store *st = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    c.prefix = (char *)prefix;
    assert_non_null(f);
    assert_int_equal(bw_store_open(&c, 0, &st), 0);
    assert_int_equal(bw_store_dump(st, f), 0);
    fclose(f);
    bw_store_free(st);
    return buf;
}

/* One member of an index of a tag, or "" (static buffer). */
static const char *member_of(const char *ix, const char *tag)
{
    static char m[4096];
    redisReply *r = cmd("ZRANGE t:ix:%s:{%s} 0 0", ix, tag);

    m[0] = '\0';
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        snprintf(m, sizeof(m), "%s", r->element[0]->str);
    }
    freeReplyObject(r);
    return m;
}

/* ================================================================ pure */

static void test_parse_url(void **state)
{
    static const struct {
        const char *in;
        int ok;
        const char *host;
        int port;
        const char *path;
    } cases[] = {
        {"redis://127.0.0.1:6379", 1, "127.0.0.1", 6379, ""},
        {"redis://localhost", 1, "localhost", 6379, ""},
        {"redis://localhost/", 1, "localhost", 6379, ""},
        {"REDIS://cache.internal:7000/", 1, "cache.internal", 7000, ""},
        {"redis://[::1]:6380", 1, "::1", 6380, ""},
        {"redis://[::1]", 1, "::1", 6379, ""},
        {"redis://my_host-1.example.com:1", 1, "my_host-1.example.com", 1, ""},
        {"redis://h:65535", 1, "h", 65535, ""},
        {"unix:///run/redis/redis.sock", 1, "", 0, "/run/redis/redis.sock"},
        {"unix:///tmp/x", 1, "", 0, "/tmp/x"},
        {"redis://h:0", 0, NULL, 0, NULL},
        {"redis://h:65536", 0, NULL, 0, NULL},
        {"redis://h:", 0, NULL, 0, NULL},
        {"redis://h:12a", 0, NULL, 0, NULL},
        {"redis://h:+12", 0, NULL, 0, NULL},
        {"redis://h:000006379", 0, NULL, 0, NULL},
        {"redis://", 0, NULL, 0, NULL},
        {"redis://:6379", 0, NULL, 0, NULL},
        {"redis://user:pass@h:6379", 0, NULL, 0, NULL},
        {"redis://:pass@h", 0, NULL, 0, NULL},
        {"redis://h/0", 0, NULL, 0, NULL},
        {"redis://h//", 0, NULL, 0, NULL},
        {"redis://h?db=1", 0, NULL, 0, NULL},
        {"redis://h h", 0, NULL, 0, NULL},
        {"redis://[::1", 0, NULL, 0, NULL},
        {"redis://[]:1", 0, NULL, 0, NULL},
        {"redis://[zz]:1", 0, NULL, 0, NULL},
        {"rediss://h", 0, NULL, 0, NULL},
        {"http://h", 0, NULL, 0, NULL},
        {"h:6379", 0, NULL, 0, NULL},
        {"", 0, NULL, 0, NULL},
        {"unix://", 0, NULL, 0, NULL},
        {"unix:///", 0, NULL, 0, NULL},
        {"unix://relative/path", 0, NULL, 0, NULL},
        {"unix:///tmp/a\nb", 0, NULL, 0, NULL},
    };
    struct bw_redis_addr a;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = bw_store_parse_url(cases[i].in, strlen(cases[i].in), &a);

        if (cases[i].ok) {
            assert_int_equal(rc, 0);
            assert_string_equal(a.host, cases[i].host);
            assert_int_equal(a.port, cases[i].port);
            assert_string_equal(a.path, cases[i].path);
        } else if (rc == 0) {
            fail_msg("accepted '%s'", cases[i].in);
        }
    }
    /* length-bounded: no NUL needed, and a NUL inside is refused */
    assert_int_equal(bw_store_parse_url("redis://hostXYZ", 12, &a), 0);
    assert_string_equal(a.host, "host");
    assert_int_not_equal(bw_store_parse_url("unix:///a\0b", 11, &a), 0);
    {
        char longp[200];

        memset(longp, 'p', sizeof(longp));
        memcpy(longp, "unix:///", 8);
        assert_int_not_equal(bw_store_parse_url(longp, sizeof(longp), &a), 0);
    }
}

static void test_codec_roundtrip(void **state)
{
    static const char *const texts[] = {"plain",
                                        "",
                                        "a|b",
                                        "%",
                                        "%%",
                                        "x,y~z",
                                        "line\nbreak\r\ttab",
                                        "\xF0\x9F\x9A\x80 emoji",
                                        "trailing\\",
                                        "%41"};
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        bw_buf_reset(&b);
        /* a row: N|author|flags|excl|labels, labels hostile */
        assert_int_equal(bw_buf_adds(&b, "7|"), 0);
        {
            struct bw_pr_row r;
            struct bw_strlist l = {NULL, 0};

            assert_int_equal(st_put_str(&b, texts[i]), 0);
            assert_int_equal(bw_buf_adds(&b, "|4|1|"), 0);
            assert_int_equal(bw_strlist_add(&l, texts[i]), 0);
            assert_int_equal(bw_strlist_add(&l, "second"), 0);
            assert_int_equal(st_put_list(&b, &l), 0);
            assert_null(memchr(b.data, '\n', b.len));
            bw_pr_row_init(&r);
            assert_int_equal(bw_pr_row_parse(&r, BW_IX_OPENED, b.data, b.len),
                             0);
            assert_int_equal(r.number, 7);
            assert_string_equal(r.author, texts[i]);
            assert_int_equal(r.flags, BW_PRF_EXCLUDED);
            assert_int_equal(r.excluded_reason, 1);
            if (texts[i][0]) {
                assert_int_equal(r.nlabels, 2);
                assert_string_equal(r.labels[0], texts[i]);
                assert_true(bw_row_has_label(r.labels, r.nlabels, "second"));
            }
            bw_pr_row_release(&r);
            bw_strlist_release(&l);
        }
    }
    bw_buf_release(&b);
}

static void test_row_parse_bad(void **state)
{
    static const char *const bad[] = {
        "",          "7",         "7|a|4",     "7|a|4|1|x|y", "x|a|4|1|",
        "-1|a|4|1|", "7|a|-4|1|", "7|%4|4|1|", "7|a|4|1|%G0", "7|a|4|1|%00",
        "7|a||1|"};
    struct bw_pr_row r;
    struct bw_ticket_row t;

    (void)state;
    bw_pr_row_init(&r);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bw_pr_row_parse(&r, BW_IX_OPENED, bad[i], strlen(bad[i])) == 0) {
            fail_msg("parsed '%s'", bad[i]);
        }
    }
    /* the NULL string and a deleted author */
    assert_int_equal(bw_pr_row_parse(&r, BW_IX_OPENED, "7|%|2|0|", 8), 0);
    assert_null(r.author);
    assert_int_equal(r.nlabels, 0);
    /* pit: spells relative to opened_at */
    {
        const char *m = "9|bob|64|0|1000|0~|5~10|0|20|700~900,1000~|x";

        assert_int_equal(bw_pr_row_parse(&r, BW_IX_PIT, m, strlen(m)), 0);
        assert_int_equal(r.opened_at, 1000);
        assert_int_equal(r.nopen, 1);
        assert_int_equal(r.open[0].start, 1000);
        assert_true(r.open[0].end == BW_NOTIME);
        assert_int_equal(r.ndraft, 1);
        assert_int_equal(r.draft[0].start, 1005);
        assert_int_equal(r.draft[0].end, 1010);
        assert_int_equal(r.ready_at, 1000);
        assert_int_equal(r.first_review_at, 1020);
        assert_int_equal(r.nstale, 2);
        assert_int_equal(r.stale[1].start, 2000);
        assert_string_equal(r.labels[0], "x");
        /* at the opening instant it is not open yet; closed at t: not */
        assert_false(bw_pr_row_open_at(&r, 1000));
        assert_true(bw_pr_row_open_at(&r, 1001));
        assert_true(bw_pr_row_draft_at(&r, 1005));
        assert_false(bw_pr_row_draft_at(&r, 1010));
        assert_false(bw_pr_row_awaiting_review_at(&r, 1007)); /* draft */
        assert_true(bw_pr_row_awaiting_review_at(&r, 1015));
        assert_true(bw_pr_row_awaiting_review_at(&r, 1020)); /* not before */
        assert_false(bw_pr_row_awaiting_review_at(&r, 1021));
        assert_false(bw_pr_row_stale_at(&r, 1699));
        assert_true(bw_pr_row_stale_at(&r, 1700));
        assert_false(bw_pr_row_stale_at(&r, 1900));
        assert_true(bw_pr_row_stale_at(&r, 99999));
    }
    bw_pr_row_release(&r);
    bw_ticket_row_init(&t);
    {
        const char *m = "OPS-1|OPS|Bug|%|%|32|100|0~50,80~|10~|";
        int64_t since = 0;

        assert_int_equal(bw_ticket_row_parse(&t, BW_IX_TPIT, m, strlen(m)), 0);
        assert_string_equal(t.key, "OPS-1");
        assert_null(t.assignee_id);
        assert_int_equal(t.started_at, 100);
        assert_true(bw_ticket_row_in_progress_at(&t, 100));
        assert_false(bw_ticket_row_in_progress_at(&t, 150));
        assert_true(bw_ticket_row_blocked_at(&t, 190, &since));
        assert_int_equal(since, 110);
        assert_false(bw_ticket_row_blocked_at(&t, 160, NULL));
        assert_int_not_equal(bw_ticket_row_parse(&t, BW_IX_TPIT, "OPS-1|x", 7),
                             0);
        assert_int_not_equal(bw_ticket_row_parse(&t, BW_IX_PIT, m, strlen(m)),
                             0);
    }
    bw_ticket_row_release(&t);
}

/* Allocation failures in the row parser leave nothing behind. */
static void test_row_parse_torture(void **state)
{
    const char *m = "9|bob|64|0|1000|0~,3~4,5~6,7~8,9~10,11~12,13~14,15~16,"
                    "17~18|5~10|0|20|700~900,1000~|a,b,c,d,e,f,g,h,i,j";

    (void)state;
    for (long n = 1; n < 40; n++) {
        struct bw_pr_row r;
        int rc;

        bw_pr_row_init(&r);
        bw_mem_fail_at(n, 1);
        rc = bw_pr_row_parse(&r, BW_IX_PIT, m, strlen(m));
        bw_mem_fail_at(0, 0);
        assert_true(rc == 0 || rc == BW_ENOMEM);
        bw_pr_row_release(&r);
        if (rc == 0) {
            break;
        }
    }
}

/* ========================================================== connection */

static void test_connect_refused(void **state)
{
    struct bw_redis_conf c;
    struct bw_store *st = NULL;
    char closed[64];
    const char *err;
    int rc;

    (void)state;
    memset(&c, 0, sizeof(c));
    snprintf(closed, sizeof(closed), "redis://127.0.0.1:%d", bw_dead_port());
    c.url = closed;
    c.timeout = 2;
    cap_start();
    rc = bw_store_open(&c, BW_STORE_CREATE, &st);
    err = cap_stop();
    assert_int_equal(rc, BW_EREDIS);
    assert_null(st);
    assert_non_null(strstr(err, "cannot reach Redis at "));
    assert_non_null(strstr(err, closed));
    assert_non_null(strstr(err, "Connection refused"));
    assert_non_null(strstr(err, "start redis-server or fix [redis] url"));
    /* a bad URL is a config error */
    c.url = (char *)"redis://user:pw@h";
    cap_start();
    rc = bw_store_open(&c, 0, &st);
    err = cap_stop();
    assert_int_equal(rc, BW_ECONFIG);
    assert_null(strstr(err, "pw@"));
}

static void test_auth(void **state)
{
    struct bw_redis_conf c;
    struct bw_store *st = NULL;
    char user[] = "bw", secret[] = "secret", wrong[] = "hunter2";
    char file[] = "/run/credentials/redis-pw";
    const char *err;
    int rc;

    (void)state;
    NEED_REDIS();
    /* the default user's password (AUTH pass) */
    c = conf_tcp();
    assert_int_equal(bw_store_open(&c, BW_STORE_CREATE, &st), 0);
    bw_store_free(st);
    /* an ACL user (AUTH user pass) */
    c.username = user;
    c.password = secret;
    assert_int_equal(bw_store_open(&c, BW_STORE_CREATE, &st), 0);
    bw_store_free(st);
    /* a wrong password names the variable, never the password */
    c.password = wrong;
    cap_start();
    rc = bw_store_open(&c, BW_STORE_CREATE, &st);
    err = cap_stop();
    assert_int_equal(rc, BW_EAUTH);
    assert_null(st);
    assert_non_null(strstr(err, "$BW_TEST_REDIS_PASSWORD"));
    assert_non_null(strstr(err, "user 'bw'"));
    assert_null(strstr(err, wrong));
    /* ... or the file */
    c.username = NULL;
    c.password_src.env = NULL;
    c.password_src.file = file;
    cap_start();
    rc = bw_store_open(&c, BW_STORE_CREATE, &st);
    err = cap_stop();
    assert_int_equal(rc, BW_EAUTH);
    assert_non_null(strstr(err, file));
    /* no password at all: the server asks for one */
    c.password = NULL;
    cap_start();
    rc = bw_store_open(&c, BW_STORE_CREATE, &st);
    err = cap_stop();
    assert_int_equal(rc, BW_EAUTH);
    assert_non_null(strstr(err, "requires a password"));
}

static void test_select_and_unix(void **state)
{
    struct bw_redis_conf c;
    struct bw_store *st = NULL;
    redisReply *r;

    (void)state;
    NEED_REDIS();
    c = conf_tcp();
    c.url = srv.sock_url;
    c.db = 3;
    assert_int_equal(bw_store_open(&c, BW_STORE_CREATE, &st), 0);
    bw_store_free(st);
    {
        redisContext *a = bw_redisproc_admin(&srv);

        r = redisCommand(a, "SELECT 3");
        freeReplyObject(r);
        r = redisCommand(a, "GET t:schema");
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_string_equal(r->str, "1");
        freeReplyObject(r);
        redisFree(a);
    }
    assert_int_equal(cmd_int("EXISTS %s", "t:schema"), 0); /* not in db 0 */
    c.db = 99;
    cap_start();
    assert_int_equal(bw_store_open(&c, 0, &st), BW_ECONFIG);
    assert_non_null(strstr(cap_stop(), "[redis] db"));
}

static void test_schema(void **state)
{
    struct bw_redis_conf c = conf_tcp();
    struct bw_store *st = NULL;
    const char *err;
    int rc;

    (void)state;
    NEED_REDIS();
    /* without CREATE an empty store stays empty */
    assert_int_equal(bw_store_open(&c, 0, &st), 0);
    assert_true(bw_store_is_empty(st));
    bw_store_free(st);
    assert_int_equal(cmd_int("EXISTS %s", "t:schema"), 0);
    /* with CREATE the key appears */
    st = open_store(BW_STORE_CREATE);
    assert_false(bw_store_is_empty(st));
    bw_store_free(st);
    assert_int_equal(cmd_int("EXISTS %s", "t:schema"), 1);
    /* another version is refused, naming prefix and both versions */
    freeReplyObject(cmd("SET t:schema 2"));
    cap_start();
    rc = bw_store_open(&c, BW_STORE_CREATE, &st);
    err = cap_stop();
    assert_int_equal(rc, BW_ESCHEMA);
    assert_non_null(strstr(err, "prefix 't:' has schema 2, this bellwether "
                                "needs 1; use another prefix or"));
    /* data without a schema key is refused too */
    freeReplyObject(cmd("DEL t:schema"));
    freeReplyObject(cmd("SADD t:sources gh"));
    cap_start();
    rc = bw_store_open(&c, BW_STORE_CREATE, &st);
    cap_stop();
    assert_int_equal(rc, BW_ESCHEMA);
    /* another prefix is another store */
    c.prefix = (char *)"other:";
    assert_int_equal(bw_store_open(&c, BW_STORE_CREATE, &st), 0);
    bw_store_free(st);
}

/* ================================================================ sink */

static void test_sink_bookkeeping(void **state)
{
    struct bw_store *st;
    struct bw_sink s;
    struct bw_pr pr;
    char buf[64];
    const char *ids[] = {"42", "43"};
    char *vers[2];

    (void)state;
    NEED_REDIS();
    sources_init();
    st = open_store(BW_STORE_CREATE);
    assert_int_equal(bw_store_sink_init(st, &gh_src, 0, 0, &s), 0);
    assert_int_equal(s.cursor_get(s.ctx, "acme/api", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_int_equal(s.cursor_set(s.ctx, "acme/api", "2026-01-01T00:00:00Z"),
                     0);
    assert_int_equal(
        s.etag_put(s.ctx, "https://api/repos/acme/api/pulls", "W/\"abc\""), 0);
    /* nothing is visible before the commit */
    assert_int_equal(s.cursor_get(s.ctx, "acme/api", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    typical_pr(&pr, 42, T0);
    assert_int_equal(emit_pr(&s, &pr), 0);
    assert_int_equal(s.commit_page(s.ctx), 0);
    assert_int_equal(s.cursor_get(s.ctx, "acme/api", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "2026-01-01T00:00:00Z");
    assert_int_equal(
        s.etag_get(s.ctx, "https://api/repos/acme/api/pulls", buf, 64), 0);
    assert_string_equal(buf, "W/\"abc\"");
    /* a buffer too small is an error, not a cut value */
    cap_start();
    assert_int_not_equal(
        s.etag_get(s.ctx, "https://api/repos/acme/api/pulls", buf, 4), 0);
    cap_stop();
    assert_int_equal(s.item_versions(s.ctx, "acme/api", ids, 2, vers), 0);
    assert_non_null(vers[0]);
    assert_int_equal(strtoll(vers[0], NULL, 10), T0 + 30 * H);
    assert_null(vers[1]);
    bw_free(vers[0]);
    /* meta */
    assert_int_equal(s.meta_set(s.ctx, "tz", "Europe/Berlin"), 0);
    assert_int_equal(s.meta_get(s.ctx, "tz", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "Europe/Berlin");
    assert_int_equal(s.meta_get(s.ctx, "none", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    /* discard drops emitted records and queued bookkeeping */
    assert_int_equal(s.cursor_set(s.ctx, "acme/api", "later"), 0);
    pr.number = 43;
    assert_int_equal(emit_pr(&s, &pr), 0);
    s.discard_page(s.ctx);
    assert_int_equal(s.commit_page(s.ctx), 0);
    assert_int_equal(s.cursor_get(s.ctx, "acme/api", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "2026-01-01T00:00:00Z");
    assert_int_equal(cmd_int("EXISTS %s", "t:pr:{gh:acme/api}:43"), 0);
    /* signals */
    assert_int_equal(s.should_stop(s.ctx), 0);
    bw_store_stop_requested = 1;
    assert_int_equal(s.should_stop(s.ctx), BW_EINTR);
    bw_store_stop_requested = 0;
    bw_store_sink_release(&s);
    /* --full ignores marks and ETags (versions: the collector's call) */
    assert_int_equal(bw_store_sink_init(st, &gh_src, 1, 0, &s), 0);
    assert_int_equal(s.cursor_get(s.ctx, "acme/api", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_int_equal(
        s.etag_get(s.ctx, "https://api/repos/acme/api/pulls", buf, 64), 0);
    assert_string_equal(buf, "");
    assert_int_equal(s.item_versions(s.ctx, "acme/api", ids, 2, vers), 0);
    assert_non_null(vers[0]);
    bw_free(vers[0]);
    bw_store_sink_release(&s);
    /* the registries */
    assert_int_equal(cmd_int("SISMEMBER t:sources %s", "gh"), 1);
    assert_int_equal(cmd_int("SISMEMBER t:scopes %s", "gh:acme/api"), 1);
    bw_pr_release(&pr);
    bw_store_free(st);
}

static void test_emit_pr(void **state)
{
    struct bw_store *st;
    struct bw_sink s;
    struct bw_pr pr, back;
    struct bw_pr_row row;
    const char *m;

    (void)state;
    NEED_REDIS();
    sources_init();
    st = open_store(BW_STORE_CREATE);
    assert_int_equal(bw_store_sink_init(st, &gh_src, 0, 0, &s), 0);
    typical_pr(&pr, 42, T0);
    assert_int_equal(emit_pr(&s, &pr), 0);
    assert_int_equal(s.commit_page(s.ctx), 0);

    /* merged row: durations in seconds from bw_pr_derive */
    bw_pr_row_init(&row);
    m = member_of("merged", "gh:acme/api");
    assert_int_equal(bw_pr_row_parse(&row, BW_IX_MERGED, m, strlen(m)), 0);
    assert_int_equal(row.number, 42);
    assert_string_equal(row.author, "alice");
    assert_int_equal(row.flags, BW_PRF_REVIEWED | BW_PRF_MERGED);
    assert_int_equal(row.coding, 3 * H);
    assert_int_equal(row.pickup, 2 * H);
    assert_int_equal(row.review, 28 * H);
    assert_int_equal(row.cycle, 33 * H);
    assert_int_equal(row.ttfr, 1 * H);
    assert_int_equal(row.size, 150);
    assert_int_equal(row.review_rounds, 1);
    assert_int_equal(row.nlabels, 2);
    /* pit row: closed at merge, stale windows none (gaps < 7 d) */
    m = member_of("pit", "gh:acme/api");
    assert_int_equal(bw_pr_row_parse(&row, BW_IX_PIT, m, strlen(m)), 0);
    assert_int_equal(row.opened_at, T0);
    assert_int_equal(row.nopen, 1);
    assert_int_equal(row.open[0].end, T0 + 30 * H);
    assert_int_equal(row.ready_at, T0);
    assert_int_equal(row.first_review_at, T0 + 2 * H);
    assert_int_equal(row.nstale, 0);
    assert_true(bw_pr_row_awaiting_review_at(&row, T0 + H));
    assert_false(bw_pr_row_awaiting_review_at(&row, T0 + 3 * H));
    assert_false(bw_pr_row_open_at(&row, T0 + 30 * H));
    /* reviews: three counted ones, ranked */
    {
        redisReply *r = cmd("ZRANGE t:ix:reviews:{gh:acme/api} 0 -1");

        assert_int_equal(r->elements, 3);
        assert_int_equal(bw_pr_row_parse(&row, BW_IX_REVIEWS,
                                         r->element[1]->str,
                                         r->element[1]->len),
                         0);
        assert_string_equal(row.reviewer, "carol");
        assert_string_equal(row.author, "alice");
        assert_int_equal(row.state, BW_RS_CHANGES_REQUESTED);
        assert_int_equal(row.rank, 1);
        freeReplyObject(r);
    }
    /* the stored PR reads back the same */
    bw_pr_init(&back);
    assert_int_equal(bw_store_load_pr(st, "gh:acme/api", 42, &back), 0);
    assert_string_equal(back.title, pr.title);
    assert_string_equal(back.repo, "acme/api");
    assert_int_equal(back.nevents, pr.nevents);
    assert_int_equal(back.merged_at, pr.merged_at);
    assert_int_equal(back.labels.n, 2);
    assert_int_equal(bw_store_load_pr(st, "gh:acme/api", 99, &back),
                     BW_ENOTFOUND);
    bw_pr_release(&back);

    /* an update: reopened, now open, draft; rows replaced, not added */
    ev(&pr, BW_PEV_REOPENED, T0 + 40 * H, BW_NOTIME, 0, 0, "alice");
    pr.merged_at = pr.closed_at = BW_NOTIME;
    pr.open = 1;
    pr.updated_at = T0 + 40 * H;
    assert_int_equal(emit_pr(&s, &pr), 0);
    assert_int_equal(s.commit_page(s.ctx), 0);
    assert_int_equal(cmd_int("ZCARD %s", "t:ix:merged:{gh:acme/api}"), 0);
    assert_int_equal(cmd_int("ZCARD %s", "t:ix:pit:{gh:acme/api}"), 1);
    assert_int_equal(cmd_int("ZCARD %s", "t:ix:opened:{gh:acme/api}"), 1);
    {
        redisReply *r = cmd("ZRANGE t:ix:pit:{gh:acme/api} 0 -1 WITHSCORES");

        assert_string_equal(r->element[1]->str, "9000000000000000");
        assert_int_equal(bw_pr_row_parse(&row, BW_IX_PIT, r->element[0]->str,
                                         r->element[0]->len),
                         0);
        assert_int_equal(row.nopen, 2);
        assert_true(row.open[1].end == BW_NOTIME);
        /* stale 7 days after the reopen, the last activity */
        assert_int_equal(row.nstale, 1);
        assert_int_equal(row.stale[0].start, T0 + 40 * H + 7 * D);
        assert_true(bw_pr_row_stale_at(&row, T0 + 40 * H + 8 * D));
        assert_false(bw_pr_row_stale_at(&row, T0 + 35 * H));
        freeReplyObject(r);
    }
    /* the same PR emitted twice in one page: the last one wins */
    pr.title[0] = 'X';
    assert_int_equal(emit_pr(&s, &pr), 0);
    pr.additions = 1;
    assert_int_equal(emit_pr(&s, &pr), 0);
    assert_int_equal(s.commit_page(s.ctx), 0);
    assert_int_equal(cmd_int("ZCARD %s", "t:ix:pit:{gh:acme/api}"), 1);
    bw_pr_init(&back);
    assert_int_equal(bw_store_load_pr(st, "gh:acme/api", 42, &back), 0);
    assert_int_equal(back.additions, 1);
    assert_int_equal(back.title[0], 'X');
    bw_pr_release(&back);

    bw_pr_row_release(&row);
    bw_pr_release(&pr);
    bw_store_sink_release(&s);
    bw_store_free(st);
}

static void test_emit_ticket(void **state)
{
    struct bw_store *st;
    struct bw_sink s;
    struct bw_ticket t, back;
    struct bw_ticket_row row;
    const char *m;

    (void)state;
    NEED_REDIS();
    sources_init();
    bw_strlist_release(&blocked_statuses);
    assert_int_equal(bw_strlist_add(&blocked_statuses, "Blocked"), 0);
    st = open_store(BW_STORE_CREATE);
    assert_int_equal(bw_store_sink_init(st, &jira_src, 0, 0, &s), 0);
    assert_int_equal(emit_catalog(&s), 0);
    typical_ticket(&t, "OPS-7", T0);
    assert_int_equal(emit_ticket(&s, &t), 0);
    assert_int_equal(s.cursor_set(s.ctx, "OPS", "2025-10-14 08:53"), 0);
    assert_int_equal(s.commit_page(s.ctx), 0);

    /* keys per source: {jira:jira} */
    assert_int_equal(cmd_int("EXISTS %s", "t:ticket:{jira:jira}:OPS-7"), 1);
    assert_int_equal(cmd_int("HLEN %s", "t:statuses:{jira:jira}"), 4);
    assert_int_equal(cmd_int("HEXISTS t:cursor:{jira:jira} %s", "OPS"), 1);
    bw_ticket_row_init(&row);
    m = member_of("done", "jira:jira");
    assert_int_equal(bw_ticket_row_parse(&row, BW_IX_DONE, m, strlen(m)), 0);
    assert_string_equal(row.key, "OPS-7");
    assert_string_equal(row.project, "OPS");
    assert_string_equal(row.type, "Bug");
    assert_string_equal(row.assignee_name, "Erin Example");
    assert_true(row.flags & BW_TKF_DONE);
    assert_int_equal(row.lead, 5 * D);
    assert_int_equal(row.cycle, 4 * D);
    assert_int_equal(row.blocked, 2 * D);
    assert_int_equal(row.reopen_count, 0);
    m = member_of("tpit", "jira:jira");
    assert_int_equal(bw_ticket_row_parse(&row, BW_IX_TPIT, m, strlen(m)), 0);
    assert_int_equal(row.started_at, T0 + D);
    assert_true(bw_ticket_row_in_progress_at(&row, T0 + 3 * D));
    assert_false(bw_ticket_row_in_progress_at(&row, T0 + 5 * D));
    {
        int64_t since = 0;

        assert_true(bw_ticket_row_blocked_at(&row, T0 + 3 * D, &since));
        assert_int_equal(since, T0 + 2 * D);
    }
    assert_int_equal(cmd_int("ZCARD %s", "t:ix:created:{jira:jira}"), 1);
    /* reads back */
    bw_ticket_init(&back);
    assert_int_equal(bw_store_load_ticket(st, "jira:jira", "OPS-7", &back), 0);
    assert_string_equal(back.summary, t.summary);
    assert_int_equal(back.ntrs, 4);
    assert_true(back.story_points == 3);
    assert_null(back.parent);
    bw_ticket_release(&back);
    bw_ticket_row_release(&row);
    bw_ticket_release(&t);
    bw_store_sink_release(&s);
    bw_store_free(st);
}

/* ===================================================== pages and faults */

static long long count_keys(void)
{
    redisReply *r = cmd("KEYS t:*");
    long long n = 0;

    for (size_t i = 0; i < r->elements; i++) {
        /* the registries and the schema are written outside pages */
        if (strcmp(r->element[i]->str, "t:schema") &&
            strcmp(r->element[i]->str, "t:sources") &&
            strcmp(r->element[i]->str, "t:scopes") &&
            strncmp(r->element[i]->str, "t:meta:", 7) &&
            strncmp(r->element[i]->str, "t:statuses:", 11)) {
            n++;
        }
    }
    freeReplyObject(r);
    return n;
}

static void page_of_three(struct bw_sink *s)
{
    struct bw_pr pr;

    for (long n = 1; n <= 3; n++) {
        typical_pr(&pr, n, T0 + n * H);
        assert_int_equal(emit_pr(s, &pr), 0);
        bw_pr_release(&pr);
    }
    assert_int_equal(s->cursor_set(s->ctx, "acme/api", "mark"), 0);
}

static void test_page_atomic(void **state)
{
    struct bw_store *st;
    struct bw_sink s;
    int rc;

    (void)state;
    NEED_REDIS();
    sources_init();
    st = open_store(BW_STORE_CREATE);
    assert_int_equal(bw_store_sink_init(st, &gh_src, 0, 0, &s), 0);

    /* a command refused mid-page: EXECABORT, nothing written */
    page_of_three(&s);
    bw_store_set_fault(st, BW_STORE_FAULT_BADCMD, 7, 1);
    cap_start();
    rc = s.commit_page(s.ctx);
    cap_stop();
    assert_int_equal(rc, BW_EREDIS);
    assert_int_equal(count_keys(), 0);

    /* the connection dropped twice mid-page: nothing written either */
    page_of_three(&s);
    bw_store_set_fault(st, BW_STORE_FAULT_DROP, 9, 2);
    cap_start();
    rc = s.commit_page(s.ctx);
    cap_stop();
    assert_int_equal(rc, BW_EREDIS);
    assert_int_equal(count_keys(), 0);

    /* dropped once: reconnected, the page sent again and written whole */
    page_of_three(&s);
    bw_store_set_fault(st, BW_STORE_FAULT_DROP, 5, 1);
    cap_start();
    rc = s.commit_page(s.ctx);
    cap_stop();
    assert_int_equal(rc, 0);
    assert_int_equal(cmd_int("ZCARD %s", "t:ix:merged:{gh:acme/api}"), 3);
    assert_int_equal(cmd_int("HEXISTS t:cursor:{gh:acme/api} %s", "acme/api"),
                     1);
    bw_store_sink_release(&s);
    bw_store_free(st);
}

static void test_reconnect(void **state)
{
    struct bw_store *st;
    struct bw_sink s;
    char buf[32];
    int rc;

    (void)state;
    NEED_REDIS();
    sources_init();
    st = open_store(BW_STORE_CREATE);
    assert_int_equal(bw_store_sink_init(st, &gh_src, 0, 0, &s), 0);
    freeReplyObject(cmd("CLIENT KILL TYPE normal"));
    page_of_three(&s);
    cap_start();
    rc = s.commit_page(s.ctx);
    cap_stop();
    assert_int_equal(rc, 0);
    assert_int_equal(cmd_int("ZCARD %s", "t:ix:merged:{gh:acme/api}"), 3);
    freeReplyObject(cmd("CLIENT KILL TYPE normal"));
    cap_start();
    rc = s.cursor_get(s.ctx, "acme/api", buf, sizeof(buf));
    cap_stop();
    assert_int_equal(rc, 0);
    assert_string_equal(buf, "mark");
    bw_store_sink_release(&s);
    bw_store_free(st);
}

/* ================================================== reindex and dumps */

static void fill(struct bw_sink *s, int reverse)
{
    struct bw_pr pr;

    for (long i = 0; i < 5; i++) {
        long n = reverse ? 5 - i : i + 1;

        typical_pr(&pr, n, T0 + n * D);
        if (n == 2) {
            bw_strlist_release(&pr.labels);
            assert_int_equal(bw_strlist_add(&pr.labels, "dependencies"), 0);
        }
        if (n == 3) {
            pr.merged_at = pr.closed_at = BW_NOTIME;
            pr.open = 1;
            bw_pr_truncate_events(&pr, 0);
            ev(&pr, BW_PEV_COMMIT, T0, T0, 0, 0, "alice");
        }
        assert_int_equal(emit_pr(s, &pr), 0);
        bw_pr_release(&pr);
    }
    assert_int_equal(s->commit_page(s->ctx), 0);
}

static void test_reindex_and_dump(void **state)
{
    struct bw_redis_conf c = conf_tcp();
    struct bw_store *a, *b;
    struct bw_sink s;
    struct bw_store_reindex_stats rs;
    char *d1, *d2, *d3, *d4;

    (void)state;
    NEED_REDIS();
    sources_init();
    bw_strlist_release(&excl_labels);
    /* store "a:" under the old rules, store "b:" under new ones */
    c.prefix = (char *)"a:";
    assert_int_equal(bw_store_open(&c, BW_STORE_CREATE, &a), 0);
    c.prefix = (char *)"b:";
    assert_int_equal(bw_store_open(&c, BW_STORE_CREATE, &b), 0);
    assert_int_equal(bw_store_sink_init(a, &gh_src, 0, 0, &s), 0);
    fill(&s, 0);
    bw_store_sink_release(&s);
    d1 = dump_of("a:");
    assert_non_null(strstr(d1, "zset ix:merged:{gh:acme/api}\n"));
    assert_non_null(strstr(d1, "string schema\n  1\n"));
    assert_null(strstr(d1, "cursor:"));

    assert_int_equal(bw_strlist_add(&excl_labels, "dependencies"), 0);
    assert_int_equal(bw_store_sink_init(b, &gh_src, 0, 0, &s), 0);
    fill(&s, 1); /* other order: the dump does not care */
    bw_store_sink_release(&s);
    d2 = dump_of("b:");
    assert_string_not_equal(d1, d2);

    /* reindex "a:" under the new rules: now equal to "b:" */
    assert_int_equal(bw_store_reindex(a, &gh_src, &rs), 0);
    assert_int_equal(rs.prs, 5);
    assert_int_equal(rs.skipped, 0);
    d3 = dump_of("a:");
    assert_string_equal(d3, d2);
    /* reindex again changes nothing; the dump is stable */
    assert_int_equal(bw_store_reindex(a, &gh_src, &rs), 0);
    d4 = dump_of("a:");
    assert_string_equal(d4, d3);
    {
        char h[64];

        assert_int_equal(bw_store_config_hash_get(a, "gh", h, sizeof(h)), 0);
        assert_string_equal(h, "hash-1");
    }
    free(d1);
    free(d2);
    free(d3);
    free(d4);
    /* an empty store dumps nothing (but its schema) */
    d1 = dump_of("empty:");
    assert_string_equal(d1, "");
    free(d1);
    bw_strlist_release(&excl_labels);
    bw_store_free(a);
    bw_store_free(b);
}

struct scan_seen {
    int n;
    char tags[8][64];
};

static int scan_cb(void *arg, const char *tag, const char *member, size_t len,
                   double score)
{
    struct scan_seen *s = arg;
    struct bw_pr_row r;

    bw_pr_row_init(&r);
    assert_int_equal(bw_pr_row_parse(&r, BW_IX_MERGED, member, len), 0);
    assert_true(score >= (double)(T0 + 30 * H));
    bw_pr_row_release(&r);
    if (s->n < 8) {
        snprintf(s->tags[s->n], sizeof(s->tags[0]), "%s", tag);
    }
    s->n++;
    return 0;
}

static void test_scan(void **state)
{
    struct bw_store *st;
    struct bw_sink s;
    struct bw_pr pr;
    struct scan_seen seen;
    struct bw_strlist scopes;

    (void)state;
    NEED_REDIS();
    sources_init();
    st = open_store(BW_STORE_CREATE);
    assert_int_equal(bw_store_sink_init(st, &gh_src, 0, 0, &s), 0);
    for (long n = 1; n <= 4; n++) {
        typical_pr(&pr, n, T0 + n * D);
        bw_free(pr.repo);
        pr.repo = bw_strdup(n % 2 ? "acme/api" : "acme/web");
        assert_int_equal(emit_pr(&s, &pr), 0);
        bw_pr_release(&pr);
    }
    assert_int_equal(s.commit_page(s.ctx), 0);
    assert_int_equal(bw_store_scopes(st, &scopes), 0);
    assert_int_equal(scopes.n, 2);
    assert_string_equal(scopes.v[0], "gh:acme/api");
    bw_strlist_release(&scopes);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(bw_store_scan(st, BW_IX_MERGED, BW_NOTIME, BW_NOTIME, NULL,
                                   0, scan_cb, &seen),
                     0);
    assert_int_equal(seen.n, 4);
    assert_string_equal(seen.tags[0], "gh:acme/api");
    assert_string_equal(seen.tags[3], "gh:acme/web");
    /* inclusive bounds: PRs 2 and 3 merged at T0 + n d + 30 h */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(bw_store_scan(st, BW_IX_MERGED, T0 + 2 * D + 30 * H,
                                   T0 + 3 * D + 30 * H, NULL, 0, scan_cb,
                                   &seen),
                     0);
    assert_int_equal(seen.n, 2);
    bw_store_sink_release(&s);
    bw_store_free(st);
}

/* ======================================================= measurements */

static long long used_memory(void)
{
    redisReply *r = cmd("INFO memory");
    const char *p = strstr(r->str, "used_memory:");
    long long v = p ? strtoll(p + 12, NULL, 10) : -1;

    freeReplyObject(r);
    return v;
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/*
 * 1000 typical PRs (10 events, 3 counted reviews, 2 labels) in one
 * repository, pages of 50: Redis used_memory growth per PR (target
 * <= 2 KB, packed events included) and this process's CPU time per 1000
 * PRs for derive + pack + commit (the collector's whole budget is 0.4 s).
 */
static void test_memory_and_cpu(void **state)
{
    struct bw_store *st;
    struct bw_sink s;
    struct bw_pr pr;
    long long before, after;
    double c0, c1, per_pr;

    (void)state;
    NEED_REDIS();
    sources_init();
    st = open_store(BW_STORE_CREATE);
    assert_int_equal(bw_store_sink_init(st, &gh_src, 0, 0, &s), 0);
    before = used_memory();
    c0 = cpu_seconds();
    for (long n = 1; n <= 1000; n++) {
        typical_pr(&pr, n, T0 + n * 600);
        assert_int_equal(emit_pr(&s, &pr), 0);
        bw_pr_release(&pr);
        if (n % 50 == 0) {
            assert_int_equal(s.commit_page(s.ctx), 0);
        }
    }
    c1 = cpu_seconds();
    after = used_memory();
    per_pr = (double)(after - before) / 1000.0;
    fprintf(stderr,
            "# store: %.0f bytes of Redis used_memory per typical PR; "
            "%.3f s CPU per 1000 PRs (pack + commit, this process)\n",
            per_pr, c1 - c0);
    {
        redisReply *r = cmd("MEMORY USAGE t:pr:{gh:acme/api}:500");

        fprintf(stderr, "# store: the PR hash alone: %lld bytes\n",
                r->type == REDIS_REPLY_INTEGER ? r->integer : -1);
        freeReplyObject(r);
    }
    assert_true(per_pr <= 2048.0);
    /* timing means nothing under valgrind (make soak) */
    if (strstr(getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "", "vgpreload") ==
        NULL) {
        assert_true(c1 - c0 < 0.2);
    }
    bw_store_sink_release(&s);
    bw_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_url),
        cmocka_unit_test(test_codec_roundtrip),
        cmocka_unit_test(test_row_parse_bad),
        cmocka_unit_test(test_row_parse_torture),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test_setup(test_auth, fresh),
        cmocka_unit_test_setup(test_select_and_unix, fresh),
        cmocka_unit_test_setup(test_schema, fresh),
        cmocka_unit_test_setup(test_sink_bookkeeping, fresh),
        cmocka_unit_test_setup(test_emit_pr, fresh),
        cmocka_unit_test_setup(test_emit_ticket, fresh),
        cmocka_unit_test_setup(test_page_atomic, fresh),
        cmocka_unit_test_setup(test_reconnect, fresh),
        cmocka_unit_test_setup(test_reindex_and_dump, fresh),
        cmocka_unit_test_setup(test_scan, fresh),
        cmocka_unit_test_setup(test_memory_and_cpu, fresh),
    };

    return cmocka_run_group_tests(tests, start_server, stop_server);
}
