/* The tabular part of a data profile (data/data_profile_tabular.c):
 * missing rates, nearest-rank value quantiles, the most frequent
 * categories; a text task's profile is unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/data_profile.h"

#include <math.h>
#include <string.h>

static struct numeric_field numeric[] = {{"tenure", IMPUTE_MEDIAN, 0, 1}};
static struct categorical_field categorical[] = {{"plan", 0, 1}};

static double get(json_t *doc, const char *kind, const char *field, const char *key)
{
    json_t *v = json_object_get(json_object_get(json_object_get(doc, kind), field), key);
    assert_non_null(v);
    return json_number_value(v);
}

static void test_numeric_and_categorical(void **state)
{
    (void)state;
    struct task_config task = {.name = "churn",
                               .numeric = numeric,
                               .n_numeric = 1,
                               .categorical = categorical,
                               .n_categorical = 1};
    struct data_profile p;
    data_profile_init(&p, &task);
    /* 20 rows: tenure 1..18 and two missing; plan gold x10, basic x6, trial x2, 2 missing */
    for (int i = 0; i < 20; i++) {
        double x = i < 18 ? i + 1 : NAN;
        const char *plan = i < 10   ? "gold"
                           : i < 16 ? "basic"
                           : i < 18 ? "trial"
                           : i < 19 ? NULL
                                    : " ";
        size_t len = plan ? strlen(plan) : 0;
        data_profile_add(&p, NULL, NULL, 0, "no");
        data_profile_add_tabular(&p, &x, &plan, &len);
    }
    json_t *doc = data_profile_json(&p);
    assert_float_equal(get(doc, "numeric", "tenure", "missing_rate"), 0.1, 1e-12);
    assert_float_equal(get(doc, "numeric", "tenure", "min"), 1, 0);
    assert_float_equal(get(doc, "numeric", "tenure", "p50"), 9, 0); /* rank ceil(0.5 * 18) */
    assert_float_equal(get(doc, "numeric", "tenure", "p95"), 18, 0);
    assert_float_equal(get(doc, "numeric", "tenure", "mean"), 9.5, 1e-12);
    assert_float_equal(get(doc, "categorical", "plan", "missing"), 2, 0); /* null and blank */
    assert_float_equal(get(doc, "categorical", "plan", "distinct"), 3, 0);
    json_t *top =
        json_object_get(json_object_get(json_object_get(doc, "categorical"), "plan"), "top");
    assert_int_equal(json_array_size(top), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(top, 0), "value")),
                        "gold");
    assert_float_equal(json_number_value(json_object_get(json_array_get(top, 0), "share")), 0.5,
                       1e-12);
    assert_string_equal(json_string_value(json_object_get(json_array_get(top, 2), "value")),
                        "trial");
    json_decref(doc);
    data_profile_free(&p);
}

static void test_text_task_unchanged(void **state)
{
    (void)state;
    char *fields[] = {"text"};
    struct task_config task = {.name = "s", .text_fields = fields, .n_text_fields = 1};
    struct data_profile p;
    data_profile_init(&p, &task);
    const char *v = "hello";
    size_t len = 5;
    data_profile_add(&p, &v, &len, 0, "a");
    json_t *doc = data_profile_json(&p);
    assert_null(json_object_get(doc, "numeric"));
    assert_null(json_object_get(doc, "categorical"));
    json_decref(doc);
    data_profile_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_and_categorical),
        cmocka_unit_test(test_text_task_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
