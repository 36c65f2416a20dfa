/*
 * fuzz_http_headers.c - the pure parsers of what an API server sends back
 * besides the body, and of what is printed about it: the rate-limit reset
 * (bw_http_parse_reset: epoch seconds or ISO 8601), Retry-After
 * (bw_http_parse_retry_after: seconds or an HTTP date), the query-string
 * encoder (bw_http_urlencode, fed with Link and config values) and the URL
 * redactor every error line goes through (bw_redact_url). The Link header
 * has its own target (fuzz_link.c).
 *
 * Beyond "no crash, no leak, no read past the end" it checks what they
 * promise: a Retry-After is 0 to 366 days; a reset given as plain digits
 * is that number; the encoder's output holds only unreserved characters
 * and %XX and decodes back to the input; the redactor's output is
 * terminated within its buffer, never longer than the input plus the
 * "REDACTED" it puts in, and keeps no user information: its authority is
 * the input's host[:port], the part after the last '@' (RFC 3986; a
 * password may hold a raw '@').
 *
 * Input: the first byte picks the parser ('r' reset, 'a' Retry-After, 'e'
 * encoder, 'u' redactor; anything else: all four), the rest is the header
 * value or URL (cut at the first NUL, as a C string is). Corpus:
 * tests/fuzz/corpus/http_headers/ (values the simulator sends, hand-made
 * edge cases).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/buf.h"
#include "bellwether/http.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* 2026-11-16T00:00:00Z, the simulator's present: a fixed "now" */
#define NOW 1794787200

static void check_reset(const char *s)
{
    int64_t epoch = -1;
    int digits = *s != '\0';

    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            digits = 0;
        }
    }
    if (bw_http_parse_reset(s, &epoch) != 0) {
        return;
    }
    if (digits && strlen(s) <= 15) {
        CHECK(epoch == strtoll(s, NULL, 10));
    }
}

static void check_retry_after(const char *s)
{
    long secs = -1;

    if (bw_http_parse_retry_after(s, NOW, &secs) == 0) {
        CHECK(secs >= 0 && secs <= 86400L * 366);
    }
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
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

static void check_urlencode(const char *s)
{
    struct bw_buf b = {0};
    size_t n = strlen(s);
    size_t j = 0;

    if (bw_http_urlencode(&b, s) != 0) {
        bw_buf_release(&b);
        return;
    }
    CHECK(b.data != NULL && b.data[b.len] == '\0');
    for (size_t i = 0; i < b.len; i++, j++) {
        unsigned char c = (unsigned char)b.data[i];

        CHECK(j < n);
        if (c == '%') {
            int hi, lo;

            CHECK(i + 2 < b.len);
            hi = hexval(b.data[i + 1]);
            lo = hexval(b.data[i + 2]);
            CHECK(hi >= 0 && lo >= 0);
            CHECK((unsigned char)s[j] == (unsigned char)(hi * 16 + lo));
            CHECK(!unreserved((unsigned char)s[j]));
            i += 2;
        } else {
            CHECK(unreserved(c));
            CHECK((char)c == s[j]);
        }
    }
    CHECK(j == n);
    bw_buf_release(&b);
}

/* [start, end) of the authority: after "://" (or the start) up to the
 * first '/', '?' or '#'. */
static void authority(const char *url, const char **start, const char **end)
{
    const char *p = strstr(url, "://");

    *start = p ? p + 3 : url;
    *end = *start + strcspn(*start, "/?#");
}

static void check_redact(const char *s)
{
    size_t n = strlen(s);
    /* room for every parameter redacted: "REDACTED" per '&' or '?' */
    size_t cap = n * 9 + 16;
    char *out = bw_malloc(cap);
    char small[8];
    const char *a0, *a1, *o0, *o1, *host;

    if (out == NULL) {
        return;
    }
    memset(out, 'X', cap);
    bw_redact_url(s, out, cap);
    CHECK(memchr(out, '\0', cap) != NULL);
    authority(s, &a0, &a1);
    host = a0;
    for (const char *p = a0; p < a1; p++) {
        if (*p == '@') {
            host = p + 1;
        }
    }
    authority(out, &o0, &o1);
    /* no user information survives, and the host is kept whole */
    CHECK(memchr(o0, '@', (size_t)(o1 - o0)) == NULL);
    CHECK((size_t)(o1 - o0) == (size_t)(a1 - host));
    CHECK(memcmp(o0, host, (size_t)(a1 - host)) == 0);
    /* a small buffer: cut, terminated, nothing written past it */
    memset(small, 'X', sizeof(small));
    bw_redact_url(s, small, sizeof(small) - 1);
    CHECK(memchr(small, '\0', sizeof(small) - 1) != NULL);
    CHECK(small[sizeof(small) - 1] == 'X');
    bw_free(out);
}

/* Does the selector byte ask for parser c? (any other byte: all) */
static int picked(char pick, char c)
{
    return pick == c || pick == '\0' || strchr("raeu", pick) == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    char pick;

    if (size == 0) {
        return 0;
    }
    pick = (char)data[0];
    s = bw_malloc(size);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (picked(pick, 'r')) {
        check_reset(s);
    }
    if (picked(pick, 'a')) {
        check_retry_after(s);
    }
    if (picked(pick, 'e')) {
        check_urlencode(s);
    }
    if (picked(pick, 'u')) {
        check_redact(s);
    }
    bw_free(s);
    return 0;
}
