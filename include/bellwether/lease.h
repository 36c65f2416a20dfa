/*
 * lease.h - one collector per source at a time, across processes and
 * machines sharing one Redis (DESIGN.md, "Schedules and the daemon").
 *
 * A lease is the bookkeeping key P lease:{SRC}, taken with SET NX PX (TTL
 * BW_LEASE_TTL_MS) and holding "HOST PID SINCE TOKEN SPACE": the holder's
 * host name, process id, the epoch second it was taken, a random token (16
 * bytes of /dev/urandom in hex) that only its owner knows, and where its
 * pid means something (the boot and pid namespace: "BOOTID:PIDNS"). The
 * owner
 * renews it every BW_LEASE_RENEW_MS (the core calls bw_lease_renew() from
 * the HTTP client's tick hook, about once a second, quota waits included,
 * and before every page commit; the call itself only talks to Redis when
 * the renewal interval has passed) and releases it when the source is
 * done. Renewal and release are compare-and-act on the token in one Lua
 * script (EVAL), or WATCH/MULTI/EXEC when the Redis user may not run
 * scripts, so a process whose lease expired can never extend or delete
 * the lease of the process that took over.
 *
 * A renewal that fails (the key is gone or holds another token, or Redis
 * cannot be reached even after the store's one reconnect) loses the lease:
 * bw_lease_renew() returns BW_ELEASE from then on, the HTTP client and the
 * page commit stop with it, and nothing more is committed for that run.
 * Times are real (monotonic for the renewal interval, Redis's own clock
 * for the TTL), never BELLWETHER_NOW.
 *
 * A process killed with its lease held (SIGKILL, the OOM killer) leaves
 * the lease until its TTL ends, unless the next collector runs on the same
 * host, boot and pid namespace and sees that the holder's pid is gone:
 * then it deletes that lease (only if it still holds that value) and takes
 * its own, with a warning. Holders elsewhere are only ever waited out.
 *
 * The lease talks to Redis over the store's connection (struct bw_store):
 * single-threaded, and never in the middle of a page's commit.
 */
#ifndef BW_LEASE_H
#define BW_LEASE_H

#include <stddef.h>
#include <stdint.h>

struct bw_store;

#define BW_LEASE_TTL_MS 60000L   /* PX of the lease key */
#define BW_LEASE_RENEW_MS 20000L /* renew when this much has passed */
/* Longest "HOST pid N" holder description, with its NUL. */
#define BW_LEASE_HOLDER_MAX 320

struct bw_lease {
    struct bw_store *st;                   /* borrowed */
    char *source;                          /* owned copy of the [source] name */
    char value[BW_LEASE_HOLDER_MAX + 128]; /* "HOST PID SINCE TOKEN SPACE" */
    int held;                              /* 1 between acquire and release */
    int lost;                              /* a renewal failed */
    int64_t renewed_ms;                    /* bw_monotonic_ms() of the last
                                             successful SET or PEXPIRE */
    long ttl_ms;   /* BW_LEASE_TTL_MS (tests shorten it) */
    long renew_ms; /* BW_LEASE_RENEW_MS, or BELLWETHER_LEASE_RENEW_MS */
    /* When acquire finds the lease taken: "HOST pid N" of the holder. */
    char holder[BW_LEASE_HOLDER_MAX];
};

/*
 * Prepare l for source (copied) on st; nothing is sent. The renewal
 * interval is BW_LEASE_RENEW_MS unless the environment sets
 * BELLWETHER_LEASE_RENEW_MS (tests only: 50 .. 20000). 0 or BW_ENOMEM.
 * Release with bw_lease_release().
 */
int bw_lease_init(struct bw_lease *l, struct bw_store *st, const char *source);

/*
 * Take the lease: SET P lease:{SRC} VALUE NX PX ttl. 0 when taken;
 * BW_EBUSY when another process holds it (l->holder then names it, e.g.
 * "build-1 pid 4242"; nothing is logged: the caller says "skipped");
 * BW_EIO when no random token could be made; a store status (BW_EREDIS,
 * BW_EAUTH) when Redis failed (logged).
 */
int bw_lease_acquire(struct bw_lease *l);

/*
 * Keep the lease: when at least l->renew_ms have passed since the last
 * renewal, PEXPIRE it if it still holds our token. 0 while held;
 * BW_ELEASE (logged once, with the new holder when there is one) when it
 * was lost or never taken. Cheap when nothing is due: call it often.
 */
int bw_lease_renew(struct bw_lease *l);
/* The same without waiting for the interval (tests, before long work). */
int bw_lease_renew_now(struct bw_lease *l);

/*
 * Give the lease back (DEL only if it still holds our token) and free
 * what init allocated. Safe on a lease never taken or already lost, and
 * twice. A Redis failure here is only a warning: the TTL ends the lease.
 */
void bw_lease_release(struct bw_lease *l);

/* The lease of a source as `status` shows it. */
struct bw_lease_info {
    int held;                              /* someone holds it */
    char host[256];                        /* holder's host name */
    long pid;                              /* holder's process id */
    int64_t since;                         /* epoch seconds it was taken; -1 */
    long ttl_ms;                           /* time left; -1 unknown */
    char space[80];                        /* "BOOTID:PIDNS", or "" */
    char holder[BW_LEASE_HOLDER_MAX];      /* "HOST pid N" */
    char value[BW_LEASE_HOLDER_MAX + 128]; /* the value as stored */
};

/*
 * Read P lease:{SRC} and its PTTL (one round trip). 0 (info->held says
 * whether someone holds it) or a store status.
 */
int bw_lease_get(struct bw_store *st, const char *source,
                 struct bw_lease_info *info);

/*
 * Parse a lease value "HOST PID SINCE TOKEN [SPACE]" into info (pure; a
 * value of another shape still counts as held, with host "unknown").
 * Returns 0, or BW_EPARSE when the value does not have that shape.
 */
int bw_lease_parse(const char *value, size_t len, struct bw_lease_info *info);

#endif
