/*
 * daemon_util.c - the daemon's helpers that need no daemon (daemon.h):
 * [schedule] expressions and their next due times, the retry backoff,
 * the schedule clock of tests, the pidfile, and `debug schedule`. Kept
 * apart from daemon.c (the loop and its jobs) so `status` and the unit
 * tests use them without pulling in the collect and report code.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "bellwether/clock.h"
#include "bellwether/daemon.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/schedule.h"

#define FAST_MAX 1000000.0

/* ---------------------------------------------------------- schedules */

const char *bw_job_name(int kind)
{
    return kind == BW_JOB_REPORT ? "report" : "collect";
}

const char *bw_schedule_expr(const struct bw_config *cfg, int kind)
{
    if (kind == BW_JOB_REPORT) {
        return cfg->schedule.report && cfg->schedule.report[0]
                   ? cfg->schedule.report
                   : BW_SCHEDULE_REPORT_DEFAULT;
    }
    return cfg->schedule.collect && cfg->schedule.collect[0]
               ? cfg->schedule.collect
               : BW_SCHEDULE_COLLECT_DEFAULT;
}

int64_t bw_schedule_next(const struct bw_config *cfg, int kind, int64_t after)
{
    struct bw_cron c;

    if (bw_cron_parse(bw_schedule_expr(cfg, kind), &c, NULL, 0) != 0) {
        return BW_TIME_NONE;
    }
    return bw_cron_next(&c, after);
}

int64_t bw_retry_delay(int failures)
{
    int64_t d = BW_RETRY_BASE;

    for (int i = 1; i < failures && d < BW_RETRY_CAP; i++) {
        d *= 2;
    }
    return d > BW_RETRY_CAP ? BW_RETRY_CAP : d;
}

int64_t bw_retry_at(int64_t now, int failures, int64_t next_slot)
{
    int64_t t = now + bw_retry_delay(failures);

    if (next_slot != BW_TIME_NONE && t >= next_slot) {
        return BW_TIME_NONE;
    }
    return t;
}

/* ---------------------------------------------------- the schedule clock */

int bw_sched_clock_init(struct bw_sched_clock *c)
{
    const char *fast = getenv("BELLWETHER_DAEMON_FAST");
    const char *now = getenv("BELLWETHER_NOW");

    memset(c, 0, sizeof(*c));
    c->factor = 1.0;
    if (fast && *fast) {
        char *end;
        double f;

        errno = 0;
        f = strtod(fast, &end);
        if (errno || *end || end == fast || !(f >= 1.0 && f <= FAST_MAX)) {
            BW_ERROR("bad BELLWETHER_DAEMON_FAST '%s'; use a factor from 1 "
                     "to 1000000 (tests only), or unset it",
                     fast);
            return BW_EUSAGE;
        }
        c->factor = f;
        c->simulated = 1;
    }
    if (now && *now) {
        c->simulated = 1;
    }
    c->base = bw_now();
    c->base_ms = bw_monotonic_ms();
    return 0;
}

int64_t bw_sched_clock_now(const struct bw_sched_clock *c)
{
    double elapsed;

    if (!c->simulated) {
        return bw_now();
    }
    elapsed = (double)(bw_monotonic_ms() - c->base_ms) / 1000.0;
    return c->base + (int64_t)floor(elapsed * c->factor);
}

long bw_sched_clock_wait_ms(const struct bw_sched_clock *c, int64_t t,
                            long max_ms)
{
    double ms;

    if (t == BW_TIME_NONE) {
        return max_ms;
    }
    if (!c->simulated) {
        ms = (double)(t - bw_now()) * 1000.0;
    } else {
        /* the real instant at which the schedule clock reaches t */
        ms = (double)(t - c->base) * 1000.0 / c->factor -
             (double)(bw_monotonic_ms() - c->base_ms);
    }
    if (ms <= 0) {
        return 0;
    }
    ms = ceil(ms);
    return ms > (double)max_ms ? max_ms : (long)ms;
}

const char *bw_due_utc(int64_t t, char buf[BW_TIME_BUFSZ])
{
    if (t == BW_TIME_NONE) {
        snprintf(buf, BW_TIME_BUFSZ, "never");
        return buf;
    }
    return bw_format_iso8601_utc(t, buf);
}

const char *bw_due_local(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t == BW_TIME_NONE || localtime_r(&tt, &tm) == NULL ||
        strftime(buf, n, "%Y-%m-%d %H:%M %Z", &tm) == 0) {
        snprintf(buf, n, "-");
    }
    return buf;
}

/* ------------------------------------------------------------- pidfile */

/* The pid in a pidfile, or -1 (empty, unreadable, not a number). */
static long pidfile_read(const char *path)
{
    char buf[32];
    ssize_t n;
    long pid;
    char *end;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return -1;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    errno = 0;
    pid = strtol(buf, &end, 10);
    if (errno || end == buf || (*end && *end != '\n') || pid <= 0) {
        return -1;
    }
    return pid;
}

/* Is pid a running bellwether (not a reused pid of another program)? */
static int pid_is_bellwether(long pid)
{
    char path[64];
    char comm[64] = "";
    ssize_t n;
    int fd;

    if (kill((pid_t)pid, 0) != 0 && errno != EPERM) {
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 1; /* no /proc: trust kill() */
    }
    n = read(fd, comm, sizeof(comm) - 1);
    close(fd);
    comm[n > 0 ? n : 0] = '\0';
    return strncmp(comm, "bellwether", 10) == 0;
}

/* A pidfile without a pid written yet: another daemon is starting. */
static int pidfile_fresh(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && sb.st_size == 0 &&
           (int64_t)time(NULL) - (int64_t)sb.st_mtime < 5;
}

static int pidfile_write(int fd, const char *path)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    int rc = 0;

    if (write(fd, buf, (size_t)n) != n || fsync(fd) != 0) {
        BW_ERROR("cannot write pidfile '%s': %s; check the directory's "
                 "space and permissions",
                 path, strerror(errno));
        rc = BW_EIO;
    }
    if (close(fd) != 0 && rc == 0) {
        BW_ERROR("cannot write pidfile '%s': %s", path, strerror(errno));
        rc = BW_EIO;
    }
    if (rc) {
        unlink(path);
    }
    return rc;
}

int bw_pidfile_create(const char *path)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        long pid;

        if (fd >= 0) {
            return pidfile_write(fd, path);
        }
        if (errno != EEXIST) {
            BW_ERROR("cannot create pidfile '%s': %s; check that its "
                     "directory exists and is writable",
                     path, strerror(errno));
            return BW_EIO;
        }
        pid = pidfile_read(path);
        if (pid > 0 && pid_is_bellwether(pid)) {
            BW_ERROR("another bellwether daemon (pid %ld) holds pidfile "
                     "'%s'; stop it first, or give this one another "
                     "--pidfile",
                     pid, path);
            return BW_EBUSY;
        }
        if (pid < 0 && pidfile_fresh(path)) {
            break;
        }
        if (pid > 0) {
            BW_WARN("removing stale pidfile '%s' (pid %ld is not a running "
                    "bellwether)",
                    path, pid);
        } else {
            BW_WARN("removing stale pidfile '%s' (it holds no pid)", path);
        }
        if (unlink(path) != 0 && errno != ENOENT) {
            BW_ERROR("cannot remove stale pidfile '%s': %s; remove it by "
                     "hand",
                     path, strerror(errno));
            return BW_EIO;
        }
    }
    BW_ERROR("another bellwether daemon is starting with pidfile '%s'; "
             "start only one",
             path);
    return BW_EBUSY;
}

void bw_pidfile_remove(const char *path)
{
    if (path && pidfile_read(path) == (long)getpid()) {
        unlink(path);
    }
}

/* ------------------------------------------------------ debug schedule */

static int parse_from(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno == 0 && *end == '\0' && end != s) {
        *out = v;
        return 0;
    }
    return bw_parse_iso8601(s, strlen(s), out);
}

int bw_daemon_debug_schedule(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},
        {"tz", required_argument, NULL, 'z'},
        {NULL, 0, NULL, 0}};
    const char *zone = "UTC";
    int64_t from = bw_now();
    long count = 10;
    struct bw_cron c;
    char why[256], t[BW_TIME_BUFSZ], l[64];
    char *end;
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (parse_from(optarg, &from) != 0) {
                BW_ERROR("bad --from '%s'; use epoch seconds or an ISO 8601 "
                         "time with a zone",
                         optarg);
                return BW_EUSAGE;
            }
            break;
        case 'n':
            count = strtol(optarg, &end, 10);
            if (*end || end == optarg || count < 1 || count > 100000) {
                BW_ERROR("bad --count '%s'; use 1 to 100000", optarg);
                return BW_EUSAGE;
            }
            break;
        case 'z':
            zone = optarg;
            break;
        default:
            BW_ERROR("usage: bellwether debug schedule EXPR [--from EPOCH] "
                     "[--count N] [--tz ZONE]");
            return BW_EUSAGE;
        }
    }
    if (optind + 1 != argc) {
        BW_ERROR("usage: bellwether debug schedule EXPR [--from EPOCH] "
                 "[--count N] [--tz ZONE] (one quoted expression)");
        return BW_EUSAGE;
    }
    if (bw_cron_parse(argv[optind], &c, why, sizeof(why)) != 0) {
        BW_ERROR("bad cron expression '%s': %s", argv[optind], why);
        return BW_ECONFIG;
    }
    if (bw_tz_set(zone) != 0) {
        return BW_ECONFIG;
    }
    for (long i = 0; i < count; i++) {
        from = bw_cron_next(&c, from);
        if (from == BW_TIME_NONE) {
            break;
        }
        printf("%lld %s %s\n", (long long)from, bw_due_utc(from, t),
               bw_due_local(from, l, sizeof(l)));
    }
    return 0;
}
