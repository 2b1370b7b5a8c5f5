/* The evaluation gate: does a challenger really beat the champion?
 * Both models' predictions on the same examples are compared: the primary
 * metric must gain at least min_delta, a paired test (bootstrap confidence
 * interval of the difference, or McNemar on the discordant pairs) must say
 * the gain is not noise at the configured confidence, and no guard metric
 * (each class's recall) may drop by more than its bound. Primary metrics:
 * accuracy (a multilabel document counts when its set is exact), f1_macro,
 * f1_weighted, precision_macro, recall_macro, precision_weighted,
 * recall_weighted, f1_micro, precision_micro, recall_micro, f1_samples. */
#ifndef BOUCLE_EVAL_GATE_H
#define BOUCLE_EVAL_GATE_H

#include "base/config.h"
#include "base/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct gate_decision {
    int deploy; /* 1 = the challenger may replace the champion */
    char primary[32];
    double champion_score, challenger_score, delta;
    double ci_low, ci_high; /* bootstrap CI of the delta (NAN for mcnemar) */
    double p_value;         /* mcnemar (NAN for bootstrap) */
    size_t n;               /* examples compared */
    json_t *reasons;        /* array of strings, each a sentence; owned */
    char refusal[512];      /* when not deployed: the reason of the first check that failed */
    json_t *guards; /* {"recall[neutral]": {"champion","challenger","drop","bound","ok"}}; owned */
};

/* y_true, champion and challenger predictions are label indices in
 * [0, n_labels) over the same n examples. Deterministic for a seed. */
int gate_decide(const struct gate_config *policy, const int *y_true, const int *champion,
                const int *challenger, size_t n, size_t n_labels, const char *const *label_names,
                uint64_t seed, struct gate_decision *out, struct err *e);
/* The same for a multilabel task: truth, champion and challenger are
 * n x n_labels bytes (row-major, non-zero where the label is present).
 * Every primary metric applies (f1_micro is the multilabel default of the
 * config); the guards watch each label's recall; McNemar counts a document
 * right when its predicted set is exactly its true set. */
int gate_decide_multilabel(const struct gate_config *policy, const unsigned char *truth,
                           const unsigned char *champion, const unsigned char *challenger, size_t n,
                           size_t n_labels, const char *const *label_names, uint64_t seed,
                           struct gate_decision *out, struct err *e);
/* McNemar's two-sided p-value for b (champion alone right) and c (challenger
 * alone right) discordant pairs: exact binomial when b + c < 25 (*exact = 1),
 * else chi-square with continuity correction. exact may be NULL. */
double gate_mcnemar_p(size_t b, size_t c, int *exact);
json_t *gate_decision_to_json(const struct gate_decision *d); /* new reference */
void gate_decision_free(struct gate_decision *d);

#endif
