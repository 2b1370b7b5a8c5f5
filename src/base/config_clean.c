/* A task's data preparation keys:
 *   clean: [strip_html, strip_code, scrub_pii, normalize_whitespace, drop_empty, dedupe]
 *   text_separator: " | "
 * The steps run in the order listed; the text layer (text/clean.h) applies them. */
#include "base/config_internal.h"

#include "base/mem.h"

#include <string.h>

static const char *const step_names[CLEAN_N_STEPS] = {
    "strip_html", "strip_code", "scrub_pii", "normalize_whitespace", "drop_empty", "dedupe"};

const char *clean_step_name(enum clean_step s)
{
    return (unsigned)s < CLEAN_N_STEPS ? step_names[s] : "unknown";
}

int clean_step_parse(const char *name, enum clean_step *out)
{
    for (size_t i = 0; i < CLEAN_N_STEPS; i++) {
        if (str_eq(name, step_names[i])) {
            *out = (enum clean_step)i;
            return 0;
        }
    }
    return -1;
}

void clean_config_defaults(struct clean_config *c)
{
    memset(c, 0, sizeof *c);
    c->separator[0] = '\n';
}

static int parse_steps(struct cfg_ctx *c, yaml_node_t *v, const char *path, struct clean_config *cc)
{
    /* `clean:` left empty means no cleaning, like an empty list */
    if (cfg_is_null(v)) {
        cc->n_steps = 0;
        return 0;
    }
    if (cfg_want(c, v, YAML_SEQUENCE_NODE, path)) return -1;
    cc->n_steps = 0;
    int i = 0, html_at = -1;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++, i++) {
        char item_path[PATH_MAX_KEY];
        snprintf(item_path, sizeof item_path, "%s[%d]", path, i);
        yaml_node_t *item = cfg_node(c, *it);
        size_t k;
        if (cfg_choice(c, item, item_path, step_names, CLEAN_N_STEPS, &k)) return -1;
        for (size_t j = 0; j < cc->n_steps; j++)
            if (cc->steps[j] == k)
                return cfg_fail(c, item, item_path, "step '%s' listed twice", step_names[k]);
        /* strip_html turns <pre>/<code> into plain text, after which strip_code
         * can no longer tell code from prose: an order that cannot do what it says */
        if (k == CLEAN_STRIP_CODE && html_at >= 0)
            return cfg_fail(c, item, item_path,
                            "strip_code must come before strip_html (at %s[%d]): once the tags "
                            "are stripped, <pre> and <code> blocks can no longer be found",
                            path, html_at);
        if (k == CLEAN_STRIP_HTML) html_at = i;
        cc->steps[cc->n_steps++] = (unsigned char)k;
    }
    return 0;
}

static int parse_separator(struct cfg_ctx *c, yaml_node_t *v, const char *path,
                           struct clean_config *cc)
{
    if (cfg_want(c, v, YAML_SCALAR_NODE, path)) return -1;
    /* an unquoted empty value is YAML's null, most likely a forgotten value */
    if (cfg_is_null(v))
        return cfg_fail(c, v, path,
                        "expected a string (quote it: \"\" for none, \" \" for a space)");
    const char *s = cfg_text(v);
    size_t len = v->data.scalar.length;
    if (len > CLEAN_MAX_SEPARATOR || memchr(s, '\0', len))
        return cfg_fail(c, v, path, "expected at most %d bytes without NUL, got %zu bytes",
                        CLEAN_MAX_SEPARATOR, len);
    memcpy(cc->separator, s, len);
    cc->separator[len] = '\0';
    return 0;
}

int cfg_clean_task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                        struct task_config *t)
{
    if (str_eq(key, "clean")) return parse_steps(c, v, path, &t->clean);
    if (str_eq(key, "text_separator")) return parse_separator(c, v, path, &t->clean);
    return 1;
}
