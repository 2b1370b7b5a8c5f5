/* Store tests of the data contract's schema (migration 8): each dataset
 * version's profile and contract check, stored and read back, the baseline
 * a new import is checked against, and a database from before the
 * migration. On SQLite, or PostgreSQL with BOUCLE_TEST_PG_URL
 * (store_test_backend.h; `make unit-pg`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "loop/contract.h"
#include "store/store.h"
#include "store_test_backend.h"

#include <stdlib.h>
#include <string.h>

static const struct store_example rows[] = {
    {"{\"text\":\"a\"}", "bug", 0, 2},
    {"{\"text\":\"b\"}", "feature", 1, 3},
};

static int64_t add(struct store *s, const char *task, const char *hash, const char *source,
                   const char *profile, const char *contract)
{
    struct store_dataset_meta meta = {profile, contract};
    struct err e = {0};
    int64_t id = 0;
    assert_int_equal(store_dataset_add_meta(s, task, hash, source, rows, 2, &meta, &id, &e), 0);
    return id;
}

static int64_t id_of(json_t *d)
{
    assert_non_null(d);
    return json_integer_value(json_object_get(d, "id"));
}

static void test_profile_stored_and_read(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    assert_null(store_dataset_get(f->s, "tickets", 0, 0, &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.msg, "task 'tickets' has no dataset");

    int64_t first = add(f->s, "tickets", "h1", "a.csv", "{\"rows\":2,\"labels\":[]}", NULL);
    json_t *d = store_dataset_get(f->s, "tickets", 0, 0, &e);
    assert_int_equal(id_of(d), first);
    assert_string_equal(json_string_value(json_object_get(d, "source")), "a.csv");
    assert_int_equal(json_integer_value(json_object_get(d, "rows")), 2);
    assert_int_equal(json_integer_value(json_object_get(d, "test_rows")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "profile"), "rows")), 2);
    assert_true(json_is_null(json_object_get(d, "contract")));
    json_decref(d);

    /* a version with its check recorded; the first one still read by id */
    int64_t second = add(f->s, "tickets", "h2", "b.csv", "{\"rows\":2}",
                         "{\"violations\":1,\"differences\":[{\"kind\":\"label_added\"}]}");
    d = store_dataset_get(f->s, "tickets", 0, 0, &e);
    assert_int_equal(id_of(d), second);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(d, "contract"), "violations")), 1);
    json_decref(d);
    d = store_dataset_get(f->s, "tickets", first, 0, &e);
    assert_int_equal(id_of(d), first);
    json_decref(d);
    assert_null(store_dataset_get(f->s, "spam", first, 0, &e)); /* another task's id */
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "id");
    assert_null(store_dataset_get(f->s, "tickets", -1, 0, &e));
    assert_int_equal(e.code, ERR_INVALID);

    /* a plain store_dataset_add keeps no profile */
    assert_int_equal(store_dataset_add(f->s, "tickets", "h3", "c.csv", rows, 2, NULL, &e), 0);
    d = store_dataset_get(f->s, "tickets", 0, 0, &e);
    assert_true(json_is_null(json_object_get(d, "profile")));
    json_decref(d);
}

static void test_baseline(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    assert_null(store_dataset_get(f->s, "tickets", 0, 1, &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.msg, "task 'tickets' has no dataset version with a profile");

    int64_t imported = add(f->s, "tickets", "h1", "a.csv", "{\"rows\":2}", NULL);
    add(f->s, "spam", "h1", "s.csv", "{\"rows\":2}", NULL);
    /* neither a version made from feedback nor one without a profile is a baseline */
    add(f->s, "tickets", "h2", "feedback:run-1", "{\"rows\":2}", NULL);
    add(f->s, "tickets", "h3", "b.csv", NULL, NULL);
    json_t *d = store_dataset_get(f->s, "tickets", 0, 1, &e);
    assert_int_equal(id_of(d), imported);
    json_decref(d);
    int64_t later = add(f->s, "tickets", "h4", "c.csv", "{\"rows\":2}", "{\"violations\":0}");
    d = store_dataset_get(f->s, "tickets", 0, 1, &e);
    assert_int_equal(id_of(d), later);
    json_decref(d);
}

/* A database migrated before the contract existed: its versions have no
 * profile, it migrates, and the next import starts the contract. Column
 * 8 is dropped and its migration forgotten, as an older binary left it. */
static void test_upgrade_from_7(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    store_close(f->s);
    test_db_int(&f->db, "ALTER TABLE datasets DROP COLUMN profile_json");
    test_db_int(&f->db, "ALTER TABLE datasets DROP COLUMN contract_json");
    test_db_int(&f->db, "DELETE FROM schema_migrations WHERE version = 8");
    test_db_int(&f->db, "INSERT INTO datasets(task, hash, source, n_rows, n_train, n_test,"
                        " created_ms) VALUES('tickets', 'old', 'old.csv', 2, 2, 0, 1)");
    f->s = store_open(f->db.url, &e);
    assert_non_null(f->s);
    assert_int_equal(store_schema_version(f->s), TEST_SCHEMA_VERSION);
    json_t *d = store_dataset_get(f->s, "tickets", 0, 0, &e);
    assert_string_equal(json_string_value(json_object_get(d, "hash")), "old");
    assert_true(json_is_null(json_object_get(d, "profile")));
    json_decref(d);
    assert_null(store_dataset_get(f->s, "tickets", 0, 1, &e));
    int64_t next = add(f->s, "tickets", "new", "new.csv", "{\"rows\":2}", NULL);
    d = store_dataset_get(f->s, "tickets", 0, 1, &e);
    assert_int_equal(id_of(d), next);
    json_decref(d);
}

/* A version made from feedback: profiled, its label set checked (a label
 * the baseline never had is recorded, never refused), nothing else. */
static void test_feedback_version(void **state)
{
    struct test_store *f = *state;
    static char *fields[] = {"text"};
    struct task_config task = {
        .name = "tickets", .text_fields = fields, .n_text_fields = 1, .label = "queue"};
    clean_config_defaults(&task.clean);
    task.contract = (struct contract_config){
        .on_violation = CONTRACT_REFUSE, .max_null_rate_increase = 0, .max_label_share_change = 0};
    struct store_dataset_meta meta;
    json_t *check;
    struct err why = {0};
    /* no baseline yet: a profile, no check */
    contract_feedback(f->s, &task, rows, 2, &meta, &check, &why);
    assert_non_null(meta.profile_json);
    assert_null(meta.contract_json);
    assert_null(check);
    add(f->s, "tickets", "h1", "a.csv", meta.profile_json, NULL);
    free((char *)meta.profile_json);

    const struct store_example gold[] = {{"{\"text\":null}", "billing", 0, 1}};
    contract_feedback(f->s, &task, gold, 1, &meta, &check, &why);
    assert_non_null(meta.profile_json);
    assert_non_null(strstr(meta.profile_json, "\"columns\":[{\"name\":\"queue\""));
    assert_string_equal(json_string_value(json_object_get(check, "scope")), "labels");
    /* only the new label counts: not the null text, the shares or the labels it lacks */
    assert_int_equal(json_integer_value(json_object_get(check, "violations")), 1);
    assert_int_equal(json_array_size(json_object_get(check, "differences")), 1);
    assert_non_null(strstr(meta.contract_json, "label 'billing' added (labels: same)"));
    json_decref(check);
    free((char *)meta.profile_json);
    free((char *)meta.contract_json);

    /* inputs that are not the task's (logged before a field was added): no profile, said why */
    const struct store_example old[] = {{"{\"subject\":\"x\"}", "bug", 0, 1}};
    contract_feedback(f->s, &task, old, 1, &meta, &check, &why);
    assert_null(meta.profile_json);
    assert_null(check);
    assert_non_null(strstr(why.msg, "row 1: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_profile_stored_and_read, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_baseline, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_7, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_feedback_version, test_store_setup,
                                        test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
