/* The MLflow REST protocol (tracking: experiments, runs, params, metrics,
 * tags, search, metric history; the model registry; run artifacts) over the
 * store: request validation, JSON
 * shapes, error codes, page tokens and the latest-metric rule. HTTP-free:
 * serve/routes_mlflow.c hands it the call's fields and sends its answer.
 * See docs of the protocol in shared/protocols/mlflow-rest-subset.md. */
#ifndef BOUCLE_TRACK_MLFLOW_H
#define BOUCLE_TRACK_MLFLOW_H

#include "store/store.h"

#include <jansson.h>

/* Answers one call. method: "GET", "POST"...; endpoint: the path after the
 * "/api/2.0/mlflow/" (or "/ajax-api/2.0/mlflow/") prefix, e.g. "runs/create";
 * req: the request's fields (the query string's for GET, the JSON body's
 * otherwise; borrowed); actor: who calls ("token:ci"), kept in the alias
 * history of the moves the call makes (may be NULL). Returns the answer (a
 * new reference: {} or the call's object, or {"error_code","message"}) and
 * sets *status. */
json_t *mlflow_call(struct store *s, const char *method, const char *endpoint, json_t *req,
                    const char *actor, unsigned int *status);

/* An error answer {"error_code","message"}; sets *status. */
json_t *mlflow_error(unsigned int *status, unsigned int http_status, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Serialises an answer: compact, doubles with 17 significant digits so they
 * round-trip exactly. The caller frees the text. */
char *mlflow_dump(const json_t *doc);

/* Rewrites bare NaN, Infinity and -Infinity tokens outside strings (which
 * Python's json module writes) into the strings "NaN", "Infinity",
 * "-Infinity" that JSON parsers accept. Returns a new NUL-terminated text. */
char *mlflow_json_nonfinite(const char *text, size_t len);

/* Page tokens: opaque text for an offset into an ordered result. */
char *mlflow_page_token(size_t offset);
/* 0 and the offset, or -1 when the token is not one of ours. */
int mlflow_page_offset(const char *token, size_t *offset);

/* An artifact path from a request (raw bytes, len of them), checked and
 * normalised: relative, '/'-separated, no '..' segment, no absolute path,
 * backslash, NUL, control character or leftover percent-encoding ("." and
 * empty segments are dropped). A new string, or NULL with *why saying what
 * is wrong. allow_empty: "" (the root) is accepted. */
char *mlflow_artifact_path(const char *raw, size_t len, int allow_empty, const char **why);

/* The artifacts proxy (/api/2.0/mlflow-artifacts/artifacts...). rest: the
 * path after ".../artifacts/" ("<experiment_id>/<run_id>/artifacts/<path>";
 * rest_len 0: a listing of query_path). PUT stores body, DELETE deletes,
 * GET downloads: then it returns NULL with the bytes in *data (caller frees)
 * and *status 200. Otherwise it returns the JSON answer and sets *status. */
json_t *mlflow_artifacts_call(struct store *s, const char *method, const char *rest,
                              size_t rest_len, const char *query_path, size_t query_len,
                              const void *body, size_t body_len, void **data, size_t *data_len,
                              unsigned int *status);

#endif
