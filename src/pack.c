/*
 * pack.c - escaped strings and signed decimals for the packed text of PR
 * events (pr.c) and ticket history (ticket.c); the formats are described
 * atop those files. Pure: no I/O, no globals.
 */
#include <stdint.h>
#include <string.h>

#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/pack.h"

int bw_pack_escape(struct bw_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;

    for (; rc == 0 && *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < '!' || c == '%' || c == 0x7f) {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

            rc = bw_buf_add(out, esc, 3);
        } else {
            rc = bw_buf_addch(out, (char)c);
        }
    }
    return rc;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int bw_pack_unescape(const char *s, const char *end, char **out)
{
    char *a = bw_malloc((size_t)(end - s) + 1);
    size_t n = 0;
    int rc = BW_ENOMEM;

    if (a == NULL) {
        goto out;
    }
    rc = BW_EPARSE;
    while (s < end) {
        if (*s == '%') {
            int hi = end - s > 2 ? hexval(s[1]) : -1;
            int lo = hi >= 0 ? hexval(s[2]) : -1;

            if (lo < 0 || (hi == 0 && lo == 0)) {
                goto out;
            }
            a[n++] = (char)(hi * 16 + lo);
            s += 3;
        } else {
            a[n++] = *s++;
        }
    }
    a[n] = '\0';
    *out = a;
    a = NULL;
    rc = 0;
out:
    bw_free(a);
    return rc;
}

int bw_pack_parse_int(const char **p, const char *end, int64_t *v)
{
    const char *s = *p;
    int neg = 0;
    uint64_t acc = 0, lim;

    if (s < end && *s == '-') {
        neg = 1;
        s++;
    }
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (s == end || *s < '0' || *s > '9') {
        return BW_EPARSE;
    }
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (acc > (lim - d) / 10) {
            return BW_EPARSE;
        }
        acc = acc * 10 + d;
    }
    *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    *p = s;
    return 0;
}
