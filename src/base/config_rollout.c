/* A task's `rollout:` keys (issue 6): how the pipeline's deploy step puts a
 * challenger in front of traffic, and the defaults `boucle deploy
 * --strategy canary` and the canary's automatic decision use:
 *
 *   rollout: {strategy: canary, percent: 10, min_feedback: 200,
 *             confidence: 0.95, max_drop: 0.0}
 *
 * Same rules as config.c: unknown keys are errors naming file, line and key. */
#include "base/config.h"

#include "base/config_internal.h"
#include "base/mem.h"

#include <string.h>

static const char *const strategy_names[] = {"direct", "shadow", "canary"};

const char *rollout_strategy_name(enum rollout_strategy s)
{
    if ((size_t)s < sizeof strategy_names / sizeof strategy_names[0]) return strategy_names[s];
    return "unknown";
}

int rollout_strategy_parse(const char *name, enum rollout_strategy *out)
{
    for (size_t i = 0; name && i < sizeof strategy_names / sizeof strategy_names[0]; i++)
        if (strcmp(name, strategy_names[i]) == 0) {
            *out = (enum rollout_strategy)i;
            return 0;
        }
    return -1;
}

void cfg_rollout_task_defaults(struct task_config *t)
{
    t->rollout.strategy = ROLLOUT_DIRECT;
    t->rollout.percent = 10;
    t->rollout.min_feedback = 200;
    t->rollout.confidence = 0.95;
    t->rollout.max_drop = 0.0;
}

static int rollout_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                        const char *path, void *user)
{
    struct rollout_config *r = user;
    long n = 0;
    if (str_eq(key, "strategy")) {
        size_t i;
        if (cfg_choice(c, v, path, strategy_names, 3, &i)) return -1;
        r->strategy = (enum rollout_strategy)i;
    } else if (str_eq(key, "percent")) {
        /* 100 would be a deploy without a champion left to compare with */
        if (cfg_int_in_range(c, v, path, 1, 99, &n)) return -1;
        r->percent = (int)n;
    } else if (str_eq(key, "min_feedback")) {
        if (cfg_int_in_range(c, v, path, 1, 100000000, &n)) return -1;
        r->min_feedback = n;
    } else if (str_eq(key, "confidence")) {
        return cfg_number(c, v, path, 0.5, 1, 1, 1, &r->confidence);
    } else if (str_eq(key, "max_drop")) {
        return cfg_number(c, v, path, 0, 0, 1, 0, &r->max_drop);
    } else {
        return cfg_unknown_key(c, k, path);
    }
    return 0;
}

int cfg_rollout_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                          struct task_config *t)
{
    if (!str_eq(key, "rollout")) return 1;
    return cfg_each_pair(c, v, path, rollout_pair, &t->rollout);
}
