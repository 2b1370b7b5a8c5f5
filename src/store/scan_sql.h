/* The run-search scan's shape, shared by the SQLite and PostgreSQL backends
 * (store_mlflow_runs_scan): one SELECT of the attributes with one indexed
 * sub-select per metric, param and tag key, every value bound. */
#ifndef BOUCLE_STORE_SCAN_SQL_H
#define BOUCLE_STORE_SCAN_SQL_H

#include "store/store.h"

/* Parameters: 1 the experiment ids, 2 the lifecycle stage (or NULL), then
 * the metric keys, the param keys and the tag keys in that order, then each
 * condition's key and value (scan_params builds them). Columns:
 * id, run_name, user_id, status, started_ms, ended_ms, artifact_uri, then one
 * per key in the same order; a metric's is NULL when the run lacks the key
 * and 'NaN' (or NaN) for a NaN value. `pg`: PostgreSQL's $n placeholders
 * and types, else SQLite's ?n. The caller frees the text. */
char *scan_sql(const struct store_mlflow_scan *q, int pg);

enum { SCAN_FIRST_KEY_COLUMN = 7, SCAN_FIRST_KEY_PARAM = 3 };

/* Every bound value of scan_sql's statement, as text (NULL binds NULL): a
 * metric condition's number is written with 17 digits, which both SQLite's
 * REAL affinity and PostgreSQL's ::float8 read back exactly. */
struct scan_params {
    const char **texts;
    size_t n;
    char (*numbers)[32]; /* the storage of the conditions' numbers */
};
void scan_params_build(const struct store_mlflow_scan *q, const char *experiment_ids_text,
                       struct scan_params *out);
void scan_params_free(struct scan_params *p);

/* Appends a row to out with its per-key arrays allocated (zeroed). */
struct store_scan_row *scan_add_row(struct store_scan *out, const struct store_mlflow_scan *q,
                                    size_t *capacity);

#endif
