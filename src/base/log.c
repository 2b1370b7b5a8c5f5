#include "base/log.h"

#include "base/timeutil.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static _Atomic int min_level = LOG_INFO;
static _Atomic int json_mode = 0;
static const char *const names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    min_level = (int)level;
}

void log_set_json(int enabled)
{
    json_mode = enabled;
}

int log_parse_level(const char *name, enum log_level *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if ((int)level < min_level) return;
    char msg[2048], when[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    time_format_iso8601(time_now_ms(), when, sizeof when);
    if (json_mode) {
        json_t *o = json_pack("{s:s,s:s,s:s}", "time", when, "level", names[level], "msg", msg);
        char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (line) fprintf(stderr, "%s\n", line);
        free(line);
        json_decref(o);
    } else {
        fprintf(stderr, "%s %-5s %s\n", when, names[level], msg);
    }
}
