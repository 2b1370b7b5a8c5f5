/* The `xgboost` model kind: gradient-boosted trees trained and evaluated by
 * libxgboost (its C API), over the same sparse features the linear model
 * reads (TF-IDF terms, then the tabular block). binary:logistic for two
 * labels, multi:softprob for more; optional early stopping on a stratified
 * validation share of the training rows, after which only the best
 * iteration's trees are kept. Explanations are XGBoost's exact TreeSHAP
 * contributions. */
#ifndef BOUCLE_ML_XGBOOST_MODEL_H
#define BOUCLE_ML_XGBOOST_MODEL_H

#include "base/config.h"
#include "base/err.h"
#include "base/mem.h"
#include "text/tfidf.h"

#include <stddef.h>
#include <stdint.h>

enum xgb_tree_method { XGB_HIST, XGB_APPROX, XGB_EXACT };

/* Names and defaults as XGBoost's own (its scikit-learn wrapper's for
 * n_estimators), except nthread: 2, the cores of the machine kind boucle
 * is sized for (0 = XGBoost's choice: every core), and 1 on a multilabel
 * task (xgb_params_multilabel). */
struct xgb_params {
    int n_estimators;           /* boosting rounds, default 100 */
    int max_depth;              /* default 6 */
    double learning_rate;       /* eta, default 0.3 */
    double subsample;           /* default 1 */
    double colsample_bytree;    /* default 1 */
    double min_child_weight;    /* default 1 */
    double reg_lambda;          /* L2 on leaf weights, default 1 */
    double reg_alpha;           /* L1 on leaf weights, default 0 */
    double scale_pos_weight;    /* weight of label 1 in a binary task, default 1 */
    enum xgb_tree_method tree;  /* default hist */
    int nthread;                /* training threads, default 2 */
    int seed;                   /* default 0 */
    int early_stopping_rounds;  /* 0 = off (default) */
    double validation_fraction; /* held out for early stopping, default 0.1 */
    int nthread_given;          /* the config set nthread */
};

void xgb_params_defaults(struct xgb_params *p);
/* Reads the `model:` keys of an xgboost model (kind excluded); an unknown
 * key or a bad value is ERR_INVALID naming model.<key> and its line. */
int xgb_params_parse(struct xgb_params *p, const struct config_param *params, size_t n_params,
                     struct err *e);
const char *xgb_tree_method_name(enum xgb_tree_method t);
/* A multilabel task's defaults: nthread 1 unless the config set it. Its
 * one booster per label boosts tiny rounds, where a second OpenMP thread
 * only spin-waits (11x slower on the ticket tagging example). */
void xgb_params_multilabel(struct xgb_params *p);

struct xgb_model;

/* Trains on the CSR rows of x (n_features columns), labels[i] in
 * [0, n_labels): one output for two labels, one per label otherwise. */
struct xgb_model *xgb_train(const struct xgb_params *p, const struct tfidf_matrix *x,
                            size_t n_features, const int *labels, size_t n_labels, struct err *e);

/* Which training rows early stopping holds out: per label, a seeded
 * shuffle of its rows and the first round(fraction x count) of them, at
 * least one when the label has two rows or more (none when it has one).
 * Public so the ops export can give a peer the very same split. */
void xgb_validation_split(const int *labels, size_t n, size_t n_labels, double fraction,
                          uint64_t seed, unsigned char *is_valid);

/* One input's features: up to two blocks (the text's, then the tabular
 * block's), indices ascending within and across them. */
struct xgb_row {
    const uint32_t *idx[2];
    const double *val[2];
    size_t nnz[2];
};

/* A predicting thread's buffers: the row as XGBoost reads it (floats),
 * and the thread's own proxy matrix that hands it over (XGBoost writes
 * into a proxy; without one it builds a new one per call, which reads the
 * cgroup CPU quota files each time). */
struct xgb_scratch {
    uint32_t *idx;
    float *val;
    size_t cap;
    void *proxy;
};
void xgb_scratch_free(struct xgb_scratch *s);

/* probs[n_labels] (summing to 1); returns the argmax. Any number of threads
 * may predict with one model at once, each with its own scratch (see
 * docs/models.md: XGBoost's in-place prediction takes no lock once the
 * booster is configured, which loading and training already did). On an
 * error inside XGBoost (not expected: the booster was checked when loaded)
 * every label gets the same probability and the error is logged. */
size_t xgb_predict(const struct xgb_model *m, const struct xgb_row *row, struct xgb_scratch *s,
                   double *probs);

/* TreeSHAP contributions of each feature to output `group` (0 for a
 * binary model, else the label) for one row: contrib[n_features + 1], the
 * last one the bias; they sum to the raw margin. Allocates: not for the
 * hot path. */
int xgb_contributions(const struct xgb_model *m, const struct xgb_row *row, size_t group,
                      double *contrib, struct err *e);

size_t xgb_n_groups(const struct xgb_model *m);
/* Rounds kept (the best iteration + 1 with early stopping) and trained. */
int xgb_rounds_kept(const struct xgb_model *m);
int xgb_rounds_trained(const struct xgb_model *m);

/* The kind's artifact section: u32 rounds kept, u64 length, the booster as
 * XGBoost's UBJSON model. xgb_load reads one section (the caller checks
 * what follows: another booster's, or the end) and checks the booster
 * against n_labels and n_features (ERR_CORRUPT otherwise). */
int xgb_save(const struct xgb_model *m, struct buf *out, struct err *e);
struct xgb_model *xgb_load(struct reader *r, size_t n_labels, size_t n_features, struct err *e);

void xgb_free(struct xgb_model *m);

#endif
