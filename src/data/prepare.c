/* Preparing rows of training data: see prepare.h. The text steps between
 * two row steps run as one segment per field; a row step then looks at the
 * fields as they are at that point of the list. */
#include "data/prepare.h"

#include "base/ids.h"

#include <stdlib.h>
#include <string.h>

void preparer_init(struct preparer *p, const struct clean_config *cfg, size_t n_fields)
{
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->n_fields = n_fields;
    size_t n = n_fields ? n_fields : 1;
    p->scratch = xcalloc(n, sizeof *p->scratch);
    for (size_t i = 0; i < n; i++)
        clean_scratch_init(&p->scratch[i]);
    p->cur = xcalloc(n, sizeof *p->cur);
    p->cur_len = xcalloc(n, sizeof *p->cur_len);
    buf_init(&p->text);
    buf_init(&p->key);
    hashmap_init(&p->seen);
}

void preparer_free(struct preparer *p)
{
    for (size_t i = 0; i < (p->n_fields ? p->n_fields : 1); i++)
        clean_scratch_free(&p->scratch[i]);
    free(p->scratch);
    free(p->cur);
    free(p->cur_len);
    buf_free(&p->text);
    buf_free(&p->key);
    hashmap_free(&p->seen);
    memset(p, 0, sizeof *p);
}

static void run_segment(struct preparer *p, size_t from, size_t to, unsigned *changed)
{
    for (size_t i = 0; i < p->n_fields; i++)
        p->cur[i] = clean_field(p->cfg, from, to, p->cur[i], p->cur_len[i], &p->scratch[i],
                                &p->cur_len[i], changed);
}

static void join(struct preparer *p, struct buf *out)
{
    size_t sep = strlen(p->cfg->separator);
    buf_reset(out);
    buf_append(out, "", 0);
    for (size_t i = 0; i < p->n_fields; i++) {
        if (i) buf_append(out, p->cfg->separator, sep);
        buf_append(out, p->cur[i], p->cur_len[i]);
    }
}

static int all_blank(const struct preparer *p)
{
    for (size_t i = 0; i < p->n_fields; i++)
        if (!clean_is_blank(p->cur[i], p->cur_len[i])) return 0;
    return 1;
}

/* Whether this text was kept before; remembers it if not. Texts that differ
 * only in whitespace are the same text (the tokenizer cannot tell them
 * apart either); fields are compared one by one, so moving a word from one
 * field to the next makes another text. A 128-bit digest stands for each
 * text, so the set costs 32 bytes a row however long the texts are. */
static int seen_before(struct preparer *p)
{
    buf_reset(&p->key);
    for (size_t i = 0; i < p->n_fields; i++) {
        clean_step_apply(CLEAN_NORMALIZE_WHITESPACE, p->cur[i], p->cur_len[i], &p->key);
        buf_append(&p->key, "", 1); /* a NUL: no field holds one */
    }
    char digest[SHA256_HEX_LEN];
    sha256_hex(p->key.data ? p->key.data : "", p->key.len, digest);
    int inserted = 0;
    hashmap_upsert(&p->seen, digest, 32, 1, &inserted);
    return !inserted;
}

static void count_changes(struct preparer *p, unsigned changed)
{
    for (size_t s = 0; s < CLEAN_N_STEPS; s++)
        if (changed & (1u << s)) p->report.changed[s]++;
}

int preparer_row(struct preparer *p, const char *const *values, const size_t *lens,
                 const char **text, size_t *len)
{
    p->report.rows++;
    for (size_t i = 0; i < p->n_fields; i++) {
        p->cur[i] = values[i] ? values[i] : "";
        p->cur_len[i] = values[i] ? lens[i] : 0;
    }
    unsigned changed = 0;
    size_t from = 0;
    for (size_t k = 0; k < p->cfg->n_steps; k++) {
        enum clean_step step = (enum clean_step)p->cfg->steps[k];
        if (clean_step_rewrites(step)) continue;
        run_segment(p, from, k, &changed);
        from = k + 1;
        int drop = step == CLEAN_DROP_EMPTY ? all_blank(p) : seen_before(p);
        if (drop) {
            count_changes(p, changed);
            p->report.dropped[step]++;
            return 0;
        }
    }
    run_segment(p, from, p->cfg->n_steps, &changed);
    count_changes(p, changed);
    join(p, &p->text);
    p->report.kept++;
    *text = p->text.data;
    *len = p->text.len;
    return 1;
}

json_t *prepare_report_json(const struct clean_config *cfg, const struct prepare_report *r)
{
    json_t *steps = json_array();
    for (size_t k = 0; k < cfg->n_steps; k++) {
        enum clean_step s = (enum clean_step)cfg->steps[k];
        int rewrites = clean_step_rewrites(s);
        json_array_append_new(steps,
                              json_pack("{s:s,s:I}", "step", clean_step_name(s),
                                        rewrites ? "changed" : "dropped",
                                        (json_int_t)(rewrites ? r->changed[s] : r->dropped[s])));
    }
    return json_pack("{s:I,s:I,s:o}", "rows", (json_int_t)r->rows, "kept", (json_int_t)r->kept,
                     "steps", steps);
}

void prepare_report_text(const struct clean_config *cfg, const struct prepare_report *r,
                         struct buf *out)
{
    if (!cfg->n_steps) {
        buf_append_str(out, "none");
        return;
    }
    for (size_t k = 0; k < cfg->n_steps; k++) {
        enum clean_step s = (enum clean_step)cfg->steps[k];
        int rewrites = clean_step_rewrites(s);
        buf_printf(out, "%s%s %s %zu", k ? ", " : "", clean_step_name(s),
                   rewrites ? "changed" : "dropped", rewrites ? r->changed[s] : r->dropped[s]);
    }
    buf_printf(out, ": %zu of %zu rows kept", r->kept, r->rows);
}
