/* Unit tests for serve/request_id: a client's id is kept when valid, refused
 * with a reason otherwise, and a new one is made when none is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ids.h"
#include "serve/request_id.h"

#include <string.h>

static void test_ids(void **state)
{
    (void)state;
    assert_int_equal(ids_init(), 0);
    char id[REQUEST_ID_MAX + 1], why[160] = "";
    assert_int_equal(request_id_take(NULL, id, why, sizeof why), 0);
    assert_true(uuid_is_valid(id));
    char other[REQUEST_ID_MAX + 1];
    assert_int_equal(request_id_take(NULL, other, why, sizeof why), 0);
    assert_string_not_equal(id, other);

    assert_int_equal(request_id_take("trace-42:abc/def", id, why, sizeof why), 0);
    assert_string_equal(id, "trace-42:abc/def");
    char longest[REQUEST_ID_MAX + 2];
    memset(longest, 'x', REQUEST_ID_MAX);
    longest[REQUEST_ID_MAX] = '\0';
    assert_int_equal(request_id_take(longest, id, why, sizeof why), 0);
    assert_string_equal(id, longest);

    longest[REQUEST_ID_MAX] = 'x';
    longest[REQUEST_ID_MAX + 1] = '\0';
    assert_int_equal(request_id_take(longest, id, why, sizeof why), -1);
    assert_string_equal(why, "X-Request-Id must be 1 to 128 visible ASCII characters; it is too "
                             "long (129 bytes)");
    assert_true(uuid_is_valid(id)); /* a fresh one for the answer and the log */
    assert_int_equal(request_id_take("a b", id, why, sizeof why), -1);
    assert_non_null(strstr(why, "a space, a control or a non-ASCII byte (3 bytes)"));
    assert_int_equal(request_id_take("caf\xc3\xa9", id, why, sizeof why), -1);
    assert_int_equal(request_id_take("", id, why, sizeof why), -1);
    assert_non_null(strstr(why, "it is empty"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_ids)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
