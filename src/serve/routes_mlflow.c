/* The MLflow REST surface (/api/2.0/mlflow/... and the web UI's
 * /ajax-api/2.0/mlflow/...): turns the request into the call's fields (the
 * query string for GET, the JSON body otherwise) and sends track/mlflow's
 * answer, serialised so that doubles round-trip exactly. */
#include "serve/routes.h"

#include "serve/auth.h"
#include "track/mlflow.h"

#include <string.h>
#include <strings.h>

static const char *const prefixes[] = {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"};
/* The artifacts proxy: raw bodies and downloads, not JSON calls. */
static const char *const artifact_prefixes[] = {"/api/2.0/mlflow-artifacts/",
                                                "/ajax-api/2.0/mlflow-artifacts/"};

static const char *after_prefix(const char *path, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(path, list[i], strlen(list[i])) == 0) return path + strlen(list[i]);
    return NULL;
}

#define AFTER(path, list) after_prefix(path, list, sizeof list / sizeof list[0])

int routes_is_mlflow(const char *path)
{
    return AFTER(path, prefixes) || AFTER(path, artifact_prefixes);
}

static void reply(struct http_request *r, unsigned int status, json_t *doc)
{
    char *text = mlflow_dump(doc);
    json_decref(doc);
    buf_reset(&r->out);
    if (text) buf_append_str(&r->out, text);
    buf_append_char(&r->out, '\n');
    free(text);
    r->status = status;
    r->content_type = "application/json";
}

/* Query-string arguments as fields; a repeated key becomes a list. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                               const char *value, size_t value_size)
{
    (void)kind;
    (void)key_size;
    json_t *obj = cls;
    if (!key) return MHD_YES;
    /* with its length: a decoded %00 stays in the value for handlers to refuse */
    json_t *v = value ? json_stringn(value, value_size) : json_string("");
    if (!v) return MHD_YES; /* not UTF-8: left out, the handler reports it missing */
    json_t *old = json_object_get(obj, key);
    if (!old) {
        json_object_set_new(obj, key, v);
    } else if (json_is_array(old)) {
        json_array_append_new(old, v);
    } else {
        json_object_set_new(obj, key, json_pack("[O,o]", old, v));
    }
    return MHD_YES;
}

static json_t *request_fields(struct http_request *r, unsigned int *status, json_t **error)
{
    json_t *fields = NULL;
    if (strcmp(r->method, "GET") == 0 || r->body.len == 0) {
        fields = json_object();
        MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, add_arg, fields);
        if (strcmp(r->method, "GET") == 0 || r->body.len == 0) return fields;
    }
    const char *ct = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && strncasecmp(ct, "application/json", 16) != 0) {
        *error =
            mlflow_error(status, 400, "BAD_REQUEST",
                         "Bad Request. Content-Type must be application/json, got '%.80s'", ct);
        return NULL;
    }
    char *text = mlflow_json_nonfinite(r->body.data, r->body.len);
    json_error_t je;
    fields = json_loads(text, 0, &je);
    free(text);
    if (!fields) {
        *error = mlflow_error(status, 400, "BAD_REQUEST",
                              "Malformed JSON request body at line %d, column %d: %s", je.line,
                              je.column, je.text);
        return NULL;
    }
    if (!json_is_object(fields)) {
        json_decref(fields);
        *error = mlflow_error(status, 400, "BAD_REQUEST", "The request body must be a JSON object");
        return NULL;
    }
    return fields;
}

/* The query string's "path", with its length (a decoded %00 stays visible). */
struct query_path {
    const char *value;
    size_t len;
    int found;
};

static enum MHD_Result find_path_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct query_path *q = cls;
    if (q->found || !key || key_size != 4 || memcmp(key, "path", 4) != 0) return MHD_YES;
    q->found = 1;
    q->value = value ? value : "";
    q->len = value ? value_size : 0;
    return MHD_YES;
}

/* PUT, GET (download or, without a file path, list) and DELETE of run
 * artifacts. Uploads are the raw request body, so they are bounded by
 * limits.max_body_bytes (1 MiB by default; 413 above it). */
static void routes_mlflow_artifacts(struct server *srv, struct http_request *r, const char *rest)
{
    unsigned int status = 500;
    if (strncmp(rest, "artifacts", 9) != 0 || (rest[9] && rest[9] != '/')) {
        reply(r, 404,
              mlflow_error(&status, 404, "ENDPOINT_NOT_FOUND",
                           "No API endpoint '%.200s' (method %.16s) in this MLflow server", r->path,
                           r->method));
        return;
    }
    int listing = rest[9] == '\0';
    rest += listing ? 9 : 10;
    if (!listing && !*rest) {
        reply(r, 400,
              mlflow_error(&status, 400, "INVALID_PARAMETER_VALUE",
                           "Invalid artifact path: is empty"));
        return;
    }
    struct query_path q = {0};
    if (listing) MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, find_path_arg, &q);
    void *data = NULL;
    size_t len = 0;
    json_t *answer = mlflow_artifacts_call(srv->store, r->method, rest, strlen(rest), q.value,
                                           q.len, r->body.data, r->body.len, &data, &len, &status);
    if (answer) {
        reply(r, status, answer);
        return;
    }
    buf_reset(&r->out);
    if (len) buf_append(&r->out, data, len);
    free(data);
    r->status = 200;
    r->content_type = "application/octet-stream";
}

void routes_mlflow(struct server *srv, struct http_request *r)
{
    const char *rest = AFTER(r->path, artifact_prefixes);
    if (rest) {
        routes_mlflow_artifacts(srv, r, rest);
        return;
    }
    const char *endpoint = r->path;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(r->path, prefixes[i], strlen(prefixes[i])) == 0)
            endpoint = r->path + strlen(prefixes[i]);
    unsigned int status = 500;
    json_t *error = NULL;
    json_t *fields = request_fields(r, &status, &error);
    if (!fields) {
        reply(r, status, error);
        return;
    }
    char actor[128];
    auth_actor(r, actor, sizeof actor);
    json_t *answer = mlflow_call(srv->store, r->method, endpoint, fields, actor, &status);
    json_decref(fields);
    reply(r, status, answer);
}
