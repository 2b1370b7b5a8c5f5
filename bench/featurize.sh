#!/usr/bin/env bash
# Featurising throughput: boucle's TF-IDF fit + transform (bench/featurize.c
# over libboucle.a) against scikit-learn's TfidfVectorizer.fit_transform on
# the same texts (the shared train splits, fields joined by a space), with
# the peer's settings: word 1-2-grams, min_df 2, sublinear tf. Best of RUNS
# (default 5) for each side, both run here in the same invocation; prints
# MB of text per second and the ratio. Needs ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
RUNS=${RUNS:-5}
LIB=${BOUCLE_LIB:-build/libboucle.a}
[ -d "$SHARED/datasets" ] || { echo "bench: $SHARED/datasets not found (set SHARED=...)"; exit 2; }
[ -f "$LIB" ] || make -s all
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -pthread bench/featurize.c "$LIB" \
  $(make -s --no-print-directory print-ldlibs) -o "$work/featurize"

run_one() { # name text-fields...
  local name=$1; shift
  /usr/bin/python3 - "$SHARED/datasets/$name/train.csv" "$work/$name.txt" "$@" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")))
texts = [" ".join(r[c] for c in sys.argv[3:]) for r in rows]
open(sys.argv[2], "wb").write(b"\0".join(t.encode() for t in texts))
PY
  local ours peer
  ours=$("$work/featurize" "$work/$name.txt" - "$RUNS")
  peer=$(/usr/bin/python3 - "$work/$name.txt" "$RUNS" <<'PY'
import json, sys, time
from sklearn.feature_extraction.text import TfidfVectorizer
data = open(sys.argv[1], "rb").read()
texts = [t.decode() for t in data.split(b"\0")]
best = 1e30
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    X = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit_transform(texts)
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"seconds": best, "features": X.shape[1]}))
PY
)
  /usr/bin/python3 - "$name" "$ours" "$peer" <<'PY'
import json, sys
name, ours, peer = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
mb = ours["bytes"] / 1e6
a, b = mb / ours["featurize_seconds"], mb / peer["seconds"]
print(f"{name:18s} {mb:6.2f} MB | boucle {ours['featurize_seconds']:6.3f} s {a:6.1f} MB/s "
      f"({ours['features']} terms) | sklearn {peer['seconds']:6.3f} s {b:6.1f} MB/s "
      f"({peer['features']} terms) | x{a / b:4.1f}")
PY
}

echo "TF-IDF fit + transform (1-2-grams, min_df 2, sublinear), best of $RUNS each; boucle vs scikit-learn"
run_one airline_sentiment text
run_one spam_assassin subject body
run_one support_tickets subject body
