/* Metrics decide deployments: values are checked against scikit-learn's
 * (sklearn 1.2, zero_division=0) and against hand computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eval/metrics.h"

#include <math.h>
#include <string.h>

static void test_multiclass_scores(void **state)
{
    (void)state;
    const int yt[] = {0, 0, 1, 1, 2, 2, 2}, yp[] = {0, 1, 1, 1, 2, 0, 1};
    struct metrics m;
    struct err e;
    assert_int_equal(metrics_compute(yt, yp, NULL, 7, 3, &m, &e), 0);
    assert_float_equal(m.accuracy, 4.0 / 7, 1e-12);
    const double p[] = {0.5, 0.5, 1.0}, r[] = {0.5, 1.0, 1.0 / 3}, f[] = {0.5, 2.0 / 3, 0.5};
    for (int c = 0; c < 3; c++) {
        assert_float_equal(m.precision[c], p[c], 1e-12);
        assert_float_equal(m.recall[c], r[c], 1e-12);
        assert_float_equal(m.f1[c], f[c], 1e-12);
    }
    assert_int_equal(m.support[2], 3);
    assert_float_equal(m.precision_macro, 0.6666666666666666, 1e-12);
    assert_float_equal(m.recall_macro, 0.611111111111111, 1e-12);
    assert_float_equal(m.f1_macro, 0.5555555555555555, 1e-12);
    assert_float_equal(m.precision_weighted, 0.7142857142857143, 1e-12);
    assert_float_equal(m.recall_weighted, 0.5714285714285714, 1e-12);
    assert_float_equal(m.f1_weighted, 0.5476190476190476, 1e-12);
    /* row = true, column = predicted */
    const size_t cm[] = {1, 1, 0, 0, 2, 0, 1, 1, 1};
    assert_memory_equal(m.confusion, cm, sizeof cm);
    assert_true(isnan(m.roc_auc) && isnan(m.pr_auc) && isnan(m.log_loss));
    metrics_free(&m);
}

static void test_zero_division_and_unseen_labels(void **state)
{
    (void)state;
    /* class 1 and 2 are never predicted: precision 0, not NaN; label 3 is
     * in neither array and stays out of the macro average (as sklearn) */
    const int yt[] = {0, 1, 2, 2}, yp[] = {0, 0, 0, 0};
    struct metrics m;
    struct err e;
    assert_int_equal(metrics_compute(yt, yp, NULL, 4, 4, &m, &e), 0);
    assert_float_equal(m.precision[1], 0, 0);
    assert_float_equal(m.f1[3], 0, 0);
    assert_float_equal(m.precision_macro, 0.08333333333333333, 1e-12);
    assert_float_equal(m.recall_macro, 1.0 / 3, 1e-12);
    assert_float_equal(m.f1_macro, 0.13333333333333333, 1e-12);
    metrics_free(&m);
}

static void binary(const int *yt, const double *score, size_t n, struct metrics *m)
{
    double probs[16];
    int yp[8];
    for (size_t i = 0; i < n; i++) {
        probs[2 * i] = 1 - score[i];
        probs[2 * i + 1] = score[i];
        yp[i] = score[i] >= 0.5;
    }
    struct err e;
    assert_int_equal(metrics_compute(yt, yp, probs, n, 2, m, &e), 0);
}

static void test_binary_auc(void **state)
{
    (void)state;
    struct metrics m;
    const int y1[] = {0, 0, 1, 1};
    const double s1[] = {0.1, 0.4, 0.35, 0.8};
    binary(y1, s1, 4, &m);
    assert_float_equal(m.roc_auc, 0.75, 1e-12);
    assert_float_equal(m.pr_auc, 0.8333333333333333, 1e-12);
    metrics_free(&m);

    /* ties: a positive tied with a negative counts half a win (3.5 / 4);
     * the tied pair enters the PR curve as one threshold */
    const int y2[] = {0, 1, 0, 1};
    const double s2[] = {0.5, 0.5, 0.2, 0.9};
    binary(y2, s2, 4, &m);
    assert_float_equal(m.roc_auc, 0.875, 1e-12);
    assert_float_equal(m.pr_auc, 0.5 * 1.0 + 0.5 * (2.0 / 3), 1e-12);
    metrics_free(&m);

    /* everything tied: chance level; AP = the positive rate */
    const int y3[] = {0, 1, 0, 1};
    const double s3[] = {0.3, 0.3, 0.3, 0.3};
    binary(y3, s3, 4, &m);
    assert_float_equal(m.roc_auc, 0.5, 1e-12);
    assert_float_equal(m.pr_auc, 0.5, 1e-12);
    metrics_free(&m);

    /* one class only: AUC undefined */
    const int y4[] = {1, 1};
    const double s4[] = {0.2, 0.9};
    binary(y4, s4, 2, &m);
    assert_true(isnan(m.roc_auc));
    assert_float_equal(m.pr_auc, 1.0, 1e-12);
    metrics_free(&m);
}

static void test_log_loss(void **state)
{
    (void)state;
    struct metrics m;
    const int y[] = {0, 1, 1};
    const double s[] = {0.1, 0.8, 0.4};
    binary(y, s, 3, &m);
    assert_float_equal(m.log_loss, 0.414931599615397, 1e-12);
    metrics_free(&m);
    /* a confident miss is clipped at 1e-15, not infinite */
    const int y2[] = {1};
    const double s2[] = {0.0};
    binary(y2, s2, 1, &m);
    assert_float_equal(m.log_loss, -log(1e-15), 1e-9);
    metrics_free(&m);
}

static void test_errors(void **state)
{
    (void)state;
    struct metrics m;
    struct err e;
    const int y[] = {0, 3};
    assert_int_equal(metrics_compute(y, y, NULL, 0, 2, &m, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(metrics_compute(y, y, NULL, 2, 2, &m, &e), -1);
    assert_non_null(strstr(e.msg, "out of range"));
    metrics_free(&m);
}

static void test_json(void **state)
{
    (void)state;
    const int yt[] = {0, 1, 1, 0}, yp[] = {0, 1, 0, 0};
    const double probs[] = {0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.7, 0.3};
    struct metrics m;
    struct err e;
    assert_int_equal(metrics_compute(yt, yp, probs, 4, 2, &m, &e), 0);
    const char *names[] = {"neg", "pos"};
    json_t *j = metrics_to_json(&m, names);
    assert_float_equal(json_real_value(json_object_get(j, "accuracy")), 0.75, 1e-12);
    assert_float_equal(json_real_value(json_object_get(j, "roc_auc")), 1.0, 1e-12);
    json_t *pos = json_object_get(json_object_get(j, "per_class"), "pos");
    assert_float_equal(json_real_value(json_object_get(pos, "recall")), 0.5, 1e-12);
    assert_int_equal(json_integer_value(json_object_get(pos, "support")), 2);
    json_t *cm = json_object_get(j, "confusion_matrix");
    assert_string_equal(json_string_value(json_array_get(json_object_get(cm, "labels"), 1)), "pos");
    json_t *row1 = json_array_get(json_object_get(cm, "matrix"), 1);
    assert_int_equal(json_integer_value(json_array_get(row1, 0)), 1);
    json_decref(j);
    metrics_free(&m);

    /* multiclass without probabilities: undefined metrics become null */
    const int y3[] = {0, 1, 2};
    assert_int_equal(metrics_compute(y3, y3, NULL, 3, 3, &m, &e), 0);
    j = metrics_to_json(&m, NULL);
    assert_true(json_is_null(json_object_get(j, "roc_auc")));
    assert_non_null(json_object_get(json_object_get(j, "per_class"), "2"));
    json_decref(j);
    metrics_free(&m);
}

/* Reference values from scikit-learn 1.2 (roc_auc_score multi_class="ovr",
 * average_precision_score per label, brier_score_loss) and a 15-bin ECE. */
static void test_calibration_and_one_vs_rest(void **state)
{
    (void)state;
    const int yt[] = {0, 1, 2, 2, 1, 0}, yp[] = {0, 1, 2, 1, 0, 0};
    const double probs[] = {0.7, 0.2, 0.1, 0.1, 0.6, 0.3, 0.2, 0.2,  0.6,
                            0.3, 0.4, 0.3, 0.5, 0.4, 0.1, 0.4, 0.35, 0.25};
    struct metrics m;
    struct err e;
    assert_int_equal(metrics_compute(yt, yp, probs, 6, 3, &m, &e), 0);
    assert_float_equal(m.roc_auc, 0.9166666666666666, 1e-12);
    assert_float_equal(m.pr_auc, 0.8333333333333334, 1e-12);
    assert_float_equal(m.brier, 0.42416666666666664, 1e-12);
    assert_float_equal(m.ece, 0.3, 1e-12);
    assert_float_equal(m.f1_micro, m.accuracy, 0);
    metrics_free(&m);

    const int yb[] = {0, 1, 1, 0}, pb[] = {0, 1, 0, 0};
    const double pr[] = {0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.7, 0.3};
    assert_int_equal(metrics_compute(yb, pb, pr, 4, 2, &m, &e), 0);
    assert_float_equal(m.brier, 0.125, 1e-12);
    assert_float_equal(m.ece, 0.3, 1e-12);
    metrics_free(&m);

    /* a label never true has no one-vs-rest curve: left out of the average */
    const int y1[] = {0, 1, 0, 1}, p1[] = {0, 1, 0, 1};
    const double q1[] = {0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.6, 0.3, 0.1, 0.3, 0.6, 0.1};
    assert_int_equal(metrics_compute(y1, p1, q1, 4, 3, &m, &e), 0);
    assert_float_equal(m.roc_auc, 1.0, 1e-12);
    metrics_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multiclass_scores),
        cmocka_unit_test(test_calibration_and_one_vs_rest),
        cmocka_unit_test(test_zero_division_and_unseen_labels),
        cmocka_unit_test(test_binary_auc),
        cmocka_unit_test(test_log_loss),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
