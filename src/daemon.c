/*
 * daemon.c - the scheduler behind `bellwether daemon` (daemon.h): due
 * times, one forked process per job, retries with backoff, signals and
 * reloads. The helpers it shares with `status`, `debug schedule` and the
 * unit tests (schedules, backoff, the schedule clock, the pidfile) are
 * src/daemon_util.c.
 *
 * The daemon process never talks to Redis or HTTP itself (only a check
 * at startup): it sleeps in pselect() until the next due instant, a
 * retry, a child's exit or a signal, with SIGTERM, SIGINT, SIGHUP and
 * SIGCHLD blocked everywhere else, so a signal is never lost between a
 * check and the sleep. A job process gets its own handlers (SIGTERM and
 * SIGINT stop a collect through bw_store_stop_requested; SIGHUP is the
 * daemon's business) and ends with _exit(exit code).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bellwether/clock.h"
#include "bellwether/collect.h"
#include "bellwether/daemon.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/report.h"
#include "bellwether/schedule.h"
#include "bellwether/store.h"

#define WAKE_MAX_MS 60000 /* re-read the clock at least this often */

/* ------------------------------------------------------------- signals */

static volatile sig_atomic_t stop_sig;
static volatile sig_atomic_t hup;
static volatile sig_atomic_t chld;

static void on_stop(int sig)
{
    stop_sig = sig;
}

static void on_hup(int sig)
{
    (void)sig;
    hup = 1;
}

static void on_chld(int sig)
{
    (void)sig;
    chld = 1;
}

/* In a job: stop a collect at the next tick, commit nothing half-done. */
static void on_job_stop(int sig)
{
    (void)sig;
    bw_store_stop_requested = 1;
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a job's blocking waits return early and check */
    sigaction(sig, &sa, NULL);
}

/* ---------------------------------------------------------------- jobs */

struct job {
    int kind;         /* enum bw_job_kind */
    char *source;     /* collect: the [source] name (owned); report: NULL */
    pid_t pid;        /* the running job process, or 0 */
    int64_t start_ms; /* bw_monotonic_ms() when it started */
    int64_t due;      /* the slot it runs for; BW_TIME_NONE for a retry */
    int failures;     /* failed runs in a row */
    int64_t retry_at; /* schedule instant of the next retry, or NONE */
    int gone;         /* its source left the config (reload) */
};

struct daemon {
    const struct bw_daemon_opts *o;
    struct bw_config *cfg;
    struct bw_cron cron[BW_JOB_KINDS];
    int64_t next[BW_JOB_KINDS]; /* the next slot of each kind */
    int64_t report_waits;       /* a report slot waiting for the collect
                                   jobs running at its due time, or NONE */
    struct job *jobs;
    size_t njobs, capjobs;
    struct bw_sched_clock clk;
    sigset_t orig_mask; /* what jobs run with */
    sigset_t wait_mask; /* inside pselect: our signals unblocked */
};

/*
 * A job's one log line, shown at the default level (the daemon's output)
 * and hidden by -q; other INFO lines still need -v.
 */
static void job_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void job_log(const char *fmt, ...)
{
    char line[1536];
    int saved = bw_log_level;
    va_list ap;

    if (saved == BW_LOG_QUIET) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (saved < BW_LOG_INFO) {
        bw_log_set_level(BW_LOG_INFO);
    }
    bw_log(BW_LOG_INFO, "%s", line);
    bw_log_set_level(saved);
}

static const char *job_label(const struct job *j, char *buf, size_t n)
{
    if (j->kind == BW_JOB_COLLECT) {
        snprintf(buf, n, "collect '%s'", j->source);
    } else {
        snprintf(buf, n, "report");
    }
    return buf;
}

/* In a job: "due 2026-03-29T01:00:00Z, pid 42" or "retry 2, pid 42" (the
 * pid the lease holder and the User-Agent name). */
static const char *job_when(const struct job *j, char *buf, size_t n)
{
    char t[BW_TIME_BUFSZ];

    if (j->due == BW_TIME_NONE) {
        snprintf(buf, n, "retry %d, pid %ld", j->failures, (long)getpid());
    } else {
        snprintf(buf, n, "due %s, pid %ld", bw_due_utc(j->due, t),
                 (long)getpid());
    }
    return buf;
}

static struct job *job_add(struct daemon *d, int kind, const char *source)
{
    struct job *j;

    if (d->njobs == d->capjobs) {
        size_t cap = d->capjobs ? 2 * d->capjobs : 8;
        struct job *v = bw_realloc(d->jobs, cap * sizeof(*v));

        if (v == NULL) {
            return NULL;
        }
        d->jobs = v;
        d->capjobs = cap;
    }
    j = &d->jobs[d->njobs];
    memset(j, 0, sizeof(*j));
    j->kind = kind;
    j->retry_at = BW_TIME_NONE;
    j->due = BW_TIME_NONE;
    if (source && (j->source = bw_strdup(source)) == NULL) {
        return NULL;
    }
    d->njobs++;
    return j;
}

static void job_drop(struct daemon *d, size_t i)
{
    bw_free(d->jobs[i].source);
    memmove(&d->jobs[i], &d->jobs[i + 1],
            (d->njobs - i - 1) * sizeof(d->jobs[0]));
    d->njobs--;
}

static struct job *job_find(struct daemon *d, int kind, const char *source)
{
    for (size_t i = 0; i < d->njobs; i++) {
        struct job *j = &d->jobs[i];

        if (j->kind == kind &&
            (kind != BW_JOB_COLLECT || strcmp(j->source, source) == 0)) {
            return j;
        }
    }
    return NULL;
}

static size_t jobs_running(const struct daemon *d)
{
    size_t n = 0;

    for (size_t i = 0; i < d->njobs; i++) {
        n += d->jobs[i].pid > 0;
    }
    return n;
}

/* ------------------------------------------------------ the job processes */

/* The collect job's one line: what, when, result, counts, duration. */
static void collect_line(const struct job *j, const struct bw_collect_result *r,
                         int rc, double secs)
{
    char label[300], when[96], quota[32] = "unknown";

    job_label(j, label, sizeof(label));
    job_when(j, when, sizeof(when));
    if (r->skipped) {
        job_log("%s (%s): skipped, being collected by %s; %.1f s", label, when,
                r->holder, secs);
        return;
    }
    if (r->quota_left >= 0) {
        snprintf(quota, sizeof(quota), "%ld", r->quota_left);
    }
    job_log("%s (%s): %s%s%s, %ld items in %ld pages, %ld requests (%ld not "
            "modified), quota left %s%s; %.1f s",
            label, when,
            rc == 0          ? "ok"
            : rc == BW_EINTR ? "interrupted"
                             : "failed",
            rc && rc != BW_EINTR ? ": " : "",
            rc && rc != BW_EINTR ? bw_strerror(rc) : "", r->items, r->pages,
            r->requests, r->not_modified, quota,
            r->quota_stop ? " (stopped at min_quota_left)" : "", secs);
}

static int job_collect(const struct daemon *d, const struct job *j)
{
    const struct bw_source_conf *src = bw_config_source(d->cfg, j->source);
    struct bw_collect_result res;
    struct bw_store *st = NULL;
    int64_t t0 = bw_monotonic_ms();
    int rc;

    memset(&res, 0, sizeof(res));
    res.quota_left = -1;
    if (src == NULL) {
        return BW_ENOTFOUND; /* cannot happen: jobs follow the config */
    }
    rc = bw_store_open(&d->cfg->redis, BW_STORE_CREATE, &st);
    if (rc == 0) {
        rc = bw_collect_source(st, src, 0, -1, 1, &res);
    }
    collect_line(j, &res, rc, (double)(bw_monotonic_ms() - t0) / 1000.0);
    bw_store_free(st);
    return rc;
}

/* Append "written to A, B, C" of one run's files to b. */
static void report_paths(struct bw_buf *b, const struct bw_report_run_result *r)
{
    int n = 0;

    for (int i = 0; i < 3; i++) {
        if (r->paths[i]) {
            bw_buf_printf(b, "%s%s", n++ ? ", " : " written to ", r->paths[i]);
        }
    }
}

/*
 * One report: the organisation's (team NULL), or a team's (mailed to its
 * email_to by bw_report_run()). Appends " 2026-W46 written to ..., mailed"
 * or "; team 'x' ..." to line.
 */
static int report_one(const struct daemon *d, struct bw_store *st,
                      const char *team, struct bw_buf *line)
{
    struct bw_report_run_opts o;
    struct bw_report_run_result res;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    o.team = team;
    o.formats = BW_RF_MD | BW_RF_HTML | BW_RF_JSON;
    o.email = d->cfg->email.present;
    rc = bw_report_run(st, d->cfg, &o, &res);
    if (team) {
        bw_buf_printf(line, "; team '%s'", team);
    } else {
        bw_buf_printf(line, " %s", res.week_name[0] ? res.week_name : "-");
    }
    report_paths(line, &res);
    if (res.mailed) {
        bw_buf_printf(line, ", mailed");
    }
    if (rc) {
        bw_buf_printf(line, " failed: %s", bw_strerror(rc));
    }
    bw_report_run_result_release(&res);
    return rc;
}

static int job_report(const struct daemon *d, const struct job *j)
{
    struct bw_buf line = BW_BUF_INIT;
    struct bw_store *st = NULL;
    int64_t t0 = bw_monotonic_ms();
    char when[96];
    int rc, first = 0;

    if (d->cfg->report.out_dir == NULL || !d->cfg->report.out_dir[0]) {
        /* no files: the copy in Redis (and the mail) only, not stdout */
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            close(null);
        }
    }
    rc = bw_store_open(&d->cfg->redis, 0, &st);
    if (rc == 0) {
        rc = report_one(d, st, NULL, &line);
    } else {
        bw_buf_printf(&line, " failed: %s", bw_strerror(rc));
    }
    first = rc;
    for (size_t i = 0; st && i < d->cfg->nteams && d->cfg->email.present; i++) {
        const struct bw_team_conf *t = &d->cfg->teams[i];

        if (bw_store_stop_requested) {
            break;
        }
        if (t->email_to && t->email_to[0]) {
            rc = report_one(d, st, t->name, &line);
            first = first ? first : rc;
        }
    }
    job_log("report (%s):%s; %.1f s", job_when(j, when, sizeof(when)),
            line.data ? line.data : " -",
            (double)(bw_monotonic_ms() - t0) / 1000.0);
    bw_buf_release(&line);
    bw_store_free(st);
    return first;
}

/* The job process: never returns. */
static void job_main(struct daemon *d, const struct job *j)
    __attribute__((noreturn));

static void job_main(struct daemon *d, const struct job *j)
{
    char now[32];
    int rc;

    set_handler(SIGTERM, on_job_stop);
    set_handler(SIGINT, on_job_stop);
    signal(SIGHUP, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_SETMASK, &d->orig_mask, NULL);
    bw_store_stop_requested = 0;
    if (d->clk.simulated) {
        /* the job sees the schedule clock as "now" */
        snprintf(now, sizeof(now), "%lld",
                 (long long)bw_sched_clock_now(&d->clk));
        setenv("BELLWETHER_NOW", now, 1);
        bw_clock_init();
    }
    rc = j->kind == BW_JOB_COLLECT ? job_collect(d, j) : job_report(d, j);
    fflush(stdout);
    fflush(stderr);
    _exit(bw_exit_code(rc));
}

static void job_start(struct daemon *d, struct job *j, int64_t due)
{
    char label[300];
    pid_t pid;

    j->due = due;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        job_main(d, j);
    }
    if (pid < 0) {
        BW_ERROR("cannot start the %s job: fork failed: %s; check the "
                 "process and memory limits",
                 job_label(j, label, sizeof(label)), strerror(errno));
        return;
    }
    j->pid = pid;
    j->start_ms = bw_monotonic_ms();
    BW_DEBUG("%s started (pid %ld)", job_label(j, label, sizeof(label)),
             (long)pid);
}

/* A slot came: start the job unless its last run is still going. */
static void job_slot(struct daemon *d, struct job *j, int64_t due)
{
    char label[300], t[BW_TIME_BUFSZ];

    if (j->pid > 0) {
        job_log("%s (due %s): skipped, the run started %.0f s ago (pid %ld) "
                "is still going",
                job_label(j, label, sizeof(label)), bw_due_utc(due, t),
                (double)(bw_monotonic_ms() - j->start_ms) / 1000.0,
                (long)j->pid);
        return;
    }
    j->retry_at = BW_TIME_NONE; /* the slot is the retry */
    job_start(d, j, due);
}

/* ------------------------------------------------------- the main loop */

static int collects_running(const struct daemon *d)
{
    for (size_t i = 0; i < d->njobs; i++) {
        if (d->jobs[i].kind == BW_JOB_COLLECT && d->jobs[i].pid > 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * A report due while collect jobs run waits for them, so that it reports
 * what they fetched (both are due at the same slot with the defaults'
 * Monday 08:00). Started by start_waiting_report() when they are done.
 */
static void report_slot(struct daemon *d, struct job *j, int64_t due)
{
    char t[BW_TIME_BUFSZ];

    if (!collects_running(d) && d->report_waits == BW_TIME_NONE) {
        job_slot(d, j, due);
    } else if (d->report_waits == BW_TIME_NONE) {
        d->report_waits = due;
        BW_DEBUG("report (due %s) waits for the running collect jobs",
                 bw_due_utc(due, t));
    } else {
        job_log("report (due %s): skipped, the report due %s is still "
                "waiting for collect jobs",
                bw_due_utc(due, t), bw_due_utc(d->report_waits, t));
    }
}

static void start_waiting_report(struct daemon *d)
{
    struct job *j = job_find(d, BW_JOB_REPORT, NULL);

    if (d->report_waits != BW_TIME_NONE && !collects_running(d) && j) {
        job_slot(d, j, d->report_waits);
        d->report_waits = BW_TIME_NONE;
    }
}

static void fire(struct daemon *d, int kind, int64_t now)
{
    int64_t due = d->next[kind];
    char a[BW_TIME_BUFSZ], b[BW_TIME_BUFSZ];

    if (due == BW_TIME_NONE || now < due) {
        return;
    }
    d->next[kind] = bw_cron_next(&d->cron[kind], now);
    if (bw_cron_next(&d->cron[kind], due) <= now - 60) {
        BW_WARN("%s slots from %s to %s were missed (the clock jumped or "
                "the machine slept); running once now",
                bw_job_name(kind), bw_due_utc(due, a), bw_due_utc(now, b));
    }
    for (size_t i = 0; i < d->njobs; i++) {
        if (d->jobs[i].kind != kind || d->jobs[i].gone) {
            continue;
        }
        if (kind == BW_JOB_REPORT) {
            report_slot(d, &d->jobs[i], due);
        } else {
            job_slot(d, &d->jobs[i], due);
        }
    }
}

static void fire_retries(struct daemon *d, int64_t now)
{
    for (size_t i = 0; i < d->njobs; i++) {
        struct job *j = &d->jobs[i];

        if (j->retry_at != BW_TIME_NONE && now >= j->retry_at && j->pid == 0 &&
            !j->gone) {
            j->retry_at = BW_TIME_NONE;
            job_start(d, j, BW_TIME_NONE);
        }
    }
}

static void job_failed(struct daemon *d, struct job *j, int status)
{
    char label[300], why[64], t[BW_TIME_BUFSZ];
    int64_t now = bw_sched_clock_now(&d->clk);

    if (WIFSIGNALED(status)) {
        snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
    } else {
        snprintf(why, sizeof(why), "exit %d", WEXITSTATUS(status));
    }
    j->failures++;
    job_label(j, label, sizeof(label));
    if (j->kind != BW_JOB_COLLECT) {
        BW_WARN("%s failed (%s); it runs again at its next slot %s", label, why,
                bw_due_utc(d->next[j->kind], t));
        return;
    }
    j->retry_at = bw_retry_at(now, j->failures, d->next[j->kind]);
    if (j->retry_at == BW_TIME_NONE) {
        BW_WARN("%s failed (%s, %d in a row); next try at its slot %s", label,
                why, j->failures, bw_due_utc(d->next[j->kind], t));
    } else {
        BW_WARN("%s failed (%s, %d in a row); retrying at %s (in %lld s)",
                label, why, j->failures, bw_due_utc(j->retry_at, t),
                (long long)(j->retry_at - now));
    }
}

static void reap(struct daemon *d)
{
    pid_t pid;
    int status;

    chld = 0;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < d->njobs; i++) {
            struct job *j = &d->jobs[i];

            if (j->pid != pid) {
                continue;
            }
            j->pid = 0;
            if (j->gone) {
                job_drop(d, i);
            } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                j->failures = 0;
                j->retry_at = BW_TIME_NONE;
            } else if (!stop_sig) {
                job_failed(d, j, status);
            }
            break;
        }
    }
}

static int64_t next_wake(const struct daemon *d)
{
    int64_t w = BW_TIME_NONE;

    for (int k = 0; k < BW_JOB_KINDS; k++) {
        if (d->next[k] != BW_TIME_NONE &&
            (w == BW_TIME_NONE || d->next[k] < w)) {
            w = d->next[k];
        }
    }
    for (size_t i = 0; i < d->njobs; i++) {
        int64_t r = d->jobs[i].retry_at;

        if (r != BW_TIME_NONE && d->jobs[i].pid == 0 &&
            (w == BW_TIME_NONE || r < w)) {
            w = r;
        }
    }
    return w;
}

static void sleep_ms(struct daemon *d, long ms)
{
    struct timespec ts;

    if (stop_sig || hup || chld) {
        return;
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    /* our signals are unblocked only in here: none is missed */
    pselect(0, NULL, NULL, NULL, &ts, &d->wait_mask);
}

/* ------------------------------------------------------- config, reload */

/* Take cfg's schedules, zone and sources; 0 or a status (d unchanged). */
static int apply(struct daemon *d, struct bw_config *cfg, int64_t now)
{
    struct bw_cron cron[BW_JOB_KINDS];
    const char *zone = cfg->report.timezone ? cfg->report.timezone : "UTC";
    char why[256];

    for (int k = 0; k < BW_JOB_KINDS; k++) {
        const char *e = bw_schedule_expr(cfg, k);

        if (bw_cron_parse(e, &cron[k], why, sizeof(why)) != 0) {
            BW_ERROR("bad cron expression '%s' for '%s' in [schedule]: %s", e,
                     bw_job_name(k), why);
            return BW_ECONFIG;
        }
    }
    if (bw_tz_set(zone) != 0) {
        return BW_ECONFIG;
    }
    for (size_t i = 0; i < d->njobs; i++) {
        d->jobs[i].gone = d->jobs[i].kind == BW_JOB_COLLECT;
    }
    for (size_t i = 0; i < cfg->nsources; i++) {
        struct job *j = job_find(d, BW_JOB_COLLECT, cfg->sources[i].name);

        if (j == NULL) {
            j = job_add(d, BW_JOB_COLLECT, cfg->sources[i].name);
        }
        if (j == NULL) {
            return BW_ENOMEM;
        }
        j->gone = 0;
    }
    if (job_find(d, BW_JOB_REPORT, NULL) == NULL &&
        job_add(d, BW_JOB_REPORT, NULL) == NULL) {
        return BW_ENOMEM;
    }
    for (size_t i = d->njobs; i-- > 0;) {
        if (d->jobs[i].gone && d->jobs[i].pid == 0) {
            job_drop(d, i);
        }
    }
    /* slots are looked for after now: a slot due now has fired already
       (the loop fires before it reloads) */
    for (int k = 0; k < BW_JOB_KINDS; k++) {
        d->cron[k] = cron[k];
        d->next[k] = bw_cron_next(&cron[k], now);
    }
    bw_config_free(d->cfg);
    d->cfg = cfg;
    return 0;
}

static void warn_teams(const struct bw_config *cfg)
{
    for (size_t i = 0; i < cfg->nteams && !cfg->email.present; i++) {
        if (cfg->teams[i].email_to && cfg->teams[i].email_to[0]) {
            BW_WARN("team '%s' has email_to but the config has no [email] "
                    "section; its report is not mailed (add [email])",
                    cfg->teams[i].name);
        }
    }
}

/* "WHAT config 'F': 2 sources; collect '...' next at ...; ..." */
static void describe(const struct daemon *d, const char *what)
{
    char a[BW_TIME_BUFSZ], b[BW_TIME_BUFSZ], la[64], lb[64];

    job_log("%s config '%s': %zu source%s; collect '%s' next at %s (%s), "
            "report '%s' next at %s (%s), in %s",
            what, d->o->config_path, d->cfg->nsources,
            d->cfg->nsources == 1 ? "" : "s",
            bw_schedule_expr(d->cfg, BW_JOB_COLLECT),
            bw_due_utc(d->next[BW_JOB_COLLECT], a),
            bw_due_local(d->next[BW_JOB_COLLECT], la, sizeof(la)),
            bw_schedule_expr(d->cfg, BW_JOB_REPORT),
            bw_due_utc(d->next[BW_JOB_REPORT], b),
            bw_due_local(d->next[BW_JOB_REPORT], lb, sizeof(lb)),
            bw_tz_current()[0] ? bw_tz_current() : "UTC");
}

static void reload(struct daemon *d)
{
    struct bw_config *cfg = NULL;
    char *old_zone = bw_strdup(bw_tz_current());
    int rc;

    hup = 0;
    job_log("SIGHUP: reading '%s' again", d->o->config_path);
    rc = bw_config_load(d->o->config_path, &cfg);
    if (rc == 0) {
        rc = apply(d, cfg, bw_sched_clock_now(&d->clk));
    }
    if (rc) {
        BW_ERROR("cannot reload the config '%s' (see above); keeping the "
                 "config loaded before",
                 d->o->config_path);
        bw_config_free(cfg);
        if (old_zone && old_zone[0]) {
            bw_tz_set(old_zone);
        }
    } else {
        warn_teams(d->cfg);
        describe(d, "reloaded");
    }
    bw_free(old_zone);
}

/* ------------------------------------------------------------ start, stop */

/* Redis refusing us for good (bad password, another schema) stops the
 * start; Redis not up yet does not: the jobs retry. */
static int check_redis(const struct bw_config *cfg)
{
    struct bw_store *st = NULL;
    int rc = bw_store_open(&cfg->redis, 0, &st);

    bw_store_free(st);
    if (rc == BW_EREDIS) {
        BW_WARN("Redis is not reachable now; the jobs retry at their slots");
        return 0;
    }
    return rc;
}

static const char *sig_name(void)
{
    return stop_sig == SIGINT ? "SIGINT" : "SIGTERM";
}

static void stop_jobs(struct daemon *d)
{
    int64_t deadline = bw_monotonic_ms() + BW_DAEMON_STOP_MS;
    char label[300];
    size_t n = jobs_running(d);

    if (n) {
        job_log("%s: stopping %zu running job%s", sig_name(), n,
                n == 1 ? "" : "s");
    }
    for (size_t i = 0; i < d->njobs; i++) {
        if (d->jobs[i].pid > 0) {
            kill(d->jobs[i].pid, SIGTERM);
        }
    }
    while (jobs_running(d) > 0 && bw_monotonic_ms() < deadline) {
        long left = (long)(deadline - bw_monotonic_ms());
        struct timespec ts = {0, 0};

        left = left > 200 ? 200 : left < 0 ? 0 : left;
        ts.tv_nsec = left * 1000000L;
        pselect(0, NULL, NULL, NULL, &ts, &d->wait_mask);
        reap(d);
    }
    for (size_t i = 0; i < d->njobs; i++) {
        if (d->jobs[i].pid > 0) {
            BW_ERROR("%s (pid %ld) did not stop within %d s; killing it",
                     job_label(&d->jobs[i], label, sizeof(label)),
                     (long)d->jobs[i].pid, BW_DAEMON_STOP_MS / 1000);
            kill(d->jobs[i].pid, SIGKILL);
            waitpid(d->jobs[i].pid, NULL, 0);
            d->jobs[i].pid = 0;
        }
    }
}

static int loop(struct daemon *d)
{
    while (!stop_sig) {
        int64_t now;

        reap(d);
        if (stop_sig) {
            break;
        }
        now = bw_sched_clock_now(&d->clk);
        fire(d, BW_JOB_COLLECT, now);
        fire(d, BW_JOB_REPORT, now);
        fire_retries(d, now);
        start_waiting_report(d);
        if (hup) {
            reload(d);
            continue;
        }
        sleep_ms(d, bw_sched_clock_wait_ms(&d->clk, next_wake(d), WAKE_MAX_MS));
    }
    stop_jobs(d);
    job_log("%s: stopped", sig_name());
    return 0;
}

static void signals_setup(struct daemon *d)
{
    sigset_t ours;

    stop_sig = 0;
    hup = 0;
    chld = 0;
    sigemptyset(&ours);
    sigaddset(&ours, SIGTERM);
    sigaddset(&ours, SIGINT);
    sigaddset(&ours, SIGHUP);
    sigaddset(&ours, SIGCHLD);
    sigprocmask(SIG_BLOCK, &ours, &d->orig_mask);
    d->wait_mask = d->orig_mask;
    sigdelset(&d->wait_mask, SIGTERM);
    sigdelset(&d->wait_mask, SIGINT);
    sigdelset(&d->wait_mask, SIGHUP);
    sigdelset(&d->wait_mask, SIGCHLD);
    set_handler(SIGTERM, on_stop);
    set_handler(SIGINT, on_stop);
    set_handler(SIGHUP, on_hup);
    set_handler(SIGCHLD, on_chld);
}

int bw_daemon_run(const struct bw_daemon_opts *o, struct bw_config *cfg)
{
    struct daemon d;
    int pidfile = 0;
    int rc;

    memset(&d, 0, sizeof(d));
    d.o = o;
    d.report_waits = BW_TIME_NONE;
    bw_log_set_timestamps(1);
    rc = bw_sched_clock_init(&d.clk);
    if (rc == 0) {
        rc = apply(&d, cfg, bw_sched_clock_now(&d.clk));
        cfg = rc == 0 ? NULL : cfg;
    }
    if (rc == 0) {
        rc = check_redis(d.cfg);
    }
    if (rc == 0 && o->pidfile) {
        rc = bw_pidfile_create(o->pidfile);
        pidfile = rc == 0;
    }
    if (rc) {
        goto out;
    }
    signals_setup(&d);
    warn_teams(d.cfg);
    {
        char what[64];

        snprintf(what, sizeof(what), "daemon started (pid %ld),",
                 (long)getpid());
        describe(&d, what);
    }
    if (d.clk.simulated) {
        char t[BW_TIME_BUFSZ];

        job_log("schedule clock starts at %s and runs %.0fx real time "
                "(BELLWETHER_NOW / BELLWETHER_DAEMON_FAST)",
                bw_due_utc(d.clk.base, t), d.clk.factor);
    }
    rc = loop(&d);
    sigprocmask(SIG_SETMASK, &d.orig_mask, NULL);
out:
    if (pidfile) {
        bw_pidfile_remove(o->pidfile);
    }
    for (size_t i = 0; i < d.njobs; i++) {
        bw_free(d.jobs[i].source);
    }
    bw_free(d.jobs);
    bw_config_free(d.cfg);
    bw_config_free(cfg);
    return rc;
}
