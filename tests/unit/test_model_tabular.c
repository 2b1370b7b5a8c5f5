/* Models with tabular inputs (ml/model.c over ml/tabular.c): they learn
 * from numbers and categories alone or beside text, explain with
 * "field" / "field=value", travel in a format-3 artifact that round-trips,
 * refuse to be read against other fields, and fasttext refuses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ml/model.h"
#include "model_expect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 40 customers: churn (label 1) when tenure is short and the plan is
 * monthly; every 7th tenure is missing, every 9th plan too. */
#define N 40
static double tenure[N];
static const char *plan[N];
static size_t plan_len[N];
static int churn[N];
static const char *texts[N];
static const char *names[] = {"stays", "churns"};

static struct numeric_field nf[] = {{"tenure", IMPUTE_MEDIAN, 0, 1}};
static struct categorical_field cf[] = {{"plan", 0, 2}};

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) {
        churn[i] = i % 2;
        tenure[i] = churn[i] ? 1 + i % 5 : 20 + i;
        plan[i] =
            churn[i] ? (i % 4 == 1 ? "monthly" : " monthly") : (i % 3 ? "yearly" : "two-year");
        if (i % 7 == 3) tenure[i] = NAN;
        if (i % 9 == 4) plan[i] = NULL;
        plan_len[i] = plan[i] ? strlen(plan[i]) : 0;
        texts[i] = churn[i] ? "please cancel my line" : "thanks all good";
    }
    return 0;
}

static struct model_config tabular_config(void)
{
    struct model_config c;
    model_config_defaults(&c);
    c.text.min_df = 1;
    c.numeric = nf;
    c.n_numeric = 1;
    c.categorical = cf;
    c.n_categorical = 1;
    return c;
}

static const struct tabular_values all_rows = {1, 1, tenure, plan, plan_len};

static struct trained_model *train_config(const struct model_config *c, int with_text)
{
    struct err e;
    struct trained_model *m = model_train_rows(c, TASK_BINARY, with_text ? texts : NULL, &all_rows,
                                               churn, N, names, 2, &e);
    if (!m) fail_msg("%s", e.msg);
    return m;
}

static struct trained_model *train(int with_text)
{
    struct model_config c = tabular_config();
    return train_config(&c, with_text);
}

static size_t predict(const struct trained_model *m, const char *text, double x, const char *p,
                      double *probs)
{
    size_t len = text ? strlen(text) : 0, pl = p ? strlen(p) : 0;
    struct model_input in = {
        .text = &text, .text_lens = &len, .n_text = text ? 1 : 0, .tab = {1, 1, &x, &p, &pl}};
    return model_predict_input(m, &in, probs);
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
    const char *text = "please cancel";
    size_t len = strlen(text), pl = 7;
    double x = 2;
    const char *p = "monthly";
    struct model_input in = {&text, &len, 1, {1, 1, &x, &p, &pl}};
    double probs[2];
    assert_int_equal(model_predict_input(m, &in, probs), 1);
    struct model_contribution c[16];
    size_t k = model_explain_input(m, &in, 1, 16, c);
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
    assert_int_equal(model_explain_input(m, &in, 0, 16, d), k);
    assert_float_equal(d[0].weight, -c[0].weight, 1e-12);
    /* a value training never saw is said so */
    p = "weekly";
    pl = 6;
    k = model_explain_input(m, &in, 1, 16, c);
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
        struct trained_model *m = train_config(&c, with_text);
        struct buf b;
        buf_init(&b);
        struct err e;
        assert_int_equal(model_save(m, &b, &e), 0);
        assert_int_equal(b.data[8], 3);
        struct trained_model *l = model_load(b.data, b.len, &e);
        if (!l) fail_msg("%s", e.msg);
        assert_int_equal(model_n_features(l), model_n_features(m));
        double p[2], q[2];
        for (int i = 0; i < N; i++) {
            predict(m, with_text ? texts[i] : NULL, tenure[i], plan[i], p);
            predict(l, with_text ? texts[i] : NULL, tenure[i], plan[i], q);
            assert_memory_equal(p, q, sizeof p);
        }
        struct buf b2;
        buf_init(&b2);
        model_save(l, &b2, &e);
        assert_int_equal(b2.len, b.len);
        assert_memory_equal(b2.data, b.data, b.len);
        /* truncated anywhere: refused, never read past the end */
        for (size_t len = 20; len < b.len; len += 1 + b.len / 50)
            assert_null(model_load(b.data, len, &e));
        buf_free(&b);
        buf_free(&b2);
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
    size_t len = read_fixture("fixtures/model_format3.bin", data, sizeof data);
    assert_int_equal(len, 663);
    assert_int_equal(data[8], 3);
    struct err e;
    struct trained_model *m = model_load(data, len, &e);
    if (!m) fail_msg("%s", e.msg);
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
