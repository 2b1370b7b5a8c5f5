/* Unit tests for data/examples: validation against the task, the JSON and
 * text built per row, the stratified split and the content hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ids.h"
#include "base/mem.h"
#include "data/examples.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *two_fields[] = {"title", "body"};
static const struct task_config task = {
    .name = "tickets",
    .type = TASK_MULTICLASS,
    .text_fields = two_fields,
    .n_text_fields = 2,
    .label = "label",
    .model_kind = "linear",
    .test_fraction = 0.2,
};

static void read_table(const char *data, enum table_format fmt, struct table *t)
{
    struct err e;
    err_clear(&e);
    if (table_read_buffer(data, strlen(data), fmt, NULL, t, &e)) fail_msg("table: %s", e.msg);
}

static void expect_fail(const char *data, enum table_format fmt, size_t max, enum err_code code,
                        const char *msg)
{
    struct table t;
    struct examples ex;
    struct err e;
    read_table(data, fmt, &t);
    err_clear(&e);
    assert_int_equal(examples_from_table(&t, &task, max, &ex, &e), -1);
    assert_int_equal(e.code, code);
    if (strcmp(e.msg, msg)) fail_msg("want '%s', got '%s'", msg, e.msg);
    assert_int_equal(ex.n, 0);
    assert_null(ex.items);
    examples_free(&ex);
    table_free(&t);
}

static void test_rows(void **state)
{
    (void)state;
    struct table t;
    struct examples ex;
    struct err e;
    read_table("id,body,label,title\n"
               "1,\"line one\nline \"\"two\"\"\",  billing \t,Refund\n"
               "2,,tech,\"tab\there \\ back\"\n",
               TABLE_CSV, &t);
    err_clear(&e);
    assert_int_equal(examples_from_table(&t, &task, 0, &ex, &e), 0);
    assert_int_equal(ex.n, 2);
    /* config order (title, body), not file order */
    assert_string_equal(ex.items[0].input_json,
                        "{\"title\":\"Refund\",\"body\":\"line one\\nline \\\"two\\\"\"}");
    assert_string_equal(ex.items[0].text, "Refund\nline one\nline \"two\"");
    assert_string_equal(ex.items[0].label, "billing");
    assert_int_equal(ex.items[0].line, 2);
    assert_int_equal(ex.items[0].split, SPLIT_TRAIN);
    assert_string_equal(ex.items[1].input_json,
                        "{\"title\":\"tab\\there \\\\ back\",\"body\":\"\"}");
    assert_string_equal(ex.items[1].text, "tab\there \\ back\n");
    assert_int_equal(ex.items[1].line, 4);
    for (size_t i = 0; i < ex.n; i++) { /* valid JSON holding exactly the task's fields */
        json_error_t jerr;
        json_t *o = json_loads(ex.items[i].input_json, 0, &jerr);
        assert_non_null(o);
        assert_int_equal(json_object_size(o), 2);
        json_decref(o);
    }
    examples_free(&ex);
    table_free(&t);
}

/* input_json matches jansson's own compact output, including escapes. */
static void test_json_matches_jansson(void **state)
{
    (void)state;
    const char title[] = "q\"b\\s/\x01\x1f\x7f\b\f\r\n\t é 😀 \xe2\x80\xa8";
    char *csv = xasprintf("title,body,label\n\"%s\",x,y\n",
                          "q\"\"b\\s/\x01\x1f\x7f\b\f\r\n\t é 😀 \xe2\x80\xa8");
    struct table t;
    struct examples ex;
    struct err e;
    read_table(csv, TABLE_CSV, &t);
    assert_int_equal(examples_from_table(&t, &task, 0, &ex, &e), 0);
    json_t *o = json_object();
    json_object_set_new(o, "title", json_string(title));
    json_object_set_new(o, "body", json_string("x"));
    char *want = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(ex.items[0].input_json, want);
    free(want);
    json_decref(o);
    examples_free(&ex);
    table_free(&t);
    free(csv);
}

static void test_errors(void **state)
{
    (void)state;
    expect_fail("title,text,label\n1,2,3\n", TABLE_CSV, 0, ERR_INVALID,
                "column 'body' (tasks.tickets.text) not found in header; columns are: title, "
                "text, label");
    expect_fail("title,body,airline_sentiment\n1,2,3\n", TABLE_CSV, 0, ERR_INVALID,
                "column 'label' (tasks.tickets.label) not found in header; columns are: title, "
                "body, airline_sentiment");
    expect_fail("title,body,label\na,b,c\nd,e,\n", TABLE_CSV, 0, ERR_INVALID,
                "line 3, column 'label': empty label");
    expect_fail("title,body,label\na,b,c\n\n\nd,e,\" \t \"\n", TABLE_CSV, 0, ERR_INVALID,
                "line 5, column 'label': empty label");
    expect_fail("{\"label\": \"x\"}\n{\"title\": \"a\", \"body\": \"b\"}\n", TABLE_JSONL, 0,
                ERR_INVALID, "line 2, column 'label': empty label"); /* absent */
    expect_fail("title,body,label\nabc,abcdef,x\n", TABLE_CSV, 5, ERR_LIMIT,
                "line 2, column 'body': field is 6 bytes, over the limit of 5");
}

/* A table built by hand can hold what a file import would refuse. */
static void test_invalid_utf8_cell(void **state)
{
    (void)state;
    struct table t;
    read_table("title,body,label\na,b,c\n", TABLE_CSV, &t);
    t.cells[1] = "bad \xc0\xaf";
    struct examples ex;
    struct err e;
    assert_int_equal(examples_from_table(&t, &task, 0, &ex, &e), -1);
    assert_string_equal(e.msg, "line 2, column 'body': invalid UTF-8");
    assert_string_equal(e.field, "body");
    table_free(&t);
}

static void test_jsonl_null_text(void **state)
{
    (void)state;
    struct table t;
    struct examples ex;
    struct err e;
    read_table(
        "{\"title\": null, \"label\": \"a\"}\n{\"body\": \"b\", \"label\": [\"x\", \"y\"]}\n",
        TABLE_JSONL, &t);
    assert_int_equal(examples_from_table(&t, &task, 0, &ex, &e), 0);
    /* null or absent: stored as null (a profile counts them), read as "" */
    assert_string_equal(ex.items[0].input_json, "{\"title\":null,\"body\":null}");
    assert_string_equal(ex.items[1].input_json, "{\"title\":null,\"body\":\"b\"}");
    assert_string_equal(ex.items[0].text, "\n");
    assert_string_equal(ex.items[1].text, "\nb");
    assert_string_equal(ex.items[1].label, "x|y");
    examples_free(&ex);
    table_free(&t);
}

/* A multilabel task: a cell's labels become the canonical set, a JSONL
 * list the same, an empty cell or [] the empty set; an absent set, an
 * empty label between separators are refused with line and column. */
static void test_multilabel_rows(void **state)
{
    (void)state;
    struct task_config ml = task;
    ml.type = TASK_MULTILABEL;
    ml.label = "tags";
    snprintf(ml.label_separator, sizeof ml.label_separator, ";");
    struct table t;
    struct examples ex;
    struct err e;
    read_table("title,body,tags\na,b,Billing; Account ;Billing\nc,d,\ne,f,  \ng,h,solo\n",
               TABLE_CSV, &t);
    assert_int_equal(examples_from_table(&t, &ml, 0, &ex, &e), 0);
    assert_int_equal(ex.n, 4);
    assert_string_equal(ex.items[0].label, "Account|Billing");
    assert_string_equal(ex.items[1].label, "");
    assert_string_equal(ex.items[2].label, "");
    assert_string_equal(ex.items[3].label, "solo");
    examples_free(&ex);
    table_free(&t);

    /* JSONL lists are joined with the task's separator, then read as a cell */
    struct table_limits lim = {.list_separator = ";"};
    const char *jsonl = "{\"title\": \"a\", \"body\": \"b\", \"tags\": [\"y\", \"x\"]}\n"
                        "{\"title\": \"c\", \"body\": \"d\", \"tags\": []}\n";
    assert_int_equal(table_read_buffer(jsonl, strlen(jsonl), TABLE_JSONL, &lim, &t, &e), 0);
    assert_int_equal(examples_from_table(&t, &ml, 0, &ex, &e), 0);
    assert_string_equal(ex.items[0].label, "x|y");
    assert_string_equal(ex.items[1].label, "");
    examples_free(&ex);
    table_free(&t);

    read_table("title,body,tags\na,b,x\nc,d,x;;y\n", TABLE_CSV, &t);
    assert_int_equal(examples_from_table(&t, &ml, 0, &ex, &e), -1);
    assert_string_equal(e.msg, "line 3, column 'tags': label 2 of the list is empty");
    assert_string_equal(e.field, "tags");
    table_free(&t);
    read_table("{\"title\": \"a\", \"body\": \"b\", \"tags\": []}\n{\"title\": \"a\"}\n",
               TABLE_JSONL, &t);
    assert_int_equal(examples_from_table(&t, &ml, 0, &ex, &e), -1);
    assert_string_equal(e.msg, "line 2, column 'tags': no label set (write [] or an empty cell for "
                               "a row with no label)");
    table_free(&t);
}

/* n rows per label, labels given as "name:count" pairs. */
static void make_examples(struct examples *ex, const char *const *labels, const size_t *counts,
                          size_t n_labels)
{
    struct buf csv;
    buf_init(&csv);
    buf_append_str(&csv, "title,body,label\n");
    size_t row = 0;
    for (size_t l = 0; l < n_labels; l++)
        for (size_t i = 0; i < counts[l]; i++)
            buf_printf(&csv, "t%zu,b,%s\n", row++, labels[l]);
    struct table t;
    struct err e;
    read_table(csv.data, TABLE_CSV, &t);
    assert_int_equal(examples_from_table(&t, &task, 0, ex, &e), 0);
    table_free(&t); /* examples own copies of everything */
    buf_free(&csv);
}

static size_t count_test(const struct examples *ex, const char *label)
{
    size_t n = 0;
    for (size_t i = 0; i < ex->n; i++)
        n += ex->items[i].split == SPLIT_TEST && !strcmp(ex->items[i].label, label);
    return n;
}

static void test_split(void **state)
{
    (void)state;
    const char *labels[] = {"a", "b", "c", "d", "e"};
    const size_t counts[] = {100, 10, 1, 2, 7};
    struct examples ex, again;
    make_examples(&ex, labels, counts, 5);
    make_examples(&again, labels, counts, 5);
    examples_split_stratified(&ex, 0.2, 42);
    assert_int_equal(count_test(&ex, "a"), 20);
    assert_int_equal(count_test(&ex, "b"), 2);
    assert_int_equal(count_test(&ex, "c"), 0); /* one row: kept for training */
    assert_int_equal(count_test(&ex, "d"), 1); /* at least one when there are two */
    assert_int_equal(count_test(&ex, "e"), 1); /* round(1.4) */

    /* the same seed gives the same split; another seed a different one */
    examples_split_stratified(&again, 0.2, 42);
    for (size_t i = 0; i < ex.n; i++)
        assert_int_equal(ex.items[i].split, again.items[i].split);
    examples_split_stratified(&again, 0.2, 43);
    size_t differ = 0;
    for (size_t i = 0; i < ex.n; i++)
        differ += ex.items[i].split != again.items[i].split;
    assert_true(differ > 0);
    assert_int_equal(count_test(&again, "a"), 20);

    /* the test rows are spread over the label's rows, not its first ones */
    size_t first_half = 0;
    for (size_t i = 0; i < 50; i++)
        first_half += ex.items[i].split == SPLIT_TEST;
    assert_true(first_half > 3 && first_half < 17);

    examples_split_stratified(&again, 0.9, 1);
    assert_int_equal(count_test(&again, "a"), 90);
    assert_int_equal(count_test(&again, "d"), 1); /* a label always keeps a training row */
    examples_split_stratified(&again, 0, 1);
    assert_int_equal(count_test(&again, "a") + count_test(&again, "d"), 0);

    examples_set_split(&again, SPLIT_TEST);
    assert_int_equal(count_test(&again, "c"), 1);
    examples_free(&ex);
    examples_free(&again);
}

static void hash_of(const char *csv, char out[65])
{
    struct table t;
    struct examples ex;
    struct err e;
    read_table(csv, TABLE_CSV, &t);
    assert_int_equal(examples_from_table(&t, &task, 0, &ex, &e), 0);
    examples_content_hash(&ex, out);
    examples_free(&ex);
    table_free(&t);
}

static void test_content_hash(void **state)
{
    (void)state;
    char h1[65], h2[65], h3[65], h4[65], h5[65];
    hash_of("title,body,label\na,b,x\nc,d,y\n", h1);
    /* other columns, column order, quoting, CRLF and label padding do not matter */
    hash_of("id,label,body,title\r\n1, x ,b,\"a\"\r\n2,y,d,c\r\n", h2);
    assert_string_equal(h1, h2);
    hash_of("title,body,label\nc,d,y\na,b,x\n", h3); /* row order does */
    assert_string_not_equal(h1, h3);
    hash_of("title,body,label\na,b,x\nc,d,z\n", h4); /* and a label */
    assert_string_not_equal(h1, h4);
    hash_of("title,body,label\nab,,x\nc,d,y\n", h5); /* separators keep fields apart */
    assert_string_not_equal(h1, h5);
    assert_int_equal(strlen(h1), 64);

    /* the definition: SHA-256 of input_json NUL label NUL, row after row */
    const char bytes[] = "{\"title\":\"a\",\"body\":\"b\"}\0x\0{\"title\":\"c\",\"body\":\"d\"}\0y";
    char want[65];
    sha256_hex(bytes, sizeof bytes, want);
    assert_string_equal(h1, want);

    /* and not the split */
    struct table t;
    struct examples ex;
    struct err e;
    read_table("title,body,label\na,b,x\nc,d,y\n", TABLE_CSV, &t);
    assert_int_equal(examples_from_table(&t, &task, 0, &ex, &e), 0);
    examples_set_split(&ex, SPLIT_TEST);
    examples_content_hash(&ex, h2);
    assert_string_equal(h1, h2);
    examples_free(&ex);
    table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_json_matches_jansson),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_invalid_utf8_cell),
        cmocka_unit_test(test_jsonl_null_text),
        cmocka_unit_test(test_multilabel_rows),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_content_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
