/*
 * fuzz_where.c - fuzz bw_query_where_parse(), the query's --where K=V
 * parser, and the engine's filters behind it. The first byte picks the
 * metric (its value modulo the catalogue's size); the rest is one --where
 * argument per line. Beyond "no crash, no leak, no read past the end" it
 * checks what the parser promises: an accepted argument adds exactly one
 * value, not empty, at most 256 bytes, without control bytes; a refused
 * one adds nothing and says why on one line. The filters are then run
 * over a few fixed index rows of the metric's subject.
 *
 * Corpus: tests/fuzz/corpus/where/ (hand-made: keys, blanks, '=' in
 * values, control bytes, long values, UTF-8).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/error.h"
#include "bellwether/metrics.h"
#include "bellwether/query.h"
#include "bellwether/store.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t total(const struct bw_query_where *w)
{
    size_t n = 0;

    for (int k = 0; k < BW_WK_COUNT; k++) {
        n += w->v[k].n;
    }
    return n;
}

static void check_values(const struct bw_query_where *w)
{
    for (int k = 0; k < BW_WK_COUNT; k++) {
        for (size_t i = 0; i < w->v[k].n; i++) {
            const char *v = w->v[k].v[i];

            CHECK(*v != '\0' && strlen(v) <= 256);
            for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
                CHECK(*p >= 0x20 && *p != 0x7f);
            }
        }
    }
}

/* Rows of both subjects at 2026-11-02 (W45), fed to one engine. */
static void run_engine(const struct bw_metric *m,
                       const struct bw_query_where *w)
{
    static const struct {
        int ix;
        const char *tag, *member;
    } rows[] = {
        {BW_IX_MERGED, "gh:acme/api", "1|alice|272|0|60|60|60|60|60|10|0|bug"},
        {BW_IX_OPENED, "gh:acme/api", "1|alice|272|0|bug,ui"},
        {BW_IX_PIT, "gh:acme/web", "2|%|64|0|1793577000|0~||0|||"},
        {BW_IX_REVIEWS, "gh:acme/web", "2|bob|alice|1|0"},
        {BW_IX_DONE, "jira:jira", "OPS-1|OPS|Bug|acc|Ann|64|60|60|0|1|x"},
        {BW_IX_CREATED, "jira:jira", "OPS-1|OPS|Bug|acc|Ann|64|x"},
        {BW_IX_TPIT, "jira:jira", "OPS-2|OPS|Story|%|%|32|1793577000|0~||"},
    };
    struct bw_query q;
    struct bw_query_engine *e = NULL;
    struct bw_query_result res;

    bw_query_init(&q, m, NULL);
    q.by = BW_BY_AUTHOR;
    q.from = INT64_C(1793577600);
    q.to = INT64_C(1794182400);
    q.now = q.to;
    q.where = w;
    q.items = 1;
    if (bw_query_engine_new(&q, &e) != 0) {
        /* keys that do not apply, or a team no config names */
        CHECK(bw_query_where_check(w, m, NULL, NULL, 0) == BW_EUSAGE);
        return;
    }
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CHECK(bw_query_engine_feed(e, rows[i].ix, rows[i].tag, rows[i].member,
                                   strlen(rows[i].member),
                                   (double)INT64_C(1793577700)) == 0);
    }
    CHECK(bw_query_engine_finish(e, &res) == 0);
    bw_query_result_release(&res);
    bw_query_engine_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static size_t nmetrics;
    struct bw_query_where w;
    const struct bw_metric *m;
    const char *p, *end;

    if (size == 0) {
        return 0;
    }
    if (nmetrics == 0) {
        while (bw_metrics[nmetrics].name) {
            nmetrics++;
        }
    }
    m = &bw_metrics[data[0] % nmetrics];
    memset(&w, 0, sizeof(w));
    p = (const char *)data + 1;
    end = (const char *)data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t before = total(&w);
        char err[256];
        int rc;

        err[0] = '\0';
        rc = bw_query_where_parse(&w, p, len, err, sizeof(err));
        if (rc == 0) {
            CHECK(total(&w) == before + 1);
        } else {
            CHECK(rc == BW_EUSAGE && total(&w) == before);
            CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
        }
        p += len + (nl != NULL);
    }
    check_values(&w);
    run_engine(m, &w);
    bw_query_where_release(&w);
    return 0;
}
