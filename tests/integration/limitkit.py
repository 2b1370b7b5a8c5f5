"""Helpers for the serving-limit tests: configs on the shared trained
workspace, tokens, and HTTP over raw sockets (to hold connections open, send
bytes slowly, and see exactly what the server wrote)."""
import copy
import json
import socket
import time

from conftest import CONFIG

PREDICT = "/v1/tasks/sentiment/predict"


def with_config(trained, name, extra):
    """The trained workspace (same store, same models) under another config file."""
    w = copy.copy(trained)
    w.config = trained.path / f"{name}.yaml"
    w.config.write_text(CONFIG + extra)
    w.point_store()
    return w


def make_token(ws, name, scopes):
    out = json.loads(ws.run("token", "create", "--name", name, "--scopes", scopes, "--json",
                            check=True).stdout)
    return out["token"], out["sha256"]


def read_response(sock):
    """One HTTP/1.1 response from sock: (status, headers with lower-case names, body bytes).
    status is None when the server closed the connection without answering."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, {}, data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    want = int(headers.get("content-length", "0"))
    while len(body) < want:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def request_bytes(method, path, body=None, token=None, extra=""):
    data = json.dumps(body).encode() if body is not None else b""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (f"{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}{extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
    return head.encode() + data


def call(port, method, path, body=None, token=None, extra="", timeout=10):
    """One request on a new connection: (status, headers, parsed JSON body or bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request_bytes(method, path, body, token, extra))
        status, headers, raw = read_response(s)
    try:
        return status, headers, json.loads(raw)
    except ValueError:
        return status, headers, raw


def trickle(port, first, then, every=0.3, limit=30):
    """Sends `first`, then one byte of `then` every `every` seconds until the
    server answers or closes. Returns (status, headers, body, seconds)."""
    start = time.time()
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as s:
        s.sendall(first)
        s.settimeout(every)
        for i in range(len(then)):
            try:
                s.sendall(then[i:i + 1])
            except OSError:
                break  # closed on us: the answer, if any, is waiting to be read
            if time.time() - start > limit:
                break
            try:
                s.recv(1, socket.MSG_PEEK)  # an answer or the close: stop sending
                break
            except socket.timeout:
                continue  # the pause between two bytes
            except OSError:
                break
        s.settimeout(limit)
        try:
            status, headers, body = read_response(s)
        except OSError:
            status, headers, body = None, {}, b""
    return status, headers, body, time.time() - start


def metric(server_or_port, name, token=None):
    """The value of one sample of /metrics ("name{labels}" exactly), or None."""
    port = server_or_port if isinstance(server_or_port, int) else server_or_port.port
    status, _, text = call(port, "GET", "/metrics", token=token)
    assert status == 200, text
    text = text.decode() if isinstance(text, bytes) else str(text)
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None
