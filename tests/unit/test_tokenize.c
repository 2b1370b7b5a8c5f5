/* The tokenizer decides what the model can see: these cases pin down the
 * behaviour training and serving both rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "text/tokenize.h"

#include <stdlib.h>
#include <string.h>

/* Tokenises s and checks the tokens, given space-joined in `want`. */
static void expect_tokens(struct tokens *t, const char *s, size_t len, const char *want)
{
    tokenize(s, len, t);
    assert_string_equal(t->text.data, want);
}

#define EXPECT(t, s, want) expect_tokens(t, s, strlen(s), want)

static void test_case_folding_and_words(void **state)
{
    (void)state;
    struct tokens t;
    tokens_init(&t);
    EXPECT(&t, "Hello WORLD, HeLLo!", "hello world hello");
    assert_int_equal(t.n, 3);
    EXPECT(&t, "I am a snake_case_name", "i am a snake_case_name"); /* single letters kept */
    EXPECT(&t, "Straße ΣΑΣ", "strasse σασ");
    tokens_free(&t);
}

static void test_nfkc(void **state)
{
    (void)state;
    struct tokens t;
    tokens_init(&t);
    EXPECT(&t, "ＦＵＬＬwidth ﬁne", "fullwidth fine"); /* fullwidth letters, ligature */
    /* a decomposed é (e + U+0301) and the precomposed one are one token */
    EXPECT(&t, "Cafe\xcc\x81 CAFÉ café", "café café café");
    EXPECT(&t, "naïve résumé", "naïve résumé"); /* accents are kept */
    tokens_free(&t);
}

static void test_social_tokens(void **state)
{
    (void)state;
    struct tokens t;
    tokens_init(&t);
    EXPECT(&t, "@AmericanAir #DelayedFlight again!!", "@americanair #delayedflight again");
    EXPECT(&t, "so angry 😡😡 ❄️", "so angry 😡 😡 ❄"); /* each emoji alone, no VS16 */
    EXPECT(&t, "a @ b # c", "a b c");                         /* lone sigils are dropped */
    EXPECT(&t, "mail@example.com", "mail example com");
    tokens_free(&t);
}

static void test_numbers_apostrophes_urls(void **state)
{
    (void)state;
    struct tokens t;
    tokens_init(&t);
    EXPECT(&t, "flight 1234 at 3.50, cost 1,000.", "flight 1234 at 3.50 cost 1,000");
    EXPECT(&t, "don't DON’T 'quoted'", "don't don't quoted");
    EXPECT(&t, "see https://t.co/AbC?x=1 and HTTP://X.COM/y now", "see <url> and <url> now");
    EXPECT(&t, "http is not a url, http:/ neither", "http is not a url http neither");
    tokens_free(&t);
}

/* scrub_pii's placeholders are one token each, apart from the words */
static void test_placeholders(void **state)
{
    (void)state;
    struct tokens t;
    tokens_init(&t);
    EXPECT(&t, "my email is <EMAIL>, call <PHONE>", "my email is <email> call <phone>");
    EXPECT(&t, "<IBAN><CARD> from <IP>.", "<iban> <card> from <ip>");
    /* near misses are ordinary text */
    EXPECT(&t, "<EMAILS> <ip <name> <", "emails ip name");
    tokens_free(&t);
}

static void test_ngram_contiguity(void **state)
{
    (void)state;
    struct tokens t;
    tokens_init(&t);
    size_t n = tokenize("One,  two;three", 15, &t);
    assert_int_equal(n, 3);
    size_t len;
    const char *p = tokens_at(&t, 1, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "two", 3);
    /* tokens 0..2 are one contiguous, space-joined run of bytes */
    assert_int_equal(t.off[2] + t.len[2] - t.off[0], strlen("one two three"));
    tokens_free(&t);
}

static void test_invalid_and_edge_input(void **state)
{
    (void)state;
    struct tokens t;
    tokens_init(&t);
    EXPECT(&t, "", "");
    assert_int_equal(t.n, 0);
    EXPECT(&t, "  \t\n ...!!! ", "");
    EXPECT(&t, "bad \xff\xfe bytes\xc3", "bad bytes");
    EXPECT(&t, "over\xc0\xaflong \xed\xa0\x80surrogate", "over long surrogate");
    expect_tokens(&t, "a\0b", 3, "a b"); /* length-delimited, NUL is a separator */
    /* a long, mixed input does not crash and reuses the buffers */
    size_t big = 200000;
    char *s = malloc(big);
    for (size_t i = 0; i < big; i++)
        s[i] = "ab \xc3\xa9\xff#@1'"[i % 11];
    size_t n = tokenize(s, big, &t);
    assert_true(n > 0);
    free(s);
    tokens_free(&t);
}

/* keep_punct: '!' and '?' (fullwidth too, after NFKC; the inverted
 * Spanish forms) are tokens, one each; other punctuation still separates,
 * and without the flag nothing changes. */
static void test_keep_punct(void **state)
{
    (void)state;
    struct tokens t;
    tokens_init(&t);
    const char *s = "Late again!! Why? \xEF\xBC\x81 \xC2\xBFqu\xC3\xA9? ok... #fail!";
    tokenize_ex(s, strlen(s), TOKENIZE_KEEP_PUNCT, &t);
    assert_string_equal(t.text.data, "late again ! ! why ? ! \xC2\xBF qu\xC3\xA9 ? ok #fail !");
    assert_int_equal(t.n, 13);
    tokenize_ex(s, strlen(s), 0, &t);
    assert_string_equal(t.text.data, "late again why qu\xC3\xA9 ok #fail");
    EXPECT(&t, "wow!", "wow"); /* tokenize() is tokenize_ex(.., 0, ..) */
    /* appended tokens keep the n-gram contiguity of the buffer */
    tokens_append(&t, "x", 1);
    assert_string_equal(t.text.data, "wow x");
    assert_int_equal(t.n, 2);
    /* split_urls: a URL is its words, not "<url>" */
    const char *u = "see https://Example.com/Offer?id=7 now";
    tokenize_ex(u, strlen(u), TOKENIZE_SPLIT_URLS, &t);
    assert_string_equal(t.text.data, "see https example com offer id 7 now");
    tokenize_ex(u, strlen(u), 0, &t);
    assert_string_equal(t.text.data, "see <url> now");
    tokens_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_folding_and_words),
        cmocka_unit_test(test_nfkc),
        cmocka_unit_test(test_social_tokens),
        cmocka_unit_test(test_numbers_apostrophes_urls),
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_ngram_contiguity),
        cmocka_unit_test(test_invalid_and_edge_input),
        cmocka_unit_test(test_keep_punct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
