/* The served-model slot: install, acquire, swap while readers predict, and
 * clear. Run under ASan (use-after-free of a swapped-out model, leaks) and
 * TSan (races between readers and the swapper). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/timeutil.h"
#include "serve/model_slot.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Two tiny models that answer with disjoint label sets, so a reader can tell
 * from a prediction which model it really used. */
static const char *texts[] = {
    "great flight loved it",       "loved the crew great service", "great great thanks",
    "awesome crew loved the seat", "thanks for a great flight",    "terrible delay hate it",
    "lost my bag terrible",        "hate this airline delay",      "awful service lost bag",
    "delay again terrible awful",
};
static const int labels[] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
static const char *names_a[] = {"a-negative", "a-positive"};
static const char *names_b[] = {"b-negative", "b-positive"};

static struct trained_model *train(const char *const *names)
{
    struct model_config c;
    model_config_defaults(&c);
    c.text.min_df = 1;
    c.C = 10;
    struct err e;
    struct trained_model *m = model_train(&c, TASK_BINARY, texts, labels, 10, names, 2, &e);
    if (!m) fail_msg("model_train: %s", e.msg);
    return m;
}

static struct trained_model *model_a, *model_b;

static int group_setup(void **state)
{
    (void)state;
    model_a = train(names_a);
    model_b = train(names_b);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    model_release(model_a);
    model_release(model_b);
    return 0;
}

/* A new reference to A for odd versions, B for even ones. */
static struct trained_model *model_for(int64_t version)
{
    struct trained_model *m = version % 2 ? model_a : model_b;
    model_retain(m);
    return m;
}

static int predicts_like(const struct served_model *sm, int64_t version)
{
    double p[2];
    const char *t = "loved the great crew";
    size_t k = model_predict(sm->model, t, strlen(t), p);
    const char *want = version % 2 ? "a-positive" : "b-positive";
    return k == 1 && strcmp(model_label(sm->model, k), want) == 0 && p[1] > 0.5;
}

static void test_empty_slot(void **state)
{
    (void)state;
    struct model_slot s;
    model_slot_init(&s);
    assert_null(model_slot_acquire(&s));
    assert_int_equal(model_slot_version(&s), 0);
    served_model_release(NULL); /* releasing "no model" is allowed */
    model_slot_clear(&s);       /* clearing an empty slot too */
    assert_null(model_slot_acquire(&s));
}

static void test_install_acquire_swap(void **state)
{
    (void)state;
    struct model_slot s;
    model_slot_init(&s);
    const char *sha1 = "1111111111111111111111111111111111111111111111111111111111111111";
    assert_int_equal(model_slot_install(&s, model_for(1), 1, sha1), 0); /* nothing replaced */
    assert_int_equal(model_slot_version(&s), 1);

    struct served_model *sm = model_slot_acquire(&s);
    assert_non_null(sm);
    assert_int_equal(sm->version, 1);
    assert_string_equal(sm->sha256, sha1);
    assert_true(predicts_like(sm, 1));
    assert_int_equal(atomic_load(&sm->refs), 2); /* the slot's and ours */
    /* acquiring again gives the same object, one more reference */
    struct served_model *sm2 = model_slot_acquire(&s);
    assert_ptr_equal(sm2, sm);
    assert_int_equal(atomic_load(&sm->refs), 3);
    served_model_release(sm2);
    assert_int_equal(atomic_load(&sm->refs), 2);

    /* the second install returns the version it replaced */
    assert_int_equal(model_slot_install(&s, model_for(2), 2, NULL), 1);
    assert_int_equal(model_slot_version(&s), 2);
    struct served_model *now = model_slot_acquire(&s);
    assert_ptr_not_equal(now, sm);
    assert_int_equal(now->version, 2);
    assert_string_equal(now->sha256, ""); /* NULL sha256 is stored as "" */
    assert_true(predicts_like(now, 2));
    served_model_release(now);

    /* the old one is still fully usable by its holder: only our reference
     * is left, and releasing it frees it (ASan: no leak, no use after free) */
    assert_int_equal(atomic_load(&sm->refs), 1);
    assert_int_equal(sm->version, 1);
    assert_true(predicts_like(sm, 1));
    served_model_release(sm);

    assert_int_equal(model_slot_install(&s, model_for(3), 3, sha1), 2);
    assert_int_equal(model_slot_install(&s, model_for(10), 10, sha1), 3);
    model_slot_clear(&s);
    assert_null(model_slot_acquire(&s));
    assert_int_equal(model_slot_version(&s), 0);
    /* a cleared slot can be installed again */
    assert_int_equal(model_slot_install(&s, model_for(11), 11, sha1), 0);
    assert_int_equal(model_slot_version(&s), 11);
    model_slot_clear(&s);
}

static void test_held_model_survives_clear(void **state)
{
    (void)state;
    struct model_slot s;
    model_slot_init(&s);
    model_slot_install(&s, model_for(5), 5, "abc");
    struct served_model *sm = model_slot_acquire(&s);
    model_slot_clear(&s); /* shutdown while a request is in flight */
    assert_null(model_slot_acquire(&s));
    assert_true(predicts_like(sm, 5));
    assert_string_equal(sm->sha256, "abc");
    assert_int_equal(atomic_load(&sm->refs), 1);
    served_model_release(sm);
}

static void test_long_sha_is_truncated(void **state)
{
    (void)state;
    struct model_slot s;
    model_slot_init(&s);
    char sha[200];
    memset(sha, 'f', sizeof sha - 1);
    sha[sizeof sha - 1] = '\0';
    model_slot_install(&s, model_for(1), 1, sha);
    struct served_model *sm = model_slot_acquire(&s);
    assert_int_equal(strlen(sm->sha256), 64);
    served_model_release(sm);
    model_slot_clear(&s);
}

/* ---- stress: readers predict while the main thread keeps swapping ------ */

struct reader_ctx {
    struct model_slot *slot;
    atomic_int *stop;
    long iterations, nulls_before, zero_after_install, non_monotone, wrong_model;
    int64_t first_seen, last_seen;
};

static void *reader_main(void *arg)
{
    struct reader_ctx *c = arg;
    int64_t last = 0;
    while (!atomic_load(c->stop)) {
        struct served_model *sm = model_slot_acquire(c->slot);
        if (!sm) {
            if (last != 0)
                c->zero_after_install++;
            else
                c->nulls_before++;
            sched_yield();
            continue;
        }
        int64_t v = sm->version;
        if (v <= 0) c->zero_after_install++;
        if (v < last) c->non_monotone++;
        if (!predicts_like(sm, v)) c->wrong_model++; /* the pointer matches its version */
        if (!c->first_seen) c->first_seen = v;
        last = v;
        served_model_release(sm);
        c->iterations++;
    }
    c->last_seen = last;
    return NULL;
}

static void test_stress_swap_under_readers(void **state)
{
    (void)state;
    enum { READERS = 4, MIN_SWAPS = 200 };
    struct model_slot s;
    model_slot_init(&s);
    atomic_int stop;
    atomic_init(&stop, 0);
    struct reader_ctx ctx[READERS];
    pthread_t th[READERS];
    memset(ctx, 0, sizeof ctx);
    for (int i = 0; i < READERS; i++) {
        ctx[i].slot = &s;
        ctx[i].stop = &stop;
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &ctx[i]), 0);
    }
    usleep(2000); /* let readers find the slot empty first */

    int64_t t0 = time_mono_ns();
    int64_t version = 0;
    long mismatched_returns = 0;
    while (version < MIN_SWAPS || time_mono_ns() - t0 < 1000000000LL) {
        version++;
        if (model_slot_install(&s, model_for(version), version, "sha") != version - 1)
            mismatched_returns++;
        /* bursts of back-to-back swaps, then a pause for readers to run */
        if (version % 8 == 0) usleep(500);
        if (time_mono_ns() - t0 > 5000000000LL) break; /* safety net on a slow box */
    }
    atomic_store(&stop, 1);
    long total = 0;
    for (int i = 0; i < READERS; i++) {
        pthread_join(th[i], NULL);
        total += ctx[i].iterations;
    }
    assert_int_equal(model_slot_version(&s), version);
    model_slot_clear(&s);
    assert_null(model_slot_acquire(&s));

    printf("model_slot stress: %lld swaps, %ld reader predictions\n", (long long)version, total);
    assert_true(version >= MIN_SWAPS);
    assert_int_equal(mismatched_returns, 0);
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(ctx[i].zero_after_install, 0);
        assert_int_equal(ctx[i].non_monotone, 0);
        assert_int_equal(ctx[i].wrong_model, 0);
        assert_true(ctx[i].iterations > 0);
        assert_true(ctx[i].last_seen >= ctx[i].first_seen);
    }
    /* the readers saw the swaps happen, not just one version */
    int saw_progress = 0;
    for (int i = 0; i < READERS; i++)
        if (ctx[i].last_seen > ctx[i].first_seen) saw_progress = 1;
    assert_true(saw_progress);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_slot),
        cmocka_unit_test(test_install_acquire_swap),
        cmocka_unit_test(test_held_model_survives_clear),
        cmocka_unit_test(test_long_sha_is_truncated),
        cmocka_unit_test(test_stress_swap_under_readers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
