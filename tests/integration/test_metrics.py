"""GET /metrics: Prometheus text format whose counters match the traffic,
accepted by promtool, and scraped by a real Prometheus server that answers a
PromQL rate query over it."""
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import free_port


def metrics_text(server):
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def samples(text, name):
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def test_counters_follow_the_traffic(trained, server_factory):
    s = server_factory(trained)
    ids = [s.post("/v1/tasks/sentiment/predict", {"text": f"late flight {i}"})[1]["prediction_id"] for i in range(30)]
    assert s.post("/v1/tasks/sentiment/predict", {"inputs": ["a", "b", "c"]})[0] == 200
    assert s.post("/v1/tasks/nope/predict", {"text": "x"})[0] == 404
    for pid in ids[:5]:
        assert s.post("/v1/feedback", {"prediction_id": pid, "score": 1})[0] == 201
    assert s.post("/v1/feedback", {"prediction_id": ids[5], "score": -1})[0] == 201
    text = metrics_text(s)
    preds = samples(text, "boucle_predictions_total")
    assert sum(preds.values()) == 33
    assert all('task="sentiment",model_version="1"' in k for k in preds)
    req = samples(text, "boucle_http_requests_total")
    assert req['boucle_http_requests_total{route="/v1/tasks/{task}/predict",method="POST",status="200"}'] == 31
    assert req['boucle_http_requests_total{route="/v1/tasks/{task}/predict",method="POST",status="404"}'] == 1
    fb = samples(text, "boucle_feedback_total")
    assert fb['boucle_feedback_total{task="sentiment",score="1"}'] == 5
    assert fb['boucle_feedback_total{task="sentiment",score="-1"}'] == 1
    assert samples(text, "boucle_model_version")['boucle_model_version{task="sentiment"}'] == 1
    sat = samples(text, "boucle_satisfaction_ratio")['boucle_satisfaction_ratio{task="sentiment"}']
    assert abs(sat - 5 / 6) < 1e-6
    hist = samples(text, "boucle_http_request_duration_seconds_count")
    assert hist['boucle_http_request_duration_seconds_count{route="/v1/tasks/{task}/predict"}'] == 32
    assert samples(text, "process_resident_memory_bytes")["process_resident_memory_bytes"] > 1e6
    # a raw path never becomes a label value: the label space stays bounded
    s.get("/v1/some/client/chosen/path")
    assert "client/chosen" not in metrics_text(s)


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed")
def test_promtool_accepts_the_format(trained, server_factory):
    s = server_factory(trained)
    s.post("/v1/tasks/sentiment/predict", {"text": "hello"})
    p = subprocess.run(["promtool", "check", "metrics"], input=metrics_text(s), capture_output=True, text=True)
    # promtool lints names and help; errors (not lint warnings about counters' names) fail
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.skipif(not shutil.which("prometheus"), reason="prometheus not installed")
def test_prometheus_scrapes_and_promql_returns_the_request_rate(trained, server_factory, tmp_path):
    s = server_factory(trained)
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: boucle
    static_configs: [{{targets: ["127.0.0.1:{s.port}"]}}]
""")
    prom = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def query(q):
            url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())["data"]["result"]
        deadline = time.time() + 60
        rate = []
        while time.time() < deadline:
            for i in range(20):
                s.post("/v1/tasks/sentiment/predict", {"text": f"tweet {i}"})
            try:
                rate = query('sum(rate(boucle_http_requests_total{route="/v1/tasks/{task}/predict"}[5s]))')
                up = query('up{job="boucle"}')
            except OSError:
                rate, up = [], []
            if rate and float(rate[0]["value"][1]) > 0 and up and up[0]["value"][1] == "1":
                break
            time.sleep(0.5)
        assert rate and float(rate[0]["value"][1]) > 0, rate
    finally:
        prom.terminate()
        prom.wait(timeout=20)
