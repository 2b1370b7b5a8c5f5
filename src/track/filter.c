/* MLflow run-search filters and order_by clauses: a hand-written scanner
 * over the text (every error knows its byte offset), the type rules of
 * MLflow's SearchUtils, and the matcher / comparator used on loaded runs. */
#include "track/filter.h"

#include "base/mem.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- characters ------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A character of an unquoted name (not '.'): ASCII letters, digits, '_'
 * and every byte of a non-ASCII UTF-8 character. */
static int is_name(char c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || (unsigned char)c >= 0x80;
}

static int is_quote(char c)
{
    return c == '\'' || c == '"' || c == '`';
}

static char fold(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int is_cont(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* UTF-8 characters in s[0, n). */
static size_t count_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_cont(s[i])) k++;
    return k;
}

/* ---- the scanner ------------------------------------------------------ */

struct parser {
    const char *text;
    size_t len, pos;
    char what[48];        /* "filter", "order_by clause 2" */
    const char *field;    /* err field: "filter" or "order_by" */
    const char *end_name; /* "the end of the filter" */
    struct err *e;
};

static void skip_space(struct parser *p)
{
    while (p->pos < p->len && is_space(p->text[p->pos]))
        p->pos++;
}

/* Length of the unquoted-name run at byte i. */
static size_t name_len(const struct parser *p, size_t i)
{
    size_t j = i;
    while (j < p->len && is_name(p->text[j]))
        j++;
    return j - i;
}

/* The word at i is kw (case-insensitive) and ends there. */
static int word_is(const struct parser *p, size_t i, const char *kw)
{
    size_t n = strlen(kw);
    if (name_len(p, i) != n) return 0;
    for (size_t k = 0; k < n; k++)
        if (fold(p->text[i + k]) != fold(kw[k])) return 0;
    return 1;
}

/* Copies at most max bytes of s[0, n) into out (size > max + 4), cut on a
 * character boundary, with "..." when cut, control characters as spaces. */
static void clip(const char *s, size_t n, size_t max, char *out)
{
    size_t m = n;
    if (m > max) {
        m = max;
        while (m > 0 && is_cont(s[m]))
            m--;
    }
    for (size_t i = 0; i < m; i++)
        out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
    if (m < n) {
        memcpy(out + m, "...", 3);
        m += 3;
    }
    out[m] = '\0';
}

/* Describes what stands at byte i, for "found ...": 'word', '>=', 'a str...'
 * or the end of the text. */
static void describe(const struct parser *p, size_t i, char *out, size_t size)
{
    while (i < p->len && is_space(p->text[i]))
        i++;
    if (i >= p->len) {
        snprintf(out, size, "%s", p->end_name);
        return;
    }
    const char *s = p->text + i;
    size_t n = 1;
    if (is_name(*s) || *s == '.') {
        while (i + n < p->len && (is_name(s[n]) || s[n] == '.'))
            n++;
    } else if (is_quote(*s)) {
        while (i + n < p->len && s[n] != *s)
            n++;
        if (i + n < p->len) n++;
    } else if (strchr("=!<>", *s)) {
        while (i + n < p->len && n < 2 && strchr("=!<>", s[n]))
            n++;
    } else {
        while (i + n < p->len && is_cont(s[n]))
            n++;
    }
    char tok[40];
    clip(s, n, 24, tok);
    snprintf(out, size, "'%s'", tok);
}

/* Sets the error: where (character, excerpt, caret) and why. Returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, size_t at, const char *fmt,
                                                      ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (at > p->len) at = p->len;

    /* an excerpt of at most ~60 bytes around the spot, on character boundaries */
    enum { BEFORE = 30, AFTER = 30 };
    size_t from = at > BEFORE ? at - BEFORE : 0;
    while (from > 0 && is_cont(p->text[from]))
        from--;
    size_t to = p->len - at > AFTER ? at + AFTER : p->len;
    while (to < p->len && is_cont(p->text[to]))
        to++;
    char excerpt[128];
    size_t k = 0;
    if (from > 0) {
        memcpy(excerpt, "...", 3);
        k = 3;
    }
    size_t caret = k + count_chars(p->text + from, at - from);
    for (size_t i = from; i < to && k < sizeof excerpt - 4; i++) {
        char c = p->text[i];
        excerpt[k++] = ((unsigned char)c < 0x20 || c == 0x7f) ? ' ' : c;
    }
    if (to < p->len) {
        memcpy(excerpt + k, "...", 3);
        k += 3;
    }
    excerpt[k] = '\0';

    return err_set_field(p->e, ERR_INVALID, p->field,
                         "invalid %s at character %zu ('%s'): %s\n  %s\n  %*s^", p->what,
                         count_chars(p->text, at) + 1, excerpt, why, excerpt, (int)caret, "");
}

/* Reads a quoted run at p->pos (the quote doubled inside stands for itself)
 * into a new string. kind names it in the error ("string", "name"). */
static int read_quoted(struct parser *p, const char *kind, char **out)
{
    size_t start = p->pos;
    char q = p->text[p->pos++];
    struct buf b;
    buf_init(&b);
    for (;;) {
        if (p->pos >= p->len) {
            buf_free(&b);
            return fail(p, start, "unterminated %s: no closing %c", kind, q);
        }
        char c = p->text[p->pos++];
        if (c == q) {
            if (p->pos < p->len && p->text[p->pos] == q) {
                p->pos++;
            } else {
                break;
            }
        }
        buf_append_char(&b, c);
    }
    *out = buf_detach(&b);
    return 0;
}

/* ---- identifiers ------------------------------------------------------ */

static const struct {
    const char *name;
    enum filter_entity entity;
} ENTITIES[] = {
    {"metric", FILTER_METRIC},
    {"metrics", FILTER_METRIC},
    {"param", FILTER_PARAM},
    {"params", FILTER_PARAM},
    {"parameter", FILTER_PARAM},
    {"parameters", FILTER_PARAM},
    {"tag", FILTER_TAG},
    {"tags", FILTER_TAG},
    {"attribute", FILTER_ATTRIBUTE},
    {"attributes", FILTER_ATTRIBUTE},
    {"attr", FILTER_ATTRIBUTE},
    {"run", FILTER_ATTRIBUTE},
};

static const struct {
    const char *name;
    enum filter_attr attr;
} ATTRS[] = {
    {"run_id", FILTER_ATTR_RUN_ID},
    {"run_name", FILTER_ATTR_RUN_NAME},
    {"user_id", FILTER_ATTR_USER_ID},
    {"status", FILTER_ATTR_STATUS},
    {"start_time", FILTER_ATTR_START_TIME},
    {"end_time", FILTER_ATTR_END_TIME},
    {"artifact_uri", FILTER_ATTR_ARTIFACT_URI},
    /* MLflow's aliases */
    {"created", FILTER_ATTR_START_TIME},
    {"Created", FILTER_ATTR_START_TIME},
    {"run name", FILTER_ATTR_RUN_NAME},
    {"Run name", FILTER_ATTR_RUN_NAME},
    {"Run Name", FILTER_ATTR_RUN_NAME},
};

static const char *attr_name(enum filter_attr a)
{
    for (size_t i = 0; i < sizeof ATTRS / sizeof ATTRS[0]; i++)
        if (ATTRS[i].attr == a) return ATTRS[i].name;
    return "";
}

static int is_numeric_attr(enum filter_attr a)
{
    return a == FILTER_ATTR_START_TIME || a == FILTER_ATTR_END_TIME;
}

const char *filter_entity_name(enum filter_entity entity)
{
    switch (entity) {
    case FILTER_METRIC:
        return "metrics";
    case FILTER_PARAM:
        return "params";
    case FILTER_TAG:
        return "tags";
    case FILTER_ATTRIBUTE:
        return "attributes";
    }
    return "?";
}

const char *filter_op_name(enum filter_op op)
{
    switch (op) {
    case FILTER_EQ:
        return "=";
    case FILTER_NE:
        return "!=";
    case FILTER_GT:
        return ">";
    case FILTER_GE:
        return ">=";
    case FILTER_LT:
        return "<";
    case FILTER_LE:
        return "<=";
    case FILTER_LIKE:
        return "LIKE";
    case FILTER_ILIKE:
        return "ILIKE";
    case FILTER_IN:
        return "IN";
    case FILTER_NOT_IN:
        return "NOT IN";
    }
    return "?";
}

struct ident {
    enum filter_entity entity;
    enum filter_attr attr;
    char *key;
    size_t start, end; /* the identifier's bytes in the text */
};

/* One name at p->pos: quoted (any quote but ') or unquoted; dots allowed in
 * an unquoted name when dots is set. Returns 0, -1 on error, 1 when no name
 * starts here. */
static int read_name(struct parser *p, int dots, char **out)
{
    if (p->pos >= p->len) return 1;
    char c = p->text[p->pos];
    if (c == '`' || c == '"') return read_quoted(p, "quoted name", out);
    size_t start = p->pos;
    while (p->pos < p->len && (is_name(p->text[p->pos]) || (dots && p->text[p->pos] == '.')))
        p->pos++;
    if (p->pos == start) return 1;
    *out = xstrndup(p->text + start, p->pos - start);
    return 0;
}

static int parse_ident(struct parser *p, struct ident *id)
{
    memset(id, 0, sizeof *id);
    id->start = p->pos;
    char found[64];
    char *first = NULL;
    int r = read_name(p, 0, &first);
    if (r < 0) return -1;
    if (r > 0) {
        describe(p, p->pos, found, sizeof found);
        return fail(p, p->pos,
                    "expected a key such as metrics.<name>, params.<name>, tags.<name> or "
                    "attributes.<name>, found %s",
                    found);
    }
    int first_quoted = is_quote(p->text[id->start]);
    int entity_found = 0;
    for (size_t i = 0; i < sizeof ENTITIES / sizeof ENTITIES[0]; i++) {
        if (strcmp(first, ENTITIES[i].name) == 0) {
            id->entity = ENTITIES[i].entity;
            entity_found = 1;
        }
    }
    size_t key_start = id->start;
    if (p->pos < p->len && p->text[p->pos] == '.') {
        if (!entity_found) {
            int rc =
                fail(p, id->start,
                     "unknown entity '%.40s': expected metrics, params, tags or attributes", first);
            free(first);
            return rc;
        }
        p->pos++;
        key_start = p->pos;
        r = read_name(p, 1, &id->key);
        if (r < 0) {
            free(first);
            return -1;
        }
        if (r > 0 || id->key[0] == '\0') {
            free(id->key);
            id->key = NULL;
            describe(p, key_start, found, sizeof found);
            int rc = fail(p, key_start, "expected a key after '%.40s.', found %s", first, found);
            free(first);
            return rc;
        }
        free(first);
    } else if (entity_found && !first_quoted) {
        describe(p, p->pos, found, sizeof found);
        int rc = fail(p, p->pos, "expected '.' and a key after '%s', found %s", first, found);
        free(first);
        return rc;
    } else {
        /* a bare name is an attribute, as in MLflow: start_time, `Run name` */
        id->entity = FILTER_ATTRIBUTE;
        id->key = first;
    }
    id->end = p->pos;
    if (id->entity == FILTER_ATTRIBUTE) {
        for (size_t i = 0; i < sizeof ATTRS / sizeof ATTRS[0]; i++)
            if (strcmp(id->key, ATTRS[i].name) == 0) id->attr = ATTRS[i].attr;
        if (id->attr == FILTER_ATTR_NONE) {
            int rc = fail(p, key_start,
                          "unknown attribute '%.40s': expected run_id, run_name, user_id, status, "
                          "start_time, end_time or artifact_uri",
                          id->key);
            free(id->key);
            id->key = NULL;
            return rc;
        }
        free(id->key);
        id->key = xstrdup(attr_name(id->attr));
    }
    return 0;
}

/* ---- filters ---------------------------------------------------------- */

static void cond_free(struct filter_cond *c)
{
    free(c->key);
    free(c->string);
    for (size_t i = 0; i < c->n_list; i++)
        free(c->list[i]);
    free(c->list);
    memset(c, 0, sizeof *c);
}

void filter_free(struct filter *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n; i++)
        cond_free(&f->conds[i]);
    free(f->conds);
    f->conds = NULL;
    f->n = 0;
}

/* The identifier's text, clipped, for messages. */
static void ident_text(const struct parser *p, const struct ident *id, char *out)
{
    clip(p->text + id->start, id->end - id->start, 40, out);
}

static int parse_op(struct parser *p, const struct ident *id, enum filter_op *op)
{
    size_t at = p->pos;
    const char *s = p->text + at;
    size_t left = p->len - at;
    if (left >= 2 && s[0] == '!' && s[1] == '=') {
        *op = FILTER_NE;
        p->pos += 2;
    } else if (left >= 2 && s[0] == '<' && s[1] == '>') {
        return fail(p, at, "'<>' is not supported: use !=");
    } else if (left >= 2 && s[0] == '=' && s[1] == '=') {
        return fail(p, at, "'==' is not supported: use =");
    } else if (left >= 2 && s[0] == '>' && s[1] == '=') {
        *op = FILTER_GE;
        p->pos += 2;
    } else if (left >= 2 && s[0] == '<' && s[1] == '=') {
        *op = FILTER_LE;
        p->pos += 2;
    } else if (left >= 1 && s[0] == '>') {
        *op = FILTER_GT;
        p->pos++;
    } else if (left >= 1 && s[0] == '<') {
        *op = FILTER_LT;
        p->pos++;
    } else if (left >= 1 && s[0] == '=') {
        *op = FILTER_EQ;
        p->pos++;
    } else if (word_is(p, at, "LIKE")) {
        *op = FILTER_LIKE;
        p->pos += 4;
    } else if (word_is(p, at, "ILIKE")) {
        *op = FILTER_ILIKE;
        p->pos += 5;
    } else if (word_is(p, at, "IN")) {
        *op = FILTER_IN;
        p->pos += 2;
    } else if (word_is(p, at, "NOT")) {
        p->pos += 3;
        skip_space(p);
        if (!word_is(p, p->pos, "IN")) {
            char found[64];
            describe(p, p->pos, found, sizeof found);
            return fail(p, p->pos, "expected IN after NOT, found %s", found);
        }
        *op = FILTER_NOT_IN;
        p->pos += 2;
    } else {
        char found[64], name[48];
        describe(p, at, found, sizeof found);
        ident_text(p, id, name);
        return fail(p, at,
                    "expected a comparison (=, !=, >, >=, <, <=, LIKE, ILIKE, IN or NOT IN) "
                    "after '%s', found %s",
                    name, found);
    }

    /* the type rules */
    int numeric_op = *op <= FILTER_LE;
    char name[48];
    ident_text(p, id, name);
    switch (id->entity) {
    case FILTER_METRIC:
        if (!numeric_op)
            return fail(p, at, "'%s' is a metric: metrics compare with =, !=, >, >=, <, <=, not %s",
                        name, filter_op_name(*op));
        break;
    case FILTER_PARAM:
    case FILTER_TAG:
        if (*op == FILTER_IN || *op == FILTER_NOT_IN)
            return fail(p, at, "%s is only supported for attributes.run_id", filter_op_name(*op));
        if (*op != FILTER_EQ && *op != FILTER_NE && *op != FILTER_LIKE && *op != FILTER_ILIKE)
            return fail(p, at, "%s compare strings with =, !=, LIKE, ILIKE, not %s",
                        filter_entity_name(id->entity), filter_op_name(*op));
        break;
    case FILTER_ATTRIBUTE:
        if (is_numeric_attr(id->attr)) {
            if (!numeric_op)
                return fail(p, at, "%s is a time: it compares with =, !=, >, >=, <, <=, not %s",
                            id->key, filter_op_name(*op));
        } else if (*op == FILTER_IN || *op == FILTER_NOT_IN) {
            if (id->attr != FILTER_ATTR_RUN_ID)
                return fail(p, at, "%s is only supported for attributes.run_id",
                            filter_op_name(*op));
        } else if (!(*op == FILTER_EQ || *op == FILTER_NE || *op == FILTER_LIKE ||
                     *op == FILTER_ILIKE)) {
            return fail(p, at, "%s is a string: it compares with =, !=, LIKE, ILIKE, not %s",
                        id->key, filter_op_name(*op));
        }
        break;
    }
    return 0;
}

/* A number at p->pos: [+-] digits [. digits] [e [+-] digits], at least one
 * digit before the exponent, not followed by a name character. */
static int read_number(struct parser *p, double *out)
{
    size_t start = p->pos, i = p->pos;
    const char *s = p->text;
    if (i < p->len && (s[i] == '-' || s[i] == '+')) i++;
    size_t digits = 0;
    while (i < p->len && is_digit(s[i])) {
        i++;
        digits++;
    }
    if (i < p->len && s[i] == '.') {
        i++;
        while (i < p->len && is_digit(s[i])) {
            i++;
            digits++;
        }
    }
    int bad = digits == 0;
    if (!bad && i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '-' || s[i] == '+')) i++;
        size_t exp_digits = 0;
        while (i < p->len && is_digit(s[i])) {
            i++;
            exp_digits++;
        }
        bad = exp_digits == 0;
    }
    size_t end = i;
    while (i < p->len && (is_name(s[i]) || s[i] == '.'))
        i++;
    if (bad || i != end) {
        char tok[40];
        clip(s + start, i - start, 24, tok);
        return fail(p, start, "malformed number '%s'", tok);
    }
    char tmp[128];
    if (end - start >= sizeof tmp) return fail(p, start, "number too long");
    memcpy(tmp, s + start, end - start);
    tmp[end - start] = '\0';
    errno = 0;
    double v = strtod(tmp, NULL);
    if (errno == ERANGE && isinf(v)) return fail(p, start, "number out of range");
    *out = v;
    p->pos = end;
    return 0;
}

static int starts_number(const struct parser *p)
{
    size_t i = p->pos;
    if (i < p->len && (p->text[i] == '-' || p->text[i] == '+')) i++;
    if (i < p->len && p->text[i] == '.') i++;
    return i < p->len && is_digit(p->text[i]);
}

static int check_like_pattern(struct parser *p, size_t at, const char *pat)
{
    for (const char *s = pat; *s; s++) {
        if (*s == '\\') {
            if (!s[1])
                return fail(p, at,
                            "a LIKE pattern cannot end with the escape character '\\' "
                            "(write '\\\\' for a backslash)");
            s++;
        }
    }
    return 0;
}

static int parse_list(struct parser *p, struct filter_cond *c)
{
    char found[64];
    p->pos++; /* ( */
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == ')')
        return fail(p, p->pos, "empty %s list: expected at least one quoted string",
                    filter_op_name(c->op));
    size_t cap = 0;
    for (;;) {
        skip_space(p);
        if (p->pos >= p->len || (p->text[p->pos] != '\'' && p->text[p->pos] != '"')) {
            describe(p, p->pos, found, sizeof found);
            return fail(p, p->pos, "expected a quoted string in the %s list, found %s",
                        filter_op_name(c->op), found);
        }
        char *s;
        if (read_quoted(p, "string", &s) < 0) return -1;
        if (c->n_list == cap) {
            cap = cap ? 2 * cap : 4;
            c->list = xrealloc(c->list, cap * sizeof *c->list);
        }
        c->list[c->n_list++] = s;
        skip_space(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == ')') {
            p->pos++;
            return 0;
        }
        describe(p, p->pos, found, sizeof found);
        return fail(p, p->pos, "expected ',' or ')' in the %s list, found %s",
                    filter_op_name(c->op), found);
    }
}

static int parse_value(struct parser *p, const struct ident *id, struct filter_cond *c)
{
    skip_space(p);
    size_t at = p->pos;
    const char *op = filter_op_name(c->op);
    char found[64], name[48];
    describe(p, at, found, sizeof found);
    ident_text(p, id, name);
    int want_number = id->entity == FILTER_METRIC || is_numeric_attr(id->attr);
    char ch = at < p->len ? p->text[at] : '\0';

    if (c->op == FILTER_IN || c->op == FILTER_NOT_IN) {
        if (ch != '(')
            return fail(p, at,
                        "expected a list of quoted strings in parentheses after %s, found %s", op,
                        found);
        c->kind = FILTER_LIST;
        return parse_list(p, c);
    }
    if (ch == '\'' || ch == '"') {
        char *s;
        if (read_quoted(p, "string", &s) < 0) return -1;
        if (want_number) {
            char tok[40];
            clip(s, strlen(s), 24, tok);
            free(s);
            return fail(p, at,
                        "'%s' compares numbers: expected a number after '%s', found the "
                        "string '%s'",
                        name, op, tok);
        }
        c->kind = FILTER_STRING;
        c->string = s;
        if (c->op == FILTER_LIKE || c->op == FILTER_ILIKE) return check_like_pattern(p, at, s);
        return 0;
    }
    if (starts_number(p)) {
        if (!want_number)
            return fail(p, at,
                        "'%s' compares strings: expected a quoted string after '%s', found "
                        "%s (quote it)",
                        name, op, found);
        c->kind = FILTER_NUMBER;
        return read_number(p, &c->number);
    }
    if (ch == '(') return fail(p, at, "a list in parentheses needs IN or NOT IN, not %s", op);
    return fail(p, at, "expected a value after '%s' (%s), found %s", op,
                want_number ? "a number" : "a quoted string", found);
}

int filter_parse(const char *text, struct filter *out, struct err *e)
{
    out->conds = NULL;
    out->n = 0;
    if (!text) return 0;
    struct parser p = {.text = text,
                       .len = strlen(text),
                       .field = "filter",
                       .end_name = "the end of the filter",
                       .e = e};
    snprintf(p.what, sizeof p.what, "filter");
    size_t cap = 0;
    skip_space(&p);
    if (p.pos == p.len) return 0;
    for (;;) {
        if (out->n == cap) {
            cap = cap ? 2 * cap : 4;
            out->conds = xrealloc(out->conds, cap * sizeof *out->conds);
        }
        struct filter_cond *c = &out->conds[out->n++];
        memset(c, 0, sizeof *c);
        c->offset = p.pos;
        struct ident id;
        if (parse_ident(&p, &id) < 0) goto fail;
        c->entity = id.entity;
        c->attr = id.attr;
        c->key = id.key;
        skip_space(&p);
        if (parse_op(&p, &id, &c->op) < 0 || parse_value(&p, &id, c) < 0) goto fail;

        skip_space(&p);
        if (p.pos == p.len) return 0;
        char found[64];
        describe(&p, p.pos, found, sizeof found);
        if (word_is(&p, p.pos, "OR")) {
            fail(&p, p.pos, "OR is not supported: conditions can only be joined with AND");
            goto fail;
        }
        if (!word_is(&p, p.pos, "AND")) {
            fail(&p, p.pos, "expected AND or the end of the filter, found %s", found);
            goto fail;
        }
        p.pos += 3;
        skip_space(&p);
    }
fail:
    filter_free(out);
    return -1;
}

/* ---- matching --------------------------------------------------------- */

static const char *next_char(const char *s)
{
    s++;
    while (is_cont(*s))
        s++;
    return s;
}

int filter_like(const char *s, const char *p, int icase)
{
    const char *star_p = NULL, *star_s = NULL;
    while (*s) {
        if (*p == '%') {
            while (*p == '%')
                p++;
            if (!*p) return 1;
            star_p = p;
            star_s = s;
            continue;
        }
        if (*p == '_') {
            p++;
            s = next_char(s);
            continue;
        }
        if (*p) {
            const char *lit = p;
            if (*lit == '\\' && lit[1]) lit++;
            if (icase ? fold(*lit) == fold(*s) : *lit == *s) {
                p = lit + 1;
                s++;
                continue;
            }
        }
        if (!star_p) return 0;
        star_s = next_char(star_s);
        s = star_s;
        p = star_p;
    }
    while (*p == '%')
        p++;
    return *p == '\0';
}

static int compare_number(double v, enum filter_op op, double x)
{
    switch (op) {
    case FILTER_EQ:
        return v == x;
    case FILTER_NE:
        return v != x;
    case FILTER_GT:
        return v > x;
    case FILTER_GE:
        return v >= x;
    case FILTER_LT:
        return v < x;
    case FILTER_LE:
        return v <= x;
    default:
        return 0;
    }
}

static const char *attr_string(const struct filter_row *row, enum filter_attr a)
{
    switch (a) {
    case FILTER_ATTR_RUN_ID:
        return row->run_id;
    case FILTER_ATTR_RUN_NAME:
        return row->run_name;
    case FILTER_ATTR_USER_ID:
        return row->user_id;
    case FILTER_ATTR_STATUS:
        return row->status;
    case FILTER_ATTR_ARTIFACT_URI:
        return row->artifact_uri;
    default:
        return NULL;
    }
}

/* The row's value for (entity, attr, key): 1 and *num or *str when present. */
static int row_value(const struct filter_row *row, enum filter_entity entity, enum filter_attr attr,
                     const char *key, double *num, const char **str)
{
    *str = NULL;
    switch (entity) {
    case FILTER_METRIC:
        return row->metric && row->metric(row->ctx, key, num);
    case FILTER_PARAM:
        return row->param && row->param(row->ctx, key, str) && *str;
    case FILTER_TAG:
        return row->tag && row->tag(row->ctx, key, str) && *str;
    case FILTER_ATTRIBUTE:
        if (attr == FILTER_ATTR_START_TIME) {
            *num = (double)row->start_time;
            return 1;
        }
        if (attr == FILTER_ATTR_END_TIME) {
            *num = (double)row->end_time;
            return row->end_time != 0;
        }
        *str = attr_string(row, attr);
        return *str != NULL;
    }
    return 0;
}

static int cond_match(const struct filter_cond *c, const struct filter_row *row)
{
    double num = 0;
    const char *str;
    if (!row_value(row, c->entity, c->attr, c->key, &num, &str)) return 0;
    switch (c->kind) {
    case FILTER_NUMBER:
        return !str && compare_number(num, c->op, c->number);
    case FILTER_LIST:
        if (!str) return 0;
        for (size_t i = 0; i < c->n_list; i++)
            if (strcmp(str, c->list[i]) == 0) return c->op == FILTER_IN;
        return c->op == FILTER_NOT_IN;
    case FILTER_STRING:
        if (!str) return 0;
        switch (c->op) {
        case FILTER_EQ:
            return strcmp(str, c->string) == 0;
        case FILTER_NE:
            return strcmp(str, c->string) != 0;
        case FILTER_LIKE:
            return filter_like(str, c->string, 0);
        case FILTER_ILIKE:
            return filter_like(str, c->string, 1);
        default:
            return 0;
        }
    }
    return 0;
}

int filter_match(const struct filter *f, const struct filter_row *row)
{
    if (!f) return 1;
    for (size_t i = 0; i < f->n; i++)
        if (!cond_match(&f->conds[i], row)) return 0;
    return 1;
}

/* ---- order_by --------------------------------------------------------- */

void order_free(struct order *o)
{
    if (!o) return;
    for (size_t i = 0; i < o->n; i++)
        free(o->keys[i].key);
    free(o->keys);
    o->keys = NULL;
    o->n = 0;
}

static int parse_clause(struct parser *p, struct order_key *k)
{
    skip_space(p);
    if (p->pos == p->len)
        return fail(p, p->pos, "empty clause: expected a key such as metrics.<name> or start_time");
    struct ident id;
    if (parse_ident(p, &id) < 0) return -1;
    k->entity = id.entity;
    k->attr = id.attr;
    k->key = id.key;
    skip_space(p);
    if (p->pos == p->len) return 0;
    char found[64], name[48];
    describe(p, p->pos, found, sizeof found);
    ident_text(p, &id, name);
    if (word_is(p, p->pos, "DESC")) {
        k->descending = 1;
        p->pos += 4;
    } else if (word_is(p, p->pos, "ASC")) {
        p->pos += 3;
    } else {
        return fail(p, p->pos, "expected ASC or DESC after '%s', found %s", name, found);
    }
    skip_space(p);
    if (p->pos < p->len) {
        describe(p, p->pos, found, sizeof found);
        return fail(p, p->pos, "expected the end of the clause after %s, found %s",
                    k->descending ? "DESC" : "ASC", found);
    }
    return 0;
}

int order_parse(const char *const *clauses, size_t n, struct order *out, struct err *e)
{
    out->keys = n ? xcalloc(n, sizeof *out->keys) : NULL;
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        const char *text = clauses[i] ? clauses[i] : "";
        struct parser p = {.text = text,
                           .len = strlen(text),
                           .field = "order_by",
                           .end_name = "the end of the clause",
                           .e = e};
        if (n > 1)
            snprintf(p.what, sizeof p.what, "order_by clause %zu", i + 1);
        else
            snprintf(p.what, sizeof p.what, "order_by clause");
        out->n++;
        if (parse_clause(&p, &out->keys[i]) < 0) {
            order_free(out);
            return -1;
        }
    }
    return 0;
}

static int sign_of(int r)
{
    return (r > 0) - (r < 0);
}

int order_compare(const struct order *o, const struct filter_row *a, const struct filter_row *b)
{
    for (size_t i = 0; o && i < o->n; i++) {
        const struct order_key *k = &o->keys[i];
        double na = 0, nb = 0;
        const char *sa, *sb;
        int ha = row_value(a, k->entity, k->attr, k->key, &na, &sa);
        int hb = row_value(b, k->entity, k->attr, k->key, &nb, &sb);
        /* rank: 0 a value, 1 NaN, 2 absent -- the same in both directions */
        int ra = !ha ? 2 : (!sa && isnan(na)) ? 1 : 0;
        int rb = !hb ? 2 : (!sb && isnan(nb)) ? 1 : 0;
        if (ra != rb) return ra < rb ? -1 : 1;
        if (ra != 0) continue;
        int r;
        if (sa && sb)
            r = sign_of(strcmp(sa, sb));
        else
            r = (na > nb) - (na < nb);
        if (r) return k->descending ? -r : r;
    }
    if (a->start_time != b->start_time) return a->start_time > b->start_time ? -1 : 1;
    return sign_of(strcmp(a->run_id ? a->run_id : "", b->run_id ? b->run_id : ""));
}
