#!/usr/bin/python3
"""Search over 100,000 MLflow runs on SQLite (issue 4): a metric filter and
an order, as `mlflow.search_runs(filter_string=..., order_by=[...])` sends it.

The runs are written straight into a boucle SQLite store (schema created by
boucle itself, whose triggers keep each run's latest metrics as the rows go
in) because the figure measured is the search, not the logging;
every run has 3 metrics x 5 steps of history, 5 params and 3 tags, the shape
of an ordinary sweep. Then `boucle serve` answers POST
/api/2.0/mlflow/runs/search, timed from the client, cold (first call) and
warm (median of the next ones).

usage: bench/mlflow_search.py [--runs N] [--repeat K] [--bin build/boucle]
"""
import argparse
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_S = 1.0

CONFIG = """\
store: sqlite:boucle.db
listen: 127.0.0.1:{port}
tasks:
  sentiment:
    type: multiclass
    text: [text]
    label: airline_sentiment
    model: {{kind: linear}}
"""

QUERIES = [
    ("metric filter + order by metric",
     {"filter": "metrics.accuracy > 0.9", "order_by": ["metrics.accuracy DESC"]}),
    ("metric, param and attribute filter + order",
     {"filter": "metrics.accuracy > 0.8 and params.model = 'xgboost' "
                "and attributes.status = 'FINISHED'",
      "order_by": ["metrics.f1 DESC", "attributes.start_time ASC"]}),
    ("no filter, newest first (the UI's default listing)",
     {"order_by": ["attributes.start_time DESC"]}),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def populate(db, n_runs, seed=7):
    rng = random.Random(seed)
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")  # a bulk load: the search is what is timed
    con.execute("PRAGMA cache_size = -262144")
    con.execute("INSERT INTO experiments(id, name, artifact_location, creation_time,"
                " last_update_time) VALUES(1, 'sweep', 'mlflow-artifacts:/1', 0, 0)")
    t0 = 1_700_000_000_000
    runs, params, tags, metrics = [], [], [], []
    for i in range(n_runs):
        rid = uuid.UUID(int=rng.getrandbits(128)).hex
        start = t0 + i * 1000
        status = "completed" if rng.random() < 0.9 else "failed"
        name = f"run-{i}"
        runs.append((rid, "", "mlflow", status, start, start + 60_000, 1, name, "bench",
                     "active", f"mlflow-artifacts:/1/{rid}/artifacts"))
        model = rng.choice(["linear", "xgboost", "fasttext"])
        for k, v in (("model", model), ("lr", str(rng.choice([0.01, 0.1, 0.3]))),
                     ("depth", str(rng.randint(2, 10))), ("seed", str(i)),
                     ("dataset", "tickets-v3")):
            params.append((rid, k, v))
        for k, v in (("mlflow.runName", name), ("mlflow.user", "bench"), ("team", "search")):
            tags.append((rid, k, v))
        acc = rng.random()
        for key in ("accuracy", "f1", "loss"):
            final = acc if key == "accuracy" else rng.random()
            for step in range(5):
                metrics.append((rid, key, final * (step + 1) / 5, step, start + step * 1000))
    con.executemany("INSERT INTO runs(id, task, kind, status, started_ms, ended_ms,"
                    " experiment_id, run_name, user_id, lifecycle_stage, artifact_uri)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,?)", runs)
    con.executemany("INSERT INTO run_params(run_id, key, value) VALUES(?,?,?)", params)
    con.executemany("INSERT INTO run_tags(run_id, key, value) VALUES(?,?,?)", tags)
    con.executemany("INSERT INTO metrics(run_id, key, value, step, ts_ms) VALUES(?,?,?,?,?)",
                    metrics)
    con.commit()
    con.close()
    return len(metrics)


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "boucle"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        cfg = os.path.join(d, "boucle.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(port=port))
        # any store command creates the schema
        subprocess.run([a.bin, "--config", cfg, "runs", "list"], check=True,
                       stdout=subprocess.DEVNULL)
        t = time.perf_counter()
        n_points = populate(os.path.join(d, "boucle.db"), a.runs)
        print(f"populated {a.runs} runs, {n_points} metric points in "
              f"{time.perf_counter() - t:.1f} s")
        srv = subprocess.Popen([a.bin, "--config", cfg, "serve"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.05)
            worst = 0.0
            print(f"{'query':52} {'matches':>8} {'cold s':>8} {'warm s':>8}")
            for label, q in QUERIES:
                body = dict(q, experiment_ids=["1"], max_results=100)
                times, first = [], None
                for _ in range(a.repeat):
                    t = time.perf_counter()
                    answer = post(port, "/api/2.0/mlflow/runs/search", body)
                    times.append(time.perf_counter() - t)
                    first = first or answer
                runs = first.get("runs", [])
                check_order(runs, q)
                warm = statistics.median(times[1:]) if len(times) > 1 else times[0]
                worst = max(worst, warm)
                print(f"{label:52} {len(runs):>8} {times[0]:8.3f} {warm:8.3f}")
            print(f"worst warm search over {a.runs} runs: {worst:.3f} s "
                  f"(target < {TARGET_S:.1f} s: {'met' if worst < TARGET_S else 'NOT met'})")
            return 0 if worst < TARGET_S else 1
        finally:
            srv.terminate()
            srv.wait()


def check_order(runs, q):
    """The page must really be the best matches, in order: a fast wrong answer is no answer."""
    if not runs:
        sys.exit("search returned no runs")
    key = q["order_by"][0].split()[0]
    if key.startswith("metrics."):
        name = key.split(".", 1)[1]
        vals = [next(m["value"] for m in r["data"]["metrics"] if m["key"] == name) for r in runs]
        if vals != sorted(vals, reverse=True):
            sys.exit(f"runs not ordered by {key} DESC")
        if "accuracy >" in q.get("filter", ""):
            floor = float(q["filter"].split("accuracy >")[1].split()[0])
            acc = [next(m["value"] for m in r["data"]["metrics"] if m["key"] == "accuracy")
                   for r in runs]
            if min(acc) <= floor:
                sys.exit("a run that fails the filter was returned")


if __name__ == "__main__":
    sys.exit(main())
