/* boucle's model registry as its users see it (`boucle models show|history`,
 * `boucle promote`, and the same over HTTP): one version with its lineage,
 * its registry fields and the alias moves that touched it; and a promotion
 * that refuses what cannot or should not be served. Over the store only:
 * the CLI and the HTTP routes both call it, so they answer alike. */
#ifndef BOUCLE_TRACK_REGISTRY_H
#define BOUCLE_TRACK_REGISTRY_H

#include "store/store.h"

#include <jansson.h>

/* A model version number as a user writes it (a path segment, an option):
 * 0, or -1 when `text` is NULL or not a positive integer. */
int registry_parse_version(const char *text, int64_t *out);

/* {"task","version","kind","run_id","dataset_hash","config_hash","boucle_version",
 *  "sha256","size","metrics","created_at","description","stage","source",
 *  "tags":[{"key","value"}],"aliases":[names],
 *  "alias_history":[the moves to or from this version, newest first]}
 * ERR_NOT_FOUND (field "version") when the task has no such version. */
json_t *registry_version_show(struct store *st, const char *task, int64_t version, struct err *e);

struct registry_promotion {
    const char *primary; /* the metric compared (the task's gate.primary) */
    int force;           /* promote a lower-scoring or archived version anyway */
    const char *reason;  /* kept in the alias history; NULL: "promoted" */
    const char *actor;   /* who: "cli:alice", "token:ops" (may be NULL) */
};

/* Makes `version` the champion (previous <- the old champion) in one
 * transaction. Refused with ERR_INVALID when the version has no model boucle
 * can serve (registered through MLflow), ERR_CONFLICT when it is already the
 * champion and, unless p->force, when it is archived or scored lower than
 * the champion on p->primary (each on its own test split: the message gives
 * both numbers). *previous (unless NULL): the old champion, 0 when none. */
int registry_promote(struct store *st, const char *task, int64_t version,
                     const struct registry_promotion *p, int64_t *previous, struct err *e);

#endif
