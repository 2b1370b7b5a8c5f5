/* Unit tests for the serving keys of base/config (config_serve.c and the
 * token rates of config_auth.c): values, defaults, and errors that name the
 * file, the line and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/config.h"

#include <string.h>

#define TASK "tasks: {t: {type: binary, text: [text], label: y}}\n"
#define HASH "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static int load_serve(const char *yaml, struct config *c, struct err *e)
{
    err_clear(e);
    return config_load_string(yaml, strlen(yaml), "boucle.yaml", "/srv/app", c, e);
}

static void refused(const char *yaml, const char *msg)
{
    struct config c;
    struct err e;
    assert_int_equal(load_serve(yaml, &c, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    if (strcmp(e.msg, msg) != 0) fail_msg("expected '%s', got '%s'", msg, e.msg);
    config_free(&c);
}

static void test_defaults(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    assert_int_equal(load_serve(TASK, &c, &e), 0);
    assert_int_equal(c.limits.max_connections, 0); /* chosen at start */
    assert_true(c.limits.rate == 0);
    assert_int_equal(c.limits.burst, 0);
    assert_int_equal(c.limits.request_timeout_ms, 30000);
    assert_null(c.access_log);
    config_free(&c);
}

static void test_values(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    const char *yaml =
        "limits: {max_connections: 64, rate: 2.5, request_timeout: 5s}\n"
        "access_log: logs/access.jsonl\n"
        "auth:\n"
        "  tokens:\n"
        "    - {name: a, sha256: " HASH ", scopes: [predict], rate: 0.5}\n"
        "    - {name: b, sha256: "
        "0000000000000000000000000000000000000000000000000000000000000000, scopes: [admin], "
        "rate: 100, burst: 7}\n"
        "    - {name: c, sha256: "
        "1111111111111111111111111111111111111111111111111111111111111111, scopes: [admin]}\n" TASK;
    assert_int_equal(load_serve(yaml, &c, &e), 0);
    assert_int_equal(c.limits.max_connections, 64);
    assert_true(c.limits.rate == 2.5);
    assert_int_equal(c.limits.burst, 3); /* the rate rounded up */
    assert_int_equal(c.limits.request_timeout_ms, 5000);
    assert_string_equal(c.access_log, "/srv/app/logs/access.jsonl");
    assert_true(c.auth.tokens[0].has_rate && c.auth.tokens[0].rate == 0.5);
    assert_int_equal(c.auth.tokens[0].burst, 1);
    assert_int_equal(c.auth.tokens[1].burst, 7);
    assert_false(c.auth.tokens[2].has_rate); /* follows limits.rate */
    config_free(&c);

    assert_int_equal(load_serve("access_log: stderr\n" TASK, &c, &e), 0);
    assert_string_equal(c.access_log, "stderr");
    config_free(&c);
    assert_int_equal(load_serve("access_log: /var/log/b.log\n" TASK, &c, &e), 0);
    assert_string_equal(c.access_log, "/var/log/b.log");
    config_free(&c);
    assert_int_equal(load_serve("access_log: off\n" TASK, &c, &e), 0);
    assert_null(c.access_log);
    config_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    refused("limits: {max_connections: 0}\n" TASK,
            "boucle.yaml:1: limits.max_connections: expected an integer >= 1, got '0'");
    refused("limits:\n  rate: -1\n" TASK,
            "boucle.yaml:2: limits.rate: expected a number in [0, 1e+06], got '-1'");
    refused("limits: {rate: 0.0001}\n" TASK,
            "boucle.yaml:1: limits.rate: expected 0 (no limit) or at least 0.001 requests/s, got "
            "'0.0001'");
    refused("limits:\n  rate: 10\n  burst: 0\n" TASK,
            "boucle.yaml:3: limits.burst: expected an integer >= 1, got '0'");
    refused("limits: {burst: 5}\n" TASK,
            "boucle.yaml: limits.burst: set limits.rate too (a burst without a rate limits "
            "nothing)");
    refused("limits: {request_timeout: 500ms}\n" TASK,
            "boucle.yaml:1: limits.request_timeout: expected a duration of at least 1000ms, got "
            "'500ms'");
    refused("limits: {request_timeout: soon}\n" TASK,
            "boucle.yaml:1: limits.request_timeout: expected a duration like 500ms, 10s, 30m, 2h, "
            "7d or a number of seconds, got 'soon'");
    refused("limits: {max_conections: 5}\n" TASK,
            "boucle.yaml:1: limits.max_conections: unknown key");
    refused("access_log: yes\n" TASK, "boucle.yaml:1: access_log: expected stderr, a file path or "
                                      "off, got 'yes' (the log needs a destination)");
    refused("access_log: [a]\n" TASK, "boucle.yaml:1: access_log: expected a scalar, got a list");
    refused("auth:\n  tokens:\n    - {name: a, sha256: " HASH
            ", scopes: [predict], burst: 3}\n" TASK,
            "boucle.yaml:3: auth.tokens[0].burst: set its rate too (a burst without a rate "
            "limits nothing)");
    refused("auth:\n  tokens:\n    - {name: a, sha256: " HASH
            ", scopes: [predict], rate: x}\n" TASK,
            "boucle.yaml:3: auth.tokens[0].rate: expected a number in [0, 1e+06], got 'x'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
