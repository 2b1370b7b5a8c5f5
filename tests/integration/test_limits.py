"""Serving limits that protect the server as a whole: connections over
limits.max_connections get 503 + Retry-After, a token (or, without tokens, an
address) over its rate 429 + Retry-After, a client too slow to send its
request 408; every answer carries X-Request-Id; the access log writes one
JSON line per request with the token's name, never its secret."""
import json
import re
import socket
import time
import uuid

from limitkit import PREDICT, call, make_token, metric, read_response, request_bytes, trickle, with_config


def test_connections_over_the_limit_get_503_with_retry_after(trained, server_factory):
    s = server_factory(with_config(trained, "conns", "limits: {max_connections: 2}\n"))
    held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(2)]
    time.sleep(0.2)  # both are open and counted
    status, headers, body = call(s.port, "POST", PREDICT, {"text": "one too many"})
    assert status == 503, body
    assert headers["retry-after"] == "1" and headers["connection"] == "close"
    assert body["error"]["code"] == "over_capacity"
    assert "limit of 2 open connections (limits.max_connections)" in body["error"]["message"]
    # the held connections are served as usual
    held[0].sendall(request_bytes("POST", PREDICT, {"text": "held"}))
    assert read_response(held[0])[0] == 200
    for h in held:
        h.close()
    # the server sees the closes a moment later (longer on a loaded box or
    # under ASan): room comes back then, and stays
    deadline = time.time() + 5
    while call(s.port, "POST", PREDICT, {"text": "room again"})[0] != 200:
        assert time.time() < deadline, "no room after the held connections closed"
        time.sleep(0.1)

    def metric_when_room(name):
        while True:
            try:
                return metric(s, name)
            except AssertionError:  # the previous call's connection not yet seen closed
                assert time.time() < deadline
                time.sleep(0.1)

    assert metric_when_room('boucle_http_rejected_total{reason="connections"}') >= 1
    assert metric_when_room("boucle_http_connections_max") == 2


def test_a_token_over_its_rate_gets_429_and_others_do_not(trained, server_factory):
    app, app_hash = make_token(trained, "app", "predict")
    ops, ops_hash = make_token(trained, "ops", "admin")
    s = server_factory(with_config(trained, "rate", f"""\
auth:
  tokens:
    - {{name: app, sha256: {app_hash}, scopes: [predict], rate: 1, burst: 2}}
    - {{name: ops, sha256: {ops_hash}, scopes: [admin]}}
"""))
    assert [call(s.port, "POST", PREDICT, {"text": "hi"}, app)[0] for _ in range(2)] == [200, 200]
    status, headers, body = call(s.port, "POST", PREDICT, {"text": "hi"}, app)
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert int(headers["retry-after"]) == 1
    msg = body["error"]["message"]
    assert "token 'app'" in msg and "1 requests/s, burst 2" in msg and "auth.tokens" in msg
    assert app not in msg
    # another token has its own bucket (here: no limit at all)
    assert {call(s.port, "POST", PREDICT, {"text": "x"}, ops)[0] for _ in range(20)} == {200}
    assert call(s.port, "GET", "/healthz")[0] == 200
    time.sleep(int(headers["retry-after"]))
    assert call(s.port, "POST", PREDICT, {"text": "hi"}, app)[0] == 200
    assert metric(s, 'boucle_http_rejected_total{reason="rate"}', ops) == 1


def test_without_tokens_the_rate_is_per_address_and_probes_are_never_refused(trained, server_factory):
    s = server_factory(with_config(trained, "rate_ip", "limits: {rate: 0.5, burst: 3}\n"))
    for _ in range(10):  # health checks are not counted, and never refused
        assert call(s.port, "GET", "/healthz")[0] == 200
    assert [call(s.port, "POST", PREDICT, {"text": "a"})[0] for _ in range(3)] == [200] * 3
    status, headers, body = call(s.port, "GET", "/v1/tasks")
    assert status == 429 and headers["retry-after"] == "2"
    assert "client 127.0.0.1 is over the rate of 0.5 requests/s, burst 3 (limits.rate)" in \
        body["error"]["message"]


def test_slow_clients_get_408_and_do_not_hold_the_server(trained, server_factory):
    w = with_config(trained, "slow", "limits: {request_timeout: 2s}\naccess_log: slow-access.jsonl\n")
    s = server_factory(w)
    # headers sent a byte at a time, never finished
    first = f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\n".encode()
    status, headers, body, took = trickle(s.port, first, b"X-Slow: " + b"a" * 200)
    assert status == 408, (status, body)
    assert json.loads(body)["error"]["code"] == "request_timeout"
    assert "limits.request_timeout" in json.loads(body)["error"]["message"]
    assert 1.8 < took < 4.5, took
    # the body trickled after complete headers
    head = request_bytes("POST", PREDICT, None).replace(b"Content-Length: 0", b"Content-Length: 500")
    status, _, body, took = trickle(s.port, head, b'{"text": "' + b"z" * 490)
    assert status == 408 and 1.8 < took < 4.5, (status, took)
    # meanwhile, and after, everyone else is served
    assert call(s.port, "POST", PREDICT, {"text": "quick"})[0] == 200
    # an idle keep-alive connection is closed quietly, with no stray 408 on it
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
        c.sendall(request_bytes("GET", "/healthz"))
        assert read_response(c)[0] == 200
        c.settimeout(6)
        assert c.recv(100) == b""
    assert metric(s, 'boucle_http_rejected_total{reason="timeout"}') == 2
    s.stop()
    lines = [json.loads(x) for x in (w.path / "slow-access.jsonl").read_text().splitlines()]
    timeouts = [x for x in lines if x["status"] == 408]
    assert len(timeouts) == 2 and {x["error"] for x in timeouts} == {"request_timeout"}
    assert {x["outcome"] for x in timeouts} == {"timeout"}
    assert [x["path"] for x in timeouts if x["path"]] == [PREDICT]  # the body one had its headers


def test_request_ids_are_returned_and_a_bad_one_is_refused(trained, server_factory):
    s = server_factory(with_config(trained, "ids", ""))
    status, headers, _ = call(s.port, "POST", PREDICT, {"text": "hi"})
    assert status == 200 and uuid.UUID(headers["x-request-id"])
    status, headers, _ = call(s.port, "GET", "/nope", extra="X-Request-Id: trace-7/abc\r\n")
    assert status == 404 and headers["x-request-id"] == "trace-7/abc"
    status, headers, body = call(s.port, "GET", "/healthz", extra="X-Request-Id: " + "x" * 129 + "\r\n")
    assert status == 400 and body["error"]["code"] == "invalid_request_id"
    assert "1 to 128 visible ASCII characters; it is too long (129 bytes)" in body["error"]["message"]
    assert uuid.UUID(headers["x-request-id"])  # a fresh one, not the client's
    assert metric(s, 'boucle_http_rejected_total{reason="request_id"}') == 1


def test_access_log_lines_name_the_token_never_the_secret_nor_the_body(trained, server_factory):
    app, app_hash = make_token(trained, "app", "predict")
    w = with_config(trained, "access", f"""\
access_log: access.jsonl
auth:
  tokens:
    - {{name: app, sha256: {app_hash}, scopes: [predict]}}
""")
    (w.path / "access.jsonl").unlink(missing_ok=True)
    s = server_factory(w)
    status, headers, _ = call(s.port, "POST", PREDICT, {"text": "secret body words"}, app,
                              extra="X-Request-Id: mine-1\r\n")
    assert status == 200
    assert call(s.port, "POST", PREDICT, {"text": "x"})[0] == 401
    assert call(s.port, "POST", "/v1/tasks/nope/predict", {"text": "x"}, app)[0] == 404
    assert call(s.port, "GET", "/metrics", token=app)[0] == 403
    assert s.stop() == 0, s.logs()
    text = (w.path / "access.jsonl").read_text()
    assert app not in text and "secret body words" not in text
    lines = [json.loads(x) for x in text.splitlines()]
    # the fixture's start-up probes aside; a line is written when its request
    # is done, so two quick ones may be written in either order
    ours = {x["status"]: x for x in lines if x["path"] != "/healthz"}
    assert sorted(ours) == [200, 401, 403, 404] and len(lines) - len(ours) >= 1
    ok = ours[200]
    assert ok["request_id"] == "mine-1" and ok["method"] == "POST"
    assert ok["route"] == "/v1/tasks/{task}/predict" and ok["task"] == "sentiment"
    assert ok["token"] == "app" and ok["client"] == "127.0.0.1" and ok["outcome"] == "ok"
    assert ok["bytes_in"] == len(json.dumps({"text": "secret body words"})) and ok["bytes_out"] > 50
    assert 0 < ok["latency_ms"] < 1000 and ok["error"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ok["time"])
    assert ours[401]["token"] is None and ours[401]["error"] == "unauthorized"
    assert ours[404]["task"] is None and ours[404]["path"] == "/v1/tasks/nope/predict"
    assert ours[403]["error"] == "forbidden" and ours[403]["token"] == "app"


def test_limits_that_cannot_be_kept_are_refused_at_start(trained):
    w = with_config(trained, "toomany", "limits: {max_connections: 1000000}\n")
    p = w.run("serve", "--listen", "127.0.0.1:0")
    assert p.returncode == 3, p.stderr
    assert "limits.max_connections: 1000000 connections need about" in p.stderr
    assert "ulimit -n" in p.stderr
    w = with_config(trained, "badlog", "access_log: /nonexistent-dir/access.jsonl\n")
    p = w.run("serve", "--listen", "127.0.0.1:0")
    assert p.returncode != 0 and "access_log: cannot open '/nonexistent-dir/access.jsonl'" in p.stderr
