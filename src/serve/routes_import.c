/* POST /v1/tasks/{task}/imports: a data file uploaded as the request body,
 * imported as `boucle import` does it (loop/import.c's import_from, the same
 * code): all or nothing, the task's data contract, the same JSON report.
 *
 * The body is held in memory only (server.c accumulates it under
 * limits.max_import_bytes): no request byte reaches the filesystem. The
 * request is checked here, on its HTTP thread; the import itself runs on the
 * import thread (serve/import_queue.h) with the connection suspended, so the
 * other connections of the HTTP thread are not held for its seconds. It uses
 * a store connection of its own: it takes no lock that predict, feedback or
 * the admin reads take. */
#include "serve/routes.h"

#include "loop/import.h"
#include "serve/auth.h"
#include "serve/import_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int routes_is_import(const char *method, const char *path)
{
    static const char prefix[] = "/v1/tasks/", suffix[] = "/imports";
    size_t n = strlen(path), np = sizeof prefix - 1, ns = sizeof suffix - 1;
    if (strcmp(method, "POST") != 0 || n <= np + ns) return 0;
    if (strncmp(path, prefix, np) != 0 || strcmp(path + n - ns, suffix) != 0) return 0;
    /* exactly one segment, the task, between them */
    return memchr(path + np, '/', n - np - ns) == NULL;
}

#define ACCEPTED_TYPES "text/csv, application/x-ndjson or application/jsonl"

/* The format from the Content-Type's media type (parameters such as
 * charset are ignored: the bytes are checked as UTF-8 anyway). Requiring it,
 * rather than sniffing, keeps curl's default form type from being read as
 * a CSV. */
static int body_format(struct http_request *r, enum table_format *fmt)
{
    static const struct {
        const char *type;
        enum table_format fmt;
    } types[] = {{"text/csv", TABLE_CSV},
                 {"application/x-ndjson", TABLE_JSONL},
                 {"application/jsonl", TABLE_JSONL}};
    const char *ct = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct) {
        size_t len = strcspn(ct, "; \t");
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strlen(types[i].type) == len && strncasecmp(ct, types[i].type, len) == 0) {
                *fmt = types[i].fmt;
                return 0;
            }
    }
    http_reply_error(r, 415, "unsupported_media_type", NULL,
                     "Content-Type must be " ACCEPTED_TYPES ", got '%.80s'", ct ? ct : "(none)");
    return -1;
}

/* ?split=auto|train|test (as `boucle import --split`) and ?force=true|false. */
static int query_options(struct http_request *r, enum import_split *split, unsigned *flags)
{
    const char *s = http_query(r, "split");
    if (!s || strcmp(s, "auto") == 0)
        *split = IMPORT_SPLIT_AUTO;
    else if (strcmp(s, "train") == 0)
        *split = IMPORT_SPLIT_TRAIN;
    else if (strcmp(s, "test") == 0)
        *split = IMPORT_SPLIT_TEST;
    else {
        http_reply_error(r, 400, "bad_request", "split",
                         "split must be auto, train or test, got '%.64s'", s);
        return -1;
    }
    const char *f = http_query(r, "force");
    *flags = 0;
    if (f && strcmp(f, "true") == 0)
        *flags = IMPORT_FORCE;
    else if (f && strcmp(f, "false") != 0) {
        http_reply_error(r, 400, "bad_request", "force", "force must be true or false, got '%.64s'",
                         f);
        return -1;
    }
    return 0;
}

/* An import handed to the import thread: what it needs of the request. */
struct import_work {
    struct import_job job; /* first: the queue hands back &job */
    struct server *srv;
    struct http_request *r;
    struct served_task *t;
    enum table_format fmt;
    enum import_split split;
    unsigned flags;
    char source[160]; /* "upload:" and who sent it, read on the HTTP thread */
};

/* Seconds a client refused for a busy or stopping importer waits. */
#define IMPORT_RETRY_AFTER 5

/* On the import thread, the request's connection suspended: nothing else
 * touches r until the queue resumes it. */
static void run_import(struct import_job *job)
{
    struct import_work *w = (struct import_work *)job;
    struct http_request *r = w->r;
    struct err e;
    err_clear(&e);
    /* a connection of its own: srv->store's lock serialises feedback and the
     * admin reads, which must not wait for a whole file's transaction */
    struct store *st = store_open(w->srv->cfg->store_url, &e);
    if (!st) {
        http_reply_err(r, &e);
        free(w);
        return;
    }
    struct import_source src = {.data = r->body.data ? r->body.data : "",
                                .len = r->body.len,
                                .name = "request body",
                                .source = w->source};
    struct import_result res;
    int rc = import_from(st, w->srv->cfg, w->t->cfg, &src, w->fmt, w->split, w->flags, &res, &e);
    store_close(st);

    if (rc != 0 && !res.refused) {
        import_result_free(&res);
        http_reply_err(r, &e); /* 422 naming line and column; 500 for the store */
    } else {
        json_t *doc = import_result_json(w->t->cfg, &res, rc, &e);
        import_result_free(&res);
        if (rc != 0) {
            /* refused by the contract: the error in the API's shape, beside
             * the report whose "contract" lists the differences */
            json_object_set_new(doc, "error",
                                json_pack("{s:s,s:s,s:s}", "code", "contract_violation", "message",
                                          e.msg, "field", "contract"));
            http_reply_json(r, 409, doc);
            r->error_code = "contract_violation";
        } else {
            http_reply_json(r, res.already_imported ? 200 : 201, doc);
        }
    }
    free(w);
}

/* At shutdown, for an import that had not started: nothing was stored. */
static void refuse_import(struct import_job *job)
{
    struct import_work *w = (struct import_work *)job;
    w->r->retry_after = IMPORT_RETRY_AFTER;
    http_reply_error(w->r, 503, "shutting_down", NULL,
                     "the server is stopping: the import was not started, nothing was stored");
    free(w);
}

void routes_import(struct server *srv, struct http_request *r, struct served_task *t)
{
    struct import_work *w = xcalloc(1, sizeof *w);
    if (body_format(r, &w->fmt) != 0 || query_options(r, &w->split, &w->flags) != 0) {
        free(w);
        return;
    }
    char actor[128];
    auth_actor(r, actor, sizeof actor);
    snprintf(w->source, sizeof w->source, "upload:%s", actor); /* in GET /v1/datasets */
    w->srv = srv;
    w->r = r;
    w->t = t;
    w->job.conn = r->conn;
    w->job.run = run_import;
    w->job.refuse = refuse_import;
    r->deferred = 1; /* before the thread can see the job: it answers from now */
    enum import_submit rc = import_queue_submit(srv->imports, &w->job);
    if (rc == IMPORT_QUEUED) return; /* r is the import thread's until it resumes us */
    r->deferred = 0;
    free(w);
    r->retry_after = IMPORT_RETRY_AFTER;
    if (rc == IMPORT_STOPPING)
        http_reply_error(r, 503, "shutting_down", NULL,
                         "the server is stopping: nothing was imported");
    else
        http_reply_error(r, 503, "imports_busy", NULL,
                         "%d imports are already running or waiting, the server's limit "
                         "(imports run one at a time): retry in %d s",
                         IMPORT_QUEUE_MAX, IMPORT_RETRY_AFTER);
}
