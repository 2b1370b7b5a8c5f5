/* The `model:` keys of an xgboost model, read from one table so that the
 * defaults, the ranges and the error messages cannot drift apart. Names
 * are those of XGBoost's scikit-learn wrapper (n_estimators, learning_rate,
 * reg_lambda...), which most users know; they become XGBoost's own
 * parameters (eta, lambda...) in xgboost_model.c. */
#include "ml/xgboost_model.h"

#include "ml/model_params.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xgb_params_defaults(struct xgb_params *p)
{
    *p = (struct xgb_params){.n_estimators = 100,
                             .max_depth = 6,
                             .learning_rate = 0.3,
                             .subsample = 1,
                             .colsample_bytree = 1,
                             .min_child_weight = 1,
                             .reg_lambda = 1,
                             .reg_alpha = 0,
                             .scale_pos_weight = 1,
                             .tree = XGB_HIST,
                             .nthread = 2,
                             .seed = 0,
                             .early_stopping_rounds = 0,
                             .validation_fraction = 0.1};
}

void xgb_params_multilabel(struct xgb_params *p)
{
    if (!p->nthread_given) p->nthread = 1;
}

const char *xgb_tree_method_name(enum xgb_tree_method t)
{
    return t == XGB_EXACT ? "exact" : t == XGB_APPROX ? "approx" : "hist";
}

enum key_type { K_INT, K_REAL, K_TREE };

struct key_def {
    const char *key;
    enum key_type type;
    double lo, hi; /* inclusive, but lo is excluded when lo_open */
    int lo_open;
    size_t offset;
    const char *expect;
};

#define AT(f) offsetof(struct xgb_params, f)
static const struct key_def keys[] = {
    {"n_estimators", K_INT, 1, 100000, 0, AT(n_estimators), "expected an integer from 1 to 100000"},
    {"max_depth", K_INT, 1, 64, 0, AT(max_depth), "expected an integer from 1 to 64"},
    {"learning_rate", K_REAL, 0, 1, 1, AT(learning_rate), "expected a number above 0, at most 1"},
    {"subsample", K_REAL, 0, 1, 1, AT(subsample), "expected a share above 0, at most 1"},
    {"colsample_bytree", K_REAL, 0, 1, 1, AT(colsample_bytree),
     "expected a share above 0, at most 1"},
    {"min_child_weight", K_REAL, 0, 1e9, 0, AT(min_child_weight),
     "expected a number from 0 to 1e9"},
    {"reg_lambda", K_REAL, 0, 1e9, 0, AT(reg_lambda), "expected a number from 0 to 1e9"},
    {"reg_alpha", K_REAL, 0, 1e9, 0, AT(reg_alpha), "expected a number from 0 to 1e9"},
    {"scale_pos_weight", K_REAL, 0, 1e9, 1, AT(scale_pos_weight),
     "expected a number above 0, at most 1e9"},
    {"tree_method", K_TREE, 0, 0, 0, AT(tree), "expected hist, approx or exact"},
    {"nthread", K_INT, 0, 64, 0, AT(nthread),
     "expected an integer from 0 (XGBoost's choice: every core) to 64"},
    {"seed", K_INT, 0, INT_MAX, 0, AT(seed), "expected a non-negative integer"},
    {"early_stopping_rounds", K_INT, 0, 100000, 0, AT(early_stopping_rounds),
     "expected an integer from 0 (no early stopping) to 100000"},
    {"validation_fraction", K_REAL, 0, 0.5, 1, AT(validation_fraction),
     "expected a share above 0, at most 0.5"},
};
#define N_KEYS (sizeof keys / sizeof *keys)

/* Stores v at k's place in p; -1 when it does not fit. */
static int set_value(struct xgb_params *p, const struct key_def *k, const char *v)
{
    char *at = (char *)p + k->offset;
    if (!v || !*v) return -1;
    if (k->type == K_TREE) {
        static const enum xgb_tree_method all[] = {XGB_HIST, XGB_APPROX, XGB_EXACT};
        for (size_t i = 0; i < 3; i++) {
            if (!strcmp(v, xgb_tree_method_name(all[i]))) {
                *(enum xgb_tree_method *)(void *)at = all[i];
                return 0;
            }
        }
        return -1;
    }
    double d;
    if (model_param_number(v, k->type == K_INT, &d) || d > k->hi || d < k->lo ||
        (k->lo_open && d == k->lo))
        return -1;
    if (k->type == K_INT)
        *(int *)(void *)at = (int)d;
    else
        *(double *)(void *)at = d;
    return 0;
}

int xgb_params_parse(struct xgb_params *p, const struct config_param *params, size_t n_params,
                     struct err *e)
{
    xgb_params_defaults(p);
    for (size_t i = 0; i < n_params; i++) {
        const struct config_param *c = &params[i];
        const char *key = c->key ? c->key : "";
        const struct key_def *k = NULL;
        for (size_t j = 0; j < N_KEYS && !k; j++)
            if (!strcmp(keys[j].key, key)) k = &keys[j];
        if (!k) {
            char field[64];
            snprintf(field, sizeof field, "model.%s", key);
            return err_set_field(
                e, ERR_INVALID, field,
                "model.%s (line %d): unknown key for kind xgboost (known: "
                "n_estimators, max_depth, learning_rate, subsample, "
                "colsample_bytree, min_child_weight, reg_lambda, reg_alpha, "
                "scale_pos_weight, tree_method, nthread, seed, "
                "early_stopping_rounds, validation_fraction, threshold (multilabel "
                "tasks); and the text "
                "features' ngram_range, min_df, max_df, sublinear_tf, "
                "max_features)",
                key, c->line);
        }
        if (set_value(p, k, c->value)) return model_param_error(e, c, k->expect);
        if (k->offset == AT(nthread)) p->nthread_given = 1;
    }
    return 0;
}
