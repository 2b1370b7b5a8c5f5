/* Shared between config.c (the YAML walk and the core keys) and config_loop.c
 * (the automatic loop's keys and standalone pipeline files). Not for other
 * modules: they see only base/config.h. */
#ifndef BOUCLE_BASE_CONFIG_INTERNAL_H
#define BOUCLE_BASE_CONFIG_INTERNAL_H

#include "base/config.h"

#include <yaml.h>

#define PATH_MAX_KEY 192 /* key paths in messages ("tasks.sentiment.model.C") */

struct cfg_ctx {
    const char *name; /* file name used in messages */
    const char *dir;  /* absolute folder relative paths are resolved against */
    yaml_document_t *doc;
    struct err *e;
};

/* ---- node helpers (config.c) ---- */

int cfg_line(const yaml_node_t *n);
/* Every validation error has the same shape: "file:line: key.path: what"; returns -1. */
int cfg_fail(struct cfg_ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *cfg_kind_name(const yaml_node_t *n); /* "a mapping", "a list", "a scalar" */
const char *cfg_text(const yaml_node_t *n);      /* a scalar's text */
int cfg_is_null(const yaml_node_t *n);           /* `key:`, `~`, `null` unquoted */
yaml_node_t *cfg_node(struct cfg_ctx *c, int id);
int cfg_want(struct cfg_ctx *c, const yaml_node_t *n, yaml_node_type_t type, const char *path);
int cfg_unknown_key(struct cfg_ctx *c, yaml_node_t *k, const char *path);

/* Value readers: each checks the node and fails with the key path on a bad value. */
int cfg_string(struct cfg_ctx *c, const yaml_node_t *n, const char *path, const char **out);
int cfg_uint(struct cfg_ctx *c, const yaml_node_t *n, const char *path, unsigned long long min,
             unsigned long long max, unsigned long long *out);
int cfg_choice(struct cfg_ctx *c, const yaml_node_t *n, const char *path,
               const char *const *choices, size_t n_choices, size_t *out);
/* A number in a range; lo_open/hi_open make that bound exclusive. The message
 * shows the range in interval notation: "expected a number in (0, 1], got 'x'". */
int cfg_number(struct cfg_ctx *c, const yaml_node_t *n, const char *path, double lo, int lo_open,
               double hi, int hi_open, double *out);
int cfg_bool(struct cfg_ctx *c, const yaml_node_t *n, const char *path, int *out);
/* An integer in [min, max], said so when it is not (config_loop.c). */
int cfg_int_in_range(struct cfg_ctx *c, const yaml_node_t *n, const char *path, long min, long max,
                     long *out);
/* A duration (config_parse_duration) of at least min_ms milliseconds. */
int cfg_duration(struct cfg_ctx *c, const yaml_node_t *n, const char *path, int64_t min_ms,
                 int64_t *out);

/* Walks a mapping's pairs after checking keys are scalars and not repeated.
 * `visit` gets the key text, both nodes and the key path. */
typedef int (*cfg_pair_fn)(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                           const char *path, void *user);
int cfg_each_pair(struct cfg_ctx *c, yaml_node_t *map, const char *path, cfg_pair_fn visit,
                  void *user);

/* Parses one YAML document from memory and hands its root (NULL when empty)
 * to `fn`; a second document in the text is an error. */
typedef int (*cfg_doc_fn)(struct cfg_ctx *c, yaml_node_t *root, void *user);
int cfg_parse(struct cfg_ctx *c, const char *text, size_t len, cfg_doc_fn fn, void *user);
/* The whole file, NUL-terminated; `what` names it in messages ("config"). */
char *cfg_read_file(const char *path, const char *what, size_t *len, struct err *e);
char *cfg_dirname(const char *path);

/* ---- API tokens (config_auth.c) ---- */

/* Handles `auth:`; returns 1 when the key is not its own. */
int cfg_auth_top_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                      struct config *cfg);
void cfg_auth_free(struct config *cfg);

/* ---- data preparation (config_clean.c) ---- */

/* A task's `clean:` or `text_separator:`: 0 = parsed, -1 = error, 1 = not its key. */
int cfg_clean_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                        struct task_config *t);

/* ---- tabular features (config_tabular.c) ---- */

/* A task's `numeric:`, `categorical:` or `impute:`: 0 = parsed, -1 = error,
 * 1 = not its key. */
int cfg_tabular_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                          struct task_config *t);
/* After the task's keys (k is the task's key node): field names unique
 * across text, numeric and categorical and not the label, the task's
 * `impute:` given to fields without their own, row steps only with text. */
int cfg_tabular_task_finish(struct cfg_ctx *c, yaml_node_t *k, const char *path,
                            struct task_config *t);
void cfg_tabular_task_free(struct task_config *t);

/* ---- serving limits and the access log (config_serve.c) ---- */

void cfg_serve_defaults(struct config *cfg);
/* A key of `limits:` not handled by config.c: 0 = parsed, -1 = error, 1 = not its own. */
int cfg_serve_limits_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                          struct config_limits *l);
/* `access_log:` at the top: 0 = parsed, -1 = error, 1 = not its own. */
int cfg_serve_top_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                       struct config *cfg);
/* A request rate (requests per second, 0 = unlimited), for limits and tokens. */
int cfg_serve_rate(struct cfg_ctx *c, yaml_node_t *v, const char *path, double *out);
/* A burst (requests at once, >= 1). */
int cfg_serve_burst(struct cfg_ctx *c, yaml_node_t *v, const char *path, unsigned *out);
/* After the whole file: bursts default to their rate, rounded up. */
int cfg_serve_finish(struct cfg_ctx *c, struct config *cfg);
void cfg_serve_free(struct config *cfg);

/* ---- the automatic loop's keys (config_loop.c) ---- */

void cfg_loop_defaults(struct config *cfg);
/* A top-level key: 0 = parsed, -1 = error, 1 = not a loop key. */
int cfg_loop_top_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                      struct config *cfg);
/* After the whole file: public_url from listen, timezone from TZ. */
void cfg_loop_finish(struct config *cfg);
void cfg_loop_free(struct config *cfg);

void cfg_loop_task_defaults(struct task_config *t);
/* A key of a task: 0 = parsed, -1 = error, 1 = not a loop key. */
int cfg_loop_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                       struct task_config *t);
/* After the task's keys: the default pipeline when `pipeline:` was left out. */
void cfg_loop_task_finish(struct task_config *t);
void cfg_loop_task_free(struct task_config *t);

/* ---- a task's `model: {search: ...}` (config_search.c) ---- */

void cfg_search_task_defaults(struct task_config *t);
/* A key of `model:`: 0 = parsed, -1 = error, 1 = not `search`. */
int cfg_search_model_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                          struct task_config *t);
void cfg_search_task_free(struct task_config *t);

/* ---- a task's `rollout:` (config_rollout.c) ---- */

void cfg_rollout_task_defaults(struct task_config *t);
/* A key of a task: 0 = parsed, -1 = error, 1 = not `rollout`. */
int cfg_rollout_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                          struct task_config *t);

/* ---- a task's `contract:` (config_contract.c) ---- */

void cfg_contract_task_defaults(struct task_config *t);
/* A key of a task: 0 = parsed, -1 = error, 1 = not `contract`. */
int cfg_contract_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                           struct task_config *t);

#endif
