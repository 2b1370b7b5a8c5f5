/* The request thread's JSON scope (base/json_scope.c): inside it, jansson's
 * values come from the thread's arena and are forgotten at its end; heap
 * values are still freed; and a whole predict cycle as the route runs it
 * (parse the body, score, build the answer, serialise it and the logged
 * input) calls malloc not once in steady state. malloc, calloc and realloc
 * are counted by wrappers in this program (they forward to the next
 * definition: libc's, or ASan's under `make asan`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/json_scope.h"
#include "ml/model.h"
#include "serve/answer.h"
#include "serve/http.h"

#include <dlfcn.h>
#include <string.h>

/* ---- counting the calling thread's allocations ---- */

static _Thread_local unsigned long n_allocs;

void *malloc(size_t n)
{
    static void *(*next)(size_t);
    if (!next) next = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    n_allocs++;
    return next(n);
}

void *calloc(size_t count, size_t n)
{
    static void *(*next)(size_t, size_t);
    if (!next) next = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    n_allocs++;
    return next(count, n);
}

void *realloc(void *p, size_t n)
{
    static void *(*next)(void *, size_t);
    if (!next) next = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    n_allocs++;
    return next(p, n);
}

/* ---- the scope's rules ---- */

static void test_heap_values_freed_inside(void **state)
{
    (void)state;
    json_scope_install();
    json_t *outside = json_pack("{s:s,s:[i,i]}", "made", "outside", "list", 1, 2);
    json_scope_begin();
    assert_true(json_scope_active());
    json_t *inside = json_pack("{s:s,s:f}", "made", "inside", "p", 0.5);
    assert_non_null(inside);
    /* a heap value freed inside the scope really is freed (LSan would
     * report it under `make asan` otherwise) */
    json_decref(outside);
    /* an arena value freed is forgotten, not handed to free() */
    json_decref(inside);
    json_t *again = json_string("still usable after a forgotten free");
    assert_string_equal(json_string_value(again), "still usable after a forgotten free");
    json_scope_end();
    assert_false(json_scope_active());
    /* outside the scope jansson is on the heap again */
    json_t *after = json_integer(3);
    json_decref(after);
    json_scope_thread_release();
}

static void test_big_request_grows_then_stays(void **state)
{
    (void)state;
    /* a body over one arena block: the first request grows the arena, its
     * end merges the blocks, and the next ones of that size fit */
    char body[32 * 1024];
    size_t at = 0;
    at += (size_t)snprintf(body + at, sizeof body - at, "{\"inputs\":[");
    for (int i = 0; i < 1000; i++)
        at += (size_t)snprintf(body + at, sizeof body - at, "%s{\"text\":\"item %d\"}",
                               i ? "," : "", i);
    snprintf(body + at, sizeof body - at, "]}");
    unsigned long grown = 0;
    for (int round = 0; round < 5; round++) {
        json_scope_begin();
        json_t *doc = json_loads(body, 0, NULL);
        assert_non_null(doc);
        assert_int_equal(json_array_size(json_object_get(doc, "inputs")), 1000);
        json_decref(doc);
        json_scope_end();
        if (round == 1) grown = json_scope_heap_allocs();
    }
    assert_true(grown > 0);
    assert_int_equal(json_scope_heap_allocs(), grown);
    json_scope_thread_release();
}

/* ---- a predict cycle ---- */

/* a model to score with: two words decide */
static const char *texts[] = {"great", "great day", "awful", "awful day"};
static const int labels[] = {1, 1, 0, 0};
static const char *names[] = {"bad", "good"};

/* What routes_predict does with one request, in the same calls. */
static void predict_cycle(const struct trained_model *m, const char *body, size_t *out_len)
{
    json_scope_begin();
    json_t *doc = json_loadb(body, strlen(body), JSON_REJECT_DUPLICATES, NULL);
    json_t *text = json_object_get(doc, "text");
    json_t *input = json_pack("{s:O}", "text", text);
    const char *values[1] = {json_string_value(text)};
    size_t lens[1] = {json_string_length(text)};
    struct model_input in = {values, lens, 1, {0, 0, NULL, NULL, NULL}};
    double probs[2];
    size_t best = model_predict_input(m, &in, probs);
    json_t *answer =
        json_pack("{s:s,s:s,s:I}", "prediction_id", "0192a0b4-0000-7000-8000-000000000000", "task",
                  "sentiment", "model_version", (json_int_t)3);
    answer_add_labels(answer, m, probs, best);
    struct model_contribution c[5];
    size_t k = model_explain_input(m, &in, best, 5, c);
    json_t *why = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(
            why, json_pack("{s:s,s:f}", "feature", c[i].feature, "weight", c[i].weight));
    json_object_set_new(answer, "explanation", why);
    struct buf *one = json_scope_buf(0), *logged = json_scope_buf(1);
    assert_int_equal(http_json_append(one, answer, HTTP_JSON_FLAGS), 0);
    assert_int_equal(http_json_append(logged, input, JSON_COMPACT), 0);
    assert_non_null(answer_logged_label(answer, json_scope_buf(2)));
    *out_len = one->len;
    json_decref(answer);
    json_decref(input);
    json_decref(doc);
    json_scope_end();
}

static void test_predict_cycle_allocates_nothing(void **state)
{
    (void)state;
    struct model_config cfg;
    model_config_defaults(&cfg);
    cfg.text.min_df = 1;
    struct err e;
    struct trained_model *m = model_train(&cfg, TASK_BINARY, texts, labels, 4, names, 2, &e);
    assert_non_null(m);
    const char *body = "{\"text\": \"a great day, an awful night\"}";
    unsigned long counted = n_allocs; /* the counter counts */
    json_decref(json_pack("{s:i}", "heap", 1));
    assert_true(n_allocs > counted);
    size_t len = 0, first = 0;
    for (int i = 0; i < 3; i++) /* warm-up: the arena, the buffers, the model's */
        predict_cycle(m, body, &first);
    assert_true(first > 0);
    unsigned long before = n_allocs, scope_before = json_scope_heap_allocs();
    for (int i = 0; i < 1000; i++) {
        predict_cycle(m, body, &len);
        assert_int_equal(len, first);
    }
    assert_int_equal(n_allocs - before, 0);
    assert_int_equal(json_scope_heap_allocs() - scope_before, 0);
    json_scope_thread_release();
    model_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_values_freed_inside),
        cmocka_unit_test(test_big_request_grows_then_stays),
        cmocka_unit_test(test_predict_cycle_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
