/* Importing a data file into a task: read, validate, split, hash, store —
 * all or nothing. */
#ifndef BOUCLE_LOOP_IMPORT_H
#define BOUCLE_LOOP_IMPORT_H

#include "base/config.h"
#include "base/err.h"
#include "data/prepare.h"
#include "data/table.h"
#include "store/store.h"

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
};

/* IMPORT_SPLIT_AUTO: the task's first import holds out a stratified
 * test_fraction as its fixed test set (seed 42); later imports go to train,
 * so the test set that compares models stays the same. */
int import_file(struct store *st, const struct config *cfg, const struct task_config *task,
                const char *path, enum table_format fmt, enum import_split split,
                struct import_result *out, struct err *e);

#endif
