/* text/clean: running a task's text steps in order over its fields, the
 * join, and the artifact form of the settings. The steps themselves live in
 * clean_html.c, clean_code.c, clean_pii.c and clean_space.c. */
#include "text/clean.h"

#include "text/clean_internal.h"

#include <stdlib.h>
#include <string.h>

void clean_scratch_init(struct clean_scratch *s)
{
    buf_init(&s->a);
    buf_init(&s->b);
}

void clean_scratch_free(struct clean_scratch *s)
{
    buf_free(&s->a);
    buf_free(&s->b);
}

int clean_step_rewrites(enum clean_step step)
{
    return step != CLEAN_DROP_EMPTY && step != CLEAN_DEDUPE;
}

void clean_step_apply(enum clean_step step, const char *s, size_t len, struct buf *out)
{
    switch (step) {
    case CLEAN_STRIP_HTML:
        clean_strip_html(s, len, out);
        break;
    case CLEAN_STRIP_CODE:
        clean_strip_code(s, len, out);
        break;
    case CLEAN_SCRUB_PII:
        clean_scrub_pii(s, len, out);
        break;
    case CLEAN_NORMALIZE_WHITESPACE:
        clean_normalize_space(s, len, out);
        break;
    case CLEAN_DROP_EMPTY:
    case CLEAN_DEDUPE:
        buf_append(out, s, len);
        break;
    }
}

const char *clean_field(const struct clean_config *c, size_t from, size_t to, const char *s,
                        size_t len, struct clean_scratch *sc, size_t *out_len, unsigned *changed)
{
    const char *cur = s;
    size_t cur_len = len;
    for (size_t k = from; k < to && k < c->n_steps; k++) {
        enum clean_step step = (enum clean_step)c->steps[k];
        if (!clean_step_rewrites(step)) continue;
        /* write into whichever buffer does not hold the current text */
        struct buf *dst = cur == sc->a.data ? &sc->b : &sc->a;
        buf_reset(dst);
        buf_append(dst, "", 0); /* data is a valid (empty) string even for no output */
        clean_step_apply(step, cur, cur_len, dst);
        if (changed && (dst->len != cur_len || memcmp(dst->data, cur, cur_len) != 0))
            *changed |= 1u << step;
        cur = dst->data;
        cur_len = dst->len;
    }
    *out_len = cur_len;
    return cur;
}

void clean_input(const struct clean_config *c, const char *const *values, const size_t *lens,
                 size_t n, struct clean_scratch *sc, struct buf *out, unsigned *changed)
{
    size_t sep_len = strlen(c->separator);
    buf_reset(out);
    buf_append(out, "", 0);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *v = clean_field(c, 0, c->n_steps, values[i] ? values[i] : "",
                                    values[i] ? lens[i] : 0, sc, &len, changed);
        if (i) buf_append(out, c->separator, sep_len);
        buf_append(out, v, len);
    }
}

int clean_is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t k = clean_space_at(s, len, i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

void clean_config_save(const struct clean_config *c, struct buf *out)
{
    buf_put_u32(out, (unsigned)c->n_steps);
    for (size_t i = 0; i < c->n_steps; i++)
        buf_put_u32(out, c->steps[i]);
    buf_put_str(out, c->separator);
}

int clean_config_load(struct clean_config *c, struct reader *r, struct err *e)
{
    clean_config_defaults(c);
    unsigned n = reader_u32(r);
    if (r->failed) return err_set(e, ERR_CORRUPT, "cleaning settings truncated");
    if (n > CLEAN_N_STEPS)
        return err_set(e, ERR_CORRUPT, "cleaning settings list %u steps (at most %d)", n,
                       CLEAN_N_STEPS);
    unsigned seen = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned step = reader_u32(r);
        if (r->failed) return err_set(e, ERR_CORRUPT, "cleaning settings truncated");
        if (step >= CLEAN_N_STEPS || (seen & (1u << step)))
            return err_set(e, ERR_CORRUPT, "cleaning step %u is unknown or repeated", step);
        seen |= 1u << step;
        c->steps[i] = (unsigned char)step;
    }
    c->n_steps = n;
    char *sep = reader_str(r, CLEAN_MAX_SEPARATOR);
    if (!sep)
        return err_set(e, ERR_CORRUPT, "cleaning settings: text separator truncated or too long");
    size_t sep_len = strlen(sep);
    memcpy(c->separator, sep, sep_len + 1);
    free(sep);
    return 0;
}

int clean_config_is_default(const struct clean_config *c)
{
    return c->n_steps == 0 && str_eq(c->separator, "\n");
}
