#!/usr/bin/env bash
# Training speed and agreement of boucle's `xgboost` model with Python
# xgboost (python3-xgboost, the same libxgboost) given the very same feature
# matrix, parameters and early-stopping rows: boucle trains, `boucle export
# --what features` writes the matrix it trained on (LIBSVM), and
# bench/xgboost_peer.py trains the peer on it, both in this invocation.
# Times are the learners' own (boucle's fit_seconds: matrix to XGBoost +
# boosting; the peer's DMatrix + xgb.train), best of 3 each. Prints one line
# per data set: seconds, their ratio (target <= 1.1) and the largest
# difference of test probabilities (target <= 1e-6).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
BIN=$(realpath "${BOUCLE_BIN:-build/boucle}")
[ -d "$SHARED/datasets" ] || { echo "bench: $SHARED/datasets not found (set SHARED=...)"; exit 2; }
[ -x "$BIN" ] || make -s all
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# per-prediction latency of the champion (bench/predict_latency.c), one thread
LATENCY="$work/predict_latency"
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -pthread $(pkg-config --cflags jansson) bench/predict_latency.c \
  build/libboucle.a $(pkg-config --libs libmicrohttpd jansson yaml-0.1 libutf8proc libsodium sqlite3 \
  libpcre2-8 libcurl libpq) -llinear -lxgboost -lpthread -lm -o "$LATENCY"

run_one() { # name task-yaml (the task's inputs, label and model lines)
  local name=$1 task=$2
  mkdir -p "$work/$name"
  printf 'store: sqlite:boucle.db\nlimits: {max_field_bytes: 1048576}\ntasks:\n  t:\n%s\n' \
    "$task" > "$work/$name/boucle.yaml"
  export BOUCLE_CONFIG="$work/$name/boucle.yaml"
  "$BIN" import --split train "$SHARED/datasets/$name/train.csv" >/dev/null 2>&1
  "$BIN" import --split test "$SHARED/datasets/$name/test.csv" >/dev/null 2>&1
  local best="" out
  for _ in 1 2 3; do
    out=$("$BIN" train --json 2>/dev/null)
    best=$(/usr/bin/python3 -c 'import json,sys; s=json.loads(sys.argv[1])["fit_seconds"]; b=sys.argv[2]; print(min(s, float(b)) if b else s)' "$out" "$best")
  done
  "$BIN" export --what features --out "$work/$name/features" 2>/dev/null
  local peer
  peer=$(/usr/bin/python3 bench/xgboost_peer.py "$work/$name/features" --repeat 3)
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

echo "xgboost fit (matrix + boosting), best of 3 each; boucle vs Python xgboost $(/usr/bin/python3 -c 'import xgboost; print(xgboost.__version__)')"
run_one telco_churn '    type: binary
    label: churn
    numeric: [tenure, monthly_charges, total_charges, female, senior_citizen, partner, dependents, phone_service, paperless_billing]
    categorical: [multiple_lines, internet_service, online_security, online_backup, device_protection, tech_support, streaming_tv, streaming_movies, contract, payment_method]
    model: {kind: xgboost, n_estimators: 300, max_depth: 4, learning_rate: 0.1, early_stopping_rounds: 20, scale_pos_weight: 2.7}'
run_one airline_sentiment '    type: multiclass
    text: [text]
    label: airline_sentiment
    model: {kind: xgboost, n_estimators: 100, max_depth: 6, learning_rate: 0.3}'
