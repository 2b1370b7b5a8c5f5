/* Unit tests for a task's tabular inputs (base/config_tabular.c):
 * `numeric:`, `categorical:`, `impute:`, their per-field options, the
 * defaults, and errors that name the file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/config.h"
#include "config_expect.h"

#include <stdio.h>
#include <string.h>

#define TASK_HEAD                                                                                  \
    "tasks:\n"                                                                                     \
    "  churn:\n"                                                                                   \
    "    type: binary\n"                                                                           \
    "    label: churn\n"

static void test_tabular_only_task(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    assert_int_equal(load(TASK_HEAD "    numeric: [tenure, {name: total_charges, impute: zero}]\n"
                                    "    categorical:\n"
                                    "      - contract\n"
                                    "      - {name: zip, hash_bits: 12}\n",
                          &c, &e),
                     0);
    const struct task_config *t = &c.tasks[0];
    assert_int_equal(t->n_text_fields, 0);
    assert_int_equal(t->n_numeric, 2);
    assert_string_equal(t->numeric[0].name, "tenure");
    assert_int_equal(t->numeric[0].impute, IMPUTE_MEDIAN); /* the default */
    assert_string_equal(t->numeric[1].name, "total_charges");
    assert_int_equal(t->numeric[1].impute, IMPUTE_ZERO);
    assert_int_equal(t->numeric[1].line, 5);
    assert_int_equal(t->n_categorical, 2);
    assert_string_equal(t->categorical[0].name, "contract");
    assert_int_equal(t->categorical[0].hash_bits, 0);
    assert_string_equal(t->categorical[1].name, "zip");
    assert_int_equal(t->categorical[1].hash_bits, 12);
    config_free(&c);
}

static void test_task_impute_and_text(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    /* the task's impute applies to fields without their own, wherever it is written */
    assert_int_equal(load(TASK_HEAD "    text: notes\n"
                                    "    numeric: [a, {name: b, impute: median}]\n"
                                    "    categorical: plan\n"
                                    "    impute: mean\n",
                          &c, &e),
                     0);
    const struct task_config *t = &c.tasks[0];
    assert_int_equal(t->n_text_fields, 1);
    assert_int_equal(t->numeric[0].impute, IMPUTE_MEAN);
    assert_int_equal(t->numeric[1].impute, IMPUTE_MEDIAN);
    assert_int_equal(t->n_categorical, 1);
    assert_string_equal(t->categorical[0].name, "plan");
    assert_string_equal(impute_kind_name(IMPUTE_ZERO), "zero");
    config_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(TASK_HEAD, "boucle.yaml:2: tasks.churn: missing required key 'text' (or "
                            "'numeric', 'categorical')");
    expect_error(TASK_HEAD "    numeric: []\n",
                 "boucle.yaml:5: tasks.churn.numeric: expected at least one field name");
    expect_error(TASK_HEAD "    numeric: {tenure: 1}\n",
                 "boucle.yaml:5: tasks.churn.numeric: expected a list of field names");
    expect_error(TASK_HEAD "    numeric: [a, {impute: zero}]\n",
                 "boucle.yaml:5: tasks.churn.numeric[1]: missing required key 'name'");
    expect_error(TASK_HEAD "    numeric: [a, {name: b, impute: average}]\n",
                 "boucle.yaml:5: tasks.churn.numeric[1].impute: expected one of median, mean, "
                 "zero, got 'average'");
    expect_error(TASK_HEAD "    numeric: [{name: b, hash_bits: 3}]\n",
                 "boucle.yaml:5: tasks.churn.numeric[0].hash_bits: unknown key (known: name, "
                 "impute)");
    expect_error(TASK_HEAD "    categorical: [{name: z, hash_bits: 25}]\n",
                 "boucle.yaml:5: tasks.churn.categorical[0].hash_bits: expected an integer >= 1, "
                 "got '25'");
    expect_error(TASK_HEAD "    categorical: [{name: z, impute: zero}]\n",
                 "boucle.yaml:5: tasks.churn.categorical[0].impute: unknown key (known: name, "
                 "hash_bits)");
    expect_error(TASK_HEAD "    categorical: [[a]]\n",
                 "boucle.yaml:5: tasks.churn.categorical[0]: expected a field name or a mapping "
                 "with 'name', got a list");
    expect_error(TASK_HEAD "    impute: mode\n    numeric: a\n",
                 "boucle.yaml:5: tasks.churn.impute: expected one of median, mean, zero, got "
                 "'mode'");
    expect_error(TASK_HEAD "    text: a\n    numeric: [b, a]\n",
                 "boucle.yaml:2: tasks.churn: field 'a' is listed twice among text, numeric and "
                 "categorical");
    expect_error(TASK_HEAD "    numeric: b\n    categorical: b\n",
                 "boucle.yaml:2: tasks.churn: field 'b' is listed twice among text, numeric and "
                 "categorical");
    expect_error(TASK_HEAD "    numeric: [a, churn]\n",
                 "boucle.yaml:2: tasks.churn: column 'churn' is both a numeric field and the "
                 "label");
    expect_error(TASK_HEAD "    categorical: churn\n",
                 "boucle.yaml:2: tasks.churn: column 'churn' is both a categorical field and the "
                 "label");
    /* with no text, these row steps would drop every row (or all but one) */
    expect_error(TASK_HEAD "    numeric: a\n    clean: [dedupe]\n",
                 "boucle.yaml:2: tasks.churn: clean: dedupe looks at the text fields, and the "
                 "task has none");
    expect_error("tasks:\n  tags:\n    type: multilabel\n    label: tags\n    text: body\n"
                 "    numeric: [words]\n",
                 "boucle.yaml:2: tasks.tags: a multilabel task reads text fields only: numeric "
                 "and categorical fields are for binary and multiclass tasks");
}

static void test_field_limit(void **state)
{
    (void)state;
    char yaml[4096];
    int n = snprintf(yaml, sizeof yaml, TASK_HEAD "    numeric: [");
    for (int i = 0; i < TASK_MAX_TABULAR_FIELDS; i++)
        n += snprintf(yaml + n, sizeof yaml - (size_t)n, "%sn%d", i ? ", " : "", i);
    snprintf(yaml + n, sizeof yaml - (size_t)n, "]\n    categorical: [c]\n");
    expect_error(yaml, "boucle.yaml:6: tasks.churn.categorical[0]: at most 256 numeric and "
                       "categorical fields");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tabular_only_task),
        cmocka_unit_test(test_task_impute_and_text),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_field_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
