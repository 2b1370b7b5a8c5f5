#include "serve/model_slot.h"

#include "base/mem.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

void model_slot_init(struct model_slot *s)
{
    atomic_init(&s->current, NULL);
    atomic_init(&s->entering, 0);
}

struct served_model *model_slot_acquire(struct model_slot *s)
{
    atomic_fetch_add(&s->entering, 1);
    struct served_model *sm = atomic_load(&s->current);
    if (sm) atomic_fetch_add(&sm->refs, 1);
    atomic_fetch_sub(&s->entering, 1);
    return sm;
}

void served_model_release(struct served_model *sm)
{
    if (!sm) return;
    if (atomic_fetch_sub(&sm->refs, 1) == 1) {
        model_release(sm->model);
        free(sm);
    }
}

static struct served_model *swap_in(struct model_slot *s, struct served_model *next)
{
    struct served_model *old = atomic_exchange(&s->current, next);
    /* A reader that loaded `old` before the exchange has not necessarily
     * taken its reference yet; wait until none is in that window. */
    while (atomic_load(&s->entering) != 0)
        sched_yield();
    return old;
}

int64_t model_slot_install(struct model_slot *s, struct trained_model *model, int64_t version,
                           const char *sha256)
{
    return model_slot_install_with(s, model, version, sha256, NULL);
}

int64_t model_slot_install_with(struct model_slot *s, struct trained_model *model, int64_t version,
                                const char *sha256, void *counters)
{
    struct served_model *sm = xcalloc(1, sizeof *sm);
    sm->counters = counters;
    sm->model = model;
    sm->version = version;
    snprintf(sm->sha256, sizeof sm->sha256, "%s", sha256 ? sha256 : "");
    atomic_init(&sm->refs, 1); /* the slot's own reference */
    struct served_model *old = swap_in(s, sm);
    int64_t old_version = old ? old->version : 0;
    served_model_release(old);
    return old_version;
}

int64_t model_slot_version(struct model_slot *s)
{
    struct served_model *sm = model_slot_acquire(s);
    int64_t v = sm ? sm->version : 0;
    served_model_release(sm);
    return v;
}

void model_slot_clear(struct model_slot *s)
{
    served_model_release(swap_in(s, NULL));
}
