/* Unit tests for serve/ratelimit: the rate and burst a bucket allows, the
 * wait it announces, buckets by address kept apart, and a full table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "serve/ratelimit.h"

#include <string.h>

#define SEC 1000000000LL

static void test_burst_then_rate(void **state)
{
    (void)state;
    struct rate_rule rule;
    rate_rule_init(&rule, 10, 3); /* 10/s, 3 at once */
    _Atomic int64_t bucket = 0;
    int64_t now = 5 * SEC;
    for (int i = 0; i < 3; i++)
        assert_int_equal(rate_take(&bucket, &rule, now), 0);
    int64_t wait = rate_take(&bucket, &rule, now);
    assert_int_equal(wait, SEC / 10); /* the next one in 100 ms */
    assert_int_equal(rate_take(&bucket, &rule, now + SEC / 10 - 1), 1);
    assert_int_equal(rate_take(&bucket, &rule, now + SEC / 10), 0);
    assert_true(rate_take(&bucket, &rule, now + SEC / 10) > 0);
    /* over 10 s of steady requests, 10/s pass */
    int passed = 0;
    for (int64_t t = now + SEC; t < now + 11 * SEC; t += SEC / 1000)
        passed += rate_take(&bucket, &rule, t) == 0;
    assert_in_range(passed, 100, 103);
    /* idle long enough, the whole burst is back, no more */
    now += 100 * SEC;
    for (int i = 0; i < 3; i++)
        assert_int_equal(rate_take(&bucket, &rule, now), 0);
    assert_true(rate_take(&bucket, &rule, now) > 0);
}

static void test_unlimited_and_slow_rates(void **state)
{
    (void)state;
    struct rate_rule rule;
    rate_rule_init(&rule, 0, 1);
    _Atomic int64_t bucket = 0;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(rate_take(&bucket, &rule, SEC), 0);
    rate_rule_init(&rule, 0.5, 1); /* one every 2 s */
    assert_int_equal(rate_take(&bucket, &rule, SEC), 0);
    assert_int_equal(rate_take(&bucket, &rule, SEC), 2 * SEC);
    assert_int_equal(rate_take(&bucket, &rule, 2 * SEC), SEC);
}

static void addr_of(unsigned char out[16], unsigned n)
{
    memset(out, 0, 16);
    memcpy(out + 12, &n, sizeof n);
}

static void test_table_keeps_addresses_apart(void **state)
{
    (void)state;
    struct rate_table *t = rate_table_new();
    struct rate_rule rule;
    rate_rule_init(&rule, 1, 2);
    unsigned char a[16], b[16];
    addr_of(a, 1);
    addr_of(b, 2);
    assert_int_equal(rate_table_take(t, a, &rule, SEC), 0);
    assert_int_equal(rate_table_take(t, a, &rule, SEC), 0);
    assert_int_equal(rate_table_take(t, a, &rule, SEC), SEC);
    assert_int_equal(rate_table_take(t, b, &rule, SEC), 0); /* b has its own bucket */
    assert_int_equal(rate_table_take(t, a, &rule, 2 * SEC), 0);
    /* many more addresses than the table holds: it never fails; an address
     * pushed out starts again with a full burst and is limited as before */
    for (unsigned n = 10; n < 10 + 4 * RATE_TABLE_SLOTS; n++) {
        unsigned char x[16];
        addr_of(x, n);
        assert_int_equal(rate_table_take(t, x, &rule, 3 * SEC), 0);
    }
    assert_int_equal(rate_table_take(t, a, &rule, 3 * SEC), 0);
    assert_int_equal(rate_table_take(t, a, &rule, 3 * SEC), 0);
    assert_true(rate_table_take(t, a, &rule, 3 * SEC) > 0);
    rate_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_unlimited_and_slow_rates),
        cmocka_unit_test(test_table_keeps_addresses_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
