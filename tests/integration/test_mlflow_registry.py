"""The MLflow model registry and the artifacts proxy, driven as the MLflow
client drives them: registered models and versions (version numbers are
strings), aliases that are boucle's own (an alias set through MLflow moves
the champion `boucle serve` serves), and run artifacts stored as blobs, with
every path-traversal attempt refused. On SQLite and, with
BOUCLE_TEST_PG_URL (`make integration-pg`), on PostgreSQL."""
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import Server, Workspace, error, ok

API = "/api/2.0/mlflow"
ART = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """Two boucle-trained versions of `sentiment`: version 1 is the champion."""
    w = Workspace(tmp_path_factory.mktemp("registry"))
    w.copy_sample(rows=400)
    w.run("import", "--task", "sentiment", "tweets.csv", check=True)
    w.run("train", "--task", "sentiment", check=True)
    w.run("train", "--task", "sentiment", check=True)
    return w


@pytest.fixture(scope="module")
def srv(ws):
    s = Server(ws)
    yield s
    assert s.stop() == 0, s.logs()


def call(srv, method, endpoint, body=None, **query):
    path = f"{API}/{endpoint}"
    if query:
        path += "?" + urllib.parse.urlencode(query, doseq=True)
    return srv.request(method, path, body)


def raw(srv, method, path, data=None):
    """(status, bytes, content type) without JSON decoding; path sent as is."""
    req = urllib.request.Request(srv.url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type")


def new_run(srv):
    run = ok(call(srv, "POST", "runs/create", {"experiment_id": "0", "start_time": int(time.time() * 1000)}))
    return run["run"]["info"]


def test_training_script_registry_flow(srv):
    info = new_run(srv)
    run_id = info["run_id"]
    source = f"{info['artifact_uri']}/model"
    rm = ok(call(srv, "POST", "registered-models/create",
                 {"name": "churn", "description": "first", "tags": [{"key": "team", "value": "ml"}]}))["registered_model"]
    assert rm["name"] == "churn" and rm["description"] == "first"
    assert rm["tags"] == [{"key": "team", "value": "ml"}] and rm["aliases"] == [] and rm["latest_versions"] == []
    error(call(srv, "POST", "registered-models/create", {"name": "churn"}), 400, "RESOURCE_ALREADY_EXISTS")

    mv = ok(call(srv, "POST", "model-versions/create",
                 {"name": "churn", "source": source, "run_id": run_id,
                  "tags": [{"key": "k", "value": "v"}], "description": "v1"}))["model_version"]
    assert mv["version"] == "1" and mv["source"] == source and mv["run_id"] == run_id
    assert mv["status"] == "READY" and mv["current_stage"] == "None" and mv["tags"] == [{"key": "k", "value": "v"}]
    mv2 = ok(call(srv, "POST", "model-versions/create", {"name": "churn", "source": source, "run_id": run_id}))
    assert mv2["model_version"]["version"] == "2"
    error(call(srv, "POST", "model-versions/create", {"name": "nope", "source": source}), 404,
          "RESOURCE_DOES_NOT_EXIST")

    assert ok(call(srv, "POST", "registered-models/alias", {"name": "churn", "alias": "prod", "version": "1"})) == {}
    by_alias = ok(call(srv, "GET", "registered-models/alias", name="churn", alias="prod"))["model_version"]
    assert by_alias["version"] == "1" and by_alias["aliases"] == ["prod"]
    ok(call(srv, "POST", "registered-models/alias", {"name": "churn", "alias": "prod", "version": "2"}))
    assert ok(call(srv, "GET", "registered-models/alias", name="churn", alias="prod"))["model_version"]["version"] == "2"
    error(call(srv, "POST", "registered-models/alias", {"name": "churn", "alias": "latest", "version": "1"}), 400,
          "INVALID_PARAMETER_VALUE")
    error(call(srv, "POST", "registered-models/alias", {"name": "churn", "alias": "x", "version": "9"}), 404,
          "RESOURCE_DOES_NOT_EXIST")

    rm = ok(call(srv, "GET", "registered-models/get", name="churn"))["registered_model"]
    assert rm["aliases"] == [{"alias": "prod", "version": "2"}]
    assert [v["version"] for v in rm["latest_versions"]] == ["2"]

    found = ok(call(srv, "GET", "registered-models/search", filter="name LIKE 'chu%'"))["registered_models"]
    assert [m["name"] for m in found] == ["churn"]
    assert ok(call(srv, "GET", "registered-models/search", filter="name = 'zzz'")).get("registered_models", []) == []
    versions = ok(call(srv, "GET", "model-versions/search", filter=f"run_id = '{run_id}'"))["model_versions"]
    assert sorted(v["version"] for v in versions) == ["1", "2"]
    page = ok(call(srv, "GET", "model-versions/search", filter="name='churn'", max_results=1))
    assert len(page["model_versions"]) == 1 and page["next_page_token"]
    rest = ok(call(srv, "GET", "model-versions/search", filter="name='churn'", max_results=1,
                   page_token=page["next_page_token"]))
    assert {page["model_versions"][0]["version"], rest["model_versions"][0]["version"]} == {"1", "2"}
    msg = error(call(srv, "GET", "model-versions/search", filter="name = 'churn' or x"), 400,
                "INVALID_PARAMETER_VALUE")
    assert "character" in msg

    rm = ok(call(srv, "PATCH", "registered-models/update", {"name": "churn", "description": "second"}))
    assert rm["registered_model"]["description"] == "second"
    mv = ok(call(srv, "PATCH", "model-versions/update", {"name": "churn", "version": "1", "description": "better"}))
    assert mv["model_version"]["description"] == "better"
    ok(call(srv, "POST", "registered-models/set-tag", {"name": "churn", "key": "a", "value": "b"}))
    ok(call(srv, "DELETE", "registered-models/delete-tag", {"name": "churn", "key": "team"}))
    assert ok(call(srv, "GET", "registered-models/get", name="churn"))["registered_model"]["tags"] == [
        {"key": "a", "value": "b"}]
    ok(call(srv, "POST", "model-versions/set-tag", {"name": "churn", "version": "2", "key": "x", "value": "y"}))
    ok(call(srv, "DELETE", "model-versions/delete-tag", {"name": "churn", "version": "1", "key": "k"}))
    error(call(srv, "DELETE", "model-versions/delete-tag", {"name": "churn", "version": "1", "key": "k"}), 404,
          "RESOURCE_DOES_NOT_EXIST")

    mv = ok(call(srv, "POST", "model-versions/transition-stage",
                 {"name": "churn", "version": "1", "stage": "Production", "archive_existing_versions": False}))
    assert mv["model_version"]["current_stage"] == "Production"
    ok(call(srv, "POST", "model-versions/transition-stage",
            {"name": "churn", "version": "2", "stage": "production", "archive_existing_versions": True}))
    assert ok(call(srv, "GET", "model-versions/get", name="churn", version="1"))["model_version"][
        "current_stage"] == "Archived"
    latest = ok(call(srv, "POST", "registered-models/get-latest-versions", {"name": "churn", "stages": ["Production"]}))
    assert [v["version"] for v in latest["model_versions"]] == ["2"]
    assert ok(call(srv, "GET", "model-versions/get-download-uri", name="churn", version="1"))["artifact_uri"] == source

    ok(call(srv, "DELETE", "registered-models/alias", {"name": "churn", "alias": "prod"}))
    error(call(srv, "GET", "registered-models/alias", name="churn", alias="prod"), 404, "RESOURCE_DOES_NOT_EXIST")
    rm = ok(call(srv, "POST", "registered-models/rename", {"name": "churn", "new_name": "churn2"}))
    assert rm["registered_model"]["name"] == "churn2"
    error(call(srv, "GET", "registered-models/get", name="churn"), 404, "RESOURCE_DOES_NOT_EXIST")
    ok(call(srv, "DELETE", "model-versions/delete", {"name": "churn2", "version": "1"}))
    error(call(srv, "GET", "model-versions/get", name="churn2", version="1"), 404, "RESOURCE_DOES_NOT_EXIST")
    ok(call(srv, "DELETE", "registered-models/delete", {"name": "churn2"}))
    error(call(srv, "GET", "registered-models/get", name="churn2"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(call(srv, "GET", "model-versions/get", name="churn2", version="2"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_wrong_method_and_bad_version(srv):
    error(call(srv, "PUT", "registered-models/alias", {"name": "x"}), 405, "BAD_REQUEST")
    error(call(srv, "GET", "model-versions/get", name="sentiment", version="one"), 400, "INVALID_PARAMETER_VALUE")
    error(call(srv, "POST", "registered-models/create", {"name": ""}), 400, "INVALID_PARAMETER_VALUE")


def test_boucle_task_is_a_registered_model_and_champion_moves_through_mlflow(srv, ws):
    rm = ok(call(srv, "GET", "registered-models/get", name="sentiment"))["registered_model"]
    assert {"alias": "champion", "version": "1"} in rm["aliases"]
    versions = ok(call(srv, "GET", "model-versions/search", filter="name = 'sentiment'"))["model_versions"]
    assert [v["version"] for v in versions] == ["2", "1"]
    assert srv.get("/readyz")[1]["tasks"]["sentiment"]["model_version"] == 1

    ok(call(srv, "POST", "registered-models/alias", {"name": "sentiment", "alias": "champion", "version": "2"}))
    deadline = time.time() + 1.5
    while srv.get("/readyz")[1]["tasks"]["sentiment"]["model_version"] != 2:
        assert time.time() < deadline, "the champion set through MLflow was not served within a second"
        time.sleep(0.05)
    # the move is boucle's: previous keeps the old champion, history says why
    assert ok(call(srv, "GET", "registered-models/alias", name="sentiment", alias="previous"))["model_version"][
        "version"] == "1"
    # setting it again is a no-op, as in MLflow
    ok(call(srv, "POST", "registered-models/alias", {"name": "sentiment", "alias": "champion", "version": "2"}))
    moves = ws.sql("SELECT alias, from_version, to_version, reason FROM alias_history"
                   " WHERE task = 'sentiment' ORDER BY id")
    assert ("champion", 1, 2, "mlflow: set_registered_model_alias") in moves
    assert sum(1 for m in moves if m[0] == "champion" and m[2] == 2) == 1

    # a version registered through MLflow has no boucle model: never the champion
    mv = ok(call(srv, "POST", "model-versions/create", {"name": "sentiment", "source": "s3://b/m"}))["model_version"]
    assert mv["version"] == "3"
    error(call(srv, "POST", "registered-models/alias",
               {"name": "sentiment", "alias": "champion", "version": "3"}), 400, "INVALID_PARAMETER_VALUE")
    ok(call(srv, "POST", "registered-models/alias", {"name": "sentiment", "alias": "challenger", "version": "3"}))
    # the serving champion cannot be deleted, renamed away or have its version deleted
    error(call(srv, "DELETE", "registered-models/alias", {"name": "sentiment", "alias": "champion"}), 400,
          "INVALID_PARAMETER_VALUE")
    error(call(srv, "DELETE", "model-versions/delete", {"name": "sentiment", "version": "2"}), 400,
          "INVALID_PARAMETER_VALUE")
    error(call(srv, "DELETE", "registered-models/delete", {"name": "sentiment"}), 400, "INVALID_PARAMETER_VALUE")
    error(call(srv, "POST", "registered-models/rename", {"name": "sentiment", "new_name": "other"}), 400,
          "INVALID_PARAMETER_VALUE")
    ok(call(srv, "DELETE", "model-versions/delete", {"name": "sentiment", "version": "3"}))
    assert srv.get("/readyz")[1]["tasks"]["sentiment"]["model_version"] == 2
    # the alias that went with the version is a move in the history too
    last = ws.sql("SELECT alias, from_version, to_version, reason, actor FROM alias_history"
                  " WHERE task = 'sentiment' ORDER BY id DESC LIMIT 1")
    assert last == [("challenger", 3, None, "model version 3 deleted", "http:127.0.0.1")]


def test_artifacts_round_trip_byte_exact(srv):
    info = new_run(srv)
    run_id, exp = info["run_id"], info["experiment_id"]
    assert info["artifact_uri"] == f"mlflow-artifacts:/{exp}/{run_id}/artifacts"
    root = f"{ART}/{exp}/{run_id}/artifacts"
    blob = bytes(range(256)) * 40 + b"\x00\x00end\x00"
    assert raw(srv, "PUT", f"{root}/model/weights.bin", blob)[:2] == (200, b"{}\n")
    assert raw(srv, "PUT", f"{root}/model/MLmodel", b"flavors: {}\n")[0] == 200
    assert raw(srv, "PUT", f"{root}/notes.txt", b"")[0] == 200
    assert raw(srv, "PUT", f"{root}/unicode%20%C3%A9.txt", "é".encode())[0] == 200

    status, body, ctype = raw(srv, "GET", f"{root}/model/weights.bin")
    assert (status, ctype) == (200, "application/octet-stream") and body == blob
    assert raw(srv, "GET", f"{root}/notes.txt")[:2] == (200, b"")
    assert raw(srv, "GET", f"{root}/unicode%20%C3%A9.txt")[1] == "é".encode()

    q = urllib.parse.urlencode({"path": f"{exp}/{run_id}/artifacts"})
    files = json.loads(raw(srv, "GET", f"{ART}?{q}")[1])["files"]
    assert files == [{"path": "model", "is_dir": True}, {"path": "notes.txt", "is_dir": False, "file_size": 0},
                     {"path": "unicode é.txt", "is_dir": False, "file_size": 2}]
    q = urllib.parse.urlencode({"path": f"{exp}/{run_id}/artifacts/model"})
    files = json.loads(raw(srv, "GET", f"{ART}?{q}")[1])["files"]
    assert files == [{"path": "MLmodel", "is_dir": False, "file_size": 12},
                     {"path": "weights.bin", "is_dir": False, "file_size": len(blob)}]

    listing = ok(call(srv, "GET", "artifacts/list", run_id=run_id, path="model"))
    assert listing["root_uri"] == info["artifact_uri"]
    assert [f["path"] for f in listing["files"]] == ["model/MLmodel", "model/weights.bin"]
    top = ok(call(srv, "GET", "artifacts/list", run_id=run_id))["files"]
    assert [(f["path"], f["is_dir"]) for f in top] == [("model", True), ("notes.txt", False), ("unicode é.txt", False)]

    # overwrite, then delete
    assert raw(srv, "PUT", f"{root}/notes.txt", b"v2")[0] == 200
    assert raw(srv, "GET", f"{root}/notes.txt")[1] == b"v2"
    assert raw(srv, "DELETE", f"{root}/notes.txt")[0] == 200
    status, body, _ = raw(srv, "GET", f"{root}/notes.txt")
    assert status == 404 and json.loads(body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    status, body, _ = raw(srv, "DELETE", f"{root}/notes.txt")
    assert status == 404 and json.loads(body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"

    # the blob is in the store with its sha256 and size
    import hashlib
    row = srv.ws.sql("SELECT sha256, size FROM artifacts WHERE run_id = ? AND path = ?", run_id, "model/weights.bin")
    assert row == [(hashlib.sha256(blob).hexdigest(), len(blob))]


def test_unknown_artifact_run_and_route(srv):
    info = new_run(srv)
    root = f"{ART}/{info['experiment_id']}/{info['run_id']}/artifacts"
    for method in ("GET", "DELETE"):
        status, body, _ = raw(srv, method, f"{root}/missing.txt")
        assert status == 404 and json.loads(body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    status, body, _ = raw(srv, "PUT", f"{ART}/0/{'f' * 32}/artifacts/x.txt", b"x")
    assert status == 404 and json.loads(body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    error(call(srv, "GET", "artifacts/list", run_id="f" * 32), 404, "RESOURCE_DOES_NOT_EXIST")
    status, body, _ = raw(srv, "GET", "/api/2.0/mlflow-artifacts/nope")
    assert status == 404 and json.loads(body)["error_code"] == "ENDPOINT_NOT_FOUND"


TRAVERSALS = [
    "../../../etc/passwd",
    "model/../../other-run/x",
    "%2e%2e/%2e%2e/etc/passwd",
    "%2E%2E%2Fsecret",
    "a%2f..%2f..%2fb",
    "%252e%252e/x",
    "..%5c..%5cwindows",
    "a\\b",
    "/etc/passwd",
    "dir/",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_is_400(srv, path):
    info = new_run(srv)
    root = f"{ART}/{info['experiment_id']}/{info['run_id']}/artifacts"
    quoted = path.replace("\\", "%5C")
    for method, data in (("PUT", b"pwned"), ("GET", None), ("DELETE", None)):
        status, body, _ = raw(srv, method, f"{root}/{quoted}", data)
        assert status == 400, (method, path, body)
        assert json.loads(body)["error_code"] == "INVALID_PARAMETER_VALUE"
    assert srv.ws.sql("SELECT count(*) AS n FROM artifacts WHERE run_id = ?", info["run_id"]) == [(0,)]


@pytest.mark.parametrize("path", ["../..", "0/../..", "/etc", "x/%2e%2e", "a\x00b", "a\\b"])
def test_list_traversal_is_400(srv, path):
    info = new_run(srv)
    q = urllib.parse.urlencode({"path": f"{info['experiment_id']}/{info['run_id']}/artifacts/{path}"
                                if not path.startswith("/") else path})
    status, body, _ = raw(srv, "GET", f"{ART}?{q}")
    assert status == 400 and json.loads(body)["error_code"] == "INVALID_PARAMETER_VALUE", body
    error(call(srv, "GET", "artifacts/list", run_id=info["run_id"], path=path), 400, "INVALID_PARAMETER_VALUE")
