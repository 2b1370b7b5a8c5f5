#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
    if (!e) return;
    e->code = ERR_OK;
    e->field[0] = '\0';
    e->msg[0] = '\0';
}

static void vset(struct err *e, enum err_code code, const char *field, const char *fmt, va_list ap)
{
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

int err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    if (!e) return -1;
    va_list ap;
    va_start(ap, fmt);
    vset(e, code, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int err_set_field(struct err *e, enum err_code code, const char *field, const char *fmt, ...)
{
    if (!e) return -1;
    va_list ap;
    va_start(ap, fmt);
    vset(e, code, field, fmt, ap);
    va_end(ap);
    return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    if (!e) return -1;
    char prefix[256], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* truncation is fine: the message stays a readable prefix */
    int n = snprintf(e->msg, sizeof e->msg, "%.200s: ", prefix);
    if (n > 0 && (size_t)n < sizeof e->msg)
        snprintf(e->msg + n, sizeof e->msg - (size_t)n, "%.*s",
                 (int)(sizeof e->msg - (size_t)n - 1), old);
    return -1;
}

const char *err_code_name(enum err_code code)
{
    switch (code) {
    case ERR_OK:
        return "ok";
    case ERR_USAGE:
        return "bad_request";
    case ERR_INVALID:
        return "invalid";
    case ERR_NOT_FOUND:
        return "not_found";
    case ERR_CONFLICT:
        return "conflict";
    case ERR_LIMIT:
        return "limit_exceeded";
    case ERR_CORRUPT:
        return "corrupt";
    case ERR_IO:
        return "io_error";
    case ERR_INTERNAL:
        return "internal";
    }
    return "internal";
}

int err_exit_code(enum err_code code)
{
    switch (code) {
    case ERR_OK:
        return 0;
    case ERR_CONFLICT:
        return 1;
    case ERR_USAGE:
        return 2;
    case ERR_INVALID:
    case ERR_NOT_FOUND:
    case ERR_LIMIT:
        return 3;
    default:
        return 4;
    }
}
