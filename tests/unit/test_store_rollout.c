/* Store tests for shadow and canary rollouts (issue 6): the checks of a
 * start, one active rollout per task, the live numbers of each side (latest
 * feedback wins, a shadow judged through its answered twin), the end that
 * promotes in the same transaction as the deploy, exactly one winner when
 * two processes end it at once, the announcements to watchers, and
 * migration 5 over a version-4 database. Both backends (store_test_backend.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "store/store.h"
#include "store_test_backend.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db {
    struct test_db db;
    struct store *s;
};

static int open_db(void **state)
{
    struct db *d = xcalloc(1, sizeof *d);
    if (test_db_create(&d->db)) return -1;
    struct err e = {0};
    d->s = store_open(d->db.url, &e);
    if (!d->s) fprintf(stderr, "store_open: %s\n", e.msg);
    *state = d;
    return d->s ? 0 : -1;
}

static int close_db(void **state)
{
    struct db *d = *state;
    store_close(d->s);
    test_db_drop(&d->db);
    free(d);
    return 0;
}

static void add_versions(struct store *s, int n)
{
    struct store_model_version v = {"tickets", NULL, "dh", "ch", "linear",
                                    "model",   5,    NULL, NULL, NULL};
    struct err e = {0};
    for (int i = 0; i < n; i++)
        assert_int_equal(store_model_add(s, &v, NULL, &e), 0);
}

static void predict(struct store *s, const char *id, int64_t version, const char *label,
                    int64_t rollout, const char *shadow_of)
{
    struct store_prediction p = {id, "tickets", version, "{\"text\":\"x\"}", label, "{}",
                                 50, 0,         rollout, shadow_of};
    struct err e = {0};
    assert_int_equal(store_predictions_add(s, &p, 1, &e), 0);
}

static void feedback(struct store *s, const char *prediction, int score, const char *label,
                     int64_t created_ms)
{
    char id[UUID_STR_LEN];
    uuid_v4(id);
    struct store_feedback fb = {id, prediction, score, label, NULL, created_ms};
    struct err e = {0};
    assert_int_equal(store_feedback_add(s, &fb, &e), 0);
}

static int64_t start(struct store *s, const char *strategy, int64_t version, int percent,
                     struct err *e)
{
    struct store_rollout_start r = {"tickets", strategy, version, percent, 5, "test", NULL};
    int64_t id = 0;
    if (store_rollout_start(s, &r, &id, e) != 0) return -1;
    return id;
}

static int64_t alias(struct store *s, const char *name)
{
    struct err e = {0};
    int64_t v = 0;
    int found = store_alias_get(s, "tickets", name, &v, &e);
    assert_true(found >= 0);
    return found ? v : 0;
}

static void expect_error(int rc, struct err *e, enum err_code code, const char *field,
                         const char *needle)
{
    assert_int_equal(rc, -1);
    assert_int_equal(e->code, code);
    if (field) assert_string_equal(e->field, field);
    if (!strstr(e->msg, needle)) fail_msg("'%s' not in '%s'", needle, e->msg);
    memset(e, 0, sizeof *e);
}

static void test_start_checks(void **state)
{
    struct db *d = *state;
    struct err e = {0};
    add_versions(d->s, 3);
    expect_error((int)start(d->s, "canary", 2, 30, &e), &e, ERR_INVALID, "strategy",
                 "has no champion to compare a canary with");
    assert_int_equal(store_alias_deploy(d->s, "tickets", 1, NULL, NULL, &e), 0);
    expect_error((int)start(d->s, "shadow", 9, 0, &e), &e, ERR_NOT_FOUND, "version",
                 "task 'tickets' has no model version 9");
    expect_error((int)start(d->s, "shadow", 1, 0, &e), &e, ERR_INVALID, "version",
                 "version 1 is already the champion");
    expect_error((int)start(d->s, "canary", 2, 0, &e), &e, ERR_INVALID, "percent",
                 "from 1 to 99, not 0");
    expect_error((int)start(d->s, "canary", 2, 100, &e), &e, ERR_INVALID, "percent",
                 "from 1 to 99, not 100");
    expect_error((int)start(d->s, "shadow", 2, 10, &e), &e, ERR_INVALID, "percent",
                 "a shadow answers no request");
    expect_error((int)start(d->s, "blue-green", 2, 0, &e), &e, ERR_INVALID, "strategy",
                 "'blue-green' is not shadow or canary");
    struct store_rollout_start bad = {"tickets", "canary", 2, 10, 0, NULL, NULL};
    int64_t id = 0;
    expect_error(store_rollout_start(d->s, &bad, &id, &e), &e, ERR_INVALID, "min_feedback", ">= 1");

    struct store_rollout ro;
    assert_int_equal(store_rollout_active(d->s, "tickets", &ro, &e), 0);
    int64_t r1 = start(d->s, "canary", 2, 30, &e);
    assert_true(r1 > 0);
    assert_int_equal(store_rollout_active(d->s, "tickets", &ro, &e), 1);
    assert_int_equal(ro.id, r1);
    assert_string_equal(ro.task, "tickets");
    assert_string_equal(ro.strategy, "canary");
    assert_int_equal(ro.challenger_version, 2);
    assert_int_equal(ro.champion_version, 1);
    assert_int_equal(ro.percent, 30);
    assert_int_equal(ro.min_feedback, 5);
    assert_string_equal(ro.status, "active");
    assert_true(ro.started_ms > 0 && ro.ended_ms == 0);
    assert_int_equal(store_rollout_active(d->s, "other", &ro, &e), 0);
    /* one at a time per task */
    expect_error((int)start(d->s, "shadow", 3, 0, &e), &e, ERR_CONFLICT, "task",
                 "already has an active canary of version 2 (rollout");

    json_t *list = store_rollouts_list(d->s, "tickets", 0, &e);
    assert_int_equal(json_array_size(list), 1);
    json_t *row = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(row, "status")), "active");
    assert_string_equal(json_string_value(json_object_get(row, "reason")), "test");
    assert_true(json_is_null(json_object_get(row, "ended_at")));
    json_decref(list);
}

static void test_canary_stats_and_promote(void **state)
{
    struct db *d = *state;
    struct err e = {0};
    add_versions(d->s, 2);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 1, NULL, NULL, &e), 0);
    int64_t r = start(d->s, "canary", 2, 30, &e);
    assert_true(r > 0);
    /* the champion's answers under the rollout */
    predict(d->s, "c1", 1, "bug", r, NULL);
    predict(d->s, "c2", 1, "bug", r, NULL);
    predict(d->s, "c3", 1, "bug", r, NULL);
    predict(d->s, "c4", 1, "bug", r, NULL);
    feedback(d->s, "c1", 1, NULL, 1000);
    feedback(d->s, "c2", -1, NULL, 1000);
    feedback(d->s, "c3", -1, NULL, 1000);
    feedback(d->s, "c3", 0, "bug", 2000); /* the latest: a correction that confirms it */
    /* the canary's */
    predict(d->s, "k1", 2, "bug", r, NULL);
    predict(d->s, "k2", 2, "bug", r, NULL);
    predict(d->s, "k3", 2, "feature", r, NULL);
    feedback(d->s, "k1", -1, "feature", 1000);
    feedback(d->s, "k2", 1, NULL, 1000);
    feedback(d->s, "k3", 0, NULL, 1000); /* judges nothing */
    /* outside the rollout: not counted */
    predict(d->s, "o1", 2, "bug", 0, NULL);
    feedback(d->s, "o1", 1, NULL, 1000);

    struct store_rollout ro;
    assert_int_equal(store_rollout_active(d->s, "tickets", &ro, &e), 1);
    struct store_rollout_stats st;
    assert_int_equal(store_rollout_stats(d->s, &ro, &st, &e), 0);
    assert_int_equal(st.champion.predictions, 4);
    assert_int_equal(st.champion.judged, 3);
    assert_int_equal(st.champion.correct, 2);
    assert_int_equal(st.challenger.predictions, 3);
    assert_int_equal(st.challenger.judged, 2);
    assert_int_equal(st.challenger.correct, 1);
    assert_int_equal(st.compared + st.agreed + st.paired, 0);

    json_t *p = store_prediction_get(d->s, "k1", &e);
    assert_int_equal(json_integer_value(json_object_get(p, "rollout_id")), r);
    assert_true(json_is_null(json_object_get(p, "shadow_of")));
    json_decref(p);
    p = store_prediction_get(d->s, "o1", &e);
    assert_true(json_is_null(json_object_get(p, "rollout_id")));
    json_decref(p);

    /* promotion deploys in the same transaction, with the reason */
    assert_int_equal(store_rollout_end(d->s, r, "promoted", "canary not worse",
                                       "{\"champion\":{\"accuracy\":0.66}}", &e),
                     1);
    assert_int_equal(alias(d->s, "champion"), 2);
    assert_int_equal(alias(d->s, "previous"), 1);
    json_t *h = store_alias_history(d->s, "tickets", &e);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "reason")),
                        "canary not worse");
    json_decref(h);
    assert_int_equal(store_rollout_active(d->s, "tickets", &ro, &e), 0);
    /* a second decision finds it ended and changes nothing */
    assert_int_equal(store_rollout_end(d->s, r, "rolled_back", "late", NULL, &e), 0);
    assert_int_equal(alias(d->s, "champion"), 2);
    json_t *list = store_rollouts_list(d->s, NULL, 1, &e);
    json_t *row = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(row, "status")), "promoted");
    assert_string_equal(json_string_value(json_object_get(row, "outcome")), "canary not worse");
    assert_true(json_is_string(json_object_get(row, "ended_at")));
    json_t *acc =
        json_object_get(json_object_get(json_object_get(row, "decision"), "champion"), "accuracy");
    assert_true(json_is_real(acc) && json_real_value(acc) == 0.66);
    json_decref(list);
}

static void test_shadow_stats_and_end(void **state)
{
    struct db *d = *state;
    struct err e = {0};
    add_versions(d->s, 2);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 1, NULL, NULL, &e), 0);
    int64_t r = start(d->s, "shadow", 2, 0, &e);
    assert_true(r > 0);
    /* answered a* by the champion, s* the shadow's answers to the same inputs */
    const char *answered[] = {"a1", "a2", "a3", "a4"};
    const char *shadow[] = {"bug", "feature", "feature", "bug"};
    for (int i = 0; i < 4; i++) {
        char sid[16];
        snprintf(sid, sizeof sid, "s%d", i + 1);
        predict(d->s, answered[i], 1, "bug", r, NULL);
        predict(d->s, sid, 2, shadow[i], r, answered[i]);
    }
    predict(d->s, "s5", 2, "bug", r, "a5");    /* its twin not written yet */
    feedback(d->s, "a1", 1, NULL, 1000);       /* truth bug: both right, agree */
    feedback(d->s, "a2", -1, "feature", 1000); /* truth feature: shadow alone right */
    feedback(d->s, "a3", -1, NULL, 1000);      /* champion wrong, truth unknown: not paired */

    struct store_rollout ro;
    assert_int_equal(store_rollout_active(d->s, "tickets", &ro, &e), 1);
    struct store_rollout_stats st;
    assert_int_equal(store_rollout_stats(d->s, &ro, &st, &e), 0);
    assert_int_equal(st.champion.predictions, 4);
    assert_int_equal(st.champion.judged, 3);
    assert_int_equal(st.champion.correct, 1);
    assert_int_equal(st.challenger.predictions, 5);
    assert_int_equal(st.compared, 4);
    assert_int_equal(st.agreed, 2);
    assert_int_equal(st.paired, 2);
    assert_int_equal(st.challenger.judged, 2);
    assert_int_equal(st.champion_paired, 1);
    assert_int_equal(st.challenger.correct, 2);
    json_t *p = store_prediction_get(d->s, "s2", &e);
    assert_string_equal(json_string_value(json_object_get(p, "shadow_of")), "a2");
    json_decref(p);

    /* stopped or rolled back: the champion stays */
    assert_int_equal(store_rollout_end(d->s, r, "stopped", "by hand", NULL, &e), 1);
    assert_int_equal(alias(d->s, "champion"), 1);
    assert_int_equal(alias(d->s, "previous"), 0);
    /* and a new one may start */
    assert_true(start(d->s, "canary", 2, 10, &e) > r);
}

static void test_end_errors(void **state)
{
    struct db *d = *state;
    struct err e = {0};
    expect_error(store_rollout_end(d->s, 0, "stopped", "x", NULL, &e), &e, ERR_INVALID, "id",
                 ">= 1");
    expect_error(store_rollout_end(d->s, 7, "stopped", "x", NULL, &e), &e, ERR_NOT_FOUND, "id",
                 "rollout 7 not found");
    expect_error(store_rollout_end(d->s, 7, "paused", "x", NULL, &e), &e, ERR_INVALID, "status",
                 "'paused' is not one of");
    expect_error(store_rollout_end(d->s, 7, "stopped", "x", "{oops", &e), &e, ERR_INVALID,
                 "decision", "not valid JSON");
    struct store_rollout ro = {0};
    struct store_rollout_stats st;
    expect_error(store_rollout_stats(d->s, &ro, &st, &e), &e, ERR_INVALID, "id", ">= 1");
}

/* Two processes decide at once: one ends it, the other sees it ended. */
struct ender {
    const char *url;
    int64_t id;
    const char *status;
    int result;
};

static void *end_it(void *arg)
{
    struct ender *x = arg;
    struct err e = {0};
    struct store *s = store_open(x->url, &e);
    x->result = s ? store_rollout_end(s, x->id, x->status, x->status, NULL, &e) : -1;
    if (x->result < 0) fprintf(stderr, "end: %s\n", e.msg);
    store_close(s);
    return NULL;
}

static void test_concurrent_end(void **state)
{
    struct db *d = *state;
    struct err e = {0};
    add_versions(d->s, 2);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 1, NULL, NULL, &e), 0);
    for (int round = 0; round < 5; round++) {
        int64_t r = start(d->s, "canary", 2, 50, &e);
        assert_true(r > 0);
        struct ender a = {d->db.url, r, "promoted", -2}, b = {d->db.url, r, "rolled_back", -2};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, end_it, &a);
        pthread_create(&tb, NULL, end_it, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        assert_int_equal(a.result + b.result, 1);
        /* the champion matches whichever won */
        assert_int_equal(alias(d->s, "champion"), a.result == 1 ? 2 : 1);
        if (a.result == 1)
            assert_int_equal(store_alias_rollback(d->s, "tickets", NULL, NULL, &r, &e), 0);
    }
}

/* Starts and ends wake watchers like champion moves (PostgreSQL). */
static void test_announced(void **state)
{
    struct db *d = *state;
    struct err e = {0};
    const int moved = d->db.pg ? 1 : 0;
    add_versions(d->s, 2);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 1, NULL, NULL, &e), 0);
    struct store *watcher = store_open(d->db.url, &e);
    assert_non_null(watcher);
    assert_int_equal(store_listen_aliases(watcher, &e), 0);
    assert_int_equal(store_wait_alias_change(watcher, 50, &e), 0);
    int64_t r = start(d->s, "shadow", 2, 0, &e);
    assert_int_equal(store_wait_alias_change(watcher, 2000, &e), moved);
    assert_int_equal(store_wait_alias_change(watcher, 50, &e), 0);
    assert_int_equal(store_rollout_end(d->s, r, "stopped", "done", NULL, &e), 1);
    assert_int_equal(store_wait_alias_change(watcher, 2000, &e), moved);
    /* a refused start announces nothing */
    assert_int_equal((int)start(d->s, "shadow", 1, 0, &e), -1);
    assert_int_equal(store_wait_alias_change(watcher, 100, &e), 0);
    store_close(watcher);
}

/* Migration 7 over a database at 6: old predictions keep reading, outside
 * any rollout. */
static void test_migration_6_to_7(void **state)
{
    struct db *d = *state;
    struct err e = {0};
    if (d->db.pg) skip(); /* drops SQLite columns by name; PostgreSQL runs the same DDL */
    predict(d->s, "p1", 1, "bug", 0, NULL);
    store_close(d->s);
    d->s = NULL;
    test_db_int(&d->db, "ALTER TABLE datasets DROP COLUMN profile_json;" /* migration 8 */
                        "ALTER TABLE datasets DROP COLUMN contract_json;"
                        "DELETE FROM schema_migrations WHERE version = 8;"
                        "DROP TABLE rollouts; DROP INDEX predictions_rollout;"
                        "ALTER TABLE predictions DROP COLUMN rollout_id;"
                        "ALTER TABLE predictions DROP COLUMN shadow_of;"
                        "DELETE FROM schema_migrations WHERE version = 7;");
    d->s = store_open(d->db.url, &e);
    assert_non_null(d->s);
    assert_int_equal(store_schema_version(d->s), TEST_SCHEMA_VERSION);
    json_t *p = store_prediction_get(d->s, "p1", &e);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "label")), "bug");
    assert_true(json_is_null(json_object_get(p, "rollout_id")));
    json_decref(p);
    json_t *list = store_rollouts_list(d->s, NULL, 0, &e);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

int main(void)
{
    ids_init();
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_checks, open_db, close_db),
        cmocka_unit_test_setup_teardown(test_canary_stats_and_promote, open_db, close_db),
        cmocka_unit_test_setup_teardown(test_shadow_stats_and_end, open_db, close_db),
        cmocka_unit_test_setup_teardown(test_end_errors, open_db, close_db),
        cmocka_unit_test_setup_teardown(test_concurrent_end, open_db, close_db),
        cmocka_unit_test_setup_teardown(test_announced, open_db, close_db),
        cmocka_unit_test_setup_teardown(test_migration_6_to_7, open_db, close_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
