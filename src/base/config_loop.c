/* The automatic loop's part of boucle.yaml: time zone, scheduler, worker,
 * public URL, and per task the triggers, the pipeline, the gate, the
 * notifications and the retrain knobs. Also standalone pipeline files
 * (`boucle run FILE`), which share the step syntax and its parser.
 * Same rules as config.c: unknown keys are errors, and every error names
 * the file, the line and the key path ("tasks.s.triggers[1].satisfaction.below"). */
#include "base/config.h"

#include "base/config_internal.h"
#include "base/mem.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo"

const char *trigger_kind_name(enum trigger_kind k)
{
    switch (k) {
    case TRIGGER_FEEDBACK_COUNT:
        return "feedback_count";
    case TRIGGER_SATISFACTION:
        return "satisfaction";
    case TRIGGER_SCHEDULE:
        return "schedule";
    case TRIGGER_NEW_DATA:
        return "new_data";
    }
    return "unknown";
}

const char *run_if_name(enum run_if r)
{
    switch (r) {
    case RUN_IF_SUCCESS:
        return "success";
    case RUN_IF_ALWAYS:
        return "always";
    case RUN_IF_FAILURE:
        return "failure";
    }
    return "unknown";
}

static const char *const step_names[] = {"check",  "prepare", "train",  "evaluate",
                                         "deploy", "notify",  "command"};

const char *step_kind_name(enum step_kind k)
{
    if ((size_t)k < sizeof step_names / sizeof step_names[0]) return step_names[k];
    return "unknown";
}

/* "tasks.s.triggers" + 1 -> "tasks.s.triggers[1]"; too long a path is cut short. */
static void item_path(char *out, size_t size, const char *path, size_t i)
{
    if (snprintf(out, size, "%s[%zu]", path, i) >= (int)size) out[size - 1] = '\0';
}

/* "tasks.s.triggers[1]" + "schedule" -> "tasks.s.triggers[1].schedule" */
static void key_path(char *out, size_t size, const char *path, const char *key)
{
    if (snprintf(out, size, "%s.%s", path, key) >= (int)size) out[size - 1] = '\0';
}

/* A list item written as a one-key mapping (`- satisfaction: {...}`): its key and value. */
static int one_key_item(struct cfg_ctx *c, yaml_node_t *item, const char *path, const char *example,
                        yaml_node_t **k, yaml_node_t **v)
{
    if (item->type != YAML_MAPPING_NODE ||
        item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1)
        return cfg_fail(c, item, path, "expected a one-key mapping like '%s', got %s", example,
                        item->type == YAML_MAPPING_NODE ? "several keys" : cfg_kind_name(item));
    *k = cfg_node(c, item->data.mapping.pairs.start->key);
    *v = cfg_node(c, item->data.mapping.pairs.start->value);
    if (!*k || !*v) return cfg_fail(c, item, path, "malformed mapping");
    return cfg_want(c, *k, YAML_SCALAR_NODE, path);
}

int cfg_int_in_range(struct cfg_ctx *c, const yaml_node_t *n, const char *path, long min, long max,
                     long *out)
{
    if (cfg_want(c, n, YAML_SCALAR_NODE, path)) return -1;
    const char *s = cfg_text(n);
    char *end;
    long v = strtol(s, &end, 10);
    if ((*s < '0' || *s > '9') || *end || v < min || v > max)
        return cfg_fail(c, n, path, "expected an integer from %ld to %ld, got '%s'", min, max, s);
    *out = v;
    return 0;
}

static int http_url(const char *s)
{
    return (str_starts_with(s, "http://") && s[7]) || (str_starts_with(s, "https://") && s[8]);
}

static void replace_string(char **slot, const char *s)
{
    free(*slot);
    *slot = xstrdup(s);
}

/* ---- steps and pipelines ------------------------------------------------- */

/* Step options as written at one level (pipeline defaults, or one step), with
 * the fields actually given, so levels override each other field by field. */
enum { OPT_RETRIES = 1, OPT_RETRY_DELAY = 2, OPT_TIMEOUT = 4, OPT_RUN_IF = 8 };

struct opt_layer {
    struct step_options v;
    unsigned set;
};

static struct step_options builtin_options(void)
{
    return (struct step_options){.retries = 0,
                                 .retry_delay_ms = 5 * 1000,
                                 .timeout_ms = 30 * 60 * 1000,
                                 .run_if = RUN_IF_SUCCESS};
}

static void overlay(struct step_options *o, const struct opt_layer *l)
{
    if (l->set & OPT_RETRIES) o->retries = l->v.retries;
    if (l->set & OPT_RETRY_DELAY) o->retry_delay_ms = l->v.retry_delay_ms;
    if (l->set & OPT_TIMEOUT) o->timeout_ms = l->v.timeout_ms;
    if (l->set & OPT_RUN_IF) o->run_if = l->v.run_if;
}

static void free_steps(struct step_config *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < steps[i].argc; j++)
            free(steps[i].argv[j]);
        free(steps[i].argv);
    }
    free(steps);
}

/* A pipeline being read: `defaults:` and `steps:` may come in any order, so
 * the steps keep their own options apart until both are known. */
struct pipeline_state {
    struct opt_layer defaults;
    struct step_config *steps;
    unsigned *step_set; /* per step: the OPT_ bits it set itself */
    size_t n_steps;
    int has_steps;
};

static void pipeline_state_free(struct pipeline_state *st)
{
    free_steps(st->steps, st->n_steps);
    free(st->step_set);
    memset(st, 0, sizeof *st);
}

static struct step_config *push_step(struct pipeline_state *st, enum step_kind kind, int line)
{
    st->steps = xrealloc(st->steps, (st->n_steps + 1) * sizeof *st->steps);
    st->step_set = xrealloc(st->step_set, (st->n_steps + 1) * sizeof *st->step_set);
    struct step_config *s = &st->steps[st->n_steps];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->line = line;
    st->step_set[st->n_steps++] = 0;
    return s;
}

/* Hands the steps to `out` with every option resolved: built-in default, then
 * `defaults:`, then the step's own. notify runs always unless told otherwise. */
static void pipeline_finish(struct pipeline_state *st, int line, struct pipeline_config *out)
{
    static const enum step_kind standard[] = {STEP_CHECK,    STEP_PREPARE, STEP_TRAIN,
                                              STEP_EVALUATE, STEP_DEPLOY,  STEP_NOTIFY};
    if (!st->has_steps)
        for (size_t i = 0; i < sizeof standard / sizeof standard[0]; i++)
            push_step(st, standard[i], line);
    out->defaults = builtin_options();
    overlay(&out->defaults, &st->defaults);
    for (size_t i = 0; i < st->n_steps; i++) {
        struct step_config *s = &st->steps[i];
        struct opt_layer own = {.v = s->opt, .set = st->step_set[i]};
        s->opt = out->defaults;
        if (s->kind == STEP_NOTIFY && !(st->defaults.set & OPT_RUN_IF))
            s->opt.run_if = RUN_IF_ALWAYS;
        overlay(&s->opt, &own);
    }
    out->steps = st->steps;
    out->n_steps = st->n_steps;
    free(st->step_set);
    memset(st, 0, sizeof *st);
}

static int parse_argv(struct cfg_ctx *c, struct step_config *s, yaml_node_t *v, const char *path)
{
    if (cfg_want(c, v, YAML_SEQUENCE_NODE, path)) return -1;
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (!n) return cfg_fail(c, v, path, "expected at least the program to run");
    s->argv = xcalloc(n, sizeof *s->argv);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        char ipath[PATH_MAX_KEY];
        item_path(ipath, sizeof ipath, path, i);
        if (!item) return cfg_fail(c, v, ipath, "malformed list");
        if (cfg_want(c, item, YAML_SCALAR_NODE, ipath)) return -1;
        /* arguments may be empty strings (""), the program may not; ~ is never meant */
        if (cfg_is_null(item) || (i == 0 && !*cfg_text(item)))
            return cfg_fail(c, item, ipath, "expected a%s string", i ? "" : " non-empty");
        s->argv[s->argc++] = xstrdup(cfg_text(item));
    }
    return 0;
}

struct opt_target {
    struct opt_layer *layer;
    struct step_config *step; /* NULL for `defaults:` */
    int has_run;
};

static int opt_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                    const char *path, void *user)
{
    static const char *const run_ifs[] = {"success", "always", "failure"};
    struct opt_target *t = user;
    struct step_options *o = &t->layer->v;
    if (str_eq(key, "retries")) {
        unsigned long long n;
        if (cfg_uint(c, v, path, 0, INT_MAX, &n)) return -1;
        o->retries = (int)n;
        t->layer->set |= OPT_RETRIES;
    } else if (str_eq(key, "retry_delay")) {
        if (cfg_duration(c, v, path, 0, &o->retry_delay_ms)) return -1;
        t->layer->set |= OPT_RETRY_DELAY;
    } else if (str_eq(key, "timeout")) {
        if (cfg_duration(c, v, path, 0, &o->timeout_ms)) return -1;
        t->layer->set |= OPT_TIMEOUT;
    } else if (str_eq(key, "run_if")) {
        size_t i;
        if (cfg_choice(c, v, path, run_ifs, 3, &i)) return -1;
        o->run_if = (enum run_if)i;
        t->layer->set |= OPT_RUN_IF;
    } else if (t->step && (str_eq(key, "argv") || str_eq(key, "run"))) {
        if (t->step->kind != STEP_COMMAND)
            return cfg_fail(c, k, path, "only a command step runs a program");
        if (t->step->argv) return cfg_fail(c, k, path, "give either 'argv' or 'run', not both");
        if (str_eq(key, "argv")) return parse_argv(c, t->step, v, path);
        const char *s;
        if (cfg_string(c, v, path, &s)) return -1;
        t->step->argv = xcalloc(3, sizeof *t->step->argv);
        t->step->argv[0] = xstrdup("/bin/sh");
        t->step->argv[1] = xstrdup("-c");
        t->step->argv[2] = xstrdup(s);
        t->step->argc = 3;
    } else {
        return cfg_unknown_key(c, k, path);
    }
    return 0;
}

/* One item of `steps:`: a name, or a one-key mapping from the name to its options. */
static int parse_step(struct cfg_ctx *c, struct pipeline_state *st, yaml_node_t *item,
                      const char *path)
{
    size_t kind;
    yaml_node_t *name = item, *opts = NULL;
    if (item->type != YAML_SCALAR_NODE &&
        one_key_item(c, item, path, "train: {retries: 2}", &name, &opts))
        return -1;
    if (cfg_choice(c, name, path, step_names, sizeof step_names / sizeof step_names[0], &kind))
        return -1;
    struct step_config *s = push_step(st, (enum step_kind)kind, cfg_line(item));
    unsigned *set = &st->step_set[st->n_steps - 1];
    char spath[PATH_MAX_KEY];
    key_path(spath, sizeof spath, path, cfg_text(name));
    if (opts && !cfg_is_null(opts)) {
        struct opt_layer layer = {.set = 0};
        struct opt_target t = {.layer = &layer, .step = s};
        int rc = cfg_each_pair(c, opts, spath, opt_pair, &t);
        s->opt = layer.v;
        *set = layer.set;
        if (rc) return -1;
    }
    if (s->kind == STEP_COMMAND && !s->argv)
        return cfg_fail(c, opts ? opts : item, opts ? spath : path,
                        "a command step needs 'argv' (a list) or 'run' (a shell command)");
    return 0;
}

/* `defaults:` and `steps:`, in a task's `pipeline:` or at the top of a pipeline
 * file. Returns 1 for any other key. */
static int pipeline_key(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                        struct pipeline_state *st)
{
    if (str_eq(key, "defaults")) {
        if (cfg_is_null(v)) return 0;
        struct opt_target t = {.layer = &st->defaults};
        return cfg_each_pair(c, v, path, opt_pair, &t);
    }
    if (!str_eq(key, "steps")) return 1;
    if (cfg_want(c, v, YAML_SEQUENCE_NODE, path)) return -1;
    yaml_node_item_t *start = v->data.sequence.items.start, *top = v->data.sequence.items.top;
    if (start == top) return cfg_fail(c, v, path, "expected at least one step");
    for (yaml_node_item_t *it = start; it < top; it++) {
        char ipath[PATH_MAX_KEY];
        item_path(ipath, sizeof ipath, path, (size_t)(it - start));
        yaml_node_t *item = cfg_node(c, *it);
        if (!item) return cfg_fail(c, v, ipath, "malformed list");
        if (parse_step(c, st, item, ipath)) return -1;
    }
    st->has_steps = 1;
    return 0;
}

static int task_pipeline_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                              const char *path, void *user)
{
    int rc = pipeline_key(c, key, v, path, user);
    return rc == 1 ? cfg_unknown_key(c, k, path) : rc;
}

/* ---- triggers ------------------------------------------------------------ */

struct satisfaction_seen {
    struct trigger_config *t;
    int below, window;
};

static int satisfaction_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                             const char *path, void *user)
{
    struct satisfaction_seen *seen = user;
    struct trigger_config *t = seen->t;
    if (str_eq(key, "below")) {
        seen->below = 1;
        return cfg_number(c, v, path, 0, 1, 1, 0, &t->satisfaction_below);
    }
    if (str_eq(key, "window")) {
        seen->window = 1;
        return cfg_duration(c, v, path, 1, &t->satisfaction_window_ms);
    }
    if (str_eq(key, "min_samples")) {
        unsigned long long n;
        if (cfg_uint(c, v, path, 1, LONG_MAX, &n)) return -1;
        t->satisfaction_min_samples = (long)n;
        return 0;
    }
    return cfg_unknown_key(c, k, path);
}

/* "0 2 * * 0": the cron module reads the fields; here only their count. */
static size_t count_fields(const char *s)
{
    size_t n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s) break;
        n++;
        while (*s && *s != ' ' && *s != '\t')
            s++;
    }
    return n;
}

/* One item of `triggers:`. Sets *keep = 0 for an item that asks for nothing
 * (`new_data: false`). */
static int parse_trigger(struct cfg_ctx *c, yaml_node_t *item, const char *path,
                         struct trigger_config *t, int *keep)
{
    static const char *const kinds[] = {"feedback_count", "satisfaction", "schedule", "new_data"};
    yaml_node_t *k, *v;
    size_t kind;
    if (one_key_item(c, item, path, "feedback_count: 1000", &k, &v) ||
        cfg_choice(c, k, path, kinds, 4, &kind))
        return -1;
    char kpath[PATH_MAX_KEY];
    key_path(kpath, sizeof kpath, path, kinds[kind]);
    t->kind = (enum trigger_kind)kind;
    t->line = cfg_line(item);
    *keep = 1;
    switch (t->kind) {
    case TRIGGER_FEEDBACK_COUNT: {
        unsigned long long n;
        if (cfg_uint(c, v, kpath, 1, LONG_MAX, &n)) return -1;
        t->feedback_count = (long)n;
        return 0;
    }
    case TRIGGER_SATISFACTION: {
        t->satisfaction_min_samples = 20;
        struct satisfaction_seen seen = {.t = t};
        if (cfg_each_pair(c, v, kpath, satisfaction_pair, &seen)) return -1;
        const char *missing = !seen.below ? "below" : !seen.window ? "window" : NULL;
        if (missing) return cfg_fail(c, v, kpath, "missing required key '%s'", missing);
        return 0;
    }
    case TRIGGER_SCHEDULE: {
        const char *s;
        if (cfg_string(c, v, kpath, &s)) return -1;
        if (count_fields(s) != 5)
            return cfg_fail(c, v, kpath,
                            "expected a 5-field cron expression (minute hour day month "
                            "weekday), got '%s'",
                            s);
        t->schedule = xstrdup(s);
        return 0;
    }
    case TRIGGER_NEW_DATA:
        return cfg_bool(c, v, kpath, keep);
    }
    return 0;
}

static int parse_triggers(struct cfg_ctx *c, struct task_config *task, yaml_node_t *v,
                          const char *path)
{
    if (cfg_is_null(v)) return 0; /* manual retrains only */
    if (cfg_want(c, v, YAML_SEQUENCE_NODE, path)) return -1;
    yaml_node_item_t *start = v->data.sequence.items.start, *top = v->data.sequence.items.top;
    for (yaml_node_item_t *it = start; it < top; it++) {
        char ipath[PATH_MAX_KEY];
        item_path(ipath, sizeof ipath, path, (size_t)(it - start));
        yaml_node_t *item = cfg_node(c, *it);
        if (!item) return cfg_fail(c, v, ipath, "malformed list");
        struct trigger_config t = {.line = 0};
        int keep = 0;
        if (parse_trigger(c, item, ipath, &t, &keep)) {
            free(t.schedule);
            return -1;
        }
        if (!keep) continue;
        task->triggers = xrealloc(task->triggers, (task->n_triggers + 1) * sizeof *task->triggers);
        task->triggers[task->n_triggers++] = t;
    }
    return 0;
}

/* ---- gate and notify ----------------------------------------------------- */

static int gate_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                     const char *path, void *user)
{
    static const char *const metrics[] = {"accuracy",        "f1_macro",     "f1_weighted",
                                          "precision_macro", "recall_macro", "f1_micro",
                                          "precision_micro", "recall_micro", "f1_samples"};
    static const char *const tests[] = {"bootstrap", "mcnemar"};
    struct gate_config *g = user;
    size_t i;
    if (str_eq(key, "primary")) {
        if (cfg_choice(c, v, path, metrics, sizeof metrics / sizeof metrics[0], &i)) return -1;
        replace_string(&g->primary, metrics[i]);
    } else if (str_eq(key, "test")) {
        if (cfg_choice(c, v, path, tests, 2, &i)) return -1;
        replace_string(&g->test, tests[i]);
    } else if (str_eq(key, "min_delta")) {
        return cfg_number(c, v, path, 0, 0, 1, 0, &g->min_delta);
    } else if (str_eq(key, "confidence")) {
        return cfg_number(c, v, path, 0.5, 1, 1, 1, &g->confidence);
    } else if (str_eq(key, "max_recall_drop")) {
        return cfg_number(c, v, path, 0, 0, 1, 0, &g->max_recall_drop);
    } else if (str_eq(key, "bootstrap_samples")) {
        long n = 0;
        if (cfg_int_in_range(c, v, path, 100, 100000, &n)) return -1;
        g->bootstrap_samples = (int)n;
    } else {
        return cfg_unknown_key(c, k, path);
    }
    return 0;
}

/* An e-mail address as SMTP takes it: something@something, one line. */
static int get_address(struct cfg_ctx *c, const yaml_node_t *n, const char *path, const char **out)
{
    if (cfg_string(c, n, path, out)) return -1;
    const char *at = strchr(*out, '@');
    int ok = at && at != *out && at[1];
    for (const char *p = *out; ok && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == ' ' || *p == '<' || *p == '>') ok = 0;
    if (!ok)
        return cfg_fail(c, n, path, "expected an e-mail address like ops@example.com, got '%s'",
                        *out);
    return 0;
}

static int parse_email_to(struct cfg_ctx *c, struct notify_config *nc, yaml_node_t *v,
                          const char *path)
{
    const char *s;
    if (v->type == YAML_SCALAR_NODE) {
        if (get_address(c, v, path, &s)) return -1;
        nc->email_to = xcalloc(1, sizeof *nc->email_to);
        nc->email_to[nc->n_email_to++] = xstrdup(s);
        return 0;
    }
    if (cfg_want(c, v, YAML_SEQUENCE_NODE, path)) return -1;
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (!n) return cfg_fail(c, v, path, "expected at least one address");
    nc->email_to = xcalloc(n, sizeof *nc->email_to);
    for (size_t i = 0; i < n; i++) {
        char ipath[PATH_MAX_KEY];
        item_path(ipath, sizeof ipath, path, i);
        yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        if (!item) return cfg_fail(c, v, ipath, "malformed list");
        if (get_address(c, item, ipath, &s)) return -1;
        nc->email_to[nc->n_email_to++] = xstrdup(s);
    }
    return 0;
}

static int notify_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                       const char *path, void *user)
{
    struct notify_config *nc = user;
    const char *s;
    if (str_eq(key, "webhook")) {
        if (cfg_string(c, v, path, &s)) return -1;
        if (!http_url(s))
            return cfg_fail(c, v, path, "expected an http:// or https:// URL, got '%s'", s);
        nc->webhook_url = xstrdup(s);
    } else if (str_eq(key, "smtp")) {
        if (cfg_string(c, v, path, &s)) return -1;
        if (!(str_starts_with(s, "smtp://") && s[7]) && !(str_starts_with(s, "smtps://") && s[8]))
            return cfg_fail(c, v, path, "expected an smtp:// or smtps:// URL, got '%s'", s);
        nc->smtp_url = xstrdup(s);
    } else if (str_eq(key, "email_from")) {
        if (get_address(c, v, path, &s)) return -1;
        nc->email_from = xstrdup(s);
    } else if (str_eq(key, "email_to")) {
        return parse_email_to(c, nc, v, path);
    } else if (str_eq(key, "timeout")) {
        return cfg_duration(c, v, path, 1, &nc->timeout_ms);
    } else {
        return cfg_unknown_key(c, k, path);
    }
    return 0;
}

static int parse_notify(struct cfg_ctx *c, struct notify_config *nc, yaml_node_t *v,
                        const char *path)
{
    if (cfg_each_pair(c, v, path, notify_pair, nc)) return -1;
    /* e-mail takes all three or none: half a setup would fail only at the first deploy */
    int smtp = nc->smtp_url != NULL, from = nc->email_from != NULL, to = nc->n_email_to > 0;
    if ((smtp || from || to) && !(smtp && from && to)) {
        char missing[64] = "";
        const char *names[] = {"smtp", "email_from", "email_to"};
        int have[] = {smtp, from, to};
        for (int i = 0; i < 3; i++) {
            if (have[i]) continue;
            size_t used = strlen(missing);
            snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "", names[i]);
        }
        return cfg_fail(c, v, path, "e-mail needs smtp, email_from and email_to; missing %s",
                        missing);
    }
    return 0;
}

/* ---- a task's loop keys -------------------------------------------------- */

void cfg_loop_task_defaults(struct task_config *t)
{
    t->gate.primary = NULL; /* the type's default, once the type is known */
    t->gate.min_delta = 0.0;
    t->gate.confidence = 0.95;
    t->gate.test = xstrdup("bootstrap");
    t->gate.bootstrap_samples = 1000;
    t->gate.max_recall_drop = 0.05;
    t->notify.timeout_ms = 10 * 1000;
    t->pipeline.defaults = builtin_options();
    t->feedback_holdout = 0.2;
    t->retrain_cooldown_ms = 10 * 60 * 1000;
    t->train_fraction = 1.0;
    t->shuffle_labels = 0;
}

int cfg_loop_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                       struct task_config *t)
{
    if (str_eq(key, "triggers")) return parse_triggers(c, t, v, path);
    if (str_eq(key, "pipeline")) {
        struct pipeline_state st = {.has_steps = 0};
        if (!cfg_is_null(v) && cfg_each_pair(c, v, path, task_pipeline_pair, &st)) {
            pipeline_state_free(&st);
            return -1;
        }
        pipeline_finish(&st, cfg_line(v), &t->pipeline);
        return 0;
    }
    if (str_eq(key, "gate")) return cfg_each_pair(c, v, path, gate_pair, &t->gate);
    if (str_eq(key, "notify")) return parse_notify(c, &t->notify, v, path);
    if (str_eq(key, "feedback_holdout"))
        return cfg_number(c, v, path, 0, 0, 0.9, 0, &t->feedback_holdout);
    if (str_eq(key, "retrain_cooldown"))
        return cfg_duration(c, v, path, 0, &t->retrain_cooldown_ms);
    if (str_eq(key, "train_fraction"))
        return cfg_number(c, v, path, 0, 1, 1, 0, &t->train_fraction);
    if (str_eq(key, "shuffle_labels")) return cfg_bool(c, v, path, &t->shuffle_labels);
    return 1;
}

void cfg_loop_task_finish(struct task_config *t)
{
    /* a multilabel task is judged on its labels found, across documents */
    if (!t->gate.primary)
        t->gate.primary = xstrdup(t->type == TASK_MULTILABEL ? "f1_micro" : "f1_macro");
    if (t->pipeline.steps) return;
    struct pipeline_state st = {.has_steps = 0};
    pipeline_finish(&st, t->line, &t->pipeline);
}

static void notify_free(struct notify_config *n)
{
    free(n->webhook_url);
    free(n->smtp_url);
    free(n->email_from);
    for (size_t i = 0; i < n->n_email_to; i++)
        free(n->email_to[i]);
    free(n->email_to);
}

void cfg_loop_task_free(struct task_config *t)
{
    for (size_t i = 0; i < t->n_triggers; i++)
        free(t->triggers[i].schedule);
    free(t->triggers);
    free_steps(t->pipeline.steps, t->pipeline.n_steps);
    free(t->gate.primary);
    free(t->gate.test);
    notify_free(&t->notify);
}

/* ---- top-level loop keys ------------------------------------------------- */

void cfg_loop_defaults(struct config *cfg)
{
    cfg->scheduler_interval_ms = 10 * 1000;
    cfg->worker_enabled = 1;
    cfg->worker_lease_ms = 60 * 1000;
}

/* A zone name is a file under /usr/share/zoneinfo ("Europe/Paris"), never a
 * path out of it. UTC needs no file. */
static int check_timezone(struct cfg_ctx *c, const yaml_node_t *n, const char *path,
                          const char *name)
{
    if (str_eq(name, "UTC")) return 0;
    int ok = name[0] != '/' && !strstr(name, "..") && strlen(name) < 256;
    struct stat st;
    if (ok) {
        char file[sizeof ZONEINFO_DIR + 257];
        snprintf(file, sizeof file, "%s/%s", ZONEINFO_DIR, name);
        ok = stat(file, &st) == 0 && S_ISREG(st.st_mode);
    }
    if (!ok)
        return cfg_fail(c, n, path,
                        "unknown time zone '%s' (expected a name like Europe/Paris or UTC, "
                        "from " ZONEINFO_DIR ")",
                        name);
    return 0;
}

static int scheduler_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                          const char *path, void *user)
{
    struct config *cfg = user;
    if (str_eq(key, "interval")) return cfg_duration(c, v, path, 1, &cfg->scheduler_interval_ms);
    return cfg_unknown_key(c, k, path);
}

static int worker_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                       const char *path, void *user)
{
    struct config *cfg = user;
    if (str_eq(key, "enabled")) return cfg_bool(c, v, path, &cfg->worker_enabled);
    if (str_eq(key, "lease")) return cfg_duration(c, v, path, 1, &cfg->worker_lease_ms);
    return cfg_unknown_key(c, k, path);
}

int cfg_loop_top_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                      struct config *cfg)
{
    const char *s;
    if (str_eq(key, "timezone")) {
        if (cfg_string(c, v, path, &s) || check_timezone(c, v, path, s)) return -1;
        replace_string(&cfg->timezone, s);
        return 0;
    }
    if (str_eq(key, "scheduler")) return cfg_each_pair(c, v, path, scheduler_pair, cfg);
    if (str_eq(key, "worker")) return cfg_each_pair(c, v, path, worker_pair, cfg);
    if (str_eq(key, "public_url")) {
        if (cfg_string(c, v, path, &s)) return -1;
        if (!http_url(s))
            return cfg_fail(c, v, path, "expected an http:// or https:// URL, got '%s'", s);
        /* without a trailing '/', so that BOUCLE_URL + "/v1/..." is a clean URL */
        size_t len = strlen(s);
        while (len > 8 && s[len - 1] == '/')
            len--;
        free(cfg->public_url);
        cfg->public_url = xstrndup(s, len);
        return 0;
    }
    return 1;
}

void cfg_loop_finish(struct config *cfg)
{
    if (!cfg->public_url) cfg->public_url = xasprintf("http://%s", cfg->listen);
    if (!cfg->timezone) {
        const char *tz = getenv("TZ");
        if (tz && *tz == ':') tz++; /* ":Europe/Paris" is glibc's spelling of a zone file */
        cfg->timezone = xstrdup(tz && *tz ? tz : "UTC");
    }
}

void cfg_loop_free(struct config *cfg)
{
    free(cfg->timezone);
    free(cfg->public_url);
}

/* ---- standalone pipeline files ------------------------------------------- */

struct file_state {
    const struct config *cfg;
    struct pipeline_file *out;
    struct pipeline_state st;
};

static int file_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                     const char *path, void *user)
{
    struct file_state *fs = user;
    if (str_eq(key, "task")) {
        const char *s;
        if (cfg_string(c, v, path, &s)) return -1;
        if (fs->cfg && !config_task(fs->cfg, s))
            return cfg_fail(c, v, path, "no task '%s' in %s", s, fs->cfg->path);
        fs->out->task = xstrdup(s);
        return 0;
    }
    int rc = pipeline_key(c, key, v, path, &fs->st);
    return rc == 1 ? cfg_unknown_key(c, k, path) : rc;
}

static int file_document(struct cfg_ctx *c, yaml_node_t *root, void *user)
{
    struct file_state *fs = user;
    if (!root || cfg_is_null(root))
        return err_set(c->e, ERR_INVALID, "%s: empty pipeline file; expected 'task' and 'steps'",
                       c->name);
    if (root->type != YAML_MAPPING_NODE)
        return err_set(c->e, ERR_INVALID, "%s:%d: expected a mapping at the top, got %s", c->name,
                       cfg_line(root), cfg_kind_name(root));
    if (cfg_each_pair(c, root, "", file_pair, fs)) return -1;
    const char *missing = !fs->out->task ? "task" : !fs->st.has_steps ? "steps" : NULL;
    if (missing)
        return err_set_field(c->e, ERR_INVALID, missing, "%s:%d: missing required key '%s'",
                             c->name, cfg_line(root), missing);
    pipeline_finish(&fs->st, cfg_line(root), &fs->out->pipeline);
    return 0;
}

int config_load_pipeline(const char *path, const struct config *cfg, struct pipeline_file *out,
                         struct err *e)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = cfg_read_file(path, "pipeline", &len, e);
    if (!text) return -1;
    char *dir = cfg_dirname(path);
    struct cfg_ctx c = {.name = path, .dir = dir, .e = e};
    struct file_state fs = {.cfg = cfg, .out = out};
    int rc = cfg_parse(&c, text, len, file_document, &fs);
    pipeline_state_free(&fs.st); /* what a failure left half-read */
    free(dir);
    free(text);
    if (rc) pipeline_file_free(out);
    return rc;
}

void pipeline_file_free(struct pipeline_file *p)
{
    if (!p) return;
    free(p->task);
    free_steps(p->pipeline.steps, p->pipeline.n_steps);
    memset(p, 0, sizeof *p);
}
