/* The model contract: config errors a user can fix, training that learns,
 * an artifact that round-trips exactly and refuses damage, thread safety. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ml/linear.h"
#include "ml/model.h"
#include "model_expect.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- config ---------------------------------------------------------- */

static void test_config_defaults_and_parse(void **state)
{
    (void)state;
    struct model_config c;
    struct err e;
    assert_int_equal(model_config_parse(&c, "linear", NULL, 0, &e), 0);
    assert_string_equal(c.kind, "linear");
    assert_int_equal(c.text.ngram_min, 1);
    assert_int_equal(c.text.ngram_max, 2);
    assert_int_equal(c.text.min_df, 2);
    assert_int_equal(c.text.sublinear_tf, 1);
    assert_float_equal(c.C, 1.0, 0);
    assert_float_equal(c.eps, 0.01, 0);

    struct config_param p[] = {
        {"ngram_range", "[1, 3]", 3}, {"min_df", "1", 4}, {"max_df", "0.9", 5},
        {"sublinear_tf", "false", 6}, {"C", "10", 7},     {"class_weight", "balanced", 8},
        {"max_features", "5000", 9},  {"eps", "1e-4", 10}};
    assert_int_equal(model_config_parse(&c, NULL, p, 8, &e), 0);
    assert_int_equal(c.text.ngram_max, 3);
    assert_int_equal(c.text.min_df, 1);
    assert_float_equal(c.text.max_df, 0.9, 0);
    assert_int_equal(c.text.sublinear_tf, 0);
    assert_float_equal(c.C, 10, 0);
    assert_int_equal(c.class_weight_balanced, 1);
    assert_int_equal(c.text.max_features, 5000);
    assert_float_equal(c.eps, 1e-4, 0);
    assert_int_equal(c.penalty, LINEAR_L2);
    assert_int_equal(c.loss, LINEAR_LOGISTIC);
    struct config_param svm[] = {{"penalty", "l1", 3}, {"loss", "svm", 4}};
    assert_int_equal(model_config_parse(&c, "linear", svm, 2, &e), 0);
    assert_int_equal(c.penalty, LINEAR_L1);
    assert_int_equal(c.loss, LINEAR_SVM);
}

static void expect_param_error(const char *key, const char *value, const char *msg_part)
{
    expect_kind_param_error("linear", key, value, msg_part);
}

static void test_config_errors_name_key_and_line(void **state)
{
    (void)state;
    expect_param_error("C", "abc", "expected a positive number");
    expect_param_error("C", "-1", "expected a positive number");
    expect_param_error("eps", "0", "expected a positive number");
    expect_param_error("min_df", "1.5", "positive integer");
    expect_param_error("max_df", "2", "(0, 1]");
    expect_param_error("ngram_range", "3,1", "n-gram sizes");
    expect_param_error("sublinear_tf", "maybe", "true or false");
    expect_param_error("class_weight", "heavy", "balanced");
    expect_param_error("penalty", "l3", "expected l2 or l1");
    expect_param_error("loss", "hinge", "expected logistic or svm");
    expect_param_error("colour", "red", "unknown key");

    struct model_config c;
    struct err e;
    assert_int_equal(model_config_parse(&c, "forest", NULL, 0, &e), -1);
    assert_non_null(strstr(e.msg, "unknown model kind 'forest'"));
    struct config_param p = {"ngram_max", "1", 4}, q = {"ngram_min", "2", 5};
    struct config_param pq[] = {p, q};
    assert_int_equal(model_config_parse(&c, "linear", pq, 2, &e), -1);
    assert_non_null(strstr(e.msg, "model.ngram_max (line 5)"));
}

/* ---- training and prediction ----------------------------------------- */

static const char *bin_texts[] = {
    "great flight loved it",       "loved the crew great service", "great great thanks",
    "awesome crew loved the seat", "thanks for a great flight",    "terrible delay hate it",
    "lost my bag terrible",        "hate this airline delay",      "awful service lost bag",
    "delay again terrible awful",
};
static const int bin_labels[] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
static const char *bin_names[] = {"negative", "positive"};

static struct trained_model *train_binary_punct(int keep_punct)
{
    struct model_config c;
    model_config_defaults(&c);
    c.text.min_df = 1;
    c.C = 10;
    c.text.keep_punct = keep_punct;
    struct err e;
    struct trained_model *m =
        model_train(&c, TASK_BINARY, bin_texts, bin_labels, 10, bin_names, 2, &e);
    assert_non_null(m);
    return m;
}

static struct trained_model *train_binary(void)
{
    return train_binary_punct(1); /* the default */
}

static void test_binary_learns(void **state)
{
    (void)state;
    struct trained_model *m = train_binary();
    assert_int_equal(model_n_labels(m), 2);
    assert_string_equal(model_label(m, 1), "positive");
    assert_null(model_label(m, 2));
    assert_string_equal(model_kind(m), "linear");
    assert_true(model_n_features(m) > 10);
    double p[2];
    assert_int_equal(model_predict(m, "loved it, great crew", 20, p), 1);
    assert_true(p[1] > 0.5);
    assert_float_equal(p[0] + p[1], 1.0, 1e-12);
    assert_int_equal(model_predict(m, "TERRIBLE delay, lost bag", 24, p), 0);
    assert_true(p[0] > 0.5);
    for (size_t i = 0; i < 10; i++) /* the training set itself */
        assert_int_equal(model_predict(m, bin_texts[i], strlen(bin_texts[i]), p), bin_labels[i]);
    /* empty and unknown texts get the intercept's answer, not a crash */
    model_predict(m, "", 0, p);
    assert_float_equal(p[0] + p[1], 1.0, 1e-12);
    model_predict(m, NULL, 0, p);
    model_release(m);
}

static double logit(double p)
{
    return log(p / (1 - p));
}

/* Linear explanations are exact: the contributions to label 1 add up to
 * its score minus the intercept (the score of an empty text), label 0 gets
 * their opposites, the largest come first, top_k bounds them. */
static void test_linear_explanations_are_exact(void **state)
{
    (void)state;
    struct trained_model *m = train_binary();
    const char *text = "loved the crew but lost my bag";
    const char *values[] = {text};
    const size_t lens[] = {strlen(text)};
    struct model_contribution c[64], neg[64];
    size_t k = model_explain(m, values, lens, 1, 1, 64, c);
    assert_true(k >= 6); /* unigrams and bigrams known to the model */
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        sum += c[i].weight;
        if (i) assert_true(fabs(c[i - 1].weight) >= fabs(c[i].weight));
    }
    double p[2], p0[2];
    model_predict_fields(m, values, lens, 1, p);
    model_predict(m, "", 0, p0);
    assert_float_equal(sum, logit(p[1]) - logit(p0[1]), 1e-9);
    assert_int_equal(model_explain(m, values, lens, 1, 0, 64, neg), k);
    for (size_t i = 0; i < k; i++) {
        assert_string_equal(neg[i].feature, c[i].feature);
        assert_float_equal(neg[i].weight, -c[i].weight, 1e-15);
    }
    /* the words that carry the label push it */
    struct model_contribution top[2];
    const char *good[] = {"great great"};
    const size_t good_len[] = {11};
    assert_int_equal(model_explain(m, good, good_len, 1, 1, 2, top), 2);
    assert_true(top[0].weight > 0);
    assert_true(strstr(top[0].feature, "great") != NULL);
    assert_int_equal(model_explain(m, good, good_len, 1, 7, 2, top), 0); /* no such label */
    assert_int_equal(model_explain(m, good, good_len, 1, 1, 0, top), 0);
    model_release(m);
}

/* Every penalty and loss learns the toy problem; L1 keeps fewer weights. */
static void test_penalties_and_losses(void **state)
{
    (void)state;
    size_t nonzero[2][2] = {{0}};
    for (int pen = LINEAR_L2; pen <= LINEAR_L1; pen++) {
        for (int loss = LINEAR_LOGISTIC; loss <= LINEAR_SVM; loss++) {
            struct model_config c;
            model_config_defaults(&c);
            c.text.min_df = 1;
            c.C = 10;
            c.penalty = pen;
            c.loss = loss;
            struct err e;
            struct trained_model *m =
                model_train(&c, TASK_BINARY, bin_texts, bin_labels, 10, bin_names, 2, &e);
            assert_non_null(m);
            double p[2];
            for (size_t i = 0; i < 10; i++)
                assert_int_equal(model_predict(m, bin_texts[i], strlen(bin_texts[i]), p),
                                 bin_labels[i]);
            assert_float_equal(p[0] + p[1], 1.0, 1e-12);
            /* the weights explain every feature of a known text: count the non-zero ones */
            struct model_contribution why[64];
            const char *all = "great flight loved it lost my bag terrible delay hate";
            const size_t len = strlen(all);
            size_t k = model_explain(m, &all, &len, 1, 1, 64, why);
            for (size_t i = 0; i < k; i++)
                nonzero[pen][loss] += why[i].weight != 0;
            model_release(m);
        }
    }
    assert_true(nonzero[LINEAR_L1][LINEAR_LOGISTIC] < nonzero[LINEAR_L2][LINEAR_LOGISTIC]);
    assert_true(nonzero[LINEAR_L1][LINEAR_SVM] < nonzero[LINEAR_L2][LINEAR_SVM]);
}

static const char *mc_texts[] = {
    "refund my money please",  "i want a refund",
    "refund the ticket money", "password reset please",
    "cannot login password",   "login error password",
    "ship my order",           "where is my order shipping",
    "order shipping delayed",
};
static const int mc_labels[] = {2, 2, 2, 0, 0, 0, 1, 1, 1};
static const char *mc_names[] = {"account", "shipping", "billing", "other"};

static void test_multiclass_learns_and_absent_class(void **state)
{
    (void)state;
    struct model_config c;
    model_config_defaults(&c);
    c.text.min_df = 1;
    c.C = 10;
    c.class_weight_balanced = 1;
    struct err e;
    /* "other" (3) has no example: it must get ~0 probability, not 1/2 */
    struct trained_model *m =
        model_train(&c, TASK_MULTICLASS, mc_texts, mc_labels, 9, mc_names, 4, &e);
    assert_non_null(m);
    double p[4];
    assert_int_equal(model_predict(m, "reset my password", 17, p), 0);
    assert_int_equal(model_predict(m, "my order is not shipping", 24, p), 1);
    assert_int_equal(model_predict(m, "refund please", 13, p), 2);
    assert_float_equal(p[0] + p[1] + p[2] + p[3], 1.0, 1e-12);
    assert_true(p[3] < 1e-6);
    model_release(m);
}

static void test_train_errors(void **state)
{
    (void)state;
    struct model_config c;
    model_config_defaults(&c);
    c.text.min_df = 1;
    struct err e;
    int one[] = {1, 1, 1};
    assert_null(model_train(&c, TASK_BINARY, bin_texts, one, 3, bin_names, 2, &e));
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "at least 2"));
    assert_null(model_train(&c, TASK_BINARY, mc_texts, mc_labels, 9, mc_names, 3, &e));
    assert_int_equal(e.code, ERR_INVALID);
    int bad[] = {0, 1, 5};
    assert_null(model_train(&c, TASK_BINARY, bin_texts, bad, 3, bin_names, 2, &e));
    assert_non_null(strstr(e.msg, "out of range"));
    assert_null(model_train(&c, TASK_MULTILABEL, bin_texts, bin_labels, 10, bin_names, 2, &e));
    assert_int_equal(e.code, ERR_USAGE);
    c.text.min_df = 50; /* nothing survives pruning */
    assert_null(model_train(&c, TASK_BINARY, bin_texts, bin_labels, 10, bin_names, 2, &e));
    assert_non_null(strstr(e.msg, "featurising"));
}

/* ---- artifact -------------------------------------------------------- */

static void test_save_load_same_probabilities(void **state)
{
    (void)state;
    struct trained_model *m = train_binary();
    struct buf b;
    buf_init(&b);
    struct err e;
    assert_int_equal(model_save(m, &b, &e), 0);
    assert_memory_equal(b.data, "BOUCLEMD", 8);
    struct trained_model *l = load_artifact(&b);
    assert_int_equal(model_n_features(l), model_n_features(m));
    assert_string_equal(model_label(l, 0), "negative");
    const char *probe[] = {"great crew", "lost bag delay", "unrelated words", ""};
    for (size_t i = 0; i < 4; i++) {
        double p[2], q[2];
        model_predict(m, probe[i], strlen(probe[i]), p);
        model_predict(l, probe[i], strlen(probe[i]), q);
        assert_memory_equal(p, q, sizeof p); /* bit-identical */
    }
    /* saving the loaded model reproduces the same bytes */
    expect_saved_as(l, b.data, b.len);
    model_release(l);
    model_release(m);
    buf_free(&b);
}

static void test_damaged_artifacts_refused(void **state)
{
    (void)state;
    /* format 1's layout: keep_punct, the default, would make it 6 */
    struct trained_model *m = train_binary_punct(0);
    struct buf b;
    save_artifact(m, &b, 1);
    model_release(m);

    expect_corrupt(b.data, b.len - 1, "artifact truncated at byte");
    expect_corrupt(b.data, b.len / 2, "artifact truncated at byte");
    expect_corrupt(b.data, 10, "artifact truncated at byte 10");
    for (size_t i = 20; i < b.len; i += b.len / 17) { /* a flipped byte anywhere */
        b.data[i] ^= 0x20;
        expect_corrupt(b.data, b.len, "artifact checksum mismatch");
        b.data[i] ^= 0x20;
    }
    b.data[0] = 'X';
    expect_corrupt(b.data, b.len, "not a boucle model (bad magic)");
    b.data[0] = 'B';
    expect_corrupt("hello", 5, "bad magic");
    expect_corrupt("", 0, "bad magic");
    b.data[8] = 8;
    expect_corrupt(b.data, b.len, "unsupported artifact format version 8");
    b.data[8] = 6; /* format 6 (text options) reads its featuriser's options: checksum first */
    expect_corrupt(b.data, b.len, "checksum mismatch");
    b.data[8] = 1;
    buf_append(&b, "xx", 2);
    expect_corrupt(b.data, b.len, "2 unexpected trailing bytes");
    b.len -= 2;
    struct trained_model *ok = load_artifact(&b); /* intact again */
    model_release(ok);
    buf_free(&b);
}

/* An artifact written before cleaning existed (format 1, by the build at
 * commit 5dd70a9, from train_binary's data) still loads and predicts the
 * same; a model without cleaning is still written in that format. */
static void test_format1_artifact_loads(void **state)
{
    (void)state;
    char data[4096];
    size_t len;
    struct trained_model *m =
        load_fixture("fixtures/model_format1.bin", data, sizeof data, 1, &len);
    assert_int_equal(model_prep(m)->n_steps, 0);
    assert_string_equal(model_prep(m)->separator, "\n");
    double p[2];
    assert_int_equal(model_predict(m, "loved it, great crew", 20, p), 1);
    assert_float_equal(p[1], 0.83854394238976504, 1e-12);
    const char *fields[] = {"loved it,", "great crew"};
    size_t lens[] = {9, 10};
    double q[2];
    model_predict_fields(m, fields, lens, 2, q);
    assert_float_equal(q[1], p[1], 1e-12);
    expect_saved_as(m, data, len);
    model_release(m);
}

/* An artifact written before tabular features existed (format 2, by the
 * build at commit 72f7fea: train_binary's data with strip_html,
 * normalize_whitespace and " | ") still loads, predicts the same and is
 * written again byte for byte: a text model keeps its format. */
static void test_format2_artifact_loads(void **state)
{
    (void)state;
    char data[4096];
    size_t len;
    struct trained_model *m =
        load_fixture("fixtures/model_format2.bin", data, sizeof data, 2, &len);
    assert_int_equal(len, 1654);
    assert_int_equal(model_prep(m)->n_steps, 2);
    assert_int_equal(model_prep(m)->steps[0], CLEAN_STRIP_HTML);
    assert_string_equal(model_prep(m)->separator, " | ");
    const char *raw[] = {"<p>loved   it</p>", "great crew"};
    size_t lens[] = {strlen(raw[0]), strlen(raw[1])};
    double p[2];
    assert_int_equal(model_predict_fields(m, raw, lens, 2, p), 1);
    assert_float_equal(p[1], 0.83854394238976504, 1e-12);
    expect_saved_as(m, data, len);
    model_release(m);
}

/* A model trained with cleaning carries it (format 2) and applies it to raw
 * inputs, so a served request is prepared as its training text was. */
static void test_prep_travels_with_the_model(void **state)
{
    (void)state;
    struct model_config c;
    model_config_defaults(&c);
    c.text.min_df = 1;
    c.C = 10;
    c.text.keep_punct = 0; /* format 2: no text options (the default keep_punct makes 6) */
    c.prep.steps[0] = CLEAN_STRIP_HTML;
    c.prep.steps[1] = CLEAN_SCRUB_PII;
    c.prep.steps[2] = CLEAN_NORMALIZE_WHITESPACE;
    c.prep.steps[3] = CLEAN_DEDUPE;
    c.prep.n_steps = 4;
    strcpy(c.prep.separator, " | ");
    struct err e;
    struct trained_model *m =
        model_train(&c, TASK_BINARY, bin_texts, bin_labels, 10, bin_names, 2, &e);
    assert_non_null(m);
    struct buf b;
    save_artifact(m, &b, 2);
    struct trained_model *l = load_artifact(&b);
    assert_int_equal(model_prep(l)->n_steps, 4);
    assert_int_equal(model_prep(l)->steps[3], CLEAN_DEDUPE);
    assert_string_equal(model_prep(l)->separator, " | ");

    const char *raw[] = {"<p>loved   it</p>", "great&nbsp;crew, write to a@b.com"};
    size_t lens[] = {strlen(raw[0]), strlen(raw[1])};
    const char *prepared = "loved it | great crew, write to <EMAIL>";
    double p[2], q[2];
    model_predict(l, prepared, strlen(prepared), p);
    assert_int_equal(model_predict_fields(l, raw, lens, 2, q), 1);
    assert_memory_equal(p, q, sizeof p);
    /* the raw text as such would be featurised differently */
    struct buf joined;
    buf_init(&joined);
    buf_printf(&joined, "%s\n%s", raw[0], raw[1]);
    model_predict(l, joined.data, joined.len, p);
    assert_true(fabs(p[1] - q[1]) > 1e-9);
    buf_free(&joined);

    /* saving the loaded model gives the same bytes; a damaged one is refused */
    expect_saved_as(l, b.data, b.len);
    b.data[8] = 9;
    expect_corrupt(b.data, b.len, "unsupported artifact format version 9");
    buf_free(&b);
    model_release(l);
    model_release(m);
}

/* ---- sharing --------------------------------------------------------- */

struct worker {
    struct trained_model *m;
    int wrong;
};

static void *predict_many(void *arg)
{
    struct worker *w = arg;
    double p[2];
    for (int k = 0; k < 2000; k++) {
        size_t i = (size_t)k % 10;
        if ((int)model_predict(w->m, bin_texts[i], strlen(bin_texts[i]), p) != bin_labels[i])
            w->wrong++;
    }
    model_release(w->m);
    return NULL;
}

static void test_threads_and_refcount(void **state)
{
    (void)state;
    struct trained_model *m = train_binary();
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){m, 0};
        model_retain(m); /* each thread holds its own reference */
        pthread_create(&th[i], NULL, predict_many, &w[i]);
    }
    model_release(m); /* the last worker to finish frees it */
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].wrong, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_and_parse),
        cmocka_unit_test(test_config_errors_name_key_and_line),
        cmocka_unit_test(test_binary_learns),
        cmocka_unit_test(test_linear_explanations_are_exact),
        cmocka_unit_test(test_penalties_and_losses),
        cmocka_unit_test(test_multiclass_learns_and_absent_class),
        cmocka_unit_test(test_train_errors),
        cmocka_unit_test(test_save_load_same_probabilities),
        cmocka_unit_test(test_damaged_artifacts_refused),
        cmocka_unit_test(test_format1_artifact_loads),
        cmocka_unit_test(test_format2_artifact_loads),
        cmocka_unit_test(test_prep_travels_with_the_model),
        cmocka_unit_test(test_threads_and_refcount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
