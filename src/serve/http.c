#include "serve/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *http_query(struct http_request *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct http_request *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, key);
}

void http_reply_raw_json(struct http_request *r, unsigned int status, const char *text, size_t len)
{
    buf_reset(&r->out);
    buf_append(&r->out, text, len);
    buf_append_char(&r->out, '\n');
    r->status = status;
    r->content_type = "application/json";
}

static int append_to_buf(const char *text, size_t len, void *out)
{
    buf_append(out, text, len);
    return 0;
}

int http_json_append(struct buf *out, const json_t *doc, size_t flags)
{
    size_t at = out->len;
    if (doc && json_dump_callback(doc, append_to_buf, out, flags) == 0) return 0;
    out->len = at; /* what a failed dump wrote is dropped */
    if (out->data) out->data[at] = '\0';
    return -1;
}

void http_reply_json(struct http_request *r, unsigned int status, json_t *doc)
{
    buf_reset(&r->out);
    http_json_append(&r->out, doc, HTTP_JSON_FLAGS);
    buf_append_char(&r->out, '\n');
    json_decref(doc);
    r->status = status;
    r->content_type = "application/json";
}

void http_reply_error(struct http_request *r, unsigned int status, const char *code,
                      const char *field, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *err = json_pack("{s:s,s:s}", "code", code, "message", msg);
    if (field && *field) json_object_set_new(err, "field", json_string(field));
    http_reply_json(r, status, json_pack("{s:o}", "error", err));
    r->error_code = code;
}

unsigned int http_status_for(enum err_code code)
{
    switch (code) {
    case ERR_OK:
        return 200;
    case ERR_USAGE:
        return 400;
    case ERR_INVALID:
        return 422;
    case ERR_NOT_FOUND:
        return 404;
    case ERR_CONFLICT:
        return 409;
    case ERR_LIMIT:
        return 422;
    default:
        return 500;
    }
}

void http_reply_err(struct http_request *r, const struct err *e)
{
    http_reply_error(r, http_status_for(e->code), err_code_name(e->code), e->field, "%s", e->msg);
}

json_t *http_body_object(struct http_request *r)
{
    const char *ct = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && strncasecmp(ct, "application/json", 16) != 0) {
        http_reply_error(r, 415, "unsupported_media_type", NULL,
                         "Content-Type must be application/json, got '%.80s'", ct);
        return NULL;
    }
    if (r->body.len == 0) {
        http_reply_error(r, 400, "bad_request", NULL,
                         "request body is empty: expected a JSON object");
        return NULL;
    }
    json_error_t je;
    json_t *doc = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        http_reply_error(r, 400, "invalid_json", NULL, "invalid JSON at line %d, column %d: %s",
                         je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        http_reply_error(r, 400, "invalid_json", NULL, "the request body must be a JSON object");
        return NULL;
    }
    return doc;
}
