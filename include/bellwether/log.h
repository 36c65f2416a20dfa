/*
 * log.h - one-line diagnostics on stderr.
 *
 * Messages are lower case with no full stop: what failed, the subject in
 * 'quotes', then what to do (git's CodingGuidelines). The level is tested
 * before formatting so disabled DEBUG lines cost nothing. Secrets never reach
 * a log line: URLs go through bw_redact_url() first.
 */
#ifndef BW_LOG_H
#define BW_LOG_H

#include <stddef.h>

enum bw_log_level {
    BW_LOG_QUIET = -1, /* -q: errors only, nothing else */
    BW_LOG_ERROR = 0,
    BW_LOG_WARN = 1,
    BW_LOG_INFO = 2,
    BW_LOG_DEBUG = 3
};

extern int bw_log_level;

void bw_log_set_level(int level);
/* Prefix every line with an ISO 8601 UTC timestamp (the daemon). */
void bw_log_set_timestamps(int on);
void bw_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define BW_LOG_AT(lvl, ...)                                                    \
    do {                                                                       \
        if (bw_log_level >= (lvl)) {                                           \
            bw_log((lvl), __VA_ARGS__);                                        \
        }                                                                      \
    } while (0)
/* Errors print even under -q. */
#define BW_ERROR(...) bw_log(BW_LOG_ERROR, __VA_ARGS__)
#define BW_WARN(...) BW_LOG_AT(BW_LOG_WARN, __VA_ARGS__)
#define BW_INFO(...) BW_LOG_AT(BW_LOG_INFO, __VA_ARGS__)
#define BW_DEBUG(...) BW_LOG_AT(BW_LOG_DEBUG, __VA_ARGS__)

/*
 * Copy url into out (size n, always terminated) without any user:password@
 * part and with the values of query parameters that look like secrets
 * (token, key, password, secret, sig) replaced by "REDACTED". Returns out.
 */
char *bw_redact_url(const char *url, char *out, size_t n);

#endif
