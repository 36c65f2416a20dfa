/*
 * test_http.c - the HTTP client (src/http.c).
 *
 * Pure parts first (Link headers, reset times, Retry-After, URL encoding),
 * then the client over real HTTP on 127.0.0.1: against the API simulator
 * (tests/apisim/apisim, one process per test with that test's faults;
 * skipped with a message when it is missing) and against a scripted server
 * (cannedsrv.h) where exact bytes matter. The Link forms recorded in
 * ../shared/api-samples/github are read at run time when present.
 *
 * BELLWETHER_BACKOFF_BASE_MS=10 is set for the whole run so retries take
 * milliseconds; rate-limit waits still take real seconds (a few tests wait
 * 1-4 s on purpose).
 */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <cJSON.h>

#include "cannedsrv.h"
#include "simproc.h"

#include "bellwether/error.h"
#include "bellwether/http.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"

static struct bw_sim sim = {0, -1, 0, ""};
static struct bw_canned can[2];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int teardown(void **state)
{
    (void)state;
    bw_sim_stop(&sim);
    for (int i = 0; i < 2; i++) {
        if (can[i].started) {
            bw_canned_stop(&can[i]);
        }
    }
    unsetenv("BELLWETHER_MIN_SECONDARY_WAIT");
    bw_log_set_level(BW_LOG_WARN);
    return 0;
}

/* Start the simulator with these arguments, or skip the test. */
static void sim_up(const char *const *args)
{
    int rc = bw_sim_start(&sim, args);

    if (rc == 1) {
        print_message("skipped: the API simulator '%s' does not exist yet\n",
                      bw_sim_path());
        skip();
    }
    assert_int_equal(rc, 0);
}

static void canned_up(int i, const char *const *responses)
{
    assert_int_equal(bw_canned_start(&can[i], responses), 0);
}

static struct bw_http_opts opts_for(int api)
{
    struct bw_http_opts o;

    memset(&o, 0, sizeof(o));
    o.api = api;
    o.max_parallel = 1;
    o.max_rate_wait = 60;
    o.connect_timeout = 5;
    o.timeout = 20;
    return o;
}

static struct bw_http *client(const struct bw_http_opts *o)
{
    struct bw_http *h = NULL;

    assert_int_equal(bw_http_new(o, &h), 0);
    assert_non_null(h);
    return h;
}

static int fetch(struct bw_http *h, const char *url, struct bw_http_resp *resp)
{
    struct bw_http_req req;

    memset(&req, 0, sizeof(req));
    req.url = url;
    return bw_http_fetch(h, &req, resp);
}

/* GET base + path and parse it (a simulator control endpoint). */
static cJSON *sim_json(const char *path)
{
    struct bw_http_opts o = opts_for(BW_API_GENERIC);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[256];
    cJSON *j;

    o.max_tries = 1;
    h = client(&o);
    snprintf(url, sizeof(url), "%s%s", sim.base, path);
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 200);
    j = cJSON_ParseWithLength(r.body.data, r.body.len);
    assert_non_null(j);
    bw_http_resp_release(&r);
    bw_http_free(h);
    return j;
}

static long sim_stat(const char *name)
{
    cJSON *j = sim_json("/__stats");
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    long n;

    assert_true(cJSON_IsNumber(v));
    n = (long)v->valuedouble;
    cJSON_Delete(j);
    return n;
}

static void sim_url(char *out, size_t n, const char *path)
{
    snprintf(out, n, "%s%s", sim.base, path);
}

/* ------------------------------------------------------------ pure */

struct link_case {
    const char *value;
    size_t len; /* 0: strlen */
    const char *next;
    const char *last;
};

static void test_parse_link_cases(void **state)
{
    static const struct link_case cases[] = {
        {"<https://a/x?page=2>; rel=\"next\", <https://a/x?page=5>; "
         "rel=\"last\"",
         0, "https://a/x?page=2", "https://a/x?page=5"},
        /* any order, with prev and first */
        {"<u1>; rel=\"prev\", <u5>; rel=\"last\", <u3>; rel=\"next\", "
         "<u0>; rel=\"first\"",
         0, "u3", "u5"},
        /* the last page: no next, no last */
        {"<u4>; rel=\"prev\", <u1>; rel=\"first\"", 0, NULL, NULL},
        /* one entry, several relation types */
        {"<u9>; rel=\"next last\"", 0, "u9", "u9"},
        {"<u9>; rel=\"prev  LAST\"", 0, NULL, "u9"},
        /* unquoted, upper case, spaces everywhere */
        {"<u2>;rel=next,<u7>;rel=last", 0, "u2", "u7"},
        {"  < u2 >  ;  REL = \"Next\"  ,\t<u7> ; Rel=\"LAST\" ", 0, "u2", "u7"},
        /* commas and semicolons inside the URL and in other params */
        {"<https://a/x?labels=a,b;c&page=2>; rel=\"next\"", 0,
         "https://a/x?labels=a,b;c&page=2", NULL},
        {"<u2>; title=\"a, b; rel=last\"; rel=\"next\"", 0, "u2", NULL},
        /* the first of two wins */
        {"<u2>; rel=\"next\", <u3>; rel=\"next\"", 0, "u2", NULL},
        /* junk entries and junk params are skipped */
        {"junk, <u2>; rel=\"next\"", 0, "u2", NULL},
        {"<u2>; junk; rel=\"next\"; anchor=\"#x\"", 0, "u2", NULL},
        {"<u2>; rel=\"next\"junk, <u3>; rel=last", 0, "u2", "u3"},
        /* nothing usable */
        {"", 0, NULL, NULL},
        {",,, ;;; ", 0, NULL, NULL},
        {"<>; rel=\"next\"", 0, NULL, NULL},
        {"<u2>; type=\"text/html\"", 0, NULL, NULL},
        {"<u2>; rel=\"nextpage\"", 0, NULL, NULL},
        {"<u2>; rel", 0, NULL, NULL},
        {"<u2>; rel=", 0, NULL, NULL},
        {"<u2>; rel=\"next", 0, "u2", NULL},
        {"<u2; rel=\"next\"", 0, NULL, NULL},
        {"<u\x01>; rel=\"next\", <u\tx>; rel=\"last\"", 0, NULL, NULL},
        {"<u1; rel=\"prev\", <u2>; rel=\"next\"", 0, "u2", NULL},
        {"u2; rel=\"next\"", 0, NULL, NULL},
        /* len is honoured: the value need not be NUL-terminated */
        {"<u2>; rel=\"next\", <u5>; rel=\"last\"", 17, "u2", NULL},
        {"<u2>; rel=\"next\", <u5>; rel=\"last\"", 3, NULL, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct link_case *c = &cases[i];
        char *next = (char *)1;
        char *last = (char *)1;
        size_t len = c->len ? c->len : strlen(c->value);

        assert_int_equal(bw_http_parse_link(c->value, len, &next, &last), 0);
        if (c->next) {
            assert_non_null(next);
            assert_string_equal(next, c->next);
        } else if (next) {
            fail_msg("case %zu: unexpected next '%s'", i, next);
        }
        if (c->last) {
            assert_non_null(last);
            assert_string_equal(last, c->last);
        } else if (last) {
            fail_msg("case %zu: unexpected last '%s'", i, last);
        }
        bw_free(next);
        bw_free(last);
    }
    {
        char *next = (char *)1;
        char *last = (char *)1;

        assert_int_equal(bw_http_parse_link(NULL, 0, &next, &last), 0);
        assert_null(next);
        assert_null(last);
    }
}

/* Every allocation failure is reported and leaks nothing. */
static void test_parse_link_torture(void **state)
{
    static const char v[] = "<u1>; rel=\"prev\", <u5>; rel=\"last\", "
                            "<u3>; rel=\"next\"";
    int ok = 0;

    (void)state;
    for (long n = 1; n < 20 && !ok; n++) {
        char *next = NULL;
        char *last = NULL;
        int rc;

        bw_mem_fail_at(n, 0);
        rc = bw_http_parse_link(v, strlen(v), &next, &last);
        if (bw_mem_failed()) {
            assert_int_equal(rc, BW_ENOMEM);
            assert_null(next);
            assert_null(last);
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(next, "u3");
            assert_string_equal(last, "u5");
            ok = 1;
        }
        bw_free(next);
        bw_free(last);
    }
    bw_mem_fail_at(0, 0);
    assert_true(ok);
}

/* Does some entry "<url>; ..." of value carry rel="rel"? (The same URL
   can appear twice: on the next-to-last page next and last coincide.) */
static int entry_has_rel(const char *value, const char *url, const char *rel)
{
    char pat[4096];
    char want[32];
    const char *at = value;

    snprintf(pat, sizeof(pat), "<%s>", url);
    snprintf(want, sizeof(want), "rel=\"%s\"", rel);
    while ((at = strstr(at, pat)) != NULL) {
        const char *end;
        const char *r;

        at += strlen(pat);
        end = strchr(at, ',');
        r = strstr(at, want);
        if (r != NULL && (end == NULL || r < end)) {
            return 1;
        }
    }
    return 0;
}

static void check_sample_link(const char *file, const char *value)
{
    char *next = NULL;
    char *last = NULL;

    assert_int_equal(bw_http_parse_link(value, strlen(value), &next, &last), 0);
    if (strstr(value, "rel=\"next\"")) {
        assert_non_null(next);
        assert_true(strncmp(next, "https://", 8) == 0);
        assert_true(entry_has_rel(value, next, "next"));
    } else {
        assert_null(next);
    }
    if (strstr(value, "rel=\"last\"")) {
        assert_non_null(last);
        assert_true(entry_has_rel(value, last, "last"));
    } else {
        assert_null(last);
    }
    /* known pages: page 1 of 5 and the last page */
    if (strcmp(file, "issues-list.page1.headers.txt") == 0) {
        assert_non_null(next);
        assert_non_null(last);
        assert_non_null(strstr(next, "&page=2"));
        assert_non_null(strstr(last, "&page=5"));
    }
    if (strcmp(file, "issues-list.page5.headers.txt") == 0) {
        assert_null(next);
        assert_null(last);
    }
    bw_free(next);
    bw_free(last);
}

static void test_parse_link_samples(void **state)
{
    const char *shared = bw_test_shared_dir();
    char dir[4096];
    struct dirent *de;
    DIR *d;
    int seen = 0;

    (void)state;
    if (shared == NULL) {
        print_message("skipped: ../shared/api-samples not found "
                      "(set BW_SHARED_DIR)\n");
        skip();
    }
    snprintf(dir, sizeof(dir), "%s/api-samples/github", shared);
    d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char path[8192];
        char *text;
        char *line;
        size_t n = strlen(de->d_name);

        if (n < 12 || strcmp(de->d_name + n - 12, ".headers.txt") != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        text = bw_test_read_file(path, NULL);
        assert_non_null(text);
        for (line = text; line && *line;) {
            char *eol = strchr(line, '\n');

            if (eol) {
                *eol = '\0';
            }
            if (strncasecmp(line, "link:", 5) == 0) {
                size_t l = strlen(line);

                if (l && line[l - 1] == '\r') {
                    line[l - 1] = '\0';
                }
                check_sample_link(de->d_name, line + 5);
                seen++;
            }
            line = eol ? eol + 1 : NULL;
        }
        free(text);
    }
    closedir(d);
    assert_true(seen >= 5);
}

static void test_parse_times(void **state)
{
    static const struct {
        const char *s;
        int64_t want; /* -1: BW_EPARSE */
    } resets[] = {
        {"1658208999", 1658208999},
        {"0", 0},
        {"2026-11-16T10:30Z", 1794825000},
        {"2026-11-16T10:30:00Z", 1794825000},
        {"2026-11-16T10:30:00.000Z", 1794825000},
        {"2026-11-16T10:30:00.000+0000", 1794825000},
        {"2026-11-16T11:30:00+01:00", 1794825000},
        {"2026-11-16T05:30-0500", 1794825000},
        {"2026-11-16 10:30:30z", 1794825030},
        {"", -1},
        {"soon", -1},
        {"12x", -1},
        {"-5", -1},
        {"2026-11-16", -1},
        {"2026-13-16T10:30Z", -1},
        {"2026-11-16T25:30Z", -1},
        {"2026-11-16T10:30+1", -1},
        {"2026-11-16T10:30Zjunk", -1},
    };
    long sec = -1;

    (void)state;
    for (size_t i = 0; i < sizeof(resets) / sizeof(resets[0]); i++) {
        int64_t v = -7;
        int rc = bw_http_parse_reset(resets[i].s, &v);

        if (resets[i].want < 0) {
            assert_int_equal(rc, BW_EPARSE);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(v, resets[i].want);
        }
    }
    assert_int_equal(bw_http_parse_reset(NULL, &(int64_t){0}), BW_EPARSE);

    assert_int_equal(bw_http_parse_retry_after("120", 0, &sec), 0);
    assert_int_equal(sec, 120);
    assert_int_equal(bw_http_parse_retry_after("0", 0, &sec), 0);
    assert_int_equal(sec, 0);
    assert_int_equal(bw_http_parse_retry_after("Mon, 16 Nov 2026 10:30:30 GMT",
                                               1794825000, &sec),
                     0);
    assert_int_equal(sec, 30);
    /* a date in the past: go now */
    assert_int_equal(bw_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
                                               1794825000, &sec),
                     0);
    assert_int_equal(sec, 0);
    assert_int_equal(bw_http_parse_retry_after("", 0, &sec), BW_EPARSE);
    assert_int_equal(bw_http_parse_retry_after("later", 0, &sec), BW_EPARSE);
    assert_int_equal(bw_http_parse_retry_after("-3", 0, &sec), BW_EPARSE);
}

static void test_urlencode(void **state)
{
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    assert_int_equal(bw_http_urlencode(&b, "a b&c=d/\xc3\xa9~_.-Z9"), 0);
    assert_string_equal(b.data, "a%20b%26c%3Dd%2F%C3%A9~_.-Z9");
    bw_buf_reset(&b);
    assert_int_equal(
        bw_http_urlencode(&b, "project = OPS AND updated >= \"2026-11-01\""),
        0);
    assert_string_equal(b.data, "project%20%3D%20OPS%20AND%20updated%20%3E%3D"
                                "%20%222026-11-01%22");
    bw_buf_release(&b);
    assert_int_equal(bw_http_urlencode(&b, ""), 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    bw_buf_release(&b);
}

static void test_bad_options(void **state)
{
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h = NULL;
    char path[] = "/tmp/bw-test-http-XXXXXX";
    int fd;

    (void)state;
    o.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(bw_http_new(&o, &h), BW_ECONFIG);
    assert_null(h);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_true(write(fd, "not a certificate\n", 18) == 18);
    close(fd);
    o.ca_file = path;
    assert_int_equal(bw_http_new(&o, &h), BW_ECONFIG);
    unlink(path);
    o.ca_file = NULL;
    o.auth = "Bearer a\r\nX-Evil: 1";
    assert_int_equal(bw_http_new(&o, &h), BW_ECONFIG);
    o.auth = NULL;
    h = client(&o);
    {
        struct bw_http_req req;

        memset(&req, 0, sizeof(req));
        req.url = "ftp://example.com/x";
        assert_int_equal(bw_http_submit(h, &req), BW_EUSAGE);
        req.url = "http://127.0.0.1/x";
        req.method = "get me";
        assert_int_equal(bw_http_submit(h, &req), BW_EUSAGE);
        req.method = NULL;
        req.if_none_match = "\"a\"\r\nX: 1";
        assert_int_equal(bw_http_submit(h, &req), BW_EUSAGE);
    }
    bw_http_free(h);
}

/* ------------------------------------------------------------ simulator */

struct walk {
    struct bw_http *h;
    int pages;
    int items;
    int max_items;
    char *first_last;
    char *final_url;
    int final_had_next;
};

static int walk_cb(void *user, const struct bw_http_req *req,
                   const struct bw_http_resp *resp, int rc)
{
    struct walk *w = user;
    struct bw_http_req next;
    cJSON *j;
    int n;

    if (resp == NULL) {
        return rc;
    }
    assert_int_equal(resp->status, 200);
    j = cJSON_ParseWithLength(resp->body.data, resp->body.len);
    assert_true(cJSON_IsArray(j));
    n = cJSON_GetArraySize(j);
    cJSON_Delete(j);
    w->items += n;
    w->max_items = n > w->max_items ? n : w->max_items;
    if (w->pages++ == 0) {
        assert_non_null(resp->last);
        w->first_last = strdup(resp->last);
    }
    free(w->final_url);
    w->final_url = strdup(resp->url);
    w->final_had_next = resp->next != NULL;
    if (resp->next) {
        next = *req;
        next.url = resp->next;
        return bw_http_submit(w->h, &next);
    }
    return 0;
}

static void test_pagination(void **state)
{
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct walk w;
    struct bw_http_req req;
    char url[256];

    (void)state;
    sim_up(NULL);
    memset(&w, 0, sizeof(w));
    w.h = client(&o);
    memset(&req, 0, sizeof(req));
    sim_url(url, sizeof(url), "/repos/acme/api/pulls?per_page=5&state=all");
    req.url = url;
    req.cb = walk_cb;
    req.user = &w;
    assert_int_equal(bw_http_submit(w.h, &req), 0);
    assert_int_equal(bw_http_run(w.h), 0);
    print_message("pagination: %d pages, %d items\n", w.pages, w.items);
    assert_true(w.pages >= 2);
    assert_true(w.max_items <= 5);
    assert_true(w.items > 5);
    assert_int_equal(w.final_had_next, 0);
    assert_string_equal(w.final_url, w.first_last);
    assert_int_equal(bw_http_stats(w.h)->requests, w.pages);
    assert_int_equal(sim_stat("requests"), w.pages);
    free(w.first_last);
    free(w.final_url);
    bw_http_free(w.h);
}

static void test_not_modified(void **state)
{
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    struct bw_http_req req;
    char url[256];
    char *etag;

    (void)state;
    sim_up(NULL);
    h = client(&o);
    sim_url(url, sizeof(url), "/repos/acme/api/pulls?per_page=5");
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(r.etag);
    assert_true(r.body.len > 0);
    etag = strdup(r.etag);
    bw_http_resp_release(&r);

    memset(&req, 0, sizeof(req));
    req.url = url;
    req.if_none_match = etag;
    assert_int_equal(bw_http_fetch(h, &req, &r), 0);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body.len, 0);
    assert_null(r.next);
    bw_http_resp_release(&r);
    assert_int_equal(bw_http_stats(h)->not_modified, 1);
    assert_int_equal(bw_http_stats(h)->requests, 2);
    assert_int_equal(sim_stat("not_modified"), 1);
    assert_true(bw_http_stats(h)->quota_limit > 0);
    assert_true(bw_http_stats(h)->quota_remaining > 0);
    assert_true(bw_http_stats(h)->quota_reset > (int64_t)time(NULL));
    free(etag);
    bw_http_free(h);
}

static void test_not_found_delivered(void **state)
{
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[256];

    (void)state;
    sim_up(NULL);
    h = client(&o);
    sim_url(url, sizeof(url), "/repos/acme/no-such-repo/pulls");
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 404);
    assert_int_equal(bw_http_stats(h)->retries, 0);
    bw_http_resp_release(&r);
    bw_http_free(h);
}

/*
 * Count /__log entries (API requests only), those with a status >= 500 and
 * the distinct client connections. The simulator logs a request after its
 * reply is sent, so wait (2 s at most) until want entries are there.
 */
static cJSON *sim_log(int want)
{
    cJSON *log = sim_json("/__log");

    for (int i = 0; i < 100 && cJSON_GetArraySize(log) < want; i++) {
        struct timespec ts = {0, 20 * 1000000L};

        nanosleep(&ts, NULL);
        cJSON_Delete(log);
        log = sim_json("/__log");
    }
    return log;
}

static void log_counts(int want, int *all, int *errors, int *peers)
{
    cJSON *log = sim_log(want);
    cJSON *e;
    char seen[64][32];
    int np = 0;

    *all = 0;
    *errors = 0;
    cJSON_ArrayForEach(e, log)
    {
        cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "status");
        cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
        cJSON *peer = cJSON_GetObjectItemCaseSensitive(e, "peer");
        int known = 0;

        if (cJSON_IsString(path) && strncmp(path->valuestring, "/__", 3) == 0) {
            continue;
        }
        (*all)++;
        if (cJSON_IsNumber(st) && st->valuedouble >= 500) {
            (*errors)++;
        }
        for (int i = 0; cJSON_IsString(peer) && i < np; i++) {
            known |= strcmp(seen[i], peer->valuestring) == 0;
        }
        if (cJSON_IsString(peer) && !known && np < 64) {
            snprintf(seen[np++], sizeof(seen[0]), "%s", peer->valuestring);
        }
    }
    if (peers) {
        *peers = np;
    }
    cJSON_Delete(log);
}

static void test_retry_5xx(void **state)
{
    static const char *const args[] = {"--faults", "5xx:0.3", "--seed", "7",
                                       NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    char url[256];
    int all;
    int errors;

    (void)state;
    sim_up(args);
    h = client(&o);
    sim_url(url, sizeof(url), "/repos/acme/api");
    for (int i = 0; i < 20; i++) {
        struct bw_http_resp r;

        assert_int_equal(fetch(h, url, &r), 0);
        assert_int_equal(r.status, 200);
        bw_http_resp_release(&r);
    }
    log_counts((int)bw_http_stats(h)->requests, &all, &errors, NULL);
    print_message("5xx:0.3: %d requests, %d server errors, %ld retries\n", all,
                  errors, bw_http_stats(h)->retries);
    assert_true(errors > 0);
    assert_int_equal(bw_http_stats(h)->retries, errors);
    assert_int_equal(bw_http_stats(h)->requests, all);
    bw_http_free(h);
}

static void test_retry_truncated(void **state)
{
    static const char *const args[] = {"--faults", "truncate@2", NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    char url[256];

    (void)state;
    sim_up(args);
    h = client(&o);
    sim_url(url, sizeof(url), "/repos/acme/api/pulls?per_page=5");
    for (int i = 0; i < 3; i++) {
        struct bw_http_resp r;
        cJSON *j;

        assert_int_equal(fetch(h, url, &r), 0);
        assert_int_equal(r.status, 200);
        j = cJSON_ParseWithLength(r.body.data, r.body.len);
        assert_non_null(j);
        cJSON_Delete(j);
        bw_http_resp_release(&r);
    }
    assert_int_equal(bw_http_stats(h)->retries, 1);
    assert_int_equal(bw_http_stats(h)->requests, 4);
    bw_http_free(h);
}

struct parse_state {
    int calls;
    int parsed;
};

static int parse_cb(void *user, const struct bw_http_req *req,
                    const struct bw_http_resp *resp, int rc)
{
    struct parse_state *p = user;
    cJSON *j;

    (void)req;
    p->calls++;
    if (resp == NULL) {
        return rc;
    }
    j = cJSON_ParseWithLength(resp->body.data, resp->body.len);
    if (j == NULL) {
        return BW_HTTP_RETRY;
    }
    cJSON_Delete(j);
    p->parsed++;
    return 0;
}

static void test_retry_badjson(void **state)
{
    static const char *const args[] = {"--faults", "badjson@1", NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_req req;
    struct parse_state p = {0, 0};
    char url[256];

    (void)state;
    sim_up(args);
    h = client(&o);
    sim_url(url, sizeof(url), "/repos/acme/api/pulls?per_page=5");
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.cb = parse_cb;
    req.user = &p;
    assert_int_equal(bw_http_submit(h, &req), 0);
    assert_int_equal(bw_http_run(h), 0);
    assert_int_equal(p.calls, 2);
    assert_int_equal(p.parsed, 1);
    assert_int_equal(bw_http_stats(h)->retries, 1);
    bw_http_free(h);
}

/* One fetch expected to succeed after a wait; returns the seconds taken. */
static double timed_ok(struct bw_http *h, const char *path)
{
    struct bw_http_resp r;
    char url[256];
    double t0 = now_s();

    sim_url(url, sizeof(url), path);
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 200);
    bw_http_resp_release(&r);
    return now_s() - t0;
}

static void test_secondary_retry_after(void **state)
{
    static const char *const args[] = {"--faults", "secondary@1",
                                       "--retry-after", "1", NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    double t;

    (void)state;
    sim_up(args);
    h = client(&o);
    t = timed_ok(h, "/repos/acme/api");
    print_message("secondary limit with Retry-After 1: %.2f s\n", t);
    assert_true(t >= 0.95 && t < 5);
    assert_int_equal(bw_http_stats(h)->retries, 1);
    assert_true(bw_http_stats(h)->wait_seconds >= 0.9);
    bw_http_free(h);
}

static void test_secondary_bare(void **state)
{
    static const char *const args[] = {"--faults", "secondary-bare@1", NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    double t;

    (void)state;
    sim_up(args);
    setenv("BELLWETHER_MIN_SECONDARY_WAIT", "1", 1);
    h = client(&o);
    t = timed_ok(h, "/repos/acme/api");
    print_message("bare secondary limit, floor 1 s: %.2f s\n", t);
    assert_true(t >= 0.95 && t < 5);
    assert_int_equal(bw_http_stats(h)->retries, 1);
    bw_http_free(h);
}

static void test_primary_wait(void **state)
{
    static const char *const args[] = {"--faults", "ratelimit@1", "--reset-in",
                                       "2", NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    double t;

    (void)state;
    sim_up(args);
    h = client(&o);
    t = timed_ok(h, "/repos/acme/api");
    print_message("primary limit, reset in 2 s: waited %.2f s\n", t);
    assert_true(t >= 1.5 && t < 6);
    assert_int_equal(bw_http_stats(h)->retries, 1);
    assert_true(bw_http_stats(h)->quota_remaining > 0);
    bw_http_free(h);
}

static void test_primary_too_long(void **state)
{
    static const char *const args[] = {"--faults", "ratelimit@1", "--reset-in",
                                       "30", NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[256];
    const char *err;
    double t0 = now_s();

    (void)state;
    sim_up(args);
    o.max_rate_wait = 1;
    h = client(&o);
    sim_url(url, sizeof(url), "/repos/acme/api");
    assert_int_equal(fetch(h, url, &r), BW_ERATELIMIT);
    assert_int_equal(r.status, 0);
    err = bw_http_last_error(h);
    print_message("error line: %s\n", err);
    assert_non_null(strstr(err, "GitHub quota exhausted until "));
    assert_non_null(strstr(err, " UTC"));
    assert_non_null(strstr(err, "raise max_rate_wait"));
    assert_non_null(strstr(err, "run later"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(bw_http_stats(h)->quota_remaining, 0);
    /* the quota is known to be gone: no further request reaches the API */
    assert_int_equal(fetch(h, url, &r), BW_ERATELIMIT);
    assert_int_equal(sim_stat("requests"), 1);
    assert_true(now_s() - t0 < 5);
    bw_http_free(h);
}

static int tick_calls;
static double tick_t0;

static int stop_after_a_second(void *arg)
{
    (void)arg;
    tick_calls++;
    return now_s() - tick_t0 >= 1.0 ? BW_EINTR : 0;
}

static void test_tick_stops_wait(void **state)
{
    static const char *const args[] = {"--faults", "ratelimit@1", "--reset-in",
                                       "60", NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[256];
    double t;

    (void)state;
    sim_up(args);
    o.max_rate_wait = 300;
    o.tick = stop_after_a_second;
    h = client(&o);
    sim_url(url, sizeof(url), "/repos/acme/api");
    tick_calls = 0;
    tick_t0 = now_s();
    assert_int_equal(fetch(h, url, &r), BW_EINTR);
    t = now_s() - tick_t0;
    print_message("tick stopped a 60 s quota wait after %.2f s (%d ticks)\n", t,
                  tick_calls);
    assert_true(t >= 0.9 && t < 3);
    assert_true(tick_calls >= 2);
    assert_int_equal(r.status, 0);
    bw_http_free(h);
}

static void test_auth(void **state)
{
    static const char *const args[] = {"--token", "sekret", NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[256];
    const char *err;

    (void)state;
    sim_up(args);
    sim_url(url, sizeof(url), "/repos/acme/api");
    o.auth = "Bearer wrong-token";
    o.auth_source = "GITHUB_TOKEN";
    h = client(&o);
    assert_int_equal(fetch(h, url, &r), BW_EAUTH);
    err = bw_http_last_error(h);
    print_message("error line: %s\n", err);
    assert_non_null(strstr(err, "credentials refused by "));
    assert_non_null(strstr(err, "(401)"));
    assert_non_null(strstr(err, "check the token in GITHUB_TOKEN"));
    assert_null(strstr(err, "wrong-token"));
    assert_int_equal(bw_http_stats(h)->retries, 0);
    bw_http_free(h);

    o.auth = "Bearer sekret";
    h = client(&o);
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 200);
    bw_http_resp_release(&r);
    bw_http_free(h);
}

static void test_connection_refused(void **state)
{
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[128];
    const char *err;
    double t0 = now_s();

    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/repos/acme/api",
             bw_dead_port());
    h = client(&o);
    assert_int_equal(fetch(h, url, &r), BW_EHTTP);
    err = bw_http_last_error(h);
    print_message("error line: %s\n", err);
    assert_non_null(strstr(err, "GET http://127.0.0.1:"));
    assert_non_null(strstr(err, "(after 5 tries); check the network or the "
                                "service"));
    assert_int_equal(bw_http_stats(h)->requests, 5);
    assert_int_equal(bw_http_stats(h)->retries, 4);
    assert_true(now_s() - t0 < 5);
    bw_http_free(h);
}

static void test_parallel_and_reuse(void **state)
{
    static const char *const args[] = {"--latency-ms", "100", NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct parse_state p = {0, 0};
    struct bw_http_req req;
    char url[256];
    double t;
    int all;
    int errors;
    int peers;

    (void)state;
    sim_up(args);
    o.max_parallel = 3;
    h = client(&o);
    memset(&req, 0, sizeof(req));
    sim_url(url, sizeof(url), "/repos/acme/api");
    req.url = url;
    req.cb = parse_cb;
    req.user = &p;
    for (int i = 0; i < 12; i++) {
        assert_int_equal(bw_http_submit(h, &req), 0);
    }
    t = now_s();
    assert_int_equal(bw_http_run(h), 0);
    t = now_s() - t;
    log_counts(12, &all, &errors, &peers);
    print_message("12 requests, 100 ms each, max_parallel 3: %.2f s, "
                  "peak %ld, %d connections\n",
                  t, bw_http_stats(h)->peak_parallel, peers);
    assert_int_equal(p.parsed, 12);
    assert_int_equal(all, 12);
    assert_int_equal(bw_http_stats(h)->peak_parallel, 3);
    assert_true(peers <= 3);
    assert_true(t >= 0.39 && t < 2.5); /* 12 x 100 ms, 3 at a time */
    bw_http_free(h);
}

static void test_user_agent(void **state)
{
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    cJSON *log;
    cJSON *ua;
    char want[64];

    (void)state;
    sim_up(NULL);
    h = client(&o);
    (void)timed_ok(h, "/repos/acme/api");
    bw_http_free(h);
    log = sim_log(1);
    ua = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(log, 0),
                                          "user_agent");
    snprintf(want, sizeof(want), "bellwether/%s (pid %ld)", BW_VERSION,
             (long)getpid());
    assert_true(cJSON_IsString(ua));
    assert_string_equal(ua->valuestring, want);
    cJSON_Delete(log);
}

static void test_jira_iso_reset(void **state)
{
    static const char *const args[] = {"--faults", "jira:secondary-bare@1",
                                       NULL};
    struct bw_http_opts o = opts_for(BW_API_JIRA);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[256];
    char when[64];
    const char *err;
    int64_t reset;
    time_t tt;

    (void)state;
    sim_up(args);
    o.max_rate_wait = 0; /* never wait: show the reset time */
    h = client(&o);
    sim_url(url, sizeof(url), "/rest/api/2/serverInfo");
    assert_int_equal(fetch(h, url, &r), BW_ERATELIMIT);
    err = bw_http_last_error(h);
    print_message("error line: %s\n", err);
    reset = bw_http_stats(h)->quota_reset;
    /* X-RateLimit-Reset came as "YYYY-MM-DDTHH:MMZ" */
    assert_true(reset > (int64_t)time(NULL));
    assert_int_equal(reset % 60, 0);
    tt = (time_t)reset;
    strftime(when, sizeof(when), "until %Y-%m-%d %H:%M:%S UTC", gmtime(&tt));
    assert_non_null(strstr(err, when));
    assert_non_null(strstr(err, "Jira "));
    bw_http_free(h);
}

static void test_jira_retry_after(void **state)
{
    static const char *const args[] = {"--faults", "jira:ratelimit@1",
                                       "--reset-in", "2", NULL};
    struct bw_http_opts o = opts_for(BW_API_JIRA);
    struct bw_http *h;
    double t;

    (void)state;
    sim_up(args);
    h = client(&o);
    t = timed_ok(h, "/rest/api/2/serverInfo");
    print_message("Jira 429 with Retry-After: waited %.2f s\n", t);
    assert_true(t >= 0.9 && t < 6);
    assert_int_equal(bw_http_stats(h)->retries, 1);
    bw_http_free(h);
}

static int stop_cb(void *user, const struct bw_http_req *req,
                   const struct bw_http_resp *resp, int rc)
{
    int *calls = user;

    (void)req;
    (void)resp;
    (void)rc;
    (*calls)++;
    return BW_EPARSE;
}

static void test_callback_stops_run(void **state)
{
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_req req;
    struct bw_http_resp r;
    char url[256];
    int calls = 0;

    (void)state;
    sim_up(NULL);
    h = client(&o);
    memset(&req, 0, sizeof(req));
    sim_url(url, sizeof(url), "/repos/acme/api");
    req.url = url;
    req.cb = stop_cb;
    req.user = &calls;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(bw_http_submit(h, &req), 0);
    }
    assert_int_equal(bw_http_run(h), BW_EPARSE);
    assert_int_equal(calls, 1);
    /* the rest was dropped; the client still works */
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 200);
    bw_http_resp_release(&r);
    assert_int_equal(calls, 1);
    bw_http_free(h);
}

/* ------------------------------------------------------------ canned */

#define OK_EMPTY "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]"

static void test_request_headers(void **state)
{
    static const char *const resp[] = {OK_EMPTY, NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_req req;
    struct bw_http_resp r;
    char url[128];
    char ua[96];
    char *log;

    (void)state;
    canned_up(0, resp);
    o.auth = "Bearer tok123";
    h = client(&o);
    snprintf(url, sizeof(url), "%s/repos/acme/api/pulls", can[0].base);
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.if_none_match = "W/\"abc\"";
    assert_int_equal(bw_http_fetch(h, &req, &r), 0);
    bw_http_resp_release(&r);
    req.if_none_match = NULL;
    req.method = "POST";
    req.body = "{\"jql\":\"project = OPS\"}";
    assert_int_equal(bw_http_fetch(h, &req, &r), 0);
    bw_http_resp_release(&r);
    bw_http_free(h);

    log = bw_canned_requests(&can[0]);
    snprintf(ua, sizeof(ua), "\r\nUser-Agent: bellwether/%s (pid %ld)\r\n",
             BW_VERSION, (long)getpid());
    assert_non_null(strstr(log, "GET /repos/acme/api/pulls HTTP/1.1\r\n"));
    assert_non_null(strstr(log, ua));
    assert_non_null(strstr(log, "\r\nAuthorization: Bearer tok123\r\n"));
    assert_non_null(strstr(log, "\r\nAccept: application/vnd.github+json"));
    assert_non_null(strstr(log, "\r\nX-GitHub-Api-Version: 2022-11-28\r\n"));
    assert_non_null(strstr(log, "\r\nAccept-Encoding: "));
    assert_non_null(strstr(log, "\r\nIf-None-Match: W/\"abc\"\r\n"));
    assert_non_null(strstr(log, "POST /repos/acme/api/pulls HTTP/1.1\r\n"));
    assert_non_null(strstr(log, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(log, "\r\n\r\n{\"jql\":\"project = OPS\"}"));
    free(log);
}

static void test_jira_headers(void **state)
{
    static const char *const resp[] = {OK_EMPTY, NULL};
    struct bw_http_opts o = opts_for(BW_API_JIRA);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[128];
    char *log;

    (void)state;
    canned_up(0, resp);
    o.auth = "Basic Ym90OnRvaw==";
    h = client(&o);
    snprintf(url, sizeof(url), "%s/rest/api/2/serverInfo", can[0].base);
    assert_int_equal(fetch(h, url, &r), 0);
    bw_http_resp_release(&r);
    bw_http_free(h);
    log = bw_canned_requests(&can[0]);
    assert_non_null(strstr(log, "\r\nAccept: application/json\r\n"));
    assert_non_null(strstr(log, "\r\nAuthorization: Basic Ym90OnRvaw==\r\n"));
    assert_null(strstr(log, "X-GitHub-Api-Version"));
    free(log);
}

static void test_response_headers(void **state)
{
    static const char *const resp[] = {
        /* lower-case names, two Link lines, a relative URL */
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
        "link: </repos/acme/api/pulls?page=2>; rel=\"next\"\r\n"
        "LINK: <http://example.com/x?page=9>; rel=\"last\"\r\n"
        "etag: W/\"e1\"\r\n\r\n[]",
        /* a Link folded over two lines (obsolete, still seen) */
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
        "Link: <http://example.com/x?page=3>; rel=\"next\",\r\n"
        " <http://example.com/x?page=8>; rel=\"last\"\r\n"
        "ETag: \"e2\"\r\n\r\n[]",
        NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[128];
    char want[160];

    (void)state;
    canned_up(0, resp);
    h = client(&o);
    snprintf(url, sizeof(url), "%s/repos/acme/api/pulls", can[0].base);
    assert_int_equal(fetch(h, url, &r), 0);
    snprintf(want, sizeof(want), "%s/repos/acme/api/pulls?page=2", can[0].base);
    assert_non_null(r.next);
    assert_string_equal(r.next, want);
    assert_string_equal(r.last, "http://example.com/x?page=9");
    assert_string_equal(r.etag, "W/\"e1\"");
    assert_string_equal(r.url, url);
    bw_http_resp_release(&r);
    assert_int_equal(fetch(h, url, &r), 0);
    assert_non_null(r.next);
    assert_string_equal(r.next, "http://example.com/x?page=3");
    assert_non_null(r.last);
    assert_string_equal(r.last, "http://example.com/x?page=8");
    assert_string_equal(r.etag, "\"e2\"");
    bw_http_resp_release(&r);
    bw_http_free(h);
}

static void test_bare_403(void **state)
{
    static const char *const resp[] = {
        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
        "x-ratelimit-remaining: 4000\r\nContent-Length: 51\r\n\r\n"
        "{\"message\":\"Resource not accessible by integration\"}",
        NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[128];

    (void)state;
    canned_up(0, resp);
    o.auth = "Bearer x";
    o.auth_source = "/etc/bellwether/token";
    h = client(&o);
    snprintf(url, sizeof(url), "%s/repos/acme/api", can[0].base);
    assert_int_equal(fetch(h, url, &r), BW_EAUTH);
    assert_non_null(strstr(bw_http_last_error(h), "(403); check the token "
                                                  "in /etc/bellwether/token"));
    assert_int_equal(bw_http_stats(h)->requests, 1);
    bw_http_free(h);
}

static void test_429_backoff(void **state)
{
    static const char *const resp[] = {
        "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 503 Unavailable\r\nRetry-After: 0\r\n"
        "Content-Length: 0\r\n\r\n",
        OK_EMPTY, NULL};
    struct bw_http_opts o = opts_for(BW_API_GENERIC);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[128];

    (void)state;
    canned_up(0, resp);
    h = client(&o);
    snprintf(url, sizeof(url), "%s/x", can[0].base);
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(bw_http_stats(h)->retries, 2);
    bw_http_resp_release(&r);
    bw_http_free(h);
}

static void test_redirects_keep_token_home(void **state)
{
    static const char *const ok[] = {OK_EMPTY, NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[128];
    char redirect[512];
    char *log;
    const char *script[3] = {redirect, OK_EMPTY, NULL};

    (void)state;
    canned_up(1, ok);
    /* to another port: another origin, the token must not follow */
    snprintf(redirect, sizeof(redirect),
             "HTTP/1.1 302 Found\r\nLocation: %s/elsewhere\r\n"
             "Content-Length: 0\r\n\r\n",
             can[1].base);
    canned_up(0, script);
    o.auth = "Bearer s3cret";
    h = client(&o);
    snprintf(url, sizeof(url), "%s/repos/acme/api", can[0].base);
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.url, "/elsewhere"));
    bw_http_resp_release(&r);
    log = bw_canned_requests(&can[0]);
    assert_non_null(strstr(log, "Authorization: Bearer s3cret"));
    free(log);
    log = bw_canned_requests(&can[1]);
    assert_non_null(strstr(log, "GET /elsewhere "));
    assert_null(strstr(log, "s3cret"));
    assert_null(strstr(log, "Authorization"));
    free(log);

    /* same origin: followed with the token (a renamed repository) */
    snprintf(redirect, sizeof(redirect),
             "HTTP/1.1 301 Moved Permanently\r\nLocation: /repositories/7\r\n"
             "Content-Length: 0\r\n\r\n");
    bw_canned_script(&can[0], script);
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.url, "/repositories/7"));
    bw_http_resp_release(&r);
    log = bw_canned_requests(&can[0]);
    {
        const char *at = strstr(log, "GET /repositories/7 ");

        assert_non_null(at);
        assert_non_null(strstr(at, "Authorization: Bearer s3cret"));
    }
    free(log);
    bw_http_free(h);
}

/* A `next` link to another origin is followed without the token: it goes
 * only to opts.origin (scheme, host and port, whatever their case). */
static void test_token_stays_home(void **state)
{
    static const char *const ok[] = {OK_EMPTY, NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[128];
    char home[160];
    char *log;

    (void)state;
    canned_up(0, ok);
    canned_up(1, ok);
    snprintf(home, sizeof(home), "HTTP://127.0.0.1:%d/api/v3/", can[0].port);
    o.auth = "Bearer s3cret";
    o.origin = home;
    h = client(&o);
    snprintf(url, sizeof(url), "%s/repos/acme/api/pulls", can[0].base);
    assert_int_equal(fetch(h, url, &r), 0);
    bw_http_resp_release(&r);
    snprintf(url, sizeof(url), "%s/repositories/1/pulls?page=2", can[1].base);
    assert_int_equal(fetch(h, url, &r), 0);
    bw_http_resp_release(&r);
    bw_http_free(h);
    log = bw_canned_requests(&can[0]);
    assert_non_null(strstr(log, "Authorization: Bearer s3cret"));
    free(log);
    log = bw_canned_requests(&can[1]);
    assert_non_null(strstr(log, "GET /repositories/1/pulls?page=2 "));
    assert_null(strstr(log, "Authorization"));
    free(log);

    /* an origin with no port is fine; one curl cannot read is refused */
    o.origin = "https://api.github.test";
    h = client(&o);
    bw_http_free(h);
    o.origin = "not a url";
    assert_int_equal(bw_http_new(&o, &h), BW_ECONFIG);
    assert_null(h);
}

static void test_max_body(void **state)
{
    static char big[8192];
    const char *resp[] = {big, NULL};
    struct bw_http_opts o = opts_for(BW_API_GENERIC);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[128];
    int n;

    (void)state;
    n = snprintf(big, sizeof(big),
                 "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n");
    memset(big + n, 'x', 5000);
    big[n + 5000] = '\0';
    canned_up(0, resp);
    o.max_body = 1000;
    h = client(&o);
    snprintf(url, sizeof(url), "%s/big", can[0].base);
    assert_int_equal(fetch(h, url, &r), BW_EHTTP);
    print_message("error line: %s\n", bw_http_last_error(h));
    assert_non_null(strstr(bw_http_last_error(h), "larger than 1000 bytes"));
    assert_int_equal(bw_http_stats(h)->requests, 1);
    bw_http_free(h);

    /* no Content-Length: the limit holds while reading (chunked) */
    n = snprintf(big, sizeof(big),
                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "1388\r\n");
    memset(big + n, 'y', 5000);
    snprintf(big + n + 5000, sizeof(big) - (size_t)n - 5000, "\r\n0\r\n\r\n");
    bw_canned_script(&can[0], resp);
    h = client(&o);
    assert_int_equal(fetch(h, url, &r), BW_EHTTP);
    assert_non_null(strstr(bw_http_last_error(h), "larger than 1000 bytes"));
    bw_http_free(h);
}

/* A 200 of n bytes of c: with a Content-Length, or chunked. malloc'd. */
static char *big_resp(size_t n, char c, int chunked)
{
    char *s = malloc(n + 128);
    int k;

    assert_non_null(s);
    if (chunked) {
        k = snprintf(s, 128,
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "%zx\r\n",
                     n);
    } else {
        k = snprintf(s, 128, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                     n);
    }
    memset(s + k, c, n);
    snprintf(s + k + n, 16, "%s", chunked ? "\r\n0\r\n\r\n" : "");
    return s;
}

struct got {
    size_t len;
    int whole; /* every byte as sent */
};

static int got_cb(void *user, const struct bw_http_req *req,
                  const struct bw_http_resp *resp, int rc)
{
    struct got *g = user;

    (void)req;
    if (resp == NULL) {
        return rc;
    }
    g->len = resp->body.len;
    g->whole = resp->body.data[resp->body.len] == '\0';
    for (size_t i = 0; g->whole && i < resp->body.len; i++) {
        g->whole = resp->body.data[i] == 'a';
    }
    return 0;
}

/* Allocations (bw_*) made by one GET of path on h, and what came. */
static long counted_get(struct bw_http *h, const char *path, struct got *g)
{
    struct bw_http_req req;
    char url[128];
    long n;

    snprintf(url, sizeof(url), "%s%s", can[0].base, path);
    memset(&req, 0, sizeof(req));
    memset(g, 0, sizeof(*g));
    req.url = url;
    req.cb = got_cb;
    req.user = g;
    bw_mem_fail_at(0, 0);
    assert_int_equal(bw_http_submit(h, &req), 0);
    assert_int_equal(bw_http_run(h), 0);
    n = bw_mem_count();
    return n;
}

/* A body with a Content-Length takes one allocation of its size, not a
 * doubling walk up past it; a slot's buffer is kept for the next transfer
 * up to 2 MiB, and a larger one is freed after its callback. */
static void test_body_buffers(void **state)
{
    const size_t small = 300000, large = (size_t)3 << 20;
    char *r[6];
    struct bw_http_opts o = opts_for(BW_API_GENERIC);
    struct bw_http *h;
    struct got g;
    long with_len, chunked, again_small, again_large;

    (void)state;
    r[0] = big_resp(small, 'a', 0);
    r[1] = big_resp(small, 'a', 1);
    r[2] = big_resp(small, 'a', 0);
    r[3] = big_resp(large, 'a', 0);
    r[4] = big_resp(large, 'a', 0);
    r[5] = NULL;
    canned_up(0, (const char *const *)r);
    h = client(&o);
    with_len = counted_get(h, "/a", &g);
    assert_int_equal(g.len, small);
    assert_true(g.whole);
    bw_http_free(h);
    h = client(&o); /* a fresh slot, as for the first */
    chunked = counted_get(h, "/b", &g);
    assert_int_equal(g.len, small);
    assert_true(g.whole);
    print_message("allocations for %zu bytes: %ld with Content-Length, %ld "
                  "chunked\n",
                  small, with_len, chunked);
    /* chunked: a realloc at each doubling, 32 KiB to 512 KiB */
    assert_true(chunked - with_len >= 4);
    /* the same client: the kept buffer takes the next body as it is */
    again_small = counted_get(h, "/c", &g);
    assert_int_equal(g.len, small);
    assert_int_equal(again_small, with_len - 1);
    /* 3 MiB: one allocation each time, none kept */
    assert_int_equal(counted_get(h, "/d", &g), with_len);
    assert_int_equal(g.len, large);
    assert_true(g.whole);
    again_large = counted_get(h, "/e", &g);
    assert_int_equal(again_large, with_len);
    assert_int_equal(g.len, large);
    bw_http_free(h);
    for (int i = 0; i < 5; i++) {
        free(r[i]);
    }
}

/* The paging guard: a next page already read, or one past the limit. */
static void test_pager(void **state)
{
    struct bw_http_pager p = BW_HTTP_PAGER_INIT;
    char why[160];

    (void)state;
    bw_http_pager_init(&p, 4);
    assert_int_equal(bw_http_pager_next(&p, "u1", NULL, why, sizeof(why)), 0);
    assert_null(p.seen); /* a walk of one page keeps nothing */
    bw_http_pager_release(&p);

    bw_http_pager_init(&p, 4);
    assert_int_equal(bw_http_pager_next(&p, "u1", "u2", why, sizeof(why)), 0);
    assert_int_equal(bw_http_pager_next(&p, "u2", "u3", why, sizeof(why)), 0);
    assert_int_equal(bw_http_pager_next(&p, "u3", "u1", why, sizeof(why)),
                     BW_EHTTP);
    assert_non_null(strstr(why, "already read"));
    bw_http_pager_release(&p);

    /* a page that links to itself */
    bw_http_pager_init(&p, 4);
    assert_int_equal(bw_http_pager_next(&p, "u1", "u1", why, sizeof(why)),
                     BW_EHTTP);
    bw_http_pager_release(&p);

    /* tokens: no first one; the 4th page may not link on */
    bw_http_pager_init(&p, 4);
    assert_int_equal(bw_http_pager_next(&p, NULL, "t1", why, sizeof(why)), 0);
    assert_int_equal(bw_http_pager_next(&p, "t1", "t2", why, sizeof(why)), 0);
    assert_int_equal(bw_http_pager_next(&p, "t2", "t3", why, sizeof(why)), 0);
    assert_int_equal(bw_http_pager_next(&p, "t3", "t4", why, sizeof(why)),
                     BW_EHTTP);
    assert_non_null(strstr(why, "would be page 5 of one walk, past the limit "
                                "of 4"));
    assert_int_equal(bw_http_pager_next(&p, "t4", "t5", NULL, 0), BW_EHTTP);
    bw_http_pager_release(&p);
    assert_null(p.seen);

    /* the test knob lowers the limit, never raises it */
    setenv("BELLWETHER_MAX_PAGES", "2", 1);
    bw_http_pager_init(&p, 4);
    assert_int_equal(p.max_pages, 2);
    setenv("BELLWETHER_MAX_PAGES", "9", 1);
    bw_http_pager_init(&p, 4);
    assert_int_equal(p.max_pages, 4);
    setenv("BELLWETHER_MAX_PAGES", "x", 1);
    bw_http_pager_init(&p, 4);
    assert_int_equal(p.max_pages, 4);
    unsetenv("BELLWETHER_MAX_PAGES");
    bw_http_pager_init(&p, 0);
    assert_int_equal(p.max_pages, 1);

    /* a long walk: 10,000 pages, then the first again */
    bw_http_pager_init(&p, 20000);
    for (int i = 0; i < 10000; i++) {
        char a[32], b[32];

        snprintf(a, sizeof(a), "https://x/p?page=%d", i);
        snprintf(b, sizeof(b), "https://x/p?page=%d", i + 1);
        assert_int_equal(bw_http_pager_next(&p, a, b, why, sizeof(why)), 0);
    }
    assert_int_equal(bw_http_pager_next(&p, "https://x/p?page=10000",
                                        "https://x/p?page=0", why, sizeof(why)),
                     BW_EHTTP);
    bw_http_pager_release(&p);
}

/* A collector's own failure is logged and kept as the last error. */
static void test_fail_kept(void **state)
{
    struct bw_http_opts o = opts_for(BW_API_GENERIC);
    struct bw_http *h = client(&o);

    (void)state;
    assert_string_equal(bw_http_last_error(h), "");
    bw_http_fail(h, "[github:gh] stopped paging GET %s: %s", "http://x/p",
                 "a loop");
    assert_string_equal(bw_http_last_error(h),
                        "[github:gh] stopped paging GET http://x/p: a loop");
    bw_http_free(h);
}

static void test_debug_log_redacts(void **state)
{
    static const char *const resp[] = {OK_EMPTY, NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    struct bw_http_resp r;
    char url[160];
    char want[200];
    char path[] = "/tmp/bw-test-http-log-XXXXXX";
    char *text;
    int fd;
    int saved;

    (void)state;
    canned_up(0, resp);
    o.auth = "Bearer hunter3";
    h = client(&o);
    snprintf(url, sizeof(url), "%s/x?access_token=hunter2&page=2", can[0].base);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    dup2(fd, 2);
    bw_log_set_level(BW_LOG_DEBUG);
    assert_int_equal(fetch(h, url, &r), 0);
    bw_log_set_level(BW_LOG_WARN);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    bw_http_resp_release(&r);
    bw_http_free(h);
    text = bw_test_read_file(path, NULL);
    unlink(path);
    assert_non_null(text);
    snprintf(want, sizeof(want),
             "GET %s/x?access_token=REDACTED&page=2 -> 200 (2 bytes, ",
             can[0].base);
    if (strstr(text, want) == NULL) {
        fail_msg("no '%s' in the debug log:\n%s", want, text);
    }
    assert_non_null(strstr(text, " ms)"));
    assert_null(strstr(text, "hunter2"));
    assert_null(strstr(text, "hunter3"));
    free(text);
}

/* ------------------------------------------------------------ TLS */

static int run_quiet(const char *const *argv)
{
    pid_t pid = fork();
    int status = -1;

    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);

        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char tls_server_py[] =
    "import http.server, ssl, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def do_GET(self):\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Length', '2')\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b'[]')\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
    "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
    "print('apisim listening on 127.0.0.1:%d' % s.server_address[1],"
    " flush=True)\n"
    "s.serve_forever()\n";

/*
 * ca_file adds a CA: a server with a certificate from a private CA is
 * refused without ca_file and accepted with it.
 */
static void test_tls_ca_file(void **state)
{
    char dir[] = "/tmp/bw-test-tls-XXXXXX";
    char cert[128];
    char key[128];
    char script[128];
    char url[128];
    const char *gen[] = {"openssl",  "req",
                         "-x509",    "-newkey",
                         "rsa:2048", "-nodes",
                         "-days",    "2",
                         "-subj",    "/CN=127.0.0.1",
                         "-addext",  "subjectAltName=IP:127.0.0.1",
                         "-keyout",  key,
                         "-out",     cert,
                         NULL};
    struct bw_http_opts o = opts_for(BW_API_GENERIC);
    struct bw_http *h;
    struct bw_http_resp r;
    FILE *f;
    int rc;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(script, sizeof(script), "%s/srv.py", dir);
    if (run_quiet(gen) != 0) {
        print_message("skipped: openssl cannot make a test certificate\n");
        skip();
    }
    f = fopen(script, "w");
    assert_non_null(f);
    fputs(tls_server_py, f);
    fclose(f);
    /* started like the simulator: a shim that ignores "--port 0" */
    snprintf(url, sizeof(url), "%s/run.sh", dir);
    f = fopen(url, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nexec python3 '%s' '%s' '%s'\n", script, cert, key);
    fclose(f);
    chmod(url, 0755);
    setenv("BW_APISIM", url, 1);
    rc = bw_sim_start(&sim, NULL);
    unsetenv("BW_APISIM");
    assert_int_equal(rc, 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/x", sim.port);

    h = client(&o);
    assert_int_equal(fetch(h, url, &r), BW_EHTTP);
    print_message("without ca_file: %s\n", bw_http_last_error(h));
    assert_non_null(strstr(bw_http_last_error(h), "ca_file"));
    assert_int_equal(bw_http_stats(h)->requests, 1);
    bw_http_free(h);

    o.ca_file = cert;
    h = client(&o);
    assert_int_equal(fetch(h, url, &r), 0);
    assert_int_equal(r.status, 200);
    bw_http_resp_release(&r);
    bw_http_free(h);

    unlink(cert);
    unlink(key);
    unlink(script);
    snprintf(url, sizeof(url), "%s/run.sh", dir);
    unlink(url);
    rmdir(dir);
}

/* ------------------------------------------------------------ speed */

static double rate(struct bw_http *h, const char *url, int n)
{
    double t0 = now_s();

    for (int i = 0; i < n; i++) {
        struct bw_http_resp r;

        assert_int_equal(fetch(h, url, &r), 0);
        assert_int_equal(r.status, 200);
        bw_http_resp_release(&r);
    }
    return n / (now_s() - t0);
}

/* Sequential small GETs with one reused client (reported, not judged). */
static void test_speed(void **state)
{
    static const char *const resp[] = {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "x-ratelimit-remaining: 4999\r\nETag: \"x\"\r\n"
        "Content-Length: 2\r\n\r\n[]",
        NULL};
    struct bw_http_opts o = opts_for(BW_API_GITHUB);
    struct bw_http *h;
    char url[128];
    double c_rate;

    (void)state;
    canned_up(0, resp);
    h = client(&o);
    snprintf(url, sizeof(url), "%s/x", can[0].base);
    c_rate = rate(h, url, 3000);
    print_message("speed: %.0f sequential GETs/s against a C server "
                  "(one connection: %ld accepted)\n",
                  c_rate, can[0].served > 0 ? 1L : 0L);
    assert_true(c_rate > 100);
    bw_http_free(h);
    if (bw_sim_start(&sim, NULL) == 0) {
        h = client(&o);
        sim_url(url, sizeof(url), "/repos/acme/api");
        print_message("speed: %.0f sequential GETs/s against the simulator\n",
                      rate(h, url, 300));
        bw_http_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_link_cases),
        cmocka_unit_test(test_parse_link_torture),
        cmocka_unit_test(test_parse_link_samples),
        cmocka_unit_test(test_parse_times),
        cmocka_unit_test(test_urlencode),
        cmocka_unit_test_teardown(test_bad_options, teardown),
        cmocka_unit_test_teardown(test_pagination, teardown),
        cmocka_unit_test_teardown(test_not_modified, teardown),
        cmocka_unit_test_teardown(test_not_found_delivered, teardown),
        cmocka_unit_test_teardown(test_retry_5xx, teardown),
        cmocka_unit_test_teardown(test_retry_truncated, teardown),
        cmocka_unit_test_teardown(test_retry_badjson, teardown),
        cmocka_unit_test_teardown(test_secondary_retry_after, teardown),
        cmocka_unit_test_teardown(test_secondary_bare, teardown),
        cmocka_unit_test_teardown(test_primary_wait, teardown),
        cmocka_unit_test_teardown(test_primary_too_long, teardown),
        cmocka_unit_test_teardown(test_tick_stops_wait, teardown),
        cmocka_unit_test_teardown(test_auth, teardown),
        cmocka_unit_test_teardown(test_connection_refused, teardown),
        cmocka_unit_test_teardown(test_parallel_and_reuse, teardown),
        cmocka_unit_test_teardown(test_user_agent, teardown),
        cmocka_unit_test_teardown(test_jira_iso_reset, teardown),
        cmocka_unit_test_teardown(test_jira_retry_after, teardown),
        cmocka_unit_test_teardown(test_callback_stops_run, teardown),
        cmocka_unit_test_teardown(test_request_headers, teardown),
        cmocka_unit_test_teardown(test_jira_headers, teardown),
        cmocka_unit_test_teardown(test_response_headers, teardown),
        cmocka_unit_test_teardown(test_bare_403, teardown),
        cmocka_unit_test_teardown(test_429_backoff, teardown),
        cmocka_unit_test_teardown(test_redirects_keep_token_home, teardown),
        cmocka_unit_test_teardown(test_token_stays_home, teardown),
        cmocka_unit_test_teardown(test_max_body, teardown),
        cmocka_unit_test_teardown(test_body_buffers, teardown),
        cmocka_unit_test(test_pager),
        cmocka_unit_test(test_fail_kept),
        cmocka_unit_test_teardown(test_debug_log_redacts, teardown),
        cmocka_unit_test_teardown(test_tls_ca_file, teardown),
        cmocka_unit_test_teardown(test_speed, teardown),
    };

    /* retries in milliseconds; quota waits stay real */
    setenv("BELLWETHER_BACKOFF_BASE_MS", "10", 1);
    signal(SIGPIPE, SIG_IGN);
    bw_http_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
