/* Unit tests for data/prepare: the steps at their place in the list, keep
 * the first of duplicates, drop rows left empty, and the counts per step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/prepare.h"

#include <stdlib.h>
#include <string.h>

static void config(struct clean_config *c, const enum clean_step *steps, size_t n, const char *sep)
{
    clean_config_defaults(c);
    for (size_t i = 0; i < n; i++)
        c->steps[i] = (unsigned char)steps[i];
    c->n_steps = n;
    strcpy(c->separator, sep);
}

/* Feeds a row of two fields; returns its text or NULL when dropped. */
static const char *row(struct preparer *p, const char *a, const char *b)
{
    const char *v[] = {a, b};
    size_t l[] = {a ? strlen(a) : 99, b ? strlen(b) : 99}; /* a NULL value's length is ignored */
    const char *text;
    size_t len;
    if (!preparer_row(p, v, l, &text, &len)) return NULL;
    assert_int_equal(strlen(text), len);
    return text;
}

static void test_rows_and_counts(void **state)
{
    (void)state;
    const enum clean_step steps[] = {CLEAN_STRIP_HTML, CLEAN_NORMALIZE_WHITESPACE, CLEAN_DROP_EMPTY,
                                     CLEAN_DEDUPE};
    struct clean_config c;
    config(&c, steps, 4, " | ");
    struct preparer p;
    preparer_init(&p, &c, 2);
    assert_string_equal(row(&p, "<p>Hello</p>", "world"), "Hello | world");
    assert_null(row(&p, "Hello", "  world ")); /* the same once cleaned: the first stays */
    assert_null(row(&p, "<br>", " \t "));      /* nothing left */
    assert_string_equal(row(&p, NULL, "x"), " | x");
    assert_string_equal(row(&p, "hello", "world"), "hello | world"); /* case differs: kept */
    assert_int_equal(p.report.rows, 5);
    assert_int_equal(p.report.kept, 3);
    assert_int_equal(p.report.changed[CLEAN_STRIP_HTML], 2);
    assert_int_equal(p.report.changed[CLEAN_NORMALIZE_WHITESPACE], 2);
    assert_int_equal(p.report.dropped[CLEAN_DROP_EMPTY], 1);
    assert_int_equal(p.report.dropped[CLEAN_DEDUPE], 1);

    json_t *j = prepare_report_json(&c, &p.report);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text,
                        "{\"kept\":3,\"rows\":5,\"steps\":[{\"changed\":2,\"step\":\"strip_html\"},"
                        "{\"changed\":2,\"step\":\"normalize_whitespace\"},{\"dropped\":1,"
                        "\"step\":\"drop_empty\"},{\"dropped\":1,\"step\":\"dedupe\"}]}");
    free(text);
    json_decref(j);
    struct buf b;
    buf_init(&b);
    prepare_report_text(&c, &p.report, &b);
    assert_string_equal(b.data, "strip_html changed 2, normalize_whitespace changed 2, drop_empty "
                                "dropped 1, dedupe dropped 1: 3 of 5 rows kept");
    buf_free(&b);
    preparer_free(&p);
}

/* A row step sees the text as the steps before it left it. */
static void test_order_matters(void **state)
{
    (void)state;
    struct clean_config c;
    struct preparer p;
    /* drop_empty before strip_html: "<br>" is not empty yet, so it stays */
    const enum clean_step late[] = {CLEAN_DROP_EMPTY, CLEAN_STRIP_HTML};
    config(&c, late, 2, "\n");
    preparer_init(&p, &c, 2);
    assert_string_equal(row(&p, "<br>", ""), "\n");
    assert_int_equal(p.report.dropped[CLEAN_DROP_EMPTY], 0);
    preparer_free(&p);

    /* dedupe before scrub_pii: two addresses are two texts... */
    const enum clean_step before[] = {CLEAN_DEDUPE, CLEAN_SCRUB_PII};
    config(&c, before, 2, "\n");
    preparer_init(&p, &c, 2);
    assert_string_equal(row(&p, "mail a@b.com", "x"), "mail <EMAIL>\nx");
    assert_string_equal(row(&p, "mail c@d.com", "x"), "mail <EMAIL>\nx");
    preparer_free(&p);
    /* ...after it, the same text; whitespace alone never makes texts differ */
    const enum clean_step after[] = {CLEAN_SCRUB_PII, CLEAN_DEDUPE};
    config(&c, after, 2, "\n");
    preparer_init(&p, &c, 2);
    assert_non_null(row(&p, "mail a@b.com", "x"));
    assert_null(row(&p, "mail  c@d.com ", "x"));
    /* the separator keeps fields apart: "a b" + "c" is not "a" + "b c" */
    assert_non_null(row(&p, "a b", "c"));
    assert_non_null(row(&p, "a", "b c"));
    preparer_free(&p);
}

static void test_no_steps(void **state)
{
    (void)state;
    struct clean_config c;
    clean_config_defaults(&c);
    struct preparer p;
    preparer_init(&p, &c, 2);
    assert_string_equal(row(&p, "<b>x</b>", "y"), "<b>x</b>\ny");
    assert_string_equal(row(&p, "<b>x</b>", "y"), "<b>x</b>\ny");
    assert_int_equal(p.report.kept, 2);
    struct buf b;
    buf_init(&b);
    prepare_report_text(&c, &p.report, &b);
    assert_string_equal(b.data, "none");
    buf_free(&b);
    preparer_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_and_counts),
        cmocka_unit_test(test_order_matters),
        cmocka_unit_test(test_no_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
