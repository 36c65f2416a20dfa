/*
 * cmd_collect.c - `bellwether collect [--source NAME]... [--full]
 * [--since YYYY-MM-DD]`: one collection pass over the sources, for cron.
 *
 * Per source (run_source(); the daemon's collect jobs call it through
 * bw_collect_source(), collect.h): take its lease (lease.h), open a sink,
 * rebuild derived fields first when the source's metric settings changed
 * (no HTTP), create its HTTP client, run collector->collect, record the
 * run in P run:{SRC} and print a one-line summary. One failing source
 * never stops the others. SIGINT/SIGTERM set bw_store_stop_requested: the
 * sink's should_stop() and the HTTP tick hook then stop the collector, the
 * page in progress is dropped (nothing half-written), the remaining
 * sources are skipped and the command returns BW_EINTR (exit 1).
 *
 * The exit status over several sources follows DESIGN.md: some stored and
 * some failed -> BW_EPARTIAL (3); none stored and every failure of the
 * exit-2 kind -> that status (2); otherwise the runtime status (1).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bellwether/cli.h"
#include "bellwether/clock.h"
#include "bellwether/collect.h"
#include "bellwether/collector.h"
#include "bellwether/error.h"
#include "bellwether/http.h"
#include "bellwether/lease.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/progress.h"
#include "bellwether/store.h"

#define DEFAULT_SINCE_DAYS 180

struct collect_opts {
    const char **sources; /* --source NAMEs (argv's), or none: all */
    size_t nsources;
    int full;
    int64_t since; /* -1: the sources' own or the default */
    int quiet;     /* -q: no progress line, no summary */
};

/* ------------------------------------------------------------- signals */

static void on_signal(int sig)
{
    (void)sig;
    bw_store_stop_requested = 1;
}

static struct sigaction old_hup;

static void signals_install(struct sigaction *old_int,
                            struct sigaction *old_term)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a blocking read returns early and the loop checks */
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
    /* a hang-up (closed terminal) stops a one-shot run cleanly too, so
       its lease is released and the run recorded */
    sigaction(SIGHUP, &sa, &old_hup);
}

static void signals_restore(const struct sigaction *old_int,
                            const struct sigaction *old_term)
{
    sigaction(SIGINT, old_int, NULL);
    sigaction(SIGTERM, old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
}

/* -------------------------------------------------------------- leases */

/*
 * The lease of the source being collected (lease.h; DESIGN.md: SET NX PX,
 * TTL 60 s, a random token, renewed every 20 s by the core, quota waits
 * included; released by the owner; a failed renewal stops the run with
 * nothing more committed): taken in run_source() (another holder: the
 * source is skipped, exit 0), renewed by tick() and by commit_leased()
 * before every page, released at the end. bw_lease_renew() only talks to
 * Redis once the renewal interval has passed, and returns BW_ELEASE from
 * the first failed renewal on, so no page is committed after it.
 *
 * The sink's own commit_page is wrapped; one source runs at a time in a
 * process, so the wrapped pointer and the lease are file-static.
 */
static int (*sink_commit)(void *ctx);
static struct bw_lease *commit_lease;

static int commit_leased(void *ctx)
{
    int rc = bw_lease_renew(commit_lease);

    return rc ? rc : sink_commit(ctx);
}

/* ------------------------------------------------------------- options */

/* "YYYY-MM-DD" to the UTC epoch of its midnight (like the config's since). */
static int parse_day(const char *s, int64_t *out)
{
    struct tm tm;
    int y, m, d;
    time_t t;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return BW_EPARSE;
    }
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return BW_EPARSE;
        }
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
        (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    t = timegm(&tm);
    if (y < 1970 || m < 1 || m > 12 || d < 1 || tm.tm_mday != d ||
        tm.tm_mon != m - 1) {
        return BW_EPARSE;
    }
    *out = (int64_t)t;
    return 0;
}

static int parse_args(int argc, char **argv, struct collect_opts *o)
{
    static const struct option longopts[] = {
        {"source", required_argument, NULL, 's'},
        {"full", no_argument, NULL, 'f'},
        {"since", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0}};
    int c;

    o->since = -1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': {
            const char **v =
                bw_realloc(o->sources, (o->nsources + 1) * sizeof(*v));

            if (v == NULL) {
                return BW_ENOMEM;
            }
            o->sources = v;
            o->sources[o->nsources++] = optarg;
            break;
        }
        case 'f':
            o->full = 1;
            break;
        case 'S':
            if (parse_day(optarg, &o->since)) {
                BW_ERROR("bad --since '%s'; use a date YYYY-MM-DD", optarg);
                return BW_EUSAGE;
            }
            break;
        default:
            BW_ERROR("unknown option '%s' for collect; see 'bellwether help "
                     "collect'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        }
    }
    if (optind < argc) {
        BW_ERROR("unexpected argument '%s' for collect; see 'bellwether help "
                 "collect'",
                 argv[optind]);
        return BW_EUSAGE;
    }
    return 0;
}

/* Every --source must name a [source]. */
static int check_sources(const struct bw_config *cfg,
                         const struct collect_opts *o)
{
    for (size_t i = 0; i < o->nsources; i++) {
        if (bw_config_source(cfg, o->sources[i]) == NULL) {
            char list[512] = "";
            size_t n = 0;

            for (size_t j = 0; j < cfg->nsources && n < sizeof(list); j++) {
                int w = snprintf(list + n, sizeof(list) - n, "%s%s",
                                 j ? ", " : "", cfg->sources[j].name);

                n += w > 0 ? (size_t)w : 0;
            }
            BW_ERROR("unknown source '%s'; the config has: %s", o->sources[i],
                     cfg->nsources ? list : "none");
            return BW_EUSAGE;
        }
    }
    return 0;
}

static int selected(const struct collect_opts *o, const char *name)
{
    if (o->nsources == 0) {
        return 1;
    }
    for (size_t i = 0; i < o->nsources; i++) {
        if (strcmp(o->sources[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ one source */

struct tick_arg {
    struct bw_store *st;
    const struct bw_source_conf *src;
    struct bw_sink *sink;
    struct bw_lease *lease;
};

/* The HTTP client's hook, about once a second: signals and the lease. */
static int tick(void *arg)
{
    struct tick_arg *t = arg;
    int rc = t->sink->should_stop(t->sink->ctx);

    bw_progress_update(&t->sink->stats, bw_http_stats(t->sink->http), 0);
    return rc ? rc : bw_lease_renew(t->lease);
}

/* Rebuild derived fields first when the metric settings changed. */
static int config_hash_check(struct bw_store *st,
                             const struct bw_source_conf *src)
{
    struct bw_store_reindex_stats rs;
    char stored[256];
    const char *now = src->metric_hash ? src->metric_hash : "";
    int rc = bw_store_config_hash_get(st, src->name, stored, sizeof(stored));

    if (rc) {
        return rc;
    }
    if (stored[0] == '\0') {
        /* first run: items get derived with these settings from now on */
        return bw_store_config_hash_set(st, src->name, now);
    }
    if (strcmp(stored, now) == 0) {
        return 0;
    }
    BW_INFO("source '%s': metric settings changed; rebuilding derived "
            "fields from stored events",
            src->name);
    rc = bw_store_reindex(st, src, &rs);
    if (rc == 0) {
        BW_INFO("source '%s': rebuilt %ld PRs and %ld tickets", src->name,
                rs.prs, rs.tickets);
    }
    return rc;
}

static int http_open(struct bw_store *st, const struct bw_source_conf *src,
                     struct bw_sink *sink, struct tick_arg *ta)
{
    const struct bw_collector *col = src->collector;
    struct bw_http_opts ho;
    int rc;

    memset(&ho, 0, sizeof(ho));
    if (col->http_opts) {
        rc = col->http_opts(src, &ho);
        if (rc) {
            return rc;
        }
    }
    ho.max_parallel =
        src->common.max_parallel > 0 ? src->common.max_parallel : 4;
    ho.max_rate_wait = src->common.max_rate_wait;
    ho.ca_file = src->common.ca_file;
    ta->st = st;
    ta->src = src;
    ta->sink = sink;
    ho.tick = tick;
    ho.tick_arg = ta;
    return bw_http_new(&ho, &sink->http);
}

/*
 * The operator's summary (progress.h): one line on stdout unless -q, and
 * the same figures in P run:{SRC} (record is 0 when there is no sink).
 */
static void summary(struct bw_store *st, const struct bw_source_conf *src,
                    struct bw_store_run *run, const struct bw_sink *sink,
                    int record, int quiet)
{
    const struct bw_http_stats *hs =
        sink->http ? bw_http_stats(sink->http) : NULL;
    struct bw_run_summary sum;
    struct bw_buf line = BW_BUF_INIT;

    bw_summary_from(&sum, src->name, src->collector->name, run->rc,
                    &sink->stats, hs, run->duration,
                    src->common.min_quota_left);
    if (bw_summary_line(&line, &sum) != 0) {
        bw_buf_release(&line);
    }
    bw_summary_fill_run(run, &sum, hs, line.data);
    if (record && bw_store_run_record(st, src->name, run)) {
        BW_WARN("cannot record the run of source '%s'; 'bellwether status' "
                "will show the previous one",
                src->name);
    }
    bw_summary_print(&sum, quiet);
    bw_buf_release(&line);
}

/* A source leased by another process: its summary line says so. */
static void summary_skipped(const struct bw_source_conf *src,
                            const char *holder, int quiet)
{
    struct bw_run_summary sum;

    bw_summary_from(&sum, src->name, src->collector->name, 0, NULL, NULL, 0, 0);
    sum.skipped = 1;
    sum.holder = holder;
    bw_summary_print(&sum, quiet);
}

/* One source's run in progress: what to record and release at the end. */
struct source_run {
    struct bw_sink sink;
    struct tick_arg ta;
    struct bw_store_run run;
    struct bw_store_sink_stats ss;
    void *cctx;
    int sink_ok, inited;
    int64_t t0;
};

/* Sink, config hash check, HTTP client, collector init; then collect. */
static int source_collect(struct bw_store *st, const struct bw_source_conf *src,
                          const struct collect_opts *o, struct source_run *r)
{
    const struct bw_collector *col = src->collector;
    int64_t since = o->since >= 0 ? o->since
                    : src->common.since >= 0
                        ? src->common.since
                        : r->run.started - DEFAULT_SINCE_DAYS * 86400;
    int rc = bw_store_sink_init(st, src, o->full, since, &r->sink);

    r->sink_ok = rc == 0;
    if (rc == 0) {
        sink_commit = r->sink.commit_page;
        commit_lease = r->ta.lease;
        r->sink.commit_page = commit_leased;
        rc = config_hash_check(st, src);
    }
    if (rc == 0) {
        rc = http_open(st, src, &r->sink, &r->ta);
    }
    if (rc == 0) {
        rc = col->init(src, &r->cctx);
        r->inited = rc == 0;
    }
    if (rc == 0) {
        rc = col->collect(r->cctx, &r->sink);
    }
    if (rc == 0 && bw_store_stop_requested) {
        rc = BW_EINTR;
    }
    if (r->sink_ok) {
        bw_store_sink_stats(&r->sink, &r->ss);
    }
    if (rc == 0 && r->ss.catalog_changed) {
        BW_INFO("source '%s': the status catalog changed; rebuilding derived "
                "fields",
                src->name);
        rc = bw_store_reindex(st, src, NULL);
    }
    return rc;
}

/* Record the run in P run:{SRC}, print the summary, release everything. */
static void source_finish(struct bw_store *st, const struct bw_source_conf *src,
                          struct source_run *r, int rc, int quiet)
{
    const struct bw_http_stats *hs = NULL;

    if (r->sink.http) {
        hs = bw_http_stats(r->sink.http);
    }
    r->run.duration = (double)(bw_monotonic_ms() - r->t0) / 1000.0;
    r->run.rc = rc;
    r->run.items = r->ss.items;
    r->run.requests = hs ? hs->requests : 0;
    r->run.not_modified = hs ? hs->not_modified : 0;
    r->run.quota_left = hs ? hs->quota_remaining : -1;
    if (rc != 0 && r->sink.http != NULL) {
        r->run.error = bw_http_last_error(r->sink.http);
    }
    summary(st, src, &r->run, &r->sink, r->sink_ok, quiet);
    if (r->inited) {
        src->collector->free(r->cctx);
    }
    if (r->sink.http) {
        bw_http_free(r->sink.http);
        r->sink.http = NULL;
    }
    if (r->sink_ok) {
        bw_store_sink_release(&r->sink);
    }
}

/* One source: lease, collect, record, release (collect.h). */
static int run_source(struct bw_store *st, const struct bw_source_conf *src,
                      const struct collect_opts *o,
                      struct bw_collect_result *res)
{
    struct source_run r;
    struct bw_lease lease;
    int rc;

    memset(res, 0, sizeof(*res));
    res->quota_left = -1;
    memset(&r, 0, sizeof(r));
    r.t0 = bw_monotonic_ms();
    r.run.started = bw_now();
    rc = bw_lease_init(&lease, st, src->name);
    if (rc == 0) {
        rc = bw_lease_acquire(&lease);
    }
    if (rc == BW_EBUSY) {
        res->skipped = 1;
        snprintf(res->holder, sizeof(res->holder), "%s", lease.holder);
        if (!o->quiet) {
            BW_WARN("source '%s' is being collected by %s; skipped", src->name,
                    res->holder);
        }
        summary_skipped(src, res->holder, o->quiet);
        bw_lease_release(&lease);
        return 0;
    }
    if (rc) {
        bw_lease_release(&lease);
        return rc;
    }
    r.ta.lease = &lease;
    bw_progress_begin(src->name, src->collector->name);
    rc = source_collect(st, src, o, &r);
    res->items = r.ss.items;
    res->pages = r.ss.pages;
    source_finish(st, src, &r, rc, o->quiet);
    res->requests = r.run.requests;
    res->not_modified = r.run.not_modified;
    res->quota_left = r.run.quota_left;
    res->quota_stop = r.sink.stats.quota_stop;
    res->seconds = r.run.duration;
    bw_lease_release(&lease);
    commit_lease = NULL;
    return rc;
}

int bw_collect_source(struct bw_store *st, const struct bw_source_conf *src,
                      int full, int64_t since, int quiet,
                      struct bw_collect_result *res)
{
    struct bw_collect_result local;
    struct collect_opts o;

    memset(&o, 0, sizeof(o));
    o.full = full;
    o.since = since;
    o.quiet = quiet;
    return run_source(st, src, &o, res ? res : &local);
}

/* The run's last line: what the exit status means (progress.h). */
static void final_line(int rc, const int *rcs, size_t n, int quiet)
{
    size_t failed = 0;

    for (size_t i = 0; rcs != NULL && i < n; i++) {
        failed += rcs[i] != 0;
    }
    bw_summary_print_final(rc, n, failed, quiet);
}

/*
 * DESIGN.md's rule over the sources' statuses: 3 when one source stored
 * its data (succeeded) and another failed; a failed source's earlier
 * pages do not make it "stored" (the whole run of that source failed).
 */
static int combine(const int *rcs, size_t n, int interrupted)
{
    size_t ok = 0;
    int first2 = 0, first1 = 0;

    if (interrupted) {
        return BW_EINTR;
    }
    for (size_t i = 0; i < n; i++) {
        if (rcs[i] == 0) {
            ok++;
        } else if (bw_exit_code(rcs[i]) == 2) {
            first2 = first2 ? first2 : rcs[i];
        } else {
            first1 = first1 ? first1 : rcs[i];
        }
    }
    if (ok == n) {
        return 0;
    }
    if (ok > 0) {
        return BW_EPARTIAL;
    }
    return first1 ? first1 : first2;
}

int cmd_collect(struct bw_cli *cli, int argc, char **argv)
{
    struct bw_collect_result res;
    struct collect_opts o;
    struct sigaction old_int, old_term;
    struct bw_config *cfg = NULL;
    struct bw_store *st = NULL;
    int *rcs = NULL;
    size_t n = 0;
    int rc;

    memset(&o, 0, sizeof(o));
    o.quiet = cli->quiet;
    rc = parse_args(argc, argv, &o);
    if (rc == 0) {
        rc = bw_cli_load_config(cli, &cfg);
    }
    if (rc == 0) {
        rc = check_sources(cfg, &o);
    }
    if (rc) {
        goto out;
    }
    if (cfg->nsources == 0) {
        BW_ERROR("no [source] in '%s'; add a [source NAME] section",
                 cfg->file ? cfg->file : "the config");
        rc = BW_ECONFIG;
        goto out;
    }
    bw_store_stop_requested = 0;
    bw_progress_setup(cli->quiet);
    signals_install(&old_int, &old_term);
    rc = bw_store_open(&cfg->redis, BW_STORE_CREATE, &st);
    if (rc == 0) {
        rcs = bw_calloc(cfg->nsources, sizeof(*rcs));
        rc = rcs ? 0 : BW_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < cfg->nsources; i++) {
        if (!selected(&o, cfg->sources[i].name)) {
            continue;
        }
        if (bw_store_stop_requested) {
            break;
        }
        rcs[n++] = run_source(st, &cfg->sources[i], &o, &res);
    }
    if (rc == 0) {
        rc = combine(rcs, n, bw_store_stop_requested != 0);
    }
    if (rc == BW_EINTR) {
        BW_ERROR("collect interrupted by a signal; nothing half-written, the "
                 "next run goes on from the last complete page");
    }
    final_line(rc, rcs, n, cli->quiet);
    signals_restore(&old_int, &old_term);
out:
    bw_store_free(st);
    bw_free(rcs);
    bw_free(o.sources);
    bw_config_free(cfg);
    return rc;
}
