/* MLflow's run-search language: filter strings and order_by clauses, parsed
 * into plain structs and evaluated in C on runs the caller has loaded.
 *
 * Filter grammar (as MLflow 2.x's SearchUtils accepts it):
 *
 *   filter  := [cond {AND cond}]            -- no OR, no parentheses
 *   cond    := ident op value
 *   ident   := entity "." key | attribute   -- a bare name is an attribute
 *   entity  := metric | metrics | param | params | parameter | parameters
 *            | tag | tags | attribute | attributes | attr | run
 *   key     := name | `quoted name` | "quoted name"
 *   op      := = | != | > | >= | < | <= | LIKE | ILIKE | IN | NOT IN
 *   value   := 'string' | "string" | number | ( 'string' {, 'string'} )
 *
 * - Keywords (AND, LIKE, ILIKE, IN, NOT, ASC, DESC) are case-insensitive;
 *   entity names are lower case, as in MLflow.
 * - An unquoted key is letters, digits, '_', '.' and any non-ASCII byte
 *   (tags.mlflow.runName works); anything else needs backticks or double
 *   quotes: metrics.`f1 score`, tags."mlflow.runName". Inside quotes the
 *   quote itself is written twice. Quoted keys are stored unquoted.
 * - Attributes: run_id, run_name, user_id, status, start_time, end_time,
 *   artifact_uri, and MLflow's aliases `created`/`Created` (start_time) and
 *   `run name`/`Run name`/`Run Name` (run_name). The key of an attribute
 *   condition is the canonical name.
 * - String literals are in single or double quotes, the quote doubled inside
 *   ('it''s'). Numbers: optional sign, decimals, exponent (-1.5e-3).
 * - Types: metrics and start_time/end_time compare numbers with = != > >= < <=;
 *   params, tags and the other attributes compare quoted strings with
 *   = != LIKE ILIKE; run_id also takes IN / NOT IN with a non-empty list of
 *   quoted strings.
 * - LIKE/ILIKE: '%' is any run of characters, '_' exactly one (UTF-8)
 *   character, a backslash makes the next character literal ('10\%' or
 *   'a\_b', as PostgreSQL's default escape); ILIKE folds ASCII case. A
 *   pattern may not end with a lone backslash.
 *
 * Errors are ERR_INVALID with field "filter" (or "order_by") and a message
 * that says where, then repeats the excerpt with a caret under the spot:
 *
 *     invalid filter at character 12 ('metrics.x >> 0.5'): expected a value
 *     after '>' (a number), found '>'          [the first line, wrapped here]
 *       metrics.x >> 0.5
 *                  ^
 *
 * The first line stands alone (the excerpt is a window of ~60 bytes around
 * the spot, "..." where cut); the caret lines survive err_prefix. Characters
 * count from 1, in UTF-8 characters; control characters show as spaces.
 */
#ifndef BOUCLE_TRACK_FILTER_H
#define BOUCLE_TRACK_FILTER_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

enum filter_entity { FILTER_METRIC, FILTER_PARAM, FILTER_TAG, FILTER_ATTRIBUTE };

enum filter_attr {
    FILTER_ATTR_NONE = 0, /* the condition is not on an attribute */
    FILTER_ATTR_RUN_ID,
    FILTER_ATTR_RUN_NAME,
    FILTER_ATTR_USER_ID,
    FILTER_ATTR_STATUS,
    FILTER_ATTR_START_TIME, /* numeric */
    FILTER_ATTR_END_TIME,   /* numeric */
    FILTER_ATTR_ARTIFACT_URI,
};

enum filter_op {
    FILTER_EQ,
    FILTER_NE,
    FILTER_GT,
    FILTER_GE,
    FILTER_LT,
    FILTER_LE,
    FILTER_LIKE,
    FILTER_ILIKE,
    FILTER_IN,
    FILTER_NOT_IN,
};

enum filter_value_kind {
    FILTER_NUMBER, /* metrics, start_time, end_time */
    FILTER_STRING, /* params, tags, string attributes */
    FILTER_LIST,   /* IN / NOT IN (run_id) */
};

struct filter_cond {
    enum filter_entity entity;
    enum filter_attr attr; /* FILTER_ATTR_NONE unless entity is FILTER_ATTRIBUTE */
    char *key;             /* unquoted; the canonical name for attributes */
    enum filter_op op;
    enum filter_value_kind kind;
    double number; /* FILTER_NUMBER */
    char *string;  /* FILTER_STRING: unquoted, quotes undoubled */
    char **list;   /* FILTER_LIST: n_list >= 1 unquoted strings */
    size_t n_list;
    size_t offset; /* byte offset of the condition in the filter text */
};

/* The conditions are joined by AND; n == 0 matches every run. */
struct filter {
    struct filter_cond *conds;
    size_t n;
};

/* Parses text (NULL, empty or blank = no conditions) into *out, which the
 * caller frees with filter_free (also after an error: it is then empty). */
int filter_parse(const char *text, struct filter *out, struct err *e);
void filter_free(struct filter *f);

/* One run as the matcher and the comparator see it. Attribute strings that
 * are NULL, and an end_time of 0 (MLflow's "not ended"), are absent. Each
 * lookup returns 1 and sets *out when the run has the key, 0 when it does
 * not; a NULL lookup means the run has none. metric() gives the latest
 * value (the highest step, then timestamp, then value). */
struct filter_row {
    const char *run_id, *run_name, *user_id, *status, *artifact_uri;
    int64_t start_time, end_time; /* milliseconds since the epoch */
    int (*metric)(const void *ctx, const char *key, double *out);
    int (*param)(const void *ctx, const char *key, const char **out);
    int (*tag)(const void *ctx, const char *key, const char **out);
    const void *ctx; /* passed to the lookups */
};

/* 1 when the row satisfies every condition, else 0. As in MLflow, a
 * condition on a metric, param, tag or attribute the run does not have is
 * false whatever the operator (even != and NOT IN); metric comparisons
 * follow IEEE rules (NaN is only != anything). Strings compare bytewise. */
int filter_match(const struct filter *f, const struct filter_row *row);

/* SQL LIKE on NUL-terminated strings with the rules above (icase = ILIKE).
 * Patterns are not validated here (a trailing backslash matches itself). */
int filter_like(const char *text, const char *pattern, int icase);

const char *filter_entity_name(enum filter_entity entity); /* "metrics", "params", ... */
const char *filter_op_name(enum filter_op op);             /* "=", "LIKE", "NOT IN", ... */

/* order_by: each clause is "<ident> [ASC|DESC]" with ident as in filters
 * ("metrics.f1 DESC", "attributes.start_time", "start_time DESC",
 * "params.`batch size` asc"); ASC by default. */
struct order_key {
    enum filter_entity entity;
    enum filter_attr attr; /* FILTER_ATTR_NONE unless an attribute */
    char *key;             /* unquoted; the canonical name for attributes */
    int descending;
};

struct order {
    struct order_key *keys;
    size_t n;
};

/* Parses n clauses (n may be 0) into *out, freed with order_free (also after
 * an error). An error names the clause (its number when n > 1), the
 * character and what was expected. */
int order_parse(const char *const *clauses, size_t n, struct order *out, struct err *e);
void order_free(struct order *o);

/* qsort-style comparison of two runs: the keys in turn, then MLflow's
 * natural order (start_time descending, then run_id ascending), so only the
 * same run compares equal. For every key, whatever the direction, runs that
 * have the value come first, then runs whose metric is NaN, then runs that
 * lack it. o may be NULL or empty (natural order only). */
int order_compare(const struct order *o, const struct filter_row *a, const struct filter_row *b);

#endif
