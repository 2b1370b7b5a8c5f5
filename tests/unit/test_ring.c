/* Unit tests for base/ring: order, full and empty, wrap-around, and many
 * producers against one consumer with nothing lost or duplicated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct item {
    uint32_t producer;
    uint32_t n;
    char pad[20]; /* an item size that is not a multiple of 8 */
};

static void test_order_full_empty(void **state)
{
    (void)state;
    struct ring q;
    ring_init(&q, 3, sizeof(struct item)); /* rounded up to 4 */
    assert_int_equal(ring_capacity(&q), 4);
    struct item it = {0}, out;
    assert_int_equal(ring_pop(&q, &out), 0);
    for (uint32_t lap = 0; lap < 5; lap++) { /* wraps around several times */
        for (uint32_t i = 0; i < 4; i++) {
            it.n = lap * 10 + i;
            assert_int_equal(ring_push(&q, &it), 0);
        }
        it.n = 99;
        assert_int_equal(ring_push(&q, &it), -1); /* full: refused, not blocked */
        for (uint32_t i = 0; i < 4; i++) {
            assert_int_equal(ring_pop(&q, &out), 1);
            assert_int_equal(out.n, lap * 10 + i);
        }
        assert_int_equal(ring_pop(&q, &out), 0);
    }
    ring_free(&q);
}

enum { PRODUCERS = 4, PER_PRODUCER = 50000 };

struct shared {
    struct ring q;
    _Atomic int full; /* pushes refused (retried) */
};

static void *producer(void *arg)
{
    static _Atomic uint32_t next_id;
    struct shared *s = arg;
    struct item it = {.producer = atomic_fetch_add(&next_id, 1)};
    for (uint32_t i = 0; i < PER_PRODUCER; i++) {
        it.n = i;
        while (ring_push(&s->q, &it) != 0)
            atomic_fetch_add(&s->full, 1);
    }
    return NULL;
}

static void test_many_producers(void **state)
{
    (void)state;
    struct shared s = {0};
    ring_init(&s.q, 64, sizeof(struct item));
    pthread_t t[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&t[i], NULL, producer, &s);
    /* each producer's items arrive in its own order, none missing, none twice */
    uint32_t expect[PRODUCERS] = {0};
    size_t got = 0;
    struct item out;
    while (got < (size_t)PRODUCERS * PER_PRODUCER) {
        if (!ring_pop(&s.q, &out)) continue;
        assert_true(out.producer < PRODUCERS);
        assert_int_equal(out.n, expect[out.producer]);
        expect[out.producer]++;
        got++;
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(ring_pop(&s.q, &out), 0);
    ring_free(&s.q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_full_empty),
        cmocka_unit_test(test_many_producers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
