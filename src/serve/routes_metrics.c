/* GET /metrics — Prometheus text format. Request and prediction counters are
 * atomics read here; satisfaction and retrain results come from the store at
 * scrape time (a scrape may do SQL; a prediction never does). */
#include "serve/routes.h"

#include "base/version.h"
#include "base/timeutil.h"
#include "serve/limits.h"
#include "serve/metrics.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Label values are escaped per the exposition format: \\ \" and \n. */
static void label_value(struct buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_append_char(out, '\\'), buf_append_char(out, *s);
        else if (*s == '\n')
            buf_append_str(out, "\\n");
        else
            buf_append_char(out, *s);
    }
}

static void render_predictions(struct server *srv, struct buf *out)
{
    metrics_family(out, "boucle_predictions_total", "counter",
                   "Predictions served, by task, model version and predicted label.");
    for (size_t i = 0; i < srv->n_tasks; i++) {
        struct served_task *t = &srv->tasks[i];
        size_t n = atomic_load(&t->n_versions);
        for (size_t v = 0; v < n; v++) {
            struct version_counts *vc = t->versions[v];
            for (size_t k = 0; k < vc->n_labels; k++) {
                buf_append_str(out, "boucle_predictions_total{task=\"");
                label_value(out, t->cfg->name);
                buf_printf(out, "\",model_version=\"%lld\",label=\"", (long long)vc->version);
                label_value(out, vc->labels[k]);
                buf_printf(out, "\"} %llu\n", (unsigned long long)atomic_load(&vc->by_label[k]));
            }
        }
    }
    metrics_family(out, "boucle_feedback_total", "counter",
                   "Feedback acknowledged by this server, by task and score.");
    static const char *const scores[] = {"-1", "0", "1"};
    for (size_t i = 0; i < srv->n_tasks; i++)
        for (int s = 0; s < 3; s++) {
            buf_append_str(out, "boucle_feedback_total{task=\"");
            label_value(out, srv->tasks[i].cfg->name);
            buf_printf(out, "\",score=\"%s\"} %llu\n", scores[s],
                       (unsigned long long)atomic_load(&srv->tasks[i].feedback_by_score[s]));
        }
    metrics_family(out, "boucle_model_version", "gauge",
                   "The model version each task serves (0: none loaded).");
    for (size_t i = 0; i < srv->n_tasks; i++) {
        buf_append_str(out, "boucle_model_version{task=\"");
        label_value(out, srv->tasks[i].cfg->name);
        buf_printf(out, "\"} %lld\n", (long long)model_slot_version(&srv->tasks[i].slot));
    }
}

/* The window satisfaction is shown over: the task's satisfaction trigger's, else a day. */
static int64_t satisfaction_window(const struct task_config *t)
{
    for (size_t i = 0; i < t->n_triggers; i++)
        if (t->triggers[i].kind == TRIGGER_SATISFACTION)
            return t->triggers[i].satisfaction_window_ms;
    return 24LL * 3600 * 1000;
}

static void render_store_figures(struct server *srv, struct buf *out, uint64_t *errors)
{
    metrics_family(out, "boucle_satisfaction_ratio", "gauge",
                   "Share of +1 among scored feedback over the task's satisfaction window.");
    for (size_t i = 0; i < srv->n_tasks; i++) {
        const struct task_config *t = srv->tasks[i].cfg;
        struct err e;
        err_clear(&e);
        int64_t scored = 0, positive = 0;
        if (store_feedback_satisfaction(srv->store, t->name, time_now_ms() - satisfaction_window(t),
                                        &scored, &positive, &e) != 0) {
            (*errors)++;
            continue;
        }
        if (!scored) continue; /* no data is not 0% satisfied */
        buf_append_str(out, "boucle_satisfaction_ratio{task=\"");
        label_value(out, t->name);
        buf_printf(out, "\"} %.6f\n", (double)positive / (double)scored);
    }
    metrics_family(out, "boucle_retrain_runs_total", "counter",
                   "Retrain runs by task and result (the last 1000 runs).");
    struct err e;
    err_clear(&e);
    json_t *runs = store_runs_list(srv->store, NULL, 1000, &e);
    if (!runs) {
        (*errors)++;
        return;
    }
    static const char *const results[] = {"completed", "failed", "cancelled", "running", "pending"};
    for (size_t i = 0; i < srv->n_tasks; i++)
        for (size_t k = 0; k < sizeof results / sizeof results[0]; k++) {
            size_t count = 0, j;
            json_t *run;
            json_array_foreach(runs, j, run)
            {
                const char *kind = json_string_value(json_object_get(run, "kind"));
                const char *task = json_string_value(json_object_get(run, "task"));
                const char *status = json_string_value(json_object_get(run, "status"));
                if (kind && task && status && strcmp(kind, "retrain") == 0 &&
                    strcmp(task, srv->tasks[i].cfg->name) == 0 && strcmp(status, results[k]) == 0)
                    count++;
            }
            buf_append_str(out, "boucle_retrain_runs_total{task=\"");
            label_value(out, srv->tasks[i].cfg->name);
            buf_printf(out, "\",result=\"%s\"} %zu\n", results[k], count);
        }
    json_decref(runs);
}

static void render_log_and_process(struct server *srv, struct buf *out, uint64_t scrape_errors)
{
    struct predlog_stats ps;
    predlog_get_stats(srv->predlog, &ps);
    metrics_family(out, "boucle_prediction_log_queue_depth", "gauge",
                   "Prediction log records waiting for the writer.");
    buf_printf(out, "boucle_prediction_log_queue_depth %llu\n", (unsigned long long)ps.pending);
    metrics_family(out, "boucle_prediction_log_written_total", "counter",
                   "Prediction log records committed to the store.");
    buf_printf(out, "boucle_prediction_log_written_total %llu\n", (unsigned long long)ps.written);
    metrics_family(out, "boucle_prediction_log_dropped_total", "counter",
                   "Prediction log records lost (queue full or store failure).");
    buf_printf(out, "boucle_prediction_log_dropped_total %llu\n", (unsigned long long)ps.dropped);
    metrics_family(out, "boucle_prediction_log_flush_seconds", "gauge",
                   "Duration of the writer's last group commit.");
    buf_printf(out, "boucle_prediction_log_flush_seconds %.6f\n", ps.last_flush_seconds);
    metrics_family(out, "boucle_store_errors_total", "counter",
                   "Store operations that failed, by component.");
    buf_printf(out, "boucle_store_errors_total{component=\"prediction_log\"} %llu\n",
               (unsigned long long)ps.failed_batches);
    buf_printf(out, "boucle_store_errors_total{component=\"metrics\"} %llu\n",
               (unsigned long long)scrape_errors);

    /* the standard process metrics, from /proc */
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    unsigned long long utime = 0, stime = 0, start = 0, rss_pages = 0, vsize = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        /* fields 14, 15 (utime, stime), 22 (starttime), 23 (vsize), 24 (rss) */
        if (fscanf(f,
                   "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
                   "%*d %*d %*d %*d %llu %llu %llu",
                   &utime, &stime, &start, &vsize, &rss_pages) != 5)
            utime = stime = start = vsize = rss_pages = 0;
        fclose(f);
    }
    double boot = 0;
    f = fopen("/proc/stat", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "btime %lf", &boot) == 1) break;
        fclose(f);
    }
    metrics_family(out, "process_cpu_seconds_total", "counter", "User and system CPU time.");
    buf_printf(out, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / (double)ticks);
    metrics_family(out, "process_resident_memory_bytes", "gauge", "Resident memory size.");
    buf_printf(out, "process_resident_memory_bytes %llu\n", rss_pages * (unsigned long long)page);
    metrics_family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size.");
    buf_printf(out, "process_virtual_memory_bytes %llu\n", vsize);
    metrics_family(out, "process_start_time_seconds", "gauge", "Start time, since the epoch.");
    buf_printf(out, "process_start_time_seconds %.2f\n", boot + (double)start / (double)ticks);
    metrics_family(out, "boucle_build_info", "gauge", "The running boucle's version.");
    buf_printf(out, "boucle_build_info{version=\"%s\"} 1\n", boucle_version);
}

void routes_metrics(struct server *srv, struct http_request *r)
{
    struct buf out;
    buf_init(&out);
    uint64_t errors = 0;
    metrics_render_http(&out);
    limits_render_metrics(srv->limits, &out);
    render_predictions(srv, &out);
    render_store_figures(srv, &out, &errors);
    routes_rollout_metrics(srv, &out, &errors);
    render_log_and_process(srv, &out, errors);
    buf_reset(&r->out);
    buf_append(&r->out, out.data, out.len);
    buf_free(&out);
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
