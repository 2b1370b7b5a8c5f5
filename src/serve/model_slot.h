/* A task's currently served model, swappable while requests flow.
 * Readers never lock: they announce themselves, load the pointer, take a
 * reference and leave. A swap publishes the new pointer, waits until no
 * reader is between "load" and "take a reference" (a few instructions),
 * then drops the slot's reference on the old model; in-flight requests
 * holding it finish with it and the last one frees it. */
#ifndef BOUCLE_SERVE_MODEL_SLOT_H
#define BOUCLE_SERVE_MODEL_SLOT_H

#include "ml/model.h"

#include <stdatomic.h>
#include <stdint.h>

struct served_model {
    struct trained_model *model;
    int64_t version;
    char sha256[65];
    void *counters; /* the server's per-version prediction counters (set before publication) */
    _Atomic long refs;
};

struct model_slot {
    _Atomic(struct served_model *) current;
    _Atomic long entering; /* readers between load and retain */
};

void model_slot_init(struct model_slot *s);
/* NULL when no model was ever installed. Pair with served_model_release. */
struct served_model *model_slot_acquire(struct model_slot *s);
void served_model_release(struct served_model *sm);
/* Takes ownership of `model` (one reference). Returns the version replaced (0 if none). */
int64_t model_slot_install(struct model_slot *s, struct trained_model *model, int64_t version,
                           const char *sha256);
/* Same, with the counters the predict route increments for this version. */
int64_t model_slot_install_with(struct model_slot *s, struct trained_model *model, int64_t version,
                                const char *sha256, void *counters);
int64_t model_slot_version(struct model_slot *s); /* 0 when empty */
void model_slot_clear(struct model_slot *s);      /* at shutdown */

#endif
