/*
 * daemon.h - `bellwether daemon`: collect and report on the [schedule],
 * in the foreground (systemd style), and the schedule helpers `status`
 * and `debug schedule` share.
 *
 * The daemon process itself only keeps time: at each due instant of
 * [schedule] collect it forks one job process per source (which runs
 * bw_collect_source(), collect.h: lease, collect, P run:{SRC}); at each
 * due instant of [schedule] report one job process that writes the report
 * (bw_report_run(), report.h), mails it when [email] is set, and mails
 * each [team] with email_to its own --team report. A job process prints
 * one log line when it ends (what, due when, result, counts, duration);
 * the daemon logs skipped slots and retries. Forking keeps each job's
 * memory, connections and failures to itself, keeps the daemon responsive
 * to signals while jobs run, and gives every run its own process id (the
 * lease holder and the User-Agent name it).
 *
 * Rules:
 *   - Due times come from bw_cron_next() in the [report] timezone, so the
 *     daylight-saving rule (schedule.h) holds for every job.
 *   - A job never overlaps itself: when a slot comes while the previous
 *     run of that job is still going, the slot is skipped (logged).
 *   - A collect job that fails is retried after 1, 2, 4, ... minutes
 *     (bw_retry_delay(), at most 30), but never at or after its next slot
 *     (the slot runs it anyway); a success resets the backoff. Report jobs
 *     are not retried (a retry could mail twice).
 *   - SIGTERM or SIGINT: running jobs get SIGTERM (a collect stops within
 *     about a second: the page in progress is dropped, the run recorded,
 *     the lease released), are waited for up to 9 s (then killed), the
 *     pidfile is removed and the daemon exits 0.
 *   - SIGHUP: the config file is read again; a config with errors is
 *     refused (its errors logged) and the old one kept. Running jobs keep
 *     the config they started with.
 *   - --pidfile FILE: created exclusively; another live daemon's pidfile
 *     refuses the start (exit 1), a stale one (its process is gone) is
 *     replaced; removed on exit.
 *
 * Clocks: the schedule clock is bw_now(). Tests drive it: with
 * BELLWETHER_NOW=EPOCH the schedule clock starts there and advances with
 * real time, BELLWETHER_DAEMON_FAST=N times faster (tests only: a day of
 * schedule in seconds; jobs then see the schedule clock as their
 * BELLWETHER_NOW). Leases, timeouts and the shutdown deadline stay real.
 */
#ifndef BW_DAEMON_H
#define BW_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "bellwether/clock.h"
#include "bellwether/config.h"

/* [schedule] defaults when a key is absent (DESIGN.md's example). */
#define BW_SCHEDULE_COLLECT_DEFAULT "*/30 * * * *"
#define BW_SCHEDULE_REPORT_DEFAULT "0 8 * * 1"

/* Retry backoff of a failed collect job, in schedule seconds. */
#define BW_RETRY_BASE 60
#define BW_RETRY_CAP 1800
/* How long stopping jobs get before SIGKILL, real milliseconds. */
#define BW_DAEMON_STOP_MS 9000

enum bw_job_kind {
    BW_JOB_COLLECT = 0,
    BW_JOB_REPORT,
    BW_JOB_KINDS
};

/* "collect" or "report". */
const char *bw_job_name(int kind);

/* The [schedule] expression of a job kind, or its default. Borrowed. */
const char *bw_schedule_expr(const struct bw_config *cfg, int kind);

/*
 * The first due instant of a job kind strictly after `after`, in the
 * current zone (set [report] timezone first); BW_TIME_NONE when the
 * expression does not parse (config.c has refused that already) or has
 * no due time.
 */
int64_t bw_schedule_next(const struct bw_config *cfg, int kind, int64_t after);

/* Delay before retry number `failures` (1 = after the first failure):
 * BW_RETRY_BASE doubled each time, at most BW_RETRY_CAP. Pure. */
int64_t bw_retry_delay(int failures);
/* now + bw_retry_delay(failures), or BW_TIME_NONE when that is at or
 * after next_slot (the slot retries it). Pure. */
int64_t bw_retry_at(int64_t now, int failures, int64_t next_slot);

/* "2026-03-29T01:00:00Z", or "never" for BW_TIME_NONE; returns buf. */
const char *bw_due_utc(int64_t t, char buf[BW_TIME_BUFSZ]);
/* "2026-03-29 03:00 CEST" in the current zone ("-" when out of range);
 * returns buf. */
const char *bw_due_local(int64_t t, char *buf, size_t n);

/* ---- the schedule clock ------------------------------------------------ */

struct bw_sched_clock {
    int simulated;   /* BELLWETHER_NOW or BELLWETHER_DAEMON_FAST was set */
    double factor;   /* schedule seconds per real second (1 unless FAST) */
    int64_t base;    /* schedule instant at base_ms */
    int64_t base_ms; /* bw_monotonic_ms() at start */
};

/* Read BELLWETHER_DAEMON_FAST (1 .. 1000000) and start at bw_now().
 * 0, or BW_EUSAGE (a bad value, logged). */
int bw_sched_clock_init(struct bw_sched_clock *c);
int64_t bw_sched_clock_now(const struct bw_sched_clock *c);
/* Real milliseconds until schedule instant t (0 when past), at most
 * max_ms. */
long bw_sched_clock_wait_ms(const struct bw_sched_clock *c, int64_t t,
                            long max_ms);

/* ---- pidfile ------------------------------------------------------------ */

/*
 * Create path exclusively (O_CREAT|O_EXCL, mode 0644) holding our pid.
 * When it exists: a live process with that pid whose name is bellwether
 * refuses (BW_EBUSY, logged); a pid that is gone (or another program's)
 * makes the file stale: it is replaced, with a warning. BW_EIO when the
 * file cannot be written (logged).
 */
int bw_pidfile_create(const char *path);
/* Remove path if it still holds our pid. */
void bw_pidfile_remove(const char *path);

/* ---- the daemon -------------------------------------------------------- */

struct bw_daemon_opts {
    const char *config_path; /* the file to read again on SIGHUP */
    const char *pidfile;     /* or NULL */
};

/*
 * Run the daemon with cfg (taken over: freed by the daemon) until SIGTERM
 * or SIGINT: 0 then. Startup errors: BW_EBUSY (pidfile held), BW_EIO,
 * BW_EUSAGE (BELLWETHER_DAEMON_FAST), BW_ECONFIG / BW_EAUTH /
 * BW_ESCHEMA (Redis refuses us: retrying would not help).
 */
int bw_daemon_run(const struct bw_daemon_opts *o, struct bw_config *cfg);

/*
 * `bellwether debug schedule EXPR [--from EPOCH|ISO8601] [--count N]
 * [--tz ZONE]`: print the next N (default 10) due instants of EXPR after
 * --from (default now) in ZONE (default UTC), one per line:
 * "EPOCH ISO_UTC LOCAL_DATE LOCAL_TIME ZONE_ABBREVIATION". argv[0] is
 * "schedule". A hidden helper for tests and for checking an expression.
 */
int bw_daemon_debug_schedule(int argc, char **argv);

#endif
