/*
 * test_mem.c - the allocation wrappers and their "fail the Nth allocation"
 * hook (curl's torture idea): counting, failing once or from the Nth on,
 * turning it off, string copies, and cJSON routed through the hook.
 */
#include "testutil.h"

#include <cJSON.h>

#include "bellwether/mem.h"

static int reset(void **state)
{
    (void)state;
    bw_mem_fail_at(0, 0);
    return 0;
}

static void test_off_by_default(void **state)
{
    void *p[5];
    int i;

    (void)state;
    for (i = 0; i < 5; i++) {
        p[i] = bw_malloc(16);
        assert_non_null(p[i]);
    }
    for (i = 0; i < 5; i++) {
        bw_free(p[i]);
    }
    assert_false(bw_mem_failed());
}

static void test_counting(void **state)
{
    void *a;
    void *b;
    char *s;

    (void)state;
    bw_mem_fail_at(0, 0);
    assert_int_equal(bw_mem_count(), 0);
    a = bw_malloc(1);
    assert_int_equal(bw_mem_count(), 1);
    b = bw_calloc(2, 8);
    assert_int_equal(bw_mem_count(), 2);
    a = bw_realloc(a, 100);
    assert_int_equal(bw_mem_count(), 3);
    s = bw_strdup("abc");
    assert_int_equal(bw_mem_count(), 4);
    /* freeing is not an allocation */
    bw_free(s);
    bw_free(a);
    bw_free(b);
    bw_free(NULL);
    assert_int_equal(bw_mem_count(), 4);
    /* bw_mem_fail_at restarts the count */
    bw_mem_fail_at(0, 0);
    assert_int_equal(bw_mem_count(), 0);
}

static void test_fail_nth_once(void **state)
{
    void *p[5];
    int i;

    (void)state;
    bw_mem_fail_at(3, 0);
    for (i = 0; i < 5; i++) {
        p[i] = bw_malloc(8);
        if (i == 2) {
            assert_null(p[i]);
            assert_true(bw_mem_failed());
        } else {
            assert_non_null(p[i]);
        }
        assert_int_equal(bw_mem_count(), i + 1);
    }
    for (i = 0; i < 5; i++) {
        bw_free(p[i]);
    }
    assert_true(bw_mem_failed());
}

static void test_fail_nth_and_after(void **state)
{
    void *p[6];
    int i;

    (void)state;
    bw_mem_fail_at(2, 1);
    for (i = 0; i < 6; i++) {
        p[i] = i % 2 ? bw_malloc(4) : bw_calloc(1, 4);
    }
    assert_non_null(p[0]);
    for (i = 1; i < 6; i++) {
        assert_null(p[i]);
    }
    bw_free(p[0]);
    /* turning it off makes allocations succeed again */
    bw_mem_fail_at(0, 0);
    assert_false(bw_mem_failed());
    p[0] = bw_malloc(4);
    assert_non_null(p[0]);
    bw_free(p[0]);
}

static void test_not_failed_before_nth(void **state)
{
    void *p;

    (void)state;
    bw_mem_fail_at(10, 0);
    p = bw_malloc(4);
    assert_non_null(p);
    assert_false(bw_mem_failed());
    bw_free(p);
}

static void test_first_allocation(void **state)
{
    (void)state;
    bw_mem_fail_at(1, 0);
    assert_null(bw_strdup("x"));
    assert_true(bw_mem_failed());
    bw_mem_fail_at(1, 0);
    assert_null(bw_strndup("xyz", 2));
    bw_mem_fail_at(1, 0);
    assert_null(bw_calloc(3, 3));
}

static void test_realloc_failure_keeps_block(void **state)
{
    char *p;
    char *q;

    (void)state;
    p = bw_malloc(4);
    assert_non_null(p);
    memcpy(p, "abc", 4);
    bw_mem_fail_at(1, 0);
    q = bw_realloc(p, 1 << 20);
    assert_null(q);
    /* the old block is still ours and intact */
    assert_string_equal(p, "abc");
    bw_mem_fail_at(0, 0);
    q = bw_realloc(p, 8);
    assert_non_null(q);
    assert_string_equal(q, "abc");
    bw_free(q);
}

static void test_zero_sizes(void **state)
{
    void *a;
    void *b;
    void *c;

    (void)state;
    /* zero-byte requests give a real block, never NULL as "success" */
    a = bw_malloc(0);
    b = bw_calloc(0, 8);
    c = bw_realloc(NULL, 0);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    bw_free(a);
    bw_free(b);
    bw_free(c);
}

static void test_strings(void **state)
{
    char *s;

    (void)state;
    assert_null(bw_strdup(NULL));
    assert_null(bw_strndup(NULL, 3));
    s = bw_strdup("hello");
    assert_string_equal(s, "hello");
    bw_free(s);
    s = bw_strdup("");
    assert_string_equal(s, "");
    bw_free(s);
    s = bw_strndup("hello", 3);
    assert_string_equal(s, "hel");
    bw_free(s);
    /* n counts bytes to copy: the result is always terminated */
    s = bw_strndup("a\0b", 3);
    assert_memory_equal(s, "a\0b", 4);
    bw_free(s);
}

/* cJSON allocates through the hook: every allocation of a parse can be
 * made to fail, and the parse reports it by returning NULL. */
static void test_cjson_hooked(void **state)
{
    static const char json[] = "{\"a\":[1,2,{\"b\":\"c\"}],\"d\":\"e\"}";
    cJSON *root;
    long n;
    long total;

    (void)state;
    bw_mem_hook_cjson();
    bw_mem_fail_at(0, 0);
    root = cJSON_Parse(json);
    assert_non_null(root);
    total = bw_mem_count();
    assert_true(total > 3);
    cJSON_Delete(root);
    for (n = 1; n <= total; n++) {
        bw_mem_fail_at(n, 0);
        root = cJSON_Parse(json);
        assert_null(root);
        assert_true(bw_mem_failed());
    }
    bw_mem_fail_at(total + 1, 0);
    root = cJSON_Parse(json);
    assert_non_null(root);
    assert_false(bw_mem_failed());
    cJSON_Delete(root);
}

/* The chunked cJSON allocator: many trees alive at once, freed in any
 * order, big strings beside small nodes, contents intact throughout. */
static void test_cjson_chunks(void **state)
{
    enum {
        NTREES = 64
    };
    cJSON *trees[NTREES];
    char *big;
    char *json;
    size_t bigsz = 100 * 1024;

    (void)state;
    bw_mem_hook_cjson();
    bw_mem_fail_at(0, 0);
    big = bw_malloc(bigsz + 64);
    assert_non_null(big);
    memset(big, 'x', bigsz);
    big[bigsz] = '\0';
    json = bw_malloc(bigsz + 128);
    assert_non_null(json);
    snprintf(json, bigsz + 128, "{\"k\":[1,2,3],\"s\":\"%s\"}", big);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < NTREES; i++) {
            trees[i] = cJSON_Parse(i % 8 == 0 ? json : "{\"a\":[1,{\"b\":2}]}");
            assert_non_null(trees[i]);
        }
        /* free odd ones first, then even: chunks drain out of order */
        for (int pass = 1; pass >= 0; pass--) {
            for (int i = pass; i < NTREES; i += 2) {
                const cJSON *s = cJSON_GetObjectItem(trees[i], "s");

                if (i % 8 == 0) {
                    assert_non_null(s);
                    assert_int_equal(strlen(s->valuestring), bigsz);
                } else {
                    assert_int_equal(
                        cJSON_GetObjectItem(
                            cJSON_GetArrayItem(
                                cJSON_GetObjectItem(trees[i], "a"), 1),
                            "b")
                            ->valueint,
                        2);
                }
                cJSON_Delete(trees[i]);
            }
        }
    }
    bw_free(json);
    bw_free(big);
    bw_mem_release_cached();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_off_by_default, reset),
        cmocka_unit_test_setup(test_cjson_chunks, reset),
        cmocka_unit_test_setup(test_counting, reset),
        cmocka_unit_test_setup(test_fail_nth_once, reset),
        cmocka_unit_test_setup(test_fail_nth_and_after, reset),
        cmocka_unit_test_setup(test_not_failed_before_nth, reset),
        cmocka_unit_test_setup(test_first_allocation, reset),
        cmocka_unit_test_setup(test_realloc_failure_keeps_block, reset),
        cmocka_unit_test_setup(test_zero_sizes, reset),
        cmocka_unit_test_setup(test_strings, reset),
        cmocka_unit_test_setup(test_cjson_hooked, reset),
    };

    return cmocka_run_group_tests(tests, NULL, reset);
}
