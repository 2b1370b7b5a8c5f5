/* A task's tabular inputs:
 *   numeric: [tenure, monthly_charges, {name: total_charges, impute: zero}]
 *   impute: median            # the default for numeric fields: median|mean|zero
 *   categorical: [contract, {name: zip_code, hash_bits: 12}]
 * A list item is a column name, or a mapping with `name` and the field's
 * own options. The ml layer (ml/tabular.h) fits and applies them. */
#include "base/config_internal.h"

#include "base/mem.h"

#include <string.h>

static const char *const impute_names[] = {"median", "mean", "zero"};

const char *impute_kind_name(enum impute_kind k)
{
    return (unsigned)k < 3 ? impute_names[k] : "unknown";
}

struct field_spec {
    const char *name;
    int line;
    int has_impute, hash_bits;
    enum impute_kind impute;
};

struct item_ctx {
    struct field_spec *spec;
    int numeric; /* which options apply */
};

static int item_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                     const char *path, void *user)
{
    struct item_ctx *ic = user;
    size_t i;
    unsigned long long bits;
    if (str_eq(key, "name")) return cfg_string(c, v, path, &ic->spec->name);
    if (ic->numeric && str_eq(key, "impute")) {
        if (cfg_choice(c, v, path, impute_names, 3, &i)) return -1;
        ic->spec->impute = (enum impute_kind)i;
        ic->spec->has_impute = 1;
        return 0;
    }
    if (!ic->numeric && str_eq(key, "hash_bits")) {
        if (cfg_uint(c, v, path, 1, TABULAR_MAX_HASH_BITS, &bits)) return -1;
        ic->spec->hash_bits = (int)bits;
        return 0;
    }
    return cfg_fail(c, k, path, "unknown key (known: name, %s)",
                    ic->numeric ? "impute" : "hash_bits");
}

/* One list item: a name, or {name: ..., option: ...}. */
static int parse_item(struct cfg_ctx *c, yaml_node_t *item, const char *path, int numeric,
                      struct field_spec *out)
{
    memset(out, 0, sizeof *out);
    out->line = cfg_line(item);
    if (item->type == YAML_SCALAR_NODE) return cfg_string(c, item, path, &out->name);
    if (item->type != YAML_MAPPING_NODE)
        return cfg_fail(c, item, path, "expected a field name or a mapping with 'name', got %s",
                        cfg_kind_name(item));
    struct item_ctx ic = {.spec = out, .numeric = numeric};
    if (cfg_each_pair(c, item, path, item_pair, &ic)) return -1;
    if (!out->name) return cfg_fail(c, item, path, "missing required key 'name'");
    return 0;
}

static size_t n_tabular(const struct task_config *t)
{
    return t->n_numeric + t->n_categorical;
}

static void add_field(struct task_config *t, int numeric, const struct field_spec *f)
{
    if (numeric) {
        t->numeric = xrealloc(t->numeric, (t->n_numeric + 1) * sizeof *t->numeric);
        t->numeric[t->n_numeric++] = (struct numeric_field){.name = xstrdup(f->name),
                                                            .impute = f->impute,
                                                            .own_impute = f->has_impute,
                                                            .line = f->line};
    } else {
        t->categorical = xrealloc(t->categorical, (t->n_categorical + 1) * sizeof *t->categorical);
        t->categorical[t->n_categorical++] = (struct categorical_field){
            .name = xstrdup(f->name), .hash_bits = f->hash_bits, .line = f->line};
    }
}

static int parse_fields(struct cfg_ctx *c, yaml_node_t *v, const char *path, int numeric,
                        struct task_config *t)
{
    if ((numeric ? t->n_numeric : t->n_categorical) > 0) return cfg_fail(c, v, path, "given twice");
    if (v->type == YAML_MAPPING_NODE) return cfg_fail(c, v, path, "expected a list of field names");
    int list = v->type == YAML_SEQUENCE_NODE; /* else a single name: a list of one */
    int n = list ? (int)(v->data.sequence.items.top - v->data.sequence.items.start) : 1;
    if (!n) return cfg_fail(c, v, path, "expected at least one field name");
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = list ? cfg_node(c, v->data.sequence.items.start[i]) : v;
        char item_path[PATH_MAX_KEY];
        if (list)
            snprintf(item_path, sizeof item_path, "%s[%d]", path, i);
        else
            snprintf(item_path, sizeof item_path, "%s", path);
        struct field_spec f;
        if (!item || parse_item(c, item, item_path, numeric, &f)) return -1;
        if (n_tabular(t) == TASK_MAX_TABULAR_FIELDS)
            return cfg_fail(c, item, item_path, "at most %d numeric and categorical fields",
                            TASK_MAX_TABULAR_FIELDS);
        add_field(t, numeric, &f);
    }
    return 0;
}

int cfg_tabular_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                          struct task_config *t)
{
    if (str_eq(key, "numeric")) return parse_fields(c, v, path, 1, t);
    if (str_eq(key, "categorical")) return parse_fields(c, v, path, 0, t);
    if (str_eq(key, "impute")) {
        size_t i;
        if (cfg_choice(c, v, path, impute_names, 3, &i)) return -1;
        t->impute = (enum impute_kind)i;
        return 0;
    }
    return 1;
}

/* The i-th input field of any kind: text, numeric, then categorical. */
static const char *field_name(const struct task_config *t, size_t i)
{
    if (i < t->n_text_fields) return t->text_fields[i];
    i -= t->n_text_fields;
    if (i < t->n_numeric) return t->numeric[i].name;
    return t->categorical[i - t->n_numeric].name;
}

int cfg_tabular_task_finish(struct cfg_ctx *c, yaml_node_t *k, const char *path,
                            struct task_config *t)
{
    size_t n = t->n_text_fields + n_tabular(t);
    for (size_t i = 0; i < n; i++) {
        const char *a = field_name(t, i);
        /* (config.c says so of a text field) */
        if (i >= t->n_text_fields && t->label && str_eq(a, t->label))
            return cfg_fail(c, k, path, "column '%s' is both a %s field and the label", a,
                            i < t->n_text_fields + t->n_numeric ? "numeric" : "categorical");
        for (size_t j = 0; j < i; j++)
            if (str_eq(a, field_name(t, j)))
                return cfg_fail(c, k, path,
                                "field '%s' is listed twice among text, numeric "
                                "and categorical",
                                a);
    }
    /* one-vs-rest multilabel models read TF-IDF only (ml/multilabel.c) */
    if (n_tabular(t) && t->type == TASK_MULTILABEL)
        return cfg_fail(c, k, path,
                        "a multilabel task reads text fields only: numeric and categorical "
                        "fields are for binary and multiclass tasks");
    for (size_t i = 0; i < t->n_numeric; i++)
        if (!t->numeric[i].own_impute) t->numeric[i].impute = t->impute;
    /* with no text field, drop_empty would drop every row and dedupe all but one */
    for (size_t i = 0; i < t->clean.n_steps && !t->n_text_fields; i++)
        if (t->clean.steps[i] == CLEAN_DROP_EMPTY || t->clean.steps[i] == CLEAN_DEDUPE)
            return cfg_fail(c, k, path, "clean: %s looks at the text fields, and the task has none",
                            clean_step_name((enum clean_step)t->clean.steps[i]));
    return 0;
}

void cfg_tabular_task_free(struct task_config *t)
{
    for (size_t i = 0; i < t->n_numeric; i++)
        free(t->numeric[i].name);
    free(t->numeric);
    for (size_t i = 0; i < t->n_categorical; i++)
        free(t->categorical[i].name);
    free(t->categorical);
    t->numeric = NULL;
    t->categorical = NULL;
    t->n_numeric = t->n_categorical = 0;
}
