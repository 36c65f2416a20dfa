/*
 * status.h - what `bellwether status` reads: each source's last run
 * (P run:{SRC}, bw_store_run_record()), how many items it has stored (the
 * sizes of its index sets), its lease (lease.h), and the Redis server's
 * version and memory. The Redis calls are in src/store_status.c (on the
 * store's command queue, so hiredis stays in src/store*.c); the command
 * and its output are src/cmd_status.c.
 */
#ifndef BW_STATUS_H
#define BW_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "bellwether/lease.h"

struct bw_store;

/* One source as P run:{SRC} and the indexes describe it. */
struct bw_source_status {
    int has_run;          /* P run:{SRC} exists */
    char status[16];      /* last run: "ok", "failed", "interrupted", "" */
    char error[256];      /* the last failure's error, or "" */
    int64_t last_run;     /* epoch seconds; BW_TIME_NONE: never */
    int64_t last_success; /* BW_TIME_NONE: never */
    int64_t last_failure; /* BW_TIME_NONE: never */
    double duration;      /* of the last run, seconds; -1 unknown */
    long items;           /* written by the last run; -1 unknown */
    long requests, not_modified; /* at the last run; -1 unknown */
    long quota_left;             /* at the last run; -1 unknown */
    long prs, tickets;           /* stored now (index sizes) */
    struct bw_lease_info lease;
};

/*
 * Fill out for source: HGETALL P run:{SRC}, GET/PTTL of its lease, and
 * ZCARD of P ix:opened:{TAG} / P ix:created:{TAG} over its scopes (the
 * TAGs of P scopes that start with "SRC:"), in two round trips. 0 or a
 * store status (logged).
 */
int bw_status_source(struct bw_store *st, const char *source,
                     struct bw_source_status *out);

struct bw_redis_status {
    char version[32];           /* redis_version */
    char mode[32];              /* redis_mode: standalone, cluster, ... */
    long long used_memory;      /* bytes; -1 unknown */
    long long used_memory_peak; /* bytes; -1 unknown */
    long long maxmemory;        /* bytes, 0: no limit; -1 unknown */
    char maxmemory_policy[32];  /* noeviction, allkeys-lru, ... */
    long long uptime;           /* seconds; -1 unknown */
};

/* INFO server and INFO memory, one round trip. 0 or a store status. */
int bw_status_redis(struct bw_store *st, struct bw_redis_status *out);

/*
 * Take the value of "name:" out of an INFO reply's text (len bytes) into
 * buf (n bytes, always terminated; "" when absent). Pure. 1 when found.
 */
int bw_status_info_field(const char *info, size_t len, const char *name,
                         char *buf, size_t n);

#endif
