"""Several processes on one PostgreSQL database: two `boucle serve` and one
standalone `boucle worker`. A champion move made anywhere (the CLI, either
server's HTTP API) reaches both servers through LISTEN/NOTIFY within a
second, and a retrain queued through one server is run by the worker.
Runs only with BOUCLE_TEST_PG_URL (`make integration-pg`)."""
import os
import signal
import subprocess
import time

import pytest

from conftest import BIN, ON_PG, Workspace
from loopkit import champion, feed, rows, wait_run, write_csv

pytestmark = pytest.mark.skipif(not ON_PG, reason="needs PostgreSQL: set BOUCLE_TEST_PG_URL "
                                "(make integration-pg)")

# the servers run no worker of their own: only the standalone one claims jobs
CONFIG = """\
store: sqlite:boucle.db
listen: 127.0.0.1:8080
worker: {enabled: false, lease: 3s}
tasks:
  sentiment:
    type: multiclass
    text: [text]
    label: airline_sentiment
    model: {kind: linear}
    retrain_cooldown: 0s
"""


def both_serve(servers, version, t0, limit=1.0):
    """Polls every server's /readyz until each serves `version`; returns the
    seconds each took, counted from t0 (taken right before the move)."""
    took = [None] * len(servers)
    while None in took:
        for i, s in enumerate(servers):
            if took[i] is None and champion(s) == version:
                took[i] = time.monotonic() - t0
        elapsed = time.monotonic() - t0
        assert elapsed < limit or None not in took, \
            f"version {version} not served by every server within {limit} s: {took}"
        time.sleep(0.005)
    return took


def test_two_servers_and_a_worker_on_one_database(tmp_path, server_factory, capsys):
    ws = Workspace(tmp_path, CONFIG)
    write_csv(ws.path / "seed.csv", rows(600))
    ws.run("import", "seed.csv", check=True)
    ws.run("train", check=True)  # version 1, champion
    ws.run("train", check=True)  # version 2, not served yet
    a, b = server_factory(ws), server_factory(ws)
    assert champion(a) == champion(b) == 1
    worker_log = open(ws.path / "worker.log", "w")
    worker = subprocess.Popen([BIN, "worker", "--id", "standalone-w1"], cwd=ws.path,
                              env=dict(os.environ, BOUCLE_CONFIG=str(ws.config)),
                              stdout=worker_log, stderr=subprocess.STDOUT)
    try:
        # a promotion by the CLI (a third process): both servers follow
        t0 = time.monotonic()
        p = ws.run("promote", "--task", "sentiment", "--version", "2")
        assert p.returncode == 0, p.stderr
        cli = time.monotonic() - t0
        took = both_serve([a, b], 2, t0)
        with capsys.disabled():  # the times show in CI's output
            print(f"\npromote by the CLI (which took {cli:.3f} s): served by A {took[0]:.3f} s, "
                  f"by B {took[1]:.3f} s after it started")

        # a rollback through server A's HTTP API: B (another process) follows too
        t0 = time.monotonic()
        status, rb = a.post("/v1/tasks/sentiment/rollback")
        assert status == 200 and rb["champion"] == 1, rb
        took = both_serve([a, b], 1, t0)
        with capsys.disabled():
            print(f"rollback through A's HTTP API: served by A {took[0]:.3f} s, by B {took[1]:.3f} s "
                  "after the request")

        # a retrain queued through server B is claimed and run by the worker
        feed(b, rows(600, start=600))
        status, queued = b.post("/v1/tasks/sentiment/retrain", {})
        assert status == 202 and queued["status"] == "pending", queued
        run = wait_run(a, queued["run_id"], timeout=60)  # seen from A too: one database
        assert run["status"] == "completed", run
        claimed = ws.sql("select worker from jobs where run_id = ?", queued["run_id"])
        assert claimed == [("standalone-w1",)], claimed
        if run["state"]["deployed"]:
            version = run["state"]["deployed_version"]
            both_serve([a, b], version, time.monotonic())  # deployed before the run ended
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            assert worker.wait(timeout=30) == 0, (ws.path / "worker.log").read_text()
        finally:
            if worker.poll() is None:
                worker.kill()
            worker_log.close()
    assert "standalone-w1" in (ws.path / "worker.log").read_text()
    assert a.stop() == 0, a.logs()
    assert b.stop() == 0, b.logs()
