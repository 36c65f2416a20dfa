/*
 * mem.h - the only allocator entry points bellwether uses.
 *
 * Every allocation goes through these wrappers so tests can make the Nth
 * allocation fail (curl's torture mode) and check that each error path
 * cleans up. cJSON is routed here too (bw_mem_hook_cjson()). hiredis 0.14 has
 * no allocator hooks and aborts on OOM: the torture tests leave it alone.
 * The failure counter is process-wide and not thread-safe; tortures run
 * single-threaded.
 */
#ifndef BW_MEM_H
#define BW_MEM_H

#include <stddef.h>

void *bw_malloc(size_t n);
void *bw_calloc(size_t nmemb, size_t size);
void *bw_realloc(void *p, size_t n);
void bw_free(void *p);
/* Copies of strings; caller frees with bw_free(). NULL in, NULL out. */
char *bw_strdup(const char *s);
char *bw_strndup(const char *s, size_t n);

/*
 * Make the nth allocation from now on fail (1 = the next one), and every
 * one after it while fail_all is set. n = 0 turns failure injection off.
 */
void bw_mem_fail_at(long n, int fail_all);
/* Allocations made since the last bw_mem_fail_at() (for torture loops). */
long bw_mem_count(void);
/* True once an injected failure has happened since bw_mem_fail_at(). */
int bw_mem_failed(void);
/* Give cJSON its allocator (chunked, with the failure hook). Call once,
   before any cJSON call; trees must be freed with cJSON_Delete / cJSON_free
   as usual. */
void bw_mem_hook_cjson(void);
/* Return the cJSON chunks no tree uses any more to the system (end of a
   run; keeps leak checkers quiet). */
void bw_mem_release_cached(void);

#endif
