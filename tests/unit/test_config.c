/* Unit tests for base/config: values, defaults, and that every error names
 * the file, line and key path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(const char *yaml, struct config *c, struct err *e)
{
    err_clear(e);
    return config_load_string(yaml, strlen(yaml), "boucle.yaml", "/srv/app", c, e);
}

/* Loads yaml expecting failure; checks the message (exactly, or as a substring). */
static void expect_error(const char *yaml, const char *msg, int exact)
{
    struct config c;
    struct err e;
    assert_int_equal(load(yaml, &c, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    if (exact)
        assert_string_equal(e.msg, msg);
    else if (!strstr(e.msg, msg))
        fail_msg("'%s' not in '%s'", msg, e.msg);
    /* a failed load leaves nothing to free, and freeing again is harmless */
    assert_null(c.tasks);
    config_free(&c);
}

#define MINIMAL_TASK                                                                               \
    "tasks:\n"                                                                                     \
    "  sentiment:\n"                                                                               \
    "    type: multiclass\n"                                                                       \
    "    text: [text]\n"                                                                           \
    "    label: airline_sentiment\n"

static void test_full(void **state)
{
    (void)state;
    const char *yaml = "store: sqlite:db/boucle.db\n"
                       "listen: 0.0.0.0:9000\n"
                       "threads: 4\n"
                       "log: {level: debug, format: json}\n"
                       "limits: {max_body_bytes: 2048, max_batch: 8, max_field_bytes: 100, "
                       "max_import_bytes: 4096}\n"
                       "tasks:\n"
                       "  sentiment:\n"
                       "    type: multiclass\n"
                       "    text: [title, text]\n"
                       "    label: airline_sentiment\n"
                       "    test_fraction: 0.25\n"
                       "    model:\n"
                       "      kind: linear\n"
                       "      C: 0.5\n"
                       "      ngrams: \"1-2\"\n"
                       "  spam-2:\n"
                       "    type: binary\n"
                       "    text: body\n"
                       "    label: label\n";
    struct config c;
    struct err e;
    assert_int_equal(load(yaml, &c, &e), 0);
    assert_string_equal(c.path, "boucle.yaml");
    assert_string_equal(c.store_url, "sqlite:/srv/app/db/boucle.db");
    assert_string_equal(c.listen, "0.0.0.0:9000");
    assert_int_equal(c.threads, 4);
    assert_string_equal(c.log_level, "debug");
    assert_string_equal(c.log_format, "json");
    assert_int_equal(c.limits.max_body_bytes, 2048);
    assert_int_equal(c.limits.max_batch, 8);
    assert_int_equal(c.limits.max_field_bytes, 100);
    assert_int_equal(c.limits.max_import_bytes, 4096);
    assert_int_equal(c.n_tasks, 2);

    const struct task_config *t = config_task(&c, "sentiment");
    assert_non_null(t);
    assert_int_equal(t->line, 7);
    assert_int_equal(t->type, TASK_MULTICLASS);
    assert_int_equal(t->n_text_fields, 2);
    assert_string_equal(t->text_fields[0], "title");
    assert_string_equal(t->text_fields[1], "text");
    assert_string_equal(t->label, "airline_sentiment");
    assert_true(t->test_fraction == 0.25);
    assert_string_equal(t->model_kind, "linear");
    assert_int_equal(t->n_model_params, 2);
    assert_string_equal(t->model_params[0].key, "C");
    assert_string_equal(t->model_params[0].value, "0.5");
    assert_int_equal(t->model_params[0].line, 14);
    assert_string_equal(t->model_params[1].key, "ngrams");
    assert_string_equal(t->model_params[1].value, "1-2");
    assert_int_equal(t->model_params[1].line, 15);

    t = config_task(&c, "spam-2");
    assert_non_null(t);
    assert_int_equal(t->type, TASK_BINARY);
    assert_int_equal(t->n_text_fields, 1); /* a single string is a list of one */
    assert_string_equal(t->text_fields[0], "body");
    assert_null(config_task(&c, "nope"));
    config_free(&c);
}

static void test_defaults(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    assert_int_equal(load(MINIMAL_TASK, &c, &e), 0);
    assert_string_equal(c.store_url, "sqlite:/srv/app/boucle.db");
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_int_equal(c.threads, 0);
    assert_string_equal(c.log_level, "info");
    assert_string_equal(c.log_format, "text");
    assert_int_equal(c.limits.max_body_bytes, 1048576);
    assert_int_equal(c.limits.max_batch, 256);
    assert_int_equal(c.limits.max_field_bytes, 65536);
    assert_int_equal(c.limits.max_import_bytes, 64 * 1024 * 1024);
    assert_true(c.tasks[0].test_fraction == 0.2);
    assert_string_equal(c.tasks[0].model_kind, "linear");
    assert_int_equal(c.tasks[0].n_model_params, 0);
    config_free(&c);
}

static void test_store_urls(void **state)
{
    (void)state;
    static const struct {
        const char *store, *want;
    } cases[] = {
        {"postgres://u:p@db:5432/boucle", "postgres://u:p@db:5432/boucle"},
        {"postgresql://db/boucle?sslmode=require", "postgresql://db/boucle?sslmode=require"},
        {"sqlite:/var/lib/boucle.db", "sqlite:/var/lib/boucle.db"},
        {"sqlite::memory:", "sqlite::memory:"},
        {"sqlite:../x.db", "sqlite:/srv/app/../x.db"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "store: \"%s\"\n" MINIMAL_TASK, cases[i].store);
        struct config c;
        struct err e;
        assert_int_equal(load(yaml, &c, &e), 0);
        assert_string_equal(c.store_url, cases[i].want);
        config_free(&c);
    }
    expect_error("store: mysql://x\n" MINIMAL_TASK,
                 "boucle.yaml:1: store: expected 'sqlite:PATH' or 'postgres://...', got "
                 "'mysql://x'",
                 1);
}

static void test_unknown_key(void **state)
{
    (void)state;
    expect_error("# comment\n"
                 "listen: 127.0.0.1:8080\n"
                 "tasks:\n"
                 "  sentiment:\n"
                 "    type: multiclass\n"
                 "    text: [text]\n"
                 "    typo: 1\n"
                 "    label: airline_sentiment\n",
                 "boucle.yaml:7: tasks.sentiment.typo: unknown key", 1);
    expect_error("lisen: x\n" MINIMAL_TASK, "boucle.yaml:1: lisen: unknown key", 1);
    expect_error("log: {level: info, colour: red}\n" MINIMAL_TASK,
                 "boucle.yaml:1: log.colour: unknown key", 1);
    expect_error("limits:\n  max_rows: 3\n" MINIMAL_TASK,
                 "boucle.yaml:2: limits.max_rows: unknown key", 1);
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error("tasks:\n"
                 "  sentiment:\n"
                 "    text: [text]\n"
                 "    label: airline_sentiment\n"
                 "    type: foo\n",
                 "boucle.yaml:5: tasks.sentiment.type: expected one of binary, multiclass, "
                 "multilabel, got 'foo'",
                 1);
    expect_error("threads: -1\n" MINIMAL_TASK,
                 "boucle.yaml:1: threads: expected an integer >= 0, got '-1'", 1);
    expect_error("threads: many\n" MINIMAL_TASK, "boucle.yaml:1: threads: expected an integer", 0);
    expect_error("threads: [1]\n" MINIMAL_TASK,
                 "boucle.yaml:1: threads: expected a scalar, got a list", 1);
    expect_error("limits: {max_batch: 0}\n" MINIMAL_TASK,
                 "boucle.yaml:1: limits.max_batch: expected an integer >= 1, got '0'", 1);
    expect_error("limits: 5\n" MINIMAL_TASK,
                 "boucle.yaml:1: limits: expected a mapping, got a scalar", 1);
    expect_error("log: {level: loud}\n" MINIMAL_TASK,
                 "boucle.yaml:1: log.level: expected one of debug, info, warn, error, got 'loud'",
                 1);
    expect_error("log: {format: xml}\n" MINIMAL_TASK, "log.format: expected one of text, json", 0);
    expect_error("listen: 8080\n" MINIMAL_TASK,
                 "boucle.yaml:1: listen: expected HOST:PORT, got '8080'", 1);
    expect_error("listen: \"localhost:99999\"\n" MINIMAL_TASK, "listen: expected HOST:PORT", 0);
    expect_error(MINIMAL_TASK "    test_fraction: 1.5\n",
                 "boucle.yaml:6: tasks.sentiment.test_fraction: expected a number between 0 and 1",
                 0);
    expect_error(MINIMAL_TASK "    test_fraction: 0\n", "tasks.sentiment.test_fraction", 0);
    expect_error(MINIMAL_TASK "    model: linear\n",
                 "boucle.yaml:6: tasks.sentiment.model: expected a mapping, got a scalar", 1);
    expect_error(MINIMAL_TASK "    model: {C: 1}\n",
                 "boucle.yaml:6: tasks.sentiment.model: missing required key 'kind'", 1);
    expect_error(MINIMAL_TASK "    model:\n      kind: linear\n      grid:\n        C: [1, 2]\n",
                 "boucle.yaml:9: tasks.sentiment.model.grid: expected a scalar value, got a "
                 "mapping",
                 1);
    expect_error("tasks:\n  t:\n    type: binary\n    text: []\n    label: y\n",
                 "boucle.yaml:4: tasks.t.text: expected at least one field name", 1);
    expect_error("tasks:\n  t:\n    type: binary\n    text: [a, {b: 1}]\n    label: y\n",
                 "tasks.t.text: expected a scalar, got a mapping", 0);
    expect_error("tasks:\n  t:\n    type: binary\n    text: [a, a]\n    label: y\n",
                 "tasks.t.text: field 'a' listed twice", 0);
    expect_error("tasks:\n  t:\n    type: binary\n    text: [a]\n    label: a\n",
                 "column 'a' is both a text field and the label", 0);
    expect_error("tasks:\n  t:\n    type: binary\n    text: [a]\n    label: \"\"\n",
                 "boucle.yaml:5: tasks.t.label: expected a non-empty string", 1);
}

static void test_missing_required(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    const char *yaml = "tasks:\n"
                       "  sentiment:\n"
                       "    type: multiclass\n"
                       "    text: [text]\n";
    assert_int_equal(load(yaml, &c, &e), -1);
    assert_string_equal(e.msg, "boucle.yaml:2: tasks.sentiment: missing required key 'label'");
    assert_string_equal(e.field, "tasks.sentiment.label");
    expect_error("tasks:\n  s:\n    label: y\n    text: x\n",
                 "tasks.s: missing required key 'type'", 0);
    expect_error("tasks:\n  s:\n    label: y\n    type: binary\n",
                 "tasks.s: missing required key 'text'", 0);
}

static void test_tasks_required(void **state)
{
    (void)state;
    expect_error("listen: 127.0.0.1:1\n", "at least one task required", 0);
    expect_error("tasks:\n", "boucle.yaml:1: tasks: at least one task required", 1);
    expect_error("tasks: {}\n", "boucle.yaml:1: tasks: at least one task required", 1);
    expect_error("", "at least one task required", 0);
    expect_error("- a\n- b\n", "boucle.yaml:1: expected a mapping at the top, got a list", 1);
    expect_error("tasks:\n  \"bad name\":\n    type: binary\n",
                 "boucle.yaml:2: tasks.bad name: invalid task name", 0);
    expect_error("listen: a:1\nlisten: b:2\n" MINIMAL_TASK, "boucle.yaml:2: listen: duplicate key",
                 1);
}

static void test_bad_yaml(void **state)
{
    (void)state;
    expect_error("listen: 127.0.0.1:8080\n"
                 "tasks:\n"
                 "  s:\n"
                 "    type: [binary\n"
                 "    text: x\n",
                 "invalid YAML", 0);
    struct config c;
    struct err e;
    /* the scanner stops at line 3, where the unexpected indentation is */
    assert_int_equal(load("listen: x:1\n  tasks: 1\n foo: [\n", &c, &e), -1);
    assert_true(strncmp(e.msg, "boucle.yaml:2: invalid YAML: ", 29) == 0 ||
                strncmp(e.msg, "boucle.yaml:3: invalid YAML: ", 29) == 0);
    assert_int_equal(load("a: 'unterminated\n", &c, &e), -1);
    assert_non_null(strstr(e.msg, "boucle.yaml:"));
    assert_non_null(strstr(e.msg, "invalid YAML"));
    expect_error(MINIMAL_TASK "---\nlisten: a:1\n", "boucle.yaml:7: only one YAML document", 0);
}

static void test_files(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    err_clear(&e);
    assert_int_equal(config_load("nope.yaml", &c, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    assert_string_equal(e.msg, "cannot read config 'nope.yaml': No such file or directory");
    config_free(&c);

    /* tests run with cwd tests/unit: relative paths resolve against fixtures/ */
    assert_int_equal(config_load("fixtures/boucle_test.yaml", &c, &e), 0);
    char *real = realpath("fixtures", NULL);
    assert_non_null(real);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "sqlite:%s/data/boucle.db", real);
    assert_string_equal(c.store_url, want);
    assert_string_equal(c.dir, real);
    assert_string_equal(c.path, "fixtures/boucle_test.yaml");
    assert_int_equal(c.tasks[0].type, TASK_MULTILABEL);
    free(real);
    config_free(&c);
}

/* label_separator: "|" unless set, 1 to 8 bytes, and only where there are
 * label sets to separate. */
static void test_label_separator(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    const char *yaml = "tasks:\n"
                       "  tags:\n"
                       "    type: multilabel\n"
                       "    text: [body]\n"
                       "    label: tags\n"
                       "  tags2:\n"
                       "    label_separator: \", \"\n"
                       "    type: multilabel\n"
                       "    text: [body]\n"
                       "    label: tags\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    assert_string_equal(c.tasks[0].label_separator, "|");
    assert_string_equal(c.tasks[1].label_separator, ", ");
    config_free(&c);
    expect_error(MINIMAL_TASK "    label_separator: \";\"\n",
                 "boucle.yaml:6: tasks.sentiment.label_separator: only a multilabel task has label "
                 "sets to separate (this task is multiclass)",
                 1);
    expect_error("tasks:\n  t:\n    type: multilabel\n    text: [a]\n    label: y\n"
                 "    label_separator: \"\"\n",
                 "boucle.yaml:6: tasks.t.label_separator: expected 1 to 8 bytes", 0);
    expect_error("tasks:\n  t:\n    type: multilabel\n    text: [a]\n    label: y\n"
                 "    label_separator: \"123456789\"\n",
                 "tasks.t.label_separator: expected 1 to 8 bytes", 0);
    expect_error("tasks:\n  t:\n    type: multilabel\n    text: [a]\n    label: y\n"
                 "    label_separator: [a]\n",
                 "tasks.t.label_separator: expected a scalar, got a list", 0);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(task_type_name(TASK_BINARY), "binary");
    assert_string_equal(task_type_name(TASK_MULTICLASS), "multiclass");
    assert_string_equal(task_type_name(TASK_MULTILABEL), "multilabel");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_store_urls),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_tasks_required),
        cmocka_unit_test(test_bad_yaml),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_label_separator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
