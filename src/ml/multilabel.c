/* One-vs-rest training with per-label thresholds. The thresholds come from
 * a first model trained without the validation rows and scored on them;
 * the served model is then trained on every row with those thresholds, so
 * no labeled row is lost to tuning (the usual practice for a tuned
 * hyper-parameter; a model trained on more rows is a little more confident,
 * which the F1 optimum tolerates). */
#include "ml/multilabel.h"

#include "base/ids.h"
#include "base/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void multilabel_config_defaults(struct multilabel_config *c)
{
    c->threshold = -1; /* tune */
    c->validation_fraction = 0.2;
}

struct scored {
    double p;
    unsigned char present;
};

static int by_p_desc(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->p, y = ((const struct scored *)b)->p;
    return (x < y) - (x > y);
}

double multilabel_best_threshold(const double *probs, const unsigned char *present, size_t n,
                                 size_t min_positives, double fallback)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += present[i] != 0;
    if (!pos || pos < min_positives) return fallback;
    struct scored *s = xmalloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = (struct scored){probs[i], present[i] != 0};
    qsort(s, n, sizeof *s, by_p_desc);
    /* keeping the k most probable rows: F1 = 2 tp / (positives + k); tied
     * probabilities are kept or left out together */
    double best_f1 = -1, threshold = fallback;
    size_t tp = 0;
    for (size_t k = 0; k < n;) {
        size_t j = k;
        while (j < n && s[j].p == s[k].p)
            tp += s[j++].present;
        double f1 = 2.0 * (double)tp / (double)(pos + j);
        if (f1 > best_f1) {
            best_f1 = f1;
            threshold = j < n ? (s[j - 1].p + s[j].p) / 2 : s[j - 1].p / 2;
        }
        k = j;
    }
    free(s);
    return threshold;
}

/* Each label's rows (an inverted index of the sets), to set one label's
 * targets without walking every set once per label. */
struct by_label {
    size_t *start, *row;
};

static void index_rows(const struct multilabel_sets *y, size_t n, size_t n_labels,
                       struct by_label *out)
{
    out->start = xcalloc(n_labels + 1, sizeof *out->start);
    for (size_t k = 0; k < y->start[n]; k++)
        out->start[y->label[k] + 1]++;
    for (size_t c = 0; c < n_labels; c++)
        out->start[c + 1] += out->start[c];
    out->row = xmalloc((y->start[n] ? y->start[n] : 1) * sizeof *out->row);
    size_t *fill = xcalloc(n_labels ? n_labels : 1, sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (size_t k = y->start[i]; k < y->start[i + 1]; k++)
            out->row[out->start[y->label[k]] + fill[y->label[k]]++] = i;
    free(fill);
}

/* The rows being fitted: pos_of[i] is row i's place among them, or
 * SIZE_MAX when it is not one of them (pos_of NULL: every row, in order). */
struct multilabel_targets {
    const struct by_label *bl;
    const size_t *pos_of;
    size_t n_rows;
};

void multilabel_targets_of(const struct multilabel_targets *t, size_t c, unsigned char *present)
{
    memset(present, 0, t->n_rows ? t->n_rows : 1);
    for (size_t k = t->bl->start[c]; k < t->bl->start[c + 1]; k++) {
        size_t i = t->bl->row[k], at = t->pos_of ? t->pos_of[i] : i;
        if (at != SIZE_MAX) present[at] = 1;
    }
}

/* A seeded shuffle picks the validation rows: the same data tunes the
 * same thresholds. */
static size_t pick_validation(size_t n, double fraction, size_t *order)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    uint64_t state = 0x6d756c74696c6162ULL;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(ids_splitmix64(&state) % i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    double want = fraction * (double)n;
    size_t n_val = want < 1 ? 0 : (size_t)llround(want);
    return n_val >= n ? 0 : n_val;
}

/* The learner's probabilities on the validation rows val[0..n_val), and
 * each label's threshold from them. */
static void tune_on(const struct tfidf_matrix *x, const struct by_label *bl, size_t n_labels,
                    const struct multilabel_learner *l, const size_t *val, size_t n_val,
                    size_t *pos_of, double *thresholds, struct multilabel_report *report)
{
    double *probs = xmalloc(n_val * n_labels * sizeof *probs);
    double *column = xmalloc(n_val * sizeof *column);
    unsigned char *present = xmalloc(n_val);
    for (size_t r = 0; r < n_val; r++)
        l->score(l->ctx, x, val[r], probs + r * n_labels);
    for (size_t i = 0; i < x->n_rows; i++)
        pos_of[i] = SIZE_MAX;
    for (size_t r = 0; r < n_val; r++)
        pos_of[val[r]] = r;
    struct multilabel_targets t = {bl, pos_of, n_val};
    for (size_t c = 0; c < n_labels; c++) {
        multilabel_targets_of(&t, c, present);
        size_t pos = 0;
        for (size_t r = 0; r < n_val; r++) {
            column[r] = probs[r * n_labels + c];
            pos += present[r];
        }
        thresholds[c] = multilabel_best_threshold(column, present, n_val, MULTILABEL_MIN_POSITIVES,
                                                  thresholds[c]);
        report->n_tuned += pos >= MULTILABEL_MIN_POSITIVES;
    }
    report->n_validation = n_val;
    free(probs);
    free(column);
    free(present);
}

/* Fits without the validation rows, scores them, and tunes each label. */
static int tune(const struct tfidf_matrix *x, const struct by_label *bl, size_t n_labels,
                const struct multilabel_learner *l, double fraction, double *thresholds,
                struct multilabel_report *report, struct err *e)
{
    size_t n = x->n_rows;
    size_t *order = xmalloc(n * sizeof *order);
    size_t n_val = pick_validation(n, fraction, order);
    if (!n_val) {
        free(order);
        return 0;
    }
    size_t *val = order, *fit = order + n_val, n_fit = n - n_val;
    size_t *pos_of = xmalloc(n * sizeof *pos_of);
    for (size_t i = 0; i < n; i++)
        pos_of[i] = SIZE_MAX;
    for (size_t r = 0; r < n_fit; r++)
        pos_of[fit[r]] = r;
    struct multilabel_targets t = {bl, pos_of, n_fit};
    int rc = l->fit(l->ctx, x, fit, n_fit, n_labels, &t, e);
    if (rc == 0) tune_on(x, bl, n_labels, l, val, n_val, pos_of, thresholds, report);
    free(pos_of);
    free(order);
    return rc;
}

int multilabel_train(const struct tfidf_matrix *x, const struct multilabel_sets *y, size_t n_labels,
                     const struct multilabel_config *mc, const struct multilabel_learner *l,
                     double *thresholds, struct multilabel_report *report, struct err *e)
{
    memset(report, 0, sizeof *report);
    size_t n = x->n_rows;
    if (!n || !n_labels) return err_set(e, ERR_INVALID, "no examples or no labels to train on");
    for (size_t k = 0; k < y->start[n]; k++)
        if (y->label[k] >= n_labels)
            return err_set(e, ERR_INVALID, "label index %u out of range", (unsigned)y->label[k]);
    int fixed = mc->threshold > 0 && mc->threshold < 1;
    for (size_t c = 0; c < n_labels; c++)
        thresholds[c] = fixed ? mc->threshold : MULTILABEL_THRESHOLD_DEFAULT;
    struct by_label bl;
    index_rows(y, n, n_labels, &bl);
    int rc = 0;
    if (!fixed && mc->validation_fraction > 0)
        rc = tune(x, &bl, n_labels, l, mc->validation_fraction, thresholds, report, e);
    struct multilabel_targets all = {&bl, NULL, n};
    if (rc == 0) rc = l->fit(l->ctx, x, NULL, n, n_labels, &all, e);
    free(bl.start);
    free(bl.row);
    return rc;
}

/* ---- `linear`: liblinear's logistic regressions ------------------------ */

struct linear_learner {
    size_t n_features;
    const struct linear_params *p;
    struct linear_weights w; /* one column per label */
};

static int linear_learner_fit(void *ctx, const struct tfidf_matrix *x, const size_t *rows,
                              size_t n_rows, size_t n_labels, const struct multilabel_targets *t,
                              struct err *e)
{
    struct linear_learner *l = ctx;
    linear_free(&l->w);
    /* one problem for every label: liblinear's copy of the rows is shared */
    struct linear_problem *pb = linear_problem_new(x, l->n_features, rows, n_rows, e);
    if (!pb) return -1;
    l->w.n_rows = l->n_features + 1;
    l->w.n_cols = n_labels;
    l->w.w = xcalloc(l->w.n_rows * n_labels, sizeof *l->w.w);
    unsigned char *present = xmalloc(n_rows ? n_rows : 1);
    int rc = 0;
    for (size_t c = 0; c < n_labels && !rc; c++) {
        multilabel_targets_of(t, c, present);
        rc = linear_fit_column(pb, present, l->p, &l->w, c, e);
    }
    free(present);
    linear_problem_free(pb);
    return rc;
}

static void linear_learner_score(void *ctx, const struct tfidf_matrix *x, size_t i, double *probs)
{
    struct linear_learner *l = ctx;
    size_t from = x->row_ptr[i];
    linear_scores(&l->w, x->idx + from, x->val + from, x->row_ptr[i + 1] - from, probs);
    linear_sigmoids(l->w.n_cols, probs, probs);
}

int multilabel_fit(const struct tfidf_matrix *x, size_t n_features, const struct multilabel_sets *y,
                   size_t n_labels, const struct linear_params *p,
                   const struct multilabel_config *mc, struct linear_weights *out,
                   double *thresholds, struct multilabel_report *report, struct err *e)
{
    struct linear_learner ll = {n_features, p, {0}};
    struct multilabel_learner l = {&ll, linear_learner_fit, linear_learner_score};
    int rc = multilabel_train(x, y, n_labels, mc, &l, thresholds, report, e);
    if (rc) linear_free(&ll.w);
    *out = ll.w;
    return rc;
}
