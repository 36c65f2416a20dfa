/*
 * lease.c - per-source leases in Redis (lease.h): SET NX PX to take one,
 * a compare-the-token Lua script to renew or release it, WATCH/MULTI/EXEC
 * when the Redis user may not EVAL.
 *
 * It speaks Redis through the store's private command queue (store_priv.h,
 * as the store's own files do) so it shares the store's connection, its
 * one reconnect and its error messages: a lease is store bookkeeping
 * (P lease:{SRC}), kept in its own file because the collect and the daemon
 * drive it, not the sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/lease.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "store_priv.h"

#define TOKEN_BYTES 16

/* KEYS[1] the lease, ARGV[1] our value, ARGV[2] the TTL in ms. */
static const char renew_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
static const char release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) else return 0 end";

/* Set once EVAL was refused (NOPERM, renamed or disabled): use WATCH. */
static int no_eval;

/* ------------------------------------------------------------- value */

static int random_token(char *hex, size_t n)
{
    unsigned char b[TOKEN_BYTES];
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    while (fd >= 0 && got < sizeof(b)) {
        ssize_t r = read(fd, b + got, sizeof(b) - got);

        if (r <= 0 && !(r < 0 && errno == EINTR)) {
            break;
        }
        got += r > 0 ? (size_t)r : 0;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (got < sizeof(b)) {
        /* no /dev in a chroot: the kernel's pool directly */
        got = 0;
        while (got < sizeof(b)) {
            ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

            if (r <= 0 && !(r < 0 && errno == EINTR)) {
                BW_ERROR("cannot read random bytes for a lease token from "
                         "'/dev/urandom': %s; make it readable",
                         strerror(errno));
                return BW_EIO;
            }
            got += r > 0 ? (size_t)r : 0;
        }
    }
    for (size_t i = 0; i < sizeof(b) && 2 * i + 2 < n; i++) {
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    }
    return 0;
}

/* The host name with blanks and control bytes made '_' (one word). */
static void host_name(char *buf, size_t n)
{
    if (gethostname(buf, n) != 0) {
        snprintf(buf, n, "unknown");
    }
    buf[n - 1] = '\0';
    if (buf[0] == '\0') {
        snprintf(buf, n, "unknown");
    }
    for (char *p = buf; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            *p = '_';
        }
    }
}

/*
 * Where a pid means something: this boot and this pid namespace,
 * "BOOTID:PIDNS" ("" when /proc cannot say).
 */
static void pid_space(char *buf, size_t n)
{
    char boot[64] = "";
    char ns[64] = "";
    char *d;
    ssize_t r;
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

    buf[0] = '\0';
    if (fd >= 0) {
        r = read(fd, boot, sizeof(boot) - 1);
        close(fd);
        boot[r > 0 ? r : 0] = '\0';
        boot[strcspn(boot, "\n -")] = '\0';
    }
    r = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
    ns[r > 0 ? r : 0] = '\0';
    /* "pid:[4026531836]" -> "4026531836" */
    d = ns + strcspn(ns, "0123456789");
    d[strspn(d, "0123456789")] = '\0';
    if (boot[0] && d[0]) {
        snprintf(buf, n, "%s:%s", boot, d);
    }
}

int bw_lease_parse(const char *value, size_t len, struct bw_lease_info *info)
{
    char copy[BW_LEASE_HOLDER_MAX + 128];
    char *f[5];
    int nf = 0;
    char *p;
    char *end;

    memset(info, 0, sizeof(*info));
    info->held = 1;
    info->pid = -1;
    info->since = -1;
    info->ttl_ms = -1;
    snprintf(info->host, sizeof(info->host), "unknown");
    snprintf(info->holder, sizeof(info->holder), "an unknown process");
    if (len >= sizeof(copy)) {
        return BW_EPARSE;
    }
    memcpy(info->value, value, len);
    info->value[len] = '\0';
    memcpy(copy, value, len);
    copy[len] = '\0';
    p = copy;
    while (nf < 5 && *p) {
        f[nf++] = p;
        p += strcspn(p, " ");
        if (*p) {
            *p++ = '\0';
        }
    }
    if (nf < 4 || *p || f[0][0] == '\0' || strlen(f[0]) >= sizeof(info->host)) {
        return BW_EPARSE;
    }
    errno = 0;
    info->pid = strtol(f[1], &end, 10);
    if (errno || *end || end == f[1] || info->pid <= 0) {
        info->pid = -1;
        return BW_EPARSE;
    }
    info->since = strtoll(f[2], &end, 10);
    if (errno || *end || end == f[2]) {
        info->since = -1;
    }
    snprintf(info->host, sizeof(info->host), "%s", f[0]);
    if (nf == 5) {
        snprintf(info->space, sizeof(info->space), "%s", f[4]);
    }
    snprintf(info->holder, sizeof(info->holder), "%s pid %ld", info->host,
             info->pid);
    return 0;
}

int bw_lease_init(struct bw_lease *l, struct bw_store *st, const char *source)
{
    const char *env = getenv("BELLWETHER_LEASE_RENEW_MS");

    memset(l, 0, sizeof(*l));
    l->st = st;
    l->ttl_ms = BW_LEASE_TTL_MS;
    l->renew_ms = BW_LEASE_RENEW_MS;
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);

        if (*end == '\0' && v >= 50 && v <= BW_LEASE_RENEW_MS) {
            l->renew_ms = v;
        } else {
            BW_WARN("ignoring BELLWETHER_LEASE_RENEW_MS '%s': it must be "
                    "50 to %ld milliseconds",
                    env, BW_LEASE_RENEW_MS);
        }
    }
    l->source = bw_strdup(source);
    return l->source ? 0 : BW_ENOMEM;
}

/* ------------------------------------------------------------ commands */

static int is_eval_refusal(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_ERROR && r->str &&
           (strncmp(r->str, "NOPERM", 6) == 0 ||
            strncmp(r->str, "ERR unknown command", 19) == 0 ||
            strncmp(r->str, "NOSCRIPT", 8) == 0);
}

/*
 * GET key; if it equals value, run op (PEXPIRE key ttl, or DEL key) in
 * MULTI/EXEC under WATCH. *done is op's integer reply, 0 when the value
 * differed or changed meanwhile.
 */
struct watch_arg {
    const struct st_cmdq *key_q; /* argument 0 of command 0: the key */
    const char *value;
    const char *op;
    long ttl_ms;
    long long done;
};

static int watch_op(struct bw_store *st, void *arg)
{
    struct watch_arg *a = arg;
    struct st_cmdq q;
    redisReply **r = NULL;
    size_t klen;
    const char *key = st_cmd_arg(a->key_q, 0, 0, &klen);
    size_t vlen = strlen(a->value);
    int rc;

    a->done = 0;
    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "WATCH") || st_arg(&q, key, klen) ||
                 st_cmd(&q) || st_args(&q, "GET") || st_arg(&q, key, klen)
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_roundtrip(st, &q, &r);
    }
    if (rc == 0) {
        rc = st_check(st, r[0], "WATCH") || st_check(st, r[1], "GET")
                 ? BW_EREDIS
                 : 0;
    }
    if (rc == 0 && (r[1]->type != REDIS_REPLY_STRING || r[1]->len != vlen ||
                    memcmp(r[1]->str, a->value, vlen) != 0)) {
        st_replies_free(r, q.nc);
        r = NULL;
        st_cmdq_reset(&q);
        rc = st_cmd(&q) || st_args(&q, "UNWATCH") ? BW_ENOMEM : 0;
        if (rc == 0) {
            rc = st_roundtrip(st, &q, &r);
        }
        goto out;
    }
    if (rc) {
        goto out;
    }
    st_replies_free(r, q.nc);
    r = NULL;
    st_cmdq_reset(&q);
    rc = st_cmd(&q) || st_args(&q, "MULTI") || st_cmd(&q) ||
                 st_args(&q, a->op) || st_arg(&q, key, klen) ||
                 (strcmp(a->op, "PEXPIRE") == 0 && st_argi(&q, a->ttl_ms)) ||
                 st_cmd(&q) || st_args(&q, "EXEC")
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_roundtrip(st, &q, &r);
    }
    if (rc == 0) {
        rc = st_check(st, r[2], "EXEC");
    }
    if (rc == 0 && r[2]->type == REDIS_REPLY_ARRAY && r[2]->elements == 1 &&
        r[2]->element[0]->type == REDIS_REPLY_INTEGER) {
        a->done = r[2]->element[0]->integer;
    }
out:
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

/*
 * Compare-and-act on the lease key: op "PEXPIRE" (renew) or "DEL"
 * (release), when the key still holds value. *done: 1 when it did and op
 * ran, else 0.
 */
static int compare_and(struct bw_lease *l, const char *op, const char *value,
                       int *done)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    *done = 0;
    st_cmdq_init(&q);
    if (no_eval) {
        struct watch_arg a;

        rc = st_cmd(&q) || st_argkey(&q, l->st, "lease", l->source, NULL)
                 ? BW_ENOMEM
                 : 0;
        a.key_q = &q;
        a.value = value;
        a.op = op;
        a.ttl_ms = l->ttl_ms;
        a.done = 0;
        if (rc == 0) {
            rc = st_retry(l->st, watch_op, &a);
        }
        *done = a.done == 1;
        goto out;
    }
    rc =
        st_cmd(&q) || st_args(&q, "EVAL") ||
                st_args(&q, strcmp(op, "DEL") == 0 ? release_lua : renew_lua) ||
                st_args(&q, "1") ||
                st_argkey(&q, l->st, "lease", l->source, NULL) ||
                st_args(&q, value) || st_argi(&q, l->ttl_ms)
            ? BW_ENOMEM
            : 0;
    if (rc == 0) {
        rc = st_run(l->st, &q, &r);
    }
    if (rc == 0 && is_eval_refusal(r[0])) {
        BW_DEBUG("Redis refused EVAL (%s); leases use WATCH/MULTI instead",
                 r[0]->str);
        no_eval = 1;
        st_replies_free(r, q.nc);
        st_cmdq_release(&q);
        return compare_and(l, op, value, done);
    }
    if (rc == 0) {
        rc = st_check(l->st, r[0], "EVAL");
    }
    if (rc == 0 && r[0]->type == REDIS_REPLY_INTEGER) {
        *done = r[0]->integer == 1;
    }
out:
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

/* ------------------------------------------------------------- public */

int bw_lease_get(struct bw_store *st, const char *source,
                 struct bw_lease_info *info)
{
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    memset(info, 0, sizeof(*info));
    info->pid = -1;
    info->since = -1;
    info->ttl_ms = -1;
    st_cmdq_init(&q);
    rc = st_cmd(&q) || st_args(&q, "GET") ||
                 st_argkey(&q, st, "lease", source, NULL) || st_cmd(&q) ||
                 st_args(&q, "PTTL") || st_argkey(&q, st, "lease", source, NULL)
             ? BW_ENOMEM
             : 0;
    if (rc == 0) {
        rc = st_run_one(st, &q, "GET", &r);
    }
    if (rc == 0) {
        rc = st_check(st, r[1], "PTTL");
    }
    if (rc == 0 && r[0]->type == REDIS_REPLY_STRING) {
        bw_lease_parse(r[0]->str, r[0]->len, info);
        if (r[1]->type == REDIS_REPLY_INTEGER && r[1]->integer >= 0) {
            info->ttl_ms = (long)r[1]->integer;
        }
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

/* Does info name a process of this host, boot and pid namespace that is
 * gone? (Then its lease can only be a leftover.) */
static int holder_gone_here(const struct bw_lease_info *info, const char *host,
                            const char *space)
{
    return info->space[0] && space[0] && strcmp(info->space, space) == 0 &&
           strcmp(info->host, host) == 0 && info->pid > 0 &&
           info->pid != (long)getpid() && kill((pid_t)info->pid, 0) != 0 &&
           errno == ESRCH;
}

int bw_lease_acquire(struct bw_lease *l)
{
    char host[256];
    char space[80];
    char token[2 * TOKEN_BYTES + 1];
    struct st_cmdq q;
    redisReply **r = NULL;
    int rc;

    l->holder[0] = '\0';
    if (l->held) {
        return 0;
    }
    rc = random_token(token, sizeof(token));
    if (rc) {
        return rc;
    }
    host_name(host, sizeof(host));
    pid_space(space, sizeof(space));
    snprintf(l->value, sizeof(l->value), "%.255s %ld %lld %s%s%s", host,
             (long)getpid(), (long long)bw_real_now(), token,
             space[0] ? " " : "", space);
    st_cmdq_init(&q);
    /* SET NX; when taken, GET who holds it (it may expire in between:
       then try once more) */
    for (int attempt = 0; attempt < 3; attempt++) {
        struct bw_lease_info info;

        st_cmdq_reset(&q);
        rc = st_cmd(&q) || st_args(&q, "SET") ||
                     st_argkey(&q, l->st, "lease", l->source, NULL) ||
                     st_args(&q, l->value) || st_args(&q, "NX") ||
                     st_args(&q, "PX") || st_argi(&q, l->ttl_ms)
                 ? BW_ENOMEM
                 : 0;
        if (rc == 0) {
            rc = st_run_one(l->st, &q, "SET", &r);
        }
        if (rc) {
            break;
        }
        if (r[0]->type == REDIS_REPLY_STATUS) {
            l->held = 1;
            l->lost = 0;
            l->renewed_ms = bw_monotonic_ms();
            break;
        }
        st_replies_free(r, q.nc);
        r = NULL;
        rc = bw_lease_get(l->st, l->source, &info);
        if (rc) {
            break;
        }
        if (info.held && holder_gone_here(&info, host, space)) {
            int done = 0;

            /* a leftover of a killed process here: delete exactly it */
            rc = compare_and(l, "DEL", info.value, &done);
            if (rc) {
                break;
            }
            if (done) {
                BW_WARN("took over the lease on source '%s' from %s on this "
                        "host: that process is gone",
                        l->source, info.holder);
            }
            continue;
        }
        if (info.held) {
            snprintf(l->holder, sizeof(l->holder), "%s", info.holder);
            rc = BW_EBUSY;
            break;
        }
    }
    if (rc == 0 && !l->held) {
        snprintf(l->holder, sizeof(l->holder), "another process");
        rc = BW_EBUSY;
    }
    st_replies_free(r, q.nc);
    st_cmdq_release(&q);
    return rc;
}

static int lost(struct bw_lease *l, int rc)
{
    struct bw_lease_info info;

    l->held = 0;
    l->lost = 1;
    if (rc == 0 && bw_lease_get(l->st, l->source, &info) == 0 && info.held) {
        BW_ERROR("lost the lease on source '%s': %s holds it now; stopping "
                 "this run, nothing more is committed",
                 l->source, info.holder);
    } else if (rc == 0) {
        BW_ERROR("lost the lease on source '%s': it expired; stopping this "
                 "run, nothing more is committed (was the process stopped "
                 "for over %.0f s?)",
                 l->source, (double)l->ttl_ms / 1000.0);
    } else {
        BW_ERROR("cannot renew the lease on source '%s' (%s); stopping this "
                 "run, nothing more is committed",
                 l->source, bw_strerror(rc));
    }
    return BW_ELEASE;
}

int bw_lease_renew_now(struct bw_lease *l)
{
    int done = 0;
    int rc;

    if (!l->held) {
        return BW_ELEASE;
    }
    rc = compare_and(l, "PEXPIRE", l->value, &done);
    if (rc || !done) {
        return lost(l, rc);
    }
    l->renewed_ms = bw_monotonic_ms();
    return 0;
}

int bw_lease_renew(struct bw_lease *l)
{
    if (!l->held) {
        return BW_ELEASE;
    }
    if (bw_monotonic_ms() - l->renewed_ms < l->renew_ms) {
        return 0;
    }
    return bw_lease_renew_now(l);
}

void bw_lease_release(struct bw_lease *l)
{
    int done = 0;

    if (l->held && l->st) {
        int rc = compare_and(l, "DEL", l->value, &done);

        if (rc) {
            BW_WARN("cannot release the lease on source '%s' (%s); it "
                    "expires by itself within %ld s",
                    l->source, bw_strerror(rc), l->ttl_ms / 1000);
        }
    }
    l->held = 0;
    bw_free(l->source);
    l->source = NULL;
}
