/* boucle's model registry as its users see it: see registry.h. */
#include "track/registry.h"

#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int registry_parse_version(const char *text, int64_t *out)
{
    /* digits only: strtoll alone would take " 3" or "+3" */
    if (!text || !isdigit((unsigned char)text[0])) return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end || errno || v <= 0) return -1;
    *out = v;
    return 0;
}

/* The version's row of store_models_list (its lineage), a new reference;
 * ERR_NOT_FOUND when the task has no such version. */
static json_t *lineage_of(struct store *st, const char *task, int64_t version, struct err *e)
{
    json_t *list = store_models_list(st, task, e);
    if (!list) return NULL;
    json_t *found = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m) if (json_integer_value(json_object_get(m, "version")) == version)
        found = json_incref(m);
    json_decref(list);
    if (!found)
        err_set_field(e, ERR_NOT_FOUND, "version", "task '%s' has no model version %lld", task,
                      (long long)version);
    return found;
}

static int touches(json_t *move, int64_t version)
{
    return json_integer_value(json_object_get(move, "from_version")) == version ||
           json_integer_value(json_object_get(move, "to_version")) == version;
}

json_t *registry_version_show(struct store *st, const char *task, int64_t version, struct err *e)
{
    static const char *const lineage_keys[] = {
        "task",           "version", "kind", "run_id",  "dataset_hash", "config_hash",
        "boucle_version", "sha256",  "size", "metrics", "created_at",
    };
    json_t *lineage = lineage_of(st, task, version, e);
    json_t *fields = lineage ? store_model_version_get(st, task, version, e) : NULL;
    json_t *history = fields ? store_alias_history(st, task, e) : NULL;
    json_t *out = NULL;
    if (history) {
        out = json_object();
        for (size_t i = 0; i < sizeof lineage_keys / sizeof lineage_keys[0]; i++)
            json_object_set(out, lineage_keys[i], json_object_get(lineage, lineage_keys[i]));
        json_object_set(out, "description", json_object_get(fields, "description"));
        json_object_set(out, "stage", json_object_get(fields, "current_stage"));
        json_object_set(out, "source", json_object_get(fields, "source"));
        json_object_set(out, "tags", json_object_get(fields, "tags"));
        json_object_set(out, "aliases", json_object_get(fields, "aliases"));
        json_t *moves = json_array();
        size_t i;
        json_t *move;
        json_array_foreach(history, i, move) if (touches(move, version))
            json_array_append(moves, move);
        json_object_set_new(out, "alias_history", moves);
    }
    json_decref(lineage);
    json_decref(fields);
    json_decref(history);
    return out;
}

/* 1 and the metric when the version's test-set metrics have it as a number. */
static int metric_of(json_t *lineage, const char *name, double *out)
{
    json_t *v = json_object_get(json_object_get(lineage, "metrics"), name);
    if (!json_is_number(v)) return 0;
    *out = json_number_value(v);
    return 1;
}

/* The checks a promotion passes unless forced: not archived, and not below
 * the champion on the primary metric. */
static int unforced_checks(struct store *st, const char *task, int64_t version, json_t *target,
                           int has_champion, int64_t champion, const char *primary, struct err *e)
{
    json_t *fields = store_model_version_get(st, task, version, e);
    if (!fields) return -1;
    int archived = str_eq(json_string_value(json_object_get(fields, "current_stage")), "Archived");
    json_decref(fields);
    if (archived)
        return err_set_field(e, ERR_CONFLICT, "version",
                             "version %lld of task '%s' is archived; force the promotion to serve "
                             "it anyway (--force, or \"force\": true over HTTP)",
                             (long long)version, task);
    if (!has_champion || !primary) return 0;
    json_t *current = lineage_of(st, task, champion, e);
    if (!current) return -1;
    double mine = 0, theirs = 0;
    int comparable = metric_of(target, primary, &mine) && metric_of(current, primary, &theirs);
    json_decref(current);
    /* below by more than float noise; a version without test metrics has
     * nothing to compare and is not refused on that ground */
    if (comparable && mine < theirs - 1e-12)
        return err_set_field(e, ERR_CONFLICT, "version",
                             "version %lld of task '%s' scored %s %.4f on its test split, below "
                             "champion %lld's %.4f; force the promotion to serve it anyway "
                             "(--force, or \"force\": true over HTTP)",
                             (long long)version, task, primary, mine, (long long)champion, theirs);
    return 0;
}

int registry_promote(struct store *st, const char *task, int64_t version,
                     const struct registry_promotion *p, int64_t *previous, struct err *e)
{
    json_t *target = lineage_of(st, task, version, e);
    if (!target) return -1;
    int servable = !str_eq(json_string_value(json_object_get(target, "kind")), "mlflow");
    int64_t champion = 0;
    int has_champion = servable ? store_alias_get(st, task, "champion", &champion, e) : 0;
    int rc = 0;
    if (!servable)
        rc = err_set_field(e, ERR_INVALID, "version",
                           "version %lld of task '%s' was registered through MLflow and has no "
                           "boucle model to serve; promote a version boucle trained",
                           (long long)version, task);
    else if (has_champion < 0)
        rc = -1;
    else if (has_champion && champion == version)
        rc = err_set_field(e, ERR_CONFLICT, "version",
                           "version %lld is already the champion of task '%s'", (long long)version,
                           task);
    else if (!p->force)
        rc = unforced_checks(st, task, version, target, has_champion, champion, p->primary, e);
    json_decref(target);
    if (rc == 0)
        rc = store_alias_deploy(st, task, version, p->reason ? p->reason : "promoted", p->actor, e);
    if (rc == 0 && previous) *previous = has_champion ? champion : 0;
    return rc;
}
