/* The `linear` model kind: L2-regularised logistic regression trained with
 * liblinear (one-vs-rest for more than two classes, like liblinear and
 * sklearn's OneVsRestClassifier), its weights then copied into our own
 * matrix so that prediction and the artifact do not depend on liblinear. */
#ifndef BOUCLE_ML_LINEAR_H
#define BOUCLE_ML_LINEAR_H

#include "base/err.h"
#include "text/tfidf.h"

#include <stddef.h>
#include <stdint.h>

/* Bias given to a class that had no training example, so its one-vs-rest
 * probability is ~1e-13 rather than the 0.5 of an all-zero weight column. */
#define LINEAR_ABSENT_BIAS (-30.0)

/* Feature-major weights: w[j * n_cols + c], rows 0..n_features-1 for the
 * features and row n_features for the intercept (liblinear's bias = 1).
 * Binary models have one column, the score of label 1; otherwise one column
 * per label. */
struct linear_weights {
    size_t n_rows, n_cols;
    double *w;
};

/* The penalty (l2, or l1 for sparse weights) and the loss (logistic
 * regression, or a linear SVM's squared hinge, as scikit-learn's LinearSVC):
 * liblinear's solvers 0, 6, 1 and 5. An SVM's probabilities are its scores
 * through the same sigmoid: ordered, not calibrated. */
enum linear_penalty { LINEAR_L2, LINEAR_L1 };
enum linear_loss { LINEAR_LOGISTIC, LINEAR_SVM };

struct linear_params {
    double C, eps;
    int class_weight_balanced;
    enum linear_penalty penalty;
    enum linear_loss loss;
};

/* Trains on the CSR rows of x (n_features columns) with labels y[i] in
 * [0, n_labels). binary != 0 asks for one column (requires n_labels == 2).
 * At least two distinct labels must occur in y. */
int linear_fit(const struct tfidf_matrix *x, size_t n_features, const int *y, size_t n_labels,
               int binary, const struct linear_params *p, struct linear_weights *out,
               struct err *e);

/* One training problem, built once (x's rows, or rows[0..n_rows) of it when
 * rows is not NULL) and trained on once per label: a multilabel task's
 * one-vs-rest models share the features and differ only in their targets. */
struct linear_problem;
struct linear_problem *linear_problem_new(const struct tfidf_matrix *x, size_t n_features,
                                          const size_t *rows, size_t n_rows, struct err *e);
void linear_problem_free(struct linear_problem *pb);

/* Trains one binary model on the problem's rows, y[i] != 0 where the label
 * is present, into column `col` of out (allocated by the caller:
 * n_features + 1 rows). class_weight_balanced weighs presence and absence
 * by n / (2 x count). A label present nowhere (or everywhere) gets zero
 * weights and an intercept of LINEAR_ABSENT_BIAS (or minus it). */
int linear_fit_column(struct linear_problem *pb, const unsigned char *y,
                      const struct linear_params *p, struct linear_weights *out, size_t col,
                      struct err *e);

/* scores[c] = intercept[c] + sum_k val[k] * w[idx[k]][c], for c < n_cols. */
void linear_scores(const struct linear_weights *lw, const uint32_t *idx, const double *val,
                   size_t nnz, double *scores);
/* scores[c] += sum_k val[k] * w[idx[k]][c]: a second block of features
 * (the tabular block after the text's). */
void linear_scores_add(const struct linear_weights *lw, const uint32_t *idx, const double *val,
                       size_t nnz, double *scores);

/* Turns scores into probabilities over n_labels (binary: [1-p, p] with
 * p = sigmoid(score); else sigmoids normalised to sum 1, as liblinear). */
void linear_probabilities(const struct linear_weights *lw, size_t n_labels, const double *scores,
                          double *probs);

/* probs[c] = sigmoid(scores[c]) for c < n, each on its own (multilabel:
 * one independent probability per label, not normalised). */
void linear_sigmoids(size_t n, const double *scores, double *probs);

void linear_free(struct linear_weights *lw);

#endif
