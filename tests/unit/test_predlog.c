/* The prediction log writer against a real SQLite store: concurrent
 * producers, flush, copying of the caller's strings, back-pressure (drops)
 * and stop writing what is still queued. Run under ASan and TSan too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "serve/predlog.h"
#include "store/store.h"

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fx {
    char dir[64];
    char path[128];
    char url[160];
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/boucle-predlog-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/boucle.db", f->dir);
    snprintf(f->url, sizeof f->url, "sqlite:%s", f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *ent;
    while (d && (ent = readdir(d))) {
        if (ent->d_name[0] == '.') continue;
        char p[400];
        snprintf(p, sizeof p, "%s/%s", f->dir, ent->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct predlog *start(const struct fx *f, size_t max_pending)
{
    struct err e = {0};
    struct predlog *p = predlog_start(f->url, max_pending, &e);
    if (!p) fail_msg("predlog_start: %s", e.msg);
    return p;
}

static struct store *open_store(const struct fx *f)
{
    struct err e = {0};
    struct store *s = store_open(f->url, &e);
    if (!s) fail_msg("store_open: %s", e.msg);
    return s;
}

static int present(struct store *s, const char *id)
{
    struct err e = {0};
    json_t *j = store_prediction_get(s, id, &e);
    if (!j) {
        if (e.code != ERR_NOT_FOUND) fail_msg("store_prediction_get(%s): %s", id, e.msg);
        return 0;
    }
    json_decref(j);
    return 1;
}

static struct store_prediction rec(const char *id, int64_t version)
{
    return (struct store_prediction){id,      "tickets",
                                     version, "{\"text\":\"printer on fire\"}",
                                     "bug",   "{\"label\":\"bug\"}",
                                     120,     1700000000000,
                                     0,       NULL};
}

/* ---- concurrent producers ---------------------------------------------- */

enum { PRODUCERS = 4, PER_PRODUCER = 5000 };
static char ids[PRODUCERS * PER_PRODUCER][UUID_STR_LEN];

struct producer {
    struct predlog *log;
    int index;
};

static void *producer_main(void *arg)
{
    struct producer *pr = arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        struct store_prediction r = rec(ids[pr->index * PER_PRODUCER + i], pr->index + 1);
        predlog_enqueue(pr->log, &r);
        /* an occasional flush from a request thread, as feedback does */
        if (i % 1500 == 1499) predlog_flush(pr->log);
    }
    return NULL;
}

static void test_concurrent_producers_all_written(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < PRODUCERS * PER_PRODUCER; i++)
        uuid_v4(ids[i]);
    struct predlog *log = start(f, 0);
    pthread_t th[PRODUCERS];
    struct producer pr[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        pr[i] = (struct producer){log, i};
        assert_int_equal(pthread_create(&th[i], NULL, producer_main, &pr[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
    predlog_flush(log);

    struct predlog_stats st;
    predlog_get_stats(log, &st);
    assert_int_equal(st.enqueued, PRODUCERS * PER_PRODUCER);
    assert_int_equal(st.written, PRODUCERS * PER_PRODUCER);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.failed_batches, 0);
    assert_int_equal(st.pending, 0);
    assert_true(st.last_flush_seconds >= 0 && st.last_flush_seconds < 10);

    /* readable right away, through another connection, while the writer
     * still runs */
    struct store *s = open_store(f);
    long missing = 0;
    for (size_t i = 0; i < PRODUCERS * PER_PRODUCER; i++)
        if (!present(s, ids[i])) missing++;
    assert_int_equal(missing, 0);
    /* each row is the one its producer wrote */
    struct err e = {0};
    for (int t = 0; t < PRODUCERS; t++) {
        json_t *j = store_prediction_get(s, ids[t * PER_PRODUCER + 1234], &e);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "model_version")), t + 1);
        assert_string_equal(json_string_value(json_object_get(j, "task")), "tickets");
        json_decref(j);
    }
    store_close(s);
    predlog_stop(log);
}

/* ---- flush and copying -------------------------------------------------- */

static void test_flush_makes_one_record_readable(void **state)
{
    struct fx *f = *state;
    struct predlog *log = start(f, 0);
    struct store *s = open_store(f);
    for (int round = 0; round < 20; round++) {
        char id[UUID_STR_LEN];
        uuid_v4(id);
        struct store_prediction r = rec(id, round);
        r.latency_us = 1000 + round;
        predlog_enqueue(log, &r);
        predlog_flush(log); /* no waiting for the writer's timer */
        struct err e = {0};
        json_t *j = store_prediction_get(s, id, &e);
        if (!j) fail_msg("round %d: not readable after flush: %s", round, e.msg);
        assert_string_equal(json_string_value(json_object_get(j, "id")), id);
        assert_int_equal(json_integer_value(json_object_get(j, "model_version")), round);
        assert_int_equal(json_integer_value(json_object_get(j, "latency_us")), 1000 + round);
        assert_string_equal(json_string_value(json_object_get(j, "label")), "bug");
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "input"), "text")),
                            "printer on fire");
        json_decref(j);
    }
    /* a flush with nothing queued returns too */
    predlog_flush(log);
    predlog_flush(log);
    struct predlog_stats st;
    predlog_get_stats(log, &st);
    assert_int_equal(st.written, 20);
    assert_int_equal(st.pending, 0);
    store_close(s);
    predlog_stop(log);
}

static void test_strings_are_copied(void **state)
{
    struct fx *f = *state;
    struct predlog *log = start(f, 0);
    char id[UUID_STR_LEN], task[16], input[64], label[16], output[64];
    uuid_v4(id);
    char keep_id[UUID_STR_LEN];
    memcpy(keep_id, id, sizeof id);
    snprintf(task, sizeof task, "spam");
    snprintf(input, sizeof input, "{\"text\":\"win money\"}");
    snprintf(label, sizeof label, "spam");
    snprintf(output, sizeof output, "{\"label\":\"spam\"}");
    struct store_prediction r = {id, task, 7, input, label, output, 5, 1700000000000, 0, NULL};
    predlog_enqueue(log, &r);
    /* the request's buffers are reused before the writer runs */
    memset(id, 'X', sizeof id - 1);
    memset(task, 'X', sizeof task - 1);
    memset(input, 'X', sizeof input - 1);
    memset(label, 'X', sizeof label - 1);
    memset(output, 'X', sizeof output - 1);
    predlog_flush(log);
    struct store *s = open_store(f);
    struct err e = {0};
    json_t *j = store_prediction_get(s, keep_id, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "task")), "spam");
    assert_string_equal(json_string_value(json_object_get(j, "label")), "spam");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "input"), "text")),
                        "win money");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "output"), "label")),
                        "spam");
    json_decref(j);
    store_close(s);
    predlog_stop(log);
}

/* ---- back-pressure ------------------------------------------------------ */

/* Another process holding the database's write lock stalls the writer
 * (its inserts wait on the busy timeout), so nothing is written and the
 * queue fills deterministically. */
static void test_full_queue_drops_and_counts(void **state)
{
    struct fx *f = *state;
    enum { MAX = 10, N = 25 };
    struct predlog *log = start(f, MAX);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    char rid[N][UUID_STR_LEN];
    for (int i = 0; i < N; i++) {
        uuid_v4(rid[i]);
        struct store_prediction r = rec(rid[i], 1);
        predlog_enqueue(log, &r); /* never blocks, even now */
    }
    struct predlog_stats st;
    predlog_get_stats(log, &st);
    assert_int_equal(st.enqueued, N);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.dropped, N - MAX);
    assert_int_equal(st.pending, MAX);

    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    predlog_flush(log);
    predlog_get_stats(log, &st);
    assert_int_equal(st.written, MAX);
    assert_int_equal(st.dropped, N - MAX);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.failed_batches, 0);

    /* the first MAX were kept, the rest dropped */
    struct store *s = open_store(f);
    for (int i = 0; i < N; i++)
        assert_int_equal(present(s, rid[i]), i < MAX);
    /* room again once written */
    char id[UUID_STR_LEN];
    uuid_v4(id);
    struct store_prediction r = rec(id, 2);
    predlog_enqueue(log, &r);
    predlog_flush(log);
    assert_true(present(s, id));
    predlog_get_stats(log, &st);
    assert_int_equal(st.dropped, N - MAX);
    store_close(s);
    predlog_stop(log);
}

/* ---- stop --------------------------------------------------------------- */

static void test_stop_writes_what_is_queued(void **state)
{
    struct fx *f = *state;
    enum { N = 1000 };
    static char sid[N][UUID_STR_LEN];
    struct predlog *log = start(f, 0);
    for (int i = 0; i < N; i++) {
        uuid_v4(sid[i]);
        struct store_prediction r = rec(sid[i], 3);
        predlog_enqueue(log, &r);
    }
    predlog_stop(log); /* right away: no flush, no wait for the timer */

    struct store *s = open_store(f);
    long missing = 0;
    for (int i = 0; i < N; i++)
        if (!present(s, sid[i])) missing++;
    assert_int_equal(missing, 0);
    store_close(s);
}

static void test_start_stop_idle_and_bad_url(void **state)
{
    struct fx *f = *state;
    /* an idle writer stops promptly and leaks nothing */
    struct predlog *log = start(f, 0);
    predlog_stop(log);
    predlog_stop(NULL);
    struct err e = {0};
    assert_null(predlog_start("nosuchscheme:/x", 0, &e));
    assert_int_not_equal(e.code, ERR_OK);
}

int main(void)
{
    ids_init();
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_producers_all_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_makes_one_record_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_are_copied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_drops_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_writes_what_is_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_stop_idle_and_bad_url, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
