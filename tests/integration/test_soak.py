"""The soak: for BOUCLE_SOAK_SECONDS (default 8; `make soak` runs 60 against
the ASan build), several threads drive valid predictions and feedback,
invalid requests of every kind, a token over its rate and clients that
trickle bytes, while the champion is promoted back and forth from the command
line. Every valid request must get its 200/201, every invalid one its
documented 4xx, nothing a 5xx; the server must stay up with a flat RSS, keep
every access log line, and (under ASan) report nothing."""
import collections
import http.client
import json
import os
import random
import threading
import time
from pathlib import Path

from conftest import BIN
from limitkit import PREDICT, call, make_token, metric, request_bytes, trickle, with_config

SECONDS = float(os.environ.get("BOUCLE_SOAK_SECONDS", "8"))
ASAN = b"__asan_init" in Path(BIN).read_bytes()
TEXTS = ["late again, worst airline", "thanks for the upgrade!", "is my flight on time?",
         "lost my bag @united", "great crew today", "2 hours on the tarmac"]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()  # (kind, status) -> n
        self.problems = []  # what went wrong, to show all at once

    def add(self, kind, status, expected, detail=""):
        with self.lock:
            self.counts[(kind, status)] += 1
            if status not in expected and len(self.problems) < 20:
                self.problems.append(f"{kind}: got {status}, expected {sorted(expected)} {detail}")


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def valid_client(port, token, tally, stop, versions):
    """Predictions (single and batch) and feedback on a keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    rng = random.Random()
    n = 0
    while not stop.is_set():
        n += 1
        batch = n % 10 == 0
        body = {"inputs": rng.sample(TEXTS, 5)} if batch else {"text": rng.choice(TEXTS)}
        rid = f"soak-{threading.get_ident()}-{n}"
        try:
            conn.request("POST", PREDICT, json.dumps(body), dict(headers, **{"X-Request-Id": rid}))
            r = conn.getresponse()
            answer = json.loads(r.read())
        except (OSError, http.client.HTTPException, ValueError) as e:
            tally.add("predict", f"exception {type(e).__name__}", {200}, str(e))
            conn.close()
            continue
        tally.add("predict", r.status, {200}, str(answer)[:200])
        if r.status != 200:
            continue
        if r.getheader("X-Request-Id") != rid:
            tally.add("request_id_echo", r.getheader("X-Request-Id"), {rid})
        one = answer["predictions"][0] if batch else answer
        versions.add(one["model_version"])
        if n % 3:
            continue
        fb = {"prediction_id": one["prediction_id"], "score": rng.choice([-1, 0, 1])}
        try:
            conn.request("POST", "/v1/feedback", json.dumps(fb), headers)
            r = conn.getresponse()
            text = r.read()
        except (OSError, http.client.HTTPException) as e:
            tally.add("feedback", f"exception {type(e).__name__}", {201}, str(e))
            conn.close()
            continue
        tally.add("feedback", r.status, {201}, text[:200])
    conn.close()


def invalid_client(port, tokens, tally, stop):
    """Each kind of bad request in turn, each on a new connection."""
    app, reader = tokens["app"], tokens["reader"]
    big = b"POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: " \
          b"application/json\r\nContent-Length: 100000\r\n\r\n" % (PREDICT.encode(), app.encode())
    cases = [
        ("bad_json", lambda: raw(port, request_bytes("POST", PREDICT, None, app).replace(
            b"Content-Length: 0\r\n\r\n", b"Content-Length: 9\r\n\r\n{\"text\": ")), {400}),
        ("too_big", lambda: raw(port, big), {413}),
        ("no_token", lambda: call(port, "POST", PREDICT, {"text": "x"})[0], {401}),
        ("bad_token", lambda: call(port, "POST", PREDICT, {"text": "x"}, "bcl_nope")[0], {401}),
        ("wrong_scope", lambda: call(port, "POST", PREDICT, {"text": "x"}, reader)[0], {403}),
        ("unknown_task", lambda: call(port, "POST", "/v1/tasks/nope/predict", {"text": "x"}, app)[0],
         {404}),
        ("batch_too_big", lambda: call(port, "POST", PREDICT, {"inputs": ["x"] * 20}, app)[0], {422}),
        ("bad_request_id", lambda: call(port, "POST", PREDICT, {"text": "x"}, app,
                                        extra="X-Request-Id: " + "i" * 200 + "\r\n")[0], {400}),
        ("no_route", lambda: call(port, "GET", "/v2/nothing", token=tokens["ops"])[0], {404}),
    ]
    i = 0
    while not stop.is_set():
        kind, send, expected = cases[i % len(cases)]
        i += 1
        try:
            status = send()
        except OSError as e:
            status = f"exception {type(e).__name__}"
        tally.add(kind, status, expected)


def raw(port, data):
    """Sends data as is and returns the status of the answer."""
    import socket
    from limitkit import read_response
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        return read_response(s)[0]


def greedy_client(port, token, tally, stop):
    """A token with rate 5/s and burst 5, asking as fast as it can: 200s within its rate, 429s."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    while not stop.is_set():
        try:
            conn.request("POST", PREDICT, json.dumps({"text": "again"}), headers)
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException) as e:
            tally.add("greedy", f"exception {type(e).__name__}", {200, 429}, str(e))
            conn.close()
            continue
        tally.add("greedy", r.status, {200, 429})
        if r.status == 429 and not r.getheader("Retry-After"):
            tally.add("greedy_retry_after", None, {"1"})
        time.sleep(0.01)
    conn.close()


def slow_client(port, tally, stop):
    """Clients that trickle their headers, or their body, a byte at a time."""
    n = 0
    while not stop.is_set():
        n += 1
        if n % 2:
            first, rest = f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\n".encode(), b"X-Slow: " + b"s" * 100
        else:
            first = request_bytes("POST", PREDICT, None).replace(b"Content-Length: 0",
                                                                 b"Content-Length: 300")
            rest = b"z" * 300
        status = trickle(port, first, rest, every=0.25)[0]
        tally.add("slow", status, {408})


def deployer(ws, tally, stop):
    """Moves the champion between versions 1 and 2 from the command line."""
    n = 0
    while not stop.wait(1.0):
        n += 1
        args = ("rollback", "--task", "sentiment") if n % 4 == 0 else \
            ("promote", "--task", "sentiment", "--version", str(1 + n % 2))
        p = ws.run(*args)
        tally.add("deploy", p.returncode, {0}, p.stderr[:200])


def test_soak(trained, server_factory, monkeypatch):
    trained.run("train", "--task", "sentiment", check=True)  # version 2, to deploy back and forth
    tokens, lines = {}, []
    for name, scopes, rate in (("app", "predict,feedback", ""), ("reader", "feedback", ""),
                               ("greedy", "predict", ", rate: 5, burst: 5")):
        tokens[name], digest = make_token(trained, name, scopes)
        lines.append(f"    - {{name: {name}, sha256: {digest}, scopes: [{scopes}]{rate}}}\n")
    tokens["ops"], digest = make_token(trained, "ops", "admin")
    ops = tokens["ops"]
    lines.append(f"    - {{name: ops, sha256: {digest}, scopes: [admin]}}\n")
    w = with_config(trained, "soak", "limits: {max_body_bytes: 8192, max_batch: 10, "
                    "request_timeout: 2s}\naccess_log: soak-access.jsonl\nauth:\n  tokens:\n"
                    + "".join(lines))
    (w.path / "soak-access.jsonl").unlink(missing_ok=True)
    if ASAN:  # freed memory sits in ASan's quarantine (256 MB by default): keep it small
        monkeypatch.setenv("ASAN_OPTIONS", os.environ.get("ASAN_OPTIONS", "") +
                           ":quarantine_size_mb=16:malloc_context_size=5")
    s = server_factory(w)
    pid = s.proc.pid

    tally, stop, versions = Tally(), threading.Event(), set()
    threads = [threading.Thread(target=valid_client, args=(s.port, tokens["app"], tally, stop, versions))
               for _ in range(3)]
    threads += [threading.Thread(target=invalid_client, args=(s.port, tokens, tally, stop)),
                threading.Thread(target=greedy_client, args=(s.port, tokens["greedy"], tally, stop)),
                threading.Thread(target=slow_client, args=(s.port, tally, stop)),
                threading.Thread(target=slow_client, args=(s.port, tally, stop)),
                threading.Thread(target=deployer, args=(w, tally, stop))]
    start = time.time()
    for t in threads:
        t.start()
    time.sleep(max(2.0, SECONDS * 0.25))  # warm-up: caches, arenas, the first swaps
    rss_warm = rss_kb(pid)
    time.sleep(max(0.0, SECONDS - (time.time() - start)))
    rss_end = rss_kb(pid)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.time() - start

    summary = {f"{k}:{st}": n for (k, st), n in sorted(tally.counts.items(), key=str)}
    total = sum(n for (k, _), n in tally.counts.items() if k != "deploy")
    report = (f"soak {elapsed:.1f}s: {total} requests, RSS {rss_warm} kB after warm-up, "
              f"{rss_end} kB at the end\n{json.dumps(summary, indent=1)}")
    print(report)
    assert not tally.problems, "\n".join(tally.problems) + "\n" + report
    assert s.proc.poll() is None and call(s.port, "GET", "/healthz")[0] == 200
    assert not any(isinstance(st, int) and st >= 500 for (_, st) in tally.counts)
    # every kind was exercised, deploys included, and both versions served
    kinds = {k for (k, _) in tally.counts}
    assert {"predict", "feedback", "bad_json", "too_big", "no_token", "wrong_scope",
            "unknown_task", "batch_too_big", "bad_request_id", "slow", "greedy", "deploy"} <= kinds
    assert versions == {1, 2}, versions
    assert tally.counts[("deploy", 0)] >= 2
    # the greedy token got what its rate allows, and 429s for the rest
    assert tally.counts[("greedy", 429)] > 0
    assert tally.counts[("greedy", 200)] <= 5 + 5 * elapsed + 2
    # the server's own counters agree with what the clients saw
    assert metric(s, 'boucle_http_rejected_total{reason="rate"}', ops) == tally.counts[("greedy", 429)]
    assert metric(s, 'boucle_http_rejected_total{reason="timeout"}', ops) == tally.counts[("slow", 408)]
    assert metric(s, 'boucle_http_rejected_total{reason="body_size"}', ops) == tally.counts[("too_big", 413)]
    assert metric(s, "boucle_access_log_dropped_total", ops) == 0
    # RSS flat: what a warm server gains over the run is bounded
    assert rss_end - rss_warm < max(12 * 1024, rss_warm // 5), report

    assert s.stop() == 0
    log = (w.path / f"serve-{s.port}.log").read_text()
    for needle in ("ERROR: AddressSanitizer", "runtime error", "ERROR: LeakSanitizer"):
        assert needle not in log, log[-3000:]
    access = (w.path / "soak-access.jsonl").read_text().splitlines()
    assert len(access) >= total  # every request has its line (plus health probes, /metrics)
    assert not any(tokens[n] in line for line in access[:2000] for n in tokens)
