/* Prometheus metrics for `serve`, in the text exposition format. Request
 * threads only increment atomics (no lock on the predict path); a scrape
 * reads them, plus a few figures the store computes (satisfaction, retrains). */
#ifndef BOUCLE_SERVE_METRICS_H
#define BOUCLE_SERVE_METRICS_H

#include "base/mem.h"

#include <stdatomic.h>
#include <stdint.h>

/* The routes requests are counted by: templates, never raw paths, so a
 * client cannot grow the label space. */
enum metrics_route {
    ROUTE_PREDICT,
    ROUTE_FEEDBACK,
    ROUTE_HEALTH,
    ROUTE_READY,
    ROUTE_METRICS,
    ROUTE_RETRAIN,
    ROUTE_ROLLBACK,
    ROUTE_IMPORT,
    ROUTE_READ_API, /* GET views of runs, models, datasets, jobs, review, feedback */
    ROUTE_MLFLOW,
    ROUTE_DASHBOARD,
    ROUTE_OTHER,
    ROUTE_COUNT
};

void metrics_init(void);
/* Counts one finished request (status and duration). */
void metrics_observe_request(enum metrics_route route, const char *method, unsigned int status,
                             double seconds);
/* Which template a method + path falls under. */
enum metrics_route metrics_route_of(const char *path);
/* The template's text ("/v1/tasks/{task}/predict"). */
const char *metrics_route_name(enum metrics_route route);

/* Predictions by task, model version and label: each served model keeps its
 * own per-label atomics; see served_model. Feedback by task and score. */
struct metrics_task_counters {
    _Atomic uint64_t feedback[3]; /* score -1, 0, +1 */
};

/* Appends the request, latency and process metrics in text format. */
void metrics_render_http(struct buf *out);
/* Helpers for the other families, which the server renders itself. */
void metrics_family(struct buf *out, const char *name, const char *type, const char *help);

#endif
