#include "track/run_search.h"

#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

/* The distinct keys of one entity that the filter and the order name. */
struct keys {
    const char **names;
    size_t n;
};

static void keys_add(struct keys *k, const char *name)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->names[i], name) == 0) return;
    k->names = xrealloc(k->names, (k->n + 1) * sizeof *k->names);
    k->names[k->n++] = name;
}

static struct keys *keys_of(struct keys by_entity[3], enum filter_entity entity)
{
    switch (entity) {
    case FILTER_METRIC:
        return &by_entity[0];
    case FILTER_PARAM:
        return &by_entity[1];
    case FILTER_TAG:
        return &by_entity[2];
    default:
        return NULL;
    }
}

static ptrdiff_t key_index(const struct keys *k, const char *name)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->names[i], name) == 0) return (ptrdiff_t)i;
    return -1;
}

/* A scanned run as filter.h sees it. */
struct row {
    struct filter_row view;
    const struct store_scan_row *scan;
    const struct keys *keys; /* [3]: metrics, params, tags */
};

static int row_metric(const void *ctx, const char *key, double *out)
{
    const struct row *r = ctx;
    ptrdiff_t i = key_index(&r->keys[0], key);
    if (i < 0 || !r->scan->has_metric[i]) return 0;
    *out = r->scan->metrics[i];
    return 1;
}

static int row_string(const struct keys *k, const char **values, const char *key, const char **out)
{
    ptrdiff_t i = key_index(k, key);
    if (i < 0 || !values[i]) return 0;
    *out = values[i];
    return 1;
}

static int row_param(const void *ctx, const char *key, const char **out)
{
    const struct row *r = ctx;
    return row_string(&r->keys[1], r->scan->params, key, out);
}

static int row_tag(const void *ctx, const char *key, const char **out)
{
    const struct row *r = ctx;
    return row_string(&r->keys[2], r->scan->tags, key, out);
}

static _Thread_local const struct order *tl_order;

static int compare_rows(const void *pa, const void *pb)
{
    const struct row *a = *(const struct row *const *)pa;
    const struct row *b = *(const struct row *const *)pb;
    return order_compare(tl_order, &a->view, &b->view);
}

/* Keeps the `need` first rows (in order) of kept[0..n) at its front, sorted:
 * a bounded max-heap when the page is small beside the matches, so a page
 * of 100 out of 100,000 costs n log 100 comparisons, not n log n. */
static size_t select_first(struct row **kept, size_t n, size_t need)
{
    if (need >= n / 4) {
        qsort(kept, n, sizeof *kept, compare_rows);
        return n < need ? n : need;
    }
    /* heap of the `need` best so far, the worst at the root */
    struct row **heap = kept; /* reuses the front of kept */
    size_t size = 0;
    for (size_t i = 0; i < n; i++) {
        struct row *x = kept[i];
        size_t at;
        if (size < need) {
            at = size++;
            while (at > 0 && compare_rows(&x, &heap[(at - 1) / 2]) > 0) {
                heap[at] = heap[(at - 1) / 2];
                at = (at - 1) / 2;
            }
            heap[at] = x;
            continue;
        }
        if (compare_rows(&x, &heap[0]) >= 0) continue; /* no better than the worst kept */
        at = 0;
        for (;;) { /* sift x down from the root */
            size_t child = 2 * at + 1;
            if (child >= size) break;
            if (child + 1 < size && compare_rows(&heap[child + 1], &heap[child]) > 0) child++;
            if (compare_rows(&heap[child], &x) <= 0) break;
            heap[at] = heap[child];
            at = child;
        }
        heap[at] = x;
    }
    qsort(heap, size, sizeof *heap, compare_rows);
    return size;
}

int run_search(struct store *s, const struct run_search *q, struct run_search_page *out,
               struct err *e)
{
    memset(out, 0, sizeof *out);
    struct keys keys[3] = {{0}};
    for (size_t i = 0; q->filter && i < q->filter->n; i++) {
        struct keys *k = keys_of(keys, q->filter->conds[i].entity);
        if (k) keys_add(k, q->filter->conds[i].key);
    }
    for (size_t i = 0; q->order && i < q->order->n; i++) {
        struct keys *k = keys_of(keys, q->order->keys[i].entity);
        if (k) keys_add(k, q->order->keys[i].key);
    }
    /* the conditions SQL can check from an index first (the filter still
     * decides): comparisons that only a run having the key can pass */
    size_t n_filter = q->filter ? q->filter->n : 0;
    struct store_scan_cond *conds = xcalloc(n_filter + 1, sizeof *conds);
    size_t n_conds = 0;
    static const enum store_scan_op scan_op[] = {[FILTER_EQ] = STORE_SCAN_EQ,
                                                 [FILTER_GT] = STORE_SCAN_GT,
                                                 [FILTER_GE] = STORE_SCAN_GE,
                                                 [FILTER_LT] = STORE_SCAN_LT,
                                                 [FILTER_LE] = STORE_SCAN_LE};
    for (size_t i = 0; i < n_filter; i++) {
        const struct filter_cond *c = &q->filter->conds[i];
        struct store_scan_cond *sc = &conds[n_conds];
        sc->key = c->key;
        if (c->entity == FILTER_METRIC && c->kind == FILTER_NUMBER && c->op <= FILTER_LE &&
            c->op != FILTER_NE) {
            sc->entity = STORE_SCAN_METRIC;
            sc->op = scan_op[c->op];
            sc->number = c->number;
            n_conds++;
        } else if ((c->entity == FILTER_PARAM || c->entity == FILTER_TAG) && c->op == FILTER_EQ &&
                   c->kind == FILTER_STRING) {
            sc->entity = c->entity == FILTER_PARAM ? STORE_SCAN_PARAM : STORE_SCAN_TAG;
            sc->op = STORE_SCAN_EQ;
            sc->text = c->string;
            n_conds++;
        }
    }
    struct store_mlflow_scan scan_q = {
        .experiment_ids = q->experiment_ids,
        .n_experiments = q->n_experiments,
        .lifecycle_stage = q->lifecycle_stage,
        .metric_keys = keys[0].names,
        .n_metric_keys = keys[0].n,
        .param_keys = keys[1].names,
        .n_param_keys = keys[1].n,
        .tag_keys = keys[2].names,
        .n_tag_keys = keys[2].n,
        .conds = conds,
        .n_conds = n_conds,
    };
    struct store_scan scan;
    int rc = store_mlflow_runs_scan(s, &scan_q, &scan, e);
    struct row *rows = NULL;
    struct row **kept = NULL;
    if (rc == 0) {
        rows = xcalloc(scan.n + 1, sizeof *rows);
        kept = xcalloc(scan.n + 1, sizeof *kept);
        size_t n_kept = 0;
        for (size_t i = 0; i < scan.n; i++) {
            const struct store_scan_row *sr = &scan.rows[i];
            struct row *r = &rows[i];
            r->scan = sr;
            r->keys = keys;
            r->view = (struct filter_row){
                .run_id = sr->run_id,
                .run_name = sr->run_name,
                .user_id = sr->user_id,
                .status = q->status_name(sr->status),
                .artifact_uri = sr->artifact_uri,
                .start_time = sr->start_time,
                .end_time = sr->end_time,
                .metric = row_metric,
                .param = row_param,
                .tag = row_tag,
                .ctx = r,
            };
            if (!q->filter || filter_match(q->filter, &r->view)) kept[n_kept++] = r;
        }
        out->matches = n_kept;
        size_t need = q->offset + q->limit;
        if (need < q->offset) need = n_kept; /* overflow: everything */
        tl_order = q->order;
        size_t have = select_first(kept, n_kept, need);
        if (have > q->offset) out->run_ids = xcalloc(have - q->offset, sizeof *out->run_ids);
        for (size_t i = q->offset; i < have; i++)
            out->run_ids[out->n++] = xstrdup(kept[i]->scan->run_id);
    }
    free(rows);
    free(kept);
    free(conds);
    store_scan_free(&scan);
    for (int i = 0; i < 3; i++)
        free(keys[i].names);
    return rc;
}

void run_search_page_free(struct run_search_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->run_ids[i]);
    free(p->run_ids);
    memset(p, 0, sizeof *p);
}
