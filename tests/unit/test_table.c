/* Unit tests for data/table: CSV edge cases of RFC 4180, JSONL, and the
 * line/column in every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct table_limits no_limits = {0};

static void parse_ok(const char *data, size_t len, enum table_format fmt, struct table *t)
{
    struct err e;
    err_clear(&e);
    if (table_read_buffer(data, len, fmt, &no_limits, t, &e)) fail_msg("unexpected: %s", e.msg);
}

#define CSV_OK(lit, t) parse_ok(lit, sizeof(lit) - 1, TABLE_CSV, t)
#define JSONL_OK(lit, t) parse_ok(lit, sizeof(lit) - 1, TABLE_JSONL, t)

/* Parses expecting failure with `code` and a message containing `msg`. */
static void expect_fail(const char *data, size_t len, enum table_format fmt,
                        const struct table_limits *lim, enum err_code code, const char *msg)
{
    struct table t;
    struct err e;
    err_clear(&e);
    assert_int_equal(table_read_buffer(data, len, fmt, lim, &t, &e), -1);
    assert_int_equal(e.code, code);
    if (!strstr(e.msg, msg)) fail_msg("'%s' not in '%s'", msg, e.msg);
    assert_int_equal(t.n_rows, 0);
    table_free(&t);
}
#define CSV_FAIL(lit, msg)                                                                         \
    expect_fail(lit, sizeof(lit) - 1, TABLE_CSV, &no_limits, ERR_INVALID, msg)
#define JSONL_FAIL(lit, msg)                                                                       \
    expect_fail(lit, sizeof(lit) - 1, TABLE_JSONL, &no_limits, ERR_INVALID, msg)

static void test_csv_basic(void **state)
{
    (void)state;
    struct table t;
    CSV_OK("id,text,label\n1,hello,pos\n2,,neg\n", &t);
    assert_int_equal(t.n_cols, 3);
    assert_int_equal(t.n_rows, 2);
    assert_string_equal(t.col_names[0], "id");
    assert_string_equal(t.col_names[2], "label");
    assert_string_equal(table_cell(&t, 0, 1), "hello");
    assert_string_equal(table_cell(&t, 1, 1), "");
    assert_string_equal(table_cell(&t, 1, 2), "neg");
    assert_int_equal(t.lines[0], 2);
    assert_int_equal(t.lines[1], 3);
    assert_int_equal(table_col(&t, "label"), 2);
    assert_int_equal(table_col(&t, "nope"), -1);
    table_free(&t);
}

static void test_csv_quoting(void **state)
{
    (void)state;
    struct table t;
    CSV_OK("a,b,c\r\n"
           "\"x, y\",\"say \"\"hi\"\"\",\"\"\r\n"
           "\"multi\r\nline\nfield\",2,\"\"\"\"\r\n"
           "plain\"quote,\"\",last\r\n",
           &t);
    assert_int_equal(t.n_rows, 3);
    assert_string_equal(table_cell(&t, 0, 0), "x, y");
    assert_string_equal(table_cell(&t, 0, 1), "say \"hi\"");
    assert_string_equal(table_cell(&t, 0, 2), "");
    assert_string_equal(table_cell(&t, 1, 0), "multi\r\nline\nfield"); /* kept byte for byte */
    assert_string_equal(table_cell(&t, 1, 2), "\"");
    assert_string_equal(table_cell(&t, 2, 0), "plain\"quote"); /* lenient: a stray quote is data */
    assert_string_equal(table_cell(&t, 2, 1), "");
    assert_int_equal(t.lines[0], 2);
    assert_int_equal(t.lines[1], 3);
    assert_int_equal(t.lines[2], 6); /* the quoted field spanned lines 3 to 5 */
    table_free(&t);
}

static void test_csv_bom_and_endings(void **state)
{
    (void)state;
    struct table t;
    CSV_OK("\xef\xbb\xbfid,label\n1,a\n2,b", &t); /* BOM, no final newline */
    assert_string_equal(t.col_names[0], "id");
    assert_int_equal(t.n_rows, 2);
    assert_string_equal(table_cell(&t, 1, 1), "b");
    table_free(&t);

    CSV_OK("id,label\r\n1,\"a\"\r\n\r\n\n\r\n", &t); /* blank trailing lines */
    assert_int_equal(t.n_rows, 1);
    assert_string_equal(table_cell(&t, 0, 1), "a");
    table_free(&t);

    CSV_OK("id,label\n\n1,a\n\n2,b\n", &t); /* blank lines inside are skipped too */
    assert_int_equal(t.n_rows, 2);
    assert_int_equal(t.lines[1], 5);
    table_free(&t);

    CSV_OK("id,label\n", &t); /* a header alone is an empty table */
    assert_int_equal(t.n_cols, 2);
    assert_int_equal(t.n_rows, 0);
    table_free(&t);

    CSV_OK("a,b\n1,x\ry\n", &t); /* a lone CR is data, not a line end */
    assert_string_equal(table_cell(&t, 0, 1), "x\ry");
    table_free(&t);

    CSV_OK("a,b\n1,\"q\"", &t); /* quoted field at the very end */
    assert_string_equal(table_cell(&t, 0, 1), "q");
    table_free(&t);
}

static void test_csv_errors(void **state)
{
    (void)state;
    CSV_FAIL("a,b,c\n1,2,3\n4,5\n", "line 3: 2 fields, but the header has 3 columns");
    CSV_FAIL("a,b\n1,2\n3,4,5\n", "line 3: 3 fields, but the header has 2 columns");
    CSV_FAIL("a,b\n1,2\n3,\"never\nclosed\n4,5\n",
             "line 3, column 'b': quoted field is never closed");
    CSV_FAIL("a,b\n1,\"x\"y\n", "line 2, column 'b': unexpected text after a closing quote");
    CSV_FAIL("", "no header row");
    CSV_FAIL("\xef\xbb\xbf\n\n", "no header row");
    CSV_FAIL("a,b,a\n", "line 1: column name 'a' appears twice");
    /* invalid UTF-8: the line of the bad byte, inside a multi-line field */
    CSV_FAIL("id,text\n1,ok\n2,\"first\nsecond \xff\"\n", "line 4, column 'text': invalid UTF-8");
    CSV_FAIL("id,text\n1,\xc3\x28\n", "line 2, column 'text': invalid UTF-8"); /* bad sequence */
    CSV_FAIL("id,text\n1,\xed\xa0\x80\n", "line 2, column 'text': invalid UTF-8"); /* surrogate */
    CSV_FAIL("id,te\xffxt\n", "line 1, column 2: invalid UTF-8");
    expect_fail("a,b\n1,x\0y\n", 10, TABLE_CSV, &no_limits, ERR_INVALID,
                "line 2, column 'b': a NUL byte");
}

static void test_csv_limits(void **state)
{
    (void)state;
    struct table_limits lim = {.max_field_bytes = 5};
    struct table t;
    struct err e;
    err_clear(&e);
    const char ok[] = "a,b\n12345,\"a\"\"bc\"\n"; /* 5 bytes once unescaped */
    assert_int_equal(table_read_buffer(ok, sizeof ok - 1, TABLE_CSV, &lim, &t, &e), 0);
    table_free(&t);
    const char big[] = "a,b\n1,2\n3,123456\n";
    expect_fail(big, sizeof big - 1, TABLE_CSV, &lim, ERR_LIMIT,
                "line 3, column 'b': field is 6 bytes, over the limit of 5");
    struct table_limits rows = {.max_rows = 2};
    const char three[] = "a\n1\n2\n3\n";
    expect_fail(three, sizeof three - 1, TABLE_CSV, &rows, ERR_LIMIT, "more than 2 rows");
}

static void test_jsonl(void **state)
{
    (void)state;
    struct table t;
    JSONL_OK("{\"id\": 1, \"text\": \"hi \\\"you\\\"\", \"label\": \"pos\"}\n"
             "\n"
             "  {\"label\": \"neg\", \"extra\": true, \"score\": 0.1, \"text\": null}  \r\n"
             "{\"id\": -7, \"tags\": [\"a\", \"b\"], \"big\": 1e300, \"no\": false, \"e\": []}",
             &t);
    assert_int_equal(t.n_rows, 3);
    assert_int_equal(t.n_cols, 9);
    const char *cols[] = {"id", "text", "label", "extra", "score", "tags", "big", "no", "e"};
    for (size_t i = 0; i < 9; i++)
        assert_string_equal(t.col_names[i], cols[i]);
    assert_string_equal(table_cell(&t, 0, 0), "1");
    assert_string_equal(table_cell(&t, 0, 1), "hi \"you\"");
    assert_null(table_cell(&t, 0, 3)); /* absent key */
    assert_null(table_cell(&t, 1, 0));
    assert_null(table_cell(&t, 1, 1)); /* null */
    assert_string_equal(table_cell(&t, 1, 2), "neg");
    assert_string_equal(table_cell(&t, 1, 3), "true");
    assert_string_equal(table_cell(&t, 1, 4), "0.1");
    assert_string_equal(table_cell(&t, 2, 0), "-7");
    assert_string_equal(table_cell(&t, 2, 5), "a|b");
    assert_string_equal(table_cell(&t, 2, 6), "1e+300");
    assert_string_equal(table_cell(&t, 2, 7), "false");
    assert_string_equal(table_cell(&t, 2, 8), "");
    assert_int_equal(t.lines[0], 1);
    assert_int_equal(t.lines[1], 3);
    assert_int_equal(t.lines[2], 4);
    table_free(&t);

    JSONL_OK("", &t);
    assert_int_equal(t.n_rows, 0);
    assert_int_equal(t.n_cols, 0);
    table_free(&t);
}

static void test_jsonl_errors(void **state)
{
    (void)state;
    JSONL_FAIL("{\"a\": 1}\n[1, 2]\n", "line 2: not a JSON object");
    JSONL_FAIL("{\"a\": 1}\n\n\"text\"\n", "line 3: not a JSON object");
    JSONL_FAIL("{\"a\": 1}\n{\"a\": }\n", "line 2: invalid JSON: ");
    JSONL_FAIL("{\"a\": 1} {\"a\": 2}\n", "line 1: invalid JSON: ");
    JSONL_FAIL("{\"a\": 1, \"a\": 2}\n", "line 1: invalid JSON: ");
    JSONL_FAIL("{\"a\": 1}\n{\"meta\": {\"x\": 1}}\n",
               "line 2, column 'meta': nested objects are not supported");
    JSONL_FAIL("{\"tags\": [\"a\", 1]}\n", "line 1, column 'tags': a list may hold only strings");
    JSONL_FAIL("{\"tags\": [\"a|b\"]}\n", "line 1, column 'tags': list item 1 contains '|'");
    JSONL_FAIL("{\"a\": \"ok\"}\n{\"a\": \"b\xff\"}\n", "line 2, byte 9: invalid UTF-8");
    JSONL_FAIL("{\"a\": \"\\u0000\"}\n", "line 1: invalid JSON: ");
    struct table_limits lim = {.max_field_bytes = 3};
    const char big[] = "{\"a\": \"abc\"}\n{\"a\": \"abcd\"}\n";
    expect_fail(big, sizeof big - 1, TABLE_JSONL, &lim, ERR_LIMIT,
                "line 2, column 'a': field is 4 bytes, over the limit of 3");
}

static void test_auto_and_files(void **state)
{
    (void)state;
    struct table t;
    parse_ok("{\"a\": \"x\"}\n", 11, TABLE_AUTO, &t);
    assert_string_equal(table_cell(&t, 0, 0), "x");
    table_free(&t);
    parse_ok("a\nx\n", 4, TABLE_AUTO, &t);
    assert_string_equal(table_cell(&t, 0, 0), "x");
    table_free(&t);

    struct err e;
    err_clear(&e);
    assert_int_equal(table_read_file("fixtures/small.csv", TABLE_AUTO, NULL, &t, &e), 0);
    assert_int_equal(t.n_rows, 2);
    assert_string_equal(table_cell(&t, 0, 1), "hello, world");
    assert_string_equal(table_cell(&t, 1, 1), "multi\r\nline \"quoted\"");
    assert_string_equal(table_cell(&t, 1, 2), "neg");
    table_free(&t);

    assert_int_equal(table_read_file("fixtures/small.jsonl", TABLE_AUTO, NULL, &t, &e), 0);
    assert_int_equal(t.n_rows, 2);
    assert_int_equal(t.n_cols, 4);
    assert_string_equal(table_cell(&t, 1, 3), "true");
    assert_int_equal(t.lines[1], 3);
    table_free(&t);

    /* a JSONL file read as CSV still parses; the format decides */
    assert_int_equal(table_read_file("fixtures/small.jsonl", TABLE_CSV, NULL, &t, &e), -1);
    assert_non_null(strstr(e.msg, "fixtures/small.jsonl: line"));
    table_free(&t);

    assert_int_equal(table_read_file("fixtures/missing.csv", TABLE_AUTO, NULL, &t, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    assert_string_equal(e.msg, "cannot read 'fixtures/missing.csv': No such file or directory");
    assert_int_equal(table_read_file("fixtures", TABLE_CSV, NULL, &t, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    assert_int_equal(table_read_file("fixtures/boucle_test.yaml", TABLE_AUTO, NULL, &t, &e), -1);
    assert_int_equal(e.code, ERR_USAGE);

    enum table_format f;
    assert_int_equal(table_parse_format("csv", &f), 0);
    assert_int_equal(f, TABLE_CSV);
    assert_int_equal(table_parse_format("jsonl", &f), 0);
    assert_int_equal(f, TABLE_JSONL);
    assert_int_equal(table_parse_format("ndjson", &f), 0);
    assert_int_equal(f, TABLE_JSONL);
    assert_int_equal(table_parse_format("xlsx", &f), -1);
}

/* A larger generated file: many rows, a quoted field per row, no surprises. */
static void test_csv_many_rows(void **state)
{
    (void)state;
    char *data = malloc(64 * 20000);
    size_t len = (size_t)sprintf(data, "id,text,label\n");
    for (int i = 0; i < 20000; i++)
        len += (size_t)sprintf(data + len, "%d,\"row %d, \"\"q\"\"\nnext\",l%d\r\n", i, i, i % 3);
    struct table t;
    parse_ok(data, len, TABLE_CSV, &t);
    assert_int_equal(t.n_rows, 20000);
    assert_string_equal(table_cell(&t, 19999, 1), "row 19999, \"q\"\nnext");
    assert_string_equal(table_cell(&t, 19999, 2), "l1");
    assert_int_equal(t.lines[19999], 2 + 2 * 19999);
    table_free(&t);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_basic),           cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_bom_and_endings), cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_limits),          cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_jsonl_errors),        cmocka_unit_test(test_auto_and_files),
        cmocka_unit_test(test_csv_many_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
