/* The multilabel test data shared by test_multilabel.c and
 * test_model_xgboost_multilabel.c: 64 tickets, bit 0 billing, bit 1
 * account, bit 2 urgent, each with its words, plus noise; the tickets with
 * no bit set have no label at all. */
#ifndef BOUCLE_TEST_MULTILABEL_TICKETS_H
#define BOUCLE_TEST_MULTILABEL_TICKETS_H

#include "ml/model.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { N = 64, L = 3 };
static const char *names[L] = {"account", "billing", "urgent"};
static char texts_buf[N][96];
static const char *texts[N];
static size_t start[N + 1];
static uint32_t labels[N * L];

static inline int has(size_t i, size_t c)
{
    /* label 0 account = bit 1, 1 billing = bit 0, 2 urgent = bit 2 */
    static const int bit[L] = {1, 0, 2};
    return (int)((i >> bit[c]) & 1);
}

static inline void make_data(void)
{
    size_t k = 0;
    for (size_t i = 0; i < N; i++) {
        snprintf(texts_buf[i], sizeof texts_buf[i], "hello n%zu %s %s %s", i % 7,
                 has(i, 1) ? "refund invoice" : "", has(i, 0) ? "password login" : "",
                 has(i, 2) ? "asap immediately" : "");
        texts[i] = texts_buf[i];
        start[i] = k;
        for (size_t c = 0; c < L; c++)
            if (has(i, c)) labels[k++] = (uint32_t)c;
    }
    start[N] = k;
}

/* A multilabel model of the tickets (make_data first). */
static inline struct trained_model *train_tickets(const struct model_config *c,
                                                  struct multilabel_report *report)
{
    struct multilabel_sets y = {start, labels};
    struct err e;
    err_clear(&e);
    struct trained_model *m = model_train_multilabel(c, texts, &y, N, names, L, report, &e);
    if (!m) fail_msg("training: %s", e.msg);
    return m;
}

/* Trained with the default tuning: 20% of the 64 rows held out, some
 * labels tuned, every threshold a probability. */
static inline void expect_tuned(const struct trained_model *m, const struct multilabel_report *rep)
{
    assert_int_equal(model_task_type(m), TASK_MULTILABEL);
    assert_int_equal(model_n_labels(m), L);
    assert_int_equal(rep->n_validation, 13);
    assert_true(rep->n_tuned >= 1);
    for (size_t c = 0; c < L; c++) {
        double t = model_threshold(m, c);
        assert_true(t > 0 && t < 1);
    }
}

/* The labels m predicts for text, as bits (probabilities in p[L]). */
static inline size_t predicted(const struct trained_model *m, const char *text, double *p)
{
    model_predict(m, text, strlen(text), p);
    size_t bits = 0;
    for (size_t c = 0; c < L; c++)
        if (p[c] >= model_threshold(m, c)) bits |= (size_t)1 << c;
    return bits;
}

#endif
