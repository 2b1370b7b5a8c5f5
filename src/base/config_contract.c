/* A task's `contract:` keys (issue 5): what an import must keep of the
 * previous import's profile, and what happens when it does not:
 *
 *   contract: {on_violation: refuse, max_null_rate_increase: 0.05,
 *              labels: same, columns: same, max_label_share_change: 0.2}
 *
 * Same rules as config.c: unknown keys are errors naming file, line and key. */
#include "base/config.h"

#include "base/config_internal.h"
#include "base/mem.h"

static const char *const action_names[] = {"warn", "refuse", "off"};
static const char *const labels_names[] = {"same", "superset", "any"};
static const char *const columns_names[] = {"same", "superset"};

#define N_OF(a) (sizeof a / sizeof a[0])

const char *contract_action_name(enum contract_action a)
{
    return (size_t)a < N_OF(action_names) ? action_names[a] : "unknown";
}

const char *contract_labels_name(enum contract_labels l)
{
    return (size_t)l < N_OF(labels_names) ? labels_names[l] : "unknown";
}

const char *contract_columns_name(enum contract_columns c)
{
    return (size_t)c < N_OF(columns_names) ? columns_names[c] : "unknown";
}

/* Warn by default: a new check must not start refusing the imports of a
 * configuration that said nothing about it. */
void cfg_contract_task_defaults(struct task_config *t)
{
    t->contract.on_violation = CONTRACT_WARN;
    t->contract.max_null_rate_increase = 0.05;
    t->contract.labels = CONTRACT_LABELS_SAME;
    t->contract.columns = CONTRACT_COLUMNS_SAME;
    t->contract.max_label_share_change = -1;
}

static int contract_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                         const char *path, void *user)
{
    struct contract_config *r = user;
    size_t i;
    if (str_eq(key, "on_violation")) {
        if (cfg_choice(c, v, path, action_names, N_OF(action_names), &i)) return -1;
        r->on_violation = (enum contract_action)i;
    } else if (str_eq(key, "labels")) {
        if (cfg_choice(c, v, path, labels_names, N_OF(labels_names), &i)) return -1;
        r->labels = (enum contract_labels)i;
    } else if (str_eq(key, "columns")) {
        if (cfg_choice(c, v, path, columns_names, N_OF(columns_names), &i)) return -1;
        r->columns = (enum contract_columns)i;
    } else if (str_eq(key, "max_null_rate_increase")) {
        return cfg_number(c, v, path, 0, 0, 1, 0, &r->max_null_rate_increase);
    } else if (str_eq(key, "max_label_share_change")) {
        return cfg_number(c, v, path, 0, 0, 1, 0, &r->max_label_share_change);
    } else {
        return cfg_unknown_key(c, k, path);
    }
    return 0;
}

int cfg_contract_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                           struct task_config *t)
{
    if (!str_eq(key, "contract")) return 1;
    return cfg_each_pair(c, v, path, contract_pair, &t->contract);
}
