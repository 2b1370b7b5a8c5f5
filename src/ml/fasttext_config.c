/* The `model:` keys of a fasttext model, read from one table so that the
 * defaults, the ranges and the error messages cannot drift apart. Defaults
 * are fastText's own for supervised training, except `thread` (one per
 * core here, so a worker uses the machine it is given) and `keep_punct`
 * (on: '!' and '?' are words, as in the fastText tutorial's normalisation). */
#include "ml/fasttext_internal.h"
#include "ml/model_params.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void fasttext_config_defaults(struct fasttext_config *c)
{
    *c = (struct fasttext_config){.dim = 100,
                                  .epoch = 5,
                                  .lr = 0.1,
                                  .word_ngrams = 1,
                                  .minn = 0,
                                  .maxn = 0,
                                  .bucket = 2000000,
                                  .min_count = 1,
                                  .thread = 0,
                                  .seed = 0,
                                  .loss = FASTTEXT_SOFTMAX,
                                  .keep_punct = 1};
}

const char *fasttext_loss_name(enum fasttext_loss loss)
{
    return loss == FASTTEXT_OVA ? "ova" : "softmax";
}

enum key_type { K_INT, K_REAL, K_LOSS, K_BOOL };

struct key_def {
    const char *key;
    enum key_type type;
    double lo, hi; /* K_INT: inclusive; K_REAL: (lo, hi] */
    size_t offset;
    const char *expect;
};

#define AT(f) offsetof(struct fasttext_config, f)
static const struct key_def keys[] = {
    {"dim", K_INT, 1, FASTTEXT_MAX_DIM, AT(dim), "expected an integer from 1 to 1024"},
    {"epoch", K_INT, 1, 100000, AT(epoch), "expected an integer from 1 to 100000"},
    {"lr", K_REAL, 0, 100, AT(lr), "expected a number above 0, at most 100"},
    {"word_ngrams", K_INT, 1, FASTTEXT_MAX_WORD_NGRAMS, AT(word_ngrams),
     "expected an integer from 1 to 8"},
    {"minn", K_INT, 0, FASTTEXT_MAX_CHAR_NGRAM, AT(minn), "expected an integer from 0 to 16"},
    {"maxn", K_INT, 0, FASTTEXT_MAX_CHAR_NGRAM, AT(maxn), "expected an integer from 0 to 16"},
    {"bucket", K_INT, 1, INT_MAX, AT(bucket), "expected an integer from 1 to 2147483647"},
    {"min_count", K_INT, 1, INT_MAX, AT(min_count), "expected a positive integer"},
    {"thread", K_INT, 0, FASTTEXT_MAX_THREADS, AT(thread),
     "expected an integer from 0 (one per core) to 64"},
    {"seed", K_INT, 0, INT_MAX, AT(seed), "expected a non-negative integer"},
    {"keep_punct", K_BOOL, 0, 1, AT(keep_punct), "expected true or false"},
    {"loss", K_LOSS, 0, 0, AT(loss),
     "expected softmax or ova (hierarchical softmax and negative sampling are not available)"},
};
#define N_KEYS (sizeof keys / sizeof *keys)

/* Stores p's value at its key's place in c; -1 when it does not fit. */
static int set_value(struct fasttext_config *c, const struct key_def *k, const char *v)
{
    char *at = (char *)c + k->offset;
    if (k->type == K_LOSS) {
        if (!v) return -1;
        if (!strcmp(v, "softmax"))
            *(enum fasttext_loss *)(void *)at = FASTTEXT_SOFTMAX;
        else if (!strcmp(v, "ova") || !strcmp(v, "one-vs-all"))
            *(enum fasttext_loss *)(void *)at = FASTTEXT_OVA;
        else
            return -1;
        return 0;
    }
    if (k->type == K_BOOL) {
        static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
        for (size_t i = 0; v && i < 4; i++) {
            if (!strcasecmp(v, yes[i])) return *(int *)(void *)at = 1, 0;
            if (!strcasecmp(v, no[i])) return *(int *)(void *)at = 0, 0;
        }
        return -1;
    }
    double d;
    if (model_param_number(v, k->type == K_INT, &d)) return -1;
    if (k->type == K_INT) {
        if (d < k->lo || d > k->hi) return -1;
        *(int *)(void *)at = (int)d;
    } else {
        if (!(d > k->lo && d <= k->hi)) return -1;
        *(double *)(void *)at = d;
    }
    return 0;
}

int fasttext_config_parse(struct fasttext_config *c, const struct config_param *params,
                          size_t n_params, struct err *e)
{
    fasttext_config_defaults(c);
    const struct config_param *minn = NULL, *maxn = NULL;
    for (size_t i = 0; i < n_params; i++) {
        const struct config_param *p = &params[i];
        const char *key = p->key ? p->key : "";
        const struct key_def *k = NULL;
        for (size_t j = 0; j < N_KEYS && !k; j++)
            if (!strcmp(keys[j].key, key)) k = &keys[j];
        if (!k) {
            char field[64];
            snprintf(field, sizeof field, "model.%s", key);
            return err_set_field(e, ERR_INVALID, field,
                                 "model.%s (line %d): unknown key for kind fasttext (known: dim, "
                                 "epoch, lr, word_ngrams, minn, maxn, bucket, min_count, thread, "
                                 "seed, loss, keep_punct)",
                                 key, p->line);
        }
        if (set_value(c, k, p->value)) return model_param_error(e, p, k->expect);
        if (k->offset == AT(minn)) minn = p;
        if (k->offset == AT(maxn)) maxn = p;
    }
    /* A lone minn is a forgotten maxn more often than a wish for no n-grams. */
    if (c->minn > 0 && c->maxn == 0)
        return model_param_error(e, minn,
                                 "char n-grams need maxn as well (maxn is 0: no char n-grams)");
    if (c->maxn > 0 && c->minn > c->maxn)
        return model_param_error(e, maxn, "maxn must not be below minn");
    return 0;
}
