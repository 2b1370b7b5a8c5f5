/* `boucle serve`: the HTTP API over libmicrohttpd (thread pool sized to the
 * cores), the prediction log writer, and the champion watcher that hot-swaps
 * a task's model when its `champion` alias moves. */
#ifndef BOUCLE_SERVE_SERVER_H
#define BOUCLE_SERVE_SERVER_H

#include "base/config.h"
#include "base/err.h"
#include "serve/challenger.h"
#include "serve/model_slot.h"
#include "serve/predlog.h"
#include "serve/supervisor.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>

/* Predictions counted per model version and label, for /metrics. A block is
 * made when a version is first loaded and lives as long as the server, so a
 * request only does an atomic add through served_model.counters. */
struct version_counts {
    int64_t version;
    size_t n_labels;
    char **labels;
    _Atomic uint64_t *by_label;
};
enum { MAX_COUNTED_VERSIONS = 256 };

struct served_task {
    const struct task_config *cfg;
    struct model_slot slot;
    _Atomic int64_t champion_seen; /* the alias value last acted upon */
    struct version_counts *versions[MAX_COUNTED_VERSIONS];
    _Atomic size_t n_versions;             /* appended by the watcher, read by scrapes */
    _Atomic uint64_t feedback_by_score[3]; /* -1, 0, +1 */
    struct served_challenger challenger;   /* during a shadow or canary rollout */
};

struct limits;
struct import_queue;

struct server {
    const struct config *cfg;
    struct limits *limits; /* connections, rates, timeouts, request ids, access log */
    struct store *store;   /* feedback and admin reads; the handle serialises */
    struct predlog *predlog;
    struct import_queue *imports; /* POST .../imports run on its thread */
    struct served_task *tasks;
    size_t n_tasks;

    pthread_t watcher;             /* champion watcher and trigger scheduler */
    struct store *watch_store;     /* the watcher's own connection */
    struct supervisor *supervisor; /* the worker child, when enabled */
    _Atomic int stopping;
    pthread_mutex_t watch_mu;
    pthread_cond_t watch_cv;
    int watch_woken; /* under watch_mu: server_wake_watcher was called */
};

struct serve_options {
    const char *listen; /* overrides the config's when set */
    int threads;        /* overrides when > 0 */
};

/* Runs until SIGTERM or SIGINT, then stops accepting, finishes in-flight
 * requests, flushes the prediction log and returns 0. */
int serve_run(const struct config *cfg, const struct serve_options *opt, struct err *e);

struct served_task *server_find_task(struct server *srv, const char *name, size_t len);
/* Loads each task's champion if its alias moved; called at start and by the watcher. */
void server_refresh_champions(struct server *srv, struct store *st);
/* Wakes the watcher now (after a rollback or promotion made here). */
void server_wake_watcher(struct server *srv);
/* Reads and loads a version of the task's model (the watcher's thread). */
struct trained_model *server_model_load(const struct served_task *t, struct store *st,
                                        int64_t version, struct err *e);
/* The counter block of a version (made on first load; NULL past
 * MAX_COUNTED_VERSIONS: counting stops, serving does not). */
struct version_counts *server_version_counts(struct served_task *t, struct trained_model *m,
                                             int64_t version);

#endif
