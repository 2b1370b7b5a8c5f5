/* Checks shared by the model tests (test_model*.c, test_fasttext.c,
 * test_multilabel.c): a `model:` value refused with a message naming key
 * and line, an artifact saved, loaded back, refused as corrupt with a
 * message saying why (damaged, truncated), the artifact fixtures of older
 * formats read and written again. */
#ifndef BOUCLE_TEST_MODEL_EXPECT_H
#define BOUCLE_TEST_MODEL_EXPECT_H

#include "base/ids.h"
#include "ml/model.h"

#include <stdio.h>
#include <stdlib.h>
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

/* kind's settings as a `model:` with no other key gives them. */
static inline struct model_config parsed_config(const char *kind)
{
    struct model_config c;
    struct err e;
    if (model_config_parse(&c, kind, NULL, 0, &e) != 0) fail_msg("%s", e.msg);
    return c;
}

/* m's artifact in b (initialised here; the caller frees it), which is of
 * format `format`. */
static inline void save_artifact(const struct trained_model *m, struct buf *b, int format)
{
    struct err e;
    buf_init(b);
    assert_int_equal(model_save(m, b, &e), 0);
    assert_int_equal(b->data[8], format);
}

/* The model of the artifact in b; failing to load it fails the test. */
static inline struct trained_model *load_artifact(const struct buf *b)
{
    struct err e;
    struct trained_model *m = model_load(b->data, b->len, &e);
    if (!m) fail_msg("%s", e.msg);
    return m;
}

/* b cut short anywhere (from byte 20, in steps of 1 + b->len / parts):
 * refused, never read past the end. */
static inline void expect_truncations_refused(const struct buf *b, size_t parts)
{
    struct err e;
    for (size_t len = 20; len < b->len; len += 1 + b->len / parts)
        assert_null(model_load(b->data, len, &e));
}

static inline void expect_corrupt(const void *d, size_t len, const char *msg_part)
{
    struct err e;
    err_clear(&e);
    assert_null(model_load(d, len, &e));
    assert_int_equal(e.code, ERR_CORRUPT);
    if (!strstr(e.msg, msg_part)) fail_msg("message '%s' lacks '%s'", e.msg, msg_part);
}

/* A new checksum over an altered artifact of len bytes: what a forger
 * would write, so that loading gets past the checksum to what was altered. */
static inline void reseal_artifact(char *d, size_t len)
{
    char sum[SHA256_HEX_LEN];
    sha256_hex(d, len - 64, sum);
    memcpy(d + len - 64, sum, 64);
}

/* An xgboost artifact in b (its last booster at the end) refused when
 * damaged: a flipped byte (checksum), every truncation, a forged checksum
 * over damaged booster bytes (XGBoost's own reading refuses it: forged_msg)
 * and the kind changed to linear (linear_msg). */
static inline void expect_xgboost_damage_refused(const struct buf *b, const char *forged_msg,
                                                 const char *linear_msg)
{
    char *copy = malloc(b->len);
    memcpy(copy, b->data, b->len);
    copy[b->len - 200] ^= 0x20; /* inside the booster */
    expect_corrupt(copy, b->len, "checksum mismatch");
    expect_truncations_refused(b, 40);
    memcpy(copy, b->data, b->len);
    memset(copy + b->len - 64 - 300, 0xff, 100);
    reseal_artifact(copy, b->len);
    expect_corrupt(copy, b->len, forged_msg);
    memcpy(copy, b->data, b->len);
    memcpy(copy + 20, "\x06\0\0\0linear", 10); /* the kind: u32 length, bytes */
    reseal_artifact(copy, b->len);
    expect_corrupt(copy, b->len, linear_msg);
    free(copy);
}

/* Writes m's artifact to path (a fixture, when BOUCLE_WRITE_FIXTURES is
 * set) and says its size. */
static inline void write_fixture(const char *path, const struct trained_model *m)
{
    struct buf b;
    struct err e;
    buf_init(&b);
    assert_int_equal(model_save(m, &b, &e), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
    fclose(f);
    printf("fixture %s: %zu bytes\n", path, b.len);
    buf_free(&b);
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

/* The model of the fixture at path (read whole into data[cap], *len
 * bytes), an artifact of format `format`. */
static inline struct trained_model *load_fixture(const char *path, char *data, size_t cap,
                                                 int format, size_t *len)
{
    *len = read_fixture(path, data, cap);
    assert_int_equal(data[8], format);
    struct err e;
    struct trained_model *m = model_load(data, *len, &e);
    if (!m) fail_msg("%s", e.msg);
    return m;
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
