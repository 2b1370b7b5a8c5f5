/* UUIDv4, SHA-256 (one-shot and incremental) against the FIPS 180-2
 * vectors, and constant-time secret comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/hashmap.h"
#include "base/ids.h"

#include <string.h>

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_uuid_format_and_bits(void **state)
{
    (void)state;
    for (int n = 0; n < 1000; n++) {
        char u[UUID_STR_LEN];
        memset(u, 'X', sizeof u);
        uuid_v4(u);
        assert_int_equal(strlen(u), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(u[i], '-');
            else
                assert_true(is_lower_hex(u[i]));
        }
        assert_int_equal(u[14], '4');           /* version 4 */
        assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant 10xx */
        assert_true(uuid_is_valid(u));
    }
}

static void test_uuid_unique_over_10k(void **state)
{
    (void)state;
    struct hashmap seen;
    hashmap_init(&seen);
    /* also check the random bits are not stuck: every hex digit shows up in
     * every random position */
    unsigned short digits[36] = {0};
    for (int n = 0; n < 10000; n++) {
        char u[UUID_STR_LEN];
        uuid_v4(u);
        int inserted = 0;
        hashmap_upsert(&seen, u, 36, 0, &inserted);
        assert_int_equal(inserted, 1);
        for (int i = 0; i < 36; i++) {
            if (u[i] == '-') continue;
            int d = u[i] <= '9' ? u[i] - '0' : u[i] - 'a' + 10;
            digits[i] |= (unsigned short)(1u << d);
        }
    }
    assert_int_equal(seen.count, 10000);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) continue;
        if (i == 14)
            assert_int_equal(digits[i], 1u << 4);
        else if (i == 19)
            assert_int_equal(digits[i], 0xf00); /* 8, 9, a, b */
        else
            assert_int_equal(digits[i], 0xffff);
    }
    hashmap_free(&seen);
}

/* v7: the millisecond timestamp up front, version 7, the RFC variant, and
 * ids minted later sort after ids minted earlier (different milliseconds). */
static void test_uuid_v7_time_ordered(void **state)
{
    (void)state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN], c[UUID_STR_LEN];
    uuid_v7_at(0x0123456789abLL, a);
    assert_memory_equal(a, "01234567-89ab-7", 15);
    assert_non_null(strchr("89ab", a[19]));
    assert_true(uuid_is_valid(a));
    uuid_v7_at(0x0123456789acLL, b);
    assert_true(strcmp(a, b) < 0);
    uuid_v7(c); /* now: far after 1979 */
    assert_true(strcmp(b, c) < 0);
    assert_int_equal(c[14], '7');
    /* the random part differs within one millisecond */
    uuid_v7_at(1, a);
    uuid_v7_at(1, b);
    assert_memory_equal(a, b, 13);
    assert_true(strcmp(a + 15, b + 15) != 0);
}

static void test_uuid_is_valid(void **state)
{
    (void)state;
    assert_true(uuid_is_valid("123e4567-e89b-42d3-a456-426614174000"));
    assert_true(uuid_is_valid("00000000-0000-0000-0000-000000000000"));
    assert_true(uuid_is_valid("ffffffff-ffff-ffff-ffff-ffffffffffff"));

    assert_false(uuid_is_valid(""));
    assert_false(uuid_is_valid("123e4567-e89b-42d3-a456-42661417400"));   /* 35 */
    assert_false(uuid_is_valid("123e4567-e89b-42d3-a456-4266141740000")); /* 37 */
    assert_false(uuid_is_valid("123e4567e89b42d3a456426614174000"));      /* no dashes */
    assert_false(uuid_is_valid("123e4567-e89b-42d3-a456_426614174000"));  /* wrong sep */
    assert_false(uuid_is_valid("123e4567-e89b42d3--a456-426614174000"));  /* dash moved */
    assert_false(uuid_is_valid("123e4567-e89b-42d3-a456-42661417400g"));  /* not hex */
    assert_false(uuid_is_valid("{23e4567-e89b-42d3-a456-42661417400}"));
    assert_false(uuid_is_valid("123e4567-e89b-42d3-a456-42661417400 "));
    /* ids are generated lowercase and stored verbatim: uppercase is refused */
    assert_false(uuid_is_valid("123E4567-E89B-42D3-A456-426614174000"));
    /* injection attempts never pass as an id */
    assert_false(uuid_is_valid("' OR 1=1 --                         "));
    assert_false(uuid_is_valid("../../../../../../../../etc/passwd00"));
    /* a NUL byte ends the string: a valid prefix plus junk is too short */
    assert_false(uuid_is_valid("123e4567-e89b-42d3-a456-42661417\0000"));
}

static void test_sha256_known_vectors(void **state)
{
    (void)state;
    char h[SHA256_HEX_LEN];
    sha256_hex("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(m, strlen(m), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_int_equal(strlen(h), 64);
    /* binary input: the length counts, not the C string */
    char h2[SHA256_HEX_LEN];
    sha256_hex("abc\0", 4, h2);
    assert_string_not_equal(h, h2);
}

static void test_sha256_incremental_equals_one_shot(void **state)
{
    (void)state;
    unsigned char data[10000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 131 + (i >> 7));
    char one[SHA256_HEX_LEN], inc[SHA256_HEX_LEN];
    sha256_hex(data, sizeof data, one);

    /* chunk sizes that straddle the 64-byte block boundary in every way */
    const size_t chunks[] = {1, 3, 63, 64, 65, 1000, 7};
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        struct sha256_ctx ctx;
        sha256_begin(&ctx);
        size_t off = 0;
        while (off < sizeof data) {
            size_t n = chunks[c] < sizeof data - off ? chunks[c] : sizeof data - off;
            sha256_add(&ctx, data + off, n);
            off += n;
        }
        sha256_end(&ctx, inc);
        assert_string_equal(inc, one);
    }
    /* "abc" fed a byte at a time with empty adds in between */
    struct sha256_ctx ctx;
    sha256_begin(&ctx);
    sha256_add(&ctx, "", 0);
    sha256_add(&ctx, "a", 1);
    sha256_add(&ctx, "b", 1);
    sha256_add(&ctx, "", 0);
    sha256_add(&ctx, "c", 1);
    sha256_end(&ctx, inc);
    assert_string_equal(inc, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* nothing added at all */
    sha256_begin(&ctx);
    sha256_end(&ctx, inc);
    assert_string_equal(inc, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_secret_equal(void **state)
{
    (void)state;
    assert_true(secret_equal("s3cr3t-token", "s3cr3t-token"));
    assert_true(secret_equal("", ""));
    assert_false(secret_equal("s3cr3t-token", "s3cr3t-tokeN"));
    assert_false(secret_equal("X3cr3t-token", "s3cr3t-token"));
    /* a prefix of the secret is not the secret, either way round */
    assert_false(secret_equal("s3cr3t", "s3cr3t-token"));
    assert_false(secret_equal("s3cr3t-token", "s3cr3t"));
    assert_false(secret_equal("s3cr3t-token-and-more", "s3cr3t-token"));
    assert_false(secret_equal("", "s3cr3t-token"));
    assert_false(secret_equal("s3cr3t-token", ""));
    /* differences only in the high bit */
    assert_false(secret_equal("\xe1", "a"));
    assert_false(secret_equal("a\x80", "a\x81"));
}

int main(void)
{
    assert_int_equal(ids_init(), 0);
    assert_int_equal(ids_init(), 0); /* idempotent */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_format_and_bits),
        cmocka_unit_test(test_uuid_unique_over_10k),
        cmocka_unit_test(test_uuid_v7_time_ordered),
        cmocka_unit_test(test_uuid_is_valid),
        cmocka_unit_test(test_sha256_known_vectors),
        cmocka_unit_test(test_sha256_incremental_equals_one_shot),
        cmocka_unit_test(test_secret_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
