/* The challenger beside a task's champion during a shadow or canary rollout
 * (issue 6), on the serving side. It lives in a model slot of its own (same
 * lock-free hot swap as the champion's), and the rollout's mode, percent
 * and id sit in one atomic word, so a request reads a consistent triple
 * with one load and never takes a lock, runs SQL or touches the disk:
 *
 * - canary: challenger_answers() sends `percent` % of the requests to the
 *   challenger, sticky by a request key (the same key, the same model, for
 *   the whole rollout) or at random without one;
 * - shadow: the champion answers; a shadow job remembers what was asked and
 *   scores it with the challenger only after the reply has been sent
 *   (server.c runs it from libmicrohttpd's request-completed callback), then
 *   hands the shadow answers to the prediction log queue, tagged with the
 *   id of the answered twin. The client never waits for the challenger.
 *
 * The watcher (server.c) calls challenger_refresh after the champions: it
 * loads the challenger when a rollout starts and drops it when it ends. */
#ifndef BOUCLE_SERVE_CHALLENGER_H
#define BOUCLE_SERVE_CHALLENGER_H

#include "serve/model_slot.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct served_task;
struct store;
struct predlog;

enum challenger_mode { CHALLENGER_OFF = 0, CHALLENGER_SHADOW = 1, CHALLENGER_CANARY = 2 };

struct served_challenger {
    struct model_slot slot;
    /* mode | percent << 8 | rollout id << 16; 0 when no rollout is served */
    _Atomic uint64_t state;
    int64_t seen_id; /* watcher only: the rollout last acted upon (0: none) */
    /* this process's counts, for /metrics */
    _Atomic uint64_t shadow_scored, shadow_agreed, canary_answered;
};

void challenger_init(struct served_challenger *c);

/* What one request sees: the rollout's mode, percent and id, and a
 * reference to the challenger when one is loaded (NULL otherwise: the
 * champion answers alone). Pair with challenger_view_release. */
struct challenger_view {
    enum challenger_mode mode;
    int percent;
    int64_t rollout_id;
    struct served_model *model;
};
void challenger_view_take(struct served_challenger *c, struct challenger_view *v);
void challenger_view_release(struct challenger_view *v);
/* Canary: whether the challenger answers this request. key may be NULL. */
int challenger_answers(const struct challenger_view *v, const char *key, size_t key_len);

/* Shadow scoring after the reply. begin takes the view's model reference
 * (the view is left without one); add copies its arguments; run scores,
 * logs and frees (the http_request's after_reply callback); free drops a
 * job that will not run. */
struct shadow_job;
struct shadow_job *challenger_shadow_begin(struct served_task *t, struct predlog *log,
                                           struct challenger_view *v, size_t n);
/* The request's raw text fields (the challenger cleans and joins them as
 * its own training text was, which may differ from the champion's). */
void challenger_shadow_add(struct shadow_job *j, const char *const *values, const size_t *lens,
                           size_t n_fields, const char *answered_id, const char *answered_label,
                           const char *input_json);
void challenger_shadow_run(void *job);
void challenger_shadow_free(struct shadow_job *j);

/* Publishes what requests see (mode, percent, rollout id) in one store;
 * the model must be in the slot first. CHALLENGER_OFF stops asking for it. */
void challenger_publish(struct served_challenger *c, enum challenger_mode mode, int percent,
                        int64_t rollout_id);

/* The watcher: every task's rollout as the store has it now. */
void challenger_refresh(struct server *srv, struct store *st);
/* At shutdown. */
void challenger_clear(struct served_challenger *c);

#endif
