/* The xgboost kind on a multilabel task (ml/xgboost_multilabel.c through
 * ml/model.c): one booster per label with independent probabilities and
 * tuned thresholds, the format-7 artifact (round trip, damage, a fixture
 * from the build that introduced it), SHAP explanations of the asked
 * label's booster, and the `threshold:` key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ids.h"
#include "ml/model.h"
#include "model_expect.h"
#include "multilabel_tickets.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the fixture's probabilities for FIXTURE_TEXT */
#define FIXTURE_TEXT "refund invoice asap"
#define FIXTURE_P0 0.064750738441944122
#define FIXTURE_P1 0.93524926900863647
#define FIXTURE_P2 0.93524926900863647

static int setup(void **state)
{
    (void)state;
    make_data();
    return 0;
}

static struct model_config xgb_config(void)
{
    struct model_config c = parsed_config("xgboost");
    c.text.min_df = 1;
    c.xgb.n_estimators = 8;
    c.xgb.max_depth = 3;
    c.xgb.min_child_weight = 0.5; /* 64 rows: let small leaves split */
    return c;
}

/* The run log's line on m says part. */
static void expect_summary(const struct trained_model *m, const char *part)
{
    char line[160];
    model_summary(m, line, sizeof line);
    if (!strstr(line, part)) fail_msg("summary '%s' lacks '%s'", line, part);
}

static void test_learns_independent_labels(void **state)
{
    (void)state;
    struct model_config c = xgb_config();
    struct multilabel_report rep;
    struct trained_model *m = train_tickets(&c, &rep);
    assert_string_equal(model_kind(m), "xgboost");
    expect_tuned(m, &rep);
    double p[L];
    /* bits: 0 account, 1 billing, 2 urgent; texts like the training ones: a tree's cut on a TF-IDF
     * value is learned from the values training saw */
    assert_int_equal(predicted(m, "hello n1 refund invoice", p), 2);
    assert_int_equal(predicted(m, "hello n3 password login asap immediately", p), 5);
    assert_int_equal(predicted(m, "hello n2 refund invoice password login asap immediately", p), 7);
    assert_int_equal(predicted(m, "hello n4", p), 0);
    /* each label its own probability: three likely labels sum above 1 */
    predicted(m, "hello n2 refund invoice password login asap immediately", p);
    for (size_t l = 0; l < L; l++)
        assert_true(p[l] >= 0 && p[l] <= 1);
    assert_true(p[0] + p[1] + p[2] > 1.5);
    expect_summary(m, "3 boosters (one per label), 8 to 8 of 8 rounds kept");
    model_release(m);
}

static void test_threshold_key_and_early_stopping(void **state)
{
    (void)state;
    struct model_config c;
    struct err e;
    struct config_param p[] = {{"threshold", "0.3", 4}, {"early_stopping_rounds", "2", 5}};
    assert_int_equal(model_config_parse(&c, "xgboost", p, 2, &e), 0);
    assert_int_equal(c.multilabel_line, 4);
    assert_float_equal(c.ml.threshold, 0.3, 0);
    expect_kind_param_error("xgboost", "threshold", "1.5", "expected tune or a probability");
    struct model_config x = xgb_config();
    x.ml.threshold = 0.3;
    x.xgb.n_estimators = 200;
    x.xgb.early_stopping_rounds = 2;
    x.xgb.validation_fraction = 0.25;
    struct multilabel_report rep;
    struct trained_model *m = train_tickets(&x, &rep);
    assert_int_equal(rep.n_validation, 0); /* a fixed threshold tunes nothing */
    for (size_t l = 0; l < L; l++)
        assert_float_equal(model_threshold(m, l), 0.3, 0);
    expect_summary(m, "(early stopping, per label)");
    model_release(m);
}

static void test_round_trip_and_damage(void **state)
{
    (void)state;
    struct model_config c = xgb_config();
    c.text.keep_punct = 0; /* format 7: no text options (the default keep_punct makes 6) */
    struct trained_model *m = train_tickets(&c, NULL);
    struct buf b;
    save_artifact(m, &b, 7);
    struct trained_model *l = load_artifact(&b);
    const char *probe[] = {"refund invoice", "password asap", "hello n3", ""};
    for (size_t i = 0; i < 4; i++) {
        double pa[L], pb[L];
        model_predict(m, probe[i], strlen(probe[i]), pa);
        model_predict(l, probe[i], strlen(probe[i]), pb);
        assert_memory_equal(pa, pb, sizeof pa);
    }
    for (size_t c2 = 0; c2 < L; c2++)
        assert_float_equal(model_threshold(l, c2), model_threshold(m, c2), 0);
    expect_saved_as(l, b.data, b.len);

    /* a damaged booster is named by its label; format 7 is xgboost's only */
    expect_xgboost_damage_refused(&b, "label 3's booster",
                                  "format 7 cannot hold a model of kind 'linear'");
    buf_free(&b);
    model_release(l);
    model_release(m);
}

static void test_explains_the_asked_label(void **state)
{
    (void)state;
    struct model_config c = xgb_config();
    struct trained_model *m = train_tickets(&c, NULL);
    const char *text = "refund invoice asap";
    size_t len = strlen(text);
    struct model_contribution out[16];
    /* billing (1): its own words push it up */
    size_t k = model_explain(m, &text, &len, 1, 1, 16, out);
    assert_true(k >= 1);
    assert_true(out[0].weight > 0);
    assert_true(strstr(out[0].feature, "refund") || strstr(out[0].feature, "invoice"));
    /* urgent (2): its booster's, not billing's */
    k = model_explain(m, &text, &len, 1, 2, 16, out);
    assert_true(k >= 1);
    assert_true(out[0].weight > 0);
    assert_true(strstr(out[0].feature, "asap") || strstr(out[0].feature, "immediately"));
    /* account (0): what the text lacks is what speaks */
    k = model_explain(m, &text, &len, 1, 0, 16, out);
    assert_true(k >= 1);
    assert_true(out[0].weight < 0);
    assert_non_null(strstr(out[0].feature, " (absent)"));
    model_release(m);
}

/* A format-7 artifact written by the build that introduced it (from
 * train(xgb_config())): later builds must load it, predict the same and
 * write it again byte for byte. BOUCLE_WRITE_FIXTURES=1 writes it. */
static void test_format7_fixture_loads(void **state)
{
    (void)state;
    const char *path = "fixtures/model_xgboost_multilabel_v7.bin";
    if (getenv("BOUCLE_WRITE_FIXTURES")) {
        struct model_config c = xgb_config();
        struct trained_model *m = train_tickets(&c, NULL);
        write_fixture(path, m);
        double p[L];
        model_predict(m, FIXTURE_TEXT, strlen(FIXTURE_TEXT), p);
        printf("p = %.17g %.17g %.17g\n", p[0], p[1], p[2]);
        model_release(m);
    }
    static char data[262144];
    size_t len;
    struct trained_model *m = load_fixture(path, data, sizeof data, 7, &len);
    assert_int_equal(model_n_labels(m), L);
    double p[L];
    model_predict(m, FIXTURE_TEXT, strlen(FIXTURE_TEXT), p);
    assert_float_equal(p[0], FIXTURE_P0, 1e-12);
    assert_float_equal(p[1], FIXTURE_P1, 1e-12);
    assert_float_equal(p[2], FIXTURE_P2, 1e-12);
    expect_saved_as(m, data, len);
    model_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_independent_labels),
        cmocka_unit_test(test_threshold_key_and_early_stopping),
        cmocka_unit_test(test_round_trip_and_damage),
        cmocka_unit_test(test_explains_the_asked_label),
        cmocka_unit_test(test_format7_fixture_loads),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
