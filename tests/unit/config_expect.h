/* Checks shared by the tests of a task's config keys (test_config_clean.c,
 * test_config_contract.c, test_config_rollout.c, test_config_tabular.c): load a YAML text as
 * boucle.yaml in /srv/app, or expect it refused with exactly a message. */
#ifndef BOUCLE_TEST_CONFIG_EXPECT_H
#define BOUCLE_TEST_CONFIG_EXPECT_H

#include "base/config.h"

#include <string.h>

/* A binary task "s" in 5 lines: a test appends the task's own keys from line 6 (TASK_S,
 * not TASK: a test may define its own TASK on top of it). */
#define TASK_S                                                                                     \
    "tasks:\n"                                                                                     \
    "  s:\n"                                                                                       \
    "    type: binary\n"                                                                           \
    "    text: [text]\n"                                                                           \
    "    label: y\n"

static inline int load(const char *yaml, struct config *c, struct err *e)
{
    err_clear(e);
    return config_load_string(yaml, strlen(yaml), "boucle.yaml", "/srv/app", c, e);
}

static inline void expect_error(const char *yaml, const char *msg)
{
    struct config c;
    struct err e;
    assert_int_equal(load(yaml, &c, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    if (strcmp(e.msg, msg) != 0) fail_msg("got  '%s'\nwant '%s'", e.msg, msg);
    config_free(&c);
}

#endif
