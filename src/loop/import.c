#include "loop/import.h"

#include "base/mem.h"
#include "base/timeutil.h"
#include "data/data_profile.h"
#include "data/examples.h"
#include "loop/contract.h"

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

void import_result_free(struct import_result *r)
{
    json_decref(r->profile);
    json_decref(r->contract);
    r->profile = r->contract = NULL;
}

/* The version's profile: its rows as they will be stored, and the file's
 * columns in their order. */
static json_t *profile_rows(const struct table *t, const struct task_config *task,
                            const struct examples *ex, struct err *e)
{
    const char **inputs = xcalloc(ex->n + 1, sizeof *inputs);
    const char **labels = xcalloc(ex->n + 1, sizeof *labels);
    for (size_t i = 0; i < ex->n; i++) {
        inputs[i] = ex->items[i].input_json;
        labels[i] = ex->items[i].label;
    }
    json_t *p = data_profile_version(task, (const char *const *)t->col_names, t->n_cols, inputs,
                                     labels, ex->n, e);
    free(inputs);
    free(labels);
    return p;
}

/* Reads, validates, hashes and profiles the file: the part of an import
 * that stores nothing. */
static int read_examples(const struct config *cfg, const struct task_config *task,
                         const struct import_source *src, enum table_format fmt,
                         struct examples *ex, struct import_result *out, struct err *e)
{
    struct table_limits lim = {.max_field_bytes = cfg->limits.max_field_bytes,
                               .list_separator = task->label_separator};
    struct table t;
    int read = src->path ? table_read_file(src->path, fmt, &lim, &t, e)
                         : table_read_buffer(src->data, src->len, fmt, &lim, &t, e);
    if (read != 0) return err_prefix(e, "%s", src->name);
    int rc = examples_from_table(&t, task, cfg->limits.max_field_bytes, ex, e);
    if (rc == 0 && ex->n == 0) {
        examples_free(ex);
        rc = err_set(e, ERR_INVALID, "no data rows");
    }
    if (rc == 0) {
        preview_cleaning(&t, task, &out->cleaning);
        out->profile = profile_rows(&t, task, ex, e);
        if (!out->profile) {
            examples_free(ex);
            rc = -1;
        }
    }
    table_free(&t);
    if (rc != 0) return err_prefix(e, "%s", src->name);
    examples_content_hash(ex, out->hash);
    out->rows = ex->n;
    return 0;
}

int import_check_file(struct store *st, const struct config *cfg, const struct task_config *task,
                      const char *path, enum table_format fmt, struct import_result *out,
                      struct err *e)
{
    memset(out, 0, sizeof *out);
    int64_t t0 = time_mono_ns();
    struct examples ex;
    struct import_source src = {.path = path, .name = path};
    if (read_examples(cfg, task, &src, fmt, &ex, out, e) != 0) return -1;
    examples_free(&ex);
    int rc = contract_check(st, task, out->profile, DATA_CONTRACT_ALL, &out->contract, e);
    out->seconds = time_elapsed_s(t0);
    return rc;
}

/* The contract before anything is stored: 0 to go on (the report, if any,
 * in out->contract), -1 when refused or on error. */
static int check_contract(struct store *st, const struct task_config *task, const char *path,
                          unsigned flags, struct import_result *out, struct err *e)
{
    if (task->contract.on_violation == CONTRACT_OFF) return 0;
    if (contract_check(st, task, out->profile, DATA_CONTRACT_ALL, &out->contract, e) != 0)
        return -1;
    size_t n =
        out->contract ? data_contract_violations(json_object_get(out->contract, "differences")) : 0;
    if (n == 0 || task->contract.on_violation != CONTRACT_REFUSE) return 0;
    if (flags & IMPORT_FORCE) {
        json_object_set_new(out->contract, "forced", json_true());
        return 0;
    }
    out->refused = 1;
    return err_set_field(
        e, ERR_INVALID, "contract",
        "%s: %zu violation%s of the data contract with dataset %lld "
        "(contract.on_violation: refuse): nothing imported",
        path, n, n == 1 ? "" : "s",
        (long long)json_integer_value(json_object_get(out->contract, "baseline_dataset_id")));
}

int import_from(struct store *st, const struct config *cfg, const struct task_config *task,
                const struct import_source *src, enum table_format fmt, enum import_split split,
                unsigned flags, struct import_result *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    int64_t t0 = time_mono_ns();
    const char *path = src->name;
    struct examples ex;
    if (read_examples(cfg, task, src, fmt, &ex, out, e) != 0) return -1;
    int rc;

    int64_t existing_id = 0;
    int found = store_dataset_find(st, task->name, out->hash, &existing_id, e);
    if (found != 0) {
        examples_free(&ex);
        import_result_free(out);
        if (found < 0) return -1;
        out->already_imported = 1;
        out->dataset_id = existing_id;
        out->seconds = time_elapsed_s(t0);
        return 0;
    }
    if (check_contract(st, task, path, flags, out, e) != 0) {
        examples_free(&ex);
        return -1;
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
    char *profile = json_dumps(out->profile, JSON_COMPACT);
    char *contract = out->contract ? json_dumps(out->contract, JSON_COMPACT) : NULL;
    struct store_dataset_meta meta = {profile, contract};
    rc = store_dataset_add_meta(st, task->name, out->hash, src->source ? src->source : path, rows,
                                ex.n, &meta, &out->dataset_id, e);
    free(profile);
    free(contract);
    free(rows);
    examples_free(&ex);
    out->seconds = time_elapsed_s(t0);
    return rc;
}

int import_file(struct store *st, const struct config *cfg, const struct task_config *task,
                const char *path, enum table_format fmt, enum import_split split, unsigned flags,
                struct import_result *out, struct err *e)
{
    struct import_source src = {.path = path, .name = path};
    return import_from(st, cfg, task, &src, fmt, split, flags, out, e);
}

json_t *import_result_json(const struct task_config *task, const struct import_result *res, int rc,
                           const struct err *e)
{
    json_t *doc = json_pack(
        "{s:s,s:b,s:I,s:s,s:b,s:I,s:I,s:I,s:f,s:o}", "task", task->name, "imported",
        rc == 0 && !res->already_imported, "dataset_id", (json_int_t)res->dataset_id, "hash",
        res->hash, "already_imported", res->already_imported, "rows", (json_int_t)res->rows,
        "train_rows", (json_int_t)res->train_rows, "test_rows", (json_int_t)res->test_rows,
        "seconds", res->seconds, "cleaning", prepare_report_json(&task->clean, &res->cleaning));
    json_object_set(doc, "contract", res->contract ? res->contract : json_null());
    if (rc != 0) json_object_set_new(doc, "error", json_string(e->msg));
    return doc;
}
