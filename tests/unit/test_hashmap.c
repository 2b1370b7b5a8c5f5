/* The open-addressing hash map: insert/update/get/remove, growth, removal in
 * the middle of probe runs, binary keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/hashmap.h"

#include <stdio.h>
#include <string.h>

static intptr_t get_or(const struct hashmap *m, const char *key, size_t len, intptr_t dflt)
{
    intptr_t v = dflt;
    return hashmap_get(m, key, len, &v) ? v : dflt;
}

static void test_fnv1a_vectors(void **state)
{
    (void)state;
    /* published FNV-1a 64-bit test vectors */
    assert_true(hash_bytes("", 0) == 0xcbf29ce484222325ULL);
    assert_true(hash_bytes("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(hash_bytes("foobar", 6) == 0x85944171f73967e8ULL);
}

static void test_empty_map(void **state)
{
    (void)state;
    struct hashmap m;
    hashmap_init(&m);
    intptr_t v = 99;
    assert_int_equal(hashmap_get(&m, "x", 1, &v), 0);
    assert_int_equal(v, 99); /* untouched when absent */
    assert_int_equal(hashmap_remove(&m, "x", 1), 0);
    assert_int_equal(m.count, 0);
    hashmap_free(&m);
    hashmap_free(&m); /* freeing twice is harmless */
}

static void test_upsert_get_update(void **state)
{
    (void)state;
    struct hashmap m;
    hashmap_init(&m);
    int inserted = -1;
    intptr_t *v = hashmap_upsert(&m, "apple", 5, 7, &inserted);
    assert_int_equal(inserted, 1);
    assert_int_equal(*v, 7);
    *v = 8; /* the returned slot is the stored value */
    v = hashmap_upsert(&m, "apple", 5, 100, &inserted);
    assert_int_equal(inserted, 0);
    assert_int_equal(*v, 8); /* dflt ignored when present */
    assert_int_equal(m.count, 1);
    assert_int_equal(get_or(&m, "apple", 5, -1), 8);
    /* a length prefix of a key is a different key */
    assert_int_equal(hashmap_get(&m, "app", 3, NULL), 0);
    assert_int_equal(hashmap_get(&m, "apples", 6, NULL), 0);
    /* the key is copied: changing the caller's buffer changes nothing */
    char key[] = "banana";
    hashmap_upsert(&m, key, 6, 3, NULL); /* inserted may be NULL */
    key[0] = 'B';
    assert_int_equal(get_or(&m, "banana", 6, -1), 3);
    assert_int_equal(hashmap_get(&m, "Banana", 6, NULL), 0);
    /* a key given with a length shorter than its C string */
    hashmap_upsert(&m, "cherrypie", 6, 4, NULL);
    assert_int_equal(get_or(&m, "cherry", 6, -1), 4);
    /* the empty key is a key like any other */
    hashmap_upsert(&m, "", 0, 5, &inserted);
    assert_int_equal(inserted, 1);
    assert_int_equal(get_or(&m, "", 0, -1), 5);
    assert_int_equal(m.count, 4);
    /* get with a NULL out pointer only reports presence */
    assert_int_equal(hashmap_get(&m, "apple", 5, NULL), 1);
    hashmap_free(&m);
    assert_int_equal(m.count, 0);
    assert_int_equal(m.cap, 0);
}

static void test_growth_keeps_everything(void **state)
{
    (void)state;
    struct hashmap m;
    hashmap_init(&m);
    enum { N = 20000 };
    char k[32];
    size_t last_cap = 0;
    int grew = 0;
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "key-%d", i);
        int ins;
        intptr_t *v = hashmap_upsert(&m, k, (size_t)n, 0, &ins);
        assert_int_equal(ins, 1);
        *v = i * 3;
        /* load factor stays at most 3/4, capacity a power of two */
        assert_true(m.count * 4 <= m.cap * 3);
        assert_int_equal(m.cap & (m.cap - 1), 0);
        if (m.cap != last_cap) grew++;
        last_cap = m.cap;
    }
    assert_true(grew >= 10);
    assert_int_equal(m.count, N);
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "key-%d", i);
        assert_int_equal(get_or(&m, k, (size_t)n, -1), i * 3);
    }
    assert_int_equal(hashmap_get(&m, "key-20000", 9, NULL), 0);
    hashmap_free(&m);
}

static void test_remove_half_rest_still_found(void **state)
{
    (void)state;
    struct hashmap m;
    hashmap_init(&m);
    enum { N = 5000 };
    char k[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "w%d", i);
        *hashmap_upsert(&m, k, (size_t)n, 0, NULL) = i;
    }
    size_t cap = m.cap;
    /* remove every other key: many removals land in the middle of runs */
    for (int i = 0; i < N; i += 2) {
        int n = snprintf(k, sizeof k, "w%d", i);
        assert_int_equal(hashmap_remove(&m, k, (size_t)n), 1);
        assert_int_equal(hashmap_remove(&m, k, (size_t)n), 0); /* already gone */
    }
    assert_int_equal(m.count, N / 2);
    assert_int_equal(m.cap, cap); /* removal never reallocates */
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "w%d", i);
        if (i % 2)
            assert_int_equal(get_or(&m, k, (size_t)n, -1), i);
        else
            assert_int_equal(hashmap_get(&m, k, (size_t)n, NULL), 0);
    }
    /* the map keeps working: re-insert the removed half */
    for (int i = 0; i < N; i += 2) {
        int n = snprintf(k, sizeof k, "w%d", i);
        int ins;
        *hashmap_upsert(&m, k, (size_t)n, 0, &ins) = -i;
        assert_int_equal(ins, 1);
    }
    assert_int_equal(m.count, N);
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "w%d", i);
        assert_int_equal(get_or(&m, k, (size_t)n, 12345), i % 2 ? i : -i);
    }
    /* remove everything: nothing is left and nothing is found */
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "w%d", i);
        assert_int_equal(hashmap_remove(&m, k, (size_t)n), 1);
    }
    assert_int_equal(m.count, 0);
    for (size_t i = 0; i < m.cap; i++)
        assert_null(m.slots[i].key);
    hashmap_free(&m);
}

/* Keys chosen so they all start their probe at the same slot of a 16-slot
 * table form one long run; removing from its head, middle and wrap-around
 * must keep the rest reachable. */
static void test_remove_in_collision_run(void **state)
{
    (void)state;
    struct hashmap m;
    hashmap_init(&m);
    hashmap_upsert(&m, "seed", 4, 0, NULL); /* cap becomes 16 */
    assert_int_equal(m.cap, 16);
    hashmap_remove(&m, "seed", 4);

    /* find 8 keys whose home slot is 14 (so the run wraps around 15 -> 0) */
    char keys[8][16];
    int nk = 0;
    for (int i = 0; nk < 8 && i < 100000; i++) {
        int n = snprintf(keys[nk], sizeof keys[nk], "c%d", i);
        if ((hash_bytes(keys[nk], (size_t)n) & 15) == 14) nk++;
    }
    assert_int_equal(nk, 8);
    /* and 2 keys whose home is slot 0, inserted after: they sit behind the
     * wrapped run */
    char home0[2][16];
    int n0 = 0;
    for (int i = 0; n0 < 2 && i < 100000; i++) {
        int n = snprintf(home0[n0], sizeof home0[n0], "z%d", i);
        if ((hash_bytes(home0[n0], (size_t)n) & 15) == 0) n0++;
    }
    assert_int_equal(n0, 2);
    for (int i = 0; i < 8; i++)
        *hashmap_upsert(&m, keys[i], strlen(keys[i]), 0, NULL) = 100 + i;
    for (int i = 0; i < 2; i++)
        *hashmap_upsert(&m, home0[i], strlen(home0[i]), 0, NULL) = 200 + i;
    assert_int_equal(m.cap, 16); /* 10 of 16: no growth, the run is intact */

    int removed[8] = {0};
    int order[] = {3, 0, 7, 5, 1, 6, 2, 4}; /* middle, head, tail, ... */
    for (int r = 0; r < 8; r++) {
        int j = order[r];
        assert_int_equal(hashmap_remove(&m, keys[j], strlen(keys[j])), 1);
        removed[j] = 1;
        for (int i = 0; i < 8; i++) {
            if (removed[i])
                assert_int_equal(hashmap_get(&m, keys[i], strlen(keys[i]), NULL), 0);
            else
                assert_int_equal(get_or(&m, keys[i], strlen(keys[i]), -1), 100 + i);
        }
        for (int i = 0; i < 2; i++)
            assert_int_equal(get_or(&m, home0[i], strlen(home0[i]), -1), 200 + i);
    }
    assert_int_equal(m.count, 2);
    hashmap_free(&m);
}

static void test_binary_keys_with_nul(void **state)
{
    (void)state;
    struct hashmap m;
    hashmap_init(&m);
    const char a[] = {'x', '\0', 'y'};
    const char b[] = {'x', '\0', 'z'};
    const char c[] = {'x', '\0'};
    const char d[] = {'\0'};
    const char e[] = {'\0', '\0'};
    *hashmap_upsert(&m, a, 3, 0, NULL) = 1;
    *hashmap_upsert(&m, b, 3, 0, NULL) = 2;
    *hashmap_upsert(&m, c, 2, 0, NULL) = 3;
    *hashmap_upsert(&m, "x", 1, 0, NULL) = 4;
    *hashmap_upsert(&m, d, 1, 0, NULL) = 5;
    *hashmap_upsert(&m, e, 2, 0, NULL) = 6;
    *hashmap_upsert(&m, "", 0, 0, NULL) = 7;
    assert_int_equal(m.count, 7); /* all distinct despite equal C strings */
    assert_int_equal(get_or(&m, a, 3, -1), 1);
    assert_int_equal(get_or(&m, b, 3, -1), 2);
    assert_int_equal(get_or(&m, c, 2, -1), 3);
    assert_int_equal(get_or(&m, "x", 1, -1), 4);
    assert_int_equal(get_or(&m, d, 1, -1), 5);
    assert_int_equal(get_or(&m, e, 2, -1), 6);
    assert_int_equal(get_or(&m, "", 0, -1), 7);
    assert_int_equal(hashmap_remove(&m, c, 2), 1);
    assert_int_equal(get_or(&m, a, 3, -1), 1);
    assert_int_equal(get_or(&m, "x", 1, -1), 4);
    assert_int_equal(hashmap_get(&m, c, 2, NULL), 0);
    /* stored keys keep their bytes and length */
    int seen = 0;
    for (size_t i = 0; i < m.cap; i++) {
        if (m.slots[i].key && m.slots[i].key_len == 3 && memcmp(m.slots[i].key, b, 3) == 0) {
            seen = 1;
        }
    }
    assert_true(seen);
    /* many binary keys through growth */
    for (int i = 0; i < 3000; i++) {
        unsigned char k[6] = {0, (unsigned char)i, 0, (unsigned char)(i >> 8), 0, 0xff};
        *hashmap_upsert(&m, (const char *)k, sizeof k, 0, NULL) = i;
    }
    for (int i = 0; i < 3000; i++) {
        unsigned char k[6] = {0, (unsigned char)i, 0, (unsigned char)(i >> 8), 0, 0xff};
        assert_int_equal(get_or(&m, (const char *)k, sizeof k, -1), i);
    }
    assert_int_equal(get_or(&m, b, 3, -1), 2);
    hashmap_free(&m);
}

/* A reserved map takes its keys without regrowing: the same table as
 * growth would give, allocated once, and nothing lost on the way. */
static void test_reserve(void **state)
{
    (void)state;
    struct hashmap m;
    hashmap_init(&m);
    hashmap_reserve(&m, 5214);
    size_t cap = m.cap;
    assert_int_equal(cap, 8192); /* what 5,214 inserts grow to */
    char key[16];
    for (int i = 0; i < 5214; i++) {
        snprintf(key, sizeof key, "k%d", i);
        hashmap_upsert(&m, key, strlen(key), i, NULL);
    }
    assert_int_equal(m.cap, cap);
    for (int i = 0; i < 5214; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(get_or(&m, key, strlen(key), -1), i);
    }
    hashmap_reserve(&m, 10); /* never shrinks */
    assert_int_equal(m.cap, cap);
    hashmap_reserve(&m, 7000); /* grows, keeping the keys */
    assert_int_equal(m.cap, 16384);
    assert_int_equal(get_or(&m, "k5213", 5, -1), 5213);
    hashmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_fnv1a_vectors),
        cmocka_unit_test(test_empty_map),
        cmocka_unit_test(test_upsert_get_update),
        cmocka_unit_test(test_growth_keeps_everything),
        cmocka_unit_test(test_remove_half_rest_still_found),
        cmocka_unit_test(test_remove_in_collision_run),
        cmocka_unit_test(test_binary_keys_with_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
