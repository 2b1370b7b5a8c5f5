/* The multilabel side of the loop: the stored label sets become the model's
 * inputs, the one-vs-rest model is trained and measured on the test split
 * with the multilabel metrics (eval/metrics_multilabel.h), and the evaluate
 * step compares champion and challenger with the gate on label sets. */
#ifndef BOUCLE_LOOP_TRAIN_MULTILABEL_H
#define BOUCLE_LOOP_TRAIN_MULTILABEL_H

#include "base/config.h"
#include "base/err.h"
#include "loop/corpus.h"
#include "ml/model.h"

#include <jansson.h>
#include <stddef.h>

/* Trains on n prepared texts, c->texts[rows[k]], with the label sets
 * c->labels[label_rows[k]] (label_rows differs from rows only when the
 * task's shuffle_labels knob is on), over the sorted label names.
 * *tuning receives {"validation_rows", "tuned_labels"}. */
struct trained_model *train_multilabel_fit(const struct model_config *mc, const struct corpus *c,
                                           const size_t *rows, const size_t *label_rows, size_t n,
                                           const char *const *names, size_t n_names,
                                           json_t **tuning, struct err *e);

/* The test split's metrics (NULL and no error without test rows). */
json_t *train_multilabel_evaluate(const struct trained_model *m, const struct corpus *c,
                                  const char *const *names, size_t n_names, struct err *e);

/* The evaluate step: both models predict the prepared corpus's test rows
 * from their raw fields (each preparing them its own way) and the gate
 * (eval/gate.h) compares their label sets; *decision as gate_decision_to_json. */
int train_multilabel_compare(const struct gate_config *gate, const struct corpus *c,
                             struct trained_model *champion, struct trained_model *challenger,
                             json_t **decision, struct err *e);

/* {"label": threshold, ...} of a multilabel model. */
json_t *train_multilabel_thresholds(const struct trained_model *m);

#endif
