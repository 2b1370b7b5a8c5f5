/* The writer priority controller (serve/writer_priority.c): a writer that
 * keeps up runs at SCHED_IDLE, one that falls behind (or that someone waits
 * for) back at SCHED_OTHER, and stopping leaves it at normal priority.
 * Skipped where the process may not switch back (no CAP_SYS_NICE and an
 * RLIMIT_NICE under 20): then the controller must not start at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/timeutil.h"
#include "serve/writer_priority.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

struct writer {
    pthread_t thread;
    _Atomic int need; /* what the controller reads */
    _Atomic int stop;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    while (!atomic_load(&w->stop))
        time_sleep_ms(1);
    return NULL;
}

static int need(void *arg)
{
    return atomic_load(&((struct writer *)arg)->need);
}

static int policy_of(pthread_t t)
{
    int policy;
    struct sched_param sp;
    assert_int_equal(pthread_getschedparam(t, &policy, &sp), 0);
    return policy;
}

/* Waits up to 2 s for the writer's policy to become `want`. */
static int becomes(struct writer *w, int want)
{
    for (int i = 0; i < 200 && policy_of(w->thread) != want; i++)
        time_sleep_ms(10);
    return policy_of(w->thread) == want;
}

static void test_idle_while_keeping_up_normal_when_behind(void **state)
{
    (void)state;
    struct writer w;
    atomic_init(&w.need, 0);
    atomic_init(&w.stop, 0);
    assert_int_equal(pthread_create(&w.thread, NULL, writer_main, &w), 0);
    struct writer_priority *c = writer_priority_start(w.thread, need, &w);
    if (!c) {
        atomic_store(&w.stop, 1);
        pthread_join(w.thread, NULL);
        assert_int_equal(policy_of(pthread_self()), SCHED_OTHER); /* nothing changed */
        skip();
    }
    assert_true(becomes(&w, SCHED_IDLE)); /* keeping up */
    assert_true(writer_priority_is_idle(c));
    atomic_store(&w.need, 1); /* behind: back to normal */
    assert_true(becomes(&w, SCHED_OTHER));
    assert_false(writer_priority_is_idle(c));
    atomic_store(&w.need, -1); /* in between: stays as it is */
    time_sleep_ms(50);
    assert_int_equal(policy_of(w.thread), SCHED_OTHER);
    atomic_store(&w.need, 0);
    assert_true(becomes(&w, SCHED_IDLE));
    writer_priority_stop(c); /* leaves it at normal priority */
    assert_int_equal(policy_of(w.thread), SCHED_OTHER);
    atomic_store(&w.stop, 1);
    pthread_join(w.thread, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_while_keeping_up_normal_when_behind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
