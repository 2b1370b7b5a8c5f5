/* MLflow run search over the store: the filter and order of track/filter.h
 * evaluated on a store scan that reads only the keys they name, and only
 * the page kept. The caller loads the page's runs in full. */
#ifndef BOUCLE_TRACK_RUN_SEARCH_H
#define BOUCLE_TRACK_RUN_SEARCH_H

#include "store/store.h"
#include "track/filter.h"

struct run_search {
    const int64_t *experiment_ids;
    size_t n_experiments;
    const char *lifecycle_stage; /* NULL: every stage */
    const struct filter *filter;
    const struct order *order;
    size_t offset, limit;
    /* the store's status ("completed") as the filter compares it ("FINISHED") */
    const char *(*status_name)(const char *store_status);
};

struct run_search_page {
    char **run_ids; /* the page, in order */
    size_t n;
    size_t matches; /* runs that pass the filter, all pages */
};

int run_search(struct store *s, const struct run_search *q, struct run_search_page *out,
               struct err *e);
void run_search_page_free(struct run_search_page *p);

#endif
