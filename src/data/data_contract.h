/* The data contract (issue 5): what a new dataset version must keep of the
 * previous one. Both sides are stored profiles (data_profile_version), so
 * the comparison is plain JSON in, JSON out: no store, no files, testable
 * alone. The rules are the task's `contract:` (base/config.h). */
#ifndef BOUCLE_DATA_DATA_CONTRACT_H
#define BOUCLE_DATA_DATA_CONTRACT_H

#include "base/config.h"

#include <jansson.h>
#include <stddef.h>

/* What a check looks at: everything, or only labels that appear (for
 * versions made from gold feedback, whose few rows come from served
 * requests: their columns, null rates and label shares say nothing about
 * the upstream data, and a batch holds some of the labels only). */
enum data_contract_scope { DATA_CONTRACT_ALL, DATA_CONTRACT_LABELS };

/* A change equal to a limit is within it (the profiles' rates are doubles:
 * 0.75 - 0.70 is a hair over 0.05). */
#define DATA_CONTRACT_EPSILON 1e-9

/* Every difference of `after` from `before` the contract speaks of, in this
 * order: columns removed, added or of another kind; labels removed, added;
 * fields whose null rate rose by more than max_null_rate_increase; labels
 * whose share moved by more than max_label_share_change (when set; labels
 * on both sides only). A new array of
 *   {"kind": "column_removed" | "column_added" | "column_kind" | "label_removed" |
 *            "label_added" | "null_rate" | "label_share",
 *    "name", "before", "after" (rates, shares or kinds; absent for a set change),
 *    "limit" (rates and shares), "violation": true | false, "message"}
 * A difference the rules allow (a label added under `labels: superset`) is
 * listed with "violation": false. The null rate of a text field counts the
 * rows where it is null, absent or blank; of a numeric or categorical field,
 * where it is missing. */
json_t *data_contract_compare(const struct contract_config *rules, json_t *before, json_t *after,
                              enum data_contract_scope scope);
/* How many of the differences are violations. */
size_t data_contract_violations(json_t *differences);
/* The rules as JSON: {"on_violation","max_null_rate_increase","labels","columns",
 * "max_label_share_change" (null when not checked)}. */
json_t *data_contract_rules_json(const struct contract_config *rules);

#endif
