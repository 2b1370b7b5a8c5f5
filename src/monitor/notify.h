/* Notifications: a log line always, a webhook (JSON POST) and e-mail (SMTP)
 * when configured, each with a timeout. Used by the pipeline's notify step
 * and, later, by alerts. */
#ifndef BOUCLE_MONITOR_NOTIFY_H
#define BOUCLE_MONITOR_NOTIFY_H

#include "base/config.h"
#include "base/err.h"

#include <jansson.h>

struct notification {
    const char *task;
    const char *event;   /* "deployed", "refused", "failed", "rolled_back" ... */
    const char *subject; /* one line: "sentiment: version 4 deployed (f1_macro 0.71 -> 0.74)" */
    const char *body;    /* plain text, several lines: what and why */
    json_t *details;     /* extra JSON for the webhook (borrowed; may be NULL) */
};

int notify_init(void); /* curl_global_init; once, before threads */
/* Sends to every configured channel; returns 0 when all succeeded, else -1
 * with e naming the channels that failed and why (the others were still tried).
 * Webhook body: {"task","event","subject","body","details","time"}; a non-2xx
 * answer is a failure. E-mail: From/To/Subject/Date/Message-ID headers, text body. */
int notify_send(const struct notify_config *cfg, const struct notification *n, struct err *e);

#endif
