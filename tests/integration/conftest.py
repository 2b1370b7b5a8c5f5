"""Fixtures for black-box tests of the real boucle binary (CLI and HTTP)."""
import itertools
import json
import os
import queue
import re
import shutil
import sqlite3
import signal
import socket
import subprocess
import threading
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


# With BOUCLE_TEST_PG_URL (postgres://USER@HOST:PORT/DB, e.g. from
# scripts/pg-test-server.sh; `make integration-pg`), every workspace gets a
# fresh PostgreSQL database of its own and its config's `store:` points at it.
PG_URL = os.environ.get("BOUCLE_TEST_PG_URL") or None
ON_PG = PG_URL is not None
_pg_dbs = {}  # workspace folder -> its database URL (two Workspaces on one folder share it)
_pg_seq = itertools.count(1)


def psql(url, script, vars=()):
    """Runs SQL through psql on stdin, after \\set for each (name, value) so
    the script can use :'name'; returns stdout."""
    sets = "".join("\\set %s '%s'\n" % (name, str(value).replace("\\", "\\\\")
                                           .replace("'", "\\'")) for name, value in vars)
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url],
                       input=sets + script, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"psql failed ({p.returncode}): {p.stderr}\n{script}")
    return p.stdout


def _pg_create_database():
    name = f"it_{os.getpid()}_{next(_pg_seq)}"
    psql(PG_URL, f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/?]*(\?.*)?$", f"/{name}", PG_URL, count=1)


_pg_ready = queue.Queue(maxsize=3)


def _pg_prepare():
    """Keeps a few empty databases ready: a CREATE DATABASE takes ~0.15 s,
    done here while the tests run instead of in their way."""
    while True:
        try:
            url = _pg_create_database()
        except AssertionError as err:  # handed to the test that waits for it
            url = err
        _pg_ready.put(url)


def pg_new_database():
    """A fresh, empty database's URL."""
    if not getattr(pg_new_database, "started", False):
        pg_new_database.started = True
        threading.Thread(target=_pg_prepare, daemon=True).start()
    url = _pg_ready.get(timeout=120)
    if isinstance(url, Exception):
        raise url
    return url


def ok(result):
    """An MLflow-style (status, body) answer that must be a 200: its body."""
    status, body = result
    assert status == 200, body
    return body


def error(result, status, code):
    """An MLflow-style error answer: checks status and error_code, returns the message."""
    got_status, body = result
    assert (got_status, body.get("error_code")) == (status, code), body
    assert body["message"]
    return body["message"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Workspace:
    """A folder with a boucle.yaml, where CLI commands run."""

    def __init__(self, path: Path, config: str = CONFIG):
        self.path = path
        self.config = path / "boucle.yaml"
        self.write_config(config)

    def write_config(self, config: str):
        self.config.write_text(config)
        self.point_store()

    def point_store(self):
        """On PostgreSQL, points the config's store (or the default one, by a
        line added at the end so line numbers stay) at this folder's database.
        Done on every write and before every command, so a config a test
        writes by hand lands on PostgreSQL too."""
        if not ON_PG or not self.config.exists():
            return
        key = str(self.path.resolve())
        if key not in _pg_dbs:
            _pg_dbs[key] = pg_new_database()
        line = f"store: {_pg_dbs[key]}"
        text = self.config.read_text()
        if re.search(r"(?m)^store:", text):
            new = re.sub(r"(?m)^store:.*$", line, text)
        else:
            new = text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"
        if new != text:
            self.config.write_text(new)

    def sql(self, query, *params):
        """Runs one SQL statement on this workspace's store, SQLite or
        PostgreSQL, with ? placeholders (str, int or bytes). A query returns
        its rows as tuples of Python values (PostgreSQL bytea comes back as
        bytes); any other statement returns []."""
        if not ON_PG:
            m = re.search(r"(?m)^store:\s*sqlite:(.*)$", self.config.read_text())
            db = sqlite3.connect(self.path / (m.group(1).strip() if m else "boucle.db"))
            try:
                rows = db.execute(query, params).fetchall()
                db.commit()
                return rows
            finally:
                db.close()
        url = re.search(r"(?m)^store:\s*(\S+)", self.config.read_text()).group(1)
        names = iter(range(1, len(params) + 1))
        stmt = re.sub(r"\?", lambda _: f":'p{next(names)}'", query)
        vars = [(f"p{i}", "\\x" + v.hex() if isinstance(v, (bytes, bytearray)) else v)
                for i, v in enumerate(params, 1)]
        if not re.match(r"\s*(select|with)\b", query, re.I):
            psql(url, stmt, vars)
            return []
        out = psql(url, f"select coalesce(json_agg(q), '[]') from ({stmt}) q", vars)

        def row(pairs):
            return tuple(bytes.fromhex(v[2:]) if isinstance(v, str) and re.fullmatch(
                r"\\x(?:[0-9a-f]{2})*", v) else v for _, v in pairs)
        return json.loads(out, object_pairs_hook=row)

    def sql_value(self, query, *params):
        """The single value a one-row, one-column query returns."""
        rows = self.sql(query, *params)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def run(self, *args, check=False, timeout=300):
        self.point_store()
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
        ws.point_store()
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
