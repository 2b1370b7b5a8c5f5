/* Multilabel metrics on plain arrays: the scikit-learn ones (subset
 * accuracy, Hamming loss, micro/macro/samples precision, recall and F1,
 * per-label figures) and the figures a tagging use case is judged by
 * (were a document's tags found, were all labels of the catalogue used,
 * how many documents got no tag at all).
 *
 * truth and pred are n x n_labels bytes, row-major, non-zero where the
 * label is present; probs (may be NULL) the same shape of probabilities. */
#ifndef BOUCLE_EVAL_METRICS_MULTILABEL_H
#define BOUCLE_EVAL_METRICS_MULTILABEL_H

#include "base/err.h"

#include <jansson.h>
#include <stddef.h>

struct metrics_multilabel {
    size_t n, n_labels;
    double subset_accuracy; /* the predicted set is exactly the true set */
    double hamming_loss;    /* share of (document, label) pairs predicted wrong */
    /* micro: from the counts summed over labels; macro: mean over the
     * labels present in truth or predictions (as metrics.h); samples: mean
     * over documents of each document's own figure */
    double precision_micro, recall_micro, f1_micro;
    double precision_macro, recall_macro, f1_macro;
    double precision_samples, recall_samples, f1_samples;
    double *precision, *recall, *f1;  /* per label */
    size_t *support, *predicted, *tp; /* per label: true, predicted, both */
    /* the tagging figures; a denominator of zero gives NAN (null in JSON) */
    size_t n_tagged;           /* documents with at least one true label */
    double docs_any_found;     /* of those, share with at least one true label predicted */
    double docs_all_found;     /* of those, share with every true label predicted */
    double label_coverage;     /* of the labels with support, share predicted right at least once */
    double docs_no_prediction; /* of all documents, share with no predicted label */
    double labels_per_doc_true, labels_per_doc_pred;
    /* threshold-free: macro over the labels with both present and absent
     * documents (NAN without probs) */
    double roc_auc, pr_auc;
};

int metrics_multilabel_compute(const unsigned char *truth, const unsigned char *pred,
                               const double *probs, size_t n, size_t n_labels,
                               struct metrics_multilabel *out, struct err *e);
/* {"n", "accuracy" (= subset accuracy, as scikit-learn's accuracy_score),
 *  "subset_accuracy", "hamming_loss", "precision_micro"... "f1_samples",
 *  "docs_any_found", "docs_all_found", "label_coverage",
 *  "docs_no_prediction", "labels_per_doc": {"true", "predicted"},
 *  "roc_auc", "pr_auc",
 *  "per_class": {"label": {"precision", "recall", "f1", "support", "predicted"}}} */
json_t *metrics_multilabel_to_json(const struct metrics_multilabel *m,
                                   const char *const *label_names);
/* The figure named `name` among those where higher is better (what a
 * search may rank by): accuracy (= subset_accuracy), subset_accuracy,
 * f1_micro, f1_macro, f1_samples, precision_ and recall_ with the same
 * three averages, roc_auc, pr_auc. Hamming loss, lower-is-better, is not
 * one. ERR_INVALID for any other name, listing these. */
int metrics_multilabel_value(const struct metrics_multilabel *m, const char *name, double *out,
                             struct err *e);
void metrics_multilabel_free(struct metrics_multilabel *m);

#endif
