/* Error values: setting, naming a field, prefixing context, truncation of
 * long messages without overflow, and the code -> exit status mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/err.h"

#include <string.h>

/* An err surrounded by guard bytes, to catch writes past its fields even
 * without ASan (the struct is not padded: ASan alone would not see an
 * overflow from msg into the guard). */
struct guarded {
    unsigned char before[64];
    struct err e;
    unsigned char after[64];
};

static void guard_init(struct guarded *g)
{
    memset(g, 0xa5, sizeof *g);
}

static void guard_check(const struct guarded *g)
{
    for (size_t i = 0; i < sizeof g->before; i++)
        assert_int_equal(g->before[i], 0xa5);
    for (size_t i = 0; i < sizeof g->after; i++)
        assert_int_equal(g->after[i], 0xa5);
}

static void test_clear_and_set(void **state)
{
    (void)state;
    struct err e;
    memset(&e, 0x7f, sizeof e);
    err_clear(&e);
    assert_int_equal(e.code, ERR_OK);
    assert_string_equal(e.field, "");
    assert_string_equal(e.msg, "");
    err_clear(NULL); /* tolerated */

    assert_int_equal(err_set(&e, ERR_INVALID, "line %d, column '%s': empty value", 12, "label"),
                     -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.msg, "line 12, column 'label': empty value");
    assert_string_equal(e.field, "");

    assert_int_equal(err_set_field(&e, ERR_NOT_FOUND, "task", "no task '%s'", "spam"), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "task");
    assert_string_equal(e.msg, "no task 'spam'");
    /* a later plain err_set clears the field */
    err_set(&e, ERR_IO, "disk full");
    assert_string_equal(e.field, "");
    assert_string_equal(e.msg, "disk full");
    err_set_field(&e, ERR_USAGE, NULL, "x");
    assert_string_equal(e.field, "");

    /* a NULL err is allowed (the caller does not care) and still says -1 */
    assert_int_equal(err_set(NULL, ERR_IO, "ignored %d", 1), -1);
    assert_int_equal(err_set_field(NULL, ERR_IO, "f", "ignored"), -1);
    assert_int_equal(err_prefix(NULL, "ctx"), -1);
}

static void test_long_messages_truncate(void **state)
{
    (void)state;
    char big[4000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char bigfield[300];
    memset(bigfield, 'f', sizeof bigfield - 1);
    bigfield[sizeof bigfield - 1] = '\0';

    struct guarded g;
    guard_init(&g);
    err_set(&g.e, ERR_LIMIT, "%s", big);
    guard_check(&g);
    assert_int_equal(g.e.code, ERR_LIMIT);
    assert_int_equal(strlen(g.e.msg), sizeof g.e.msg - 1);
    assert_int_equal(g.e.msg[0], 'm');

    guard_init(&g);
    err_set_field(&g.e, ERR_INVALID, bigfield, "%s%s", big, big);
    guard_check(&g);
    assert_int_equal(strlen(g.e.field), sizeof g.e.field - 1);
    assert_int_equal(strlen(g.e.msg), sizeof g.e.msg - 1);
    assert_memory_equal(g.e.field, bigfield, sizeof g.e.field - 1);
}

static void test_prefix(void **state)
{
    (void)state;
    struct err e;
    err_set_field(&e, ERR_CORRUPT, "weights", "checksum mismatch");
    assert_int_equal(err_prefix(&e, "loading model %d", 3), -1);
    assert_string_equal(e.msg, "loading model 3: checksum mismatch");
    assert_int_equal(e.code, ERR_CORRUPT); /* code and field are kept */
    assert_string_equal(e.field, "weights");
    err_prefix(&e, "deploy");
    assert_string_equal(e.msg, "deploy: loading model 3: checksum mismatch");

    /* prefixing an empty message */
    err_clear(&e);
    err_prefix(&e, "ctx");
    assert_string_equal(e.msg, "ctx: ");

    /* a message containing % is not re-interpreted as a format */
    err_set(&e, ERR_INVALID, "%s", "100%s sure %d");
    err_prefix(&e, "p");
    assert_string_equal(e.msg, "p: 100%s sure %d");
}

static void test_prefix_truncation(void **state)
{
    (void)state;
    char big[2000];
    memset(big, 'o', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char bigp[1000];
    memset(bigp, 'p', sizeof bigp - 1);
    bigp[sizeof bigp - 1] = '\0';

    /* a full message plus a prefix: the result is cut at the buffer size,
     * starts with the prefix and keeps the start of the old message */
    struct guarded g;
    guard_init(&g);
    err_set(&g.e, ERR_IO, "%s", big);
    err_prefix(&g.e, "reading %s", "x.csv");
    guard_check(&g);
    assert_int_equal(strlen(g.e.msg), sizeof g.e.msg - 1);
    assert_memory_equal(g.e.msg, "reading x.csv: ooo", 18);

    /* a huge prefix is capped so some of the old message survives */
    guard_init(&g);
    err_set(&g.e, ERR_IO, "the cause");
    err_prefix(&g.e, "%s", bigp);
    guard_check(&g);
    size_t n = strlen(g.e.msg);
    assert_true(n < sizeof g.e.msg);
    assert_non_null(strstr(g.e.msg, ": the cause"));
    assert_int_equal(g.e.msg[0], 'p');

    /* both huge, repeated many times: never past the end */
    guard_init(&g);
    err_set(&g.e, ERR_IO, "%s", big);
    for (int i = 0; i < 50; i++) {
        err_prefix(&g.e, "%s", bigp);
        guard_check(&g);
        assert_int_equal(strlen(g.e.msg), sizeof g.e.msg - 1);
    }
}

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(err_exit_code(ERR_OK), 0);
    assert_int_equal(err_exit_code(ERR_USAGE), 2);
    assert_int_equal(err_exit_code(ERR_INVALID), 3);
    assert_int_equal(err_exit_code(ERR_NOT_FOUND), 3);
    assert_int_equal(err_exit_code(ERR_LIMIT), 3);
    assert_int_equal(err_exit_code(ERR_CONFLICT), 1);
    assert_int_equal(err_exit_code(ERR_IO), 4);
    assert_int_equal(err_exit_code(ERR_CORRUPT), 4);
    assert_int_equal(err_exit_code(ERR_INTERNAL), 4);
    assert_int_equal(err_exit_code((enum err_code)99), 4); /* unknown = internal */
}

static void test_code_names(void **state)
{
    (void)state;
    assert_string_equal(err_code_name(ERR_OK), "ok");
    assert_string_equal(err_code_name(ERR_USAGE), "bad_request");
    assert_string_equal(err_code_name(ERR_INVALID), "invalid");
    assert_string_equal(err_code_name(ERR_NOT_FOUND), "not_found");
    assert_string_equal(err_code_name(ERR_CONFLICT), "conflict");
    assert_string_equal(err_code_name(ERR_LIMIT), "limit_exceeded");
    assert_string_equal(err_code_name(ERR_CORRUPT), "corrupt");
    assert_string_equal(err_code_name(ERR_IO), "io_error");
    assert_string_equal(err_code_name(ERR_INTERNAL), "internal");
    assert_string_equal(err_code_name((enum err_code)99), "internal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear_and_set), cmocka_unit_test(test_long_messages_truncate),
        cmocka_unit_test(test_prefix),        cmocka_unit_test(test_prefix_truncation),
        cmocka_unit_test(test_exit_codes),    cmocka_unit_test(test_code_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
