/* One sb_stemmer per language per thread, behind a pthread key whose
 * destructor frees them when the thread exits (serving threads come and
 * go with connections); the main thread's are reachable from its
 * thread-local pointer until exit, or freed by stem_thread_free. */
#include "text/stem.h"

#include "base/mem.h"

#include <libstemmer.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

struct stemmers {
    struct sb_stemmer *by_lang[3];
};

static pthread_key_t stem_key;
static pthread_once_t stem_once = PTHREAD_ONCE_INIT;
static _Thread_local struct stemmers *tl_stemmers;

static void stemmers_free(void *p)
{
    struct stemmers *s = p;
    for (size_t i = 0; i < 3; i++)
        if (s->by_lang[i]) sb_stemmer_delete(s->by_lang[i]);
    free(s);
}

static void stem_key_create(void)
{
    if (pthread_key_create(&stem_key, stemmers_free) != 0) abort(); /* out of keys */
}

static struct sb_stemmer *stemmer_for(enum text_lang lang)
{
    struct stemmers *s = tl_stemmers;
    if (!s) {
        pthread_once(&stem_once, stem_key_create);
        s = xcalloc(1, sizeof *s);
        pthread_setspecific(stem_key, s);
        tl_stemmers = s;
    }
    if (!s->by_lang[lang])
        s->by_lang[lang] = sb_stemmer_new(lang == TEXT_LANG_FRENCH ? "french" : "english", "UTF_8");
    return s->by_lang[lang];
}

const char *stem_word(enum text_lang lang, const char *w, size_t len, size_t *out_len)
{
    *out_len = len;
    if (lang != TEXT_LANG_ENGLISH && lang != TEXT_LANG_FRENCH) return w;
    if (len > INT_MAX) return w;
    struct sb_stemmer *st = stemmer_for(lang);
    if (!st) return w;
    const sb_symbol *r = sb_stemmer_stem(st, (const sb_symbol *)w, (int)len);
    if (!r) return w;
    *out_len = (size_t)sb_stemmer_length(st);
    return (const char *)r;
}

void stem_thread_free(void)
{
    if (!tl_stemmers) return;
    pthread_setspecific(stem_key, NULL);
    stemmers_free(tl_stemmers);
    tl_stemmers = NULL;
}
