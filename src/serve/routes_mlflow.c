/* The MLflow REST surface (/api/2.0/mlflow/... and the web UI's
 * /ajax-api/2.0/mlflow/...): turns the request into the call's fields (the
 * query string for GET, the JSON body otherwise) and sends track/mlflow's
 * answer, serialised so that doubles round-trip exactly. */
#include "serve/routes.h"

#include "track/mlflow.h"

#include <string.h>
#include <strings.h>

static const char *const prefixes[] = {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"};

int routes_is_mlflow(const char *path)
{
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0) return 1;
    return 0;
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
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    json_t *obj = cls;
    if (!key) return MHD_YES;
    json_t *v = json_string(value ? value : "");
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
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_arg, fields);
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

void routes_mlflow(struct server *srv, struct http_request *r)
{
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
    json_t *answer = mlflow_call(srv->store, r->method, endpoint, fields, &status);
    json_decref(fields);
    reply(r, status, answer);
}
