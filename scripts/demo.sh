#!/usr/bin/env bash
# `make run`: a demo workspace in demo/ from examples/sentiment: import the
# bundled tweets, train the first model (once), serve API and dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/build/boucle"
mkdir -p demo
cp examples/sentiment/boucle.yaml demo/boucle.yaml
cp -u examples/sentiment/tweets.csv demo/tweets.csv
cd demo
export BOUCLE_CONFIG="$PWD/boucle.yaml"
"$BIN" import --task sentiment tweets.csv
if ! "$BIN" predict --task sentiment "warm-up" >/dev/null 2>&1; then
  "$BIN" train --task sentiment
fi
LISTEN=$(sed -n 's/^listen:[[:space:]]*\([^[:space:]#]*\).*/\1/p' boucle.yaml)
LISTEN=${LISTEN:-127.0.0.1:8080}
cat <<MSG

boucle is serving the 'sentiment' task on http://$LISTEN  (Ctrl-C stops it)
Try, from another terminal:

  curl -s http://$LISTEN/readyz
  curl -s -H 'Content-Type: application/json' \\
       -d '{"text": "@united my bag is lost again, third time this month"}' \\
       http://$LISTEN/v1/tasks/sentiment/predict
  # then tell it whether it was right (use the prediction_id you got back):
  curl -s -H 'Content-Type: application/json' \\
       -d '{"prediction_id": "PASTE-ID", "score": -1, "label": "negative"}' \\
       http://$LISTEN/v1/feedback
  curl -s http://$LISTEN/v1/tasks/sentiment/models

Watch it learn: replay 3,000 unseen tweets as users giving feedback; the
feedback trigger retrains, the gate deploys only better models:

  build/boucle --config demo/boucle.yaml simulate --task sentiment \
      --stream examples/sentiment/stream.csv --feedback-rate 0.5 --speed realtime --rate 100

Dashboard: http://$LISTEN/

MSG
exec "$BIN" serve
