"""POST /v1/tasks/{task}/imports runs on the import thread, not on the HTTP
thread that received it: predicts on other connections are answered while a
100,000-row upload is imported; a full import queue is 503 naming the limit;
SIGTERM during an import answers it, refuses the waiting ones and exits 0."""
import csv
import http.client
import io
import json
import socket
import threading
import time

from conftest import SAMPLE

IMPORTS = "/v1/tasks/sentiment/imports"
PREDICT = "/v1/tasks/sentiment/predict"
BIG_ROWS = 100_000


def sample_rows():
    with open(SAMPLE, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def generated_csv(n, tag):
    """n distinct rows (about 150 bytes each) made from the sample's; tag
    makes the content, hence its hash, differ between calls."""
    base = sample_rows()
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["tweet_id", "airline_sentiment", "airline", "text"])
    for i in range(n):
        r = base[i % len(base)]
        w.writerow([i, r["airline_sentiment"], r["airline"], f"{r['text']} {tag}{i}"])
    return out.getvalue().encode()


class Upload(threading.Thread):
    """An upload on a connection of its own: .sent once the whole body is
    written, .done once the answer arrived (monotonic), .status, .headers,
    .body."""

    def __init__(self, server, body):
        super().__init__(daemon=True)
        self.server, self.body = server, body
        self.sent = self.done = None
        self.status = self.headers = self.answer = None

    def run(self):
        head = (f"POST {IMPORTS} HTTP/1.1\r\nHost: 127.0.0.1:{self.server.port}\r\n"
                f"Connection: close\r\nContent-Type: text/csv\r\n"
                f"Content-Length: {len(self.body)}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=60) as sock:
            sock.sendall(head + self.body)
            self.sent = time.monotonic()
            r = http.client.HTTPResponse(sock)
            r.begin()
            self.status, self.headers = r.status, r.headers
            self.answer = json.loads(r.read())
        self.done = time.monotonic()


def started(server, body, settle=0.0):
    u = Upload(server, body)
    u.start()
    deadline = time.monotonic() + 30
    while u.sent is None and u.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(settle)
    return u


def test_predicts_are_answered_while_an_import_runs(trained, server_factory):
    # one HTTP thread: every connection is on the thread that reads the
    # upload (with more, which thread takes a connection is the kernel's choice)
    s = server_factory(trained, ("--threads", "1"))
    deadline = time.time() + 10
    while s.get("/readyz")[0] != 200 and time.time() < deadline:
        time.sleep(0.1)
    big = generated_csv(BIG_ROWS, "predicts")
    conns = [http.client.HTTPConnection("127.0.0.1", s.port, timeout=10) for _ in range(4)]
    body = json.dumps({"text": "lost my bag, awful"}).encode()
    headers = {"Content-Type": "application/json"}

    def predict(c):
        t0 = time.monotonic()
        c.request("POST", PREDICT, body, headers)
        r = c.getresponse()
        r.read()
        return t0, time.monotonic(), r.status

    for c in conns:
        assert predict(c)[2] == 200
    up = Upload(s, big)
    up.start()
    seen = []
    while up.is_alive():
        for c in conns:
            seen.append(predict(c))
    up.join()
    assert up.status == 201, up.answer
    assert (up.answer["rows"], up.answer["train_rows"] + up.answer["test_rows"]) \
        == (BIG_ROWS, BIG_ROWS)
    # answered after the body was in and before the import's answer: the
    # import was running meanwhile
    during = [(t0, t1, st) for t0, t1, st in seen if t0 >= up.sent and t1 <= up.done]
    assert up.done - up.sent > 0.5, "the import was too quick to show anything"
    assert len(during) >= 10, (len(during), up.done - up.sent)
    assert all(st == 200 for _, _, st in seen)
    slowest = max(t1 - t0 for t0, t1, _ in during)
    assert slowest < 0.5, f"a predict took {slowest:.3f} s during the import"
    for c in conns:
        c.close()


def test_a_full_import_queue_is_503_naming_the_limit(ws, server_factory):
    s = server_factory(ws)
    big = started(s, generated_csv(BIG_ROWS, "full"), settle=0.3)
    waiting = [started(s, generated_csv(50, f"w{k}_"), settle=0.1) for k in range(3)]
    over = started(s, generated_csv(50, "over"))
    over.join(30)
    assert over.status == 503, over.answer
    assert over.answer["error"]["code"] == "imports_busy"
    assert "4 imports" in over.answer["error"]["message"], over.answer
    assert int(over.headers["Retry-After"]) >= 1
    assert big.is_alive(), "the big import finished before the queue filled"
    for u in [big, *waiting]:
        u.join(60)
        assert u.status == 201, u.answer
    assert [u.answer["rows"] for u in waiting] == [50, 50, 50]


def test_sigterm_during_an_import_answers_it_and_exits_cleanly(ws, server_factory):
    s = server_factory(ws)
    running = started(s, generated_csv(BIG_ROWS, "term"), settle=0.5)
    waiting = started(s, generated_csv(50, "never"), settle=0.2)
    assert running.is_alive()
    t0 = time.monotonic()
    assert s.stop(timeout=20) == 0
    running.join(5)
    waiting.join(5)
    # the running import finishes and is answered; the waiting one is refused
    assert running.status == 201 and running.answer["rows"] == BIG_ROWS, running.answer
    assert waiting.status == 503 and waiting.answer["error"]["code"] == "shutting_down", \
        waiting.answer
    assert "stopped cleanly" in (ws.path / f"serve-{s.port}.log").read_text()
    assert time.monotonic() - t0 < 20
    listed = json.loads(ws.run("datasets", "list", "--json", check=True).stdout)
    assert [d["rows"] for d in listed] == [BIG_ROWS]


def test_a_client_that_leaves_does_not_stop_its_import(ws, server_factory):
    s = server_factory(ws)
    body = generated_csv(BIG_ROWS, "left")
    head = (f"POST {IMPORTS} HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", s.port), timeout=60) as sock:
        sock.sendall(head + body)
        time.sleep(0.3)  # the import is running; the client goes
    # the import completes anyway (its answer is discarded), and the server
    # goes on: the same file again is found already imported
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = json.loads(ws.run("datasets", "list", "--json", check=True).stdout)
        if listed:
            break
        time.sleep(0.2)
    assert [d["rows"] for d in listed] == [BIG_ROWS]
    again = started(s, body)
    again.join(60)
    assert again.status == 200 and again.answer["already_imported"] is True, again.answer
    assert s.stop() == 0
