/* track/registry: a version shown with its lineage and alias moves, and
 * promotions that refuse what cannot or should not be served. On SQLite
 * and, with BOUCLE_TEST_PG_URL (`make unit-pg`), on PostgreSQL. */
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
#include "track/registry.h"

static const char *str_at(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A trained version of "t" whose test split scored f1 (NULL: no metrics). */
static int64_t add_version(struct test_store *f, const char *metrics_json)
{
    struct err e = {0};
    struct store_model_version v = {.task = "t",
                                    .dataset_hash = "dh",
                                    .config_hash = "ch",
                                    .kind = "linear",
                                    .artifact = "model",
                                    .artifact_len = 5,
                                    .metrics_json = metrics_json};
    int64_t version = 0;
    assert_int_equal(store_model_add(f->s, &v, &version, &e), 0);
    return version;
}

static void test_parse_version(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(registry_parse_version("12", &v), 0);
    assert_int_equal(v, 12);
    static const char *const bad[] = {"0",  "-1", "3x",  "",
                                      " 3", "+3", "1.5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(registry_parse_version(bad[i], &v), -1);
    assert_int_equal(registry_parse_version(NULL, &v), -1);
}

static void test_show(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    add_version(f, "{\"f1_macro\":0.8}");
    add_version(f, "{\"f1_macro\":0.9}");
    assert_int_equal(store_alias_deploy(f->s, "t", 1, "first", "cli:alice", &e), 0);
    assert_int_equal(store_alias_deploy(f->s, "t", 2, "better", "loop", &e), 0);
    struct store_kv tag = {"owner", "ml"};
    assert_int_equal(store_model_version_tag(f->s, "t", 2, tag.key, tag.value, &e), 0);
    assert_int_equal(store_model_version_update(f->s, "t", 2, "the good one", NULL, 0, &e), 0);

    json_t *v = registry_version_show(f->s, "t", 2, &e);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "version")), 2);
    assert_string_equal(str_at(v, "dataset_hash"), "dh");
    assert_string_equal(str_at(v, "config_hash"), "ch");
    assert_true(strlen(str_at(v, "boucle_version")) > 0);
    assert_string_equal(str_at(v, "kind"), "linear");
    assert_true(json_is_string(json_object_get(v, "sha256")));
    assert_true(json_number_value(json_object_get(json_object_get(v, "metrics"), "f1_macro")) >
                0.89);
    assert_string_equal(str_at(v, "description"), "the good one");
    assert_string_equal(str_at(v, "stage"), "None");
    assert_string_equal(str_at(v, "source"), "boucle:/t/2");
    assert_string_equal(str_at(json_array_get(json_object_get(v, "tags"), 0), "value"), "ml");
    assert_string_equal(json_string_value(json_array_get(json_object_get(v, "aliases"), 0)),
                        "champion");
    /* the moves to or from version 2: champion 1 -> 2 (previous 1 is not) */
    json_t *h = json_object_get(v, "alias_history");
    assert_int_equal(json_array_size(h), 1);
    assert_string_equal(str_at(json_array_get(h, 0), "actor"), "loop");
    json_decref(v);
    v = registry_version_show(f->s, "t", 1, &e);
    assert_int_equal(json_array_size(json_object_get(v, "alias_history")), 3);
    json_decref(v);

    assert_null(registry_version_show(f->s, "t", 9, &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "version");
    assert_null(registry_version_show(f->s, "nope", 1, &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
}

static void test_promote(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    add_version(f, "{\"f1_macro\":0.8}"); /* 1 */
    add_version(f, "{\"f1_macro\":0.7}"); /* 2 */
    add_version(f, "{\"f1_macro\":0.9}"); /* 3 */
    struct store_mlflow_version mv = {.name = "t", .source = "s3://b/m"};
    int64_t only_mlflow = 0;
    assert_int_equal(store_model_version_create(f->s, &mv, &only_mlflow, &e), 0);
    assert_int_equal(only_mlflow, 4);
    int64_t no_metrics = add_version(f, NULL); /* 5 */
    assert_int_equal(store_alias_deploy(f->s, "t", 1, "first", NULL, &e), 0);

    struct registry_promotion p = {.primary = "f1_macro", .actor = "cli:bob"};
    int64_t previous = -1;
    /* lower than the champion: refused, with both numbers */
    assert_int_equal(registry_promote(f->s, "t", 2, &p, &previous, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "f1_macro 0.7000"));
    assert_non_null(strstr(e.msg, "champion 1's 0.8000"));
    assert_non_null(strstr(e.msg, "--force"));
    /* nothing to serve: refused even forced */
    p.force = 1;
    assert_int_equal(registry_promote(f->s, "t", only_mlflow, &p, &previous, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "registered through MLflow"));
    assert_int_equal(registry_promote(f->s, "t", 1, &p, &previous, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT); /* already the champion */
    assert_int_equal(registry_promote(f->s, "t", 9, &p, &previous, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    int64_t v = 0;
    assert_int_equal(store_alias_get(f->s, "t", "champion", &v, &e), 1);
    assert_int_equal(v, 1); /* the refusals moved nothing */

    /* better: promoted without force; the move says why and who */
    p.force = 0;
    p.reason = "better on f1";
    assert_int_equal(registry_promote(f->s, "t", 3, &p, &previous, &e), 0);
    assert_int_equal(previous, 1);
    json_t *h = store_alias_history(f->s, "t", &e);
    json_t *last = json_array_get(h, 0);
    assert_string_equal(str_at(last, "alias"), "champion");
    assert_string_equal(str_at(last, "reason"), "better on f1");
    assert_string_equal(str_at(last, "actor"), "cli:bob");
    json_decref(h);

    /* archived: refused unless forced */
    assert_int_equal(store_model_version_update(f->s, "t", 1, NULL, "Archived", 0, &e), 0);
    assert_int_equal(registry_promote(f->s, "t", 1, &p, &previous, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "archived"));
    p.force = 1;
    p.reason = NULL;
    assert_int_equal(registry_promote(f->s, "t", 1, &p, &previous, &e), 0);
    assert_int_equal(previous, 3);
    h = store_alias_history(f->s, "t", &e);
    assert_string_equal(str_at(json_array_get(h, 0), "reason"), "promoted");
    json_decref(h);

    /* a version without test metrics has nothing to compare: not refused */
    p.force = 0;
    assert_int_equal(registry_promote(f->s, "t", no_metrics, &p, NULL, &e), 0);
    assert_int_equal(store_alias_get(f->s, "t", "champion", &v, &e), 1);
    assert_int_equal(v, no_metrics);
}

int main(void)
{
    log_set_level(LOG_WARN);
    ids_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_version),
        cmocka_unit_test_setup_teardown(test_show, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_promote, test_store_setup, test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
