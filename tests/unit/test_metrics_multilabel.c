/* Multilabel metrics decide deployments too: the scikit-learn ones are
 * checked against sklearn 1.2 (zero_division=0, macro over the labels seen,
 * ROC-AUC and average precision per label then averaged), the tagging
 * figures against hand counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eval/metrics_multilabel.h"

#include <math.h>
#include <string.h>

enum { N = 12, L = 5 };

/* 12 documents, 5 labels: label 4 is never true but predicted once,
 * documents 2 and 7 have no true label, document 9 no predicted one. */
static const unsigned char truth[N * L] = {
    0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0};
static const unsigned char pred[N * L] = {
    0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0};
static const double probs[N * L] = {
    0.224, 0.401, 0.554, 0.344, 0.195, 0.267, 0.387, 0.496, 0.933, 0.138, 0.415, 0.39,
    0.434, 0.285, 0.358, 0.04,  0.394, 0.119, 0.441, 0.06,  0.428, 0.332, 0.113, 0.921,
    0.409, 0.325, 0.774, 0.508, 0.556, 0.504, 0.436, 0.288, 0.505, 0.447, 0.396, 0.548,
    0.38,  0.22,  0.332, 0.118, 0.115, 0.435, 0.821, 0.933, 0.511, 0.326, 0.054, 0.643,
    0.907, 0.473, 0.641, 0.623, 0.131, 0.456, 0.044, 0.535, 0.384, 0.086, 0.248, 0.029};

static void test_against_sklearn(void **state)
{
    (void)state;
    struct metrics_multilabel m;
    struct err e;
    assert_int_equal(metrics_multilabel_compute(truth, pred, probs, N, L, &m, &e), 0);
    assert_float_equal(m.subset_accuracy, 0.25, 1e-12);
    assert_float_equal(m.hamming_loss, 0.21666666666666667, 1e-12);
    assert_float_equal(m.precision_micro, 0.6428571428571429, 1e-12);
    assert_float_equal(m.recall_micro, 0.5294117647058824, 1e-12);
    assert_float_equal(m.f1_micro, 0.5806451612903226, 1e-12);
    assert_float_equal(m.precision_samples, 0.4583333333333333, 1e-12);
    assert_float_equal(m.recall_samples, 0.375, 1e-12);
    assert_float_equal(m.f1_samples, 0.38611111111111107, 1e-12);
    assert_float_equal(m.precision_macro, 0.5666666666666667, 1e-12);
    assert_float_equal(m.recall_macro, 0.42000000000000004, 1e-12);
    assert_float_equal(m.f1_macro, 0.4666666666666666, 1e-12);
    const double f1[L] = {0.4, 2.0 / 3, 2.0 / 3, 0.6, 0};
    for (size_t c = 0; c < L; c++)
        assert_float_equal(m.f1[c], f1[c], 1e-12);
    assert_int_equal(m.support[4], 0);
    assert_int_equal(m.predicted[4], 1);
    assert_float_equal(m.roc_auc, 0.8954613095238095, 1e-12);
    assert_float_equal(m.pr_auc, 0.8475198412698413, 1e-12);
    /* the tagging figures */
    assert_int_equal(m.n_tagged, 8);
    assert_float_equal(m.docs_any_found, 0.75, 1e-12);
    assert_float_equal(m.docs_all_found, 0.375, 1e-12);
    assert_float_equal(m.docs_no_prediction, 0.25, 1e-12);
    assert_float_equal(m.label_coverage, 1.0, 1e-12);
    assert_float_equal(m.labels_per_doc_true, 17.0 / 12, 1e-12);
    assert_float_equal(m.labels_per_doc_pred, 14.0 / 12, 1e-12);

    json_t *j = metrics_multilabel_to_json(&m, (const char *const[]){"a", "b", "c", "d", "e"});
    assert_float_equal(json_real_value(json_object_get(j, "accuracy")), 0.25, 1e-12);
    assert_float_equal(json_real_value(json_object_get(j, "f1_micro")), m.f1_micro, 0);
    json_t *e4 = json_object_get(json_object_get(j, "per_class"), "e");
    assert_int_equal(json_integer_value(json_object_get(e4, "predicted")), 1);
    assert_float_equal(
        json_real_value(json_object_get(json_object_get(j, "labels_per_doc"), "true")), 17.0 / 12,
        1e-12);
    json_decref(j);
    /* what a search ranks by: by name, higher-is-better figures only */
    double v;
    assert_int_equal(metrics_multilabel_value(&m, "f1_samples", &v, &e), 0);
    assert_float_equal(v, m.f1_samples, 0);
    assert_int_equal(metrics_multilabel_value(&m, "accuracy", &v, &e), 0);
    assert_float_equal(v, m.subset_accuracy, 0);
    assert_int_equal(metrics_multilabel_value(&m, "hamming_loss", &v, &e), -1);
    assert_non_null(strstr(e.msg, "unknown multilabel metric 'hamming_loss' (accuracy,"));
    metrics_multilabel_free(&m);
}

/* Coverage counts the labels found at least once among those with
 * support; with no tagged document the document figures are undefined. */
static void test_coverage_and_undefined(void **state)
{
    (void)state;
    /* 3 documents, 3 labels: label 0 found, label 1 always missed, label 2 no support */
    const unsigned char t[] = {1, 1, 0, 1, 0, 0, 0, 0, 0};
    const unsigned char p[] = {1, 0, 1, 0, 0, 0, 0, 0, 0};
    struct metrics_multilabel m;
    struct err e;
    assert_int_equal(metrics_multilabel_compute(t, p, NULL, 3, 3, &m, &e), 0);
    assert_float_equal(m.label_coverage, 0.5, 1e-12);
    assert_float_equal(m.docs_any_found, 0.5, 1e-12);
    assert_float_equal(m.docs_all_found, 0.0, 1e-12);
    assert_float_equal(m.docs_no_prediction, 2.0 / 3, 1e-12);
    assert_float_equal(m.subset_accuracy, 1.0 / 3, 1e-12); /* the empty document is exact */
    assert_true(isnan(m.roc_auc) && isnan(m.pr_auc));
    json_t *j = metrics_multilabel_to_json(&m, NULL);
    assert_true(json_is_null(json_object_get(j, "roc_auc")));
    assert_non_null(json_object_get(json_object_get(j, "per_class"), "2"));
    json_decref(j);
    metrics_multilabel_free(&m);

    const unsigned char zero[] = {0, 0, 0, 0};
    assert_int_equal(metrics_multilabel_compute(zero, zero, NULL, 2, 2, &m, &e), 0);
    assert_true(isnan(m.docs_any_found) && isnan(m.docs_all_found) && isnan(m.label_coverage));
    assert_float_equal(m.subset_accuracy, 1.0, 0);
    assert_float_equal(m.f1_micro, 0.0, 0);
    metrics_multilabel_free(&m);
    assert_int_equal(metrics_multilabel_compute(zero, zero, NULL, 0, 2, &m, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_sklearn),
        cmocka_unit_test(test_coverage_and_undefined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
