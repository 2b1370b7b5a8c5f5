/* The profile stored with each dataset version (see data_profile.h), built
 * from the rows as they are stored, so an import, a feedback-derived
 * version and `boucle data check` all measure the same way. */
#include "data/data_profile.h"

#include "base/mem.h"
#include "data/input.h"

#include <stdlib.h>
#include <string.h>

static const char *column_kind(const struct task_config *task, const char *name)
{
    if (str_eq(name, task->label)) return "label";
    for (size_t i = 0; i < task->n_text_fields; i++)
        if (str_eq(name, task->text_fields[i])) return "text";
    for (size_t i = 0; i < task->n_numeric; i++)
        if (str_eq(name, task->numeric[i].name)) return "numeric";
    for (size_t i = 0; i < task->n_categorical; i++)
        if (str_eq(name, task->categorical[i].name)) return "categorical";
    return "unused";
}

static void add_column(json_t *columns, json_t *seen, const struct task_config *task,
                       const char *name)
{
    if (json_object_get(seen, name)) return;
    json_object_set_new(seen, name, json_true());
    json_array_append_new(columns,
                          json_pack("{s:s,s:s}", "name", name, "kind", column_kind(task, name)));
}

/* One stored row into the profile; `seen` collects its keys when the
 * columns are not given. */
static int add_row(struct data_profile *p, const char *input_json, const char *label,
                   json_t *columns, json_t *seen, struct err *e)
{
    const struct task_config *task = p->task;
    json_error_t je;
    json_t *input = json_loads(input_json, 0, &je);
    if (!json_is_object(input)) {
        json_decref(input);
        return err_set(e, ERR_CORRUPT, "input is not a JSON object: %s", je.text);
    }
    const char *values[TASK_MAX_TEXT_FIELDS];
    size_t lens[TASK_MAX_TEXT_FIELDS];
    uint32_t nulls = 0;
    size_t n_tab = task->n_numeric + task->n_categorical + 1;
    double *num = xcalloc(n_tab, sizeof *num);
    const char **cat = xcalloc(n_tab, sizeof *cat);
    size_t *cat_lens = xcalloc(n_tab, sizeof *cat_lens);
    int rc = input_fields_from_json(task, input, 0, values, lens, &nulls, NULL, e);
    if (rc == 0) rc = input_tabular_from_json(task, input, 0, num, cat, cat_lens, NULL, e);
    if (rc == 0) {
        data_profile_add(p, values, lens, nulls, label ? label : "");
        data_profile_add_tabular(p, num, cat, cat_lens);
        const char *key;
        json_t *v;
        if (seen) json_object_foreach(input, key, v) add_column(columns, seen, task, key);
    }
    free(num);
    free(cat);
    free(cat_lens);
    json_decref(input);
    return rc;
}

json_t *data_profile_version(const struct task_config *task, const char *const *columns,
                             size_t n_columns, const char *const *inputs, const char *const *labels,
                             size_t n, struct err *e)
{
    if (task->n_text_fields > TASK_MAX_TEXT_FIELDS) {
        err_set(e, ERR_INVALID, "task '%s' has more than %d text fields", task->name,
                TASK_MAX_TEXT_FIELDS);
        return NULL;
    }
    json_t *cols = json_array(), *seen = json_object();
    for (size_t i = 0; columns && i < n_columns; i++)
        add_column(cols, seen, task, columns[i]);
    if (!columns) add_column(cols, seen, task, task->label); /* stored inputs hold no label */
    struct data_profile p;
    data_profile_init(&p, task);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if ((rc = add_row(&p, inputs[i], labels[i], cols, columns ? NULL : seen, e)) != 0)
            err_prefix(e, "row %zu", i + 1);
    json_t *doc = rc == 0 ? data_profile_json(&p) : NULL;
    data_profile_free(&p);
    json_decref(seen);
    if (doc)
        json_object_set_new(doc, "columns", cols);
    else
        json_decref(cols);
    return doc;
}
