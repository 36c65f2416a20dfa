/*
 * error.h - the one set of status codes every bellwether function returns.
 *
 * Functions that can fail return int: 0 on success or one of the negative
 * codes below. Only main maps them to process exit codes (bw_exit_code()),
 * following DESIGN.md's table. errno is logged where it happens and never
 * returned raw.
 */
#ifndef BW_ERROR_H
#define BW_ERROR_H

enum bw_err {
    BW_OK = 0,
    BW_ENOMEM = -1,     /* allocation failed */
    BW_EIO = -2,        /* file or socket I/O */
    BW_EHTTP = -3,      /* HTTP transport or status, retries exhausted */
    BW_ERATELIMIT = -4, /* quota spent and the reset is too far away */
    BW_EPARSE = -5,     /* malformed input: JSON, header, date, ... */
    BW_EREDIS = -6,     /* Redis unreachable, refused or replied an error */
    BW_ECONFIG = -7,    /* bad configuration (exit 2) */
    BW_EAUTH = -8,      /* credentials refused: 401, bare 403 (exit 2) */
    BW_EUSAGE = -9,     /* bad command line, unknown metric/team (exit 2) */
    BW_EINTR = -10,     /* stopped by a signal */
    BW_ESCHEMA = -11,   /* the store holds another schema version */
    BW_EBUSY = -12,     /* a lease is held by another process */
    BW_ENOTFOUND = -13, /* the thing asked for does not exist */
    BW_ESMTP = -14,     /* mail could not be sent */
    BW_ELEASE = -15,    /* our lease was lost: stop, commit nothing more */
    BW_EPARTIAL = -16   /* some sources failed, at least one stored (exit 3) */
};

/* Short static description of a status code; never NULL. */
const char *bw_strerror(int rc);

/*
 * Process exit code for a status: 0 success, 2 usage/configuration
 * (ECONFIG, EUSAGE, EAUTH), 3 partial (EPARTIAL), 1 any other failure.
 */
int bw_exit_code(int rc);

#endif
