#!/usr/bin/env bash
# Training speed and agreement of boucle's `xgboost` model with Python
# xgboost (python3-xgboost, the same libxgboost) given the very same feature
# matrix, parameters and early-stopping rows: boucle trains, `boucle export
# --what features` writes the matrix it trained on (LIBSVM), and
# bench/xgboost_peer.py trains the peer on it, both in this invocation.
# Times are the learners' own (boucle's fit_seconds: matrix to XGBoost +
# boosting; the peer's DMatrix + xgb.train), best of RUNS (default 4) each,
# alternating one fit of each. Prints one line
# per data set: seconds, their ratio (target <= 1.1) and the largest
# difference of test probabilities (target <= 1e-6).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
BIN=$(realpath "${BOUCLE_BIN:-build/boucle}")
[ -d "$SHARED/datasets" ] || { echo "bench: $SHARED/datasets not found (set SHARED=...)"; exit 2; }
RUNS=${RUNS:-4}
[ -x "$BIN" ] || make -s all
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# per-prediction latency of the champion (bench/predict_latency.c), one thread
LATENCY="$work/predict_latency"
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -pthread $(pkg-config --cflags jansson) bench/predict_latency.c \
  build/libboucle.a $(make -s --no-print-directory print-ldlibs) -o "$LATENCY"

run_one() { # name task-yaml (the task's inputs, label and model lines)
  local name=$1 task=$2
  mkdir -p "$work/$name"
  printf 'store: sqlite:boucle.db\nlimits: {max_field_bytes: 1048576}\ntasks:\n  t:\n%s\n' \
    "$task" > "$work/$name/boucle.yaml"
  export BOUCLE_CONFIG="$work/$name/boucle.yaml"
  "$BIN" import --split train "$SHARED/datasets/$name/train.csv" >/dev/null 2>&1
  "$BIN" import --split test "$SHARED/datasets/$name/test.csv" >/dev/null 2>&1
  # boucle and the peer alternate, one fit each per round, so a slow minute
  # of this shared box lands on both sides rather than on one
  local best="" out peer="" peer_best=""
  out=$("$BIN" train --json 2>/dev/null)
  "$BIN" export --what features --out "$work/$name/features" 2>/dev/null
  for _ in $(seq "$RUNS"); do
    out=$("$BIN" train --json 2>/dev/null)
    best=$(/usr/bin/python3 -c 'import json,sys; s=json.loads(sys.argv[1])["fit_seconds"]; b=sys.argv[2]; print(min(s, float(b)) if b else s)' "$out" "$best")
    peer=$(/usr/bin/python3 bench/xgboost_peer.py "$work/$name/features" --repeat 1)
    peer_best=$(/usr/bin/python3 -c 'import json,sys; p=json.loads(sys.argv[1]); b=sys.argv[2]; p["fit_seconds"]=min(p["fit_seconds"], json.loads(b)["fit_seconds"]) if b else p["fit_seconds"]; print(json.dumps(p))' "$peer" "$peer_best")
  done
  peer=$peer_best
  /usr/bin/python3 - "$name" "$out" "$peer" "$best" <<'PY'
import json, sys
name, ours, peer, t_ours = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4])
m = ours["metrics"]
print(f"{name:18s} {peer['n_train']:5d} rows {peer['n_features']:6d} features {peer['rounds']:4d} rounds | "
      f"boucle {t_ours:6.3f} s  python {peer['fit_seconds']:6.3f} s  ratio {t_ours / peer['fit_seconds']:4.2f} | "
      f"max |dp| {peer['max_abs_diff']:.1e} | acc {m['accuracy']:.4f}")
PY
  echo "  predict latency: $("$LATENCY" "$BOUCLE_CONFIG" t)"
}

echo "xgboost fit (matrix + boosting), best of $RUNS each, alternating; boucle vs Python xgboost $(/usr/bin/python3 -c 'import xgboost; print(xgboost.__version__)')"
run_one telco_churn '    type: binary
    label: churn
    numeric: [tenure, monthly_charges, total_charges, female, senior_citizen, partner, dependents, phone_service, paperless_billing]
    categorical: [multiple_lines, internet_service, online_security, online_backup, device_protection, tech_support, streaming_tv, streaming_movies, contract, payment_method]
    model: {kind: xgboost, n_estimators: 300, max_depth: 4, learning_rate: 0.1, early_stopping_rounds: 20, scale_pos_weight: 2.7}'
run_one airline_sentiment '    type: multiclass
    text: [text]
    label: airline_sentiment
    model: {kind: xgboost, n_estimators: 100, max_depth: 6, learning_rate: 0.3}'
