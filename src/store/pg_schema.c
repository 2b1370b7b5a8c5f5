/* The PostgreSQL schema: the same logical schema as the SQLite backend's
 * migrations (same numbers, same meaning), in PostgreSQL types (times are
 * BIGINT Unix ms, JSON is kept as TEXT, artifacts are BYTEA). All pending migrations are applied in
 * one transaction under an advisory lock, so servers and workers starting
 * together on a new database never race; each migration is recorded in
 * schema_migrations. A released migration is never edited. */
#include "store/pg_store.h"

#include "base/log.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

struct migration {
    int version;
    const char *description;
    const char *sql; /* constant DDL only: no values are ever formatted in */
};

/* `seq` columns stand in for SQLite's rowid where rows are ordered by
 * insertion (runs, feedback). */
static const char migration_1[] =
    "CREATE TABLE datasets ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  source TEXT,"
    "  n_rows BIGINT NOT NULL,"
    "  n_train BIGINT NOT NULL,"
    "  n_test BIGINT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  UNIQUE (task, hash));"
    "CREATE TABLE examples ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  dataset_id BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  task TEXT NOT NULL,"
    "  input_json TEXT NOT NULL,"
    "  label TEXT,"
    "  split INTEGER NOT NULL CHECK (split IN (0, 1)),"
    "  line BIGINT);"
    "CREATE INDEX examples_task ON examples(task, id);"
    "CREATE INDEX examples_dataset ON examples(dataset_id);"

    "CREATE TABLE runs ("
    "  id TEXT PRIMARY KEY,"
    "  seq BIGSERIAL NOT NULL,"
    "  task TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  params_json TEXT,"
    "  metrics_json TEXT,"
    "  started_ms BIGINT NOT NULL,"
    "  ended_ms BIGINT);"
    "CREATE INDEX runs_task_started ON runs(task, started_ms);"
    "CREATE INDEX runs_started ON runs(started_ms);"
    "CREATE TABLE run_logs ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  ts_ms BIGINT NOT NULL,"
    "  line TEXT NOT NULL);"
    "CREATE INDEX run_logs_run ON run_logs(run_id);"
    "CREATE TABLE metrics ("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value DOUBLE PRECISION,"
    "  step BIGINT NOT NULL DEFAULT 0,"
    "  ts_ms BIGINT NOT NULL);"
    "CREATE INDEX metrics_run_key ON metrics(run_id, key, step);"

    "CREATE TABLE model_versions ("
    "  task TEXT NOT NULL,"
    "  version BIGINT NOT NULL,"
    "  run_id TEXT REFERENCES runs(id),"
    "  dataset_hash TEXT,"
    "  config_hash TEXT,"
    "  kind TEXT NOT NULL,"
    "  artifact BYTEA NOT NULL,"
    "  artifact_sha256 TEXT NOT NULL,"
    "  size BIGINT NOT NULL,"
    "  metrics_json TEXT,"
    "  created_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (task, version));"
    "CREATE INDEX model_versions_run ON model_versions(run_id);"
    "CREATE TABLE aliases ("
    "  task TEXT NOT NULL,"
    "  alias TEXT NOT NULL,"
    "  version BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (task, alias),"
    "  FOREIGN KEY (task, version) REFERENCES model_versions(task, version));"
    "CREATE TABLE alias_history ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  alias TEXT NOT NULL,"
    "  from_version BIGINT,"
    "  to_version BIGINT NOT NULL,"
    "  reason TEXT,"
    "  ts_ms BIGINT NOT NULL);"
    "CREATE INDEX alias_history_task ON alias_history(task, id);"

    "CREATE TABLE predictions ("
    "  id TEXT PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  model_version BIGINT,"
    "  input_json TEXT NOT NULL,"
    "  label TEXT,"
    "  output_json TEXT,"
    "  latency_us BIGINT,"
    "  created_ms BIGINT NOT NULL);"
    "CREATE INDEX predictions_task_created ON predictions(task, created_ms);"
    "CREATE TABLE feedback ("
    "  id TEXT PRIMARY KEY,"
    "  seq BIGSERIAL NOT NULL,"
    "  prediction_id TEXT NOT NULL REFERENCES predictions(id),"
    "  task TEXT NOT NULL,"
    "  score INTEGER NOT NULL CHECK (score IN (-1, 0, 1)),"
    "  label TEXT,"
    "  comment TEXT,"
    "  used_for_training_run TEXT REFERENCES runs(id),"
    "  created_ms BIGINT NOT NULL);"
    "CREATE INDEX feedback_task_created ON feedback(task, created_ms);"
    "CREATE INDEX feedback_prediction ON feedback(prediction_id);"

    "CREATE TABLE jobs ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  payload_json TEXT,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  lease_until_ms BIGINT,"
    "  worker TEXT,"
    "  created_ms BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL);"
    "CREATE INDEX jobs_status ON jobs(status, created_ms);"
    "CREATE INDEX jobs_task ON jobs(task, status);";

/* The automatic loop, as SQLite's migration 2. */
static const char migration_2[] =
    "ALTER TABLE runs ADD COLUMN state_json TEXT;"
    "ALTER TABLE runs ADD COLUMN steps_json TEXT;"
    "ALTER TABLE runs ADD COLUMN triggered_by TEXT;"
    "CREATE INDEX runs_open ON runs(status) WHERE status IN ('pending', 'running');"
    "ALTER TABLE jobs ADD COLUMN run_id TEXT REFERENCES runs(id);"
    "CREATE INDEX jobs_run ON jobs(run_id);"
    "CREATE UNIQUE INDEX jobs_one_active ON jobs(task, kind)"
    "  WHERE status IN ('queued', 'running');"
    "ALTER TABLE feedback ADD COLUMN used_role TEXT CHECK (used_role IN ('train', 'holdout'));";

/* MLflow tracking (issue 4), as SQLite's migration 3: MLflow runs live in
 * `runs` (kind 'mlflow', task ''), their MLflow-only attributes are new
 * columns; experiment 0, "Default", always exists. Experiment ids are
 * max + 1 (as SQLite's rowid), given by pg_mlflow.c under a lock. metrics
 * gains `seq`, standing in for SQLite's rowid in the order of points. */
static const char migration_3[] =
    "CREATE TABLE experiments ("
    "  id BIGINT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  artifact_location TEXT,"
    "  lifecycle_stage TEXT NOT NULL DEFAULT 'active'"
    "    CHECK (lifecycle_stage IN ('active', 'deleted')),"
    "  creation_time BIGINT NOT NULL,"
    "  last_update_time BIGINT NOT NULL);"
    "INSERT INTO experiments(id, name, artifact_location, creation_time, last_update_time)"
    "  VALUES(0, 'Default', 'mlflow-artifacts:/0', (extract(epoch FROM now()) * 1000)::bigint,"
    "         (extract(epoch FROM now()) * 1000)::bigint);"
    "CREATE TABLE experiment_tags ("
    "  experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT,"
    "  PRIMARY KEY (experiment_id, key));"
    "ALTER TABLE runs ADD COLUMN experiment_id BIGINT REFERENCES experiments(id);"
    "ALTER TABLE runs ADD COLUMN run_name TEXT;"
    "ALTER TABLE runs ADD COLUMN user_id TEXT;"
    "ALTER TABLE runs ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'active';"
    "ALTER TABLE runs ADD COLUMN artifact_uri TEXT;"
    "CREATE INDEX runs_experiment ON runs(experiment_id, started_ms);"
    "CREATE TABLE run_params ("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, key));"
    "CREATE TABLE run_tags ("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT,"
    "  PRIMARY KEY (run_id, key));"
    "ALTER TABLE metrics ADD COLUMN seq BIGSERIAL;";

/* MLflow model registry and run artifacts (issue 4), as SQLite's migration
 * 4: a registered model is a boucle task, its versions are model_versions
 * rows and its aliases are boucle's. A trigger gives every task that gets a
 * version its registered_models row; existing tasks get theirs here. The
 * aliases' foreign key becomes DEFERRABLE so that a rename can move a model's
 * versions and aliases in one transaction, checked at commit (SQLite's
 * defer_foreign_keys). Run artifacts are BYTEA blobs with their sha256: no
 * shared disk between servers and workers. */
static const char migration_4[] =
    "CREATE TABLE registered_models ("
    "  name TEXT PRIMARY KEY,"
    "  description TEXT,"
    "  creation_ms BIGINT NOT NULL,"
    "  last_updated_ms BIGINT NOT NULL);"
    "INSERT INTO registered_models(name, creation_ms, last_updated_ms)"
    "  SELECT task, min(created_ms), max(created_ms) FROM model_versions GROUP BY task;"
    "CREATE FUNCTION boucle_model_registered() RETURNS trigger LANGUAGE plpgsql AS $$"
    "  BEGIN"
    "    INSERT INTO registered_models(name, creation_ms, last_updated_ms)"
    "      VALUES(NEW.task, NEW.created_ms, NEW.created_ms)"
    "      ON CONFLICT (name) DO UPDATE SET last_updated_ms = excluded.last_updated_ms;"
    "    RETURN NEW;"
    "  END $$;"
    "CREATE TRIGGER model_versions_registered AFTER INSERT ON model_versions"
    "  FOR EACH ROW EXECUTE FUNCTION boucle_model_registered();"
    "CREATE TABLE registered_model_tags ("
    "  name TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT,"
    "  PRIMARY KEY (name, key));"
    "ALTER TABLE model_versions ADD COLUMN description TEXT;"
    "ALTER TABLE model_versions ADD COLUMN source TEXT;"
    "ALTER TABLE model_versions ADD COLUMN run_link TEXT;"
    "ALTER TABLE model_versions ADD COLUMN user_id TEXT;"
    "ALTER TABLE model_versions ADD COLUMN stage TEXT NOT NULL DEFAULT 'None';"
    "ALTER TABLE model_versions ADD COLUMN updated_ms BIGINT;"
    "ALTER TABLE aliases ALTER CONSTRAINT aliases_task_version_fkey DEFERRABLE;"
    "CREATE TABLE model_version_tags ("
    "  task TEXT NOT NULL,"
    "  version BIGINT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT,"
    "  PRIMARY KEY (task, version, key));"
    "CREATE TABLE artifacts ("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  path TEXT NOT NULL,"
    "  data BYTEA NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  size BIGINT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (run_id, path));";

/* Each run's latest point per metric key, as SQLite's migration 5: kept by
 * a trigger on every insert into metrics. PostgreSQL sorts NaN above every
 * number; MLflow's rule puts it below, so the trigger says so. */
static const char migration_5[] =
    "CREATE TABLE latest_metrics ("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value DOUBLE PRECISION,"
    "  step BIGINT NOT NULL,"
    "  ts_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (run_id, key));"
    "CREATE INDEX latest_metrics_key_value ON latest_metrics(key, value);"
    "CREATE FUNCTION metrics_keep_latest() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  INSERT INTO latest_metrics AS l (run_id, key, value, step, ts_ms)"
    "    VALUES (NEW.run_id, NEW.key, NEW.value, NEW.step, NEW.ts_ms)"
    "  ON CONFLICT (run_id, key) DO UPDATE SET"
    "    value = EXCLUDED.value, step = EXCLUDED.step, ts_ms = EXCLUDED.ts_ms"
    "  WHERE EXCLUDED.step > l.step"
    "     OR (EXCLUDED.step = l.step AND EXCLUDED.ts_ms > l.ts_ms)"
    "     OR (EXCLUDED.step = l.step AND EXCLUDED.ts_ms = l.ts_ms"
    "         AND EXCLUDED.value IS NOT NULL AND EXCLUDED.value <> 'NaN'"
    "         AND (l.value IS NULL OR l.value = 'NaN' OR EXCLUDED.value > l.value));"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER metrics_keep_latest AFTER INSERT ON metrics"
    "  FOR EACH ROW EXECUTE FUNCTION metrics_keep_latest();"
    "INSERT INTO latest_metrics(run_id, key, value, step, ts_ms)"
    "  SELECT DISTINCT ON (run_id, key) run_id, key, value, step, ts_ms FROM metrics"
    "  ORDER BY run_id, key, step DESC, ts_ms DESC,"
    "    (value IS NULL OR value = 'NaN'), value DESC;";

/* Registry lineage and accountability (issue 4), as SQLite's migration 6:
 * the boucle build that trained a version, who moved an alias, and removals
 * in the alias history (to_version NULL: the alias was deleted). */
static const char migration_6[] = "ALTER TABLE model_versions ADD COLUMN boucle_version TEXT;"
                                  "ALTER TABLE alias_history ALTER COLUMN to_version DROP NOT NULL;"
                                  "ALTER TABLE alias_history ADD COLUMN actor TEXT;";

/* Shadow and canary rollouts (issue 6), as SQLite's migration 7. */
static const char migration_7[] =
    "CREATE TABLE rollouts ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  strategy TEXT NOT NULL CHECK (strategy IN ('shadow', 'canary')),"
    "  challenger_version BIGINT NOT NULL,"
    "  champion_version BIGINT NOT NULL,"
    "  percent INTEGER NOT NULL,"
    "  min_feedback BIGINT NOT NULL,"
    "  status TEXT NOT NULL"
    "    CHECK (status IN ('active', 'promoted', 'rolled_back', 'stopped')),"
    "  reason TEXT,"
    "  run_id TEXT,"
    "  outcome TEXT,"
    "  decision_json TEXT,"
    "  started_ms BIGINT NOT NULL,"
    "  ended_ms BIGINT);"
    "CREATE UNIQUE INDEX rollouts_one_active ON rollouts(task) WHERE status = 'active';"
    "CREATE INDEX rollouts_task ON rollouts(task, id);"
    "ALTER TABLE predictions ADD COLUMN rollout_id BIGINT;"
    "ALTER TABLE predictions ADD COLUMN shadow_of TEXT;"
    "CREATE INDEX predictions_rollout ON predictions(rollout_id) WHERE rollout_id IS NOT NULL;";

/* The data contract (issue 5): each dataset version keeps its profile
 * (rows, columns and their kinds, labels, null and empty rates, lengths,
 * numeric and categorical figures: data_profile_version's JSON) and the
 * check against the previous version (the differences, with those the
 * task's contract refused or warned about). Versions imported before have
 * neither: the contract starts at the next import. */
static const char migration_8[] = "ALTER TABLE datasets ADD COLUMN profile_json TEXT;"
                                  "ALTER TABLE datasets ADD COLUMN contract_json TEXT;";

static const struct migration migrations[] = {
    {1, "datasets, examples, runs, metrics, registry, predictions, feedback, jobs", migration_1},
    {2, "loop: run state, steps and trigger; job runs; feedback used_role", migration_2},
    {3, "MLflow tracking: experiments, experiment tags, run params and tags", migration_3},
    {4, "MLflow registry (registered models, version tags, stages) and run artifacts", migration_4},
    {5, "each run's latest metric values, for run search", migration_5},
    {6, "registry lineage (boucle version) and alias history (actor, removals)", migration_6},
    {7, "rollouts (shadow, canary); predictions' rollout and shadow twin", migration_7},
    {8, "data contract: each dataset version's profile and contract check", migration_8},
};

#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

/* The advisory lock every migrating process takes ("boucle" in ASCII). */
#define MIGRATION_LOCK "SELECT pg_advisory_xact_lock(108250876650597)"

/* The highest applied migration, 0 for a new database. Two queries: one
 * naming a table that does not exist would not even plan. */
static int applied_version(struct pg_store *s, int *version, struct err *e)
{
    const char *what = "reading schema version";
    int64_t exists = 0, v = 0;
    *version = 0;
    if (pg_store_query_ints(s, "SELECT (to_regclass('schema_migrations') IS NOT NULL)::int", what,
                            PG_NO_ARGS, &exists, 1, e) < 0)
        return -1;
    if (!exists) return 0;
    if (pg_store_query_ints(s, "SELECT coalesce(max(version), 0) FROM schema_migrations", what,
                            PG_NO_ARGS, &v, 1, e) < 0)
        return -1;
    *version = (int)v;
    return 0;
}

static int refuse_newer(int version, struct err *e)
{
    return err_set(e, ERR_CONFLICT,
                   "database schema version %d is newer than this boucle (knows %d); upgrade "
                   "boucle",
                   version, MIGRATION_COUNT);
}

/* Inside the transaction, under the lock: re-reads the version (another
 * process may have migrated meanwhile) and applies what is missing. */
static int migrate_locked(struct pg_store *s, int *current, struct err *e)
{
    int v;
    if (pg_store_exec(s, MIGRATION_LOCK, "locking the schema", e) ||
        pg_store_exec(s,
                      "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      "  version INTEGER PRIMARY KEY,"
                      "  description TEXT NOT NULL,"
                      "  applied_ms BIGINT NOT NULL)",
                      "creating schema_migrations", e) ||
        applied_version(s, &v, e))
        return -1;
    if (v > MIGRATION_COUNT) return refuse_newer(v, e);
    for (; v < MIGRATION_COUNT; v++) {
        const struct migration *m = &migrations[v];
        char what[64];
        snprintf(what, sizeof what, "migration %d", m->version);
        if (m->version != v + 1)
            return err_set(e, ERR_INTERNAL, "migration list out of order at %d", m->version);
        if (pg_store_exec(s, m->sql, what, e) ||
            pg_store_update(
                s,
                "INSERT INTO schema_migrations(version, description, applied_ms)"
                " VALUES($1, $2, $3)",
                "recording migration",
                PG_ARGS(PG_INT(m->version), PG_TEXT(m->description), PG_INT(time_now_ms())), NULL,
                e))
            return -1;
        log_info("store: applied schema migration %d (%s)", m->version, m->description);
    }
    *current = v;
    return 0;
}

int pg_store_migrate(struct pg_store *s, struct err *e)
{
    int v;
    /* Read first without the lock: an up-to-date database (every open but
     * the first) is never written to here. */
    if (applied_version(s, &v, e)) return -1;
    if (v > MIGRATION_COUNT) return refuse_newer(v, e);
    if (v < MIGRATION_COUNT) {
        if (pg_store_begin(s, e) || pg_store_end(s, migrate_locked(s, &v, e), e) < 0) return -1;
    }
    s->schema_version = v;
    return 0;
}
