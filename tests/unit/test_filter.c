/* MLflow search filters and order_by: parsing (every operator, entity,
 * quoting, keyword case, numbers), errors that say where (character, excerpt
 * and caret), LIKE/ILIKE, IN lists, matching sample runs with MLflow's
 * "absent never matches" rule, and ordering with absent values last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/mem.h"
#include "track/filter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sample runs -------------------------------------------------------- */

struct mv {
    const char *key;
    double value;
};
struct kv {
    const char *key, *value;
};

/* A run whose data lives in arrays ended by a NULL key. */
struct sample {
    struct filter_row row;
    struct mv metrics[5];
    struct kv params[5];
    struct kv tags[5];
};

static int get_metric(const void *ctx, const char *key, double *out)
{
    const struct sample *s = ctx;
    for (const struct mv *m = s->metrics; m->key; m++)
        if (strcmp(m->key, key) == 0) {
            *out = m->value;
            return 1;
        }
    return 0;
}

static int get_kv(const struct kv *list, const char *key, const char **out)
{
    for (const struct kv *p = list; p->key; p++)
        if (strcmp(p->key, key) == 0) {
            *out = p->value;
            return 1;
        }
    return 0;
}

static int get_param(const void *ctx, const char *key, const char **out)
{
    return get_kv(((const struct sample *)ctx)->params, key, out);
}

static int get_tag(const void *ctx, const char *key, const char **out)
{
    return get_kv(((const struct sample *)ctx)->tags, key, out);
}

static void wire(struct sample *s)
{
    s->row.metric = get_metric;
    s->row.param = get_param;
    s->row.tag = get_tag;
    s->row.ctx = s;
}

/* A finished run with metrics x=0.7, f1 score=0.91, loss=1e-3; params y=z,
 * lr=0.01, model type=LogisticRegression; tags k=w, mlflow.runName=happy-cat-42. */
static struct sample typical(void)
{
    struct sample s = {
        .row = {.run_id = "0123456789abcdef0123456789abcdef",
                .run_name = "happy-cat-42",
                .user_id = "alice",
                .status = "FINISHED",
                .artifact_uri = "mlflow-artifacts:/1/0123/artifacts",
                .start_time = 1700000000000,
                .end_time = 1700000060000},
        .metrics = {{"x", 0.7}, {"f1 score", 0.91}, {"loss", 1e-3}},
        .params = {{"y", "z"}, {"lr", "0.01"}, {"model type", "LogisticRegression"}},
        .tags = {{"k", "w"}, {"mlflow.runName", "happy-cat-42"}},
    };
    return s;
}

static struct filter parse_ok(const char *text)
{
    struct filter f;
    struct err e;
    err_clear(&e);
    int rc = filter_parse(text, &f, &e);
    if (rc != 0) fail_msg("filter_parse(\"%s\") failed: %s", text, e.msg);
    return f;
}

/* Does the run match text? (text must parse) */
static int matches(const char *text, const struct sample *s)
{
    struct filter f = parse_ok(text);
    struct sample copy = *s;
    wire(&copy);
    int m = filter_match(&f, &copy.row);
    filter_free(&f);
    return m;
}

/* ---- parsing ------------------------------------------------------------ */

static void test_empty_filter(void **state)
{
    (void)state;
    const char *empties[] = {NULL, "", "   ", "\t\n "};
    struct sample s = typical();
    wire(&s);
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        struct filter f = parse_ok(empties[i]);
        assert_int_equal(f.n, 0);
        assert_true(filter_match(&f, &s.row));
        filter_free(&f);
    }
    assert_true(filter_match(NULL, &s.row));
    struct filter f = {0};
    filter_free(&f); /* freeing an empty filter, twice, is fine */
    filter_free(&f);
    filter_free(NULL);
}

static void test_issue_example(void **state)
{
    (void)state;
    const char *text =
        "metrics.x > 0.5 and params.y = 'z' and tags.k != 'v' and attributes.status = 'FINISHED'";
    struct filter f = parse_ok(text);
    assert_int_equal(f.n, 4);

    assert_int_equal(f.conds[0].entity, FILTER_METRIC);
    assert_string_equal(f.conds[0].key, "x");
    assert_int_equal(f.conds[0].op, FILTER_GT);
    assert_int_equal(f.conds[0].kind, FILTER_NUMBER);
    assert_true(f.conds[0].number == 0.5);
    assert_int_equal(f.conds[0].offset, 0);

    assert_int_equal(f.conds[1].entity, FILTER_PARAM);
    assert_string_equal(f.conds[1].key, "y");
    assert_int_equal(f.conds[1].op, FILTER_EQ);
    assert_int_equal(f.conds[1].kind, FILTER_STRING);
    assert_string_equal(f.conds[1].string, "z");
    assert_int_equal(f.conds[1].offset, 20);

    assert_int_equal(f.conds[2].entity, FILTER_TAG);
    assert_string_equal(f.conds[2].key, "k");
    assert_int_equal(f.conds[2].op, FILTER_NE);
    assert_string_equal(f.conds[2].string, "v");

    assert_int_equal(f.conds[3].entity, FILTER_ATTRIBUTE);
    assert_int_equal(f.conds[3].attr, FILTER_ATTR_STATUS);
    assert_string_equal(f.conds[3].key, "status");
    assert_int_equal(f.conds[3].op, FILTER_EQ);
    assert_string_equal(f.conds[3].string, "FINISHED");
    filter_free(&f);
    assert_null(f.conds);

    struct sample s = typical();
    assert_true(matches(text, &s));
    s.metrics[0].value = 0.5; /* > is strict */
    assert_false(matches(text, &s));
    s = typical();
    s.tags[0].value = "v";
    assert_false(matches(text, &s));
    s = typical();
    s.tags[0].key = "other"; /* tags.k absent: != never matches an absent tag */
    assert_false(matches(text, &s));
    s = typical();
    s.row.status = "RUNNING";
    assert_false(matches(text, &s));
    s = typical();
    s.params[0].value = "Z";
    assert_false(matches(text, &s));
}

static void test_metric_operators_and_numbers(void **state)
{
    (void)state;
    struct sample s = typical(); /* x = 0.7 */
    const struct {
        const char *text;
        double number;
        enum filter_op op;
        int match;
    } cases[] = {
        {"metrics.x = 0.7", 0.7, FILTER_EQ, 1},       {"metrics.x = 0.70", 0.7, FILTER_EQ, 1},
        {"metrics.x != 0.7", 0.7, FILTER_NE, 0},      {"metrics.x != 7e-1", 0.7, FILTER_NE, 0},
        {"metrics.x > 0.69", 0.69, FILTER_GT, 1},     {"metrics.x > 0.7", 0.7, FILTER_GT, 0},
        {"metrics.x >= 0.7", 0.7, FILTER_GE, 1},      {"metrics.x < 0.7", 0.7, FILTER_LT, 0},
        {"metrics.x <= 0.7", 0.7, FILTER_LE, 1},      {"metrics.x < 1", 1, FILTER_LT, 1},
        {"metrics.x > -1", -1, FILTER_GT, 1},         {"metrics.x>-1.5e+2", -150, FILTER_GT, 1},
        {"metrics.x <= 7E-1", 0.7, FILTER_LE, 1},     {"metrics.x < .71", 0.71, FILTER_LT, 1},
        {"metrics.x < 1.", 1, FILTER_LT, 1},          {"metrics.x > +0.5", 0.5, FILTER_GT, 1},
        {"metrics.loss < 2e-3", 2e-3, FILTER_LT, 1},  {"metrics.loss = 1e-3", 1e-3, FILTER_EQ, 1},
        {"metrics.loss > 1E-03", 1e-3, FILTER_GT, 0}, {"metrics.x > 1e300", 1e300, FILTER_GT, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct filter f = parse_ok(cases[i].text);
        assert_int_equal(f.n, 1);
        assert_int_equal(f.conds[0].kind, FILTER_NUMBER);
        assert_int_equal(f.conds[0].op, cases[i].op);
        assert_true(f.conds[0].number == cases[i].number);
        filter_free(&f);
        if (matches(cases[i].text, &s) != cases[i].match)
            fail_msg("'%s' should %smatch", cases[i].text, cases[i].match ? "" : "not ");
    }
}

static void test_entity_prefixes_and_attributes(void **state)
{
    (void)state;
    const struct {
        const char *text;
        enum filter_entity entity;
        enum filter_attr attr;
        const char *key;
    } cases[] = {
        {"metric.x > 0", FILTER_METRIC, FILTER_ATTR_NONE, "x"},
        {"metrics.x > 0", FILTER_METRIC, FILTER_ATTR_NONE, "x"},
        {"param.y = 'z'", FILTER_PARAM, FILTER_ATTR_NONE, "y"},
        {"params.y = 'z'", FILTER_PARAM, FILTER_ATTR_NONE, "y"},
        {"parameter.y = 'z'", FILTER_PARAM, FILTER_ATTR_NONE, "y"},
        {"parameters.y = 'z'", FILTER_PARAM, FILTER_ATTR_NONE, "y"},
        {"tag.k = 'w'", FILTER_TAG, FILTER_ATTR_NONE, "k"},
        {"tags.k = 'w'", FILTER_TAG, FILTER_ATTR_NONE, "k"},
        {"attribute.status = 'FINISHED'", FILTER_ATTRIBUTE, FILTER_ATTR_STATUS, "status"},
        {"attributes.status = 'FINISHED'", FILTER_ATTRIBUTE, FILTER_ATTR_STATUS, "status"},
        {"attr.status = 'FINISHED'", FILTER_ATTRIBUTE, FILTER_ATTR_STATUS, "status"},
        {"run.status = 'FINISHED'", FILTER_ATTRIBUTE, FILTER_ATTR_STATUS, "status"},
        {"status = 'FINISHED'", FILTER_ATTRIBUTE, FILTER_ATTR_STATUS, "status"},
        {"attributes.run_id = '0123456789abcdef0123456789abcdef'", FILTER_ATTRIBUTE,
         FILTER_ATTR_RUN_ID, "run_id"},
        {"attributes.run_name = 'happy-cat-42'", FILTER_ATTRIBUTE, FILTER_ATTR_RUN_NAME,
         "run_name"},
        {"run_name LIKE 'happy%'", FILTER_ATTRIBUTE, FILTER_ATTR_RUN_NAME, "run_name"},
        {"attributes.`Run name` = 'happy-cat-42'", FILTER_ATTRIBUTE, FILTER_ATTR_RUN_NAME,
         "run_name"},
        {"`Run Name` = 'happy-cat-42'", FILTER_ATTRIBUTE, FILTER_ATTR_RUN_NAME, "run_name"},
        {"\"run name\" = 'happy-cat-42'", FILTER_ATTRIBUTE, FILTER_ATTR_RUN_NAME, "run_name"},
        {"attributes.user_id = 'alice'", FILTER_ATTRIBUTE, FILTER_ATTR_USER_ID, "user_id"},
        {"attributes.artifact_uri LIKE 'mlflow-artifacts:/%'", FILTER_ATTRIBUTE,
         FILTER_ATTR_ARTIFACT_URI, "artifact_uri"},
        {"attributes.start_time >= 1700000000000", FILTER_ATTRIBUTE, FILTER_ATTR_START_TIME,
         "start_time"},
        {"start_time = 1700000000000", FILTER_ATTRIBUTE, FILTER_ATTR_START_TIME, "start_time"},
        {"attributes.created > 1.6e12", FILTER_ATTRIBUTE, FILTER_ATTR_START_TIME, "start_time"},
        {"Created < 1800000000000", FILTER_ATTRIBUTE, FILTER_ATTR_START_TIME, "start_time"},
        {"attributes.end_time > 1700000000000", FILTER_ATTRIBUTE, FILTER_ATTR_END_TIME, "end_time"},
    };
    struct sample s = typical();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct filter f = parse_ok(cases[i].text);
        assert_int_equal(f.n, 1);
        assert_int_equal(f.conds[0].entity, cases[i].entity);
        assert_int_equal(f.conds[0].attr, cases[i].attr);
        assert_string_equal(f.conds[0].key, cases[i].key);
        filter_free(&f);
        /* every case is true of the typical run */
        if (!matches(cases[i].text, &s)) fail_msg("'%s' should match", cases[i].text);
    }
}

static void test_quoting(void **state)
{
    (void)state;
    struct sample s = typical();
    s.metrics[3] = (struct mv){"val/loss", 0.25};
    s.params[3] = (struct kv){"it's", "O'Brien"};
    s.tags[2] = (struct kv){"say \"hi\"", "a\"b"};
    s.tags[3] = (struct kv){"a`b", "c"};

    struct filter f = parse_ok("tags.\"mlflow.runName\" = 'happy-cat-42' AND metrics.`f1 score` "
                               ">= 0.9 and params.\"model type\" = \"LogisticRegression\"");
    assert_int_equal(f.n, 3);
    assert_string_equal(f.conds[0].key, "mlflow.runName");
    assert_string_equal(f.conds[1].key, "f1 score");
    assert_string_equal(f.conds[2].key, "model type");
    assert_string_equal(f.conds[2].string, "LogisticRegression");
    filter_free(&f);

    const char *yes[] = {
        "tags.\"mlflow.runName\" = 'happy-cat-42'",
        "tags.`mlflow.runName` = \"happy-cat-42\"",
        "tags.mlflow.runName = 'happy-cat-42'", /* dots in an unquoted key */
        "metrics.`f1 score` > 0.9",
        "metrics.\"val/loss\" < 0.3",
        "`metrics`.`val/loss` = 0.25", /* a backticked entity, as MLflow allows */
        "params.`it's` = 'O''Brien'",  /* the quote doubled in strings */
        "params.\"it's\" = 'O''Brien'",
        "tags.`a``b` = 'c'", /* and in names */
        "params.\"it's\" = \"O'Brien\"",
        "tags.`say \"hi\"` = 'a\"b'",
        "tags.\"say \"\"hi\"\"\" = \"a\"\"b\"",
        "params.y='z'and tags.k='w'", /* no spaces needed around quotes */
        "params.lr = '0.01'",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!matches(yes[i], &s)) fail_msg("'%s' should match", yes[i]);

    f = parse_ok("params.`it``s` = 'O''Brien'");
    assert_string_equal(f.conds[0].key, "it`s");
    assert_string_equal(f.conds[0].string, "O'Brien");
    filter_free(&f);
    f = parse_ok("params.p = ''");
    assert_string_equal(f.conds[0].string, "");
    filter_free(&f);
    assert_false(matches("params.y = ''", &s));
}

static void test_keywords_any_case(void **state)
{
    (void)state;
    struct sample s = typical();
    const char *yes[] = {
        "metrics.x > 0.5 AND params.y = 'z'",
        "metrics.x > 0.5 and params.y = 'z'",
        "metrics.x > 0.5 AnD params.y = 'z'",
        "params.y LIKE 'z'",
        "params.y like 'z'",
        "params.y Like 'z'",
        "params.y ILIKE 'Z'",
        "params.y ilike 'Z'",
        "params.y iLiKe 'Z'",
        "attributes.run_id IN ('0123456789abcdef0123456789abcdef')",
        "attributes.run_id in ('0123456789abcdef0123456789abcdef')",
        "attributes.run_id NOT IN ('abc')",
        "attributes.run_id not in ('abc')",
        "attributes.run_id NoT\t  iN ('abc')",
        "\n metrics.x\t>\t0.5\n\tand\nparams.y\n=\n'z' \n",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!matches(yes[i], &s)) fail_msg("'%s' should match", yes[i]);
    struct filter f = parse_ok("attributes.run_id not in ('a')");
    assert_int_equal(f.conds[0].op, FILTER_NOT_IN);
    filter_free(&f);
    /* a key may look like a keyword */
    s.params[3] = (struct kv){"and", "in"};
    assert_true(matches("params.and = 'in' and params.y = 'z'", &s));
}

static void test_like_wildcards_and_escaping(void **state)
{
    (void)state;
    const struct {
        const char *text, *pattern;
        int like, ilike;
    } cases[] = {
        {"abc", "abc", 1, 1},
        {"abc", "ABC", 0, 1},
        {"abc", "ab", 0, 0},
        {"abc", "%", 1, 1},
        {"", "%", 1, 1},
        {"", "", 1, 1},
        {"", "_", 0, 0},
        {"abc", "a%", 1, 1},
        {"abc", "%c", 1, 1},
        {"abc", "%b%", 1, 1},
        {"abc", "%B%", 0, 1},
        {"abc", "%d%", 0, 0},
        {"abc", "a_c", 1, 1},
        {"abc", "a__", 1, 1},
        {"abc", "a_", 0, 0},
        {"abc", "____", 0, 0},
        {"abc", "%%%c%%", 1, 1},
        {"mississippi", "%iss%ppi", 1, 1},
        {"mississippi", "m%s_i%i", 1, 1},
        {"mississippi", "%issx%", 0, 0},
        {"aaaaaaaaaaaaaaaaaaaaab", "%a%a%a%a%a%b", 1, 1},
        {"aaaaaaaaaaaaaaaaaaaaaa", "%a%a%a%a%a%b", 0, 0},
        {"10%", "10\\%", 1, 1}, /* backslash escapes a wildcard */
        {"100", "10\\%", 0, 0},
        {"a_b", "a\\_b", 1, 1},
        {"axb", "a\\_b", 0, 0},
        {"a\\b", "a\\\\b", 1, 1},
        {"café", "caf_", 1, 1}, /* _ is one UTF-8 character */
        {"café", "caf__", 0, 0},
        {"naïve run", "na_ve%", 1, 1},
        {"ÉTÉ", "été", 0, 0}, /* ILIKE folds ASCII only */
        {"Run-1", "run-_", 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (filter_like(cases[i].text, cases[i].pattern, 0) != cases[i].like)
            fail_msg("'%s' LIKE '%s' should be %d", cases[i].text, cases[i].pattern, cases[i].like);
        if (filter_like(cases[i].text, cases[i].pattern, 1) != cases[i].ilike)
            fail_msg("'%s' ILIKE '%s' should be %d", cases[i].text, cases[i].pattern,
                     cases[i].ilike);
    }

    /* through the parser: the escape survives string unquoting */
    struct sample s = typical();
    s.params[3] = (struct kv){"pct", "10%"};
    assert_true(matches("params.pct LIKE '10\\%'", &s));
    assert_true(matches("params.pct LIKE '1_\\%'", &s));
    assert_false(matches("params.pct LIKE '10\\_'", &s));
    assert_true(matches("params.`model type` LIKE '%Regression'", &s));
    assert_false(matches("params.`model type` LIKE '%regression'", &s));
    assert_true(matches("params.`model type` ILIKE '%regression'", &s));
    assert_true(matches("tags.mlflow.runName LIKE 'happy-___-%'", &s));
    assert_true(matches("attributes.run_name ILIKE 'HAPPY%'", &s));
    assert_true(matches("attributes.status LIKE 'FIN%'", &s));
    assert_false(matches("params.missing LIKE '%'", &s)); /* absent never matches */
}

static void test_in_lists(void **state)
{
    (void)state;
    struct filter f = parse_ok("attributes.run_id IN ('a', \"b\",'c''d' , 'e')");
    assert_int_equal(f.n, 1);
    assert_int_equal(f.conds[0].op, FILTER_IN);
    assert_int_equal(f.conds[0].kind, FILTER_LIST);
    assert_int_equal(f.conds[0].n_list, 4);
    assert_string_equal(f.conds[0].list[0], "a");
    assert_string_equal(f.conds[0].list[1], "b");
    assert_string_equal(f.conds[0].list[2], "c'd");
    assert_string_equal(f.conds[0].list[3], "e");
    filter_free(&f);

    struct sample s = typical();
    const char *id = "0123456789abcdef0123456789abcdef";
    char text[256];
    snprintf(text, sizeof text, "run_id IN ('%s')", id);
    assert_true(matches(text, &s));
    snprintf(text, sizeof text, "attributes.run_id IN ('x', '%s', 'y')", id);
    assert_true(matches(text, &s));
    assert_false(matches("attributes.run_id IN ('x', 'y')", &s));
    snprintf(text, sizeof text, "attributes.run_id NOT IN ('x', '%s')", id);
    assert_false(matches(text, &s));
    assert_true(matches("attributes.run_id NOT IN ('x', 'y')", &s));
    assert_true(matches("attributes.run_id NOT IN ('x') and metrics.x > 0.5", &s));
    /* IN compares whole strings, no wildcards */
    assert_false(matches("attributes.run_id IN ('0123%')", &s));
}

static void test_time_attributes(void **state)
{
    (void)state;
    struct sample s = typical();
    assert_true(matches("attributes.start_time = 1700000000000", &s));
    assert_true(matches("attributes.start_time > 1.6E12 and start_time < 1.8e12", &s));
    assert_false(matches("attributes.start_time != 1700000000000", &s));
    assert_true(matches("attributes.end_time >= 1700000060000", &s));
    assert_true(matches("attributes.end_time <= 1700000060000", &s));
    assert_false(matches("attributes.end_time < 1700000060000", &s));
    s.row.end_time = 0; /* still running: end_time is absent */
    assert_false(matches("attributes.end_time > 0", &s));
    assert_false(matches("attributes.end_time != 5", &s));
    assert_false(matches("attributes.end_time < 5", &s));
}

static void test_absent_values_never_match(void **state)
{
    (void)state;
    struct sample s = typical();
    const char *never[] = {
        "metrics.nope > 0",   "metrics.nope != 0", "metrics.nope < 0",
        "params.nope != 'z'", "params.nope = ''",
    };
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (matches(never[i], &s)) fail_msg("'%s' should not match", never[i]);
    assert_false(matches("tags.nope != 'v'", &s));
    assert_false(matches("tags.nope ILIKE '%'", &s));
    s.row.run_name = NULL;
    assert_false(matches("attributes.run_name != 'x'", &s));
    assert_false(matches("attributes.run_name LIKE '%'", &s));
    s.row.artifact_uri = NULL;
    assert_false(matches("attributes.artifact_uri != ''", &s));
    s.row.run_id = NULL;
    assert_false(matches("attributes.run_id NOT IN ('x')", &s));

    /* a run with no lookups at all has no metrics, params or tags */
    struct filter_row bare = {.run_id = "r", .status = "RUNNING", .start_time = 1};
    struct filter f = parse_ok("metrics.x != 1");
    assert_false(filter_match(&f, &bare));
    filter_free(&f);
    f = parse_ok("params.x != 'a'");
    assert_false(filter_match(&f, &bare));
    filter_free(&f);
    f = parse_ok("tags.x != 'a'");
    assert_false(filter_match(&f, &bare));
    filter_free(&f);
    f = parse_ok("status = 'RUNNING'");
    assert_true(filter_match(&f, &bare));
    filter_free(&f);
}

static void test_nan_and_infinite_metrics(void **state)
{
    (void)state;
    struct sample s = typical();
    s.metrics[0].value = NAN;
    assert_false(matches("metrics.x > 0", &s));
    assert_false(matches("metrics.x <= 0", &s));
    assert_false(matches("metrics.x = 0", &s));
    assert_true(matches("metrics.x != 0", &s));
    s.metrics[0].value = INFINITY;
    assert_true(matches("metrics.x > 1e308", &s));
    s.metrics[0].value = -INFINITY;
    assert_true(matches("metrics.x < -1e308", &s));
}

/* ---- errors ------------------------------------------------------------- */

/* text must fail at 1-based character `at` with `what` in the message, the
 * excerpt in line 1, and the caret of line 3 under the same character in the
 * excerpt of line 2. */
static void expect_error_in(const char *field, int rc, const struct err *e, const char *text,
                            size_t at, const char *what)
{
    if (rc != -1) fail_msg("'%s' should not parse", text);
    assert_int_equal(e->code, ERR_INVALID);
    assert_string_equal(e->field, field);
    char where[64];
    snprintf(where, sizeof where, " at character %zu ('", at);
    if (!strstr(e->msg, where) || !strstr(e->msg, what))
        fail_msg("'%s': wanted \"%s\" and \"%s\" in:\n%s", text, where, what, e->msg);
    /* the excerpt and caret lines */
    const char *l2 = strchr(e->msg, '\n');
    assert_non_null(l2);
    l2++;
    const char *l3 = strchr(l2, '\n');
    assert_non_null(l3);
    l3++;
    assert_string_equal(l3 + strspn(l3, " "), "^");
    size_t col = strlen(l3) - 1;
    assert_true(col >= 2);
    assert_memory_equal(l2, "  ", 2);
    /* the excerpt shows the text from its start when the spot is near it */
    size_t len = strlen(text);
    if (at <= 20 && len <= 40 && !strpbrk(text, "\n\t")) {
        assert_int_equal(strncmp(l2 + 2, text, len), 0);
        assert_int_equal(col - 2, at - 1);
    }
}

static void expect_error(const char *text, size_t at, const char *what)
{
    struct filter f;
    struct err e;
    err_clear(&e);
    int rc = filter_parse(text, &f, &e);
    expect_error_in("filter", rc, &e, text, at, what);
    assert_null(f.conds);
    assert_int_equal(f.n, 0);
}

static void test_errors_say_where(void **state)
{
    (void)state;
    const struct {
        const char *text;
        size_t at;
        const char *what;
    } cases[] = {
        /* the brief's example */
        {"metrics.x >> 0.5", 12, "expected a value after '>' (a number), found '>'"},
        /* unterminated strings and names */
        {"params.y = 'abc", 12, "unterminated string: no closing '"},
        {"params.y = \"abc", 12, "unterminated string: no closing \""},
        {"params.y = 'it''s", 12, "unterminated string"},
        {"metrics.`f1 > 1", 9, "unterminated quoted name: no closing `"},
        /* entities and keys */
        {"foo.x = 'a'", 1, "unknown entity 'foo': expected metrics, params, tags or attributes"},
        {"datasets.name = 'a'", 1, "unknown entity 'datasets'"},
        {"Metrics.x > 1", 1, "unknown entity 'Metrics'"},
        {"attributes.foo = 'x'", 12, "unknown attribute 'foo': expected run_id, run_name"},
        {"lifecycle_stage = 'active'", 1, "unknown attribute 'lifecycle_stage'"},
        {"metrics. > 1", 9, "expected a key after 'metrics.', found '>'"},
        {"metrics.`` > 1", 9, "expected a key after 'metrics.'"},
        {"metrics > 1", 8, "expected '.' and a key after 'metrics', found '>'"},
        {"(metrics.x > 1)", 1, "expected a key such as metrics.<name>"},
        {"'x' = 'x'", 1, "expected a key such as metrics.<name>"},
        /* operators */
        {"metrics.x 1", 11,
         "expected a comparison (=, !=, >, >=, <, <=, LIKE, ILIKE, IN or NOT "
         "IN) after 'metrics.x', found '1'"},
        {"metrics.x", 10, "expected a comparison"},
        {"metrics.x == 1", 11, "'==' is not supported: use ="},
        {"metrics.x <> 1", 11, "'<>' is not supported: use !="},
        {"metrics.x ! 1", 11, "expected a comparison"},
        {"metrics.x LIKE '%a'", 11, "metrics compare with =, !=, >, >=, <, <=, not LIKE"},
        {"metrics.x IN (1)", 11, "not IN"},
        {"params.y > 'a'", 10, "params compare strings with =, !=, LIKE, ILIKE, not >"},
        {"tags.k <= 'a'", 8, "tags compare strings"},
        {"params.y IN ('a')", 10, "IN is only supported for attributes.run_id"},
        {"tags.k NOT IN ('a')", 8, "NOT IN is only supported for attributes.run_id"},
        {"attributes.status IN ('FINISHED')", 19, "IN is only supported for attributes.run_id"},
        {"attributes.status > 'A'", 19, "status is a string"},
        {"attributes.start_time LIKE '1%'", 23, "start_time is a time"},
        {"attributes.run_id NOT ('a')", 23, "expected IN after NOT, found '('"},
        /* values: types */
        {"metrics.x > 'a'", 13,
         "'metrics.x' compares numbers: expected a number after '>', "
         "found the string 'a'"},
        {"metrics.x = \"0.5\"", 13, "compares numbers"},
        {"attributes.end_time > '5'", 23, "compares numbers"},
        {"params.y = 5", 12,
         "'params.y' compares strings: expected a quoted string after '=', "
         "found '5' (quote it)"},
        {"attributes.status = FINISHED", 21,
         "expected a value after '=' (a quoted string), found 'FINISHED'"},
        {"params.y = (\"a\")", 12, "a list in parentheses needs IN or NOT IN"},
        /* missing values */
        {"metrics.x >", 12, "expected a value after '>' (a number), found the end of the filter"},
        {"params.y = ", 12, "expected a value after '=' (a quoted string), found the end"},
        {"metrics.x > 1 and params.y LIKE", 32, "expected a value after 'LIKE'"},
        /* numbers */
        {"metrics.x > 1e", 13, "malformed number '1e'"},
        {"metrics.x > 1.2.3", 13, "malformed number '1.2.3'"},
        {"metrics.x > 5x", 13, "malformed number '5x'"},
        {"metrics.x > -", 13, "expected a value after '>'"},
        {"metrics.x > 1e999", 13, "number out of range"},
        /* joining */
        {"metrics.x > 1 or metrics.y < 2", 15,
         "OR is not supported: conditions can only be joined with AND"},
        {"metrics.x > 1 OR metrics.y < 2", 15, "OR is not supported"},
        {"metrics.x > 1 foo", 15, "expected AND or the end of the filter, found 'foo'"},
        {"params.y = 'z' 'w'", 16, "expected AND or the end of the filter, found ''w''"},
        {"metrics.x > 1 and", 18,
         "expected a key such as metrics.<name>, params.<name>, "
         "tags.<name> or attributes.<name>, found the end of the filter"},
        {"metrics.x > 1 and and metrics.y > 1", 19, "unknown attribute 'and'"},
        {"metrics.x > 1 andmetrics.y > 1", 15, "expected AND or the end of the filter"},
        {"metrics.x > 1; metrics.y > 1", 14, "found ';'"},
        /* IN lists */
        {"attributes.run_id IN ()", 23, "empty IN list: expected at least one quoted string"},
        {"attributes.run_id NOT IN ( )", 28, "empty NOT IN list"},
        {"attributes.run_id IN 'a'", 22,
         "expected a list of quoted strings in parentheses after IN, found ''a''"},
        {"attributes.run_id IN ('a', 'b'", 31, "expected ',' or ')' in the IN list, found the end"},
        {"attributes.run_id IN ('a',)", 27, "expected a quoted string in the IN list, found ')'"},
        {"attributes.run_id IN ('a' 'b')", 27, "expected ',' or ')' in the IN list, found ''b''"},
        {"attributes.run_id IN (1, 2)", 23, "expected a quoted string in the IN list, found '1'"},
        {"attributes.run_id IN ('a', 'b", 28, "unterminated string"},
        /* LIKE patterns */
        {"params.p LIKE 'a\\'", 15, "a LIKE pattern cannot end with the escape character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].text, cases[i].at, cases[i].what);
}

static void test_error_message_shape(void **state)
{
    (void)state;
    struct filter f;
    struct err e;
    assert_int_equal(filter_parse("metrics.x >> 0.5", &f, &e), -1);
    assert_string_equal(e.msg, "invalid filter at character 12 ('metrics.x >> 0.5'): expected a "
                               "value after '>' (a number), found '>'\n"
                               "  metrics.x >> 0.5\n"
                               "             ^");
    print_message("%s\n", e.msg);

    /* a long filter: the excerpt is a window around the spot, elided with ... */
    const char *text = "params.model = 'LogisticRegression' and metrics.accuracy > 0.9 and "
                       "tags.team = 'search' and metrics.f1 >> 0.5 and params.c = '1' and "
                       "tags.owner = 'someone with a long name'";
    assert_int_equal(filter_parse(text, &f, &e), -1);
    print_message("%s\n", e.msg);
    size_t at = (size_t)(strstr(text, ">> 0.5") - text) + 2; /* the second '>' */
    char where[64];
    snprintf(where, sizeof where, "invalid filter at character %zu ('...", at);
    assert_true(strncmp(e.msg, where, strlen(where)) == 0);
    assert_non_null(strstr(e.msg, "...'): expected a value after '>'"));
    const char *l2 = strchr(e.msg, '\n') + 1;
    const char *l3 = strchr(l2, '\n') + 1;
    size_t col = strlen(l3) - 1;
    assert_int_equal(l2[col], '>');
    assert_int_equal(l2[col - 1], '>');
    assert_int_equal(l2[col + 1], ' ');
    assert_int_equal(strncmp(l2 + 2, "...", 3), 0);

    /* characters, not bytes: 'é' and 'à' are two bytes each */
    expect_error("tags.`é` = 'à' xx", 16, "found 'xx'");
    assert_int_equal(filter_parse("tags.`é` = 'à' xx", &f, &e), -1);
    char caret[32];
    snprintf(caret, sizeof caret, "\n%*s^", 2 + 15, ""); /* 15 characters before it */
    assert_non_null(strstr(e.msg, caret));

    /* control characters do not break the caret line */
    expect_error("metrics.x >\n\t> 1", 14, "found '>'");
    assert_int_equal(filter_parse("metrics.x >\n\t> 1", &f, &e), -1);
    assert_non_null(strstr(e.msg, "('metrics.x >  > 1')"));
}

/* ---- order_by ----------------------------------------------------------- */

static void test_order_parse(void **state)
{
    (void)state;
    const char *clauses[] = {
        "metrics.f1 DESC",
        "attributes.start_time ASC",
        "start_time desc",
        "params.`batch size` asc",
        "tags.\"mlflow.runName\"",
        "  metrics.x  ",
        "created DESC",
        "`Run name` Desc",
        "attributes.run_id",
        "metric.`val/loss` DESC",
    };
    struct order o;
    struct err e;
    err_clear(&e);
    assert_int_equal(order_parse(clauses, sizeof clauses / sizeof clauses[0], &o, &e), 0);
    assert_int_equal(o.n, 10);
    const struct {
        enum filter_entity entity;
        enum filter_attr attr;
        const char *key;
        int descending;
    } want[] = {
        {FILTER_METRIC, FILTER_ATTR_NONE, "f1", 1},
        {FILTER_ATTRIBUTE, FILTER_ATTR_START_TIME, "start_time", 0},
        {FILTER_ATTRIBUTE, FILTER_ATTR_START_TIME, "start_time", 1},
        {FILTER_PARAM, FILTER_ATTR_NONE, "batch size", 0},
        {FILTER_TAG, FILTER_ATTR_NONE, "mlflow.runName", 0},
        {FILTER_METRIC, FILTER_ATTR_NONE, "x", 0},
        {FILTER_ATTRIBUTE, FILTER_ATTR_START_TIME, "start_time", 1},
        {FILTER_ATTRIBUTE, FILTER_ATTR_RUN_NAME, "run_name", 1},
        {FILTER_ATTRIBUTE, FILTER_ATTR_RUN_ID, "run_id", 0},
        {FILTER_METRIC, FILTER_ATTR_NONE, "val/loss", 1},
    };
    for (size_t i = 0; i < o.n; i++) {
        assert_int_equal(o.keys[i].entity, want[i].entity);
        assert_int_equal(o.keys[i].attr, want[i].attr);
        assert_string_equal(o.keys[i].key, want[i].key);
        assert_int_equal(o.keys[i].descending, want[i].descending);
    }
    order_free(&o);
    order_free(&o);
    assert_int_equal(order_parse(NULL, 0, &o, &e), 0);
    assert_int_equal(o.n, 0);
    order_free(&o);
}

static void expect_order_error(const char *const *clauses, size_t n, const char *what_prefix,
                               size_t at, const char *what)
{
    struct order o;
    struct err e;
    err_clear(&e);
    int rc = order_parse(clauses, n, &o, &e);
    /* the failing clause is the last one given */
    expect_error_in("order_by", rc, &e, clauses[n - 1] ? clauses[n - 1] : "", at, what);
    if (strncmp(e.msg, what_prefix, strlen(what_prefix)) != 0)
        fail_msg("wanted the message to start with \"%s\":\n%s", what_prefix, e.msg);
    assert_null(o.keys);
    assert_int_equal(o.n, 0);
}

static void test_order_errors(void **state)
{
    (void)state;
    const char *one[][1] = {
        {"metrics.x DESCENDING"},
        {""},
        {"   "},
        {"foo.x DESC"},
        {"attributes.nope"},
        {"metrics"},
        {"metrics.x DESC x"},
        {"metrics.x > 1"},
        {NULL},
        {"metrics.`x DESC"},
    };
    const char *p1 = "invalid order_by clause at character ";
    expect_order_error(one[0], 1, p1, 11,
                       "expected ASC or DESC after 'metrics.x', found 'DESCENDING'");
    expect_order_error(one[1], 1, p1, 1,
                       "empty clause: expected a key such as metrics.<name> or start_time");
    expect_order_error(one[2], 1, p1, 4, "empty clause");
    expect_order_error(one[3], 1, p1, 1, "unknown entity 'foo'");
    expect_order_error(one[4], 1, p1, 12, "unknown attribute 'nope'");
    expect_order_error(one[5], 1, p1, 8,
                       "expected '.' and a key after 'metrics', found the end of the clause");
    expect_order_error(one[6], 1, p1, 16, "expected the end of the clause after DESC, found 'x'");
    expect_order_error(one[7], 1, p1, 11, "expected ASC or DESC after 'metrics.x', found '>'");
    expect_order_error(one[8], 1, p1, 1, "empty clause");
    expect_order_error(one[9], 1, p1, 9, "unterminated quoted name");

    /* with several clauses, the message numbers the failing one */
    const char *three[] = {"metrics.f1 DESC", "start_time", "params.lr DOWN"};
    expect_order_error(three, 3, "invalid order_by clause 3 at character 11 ('params.lr DOWN')", 11,
                       "expected ASC or DESC after 'params.lr', found 'DOWN'");
}

/* qsort over pointers to samples with a given order */
static const struct order *sort_order;

static int cmp_samples(const void *a, const void *b)
{
    const struct sample *const *x = a, *const *y = b;
    return order_compare(sort_order, &(*x)->row, &(*y)->row);
}

/* Sorts the runs by the clauses and checks the resulting run ids. */
static void expect_sorted(struct sample *runs, size_t n, const char *const *clauses,
                          size_t n_clauses, const char *want)
{
    struct order o;
    struct err e;
    if (order_parse(clauses, n_clauses, &o, &e) != 0) fail_msg("%s", e.msg);
    struct sample *ptrs[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &runs[i];
    sort_order = &o;
    qsort(ptrs, n, sizeof *ptrs, cmp_samples);
    char got[256] = "";
    for (size_t i = 0; i < n; i++) {
        strcat(got, ptrs[i]->row.run_id);
        if (i + 1 < n) strcat(got, " ");
    }
    if (strcmp(got, want) != 0)
        fail_msg("order_by %s...: got '%s', wanted '%s'", n_clauses ? clauses[0] : "(none)", got,
                 want);
    order_free(&o);
}

static void test_order_compare(void **state)
{
    (void)state;
    /* run  f1    lr      start  end   name
     * a    0.8   0.1     300    310   x
     * b    0.9   0.01    200    0     y
     * c    --    0.1     300    320   (none)
     * d    NaN   --      100    150   x
     * e    0.8   0.001   400    410   z */
    struct sample runs[5] = {
        {.row = {.run_id = "a", .run_name = "x", .start_time = 300, .end_time = 310},
         .metrics = {{"f1", 0.8}},
         .params = {{"lr", "0.1"}}},
        {.row = {.run_id = "b", .run_name = "y", .start_time = 200},
         .metrics = {{"f1", 0.9}},
         .params = {{"lr", "0.01"}}},
        {.row = {.run_id = "c", .start_time = 300, .end_time = 320}, .params = {{"lr", "0.1"}}},
        {.row = {.run_id = "d", .run_name = "x", .start_time = 100, .end_time = 150},
         .metrics = {{"f1", NAN}}},
        {.row = {.run_id = "e", .run_name = "z", .start_time = 400, .end_time = 410},
         .metrics = {{"f1", 0.8}},
         .params = {{"lr", "0.001"}}},
    };
    for (size_t i = 0; i < 5; i++)
        wire(&runs[i]);

    /* missing metric last (and NaN just before it) in both directions; ties
     * (a and e at 0.8) by start_time descending */
    const char *f1_desc[] = {"metrics.f1 DESC"};
    expect_sorted(runs, 5, f1_desc, 1, "b e a d c");
    const char *f1_asc[] = {"metrics.f1"};
    expect_sorted(runs, 5, f1_asc, 1, "e a b d c");
    /* no order_by: start_time descending, then run_id */
    expect_sorted(runs, 5, NULL, 0, "e a c b d");
    const char *start_asc[] = {"attributes.start_time ASC"};
    expect_sorted(runs, 5, start_asc, 1, "d b a c e");
    /* end_time 0 = absent: last both ways */
    const char *end_desc[] = {"end_time DESC"};
    expect_sorted(runs, 5, end_desc, 1, "e c a d b");
    const char *end_asc[] = {"end_time ASC"};
    expect_sorted(runs, 5, end_asc, 1, "d a c e b");
    /* params compare as strings; absent last */
    const char *lr_then_f1[] = {"params.lr ASC", "metrics.f1 DESC"};
    expect_sorted(runs, 5, lr_then_f1, 2, "e b a c d");
    const char *lr_desc[] = {"params.lr DESC"};
    expect_sorted(runs, 5, lr_desc, 1, "a c b e d");
    /* a string attribute; the NULL run_name last */
    const char *name_desc[] = {"attributes.run_name DESC", "run_id DESC"};
    expect_sorted(runs, 5, name_desc, 2, "e b d a c");
    const char *name_asc[] = {"`Run name`"};
    expect_sorted(runs, 5, name_asc, 1, "a d b e c");

    /* the comparator itself */
    struct order o;
    struct err e;
    assert_int_equal(order_parse(f1_desc, 1, &o, &e), 0);
    assert_int_equal(order_compare(&o, &runs[0].row, &runs[0].row), 0);
    order_free(&o);
    assert_int_equal(order_compare(NULL, &runs[0].row, &runs[0].row), 0);
    struct filter_row r1 = {.run_id = "r1", .start_time = 5},
                      r2 = {.run_id = "r2", .start_time = 5};
    assert_true(order_compare(NULL, &r1, &r2) < 0);
    assert_true(order_compare(NULL, &r2, &r1) > 0);
    r2.start_time = 6;
    assert_true(order_compare(NULL, &r1, &r2) > 0);
}

/* ---- matching a small table of runs ------------------------------------ */

static void test_filter_on_sample_rows(void **state)
{
    (void)state;
    struct sample runs[4] = {
        {.row = {.run_id = "r1",
                 .run_name = "baseline",
                 .status = "FINISHED",
                 .user_id = "alice",
                 .start_time = 1000,
                 .end_time = 2000},
         .metrics = {{"accuracy", 0.81}, {"f1", 0.78}},
         .params = {{"model", "LogisticRegression"}, {"C", "1.0"}},
         .tags = {{"team", "search"}, {"mlflow.runName", "baseline"}}},
        {.row = {.run_id = "r2",
                 .run_name = "tuned",
                 .status = "FINISHED",
                 .user_id = "bob",
                 .start_time = 3000,
                 .end_time = 5000},
         .metrics = {{"accuracy", 0.88}, {"f1", 0.86}},
         .params = {{"model", "LogisticRegression"}, {"C", "10.0"}},
         .tags = {{"team", "Search"}, {"mlflow.runName", "tuned"}}},
        {.row = {.run_id = "r3",
                 .run_name = "crashed",
                 .status = "FAILED",
                 .user_id = "alice",
                 .start_time = 6000,
                 .end_time = 6100},
         .metrics = {{"accuracy", 0.5}},
         .params = {{"model", "SVM"}},
         .tags = {{"team", "ads"}}},
        {.row = {.run_id = "r4",
                 .run_name = "live",
                 .status = "RUNNING",
                 .user_id = "carol",
                 .start_time = 7000},
         .params = {{"model", "LogisticRegression"}}},
    };
    for (size_t i = 0; i < 4; i++)
        wire(&runs[i]);
    const struct {
        const char *filter, *want;
    } cases[] = {
        {"", "r1 r2 r3 r4"},
        {"metrics.accuracy > 0.8", "r1 r2"},
        {"metrics.accuracy > 0.8 and metrics.f1 >= 0.8", "r2"},
        {"metrics.f1 != 0.78", "r2"}, /* r3, r4 have no f1 */
        {"params.model = 'LogisticRegression'", "r1 r2 r4"},
        {"params.model != 'LogisticRegression'", "r3"},
        {"params.model LIKE '%Regr%' and attributes.status = 'FINISHED'", "r1 r2"},
        {"params.C LIKE '1_.0'", "r2"},
        {"tags.team = 'search'", "r1"},
        {"tags.team ILIKE 'search'", "r1 r2"},
        {"tags.team != 'search'", "r2 r3"},
        {"tags.\"mlflow.runName\" LIKE '%e%'", "r1 r2"},
        {"attributes.status != 'FINISHED'", "r3 r4"},
        {"attributes.user_id = 'alice' and start_time > 2000", "r3"},
        {"attributes.end_time < 5500", "r1 r2"},
        {"attributes.end_time > 0", "r1 r2 r3"},
        {"attributes.run_id IN ('r1', 'r4', 'r9')", "r1 r4"},
        {"attributes.run_id NOT IN ('r1', 'r4')", "r2 r3"},
        {"run_name ILIKE 'T%'", "r2"},
        {"metrics.accuracy > 0.8 and params.model = 'SVM'", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct filter f = parse_ok(cases[i].filter);
        char got[64] = "";
        for (size_t j = 0; j < 4; j++) {
            if (!filter_match(&f, &runs[j].row)) continue;
            if (got[0]) strcat(got, " ");
            strcat(got, runs[j].row.run_id);
        }
        filter_free(&f);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("'%s': got '%s', wanted '%s'", cases[i].filter, got, cases[i].want);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(filter_entity_name(FILTER_METRIC), "metrics");
    assert_string_equal(filter_entity_name(FILTER_PARAM), "params");
    assert_string_equal(filter_entity_name(FILTER_TAG), "tags");
    assert_string_equal(filter_entity_name(FILTER_ATTRIBUTE), "attributes");
    const char *ops[] = {"=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN"};
    for (int op = FILTER_EQ; op <= FILTER_NOT_IN; op++)
        assert_string_equal(filter_op_name((enum filter_op)op), ops[op]);
}

static void test_many_conditions(void **state)
{
    (void)state;
    /* more conditions than the first allocation; offsets point at each */
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 50; i++)
        buf_printf(&b, "%smetrics.m%d > %d", i ? " and " : "", i, -i);
    struct filter f = parse_ok(b.data);
    assert_int_equal(f.n, 50);
    for (size_t i = 0; i < f.n; i++) {
        char key[32];
        snprintf(key, sizeof key, "m%zu", i);
        assert_string_equal(f.conds[i].key, key);
        assert_true(f.conds[i].number == -(double)i);
        assert_int_equal(strncmp(b.data + f.conds[i].offset, "metrics.", 8), 0);
    }
    filter_free(&f);
    /* an error in the last one frees the 49 before it (ASan checks the leak) */
    buf_append_str(&b, " and metrics.z > 'a'");
    struct err e;
    assert_int_equal(filter_parse(b.data, &f, &e), -1);
    assert_null(f.conds);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_filter),
        cmocka_unit_test(test_issue_example),
        cmocka_unit_test(test_metric_operators_and_numbers),
        cmocka_unit_test(test_entity_prefixes_and_attributes),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_keywords_any_case),
        cmocka_unit_test(test_like_wildcards_and_escaping),
        cmocka_unit_test(test_in_lists),
        cmocka_unit_test(test_time_attributes),
        cmocka_unit_test(test_absent_values_never_match),
        cmocka_unit_test(test_nan_and_infinite_metrics),
        cmocka_unit_test(test_errors_say_where),
        cmocka_unit_test(test_error_message_shape),
        cmocka_unit_test(test_order_parse),
        cmocka_unit_test(test_order_errors),
        cmocka_unit_test(test_order_compare),
        cmocka_unit_test(test_filter_on_sample_rows),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_many_conditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
