/* Models with tabular inputs (ml/model.c over ml/tabular.c): they learn
 * from numbers and categories alone or beside text, explain with
 * "field" / "field=value", travel in a format-3 artifact that round-trips,
 * refuse to be read against other fields, and fasttext refuses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "churn_rows.h"
#include "ml/model.h"
#include "model_expect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 40 customers (churn_rows.h), some monthly plans spelt " monthly" */
#define N 40

static int setup(void **state)
{
    (void)state;
    make_churn(N, 1);
    return 0;
}

static struct model_config tabular_config(void)
{
    struct model_config c;
    model_config_defaults(&c);
    return churn_config(c);
}

static struct trained_model *train(int with_text)
{
    struct model_config c = tabular_config();
    return train_churn(&c, with_text);
}

static void test_tabular_only_model_learns(void **state)
{
    (void)state;
    struct trained_model *m = train(0);
    /* tenure, then plan: "" (missing), "monthly", "two-year", "yearly", unseen */
    assert_int_equal(model_n_features(m), 1 + 5);
    double p[2];
    assert_int_equal(predict(m, NULL, 2, "monthly", p), 1);
    assert_true(p[1] > 0.8);
    assert_int_equal(predict(m, NULL, 50, "yearly", p), 0);
    assert_true(p[0] > 0.8);
    /* missing values are imputed (tenure) or their own category (plan) */
    double q[2];
    predict(m, NULL, NAN, NULL, q);
    assert_true(q[0] > 0 && q[0] < 1);
    /* an input without tabular values reads as all missing */
    double r[2];
    model_predict(m, "", 0, r);
    assert_float_equal(r[1], q[1], 1e-12);
    int right = 0;
    for (int i = 0; i < N; i++) {
        const char *text = NULL;
        size_t len = 0;
        struct model_input in = {&text, &len, 0, tabular_values_row(&all_rows, (size_t)i)};
        right += (int)model_predict_input(m, &in, p) == churn[i];
    }
    assert_true(right >= N - 2);
    model_release(m);
}

static void test_explanation_names_fields(void **state)
{
    (void)state;
    struct trained_model *m = train(1);
    struct churn_input ci;
    churn_input(&ci, "please cancel", 2, "monthly");
    double probs[2];
    assert_int_equal(model_predict_input(m, &ci.in, probs), 1);
    struct model_contribution c[16];
    size_t k = model_explain_input(m, &ci.in, 1, 16, c);
    assert_int_equal(k, 3 + 2); /* please, cancel, "please cancel", tenure, plan=monthly */
    int saw_tenure = 0, saw_plan = 0;
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        saw_tenure += !strcmp(c[i].feature, "tenure");
        saw_plan += !strcmp(c[i].feature, "plan=monthly");
        sum += c[i].weight;
        if (i) assert_true(fabs(c[i].weight) <= fabs(c[i - 1].weight));
    }
    assert_int_equal(saw_tenure + saw_plan, 2);
    /* exact: the contributions and the intercept make the score */
    double score = log(probs[1] / probs[0]);
    struct buf b;
    buf_init(&b);
    struct err e;
    model_save(m, &b, &e);
    /* the bias is the artifact's last weight, right before the checksum */
    double bias;
    memcpy(&bias, b.data + b.len - 64 - 8, 8);
    assert_float_equal(sum + bias, score, 1e-9);
    /* label 0 gets the opposite contributions */
    struct model_contribution d[16];
    assert_int_equal(model_explain_input(m, &ci.in, 0, 16, d), k);
    assert_float_equal(d[0].weight, -c[0].weight, 1e-12);
    /* a value training never saw is said so */
    churn_input(&ci, "please cancel", 2, "weekly");
    k = model_explain_input(m, &ci.in, 1, 16, c);
    int unseen = 0;
    for (size_t i = 0; i < k; i++)
        unseen += !strcmp(c[i].feature, "plan=weekly (unseen)");
    assert_int_equal(unseen, 1);
    buf_free(&b);
    model_release(m);
}

static void test_format3_round_trip(void **state)
{
    (void)state;
    /* format 3: no text options (keep_punct, the default, makes the text model 6) */
    struct model_config c = tabular_config();
    c.text.keep_punct = 0;
    for (int with_text = 0; with_text < 2; with_text++) {
        struct trained_model *m = train_churn(&c, with_text);
        struct buf b;
        save_artifact(m, &b, 3);
        struct trained_model *l = load_artifact(&b);
        assert_int_equal(model_n_features(l), model_n_features(m));
        double p[2], q[2];
        for (int i = 0; i < N; i++) {
            predict(m, with_text ? texts[i] : NULL, tenure[i], plan[i], p);
            predict(l, with_text ? texts[i] : NULL, tenure[i], plan[i], q);
            assert_memory_equal(p, q, sizeof p);
        }
        expect_saved_as(l, b.data, b.len);
        expect_truncations_refused(&b, 50);
        buf_free(&b);
        model_release(l);
        model_release(m);
    }
}

/* A format-3 artifact (written by the build that introduced it, from
 * train(1)'s data): later builds must load it and predict the same. */
static void test_format3_fixture_loads(void **state)
{
    (void)state;
    char data[2048];
    size_t len;
    struct trained_model *m =
        load_fixture("fixtures/model_format3.bin", data, sizeof data, 3, &len);
    assert_int_equal(len, 663);
    assert_int_equal(model_n_features(m), 12 + 1 + 5); /* 12 n-grams, tenure, plan: 4 + unseen */
    double p[2];
    predict(m, "please cancel", NAN, "weekly", p); /* missing tenure, unseen plan */
    assert_float_equal(p[1], 0.74628829528176432, 1e-12);
    expect_saved_as(m, data, len);
    model_release(m);
}

static void test_fields_must_match_the_task(void **state)
{
    (void)state;
    struct trained_model *m = train(0);
    struct numeric_field other_nf[] = {{"tenure", IMPUTE_MEDIAN, 0, 1}};
    struct categorical_field other_cf[] = {{"plan", 0, 2}};
    struct task_config task = {.name = "churn",
                               .numeric = other_nf,
                               .n_numeric = 1,
                               .categorical = other_cf,
                               .n_categorical = 1};
    struct err e;
    assert_int_equal(model_check_fields(m, &task, &e), 0);
    other_cf[0].name = "contract";
    assert_int_equal(model_check_fields(m, &task, &e), -1);
    assert_string_equal(e.msg, "the model reads the tabular fields [tenure, plan] (1 numeric, 1 "
                               "categorical) but task 'churn' lists [tenure, contract] (1 "
                               "numeric, 1 categorical): train a model for this config");
    task.n_categorical = 0;
    assert_int_equal(model_check_fields(m, &task, &e), -1);
    model_release(m);
}

static void test_fasttext_refuses_tabular_fields(void **state)
{
    (void)state;
    struct model_config c = tabular_config();
    snprintf(c.kind, sizeof c.kind, "fasttext");
    struct err e;
    assert_null(model_train_rows(&c, TASK_BINARY, texts, &all_rows, churn, N, names, 2, &e));
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.field, "model.kind");
    assert_non_null(strstr(e.msg, "fasttext reads text fields only"));
    /* and a linear model needs some input */
    struct model_config none;
    model_config_defaults(&none);
    assert_null(model_train_rows(&none, TASK_BINARY, NULL, NULL, churn, N, names, 2, &e));
    assert_non_null(strstr(e.msg, "no input fields"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tabular_only_model_learns),
        cmocka_unit_test(test_explanation_names_fields),
        cmocka_unit_test(test_format3_round_trip),
        cmocka_unit_test(test_format3_fixture_loads),
        cmocka_unit_test(test_fields_must_match_the_task),
        cmocka_unit_test(test_fasttext_refuses_tabular_fields),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
