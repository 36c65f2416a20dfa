/*
 * fuzz_link.c - fuzz bw_http_parse_link(), the Link header parser of
 * src/http.c. The whole input is one header value (not NUL-terminated, as
 * libcurl hands it over). Beyond "no crash, no leak, no read past the end"
 * it checks what the parser promises: each URL found is non-empty, comes
 * from between '<' and '>' of the input, and so holds no '<' or '>'.
 *
 * Corpus: tests/fuzz/corpus/link/ (values the simulator sends, hand-made
 * edge cases).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/http.h"
#include "bellwether/mem.h"

/* Is s (NUL-terminated) a substring of data[0..size)? */
static int within(const uint8_t *data, size_t size, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; n <= size && i <= size - n; i++) {
        if (memcmp(data + i, s, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static void check(const uint8_t *data, size_t size, const char *url)
{
    if (url == NULL) {
        return;
    }
    if (*url == '\0' || strchr(url, '<') || strchr(url, '>') ||
        !within(data, size, url)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *next = NULL;
    char *last = NULL;

    if (bw_http_parse_link((const char *)data, size, &next, &last) != 0) {
        abort(); /* only BW_ENOMEM is possible, and memory is plentiful */
    }
    check(data, size, next);
    check(data, size, last);
    bw_free(next);
    bw_free(last);
    return 0;
}
