#include "serve/request_id.h"

#include "base/ids.h"

#include <stdio.h>
#include <string.h>

/* Visible ASCII only: the id goes back in a header and into log lines, where
 * spaces and control bytes would let a client forge or split them. */
static const char *id_problem(const char *s, size_t n)
{
    if (n == 0) return "it is empty";
    if (n > REQUEST_ID_MAX) return "it is too long";
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e) return "it has a space, a control or a non-ASCII byte";
    return NULL;
}

int request_id_take(const char *given, char *out, char *why, size_t why_size)
{
    if (given) {
        size_t n = strlen(given);
        const char *problem = id_problem(given, n);
        if (!problem) {
            memcpy(out, given, n + 1);
            return 0;
        }
        snprintf(why, why_size,
                 "X-Request-Id must be 1 to %d visible ASCII characters; %s (%zu bytes)",
                 REQUEST_ID_MAX, problem, n);
    }
    char uuid[UUID_STR_LEN];
    uuid_v4(uuid);
    memcpy(out, uuid, UUID_STR_LEN);
    return given ? -1 : 0;
}
