/* The boucle YAML configuration: loading, validation and defaults.
 * Every error names the file, the line and the key ("boucle.yaml:7: tasks.sentiment.typo:
 * unknown key"). Paths in the file are relative to the file's own folder. */
#ifndef BOUCLE_BASE_CONFIG_H
#define BOUCLE_BASE_CONFIG_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

enum task_type { TASK_BINARY, TASK_MULTICLASS, TASK_MULTILABEL };
const char *task_type_name(enum task_type t);

/* A scalar parameter of a free-form mapping (e.g. the keys of `model:`),
 * kept as text with its line so the layer that knows its meaning can check it. */
struct config_param {
    char *key;
    char *value;
    int line;
};

/* ---- the automatic loop (issue 3) ---- */

enum trigger_kind {
    TRIGGER_FEEDBACK_COUNT,
    TRIGGER_SATISFACTION,
    TRIGGER_SCHEDULE,
    TRIGGER_NEW_DATA
};
const char *trigger_kind_name(enum trigger_kind k); /* "feedback_count", ... */

struct trigger_config {
    enum trigger_kind kind;
    int line;
    long feedback_count;       /* feedback_count: N — new usable (gold) feedback */
    double satisfaction_below; /* satisfaction: {below: 0.8, window: 7d, min_samples: 50} */
    int64_t satisfaction_window_ms;
    long satisfaction_min_samples;
    char *schedule; /* schedule: "0 2 * * 0" (5-field cron, config timezone) */
};

enum run_if { RUN_IF_SUCCESS, RUN_IF_ALWAYS, RUN_IF_FAILURE };
const char *run_if_name(enum run_if r);

struct step_options {
    int retries;            /* extra attempts after a failure; default 0 */
    int64_t retry_delay_ms; /* default 5 s */
    int64_t timeout_ms;     /* default 30 min; 0 = none */
    enum run_if run_if;     /* default success (notify: always) */
};

enum step_kind {
    STEP_CHECK,
    STEP_PREPARE,
    STEP_TRAIN,
    STEP_EVALUATE,
    STEP_DEPLOY,
    STEP_NOTIFY,
    STEP_COMMAND
};
const char *step_kind_name(enum step_kind k);

struct step_config {
    enum step_kind kind;
    int line;
    struct step_options opt;
    char **argv; /* command: argv (a string is run with /bin/sh -c) */
    size_t argc;
};

struct pipeline_config {
    struct step_options defaults;
    struct step_config *steps; /* default: check, prepare, train, evaluate, deploy, notify */
    size_t n_steps;
};

struct gate_config {
    char *primary;     /* metric name, default "f1_macro", multilabel "f1_micro" (eval/gate.h) */
    double min_delta;  /* the challenger must gain at least this much; default 0.0 */
    double confidence; /* of the paired test; default 0.95 */
    char *test;        /* "bootstrap" (default) or "mcnemar" */
    int bootstrap_samples;  /* default 1000 */
    double max_recall_drop; /* guard: no class's recall may drop more than this; default 0.05 */
};

struct notify_config {
    char *webhook_url; /* JSON POST */
    char *smtp_url;    /* smtp://127.0.0.1:25 */
    char *email_from;
    char **email_to;
    size_t n_email_to;
    int64_t timeout_ms; /* per notification; default 10 s */
};

/* ---- data preparation (issue 5) ---- */

/* The `clean:` steps, applied in the listed order. The text steps rewrite
 * each text field (and run on served requests too); drop_empty and dedupe
 * remove rows of training data only. */
enum clean_step {
    CLEAN_STRIP_HTML,
    CLEAN_STRIP_CODE,
    CLEAN_SCRUB_PII,
    CLEAN_NORMALIZE_WHITESPACE,
    CLEAN_DROP_EMPTY,
    CLEAN_DEDUPE
};
#define CLEAN_N_STEPS 6
#define TASK_MAX_TEXT_FIELDS 32    /* so the predict path keeps field views on the stack */
#define CLEAN_MAX_SEPARATOR 32     /* bytes of text_separator */
#define TASK_MAX_LABEL_SEPARATOR 8 /* bytes of label_separator */
const char *clean_step_name(enum clean_step s); /* "strip_html", ... */
int clean_step_parse(const char *name, enum clean_step *out);

/* How a task's text fields become the one text a model sees: joined with
 * `separator`, then cleaned. A trained model carries a copy in its artifact,
 * so a served request is prepared as the model's training text was. */
struct clean_config {
    unsigned char steps[CLEAN_N_STEPS]; /* enum clean_step, each at most once */
    size_t n_steps;
    char separator[CLEAN_MAX_SEPARATOR + 1]; /* default "\n" */
};
void clean_config_defaults(struct clean_config *c); /* no steps, "\n" */

/* ---- tabular features (issue 5): `numeric:` and `categorical:` of a task ---- */

/* What stands in for a missing numeric value: a statistic of the training
 * data, kept in the model artifact so serving imputes as training did. */
enum impute_kind { IMPUTE_MEDIAN, IMPUTE_MEAN, IMPUTE_ZERO };
const char *impute_kind_name(enum impute_kind k); /* "median", "mean", "zero" */
/* numeric and categorical fields together: the predict path keeps their
 * values on the stack */
#define TASK_MAX_TABULAR_FIELDS 256
#define TABULAR_MAX_HASH_BITS 24

struct numeric_field {
    char *name;
    enum impute_kind impute; /* its own `impute:`, else the task's (default median) */
    int own_impute;          /* the field gave its own */
    int line;
};

struct categorical_field {
    char *name;
    int hash_bits; /* 0: one-hot over the training values; else 2^hash_bits hashed buckets */
    int line;
};

/* ---- shadow and canary rollouts (issue 6): `rollout:` of a task ---- */

enum rollout_strategy { ROLLOUT_DIRECT, ROLLOUT_SHADOW, ROLLOUT_CANARY };
const char *rollout_strategy_name(enum rollout_strategy s); /* "direct", "shadow", "canary" */
/* "direct", "shadow" or "canary" -> 0 and *out; -1 for anything else. */
int rollout_strategy_parse(const char *name, enum rollout_strategy *out);

struct rollout_config {
    enum rollout_strategy strategy; /* how the pipeline's deploy step deploys; default direct */
    int percent;                    /* canary: share of requests the challenger answers; 10 */
    long min_feedback;              /* canary: judged predictions per side before deciding; 200 */
    double confidence;              /* of the one-sided test that the canary is worse; 0.95 */
    double max_drop;                /* a live accuracy drop tolerated before a rollback; 0.0 */
};

/* ---- the data contract (issue 5): `contract:` of a task ---- */

/* What an import that breaks the contract of the task's previous import
 * does: refused (nothing stored), stored with the differences recorded and
 * shown, or no check at all. */
enum contract_action { CONTRACT_WARN, CONTRACT_REFUSE, CONTRACT_OFF };
/* Labels: `same` (none appears, none disappears), `superset` (new labels
 * may appear), `any`. Columns: `same` or `superset` (new columns may appear). */
enum contract_labels { CONTRACT_LABELS_SAME, CONTRACT_LABELS_SUPERSET, CONTRACT_LABELS_ANY };
enum contract_columns { CONTRACT_COLUMNS_SAME, CONTRACT_COLUMNS_SUPERSET };
const char *contract_action_name(enum contract_action a);   /* "warn", "refuse", "off" */
const char *contract_labels_name(enum contract_labels l);   /* "same", "superset", "any" */
const char *contract_columns_name(enum contract_columns c); /* "same", "superset" */

struct contract_config {
    enum contract_action on_violation; /* default warn */
    double max_null_rate_increase;     /* absolute, per field; default 0.05 */
    enum contract_labels labels;       /* default same */
    enum contract_columns columns;     /* default same */
    double max_label_share_change;     /* absolute, per label; < 0 (the default): not checked */
};

/* ---- hyper-parameter search (issue 5): `search:` in a task's `model:` ---- */

/* One key of the grid and its candidate values, kept as text with their
 * lines (as the other `model:` keys): the model kind checks them. */
struct search_param {
    char *key;
    char **values;
    int *lines;
    size_t n_values;
    int line;
};

#define SEARCH_MAX_FOLDS 20
#define SEARCH_MAX_JOBS 64

struct search_config {
    int enabled; /* the task's model has a `search:` */
    int line;
    struct search_param *grid; /* in the file's order: trials vary the last key fastest */
    size_t n_grid;
    size_t n_trials; /* the product of the value counts */
    int folds;       /* stratified k-fold; default 5, 2..SEARCH_MAX_FOLDS */
    char *metric;    /* higher is better; NULL: the task's gate.primary */
    int jobs;        /* trials trained at once; 0 (default) = one per online core */
    long max_trials; /* a bigger grid is refused; default 200 */
    uint64_t seed;   /* of the folds; default 0 */
};

struct task_config {
    char *name;
    int line;
    enum task_type type;
    char **text_fields; /* concatenated in this order, separated by clean.separator */
    size_t n_text_fields;
    struct clean_config clean; /* `clean:` and `text_separator:` */
    /* tabular inputs beside (or instead of) the text; a task has at least
     * one text, numeric or categorical field */
    struct numeric_field *numeric;
    size_t n_numeric;
    struct categorical_field *categorical;
    size_t n_categorical;
    enum impute_kind impute; /* the task's `impute:`, default median */
    char *label;
    /* multilabel: what separates the labels in one CSV cell (a JSONL array
     * needs none); default "|" */
    char label_separator[TASK_MAX_LABEL_SEPARATOR + 1];
    char *model_kind;                  /* "linear" */
    struct config_param *model_params; /* the other keys of `model:` */
    size_t n_model_params;
    struct search_config search; /* `model: {search: ...}` */
    double test_fraction;        /* share held out by the first import; default 0.2 */

    /* the loop */
    struct trigger_config *triggers;
    size_t n_triggers;
    struct pipeline_config pipeline;
    struct gate_config gate;
    struct notify_config notify;
    struct rollout_config rollout;
    struct contract_config contract; /* checked by imports against the previous one */
    double feedback_holdout;         /* share of new gold feedback held out for evaluation; 0.2 */
    int64_t retrain_cooldown_ms; /* no automatic retrain sooner after the last; default 10 min */
    /* knobs for experiments and tests: train on a fraction of the train
     * split (default 1.0), or with its labels shuffled (default false) */
    double train_fraction;
    int shuffle_labels;
};

struct config_limits {
    size_t max_body_bytes; /* default 1 MiB */
    /* the body of POST /v1/tasks/{task}/imports, a whole data file: its own
     * limit, since a file is far larger than any JSON request; default 64 MiB */
    size_t max_import_bytes;
    size_t max_batch;       /* default 256 instances per predict request */
    size_t max_field_bytes; /* default 64 KiB per text field, in imports and requests */
    /* serving at speed, safely (config_serve.c) */
    size_t max_connections; /* open at once; more get 503. 0 = 1024, or what the fd limit allows */
    double rate;            /* requests/s per token (per client address without one); 0 = off */
    unsigned burst;         /* requests a client may send at once; default: rate rounded up */
    int64_t request_timeout_ms; /* to send a whole request (and idle keep-alive); default 30 s */
};

/* ---- API tokens (issue 6) ---- */

enum auth_scope { SCOPE_PREDICT = 1, SCOPE_FEEDBACK = 2, SCOPE_ADMIN = 4 };
/* Routes that answer without a token when tokens are configured. */
enum auth_public {
    PUBLIC_HEALTHZ = 1,
    PUBLIC_READYZ = 2,
    PUBLIC_METRICS = 4,
    PUBLIC_DASHBOARD = 8
};

struct auth_token {
    char *name;
    char sha256[65]; /* of the token: the token itself is never stored */
    unsigned scopes; /* enum auth_scope bits; admin implies the others */
    int line;
    int has_rate;   /* rate and burst below replace limits.rate and limits.burst */
    double rate;    /* 0 = unlimited */
    unsigned burst; /* default: rate rounded up */
};

struct auth_config {
    struct auth_token *tokens;
    size_t n_tokens;
    unsigned public_routes; /* enum auth_public bits; default healthz, readyz, dashboard */
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
    char *timezone;                /* for schedules; default: the TZ environment, else UTC */
    int64_t scheduler_interval_ms; /* how often serve checks triggers; default 10 s */
    int worker_enabled;            /* serve spawns and supervises a worker; default true */
    int64_t worker_lease_ms; /* a job whose worker stops heartbeating is retried after; 60 s */
    char *public_url;        /* given to command steps as BOUCLE_URL; default http://LISTEN */
    struct auth_config auth; /* no tokens: no authentication, loopback only */
    char *access_log;        /* NULL = off, "stderr", or an absolute path (config_serve.c) */
    struct task_config *tasks;
    size_t n_tasks;
};

int config_load(const char *path, struct config *out, struct err *e);
/* Same from memory; `name` is used in messages, `base_dir` resolves relative paths. */
int config_load_string(const char *yaml, size_t len, const char *name, const char *base_dir,
                       struct config *out, struct err *e);
void config_free(struct config *c);
const struct task_config *config_task(const struct config *c, const char *name);

/* "500ms", "10s", "30m", "2h", "7d" (or a bare number of seconds) -> milliseconds. */
int config_parse_duration(const char *text, int64_t *ms);

/* A standalone pipeline file for `boucle run FILE`:
 *   task: sentiment
 *   defaults: {retries: 1, timeout: 10m}
 *   steps: [evaluate, {notify: {run_if: always}}, {command: {argv: [python3, x.py]}}]  */
struct pipeline_file {
    char *task;
    struct pipeline_config pipeline;
};
int config_load_pipeline(const char *path, const struct config *cfg, struct pipeline_file *out,
                         struct err *e);
void pipeline_file_free(struct pipeline_file *p);

#endif
