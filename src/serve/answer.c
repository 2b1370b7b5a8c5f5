#include "serve/answer.h"

#include "data/labelset.h"

void answer_add_labels(json_t *answer, const struct trained_model *m, const double *probs,
                       size_t best)
{
    size_t n = model_n_labels(m);
    json_t *p = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(p, model_label(m, i), json_real(probs[i]));
    json_object_set_new(answer, "label", json_string(model_label(m, best)));
    if (model_task_type(m) == TASK_MULTILABEL) {
        json_t *set = json_array();
        for (size_t i = 0; i < n; i++)
            if (probs[i] >= model_threshold(m, i))
                json_array_append_new(set, json_string(model_label(m, i)));
        json_object_set_new(answer, "labels", set);
    }
    json_object_set_new(answer, "probabilities", p);
}

const char *answer_logged_label(json_t *answer, struct buf *scratch)
{
    json_t *set = json_object_get(answer, "labels");
    if (!set) return json_string_value(json_object_get(answer, "label"));
    buf_reset(scratch);
    buf_append(scratch, "", 0);
    size_t i;
    json_t *l;
    /* already in label order, which is the canonical order */
    json_array_foreach(set, i, l)
    {
        if (i) buf_append_char(scratch, LABELSET_SEP);
        buf_append(scratch, json_string_value(l), json_string_length(l));
    }
    return scratch->data;
}
