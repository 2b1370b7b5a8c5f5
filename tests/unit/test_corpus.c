/* Unit tests for loop/corpus's label helpers: the sorted label names of a
 * corpus (each label of a multilabel set once), and a set's label indices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loop/corpus.h"

#include <stdlib.h>
#include <string.h>

static void make(struct corpus *c, char **labels, size_t n)
{
    memset(c, 0, sizeof *c);
    arena_init(&c->arena, 0);
    c->n = n;
    c->labels = malloc(n * sizeof *c->labels);
    for (size_t i = 0; i < n; i++)
        c->labels[i] = arena_strdup(&c->arena, labels[i]);
}

static void test_label_names(void **state)
{
    (void)state;
    char *sets[] = {"bug|urgent", "", "billing|bug", "urgent"};
    struct corpus c;
    make(&c, sets, 4);
    const char **names = NULL;
    assert_int_equal(corpus_label_names(&c, TASK_MULTILABEL, &names), 3);
    assert_string_equal(names[0], "billing");
    assert_string_equal(names[1], "bug");
    assert_string_equal(names[2], "urgent");
    free(names);
    /* a single-label task: the stored strings are the labels */
    assert_int_equal(corpus_label_names(&c, TASK_MULTICLASS, &names), 4);
    assert_string_equal(names[0], "");
    assert_string_equal(names[1], "billing|bug");
    free(names);
    corpus_free(&c);
}

static void test_label_ids(void **state)
{
    (void)state;
    const char *names[] = {"billing", "bug", "urgent"};
    uint32_t ids[3];
    assert_int_equal(corpus_label_ids("bug|urgent", names, 3, ids), 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(corpus_label_ids("", names, 3, ids), 0);
    /* a label the names do not have (new in a feedback set) is left out */
    assert_int_equal(corpus_label_ids("billing|new|urgent", names, 3, ids), 2);
    assert_int_equal(ids[0], 0);
    assert_int_equal(ids[1], 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_names),
        cmocka_unit_test(test_label_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
