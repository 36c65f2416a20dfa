/*
 * fuzz_redis_url.c - fuzz bw_store_parse_url(), the [redis] url parser of
 * src/store.c, and, on the same bytes, the index row parsers the query
 * layer decodes Redis members with (bw_pr_row_parse, bw_ticket_row_parse).
 * The input is not NUL-terminated. Beyond "no crash, no leak, no read past
 * the end" it checks what the URL parser promises: a TCP address has a
 * non-empty host of URL characters and a port in 1..65535 and no path; a
 * socket has an absolute path, no host and port 0; a refusal leaves the
 * struct cleared. Parsed rows must carry sane fields.
 *
 * Corpus: tests/fuzz/corpus/redis_url/ (hand-made URLs and rows).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/store.h"

static void check_url(const uint8_t *data, size_t size)
{
    struct bw_redis_addr a;
    static const struct bw_redis_addr zero;

    if (bw_store_parse_url((const char *)data, size, &a) != 0) {
        if (memcmp(&a, &zero, sizeof(a)) != 0) {
            abort();
        }
        return;
    }
    if (memchr(a.host, '\0', sizeof(a.host)) == NULL ||
        memchr(a.path, '\0', sizeof(a.path)) == NULL) {
        abort();
    }
    if (a.path[0]) {
        if (a.path[0] != '/' || a.host[0] || a.port != 0) {
            abort();
        }
    } else if (a.host[0] == '\0' || a.port < 1 || a.port > 65535 ||
               strpbrk(a.host, "@/?# ") != NULL) {
        abort();
    }
}

static void check_rows(const uint8_t *data, size_t size)
{
    struct bw_pr_row pr;
    struct bw_ticket_row t;

    bw_pr_row_init(&pr);
    for (int ix = BW_IX_MERGED; ix <= BW_IX_REVIEWS; ix++) {
        if (bw_pr_row_parse(&pr, ix, (const char *)data, size) == 0) {
            if (pr.number < 0 || (ix != BW_IX_REVIEWS && pr.nlabels > size)) {
                abort();
            }
            (void)bw_pr_row_open_at(&pr, 1000);
            (void)bw_pr_row_stale_at(&pr, 1000);
            (void)bw_pr_row_awaiting_review_at(&pr, 1000);
        }
    }
    bw_pr_row_release(&pr);
    bw_ticket_row_init(&t);
    for (int ix = BW_IX_DONE; ix <= BW_IX_TPIT; ix++) {
        if (bw_ticket_row_parse(&t, ix, (const char *)data, size) == 0) {
            if (t.key == NULL || t.key[0] == '\0') {
                abort();
            }
            (void)bw_ticket_row_blocked_at(&t, 1000, NULL);
        }
    }
    bw_ticket_row_release(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_url(data, size);
    check_rows(data, size);
    return 0;
}
