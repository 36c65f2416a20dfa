/*
 * mem.c - allocation wrappers with a "fail the Nth allocation" hook.
 *
 * The hook lets unit tests walk every allocation of a parser or formatter
 * and prove that each failure is reported and leaks nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "bellwether/mem.h"

static long fail_at;   /* 0: off; else fail when count reaches it */
static int fail_every; /* keep failing after the first injected one */
static long alloc_count;
static int failed;

static int should_fail(void)
{
    alloc_count++;
    if (fail_at == 0) {
        return 0;
    }
    if (alloc_count == fail_at || (fail_every && alloc_count > fail_at)) {
        failed = 1;
        return 1;
    }
    return 0;
}

void *bw_malloc(size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(n ? n : 1);
}

void *bw_calloc(size_t nmemb, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    if (nmemb == 0 || size == 0) {
        nmemb = 1;
        size = 1;
    }
    return calloc(nmemb, size);
}

void *bw_realloc(void *p, size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

void bw_free(void *p)
{
    free(p);
}

char *bw_strndup(const char *s, size_t n)
{
    char *copy;

    if (s == NULL) {
        return NULL;
    }
    copy = bw_malloc(n + 1);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *bw_strdup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    return bw_strndup(s, strlen(s));
}

void bw_mem_fail_at(long n, int fail_all)
{
    fail_at = n;
    fail_every = fail_all;
    alloc_count = 0;
    failed = 0;
}

long bw_mem_count(void)
{
    return alloc_count;
}

int bw_mem_failed(void)
{
    return failed;
}

void bw_mem_hook_cjson(void)
{
    cJSON_Hooks hooks = {bw_malloc, bw_free};

    cJSON_InitHooks(&hooks);
}
