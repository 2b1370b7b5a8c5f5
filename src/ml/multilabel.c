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

/* Label c's targets over a subset of rows: pos_of[i] is row i's place in
 * the subset, or SIZE_MAX when it is not in it. */
static void targets(const struct by_label *bl, size_t c, const size_t *pos_of, size_t n_subset,
                    unsigned char *present)
{
    memset(present, 0, n_subset ? n_subset : 1);
    for (size_t k = bl->start[c]; k < bl->start[c + 1]; k++) {
        size_t i = bl->row[k], at = pos_of ? pos_of[i] : i;
        if (at != SIZE_MAX) present[at] = 1;
    }
}

static int fit_all_labels(const struct tfidf_matrix *x, size_t n_features, const size_t *rows,
                          size_t n_rows, const size_t *pos_of, const struct by_label *bl,
                          size_t n_labels, const struct linear_params *p,
                          struct linear_weights *out, struct err *e)
{
    struct linear_problem *pb = linear_problem_new(x, n_features, rows, n_rows, e);
    if (!pb) return -1;
    out->n_rows = n_features + 1;
    out->n_cols = n_labels;
    out->w = xcalloc(out->n_rows * n_labels, sizeof *out->w);
    unsigned char *present = xmalloc(n_rows ? n_rows : 1);
    int rc = 0;
    for (size_t c = 0; c < n_labels && !rc; c++) {
        targets(bl, c, pos_of, n_rows, present);
        rc = linear_fit_column(pb, present, p, out, c, e);
    }
    free(present);
    linear_problem_free(pb);
    if (rc) linear_free(out);
    return rc;
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

/* Trains without the validation rows, scores them, and tunes each label. */
static int tune(const struct tfidf_matrix *x, size_t n_features, const struct by_label *bl,
                size_t n_labels, const struct linear_params *p, double fraction, double *thresholds,
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
    struct linear_weights lw;
    int rc = fit_all_labels(x, n_features, fit, n_fit, pos_of, bl, n_labels, p, &lw, e);
    if (rc == 0) {
        double *probs = xmalloc(n_val * n_labels * sizeof *probs);
        double *column = xmalloc(n_val * sizeof *column);
        unsigned char *present = xmalloc(n_val);
        for (size_t r = 0; r < n_val; r++) {
            size_t i = val[r], from = x->row_ptr[i];
            double *row = probs + r * n_labels;
            linear_scores(&lw, x->idx + from, x->val + from, x->row_ptr[i + 1] - from, row);
            linear_sigmoids(n_labels, row, row);
        }
        for (size_t i = 0; i < n; i++)
            pos_of[i] = SIZE_MAX;
        for (size_t r = 0; r < n_val; r++)
            pos_of[val[r]] = r;
        for (size_t c = 0; c < n_labels; c++) {
            targets(bl, c, pos_of, n_val, present);
            size_t pos = 0;
            for (size_t r = 0; r < n_val; r++) {
                column[r] = probs[r * n_labels + c];
                pos += present[r];
            }
            thresholds[c] = multilabel_best_threshold(column, present, n_val,
                                                      MULTILABEL_MIN_POSITIVES, thresholds[c]);
            report->n_tuned += pos >= MULTILABEL_MIN_POSITIVES;
        }
        report->n_validation = n_val;
        free(probs);
        free(column);
        free(present);
        linear_free(&lw);
    }
    free(pos_of);
    free(order);
    return rc;
}

int multilabel_fit(const struct tfidf_matrix *x, size_t n_features, const struct multilabel_sets *y,
                   size_t n_labels, const struct linear_params *p,
                   const struct multilabel_config *mc, struct linear_weights *out,
                   double *thresholds, struct multilabel_report *report, struct err *e)
{
    memset(out, 0, sizeof *out);
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
        rc = tune(x, n_features, &bl, n_labels, p, mc->validation_fraction, thresholds, report, e);
    if (rc == 0) rc = fit_all_labels(x, n_features, NULL, n, NULL, &bl, n_labels, p, out, e);
    free(bl.start);
    free(bl.row);
    return rc;
}
