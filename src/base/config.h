/* The boucle YAML configuration: loading, validation and defaults.
 * Every error names the file, the line and the key ("boucle.yaml:7: tasks.sentiment.typo:
 * unknown key"). Paths in the file are relative to the file's own folder. */
#ifndef BOUCLE_BASE_CONFIG_H
#define BOUCLE_BASE_CONFIG_H

#include "base/err.h"

#include <stddef.h>

enum task_type { TASK_BINARY, TASK_MULTICLASS, TASK_MULTILABEL };
const char *task_type_name(enum task_type t);

/* A scalar parameter of a free-form mapping (e.g. the keys of `model:`),
 * kept as text with its line so the layer that knows its meaning can check it. */
struct config_param {
    char *key;
    char *value;
    int line;
};

struct task_config {
    char *name;
    int line;
    enum task_type type;
    char **text_fields; /* concatenated in this order, separated by "\n" */
    size_t n_text_fields;
    char *label;
    char *model_kind;                  /* "linear" */
    struct config_param *model_params; /* the other keys of `model:` */
    size_t n_model_params;
    double test_fraction; /* share held out by the first import; default 0.2 */
};

struct config_limits {
    size_t max_body_bytes;  /* default 1 MiB */
    size_t max_batch;       /* default 256 instances per predict request */
    size_t max_field_bytes; /* default 64 KiB per text field, in imports and requests */
};

struct config {
    char *path;       /* as given */
    char *dir;        /* absolute folder of the file */
    char *store_url;  /* resolved: "sqlite:/abs/path/boucle.db" */
    char *listen;     /* "127.0.0.1:8080" */
    int threads;      /* HTTP worker threads; 0 = number of cores */
    char *log_level;  /* debug|info|warn|error, default info */
    char *log_format; /* text|json, default text */
    struct config_limits limits;
    struct task_config *tasks;
    size_t n_tasks;
};

int config_load(const char *path, struct config *out, struct err *e);
/* Same from memory; `name` is used in messages, `base_dir` resolves relative paths. */
int config_load_string(const char *yaml, size_t len, const char *name, const char *base_dir,
                       struct config *out, struct err *e);
void config_free(struct config *c);
const struct task_config *config_task(const struct config *c, const char *name);

#endif
