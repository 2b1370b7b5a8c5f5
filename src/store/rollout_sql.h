/* The SQL both backends run for a rollout's live numbers (issue 6), kept in
 * one place so "judged" and "right" mean the same on SQLite and PostgreSQL
 * (store.h defines them). Parameters are $1 (the rollout id) and $2 (a
 * model version): SQLite numbers `$N` parameters in order of first
 * appearance, which is their order here. Feedback's insertion order is
 * SEQ: rowid on SQLite, the seq column on PostgreSQL. Internal to store/. */
#ifndef BOUCLE_STORE_ROLLOUT_SQL_H
#define BOUCLE_STORE_ROLLOUT_SQL_H

#include "store/store.h"

#define ROLLOUT_SQL_COLUMNS                                                                        \
    "id, task, strategy, challenger_version, champion_version, percent, min_feedback, status,"     \
    " started_ms, coalesce(ended_ms, 0)"

/* The latest feedback of each answered prediction of rollout $1 (a shadow
 * row never gets feedback of its own), as `l`. */
#define ROLLOUT_SQL_LATEST(SEQ)                                                                    \
    "WITH latest AS (SELECT prediction_id, score, label, row_number() OVER"                        \
    " (PARTITION BY prediction_id ORDER BY created_ms DESC, " SEQ " DESC) AS rn FROM feedback"     \
    " WHERE prediction_id IN (SELECT id FROM predictions WHERE rollout_id = $1"                    \
    " AND shadow_of IS NULL)) "
/* Whether the prediction `p` was right, by its latest feedback `l`. */
#define ROLLOUT_SQL_RIGHT                                                                          \
    "((l.label IS NOT NULL AND l.label = p.label) OR (l.label IS NULL AND l.score = 1))"

/* One model's answers in rollout $1: predictions, judged, right. */
#define ROLLOUT_SQL_ARM(SEQ)                                                                       \
    ROLLOUT_SQL_LATEST(SEQ)                                                                        \
    "SELECT count(*), count(*) FILTER (WHERE l.label IS NOT NULL OR l.score <> 0),"                \
    " count(*) FILTER (WHERE " ROLLOUT_SQL_RIGHT ")"                                               \
    " FROM predictions p LEFT JOIN latest l ON l.prediction_id = p.id AND l.rn = 1"                \
    " WHERE p.rollout_id = $1 AND p.shadow_of IS NULL AND p.model_version = $2"

/* Shadow answers `sh` of version $2 beside their answered twin `p`: how
 * many, twins found, same label, truth known (corrected or confirmed),
 * champion right, shadow right. */
#define ROLLOUT_SQL_SHADOW(SEQ)                                                                    \
    ROLLOUT_SQL_LATEST(SEQ)                                                                        \
    "SELECT count(*), count(p.id), count(*) FILTER (WHERE sh.label = p.label),"                    \
    " count(*) FILTER (WHERE l.label IS NOT NULL OR l.score = 1),"                                 \
    " count(*) FILTER (WHERE " ROLLOUT_SQL_RIGHT "),"                                              \
    " count(*) FILTER (WHERE (l.label IS NOT NULL AND l.label = sh.label)"                         \
    "  OR (l.label IS NULL AND l.score = 1 AND sh.label = p.label))"                               \
    " FROM predictions sh LEFT JOIN predictions p ON p.id = sh.shadow_of"                          \
    " LEFT JOIN latest l ON l.prediction_id = p.id AND l.rn = 1"                                   \
    " WHERE sh.rollout_id = $1 AND sh.shadow_of IS NOT NULL AND sh.model_version = $2"

/* The row of ROLLOUT_SQL_ARM into an arm. */
static inline void rollout_sql_arm(const int64_t v[3], struct store_rollout_arm *out)
{
    out->predictions = v[0];
    out->judged = v[1];
    out->correct = v[2];
}

/* The row of ROLLOUT_SQL_SHADOW into the stats: the challenger's side is
 * judged on the pairs whose truth is known. */
static inline void rollout_sql_shadow(const int64_t v[6], struct store_rollout_stats *out)
{
    out->challenger.predictions = v[0];
    out->compared = v[1];
    out->agreed = v[2];
    out->paired = out->challenger.judged = v[3];
    out->champion_paired = v[4];
    out->challenger.correct = v[5];
}

#endif
