"""Helpers for the loop tests: configs, feeding feedback, waiting on runs,
and a webhook receiver on 127.0.0.1."""
import csv
import http.server
import json
import threading
import time

from conftest import SAMPLE


def rows(n=None, start=0):
    data = list(csv.DictReader(open(SAMPLE, encoding="utf-8", newline="")))
    return data[start:start + n if n else None]


def write_csv(path, items):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["tweet_id", "airline_sentiment", "airline", "text"])
        w.writeheader()
        w.writerows(items)


def config(extra_task="", extra_top="", store="sqlite:boucle.db"):
    return f"""\
store: {store}
listen: 127.0.0.1:8080
scheduler: {{interval: 1s}}
worker: {{lease: 3s}}
{extra_top}
tasks:
  sentiment:
    type: multiclass
    text: [text]
    label: airline_sentiment
    model: {{kind: linear}}
    retrain_cooldown: 0s
{extra_task}
"""


def feed(server, items, correct_rate=1.0, rate=1.0):
    """Predicts each row and sends the feedback a user would. Returns accuracy."""
    right = 0
    for i, r in enumerate(items):
        status, p = server.post("/v1/tasks/sentiment/predict", {"text": r["text"]})
        assert status == 200, p
        ok = p["label"] == r["airline_sentiment"]
        right += ok
        if (i * 0.618) % 1 < rate:
            body = {"prediction_id": p["prediction_id"], "score": 1 if ok else -1}
            if not ok and (i * 0.377) % 1 < correct_rate:
                body["label"] = r["airline_sentiment"]
            status, f = server.post("/v1/feedback", body)
            assert status == 201, f
    return right / max(1, len(items))


def wait_run(server, run_id, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, run = server.get(f"/v1/runs/{run_id}")
        if status == 200 and run["status"] not in ("pending", "running"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s: {server.get(f'/v1/runs/{run_id}')}")


def champion(server):
    _, body = server.get("/readyz")
    return body["tasks"]["sentiment"]["model_version"]


class Hook(http.server.BaseHTTPRequestHandler):
    received = None

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self.received.append(json.loads(self.rfile.read(n)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


class WebhookReceiver:
    def __init__(self):
        self.received = []
        handler = type("H", (Hook,), {"received": self.received})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
