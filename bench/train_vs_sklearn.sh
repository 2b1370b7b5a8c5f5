#!/usr/bin/env bash
# Training speed and quality of boucle's `linear` model against the peer
# (scikit-learn TfidfVectorizer(1,2) + LogisticRegression, liblinear) on the
# shared data sets, both run here in the same invocation. Prints one line per
# data set with the ratio. Needs ../shared (the data and the peer script).
# RUNS (default 5): best of that many for each side (the box is shared: the
# best run is the least disturbed one). MODEL: extra `model:` keys for
# boucle, e.g. MODEL="keep_punct: true" (the peer is unchanged).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
BIN=${BOUCLE_BIN:-build/boucle}
RUNS=${RUNS:-5}
MODEL=${MODEL:-}
[ -d "$SHARED/datasets" ] || { echo "bench: $SHARED/datasets not found (set SHARED=...)"; exit 2; }
[ -x "$BIN" ] || make -s all
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_one() { # name label text-fields...
  local name=$1 label=$2; shift 2
  local fields
  fields=$(printf '%s, ' "$@"); fields="[${fields%, }]"
  mkdir -p "$work/$name"
  cat > "$work/$name/boucle.yaml" <<YAML
store: sqlite:boucle.db
limits: {max_field_bytes: 1048576}
tasks:
  t:
    type: multiclass
    text: $fields
    label: $label
    model: {kind: linear${MODEL:+, $MODEL}}
YAML
  export BOUCLE_CONFIG="$work/$name/boucle.yaml"
  "$BIN" import --split train "$SHARED/datasets/$name/train.csv" >/dev/null 2>&1
  "$BIN" import --split test "$SHARED/datasets/$name/test.csv" >/dev/null 2>&1
  local best_ours="" ours_json
  for _ in $(seq "$RUNS"); do
    ours_json=$("$BIN" train --json 2>/dev/null)
    best_ours=$(/usr/bin/python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=sys.argv[2]; s=a["train_seconds"]; print(min(s, float(b)) if b else s)' "$ours_json" "$best_ours")
  done
  local peer best_peer=""
  for _ in $(seq "$RUNS"); do
    peer=$(/usr/bin/python3 "$SHARED/peers/sklearn_text.py" "$SHARED/datasets/$name" --text "$@" --label "$label" --solver liblinear)
    best_peer=$(/usr/bin/python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=sys.argv[2]; s=a["fit_seconds"]; print(min(s, float(b)) if b else s)' "$peer" "$best_peer")
  done
  /usr/bin/python3 - "$name" "$ours_json" "$peer" "$best_ours" "$best_peer" <<'PY'
import json, sys
name, ours, peer, t_ours, t_peer = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
m = ours["metrics"]
print(f"{name:18s} boucle {t_ours:6.3f} s acc {m['accuracy']:.4f} F1m {m['f1_macro']:.4f} | "
      f"sklearn {t_peer:6.3f} s acc {peer['accuracy']:.4f} F1m {peer['macro_f1']:.4f} | "
      f"speed x{t_peer / t_ours:4.1f}  d-acc {100 * (m['accuracy'] - peer['accuracy']):+.2f} pt  "
      f"d-F1m {100 * (m['f1_macro'] - peer['macro_f1']):+.2f} pt")
PY
}

echo "train (featurise + fit), best of $RUNS each; boucle linear${MODEL:+ ($MODEL)} vs scikit-learn liblinear"
run_one airline_sentiment airline_sentiment text
run_one spam_assassin label subject body
run_one support_tickets queue subject body
