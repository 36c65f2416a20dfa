/*
 * error.c - names of the status codes and their mapping to exit codes.
 */
#include "bellwether/error.h"

const char *bw_strerror(int rc)
{
    switch (rc) {
    case BW_OK:
        return "success";
    case BW_ENOMEM:
        return "out of memory";
    case BW_EIO:
        return "input/output error";
    case BW_EHTTP:
        return "HTTP request failed";
    case BW_ERATELIMIT:
        return "API rate limit exhausted";
    case BW_EPARSE:
        return "malformed input";
    case BW_EREDIS:
        return "Redis error";
    case BW_ECONFIG:
        return "configuration error";
    case BW_EAUTH:
        return "credentials refused";
    case BW_EUSAGE:
        return "usage error";
    case BW_EINTR:
        return "interrupted by a signal";
    case BW_ESCHEMA:
        return "store schema mismatch";
    case BW_EBUSY:
        return "held by another process";
    case BW_ENOTFOUND:
        return "not found";
    case BW_ESMTP:
        return "mail delivery failed";
    case BW_ELEASE:
        return "lease lost";
    case BW_EPARTIAL:
        return "some sources failed";
    default:
        return "unknown error";
    }
}

int bw_exit_code(int rc)
{
    switch (rc) {
    case BW_OK:
        return 0;
    case BW_ECONFIG:
    case BW_EUSAGE:
    case BW_EAUTH:
        return 2;
    case BW_EPARTIAL:
        return 3;
    default:
        return 1;
    }
}
