/* Multilabel metrics, with scikit-learn's conventions where it has the
 * metric (a ratio whose denominator is zero counts as 0, so a document
 * with no true and no predicted label scores 0 in the samples averages, as
 * sklearn's zero_division=0) and macro averages over the labels seen in
 * truth or predictions, as metrics.c does for one label per example. */
#include "eval/metrics_multilabel.h"

#include "base/mem.h"
#include "eval/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

static double ratio_or_nan(double a, double b)
{
    return b > 0 ? a / b : NAN;
}

/* Per-document figures: the samples averages and the tagging figures. */
static void per_document(const unsigned char *truth, const unsigned char *pred, size_t n, size_t L,
                         struct metrics_multilabel *m)
{
    size_t exact = 0, any = 0, all = 0, none = 0, wrong = 0, n_true = 0, n_pred = 0;
    double ps = 0, rs = 0, fs = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *t = truth + i * L, *p = pred + i * L;
        size_t nt = 0, np = 0, tp = 0;
        for (size_t c = 0; c < L; c++) {
            nt += t[c] != 0;
            np += p[c] != 0;
            tp += t[c] && p[c];
            wrong += !t[c] != !p[c];
        }
        exact += tp == nt && tp == np;
        none += np == 0;
        n_true += nt;
        n_pred += np;
        if (nt) {
            m->n_tagged++;
            any += tp > 0;
            all += tp == nt;
        }
        ps += ratio((double)tp, (double)np);
        rs += ratio((double)tp, (double)nt);
        fs += ratio(2.0 * (double)tp, (double)(nt + np));
    }
    m->subset_accuracy = (double)exact / (double)n;
    m->hamming_loss = (double)wrong / ((double)n * (double)L);
    m->precision_samples = ps / (double)n;
    m->recall_samples = rs / (double)n;
    m->f1_samples = fs / (double)n;
    m->docs_any_found = ratio_or_nan((double)any, (double)m->n_tagged);
    m->docs_all_found = ratio_or_nan((double)all, (double)m->n_tagged);
    m->docs_no_prediction = (double)none / (double)n;
    m->labels_per_doc_true = (double)n_true / (double)n;
    m->labels_per_doc_pred = (double)n_pred / (double)n;
}

/* Per-label counts, figures, micro and macro averages, coverage. */
static void per_label(const unsigned char *truth, const unsigned char *pred, size_t n, size_t L,
                      struct metrics_multilabel *m)
{
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < L; c++) {
            int t = truth[i * L + c] != 0, p = pred[i * L + c] != 0;
            m->support[c] += (size_t)t;
            m->predicted[c] += (size_t)p;
            m->tp[c] += (size_t)(t && p);
        }
    size_t tp = 0, sup = 0, prd = 0, seen = 0, with_support = 0, found = 0;
    for (size_t c = 0; c < L; c++) {
        m->precision[c] = ratio((double)m->tp[c], (double)m->predicted[c]);
        m->recall[c] = ratio((double)m->tp[c], (double)m->support[c]);
        m->f1[c] = ratio(2.0 * (double)m->tp[c], (double)(m->support[c] + m->predicted[c]));
        tp += m->tp[c];
        sup += m->support[c];
        prd += m->predicted[c];
        if (m->support[c] || m->predicted[c]) {
            seen++;
            m->precision_macro += m->precision[c];
            m->recall_macro += m->recall[c];
            m->f1_macro += m->f1[c];
        }
        with_support += m->support[c] > 0;
        found += m->tp[c] > 0;
    }
    m->precision_micro = ratio((double)tp, (double)prd);
    m->recall_micro = ratio((double)tp, (double)sup);
    m->f1_micro = ratio(2.0 * (double)tp, (double)(sup + prd));
    m->precision_macro = ratio(m->precision_macro, (double)seen);
    m->recall_macro = ratio(m->recall_macro, (double)seen);
    m->f1_macro = ratio(m->f1_macro, (double)seen);
    m->label_coverage = ratio_or_nan((double)found, (double)with_support);
}

static void macro_auc(const unsigned char *truth, const double *probs, size_t n, size_t L,
                      struct metrics_multilabel *m)
{
    double *score = xmalloc(n * sizeof *score);
    unsigned char *present = xmalloc(n);
    double roc = 0, ap = 0;
    size_t counted = 0;
    for (size_t c = 0; c < L; c++) {
        for (size_t i = 0; i < n; i++) {
            score[i] = probs[i * L + c];
            present[i] = truth[i * L + c] != 0;
        }
        double r, a;
        metrics_binary_auc(score, present, n, &r, &a);
        if (isnan(r)) continue; /* no positive or no negative: undefined for this label */
        roc += r;
        ap += a;
        counted++;
    }
    m->roc_auc = counted ? roc / (double)counted : NAN;
    m->pr_auc = counted ? ap / (double)counted : NAN;
    free(score);
    free(present);
}

int metrics_multilabel_compute(const unsigned char *truth, const unsigned char *pred,
                               const double *probs, size_t n, size_t n_labels,
                               struct metrics_multilabel *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->roc_auc = out->pr_auc = NAN;
    if (!n) return err_set(e, ERR_INVALID, "no examples to evaluate");
    if (!n_labels) return err_set(e, ERR_INVALID, "no labels");
    size_t L = n_labels;
    out->n = n;
    out->n_labels = L;
    out->precision = xcalloc(L, sizeof *out->precision);
    out->recall = xcalloc(L, sizeof *out->recall);
    out->f1 = xcalloc(L, sizeof *out->f1);
    out->support = xcalloc(L, sizeof *out->support);
    out->predicted = xcalloc(L, sizeof *out->predicted);
    out->tp = xcalloc(L, sizeof *out->tp);
    per_document(truth, pred, n, L, out);
    per_label(truth, pred, n, L, out);
    if (probs) macro_auc(truth, probs, n, L, out);
    return 0;
}

/* JSON has no NaN: an undefined metric is null. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *metrics_multilabel_to_json(const struct metrics_multilabel *m,
                                   const char *const *label_names)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)m->n));
    const struct {
        const char *key;
        double v;
    } figures[] = {
        {"accuracy", m->subset_accuracy},
        {"subset_accuracy", m->subset_accuracy},
        {"hamming_loss", m->hamming_loss},
        {"precision_micro", m->precision_micro},
        {"recall_micro", m->recall_micro},
        {"f1_micro", m->f1_micro},
        {"precision_macro", m->precision_macro},
        {"recall_macro", m->recall_macro},
        {"f1_macro", m->f1_macro},
        {"precision_samples", m->precision_samples},
        {"recall_samples", m->recall_samples},
        {"f1_samples", m->f1_samples},
        {"docs_any_found", m->docs_any_found},
        {"docs_all_found", m->docs_all_found},
        {"label_coverage", m->label_coverage},
        {"docs_no_prediction", m->docs_no_prediction},
        {"roc_auc", m->roc_auc},
        {"pr_auc", m->pr_auc},
    };
    for (size_t i = 0; i < sizeof figures / sizeof *figures; i++)
        json_object_set_new(o, figures[i].key, num(figures[i].v));
    json_object_set_new(o, "labels_per_doc",
                        json_pack("{s:o,s:o}", "true", num(m->labels_per_doc_true), "predicted",
                                  num(m->labels_per_doc_pred)));
    json_t *per = json_object();
    for (size_t c = 0; c < m->n_labels; c++) {
        json_t *k = json_pack("{s:o,s:o,s:o,s:I,s:I}", "precision", num(m->precision[c]), "recall",
                              num(m->recall[c]), "f1", num(m->f1[c]), "support",
                              (json_int_t)m->support[c], "predicted", (json_int_t)m->predicted[c]);
        char fallback[32];
        const char *name = label_names && label_names[c] ? label_names[c] : NULL;
        if (!name) {
            snprintf(fallback, sizeof fallback, "%zu", c);
            name = fallback;
        }
        json_object_set_new(per, name, k);
    }
    json_object_set_new(o, "per_class", per);
    return o;
}

int metrics_multilabel_value(const struct metrics_multilabel *m, const char *name, double *out,
                             struct err *e)
{
    const struct {
        const char *name;
        double value;
    } known[] = {
        {"accuracy", m->subset_accuracy},
        {"subset_accuracy", m->subset_accuracy},
        {"f1_micro", m->f1_micro},
        {"f1_macro", m->f1_macro},
        {"f1_samples", m->f1_samples},
        {"precision_micro", m->precision_micro},
        {"precision_macro", m->precision_macro},
        {"precision_samples", m->precision_samples},
        {"recall_micro", m->recall_micro},
        {"recall_macro", m->recall_macro},
        {"recall_samples", m->recall_samples},
        {"roc_auc", m->roc_auc},
        {"pr_auc", m->pr_auc},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (name && !strcmp(name, known[i].name)) {
            *out = known[i].value;
            return 0;
        }
    return err_set(e, ERR_INVALID,
                   "unknown multilabel metric '%s' (accuracy, subset_accuracy, f1_micro, f1_macro, "
                   "f1_samples, precision_micro, precision_macro, precision_samples, recall_micro, "
                   "recall_macro, recall_samples, roc_auc, pr_auc)",
                   name ? name : "");
}

void metrics_multilabel_free(struct metrics_multilabel *m)
{
    free(m->precision);
    free(m->recall);
    free(m->f1);
    free(m->support);
    free(m->predicted);
    free(m->tp);
    memset(m, 0, sizeof *m);
}
