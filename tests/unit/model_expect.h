/* Checks shared by the model tests (test_model.c, test_fasttext.c,
 * test_model_tabular.c, test_multilabel.c): a `model:` value refused with a
 * message naming key and line, an artifact refused as corrupt with a message
 * saying why, the artifact fixtures of older formats read and written again. */
#ifndef BOUCLE_TEST_MODEL_EXPECT_H
#define BOUCLE_TEST_MODEL_EXPECT_H

#include "ml/model.h"

#include <stdio.h>
#include <string.h>

/* model.KEY=VALUE (given on line 7) fails for kind with ERR_INVALID, the
 * field model.KEY, and a message "model.KEY (line 7): ...msg_part...". */
static inline void expect_kind_param_error(const char *kind, const char *key, const char *value,
                                           const char *msg_part)
{
    struct model_config c;
    struct err e;
    struct config_param p = {(char *)key, (char *)value, 7};
    assert_int_equal(model_config_parse(&c, kind, &p, 1, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    char head[64], field[64];
    snprintf(head, sizeof head, "model.%s (line 7): ", key);
    snprintf(field, sizeof field, "model.%s", key);
    if (!strstr(e.msg, head) || !strstr(e.msg, msg_part))
        fail_msg("%s=%s: message '%s' lacks '%s' or '%s'", key, value, e.msg, head, msg_part);
    assert_string_equal(e.field, field);
}

static inline void expect_corrupt(const void *d, size_t len, const char *msg_part)
{
    struct err e;
    err_clear(&e);
    assert_null(model_load(d, len, &e));
    assert_int_equal(e.code, ERR_CORRUPT);
    if (!strstr(e.msg, msg_part)) fail_msg("message '%s' lacks '%s'", e.msg, msg_part);
}

/* An artifact file of tests/unit/fixtures, whole. */
static inline size_t read_fixture(const char *path, char *data, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    size_t len = fread(data, 1, cap, f);
    fclose(f);
    assert_true(len < cap);
    return len;
}

/* Saving m gives exactly these bytes: a model is written in the format it
 * was read from. */
static inline void expect_saved_as(const struct trained_model *m, const char *data, size_t len)
{
    struct buf b;
    struct err e;
    buf_init(&b);
    assert_int_equal(model_save(m, &b, &e), 0);
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, data, len);
    buf_free(&b);
}

#endif
