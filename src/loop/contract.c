/* The data contract at import time: see contract.h. */
#include "loop/contract.h"

#include "data/data_profile.h"

#include <stdlib.h>
#include <string.h>

int contract_check(struct store *st, const struct task_config *task, json_t *profile,
                   enum data_contract_scope scope, json_t **out, struct err *e)
{
    *out = NULL;
    json_t *base = store_dataset_get(st, task->name, 0, 1, e);
    if (!base) {
        if (e->code != ERR_NOT_FOUND) return -1;
        err_clear(e);
        return 0;
    }
    json_t *diffs =
        data_contract_compare(&task->contract, json_object_get(base, "profile"), profile, scope);
    *out =
        json_pack("{s:O,s:s,s:o,s:s,s:I,s:o}", "baseline_dataset_id", json_object_get(base, "id"),
                  "on_violation", contract_action_name(task->contract.on_violation), "rules",
                  data_contract_rules_json(&task->contract), "scope",
                  scope == DATA_CONTRACT_LABELS ? "labels" : "all", "violations",
                  (json_int_t)data_contract_violations(diffs), "differences", diffs);
    json_decref(base);
    return 0;
}

void contract_feedback(struct store *st, const struct task_config *task,
                       const struct store_example *rows, size_t n, struct store_dataset_meta *meta,
                       json_t **check, struct err *why)
{
    memset(meta, 0, sizeof *meta);
    *check = NULL;
    const char **inputs = xcalloc(n + 1, sizeof *inputs);
    const char **labels = xcalloc(n + 1, sizeof *labels);
    for (size_t i = 0; i < n; i++) {
        inputs[i] = rows[i].input_json;
        labels[i] = rows[i].label;
    }
    json_t *profile = data_profile_version(task, NULL, 0, inputs, labels, n, why);
    free(inputs);
    free(labels);
    if (!profile) return;
    if (task->contract.on_violation != CONTRACT_OFF &&
        contract_check(st, task, profile, DATA_CONTRACT_LABELS, check, why) != 0)
        *check = NULL;
    meta->profile_json = json_dumps(profile, JSON_COMPACT);
    meta->contract_json = *check ? json_dumps(*check, JSON_COMPACT) : NULL;
    json_decref(profile);
}

static void lines(json_t *check, int violations, struct buf *b)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(check, "differences"), i, d)
    {
        if (json_is_true(json_object_get(d, "violation")) != violations) continue;
        buf_printf(b, "  %s: %s\n", violations ? "violation" : "allowed",
                   json_string_value(json_object_get(d, "message")));
    }
}

void contract_text(json_t *check, struct buf *b)
{
    lines(check, 1, b);
    lines(check, 0, b);
}
