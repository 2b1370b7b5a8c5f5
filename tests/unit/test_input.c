/* Unit tests for data/input: request inputs become the same text and JSON as
 * imported rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/examples.h"
#include "data/input.h"

#include <stdlib.h>
#include <string.h>

static char *fields[] = {"subject", "body"};
static const struct task_config task = {
    .name = "spam",
    .type = TASK_BINARY,
    .text_fields = fields,
    .n_text_fields = 2,
    .label = "label",
    .model_kind = "linear",
    .test_fraction = 0.2,
};

static json_t *parse(const char *s)
{
    json_error_t jerr;
    json_t *v = json_loads(s, 0, &jerr);
    if (!v) fail_msg("bad test JSON: %s", jerr.text);
    return v;
}

static void test_ok(void **state)
{
    (void)state;
    json_t *in = parse("{\"body\": \"hello\\nthere\", \"id\": 7, \"subject\": \"Hi \\\"x\\\"\"}");
    struct buf text;
    buf_init(&text);
    buf_append_str(&text, "stale");
    json_t *norm;
    struct err e;
    err_clear(&e);
    assert_int_equal(input_text_from_json(&task, in, 100, &text, &norm, &e), 0);
    assert_string_equal(text.data, "Hi \"x\"\nhello\nthere");
    /* only the task's fields, in config order */
    char *dumped = json_dumps(norm, JSON_COMPACT);
    assert_string_equal(dumped, "{\"subject\":\"Hi \\\"x\\\"\",\"body\":\"hello\\nthere\"}");
    free(dumped);
    json_decref(norm);

    assert_int_equal(input_text_from_json(&task, in, 0, &text, NULL, &e), 0);
    assert_string_equal(text.data, "Hi \"x\"\nhello\nthere");
    buf_free(&text);
    json_decref(in);
}

static void expect_fail(const char *json, size_t max, enum err_code code, const char *field,
                        const char *msg)
{
    json_t *in = parse(json);
    struct buf text;
    buf_init(&text);
    json_t *norm = (json_t *)1;
    struct err e;
    err_clear(&e);
    assert_int_equal(input_text_from_json(&task, in, max, &text, &norm, &e), -1);
    assert_null(norm);
    assert_int_equal(e.code, code);
    assert_string_equal(e.field, field);
    if (!strstr(e.msg, msg)) fail_msg("'%s' not in '%s'", msg, e.msg);
    buf_free(&text);
    json_decref(in);
}

static void test_errors(void **state)
{
    (void)state;
    expect_fail("{\"subject\": \"x\"}", 0, ERR_INVALID, "input.body", "input.body: missing");
    expect_fail("{\"subject\": 1, \"body\": \"x\"}", 0, ERR_INVALID, "input.subject",
                "input.subject: must be a string or null");
    expect_fail("{\"subject\": [\"x\"], \"body\": \"x\"}", 0, ERR_INVALID, "input.subject",
                "must be a string or null");
    expect_fail("{\"subject\": \"abc\", \"body\": \"abcd\"}", 3, ERR_LIMIT, "input.body",
                "input.body: 4 bytes, over the limit of 3 bytes");
    expect_fail("[\"subject\"]", 0, ERR_INVALID, "input", "must be a JSON object");
}

/* null reads as an empty text, as an empty or absent cell of a file does,
 * and stays null in the normalised input (so profiles can count it). */
static void test_null_fields(void **state)
{
    (void)state;
    json_t *in = parse("{\"subject\": null, \"body\": \"hi\"}");
    const char *values[2];
    size_t lens[2];
    uint32_t nulls = 7;
    json_t *norm;
    struct err e;
    err_clear(&e);
    assert_int_equal(input_fields_from_json(&task, in, 0, values, lens, &nulls, &norm, &e), 0);
    assert_string_equal(values[0], "");
    assert_int_equal(lens[0], 0);
    assert_string_equal(values[1], "hi");
    assert_int_equal(nulls, 1);
    char *dumped = json_dumps(norm, JSON_COMPACT);
    assert_string_equal(dumped, "{\"subject\":null,\"body\":\"hi\"}");
    free(dumped);
    json_decref(norm);
    struct buf text;
    buf_init(&text);
    assert_int_equal(input_text_from_json(&task, in, 0, &text, NULL, &e), 0);
    assert_string_equal(text.data, "\nhi");
    buf_free(&text);
    json_decref(in);
}

/* A row imported from a file and the same values sent to /predict give the
 * same model text and the same stored JSON. */
static void test_same_as_import(void **state)
{
    (void)state;
    const char csv[] = "label,body,subject\nspam,\"Buy \"\"now\"\"\r\n\tcheap \\o/\",Ünïcode\n";
    struct table t;
    struct examples ex;
    struct err e;
    err_clear(&e);
    assert_int_equal(table_read_buffer(csv, sizeof csv - 1, TABLE_CSV, NULL, &t, &e), 0);
    assert_int_equal(examples_from_table(&t, &task, 0, &ex, &e), 0);

    json_t *in = json_object();
    json_object_set_new(in, "body", json_string("Buy \"now\"\r\n\tcheap \\o/"));
    json_object_set_new(in, "subject", json_string("Ünïcode"));
    struct buf text;
    buf_init(&text);
    json_t *norm;
    assert_int_equal(input_text_from_json(&task, in, 0, &text, &norm, &e), 0);
    assert_string_equal(text.data, ex.items[0].text);
    char *dumped = json_dumps(norm, JSON_COMPACT);
    assert_string_equal(dumped, ex.items[0].input_json);
    free(dumped);
    json_decref(norm);
    json_decref(in);
    buf_free(&text);
    examples_free(&ex);
    table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_null_fields),
        cmocka_unit_test(test_same_as_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
