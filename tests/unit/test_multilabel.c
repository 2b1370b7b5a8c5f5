/* Unit tests for multilabel models (ml/multilabel and its use in ml/model):
 * the F1-optimal threshold, one-vs-rest training with independent
 * probabilities, the `threshold:` and `validation_fraction:` keys, and the
 * format-3 artifact (round trip, damage, a fixture from this build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ml/model.h"
#include "model_expect.h"
#include "multilabel_tickets.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the threshold ---------------------------------------------------- */

static void test_best_threshold(void **state)
{
    (void)state;
    /* sorted: .9+ .8+ .7- .6+ .4- .3+ .2- .1-: F1 by rows kept
     * 1: 2/5=.40  2: 4/6=.67  3: 4/7=.57  4: 6/8=.75  5: 6/9=.67  6: 8/10=.80  7,8: < .8 */
    const double p[] = {0.1, 0.9, 0.4, 0.3, 0.8, 0.2, 0.7, 0.6};
    const unsigned char y[] = {0, 1, 0, 1, 1, 0, 0, 1};
    assert_float_equal(multilabel_best_threshold(p, y, 8, 1, 0.5), 0.25, 1e-12);
    /* too few positives: the fallback */
    assert_float_equal(multilabel_best_threshold(p, y, 8, 5, 0.5), 0.5, 0);
    const unsigned char none[8] = {0};
    assert_float_equal(multilabel_best_threshold(p, none, 8, 0, 0.5), 0.5, 0);
    /* separable: halfway between the lowest positive and the highest negative */
    const double q[] = {0.95, 0.9, 0.35, 0.3};
    const unsigned char z[] = {1, 1, 0, 0};
    assert_float_equal(multilabel_best_threshold(q, z, 4, 1, 0.5), 0.625, 1e-12);
    /* tied probabilities are kept or dropped together; ties keep the higher threshold */
    const double t[] = {0.8, 0.6, 0.6, 0.2};
    const unsigned char u[] = {1, 1, 0, 0};
    /* keep 1: 2/3; keep 3: 4/5 = .8; keep 4: 4/6 */
    assert_float_equal(multilabel_best_threshold(t, u, 4, 1, 0.5), 0.4, 1e-12);
    /* everything positive: keep all, below the lowest */
    const unsigned char all[] = {1, 1, 1, 1};
    assert_float_equal(multilabel_best_threshold(t, all, 4, 1, 0.5), 0.1, 1e-12);
}

/* ---- training --------------------------------------------------------- */

static struct trained_model *train_punct(double threshold, double validation,
                                         struct multilabel_report *report, int keep_punct)
{
    make_data();
    struct model_config c;
    model_config_defaults(&c);
    c.text.min_df = 1;
    c.C = 10;
    c.text.keep_punct = keep_punct;
    c.ml.threshold = threshold;
    c.ml.validation_fraction = validation;
    return train_tickets(&c, report);
}

static struct trained_model *train(double threshold, double validation,
                                   struct multilabel_report *report)
{
    return train_punct(threshold, validation, report, 1); /* the default */
}

static void test_learns_independent_labels(void **state)
{
    (void)state;
    struct multilabel_report rep;
    struct trained_model *m = train(-1, 0.2, &rep);
    expect_tuned(m, &rep);
    double p[L];
    size_t wrong = 0;
    for (size_t i = 0; i < N; i++) {
        size_t want = 0;
        for (size_t c = 0; c < L; c++)
            want |= (size_t)has(i, c) << c;
        wrong += predicted(m, texts[i], p) != want;
    }
    assert_int_equal(wrong, 0);
    /* independent probabilities: two labels can both be likely */
    assert_int_equal(predicted(m, "refund invoice asap immediately", p), 0x6);
    assert_true(p[1] > 0.5 && p[2] > 0.5);
    assert_true(p[0] + p[1] + p[2] > 1.0);
    assert_int_equal(predicted(m, "hello there", p), 0); /* no label */
    assert_true(isnan(model_threshold(m, 3)));
    model_release(m);
}

static void test_fixed_threshold_and_no_tuning(void **state)
{
    (void)state;
    struct multilabel_report rep;
    struct trained_model *m = train(0.3, 0.2, &rep);
    assert_int_equal(rep.n_validation, 0);
    for (size_t c = 0; c < L; c++)
        assert_float_equal(model_threshold(m, c), 0.3, 0);
    model_release(m);
    m = train(-1, 0, &rep); /* no validation share: the default */
    assert_int_equal(rep.n_validation, 0);
    for (size_t c = 0; c < L; c++)
        assert_float_equal(model_threshold(m, c), MULTILABEL_THRESHOLD_DEFAULT, 0);
    model_release(m);
}

static void test_keys_and_refusals(void **state)
{
    (void)state;
    struct model_config c;
    struct err e;
    assert_int_equal(model_config_parse(&c, "linear", NULL, 0, &e), 0);
    assert_true(c.ml.threshold < 0); /* tune */
    assert_float_equal(c.ml.validation_fraction, 0.2, 0);
    assert_int_equal(c.multilabel_line, 0);
    struct config_param p[] = {
        {"C", "2", 3}, {"threshold", "0.4", 4}, {"validation_fraction", "0.3", 5}};
    assert_int_equal(model_config_parse(&c, "linear", p, 3, &e), 0);
    assert_float_equal(c.ml.threshold, 0.4, 0);
    assert_float_equal(c.ml.validation_fraction, 0.3, 0);
    assert_int_equal(c.multilabel_line, 4);
    struct config_param tune = {"threshold", "tune", 6};
    assert_int_equal(model_config_parse(&c, "linear", &tune, 1, &e), 0);
    assert_true(c.ml.threshold < 0);
    expect_kind_param_error("linear", "threshold", "1", "expected tune or a probability in (0, 1)");
    expect_kind_param_error("linear", "threshold", "always", "expected tune or a probability");
    expect_kind_param_error("linear", "validation_fraction", "1", "in [0, 1)");

    make_data();
    struct multilabel_sets y = {start, labels};
    model_config_defaults(&c);
    snprintf(c.kind, sizeof c.kind, "fasttext");
    assert_null(model_train_multilabel(&c, texts, &y, N, names, L, NULL, &e));
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "use kind linear"));
    model_config_defaults(&c);
    assert_null(model_train_multilabel(&c, texts, &y, N, names, 0, NULL, &e));
    assert_non_null(strstr(e.msg, "needs 1 to"));
    uint32_t bad[N * L];
    memcpy(bad, labels, sizeof bad);
    bad[0] = 7;
    struct multilabel_sets yb = {start, bad};
    c.text.min_df = 1;
    assert_null(model_train_multilabel(&c, texts, &yb, N, names, L, NULL, &e));
    assert_non_null(strstr(e.msg, "out of range"));
}

/* One label only: still a model (present or not), and its explanation has
 * the label's own sign, not a binary model's. */
static void test_one_label(void **state)
{
    (void)state;
    make_data();
    size_t st[N + 1];
    uint32_t lab[N];
    size_t k = 0;
    for (size_t i = 0; i < N; i++) {
        st[i] = k;
        if (has(i, 2)) lab[k++] = 0;
    }
    st[N] = k;
    struct model_config c;
    model_config_defaults(&c);
    c.text.min_df = 1;
    c.C = 10;
    struct multilabel_sets y = {st, lab};
    const char *only[] = {"urgent"};
    struct err e;
    struct trained_model *m = model_train_multilabel(&c, texts, &y, N, only, 1, NULL, &e);
    assert_non_null(m);
    double p[1];
    model_predict(m, "asap please", 11, p);
    assert_true(p[0] >= model_threshold(m, 0));
    const char *text = "asap immediately";
    const size_t len = strlen(text);
    struct model_contribution why[4];
    assert_true(model_explain(m, &text, &len, 1, 0, 4, why) >= 1);
    assert_true(why[0].weight > 0);
    model_release(m);
}

/* ---- artifact --------------------------------------------------------- */

static void test_artifact_round_trip(void **state)
{
    (void)state;
    /* format 4: no text options (keep_punct, the default, makes it 6) */
    struct trained_model *m = train_punct(-1, 0.2, NULL, 0);
    struct buf b;
    buf_init(&b);
    struct err e;
    assert_int_equal(model_save(m, &b, &e), 0);
    assert_int_equal(b.data[8], 4);
    struct trained_model *l = model_load(b.data, b.len, &e);
    assert_non_null(l);
    assert_int_equal(model_task_type(l), TASK_MULTILABEL);
    for (size_t c = 0; c < L; c++)
        assert_memory_equal(&(double){model_threshold(l, c)}, &(double){model_threshold(m, c)},
                            sizeof(double));
    double p[L], q[L];
    for (size_t i = 0; i < N; i += 5) {
        model_predict(m, texts[i], strlen(texts[i]), p);
        model_predict(l, texts[i], strlen(texts[i]), q);
        assert_memory_equal(p, q, sizeof p);
    }
    expect_saved_as(l, b.data, b.len);

    /* a multilabel model says so in its format: relabelled 2, it is refused */
    b.data[8] = 2;
    expect_corrupt(b.data, b.len, "checksum mismatch");
    b.data[8] = 4;
    expect_corrupt(b.data, b.len - 70, "truncated");
    model_release(l);
    model_release(m);
    buf_free(&b);
}

/* A format-4 (multilabel) artifact written by the build that introduced it (`make
 * build/tests/test_multilabel && build/tests/test_multilabel write FILE`:
 * this file's training data, default settings but min_df 1 and C 10) must
 * keep loading and predicting what it predicted then. */
static void test_format4_fixture_loads(void **state)
{
    (void)state;
    static char data[65536];
    size_t len;
    struct trained_model *m =
        load_fixture("fixtures/model_multilabel_v4.bin", data, sizeof data, 4, &len);
    assert_int_equal(model_n_labels(m), 3);
    assert_string_equal(model_label(m, 2), "urgent");
    double p[L];
    assert_int_equal(predicted(m, "refund invoice asap immediately", p), 0x6);
    /* the same numbers as when it was written */
    static const double want_p[L] = {0.054363513645675703, 0.98700087469911302, 0.9944207028733677},
                        want_t[L] = {0.5, 0.53755702676591355, 0.48385801236138359};
    for (size_t c = 0; c < L; c++) {
        assert_float_equal(p[c], want_p[c], 1e-12);
        assert_float_equal(model_threshold(m, c), want_t[c], 1e-12);
    }
    expect_saved_as(m, data, len);
    model_release(m);
}

int main(int argc, char **argv)
{
    /* `test_multilabel write FILE` writes the fixture above */
    if (argc == 3 && !strcmp(argv[1], "write")) {
        struct trained_model *m = train(-1, 0.2, NULL);
        double p[L];
        model_predict(m, "refund invoice asap immediately", 31, p);
        for (size_t c = 0; c < L; c++)
            printf("label %zu: p %.17g threshold %.17g\n", c, p[c], model_threshold(m, c));
        struct buf b;
        buf_init(&b);
        struct err e;
        model_save(m, &b, &e);
        FILE *f = fopen(argv[2], "wb");
        int ok = f && fwrite(b.data, 1, b.len, f) == b.len;
        if (f) fclose(f);
        buf_free(&b);
        model_release(m);
        return ok ? 0 : 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best_threshold),
        cmocka_unit_test(test_learns_independent_labels),
        cmocka_unit_test(test_fixed_threshold_and_no_tuning),
        cmocka_unit_test(test_keys_and_refusals),
        cmocka_unit_test(test_one_label),
        cmocka_unit_test(test_artifact_round_trip),
        cmocka_unit_test(test_format4_fixture_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
