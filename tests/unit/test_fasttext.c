/* The fasttext kind: `model:` keys and their errors, learning (softmax and
 * one-vs-all, one and two threads, char n-grams for unseen words),
 * determinism with one thread and a seed, an artifact that round-trips
 * bit-exact and refuses damage, linear artifacts of the previous build still
 * loading, explanations that add up to the scores, and shared prediction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ids.h"
#include "ml/fasttext.h"
#include "ml/model.h"
#include "model_expect.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- config ------------------------------------------------------------- */

static void test_config_defaults_and_parse(void **state)
{
    (void)state;
    struct model_config c;
    struct err e;
    assert_int_equal(model_config_parse(&c, "fasttext", NULL, 0, &e), 0);
    assert_string_equal(c.kind, "fasttext");
    assert_int_equal(c.ft.dim, 100);
    assert_int_equal(c.ft.epoch, 5);
    assert_float_equal(c.ft.lr, 0.1, 0);
    assert_int_equal(c.ft.word_ngrams, 1);
    assert_int_equal(c.ft.maxn, 0);
    assert_int_equal(c.ft.bucket, 2000000);
    assert_int_equal(c.ft.min_count, 1);
    assert_int_equal(c.ft.thread, 0);
    assert_int_equal(c.ft.loss, FASTTEXT_SOFTMAX);

    struct config_param p[] = {{"dim", "16", 3},        {"epoch", "25", 4},     {"lr", "0.5", 5},
                               {"word_ngrams", "2", 6}, {"minn", "2", 7},       {"maxn", "5", 8},
                               {"bucket", "1000", 9},   {"min_count", "2", 10}, {"thread", "2", 11},
                               {"seed", "42", 12},      {"loss", "ova", 13}};
    assert_int_equal(model_config_parse(&c, "fasttext", p, 11, &e), 0);
    assert_int_equal(c.ft.dim, 16);
    assert_int_equal(c.ft.epoch, 25);
    assert_float_equal(c.ft.lr, 0.5, 0);
    assert_int_equal(c.ft.word_ngrams, 2);
    assert_int_equal(c.ft.minn, 2);
    assert_int_equal(c.ft.maxn, 5);
    assert_int_equal(c.ft.bucket, 1000);
    assert_int_equal(c.ft.min_count, 2);
    assert_int_equal(c.ft.thread, 2);
    assert_int_equal(c.ft.seed, 42);
    assert_int_equal(c.ft.loss, FASTTEXT_OVA);
    assert_string_equal(fasttext_loss_name(c.ft.loss), "ova");
}

static void expect_param_error(const char *key, const char *value, const char *msg_part)
{
    expect_kind_param_error("fasttext", key, value, msg_part);
}

static void test_config_errors_name_key_and_line(void **state)
{
    (void)state;
    expect_param_error("dim", "0", "from 1 to 1024");
    expect_param_error("dim", "12.5", "from 1 to 1024");
    expect_param_error("epoch", "many", "from 1 to 100000");
    expect_param_error("lr", "0", "above 0");
    expect_param_error("lr", "-0.1", "above 0");
    expect_param_error("lr", "nan", "above 0");
    expect_param_error("word_ngrams", "9", "from 1 to 8");
    expect_param_error("maxn", "17", "from 0 to 16");
    expect_param_error("bucket", "0", "from 1 to 2147483647");
    expect_param_error("bucket", "99999999999999999999", "from 1 to 2147483647");
    expect_param_error("min_count", "", "positive integer");
    expect_param_error("thread", "65", "0 (one per core) to 64");
    expect_param_error("seed", "-1", "non-negative");
    expect_param_error("loss", "hs", "softmax or ova");
    expect_param_error("C", "1", "unknown key for kind fasttext");
    expect_param_error("minn", "3", "need maxn as well");

    struct model_config c;
    struct err e;
    struct config_param pq[] = {{"minn", "4", 4}, {"maxn", "3", 5}};
    assert_int_equal(model_config_parse(&c, "fasttext", pq, 2, &e), -1);
    assert_non_null(strstr(e.msg, "model.maxn (line 5): maxn must not be below minn"));
    /* linear still refuses the fasttext keys */
    struct config_param d = {"dim", "10", 6};
    assert_int_equal(model_config_parse(&c, "linear", &d, 1, &e), -1);
    assert_non_null(strstr(e.msg, "model.dim (line 6): unknown key"));
    assert_int_equal(model_config_parse(&c, "forest", NULL, 0, &e), -1);
    assert_non_null(strstr(e.msg, "available: linear, fasttext"));
}

/* ---- toy problems -------------------------------------------------------- */

/* Class c's texts mix its own words with words every class uses, so only
 * the class words separate them. Deterministic (an LCG). */
#define TOY_N 240
static char toy_buf[TOY_N][96];
static const char *toy_texts[TOY_N];
static int toy_labels[TOY_N];
static const char *toy_names[] = {"billing", "shipping", "account"};
static const char *toy_words[3][4] = {{"refund", "invoice", "charged", "payment"},
                                      {"parcel", "delivery", "courier", "tracking"},
                                      {"password", "login", "username", "locked"}};
static const char *toy_common[] = {"please", "help", "my", "the", "today", "again", "hello"};

static void toy_init(void)
{
    uint32_t s = 12345;
    for (size_t i = 0; i < TOY_N; i++) {
        int c = (int)(i % 3);
        char *b = toy_buf[i];
        b[0] = '\0';
        for (int k = 0; k < 5; k++) {
            s = s * 1664525u + 1013904223u;
            const char *w =
                (k == 2 || k == 4) ? toy_words[c][(s >> 8) % 4] : toy_common[(s >> 8) % 7];
            strcat(b, w);
            strcat(b, k < 4 ? " " : "");
        }
        toy_texts[i] = b;
        toy_labels[i] = c;
    }
}

static struct model_config toy_config(int thread)
{
    struct model_config c;
    struct err e;
    assert_int_equal(model_config_parse(&c, "fasttext", NULL, 0, &e), 0);
    c.ft.dim = 16;
    c.ft.epoch = 20;
    c.ft.lr = 0.5;
    c.ft.word_ngrams = 2;
    c.ft.bucket = 10000;
    c.ft.thread = thread;
    c.ft.seed = 7;
    return c;
}

static struct trained_model *toy_train(const struct model_config *c)
{
    struct err e;
    struct trained_model *m =
        model_train(c, TASK_MULTICLASS, toy_texts, toy_labels, TOY_N, toy_names, 3, &e);
    if (!m) fail_msg("training failed: %s", e.msg);
    return m;
}

static void assert_learned(struct trained_model *m)
{
    double p[3];
    for (size_t i = 0; i < TOY_N; i++)
        assert_int_equal(model_predict(m, toy_texts[i], strlen(toy_texts[i]), p), toy_labels[i]);
    /* unseen combinations, case and punctuation: the tokenizer is shared */
    assert_int_equal(model_predict(m, "Where is my PARCEL? tracking says nothing", 41, p), 1);
    assert_true(p[1] > 0.6);
    assert_float_equal(p[0] + p[1] + p[2], 1.0, 1e-12);
    assert_int_equal(model_predict(m, "I was charged twice, refund!", 28, p), 0);
    assert_int_equal(model_predict(m, "locked out, reset password", 26, p), 2);
}

static void test_learns_one_and_two_threads(void **state)
{
    (void)state;
    for (int thread = 1; thread <= 2; thread++) {
        struct model_config c = toy_config(thread);
        struct trained_model *m = toy_train(&c);
        assert_string_equal(model_kind(m), "fasttext");
        assert_int_equal(model_n_labels(m), 3);
        /* 1 common row + the words + the bigram buckets */
        assert_true(model_n_features(m) > 1 + 19);
        assert_learned(m);
        double p[3];
        model_predict(m, "", 0, p); /* no token: the common row alone answers */
        assert_float_equal(p[0] + p[1] + p[2], 1.0, 1e-12);
        model_predict(m, NULL, 0, p);
        model_release(m);
    }
    struct model_config c = toy_config(1);
    c.ft.loss = FASTTEXT_OVA;
    struct trained_model *m = toy_train(&c);
    assert_learned(m);
    model_release(m);
}

static void test_binary(void **state)
{
    (void)state;
    static const char *t[] = {"great flight loved it", "loved the crew",       "great thanks",
                              "terrible delay",        "lost my bag terrible", "hate this delay"};
    static const int y[] = {1, 1, 1, 0, 0, 0};
    static const char *names[] = {"negative", "positive"};
    struct model_config c = toy_config(1);
    c.ft.epoch = 50;
    struct err e;
    struct trained_model *m = model_train(&c, TASK_BINARY, t, y, 6, names, 2, &e);
    assert_non_null(m);
    double p[2];
    assert_int_equal(model_predict(m, "loved it, great", 15, p), 1);
    assert_true(p[1] > 0.7);
    assert_int_equal(model_predict(m, "TERRIBLE delay", 14, p), 0);
    model_release(m);
}

/* A word never seen in training is known only through its char n-grams. */
static void test_char_ngrams_reach_unseen_words(void **state)
{
    (void)state;
    static const char *t[] = {"zorbaxel", "zorbaxing",  "zorbaxed now",  "now zorbaxes",
                              "plimtuvo", "plimtuving", "plimtuved now", "now plimtuves"};
    static const int y[] = {0, 0, 0, 0, 1, 1, 1, 1};
    static const char *names[] = {"z", "p"};
    struct model_config c = toy_config(1);
    c.ft.epoch = 60;
    c.ft.word_ngrams = 1;
    struct err e;
    double p[2];
    struct trained_model *words = model_train(&c, TASK_BINARY, t, y, 8, names, 2, &e);
    assert_non_null(words);
    model_predict(words, "zorbaxity", 9, p); /* unknown word: only the common row */
    assert_true(fabs(p[0] - 0.5) < 0.1);
    model_release(words);

    c.ft.minn = 3;
    c.ft.maxn = 5;
    struct trained_model *m = model_train(&c, TASK_BINARY, t, y, 8, names, 2, &e);
    assert_non_null(m);
    assert_int_equal(model_predict(m, "zorbaxity", 9, p), 0);
    assert_true(p[0] > 0.8);
    assert_int_equal(model_predict(m, "plimtuvity", 10, p), 1);
    assert_true(p[1] > 0.8);
    /* multi-byte code points go through the n-grams whole */
    model_predict(m, "zörbäxé ☃☃", strlen("zörbäxé ☃☃"), p);
    assert_float_equal(p[0] + p[1], 1.0, 1e-12);
    model_release(m);
}

static void test_min_count(void **state)
{
    (void)state;
    struct model_config c = toy_config(1);
    struct trained_model *all = toy_train(&c);
    c.ft.min_count = 1000; /* no word keeps a row: bigrams carry it all */
    struct trained_model *few = toy_train(&c);
    assert_true(model_n_features(few) + 19 == model_n_features(all));
    model_release(all);
    model_release(few);
}

static void test_train_errors(void **state)
{
    (void)state;
    struct model_config c = toy_config(1);
    struct err e;
    int one[] = {1, 1, 1};
    assert_null(model_train(&c, TASK_MULTICLASS, toy_texts, one, 3, toy_names, 3, &e));
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "at least 2 are needed"));
    int bad[] = {0, 1, 5};
    assert_null(model_train(&c, TASK_MULTICLASS, toy_texts, bad, 3, toy_names, 3, &e));
    assert_non_null(strstr(e.msg, "example 2: label index 5 out of range"));
    assert_null(model_train(&c, TASK_MULTILABEL, toy_texts, toy_labels, 3, toy_names, 3, &e));
    assert_int_equal(e.code, ERR_USAGE);
}

/* ---- determinism and the artifact --------------------------------------- */

static void save(struct trained_model *m, struct buf *b)
{
    struct err e;
    buf_init(b);
    assert_int_equal(model_save(m, b, &e), 0);
}

static void test_one_thread_and_seed_are_deterministic(void **state)
{
    (void)state;
    struct model_config c = toy_config(1);
    c.ft.minn = 2;
    c.ft.maxn = 4;
    struct trained_model *a = toy_train(&c), *b = toy_train(&c);
    struct buf ba, bb;
    save(a, &ba);
    save(b, &bb);
    assert_int_equal(ba.len, bb.len);
    assert_memory_equal(ba.data, bb.data, ba.len);
    c.ft.seed = 8;
    struct trained_model *d = toy_train(&c);
    struct buf bd;
    save(d, &bd);
    assert_int_equal(bd.len, ba.len);                   /* same rows... */
    assert_true(memcmp(bd.data, ba.data, ba.len) != 0); /* ...other weights */
    buf_free(&ba);
    buf_free(&bb);
    buf_free(&bd);
    model_release(a);
    model_release(b);
    model_release(d);
}

static const char *probes[] = {"refund my payment", "parcel tracking today",   "zzz unknown", "",
                               "login login login", "héllo wörld ☃ @user #tag"};

static void test_save_load_bit_exact(void **state)
{
    (void)state;
    struct model_config c = toy_config(2);
    c.ft.minn = 2;
    c.ft.maxn = 4;
    struct trained_model *m = toy_train(&c);
    struct buf b, b2;
    save(m, &b);
    struct err e;
    struct trained_model *l = model_load(b.data, b.len, &e);
    if (!l) fail_msg("load: %s", e.msg);
    assert_string_equal(model_kind(l), "fasttext");
    assert_int_equal(model_n_features(l), model_n_features(m));
    assert_string_equal(model_label(l, 2), "account");
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        double p[3], q[3];
        size_t a = model_predict(m, probes[i], strlen(probes[i]), p);
        assert_int_equal(model_predict(l, probes[i], strlen(probes[i]), q), a);
        assert_memory_equal(p, q, sizeof p);
    }
    save(l, &b2);
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    buf_free(&b2);
    buf_free(&b);
    model_release(l);
    model_release(m);
}

#define SUM 64 /* the artifact's checksum: hex SHA-256, no NUL */

/* Rewrites the length field and checksum after an edit, as a forger (or a
 * buggy writer) would, so that the section's own checks are what refuses. */
static void reseal(struct buf *b)
{
    b->len -= SUM;
    for (int i = 0; i < 8; i++)
        b->data[12 + i] = (char)((unsigned long long)(b->len + SUM) >> (8 * i));
    char sum[SHA256_HEX_LEN];
    sha256_hex(b->data, b->len, sum);
    buf_append(b, sum, SUM);
}

static void put_u32(char *at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        at[i] = (char)(v >> (8 * i));
}

static void test_damaged_artifacts_refused(void **state)
{
    (void)state;
    struct model_config c = toy_config(1);
    c.ft.minn = 2;
    c.ft.maxn = 3;
    c.ft.keep_punct = 0; /* format 1's layout (keep_punct, the default, makes it 6) */
    struct trained_model *m = toy_train(&c);
    struct buf b;
    save(m, &b);
    model_release(m);
    assert_int_equal(b.data[8], 1);

    expect_corrupt(b.data, b.len - 1, "artifact truncated at byte");
    expect_corrupt(b.data, b.len / 3, "artifact truncated at byte");
    for (size_t i = 20; i < b.len; i += b.len / 23) {
        b.data[i] ^= 0x10;
        expect_corrupt(b.data, b.len, "artifact checksum mismatch");
        b.data[i] ^= 0x10;
    }

    /* the section starts after: header 20, kind (4 + 8), type 4, count 4,
     * then the three labels */
    size_t sec = 20 + 12 + 8;
    for (size_t i = 0; i < 3; i++)
        sec += 4 + strlen(toy_names[i]);
    struct buf f;
    buf_init(&f);
    struct {
        size_t at; /* offset in the section; SIZE_MAX: the last weight */
        uint32_t value;
        const char *msg;
    } forged[] = {
        {0, 0, "settings out of range"},                   /* dim 0 */
        {4, 99, "settings out of range"},                  /* word_ngrams */
        {8, 9, "settings out of range"},                   /* minn above maxn */
        {20, 5, "settings out of range"},                  /* loss */
        {24, 0xFFFFFFF0u, "vocabulary size out of range"}, /* n_words */
        {SIZE_MAX, 0x7FC00000u, "not a finite number"},    /* a NaN weight */
    };
    for (size_t k = 0; k < sizeof forged / sizeof *forged; k++) {
        buf_reset(&f);
        buf_append(&f, b.data, b.len);
        size_t at = forged[k].at == SIZE_MAX ? f.len - SUM - 4 : sec + forged[k].at;
        put_u32(f.data + at, forged[k].value);
        reseal(&f);
        expect_corrupt(f.data, f.len, forged[k].msg);
    }
    /* a weight too many */
    buf_reset(&f);
    buf_append(&f, b.data, b.len - SUM);
    buf_append(&f, "\0\0\0\0", 4);
    buf_append(&f, b.data + b.len - SUM, SUM);
    reseal(&f);
    expect_corrupt(f.data, f.len, "weights take");
    buf_free(&f);

    struct err e;
    struct trained_model *ok = model_load(b.data, b.len, &e); /* intact */
    assert_non_null(ok);
    model_release(ok);
    buf_free(&b);
}

/* An artifact written by the build before fasttext existed (linear, binary,
 * trained on tests/unit/test_model.c's ten texts) loads and predicts as
 * it did then. */
static void test_linear_artifact_of_previous_build_loads(void **state)
{
    (void)state;
    FILE *fp = fopen("fixtures/linear_v1.model", "rb");
    assert_non_null(fp);
    char data[4096];
    size_t len = fread(data, 1, sizeof data, fp);
    fclose(fp);
    assert_true(len > 100 && len < sizeof data);
    struct err e;
    struct trained_model *m = model_load(data, len, &e);
    if (!m) fail_msg("load: %s", e.msg);
    assert_string_equal(model_kind(m), "linear");
    double p[2];
    model_predict(m, "great crew", 10, p);
    assert_float_equal(p[1], 0x1.a9899d125027ap-1, 1e-12);
    model_predict(m, "lost bag delay", 14, p);
    assert_float_equal(p[1], 0x1.14d77850f1d48p-3, 1e-12);
    struct buf b;
    save(m, &b); /* and writes the same bytes back */
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, data, len);
    buf_free(&b);
    model_release(m);
}

/* ---- explanations ------------------------------------------------------- */

static void test_explain_adds_up_to_scores(void **state)
{
    (void)state;
    struct model_config c = toy_config(1);
    c.ft.minn = 3;
    c.ft.maxn = 4;
    struct err e;
    struct fasttext *f = fasttext_train(&c.ft, toy_texts, toy_labels, TOY_N, 3, &e);
    assert_non_null(f);
    struct fasttext_scratch s;
    fasttext_scratch_init(&s);
    const char *text = "hello, my refund please";
    size_t n = fasttext_explain(f, text, strlen(text), &s, NULL);
    assert_int_equal(n, 4);
    double *contrib = calloc((n + 1) * 3, sizeof *contrib), p[3];
    assert_int_equal(fasttext_explain(f, text, strlen(text), &s, contrib), 4);
    assert_int_equal(fasttext_predict(f, text, strlen(text), &s, p), 0);
    /* softmax: log(p_c / p_0) = score_c - score_0 = the contributions' sums */
    for (size_t cl = 1; cl < 3; cl++) {
        double d = 0;
        for (size_t t = 0; t <= n; t++)
            d += contrib[t * 3 + cl] - contrib[t * 3];
        assert_float_equal(d, log(p[cl] / p[0]), 1e-4);
    }
    /* "refund" (token 2) pushes billing up the most */
    for (size_t t = 0; t < n; t++)
        if (t != 2) assert_true(contrib[2 * 3] > contrib[t * 3]);
    free(contrib);
    fasttext_scratch_free(&s);
    fasttext_free(f);
}

/* ---- sharing ------------------------------------------------------------ */

struct worker {
    struct trained_model *m;
    double expect[6][3];
    int wrong;
};

static void *predict_many(void *arg)
{
    struct worker *w = arg;
    double p[3];
    for (int k = 0; k < 600; k++) {
        size_t i = (size_t)k % 6;
        model_predict(w->m, probes[i], strlen(probes[i]), p);
        if (memcmp(p, w->expect[i], sizeof p) != 0) w->wrong++;
    }
    model_release(w->m);
    return NULL;
}

static void test_threads_predict_alike(void **state)
{
    (void)state;
    struct model_config c = toy_config(2);
    c.ft.maxn = 3;
    struct trained_model *m = toy_train(&c);
    struct worker w[4];
    for (size_t i = 0; i < 6; i++)
        model_predict(m, probes[i], strlen(probes[i]), w[0].expect[i]);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        memcpy(w[i].expect, w[0].expect, sizeof w[0].expect);
        w[i].m = m;
        w[i].wrong = 0;
        model_retain(m);
        pthread_create(&th[i], NULL, predict_many, &w[i]);
    }
    model_release(m);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].wrong, 0);
    }
}

int main(void)
{
    toy_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_and_parse),
        cmocka_unit_test(test_config_errors_name_key_and_line),
        cmocka_unit_test(test_learns_one_and_two_threads),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_char_ngrams_reach_unseen_words),
        cmocka_unit_test(test_min_count),
        cmocka_unit_test(test_train_errors),
        cmocka_unit_test(test_one_thread_and_seed_are_deterministic),
        cmocka_unit_test(test_save_load_bit_exact),
        cmocka_unit_test(test_damaged_artifacts_refused),
        cmocka_unit_test(test_linear_artifact_of_previous_build_loads),
        cmocka_unit_test(test_explain_adds_up_to_scores),
        cmocka_unit_test(test_threads_predict_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
