/* From a table to a task's labeled examples: column checks, per-row
 * validation, the stratified split and the dataset's content hash. */
#include "data/examples.h"

#include "base/hashmap.h"
#include "base/ids.h"
#include "base/mem.h"
#include "base/utf8.h"
#include "data/input.h"
#include "data/labelset.h"

#include <stdio.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int missing_column(const struct table *t, const struct task_config *task, const char *name,
                          const char *key, struct err *e)
{
    struct buf cols;
    buf_init(&cols);
    for (size_t i = 0; i < t->n_cols; i++)
        buf_printf(&cols, "%s%s", i ? ", " : "", t->col_names[i]);
    err_set_field(e, ERR_INVALID, name,
                  "column '%.64s' (tasks.%s.%s) not found in header; columns are: %s", name,
                  task->name, key, cols.data ? cols.data : "(none)");
    buf_free(&cols);
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The same checks a table import makes, for tables read with other limits. */
static int check_cell(const char *s, size_t len, size_t line, const char *col, size_t max,
                      struct err *e)
{
    if (!utf8_is_valid(s, len))
        return err_set_field(e, ERR_INVALID, col, "line %zu, column '%.64s': invalid UTF-8", line,
                             col);
    if (max && len > max)
        return err_set_field(e, ERR_LIMIT, col,
                             "line %zu, column '%.64s': field is %zu bytes, over the limit of %zu",
                             line, col, len, max);
    return 0;
}

struct row_bufs {
    const char **values;
    size_t *lens;
    double *num; /* the tabular values */
    const char **cat;
    size_t *cat_lens;
    struct buf text, json, labels;
};

/* The task's columns in the table: text, numeric, categorical fields, label. */
struct columns {
    int *text, *num, *cat;
    int label;
};

/* A multilabel row's cell becomes its canonical set; an empty cell (or
 * JSONL's []) is a row with no label, a negative for every label. */
static const char *label_set(const char *cell, size_t line, const struct task_config *task,
                             struct buf *out, struct arena *a, struct err *e)
{
    if (!cell) {
        err_set_field(e, ERR_INVALID, task->label,
                      "line %zu, column '%.64s': no label set (write [] or an empty cell for a "
                      "row with no label)",
                      line, task->label);
        return NULL;
    }
    char where[128];
    snprintf(where, sizeof where, "line %zu, column '%.64s'", line, task->label);
    if (labelset_parse(cell, strlen(cell), task->label_separator, out, where, e) != 0) {
        snprintf(e->field, sizeof e->field, "%s", task->label);
        return NULL;
    }
    return arena_strndup(a, out->data, out->len);
}

static const char *one_label(const char *cell, size_t line, const struct task_config *task,
                             struct arena *a, struct err *e)
{
    const char *label = cell ? cell : "";
    size_t len = strlen(label);
    while (len && is_space(label[len - 1]))
        len--;
    while (len && is_space(*label)) {
        label++;
        len--;
    }
    if (!len) {
        err_set_field(e, ERR_INVALID, task->label, "line %zu, column '%.64s': empty label", line,
                      task->label);
        return NULL;
    }
    return arena_strndup(a, label, len);
}

static int tabular_cells(const struct table *t, const struct task_config *task,
                         const struct columns *cols, size_t r, size_t max, struct row_bufs *b,
                         struct err *e)
{
    size_t line = t->lines[r];
    for (size_t i = 0; i < task->n_numeric; i++) {
        const char *v = table_cell(t, r, (size_t)cols->num[i]), *name = task->numeric[i].name;
        int got = v ? input_parse_number(v, strlen(v), &b->num[i]) : 0;
        if (got < 0)
            return err_set_field(e, ERR_INVALID, name,
                                 "line %zu, column '%.64s': '%.32s' is not a number (a missing "
                                 "value is empty, NA, N/A, NaN, null or None)",
                                 line, name, v);
        if (!got) b->num[i] = NAN;
    }
    for (size_t i = 0; i < task->n_categorical; i++) {
        const char *v = table_cell(t, r, (size_t)cols->cat[i]);
        b->cat[i] = v;
        b->cat_lens[i] = v ? strlen(v) : 0;
        if (v && check_cell(v, b->cat_lens[i], line, task->categorical[i].name, max, e)) return -1;
    }
    return 0;
}

static int one_row(const struct table *t, const struct task_config *task,
                   const struct columns *cols, size_t r, size_t max, struct row_bufs *b,
                   struct example *ex, struct arena *a, struct err *e)
{
    const int *text_cols = cols->text;
    int label_col = cols->label;
    size_t line = t->lines[r];
    buf_reset(&b->text);
    buf_reset(&b->json);
    for (size_t i = 0; i < task->n_text_fields; i++) {
        /* a key absent from a JSON line, or null: no text, stored as null so a
         * profile can tell missing values from empty ones */
        const char *v = table_cell(t, r, (size_t)text_cols[i]);
        b->values[i] = v;
        b->lens[i] = v ? strlen(v) : 0;
        if (v && check_cell(v, b->lens[i], line, task->text_fields[i], max, e)) return -1;
        input_append_text(&b->text, i, v ? v : "", b->lens[i]);
    }
    if (tabular_cells(t, task, cols, r, max, b, e)) return -1;
    input_append_json_row(&b->json, task, b->values, b->lens, b->num, b->cat, b->cat_lens);

    const char *cell = table_cell(t, r, (size_t)label_col);
    if (cell && check_cell(cell, strlen(cell), line, task->label, max, e)) return -1;
    ex->label = task->type == TASK_MULTILABEL ? label_set(cell, line, task, &b->labels, a, e)
                                              : one_label(cell, line, task, a, e);
    if (!ex->label) return -1;
    ex->text = arena_strndup(a, b->text.data ? b->text.data : "", b->text.len);
    ex->input_json = arena_strndup(a, b->json.data, b->json.len);
    ex->line = line;
    ex->split = SPLIT_TRAIN;
    return 0;
}

/* The columns of the task's fields in the table; the first missing one is an error. */
static int find_columns(const struct table *t, const struct task_config *task, struct columns *cols,
                        struct err *e)
{
    cols->text = xcalloc(task->n_text_fields + 1, sizeof *cols->text);
    cols->num = xcalloc(task->n_numeric + 1, sizeof *cols->num);
    cols->cat = xcalloc(task->n_categorical + 1, sizeof *cols->cat);
    for (size_t i = 0; i < task->n_text_fields; i++)
        if ((cols->text[i] = table_col(t, task->text_fields[i])) < 0)
            return missing_column(t, task, task->text_fields[i], "text", e);
    for (size_t i = 0; i < task->n_numeric; i++)
        if ((cols->num[i] = table_col(t, task->numeric[i].name)) < 0)
            return missing_column(t, task, task->numeric[i].name, "numeric", e);
    for (size_t i = 0; i < task->n_categorical; i++)
        if ((cols->cat[i] = table_col(t, task->categorical[i].name)) < 0)
            return missing_column(t, task, task->categorical[i].name, "categorical", e);
    if ((cols->label = table_col(t, task->label)) < 0)
        return missing_column(t, task, task->label, "label", e);
    return 0;
}

int examples_from_table(const struct table *t, const struct task_config *task,
                        size_t max_field_bytes, struct examples *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    arena_init(&out->arena, 0);
    struct columns cols = {.label = -1};
    int rc = find_columns(t, task, &cols, e);
    size_t n_text = task->n_text_fields;
    struct row_bufs b = {.values = xcalloc(n_text + 1, sizeof *b.values),
                         .lens = xcalloc(n_text + 1, sizeof *b.lens),
                         .num = xcalloc(task->n_numeric + 1, sizeof *b.num),
                         .cat = xcalloc(task->n_categorical + 1, sizeof *b.cat),
                         .cat_lens = xcalloc(task->n_categorical + 1, sizeof *b.cat_lens)};
    buf_init(&b.text);
    buf_init(&b.json);
    buf_init(&b.labels);
    if (!rc) {
        out->items = arena_alloc(&out->arena, (t->n_rows + 1) * sizeof *out->items);
        for (size_t r = 0; r < t->n_rows && !rc; r++)
            rc = one_row(t, task, &cols, r, max_field_bytes, &b, &out->items[r], &out->arena, e);
        out->n = t->n_rows;
    }
    buf_free(&b.text);
    buf_free(&b.json);
    buf_free(&b.labels);
    free(b.values);
    free(b.lens);
    free(b.num);
    free(b.cat);
    free(b.cat_lens);
    free(cols.text);
    free(cols.num);
    free(cols.cat);
    if (rc) examples_free(out);
    return rc;
}

static size_t test_count(double frac, size_t count)
{
    if (!(frac > 0) || count < 2) return 0; /* a lone example must be trained on */
    double want = frac * (double)count;
    size_t n = want >= (double)count ? count : (size_t)llround(want);
    if (n < 1) n = 1;
    if (n > count - 1) n = count - 1; /* keep every label in the training set */
    return n;
}

void examples_split_stratified(struct examples *ex, double test_fraction, uint64_t seed)
{
    if (!ex->n) return;
    /* group rows by label, groups in first-seen order, rows in file order */
    struct hashmap groups;
    hashmap_init(&groups);
    size_t *group_of = xmalloc(ex->n * sizeof *group_of);
    size_t *start = xcalloc(ex->n + 1, sizeof *start), n_groups = 0;
    for (size_t i = 0; i < ex->n; i++) {
        const char *l = ex->items[i].label;
        intptr_t *g = hashmap_upsert(&groups, l, strlen(l), (intptr_t)n_groups, NULL);
        if ((size_t)*g == n_groups) n_groups++;
        group_of[i] = (size_t)*g;
        start[*g + 1]++;
    }
    for (size_t g = 0; g < n_groups; g++)
        start[g + 1] += start[g];
    size_t *order = xmalloc(ex->n * sizeof *order), *fill = xcalloc(n_groups, sizeof *fill);
    for (size_t i = 0; i < ex->n; i++)
        order[start[group_of[i]] + fill[group_of[i]]++] = i;

    uint64_t state = seed;
    for (size_t g = 0; g < n_groups; g++) {
        size_t *rows = order + start[g], count = start[g + 1] - start[g];
        /* Fisher-Yates; the modulo's bias is below 2^-40 for any real count */
        for (size_t i = count; i > 1; i--) {
            size_t j = (size_t)(ids_splitmix64(&state) % i), tmp = rows[i - 1];
            rows[i - 1] = rows[j];
            rows[j] = tmp;
        }
        size_t n_test = test_count(test_fraction, count);
        for (size_t i = 0; i < count; i++)
            ex->items[rows[i]].split = i < n_test ? SPLIT_TEST : SPLIT_TRAIN;
    }
    free(order);
    free(fill);
    free(start);
    free(group_of);
    hashmap_free(&groups);
}

void examples_split_multilabel(struct examples *ex, double test_fraction, uint64_t seed)
{
    const char **sets = xmalloc((ex->n ? ex->n : 1) * sizeof *sets);
    unsigned char *is_test = xmalloc(ex->n ? ex->n : 1);
    for (size_t i = 0; i < ex->n; i++)
        sets[i] = ex->items[i].label;
    labelset_split_stratified(sets, ex->n, test_fraction, seed, is_test);
    for (size_t i = 0; i < ex->n; i++)
        ex->items[i].split = is_test[i] ? SPLIT_TEST : SPLIT_TRAIN;
    free(is_test);
    free(sets);
}

void examples_set_split(struct examples *ex, enum split split)
{
    for (size_t i = 0; i < ex->n; i++)
        ex->items[i].split = split;
}

void examples_content_hash(const struct examples *ex, char out[65])
{
    struct sha256_ctx c;
    sha256_begin(&c);
    /* the NUL after each string separates fields unambiguously: cells never contain one */
    for (size_t i = 0; i < ex->n; i++) {
        sha256_add(&c, ex->items[i].input_json, strlen(ex->items[i].input_json) + 1);
        sha256_add(&c, ex->items[i].label, strlen(ex->items[i].label) + 1);
    }
    sha256_end(&c, out);
}

void examples_free(struct examples *ex)
{
    if (!ex) return;
    arena_free(&ex->arena);
    memset(ex, 0, sizeof *ex);
}
