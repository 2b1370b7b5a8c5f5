/* The model interface: train from plain arrays, predict probabilities,
 * save/load one self-checking artifact. Knows nothing of storage or HTTP.
 * A loaded model is immutable and reference counted: many threads predict
 * with it at once while a deploy swaps in another. */
#ifndef BOUCLE_ML_MODEL_H
#define BOUCLE_ML_MODEL_H

#include "base/config.h"
#include "base/err.h"
#include "base/mem.h"
#include "text/clean.h"
#include "ml/fasttext.h"
#include "ml/multilabel.h"
#include "ml/tabular.h"
#include "ml/xgboost_model.h"
#include "text/tfidf.h"

#include <stddef.h>

struct model_config {
    char kind[16]; /* "linear", "fasttext" or "xgboost" */
    /* featuriser: TF-IDF over word n-grams (defaults 1-2-grams, min_df 2,
     * max_df 1.0, sublinear tf, no feature cap) */
    struct tfidf_config text;
    /* linear: liblinear L2-regularised logistic regression */
    double C;                  /* default 1.0 */
    double eps;                /* stopping tolerance, default 0.01 as liblinear */
    int class_weight_balanced; /* default 0 */
    int penalty;               /* enum linear_penalty: `penalty: l2` (default) or l1 */
    int loss;                  /* enum linear_loss: `loss: logistic` (default) or svm */
    /* how inputs become the model's text (the task's `clean:` and
     * `text_separator:`), kept in the artifact; default: none, "\n" */
    struct clean_config prep;
    /* tabular inputs (the task's `numeric:` and `categorical:`), borrowed
     * from the task's config while training; `linear` and `xgboost` */
    const struct numeric_field *numeric;
    size_t n_numeric;
    const struct categorical_field *categorical;
    size_t n_categorical;
    /* fasttext: its own tokens and n-grams; the settings above do not apply */
    struct fasttext_config ft;
    /* xgboost: boosted trees over the featuriser above (text and tabular) */
    struct xgb_params xgb;
    /* multilabel tasks: `threshold:` (linear, xgboost) and
     * `validation_fraction:` (linear; xgboost's key of that name is its
     * early stopping share, and its thresholds are tuned on the default);
     * multilabel_line is the line of the first of them (0: none given), so
     * a task of another type can be told they do not apply */
    struct multilabel_config ml;
    int multilabel_line;
};

void model_config_defaults(struct model_config *c);
/* Reads `model:` keys from the config (kind plus params); an unknown key or a
 * bad value is an error naming the key and its line. */
int model_config_parse(struct model_config *c, const char *kind, const struct config_param *params,
                       size_t n_params, struct err *e);

struct trained_model;

/* labels[i] in [0, n_labels); label_names are copied. `texts` are already
 * prepared with cfg->prep (data/prepare.h): the model records cfg->prep and
 * applies it to the inputs of model_predict_fields. */
struct trained_model *model_train(const struct model_config *cfg, enum task_type type,
                                  const char *const *texts, const int *labels, size_t n,
                                  const char *const *label_names, size_t n_labels, struct err *e);
/* The same with tabular inputs: texts is NULL for a task without text
 * fields; tab (n rows, in the order of cfg's numeric and categorical
 * fields) is NULL for one without tabular fields. The text's TF-IDF
 * features come first, then the tabular block. */
struct trained_model *model_train_rows(const struct model_config *cfg, enum task_type type,
                                       const char *const *texts, const struct tabular_values *tab,
                                       const int *labels, size_t n, const char *const *label_names,
                                       size_t n_labels, struct err *e);

/* A multilabel task's model: one binary model per label on the same
 * features (`linear`: logistic regressions, `xgboost`: boosters), y
 * giving each text's labels; the per-label
 * thresholds are tuned as cfg->ml says (ml/multilabel.h). `report` may be
 * NULL. */
struct trained_model *model_train_multilabel(const struct model_config *cfg,
                                             const char *const *texts,
                                             const struct multilabel_sets *y, size_t n,
                                             const char *const *label_names, size_t n_labels,
                                             struct multilabel_report *report, struct err *e);

size_t model_n_labels(const struct trained_model *m);
enum task_type model_task_type(const struct trained_model *m);
/* Multilabel: label i is predicted when its probability is at least this;
 * other task types: NAN (the most probable label is the answer). */
double model_threshold(const struct trained_model *m, size_t i);
const char *model_label(const struct trained_model *m, size_t i);
const char *model_kind(const struct trained_model *m);
size_t model_n_features(const struct trained_model *m);
/* Seconds the learner itself took (liblinear, SGD, boosting), the
 * featuriser excluded; 0 for a loaded model. */
double model_fit_seconds(const struct trained_model *m);
/* One line on what training settled on, for the run log ("xgboost: 57 of
 * 100 rounds kept (early stopping)"); "" when there is nothing to say. */
void model_summary(const struct trained_model *m, char *out, size_t cap);
/* How the model prepares its inputs: what it was trained with. */
const struct clean_config *model_prep(const struct trained_model *m);

/* Thread-safe, allocation-free after a thread's first call (per-thread scratch).
 * Fills probs[n_labels] (summing to 1; multilabel: each label's own
 * probability, not normalised) and returns the argmax index. */
size_t model_predict(const struct trained_model *m, const char *text, size_t len, double *probs);
/* The same from an input's raw text fields (n of them, in the task's order):
 * joined and cleaned with model_prep(m) first, in per-thread buffers, so
 * this too stops allocating after a thread's first few calls. */
size_t model_predict_fields(const struct trained_model *m, const char *const *values,
                            const size_t *lens, size_t n, double *probs);

/* One input as a model reads it: its raw text fields (the model joins and
 * cleans them) and its tabular values, both in the task's field order. */
struct model_input {
    const char *const *text;
    const size_t *text_lens;
    size_t n_text;
    struct tabular_values tab; /* ignored by a model without tabular fields */
};
/* model_predict_fields for any input: allocation-free after a thread's
 * first calls as well. */
size_t model_predict_input(const struct trained_model *m, const struct model_input *in,
                           double *probs);
/* The features a linear or xgboost model reads for one input, as it reads
 * them when predicting: *idx / *val (valid until the thread's next call
 * into the model) hold the text's features, then the tabular block's,
 * indices ascending; returns their count (0 for fasttext). For exports. */
size_t model_row_features(const struct trained_model *m, const struct model_input *in,
                          const uint32_t **idx, const double **val);
/* The tabular fields the model reads (numeric, then categorical) must be
 * the task's, in its order: else ERR_INVALID saying both lists, since a
 * value would be read as another field's. */
int model_check_fields(const struct trained_model *m, const struct task_config *task,
                       struct err *e);

/* Why the model gave `label`: the features that moved that label's score
 * the most, largest magnitude first, with their signed contribution. Exact
 * for every kind: linear = tf-idf value x weight (a binary model's label 0
 * gets the opposite of label 1's), fasttext = each token's share of the
 * label's score (its word and char n-grams and its part of the word n-grams
 * it is in), xgboost = TreeSHAP contributions to the label's margin (of
 * its own booster in a multilabel model; a term
 * the text lacks is named "term (absent)"; a categorical field's one-hot
 * columns are summed into its "field=value"; label 0 of a binary model gets
 * the opposite). The inputs are prepared as model_predict_fields prepares them.
 * Fills out[0..k) with k <= top_k and returns k. Not for the hot path: it
 * allocates (called only when a request asks). */
#define MODEL_EXPLAIN_FEATURE_MAX 96
struct model_contribution {
    char feature[MODEL_EXPLAIN_FEATURE_MAX + 1]; /* the term or token, cut to fit */
    double weight;
};
size_t model_explain(const struct trained_model *m, const char *const *values, const size_t *lens,
                     size_t n, size_t label, size_t top_k, struct model_contribution *out);
/* The same for any input: a tabular feature is named "field" (a number:
 * its standardised value x weight) or "field=value" (a category's weight;
 * see tabular_feature_name). */
size_t model_explain_input(const struct trained_model *m, const struct model_input *in,
                           size_t label, size_t top_k, struct model_contribution *out);

/* The artifact: magic, format version, kind, task type, labels, the
 * preparation (format 2; a model without cleaning is still written as
 * format 1, which older builds read), featuriser state, weights, then a
 * SHA-256 of everything before it. A model with tabular fields is format
 * 3 (the tabular block's state; text models keep their format, so older
 * builds still read them). Multilabel models are format 4: the
 * preparation always, the tabular block (n = 0 for a text-only task), then
 * one threshold per label (older builds refuse them by version). An
 * xgboost model is format 5: after the tabular section, the booster
 * (xgb_save) instead of weights; a multilabel xgboost model is format 7:
 * format 4's sections, then a booster count and one booster per label
 * (xgb_ovr_save). Every format loads. */
int model_save(const struct trained_model *m, struct buf *out, struct err *e);
/* Verifies magic, version, bounds and checksum; a truncated or altered
 * artifact is refused with ERR_CORRUPT and a message saying what is wrong. */
struct trained_model *model_load(const void *data, size_t len, struct err *e);

void model_retain(struct trained_model *m);
void model_release(struct trained_model *m); /* frees at the last reference */

#endif
