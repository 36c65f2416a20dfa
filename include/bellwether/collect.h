/*
 * collect.h - one collection pass of one source, as `bellwether collect`
 * runs it (src/cmd_collect.c) and the daemon's collect jobs reuse it.
 *
 * The pass takes the source's lease (lease.h) first: when another process
 * holds it the source is skipped (status 0, res->skipped set, the holder
 * named in res->holder; the caller logs the skip). While collecting, the
 * lease is renewed from the HTTP client's tick hook (quota waits included)
 * and before every page commit; a lost lease stops the pass with
 * BW_ELEASE and nothing more committed. The run is recorded in
 * P run:{SRC}; the lease is released at the end.
 */
#ifndef BW_COLLECT_H
#define BW_COLLECT_H

#include <stdint.h>

#include "bellwether/config.h"
#include "bellwether/lease.h"

struct bw_store;

/* What one pass did, for the caller's summary or job log line. */
struct bw_collect_result {
    int skipped;                      /* leased by another process */
    char holder[BW_LEASE_HOLDER_MAX]; /* then: "HOST pid N" */
    long items, pages;                /* committed */
    long requests, not_modified;
    long quota_left; /* -1 unknown */
    int quota_stop;  /* stopped at min_quota_left (still status 0) */
    double seconds;
};

/*
 * Collect src once into st: full ignores high-water marks and ETags;
 * since is the backfill bound in epoch seconds, or -1 for the source's
 * own `since` (else 180 days before now); quiet leaves out the progress
 * line, the summary on stdout and the "skipped" warning (the daemon logs
 * its own line from res). Returns the source's status (0, also when
 * skipped; BW_EINTR after a signal; BW_ELEASE when the lease was lost;
 * ...). res may be NULL.
 */
int bw_collect_source(struct bw_store *st, const struct bw_source_conf *src,
                      int full, int64_t since, int quiet,
                      struct bw_collect_result *res);

#endif
