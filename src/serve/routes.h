/* The API's handlers, one file per group of routes. Each answers through
 * serve/http.h and never fails silently. */
#ifndef BOUCLE_SERVE_ROUTES_H
#define BOUCLE_SERVE_ROUTES_H

#include "serve/http.h"
#include "serve/server.h"

/* routes_predict.c: POST /v1/tasks/{task}/predict */
void routes_predict(struct server *srv, struct http_request *r, struct served_task *task);
/* routes_feedback.c: POST /v1/feedback, GET /v1/feedback/{id} */
void routes_feedback_post(struct server *srv, struct http_request *r);
void routes_feedback_get(struct server *srv, struct http_request *r, const char *id);
/* routes_admin.c: health, readiness and read-only views of the store */
void routes_healthz(struct server *srv, struct http_request *r);
void routes_readyz(struct server *srv, struct http_request *r);
void routes_tasks(struct server *srv, struct http_request *r);
void routes_models(struct server *srv, struct http_request *r, struct served_task *task);
void routes_datasets(struct server *srv, struct http_request *r);
void routes_runs(struct server *srv, struct http_request *r, const char *id);
void routes_prediction_get(struct server *srv, struct http_request *r, const char *id);

/* routes_loop.c: the retrain loop */
void routes_retrain_post(struct server *srv, struct http_request *r, struct served_task *task);
void routes_retrain_delete(struct server *srv, struct http_request *r, struct served_task *task);
void routes_rollback(struct server *srv, struct http_request *r, struct served_task *task);
void routes_review(struct server *srv, struct http_request *r, struct served_task *task);
void routes_jobs(struct server *srv, struct http_request *r);

/* routes_registry.c: one version, a promotion, the aliases and their history */
void routes_model_get(struct server *srv, struct http_request *r, struct served_task *task,
                      const char *version);
void routes_model_promote(struct server *srv, struct http_request *r, struct served_task *task,
                          const char *version);
void routes_aliases(struct server *srv, struct http_request *r, struct served_task *task);

/* routes_mlflow.c: the MLflow REST surface under /api/2.0/mlflow/ and
 * /ajax-api/2.0/mlflow/ (errors in MLflow's own shape) */
int routes_is_mlflow(const char *path);
void routes_mlflow(struct server *srv, struct http_request *r);

/* routes_rollout.c: GET/POST/DELETE /v1/tasks/{task}/rollout (any other
 * method is refused by the dispatcher), and the rollout families of /metrics */
void routes_rollout(struct server *srv, struct http_request *r, struct served_task *task);
void routes_rollout_metrics(struct server *srv, struct buf *out, uint64_t *errors);

/* routes_import.c: POST /v1/tasks/{task}/imports, a data file as the body,
 * imported on the import thread (the request is suspended meanwhile).
 * routes_is_import tells server.c, before the body is read, that the
 * request is one (its own body limit, and its token checked first). */
int routes_is_import(const char *method, const char *path);
void routes_import(struct server *srv, struct http_request *r, struct served_task *task);

/* routes_metrics.c: GET /metrics, Prometheus text format */
void routes_metrics(struct server *srv, struct http_request *r);

/* Dispatches by method and path; unknown paths 404, wrong methods 405. */
void routes_dispatch(struct server *srv, struct http_request *r);

#endif
