/* One-vs-rest boosters for multilabel tasks: a multilabel_learner over
 * xgb_train, and the artifact section holding the boosters. */
#include "ml/xgboost_multilabel.h"

#include <stdlib.h>
#include <string.h>

void xgb_ovr_free(struct xgb_ovr *o)
{
    for (size_t c = 0; c < o->n; c++)
        xgb_free(o->label[c]);
    free(o->label);
    memset(o, 0, sizeof *o);
}

/* ---- training --------------------------------------------------------- */

struct xgb_learner {
    const struct xgb_params *p;
    size_t n_features;
    struct xgb_ovr ovr;
    struct xgb_scratch s; /* scoring the validation rows */
};

/* rows[0..n) of x as a matrix of their own (XGBoost takes whole matrices). */
static void select_rows(const struct tfidf_matrix *x, const size_t *rows, size_t n,
                        struct tfidf_matrix *out)
{
    size_t nnz = 0;
    for (size_t r = 0; r < n; r++)
        nnz += x->row_ptr[rows[r] + 1] - x->row_ptr[rows[r]];
    out->n_rows = n;
    out->row_ptr = xmalloc((n + 1) * sizeof *out->row_ptr);
    out->idx = xmalloc((nnz ? nnz : 1) * sizeof *out->idx);
    out->val = xmalloc((nnz ? nnz : 1) * sizeof *out->val);
    out->row_ptr[0] = 0;
    for (size_t r = 0; r < n; r++) {
        size_t from = x->row_ptr[rows[r]], len = x->row_ptr[rows[r] + 1] - from;
        memcpy(out->idx + out->row_ptr[r], x->idx + from, len * sizeof *out->idx);
        memcpy(out->val + out->row_ptr[r], x->val + from, len * sizeof *out->val);
        out->row_ptr[r + 1] = out->row_ptr[r] + len;
    }
}

static int learner_fit(void *ctx, const struct tfidf_matrix *x, const size_t *rows, size_t n_rows,
                       size_t n_labels, const struct multilabel_targets *t, struct err *e)
{
    struct xgb_learner *l = ctx;
    xgb_ovr_free(&l->ovr);
    struct tfidf_matrix sub;
    if (rows) select_rows(x, rows, n_rows, &sub);
    const struct tfidf_matrix *fit = rows ? &sub : x;
    unsigned char *present = xmalloc(n_rows ? n_rows : 1);
    int *y = xmalloc((n_rows ? n_rows : 1) * sizeof *y);
    l->ovr.label = xcalloc(n_labels, sizeof *l->ovr.label);
    l->ovr.n = n_labels;
    int rc = 0;
    for (size_t c = 0; c < n_labels && !rc; c++) {
        multilabel_targets_of(t, c, present);
        for (size_t i = 0; i < n_rows; i++)
            y[i] = present[i] != 0;
        l->ovr.label[c] = xgb_train(l->p, fit, l->n_features, y, 2, e);
        if (!l->ovr.label[c]) rc = err_prefix(e, "label %zu of %zu", c + 1, n_labels);
    }
    free(present);
    free(y);
    if (rows) tfidf_matrix_free(&sub);
    return rc;
}

static void learner_score(void *ctx, const struct tfidf_matrix *x, size_t i, double *probs)
{
    struct xgb_learner *l = ctx;
    size_t from = x->row_ptr[i];
    struct xgb_row row = {
        {x->idx + from, NULL}, {x->val + from, NULL}, {x->row_ptr[i + 1] - from, 0}};
    xgb_ovr_predict(&l->ovr, &row, &l->s, probs);
}

int xgb_ovr_train(const struct xgb_params *p, const struct tfidf_matrix *x, size_t n_features,
                  const struct multilabel_sets *y, size_t n_labels,
                  const struct multilabel_config *mc, struct xgb_ovr *out, double *thresholds,
                  struct multilabel_report *report, struct err *e)
{
    struct xgb_learner xl = {p, n_features, {0, NULL}, {0}};
    struct multilabel_learner l = {&xl, learner_fit, learner_score};
    int rc = multilabel_train(x, y, n_labels, mc, &l, thresholds, report, e);
    xgb_scratch_free(&xl.s);
    if (rc) xgb_ovr_free(&xl.ovr);
    *out = xl.ovr;
    return rc;
}

/* ---- prediction ------------------------------------------------------- */

size_t xgb_ovr_predict(const struct xgb_ovr *o, const struct xgb_row *row, struct xgb_scratch *s,
                       double *probs)
{
    size_t best = 0;
    for (size_t c = 0; c < o->n; c++) {
        double two[2];
        xgb_predict(o->label[c], row, s, two);
        probs[c] = two[1];
        if (probs[c] > probs[best]) best = c;
    }
    return best;
}

void xgb_ovr_rounds(const struct xgb_ovr *o, int *kept_min, int *kept_max, int *trained_max)
{
    *kept_min = *kept_max = *trained_max = 0;
    for (size_t c = 0; c < o->n; c++) {
        int kept = xgb_rounds_kept(o->label[c]), trained = xgb_rounds_trained(o->label[c]);
        if (!c || kept < *kept_min) *kept_min = kept;
        if (kept > *kept_max) *kept_max = kept;
        if (trained > *trained_max) *trained_max = trained;
    }
}

/* ---- artifact --------------------------------------------------------- */

int xgb_ovr_save(const struct xgb_ovr *o, struct buf *out, struct err *e)
{
    buf_put_u32(out, (unsigned)o->n);
    for (size_t c = 0; c < o->n; c++)
        if (xgb_save(o->label[c], out, e)) return err_prefix(e, "label %zu", c + 1);
    return 0;
}

int xgb_ovr_load(struct xgb_ovr *o, struct reader *r, size_t n_labels, size_t n_features,
                 struct err *e)
{
    memset(o, 0, sizeof *o);
    unsigned n = reader_u32(r);
    if (r->failed || n != n_labels)
        return err_set(e, ERR_CORRUPT, "xgboost multilabel section: %u boosters for %zu labels",
                       r->failed ? 0u : n, n_labels);
    o->label = xcalloc(n_labels, sizeof *o->label);
    o->n = n_labels;
    for (size_t c = 0; c < n_labels; c++) {
        o->label[c] = xgb_load(r, 2, n_features, e);
        if (!o->label[c]) {
            xgb_ovr_free(o);
            return err_prefix(e, "label %zu's booster", c + 1);
        }
    }
    return 0;
}
