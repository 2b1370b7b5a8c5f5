#include "serve/limits.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "serve/access_log.h"
#include "serve/conns.h"
#include "serve/metrics.h"
#include "serve/ratelimit.h"
#include "serve/server.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define DEFAULT_MAX_CONNECTIONS 1024
#define CONNECTION_POOL_BYTES (16 * 1024)
#define SPARE_FDS 64       /* the store, logs, the listener, pipes, epoll */
#define ACCESS_QUEUE 4096  /* access log records waiting for the writer */
#define OVER_RETRY_AFTER 1 /* seconds a client turned away for connections waits */

/* Why a request was refused, for boucle_http_rejected_total{reason}. */
enum reject_reason {
    REJECT_CONNECTIONS, /* 503, limits.max_connections */
    REJECT_RATE,        /* 429, limits.rate or a token's rate */
    REJECT_TIMEOUT,     /* 408, limits.request_timeout (counted by conns) */
    REJECT_BODY,        /* 413, limits.max_body_bytes */
    REJECT_INPUT,       /* 422 limit_exceeded: limits.max_batch, limits.max_field_bytes */
    REJECT_REQUEST_ID,  /* 400, X-Request-Id too long or malformed */
    REJECT_COUNT
};
static const char *const reject_names[REJECT_COUNT] = {"connections", "rate",       "timeout",
                                                       "body_size",   "input_size", "request_id"};

struct limits {
    struct server *srv;
    struct conns *conns;
    struct access_log *access; /* NULL when off */
    struct rate_rule rule;     /* limits.rate: tokens without their own, and addresses */
    struct rate_rule *token_rules;
    _Atomic int64_t *token_buckets; /* one per configured token, same order */
    struct rate_table *by_address;  /* requests without a token, when limits.rate is set */
    _Atomic uint64_t rejected[REJECT_COUNT];
    struct MHD_OptionItem options[6];
};

/* ---- start and stop ---- */

/* Connections held beyond max_connections, to be answered 503 rather than
 * left waiting: a quarter more, and a few for small limits. */
static size_t cap_for(size_t max_open)
{
    return max_open + max_open / 4 + 16;
}

/* Each connection is a file descriptor: raise the soft limit as far as the
 * hard one allows; refuse a configured max_connections that cannot fit, and
 * shrink the default one to what does. */
static int fit_fd_limit(const struct config_limits *cfg, size_t *max_open, struct err *e)
{
    size_t want = cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS;
    rlim_t need = (rlim_t)(cap_for(want) + SPARE_FDS);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        *max_open = want;
        return 0;
    }
    if (rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= need) {
        *max_open = want;
        return 0;
    }
    if (cfg->max_connections)
        return err_set_field(e, ERR_INVALID, "limits.max_connections",
                             "limits.max_connections: %zu connections need about %llu file "
                             "descriptors; this process may open %llu (ulimit -n): lower "
                             "limits.max_connections or raise the limit",
                             want, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
    size_t fit = rl.rlim_cur > SPARE_FDS + 32 ? (size_t)(rl.rlim_cur - SPARE_FDS - 16) * 4 / 5 : 16;
    log_warn("limits.max_connections: %zu, not %d: the file descriptor limit is %llu (ulimit -n)",
             fit, DEFAULT_MAX_CONNECTIONS, (unsigned long long)rl.rlim_cur);
    *max_open = fit;
    return 0;
}

static void log_lost_connection(void *cls, const struct conn_slot *slot);

struct limits *limits_start(struct server *srv, unsigned threads, struct err *e)
{
    const struct config *cfg = srv->cfg;
    size_t max_open = 0;
    if (fit_fd_limit(&cfg->limits, &max_open, e) != 0) return NULL;
    size_t cap = cap_for(max_open);
    if (cap < threads) cap = threads; /* each HTTP thread holds at least one */
    struct limits *l = xcalloc(1, sizeof *l);
    l->srv = srv;
    if (cfg->access_log) {
        l->access = access_log_start(cfg->access_log, ACCESS_QUEUE, e);
        if (!l->access) {
            free(l);
            return NULL;
        }
    }
    l->conns =
        conns_start(max_open, cap, cfg->limits.request_timeout_ms, log_lost_connection, l, e);
    if (!l->conns) {
        access_log_stop(l->access);
        free(l);
        return NULL;
    }
    rate_rule_init(&l->rule, cfg->limits.rate, cfg->limits.burst);
    size_t n = cfg->auth.n_tokens;
    l->token_rules = xcalloc(n ? n : 1, sizeof *l->token_rules);
    l->token_buckets = xcalloc(n ? n : 1, sizeof *l->token_buckets);
    for (size_t i = 0; i < n; i++) {
        const struct auth_token *t = &cfg->auth.tokens[i];
        if (t->has_rate)
            rate_rule_init(&l->token_rules[i], t->rate, t->burst);
        else
            l->token_rules[i] = l->rule;
    }
    if (l->rule.interval_ns) l->by_address = rate_table_new();
    /* libmicrohttpd's idle timeout is in whole seconds */
    unsigned idle_s = (unsigned)((cfg->limits.request_timeout_ms + 999) / 1000);
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cap, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)idle_s, NULL},
        /* libmicrohttpd zeroes a connection's pool between keep-alive
         * requests: 16 KB (headers up to ~8 KB; bodies stream through it)
         * instead of the default 32 KB halves that per request */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)CONNECTION_POOL_BYTES, NULL},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)conns_notify, l->conns},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)conns_uri_log, l->conns},
        {MHD_OPTION_END, 0, NULL},
    };
    memcpy(l->options, opts, sizeof opts);
    return l;
}

void limits_stop(struct limits *l)
{
    if (!l) return;
    conns_stop(l->conns);
    access_log_stop(l->access);
    rate_table_free(l->by_address);
    free(l->token_rules);
    free((void *)l->token_buckets);
    free(l);
}

const struct MHD_OptionItem *limits_mhd_options(struct limits *l)
{
    return l->options;
}

/* ---- the request lifecycle ---- */

int limits_request_begin(struct limits *l, struct http_request *r)
{
    r->slot = conns_slot(r->conn);
    char why[200];
    if (request_id_take(http_header(r, "X-Request-Id"), r->request_id, why, sizeof why) != 0) {
        http_reply_error(r, 400, "invalid_request_id", NULL, "%s", why);
        return 1;
    }
    if (!r->slot || r->slot->over) {
        r->retry_after = OVER_RETRY_AFTER;
        r->close_connection = 1; /* make room: this connection is one too many */
        http_reply_error(r, 503, "over_capacity", NULL,
                         "the server is at its limit of %zu open connections "
                         "(limits.max_connections): retry in %d s",
                         conns_max_open(l->conns), OVER_RETRY_AFTER);
        return 1;
    }
    return 0;
}

int limits_request_arrived(struct limits *l, struct http_request *r)
{
    (void)l;
    return conns_request_arrived(r->slot);
}

static void count_rejection(struct limits *l, const char *code)
{
    static const struct {
        const char *code;
        enum reject_reason reason;
    } map[] = {{"over_capacity", REJECT_CONNECTIONS},
               {"rate_limited", REJECT_RATE},
               {"payload_too_large", REJECT_BODY},
               {"limit_exceeded", REJECT_INPUT},
               {"invalid_request_id", REJECT_REQUEST_ID}};
    for (size_t i = 0; code && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(code, map[i].code) == 0)
            atomic_fetch_add_explicit(&l->rejected[map[i].reason], 1, memory_order_relaxed);
}

int limits_request_answering(struct limits *l, struct http_request *r)
{
    if (conns_request_arrived(r->slot) != 0) return -1;
    /* counted before the answer leaves, so a client that saw it finds it in /metrics */
    count_rejection(l, r->error_code);
    return 0;
}

static unsigned wait_seconds(int64_t ns)
{
    int64_t s = (ns + 999999999LL) / 1000000000LL;
    return s < 1 ? 1 : (unsigned)s;
}

/* The rule's figures for the message: "5 requests/s, burst 10". */
static void rule_text(const struct rate_rule *rule, char *out, size_t size)
{
    double rate = 1e9 / (double)rule->interval_ns;
    snprintf(out, size, "%g requests/s, burst %lld", rate,
             (long long)(rule->tolerance_ns / rule->interval_ns));
}

int limits_check_rate(struct limits *l, struct http_request *r)
{
    /* probes are never refused: a health check must see the server, not its clients */
    if (strcmp(r->path, "/healthz") == 0 || strcmp(r->path, "/readyz") == 0) return 0;
    const struct config *cfg = l->srv->cfg;
    int64_t now = time_mono_ns(), wait;
    const struct rate_rule *rule;
    if (r->token) {
        size_t i = (size_t)(r->token - cfg->auth.tokens);
        rule = &l->token_rules[i];
        wait = rate_take(&l->token_buckets[i], rule, now);
    } else {
        rule = &l->rule;
        if (!l->by_address || !r->slot) return 0;
        wait = rate_table_take(l->by_address, r->slot->addr, rule, now);
    }
    if (!wait) return 0;
    char figures[64];
    rule_text(rule, figures, sizeof figures);
    r->retry_after = wait_seconds(wait);
    if (r->token) {
        http_reply_error(r, 429, "rate_limited", NULL,
                         "token '%s' is over its rate of %s (%s): retry in %u s", r->token->name,
                         figures, r->token->has_rate ? "its rate in auth.tokens" : "limits.rate",
                         r->retry_after);
    } else {
        char client[64] = "unknown";
        if (r->slot->has_addr) access_addr_text(r->slot->addr, client, sizeof client);
        http_reply_error(r, 429, "rate_limited", NULL,
                         "client %s is over the rate of %s (limits.rate): retry in %u s", client,
                         figures, r->retry_after);
    }
    return 1;
}

static const char *outcome_of(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return "ok";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "idle_timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "client_closed";
    default:
        return "error";
    }
}

/* The task named in /v1/tasks/{task}/..., when it is a configured one. */
static const char *task_of(struct server *srv, const char *path)
{
    if (strncmp(path, "/v1/tasks/", 10) != 0) return NULL;
    const char *name = path + 10, *end = strchr(name, '/');
    struct served_task *t = server_find_task(srv, name, end ? (size_t)(end - name) : strlen(name));
    return t ? t->cfg->name : NULL;
}

void limits_request_end(struct limits *l, struct http_request *r,
                        enum MHD_RequestTerminationCode toe)
{
    int timed_out = r->slot && atomic_load(&r->slot->timed_out);
    if (r->slot) r->slot->request_logged |= timed_out;
    if (!timed_out) conns_request_done(l->conns, r->slot);
    if (!l->access) return;
    struct access_record rec;
    memset(&rec, 0, sizeof rec);
    int64_t latency_ns = time_mono_ns() - r->start_ns;
    rec.latency_us = latency_ns / 1000;
    rec.time_ms = time_now_ms() - latency_ns / 1000000;
    rec.bytes_in = r->body.len;
    rec.bytes_out = r->status ? r->out.len : 0;
    rec.status = r->status ? r->status : timed_out ? 408 : 0;
    rec.route = metrics_route_name(metrics_route_of(r->path));
    rec.task = task_of(l->srv, r->path);
    rec.token = r->token ? r->token->name : NULL;
    rec.outcome = timed_out ? "timeout" : outcome_of(toe);
    if (r->slot && r->slot->has_addr) {
        memcpy(rec.addr, r->slot->addr, 16);
        rec.has_addr = 1;
    }
    snprintf(rec.method, sizeof rec.method, "%s", r->method);
    snprintf(rec.error, sizeof rec.error, "%s",
             r->error_code ? r->error_code
             : timed_out   ? "request_timeout"
                           : "");
    memcpy(rec.request_id, r->request_id, sizeof rec.request_id);
    access_record_set_path(&rec, r->path);
    access_log_write(l->access, &rec);
}

/* A connection the timeout closed before its request's headers were in: no
 * request ever existed, but the 408 is still worth a line. */
static void log_lost_connection(void *cls, const struct conn_slot *slot)
{
    struct limits *l = cls;
    if (!l->access) return;
    struct access_record rec;
    memset(&rec, 0, sizeof rec);
    rec.time_ms = time_now_ms();
    rec.status = 408;
    rec.outcome = "timeout";
    snprintf(rec.error, sizeof rec.error, "request_timeout");
    if (slot->has_addr) {
        memcpy(rec.addr, slot->addr, 16);
        rec.has_addr = 1;
    }
    char why[8];
    request_id_take(NULL, rec.request_id, why, sizeof why);
    access_log_write(l->access, &rec);
}

/* ---- /metrics ---- */

void limits_render_metrics(struct limits *l, struct buf *out)
{
    metrics_family(out, "boucle_http_rejected_total", "counter",
                   "Requests refused by a serving limit, by reason (the limit's name).");
    for (int i = 0; i < REJECT_COUNT; i++) {
        uint64_t v = i == REJECT_TIMEOUT
                         ? conns_timeouts(l->conns)
                         : atomic_load_explicit(&l->rejected[i], memory_order_relaxed);
        buf_printf(out, "boucle_http_rejected_total{reason=\"%s\"} %llu\n", reject_names[i],
                   (unsigned long long)v);
    }
    metrics_family(out, "boucle_http_connections_open", "gauge", "Open HTTP connections.");
    buf_printf(out, "boucle_http_connections_open %zu\n", conns_open(l->conns));
    metrics_family(out, "boucle_http_connections_max", "gauge",
                   "limits.max_connections: more open connections are answered 503.");
    buf_printf(out, "boucle_http_connections_max %zu\n", conns_max_open(l->conns));
    uint64_t written = 0, dropped = 0;
    if (l->access) access_log_stats(l->access, &written, &dropped);
    metrics_family(out, "boucle_access_log_written_total", "counter", "Access log lines written.");
    buf_printf(out, "boucle_access_log_written_total %llu\n", (unsigned long long)written);
    metrics_family(out, "boucle_access_log_dropped_total", "counter",
                   "Access log lines lost: the writer's queue was full, or the write failed.");
    buf_printf(out, "boucle_access_log_dropped_total %llu\n", (unsigned long long)dropped);
}
