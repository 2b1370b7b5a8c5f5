#!/usr/bin/env bash
# Training speed and accuracy of boucle's `fasttext` model against the
# fastText command (Debian package `fasttext`, `fasttext supervised`) with
# the same hyper-parameters and threads, on the same train/test split of the
# shared data sets. Prints one line per data set and setting with the ratios.
#
# Seconds: boucle's are its own train_seconds (tokenise + dictionary + SGD,
# the data already read from the store); the peer's run from its start to its
# "Progress: 100.0%" line (read the file, dictionary, SGD), before it writes
# its model file — its whole run is shown too. Best of RUNS; accuracy is the
# mean over the RUNS (two threads are not deterministic, for either tool).
#
# The peer reads whitespace-separated words, so its file gets the fastText
# tutorial's normalisation (lower case, punctuation split off), the usual way
# to feed it. It is also run on boucle's own tokens (bench/tokens.c), which
# compares the two learners on the same words: boucle's tokenizer drops
# punctuation such as "!" that the tutorial keeps as words.
# Needs ../shared and the `fasttext` command
# (`apt-get install -y fasttext`; installed here when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
BIN=${BOUCLE_BIN:-build/boucle}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
[ -d "$SHARED/datasets" ] || { echo "bench: $SHARED/datasets not found (set SHARED=...)"; exit 2; }
if ! command -v fasttext >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq fasttext >/dev/null
  else echo "bench: the fasttext command is missing: sudo apt-get install -y fasttext"; exit 2; fi
fi
[ -x "$BIN" ] || make -s all
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
LIB="$(dirname "$BIN")/libboucle.a"
TOKENS="$work/tokens"
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/tokens.c "$LIB" $(pkg-config --libs libutf8proc) \
  -o "$TOKENS"

# name label setting-name "boucle model keys" "fasttext flags" text-fields...
run_one() {
  local name=$1 label=$2 setting=$3 keys=$4 flags=$5; shift 5
  local dir="$work/$name-$setting" fields
  fields=$(printf '%s, ' "$@"); fields="[${fields%, }]"
  mkdir -p "$dir"
  cat > "$dir/boucle.yaml" <<YAML
store: sqlite:boucle.db
limits: {max_field_bytes: 1048576}
tasks:
  t:
    type: multiclass
    text: $fields
    label: $label
    model: {kind: fasttext, $keys, thread: $THREADS}
YAML
  export BOUCLE_CONFIG="$dir/boucle.yaml"
  "$BIN" import --split train "$SHARED/datasets/$name/train.csv" >/dev/null 2>&1
  "$BIN" import --split test "$SHARED/datasets/$name/test.csv" >/dev/null 2>&1
  for i in $(seq "$RUNS"); do "$BIN" train --json > "$dir/ours.$i.json" 2>/dev/null; done
  /usr/bin/python3 - "$SHARED/datasets/$name" "$dir" "$label" "$flags -thread $THREADS" \
    "$name/$setting" "$RUNS" "$TOKENS" "$@" <<'PY'
import csv, json, re, subprocess, sys, time
data, work, label, flags, title, runs, tokens, fields = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5], int(sys.argv[6]), sys.argv[7], sys.argv[8:]
csv.field_size_limit(1 << 30)

def norm(text):  # the fastText tutorial's preprocessing
    return " ".join(re.sub(r"([.!?,'/()\"])", r" \1 ", text.lower()).split())

for split in ("train", "test"):
    with open(f"{data}/{split}.csv", newline="", encoding="utf-8") as f, \
         open(f"{work}/{split}.txt", "w", encoding="utf-8") as out, \
         open(f"{work}/{split}.tsv", "w", encoding="utf-8") as raw:
        for r in csv.DictReader(f):
            text, y = " ".join(r[k] for k in fields), r[label].replace(" ", "_")
            out.write(f"__label__{y} {norm(text)}\n")
            raw.write(y + "\t" + " ".join(text.split()) + "\n")
    with open(f"{work}/{split}.tsv", "rb") as raw, open(f"{work}/{split}.tok.txt", "wb") as out:
        subprocess.run([tokens], stdin=raw, stdout=out, check=True)

def peer_once(inp):
    t0 = time.perf_counter()
    p = subprocess.Popen(["fasttext", "supervised", "-input", f"{work}/train{inp}.txt", "-output",
                          f"{work}/peer", *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    trained, seen = None, b""
    while True:
        chunk = p.stderr.read1(4096)
        if not chunk:
            break
        seen = (seen + chunk)[-64:]
        if trained is None and b"100.0%" in seen:
            trained = time.perf_counter() - t0
    p.wait()
    whole = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"fasttext supervised failed ({p.returncode})")
    out = subprocess.run(["fasttext", "test", f"{work}/peer.bin", f"{work}/test{inp}.txt"],
                         capture_output=True, text=True, check=True).stdout
    acc = float(re.search(r"P@1\s+([0-9.]+)", out).group(1))
    return trained or whole, whole, acc

peer = [peer_once("") for _ in range(runs)]
same = [peer_once(".tok") for _ in range(runs)]
ours = [json.load(open(f"{work}/ours.{i}.json")) for i in range(1, runs + 1)]
t_ours = min(o["train_seconds"] for o in ours)
a_ours = sum(o["metrics"]["accuracy"] for o in ours) / len(ours)
t_peer, w_peer = min(p[0] for p in peer), min(p[1] for p in peer)
a_peer = sum(p[2] for p in peer) / len(peer)
t_same, a_same = min(p[0] for p in same), sum(p[2] for p in same) / len(same)
print(f"{title:24s} boucle {t_ours:6.2f} s acc {a_ours:.4f} | fasttext {t_peer:6.2f} s "
      f"(whole run {w_peer:6.2f} s) acc {a_peer:.4f} | time ratio {t_ours / t_peer:4.2f} "
      f"(target <= 1.2)  d-acc {100 * (a_ours - a_peer):+.2f} pt (target >= -0.5) | "
      f"fasttext on boucle's tokens {t_same:6.2f} s acc {a_same:.4f}: "
      f"time ratio {t_ours / t_same:4.2f} d-acc {100 * (a_ours - a_same):+.2f} pt")
PY
}

WORDS="dim: 50, epoch: 10, lr: 0.5, word_ngrams: 2, bucket: 200000"
WORDS_FT="-dim 50 -epoch 10 -lr 0.5 -wordNgrams 2 -bucket 200000"
CHARS="$WORDS, minn: 3, maxn: 6"
CHARS_FT="$WORDS_FT -minn 3 -maxn 6"
echo "fasttext, $THREADS threads, best of $RUNS (seconds), mean of $RUNS (accuracy)"
run_one airline_sentiment airline_sentiment words "$WORDS" "$WORDS_FT" text
run_one airline_sentiment airline_sentiment chars "$CHARS" "$CHARS_FT" text
run_one spam_assassin label words "$WORDS" "$WORDS_FT" subject body
if [ -n "${SPAM_CHARS:-}" ]; then
  run_one spam_assassin label chars "$CHARS" "$CHARS_FT" subject body
fi
