/*
 * test_daemon.c - the daemon's pure parts and its pidfile: the retry
 * backoff (doubling, capped, never at or after the next slot), the
 * [schedule] defaults and next due times in a zone, the schedule clock
 * (BELLWETHER_NOW + BELLWETHER_DAEMON_FAST, real time otherwise), the
 * pidfile (exclusive, live holder refused, stale and reused pids
 * replaced, removed only by its owner), and the INFO field reader of
 * `status`. The daemon's loop itself is tested end to end by
 * tests/integration/t_daemon.sh.
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bellwether/clock.h"
#include "bellwether/config.h"
#include "bellwether/daemon.h"
#include "bellwether/error.h"
#include "bellwether/status.h"

static int64_t iso(const char *s)
{
    int64_t t = 0;

    if (bw_parse_iso8601(s, strlen(s), &t) != 0) {
        fail_msg("bad timestamp in the test table: '%s'", s);
    }
    return t;
}

/* ---------------------------------------------------------------- backoff */

static void test_retry_delay(void **state)
{
    static const int64_t want[] = {60, 60, 120, 240, 480, 960, 1800, 1800};

    (void)state;
    /* failures 0 and 1 both mean the first retry */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(bw_retry_delay(i), want[i]);
    }
    assert_int_equal(bw_retry_delay(1000), BW_RETRY_CAP);
}

static void test_retry_at(void **state)
{
    int64_t now = iso("2026-11-16T10:00:00Z");
    int64_t slot = iso("2026-11-16T10:30:00Z");

    (void)state;
    assert_int_equal(bw_retry_at(now, 1, slot), now + 60);
    assert_int_equal(bw_retry_at(now, 4, slot), now + 480);
    assert_int_equal(bw_retry_at(now, 5, slot), now + 960);
    /* 1800 s would land on the slot: the slot retries it */
    assert_true(bw_retry_at(now, 6, slot) == BW_TIME_NONE);
    assert_true(bw_retry_at(slot - 60, 1, slot) == BW_TIME_NONE);
    assert_int_equal(bw_retry_at(slot - 61, 1, slot), slot - 1);
    /* no next slot: retries go on, capped */
    assert_int_equal(bw_retry_at(now, 9, BW_TIME_NONE), now + BW_RETRY_CAP);
}

/* ------------------------------------------------------------- schedules */

static void test_schedule_defaults(void **state)
{
    struct bw_config cfg;
    char every15[] = "*/15 * * * *";
    char empty[] = "";

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    assert_string_equal(bw_schedule_expr(&cfg, BW_JOB_COLLECT),
                        BW_SCHEDULE_COLLECT_DEFAULT);
    assert_string_equal(bw_schedule_expr(&cfg, BW_JOB_REPORT),
                        BW_SCHEDULE_REPORT_DEFAULT);
    cfg.schedule.collect = every15;
    cfg.schedule.report = empty;
    assert_string_equal(bw_schedule_expr(&cfg, BW_JOB_COLLECT), every15);
    assert_string_equal(bw_schedule_expr(&cfg, BW_JOB_REPORT),
                        BW_SCHEDULE_REPORT_DEFAULT);
    assert_string_equal(bw_job_name(BW_JOB_COLLECT), "collect");
    assert_string_equal(bw_job_name(BW_JOB_REPORT), "report");
}

static void test_schedule_next(void **state)
{
    struct bw_config cfg;
    char bad[] = "0 24 * * *";

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    assert_int_equal(bw_tz_set("Europe/Berlin"), 0);
    /* Monday 2026-11-16 08:00 CET = 07:00Z */
    assert_int_equal(
        bw_schedule_next(&cfg, BW_JOB_REPORT, iso("2026-11-15T00:00:00Z")),
        iso("2026-11-16T07:00:00Z"));
    /* the gap: 02:00 and 02:30 are one run at 03:00 CEST */
    assert_int_equal(
        bw_schedule_next(&cfg, BW_JOB_COLLECT, iso("2026-03-29T00:30:00Z")),
        iso("2026-03-29T01:00:00Z"));
    assert_int_equal(
        bw_schedule_next(&cfg, BW_JOB_COLLECT, iso("2026-03-29T01:00:00Z")),
        iso("2026-03-29T01:30:00Z"));
    /* the fold: after 02:30 CEST (00:30Z) comes 03:00 CET (02:00Z) */
    assert_int_equal(
        bw_schedule_next(&cfg, BW_JOB_COLLECT, iso("2026-10-25T00:30:00Z")),
        iso("2026-10-25T02:00:00Z"));
    cfg.schedule.collect = bad;
    assert_true(bw_schedule_next(&cfg, BW_JOB_COLLECT, 0) == BW_TIME_NONE);
    assert_int_equal(bw_tz_set("UTC"), 0);
}

/* ------------------------------------------------------ the schedule clock */

static void test_sched_clock(void **state)
{
    static const char *const bad[] = {"0", "0.5", "x", "12x", "2000000", "-3"};
    struct bw_sched_clock c;
    int64_t t0;
    long ms;

    (void)state;
    unsetenv("BELLWETHER_DAEMON_FAST");
    unsetenv("BELLWETHER_NOW");
    bw_clock_init();
    assert_int_equal(bw_sched_clock_init(&c), 0);
    assert_int_equal(c.simulated, 0);
    assert_true(c.factor == 1.0);
    t0 = bw_sched_clock_now(&c);
    assert_true(t0 >= bw_real_now() - 1 && t0 <= bw_real_now());
    ms = bw_sched_clock_wait_ms(&c, bw_real_now() + 10, 60000);
    assert_true(ms > 8000 && ms <= 10000);
    assert_int_equal(bw_sched_clock_wait_ms(&c, 0, 60000), 0);
    assert_int_equal(bw_sched_clock_wait_ms(&c, BW_TIME_NONE, 1234), 1234);

    /* BELLWETHER_NOW: starts there, runs at real speed */
    setenv("BELLWETHER_NOW", "1794787200", 1);
    bw_clock_init();
    assert_int_equal(bw_sched_clock_init(&c), 0);
    assert_int_equal(c.simulated, 1);
    assert_true(c.factor == 1.0);
    assert_true(bw_sched_clock_now(&c) - 1794787200 <= 1);
    ms = bw_sched_clock_wait_ms(&c, 1794787200 + 2, 60000);
    assert_true(ms > 1000 && ms <= 2000);

    /* and FAST: 3600 schedule seconds a real second */
    setenv("BELLWETHER_DAEMON_FAST", "3600", 1);
    assert_int_equal(bw_sched_clock_init(&c), 0);
    ms = bw_sched_clock_wait_ms(&c, 1794787200 + 1800, 60000);
    assert_true(ms > 400 && ms <= 500);
    usleep(300000);
    t0 = bw_sched_clock_now(&c);
    assert_true(t0 >= 1794787200 + 1000 && t0 <= 1794787200 + 1800);
    ms = bw_sched_clock_wait_ms(&c, 1794787200 + 7 * 86400, 60000);
    assert_int_equal(ms, 60000); /* capped */

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("BELLWETHER_DAEMON_FAST", bad[i], 1);
        assert_int_equal(bw_sched_clock_init(&c), BW_EUSAGE);
    }
    unsetenv("BELLWETHER_DAEMON_FAST");
    unsetenv("BELLWETHER_NOW");
    bw_clock_init();
}

/* ---------------------------------------------------------------- pidfile */

static char dir[64];
static char path[128];

static int mkdir_tmp(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/bw-test-daemon-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/bw.pid", dir);
    return 0;
}

static int rm_tmp(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static long read_pid(void)
{
    char buf[32] = "";
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        return -1;
    }
    if (fgets(buf, sizeof(buf), f) == NULL) {
        buf[0] = '\0';
    }
    fclose(f);
    return strtol(buf, NULL, 10);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A pid that is certainly not running: a child that has exited. */
static long dead_pid(void)
{
    pid_t p = fork();

    if (p == 0) {
        _exit(0);
    }
    waitpid(p, NULL, 0);
    return (long)p;
}

static void test_pidfile(void **state)
{
    char text[32];
    struct stat sb;

    (void)state;
    unlink(path);
    assert_int_equal(bw_pidfile_create(path), 0);
    assert_int_equal(read_pid(), (long)getpid());
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    /* a live pid whose process is not a bellwether (this test binary):
       a reused pid, so the file is stale and replaced */
    assert_int_equal(bw_pidfile_create(path), 0);
    assert_int_equal(read_pid(), (long)getpid());
    bw_pidfile_remove(path);
    assert_int_equal(access(path, F_OK), -1);

    /* stale: the process is gone */
    snprintf(text, sizeof(text), "%ld\n", dead_pid());
    write_file(text);
    assert_int_equal(bw_pidfile_create(path), 0);
    assert_int_equal(read_pid(), (long)getpid());

    /* removed only by its owner */
    snprintf(text, sizeof(text), "%ld\n", dead_pid());
    write_file(text);
    bw_pidfile_remove(path);
    assert_int_equal(access(path, F_OK), 0);

    /* garbage that is not new: stale */
    write_file("not a pid\n");
    assert_int_equal(bw_pidfile_create(path), 0);
    assert_int_equal(read_pid(), (long)getpid());
    bw_pidfile_remove(path);

    /* empty and just made: another daemon is starting, refused */
    write_file("");
    assert_int_equal(bw_pidfile_create(path), BW_EBUSY);
    unlink(path);

    /* a directory that does not exist */
    assert_int_equal(bw_pidfile_create("/nonexistent-dir/x/bw.pid"), BW_EIO);
}

/* A live bellwether process holding the file: refused. */
static void test_pidfile_live(void **state)
{
    char text[32], exe[128];
    pid_t p;
    int status;

    (void)state;
    /* a child whose name is "bellwether": sleep through a symlink */
    snprintf(exe, sizeof(exe), "%s/bellwether", dir);
    if (symlink("/bin/sleep", exe) != 0 && errno != EEXIST) {
        skip();
    }
    p = fork();
    if (p == 0) {
        execl(exe, "bellwether", "5", (char *)NULL);
        _exit(127);
    }
    usleep(100000);
    snprintf(text, sizeof(text), "%ld\n", (long)p);
    write_file(text);
    assert_int_equal(bw_pidfile_create(path), BW_EBUSY);
    assert_int_equal(read_pid(), (long)p);
    kill(p, SIGKILL);
    waitpid(p, &status, 0);
    /* now it is gone: replaced */
    assert_int_equal(bw_pidfile_create(path), 0);
    assert_int_equal(read_pid(), (long)getpid());
    bw_pidfile_remove(path);
    unlink(exe);
}

/* -------------------------------------------------------------- status */

static void test_info_field(void **state)
{
    static const char info[] = "# Server\r\nredis_version:7.0.15\r\n"
                               "redis_mode:standalone\r\nused_memory:123\r\n"
                               "used_memory_human:1.2M\r\nempty:\r\n"
                               "last:x";
    char buf[32];

    (void)state;
    assert_int_equal(bw_status_info_field(info, strlen(info), "redis_version",
                                          buf, sizeof(buf)),
                     1);
    assert_string_equal(buf, "7.0.15");
    assert_int_equal(bw_status_info_field(info, strlen(info), "used_memory",
                                          buf, sizeof(buf)),
                     1);
    assert_string_equal(buf, "123");
    assert_int_equal(
        bw_status_info_field(info, strlen(info), "empty", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "");
    assert_int_equal(
        bw_status_info_field(info, strlen(info), "last", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "x");
    assert_int_equal(
        bw_status_info_field(info, strlen(info), "redis", buf, sizeof(buf)), 0);
    assert_int_equal(
        bw_status_info_field(info, strlen(info), "nope", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    /* cut to the buffer */
    assert_int_equal(
        bw_status_info_field(info, strlen(info), "redis_mode", buf, 5), 1);
    assert_string_equal(buf, "stan");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_delay),
        cmocka_unit_test(test_retry_at),
        cmocka_unit_test(test_schedule_defaults),
        cmocka_unit_test(test_schedule_next),
        cmocka_unit_test(test_sched_clock),
        cmocka_unit_test(test_pidfile),
        cmocka_unit_test(test_pidfile_live),
        cmocka_unit_test(test_info_field),
    };

    return cmocka_run_group_tests(tests, mkdir_tmp, rm_tmp);
}
