/* TF-IDF must match scikit-learn's TfidfVectorizer: the expected numbers
 * below were computed with sklearn 1.2 on the same tiny corpora. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "text/tfidf.h"

#include <string.h>

static const char *cats[] = {"the cat sat", "the dog sat", "the cat ran"};
static const char *films[] = {"good good good movie", "bad movie", "good film"};

static struct tfidf_config cfg_of(int nmax, int min_df, int sublinear)
{
    struct tfidf_config c;
    tfidf_config_defaults(&c);
    c.ngram_max = nmax;
    c.min_df = min_df;
    c.sublinear_tf = sublinear;
    return c;
}

/* Dense value of feature `term` in CSR row r (0 when absent). */
static double cell(const struct tfidf *v, const struct tfidf_matrix *x, size_t r, const char *term)
{
    long f = tfidf_lookup(v, term, strlen(term));
    assert_true(f >= 0);
    for (size_t k = x->row_ptr[r]; k < x->row_ptr[r + 1]; k++)
        if (x->idx[k] == (uint32_t)f) return x->val[k];
    return 0;
}

static void test_bigrams_match_sklearn(void **state)
{
    (void)state;
    struct tfidf v;
    struct tfidf_matrix x;
    struct tfidf_config c = cfg_of(2, 1, 1);
    struct err e;
    assert_int_equal(tfidf_fit(&v, &c, cats, NULL, 3, &x, &e), 0);
    /* vocabulary sorted by bytes, as sklearn's feature ids */
    static const char *vocab[] = {"cat", "cat ran", "cat sat", "dog",     "dog sat",
                                  "ran", "sat",     "the",     "the cat", "the dog"};
    assert_int_equal(v.n_features, 10);
    for (size_t f = 0; f < 10; f++)
        assert_string_equal(tfidf_term(&v, f), vocab[f]);
    assert_float_equal(v.idf[0], 1.28768207, 1e-8);
    assert_float_equal(v.idf[1], 1.69314718, 1e-8);
    assert_float_equal(v.idf[7], 1.0, 1e-12);
    assert_float_equal(cell(&v, &x, 0, "cat"), 0.4330668485, 1e-9);
    assert_float_equal(cell(&v, &x, 0, "cat sat"), 0.5694308628, 1e-9);
    assert_float_equal(cell(&v, &x, 0, "the"), 0.3363150406, 1e-9);
    assert_float_equal(cell(&v, &x, 1, "dog sat"), 0.5046113401, 1e-9);
    assert_float_equal(cell(&v, &x, 2, "cat ran"), 0.5340933749, 1e-9);
    assert_float_equal(cell(&v, &x, 2, "dog"), 0.0, 0);
    /* indices ascending within a row */
    for (size_t r = 0; r < 3; r++)
        for (size_t k = x.row_ptr[r] + 1; k < x.row_ptr[r + 1]; k++)
            assert_true(x.idx[k - 1] < x.idx[k]);
    tfidf_matrix_free(&x);
    tfidf_free(&v);
}

static void test_sublinear_tf_and_transform(void **state)
{
    (void)state;
    struct tfidf v;
    struct tfidf_matrix x;
    struct tfidf_config c = cfg_of(1, 1, 1);
    struct err e;
    assert_int_equal(tfidf_fit(&v, &c, films, NULL, 3, &x, &e), 0);
    assert_float_equal(cell(&v, &x, 0, "good"), 0.902750148, 1e-9); /* tf 3 -> 1 + ln 3 */
    assert_float_equal(cell(&v, &x, 0, "movie"), 0.4301652825, 1e-9);
    assert_float_equal(cell(&v, &x, 1, "bad"), 0.7959605416, 1e-9);

    /* transform of a new text equals sklearn's; unknown words are ignored */
    struct tfidf_vec out;
    tfidf_vec_init(&out);
    const char *s = "Good good UNKNOWN movie";
    tfidf_transform(&v, s, strlen(s), &out);
    assert_int_equal(out.n, 2);
    assert_int_equal(out.idx[0], tfidf_lookup(&v, "good", 4));
    assert_float_equal(out.val[0], 0.8610369959, 1e-9);
    assert_float_equal(out.val[1], 0.5085423204, 1e-9);
    tfidf_transform(&v, "nothing known", 13, &out);
    assert_int_equal(out.n, 0);
    tfidf_vec_free(&out);
    tfidf_matrix_free(&x);
    tfidf_free(&v);
}

static void test_pruning(void **state)
{
    (void)state;
    struct tfidf v;
    struct err e;
    struct tfidf_config c = cfg_of(1, 1, 0);
    c.max_features = 2; /* the two most frequent over the corpus */
    assert_int_equal(tfidf_fit(&v, &c, films, NULL, 3, NULL, &e), 0);
    assert_int_equal(v.n_features, 2);
    assert_string_equal(tfidf_term(&v, 0), "good");
    assert_string_equal(tfidf_term(&v, 1), "movie");
    tfidf_free(&v);

    c = cfg_of(1, 1, 1);
    c.max_df = 0.5; /* drop terms in more than half of the texts */
    assert_int_equal(tfidf_fit(&v, &c, films, NULL, 3, NULL, &e), 0);
    assert_int_equal(v.n_features, 2);
    assert_string_equal(tfidf_term(&v, 0), "bad");
    assert_string_equal(tfidf_term(&v, 1), "film");
    tfidf_free(&v);

    c = cfg_of(2, 2, 1); /* min_df 2 keeps only what two texts share */
    assert_int_equal(tfidf_fit(&v, &c, cats, NULL, 3, NULL, &e), 0);
    assert_int_equal(v.n_features, 4); /* cat, sat, the, the cat */
    assert_int_equal(tfidf_lookup(&v, "the cat", 7), 3);
    assert_int_equal(tfidf_lookup(&v, "dog", 3), -1);
    tfidf_free(&v);
}

static void test_fit_errors(void **state)
{
    (void)state;
    struct tfidf v;
    struct err e;
    struct tfidf_config c = cfg_of(1, 5, 1);
    assert_int_equal(tfidf_fit(&v, &c, films, NULL, 3, NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "min_df"));

    c = cfg_of(1, 2, 1);
    c.max_df = 0.1; /* keeps at most 0.3 texts, min_df wants 2 */
    assert_int_equal(tfidf_fit(&v, &c, films, NULL, 3, NULL, &e), -1);
    assert_string_equal(e.field, "max_df");

    c = cfg_of(1, 1, 1);
    c.ngram_max = 0;
    assert_int_equal(tfidf_fit(&v, &c, films, NULL, 3, NULL, &e), -1);
    assert_string_equal(e.field, "ngram_max");
    assert_int_equal(tfidf_fit(&v, &c, films, NULL, 0, NULL, &e), -1);
}

static void test_save_load(void **state)
{
    (void)state;
    struct tfidf v, w;
    struct err e;
    struct tfidf_config c = cfg_of(2, 1, 1);
    assert_int_equal(tfidf_fit(&v, &c, cats, NULL, 3, NULL, &e), 0);
    struct buf b;
    buf_init(&b);
    tfidf_save(&v, 0, &b);
    struct reader r;
    reader_init(&r, b.data, b.len);
    assert_int_equal(tfidf_load(&w, 0, &r, &e), 0);
    assert_int_equal(r.left, 0);
    assert_int_equal(w.n_features, v.n_features);
    struct tfidf_vec a, z;
    tfidf_vec_init(&a);
    tfidf_vec_init(&z);
    tfidf_transform(&v, "The cat sat, the dog ran", 24, &a);
    tfidf_transform(&w, "The cat sat, the dog ran", 24, &z);
    assert_int_equal(a.n, z.n);
    assert_memory_equal(a.idx, z.idx, a.n * sizeof *a.idx);
    assert_memory_equal(a.val, z.val, a.n * sizeof *a.val);
    tfidf_free(&w);

    for (size_t cut = 0; cut < b.len; cut += 7) { /* every truncation is refused */
        reader_init(&r, b.data, cut);
        assert_int_equal(tfidf_load(&w, 0, &r, &e), -1);
        assert_int_equal(e.code, ERR_CORRUPT);
    }
    tfidf_vec_free(&a);
    tfidf_vec_free(&z);
    buf_free(&b);
    tfidf_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bigrams_match_sklearn),
        cmocka_unit_test(test_sublinear_tf_and_transform),
        cmocka_unit_test(test_pruning),
        cmocka_unit_test(test_fit_errors),
        cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
