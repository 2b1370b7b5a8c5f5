/* The serve process: libmicrohttpd daemon, request lifecycle (body limits,
 * dispatch, response), champion watcher and orderly shutdown. */
#include "serve/server.h"

#include "base/version.h"
#include "base/json_scope.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "loop/scheduler.h"
#include "serve/auth.h"
#include "serve/import_queue.h"
#include "serve/limits.h"
#include "serve/metrics.h"
#include "serve/request_pool.h"
#include "serve/routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct served_task *server_find_task(struct server *srv, const char *name, size_t len)
{
    for (size_t i = 0; i < srv->n_tasks; i++) {
        const char *tn = srv->tasks[i].cfg->name;
        if (strlen(tn) == len && memcmp(tn, name, len) == 0) return &srv->tasks[i];
    }
    return NULL;
}

/* ---- champion loading (start-up and the watcher) ---- */

/* A version loaded again, e.g. after a rollback, keeps counting where it was. */
struct version_counts *server_version_counts(struct served_task *t, struct trained_model *m,
                                             int64_t version)
{
    size_t n = atomic_load(&t->n_versions);
    for (size_t i = 0; i < n; i++)
        if (t->versions[i]->version == version) return t->versions[i];
    if (n == MAX_COUNTED_VERSIONS) return NULL; /* counting stops, serving does not */
    struct version_counts *vc = xcalloc(1, sizeof *vc);
    vc->version = version;
    vc->n_labels = model_n_labels(m);
    vc->labels = xcalloc(vc->n_labels, sizeof *vc->labels);
    vc->by_label = xcalloc(vc->n_labels, sizeof *vc->by_label);
    for (size_t i = 0; i < vc->n_labels; i++)
        vc->labels[i] = xstrdup(model_label(m, i));
    t->versions[n] = vc;
    atomic_store(&t->n_versions, n + 1); /* publish after the block is complete */
    return vc;
}

static void free_counts(struct served_task *t)
{
    for (size_t i = 0; i < atomic_load(&t->n_versions); i++) {
        struct version_counts *vc = t->versions[i];
        for (size_t k = 0; k < vc->n_labels; k++)
            free(vc->labels[k]);
        free(vc->labels);
        free(vc->by_label);
        free(vc);
    }
}

struct trained_model *server_model_load(const struct served_task *t, struct store *st,
                                        int64_t version, struct err *e)
{
    void *data = NULL;
    size_t len = 0;
    if (store_model_artifact(st, t->cfg->name, version, &data, &len, e) != 0) {
        err_prefix(e, "cannot read model version %lld", (long long)version);
        return NULL;
    }
    struct trained_model *m = model_load(data, len, e);
    free(data);
    /* a model reading other tabular fields would take one value for another */
    if (m && model_check_fields(m, t->cfg, e) != 0) {
        model_release(m);
        m = NULL;
    }
    if (!m) err_prefix(e, "model version %lld refused", (long long)version);
    return m;
}

static void load_champion(struct served_task *t, struct store *st, int64_t version)
{
    struct err e;
    err_clear(&e);
    struct trained_model *m = server_model_load(t, st, version, &e);
    if (!m) {
        log_error("task %s: still serving version %lld: %s", t->cfg->name,
                  (long long)model_slot_version(&t->slot), e.msg);
        return;
    }
    int64_t old =
        model_slot_install_with(&t->slot, m, version, NULL, server_version_counts(t, m, version));
    if (old)
        log_info("task %s: now serving model version %lld (was %lld)", t->cfg->name,
                 (long long)version, (long long)old);
    else
        log_info("task %s: serving model version %lld", t->cfg->name, (long long)version);
}

void server_refresh_champions(struct server *srv, struct store *st)
{
    for (size_t i = 0; i < srv->n_tasks; i++) {
        struct served_task *t = &srv->tasks[i];
        struct err e;
        err_clear(&e);
        int64_t v = 0;
        int found = store_alias_get(st, t->cfg->name, "champion", &v, &e);
        if (found < 0) {
            log_warn("task %s: cannot read the champion alias: %s", t->cfg->name, e.msg);
            continue;
        }
        if (!found || v == atomic_load(&t->champion_seen)) continue;
        /* act once per alias move: a model that fails to load is not retried
         * every second, the old one keeps serving */
        atomic_store(&t->champion_seen, v);
        load_champion(t, st, v);
    }
}

void server_wake_watcher(struct server *srv)
{
    pthread_mutex_lock(&srv->watch_mu);
    srv->watch_woken = 1;
    pthread_cond_signal(&srv->watch_cv);
    pthread_mutex_unlock(&srv->watch_mu);
}

static void scheduler_maybe_tick(struct server *srv, int64_t *next_tick_ms)
{
    int64_t now = time_now_ms();
    if (now < *next_tick_ms) return;
    *next_tick_ms = now + srv->cfg->scheduler_interval_ms;
    struct err e;
    err_clear(&e);
    scheduler_tick(srv->watch_store, srv->cfg, now, &e); /* it logs what it does */
}

/* How the watcher waits: on SQLite it polls the champion alias every
 * WATCH_POLL_MS. On PostgreSQL it listens for the NOTIFY every champion move
 * sends (from any process) and waits on its connection in slices of
 * WATCH_SLICE_MS: a move is served at once, server_wake_watcher and the
 * shutdown are seen within a slice, and the alias is still re-read every
 * WATCH_POLL_MS regardless (one cheap query; nothing depends on a
 * notification never going missing). */
#define WATCH_POLL_MS 500
#define WATCH_SLICE_MS 100

/* Sleeps up to ms on the condition variable (woken early by
 * server_wake_watcher or the shutdown); 1 when woken, 0 otherwise. */
static int watcher_sleep(struct server *srv, int ms)
{
    struct timespec until = time_deadline_ms(ms);
    pthread_mutex_lock(&srv->watch_mu);
    if (!srv->watch_woken && !atomic_load(&srv->stopping))
        pthread_cond_timedwait(&srv->watch_cv, &srv->watch_mu, &until);
    int woken = srv->watch_woken;
    srv->watch_woken = 0;
    pthread_mutex_unlock(&srv->watch_mu);
    return woken;
}

/* Takes the wake-up flag server_wake_watcher set, if any. */
static int watcher_take_wake(struct server *srv)
{
    pthread_mutex_lock(&srv->watch_mu);
    int woken = srv->watch_woken;
    srv->watch_woken = 0;
    pthread_mutex_unlock(&srv->watch_mu);
    return woken;
}

static void *watcher_main(void *arg)
{
    struct server *srv = arg;
    int64_t next_tick_ms = time_now_ms() + srv->cfg->scheduler_interval_ms;
    const char *url = srv->cfg->store_url ? srv->cfg->store_url : "";
    int notified = strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
    struct err e;
    err_clear(&e);
    if (notified && store_listen_aliases(srv->watch_store, &e) != 0) {
        log_warn("champion watcher: cannot listen for champion moves (%s): polling every %d ms",
                 e.msg, WATCH_POLL_MS);
        notified = 0;
    }
    /* an alias moved between the start-up load and LISTEN is caught here */
    int64_t next_refresh_ms = notified ? 0 : time_now_ms() + WATCH_POLL_MS;
    int failing = 0;
    while (!atomic_load(&srv->stopping)) {
        int refresh = 0;
        if (notified) {
            err_clear(&e);
            int rc = store_wait_alias_change(srv->watch_store, WATCH_SLICE_MS, &e);
            if (rc < 0) {
                /* connection trouble: say so once, and do not spin while the
                 * store reconnects */
                if (!failing) log_warn("champion watcher: waiting for champion moves: %s", e.msg);
                failing = 1;
                refresh = watcher_sleep(srv, WATCH_POLL_MS);
            } else {
                if (failing) log_info("champion watcher: listening for champion moves again");
                failing = 0;
                refresh = rc == 1;
            }
            refresh |= watcher_take_wake(srv);
        } else {
            refresh = watcher_sleep(srv, WATCH_POLL_MS);
        }
        if (atomic_load(&srv->stopping)) break;
        int64_t now = time_now_ms();
        if (refresh || now >= next_refresh_ms) {
            server_refresh_champions(srv, srv->watch_store);
            challenger_refresh(srv, srv->watch_store);
            next_refresh_ms = time_now_ms() + WATCH_POLL_MS;
        }
        scheduler_maybe_tick(srv, &next_tick_ms);
    }
    return NULL;
}

/* ---- the HTTP request lifecycle ---- */

static enum MHD_Result send_reply(struct server *srv, struct http_request *r)
{
    /* the request's time limit stops here; if it already fired, the 408 was the answer */
    if (limits_request_answering(srv->limits, r) != 0) return MHD_NO;
    metrics_observe_request(metrics_route_of(r->path), r->method, r->status ? r->status : 500,
                            (double)(time_mono_ns() - r->start_ns) / 1e9);
    /* no copy: r->out lives until on_completed, when nothing is sent any more */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->out.len, r->out.data, MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "application/json");
    if (r->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->www_authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->www_authenticate);
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    if (r->retry_after) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%u", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (r->close_connection) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(r->conn, r->status ? r->status : 500, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct server *srv = cls;
    (void)version;
    struct http_request *r = *con_cls;
    if (!r) {
        r = request_pool_take();
        r->conn = conn;
        r->method = method;
        r->path = url;
        r->start_ns = time_mono_ns();
        *con_cls = r;
        if (limits_request_begin(srv->limits, r) != 0) { /* 503 or a bad request id */
            r->replied = 1;
            return send_reply(srv, r);
        }
        r->body_limit = srv->cfg->limits.max_body_bytes;
        r->body_limit_key = "limits.max_body_bytes";
        if (routes_is_import(method, url)) {
            /* a data file: its own, larger limit, and only for a caller
             * allowed to import (the token is checked before megabytes are
             * buffered; the dispatcher checks it again, harmlessly) */
            r->body_limit = srv->cfg->limits.max_import_bytes;
            r->body_limit_key = "limits.max_import_bytes";
            if (auth_check(&srv->cfg->auth, r) != 0) {
                r->replied = 1;
                return send_reply(srv, r);
            }
        }
        /* refuse a declared oversized body before reading any of it */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > r->body_limit) r->too_large = 1;
        if (!r->too_large) return MHD_YES;
    }
    if (r->deferred) /* resumed: the import thread's answer is in */
        return send_reply(srv, r);
    if (r->replied) { /* the 413 is on its way; swallow the rest */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_large) {
        *upload_data_size = 0;
        r->replied = 1;
        http_reply_error(r, 413, "payload_too_large", NULL,
                         "request body exceeds the limit of %zu bytes (%s)", r->body_limit,
                         r->body_limit_key);
        return send_reply(srv, r);
    }
    if (*upload_data_size) {
        if (r->body.len + *upload_data_size > r->body_limit) {
            r->too_large = 1;
            buf_free(&r->body);
        } else {
            buf_append(&r->body, upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* the whole request is in: the handler's time is not the client's */
    if (limits_request_arrived(srv->limits, r) != 0) return MHD_NO;
    routes_dispatch(srv, r);
    /* suspended: this handler is called again once the import's answer is in */
    if (r->deferred) return MHD_YES;
    return send_reply(srv, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    (void)conn;
    struct http_request *r = *con_cls;
    if (!r) return;
    limits_request_end(srv->limits, r, toe);
    /* never while its import runs: the connection was suspended until then */
    if (r->deferred) import_queue_completed(srv->imports);
    /* the answer is sent: work that must not delay it runs now */
    if (r->after_reply) r->after_reply(r->after_ctx);
    request_pool_give(r);
    *con_cls = NULL;
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, int *ipv6, struct err *e)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1])
        return err_set_field(e, ERR_INVALID, "listen",
                             "listen: '%s' is not HOST:PORT (e.g. 127.0.0.1:8080)", listen);
    size_t hl = (size_t)(colon - listen);
    if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']') {
        listen++;
        hl -= 2;
    }
    if (hl >= sizeof host) return err_set(e, ERR_INVALID, "listen: host too long");
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return err_set_field(e, ERR_INVALID, "listen", "listen: bad port '%s'", colon + 1);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || !res)
        return err_set_field(e, ERR_INVALID, "listen", "listen: cannot resolve '%s': %s", host,
                             gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *ipv6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

/* How long the shutdown waits for the answers of imports it ended to be sent. */
#define IMPORT_ANSWER_WAIT_MS 2000

static int wait_for_signal(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    return sig;
}

int serve_run(const struct config *cfg, const struct serve_options *opt, struct err *e)
{
    const char *listen = opt && opt->listen ? opt->listen : cfg->listen;
    int threads = opt && opt->threads > 0 ? opt->threads : cfg->threads;
    if (threads <= 0) threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads <= 0) threads = 2;
    struct sockaddr_storage addr;
    int ipv6 = 0;
    if (parse_listen(listen, &addr, &ipv6, e) != 0) return -1;

    /* signals are taken by sigwait in this thread only */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* one malloc arena per core, not eight: request threads are few and
     * per-thread arenas are what made RSS grow under load */
    mallopt(M_ARENA_MAX, threads > 2 ? threads : 2);
    json_scope_install(); /* before any request thread runs */
    struct server srv = {.cfg = cfg};
    srv.store = store_open(cfg->store_url, e);
    if (!srv.store) return -1;
    srv.watch_store = store_open(cfg->store_url, e);
    if (!srv.watch_store) {
        store_close(srv.store);
        return -1;
    }
    srv.predlog = predlog_start(cfg->store_url, 0, e);
    if (!srv.predlog) {
        store_close(srv.watch_store);
        store_close(srv.store);
        return -1;
    }
    srv.n_tasks = cfg->n_tasks;
    srv.tasks = xcalloc(cfg->n_tasks ? cfg->n_tasks : 1, sizeof *srv.tasks);
    for (size_t i = 0; i < cfg->n_tasks; i++) {
        srv.tasks[i].cfg = &cfg->tasks[i];
        model_slot_init(&srv.tasks[i].slot);
        atomic_init(&srv.tasks[i].champion_seen, 0);
        challenger_init(&srv.tasks[i].challenger);
    }
    server_refresh_champions(&srv, srv.watch_store);
    challenger_refresh(&srv, srv.watch_store);
    pthread_mutex_init(&srv.watch_mu, NULL);
    pthread_cond_init(&srv.watch_cv, NULL);
    pthread_create(&srv.watcher, NULL, watcher_main, &srv);

    unsigned int flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
        MHD_USE_TURBO |           /* fewer checks per connection; keep-alive clients are the norm */
        MHD_ALLOW_SUSPEND_RESUME; /* imports wait for the import thread suspended */
    if (ipv6) flags |= MHD_USE_IPv6;
    srv.imports = import_queue_start(e);
    srv.limits = srv.imports ? limits_start(&srv, (unsigned)threads, e) : NULL;
    struct MHD_Daemon *d = NULL;
    if (srv.limits)
        d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
                             (unsigned int)threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv,
                             MHD_OPTION_ARRAY, limits_mhd_options(srv.limits), MHD_OPTION_END);
    int rc = srv.limits ? 0 : -1;
    if (d && cfg->worker_enabled) {
        srv.supervisor = supervisor_start(cfg->path, e);
        if (!srv.supervisor) rc = -1;
    }
    if (!d && rc == 0) {
        rc = err_set(e, ERR_IO, "cannot listen on %s: %s (is another server using the port?)",
                     listen, strerror(errno ? errno : EADDRINUSE));
    } else if (rc == 0) {
        log_info("boucle %s serving %zu task(s) on http://%s with %d threads", boucle_version,
                 cfg->n_tasks, listen, threads);
        int sig = wait_for_signal();
        log_info("received %s: finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
        MHD_quiesce_daemon(d);
        /* libmicrohttpd must find no suspended connection: imports waiting
         * are answered 503, a running one finishes and is answered */
        import_queue_stop(srv.imports, IMPORT_ANSWER_WAIT_MS);
        MHD_stop_daemon(d);
    }
    if (d && rc != 0) {
        import_queue_stop(srv.imports, IMPORT_ANSWER_WAIT_MS);
        MHD_stop_daemon(d);
    }
    import_queue_stop(srv.imports, 0); /* when the daemon never started */
    import_queue_free(srv.imports);    /* after the daemon: its last callbacks use it */
    limits_stop(srv.limits);           /* after the daemon: every connection has closed */
    supervisor_stop(srv.supervisor, 10000);
    atomic_store(&srv.stopping, 1);
    pthread_mutex_lock(&srv.watch_mu);
    pthread_cond_signal(&srv.watch_cv);
    pthread_mutex_unlock(&srv.watch_mu);
    pthread_join(srv.watcher, NULL);
    predlog_stop(srv.predlog);
    for (size_t i = 0; i < srv.n_tasks; i++) {
        challenger_clear(&srv.tasks[i].challenger);
        model_slot_clear(&srv.tasks[i].slot);
        free_counts(&srv.tasks[i]);
    }
    free(srv.tasks);
    store_close(srv.watch_store);
    store_close(srv.store);
    pthread_mutex_destroy(&srv.watch_mu);
    pthread_cond_destroy(&srv.watch_cv);
    if (rc == 0) log_info("stopped cleanly");
    return rc;
}
