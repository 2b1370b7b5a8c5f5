/* The store's MLflow tracking operations (issue 4): experiments, MLflow
 * runs, params, tags and metric points. A backend without them (PostgreSQL,
 * for now) answers ERR_INTERNAL instead of crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store.h"
#include "store_test_backend.h"

#include <math.h>

struct fx {
    struct test_db db;
    struct store *s;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    if (test_db_create(&f->db)) return -1;
    struct err e = {0};
    f->s = store_open(f->db.url, &e);
    if (!f->s) {
        fprintf(stderr, "store_open: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    test_db_drop(&f->db);
    free(f);
    return 0;
}

/* PostgreSQL does not implement these yet: every call is ERR_INTERNAL. */
static int unsupported(struct fx *f)
{
    if (!test_db_is_pg()) return 0;
    struct err e = {0};
    int64_t id;
    assert_int_equal(store_experiment_create(f->s, "x", NULL, NULL, 0, &id, &e), -1);
    assert_int_equal(e.code, ERR_INTERNAL);
    assert_non_null(strstr(e.msg, "not supported by this backend"));
    assert_null(store_mlflow_run_get(f->s, "abc", &e));
    assert_int_equal(e.code, ERR_INTERNAL);
    return 1;
}

static void test_experiments(void **state)
{
    struct fx *f = *state;
    if (unsupported(f)) return;
    struct err e = {0};
    json_t *d = store_experiment_get(f->s, 0, NULL, &e);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "name")), "Default");
    json_decref(d);

    struct store_kv tags[] = {{"team", "ml ✓"}};
    int64_t id = 0;
    assert_int_equal(store_experiment_create(f->s, "exp é", NULL, tags, 1, &id, &e), 0);
    assert_true(id >= 1);
    int64_t dup;
    assert_int_equal(store_experiment_create(f->s, "exp é", NULL, NULL, 0, &dup, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);

    json_t *x = store_experiment_get(f->s, 0, "exp é", &e);
    assert_non_null(x);
    assert_int_equal(json_integer_value(json_object_get(x, "id")), id);
    char loc[64];
    snprintf(loc, sizeof loc, "mlflow-artifacts:/%lld", (long long)id);
    assert_string_equal(json_string_value(json_object_get(x, "artifact_location")), loc);
    json_t *t = json_array_get(json_object_get(x, "tags"), 0);
    assert_string_equal(json_string_value(json_object_get(t, "value")), "ml ✓");
    json_decref(x);

    assert_null(store_experiment_get(f->s, 999, NULL, &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_experiment_update(f->s, id, "Default", NULL, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(store_experiment_update(f->s, id, NULL, "deleted", &e), 0);
    json_t *deleted = store_experiments_list(f->s, "deleted", &e);
    assert_int_equal(json_array_size(deleted), 1);
    json_decref(deleted);
    json_t *all = store_experiments_list(f->s, NULL, &e);
    assert_int_equal(json_array_size(all), 2);
    json_decref(all);
    assert_int_equal(store_experiment_update(f->s, id, NULL, "gone", &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
}

static const char *RUN = "0123456789abcdef0123456789abcdef";

static void make_run(struct fx *f, const char *run_id, int64_t exp)
{
    struct err e = {0};
    struct store_kv tags[] = {{"mlflow.runName", "r"}};
    struct store_mlflow_run r = {.run_id = run_id,
                                 .experiment_id = exp,
                                 .run_name = "r",
                                 .start_time = 1000,
                                 .artifact_uri = "mlflow-artifacts:/0/x/artifacts",
                                 .tags = tags,
                                 .n_tags = 1};
    assert_int_equal(store_mlflow_run_create(f->s, &r, &e), 0);
}

static void test_runs(void **state)
{
    struct fx *f = *state;
    if (unsupported(f)) return;
    struct err e = {0};
    struct store_mlflow_run bad = {.run_id = "r0", .experiment_id = 77, .start_time = 1};
    assert_int_equal(store_mlflow_run_create(f->s, &bad, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    make_run(f, RUN, 0);

    struct store_metric m[] = {{"loss", 0.5, 10, 0},
                               {"loss", NAN, 11, 1},
                               {"loss", INFINITY, 12, 2},
                               {"acc", -INFINITY, 1, 0}};
    struct store_kv p[] = {{"lr", "0.1"}};
    struct store_kv t[] = {{"k", "v1"}};
    assert_int_equal(store_mlflow_run_log(f->s, RUN, m, 4, p, 1, t, 1, &e), 0);
    /* the same param again is fine; another value is a conflict, and the
     * whole batch with it is refused */
    struct store_kv t2[] = {{"k", "v2"}};
    struct store_kv p2[] = {{"lr", "0.2"}};
    assert_int_equal(store_mlflow_run_log(f->s, RUN, m, 1, p2, 1, t2, 1, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_string_equal(e.field, "lr");
    assert_int_equal(store_mlflow_run_log(f->s, RUN, NULL, 0, p, 1, t2, 1, &e), 0);

    json_t *r = store_mlflow_run_get(f->s, RUN, &e);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "running");
    assert_int_equal(json_array_size(json_object_get(r, "metrics")), 4);
    json_t *tag = json_array_get(json_object_get(r, "tags"), 0);
    assert_string_equal(json_string_value(json_object_get(tag, "value")), "v2");
    json_decref(r);

    json_t *h = store_mlflow_metric_history(f->s, RUN, "loss", &e);
    assert_int_equal(json_array_size(h), 3);
    assert_true(json_real_value(json_object_get(json_array_get(h, 0), "value")) == 0.5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 1), "value")), "NaN");
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 2), "value")),
                        "Infinity");
    json_decref(h);

    assert_int_equal(store_mlflow_tag_delete(f->s, RUN, "nope", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_mlflow_tag_delete(f->s, RUN, "k", &e), 0);

    struct store_mlflow_run_patch patch = {
        .status = "completed", .has_end_time = 1, .end_time = 2000, .run_name = "new"};
    assert_int_equal(store_mlflow_run_update(f->s, RUN, &patch, &e), 0);
    r = store_mlflow_run_get(f->s, RUN, &e);
    assert_string_equal(json_string_value(json_object_get(r, "run_name")), "new");
    assert_int_equal(json_integer_value(json_object_get(r, "end_time")), 2000);
    json_decref(r);

    /* deleting the experiment deletes its runs; a deleted run takes no data */
    int64_t other;
    assert_int_equal(store_experiment_create(f->s, "other", NULL, NULL, 0, &other, &e), 0);
    make_run(f, "ffffffffffffffffffffffffffffffff", other);
    assert_int_equal(store_experiment_update(f->s, other, NULL, "deleted", &e), 0);
    int64_t ids[] = {0, other};
    json_t *active = store_mlflow_runs_load(f->s, ids, 2, "active", &e);
    assert_int_equal(json_array_size(active), 1);
    json_decref(active);
    json_t *every = store_mlflow_runs_load(f->s, ids, 2, NULL, &e);
    assert_int_equal(json_array_size(every), 2);
    json_decref(every);
    assert_int_equal(
        store_mlflow_run_log(f->s, "ffffffffffffffffffffffffffffffff", m, 1, NULL, 0, NULL, 0, &e),
        -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_null(store_mlflow_run_get(f->s, "00000000000000000000000000000000", &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
}

int main(void)
{
    log_set_level(LOG_WARN);
    ids_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_experiments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
