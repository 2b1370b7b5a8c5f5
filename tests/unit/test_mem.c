/* Allocation helpers, growable buffers and the little-endian binary
 * writer/reader used by the artifact format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/mem.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- x* allocators ---------------------------------------------------- */

static void test_xalloc(void **state)
{
    (void)state;
    unsigned char *p = xmalloc(0); /* never NULL, even for 0 bytes */
    assert_non_null(p);
    free(p);
    p = xmalloc(100);
    memset(p, 0xab, 100);
    p = xrealloc(p, 10000);
    for (int i = 0; i < 100; i++)
        assert_int_equal(p[i], 0xab);
    free(p);

    unsigned *z = xcalloc(1000, sizeof *z);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(z[i], 0);
    free(z);
    assert_non_null(z = xcalloc(0, 0));
    free(z);
}

static void test_xstrdup_xstrndup(void **state)
{
    (void)state;
    const char *s = "hello, world";
    char *d = xstrdup(s);
    assert_ptr_not_equal(d, s);
    assert_string_equal(d, s);
    free(d);
    d = xstrdup("");
    assert_string_equal(d, "");
    free(d);
    d = xstrndup(s, 5);
    assert_string_equal(d, "hello");
    free(d);
    /* xstrndup copies exactly n bytes, NUL bytes included */
    d = xstrndup("a\0b", 3);
    assert_memory_equal(d, "a\0b\0", 4);
    free(d);
}

static void test_xasprintf(void **state)
{
    (void)state;
    char *s = xasprintf("%s=%d (%.2f)", "x", -42, 3.14159);
    assert_string_equal(s, "x=-42 (3.14)");
    free(s);
    s = xasprintf("%s", "");
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    char big[5000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = xasprintf("<%s>", big);
    assert_int_equal(strlen(s), 5001);
    assert_int_equal(s[0], '<');
    assert_int_equal(s[5000], '>');
    assert_int_equal(s[2500], 'q');
    free(s);
}

/* ---- struct buf --------------------------------------------------------- */

static void test_buf_append_and_terminate(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    buf_append_str(&b, "abc");
    buf_append_char(&b, '-');
    buf_append(&b, "xyz123", 3);
    assert_int_equal(b.len, 7);
    assert_string_equal(b.data, "abc-xyz");
    assert_true(b.cap > b.len);
    /* appending nothing still leaves a terminated (possibly new) buffer */
    struct buf e;
    buf_init(&e);
    buf_append(&e, NULL, 0);
    assert_non_null(e.data);
    assert_string_equal(e.data, "");
    buf_free(&e);
    /* binary data with NULs: len counts them, a NUL follows the end */
    buf_append(&b, "\0\1\2", 3);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data + 7, "\0\1\2\0", 4);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void test_buf_grows_over_many_appends(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 100000; i++)
        buf_append_char(&b, (char)('a' + i % 26));
    assert_int_equal(b.len, 100000);
    assert_true(b.cap >= b.len + 1);
    assert_int_equal(b.data[b.len], '\0');
    for (int i = 0; i < 100000; i += 997)
        assert_int_equal(b.data[i], 'a' + i % 26);
    buf_free(&b);
}

static void test_buf_printf(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%d", 1);
    buf_printf(&b, "+%s", "two");
    buf_printf(&b, "%s", ""); /* empty output changes nothing */
    buf_printf(&b, "=%05.1f", 3.0);
    assert_string_equal(b.data, "1+two=003.0");
    assert_int_equal(b.len, strlen("1+two=003.0"));
    /* output longer than the current capacity */
    size_t before = b.len;
    buf_printf(&b, "%0300d", 7);
    assert_int_equal(b.len, before + 300);
    assert_int_equal(b.data[b.len - 1], '7');
    assert_int_equal(b.data[before], '0');
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);
}

static void test_buf_reserve(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_reserve(&b, 1000);
    assert_true(b.cap >= 1001);
    assert_int_equal(b.len, 0);
    char *data = b.data;
    size_t cap = b.cap;
    /* appends within the reservation do not move the buffer */
    for (int i = 0; i < 1000; i++)
        buf_append_char(&b, 'x');
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.data[1000], '\0');
    /* reserving what is already there is a no-op */
    buf_reserve(&b, 0);
    assert_ptr_equal(b.data, data);
    buf_reserve(&b, 5000);
    assert_true(b.cap >= b.len + 5001);
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.data[999], 'x');
    buf_free(&b);
}

static void test_buf_reset_and_detach(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_append_str(&b, "some text");
    char *data = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, data); /* keeps its memory */
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "");
    buf_append_str(&b, "new");
    assert_string_equal(b.data, "new");

    char *s = buf_detach(&b);
    assert_ptr_equal(s, data);
    assert_string_equal(s, "new");
    assert_null(b.data); /* b is reset and reusable */
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    free(s);

    /* detaching an empty buffer gives an owned empty string */
    s = buf_detach(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    buf_reset(&b); /* reset of an unallocated buffer is safe */
    assert_null(b.data);
    buf_free(&b);
}

static void test_str_helpers(void **state)
{
    (void)state;
    assert_true(str_eq("a", "a"));
    assert_false(str_eq("a", "ab"));
    assert_false(str_eq(NULL, "a"));
    assert_false(str_eq("a", NULL));
    assert_false(str_eq(NULL, NULL));
    assert_true(str_starts_with("prefix.rest", "prefix"));
    assert_true(str_starts_with("x", ""));
    assert_false(str_starts_with("pre", "prefix"));
    assert_true(str_ends_with("model.bin", ".bin"));
    assert_true(str_ends_with("x", ""));
    assert_false(str_ends_with("bin", "model.bin"));
    assert_false(str_ends_with("model.bin", ".txt"));
}

/* ---- binary writers and the reader ------------------------------------ */

static void test_put_little_endian_layout(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_put_u32(&b, 0x01020304u);
    buf_put_u64(&b, 0x1122334455667788ull);
    buf_put_str(&b, "hi");
    buf_put_f64(&b, 1.0); /* IEEE 754: 0x3ff0000000000000 */
    const unsigned char want[] = {0x04, 0x03, 0x02, 0x01, 0x88, 0x77, 0x66, 0x55, 0x44,
                                  0x33, 0x22, 0x11, 2,    0,    0,    0,    'h',  'i',
                                  0,    0,    0,    0,    0,    0,    0xf0, 0x3f};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    buf_free(&b);
}

static void test_put_read_round_trip(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    const double doubles[] = {0.0, -0.0, 1.5, -3.25e-300, DBL_MAX, DBL_MIN, INFINITY, -INFINITY};
    buf_put_u32(&b, 0);
    buf_put_u32(&b, 0xffffffffu);
    buf_put_u64(&b, 0);
    buf_put_u64(&b, 0xffffffffffffffffull);
    buf_put_u64(&b, 0x8000000000000001ull);
    for (size_t i = 0; i < sizeof doubles / sizeof *doubles; i++)
        buf_put_f64(&b, doubles[i]);
    buf_put_f64(&b, NAN);
    buf_put_str(&b, "");
    buf_put_str(&b, "label \xc3\xa9t\xc3\xa9");
    buf_append(&b, "RAW!", 4);

    struct reader r;
    reader_init(&r, b.data, b.len);
    assert_int_equal(reader_u32(&r), 0);
    assert_int_equal(reader_u32(&r), 0xffffffffu);
    assert_true(reader_u64(&r) == 0);
    assert_true(reader_u64(&r) == 0xffffffffffffffffull);
    assert_true(reader_u64(&r) == 0x8000000000000001ull);
    for (size_t i = 0; i < sizeof doubles / sizeof *doubles; i++) {
        double v = reader_f64(&r);
        assert_memory_equal(&v, &doubles[i], sizeof v); /* bit-exact, -0.0 included */
    }
    assert_true(isnan(reader_f64(&r)));
    char *s = reader_str(&r, 100);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    s = reader_str(&r, 100);
    assert_string_equal(s, "label \xc3\xa9t\xc3\xa9");
    free(s);
    const char *raw = reader_bytes(&r, 4);
    assert_non_null(raw);
    assert_memory_equal(raw, "RAW!", 4);
    assert_int_equal(r.left, 0);
    assert_int_equal(r.failed, 0);
    /* reading 0 bytes at the very end is fine */
    assert_non_null(reader_bytes(&r, 0));
    assert_int_equal(r.failed, 0);
    buf_free(&b);
}

static void test_reader_overrun_sets_failed(void **state)
{
    (void)state;
    const unsigned char data[] = {1, 0, 0, 0, 9, 9, 9};
    struct reader r;
    reader_init(&r, data, sizeof data);
    assert_int_equal(reader_u32(&r), 1);
    assert_int_equal(r.left, 3);
    /* 3 bytes left, a u32 needs 4: returns 0, sets failed, consumes nothing */
    assert_int_equal(reader_u32(&r), 0);
    assert_int_equal(r.failed, 1);
    assert_int_equal(r.left, 3);
    /* once failed, every read fails, even one that would fit */
    assert_null(reader_bytes(&r, 1));
    assert_true(reader_u64(&r) == 0);
    assert_true(reader_f64(&r) == 0.0);
    assert_null(reader_str(&r, 100));
    assert_int_equal(r.failed, 1);

    reader_init(&r, data, 7);
    assert_true(reader_u64(&r) == 0);
    assert_int_equal(r.failed, 1);

    reader_init(&r, NULL, 0);
    assert_int_equal(reader_u32(&r), 0);
    assert_int_equal(r.failed, 1);
}

static void test_reader_str_limits(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_put_str(&b, "0123456789");
    struct reader r;

    reader_init(&r, b.data, b.len); /* exactly max_len is accepted */
    char *s = reader_str(&r, 10);
    assert_non_null(s);
    assert_string_equal(s, "0123456789");
    assert_int_equal(r.failed, 0);
    free(s);

    reader_init(&r, b.data, b.len); /* one over max_len is refused */
    assert_null(reader_str(&r, 9));
    assert_int_equal(r.failed, 1);

    reader_init(&r, b.data, b.len - 1); /* length says 10, only 9 bytes follow */
    assert_null(reader_str(&r, 100));
    assert_int_equal(r.failed, 1);

    reader_init(&r, b.data, 2); /* not even the length */
    assert_null(reader_str(&r, 100));
    assert_int_equal(r.failed, 1);

    /* a hostile length (4 GiB) is refused by max_len before any allocation */
    const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 'a'};
    reader_init(&r, huge, sizeof huge);
    assert_null(reader_str(&r, 1 << 20));
    assert_int_equal(r.failed, 1);

    /* an embedded NUL is kept in the copy (the length is authoritative) */
    buf_reset(&b);
    buf_put_u32(&b, 3);
    buf_append(&b, "a\0b", 3);
    reader_init(&r, b.data, b.len);
    s = reader_str(&r, 10);
    assert_non_null(s);
    assert_memory_equal(s, "a\0b\0", 4);
    free(s);
    buf_free(&b);
}

/* The first-touch hint keeps what the array holds, whatever its size. */
static void test_hint_big_keeps_contents(void **state)
{
    (void)state;
    size_t sizes[] = {100, 64 << 10, 1 << 20, 9 << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        unsigned char *p = xmalloc(n);
        for (size_t i = 0; i < n; i += 4093)
            p[i] = (unsigned char)(i * 7 + 1);
        mem_hint_big(p, n);
        for (size_t i = 0; i < n; i += 4093)
            assert_int_equal(p[i], (unsigned char)(i * 7 + 1));
        free(p);
    }
    size_t dense[] = {1, 3000, 1 << 20, 9 << 20}; /* xcalloc_dense: zeroed at any size */
    for (size_t k = 0; k < sizeof dense / sizeof *dense; k++) {
        double *d = xcalloc_dense(dense[k], sizeof *d);
        for (size_t i = 0; i < dense[k]; i += 509)
            assert_true(d[i] == 0.0);
        assert_true(d[dense[k] - 1] == 0.0);
        free(d);
    }
    unsigned char *z = xcalloc(1 << 20, 1); /* fresh zero pages stay zero */
    mem_hint_big(z, 1 << 20);
    for (size_t i = 0; i < (1 << 20); i += 512)
        assert_int_equal(z[i], 0);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xalloc),
        cmocka_unit_test(test_hint_big_keeps_contents),
        cmocka_unit_test(test_xstrdup_xstrndup),
        cmocka_unit_test(test_xasprintf),
        cmocka_unit_test(test_buf_append_and_terminate),
        cmocka_unit_test(test_buf_grows_over_many_appends),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_buf_reserve),
        cmocka_unit_test(test_buf_reset_and_detach),
        cmocka_unit_test(test_str_helpers),
        cmocka_unit_test(test_put_little_endian_layout),
        cmocka_unit_test(test_put_read_round_trip),
        cmocka_unit_test(test_reader_overrun_sets_failed),
        cmocka_unit_test(test_reader_str_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
