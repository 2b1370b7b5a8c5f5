/* The tabular test data shared by test_model_tabular.c and
 * test_model_xgboost.c: customers who churn (label 1) when tenure is short
 * and the plan monthly, said in words too; every 7th tenure missing, every
 * 9th plan. A file makes its rows with make_churn, then trains and
 * predicts through the helpers below. */
#ifndef BOUCLE_TEST_CHURN_ROWS_H
#define BOUCLE_TEST_CHURN_ROWS_H

#include "ml/model.h"

#include <math.h>
#include <string.h>

enum { CHURN_MAX = 60 };
static size_t n_churn;
static double tenure[CHURN_MAX];
static const char *plan[CHURN_MAX];
static size_t plan_len[CHURN_MAX];
static int churn[CHURN_MAX];
static const char *texts[CHURN_MAX];
static const char *names[] = {"stays", "churns"};
static struct numeric_field nf[] = {{"tenure", IMPUTE_MEDIAN, 0, 1}};
static struct categorical_field cf[] = {{"plan", 0, 2}};
static const struct tabular_values all_rows = {1, 1, tenure, plan, plan_len};

/* n rows; with spaced_monthly, three churners in four have " monthly" (a
 * category value with a leading space). */
static inline void make_churn(size_t n, int spaced_monthly)
{
    n_churn = n;
    for (int i = 0; i < (int)n; i++) {
        churn[i] = i % 2;
        tenure[i] = churn[i] ? 1 + i % 5 : 20 + i;
        plan[i] = churn[i] ? (!spaced_monthly || i % 4 == 1 ? "monthly" : " monthly")
                           : (i % 3 ? "yearly" : "two-year");
        if (i % 7 == 3) tenure[i] = NAN;
        if (i % 9 == 4) plan[i] = NULL;
        plan_len[i] = plan[i] ? strlen(plan[i]) : 0;
        texts[i] = churn[i] ? "please cancel my line" : "thanks all good";
    }
}

/* c reading the rows' fields, every n-gram kept (min_df 1). */
static inline struct model_config churn_config(struct model_config c)
{
    c.text.min_df = 1;
    c.numeric = nf;
    c.n_numeric = 1;
    c.categorical = cf;
    c.n_categorical = 1;
    return c;
}

/* A binary model of the rows, their texts included or not. */
static inline struct trained_model *train_churn(const struct model_config *c, int with_text)
{
    struct err e;
    struct trained_model *m = model_train_rows(c, TASK_BINARY, with_text ? texts : NULL, &all_rows,
                                               churn, n_churn, names, 2, &e);
    if (!m) fail_msg("%s", e.msg);
    return m;
}

/* One input (text NULL: none; p NULL: the plan missing), as a request
 * gives it; in points into the struct, so a test may change x or p. */
struct churn_input {
    const char *text, *p;
    size_t len, pl;
    double x;
    struct model_input in;
};

static inline void churn_input(struct churn_input *ci, const char *text, double x, const char *p)
{
    ci->text = text;
    ci->len = text ? strlen(text) : 0;
    ci->x = x;
    ci->p = p;
    ci->pl = p ? strlen(p) : 0;
    ci->in = (struct model_input){.text = &ci->text,
                                  .text_lens = &ci->len,
                                  .n_text = text ? 1 : 0,
                                  .tab = {1, 1, &ci->x, &ci->p, &ci->pl}};
}

static inline size_t predict(const struct trained_model *m, const char *text, double x,
                             const char *p, double *probs)
{
    struct churn_input ci;
    churn_input(&ci, text, x, p);
    return model_predict_input(m, &ci.in, probs);
}

#endif
