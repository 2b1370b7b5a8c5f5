/* The bump allocator: alignment, blocks, big allocations, reset and free.
 * Run under ASan to check that every handed-out byte is really usable and
 * nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/arena.h"

#include <stdlib.h>
#include <string.h>

static size_t count_blocks(const struct arena *a)
{
    /* struct arena_block is private: count via a walk through `next`, which
     * is its first member */
    size_t n = 0;
    for (const void *b = a->head; b; b = *(void *const *)b)
        n++;
    return n;
}

static void test_init_defaults(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 0);
    assert_int_equal(a.block_size, 64 * 1024);
    assert_null(a.head);
    assert_int_equal(a.total, 0);
    arena_free(&a); /* freeing an unused arena is fine */
    arena_init(&a, 1000);
    assert_int_equal(a.block_size, 1000);
    arena_free(&a);
}

static void test_alignment_16(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 256);
    for (size_t n = 0; n < 600; n++) {
        size_t sz = n % 37; /* 0..36 bytes, crossing many block boundaries */
        unsigned char *p = arena_alloc(&a, sz);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0x5a, sz); /* ASan: the whole size is addressable */
    }
    arena_free(&a);
}

static void test_allocations_do_not_overlap(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 512);
    enum { N = 200 };
    unsigned char *ptrs[N];
    size_t sizes[N];
    for (int i = 0; i < N; i++) {
        sizes[i] = 1 + (size_t)(i * 7) % 100;
        ptrs[i] = arena_alloc(&a, sizes[i]);
        memset(ptrs[i], i & 0xff, sizes[i]);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < sizes[i]; k++)
            assert_int_equal(ptrs[i][k], i & 0xff);
    /* total counts the rounded-up sizes */
    size_t want = 0;
    for (int i = 0; i < N; i++)
        want += (sizes[i] + 15) & ~(size_t)15;
    assert_int_equal(a.total, want);
    arena_free(&a);
    assert_null(a.head);
    assert_int_equal(a.total, 0);
}

static void test_big_allocation_over_block_size(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 1024);
    char *small = arena_alloc(&a, 100);
    memset(small, 's', 100);
    size_t big_n = 1024 * 10 + 3;
    unsigned char *big = arena_alloc(&a, big_n);
    assert_non_null(big);
    assert_int_equal((uintptr_t)big % 16, 0);
    memset(big, 0xbb, big_n); /* ASan: the whole big allocation is addressable */
    assert_int_equal(big[big_n - 1], 0xbb);
    /* exactly the block size also fits */
    unsigned char *exact = arena_alloc(&a, 1024);
    memset(exact, 0xee, 1024);
    /* earlier data untouched */
    for (int i = 0; i < 100; i++)
        assert_int_equal(small[i], 's');
    for (size_t i = 0; i < big_n; i += 101)
        assert_int_equal(big[i], 0xbb);
    char *after = arena_alloc(&a, 16);
    memset(after, 1, 16);
    assert_true(count_blocks(&a) >= 3);
    arena_free(&a);
}

static void test_calloc_and_strdup(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 128);
    /* dirty the block, reset, then calloc must hand out zeros */
    memset(arena_alloc(&a, 96), 0xff, 96);
    arena_reset(&a);
    unsigned char *z = arena_calloc(&a, 96);
    for (int i = 0; i < 96; i++)
        assert_int_equal(z[i], 0);

    char *s = arena_strdup(&a, "hello arena");
    assert_string_equal(s, "hello arena");
    assert_int_equal((uintptr_t)s % 16, 0);
    char *e = arena_strdup(&a, "");
    assert_string_equal(e, "");
    char *n = arena_strndup(&a, "abcdef", 3);
    assert_string_equal(n, "abc");
    /* a string longer than the block */
    char long_s[1000];
    memset(long_s, 'L', sizeof long_s - 1);
    long_s[sizeof long_s - 1] = '\0';
    char *l = arena_strdup(&a, long_s);
    assert_string_equal(l, long_s);
    assert_ptr_not_equal(l, long_s);
    /* earlier strings still intact */
    assert_string_equal(s, "hello arena");
    assert_string_equal(n, "abc");
    arena_free(&a);
}

static void test_reset_keeps_one_block(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 256);
    void *first = arena_alloc(&a, 16);
    const void *first_block = a.head;
    for (int i = 0; i < 100; i++)
        memset(arena_alloc(&a, 100), i, 100);
    memset(arena_alloc(&a, 5000), 0, 5000);
    assert_true(count_blocks(&a) > 10);
    assert_true(a.total > 0);

    arena_reset(&a);
    assert_int_equal(count_blocks(&a), 1);
    assert_ptr_equal(a.head, first_block); /* the oldest, usual-size block */
    assert_int_equal(a.total, 0);
    /* its memory is reused from the start */
    void *again = arena_alloc(&a, 16);
    assert_ptr_equal(again, first);
    assert_int_equal(count_blocks(&a), 1);
    memset(arena_alloc(&a, 200), 0, 200); /* fills the kept block */
    assert_int_equal(count_blocks(&a), 1);
    assert_int_equal(a.total, 16 + 208);

    /* reset of an empty arena and repeated resets are harmless */
    arena_reset(&a);
    arena_reset(&a);
    assert_int_equal(count_blocks(&a), 1);
    arena_free(&a);
    arena_reset(&a);
    assert_null(a.head);
    arena_free(&a); /* double free of the struct is a no-op */
}

static void test_many_cycles_no_growth(void **state)
{
    (void)state;
    /* a request arena reused many times: ASan's leak check at exit catches
     * any block reset forgets to free */
    struct arena a;
    arena_init(&a, 4096);
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 50; i++)
            arena_strdup(&a, "some token of text");
        arena_alloc(&a, 10000);
        arena_reset(&a);
        assert_int_equal(count_blocks(&a), 1);
    }
    arena_free(&a);
}

static void test_rewind_merges_then_stays(void **state)
{
    (void)state;
    /* a request thread's arena: a use over one block merges its blocks into
     * one at the rewind; the next uses of that size fit without a block */
    struct arena a;
    arena_init(&a, 4096);
    for (int i = 0; i < 10; i++)
        arena_alloc(&a, 1000);
    assert_true(count_blocks(&a) > 1);
    assert_int_equal(arena_rewind(&a, 1 << 20), 1);
    assert_int_equal(count_blocks(&a), 1);
    for (int round = 0; round < 100; round++) {
        const void *head = a.head;
        for (int i = 0; i < 10; i++)
            memset(arena_alloc(&a, 1000), 0x5a, 1000);
        assert_ptr_equal(a.head, head);
        assert_int_equal(arena_rewind(&a, 1 << 20), 0);
    }
    /* past keep_max it behaves as arena_reset */
    for (int i = 0; i < 10; i++)
        arena_alloc(&a, 4000);
    assert_int_equal(arena_rewind(&a, 8192), 0);
    assert_int_equal(count_blocks(&a), 1);
    arena_free(&a);
}

static void test_owns(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 256);
    assert_false(arena_owns(&a, &a));
    char *p = arena_alloc(&a, 16), *big = arena_alloc(&a, 1000);
    assert_true(arena_owns(&a, p));
    assert_true(arena_owns(&a, big + 999));
    int on_stack;
    assert_false(arena_owns(&a, &on_stack));
    char *heap = malloc(16);
    assert_false(arena_owns(&a, heap));
    free(heap);
    arena_free(&a);
    assert_false(arena_owns(&a, p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_defaults),
        cmocka_unit_test(test_alignment_16),
        cmocka_unit_test(test_allocations_do_not_overlap),
        cmocka_unit_test(test_big_allocation_over_block_size),
        cmocka_unit_test(test_calloc_and_strdup),
        cmocka_unit_test(test_reset_keeps_one_block),
        cmocka_unit_test(test_many_cycles_no_growth),
        cmocka_unit_test(test_rewind_merges_then_stays),
        cmocka_unit_test(test_owns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
