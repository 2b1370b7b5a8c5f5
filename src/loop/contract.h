/* The data contract at import time: a new dataset version's profile checked
 * against the task's baseline (its latest version imported from a file with
 * a profile), under the task's `contract:` rules. The comparison itself is
 * data/data_contract.h; this adds the store and the report. */
#ifndef BOUCLE_LOOP_CONTRACT_H
#define BOUCLE_LOOP_CONTRACT_H

#include "base/config.h"
#include "base/err.h"
#include "base/mem.h"
#include "data/data_contract.h"
#include "store/store.h"

#include <jansson.h>

/* *out: NULL when the task has no baseline (its first import, or only
 * versions from before the contract existed: the contract starts with the
 * next import); else {"baseline_dataset_id", "on_violation", "rules",
 * "scope": "all"|"labels", "violations": n, "differences": [...]} (caller
 * decrefs). The rules' on_violation is reported, not acted on. */
int contract_check(struct store *st, const struct task_config *task, json_t *profile,
                   enum data_contract_scope scope, json_t **out, struct err *e);
/* For a version made from gold feedback (the loop's prepare step): its
 * profile (columns from the inputs) and a check of its label set only,
 * never refused — reviewers' corrections may name a class the data never
 * had, which the team wants to hear about, not a stalled loop; and a few
 * served requests' null rates and label shares say nothing of the upstream
 * data. meta's texts are set (caller frees both; NULL when the rows do not
 * profile, e.g. inputs logged before a field was added: then *why says so);
 * *check is the report or NULL (caller decrefs). */
void contract_feedback(struct store *st, const struct task_config *task,
                       const struct store_example *rows, size_t n, struct store_dataset_meta *meta,
                       json_t **check, struct err *why);
/* One line per difference, each "  violation: MESSAGE" or "  allowed: MESSAGE"
 * (violations first), appended to b. */
void contract_text(json_t *check, struct buf *b);

#endif
