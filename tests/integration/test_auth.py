"""API tokens with scopes: 401 without a token, 403 with the wrong scope,
hashes only in the config, constant-time match, never logged; without tokens
boucle refuses to listen beyond loopback."""
import http.client
import json

from conftest import CONFIG, Workspace


def make_token(ws, name, scopes):
    out = json.loads(ws.run("token", "create", "--name", name, "--scopes", scopes, "--json", check=True).stdout)
    assert out["token"].startswith("bcl_") and len(out["sha256"]) == 64
    return out


def call(server, method, path, token=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = conn.getresponse()
    payload = r.read()
    result = (r.status, json.loads(payload) if payload and r.getheader("Content-Type", "").startswith("application/json") else payload, r.getheader("WWW-Authenticate"))
    conn.close()
    return result


def test_scopes_guard_every_route(trained, server_factory, tmp_path):
    ws = Workspace(tmp_path)
    predictor = make_token(ws, "app", "predict")
    operator = make_token(ws, "ops", "admin")
    labeler = make_token(ws, "labels", "feedback")
    (trained.path / "auth.yaml").write_text(CONFIG + f"""\
auth:
  tokens:
    - {{name: app, sha256: {predictor['sha256']}, scopes: [predict]}}
    - {{name: ops, sha256: {operator['sha256']}, scopes: [admin]}}
    - {{name: labels, sha256: {labeler['sha256']}, scopes: [feedback]}}
""")
    trained.config = trained.path / "auth.yaml"
    s = server_factory(trained)
    predict = "/v1/tasks/sentiment/predict"

    status, body, www = call(s, "POST", predict, body={"text": "late again"})
    assert status == 401 and www.startswith("Bearer") and "predict" in body["error"]["message"]
    status, body, www = call(s, "POST", predict, token="bcl_not-a-real-token", body={"text": "x"})
    assert status == 401 and "invalid_token" in www
    assert call(s, "GET", "/healthz")[0] == 200 and call(s, "GET", "/readyz")[0] == 200
    assert call(s, "GET", "/")[0] == 200  # the dashboard shell; its data needs a token
    assert call(s, "GET", "/metrics")[0] == 401

    status, p, _ = call(s, "POST", predict, token=predictor["token"], body={"text": "late again"})
    assert status == 200
    status, body, _ = call(s, "POST", "/v1/feedback", token=predictor["token"],
                           body={"prediction_id": p["prediction_id"], "score": 1})
    assert status == 403 and "feedback" in body["error"]["message"] and "app" in body["error"]["message"]
    assert call(s, "POST", "/v1/feedback", token=labeler["token"],
                body={"prediction_id": p["prediction_id"], "score": 1})[0] == 201
    for path in ("/v1/runs", "/v1/tasks/sentiment/models", "/v1/datasets", "/metrics"):
        assert call(s, "GET", path, token=predictor["token"])[0] == 403, path
        assert call(s, "GET", path, token=operator["token"])[0] == 200, path
    assert call(s, "POST", "/v1/tasks/sentiment/rollback", token=labeler["token"])[0] == 403
    assert call(s, "POST", predict, token=operator["token"], body={"text": "hi"})[0] == 200  # admin implies all
    assert call(s, "POST", "/api/2.0/mlflow/experiments/create", token=predictor["token"],
                body={"name": "x"})[0] == 403
    s.stop()
    logs = (trained.path / f"serve-{s.port}.log").read_text()
    for t in (predictor, operator, labeler):
        assert t["token"] not in logs


def test_without_tokens_only_loopback(ws):
    ws.config.write_text(CONFIG.replace("listen: 127.0.0.1:8080", "listen: 0.0.0.0:18999"))
    p = ws.run("serve")
    assert p.returncode == 3
    assert "without API tokens" in p.stderr and "0.0.0.0:18999" in p.stderr


def test_bad_token_config_is_refused_with_its_line(ws):
    ws.config.write_text(CONFIG + "auth:\n  tokens:\n    - {name: a, sha256: nothex, scopes: [predict]}\n")
    p = ws.run("serve")
    assert p.returncode == 3 and ":11" in p.stderr and "sha256" in p.stderr
    ws.config.write_text(CONFIG + "auth:\n  tokens:\n    - {name: a, sha256: " + "a" * 64 + ", scopes: [root]}\n")
    p = ws.run("serve")
    assert p.returncode == 3 and "root" in p.stderr
