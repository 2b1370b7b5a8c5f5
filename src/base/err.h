/* Errors a user can act on: every fallible function fills a caller-provided
 * struct err with a code (which decides the exit code or HTTP status) and a
 * message that says what and where ("line 12, column 'label': empty value"). */
#ifndef BOUCLE_BASE_ERR_H
#define BOUCLE_BASE_ERR_H

enum err_code {
    ERR_OK = 0,
    ERR_USAGE,     /* bad command line or call: exit 2, HTTP 400 */
    ERR_INVALID,   /* bad input data or config: exit 3, HTTP 400/422 */
    ERR_NOT_FOUND, /* exit 3, HTTP 404 */
    ERR_CONFLICT,  /* already exists / state forbids it: exit 1, HTTP 409 */
    ERR_LIMIT,     /* a size limit was exceeded: exit 3, HTTP 413/422 */
    ERR_CORRUPT,   /* stored artifact or file fails its checks: exit 4, HTTP 500 */
    ERR_IO,        /* file, database or network failure: exit 4, HTTP 500 */
    ERR_INTERNAL,  /* a bug or resource exhaustion: exit 4, HTTP 500 */
};

struct err {
    enum err_code code;
    char field[64]; /* the offending field or key, when there is one */
    char msg[512];
};

void err_clear(struct err *e);
/* Sets code and formatted message; returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, also naming the field the error is about. */
int err_set_field(struct err *e, enum err_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prefixes the existing message with more context: "loading model: <old msg>". */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *err_code_name(enum err_code code); /* "invalid", "not_found", ... */
int err_exit_code(enum err_code code);         /* process exit status for a CLI */

#endif
