/*
 * test_lease.c - per-source leases (lease.h) against a real, throw-away
 * redis-server (as test_store.c does): the value and TTL of a taken lease,
 * the loser's BW_EBUSY naming the holder, renewal only when due, a lease
 * lost to another owner or to expiry (BW_ELEASE, and the other owner's
 * key left alone), release only by the owner, the WATCH/MULTI path for a
 * Redis user that may not EVAL, a reconnect during renewal, and many
 * processes racing for one lease (exactly one wins).
 *
 * The server (redisproc.h) runs in a mkdtemp() directory on a free port
 * of 127.0.0.1 and dies with this process (PR_SET_PDEATHSIG). Without
 * redis-server the server tests skip.
 */
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/lease.h"
#include "bellwether/store.h"

#include "../../src/store_priv.h" /* st_drop: a dropped connection */
#include "redisproc.h"

/* ------------------------------------------------------------ the server */

/* "noeval" may not run scripts: leases fall back to WATCH/MULTI */
static struct bw_redisproc srv = {.name = "lease",
                                  .conf = "user default off\n"
                                          "user admin on >adminpw ~* &* +@all\n"
                                          "user bw on >pw ~* &* +@all\n"
                                          "user noeval on >pw ~* &* +@all "
                                          "-@scripting\n",
                                  .admin_user = "admin",
                                  .admin_pw = "adminpw"};

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
    unsetenv("BELLWETHER_LEASE_RENEW_MS");
    return bw_redisproc_flush(&srv);
}

#define NEED_REDIS() BW_NEED_REDIS(&srv)

/* An admin command with one string argument; the reply to the caller. */
static redisReply *cmd(const char *fmt, const char *arg)
{
    redisContext *c = bw_redisproc_admin(&srv);
    redisReply *r;

    assert_non_null(c);
    r = redisCommand(c, fmt, arg);
    redisFree(c);
    assert_non_null(r);
    return r;
}

static long long cmd_int(const char *fmt, const char *arg)
{
    redisReply *r = cmd(fmt, arg);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -999;

    freeReplyObject(r);
    return v;
}

/* GET key into buf ("" when absent). */
static void get(const char *key, char *buf, size_t n)
{
    redisReply *r = cmd("GET %s", key);

    snprintf(buf, n, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
}

static char prefix[] = "t:";
static char user_bw[] = "bw", user_noeval[] = "noeval", pw[] = "pw";

static struct bw_store *open_as(char *user)
{
    struct bw_redis_conf c;
    struct bw_store *st = NULL;

    memset(&c, 0, sizeof(c));
    c.url = srv.url;
    c.username = user;
    c.password = pw;
    c.prefix = prefix;
    c.timeout = 5;
    assert_int_equal(bw_store_open(&c, BW_STORE_CREATE, &st), 0);
    return st;
}

/* ------------------------------------------------------------ pure */

static void test_parse(void **state)
{
    static const struct {
        const char *value;
        int rc;
        const char *host;
        long pid;
        int64_t since;
        const char *holder;
    } rows[] = {
        {"build-1 4242 1794787200 0123456789abcdef0123456789abcdef", 0,
         "build-1", 4242, 1794787200, "build-1 pid 4242"},
        {"h 1 0 t", 0, "h", 1, 0, "h pid 1"},
        {"h 1 x t", 0, "h", 1, -1, "h pid 1"},
        {"", BW_EPARSE, "unknown", -1, -1, "an unknown process"},
        {"h 1 2", BW_EPARSE, "unknown", -1, -1, "an unknown process"},
        {"h 1 2 t 0a1b:4026531836", 0, "h", 1, 2, "h pid 1"},
        {"h 1 2 t s extra", BW_EPARSE, "unknown", -1, -1, "an unknown process"},
        {"h -5 2 t", BW_EPARSE, "unknown", -1, -1, "an unknown process"},
        {"h 12x 2 t", BW_EPARSE, "unknown", -1, -1, "an unknown process"},
    };
    struct bw_lease_info info;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int rc = bw_lease_parse(rows[i].value, strlen(rows[i].value), &info);

        assert_int_equal(rc, rows[i].rc);
        assert_int_equal(info.held, 1);
        assert_string_equal(info.host, rows[i].host);
        assert_int_equal(info.pid, rows[i].pid);
        assert_int_equal(info.since, rows[i].since);
        assert_string_equal(info.holder, rows[i].holder);
    }
}

/* ------------------------------------------------------------ Redis */

static void test_acquire_and_busy(void **state)
{
    struct bw_store *st;
    struct bw_lease a, b;
    struct bw_lease_info info;
    char v[512], want[64];
    char host[256];
    long long ttl;

    (void)state;
    NEED_REDIS();
    st = open_as(user_bw);
    assert_int_equal(bw_lease_get(st, "gh", &info), 0);
    assert_int_equal(info.held, 0);

    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), 0);
    assert_int_equal(a.held, 1);
    get("t:lease:{gh}", v, sizeof(v));
    assert_string_equal(v, a.value);
    gethostname(host, sizeof(host));
    snprintf(want, sizeof(want), " %ld ", (long)getpid());
    assert_non_null(strstr(v, want));
    assert_int_equal(strncmp(v, host, strlen(host)), 0);
    /* "HOST PID SINCE TOKEN SPACE": 32 hex digits of token, then
       "BOOTID:PIDNS" */
    {
        char host_[256], token[64], space[80];
        long pid_ = 0;
        long long since = 0;

        assert_int_equal(sscanf(v, "%255s %ld %lld %63s %79s", host_, &pid_,
                                &since, token, space),
                         5);
        assert_int_equal(strlen(token), 32);
        assert_non_null(strchr(space, ':'));
    }
    ttl = cmd_int("PTTL %s", "t:lease:{gh}");
    assert_true(ttl > 55000 && ttl <= 60000);

    /* a second owner (another process, as far as Redis can tell) loses */
    assert_int_equal(bw_lease_init(&b, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&b), BW_EBUSY);
    assert_int_equal(b.held, 0);
    snprintf(want, sizeof(want), "pid %ld", (long)getpid());
    assert_non_null(strstr(b.holder, want));
    assert_int_equal(strncmp(b.holder, host, strlen(host)), 0);
    /* releasing a lease never taken leaves the owner's alone */
    bw_lease_release(&b);
    get("t:lease:{gh}", v, sizeof(v));
    assert_string_equal(v, a.value);

    assert_int_equal(bw_lease_get(st, "gh", &info), 0);
    assert_int_equal(info.held, 1);
    assert_int_equal(info.pid, (long)getpid());
    assert_true(info.ttl_ms > 55000);
    assert_true(info.since >= bw_real_now() - 5);

    /* another source is another lease */
    assert_int_equal(bw_lease_init(&b, st, "jira"), 0);
    assert_int_equal(bw_lease_acquire(&b), 0);
    bw_lease_release(&b);
    assert_int_equal(cmd_int("EXISTS %s", "t:lease:{jira}"), 0);

    bw_lease_release(&a);
    assert_int_equal(cmd_int("EXISTS %s", "t:lease:{gh}"), 0);
    bw_lease_release(&a); /* twice is harmless */

    /* free again: the next one takes it */
    assert_int_equal(bw_lease_init(&b, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&b), 0);
    bw_lease_release(&b);
    bw_store_free(st);
}

static void test_renew_when_due(void **state)
{
    struct bw_store *st;
    struct bw_lease a;
    redisReply *r;

    (void)state;
    NEED_REDIS();
    st = open_as(user_bw);
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(a.renew_ms, BW_LEASE_RENEW_MS);
    assert_int_equal(bw_lease_acquire(&a), 0);
    r = cmd("PEXPIRE t:lease:{gh} %s", "5000");
    freeReplyObject(r);
    /* not due: no command sent, the TTL stays short */
    assert_int_equal(bw_lease_renew(&a), 0);
    assert_true(cmd_int("PTTL %s", "t:lease:{gh}") <= 5000);
    /* forced: back to the full TTL */
    assert_int_equal(bw_lease_renew_now(&a), 0);
    assert_true(cmd_int("PTTL %s", "t:lease:{gh}") > 55000);
    /* due: after renew_ms */
    a.renew_ms = 50;
    r = cmd("PEXPIRE t:lease:{gh} %s", "5000");
    freeReplyObject(r);
    usleep(80000);
    assert_int_equal(bw_lease_renew(&a), 0);
    assert_true(cmd_int("PTTL %s", "t:lease:{gh}") > 55000);
    bw_lease_release(&a);

    /* the environment shortens the interval (tests), within bounds */
    setenv("BELLWETHER_LEASE_RENEW_MS", "250", 1);
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(a.renew_ms, 250);
    bw_lease_release(&a);
    setenv("BELLWETHER_LEASE_RENEW_MS", "10", 1);
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(a.renew_ms, BW_LEASE_RENEW_MS);
    bw_lease_release(&a);
    bw_store_free(st);
}

/* Lost to another owner, then to expiry: BW_ELEASE, the other's key kept. */
static void check_lost(char *user)
{
    struct bw_store *st;
    struct bw_lease a, b;
    redisReply *r;
    char v[512];

    st = open_as(user);
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), 0);
    assert_int_equal(bw_lease_renew_now(&a), 0);
    r = cmd("SET t:lease:{gh} %s", "other-host 99 1 feedface");
    freeReplyObject(r);
    assert_int_equal(bw_lease_renew_now(&a), BW_ELEASE);
    assert_int_equal(a.lost, 1);
    /* once lost, always lost; even when not due */
    assert_int_equal(bw_lease_renew(&a), BW_ELEASE);
    /* the other owner's lease is neither extended nor deleted */
    assert_int_equal(cmd_int("PTTL %s", "t:lease:{gh}"), -1);
    bw_lease_release(&a);
    get("t:lease:{gh}", v, sizeof(v));
    assert_string_equal(v, "other-host 99 1 feedface");
    r = cmd("DEL %s", "t:lease:{gh}");
    freeReplyObject(r);

    /* expiry: a took it with a short TTL, stalled, b took over */
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    a.ttl_ms = 100;
    assert_int_equal(bw_lease_acquire(&a), 0);
    usleep(250000);
    assert_int_equal(bw_lease_init(&b, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&b), 0);
    assert_int_equal(bw_lease_renew_now(&a), BW_ELEASE);
    bw_lease_release(&a);
    get("t:lease:{gh}", v, sizeof(v));
    assert_string_equal(v, b.value);
    assert_int_equal(bw_lease_renew_now(&b), 0);
    assert_true(cmd_int("PTTL %s", "t:lease:{gh}") > 55000);
    bw_lease_release(&b);
    assert_int_equal(cmd_int("EXISTS %s", "t:lease:{gh}"), 0);

    /* expired and nobody took it: still lost (someone may have run) */
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    a.ttl_ms = 100;
    assert_int_equal(bw_lease_acquire(&a), 0);
    usleep(250000);
    assert_int_equal(bw_lease_renew_now(&a), BW_ELEASE);
    bw_lease_release(&a);
    bw_store_free(st);
}

static void test_lost(void **state)
{
    (void)state;
    NEED_REDIS();
    check_lost(user_bw);
}

/* A user without +@scripting: the same through WATCH/MULTI/EXEC. */
static void test_lost_without_eval(void **state)
{
    redisReply *r;

    (void)state;
    NEED_REDIS();
    check_lost(user_noeval);
    r = cmd("INFO %s", "commandstats");
    assert_non_null(strstr(r->str, "cmdstat_watch:"));
    assert_non_null(strstr(r->str, "cmdstat_exec:"));
    freeReplyObject(r);
}

/* A dropped connection is made again once; the renewal goes through. */
static void test_renew_after_drop(void **state)
{
    struct bw_store *st;
    struct bw_lease a;

    (void)state;
    NEED_REDIS();
    st = open_as(user_bw);
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), 0);
    st_drop(st);
    assert_int_equal(bw_lease_renew_now(&a), 0);
    /* the server closed it (CLIENT KILL): reconnect and renew */
    freeReplyObject(cmd("CLIENT KILL USER %s", "bw"));
    assert_int_equal(bw_lease_renew_now(&a), 0);
    bw_lease_release(&a);
    assert_int_equal(cmd_int("EXISTS %s", "t:lease:{gh}"), 0);
    bw_store_free(st);
}

/* Redis down: acquire fails with the store's status (no lease, no skip). */
static void test_redis_down(void **state)
{
    struct bw_store *st;
    struct bw_lease a;

    (void)state;
    NEED_REDIS();
    st = open_as(user_bw);
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), 0);
    /* a renewal that cannot reach Redis loses the lease */
    freeReplyObject(cmd("ACL SETUSER bw %s", "off"));
    freeReplyObject(cmd("CLIENT KILL USER %s", "bw"));
    assert_int_equal(bw_lease_renew_now(&a), BW_ELEASE);
    bw_lease_release(&a);
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_not_equal(bw_lease_acquire(&a), 0);
    assert_int_not_equal(bw_lease_acquire(&a), BW_EBUSY);
    bw_lease_release(&a);
    freeReplyObject(cmd("ACL SETUSER bw %s", "on"));
    bw_store_free(st);
}

/* A pid that is not running: a child that has exited. */
static long dead_pid(void)
{
    pid_t p = fork();

    if (p == 0) {
        _exit(0);
    }
    waitpid(p, NULL, 0);
    return (long)p;
}

/*
 * A lease left by a killed process of this host, boot and pid namespace
 * is taken over at once; any other holder is waited out.
 */
static void test_takeover(void **state)
{
    struct bw_store *st;
    struct bw_lease a;
    char v[512], host[256], token[64], space[80], left[512];
    long pid = 0;
    long long since = 0;

    (void)state;
    NEED_REDIS();
    st = open_as(user_bw);
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), 0);
    get("t:lease:{gh}", v, sizeof(v));
    assert_int_equal(
        sscanf(v, "%255s %ld %lld %63s %79s", host, &pid, &since, token, space),
        5);
    bw_lease_release(&a);

    /* ours, and the process is gone: taken over */
    snprintf(left, sizeof(left), "%s %ld 1 deadbeef %s", host, dead_pid(),
             space);
    freeReplyObject(cmd("SET t:lease:{gh} %s", left));
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), 0);
    get("t:lease:{gh}", v, sizeof(v));
    assert_string_equal(v, a.value);
    bw_lease_release(&a);

    /* the process runs (our parent): busy */
    snprintf(left, sizeof(left), "%s %ld 1 deadbeef %s", host, (long)getppid(),
             space);
    freeReplyObject(cmd("SET t:lease:{gh} %s", left));
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), BW_EBUSY);
    bw_lease_release(&a);

    /* another host, another pid namespace, or no namespace said: busy */
    snprintf(left, sizeof(left), "other-%s %ld 1 deadbeef %s", host, dead_pid(),
             space);
    freeReplyObject(cmd("SET t:lease:{gh} %s", left));
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), BW_EBUSY);
    bw_lease_release(&a);
    snprintf(left, sizeof(left), "%s %ld 1 deadbeef x%s", host, dead_pid(),
             space);
    freeReplyObject(cmd("SET t:lease:{gh} %s", left));
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), BW_EBUSY);
    bw_lease_release(&a);
    snprintf(left, sizeof(left), "%s %ld 1 deadbeef", host, dead_pid());
    freeReplyObject(cmd("SET t:lease:{gh} %s", left));
    assert_int_equal(bw_lease_init(&a, st, "gh"), 0);
    assert_int_equal(bw_lease_acquire(&a), BW_EBUSY);
    bw_lease_release(&a);
    get("t:lease:{gh}", v, sizeof(v));
    assert_string_equal(v, left);
    bw_store_free(st);
}

/* Many processes at once: exactly one takes the lease. */
static void test_race(void **state)
{
    enum {
        N = 12
    };
    pid_t kids[N];
    int won = 0, busy = 0;
    int go[2];

    (void)state;
    NEED_REDIS();
    assert_int_equal(pipe(go), 0);
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            struct bw_store *st = open_as(user_bw);
            struct bw_lease l;
            char c;
            int rc;

            close(go[1]);
            /* start together: wait for the pipe to close */
            while (read(go[0], &c, 1) > 0) {
            }
            bw_lease_init(&l, st, "gh");
            rc = bw_lease_acquire(&l);
            if (rc == 0) {
                usleep(300000); /* hold it while the others try */
            }
            /* leave the winner's lease in place for the check below */
            _exit(rc == 0 ? 10 : rc == BW_EBUSY ? 11 : 12);
        }
    }
    close(go[0]);
    usleep(200000);
    close(go[1]);
    for (int i = 0; i < N; i++) {
        int status = 0;

        waitpid(kids[i], &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 10) {
            won++;
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == 11) {
            busy++;
        }
    }
    assert_int_equal(won, 1);
    assert_int_equal(busy, N - 1);
    assert_int_equal(cmd_int("EXISTS %s", "t:lease:{gh}"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test_setup(test_acquire_and_busy, fresh),
        cmocka_unit_test_setup(test_renew_when_due, fresh),
        cmocka_unit_test_setup(test_lost, fresh),
        cmocka_unit_test_setup(test_lost_without_eval, fresh),
        cmocka_unit_test_setup(test_renew_after_drop, fresh),
        cmocka_unit_test_setup(test_redis_down, fresh),
        cmocka_unit_test_setup(test_takeover, fresh),
        cmocka_unit_test_setup(test_race, fresh),
    };

    return cmocka_run_group_tests(tests, start_server, stop_server);
}
