#include "loop/runlog.h"

#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>

void runlog(struct store *st, const char *run_id, const char *task, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_info("run %.8s (%s): %s", run_id, task, line);
    struct err ignored;
    err_clear(&ignored);
    store_run_log(st, run_id, line, &ignored);
}
