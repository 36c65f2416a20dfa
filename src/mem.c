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

/*
 * cJSON's allocations come from 256 KiB chunks with a bump pointer: a page
 * of API JSON is thousands of small nodes, and malloc/free of each was a
 * third of the collectors' CPU (bench/RESULTS.md). Every block carries a
 * header naming its chunk; a chunk counts its live blocks and is rewound
 * (the current one) or released (an older one) when the count drops to 0,
 * so a parsed tree costs a few bumps and cJSON_Delete stays cheap. Large
 * blocks go to malloc. The state is per thread; a tree is freed by the
 * thread that parsed it.
 */
#define CHUNK_SIZE (256 * 1024)
#define BIG_BLOCK (CHUNK_SIZE / 8)

struct chunk {
    size_t used; /* bytes handed out, header included */
    size_t live; /* blocks not freed yet */
    struct chunk *spare_next;
};

struct block_head {      /* 16 bytes: keeps the payload aligned */
    struct chunk *chunk; /* NULL: a block of its own from malloc */
    size_t pad;
};

#define CHUNK_DATA(c) ((char *)(c) + sizeof(struct block_head) * 2)

static _Thread_local struct chunk *cur_chunk;
static _Thread_local struct chunk *spare_chunks;
static _Thread_local int nspare;

static struct chunk *chunk_new(void)
{
    struct chunk *c = spare_chunks;

    if (c != NULL) {
        spare_chunks = c->spare_next;
        nspare--;
    } else {
        c = malloc(CHUNK_SIZE);
        if (c == NULL) {
            return NULL;
        }
    }
    c->used = (size_t)(CHUNK_DATA(c) - (char *)c);
    c->live = 0;
    c->spare_next = NULL;
    return c;
}

static void chunk_drop(struct chunk *c)
{
    if (nspare < 4) {
        c->spare_next = spare_chunks;
        spare_chunks = c;
        nspare++;
    } else {
        free(c);
    }
}

static void *json_malloc(size_t n)
{
    size_t need = sizeof(struct block_head) + ((n + 15) & ~(size_t)15);
    struct block_head *h;

    if (should_fail()) {
        return NULL;
    }
    if (n > BIG_BLOCK) {
        h = malloc(sizeof(*h) + n);
        if (h == NULL) {
            return NULL;
        }
        h->chunk = NULL;
        return h + 1;
    }
    if (cur_chunk == NULL || cur_chunk->used + need > CHUNK_SIZE) {
        struct chunk *c = chunk_new();

        if (c == NULL) {
            return NULL;
        }
        /* the old current chunk lives on until its last block is freed */
        if (cur_chunk != NULL && cur_chunk->live == 0) {
            chunk_drop(cur_chunk);
        }
        cur_chunk = c;
    }
    h = (struct block_head *)((char *)cur_chunk + cur_chunk->used);
    cur_chunk->used += need;
    cur_chunk->live++;
    h->chunk = cur_chunk;
    return h + 1;
}

static void json_free(void *p)
{
    struct block_head *h;
    struct chunk *c;

    if (p == NULL) {
        return;
    }
    h = (struct block_head *)p - 1;
    c = h->chunk;
    if (c == NULL) {
        free(h);
        return;
    }
    if (--c->live > 0) {
        return;
    }
    if (c == cur_chunk) {
        c->used = (size_t)(CHUNK_DATA(c) - (char *)c); /* rewind */
    } else {
        chunk_drop(c);
    }
}

void bw_mem_hook_cjson(void)
{
#if defined(__SANITIZE_ADDRESS__)
    /* sanitizers must see every block: no chunks under ASan */
    cJSON_Hooks hooks = {bw_malloc, bw_free};

    (void)json_malloc;
    (void)json_free;
#else
    cJSON_Hooks hooks = {json_malloc, json_free};
#endif

    cJSON_InitHooks(&hooks);
}

void bw_mem_release_cached(void)
{
    while (spare_chunks != NULL) {
        struct chunk *c = spare_chunks;

        spare_chunks = c->spare_next;
        free(c);
    }
    nspare = 0;
    if (cur_chunk != NULL && cur_chunk->live == 0) {
        free(cur_chunk);
        cur_chunk = NULL;
    }
}
