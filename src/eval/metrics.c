/* Classification metrics with scikit-learn's conventions: a ratio whose
 * denominator is zero counts as 0, macro averages run over the labels seen
 * in y_true or y_pred, ROC-AUC gives tied scores their average rank, and
 * PR-AUC is average precision (sum over thresholds of precision times the
 * recall gained). Multiclass AUCs are one-vs-rest, macro-averaged. */
#include "eval/metrics.h"

#include "base/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

struct scored {
    double score;
    int positive;
};

static int cmp_score_desc(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;
    return (x < y) - (x > y);
}

/* Both binary curves from one descending sort; ties form one group. */
static void binary_auc(const struct scored *s, size_t n, double *roc, double *ap)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += (size_t)s[i].positive;
    size_t neg = n - pos;
    *roc = NAN;
    *ap = NAN;
    if (!pos) return;

    /* Mann-Whitney: each positive wins over the negatives ranked below it
     * and gets half a win per tied negative. */
    double wins = 0, ap_sum = 0;
    size_t tp = 0, fp = 0, neg_after = neg;
    for (size_t i = 0; i < n;) {
        size_t j = i, gp = 0, gn = 0;
        while (j < n && s[j].score == s[i].score) {
            if (s[j].positive)
                gp++;
            else
                gn++;
            j++;
        }
        neg_after -= gn;
        wins += (double)gp * ((double)neg_after + 0.5 * (double)gn);
        tp += gp;
        fp += gn;
        /* a threshold at this group: recall rises by gp/pos at precision tp/(tp+fp) */
        ap_sum += (double)gp / (double)pos * ((double)tp / (double)(tp + fp));
        i = j;
    }
    if (neg) *roc = wins / ((double)pos * (double)neg);
    *ap = ap_sum;
}

void metrics_binary_auc(const double *scores, const unsigned char *positive, size_t n,
                        double *roc_auc, double *pr_auc)
{
    struct scored *s = xmalloc((n ? n : 1) * sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = (struct scored){scores[i], positive[i] != 0};
    qsort(s, n, sizeof *s, cmp_score_desc);
    binary_auc(s, n, roc_auc, pr_auc);
    free(s);
}

/* Binary: the curves of label 1. Multiclass: each label against the rest,
 * averaged over the labels with both positives and negatives. */
static void one_vs_rest_auc(const int *y_true, const double *probs, size_t n, size_t L, double *roc,
                            double *ap)
{
    struct scored *s = xmalloc(n * sizeof *s);
    double roc_sum = 0, ap_sum = 0;
    size_t counted = 0;
    for (size_t c = L == 2 ? 1 : 0; c < L; c++) {
        for (size_t i = 0; i < n; i++) {
            s[i].score = probs[i * L + c];
            s[i].positive = (size_t)y_true[i] == c;
        }
        qsort(s, n, sizeof *s, cmp_score_desc);
        double r, a;
        binary_auc(s, n, &r, &a);
        if (L == 2) {
            *roc = r;
            *ap = a;
            break;
        }
        if (isnan(r)) continue; /* no positive or no negative: undefined for this label */
        roc_sum += r;
        ap_sum += a;
        counted++;
    }
    if (L > 2) {
        *roc = counted ? roc_sum / (double)counted : NAN;
        *ap = counted ? ap_sum / (double)counted : NAN;
    }
    free(s);
}

static double brier(const int *y_true, const double *probs, size_t n, size_t L)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (L == 2) {
            double d = probs[i * 2 + 1] - (y_true[i] == 1);
            sum += d * d;
            continue;
        }
        for (size_t c = 0; c < L; c++) {
            double d = probs[i * L + c] - ((size_t)y_true[i] == c);
            sum += d * d;
        }
    }
    return sum / (double)n;
}

enum { ECE_BINS = 15 };

static double calibration_error(const int *y_true, const int *y_pred, const double *probs, size_t n,
                                size_t L)
{
    double conf_sum[ECE_BINS] = {0}, hits[ECE_BINS] = {0};
    size_t count[ECE_BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        double p = probs[i * L + (size_t)y_pred[i]];
        if (!(p >= 0)) p = 0; /* NaN */
        if (p > 1) p = 1;
        /* bins are (k/15, (k+1)/15]; 0 joins the first */
        int b = (int)ceil(p * ECE_BINS) - 1;
        if (b < 0) b = 0;
        if (b >= ECE_BINS) b = ECE_BINS - 1;
        conf_sum[b] += p;
        hits[b] += y_pred[i] == y_true[i];
        count[b]++;
    }
    double ece = 0;
    for (int b = 0; b < ECE_BINS; b++)
        if (count[b]) ece += fabs(hits[b] - conf_sum[b]) / (double)n;
    return ece;
}

int metrics_compute(const int *y_true, const int *y_pred, const double *probs, size_t n,
                    size_t n_labels, struct metrics *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->roc_auc = out->pr_auc = out->log_loss = out->brier = out->ece = NAN;
    if (!n) return err_set(e, ERR_INVALID, "no examples to evaluate");
    if (!n_labels) return err_set(e, ERR_INVALID, "no labels");
    for (size_t i = 0; i < n; i++) {
        if (y_true[i] < 0 || (size_t)y_true[i] >= n_labels || y_pred[i] < 0 ||
            (size_t)y_pred[i] >= n_labels)
            return err_set(e, ERR_INVALID, "example %zu: label index out of range (%d, %d)", i,
                           y_true[i], y_pred[i]);
    }
    size_t L = n_labels;
    out->n = n;
    out->n_labels = L;
    out->confusion = xcalloc(L * L, sizeof *out->confusion);
    out->support = xcalloc(L, sizeof *out->support);
    out->precision = xcalloc(L, sizeof *out->precision);
    out->recall = xcalloc(L, sizeof *out->recall);
    out->f1 = xcalloc(L, sizeof *out->f1);

    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        out->confusion[(size_t)y_true[i] * L + (size_t)y_pred[i]]++;
        correct += y_true[i] == y_pred[i];
    }
    out->accuracy = (double)correct / (double)n;
    out->precision_micro = out->recall_micro = out->f1_micro = out->accuracy;

    size_t seen = 0;
    for (size_t c = 0; c < L; c++) {
        size_t tp = out->confusion[c * L + c], row = 0, col = 0;
        for (size_t k = 0; k < L; k++) {
            row += out->confusion[c * L + k];
            col += out->confusion[k * L + c];
        }
        out->support[c] = row;
        out->precision[c] = ratio((double)tp, (double)col);
        out->recall[c] = ratio((double)tp, (double)row);
        out->f1[c] = ratio(2.0 * (double)tp, (double)(row + col));
        if (row || col) {
            seen++;
            out->precision_macro += out->precision[c];
            out->recall_macro += out->recall[c];
            out->f1_macro += out->f1[c];
        }
        double w = (double)row / (double)n;
        out->precision_weighted += w * out->precision[c];
        out->recall_weighted += w * out->recall[c];
        out->f1_weighted += w * out->f1[c];
    }
    out->precision_macro /= (double)seen;
    out->recall_macro /= (double)seen;
    out->f1_macro /= (double)seen;

    if (probs) {
        double ll = 0;
        for (size_t i = 0; i < n; i++) {
            double p = probs[i * L + (size_t)y_true[i]];
            if (!(p >= 1e-15)) p = 1e-15; /* also catches NaN */
            if (p > 1 - 1e-15) p = 1 - 1e-15;
            ll -= log(p);
        }
        out->log_loss = ll / (double)n;
        out->brier = brier(y_true, probs, n, L);
        out->ece = calibration_error(y_true, y_pred, probs, n, L);
        one_vs_rest_auc(y_true, probs, n, L, &out->roc_auc, &out->pr_auc);
    }
    return 0;
}

/* JSON has no NaN: an undefined metric is null. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *metrics_to_json(const struct metrics *m, const char *const *label_names)
{
    size_t L = m->n_labels;
    char **names = xcalloc(L ? L : 1, sizeof *names);
    for (size_t c = 0; c < L; c++)
        names[c] = label_names && label_names[c] ? xstrdup(label_names[c]) : xasprintf("%zu", c);
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)m->n));
    json_object_set_new(o, "accuracy", num(m->accuracy));
    json_object_set_new(o, "precision_macro", num(m->precision_macro));
    json_object_set_new(o, "recall_macro", num(m->recall_macro));
    json_object_set_new(o, "f1_macro", num(m->f1_macro));
    json_object_set_new(o, "precision_weighted", num(m->precision_weighted));
    json_object_set_new(o, "recall_weighted", num(m->recall_weighted));
    json_object_set_new(o, "f1_weighted", num(m->f1_weighted));
    json_object_set_new(o, "precision_micro", num(m->precision_micro));
    json_object_set_new(o, "recall_micro", num(m->recall_micro));
    json_object_set_new(o, "f1_micro", num(m->f1_micro));
    json_object_set_new(o, "roc_auc", num(m->roc_auc));
    json_object_set_new(o, "pr_auc", num(m->pr_auc));
    json_object_set_new(o, "log_loss", num(m->log_loss));
    json_object_set_new(o, "brier", num(m->brier));
    json_object_set_new(o, "ece", num(m->ece));

    json_t *per = json_object();
    for (size_t c = 0; c < L; c++) {
        json_t *k = json_object();
        json_object_set_new(k, "precision", num(m->precision[c]));
        json_object_set_new(k, "recall", num(m->recall[c]));
        json_object_set_new(k, "f1", num(m->f1[c]));
        json_object_set_new(k, "support", json_integer((json_int_t)m->support[c]));
        json_object_set_new(per, names[c], k);
    }
    json_object_set_new(o, "per_class", per);

    json_t *labels = json_array(), *matrix = json_array();
    for (size_t r = 0; r < L; r++) {
        json_array_append_new(labels, json_string(names[r]));
        json_t *row = json_array();
        for (size_t c = 0; c < L; c++)
            json_array_append_new(row, json_integer((json_int_t)m->confusion[r * L + c]));
        json_array_append_new(matrix, row);
    }
    json_t *cm = json_object();
    json_object_set_new(cm, "labels", labels);
    json_object_set_new(cm, "matrix", matrix);
    json_object_set_new(o, "confusion_matrix", cm);

    for (size_t c = 0; c < L; c++)
        free(names[c]);
    free(names);
    return o;
}

int metrics_value(const struct metrics *m, const char *name, double *out, struct err *e)
{
    const struct {
        const char *name;
        double value;
    } known[] = {{"accuracy", m->accuracy},         {"f1_macro", m->f1_macro},
                 {"f1_weighted", m->f1_weighted},   {"precision_macro", m->precision_macro},
                 {"recall_macro", m->recall_macro}, {"roc_auc", m->roc_auc}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (name && !strcmp(name, known[i].name)) {
            *out = known[i].value;
            return 0;
        }
    return err_set(e, ERR_INVALID,
                   "unknown metric '%s' (accuracy, f1_macro, f1_weighted, precision_macro, "
                   "recall_macro, roc_auc)",
                   name ? name : "");
}

void metrics_free(struct metrics *m)
{
    free(m->precision);
    free(m->recall);
    free(m->f1);
    free(m->support);
    free(m->confusion);
    m->precision = m->recall = m->f1 = NULL;
    m->support = m->confusion = NULL;
}
