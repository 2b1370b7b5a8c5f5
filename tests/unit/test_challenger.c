/* The challenger beside the champion (serve/challenger.c): what a request
 * sees of the rollout, the canary's split (about `percent` of the keys,
 * each key always on the same side, reshuffled by another rollout; random
 * without a key), and the shadow job that scores after the reply and logs
 * tagged answers through the prediction log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/ids.h"
#include "base/log.h"
#include "serve/challenger.h"
#include "serve/predlog.h"
#include "serve/server.h"
#include "store_test_backend.h"

#include <stdio.h>
#include <string.h>

/* a tiny sentiment model: enough to score, not to be right */
static const char *texts[] = {
    "smooth boarding and a friendly pilot",
    "friendly staff smooth landing",
    "nice seats nice food",
    "friendly smile at the gate",
    "smooth quick and nice",
    "rude agent and a broken seat",
    "broken screen rude staff",
    "cancelled again and rude",
    "broken promises cancelled flight",
    "rude rude cancelled",
};
static const int labels[] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
static const char *names[] = {"negative", "positive"};

static struct trained_model *train(void)
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

/* A served_model that is never scored: challenger_answers only needs one. */
static struct served_model dummy;

static struct challenger_view canary(int percent, int64_t id)
{
    return (struct challenger_view){CHALLENGER_CANARY, percent, id, &dummy};
}

static int share_of_keys(const struct challenger_view *v, int n)
{
    int in = 0;
    for (int k = 0; k < n; k++) {
        char key[32];
        int len = snprintf(key, sizeof key, "user-%d", k);
        in += challenger_answers(v, key, (size_t)len);
    }
    return in;
}

static void test_canary_split(void **state)
{
    (void)state;
    struct challenger_view v = canary(30, 7);
    int in = share_of_keys(&v, 10000);
    assert_true(in > 2800 && in < 3200); /* 30% +- 4 sd */
    /* sticky: the same key, the same answer, every time */
    for (int k = 0; k < 500; k++) {
        char key[32];
        int len = snprintf(key, sizeof key, "user-%d", k);
        int first = challenger_answers(&v, key, (size_t)len);
        for (int again = 0; again < 3; again++)
            assert_int_equal(challenger_answers(&v, key, (size_t)len), first);
    }
    /* another rollout draws its own keys: not the same 30% */
    struct challenger_view w = canary(30, 8);
    int both = 0;
    for (int k = 0; k < 10000; k++) {
        char key[32];
        int len = snprintf(key, sizeof key, "user-%d", k);
        both +=
            challenger_answers(&v, key, (size_t)len) && challenger_answers(&w, key, (size_t)len);
    }
    assert_true(both > 700 && both < 1100); /* independent: about 9% */
    /* a larger percent keeps the keys a smaller one had (same rollout) */
    struct challenger_view more = canary(60, 7);
    for (int k = 0; k < 2000; k++) {
        char key[32];
        int len = snprintf(key, sizeof key, "user-%d", k);
        if (challenger_answers(&v, key, (size_t)len))
            assert_true(challenger_answers(&more, key, (size_t)len));
    }
    /* without a key: random, about the share */
    int random_in = 0;
    for (int i = 0; i < 10000; i++)
        random_in += challenger_answers(&v, NULL, 0);
    assert_true(random_in > 2800 && random_in < 3200);
}

static void test_never_without_a_canary(void **state)
{
    (void)state;
    struct challenger_view v = canary(99, 1);
    v.model = NULL; /* not loaded (yet, or it failed): the champion answers */
    assert_int_equal(share_of_keys(&v, 1000), 0);
    v = canary(99, 1);
    v.mode = CHALLENGER_SHADOW;
    assert_int_equal(share_of_keys(&v, 1000), 0);
    v.mode = CHALLENGER_OFF;
    assert_int_equal(share_of_keys(&v, 1000), 0);
}

static void test_view_and_publish(void **state)
{
    (void)state;
    struct served_challenger c;
    challenger_init(&c);
    struct challenger_view v;
    challenger_view_take(&c, &v);
    assert_int_equal(v.mode, CHALLENGER_OFF);
    assert_null(v.model);
    model_slot_install(&c.slot, train(), 4, NULL);
    challenger_publish(&c, CHALLENGER_CANARY, 25, ((int64_t)1 << 40) + 3);
    challenger_view_take(&c, &v);
    assert_int_equal(v.mode, CHALLENGER_CANARY);
    assert_int_equal(v.percent, 25);
    assert_int_equal(v.rollout_id, ((int64_t)1 << 40) + 3);
    assert_non_null(v.model);
    assert_int_equal(v.model->version, 4);
    /* clearing: new requests see nothing; the view taken before still holds its model */
    challenger_clear(&c);
    struct challenger_view after;
    challenger_view_take(&c, &after);
    assert_int_equal(after.mode, CHALLENGER_OFF);
    assert_null(after.model);
    assert_int_equal(v.model->version, 4);
    challenger_view_release(&v);
    assert_null(v.model);
}

/* The job scores after the reply, logs one tagged row per answered
 * prediction, counts agreement, and frees everything (ASan checks). */
static void test_shadow_job(void **state)
{
    (void)state;
    struct test_db db;
    assert_int_equal(test_db_create(&db), 0);
    struct err e = {0};
    struct predlog *log = predlog_start(db.url, 0, &e);
    assert_non_null(log);
    struct task_config cfg = {.name = "tickets"};
    struct served_task t = {.cfg = &cfg};
    challenger_init(&t.challenger);
    model_slot_install(&t.challenger.slot, train(), 2, NULL);
    challenger_publish(&t.challenger, CHALLENGER_SHADOW, 0, 5);
    struct challenger_view v;
    challenger_view_take(&t.challenger, &v);
    struct shadow_job *j = challenger_shadow_begin(&t, log, &v, 2);
    assert_null(v.model); /* the job holds the reference now */
    const char *a1 = "11111111-1111-4111-8111-111111111111";
    const char *a2 = "22222222-2222-4222-8222-222222222222";
    /* two fields, as a title + body task sends them: the challenger joins them itself */
    const char *good[] = {"smooth", "and friendly"}, *bad[] = {"rude and", "cancelled"};
    const size_t good_lens[] = {6, 12}, bad_lens[] = {8, 9};
    const char *extra[] = {"one too many"};
    const size_t extra_len[] = {12};
    challenger_shadow_add(j, good, good_lens, 2, a1, "positive", "{\"text\":\"g\"}");
    challenger_shadow_add(j, bad, bad_lens, 2, a2, "positive", "{\"text\":\"t\"}");
    challenger_shadow_add(j, extra, extra_len, 1, a2, "x", "{}"); /* begin said 2: ignored */
    challenger_shadow_run(j);
    assert_int_equal(atomic_load(&t.challenger.shadow_scored), 2);
    assert_int_equal(atomic_load(&t.challenger.shadow_agreed), 1);
    predlog_flush(log);
    predlog_stop(log);
    assert_int_equal(test_db_int(&db, "SELECT count(*) FROM predictions WHERE rollout_id = 5"
                                      " AND model_version = 2 AND shadow_of IS NOT NULL"),
                     2);
    assert_int_equal(test_db_int(&db, "SELECT count(*) FROM predictions WHERE shadow_of ="
                                      " '22222222-2222-4222-8222-222222222222' AND label ="
                                      " 'negative' AND input_json = '{\"text\":\"t\"}'"),
                     1);
    /* a job that will not run (the request failed) frees its reference too */
    challenger_view_take(&t.challenger, &v);
    challenger_shadow_free(challenger_shadow_begin(&t, NULL, &v, 1));
    challenger_clear(&t.challenger);
    test_db_drop(&db);
}

int main(void)
{
    ids_init();
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canary_split),
        cmocka_unit_test(test_never_without_a_canary),
        cmocka_unit_test(test_view_and_publish),
        cmocka_unit_test(test_shadow_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
