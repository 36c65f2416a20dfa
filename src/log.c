/*
 * log.c - stderr diagnostics with levels, and URL redaction.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bellwether/log.h"

int bw_log_level = BW_LOG_WARN;
static int with_timestamps;

void bw_log_set_level(int level)
{
    bw_log_level = level;
}

void bw_log_set_timestamps(int on)
{
    with_timestamps = on;
}

void bw_log(int level, const char *fmt, ...)
{
    static const char *const prefix[] = {"error: ", "warning: ", "", ""};
    char line[2048];
    char stamp[32] = "";
    va_list ap;
    int n;

    if (level > bw_log_level && level != BW_LOG_ERROR) {
        return;
    }
    if (with_timestamps) {
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm);
    }
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    /* one line per message, whatever the arguments held */
    for (char *p = line; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    fprintf(stderr, "%s%s%s%s\n", stamp, level == BW_LOG_DEBUG ? "debug: " : "",
            level <= BW_LOG_WARN && level >= 0 ? prefix[level] : "", line);
}

static int secret_param(const char *name, size_t len)
{
    static const char *const words[] = {"token",  "key", "password",
                                        "secret", "sig", "auth"};

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t wl = strlen(words[i]);

        for (size_t j = 0; j + wl <= len; j++) {
            if (strncasecmp(name + j, words[i], wl) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

char *bw_redact_url(const char *url, char *out, size_t n)
{
    const char *scheme_end;
    const char *host;
    const char *at;
    const char *path;
    size_t o = 0;

    if (n == 0) {
        return out;
    }
    out[0] = '\0';
    if (url == NULL) {
        return out;
    }
#define PUT(s, l)                                                              \
    do {                                                                       \
        size_t l_ = (l);                                                       \
        if (o + l_ >= n) {                                                     \
            l_ = n - 1 - o;                                                    \
        }                                                                      \
        memcpy(out + o, (s), l_);                                              \
        o += l_;                                                               \
        out[o] = '\0';                                                         \
    } while (0)
    scheme_end = strstr(url, "://");
    host = scheme_end ? scheme_end + 3 : url;
    path = host + strcspn(host, "/?#");
    /* the password may itself hold '@': the host follows the last one */
    at = NULL;
    for (const char *c = host; c < path; c++) {
        if (*c == '@') {
            at = c;
        }
    }
    PUT(url, (size_t)(host - url));
    if (at != NULL) {
        host = at + 1;
    }
    PUT(host, (size_t)(path - host));
    while (*path) {
        const char *q = strpbrk(path, "?&");
        const char *eq;
        const char *end;

        if (q == NULL) {
            PUT(path, strlen(path));
            break;
        }
        PUT(path, (size_t)(q - path) + 1);
        end = q + 1 + strcspn(q + 1, "&#");
        eq = memchr(q + 1, '=', (size_t)(end - q - 1));
        if (eq != NULL && secret_param(q + 1, (size_t)(eq - q - 1))) {
            PUT(q + 1, (size_t)(eq - q));
            PUT("REDACTED", 8);
        } else {
            PUT(q + 1, (size_t)(end - q - 1));
        }
        path = end;
    }
#undef PUT
    return out;
}
