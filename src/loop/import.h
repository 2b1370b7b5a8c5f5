/* Importing a data file into a task: read, validate, split, hash, store —
 * all or nothing. */
#ifndef BOUCLE_LOOP_IMPORT_H
#define BOUCLE_LOOP_IMPORT_H

#include "base/config.h"
#include "base/err.h"
#include "data/prepare.h"
#include "data/table.h"
#include "store/store.h"

#include <jansson.h>

#include <stdint.h>

enum import_split { IMPORT_SPLIT_AUTO, IMPORT_SPLIT_TRAIN, IMPORT_SPLIT_TEST };

struct import_result {
    int64_t dataset_id;
    char hash[65];
    int already_imported; /* same content was imported before: nothing stored */
    size_t rows, train_rows, test_rows;
    double seconds;
    /* What the task's `clean:` steps do to these rows. Rows are stored as
     * given: cleaning belongs to each model and runs when training (over
     * all the task's rows, so dedupe there also spans earlier imports). */
    struct prepare_report cleaning;
    /* The data contract: the version's profile (data_profile_version), and
     * its check against the task's previous import (contract_check's
     * report; NULL when there was none to check against, or the task's
     * contract is off). Both NULL when already imported. */
    json_t *profile;
    json_t *contract;
    int refused; /* the contract refused the file: nothing stored */
};
void import_result_free(struct import_result *r);

/* import_file's flags: store the file even when it breaks a contract
 * whose on_violation is refuse (the differences are recorded as a warning) */
enum { IMPORT_FORCE = 1 };

/* IMPORT_SPLIT_AUTO: the task's first import holds out a stratified
 * test_fraction as its fixed test set (seed 42); later imports go to train,
 * so the test set that compares models stays the same. */
/* The file's profile is checked against the task's contract first: when
 * it breaks it and on_violation is refuse, nothing is stored, out->refused
 * is set and ERR_INVALID names the number of violations (out->contract
 * lists them); with warn the version is stored with its report. */
int import_file(struct store *st, const struct config *cfg, const struct task_config *task,
                const char *path, enum table_format fmt, enum import_split split, unsigned flags,
                struct import_result *out, struct err *e);

/* Where an import's bytes come from: a file (the CLI), or memory (an HTTP
 * upload, which never touches the disk). */
struct import_source {
    const char *path; /* NULL: the bytes are data[0..len) */
    const char *data;
    size_t len;
    const char *name;   /* prefixes error messages: "tweets.csv: line 4, ..." */
    const char *source; /* recorded as the version's source; NULL: name */
};
/* import_file over any source: the one implementation both the CLI and
 * the HTTP route run, so their semantics cannot drift apart. */
int import_from(struct store *st, const struct config *cfg, const struct task_config *task,
                const struct import_source *src, enum table_format fmt, enum import_split split,
                unsigned flags, struct import_result *out, struct err *e);
/* The import report as `boucle import --json` prints it and the HTTP route
 * answers it: {"task", "imported", "dataset_id", "hash", "already_imported",
 * "rows", "train_rows", "test_rows", "seconds", "cleaning", "contract"},
 * plus "error" (e's message) when rc != 0. A new reference. */
json_t *import_result_json(const struct task_config *task, const struct import_result *res, int rc,
                           const struct err *e);
/* `boucle data check`: reads, validates and profiles the file as import_file
 * would and checks it against the contract whatever on_violation says,
 * storing nothing (out->hash, rows, profile and contract are set). */
int import_check_file(struct store *st, const struct config *cfg, const struct task_config *task,
                      const char *path, enum table_format fmt, struct import_result *out,
                      struct err *e);

#endif
