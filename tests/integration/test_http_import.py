"""POST /v1/tasks/{task}/imports: a data file as the request body, imported
as `boucle import` does it (the same code and report): CSV and JSON Lines,
admin scope, its own body limit, 415 for another type, 422 naming the line of
a bad row, the data contract (409 refuse: nothing stored; warn: stored), and
200 already_imported for the same content again. On SQLite and PostgreSQL."""
import csv
import http.client
import io
import json
import socket
import time

from conftest import CONFIG, SAMPLE, Workspace

IMPORTS = "/v1/tasks/sentiment/imports"


def rows(start, stop):
    with open(SAMPLE, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))[start:stop]


def to_csv(records, fields=None):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields or list(records[0]), extrasaction="ignore",
                       lineterminator="\n")
    w.writeheader()
    w.writerows(records)
    return out.getvalue().encode()


def to_jsonl(records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def upload(server, body, content_type="text/csv", query="", token=None, chunked=False):
    """(status, JSON answer) of an upload; chunked sends no Content-Length.
    The request goes out in one write, before the answer is read: a server
    that answers 413 early and closes must not reset a half-sent request."""
    head = [f"POST {IMPORTS}{query} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
            "Connection: close"]
    if content_type:
        head.append(f"Content-Type: {content_type}")
    if token:
        head.append(f"Authorization: Bearer {token}")
    if chunked:
        head.append("Transfer-Encoding: chunked")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        head.append(f"Content-Length: {len(body)}")
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall("\r\n".join(head).encode() + b"\r\n\r\n" + body)
        r = http.client.HTTPResponse(sock)
        r.begin()
        return r.status, json.loads(r.read())


def dataset_count(ws):
    return len(json.loads(ws.run("datasets", "list", "--json", check=True).stdout))


def test_csv_and_jsonl_import_then_train(ws, server_factory):
    s = server_factory(ws)
    status, first = upload(s, to_csv(rows(0, 600)))
    assert status == 201, first
    assert first["imported"] is True and first["already_imported"] is False
    assert first["task"] == "sentiment" and first["rows"] == 600 and len(first["hash"]) == 64
    # the first import holds out a stratified test split, as the CLI's does
    assert first["test_rows"] > 0 and first["train_rows"] + first["test_rows"] == 600
    assert first["contract"] is None and first["cleaning"]["rows"] == 600

    status, more = upload(s, to_jsonl(rows(600, 900)), "application/x-ndjson; charset=utf-8")
    assert status == 201, more
    assert (more["rows"], more["train_rows"], more["test_rows"]) == (300, 300, 0)
    assert more["dataset_id"] != first["dataset_id"]
    assert more["contract"]["violations"] == 0  # checked against the first upload

    status, held = upload(s, to_jsonl(rows(900, 1000)), "application/jsonl", "?split=test")
    assert status == 201 and held["test_rows"] == 100, held
    assert upload(s, b"x\n", query="?split=sideways")[0] == 400

    # the same content again: nothing stored, the existing version named
    status, again = upload(s, to_csv(rows(0, 600)))
    assert status == 200, again
    assert again["already_imported"] is True and again["imported"] is False
    assert again["dataset_id"] == first["dataset_id"]

    # the report has the CLI's --json keys; the version records who sent it
    (ws.path / "same.csv").write_bytes(to_csv(rows(1000, 1100)))
    cli = ws.run_json("import", "--task", "sentiment", "same.csv")
    assert set(cli) == set(first)
    status, listed = s.get("/v1/datasets?task=sentiment")
    assert status == 200
    sources = {d["id"]: d["source"] for d in listed["datasets"]}
    assert sources[first["dataset_id"]] == "upload:http:127.0.0.1"
    assert len(sources) == 4

    # the uploaded rows train a model, which the server then serves
    trained = ws.run_json("train", "--task", "sentiment")
    assert trained["n_train"] > 800 and trained["n_test"] > 0, trained
    deadline = time.time() + 10
    while s.get("/readyz")[0] != 200 and time.time() < deadline:
        time.sleep(0.1)
    status, p = s.post("/v1/tasks/sentiment/predict", {"text": "lost my bag, awful"})
    assert status == 200 and p["label"] in ("negative", "neutral", "positive"), p


def make_token(ws, name, scopes):
    return json.loads(ws.run("token", "create", "--name", name, "--scopes", scopes, "--json",
                             check=True).stdout)


def test_admin_scope_is_needed(ws, server_factory):
    app, ops = make_token(ws, "app", "predict,feedback"), make_token(ws, "ops", "admin")
    ws.write_config(CONFIG + f"""\
auth:
  tokens:
    - {{name: app, sha256: {app['sha256']}, scopes: [predict, feedback]}}
    - {{name: ops, sha256: {ops['sha256']}, scopes: [admin]}}
""")
    s = server_factory(ws)
    body = to_csv(rows(0, 20))  # refused before it is read: kept small, so no reset
    status, err = upload(s, body)
    assert status == 401 and "admin" in err["error"]["message"], err
    assert upload(s, body, token="bcl_not-a-token")[0] == 401
    status, err = upload(s, body, token=app["token"])
    assert status == 403 and "'app'" in err["error"]["message"], err
    assert dataset_count(ws) == 0
    status, done = upload(s, body, token=ops["token"])
    assert status == 201, done
    assert s.get("/v1/datasets")[0] == 401  # (the list needs admin too)
    assert json.loads(ws.run("datasets", "list", "--json", check=True).stdout)[0]["source"] \
        == "upload:token:ops"


def test_import_body_limit_is_its_own(ws, server_factory):
    ws.write_config(CONFIG + "limits: {max_body_bytes: 1024, max_import_bytes: 20000}\n")
    s = server_factory(ws)
    small, big = to_csv(rows(0, 60)), to_csv(rows(0, 400))
    assert 1024 < len(small) < 20000 < len(big)
    status, err = upload(s, big)
    assert status == 413, err
    assert "20000" in err["error"]["message"] and "limits.max_import_bytes" in err["error"]["message"]
    # no Content-Length: counted while reading (just over the limit, so the
    # server has read it all when it answers, and its close is no reset)
    n = next(n for n in range(60, 400) if len(to_csv(rows(0, n))) > 20000)
    status, err = upload(s, to_csv(rows(0, n)), chunked=True)
    assert status == 413 and "max_import_bytes" in err["error"]["message"], err
    assert dataset_count(ws) == 0
    # over max_body_bytes but within the import limit
    assert upload(s, small)[0] == 201
    # other routes keep the general limit
    status, err = s.post("/v1/feedback", raw=b"{" + b" " * 2000 + b"}")
    assert status == 413 and "max_body_bytes" in err["error"]["message"]


def test_other_content_types_are_415(ws, server_factory):
    s = server_factory(ws)
    body = to_csv(rows(0, 50))
    for ctype in ("text/plain", "application/json", "application/x-www-form-urlencoded", None):
        status, err = upload(s, body, ctype)
        assert status == 415, (ctype, err)
        msg = err["error"]["message"]
        assert "text/csv" in msg and "application/x-ndjson" in msg and "application/jsonl" in msg
    assert s.get(IMPORTS)[0] == 405
    assert s.post("/v1/tasks/nope/imports", raw=body, headers={"Content-Type": "text/csv"})[0] == 404
    assert dataset_count(ws) == 0


def test_a_bad_row_is_422_naming_its_line_and_nothing_is_stored(ws, server_factory):
    s = server_factory(ws)
    records = rows(0, 100)
    records[2]["airline_sentiment"] = ""  # the header is line 1: this row is line 4
    status, err = upload(s, to_csv(records))
    assert status == 422, err
    assert "line 4" in err["error"]["message"] and "empty label" in err["error"]["message"]
    assert err["error"]["field"] == "airline_sentiment"
    status, err = upload(s, b'{"text": "fine", "airline_sentiment": "neutral"}\n{"text": \n',
                         "application/x-ndjson")
    assert status == 422 and "line 2" in err["error"]["message"], err
    status, err = upload(s, b"")
    assert status == 422, err
    assert dataset_count(ws) == 0


def contract_config(contract):
    return CONFIG + f"    contract: {contract}\n"


def test_contract_refuse_is_409_and_stores_nothing(ws, server_factory):
    ws.write_config(contract_config("{on_violation: refuse}"))
    s = server_factory(ws)
    assert upload(s, to_csv(rows(0, 1500)))[0] == 201
    # the airline column dropped, a label never seen, 20% of texts lost
    altered = [dict(r, airline_sentiment="angry" if i % 10 == 0 else r["airline_sentiment"],
                    text="" if i % 5 == 0 else r["text"]) for i, r in enumerate(rows(1500, 3000))]
    body = to_csv(altered, ["tweet_id", "airline_sentiment", "text"])
    status, out = upload(s, body)
    assert status == 409, out
    assert out["error"]["code"] == "contract_violation" and "nothing imported" in out["error"]["message"]
    assert out["imported"] is False and out["contract"]["violations"] == 3
    assert [(d["kind"], d["name"]) for d in out["contract"]["differences"]] == [
        ("column_removed", "airline"), ("label_added", "angry"), ("null_rate", "text")]
    assert dataset_count(ws) == 1
    assert ws.sql_value("SELECT count(*) FROM examples") == 1500
    # ?force=true stores it anyway, as `import --force` does, and says so
    status, forced = upload(s, body, query="?force=true")
    assert status == 201 and forced["contract"]["forced"] is True, forced
    assert dataset_count(ws) == 2


def test_contract_warn_stores_with_the_differences(ws, server_factory):
    ws.write_config(contract_config("{labels: superset}"))  # on_violation: warn by default
    s = server_factory(ws)
    assert upload(s, to_csv(rows(0, 1500)))[0] == 201
    altered = [dict(r, text="" if i % 4 == 0 else r["text"],
                    airline_sentiment="angry" if i % 10 == 1 else r["airline_sentiment"])
               for i, r in enumerate(rows(1500, 3000))]
    status, out = upload(s, to_csv(altered))
    assert status == 201, out
    assert out["imported"] is True and out["contract"]["violations"] == 1
    kinds = {(d["kind"], d["violation"]) for d in out["contract"]["differences"]}
    assert kinds == {("null_rate", True), ("label_added", False)}
    assert dataset_count(ws) == 2
    contract = ws.run_json("data", "contract", "--task", "sentiment")
    assert contract["latest_check"]["violations"] == 1
