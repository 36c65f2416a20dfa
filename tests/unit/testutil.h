/*
 * testutil.h - what every cmocka unit test includes: cmocka's required
 * headers in the right order, and small shared helpers.
 */
#ifndef BW_TESTUTIL_H
#define BW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shared reference data (../shared next to the checkout), or NULL. */
static inline const char *bw_test_shared_dir(void)
{
    static char path[4096];
    const char *env = getenv("BW_SHARED_DIR");
    FILE *f;

    if (env && *env) {
        return env;
    }
    snprintf(path, sizeof(path), "%s", "../shared/api-samples/README.md");
    f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }
    fclose(f);
    return "../shared";
}

/* Read a whole file into a malloc'd NUL-terminated buffer, or NULL. */
static inline char *bw_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long n;

    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        data = malloc((size_t)n + 1);
        if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
        if (data) {
            data[n] = '\0';
            if (len) {
                *len = (size_t)n;
            }
        }
    }
    fclose(f);
    return data;
}

#endif
