/* The xgboost kind (ml/xgboost_model.c through ml/model.c): it learns from
 * text and tabular fields, its probabilities sum to 1, its format-5
 * artifact round-trips and refuses damage, early stopping keeps the best
 * round, its settings are checked, and its SHAP contributions add up to
 * the margin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ids.h"
#include "churn_rows.h"
#include "ml/model.h"
#include "model_expect.h"

/* p[1] of the format-5 fixture for "please cancel", missing tenure, unseen plan */
#define FIXTURE_P1 0.98435437679290771

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 60 customers (churn_rows.h) */
#define N 60

static int setup(void **state)
{
    (void)state;
    make_churn(N, 0);
    return 0;
}

static struct model_config xgb_config(void)
{
    struct model_config c = churn_config(parsed_config("xgboost"));
    c.xgb.n_estimators = 20;
    c.xgb.min_child_weight = 0.5; /* 60 rows: let small leaves split */
    return c;
}

static struct trained_model *train(const struct model_config *c)
{
    return train_churn(c, 1);
}

static void test_learns_binary_text_and_fields(void **state)
{
    (void)state;
    struct model_config c = xgb_config();
    struct trained_model *m = train(&c);
    assert_string_equal(model_kind(m), "xgboost");
    /* 7 + 5 n-grams of the two texts (1-2-grams), tenure, plan: 3 values + missing + unseen */
    assert_int_equal(model_n_features(m), 12 + 1 + 5);
    double p[2];
    int right = 0;
    for (int i = 0; i < N; i++) {
        size_t best = predict(m, texts[i], tenure[i], plan[i], p);
        assert_float_equal(p[0] + p[1], 1.0, 1e-12);
        right += (int)best == churn[i];
    }
    assert_int_equal(right, N);
    assert_int_equal(predict(m, "please cancel", 2, "monthly", p), 1);
    assert_true(p[1] > 0.9);
    assert_true(model_fit_seconds(m) > 0);
    model_release(m);
}

/* three colours said in words; the third of them also by a number */
static void test_multiclass_probabilities_sum_to_one(void **state)
{
    (void)state;
    static const char *colours[] = {"red", "green", "blue"};
    const char *t[90];
    int y[90];
    char buf[90][32];
    for (int i = 0; i < 90; i++) {
        y[i] = i % 3;
        snprintf(buf[i], sizeof buf[i], "%s sky %d", colours[y[i]], i % 4);
        t[i] = buf[i];
    }
    struct model_config c = parsed_config("xgboost");
    c.text.min_df = 1;
    c.xgb.n_estimators = 10;
    struct err e;
    struct trained_model *m = model_train(&c, TASK_MULTICLASS, t, y, 90, colours, 3, &e);
    if (!m) fail_msg("%s", e.msg);
    double p[3];
    for (int i = 0; i < 90; i++) {
        assert_int_equal(model_predict(m, t[i], strlen(t[i]), p), y[i]);
        assert_float_equal(p[0] + p[1] + p[2], 1.0, 1e-12);
    }
    /* an explanation of a label: its colour word first */
    const char *text = "blue sky";
    size_t len = strlen(text);
    struct model_contribution out[4];
    size_t k = model_explain(m, &text, &len, 1, 2, 4, out);
    assert_true(k > 0);
    assert_string_equal(out[0].feature, "blue");
    assert_true(out[0].weight > 0);
    /* scale_pos_weight is a binary task's */
    c.xgb.scale_pos_weight = 3;
    assert_null(model_train(&c, TASK_MULTICLASS, t, y, 90, colours, 3, &e));
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "model.scale_pos_weight: applies to a binary task"));
    model_release(m);
}

static void test_round_trip_predicts_the_same(void **state)
{
    (void)state;
    struct model_config c = xgb_config();
    c.text.keep_punct = 0; /* format 5: no text options (the default keep_punct makes 6) */
    struct trained_model *m = train(&c);
    struct buf b;
    save_artifact(m, &b, 5);
    struct trained_model *l = load_artifact(&b);
    assert_string_equal(model_kind(l), "xgboost");
    double p[2], q[2];
    for (int i = 0; i < N; i++) {
        predict(m, texts[i], tenure[i], plan[i], p);
        predict(l, texts[i], tenure[i], plan[i], q);
        assert_memory_equal(p, q, sizeof p);
    }
    expect_saved_as(l, b.data, b.len);
    buf_free(&b);
    model_release(l);
    model_release(m);
}

static void test_damaged_artifact_refused(void **state)
{
    (void)state;
    struct model_config c = xgb_config();
    c.text.keep_punct = 0; /* format 5's layout */
    struct trained_model *m = train(&c);
    struct buf b;
    save_artifact(m, &b, 5);
    expect_xgboost_damage_refused(&b, "xgboost", "format 5 cannot hold a model of kind 'linear'");
    buf_free(&b);
    model_release(m);
}

/* noisy labels, so that more rounds overfit and the validation loss turns */
static void noisy_rows(struct tfidf_matrix *x, int *y, size_t n, uint32_t *idx, double *val,
                       size_t *row_ptr)
{
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double a = (double)(s >> 11) / 9007199254740992.0;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double b = (double)(s >> 11) / 9007199254740992.0;
        idx[2 * i] = 0;
        val[2 * i] = a;
        idx[2 * i + 1] = 1;
        val[2 * i + 1] = b;
        row_ptr[i] = 2 * i;
        y[i] = (a + 0.3 * b > 0.6) != ((s >> 40) % 4 == 0); /* a quarter flipped */
    }
    row_ptr[n] = 2 * n;
    *x = (struct tfidf_matrix){n, row_ptr, idx, val};
}

static void test_early_stopping_keeps_best_round(void **state)
{
    (void)state;
    enum { R = 400 };
    static uint32_t idx[2 * R];
    static double val[2 * R];
    static size_t row_ptr[R + 1];
    static int y[R];
    struct tfidf_matrix x;
    noisy_rows(&x, y, R, idx, val, row_ptr);
    struct xgb_params p;
    xgb_params_defaults(&p);
    p.n_estimators = 300;
    p.learning_rate = 0.5;
    p.max_depth = 6;
    p.early_stopping_rounds = 5;
    p.validation_fraction = 0.25;
    struct err e;
    struct xgb_model *a = xgb_train(&p, &x, 2, y, 2, &e);
    if (!a) fail_msg("%s", e.msg);
    int kept = xgb_rounds_kept(a), trained = xgb_rounds_trained(a);
    assert_true(trained < 300);
    assert_int_equal(trained - kept, 5); /* stopped 5 rounds after the best one */
    /* the kept model is the first `kept` rounds: training that many gives it again */
    p.n_estimators = kept;
    struct xgb_model *b = xgb_train(&p, &x, 2, y, 2, &e);
    if (!b) fail_msg("%s", e.msg);
    assert_int_equal(xgb_rounds_kept(b), kept);
    struct xgb_scratch s = {0};
    for (size_t i = 0; i < R; i++) {
        struct xgb_row row = {{idx + 2 * i, NULL}, {val + 2 * i, NULL}, {2, 0}};
        double pa[2], pb[2];
        xgb_predict(a, &row, &s, pa);
        xgb_predict(b, &row, &s, pb);
        assert_memory_equal(pa, pb, sizeof pa);
    }
    /* the held-out rows are a stratified share: a quarter of each label */
    unsigned char valid[R];
    xgb_validation_split(y, R, 2, 0.25, 0, valid);
    size_t per[2] = {0}, held[2] = {0};
    for (size_t i = 0; i < R; i++)
        per[y[i]]++, held[y[i]] += valid[i];
    for (int l = 0; l < 2; l++)
        assert_int_equal(held[l], (size_t)llround(0.25 * (double)per[l]));
    xgb_scratch_free(&s);
    xgb_free(a);
    xgb_free(b);
}

static void test_shap_contributions_add_up_to_the_margin(void **state)
{
    (void)state;
    struct model_config c = xgb_config();
    struct trained_model *m = train(&c);
    /* through the model: every feature named, the one-hot block summed */
    struct churn_input ci;
    churn_input(&ci, "please cancel", 2, "monthly");
    double probs[2];
    assert_int_equal(model_predict_input(m, &ci.in, probs), 1);
    struct model_contribution out[32];
    size_t k = model_explain_input(m, &ci.in, 1, 32, out);
    assert_true(k >= 2);
    double sum = 0;
    int saw_plan = 0, saw_absent = 0;
    for (size_t i = 0; i < k; i++) {
        sum += out[i].weight;
        saw_plan += !strcmp(out[i].feature, "plan=monthly");
        saw_absent += strstr(out[i].feature, " (absent)") != NULL;
        if (i) assert_true(fabs(out[i].weight) <= fabs(out[i - 1].weight));
    }
    assert_true(saw_plan + saw_absent > 0);
    /* label 0 gets the opposite */
    struct model_contribution neg[32];
    assert_int_equal(model_explain_input(m, &ci.in, 0, 32, neg), k);
    assert_float_equal(neg[0].weight, -out[0].weight, 1e-12);

    /* in the xgb layer: contributions + bias = the margin, logit(p) */
    uint32_t idx[3] = {0, 1, 2};
    double val[3] = {0.5, 0.5, 1};
    struct xgb_row row = {{idx, NULL}, {val, NULL}, {3, 0}};
    struct xgb_params xp;
    xgb_params_defaults(&xp);
    xp.n_estimators = 10;
    xp.min_child_weight = 0.5;
    struct tfidf_matrix xm;
    static uint32_t ri[2 * 200];
    static double rv[2 * 200];
    static size_t rp[201];
    static int ry[200];
    noisy_rows(&xm, ry, 200, ri, rv, rp);
    struct err e;
    struct xgb_model *xg = xgb_train(&xp, &xm, 3, ry, 2, &e);
    if (!xg) fail_msg("%s", e.msg);
    struct xgb_scratch s = {0};
    double pr[2], contrib[4];
    xgb_predict(xg, &row, &s, pr);
    assert_int_equal(xgb_contributions(xg, &row, 0, contrib, &e), 0);
    double margin = log(pr[1] / pr[0]), total = 0;
    for (int f = 0; f < 3; f++)
        total += contrib[f];
    assert_float_equal(total, margin - contrib[3], 1e-5); /* floats inside XGBoost */
    assert_true(contrib[2] == 0);                         /* a feature no tree uses */
    xgb_scratch_free(&s);
    xgb_free(xg);
    model_release(m);
}

static void test_bad_params_name_key_and_line(void **state)
{
    (void)state;
    expect_kind_param_error("xgboost", "max_depth", "0", "expected an integer from 1 to 64");
    expect_kind_param_error("xgboost", "n_estimators", "ten", "expected an integer from 1");
    expect_kind_param_error("xgboost", "learning_rate", "0", "expected a number above 0");
    expect_kind_param_error("xgboost", "subsample", "1.5", "expected a share above 0, at most 1");
    expect_kind_param_error("xgboost", "reg_alpha", "-1", "expected a number from 0 to 1e9");
    expect_kind_param_error("xgboost", "scale_pos_weight", "0", "expected a number above 0");
    expect_kind_param_error("xgboost", "tree_method", "gpu_hist", "expected hist, approx or exact");
    expect_kind_param_error("xgboost", "validation_fraction", "0.9", "at most 0.5");
    expect_kind_param_error("xgboost", "C", "1", "unknown key for kind xgboost");
    expect_kind_param_error("xgboost", "min_df", "0", "expected a positive integer");
    /* the featuriser's keys and xgboost's side by side */
    struct model_config c;
    struct err e;
    struct config_param ps[] = {{"ngram_range", "1,1", 3},
                                {"max_depth", "3", 4},
                                {"tree_method", "exact", 5},
                                {"early_stopping_rounds", "10", 6}};
    assert_int_equal(model_config_parse(&c, "xgboost", ps, 4, &e), 0);
    assert_string_equal(c.kind, "xgboost");
    assert_int_equal(c.text.ngram_max, 1);
    assert_int_equal(c.xgb.max_depth, 3);
    assert_int_equal(c.xgb.tree, XGB_EXACT);
    assert_int_equal(c.xgb.early_stopping_rounds, 10);
    assert_int_equal(c.xgb.nthread, 2);
    assert_float_equal(c.xgb.learning_rate, 0.3, 0);
}

/* A multilabel task's boosters train on one thread unless nthread is set. */
static void test_multilabel_defaults_to_one_thread(void **state)
{
    (void)state;
    struct model_config c;
    struct err e;
    assert_int_equal(model_config_parse(&c, "xgboost", NULL, 0, &e), 0);
    assert_int_equal(c.xgb.nthread, 2);
    xgb_params_multilabel(&c.xgb);
    assert_int_equal(c.xgb.nthread, 1);
    struct config_param two[] = {{"nthread", "2", 3}}, all[] = {{"nthread", "0", 3}};
    assert_int_equal(model_config_parse(&c, "xgboost", two, 1, &e), 0);
    xgb_params_multilabel(&c.xgb);
    assert_int_equal(c.xgb.nthread, 2);
    assert_int_equal(model_config_parse(&c, "xgboost", all, 1, &e), 0);
    xgb_params_multilabel(&c.xgb);
    assert_int_equal(c.xgb.nthread, 0);
}

/* A format-5 artifact written by the build that introduced it (from the
 * data of train(xgb_config())): later builds must load it, predict the
 * same and write it again byte for byte. BOUCLE_WRITE_FIXTURES=1 writes it. */
static void test_format5_fixture_loads(void **state)
{
    (void)state;
    const char *path = "fixtures/model_format5.bin";
    if (getenv("BOUCLE_WRITE_FIXTURES")) {
        struct model_config c = xgb_config();
        struct trained_model *m = train(&c);
        write_fixture(path, m);
        double p[2];
        predict(m, "please cancel", NAN, "weekly", p);
        printf("p[1] = %.17g\n", p[1]);
        model_release(m);
    }
    static char data[65536];
    size_t len;
    struct trained_model *m = load_fixture(path, data, sizeof data, 5, &len);
    assert_int_equal(model_n_features(m), 12 + 1 + 5);
    double p[2];
    predict(m, "please cancel", NAN, "weekly", p); /* missing tenure, unseen plan */
    assert_float_equal(p[1], FIXTURE_P1, 1e-12);
    expect_saved_as(m, data, len);
    model_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_binary_text_and_fields),
        cmocka_unit_test(test_multiclass_probabilities_sum_to_one),
        cmocka_unit_test(test_round_trip_predicts_the_same),
        cmocka_unit_test(test_damaged_artifact_refused),
        cmocka_unit_test(test_early_stopping_keeps_best_round),
        cmocka_unit_test(test_shap_contributions_add_up_to_the_margin),
        cmocka_unit_test(test_bad_params_name_key_and_line),
        cmocka_unit_test(test_multilabel_defaults_to_one_thread),
        cmocka_unit_test(test_format5_fixture_loads),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
