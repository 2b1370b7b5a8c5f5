/* bench helper: boucle's tokens in fastText's input format, so the fastText
 * command can be fed exactly the words boucle trains on (with its default
 * keep_punct: '!' and '?' are tokens; KEEP_PUNCT=0 in the environment for
 * the old tokens). Reads lines "LABEL<TAB>TEXT", writes
 * "__label__LABEL token token ...". */
#include "text/tokenize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    struct buf line;
    buf_init(&line);
    struct tokens t;
    tokens_init(&t);
    const char *keep = getenv("KEEP_PUNCT");
    unsigned flags = keep && !strcmp(keep, "0") ? 0u : TOKENIZE_KEEP_PUNCT;
    int c;
    do {
        c = getchar();
        if (c != '\n' && c != EOF) {
            buf_append_char(&line, (char)c);
            continue;
        }
        char *tab = line.len ? memchr(line.data, '\t', line.len) : NULL;
        if (tab) {
            tokenize_ex(tab + 1, line.len - (size_t)(tab + 1 - line.data), flags, &t);
            printf("__label__%.*s %s\n", (int)(tab - line.data), line.data, t.text.data);
        }
        buf_reset(&line);
    } while (c != EOF);
    tokens_free(&t);
    buf_free(&line);
    return 0;
}
