/* The SQLite schema as numbered migrations. Migration N is applied in its own
 * transaction together with its row in schema_migrations, so a crash leaves
 * the database at N-1 or N, never in between. A migration, once released, is
 * never edited: changes go into a new one appended to the list. */
#include "store/sqlite_store.h"

#include "base/log.h"
#include "base/timeutil.h"

#include <stdio.h>

struct migration {
    int version;
    const char *description;
    const char *sql; /* constant DDL only: no values are ever formatted in */
};

/* Times are integer milliseconds since the epoch (_ms); JSON is stored as
 * text (_json). Tasks are plain names: a task exists once it has rows. */
static const char migration_1[] =
    "CREATE TABLE datasets ("
    "  id INTEGER PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  source TEXT,"
    "  n_rows INTEGER NOT NULL,"
    "  n_train INTEGER NOT NULL,"
    "  n_test INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (task, hash));"
    "CREATE TABLE examples ("
    "  id INTEGER PRIMARY KEY,"
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  task TEXT NOT NULL,"
    "  input_json TEXT NOT NULL,"
    "  label TEXT,"
    "  split INTEGER NOT NULL CHECK (split IN (0, 1)),"
    "  line INTEGER);"
    "CREATE INDEX examples_task ON examples(task);"
    "CREATE INDEX examples_dataset ON examples(dataset_id);"

    "CREATE TABLE runs ("
    "  id TEXT PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  params_json TEXT,"
    "  metrics_json TEXT,"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER);"
    "CREATE INDEX runs_task_started ON runs(task, started_ms);"
    "CREATE INDEX runs_started ON runs(started_ms);"
    "CREATE TABLE run_logs ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  ts_ms INTEGER NOT NULL,"
    "  line TEXT NOT NULL);"
    "CREATE INDEX run_logs_run ON run_logs(run_id);"
    /* Metric history with steps, MLflow style; value NULL stands for NaN. */
    "CREATE TABLE metrics ("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value REAL,"
    "  step INTEGER NOT NULL DEFAULT 0,"
    "  ts_ms INTEGER NOT NULL);"
    "CREATE INDEX metrics_run_key ON metrics(run_id, key, step);"

    "CREATE TABLE model_versions ("
    "  task TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  run_id TEXT REFERENCES runs(id),"
    "  dataset_hash TEXT,"
    "  config_hash TEXT,"
    "  kind TEXT NOT NULL,"
    "  artifact BLOB NOT NULL,"
    "  artifact_sha256 TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  metrics_json TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (task, version));"
    "CREATE INDEX model_versions_run ON model_versions(run_id);"
    "CREATE TABLE aliases ("
    "  task TEXT NOT NULL,"
    "  alias TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (task, alias),"
    "  FOREIGN KEY (task, version) REFERENCES model_versions(task, version));"
    "CREATE TABLE alias_history ("
    "  id INTEGER PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  alias TEXT NOT NULL,"
    "  from_version INTEGER,"
    "  to_version INTEGER NOT NULL,"
    "  reason TEXT,"
    "  ts_ms INTEGER NOT NULL);"
    "CREATE INDEX alias_history_task ON alias_history(task, id);"

    /* No foreign key from predictions to model versions: the log writer
     * must never fail a batch over registry state. */
    "CREATE TABLE predictions ("
    "  id TEXT PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  model_version INTEGER,"
    "  input_json TEXT NOT NULL,"
    "  label TEXT,"
    "  output_json TEXT,"
    "  latency_us INTEGER,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX predictions_task_created ON predictions(task, created_ms);"
    "CREATE TABLE feedback ("
    "  id TEXT PRIMARY KEY,"
    "  prediction_id TEXT NOT NULL REFERENCES predictions(id),"
    "  task TEXT NOT NULL,"
    "  score INTEGER NOT NULL CHECK (score IN (-1, 0, 1)),"
    "  label TEXT,"
    "  comment TEXT,"
    "  used_for_training_run TEXT REFERENCES runs(id),"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX feedback_task_created ON feedback(task, created_ms);"
    "CREATE INDEX feedback_prediction ON feedback(prediction_id);"

    /* The job queue: a worker claims a row by setting worker and
     * lease_until_ms; an expired lease makes the job claimable again. */
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  payload_json TEXT,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  lease_until_ms INTEGER,"
    "  worker TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    "CREATE INDEX jobs_status ON jobs(status, created_ms);"
    "CREATE INDEX jobs_task ON jobs(task, status);";

/* The automatic loop (issue 3). Only additions, so a database written by
 * migration 1 keeps every row; added columns are NULL on existing rows. */
static const char migration_2[] =
    /* A run the loop executes: the state its steps share (a JSON object),
     * its per-step status list (a JSON array) and what triggered it. */
    "ALTER TABLE runs ADD COLUMN state_json TEXT;"
    "ALTER TABLE runs ADD COLUMN steps_json TEXT;"
    "ALTER TABLE runs ADD COLUMN triggered_by TEXT;"
    /* The reaper's and the scheduler's question: which runs are still open. */
    "CREATE INDEX runs_open ON runs(status) WHERE status IN ('pending', 'running');"
    /* The run a job executes. */
    "ALTER TABLE jobs ADD COLUMN run_id TEXT REFERENCES runs(id);"
    "CREATE INDEX jobs_run ON jobs(run_id);"
    /* One queued-or-running job of a kind per task, whichever process
     * enqueues (store_job_enqueue checks first, to name the running one). */
    "CREATE UNIQUE INDEX jobs_one_active ON jobs(task, kind)"
    "  WHERE status IN ('queued', 'running');"
    /* Which side of a training run a used feedback went to. */
    "ALTER TABLE feedback ADD COLUMN used_role TEXT CHECK (used_role IN ('train', 'holdout'));";

/* MLflow tracking (issue 4). MLflow runs live in `runs` next to boucle's
 * own (kind 'mlflow', task ''), so both share the metric history table, the
 * run id space and, later, one listing; the MLflow-only attributes are new
 * columns (NULL on boucle's runs). Status uses boucle's vocabulary
 * (running, completed, failed, cancelled, pending), translated by track/.
 * Experiment 0, "Default", always exists. */
static const char migration_3[] =
    "CREATE TABLE experiments ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  artifact_location TEXT,"
    "  lifecycle_stage TEXT NOT NULL DEFAULT 'active'"
    "    CHECK (lifecycle_stage IN ('active', 'deleted')),"
    "  creation_time INTEGER NOT NULL,"
    "  last_update_time INTEGER NOT NULL);"
    "INSERT INTO experiments(id, name, artifact_location, creation_time, last_update_time)"
    "  VALUES(0, 'Default', 'mlflow-artifacts:/0', CAST(strftime('%s', 'now') AS INTEGER) * 1000,"
    "         CAST(strftime('%s', 'now') AS INTEGER) * 1000);"
    "CREATE TABLE experiment_tags ("
    "  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT,"
    "  PRIMARY KEY (experiment_id, key));"
    "ALTER TABLE runs ADD COLUMN experiment_id INTEGER REFERENCES experiments(id);"
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
    "  PRIMARY KEY (run_id, key));";

/* MLflow model registry and artifacts (issue 4). A registered model is a
 * boucle task: its versions are the rows of model_versions (boucle's trained
 * ones and the ones MLflow clients create, kind 'mlflow', no artifact) and
 * its aliases are boucle's, so an alias set through MLflow is the one the
 * servers serve. A trigger gives every task that gets a version its
 * registered_models row; existing tasks get theirs here. Run artifacts are
 * blobs, never files. */
static const char migration_4[] =
    "CREATE TABLE registered_models ("
    "  name TEXT PRIMARY KEY,"
    "  description TEXT,"
    "  creation_ms INTEGER NOT NULL,"
    "  last_updated_ms INTEGER NOT NULL);"
    "INSERT INTO registered_models(name, creation_ms, last_updated_ms)"
    "  SELECT task, min(created_ms), max(created_ms) FROM model_versions GROUP BY task;"
    "CREATE TRIGGER model_versions_registered AFTER INSERT ON model_versions BEGIN"
    "  INSERT INTO registered_models(name, creation_ms, last_updated_ms)"
    "    VALUES(NEW.task, NEW.created_ms, NEW.created_ms)"
    "    ON CONFLICT(name) DO UPDATE SET last_updated_ms = excluded.last_updated_ms;"
    "  END;"
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
    "ALTER TABLE model_versions ADD COLUMN updated_ms INTEGER;"
    "CREATE TABLE model_version_tags ("
    "  task TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT,"
    "  PRIMARY KEY (task, version, key));"
    "CREATE TABLE artifacts ("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  path TEXT NOT NULL,"
    "  data BLOB NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, path));";

/* Each run's latest point per metric key (the highest step, then timestamp,
 * then value, NaN lowest: MLflow's rule), kept by a trigger on every insert
 * into metrics whoever writes it, so a run search reads one row per key
 * instead of every point of the history. NaN is stored as NULL. */
static const char migration_5[] =
    "CREATE TABLE latest_metrics ("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value REAL,"
    "  step INTEGER NOT NULL,"
    "  ts_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, key)) WITHOUT ROWID;" /* a search's look-ups walk one tree */
    "CREATE INDEX latest_metrics_key_value ON latest_metrics(key, value);"
    "CREATE TRIGGER metrics_keep_latest AFTER INSERT ON metrics BEGIN"
    "  INSERT INTO latest_metrics(run_id, key, value, step, ts_ms)"
    "    VALUES(NEW.run_id, NEW.key, NEW.value, NEW.step, NEW.ts_ms)"
    "  ON CONFLICT(run_id, key) DO UPDATE SET"
    "    value = excluded.value, step = excluded.step, ts_ms = excluded.ts_ms"
    "  WHERE excluded.step > latest_metrics.step"
    "     OR (excluded.step = latest_metrics.step AND excluded.ts_ms > latest_metrics.ts_ms)"
    "     OR (excluded.step = latest_metrics.step AND excluded.ts_ms = latest_metrics.ts_ms"
    "         AND excluded.value IS NOT NULL"
    "         AND (latest_metrics.value IS NULL OR excluded.value > latest_metrics.value));"
    "END;"
    /* the points logged before this migration */
    "INSERT INTO latest_metrics(run_id, key, value, step, ts_ms)"
    "  SELECT run_id, key, value, step, ts_ms FROM ("
    "    SELECT run_id, key, value, step, ts_ms, ROW_NUMBER() OVER ("
    "      PARTITION BY run_id, key"
    "      ORDER BY step DESC, ts_ms DESC, value IS NULL, value DESC) AS rank"
    "    FROM metrics) WHERE rank = 1;";

/* Registry lineage and accountability (issue 4): the boucle build that
 * trained a version, who moved an alias, and removals in the alias history
 * (to_version NULL: the alias was deleted). SQLite cannot drop a NOT NULL,
 * so alias_history is rebuilt with its rows and ids. */
static const char migration_6[] =
    "ALTER TABLE model_versions ADD COLUMN boucle_version TEXT;"
    "CREATE TABLE alias_history_6 ("
    "  id INTEGER PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  alias TEXT NOT NULL,"
    "  from_version INTEGER,"
    "  to_version INTEGER,"
    "  reason TEXT,"
    "  ts_ms INTEGER NOT NULL,"
    "  actor TEXT);"
    "INSERT INTO alias_history_6(id, task, alias, from_version, to_version, reason, ts_ms)"
    "  SELECT id, task, alias, from_version, to_version, reason, ts_ms FROM alias_history;"
    "DROP TABLE alias_history;"
    "ALTER TABLE alias_history_6 RENAME TO alias_history;"
    "CREATE INDEX alias_history_task ON alias_history(task, id);";

/* Shadow and canary rollouts (issue 6). One active rollout per task (a
 * partial unique index says so to every process). Predictions made under a
 * rollout carry its id, so its window is exact whatever the clocks say; a
 * shadow's answers are predictions too, with shadow_of naming the answered
 * twin (feedback joins to the twin, never to the shadow row). No foreign
 * key to model_versions: a rollout is history and must not block deleting
 * a version. */
static const char migration_7[] =
    "CREATE TABLE rollouts ("
    "  id INTEGER PRIMARY KEY,"
    "  task TEXT NOT NULL,"
    "  strategy TEXT NOT NULL CHECK (strategy IN ('shadow', 'canary')),"
    "  challenger_version INTEGER NOT NULL,"
    "  champion_version INTEGER NOT NULL,"
    "  percent INTEGER NOT NULL,"
    "  min_feedback INTEGER NOT NULL,"
    "  status TEXT NOT NULL"
    "    CHECK (status IN ('active', 'promoted', 'rolled_back', 'stopped')),"
    "  reason TEXT,"
    "  run_id TEXT,"
    "  outcome TEXT,"
    "  decision_json TEXT,"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER);"
    "CREATE UNIQUE INDEX rollouts_one_active ON rollouts(task) WHERE status = 'active';"
    "CREATE INDEX rollouts_task ON rollouts(task, id);"
    "ALTER TABLE predictions ADD COLUMN rollout_id INTEGER;"
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

int sqlite_store_known_version(void)
{
    return MIGRATION_COUNT;
}

/* The highest applied migration, 0 for a new (or foreign, empty) database. */
static int applied_version(struct sqlite_store *s, int *version, struct err *e)
{
    const char *what = "reading schema version";
    sqlite3_stmt *st = sqlite_store_prepare(
        s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        what, e);
    if (!st) return -1;
    int r = sqlite_store_next(s, st, what, e);
    int exists = r == 1 && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (r < 0) return -1;
    *version = 0;
    if (!exists) return 0;

    st =
        sqlite_store_prepare(s, "SELECT coalesce(max(version), 0) FROM schema_migrations", what, e);
    if (!st) return -1;
    r = sqlite_store_next(s, st, what, e);
    if (r == 1) *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return r < 0 ? -1 : 0;
}

static int refuse_newer(int version, struct err *e)
{
    return err_set(e, ERR_CONFLICT,
                   "database schema version %d is newer than this boucle (knows %d); upgrade "
                   "boucle",
                   version, MIGRATION_COUNT);
}

static int record(struct sqlite_store *s, const struct migration *m, struct err *e)
{
    const char *what = "recording migration";
    sqlite3_stmt *st = sqlite_store_prepare(
        s, "INSERT INTO schema_migrations(version, description, applied_ms) VALUES(?1, ?2, ?3)",
        what, e);
    if (!st) return -1;
    sqlite3_bind_int(st, 1, m->version);
    sqlite_store_bind_text(st, 2, m->description);
    sqlite3_bind_int64(st, 3, time_now_ms());
    int r = sqlite_store_step_done(s, st, what, e);
    sqlite3_finalize(st);
    return r;
}

/* Applies the migration after `current` unless another process got there
 * first (serve and worker may open a new file at the same moment: the
 * version is re-read under the write lock). */
static int step_once(struct sqlite_store *s, int *current, struct err *e)
{
    if (sqlite_store_begin(s, e)) return -1;
    int v;
    if (sqlite_store_exec(s,
                          "CREATE TABLE IF NOT EXISTS schema_migrations ("
                          "  version INTEGER PRIMARY KEY,"
                          "  description TEXT NOT NULL,"
                          "  applied_ms INTEGER NOT NULL)",
                          "creating schema_migrations", e) ||
        applied_version(s, &v, e))
        goto fail;
    if (v > MIGRATION_COUNT) {
        refuse_newer(v, e);
        goto fail;
    }
    if (v < MIGRATION_COUNT) {
        const struct migration *m = &migrations[v];
        char what[64];
        snprintf(what, sizeof what, "migration %d", m->version);
        if (m->version != v + 1) {
            err_set(e, ERR_INTERNAL, "migration list out of order at %d", m->version);
            goto fail;
        }
        if (sqlite_store_exec(s, m->sql, what, e) || record(s, m, e)) goto fail;
        log_info("store: applied schema migration %d (%s)", m->version, m->description);
        v++;
    }
    if (sqlite_store_commit(s, e)) return -1;
    *current = v;
    return 0;
fail:
    sqlite_store_rollback(s);
    return -1;
}

int sqlite_store_migrate(struct sqlite_store *s, struct err *e)
{
    int v;
    /* Read first without the write lock: an up-to-date database (every open
     * but the first) is never written to here. */
    if (applied_version(s, &v, e)) return -1;
    if (v > MIGRATION_COUNT) return refuse_newer(v, e);
    while (v < MIGRATION_COUNT)
        if (step_once(s, &v, e)) return -1;
    s->schema_version = v;
    return 0;
}
