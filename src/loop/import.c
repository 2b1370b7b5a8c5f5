#include "loop/import.h"

#include "base/mem.h"
#include "base/timeutil.h"
#include "data/examples.h"

#include <stdlib.h>
#include <string.h>

/* The task's cleaning over the file's rows, for the report only. */
static void preview_cleaning(const struct table *t, const struct task_config *task,
                             struct prepare_report *out)
{
    struct preparer p;
    preparer_init(&p, &task->clean, task->n_text_fields);
    int cols[TASK_MAX_TEXT_FIELDS];
    const char *values[TASK_MAX_TEXT_FIELDS];
    size_t lens[TASK_MAX_TEXT_FIELDS];
    for (size_t i = 0; i < task->n_text_fields && i < TASK_MAX_TEXT_FIELDS; i++)
        cols[i] = table_col(t, task->text_fields[i]);
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t i = 0; i < task->n_text_fields && i < TASK_MAX_TEXT_FIELDS; i++) {
            values[i] = cols[i] < 0 ? NULL : table_cell(t, r, (size_t)cols[i]);
            lens[i] = values[i] ? strlen(values[i]) : 0;
        }
        const char *text;
        size_t len;
        preparer_row(&p, values, lens, &text, &len);
    }
    *out = p.report;
    preparer_free(&p);
}

int import_file(struct store *st, const struct config *cfg, const struct task_config *task,
                const char *path, enum table_format fmt, enum import_split split,
                struct import_result *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    int64_t t0 = time_mono_ns();
    struct table_limits lim = {.max_field_bytes = cfg->limits.max_field_bytes,
                               .list_separator = task->label_separator};
    struct table t;
    if (table_read_file(path, fmt, &lim, &t, e) != 0) return err_prefix(e, "%s", path);
    struct examples ex;
    int rc = examples_from_table(&t, task, cfg->limits.max_field_bytes, &ex, e);
    if (rc == 0) preview_cleaning(&t, task, &out->cleaning);
    table_free(&t);
    if (rc != 0) return err_prefix(e, "%s", path);
    if (ex.n == 0) {
        examples_free(&ex);
        return err_set(e, ERR_INVALID, "%s: no data rows", path);
    }
    examples_content_hash(&ex, out->hash);
    out->rows = ex.n;

    int64_t existing_id = 0;
    int found = store_dataset_find(st, task->name, out->hash, &existing_id, e);
    if (found != 0) {
        examples_free(&ex);
        if (found < 0) return -1;
        out->already_imported = 1;
        out->dataset_id = existing_id;
        out->seconds = time_elapsed_s(t0);
        return 0;
    }
    if (split == IMPORT_SPLIT_AUTO) {
        int64_t count = 0;
        if (store_example_count(st, task->name, &count, e) != 0) {
            examples_free(&ex);
            return -1;
        }
        if (count == 0 && task->type == TASK_MULTILABEL)
            examples_split_multilabel(&ex, task->test_fraction, 42);
        else if (count == 0)
            examples_split_stratified(&ex, task->test_fraction, 42);
        else
            examples_set_split(&ex, SPLIT_TRAIN);
    } else {
        examples_set_split(&ex, split == IMPORT_SPLIT_TEST ? SPLIT_TEST : SPLIT_TRAIN);
    }
    struct store_example *rows = xcalloc(ex.n, sizeof *rows);
    for (size_t i = 0; i < ex.n; i++) {
        rows[i].input_json = ex.items[i].input_json;
        rows[i].label = ex.items[i].label;
        rows[i].split = (int)ex.items[i].split;
        rows[i].line = (int64_t)ex.items[i].line;
        if (ex.items[i].split == SPLIT_TEST)
            out->test_rows++;
        else
            out->train_rows++;
    }
    rc = store_dataset_add(st, task->name, out->hash, path, rows, ex.n, &out->dataset_id, e);
    free(rows);
    examples_free(&ex);
    out->seconds = time_elapsed_s(t0);
    return rc;
}
