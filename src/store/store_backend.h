/* The table every store backend fills in. store.c validates arguments, takes
 * the handle's lock and dispatches here, so a backend never locks and never
 * re-checks what store.c already checked; adding PostgreSQL means adding one
 * more table, with no change to any caller. `conn` is the backend's own
 * connection object, returned by its open(). */
#ifndef BOUCLE_STORE_STORE_BACKEND_H
#define BOUCLE_STORE_STORE_BACKEND_H

#include "store/store.h"

struct store_backend {
    const char *name;   /* "sqlite" */
    const char *scheme; /* the URL prefix that selects it: "sqlite:" */

    void *(*open)(const char *url, struct err *e);
    void (*close)(void *conn);
    int (*schema_version)(void *conn);

    int (*dataset_find)(void *conn, const char *task, const char *hash, int64_t *id, struct err *e);
    int (*example_count)(void *conn, const char *task, int64_t *count, struct err *e);
    int (*dataset_add)(void *conn, const char *task, const char *hash, const char *source,
                       const struct store_example *rows, size_t n, int64_t *id, struct err *e);
    json_t *(*datasets_list)(void *conn, const char *task, struct err *e);
    int (*examples_foreach)(void *conn, const char *task, store_example_cb cb, void *ctx,
                            struct err *e);

    int (*run_create)(void *conn, const char *run_id, const char *task, const char *kind,
                      const char *params_json, struct err *e);
    int (*run_finish)(void *conn, const char *run_id, const char *status, const char *metrics_json,
                      struct err *e);
    int (*run_log)(void *conn, const char *run_id, const char *line, struct err *e);
    json_t *(*run_get)(void *conn, const char *run_id, struct err *e);
    json_t *(*runs_list)(void *conn, const char *task, size_t limit, struct err *e);

    /* v->artifact_sha256 is always set (store.c computes or checks it). */
    int (*model_add)(void *conn, const struct store_model_version *v, int64_t *version,
                     struct err *e);
    int (*model_artifact)(void *conn, const char *task, int64_t version, void **data, size_t *len,
                          struct err *e);
    json_t *(*models_list)(void *conn, const char *task, struct err *e);
    int (*alias_set)(void *conn, const char *task, const char *alias, int64_t version,
                     const char *reason, struct err *e);
    int (*alias_get)(void *conn, const char *task, const char *alias, int64_t *version,
                     struct err *e);
    json_t *(*alias_history)(void *conn, const char *task, struct err *e);

    int (*predictions_add)(void *conn, const struct store_prediction *rows, size_t n,
                           struct err *e);
    json_t *(*prediction_get)(void *conn, const char *id, struct err *e);
    int (*feedback_add)(void *conn, const struct store_feedback *f, struct err *e);
    json_t *(*feedback_get)(void *conn, const char *id, struct err *e);
    json_t *(*feedback_stats)(void *conn, const char *task, struct err *e);
};

extern const struct store_backend sqlite_store_backend;

#endif
