"""`boucle simulate`: labeled rows replayed as live traffic through the HTTP API."""
import csv
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import SAMPLE, free_port


def write_stream(path, rows, drop=None, label_map=None):
    """The last `rows` records of the sample (parsed as CSV: texts hold newlines)."""
    records = list(csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))[-rows:]
    cols = [c for c in records[0] if c != drop]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in records:
            if label_map:
                r = dict(r, airline_sentiment=label_map(r["airline_sentiment"]))
            w.writerow(r)
    return records


def test_simulate_against_a_trained_server(trained, server_factory):
    srv = server_factory(trained)
    write_stream(trained.path / "s.csv", 400)
    p = trained.run("simulate", "--task", "sentiment", "--stream", "s.csv", "--feedback-rate", "1",
                    "--window", "100", "--json", "--url", srv.url)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["rows"] == 400 and out["predicted"] == 400
    assert len(out["windows"]) == 4
    assert [(w["from"], w["to"]) for w in out["windows"]] == [(1, 100), (101, 200), (201, 300),
                                                               (301, 400)]
    assert all(w["versions"] == [1] and w["feedback"] == 100 for w in out["windows"])
    assert 0 < out["accuracy"] <= 1
    fb = out["feedback"]
    # feedback rate 1: every prediction gets one; +1 exactly on the right ones
    assert fb["sent"] == 400 and fb["positive"] == out["correct"]
    assert fb["negative"] == 400 - out["correct"] == fb["corrected"]
    assert out["accuracy"] == pytest.approx(out["correct"] / 400)
    assert sum(w["correct"] for w in out["windows"]) == out["correct"]
    assert out["first_window_accuracy"] == pytest.approx(out["windows"][0]["correct"] / 100)
    assert out["last_window_accuracy"] == pytest.approx(out["windows"][-1]["correct"] / 100)
    assert out["versions"] == [1] and out["deploys"] == []
    assert out["failed_requests"] == 0
    srv.stop()
    assert trained.sql_value("select count(*) from feedback") == 400
    scores = dict(trained.sql("select score, count(*) from feedback group by score"))
    assert scores.get(1, 0) == out["correct"]
    assert trained.sql_value("select count(*) from predictions") >= 400


def test_simulate_text_output_and_determinism(trained, server_factory):
    srv = server_factory(trained)
    write_stream(trained.path / "s2.csv", 250)
    args = ("simulate", "--stream", "s2.csv", "--window", "100", "--feedback-rate", "0.3",
            "--correct-rate", "0.5", "--seed", "7", "--url", srv.url + "/")
    p = trained.run(*args)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert any(l.startswith("rows 1-100  accuracy 0.") and "model v1  feedback " in l
               for l in lines), p.stdout
    assert any(l.startswith("rows 201-250  accuracy ") for l in lines), p.stdout
    assert any(l.startswith("summary   250 rows in ") for l in lines), p.stdout
    assert any(l.startswith("versions  v1") for l in lines), p.stdout
    # the same seed draws the same feedback
    a = json.loads(trained.run(*args, "--json").stdout)["feedback"]
    b = json.loads(trained.run(*args, "--json").stdout)["feedback"]
    assert a == b and 0 < a["sent"] < 250
    assert json.loads(trained.run(*args, "--json", "--limit", "30").stdout)["rows"] == 30


def test_simulate_missing_label_column(trained):
    write_stream(trained.path / "nolabel.csv", 20, drop="airline_sentiment")
    p = trained.run("simulate", "--task", "sentiment", "--stream", "nolabel.csv", "--url",
                    "http://127.0.0.1:9")
    assert p.returncode == 3, p.stderr
    assert "airline_sentiment" in p.stderr and "nolabel.csv" in p.stderr


def test_simulate_server_not_running(trained):
    write_stream(trained.path / "s3.csv", 20)
    url = f"http://127.0.0.1:{free_port()}"
    p = trained.run("simulate", "--task", "sentiment", "--stream", "s3.csv", "--url", url)
    assert p.returncode == 4, p.stderr
    assert url in p.stderr


def test_simulate_usage_errors(trained):
    for bad in (("--feedback-rate", "1.5"), ("--window", "0"), ("--speed", "warp"),
                ("--correct-rate", "x")):
        p = trained.run("simulate", "--stream", "x.csv", *bad)
        assert p.returncode == 2, (bad, p.stderr)
    assert trained.run("simulate").returncode == 2


def test_simulate_unknown_true_label_is_counted_not_fatal(trained, server_factory):
    srv = server_factory(trained)
    # every true label renamed to a class the model has never seen
    write_stream(trained.path / "new.csv", 30, label_map=lambda l: "furious")
    p = trained.run("simulate", "--stream", "new.csv", "--feedback-rate", "1", "--json", "--url",
                    srv.url)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["correct"] == 0 and out["failed_requests"] == 0
    fb = out["feedback"]
    assert fb["label_unknown"] == 30 and fb["corrected"] == 0
    assert fb["sent"] == 30 and fb["negative"] == 30


class FakeLoop:
    """A stand-in server whose champion changes mid-stream and whose runs list
    shows retrains starting and finishing, as the pipeline will."""

    def __init__(self):
        self.predictions = 0
        self.feedback = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def reply(self, status, doc):
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                with fake.lock:
                    self.reply(*fake.get(self.path))

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n))
                with fake.lock:
                    self.reply(*fake.post(self.path, body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def version(self):
        return 1 if self.predictions <= 50 else 2 if self.predictions <= 120 else 3

    def runs(self):
        n = self.predictions
        runs = [{"id": "00000000-0000-4000-8000-000000000000", "kind": "retrain",
                 "status": "completed", "trigger": "feedback_count"}]  # before the simulation
        runs.append({"id": "11111111-aaaa-4000-8000-000000000001", "kind": "retrain",
                     "status": "running" if n < 50 else "completed", "trigger": "feedback_count"})
        if n >= 60:
            runs.append({"id": "22222222-bbbb-4000-8000-000000000002", "kind": "retrain",
                         "status": "pending" if n < 70 else "completed", "trigger": "schedule"})
        if n >= 80:
            runs.append({"id": "33333333-cccc-4000-8000-000000000003", "kind": "retrain",
                         "status": "failed", "trigger": "manual"})
        runs.append({"id": "44444444-dddd-4000-8000-000000000004", "kind": "train",
                     "status": "completed"})
        return list(reversed(runs))

    def run(self, rid):
        states = {
            "11111111": {"challenger_version": 2, "decision": {
                "deploy": True, "primary": "f1_macro", "champion": 0.61, "challenger": 0.66,
                "reasons": []}},
            "22222222": {"challenger_version": 3, "decision": {
                "deploy": False, "primary": "f1_macro", "champion_score": 0.66,
                "challenger_score": 0.64, "reasons": ["recall[neutral]: ok",
                                                "f1_macro fell by 0.02 (min_delta 0.01)"]}},
            "33333333": {},
        }
        listed = next(r for r in self.runs() if r["id"] == rid)
        extra = {"state": states.get(rid[:8], {})}
        if rid.startswith("3333"):
            extra["steps"] = [{"name": "prepare", "status": "completed"},
                              {"name": "train", "status": "failed", "error": "out of memory"}]
        return dict(listed, **extra)

    def get(self, path):
        if path == "/healthz":
            return 200, {"status": "ok"}
        if path.startswith("/v1/runs?"):
            assert "task=sentiment" in path
            return 200, {"runs": self.runs()}
        if path.startswith("/v1/runs/"):
            return 200, self.run(path.rsplit("/", 1)[1])
        return 404, {"error": {"code": "not_found", "message": "no route"}}

    def post(self, path, body):
        if path == "/v1/tasks/sentiment/predict":
            assert set(body) == {"input"} and "text" in body["input"]
            self.predictions += 1
            pid = f"{self.predictions:08d}-0000-4000-8000-000000000000"
            return 200, {"prediction_id": pid, "task": "sentiment",
                         "model_version": self.version(), "label": "negative",
                         "probabilities": {"negative": 1.0}}
        if path == "/v1/feedback":
            self.feedback.append(body)
            if self.predictions == 5:
                return 500, {"error": {"code": "internal", "message": "disk full"}}
            return 201, {"feedback_id": "f", "prediction_id": body["prediction_id"]}
        return 404, {"error": {"code": "not_found", "message": "no route"}}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_loop():
    f = FakeLoop()
    yield f
    f.close()


def test_simulate_reports_deploys_and_retrains(trained, fake_loop):
    write_stream(trained.path / "s4.csv", 150)
    args = ("simulate", "--stream", "s4.csv", "--feedback-rate", "1", "--window", "20", "--url",
            fake_loop.url)
    p = trained.run(*args)
    # one feedback answered 500: counted, reported, and the exit code says so
    assert p.returncode == 4, p.stderr
    assert "HTTP 500" in p.stderr and "disk full" in p.stderr
    out = p.stdout
    assert "deployed: v1 -> v2 at row 51" in out, out
    assert "deployed: v2 -> v3 at row 121" in out, out
    assert "rows 41-60  accuracy " in out and "model v1,v2" in out, out
    assert "retrain 11111111 completed: deployed v2 (f1_macro 0.6100 -> 0.6600)" in out, out
    assert ("retrain 22222222 completed: v3 refused: f1_macro fell by 0.02 (min_delta 0.01) "
            "(f1_macro 0.6600 -> 0.6400)") in out, out
    assert "retrain 22222222 fired after row 60: trigger schedule" in out, out
    assert "retrain 33333333 failed: step train: out of memory" in out, out
    assert "00000000" not in out and "44444444" not in out  # not ours / not a retrain
    assert out.count("retrain 11111111 completed") == 1
    assert "retrains  2 completed (1 deployed, 1 refused), 1 failed" in out, out
    assert "errors    1 request failed" in out, out

    fake_loop.predictions = 0
    fake_loop.feedback.clear()
    p = trained.run(*args, "--json")
    assert p.returncode == 4
    doc = json.loads(p.stdout)
    assert doc["failed_requests"] == 1 and doc["feedback"]["sent"] == 149
    assert [(d["from"], d["to"], d["row"]) for d in doc["deploys"]] == [(1, 2, 51), (2, 3, 121)]
    assert doc["versions"] == [1, 2, 3]
    assert doc["retrain_counts"] == {"completed": 2, "deployed": 1, "refused": 1, "failed": 1}
    by_id = {r["run_id"][:8]: r for r in doc["retrains"]}
    assert by_id["11111111"]["outcome"] == "deployed" and by_id["11111111"]["version"] == 2
    assert by_id["22222222"]["outcome"] == "refused" and by_id["22222222"]["challenger"] == 0.64
    assert by_id["33333333"]["outcome"] == "failed"
    assert by_id["33333333"]["reason"] == "step train: out of memory"


class SlowRetrainLoop(FakeLoop):
    """A retrain fires with the last rows and finishes a second after the stream ends."""

    last = None

    def runs(self):
        if self.predictions < 30:
            return []
        self.last = self.last or time.time()
        done = time.time() - self.last > 1.0
        return [{"id": "55555555-eeee-4000-8000-000000000005", "kind": "retrain",
                 "status": "completed" if done else "running", "trigger": "feedback_count"}]

    def run(self, rid):
        return dict(self.runs()[0], state={"challenger_version": 4, "decision": {"deploy": True}})


def test_simulate_waits_for_retrains(trained):
    fake = SlowRetrainLoop()
    try:
        write_stream(trained.path / "s5.csv", 30)
        t0 = time.time()
        p = trained.run("simulate", "--stream", "s5.csv", "--url", fake.url, "--json")
        doc = json.loads(p.stdout)
        assert p.returncode == 0 and doc["retrains"] == [], p.stderr  # still running at the end
        fake.last, fake.predictions = None, 0
        p = trained.run("simulate", "--stream", "s5.csv", "--url", fake.url, "--json",
                        "--wait-for-retrains", "4")
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert [(r["run_id"][:8], r["outcome"], r["version"]) for r in doc["retrains"]] == [
            ("55555555", "deployed", 4)]
        assert doc["retrain_counts"]["deployed"] == 1
        assert time.time() - t0 < 15
    finally:
        fake.close()
