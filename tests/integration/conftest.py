"""Fixtures for black-box tests of the real boucle binary (CLI and HTTP)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("BOUCLE_BIN", str(ROOT / "build" / "boucle"))
SAMPLE = ROOT / "examples" / "sentiment" / "tweets.csv"

CONFIG = """\
store: sqlite:boucle.db
listen: 127.0.0.1:8080
tasks:
  sentiment:
    type: multiclass
    text: [text]
    label: airline_sentiment
    model: {kind: linear}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Workspace:
    """A folder with a boucle.yaml, where CLI commands run."""

    def __init__(self, path: Path, config: str = CONFIG):
        self.path = path
        self.config = path / "boucle.yaml"
        self.config.write_text(config)

    def run(self, *args, check=False, timeout=300):
        env = dict(os.environ, BOUCLE_CONFIG=str(self.config))
        p = subprocess.run([BIN, *map(str, args)], cwd=self.path, env=env, capture_output=True,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"boucle {' '.join(map(str, args))} exited {p.returncode}\n"
                                 f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def run_json(self, *args):
        return json.loads(self.run(*args, "--json", check=True).stdout)

    def copy_sample(self, name="tweets.csv", rows=None):
        dst = self.path / name
        if rows is None:
            shutil.copy(SAMPLE, dst)
        else:
            lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
            import csv, io
            reader = list(csv.reader(io.StringIO("".join(lines))))
            out = io.StringIO()
            w = csv.writer(out)
            for r in reader[: rows + 1]:
                w.writerow(r)
            dst.write_text(out.getvalue(), encoding="utf-8")
        return dst


class Server:
    def __init__(self, ws: Workspace, extra=()):
        self.ws = ws
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, BOUCLE_CONFIG=str(ws.config))
        self.log = open(ws.path / f"serve-{self.port}.log", "w")
        self.proc = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{self.port}", *extra],
                                     cwd=ws.path, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.logs()}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("serve did not answer /healthz in 30 s")

    def logs(self):
        self.log.flush()
        return (self.ws.path / f"serve-{self.port}.log").read_text()

    def request(self, method, path, body=None, headers=None, raw=None, timeout=30):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Content-Type": "application/json"} if data is not None else {}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            payload = e.read()
            try:
                return e.code, json.loads(payload)
            except ValueError:
                return e.code, payload

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("serve did not stop within the timeout")
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A workspace with the sample imported and a champion trained (shared by a module)."""
    w = Workspace(tmp_path_factory.mktemp("trained"))
    w.copy_sample()
    w.run("import", "--task", "sentiment", "tweets.csv", check=True)
    w.run("train", "--task", "sentiment", check=True)
    return w


@pytest.fixture
def server_factory():
    servers = []

    def start(ws, extra=()):
        s = Server(ws, extra)
        servers.append(s)
        return s

    yield start
    for s in servers:
        if s.proc.poll() is None:
            s.stop()
