/* The data contract at import time: see contract.h. */
#include "loop/contract.h"

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
