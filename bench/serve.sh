#!/usr/bin/env bash
# Serving speed, all in one run on this machine (issue 6):
#   boucle serve (single and batch predict, TF-IDF + logistic regression on airline_sentiment)
#   the FastAPI + scikit-learn peer from ../shared/peers serving the same data's model
#   nginx answering a fixed small JSON body (the box's HTTP ceiling)
# wrk -t2 -c64 -d${DURATION}s with the peer's tweet bodies; then boucle paced at half its
# maximum for p99. Prints requests/s, p50/p99 and server RSS, and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
DURATION=${DURATION:-15}
CONNS=${CONNS:-64}
BIN=${BOUCLE_BIN:-build/boucle}
[ -d "$SHARED/peers" ] || { echo "bench: $SHARED/peers not found (set SHARED=...)"; exit 2; }
for tool in wrk nginx; do command -v $tool >/dev/null || { echo "bench: needs $tool (apt-get install wrk nginx-light)"; exit 2; }; done
/usr/bin/python3 -c "import fastapi, uvicorn, joblib" 2>/dev/null || { echo "bench: needs python3-fastapi python3-uvicorn python3-joblib"; exit 2; }
[ -x "$BIN" ] || make -s all
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "bench: $1 did not come up"; exit 1; }
# RSS in MB of a process and its children
rss_mb() { local total=0; for p in $(pgrep -P "$1") "$1"; do total=$((total + $(awk '/VmRSS/{print $2}' /proc/$p/status 2>/dev/null || echo 0))); done; echo $((total / 1024)); }
# runs wrk, prints "req/s p50_ms p99_ms"
load() { # url script [extra env]
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$2" "$1" > "$work/wrk.out" 2>&1
  /usr/bin/python3 - "$work/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), t, re.M)
    if not m: return float("nan")
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
errors = re.search(r"Socket errors: (.*)", t)
print(f"{rps:.0f} {ms('50%'):.3f} {ms('99%'):.3f} {non2xx.group(1) if non2xx else 0} {'errors:' + errors.group(1).replace(' ', '') if errors else ''}")
PY
}

echo "== preparing (train both models on airline_sentiment/train.csv)"
cat > "$work/boucle.yaml" <<YAML
store: sqlite:boucle.db
worker: {enabled: false}
log: {level: warn}
limits: {max_batch: 256}
tasks:
  sentiment:
    type: multiclass
    text: [text]
    label: airline_sentiment
    model: {kind: linear}
YAML
export BOUCLE_CONFIG="$work/boucle.yaml"
"$BIN" import --split train "$SHARED/datasets/airline_sentiment/train.csv" >/dev/null
"$BIN" train >/dev/null 2>&1
(cd "$work" && /usr/bin/python3 "$OLDPWD/$SHARED/peers/fastapi_sklearn/train.py" "$OLDPWD/$SHARED/datasets/airline_sentiment" text airline_sentiment model.joblib)

bport=$(free_port); pport=$(free_port); nport=$(free_port)
"$BIN" serve --listen 127.0.0.1:$bport 2>"$work/serve.log" & pids+=($!); bpid=$!
(cd "$work" && MODEL=model.joblib exec /usr/bin/python3 -m uvicorn --app-dir "$OLDPWD/$SHARED/peers/fastapi_sklearn" app:app \
   --host 127.0.0.1 --port $pport --workers 2 --log-level warning) & pids+=($!); ppid=$!
cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
  server {
    listen 127.0.0.1:$nport;
    location / { default_type application/json; return 200 '{"label":"negative","probabilities":{"negative":0.9,"neutral":0.06,"positive":0.04}}'; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -g 'daemon off;' & pids+=($!); npid=$!
wait_http "http://127.0.0.1:$bport/readyz"; wait_http "http://127.0.0.1:$pport/health"; wait_http "http://127.0.0.1:$nport/"

post="$SHARED/peers/fastapi_sklearn/post.lua"
echo "== wrk -t2 -c$CONNS -d${DURATION}s (req/s p50_ms p99_ms non2xx)"
read -r b_rps b_p50 b_p99 b_bad b_err < <(load "http://127.0.0.1:$bport/v1/tasks/sentiment/predict" "$post")
b_rss=$(rss_mb $bpid)
read -r bb_rps bb_p50 bb_p99 bb_bad bb_err < <(load "http://127.0.0.1:$bport/v1/tasks/sentiment/predict" bench/wrk/batch.lua)
read -r p_rps p_p50 p_p99 p_bad p_err < <(load "http://127.0.0.1:$pport/predict" "$post")
p_rss=$(rss_mb $ppid)
read -r n_rps n_p50 n_p99 n_bad n_err < <(load "http://127.0.0.1:$nport/" "$post")
# half of boucle's own maximum. wrk paces in whole milliseconds and a
# connection's pause comes after its answer, so the offered rate is
# conns / (DELAY_MS + latency): calibrate the connection count on short runs
# until the achieved rate is within 3% of half the maximum.
half=$(/usr/bin/python3 -c "print(round($b_rps / 2))")
delay=2
pconns=$(/usr/bin/python3 -c "print(max(2, round($half * ($delay + 0.5) / 1000)))")
for _ in 1 2 3 4; do
  read -r c_rps _ < <(DURATION=5 CONNS=$pconns DELAY_MS=$delay load "http://127.0.0.1:$bport/v1/tasks/sentiment/predict" bench/wrk/paced.lua)
  next=$(/usr/bin/python3 -c "print(max(2, round($pconns * $half / max($c_rps, 1))))")
  ok=$(/usr/bin/python3 -c "print(int(abs($c_rps - $half) <= 0.03 * $half))")
  [ "$ok" = 1 ] && break
  pconns=$next
done
read -r h_rps h_p50 h_p99 h_bad h_err < <(CONNS=$pconns DELAY_MS=$delay load "http://127.0.0.1:$bport/v1/tasks/sentiment/predict" bench/wrk/paced.lua)
# the same pacing against nginx: the box's own tail at that rate (wrk shares the cores)
read -r hn_rps hn_p50 hn_p99 hn_bad hn_err < <(CONNS=$pconns DELAY_MS=$delay load "http://127.0.0.1:$nport/" bench/wrk/paced.lua)

printf '%-34s %10s %9s %9s %8s %s\n' server "req/s" "p50 ms" "p99 ms" "RSS MB" "non-2xx"
printf '%-34s %10s %9s %9s %8s %s\n' "boucle (single)" "$b_rps" "$b_p50" "$b_p99" "$b_rss" "$b_bad $b_err"
printf '%-34s %10s %9s %9s %8s %s\n' "boucle (batch of 16; req/s)" "$bb_rps" "$bb_p50" "$bb_p99" "" "$bb_bad $bb_err"
printf '%-34s %10s %9s %9s %8s %s\n' "boucle at half its max ($pconns conns)" "$h_rps" "$h_p50" "$h_p99" "" "$h_bad $h_err"
printf '%-34s %10s %9s %9s %8s %s\n' "FastAPI + sklearn, 2 workers" "$p_rps" "$p_p50" "$p_p99" "$p_rss" "$p_bad $p_err"
printf '%-34s %10s %9s %9s %8s %s\n' "nginx fixed JSON (ceiling)" "$n_rps" "$n_p50" "$n_p99" "" "$n_bad $n_err"
printf '%-34s %10s %9s %9s %8s %s\n' "nginx paced like boucle's half" "$hn_rps" "$hn_p50" "$hn_p99" "" "$hn_bad $hn_err"
/usr/bin/python3 - "$b_rps" "$p_rps" "$n_rps" "$b_rss" "$p_rss" "$h_p99" "$bb_rps" "$h_rps" <<'PY'
import sys
b, p, n, brss, prss, hp99, bb, h = map(float, sys.argv[1:])
print(f"ratios: boucle/peer req/s x{b / p:.1f} (target >= 20) | boucle/nginx {100 * b / n:.0f}% (target >= 50%) | "
      f"p99 at {100 * h / b:.0f}% of max {hp99:.2f} ms (target < 2 at 50%) | RSS peer/boucle x{prss / max(brss, 1):.1f} (target >= 5) | "
      f"batch: {bb * 16:.0f} predictions/s")
PY
