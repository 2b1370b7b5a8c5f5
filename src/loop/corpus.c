#include "loop/corpus.h"

#include "base/mem.h"
#include "data/input.h"

#include <stdlib.h>
#include <string.h>

struct loader {
    const struct task_config *task;
    size_t max_field_bytes, cap;
    struct corpus *c;
    struct sha256_ctx hash;
    struct err *e;
};

static int collect(void *ctx, const char *input_json, const char *label, int split)
{
    struct loader *l = ctx;
    struct corpus *c = l->c;
    json_error_t je;
    json_t *input = json_loads(input_json, 0, &je);
    if (!input)
        return err_set(l->e, ERR_CORRUPT, "stored example %zu has invalid input JSON: %s", c->n + 1,
                       je.text);
    struct buf text;
    buf_init(&text);
    int rc = input_text_from_json(l->task, input, l->max_field_bytes, &text, NULL, l->e);
    json_decref(input);
    if (rc != 0) {
        buf_free(&text);
        return err_prefix(l->e, "stored example %zu", c->n + 1);
    }
    if (c->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        c->texts = xrealloc(c->texts, l->cap * sizeof *c->texts);
        c->labels = xrealloc(c->labels, l->cap * sizeof *c->labels);
        c->split = xrealloc(c->split, l->cap * sizeof *c->split);
    }
    c->texts[c->n] = buf_detach(&text);
    c->labels[c->n] = xstrdup(label);
    c->split[c->n] = split;
    c->n++;
    sha256_add(&l->hash, input_json, strlen(input_json) + 1);
    sha256_add(&l->hash, label, strlen(label) + 1);
    sha256_add(&l->hash, split ? "T" : "t", 1);
    return 0;
}

int corpus_load(struct store *st, const struct task_config *task, size_t max_field_bytes,
                struct corpus *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct loader l = {.task = task, .max_field_bytes = max_field_bytes, .c = out, .e = e};
    sha256_begin(&l.hash);
    int rc = store_examples_foreach(st, task->name, collect, &l, e);
    sha256_end(&l.hash, out->hash);
    if (rc != 0) corpus_free(out);
    return rc;
}

void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->texts[i]);
        free(c->labels[i]);
    }
    free(c->texts);
    free(c->labels);
    free(c->split);
    memset(c, 0, sizeof *c);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t corpus_distinct(char *const *items, size_t n, const char ***out)
{
    const char **all = xmalloc((n ? n : 1) * sizeof *all);
    for (size_t i = 0; i < n; i++)
        all[i] = items[i];
    qsort(all, n, sizeof *all, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(all[k - 1], all[i]) != 0) all[k++] = all[i];
    *out = all;
    return k;
}

int corpus_index(const char *const *sorted, size_t n, const char *s)
{
    const char *const *hit = bsearch(&s, sorted, n, sizeof *sorted, cmp_str);
    return hit ? (int)(hit - sorted) : -1;
}
