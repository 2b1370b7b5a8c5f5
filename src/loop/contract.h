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
/* One line per difference, each "  violation: MESSAGE" or "  allowed: MESSAGE"
 * (violations first), appended to b. */
void contract_text(json_t *check, struct buf *b);

#endif
