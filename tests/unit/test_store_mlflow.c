/* The store's MLflow operations (issue 4): experiments, MLflow runs,
 * params, tags and metric points, the model registry and run artifacts, on
 * SQLite and, with
 * BOUCLE_TEST_PG_URL, on PostgreSQL (store_test_backend.h). */
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
#include <pthread.h>

/* The object's keys, in order, joined by commas. */
static void keys_of(json_t *obj, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
        len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "," : "",
                                json_object_iter_key(it));
}

static void test_experiments(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    json_t *d = store_experiment_get(f->s, 0, NULL, &e);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "name")), "Default");
    assert_string_equal(json_string_value(json_object_get(d, "artifact_location")),
                        "mlflow-artifacts:/0");
    assert_string_equal(json_string_value(json_object_get(d, "lifecycle_stage")), "active");
    assert_true(json_integer_value(json_object_get(d, "creation_time")) > 0);
    char keys[256];
    keys_of(d, keys, sizeof keys);
    assert_string_equal(keys,
                        "id,name,artifact_location,lifecycle_stage,creation_time,last_update_time,"
                        "tags");
    json_decref(d);

    /* tags by key, byte order (as SQLite's BINARY collation) */
    struct store_kv tags[] = {{"team", "ml ✓"}, {"Zeta", "z"}, {"alpha", NULL}};
    int64_t id = 0;
    assert_int_equal(store_experiment_create(f->s, "exp é", NULL, tags, 3, &id, &e), 0);
    assert_int_equal(id, 1);
    int64_t dup;
    assert_int_equal(store_experiment_create(f->s, "exp é", NULL, NULL, 0, &dup, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_string_equal(e.field, "name");
    assert_string_equal(e.msg, "Experiment(name=exp é) already exists.");
    /* a failed creation leaves no gap in the ids; a given location is kept */
    int64_t next = 0;
    assert_int_equal(store_experiment_create(f->s, "next", "s3://b/p", NULL, 0, &next, &e), 0);
    assert_int_equal(next, id + 1);
    json_t *n = store_experiment_get(f->s, next, NULL, &e);
    assert_string_equal(json_string_value(json_object_get(n, "artifact_location")), "s3://b/p");
    assert_int_equal(json_array_size(json_object_get(n, "tags")), 0);
    json_decref(n);
    assert_int_equal(store_experiment_tag_set(f->s, next, "k", "v", &e), 0);
    assert_int_equal(store_experiment_tag_set(f->s, next, "k", "v2", &e), 0);
    n = store_experiment_get(f->s, 0, "next", &e);
    json_t *nt = json_object_get(n, "tags");
    assert_int_equal(json_array_size(nt), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(nt, 0), "value")), "v2");
    json_decref(n);
    assert_int_equal(store_experiment_tag_set(f->s, 999, "k", "v", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "experiment_id");

    json_t *x = store_experiment_get(f->s, 0, "exp é", &e);
    assert_non_null(x);
    assert_int_equal(json_integer_value(json_object_get(x, "id")), id);
    char loc[64];
    snprintf(loc, sizeof loc, "mlflow-artifacts:/%lld", (long long)id);
    assert_string_equal(json_string_value(json_object_get(x, "artifact_location")), loc);
    json_t *xt = json_object_get(x, "tags");
    assert_int_equal(json_array_size(xt), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(xt, 0), "key")), "Zeta");
    assert_string_equal(json_string_value(json_object_get(json_array_get(xt, 1), "key")), "alpha");
    assert_true(json_is_null(json_object_get(json_array_get(xt, 1), "value")));
    json_t *t = json_array_get(xt, 2);
    assert_string_equal(json_string_value(json_object_get(t, "value")), "ml ✓");
    json_decref(x);

    assert_null(store_experiment_get(f->s, 999, NULL, &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "experiment_id");
    assert_null(store_experiment_get(f->s, 0, "nope", &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "experiment_name");
    assert_int_equal(store_experiment_update(f->s, id, "Default", NULL, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_string_equal(e.field, "new_name");
    assert_int_equal(store_experiment_update(f->s, 999, "x", NULL, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_experiment_update(f->s, id, "renamed", "deleted", &e), 0);
    json_t *deleted = store_experiments_list(f->s, "deleted", &e);
    assert_int_equal(json_array_size(deleted), 1);
    json_t *del = json_array_get(deleted, 0);
    assert_string_equal(json_string_value(json_object_get(del, "name")), "renamed");
    assert_int_equal(json_array_size(json_object_get(del, "tags")), 3);
    json_decref(deleted);
    json_t *all = store_experiments_list(f->s, NULL, &e);
    assert_int_equal(json_array_size(all), 3);
    for (size_t i = 0; i < 3; i++) /* by id */
        assert_int_equal(json_integer_value(json_object_get(json_array_get(all, i), "id")),
                         (json_int_t)i);
    json_decref(all);
    assert_int_equal(store_experiment_update(f->s, id, NULL, "gone", &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
}

static const char *RUN = "0123456789abcdef0123456789abcdef";

static void make_run(struct test_store *f, const char *run_id, int64_t exp)
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
    struct test_store *f = *state;
    struct err e = {0};
    struct store_mlflow_run bad = {.run_id = "r0", .experiment_id = 77, .start_time = 1};
    assert_int_equal(store_mlflow_run_create(f->s, &bad, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    make_run(f, RUN, 0);
    struct store_mlflow_run again = {.run_id = RUN, .experiment_id = 0, .start_time = 1};
    assert_int_equal(store_mlflow_run_create(f->s, &again, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_string_equal(e.field, "run_id");

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
    assert_int_equal(test_db_int(&f->db, "SELECT count(*) FROM metrics"), 4);
    assert_int_equal(store_mlflow_run_log(f->s, RUN, NULL, 0, p, 1, t2, 1, &e), 0);

    /* NaN is stored as SQL NULL */
    assert_int_equal(test_db_int(&f->db, "SELECT count(*) FROM metrics WHERE value IS NULL"), 1);

    json_t *r = store_mlflow_run_get(f->s, RUN, &e);
    assert_non_null(r);
    char keys[256];
    keys_of(r, keys, sizeof keys);
    assert_string_equal(keys, "run_id,experiment_id,run_name,user_id,status,start_time,end_time,"
                              "artifact_uri,lifecycle_stage,params,tags,metrics");
    assert_string_equal(json_string_value(json_object_get(r, "status")), "running");
    assert_int_equal(json_integer_value(json_object_get(r, "experiment_id")), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "start_time")), 1000);
    assert_true(json_is_null(json_object_get(r, "end_time")));
    assert_true(json_is_null(json_object_get(r, "user_id")));
    assert_string_equal(json_string_value(json_object_get(r, "lifecycle_stage")), "active");
    /* metrics by key, step, timestamp; tags by key (byte order) */
    json_t *ms = json_object_get(r, "metrics");
    assert_int_equal(json_array_size(ms), 4);
    json_t *m0 = json_array_get(ms, 0);
    assert_string_equal(json_string_value(json_object_get(m0, "key")), "acc");
    assert_string_equal(json_string_value(json_object_get(m0, "value")), "-Infinity");
    assert_int_equal(json_integer_value(json_object_get(m0, "timestamp")), 1);
    json_t *m1 = json_array_get(ms, 1);
    assert_true(json_is_real(json_object_get(m1, "value")));
    assert_true(json_real_value(json_object_get(m1, "value")) == 0.5);
    json_t *ts = json_object_get(r, "tags");
    assert_int_equal(json_array_size(ts), 2);
    json_t *tag = json_array_get(ts, 0);
    assert_string_equal(json_string_value(json_object_get(tag, "key")), "k");
    assert_string_equal(json_string_value(json_object_get(tag, "value")), "v2");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ts, 1), "key")),
                        "mlflow.runName");
    json_t *ps = json_object_get(r, "params");
    assert_int_equal(json_array_size(ps), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ps, 0), "value")), "0.1");
    json_decref(r);

    /* values round-trip exactly */
    struct store_metric exact[] = {
        {"x", 0.1, 5, 0}, {"x", 1e-300, 5, 1}, {"x", -123456789.125, 5, 2}};
    assert_int_equal(store_mlflow_run_log(f->s, RUN, exact, 3, NULL, 0, NULL, 0, &e), 0);
    json_t *xh = store_mlflow_metric_history(f->s, RUN, "x", &e);
    assert_int_equal(json_array_size(xh), 3);
    for (size_t i = 0; i < 3; i++)
        assert_true(json_real_value(json_object_get(json_array_get(xh, i), "value")) ==
                    exact[i].value);
    json_decref(xh);
    assert_null(store_mlflow_metric_history(f->s, "nope", "x", &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "run_id");

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
    assert_string_equal(json_string_value(json_object_get(r, "status")), "completed");
    assert_int_equal(json_integer_value(json_object_get(r, "end_time")), 2000);
    tag = json_array_get(json_object_get(r, "tags"), 0);
    assert_string_equal(json_string_value(json_object_get(tag, "key")), "mlflow.runName");
    assert_string_equal(json_string_value(json_object_get(tag, "value")), "new");
    json_decref(r);
    struct store_mlflow_run_patch none = {.status = "failed"};
    assert_int_equal(store_mlflow_run_update(f->s, "nope", &none, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);

    /* deleting the experiment deletes its runs; a deleted run takes no data */
    int64_t other;
    assert_int_equal(store_experiment_create(f->s, "other", NULL, NULL, 0, &other, &e), 0);
    make_run(f, "ffffffffffffffffffffffffffffffff", other);
    assert_int_equal(store_experiment_update(f->s, other, NULL, "deleted", &e), 0);
    int64_t ids[] = {0, other};
    struct store_scan scan;
    struct store_mlflow_scan active = {
        .experiment_ids = ids, .n_experiments = 2, .lifecycle_stage = "active"};
    assert_int_equal(store_mlflow_runs_scan(f->s, &active, &scan, &e), 0);
    assert_int_equal(scan.n, 1);
    store_scan_free(&scan);
    struct store_mlflow_scan every = {.experiment_ids = ids, .n_experiments = 2};
    assert_int_equal(store_mlflow_runs_scan(f->s, &every, &scan, &e), 0);
    assert_int_equal(scan.n, 2);
    store_scan_free(&scan);
    struct store_mlflow_scan no_experiment = {0};
    assert_int_equal(store_mlflow_runs_scan(f->s, &no_experiment, &scan, &e), 0);
    assert_int_equal(scan.n, 0);
    store_scan_free(&scan);
    /* the page of a search: full runs, each with its own children */
    const char *page[] = {"ffffffffffffffffffffffffffffffff", RUN, "no-such-run"};
    json_t *got = store_mlflow_runs_get(f->s, page, 3, &e);
    assert_int_equal(json_array_size(got), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *run = json_array_get(got, i);
        int mine = strcmp(json_string_value(json_object_get(run, "run_id")), RUN) == 0;
        assert_int_equal(json_array_size(json_object_get(run, "metrics")), mine ? 7 : 0);
        if (!mine) {
            assert_int_equal(json_array_size(json_object_get(run, "tags")), 1);
            assert_string_equal(json_string_value(json_object_get(run, "lifecycle_stage")),
                                "deleted");
        }
    }
    json_decref(got);
    assert_int_equal(
        store_mlflow_run_log(f->s, "ffffffffffffffffffffffffffffffff", m, 1, NULL, 0, NULL, 0, &e),
        -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_null(store_mlflow_run_get(f->s, "00000000000000000000000000000000", &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
}

/* A search reads each run's latest point per key (highest step, then
 * timestamp, then value, NaN lowest), kept as points arrive whatever their
 * order, and only the keys it asks for. */
static void test_search_scan(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    make_run(f, RUN, 0);
    struct store_metric m[] = {
        {"loss", 0.9, 10, 5},    {"loss", 0.1, 10, 2}, /* an older step arrives late */
        {"acc", 0.5, 20, 1},     {"acc", 0.7, 21, 1},  /* same step: the later timestamp */
        {"f1", 0.4, 30, 1},      {"f1", 0.3, 30, 1},   /* a tie: the greater value */
        {"nan", 0.2, 40, 1},     {"nan", NAN, 40, 1},  /* NaN ranks below any number */
        {"only_nan", NAN, 1, 0}, {"inf", INFINITY, 1, 0},
    };
    struct store_kv p[] = {{"model", "linear"}, {"lr", "0.1"}};
    struct store_kv t[] = {{"team", "search"}};
    assert_int_equal(store_mlflow_run_log(f->s, RUN, m, 10, p, 2, t, 1, &e), 0);
    make_run(f, "ffffffffffffffffffffffffffffffff", 0); /* no metrics, params or tags */

    int64_t ids[] = {0};
    const char *mk[] = {"loss", "acc", "f1", "nan", "only_nan", "inf", "absent"};
    const char *pk[] = {"model", "absent"};
    const char *tk[] = {"team", "mlflow.runName"};
    struct store_mlflow_scan q = {.experiment_ids = ids,
                                  .n_experiments = 1,
                                  .metric_keys = mk,
                                  .n_metric_keys = 7,
                                  .param_keys = pk,
                                  .n_param_keys = 2,
                                  .tag_keys = tk,
                                  .n_tag_keys = 2};
    struct store_scan scan;
    assert_int_equal(store_mlflow_runs_scan(f->s, &q, &scan, &e), 0);
    assert_int_equal(scan.n, 2);
    const struct store_scan_row *r = &scan.rows[0], *empty = &scan.rows[1];
    if (strcmp(r->run_id, RUN) != 0) {
        const struct store_scan_row *x = r;
        r = empty;
        empty = x;
    }
    assert_string_equal(r->status, "running");
    assert_string_equal(r->run_name, "r");
    assert_int_equal(r->start_time, 1000);
    assert_int_equal(r->end_time, 0);
    double want[] = {0.9, 0.7, 0.4, 0.2};
    for (int i = 0; i < 4; i++) {
        assert_true(r->has_metric[i]);
        assert_true(r->metrics[i] == want[i]);
    }
    assert_true(r->has_metric[4] && isnan(r->metrics[4]));
    assert_true(r->has_metric[5] && isinf(r->metrics[5]) && r->metrics[5] > 0);
    assert_false(r->has_metric[6]);
    assert_string_equal(r->params[0], "linear");
    assert_null(r->params[1]);
    assert_string_equal(r->tags[0], "search");
    assert_string_equal(r->tags[1], "r");
    for (int i = 0; i < 7; i++)
        assert_false(empty->has_metric[i]);
    assert_null(empty->params[0]);
    assert_null(empty->tags[0]);
    store_scan_free(&scan);

    /* conditions checked in SQL keep exactly the runs that have the key with
     * such a value (the NaN-only and absent keys never pass) */
    struct {
        struct store_scan_cond cond;
        size_t want;
    } cases[] = {
        {{STORE_SCAN_METRIC, "loss", STORE_SCAN_GT, 0.5, NULL}, 1},
        {{STORE_SCAN_METRIC, "loss", STORE_SCAN_GT, 0.9, NULL}, 0},
        {{STORE_SCAN_METRIC, "loss", STORE_SCAN_GE, 0.9, NULL}, 1},
        {{STORE_SCAN_METRIC, "acc", STORE_SCAN_EQ, 0.7, NULL}, 1},
        {{STORE_SCAN_METRIC, "acc", STORE_SCAN_LT, 0.7, NULL}, 0},
        {{STORE_SCAN_METRIC, "inf", STORE_SCAN_GT, 1e308, NULL}, 1},
        {{STORE_SCAN_METRIC, "only_nan", STORE_SCAN_LE, 1e308, NULL}, 0},
        {{STORE_SCAN_METRIC, "absent", STORE_SCAN_LT, 1e308, NULL}, 0},
        {{STORE_SCAN_PARAM, "model", STORE_SCAN_EQ, 0, "linear"}, 1},
        {{STORE_SCAN_PARAM, "model", STORE_SCAN_EQ, 0, "Linear"}, 0},
        {{STORE_SCAN_TAG, "team", STORE_SCAN_EQ, 0, "search"}, 1},
        {{STORE_SCAN_TAG, "mlflow.runName", STORE_SCAN_EQ, 0, "r"}, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store_mlflow_scan cq = {
            .experiment_ids = ids, .n_experiments = 1, .conds = &cases[i].cond, .n_conds = 1};
        assert_int_equal(store_mlflow_runs_scan(f->s, &cq, &scan, &e), 0);
        if (scan.n != cases[i].want)
            fail_msg("case %zu: %zu runs, want %zu", i, scan.n, cases[i].want);
        store_scan_free(&scan);
    }

    /* a bounded number of keys */
    const char *many[STORE_SCAN_MAX_KEYS + 1];
    for (int i = 0; i <= STORE_SCAN_MAX_KEYS; i++)
        many[i] = "k";
    struct store_mlflow_scan too_many = {.experiment_ids = ids,
                                         .n_experiments = 1,
                                         .metric_keys = many,
                                         .n_metric_keys = STORE_SCAN_MAX_KEYS + 1};
    assert_int_equal(store_mlflow_runs_scan(f->s, &too_many, &scan, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.field, "filter");
    store_scan_free(&scan);
}

/* ---- the MLflow registry over boucle's (issue 4) ---- */

static int64_t add_boucle_version(struct test_store *f, const char *task)
{
    struct err e = {0};
    struct store_model_version v = {
        .task = task, .kind = "linear", .artifact = "model", .artifact_len = 5};
    int64_t version = 0;
    assert_int_equal(store_model_add(f->s, &v, &version, &e), 0);
    return version;
}

static const char *str_at(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void test_registry(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    /* a task with versions is a registered model */
    assert_int_equal(add_boucle_version(f, "t"), 1);
    assert_int_equal(add_boucle_version(f, "t"), 2);
    json_t *t = store_registered_model_get(f->s, "t", &e);
    assert_non_null(t);
    char keys[256];
    keys_of(t, keys, sizeof keys);
    assert_string_equal(keys, "name,description,creation_timestamp,last_updated_timestamp,tags,"
                              "aliases");
    json_decref(t);

    struct store_kv tags[] = {{"team", "ml"}};
    assert_int_equal(store_registered_model_create(f->s, "m", "about m", tags, 1, &e), 0);
    assert_int_equal(store_registered_model_create(f->s, "m", NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(store_registered_model_create(f->s, "t", NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    json_t *all = store_registered_models_list(f->s, NULL, &e);
    assert_int_equal(json_array_size(all), 2); /* by name */
    assert_string_equal(str_at(json_array_get(all, 0), "name"), "m");
    assert_string_equal(str_at(json_array_get(all, 0), "description"), "about m");
    json_decref(all);

    /* versions count on from the model's last one; the run must exist */
    make_run(f, RUN, 0);
    struct store_kv vt[] = {{"k", "v"}};
    struct store_mlflow_version v = {.name = "m",
                                     .source = "mlflow-artifacts:/0/r/artifacts/model",
                                     .run_id = RUN,
                                     .tags = vt,
                                     .n_tags = 1};
    int64_t n = 0;
    assert_int_equal(store_model_version_create(f->s, &v, &n, &e), 0);
    assert_int_equal(n, 1);
    v.tags = NULL;
    v.n_tags = 0;
    assert_int_equal(store_model_version_create(f->s, &v, &n, &e), 0);
    assert_int_equal(n, 2);
    v.name = "t";
    v.run_id = NULL;
    assert_int_equal(store_model_version_create(f->s, &v, &n, &e), 0);
    assert_int_equal(n, 3);
    v.name = "nope";
    assert_int_equal(store_model_version_create(f->s, &v, &n, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "name");
    v.name = "m";
    v.run_id = "ffffffffffffffffffffffffffffffff";
    assert_int_equal(store_model_version_create(f->s, &v, &n, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "run_id");

    json_t *mv = store_model_version_get(f->s, "m", 1, &e);
    assert_non_null(mv);
    assert_string_equal(str_at(mv, "kind"), "mlflow");
    assert_string_equal(str_at(mv, "run_id"), RUN);
    assert_string_equal(str_at(mv, "current_stage"), "None");
    assert_string_equal(str_at(json_array_get(json_object_get(mv, "tags"), 0), "value"), "v");
    json_decref(mv);
    mv = store_model_version_get(f->s, "t", 1, &e);
    assert_string_equal(str_at(mv, "kind"), "linear");
    assert_string_equal(str_at(mv, "source"), "boucle:/t/1");
    json_decref(mv);
    assert_null(store_model_version_get(f->s, "m", 9, &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    json_t *tv = store_model_versions_list(f->s, "t", &e);
    assert_int_equal(json_array_size(tv), 3); /* newest first */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(tv, 0), "version")), 3);
    json_decref(tv);

    /* stages: archive_others moves the other Production versions */
    assert_int_equal(store_model_version_update(f->s, "m", 1, "one", "Production", 0, &e), 0);
    assert_int_equal(store_model_version_update(f->s, "m", 2, NULL, "Production", 1, &e), 0);
    mv = store_model_version_get(f->s, "m", 1, &e);
    assert_string_equal(str_at(mv, "current_stage"), "Archived");
    assert_string_equal(str_at(mv, "description"), "one");
    json_decref(mv);
    assert_int_equal(store_model_version_update(f->s, "m", 1, NULL, "Live", 0, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);

    /* tags */
    assert_int_equal(store_model_version_tag(f->s, "m", 1, "k", NULL, &e), 0);
    assert_int_equal(store_model_version_tag(f->s, "m", 1, "k", NULL, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_registered_model_tag(f->s, "m", "team", "ops", &e), 0);
    assert_int_equal(store_registered_model_tag(f->s, "m", "gone", NULL, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_registered_model_tag(f->s, "zz", "a", "b", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);

    /* aliases are boucle's; the champion is protected */
    assert_int_equal(store_alias_set_reason(f->s, "m", "best", 2, "mlflow", NULL, &e), 0);
    assert_int_equal(store_alias_deploy(f->s, "t", 1, "test", NULL, &e), 0);
    assert_int_equal(store_model_alias_delete(f->s, "t", "champion", NULL, NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(store_model_version_delete(f->s, "t", 1, NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(store_registered_model_delete(f->s, "t", &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(store_registered_model_update(f->s, "t", "t2", NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(store_model_version_delete(f->s, "t", 3, NULL, &e), 0);

    /* rename moves versions, tags and aliases */
    assert_int_equal(store_registered_model_update(f->s, "m", "t", NULL, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(store_registered_model_update(f->s, "m", "m2", "new", &e), 0);
    assert_null(store_registered_model_get(f->s, "m", &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    json_t *m2 = store_registered_model_get(f->s, "m2", &e);
    assert_string_equal(str_at(m2, "description"), "new");
    assert_string_equal(str_at(json_array_get(json_object_get(m2, "tags"), 0), "value"), "ops");
    json_t *al = json_array_get(json_object_get(m2, "aliases"), 0);
    assert_string_equal(str_at(al, "alias"), "best");
    assert_int_equal(json_integer_value(json_object_get(al, "version")), 2);
    json_decref(m2);
    int64_t best = 0;
    assert_int_equal(store_alias_get(f->s, "m2", "best", &best, &e), 1);
    assert_int_equal(best, 2);
    assert_int_equal(store_model_alias_delete(f->s, "m2", "best", NULL, NULL, &e), 0);
    assert_int_equal(store_model_alias_delete(f->s, "m2", "best", NULL, NULL, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);

    assert_int_equal(store_registered_model_delete(f->s, "m2", &e), 0);
    assert_int_equal(test_db_int(&f->db, "SELECT count(*) FROM model_versions WHERE task = 'm2'"),
                     0);
    assert_int_equal(
        test_db_int(&f->db, "SELECT count(*) FROM registered_model_tags WHERE name = 'm2'"), 0);
    assert_int_equal(store_registered_model_delete(f->s, "m2", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
}

/* Removing an alias is a move too: the history keeps it (to_version null)
 * with why and who, whether the alias or its version was deleted. */
static void test_alias_removals_recorded(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    for (int i = 0; i < 3; i++)
        add_boucle_version(f, "t");
    assert_int_equal(store_alias_deploy(f->s, "t", 1, "first", "cli:alice", &e), 0);
    assert_int_equal(store_alias_set_reason(f->s, "t", "challenger", 2, "trained", "loop", &e), 0);
    assert_int_equal(store_alias_set_reason(f->s, "t", "best", 3, "mlflow", "token:ci", &e), 0);
    assert_int_equal(store_alias_set_reason(f->s, "t", "keep", 3, "mlflow", "token:ci", &e), 0);

    assert_int_equal(
        store_model_alias_delete(f->s, "t", "challenger", "mlflow: delete", "token:ci", &e), 0);
    json_t *h = store_alias_history(f->s, "t", &e);
    json_t *last = json_array_get(h, 0);
    assert_string_equal(str_at(last, "alias"), "challenger");
    assert_int_equal(json_integer_value(json_object_get(last, "from_version")), 2);
    assert_true(json_is_null(json_object_get(last, "to_version")));
    assert_string_equal(str_at(last, "reason"), "mlflow: delete");
    assert_string_equal(str_at(last, "actor"), "token:ci");
    json_decref(h);
    /* a failed removal records nothing */
    assert_int_equal(
        store_model_alias_delete(f->s, "t", "challenger", "mlflow: delete", "token:ci", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(
        store_model_alias_delete(f->s, "t", "champion", "mlflow: delete", "token:ci", &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(test_db_int(&f->db, "SELECT count(*) FROM alias_history"), 5);

    /* deleting a version removes (and records) each alias on it */
    assert_int_equal(store_model_version_delete(f->s, "t", 3, "token:ops", &e), 0);
    h = store_alias_history(f->s, "t", &e);
    assert_int_equal(json_array_size(h), 7);
    for (size_t i = 0; i < 2; i++) {
        json_t *m = json_array_get(h, i);
        assert_int_equal(json_integer_value(json_object_get(m, "from_version")), 3);
        assert_true(json_is_null(json_object_get(m, "to_version")));
        assert_string_equal(str_at(m, "reason"), "model version 3 deleted");
        assert_string_equal(str_at(m, "actor"), "token:ops");
    }
    json_decref(h);
    assert_int_equal(test_db_int(&f->db, "SELECT count(*) FROM aliases WHERE task = 't'"), 1);
}

/* Trainers and MLflow clients register versions of one model at once, each
 * through its own handle (as separate processes do): every version number
 * is given once, 1 to N, whichever way it was created. */
struct registrar {
    const char *url;
    int mlflow; /* model_version_create, else store_model_add */
    int failures;
};

enum { REGISTRARS = 4, VERSIONS_EACH = 5 };

static void *register_versions(void *arg)
{
    struct registrar *g = arg;
    struct err e = {0};
    struct store *s = store_open(g->url, &e);
    if (!s) {
        g->failures = VERSIONS_EACH;
        return NULL;
    }
    for (int i = 0; i < VERSIONS_EACH; i++) {
        int64_t v = 0;
        struct store_mlflow_version mv = {.name = "t", .source = "s3://b/m"};
        struct store_model_version bv = {
            .task = "t", .kind = "linear", .artifact = "m", .artifact_len = 1};
        int rc = g->mlflow ? store_model_version_create(s, &mv, &v, &e)
                           : store_model_add(s, &bv, &v, &e);
        if (rc != 0) {
            fprintf(stderr, "registering: %s\n", e.msg);
            g->failures++;
        }
    }
    store_close(s);
    return NULL;
}

static void test_concurrent_versions(void **state)
{
    struct test_store *f = *state;
    add_boucle_version(f, "t"); /* the model exists for MLflow's creations */
    pthread_t t[REGISTRARS];
    struct registrar g[REGISTRARS];
    for (int i = 0; i < REGISTRARS; i++) {
        g[i] = (struct registrar){f->db.url, i % 2, 0};
        assert_int_equal(pthread_create(&t[i], NULL, register_versions, &g[i]), 0);
    }
    for (int i = 0; i < REGISTRARS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(g[i].failures, 0);
    }
    int n = 1 + REGISTRARS * VERSIONS_EACH;
    assert_int_equal(test_db_int(&f->db, "SELECT count(DISTINCT version) FROM model_versions"), n);
    assert_int_equal(test_db_int(&f->db, "SELECT max(version) FROM model_versions"), n);
}

/* A PostgreSQL database written by a schema-3 boucle (before the registry)
 * upgrades in place: its task becomes a registered model, its alias history
 * is kept, and every registry operation works on the old rows. (SQLite's
 * upgrade is test_store_loop's test_migration_1_to_2.) */
static const char pg_downgrade_to_3[] =
    "ALTER TABLE datasets DROP COLUMN profile_json, DROP COLUMN contract_json;"
    "DROP TABLE rollouts; DROP INDEX predictions_rollout;"
    "ALTER TABLE predictions DROP COLUMN rollout_id, DROP COLUMN shadow_of;"
    "DROP TRIGGER metrics_keep_latest ON metrics;"
    "DROP FUNCTION metrics_keep_latest();"
    "DROP TABLE latest_metrics;"
    "DROP TRIGGER model_versions_registered ON model_versions;"
    "DROP FUNCTION boucle_model_registered();"
    "DROP TABLE artifacts, model_version_tags, registered_model_tags, registered_models;"
    "ALTER TABLE model_versions DROP COLUMN description, DROP COLUMN source,"
    "  DROP COLUMN run_link, DROP COLUMN user_id, DROP COLUMN stage, DROP COLUMN updated_ms,"
    "  DROP COLUMN boucle_version;"
    "ALTER TABLE aliases ALTER CONSTRAINT aliases_task_version_fkey NOT DEFERRABLE;"
    "ALTER TABLE alias_history DROP COLUMN actor;"
    "ALTER TABLE alias_history ALTER COLUMN to_version SET NOT NULL;"
    "DELETE FROM schema_migrations WHERE version > 3;";

static void test_pg_upgrade_from_3(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    if (!f->db.pg) skip(); /* SQLite: test_store_loop.c */
    add_boucle_version(f, "t");
    add_boucle_version(f, "t");
    assert_int_equal(store_alias_deploy(f->s, "t", 1, "first", NULL, &e), 0);
    store_close(f->s);
    test_db_int(&f->db, pg_downgrade_to_3);
    assert_int_equal(test_db_int(&f->db, "SELECT max(version) FROM schema_migrations"), 3);

    f->s = store_open(f->db.url, &e);
    assert_non_null(f->s);
    assert_int_equal(store_schema_version(f->s), TEST_SCHEMA_VERSION);
    json_t *t = store_registered_model_get(f->s, "t", &e);
    assert_non_null(t);
    json_t *al = json_array_get(json_object_get(t, "aliases"), 0);
    assert_string_equal(str_at(al, "alias"), "champion");
    json_decref(t);
    json_t *h = store_alias_history(f->s, "t", &e);
    assert_int_equal(json_array_size(h), 1);
    assert_true(json_is_null(json_object_get(json_array_get(h, 0), "actor")));
    json_decref(h);
    json_t *mv = store_model_version_get(f->s, "t", 2, &e);
    assert_string_equal(str_at(mv, "current_stage"), "None");
    assert_string_equal(str_at(mv, "source"), "boucle:/t/2");
    json_decref(mv);
    /* the renamed key is deferrable again: a model without a champion moves */
    assert_int_equal(store_alias_set_reason(f->s, "t", "best", 2, NULL, NULL, &e), 0);
    add_boucle_version(f, "u");
    assert_int_equal(store_alias_set_reason(f->s, "u", "best", 1, NULL, NULL, &e), 0);
    assert_int_equal(store_registered_model_update(f->s, "u", "u2", NULL, &e), 0);
    int64_t v = 0;
    assert_int_equal(store_alias_get(f->s, "u2", "best", &v, &e), 1);
}

static void test_artifacts(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    make_run(f, RUN, 0);
    static const unsigned char blob[] = {0, 1, 2, 0, 255, 'x', 0};
    assert_int_equal(store_artifact_put(f->s, RUN, "model/w.bin", blob, sizeof blob, &e), 0);
    assert_int_equal(store_artifact_put(f->s, RUN, "empty", NULL, 0, &e), 0);
    void *data = NULL;
    size_t len = 0;
    char sha[65], want[SHA256_HEX_LEN];
    assert_int_equal(store_artifact_get(f->s, RUN, "model/w.bin", &data, &len, sha, &e), 0);
    assert_int_equal(len, sizeof blob);
    assert_memory_equal(data, blob, sizeof blob);
    sha256_hex(blob, sizeof blob, want);
    assert_string_equal(sha, want);
    free(data);
    assert_int_equal(store_artifact_get(f->s, RUN, "empty", &data, &len, NULL, &e), 0);
    assert_non_null(data);
    assert_int_equal(len, 0);
    free(data);
    /* put replaces */
    assert_int_equal(store_artifact_put(f->s, RUN, "empty", "ab", 2, &e), 0);
    json_t *list = store_artifacts_list(f->s, RUN, &e);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(str_at(json_array_get(list, 0), "path"), "empty");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "size")), 2);
    assert_string_equal(str_at(json_array_get(list, 1), "sha256"), want);
    json_decref(list);

    assert_int_equal(store_artifact_delete(f->s, RUN, "empty", &e), 0);
    assert_int_equal(store_artifact_delete(f->s, RUN, "empty", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "path");
    assert_int_equal(store_artifact_get(f->s, RUN, "empty", &data, &len, NULL, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_artifact_put(f->s, "ffffffffffffffffffffffffffffffff", "a", "x", 1, &e),
                     -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "run_id");
    assert_int_equal(store_artifact_put(f->s, RUN, "", "x", 1, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
}

int main(void)
{
    log_set_level(LOG_WARN);
    ids_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_experiments, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_runs, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_search_scan, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_registry, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_alias_removals_recorded, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_versions, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_pg_upgrade_from_3, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_artifacts, test_store_setup, test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
