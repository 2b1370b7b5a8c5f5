/* The text options of issue 5 (artifact format 6): char n-grams within
 * word bounds as scikit-learn's analyzer='char_wb' (expected lists computed
 * with sklearn 1.2's build_analyzer on the same words), both analyzers,
 * the hashing trick, stop words, Snowball stemming and '!'/'?' tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "text/char_ngrams.h"
#include "text/stem.h"
#include "text/stopwords.h"
#include "text/tfidf.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct tfidf_config cfg_with(int analyzer, int cmin, int cmax)
{
    struct tfidf_config c;
    tfidf_config_defaults(&c);
    c.analyzer = analyzer;
    c.char_min = cmin;
    c.char_max = cmax;
    return c;
}

/* The terms of text under c, each followed by '|'. */
static void expect_terms(const struct tfidf_config *c, const char *text, const char *want)
{
    struct tfidf_terms a;
    tfidf_terms_init(&a);
    size_t n = tfidf_analyze(c, text, strlen(text), &a);
    char got[4096] = "";
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *t = tfidf_terms_at(&a, i, &len);
        at += (size_t)snprintf(got + at, sizeof got - at, "%.*s|", (int)len, t);
    }
    assert_string_equal(got, want);
    tfidf_terms_free(&a);
}

static void test_char_wb_matches_sklearn(void **state)
{
    (void)state;
    /* sklearn: CountVectorizer(analyzer='char_wb', ngram_range=(2, 4))
     * .build_analyzer()("a héllo ça 日本語 ab"): a word shorter than n is
     * one n-gram and ends its series; multi-byte code points count one */
    struct tfidf_config c = cfg_with(TFIDF_CHAR_WB, 2, 4);
    expect_terms(
        &c, "A  Héllo ÇA 日本語 ab",
        " a|a | a | h|hé|él|ll|lo|o | hé|hél|éll|llo|lo | hél|héll|éllo|llo | ç|ça|a | ça|"
        "ça | ça | 日|日本|本語|語 | 日本|日本語|本語 | 日本語|日本語 | a|ab|b | ab|ab | ab |");
    /* (1, 1) on "ab": [' ', 'a', 'b', ' '] */
    c = cfg_with(TFIDF_CHAR_WB, 1, 1);
    expect_terms(&c, "ab", " |a|b| |");
    /* a decomposed é is composed by NFKC first: one code point */
    c = cfg_with(TFIDF_CHAR_WB, 3, 3);
    expect_terms(&c, "e\xCC\x81t", " ét|ét |");
    expect_terms(&c, "", "");
}

static void test_both_analyzers(void **state)
{
    (void)state;
    struct tfidf_config c = cfg_with(TFIDF_BOTH, 2, 3);
    /* word 1-2-grams, then char n-grams in brackets: "ab" the word and
     * "[ab]" the char n-gram stay two features */
    expect_terms(&c, "ab c", "ab|c|ab c|[ a]|[ab]|[b ]|[ ab]|[ab ]|[ c]|[c ]|[ c ]|");
}

struct collect {
    char out[256];
    size_t at;
    const char *word;
};

static void on_gram(void *p, size_t from, size_t len)
{
    struct collect *c = p;
    c->at +=
        (size_t)snprintf(c->out + c->at, sizeof c->out - c->at, "%.*s|", (int)len, c->word + from);
}

static void test_char_ngrams_direct(void **state)
{
    (void)state;
    struct collect c = {.word = " xyz "};
    char_ngrams_wb(c.word, 5, 4, 6, on_gram, &c);
    /* n=4: two windows; n=5: the whole padded word, which ends the series */
    assert_string_equal(c.out, " xyz|xyz | xyz |");
}

static void test_stop_words(void **state)
{
    (void)state;
    struct tfidf_config c;
    tfidf_config_defaults(&c);
    c.ngram_max = 2;
    c.stop_words = TEXT_LANG_ENGLISH;
    /* removed before the n-grams: "cat mat" becomes a bigram; negations stay */
    expect_terms(&c, "The cat is NOT on the mat", "cat|not|mat|cat not|not mat|");
    c.stop_words = TEXT_LANG_FRENCH;
    c.ngram_max = 1;
    /* elided articles are cut off the word they are glued to */
    expect_terms(&c, "L'avion n'est pas dans le ciel, à Paris", "avion|pas|ciel|paris|");
    assert_true(stopword_is(TEXT_LANG_ENGLISH, "the", 3));
    assert_true(stopword_is(TEXT_LANG_ENGLISH, "theme", 3)); /* length-delimited: "the" */
    assert_false(stopword_is(TEXT_LANG_ENGLISH, "theme", 5));
    assert_false(stopword_is(TEXT_LANG_ENGLISH, "cat", 3));
    assert_true(stopword_is(TEXT_LANG_FRENCH, "été", strlen("été")));
    assert_false(stopword_is(TEXT_LANG_NONE, "the", 3));
    assert_int_equal(stopword_elision(TEXT_LANG_FRENCH, "qu'il", 5), 3);
    assert_int_equal(stopword_elision(TEXT_LANG_FRENCH, "aujourd'hui", 11), 0);
    assert_int_equal(stopword_elision(TEXT_LANG_ENGLISH, "l'avion", 7), 0);
    assert_int_equal(text_lang_parse("French"), TEXT_LANG_FRENCH);
    assert_int_equal(text_lang_parse("none"), TEXT_LANG_NONE);
    assert_int_equal(text_lang_parse("german"), -1);
}

static void expect_stem(enum text_lang lang, const char *w, const char *want)
{
    size_t len;
    const char *s = stem_word(lang, w, strlen(w), &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(s, want, len);
}

static void test_stemming(void **state)
{
    (void)state;
    expect_stem(TEXT_LANG_ENGLISH, "running", "run");
    expect_stem(TEXT_LANG_ENGLISH, "connection", "connect");
    expect_stem(TEXT_LANG_ENGLISH, "generously", "generous");
    expect_stem(TEXT_LANG_FRENCH, "continuellement", "continuel");
    expect_stem(TEXT_LANG_FRENCH, "chevaux", "cheval");
    expect_stem(TEXT_LANG_FRENCH, "mangeaient", "mang");
    expect_stem(TEXT_LANG_NONE, "running", "running");
    struct tfidf_config c;
    tfidf_config_defaults(&c);
    c.stemming = TEXT_LANG_ENGLISH;
    expect_terms(&c, "Running connections", "run|connect|run connect|");
    c.stemming = TEXT_LANG_FRENCH;
    c.ngram_max = 1;
    expect_terms(&c, "Les chevaux d'Avions", "le|cheval|avion|");
    stem_thread_free();
    expect_stem(TEXT_LANG_ENGLISH, "flies", "fli"); /* created again after a free */
}

/* Each thread has its own stemmers (libstemmer's are not thread-safe):
 * two threads stemming at once get the right stems; their stemmers are
 * freed when they exit (LSan checks). */
static void *stem_many(void *p)
{
    (void)p;
    for (int i = 0; i < 2000; i++) {
        expect_stem(TEXT_LANG_ENGLISH, i % 2 ? "running" : "connection", i % 2 ? "run" : "connect");
        expect_stem(TEXT_LANG_FRENCH, "chevaux", "cheval");
    }
    return NULL;
}

static void test_stemming_threads(void **state)
{
    (void)state;
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, stem_many, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, stem_many, NULL), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
}

static const char *docs[] = {"good movie great fun", "bad movie awful plot", "great fun great cast",
                             "awful bad acting",     "good cast good plot",  "fun movie"};

static void test_hashing(void **state)
{
    (void)state;
    /* the bucket is the low bits of tfidf_hash, which stored models rely
     * on: this pins the function */
    assert_true(tfidf_hash("good", 4) == tfidf_hash("good", 4));
    char pinned[32];
    snprintf(pinned, sizeof pinned, "%016llx", (unsigned long long)tfidf_hash("good", 4));
    assert_string_equal(pinned, "e22531f43c363c08");
    struct tfidf_config c;
    tfidf_config_defaults(&c);
    c.hashing_bits = 10;
    struct tfidf v, w;
    struct tfidf_matrix x, y;
    struct err e;
    assert_int_equal(tfidf_fit(&v, &c, docs, NULL, 6, &x, &e), 0);
    assert_int_equal(tfidf_fit(&w, &c, docs, NULL, 6, &y, &e), 0);
    assert_int_equal(v.n_features, w.n_features);
    assert_memory_equal(v.bucket_of, w.bucket_of, v.n_features * sizeof *v.bucket_of);
    assert_memory_equal(x.idx, y.idx, x.row_ptr[6] * sizeof *x.idx);
    assert_memory_equal(x.val, y.val, x.row_ptr[6] * sizeof *x.val);
    assert_null(tfidf_term(&v, 0)); /* no vocabulary is kept */
    long f = tfidf_lookup(&v, "good", 4);
    assert_true(f >= 0);
    assert_int_equal(v.bucket_of[f], tfidf_hash("good", 4) & 1023);
    assert_int_equal(tfidf_lookup(&v, "acting", 6), -1); /* df 1 < min_df 2 (unless it collides) */
    /* an explanation names a bucket by the input's terms in it */
    struct tfidf_terms scratch;
    tfidf_terms_init(&scratch);
    char name[64];
    tfidf_name(&v, "a good day", 10, (size_t)f, &scratch, name, sizeof name);
    assert_string_equal(name, "good");
    tfidf_name(&v, "nothing", 7, (size_t)f, &scratch, name, sizeof name);
    assert_true(!strncmp(name, "bucket ", 7));
    tfidf_terms_free(&scratch);
    /* transform = the training row */
    struct tfidf_vec out;
    tfidf_vec_init(&out);
    tfidf_transform(&v, docs[2], strlen(docs[2]), &out);
    assert_int_equal(out.n, x.row_ptr[3] - x.row_ptr[2]);
    for (size_t k = 0; k < out.n; k++) {
        assert_int_equal(out.idx[k], x.idx[x.row_ptr[2] + k]);
        assert_float_equal(out.val[k], x.val[x.row_ptr[2] + k], 1e-12);
    }
    tfidf_vec_free(&out);
    tfidf_matrix_free(&x);
    tfidf_matrix_free(&y);
    tfidf_free(&v);
    tfidf_free(&w);
}

/* An extended featuriser written and read back transforms as before; the
 * options travel with it. */
static void round_trip(const struct tfidf_config *c)
{
    struct tfidf v, w;
    struct err e;
    assert_int_equal(tfidf_fit(&v, c, docs, NULL, 6, NULL, &e), 0);
    struct buf b;
    buf_init(&b);
    tfidf_save(&v, 1, &b);
    struct reader r;
    reader_init(&r, b.data, b.len);
    assert_int_equal(tfidf_load(&w, 1, &r, &e), 0);
    assert_int_equal(r.left, 0);
    assert_int_equal(w.cfg.analyzer, v.cfg.analyzer);
    assert_int_equal(w.cfg.char_min, v.cfg.char_min);
    assert_int_equal(w.cfg.char_max, v.cfg.char_max);
    assert_int_equal(w.cfg.hashing_bits, v.cfg.hashing_bits);
    assert_int_equal(w.cfg.stop_words, v.cfg.stop_words);
    assert_int_equal(w.cfg.stemming, v.cfg.stemming);
    assert_int_equal(w.cfg.keep_punct, v.cfg.keep_punct);
    struct tfidf_vec p, q;
    tfidf_vec_init(&p);
    tfidf_vec_init(&q);
    const char *text = "Good movies! Great acting? awful";
    tfidf_transform(&v, text, strlen(text), &p);
    tfidf_transform(&w, text, strlen(text), &q);
    assert_true(p.n > 0);
    assert_int_equal(p.n, q.n);
    assert_memory_equal(p.idx, q.idx, p.n * sizeof *p.idx);
    assert_memory_equal(p.val, q.val, p.n * sizeof *p.val);
    /* a damaged option is refused */
    b.data[3 * 4 + 8 + 4 + 8] = 9; /* the analyzer, after the six settings */
    reader_init(&r, b.data, b.len);
    struct tfidf z;
    assert_int_equal(tfidf_load(&z, 1, &r, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    tfidf_vec_free(&p);
    tfidf_vec_free(&q);
    buf_free(&b);
    tfidf_free(&v);
    tfidf_free(&w);
}

static void test_save_load_options(void **state)
{
    (void)state;
    struct tfidf_config c = cfg_with(TFIDF_BOTH, 2, 4);
    c.stop_words = TEXT_LANG_ENGLISH;
    c.stemming = TEXT_LANG_ENGLISH;
    c.keep_punct = 1;
    round_trip(&c);
    c.hashing_bits = 12;
    round_trip(&c);
    assert_true(tfidf_config_is_extended(&c));
    tfidf_config_defaults(&c);
    assert_int_equal(c.keep_punct, 1); /* the default since issue 5's measures */
    assert_true(tfidf_config_is_extended(&c));
    c.keep_punct = 0; /* the old tokens: the old format */
    assert_false(tfidf_config_is_extended(&c));
}

static void test_option_checks(void **state)
{
    (void)state;
    struct tfidf_config c;
    struct err e;
    struct {
        int analyzer, cmin, cmax, bits;
        const char *field;
    } bad[] = {{3, 2, 5, 0, "analyzer"},     {1, 0, 5, 0, "char_ngrams"},
               {1, 4, 3, 0, "char_ngrams"},  {1, 2, 17, 0, "char_ngrams"},
               {0, 2, 5, 7, "hashing_bits"}, {0, 2, 5, 23, "hashing_bits"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        c = cfg_with(bad[i].analyzer, bad[i].cmin, bad[i].cmax);
        c.hashing_bits = bad[i].bits;
        err_clear(&e);
        assert_int_equal(tfidf_config_check(&c, &e), -1);
        assert_string_equal(e.field, bad[i].field);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_char_wb_matches_sklearn),
        cmocka_unit_test(test_both_analyzers),
        cmocka_unit_test(test_char_ngrams_direct),
        cmocka_unit_test(test_stop_words),
        cmocka_unit_test(test_stemming),
        cmocka_unit_test(test_stemming_threads),
        cmocka_unit_test(test_hashing),
        cmocka_unit_test(test_save_load_options),
        cmocka_unit_test(test_option_checks),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stem_thread_free();
    return rc;
}
