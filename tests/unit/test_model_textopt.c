/* Linear models with the text options of issue 5 (char n-grams, hashing,
 * stop words, stemming, keep_punct): their `model:` keys and errors, the
 * format-6 artifact that carries the options (so serving featurises as
 * training did), explanations that name hashed buckets by the input's
 * terms, and a model without them still written as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ml/model.h"
#include "model_expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *texts[] = {
    "The flight was delayed again!!",
    "Delays, delays and more delays!",
    "Great crew, lovely flight",
    "Loved the crew and the seats",
    "Is my flight delayed?",
    "Where is my bag? Lost again?",
    "Running late, delayed connection",
    "Lovely service and great seats",
    "Lost luggage, nobody answers?",
    "Amazing crew, thanks!",
    "They lost my bags again",
    "The crew were lovely and kind",
};
static const int labels[] = {0, 0, 1, 1, 2, 2, 0, 1, 2, 1, 0, 1};
static const char *names[] = {"negative", "positive", "question"};
#define N (sizeof texts / sizeof *texts)
#define FIXTURE6_LEN 11997
#define FIXTURE6_P 0.38635877115715017

static struct trained_model *train_with(const char *const *keys, const char *const *values,
                                        size_t n)
{
    struct config_param p[8];
    for (size_t i = 0; i < n; i++)
        p[i] = (struct config_param){(char *)keys[i], (char *)values[i], (int)i + 1};
    struct model_config c;
    struct err e;
    if (model_config_parse(&c, "linear", p, n, &e)) fail_msg("%s", e.msg);
    c.text.min_df = 1;
    struct trained_model *m = model_train(&c, TASK_MULTICLASS, texts, labels, N, names, 3, &e);
    if (!m) fail_msg("%s", e.msg);
    return m;
}

static const char *opt_keys[] = {"analyzer", "char_ngrams", "stop_words", "stemming", "keep_punct"};
static const char *opt_values[] = {"both", "2,4", "english", "english", "true"};

static double prob_of(const struct trained_model *m, const char *text, size_t label)
{
    double p[3];
    model_predict(m, text, strlen(text), p);
    return p[label];
}

static void test_format6_round_trip(void **state)
{
    (void)state;
    const char *hk[] = {"hashing_bits", "analyzer"}, *hv[] = {"12", "char_wb"};
    struct trained_model *models[] = {train_with(opt_keys, opt_values, 5), train_with(hk, hv, 2)};
    for (size_t i = 0; i < 2; i++) {
        struct trained_model *m = models[i];
        struct buf b;
        buf_init(&b);
        struct err e;
        assert_int_equal(model_save(m, &b, &e), 0);
        assert_int_equal(b.data[8], 6);
        struct trained_model *l = model_load(b.data, b.len, &e);
        if (!l) fail_msg("%s", e.msg);
        for (size_t t = 0; t < N; t++)
            for (size_t c = 0; c < 3; c++)
                assert_true(prob_of(m, texts[t], c) == prob_of(l, texts[t], c));
        expect_saved_as(l, b.data, b.len);
        for (size_t len = 20; len < b.len; len += 1 + b.len / 40)
            assert_null(model_load(b.data, len, &e));
        buf_free(&b);
        model_release(l);
        model_release(m);
    }
}

/* keep_punct is learnt: '?' marks the questions */
static void test_options_change_features(void **state)
{
    (void)state;
    const char *k[] = {"keep_punct"}, *v[] = {"true"};
    struct trained_model *m = train_with(k, v, 1);
    struct model_contribution c[4];
    const char *q = "anything?";
    size_t len = strlen(q);
    size_t n = model_explain(m, &q, &len, 1, 2, 4, c);
    assert_true(n >= 1);
    assert_string_equal(c[0].feature, "?");
    model_release(m);
    /* stemming: "running" and "delays" are read as their stems */
    const char *sk[] = {"stemming"}, *sv[] = {"english"};
    m = train_with(sk, sv, 1);
    const char *r = "delays";
    len = strlen(r);
    n = model_explain(m, &r, &len, 1, 0, 4, c);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].feature, "delay");
    model_release(m);
}

static void test_hashing_explanations(void **state)
{
    (void)state;
    const char *k[] = {"hashing_bits"}, *v[] = {"16"};
    struct trained_model *m = train_with(k, v, 1);
    struct model_contribution c[8];
    const char *q = "lovely crew";
    size_t len = strlen(q);
    size_t n = model_explain(m, &q, &len, 1, 1, 8, c);
    assert_int_equal(n, 2); /* lovely, crew (the bigram was never seen) */
    for (size_t i = 0; i < n; i++)
        assert_true(!strcmp(c[i].feature, "lovely") || !strcmp(c[i].feature, "crew"));
    model_release(m);
}

/* A model without the options keeps the format it had: 1 (no cleaning).
 * keep_punct is on by default: a model needs `keep_punct: false` to be
 * without options, and a model of the defaults is format 6. */
static void test_plain_model_keeps_format1(void **state)
{
    (void)state;
    const char *k[] = {"ngram_max", "keep_punct"}, *v[] = {"2", "false"};
    for (size_t n = 1; n <= 2; n++) {
        struct trained_model *m = train_with(k, v, n);
        struct buf b;
        buf_init(&b);
        struct err e;
        model_save(m, &b, &e);
        assert_int_equal(b.data[8], n == 2 ? 1 : 6);
        buf_free(&b);
        model_release(m);
    }
}

/* fasttext reads the same tokens: keep_punct (the default) makes its
 * artifact format 6; `keep_punct: false` keeps format 1 */
static void test_fasttext_keep_punct(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) { /* false, the default, true */
        int keep = mode != 0;
        struct config_param p[] = {
            {"dim", "8", 1}, {"thread", "1", 2}, {"keep_punct", mode == 2 ? "true" : "false", 3}};
        struct model_config c;
        struct err e;
        assert_int_equal(model_config_parse(&c, "fasttext", p, mode == 1 ? 2 : 3, &e), 0);
        assert_int_equal(c.ft.keep_punct, keep);
        struct trained_model *m = model_train(&c, TASK_MULTICLASS, texts, labels, N, names, 3, &e);
        if (!m) fail_msg("%s", e.msg);
        struct buf b;
        buf_init(&b);
        model_save(m, &b, &e);
        assert_int_equal(b.data[8], keep ? 6 : 1);
        struct trained_model *l = model_load(b.data, b.len, &e);
        if (!l) fail_msg("%s", e.msg);
        assert_true(prob_of(m, "why?", 2) == prob_of(l, "why?", 2));
        if (keep) assert_true(prob_of(l, "why?", 2) != prob_of(l, "why", 2));
        expect_saved_as(l, b.data, b.len);
        buf_free(&b);
        model_release(l);
        model_release(m);
    }
    expect_kind_param_error("fasttext", "keep_punct", "perhaps", "expected true or false");
}

/* Format 6 carries the sections of formats 4, 5 and 7 as well: a
 * multilabel model (thresholds), an xgboost model (booster) and a
 * multilabel xgboost model (a booster per label) with text options
 * round-trip and predict the same. */
static void expect_format6_round_trip(struct trained_model *m, const char *text)
{
    struct buf b;
    buf_init(&b);
    struct err e;
    if (model_save(m, &b, &e)) fail_msg("%s", e.msg);
    assert_int_equal(b.data[8], 6);
    struct trained_model *l = model_load(b.data, b.len, &e);
    if (!l) fail_msg("%s", e.msg);
    double p[3], q[3];
    model_predict(m, text, strlen(text), p);
    model_predict(l, text, strlen(text), q);
    assert_memory_equal(p, q, model_n_labels(m) * sizeof *p);
    expect_saved_as(l, b.data, b.len);
    buf_free(&b);
    model_release(l);
}

static void test_format6_with_multilabel_and_xgboost(void **state)
{
    (void)state;
    struct model_config c;
    struct err e;
    struct config_param p[] = {{"stemming", "english", 1}, {"keep_punct", "true", 2}};
    /* multilabel: label i of text t when t % (i + 2) == 0, so every label has examples */
    static size_t start[N + 1];
    static uint32_t set[N * 3];
    size_t k = 0;
    for (size_t t = 0; t < N; t++) {
        start[t] = k;
        for (uint32_t i = 0; i < 3; i++)
            if (t % (i + 2) == 0 || (size_t)labels[t] == i) set[k++] = i;
    }
    start[N] = k;
    assert_int_equal(model_config_parse(&c, "linear", p, 2, &e), 0);
    c.text.min_df = 1;
    c.ml.validation_fraction = 0;
    struct multilabel_sets y = {start, set};
    struct trained_model *m = model_train_multilabel(&c, texts, &y, N, names, 3, NULL, &e);
    if (!m) fail_msg("%s", e.msg);
    expect_format6_round_trip(m, "Running late again?");
    model_release(m);
    /* xgboost over the same featuriser */
    struct config_param x[] = {{"analyzer", "char_wb", 1}, {"n_estimators", "5", 2}};
    assert_int_equal(model_config_parse(&c, "xgboost", x, 2, &e), 0);
    c.text.min_df = 1;
    m = model_train(&c, TASK_MULTICLASS, texts, labels, N, names, 3, &e);
    if (!m) fail_msg("%s", e.msg);
    expect_format6_round_trip(m, "lovely crew");
    model_release(m);
    /* multilabel xgboost (one booster per label, format 7 without options) */
    assert_int_equal(model_config_parse(&c, "xgboost", x, 2, &e), 0);
    c.text.min_df = 1;
    c.ml.validation_fraction = 0;
    m = model_train_multilabel(&c, texts, &y, N, names, 3, NULL, &e);
    if (!m) fail_msg("%s", e.msg);
    expect_format6_round_trip(m, "delayed again!");
    model_release(m);
}

static void test_config_keys_and_errors(void **state)
{
    (void)state;
    struct config_param p[] = {{"analyzer", "char_wb", 3}, {"char_ngrams", "[3, 5]", 4},
                               {"hashing_bits", "18", 5},  {"stop_words", "french", 6},
                               {"stemming", "French", 7},  {"keep_punct", "yes", 8},
                               {"split_urls", "true", 9}};
    struct model_config c;
    struct err e;
    assert_int_equal(model_config_parse(&c, "linear", p, 7, &e), 0);
    assert_int_equal(c.text.split_urls, 1);
    assert_int_equal(c.text.analyzer, TFIDF_CHAR_WB);
    assert_int_equal(c.text.char_min, 3);
    assert_int_equal(c.text.char_max, 5);
    assert_int_equal(c.text.hashing_bits, 18);
    assert_int_equal(c.text.stop_words, TEXT_LANG_FRENCH);
    assert_int_equal(c.text.stemming, TEXT_LANG_FRENCH);
    assert_int_equal(c.text.keep_punct, 1);
    expect_kind_param_error("linear", "analyzer", "chars", "expected word, char_wb or both");
    expect_kind_param_error("linear", "char_ngrams", "2", "expected two char n-gram sizes");
    expect_kind_param_error("linear", "char_ngrams", "5,2", "expected two char n-gram sizes");
    expect_kind_param_error("linear", "char_ngrams", "1,17", "expected two char n-gram sizes");
    expect_kind_param_error("linear", "hashing_bits", "7", "from 8 to 22");
    expect_kind_param_error("linear", "hashing_bits", "23", "from 8 to 22");
    expect_kind_param_error("linear", "stop_words", "german", "expected english, french or none");
    expect_kind_param_error("linear", "stemming", "latin", "expected english, french or none");
    expect_kind_param_error("linear", "keep_punct", "maybe", "expected true or false");
    expect_kind_param_error("linear", "split_urls", "2", "expected true or false");
    /* char n-gram sizes without a char analyzer say so, with the line */
    struct config_param only = {"char_ngrams", "2,5", 9};
    assert_int_equal(model_config_parse(&c, "linear", &only, 1, &e), -1);
    assert_string_equal(e.field, "model.char_ngrams");
    assert_non_null(strstr(e.msg, "model.char_ngrams (line 9): char n-grams need analyzer"));
}

/* A format-6 artifact written by the build that introduced it (options:
 * both analyzers with char 2-4, english stop words and stems, keep_punct,
 * trained on the texts above): later builds must load it, predict the
 * same and write it again byte for byte. BOUCLE_WRITE_FIXTURES=1 writes it. */
static void test_format6_fixture_loads(void **state)
{
    (void)state;
    if (getenv("BOUCLE_WRITE_FIXTURES")) {
        struct trained_model *m = train_with(opt_keys, opt_values, 5);
        struct buf b;
        struct err e;
        buf_init(&b);
        model_save(m, &b, &e);
        FILE *f = fopen("fixtures/model_format6.bin", "wb");
        assert_non_null(f);
        fwrite(b.data, 1, b.len, f);
        fclose(f);
        printf("wrote %zu bytes, p = %.17g\n", b.len, prob_of(m, "Delayed again? Lovely!", 0));
        buf_free(&b);
        model_release(m);
    }
    static char data[65536];
    size_t len;
    struct trained_model *m =
        load_fixture("fixtures/model_format6.bin", data, sizeof data, 6, &len);
    assert_int_equal(len, FIXTURE6_LEN);
    assert_float_equal(prob_of(m, "Delayed again? Lovely!", 0), FIXTURE6_P, 1e-12);
    expect_saved_as(m, data, len);
    model_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format6_round_trip),
        cmocka_unit_test(test_options_change_features),
        cmocka_unit_test(test_hashing_explanations),
        cmocka_unit_test(test_plain_model_keeps_format1),
        cmocka_unit_test(test_fasttext_keep_punct),
        cmocka_unit_test(test_format6_with_multilabel_and_xgboost),
        cmocka_unit_test(test_config_keys_and_errors),
        cmocka_unit_test(test_format6_fixture_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
