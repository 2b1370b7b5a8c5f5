/* Unit tests for serve/access_log: every line is valid JSON whatever the
 * client sent, paths are cut on a character boundary, records are written by
 * the writer thread, dropped (and counted) when the ring is full, and the
 * file is followed when log rotation moves it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/timeutil.h"
#include "serve/access_log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *format_parse(const struct access_record *rec)
{
    struct buf out;
    buf_init(&out);
    access_record_format(rec, &out);
    assert_true(out.len > 0 && out.data[out.len - 1] == '\n');
    assert_null(memchr(out.data, '\n', out.len - 1)); /* one line */
    json_error_t je;
    json_t *doc = json_loadb(out.data, out.len, 0, &je);
    if (!doc) fail_msg("not JSON (%s): %.*s", je.text, (int)out.len, out.data);
    buf_free(&out);
    return doc;
}

static void sample(struct access_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->time_ms = 1795000000123LL;
    rec->latency_us = 1234;
    rec->bytes_in = 17;
    rec->bytes_out = 180;
    rec->status = 200;
    rec->route = "/v1/tasks/{task}/predict";
    rec->task = "sentiment";
    rec->token = "app";
    rec->outcome = "ok";
    rec->has_addr = 1;
    rec->addr[10] = rec->addr[11] = 0xff;
    rec->addr[12] = 127;
    rec->addr[15] = 1;
    strcpy(rec->method, "POST");
    strcpy(rec->request_id, "abc-1");
    access_record_set_path(rec, "/v1/tasks/sentiment/predict");
}

static void test_format(void **state)
{
    (void)state;
    struct access_record rec;
    sample(&rec);
    json_t *d = format_parse(&rec);
    assert_string_equal(json_string_value(json_object_get(d, "time")), "2026-11-18T11:06:40.123Z");
    assert_string_equal(json_string_value(json_object_get(d, "client")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(d, "route")), "/v1/tasks/{task}/predict");
    assert_string_equal(json_string_value(json_object_get(d, "path")),
                        "/v1/tasks/sentiment/predict");
    assert_int_equal(json_integer_value(json_object_get(d, "status")), 200);
    assert_true(json_real_value(json_object_get(d, "latency_ms")) == 1.234);
    assert_int_equal(json_integer_value(json_object_get(d, "bytes_out")), 180);
    assert_string_equal(json_string_value(json_object_get(d, "token")), "app");
    assert_true(json_is_null(json_object_get(d, "error")));
    assert_null(json_object_get(d, "path_cut"));
    json_decref(d);

    /* what a client controls cannot break the line */
    rec.token = NULL;
    rec.has_addr = 1;
    memset(rec.addr, 0, 16);
    rec.addr[15] = 1; /* ::1 */
    strcpy(rec.method, "G\"T");
    strcpy(rec.request_id, "x\\\"}");
    access_record_set_path(&rec, "/a\nb\x01\"\\\xff\xfe");
    d = format_parse(&rec);
    assert_string_equal(json_string_value(json_object_get(d, "client")), "::1");
    assert_string_equal(json_string_value(json_object_get(d, "method")), "G\"T");
    assert_string_equal(json_string_value(json_object_get(d, "request_id")), "x\\\"}");
    assert_string_equal(json_string_value(json_object_get(d, "path")),
                        "/a\nb\x01\"\\\xc3\xbf\xc3\xbe"); /* bytes as code points */
    assert_true(json_is_null(json_object_get(d, "token")));
    json_decref(d);
}

static void test_long_path_is_cut_on_a_character(void **state)
{
    (void)state;
    struct access_record rec;
    sample(&rec);
    char path[ACCESS_PATH_MAX + 64];
    memset(path, 'a', ACCESS_PATH_MAX - 1);
    strcpy(path + ACCESS_PATH_MAX - 1, "\xc3\xa9tail"); /* é straddles the cut */
    access_record_set_path(&rec, path);
    assert_int_equal(rec.path_cut, 1);
    assert_int_equal(strlen(rec.path), ACCESS_PATH_MAX - 1);
    json_t *d = format_parse(&rec);
    assert_true(json_is_true(json_object_get(d, "path_cut")));
    json_decref(d);
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = 0;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *d = json_loads(line, 0, &je);
        assert_non_null(d);
        json_decref(d);
        n++;
    }
    fclose(f);
    return n;
}

static void test_writer_drops_and_rotation(void **state)
{
    (void)state;
    char dir[] = "/tmp/boucle-accesslog-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], moved[128];
    snprintf(path, sizeof path, "%s/access.log", dir);
    snprintf(moved, sizeof moved, "%s/access.log.1", dir);
    struct err e;
    err_clear(&e);
    assert_null(access_log_start("/nonexistent-dir/x.log", 8, &e));
    assert_non_null(strstr(e.msg, "access_log: cannot open '/nonexistent-dir/x.log'"));

    struct access_log *a = access_log_start(path, 4, &e);
    assert_non_null(a);
    struct access_record rec;
    sample(&rec);
    enum { N = 20000 };
    for (int i = 0; i < N; i++)
        access_log_write(a, &rec); /* far faster than a writer that naps: many are dropped */
    uint64_t written = 0, dropped = 0;
    for (int wait = 0; wait < 200 && written + dropped < N; wait++) {
        time_sleep_ms(10); /* the writer takes the last few */
        access_log_stats(a, &written, &dropped);
    }
    assert_int_equal(written + dropped, N);
    assert_true(dropped > 0);
    assert_int_equal(count_lines(path), written);

    /* rotation: the file is moved away; new lines go to a new file at the path */
    assert_int_equal(rename(path, moved), 0);
    time_sleep_ms(1300);
    access_log_write(a, &rec);
    access_log_stop(a);
    assert_int_equal(count_lines(moved), written);
    assert_int_equal(count_lines(path), 1);
    unlink(path);
    unlink(moved);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_long_path_is_cut_on_a_character),
        cmocka_unit_test(test_writer_drops_and_rotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
