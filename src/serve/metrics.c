#include "serve/metrics.h"

#include <stdio.h>
#include <string.h>

static const char *const route_names[ROUTE_COUNT] = {"/v1/tasks/{task}/predict",
                                                     "/v1/feedback",
                                                     "/healthz",
                                                     "/readyz",
                                                     "/metrics",
                                                     "/v1/tasks/{task}/retrain",
                                                     "/v1/tasks/{task}/rollback",
                                                     "/v1/tasks/{task}/imports",
                                                     "/v1/{read}",
                                                     "/api/2.0/mlflow/{call}",
                                                     "/{dashboard}",
                                                     "other"};

/* The statuses the server answers; anything else is counted as "other". */
static const unsigned int statuses[] = {200, 201, 202, 400, 401, 403, 404, 405,
                                        409, 413, 414, 415, 422, 429, 500, 503};
enum { N_STATUS = sizeof statuses / sizeof statuses[0] + 1, N_METHOD = 5 };
static const char *const methods[N_METHOD] = {"GET", "POST", "PUT", "DELETE", "other"};

/* Latency buckets in seconds: fine below a millisecond, where predictions are. */
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                 0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
enum { N_BUCKET = sizeof buckets / sizeof buckets[0] };

static _Atomic uint64_t requests[ROUTE_COUNT][N_METHOD][N_STATUS];
static _Atomic uint64_t latency_bucket[ROUTE_COUNT][N_BUCKET];
static _Atomic uint64_t latency_count[ROUTE_COUNT];
static _Atomic uint64_t latency_sum_ns[ROUTE_COUNT];

void metrics_init(void)
{
    /* static storage is zero: nothing to do, kept for symmetry and future state */
}

static int status_index(unsigned int status)
{
    for (int i = 0; i < N_STATUS - 1; i++)
        if (statuses[i] == status) return i;
    return N_STATUS - 1;
}

static int method_index(const char *method)
{
    for (int i = 0; i < N_METHOD - 1; i++)
        if (strcmp(methods[i], method) == 0) return i;
    return N_METHOD - 1;
}

void metrics_observe_request(enum metrics_route route, const char *method, unsigned int status,
                             double seconds)
{
    if (route >= ROUTE_COUNT) route = ROUTE_OTHER;
    atomic_fetch_add_explicit(&requests[route][method_index(method)][status_index(status)], 1,
                              memory_order_relaxed);
    /* cumulative buckets are summed at render time; count the first bucket that fits */
    for (int b = 0; b < N_BUCKET; b++)
        if (seconds <= buckets[b]) {
            atomic_fetch_add_explicit(&latency_bucket[route][b], 1, memory_order_relaxed);
            break;
        }
    atomic_fetch_add_explicit(&latency_count[route], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_ns[route], (uint64_t)(seconds * 1e9),
                              memory_order_relaxed);
}

enum metrics_route metrics_route_of(const char *path)
{
    if (strncmp(path, "/v1/tasks/", 10) == 0) {
        const char *last = strrchr(path, '/');
        if (last && strcmp(last, "/predict") == 0) return ROUTE_PREDICT;
        if (last && strcmp(last, "/retrain") == 0) return ROUTE_RETRAIN;
        if (last && strcmp(last, "/rollback") == 0) return ROUTE_ROLLBACK;
        if (last && strcmp(last, "/imports") == 0) return ROUTE_IMPORT;
        return ROUTE_READ_API;
    }
    if (strcmp(path, "/v1/feedback") == 0) return ROUTE_FEEDBACK;
    if (strncmp(path, "/v1/", 4) == 0) return ROUTE_READ_API;
    if (strcmp(path, "/healthz") == 0) return ROUTE_HEALTH;
    if (strcmp(path, "/readyz") == 0) return ROUTE_READY;
    if (strcmp(path, "/metrics") == 0) return ROUTE_METRICS;
    if (strncmp(path, "/api/2.0/", 9) == 0 || strncmp(path, "/ajax-api/2.0/", 14) == 0)
        return ROUTE_MLFLOW;
    if (strcmp(path, "/") == 0 || strcmp(path, "/app.js") == 0 || strcmp(path, "/style.css") == 0)
        return ROUTE_DASHBOARD;
    return ROUTE_OTHER;
}

const char *metrics_route_name(enum metrics_route route)
{
    return route < ROUTE_COUNT ? route_names[route] : route_names[ROUTE_OTHER];
}

void metrics_family(struct buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_render_http(struct buf *out)
{
    metrics_family(out, "boucle_http_requests_total", "counter",
                   "HTTP requests answered, by route template, method and status.");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (int m = 0; m < N_METHOD; m++)
            for (int s = 0; s < N_STATUS; s++) {
                uint64_t v = atomic_load_explicit(&requests[r][m][s], memory_order_relaxed);
                if (!v) continue;
                char code[8];
                if (s < N_STATUS - 1)
                    snprintf(code, sizeof code, "%u", statuses[s]);
                else
                    snprintf(code, sizeof code, "other");
                buf_printf(out,
                           "boucle_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} "
                           "%llu\n",
                           route_names[r], methods[m], code, (unsigned long long)v);
            }
    metrics_family(out, "boucle_http_request_duration_seconds", "histogram",
                   "Time from the first byte of a request to its answer being queued.");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        /* buckets first, count after: requests finishing meanwhile must not
         * leave +Inf below the last bucket */
        if (!atomic_load_explicit(&latency_count[r], memory_order_relaxed)) continue;
        uint64_t cumulative = 0;
        for (int b = 0; b < N_BUCKET; b++) {
            cumulative += atomic_load_explicit(&latency_bucket[r][b], memory_order_relaxed);
            buf_printf(out,
                       "boucle_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                       "%llu\n",
                       route_names[r], buckets[b], (unsigned long long)cumulative);
        }
        uint64_t count = atomic_load_explicit(&latency_count[r], memory_order_relaxed);
        if (count < cumulative) count = cumulative;
        buf_printf(out,
                   "boucle_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                   "boucle_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n"
                   "boucle_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                   route_names[r], (unsigned long long)count, route_names[r],
                   (double)atomic_load_explicit(&latency_sum_ns[r], memory_order_relaxed) / 1e9,
                   route_names[r], (unsigned long long)count);
    }
}
