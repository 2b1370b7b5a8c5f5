"""The MLflow tracking REST surface, driven as the MLflow client drives it:
experiments, runs, params, metrics (history, latest value, NaN), tags,
batches, search with order_by and page tokens, and MLflow's error codes."""
import math
import urllib.parse

import pytest

from conftest import Server, error, ok

API = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import Workspace
    s = Server(Workspace(tmp_path_factory.mktemp("mlflow")))
    yield s
    assert s.stop() == 0, s.logs()


def post(srv, endpoint, body, prefix=API):
    return srv.post(f"{prefix}/{endpoint}", body)


def get(srv, endpoint, prefix=API, **query):
    qs = urllib.parse.urlencode(query, doseq=True)
    return srv.get(f"{prefix}/{endpoint}?{qs}")


def metric_value(v):
    return float(v) if isinstance(v, str) else v


def test_default_experiment_exists(srv):
    exp = ok(get(srv, "experiments/get", experiment_id="0"))["experiment"]
    assert exp["experiment_id"] == "0" and exp["name"] == "Default"
    assert exp["lifecycle_stage"] == "active"
    assert ok(get(srv, "experiments/get-by-name", experiment_name="Default"))["experiment"] == exp


def test_training_script(srv):
    # what mlflow.set_experiment + start_run + log_* + end_run send
    name = "churn — modèle ✓"
    exp_id = ok(post(srv, "experiments/create", {"name": name, "tags": [{"key": "team", "value": "ml"}]}))[
        "experiment_id"]
    assert exp_id.isdigit() and exp_id != "0"
    exp = ok(get(srv, "experiments/get-by-name", experiment_name=name))["experiment"]
    assert exp["experiment_id"] == exp_id and exp["name"] == name
    assert exp["artifact_location"] == f"mlflow-artifacts:/{exp_id}"
    assert exp["tags"] == [{"key": "team", "value": "ml"}]
    assert isinstance(exp["creation_time"], int)

    tags = [{"key": "mlflow.runName", "value": "run ünicode"}, {"key": "mlflow.user", "value": "ana"},
            {"key": "mlflow.source.name", "value": "train.py"}, {"key": "mlflow.source.type", "value": "LOCAL"}]
    run = ok(post(srv, "runs/create", {"experiment_id": exp_id, "user_id": "ana", "start_time": 1700000000000,
                                       "tags": tags}))["run"]
    info = run["info"]
    run_id = info["run_id"]
    assert len(run_id) == 32 and all(ch in "0123456789abcdef" for ch in run_id)
    assert info["run_uuid"] == run_id and info["experiment_id"] == exp_id
    assert info["run_name"] == "run ünicode" and info["status"] == "RUNNING"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"
    assert info["lifecycle_stage"] == "active" and info["start_time"] == 1700000000000
    assert {(t["key"], t["value"]) for t in run["data"]["tags"]} == {(t["key"], t["value"]) for t in tags}

    ok(post(srv, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.001"}))
    ok(post(srv, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.001"}))  # same value: fine
    ok(post(srv, "runs/log-parameter", {"run_id": run_id, "key": "note", "value": "naïve — 日本語 \"q\" \\ ok"}))
    floats = [0.1, 1 / 3, 1e-300, 123456789.123456789, -2.5e17]
    for step, v in enumerate(floats):
        ok(post(srv, "runs/log-metric", {"run_id": run_id, "key": "loss", "value": v,
                                         "timestamp": 1700000000000 + step, "step": step}))
    # an older step logged later does not become the latest value
    ok(post(srv, "runs/log-metric", {"run_id": run_id, "key": "loss", "value": 99.0,
                                     "timestamp": 1700000009999, "step": 1}))
    # NaN the way the client sends it, and as Python's json writes it
    ok(post(srv, "runs/log-metric", {"run_id": run_id, "key": "nan_metric", "value": "NaN",
                                     "timestamp": 1, "step": 0}))
    status, body = srv.request("POST", f"{API}/runs/log-metric",
                               raw=b'{"run_id": "%s", "key": "inf", "value": Infinity, "timestamp": 1}'
                               % run_id.encode())
    assert status == 200, body
    # same step and timestamp: the largest value wins
    ok(post(srv, "runs/log-metric", {"run_id": run_id, "key": "tie", "value": 1.5, "timestamp": 7, "step": 2}))
    ok(post(srv, "runs/log-metric", {"run_id": run_id, "key": "tie", "value": 2.5, "timestamp": 7, "step": 2}))
    ok(post(srv, "runs/log-metric", {"run_id": run_id, "key": "tie", "value": 0.5, "timestamp": 7, "step": 2}))
    ok(post(srv, "runs/set-tag", {"run_id": run_id, "key": "stage", "value": "dev"}))
    ok(post(srv, "runs/set-tag", {"run_id": run_id, "key": "stage", "value": "prod ✓"}))
    ok(post(srv, "runs/set-tag", {"run_id": run_id, "key": "tmp", "value": "x"}))
    ok(post(srv, "runs/delete-tag", {"run_id": run_id, "key": "tmp"}))
    error(post(srv, "runs/delete-tag", {"run_id": run_id, "key": "tmp"}), 404, "RESOURCE_DOES_NOT_EXIST")
    ok(post(srv, "runs/log-batch", {
        "run_id": run_id,
        "metrics": [{"key": "acc", "value": 0.5 + i / 10, "timestamp": 1700000000100 + i, "step": i}
                    for i in range(4)],
        "params": [{"key": "epochs", "value": "4"}, {"key": "model", "value": "linear"}],
        "tags": [{"key": "batch", "value": "yes"}],
    }))
    info = ok(post(srv, "runs/update", {"run_id": run_id, "status": "FINISHED",
                                        "end_time": 1700000099999}))["run_info"]
    assert info["status"] == "FINISHED" and info["end_time"] == 1700000099999

    run = ok(get(srv, "runs/get", run_id=run_id))["run"]
    assert run["info"]["status"] == "FINISHED" and run["info"]["end_time"] == 1700000099999
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert set(metrics) == {"loss", "nan_metric", "inf", "tie", "acc"}
    assert metrics["loss"]["value"] == -2.5e17 and metrics["loss"]["step"] == 4
    assert math.isnan(metric_value(metrics["nan_metric"]["value"]))
    assert metric_value(metrics["inf"]["value"]) == math.inf
    assert metrics["tie"]["value"] == 2.5
    assert metrics["acc"]["value"] == 0.8 and metrics["acc"]["step"] == 3
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    assert params == {"lr": "0.001", "note": "naïve — 日本語 \"q\" \\ ok", "epochs": "4", "model": "linear"}
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["stage"] == "prod ✓" and tags["batch"] == "yes" and "tmp" not in tags
    assert tags["mlflow.runName"] == "run ünicode"
    # older clients send run_uuid
    assert ok(get(srv, "runs/get", run_uuid=run_id))["run"]["info"]["run_id"] == run_id

    history = ok(get(srv, "metrics/get-history", run_id=run_id, metric_key="loss"))["metrics"]
    assert len(history) == len(floats) + 1
    assert sorted((m["step"], m["value"]) for m in history) == sorted(
        [(i, v) for i, v in enumerate(floats)] + [(1, 99.0)])
    assert all(m["key"] == "loss" for m in history)
    assert [m["value"] for m in history if m["timestamp"] < 1700000009999] == floats  # exact round trip

    # renaming through update mirrors the tag
    ok(post(srv, "runs/update", {"run_id": run_id, "run_name": "renamed"}))
    run = ok(get(srv, "runs/get", run_id=run_id))["run"]
    assert run["info"]["run_name"] == "renamed"
    assert {t["key"]: t["value"] for t in run["data"]["tags"]}["mlflow.runName"] == "renamed"


def test_ajax_prefix(srv):
    exp_id = ok(post(srv, "experiments/create", {"name": "ajax"}, prefix="/ajax-api/2.0/mlflow"))["experiment_id"]
    assert ok(get(srv, "experiments/get", experiment_id=exp_id))["experiment"]["name"] == "ajax"
    run_id = ok(post(srv, "runs/create", {"experiment_id": exp_id}, prefix="/ajax-api/2.0/mlflow"))["run"]["info"][
        "run_id"]
    assert ok(get(srv, "runs/get", prefix="/ajax-api/2.0/mlflow", run_id=run_id))["run"]["info"]["experiment_id"] == exp_id


def test_search_order_and_pages(srv):
    exp_id = ok(post(srv, "experiments/create", {"name": "search"}))["experiment_id"]
    ids = []
    for i in range(7):
        run = ok(post(srv, "runs/create", {"experiment_id": exp_id, "start_time": 1000 + i,
                                           "run_name": f"r{i}"}))["run"]
        rid = run["info"]["run_id"]
        ids.append(rid)
        ok(post(srv, "runs/log-batch", {"run_id": rid, "metrics": [{"key": "f1", "value": (i * 3) % 7 / 10,
                                                                     "timestamp": 5, "step": 0}],
                                        "params": [{"key": "i", "value": str(i)}]}))
    # default order: start_time descending
    runs = ok(post(srv, "runs/search", {"experiment_ids": [exp_id]}))["runs"]
    assert [r["info"]["run_id"] for r in runs] == ids[::-1]
    assert "next_page_token" not in ok(post(srv, "runs/search", {"experiment_ids": [exp_id]}))

    # order_by a metric, three pages of 3, 3, 1
    seen, token, pages = [], None, 0
    while True:
        body = {"experiment_ids": [exp_id], "order_by": ["metrics.f1 DESC"], "max_results": 3}
        if token:
            body["page_token"] = token
        page = ok(post(srv, "runs/search", body))
        pages += 1
        seen += [r["info"]["run_id"] for r in page["runs"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert pages == 3 and len(seen) == 7
    expected = sorted(range(7), key=lambda i: -((i * 3) % 7 / 10))
    assert seen == [ids[i] for i in expected]

    page = ok(post(srv, "runs/search", {"experiment_ids": [exp_id], "order_by": ["attributes.start_time ASC"],
                                        "max_results": 2}))
    assert [r["info"]["run_id"] for r in page["runs"]] == ids[:2]

    # filters, when the filter module answers them
    status, body = post(srv, "runs/search", {"experiment_ids": [exp_id], "filter": "metrics.f1 >= 0.5 and params.i != '3'"})
    assert status == 200, body
    got = {r["info"]["run_id"] for r in body["runs"]}
    assert got == {ids[i] for i in range(7) if (i * 3) % 7 / 10 >= 0.5 and i != 3}
    msg = error(post(srv, "runs/search", {"experiment_ids": [exp_id], "filter": "metrics.f1 >> 1"}),
                400, "INVALID_PARAMETER_VALUE")
    assert "character" in msg

    # deleted runs leave the active view
    ok(post(srv, "runs/delete", {"run_id": ids[0]}))
    assert ids[0] not in [r["info"]["run_id"] for r in ok(post(srv, "runs/search", {"experiment_ids": [exp_id]}))["runs"]]
    deleted = ok(post(srv, "runs/search", {"experiment_ids": [exp_id], "run_view_type": "DELETED_ONLY"}))["runs"]
    assert [r["info"]["run_id"] for r in deleted] == [ids[0]]
    assert deleted[0]["info"]["lifecycle_stage"] == "deleted"
    ok(post(srv, "runs/restore", {"run_id": ids[0]}))
    assert len(ok(post(srv, "runs/search", {"experiment_ids": [exp_id]}))["runs"]) == 7

    error(post(srv, "runs/search", {"experiment_ids": [exp_id], "page_token": "garbage!"}), 400,
          "INVALID_PARAMETER_VALUE")
    error(post(srv, "runs/search", {"experiment_ids": [exp_id], "max_results": 50001}), 400,
          "INVALID_PARAMETER_VALUE")
    assert ok(post(srv, "runs/search", {"experiment_ids": [exp_id], "max_results": 50000}))["runs"]


def test_experiments_lifecycle_and_search(srv):
    names = [f"page-{i}" for i in range(5)]
    ids = [ok(post(srv, "experiments/create", {"name": n}))["experiment_id"] for n in names]
    seen, token = [], None
    while True:
        body = {"max_results": 2, "order_by": ["name ASC"], "filter": "name LIKE 'page-%'"}
        if token:
            body["page_token"] = token
        page = ok(post(srv, "experiments/search", body))
        seen += [e["name"] for e in page["experiments"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == names

    ok(post(srv, "experiments/update", {"experiment_id": ids[0], "new_name": "page-renamed"}))
    assert ok(get(srv, "experiments/get", experiment_id=ids[0]))["experiment"]["name"] == "page-renamed"
    error(post(srv, "experiments/update", {"experiment_id": ids[0], "new_name": "page-1"}), 400,
          "RESOURCE_ALREADY_EXISTS")
    ok(post(srv, "experiments/set-experiment-tag", {"experiment_id": ids[1], "key": "k", "value": "v ✓"}))
    assert ok(get(srv, "experiments/get", experiment_id=ids[1]))["experiment"]["tags"] == [{"key": "k", "value": "v ✓"}]

    ok(post(srv, "experiments/delete", {"experiment_id": ids[2]}))
    assert ok(get(srv, "experiments/get", experiment_id=ids[2]))["experiment"]["lifecycle_stage"] == "deleted"
    active = [e["experiment_id"] for e in ok(post(srv, "experiments/search", {}))["experiments"]]
    assert ids[2] not in active and "0" in active
    deleted = ok(post(srv, "experiments/search", {"view_type": "DELETED_ONLY"}))["experiments"]
    assert [e["experiment_id"] for e in deleted] == [ids[2]]
    error(post(srv, "runs/create", {"experiment_id": ids[2]}), 400, "INVALID_PARAMETER_VALUE")
    ok(post(srv, "experiments/restore", {"experiment_id": ids[2]}))
    assert ok(get(srv, "experiments/get", experiment_id=ids[2]))["experiment"]["lifecycle_stage"] == "active"
    # GET works for search too (the web UI)
    assert ok(get(srv, "experiments/search", max_results=1000))["experiments"]


def test_errors(srv):
    error(post(srv, "experiments/create", {"name": "Default"}), 400, "RESOURCE_ALREADY_EXISTS")
    ok(post(srv, "experiments/create", {"name": "dup"}))
    error(post(srv, "experiments/create", {"name": "dup"}), 400, "RESOURCE_ALREADY_EXISTS")
    error(post(srv, "experiments/create", {}), 400, "INVALID_PARAMETER_VALUE")
    error(get(srv, "experiments/get", experiment_id="987654"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(get(srv, "experiments/get-by-name", experiment_name="nope"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(get(srv, "runs/get", run_id="0" * 32), 404, "RESOURCE_DOES_NOT_EXIST")
    error(post(srv, "runs/log-metric", {"run_id": "f" * 32, "key": "m", "value": 1, "timestamp": 1}), 404,
          "RESOURCE_DOES_NOT_EXIST")
    error(post(srv, "runs/create", {"experiment_id": "424242"}), 404, "RESOURCE_DOES_NOT_EXIST")

    run_id = ok(post(srv, "runs/create", {"experiment_id": "0"}))["run"]["info"]["run_id"]
    ok(post(srv, "runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"}))
    msg = error(post(srv, "runs/log-parameter", {"run_id": run_id, "key": "p", "value": "2"}), 400,
                "INVALID_PARAMETER_VALUE")
    assert "p" in msg
    error(post(srv, "runs/log-batch", {"run_id": run_id, "params": [{"key": "p", "value": "3"}]}), 400,
          "INVALID_PARAMETER_VALUE")
    error(post(srv, "runs/log-metric", {"run_id": run_id, "key": "../up", "value": 1, "timestamp": 1}), 400,
          "INVALID_PARAMETER_VALUE")
    error(post(srv, "runs/log-metric", {"run_id": run_id, "key": "m", "value": "abc", "timestamp": 1}), 400,
          "INVALID_PARAMETER_VALUE")
    error(post(srv, "runs/update", {"run_id": run_id, "status": "DONE"}), 400, "INVALID_PARAMETER_VALUE")

    # batch limits, each named; nothing of a refused batch is written
    too_many = [{"key": f"m{i}", "value": i, "timestamp": 1, "step": 0} for i in range(1001)]
    assert "1000 metrics" in error(post(srv, "runs/log-batch", {"run_id": run_id, "metrics": too_many}), 400,
                                   "INVALID_PARAMETER_VALUE")
    params = [{"key": f"q{i}", "value": "v"} for i in range(101)]
    assert "100 params" in error(post(srv, "runs/log-batch", {"run_id": run_id, "params": params}), 400,
                                 "INVALID_PARAMETER_VALUE")
    tags = [{"key": f"t{i}", "value": "v"} for i in range(101)]
    assert "100 tags" in error(post(srv, "runs/log-batch", {"run_id": run_id, "tags": tags}), 400,
                               "INVALID_PARAMETER_VALUE")
    mixed = {"run_id": run_id, "metrics": too_many[:950], "params": params[:60]}
    assert "1000 total" in error(post(srv, "runs/log-batch", mixed), 400, "INVALID_PARAMETER_VALUE")
    run = ok(get(srv, "runs/get", run_id=run_id))["run"]
    assert run["data"]["metrics"] == [] and [p["key"] for p in run["data"]["params"]] == ["p"]
    # the largest batch allowed goes in
    ok(post(srv, "runs/log-batch", {"run_id": run_id, "metrics": too_many[:1000]}))
    assert len(ok(get(srv, "runs/get", run_id=run_id))["run"]["data"]["metrics"]) == 1000

    error(srv.get(f"{API}/runs/no-such-thing"), 404, "ENDPOINT_NOT_FOUND")
    error(post(srv, "experiments/nope", {}), 404, "ENDPOINT_NOT_FOUND")
    error(srv.get("/ajax-api/2.0/mlflow/nope"), 404, "ENDPOINT_NOT_FOUND")
    status, body = srv.request("POST", f"{API}/runs/create", raw=b"{not json", headers={})
    assert status == 400 and body["error_code"] == "BAD_REQUEST"
    status, body = srv.request("POST", f"{API}/runs/create", raw=b"{}", headers={"Content-Type": "text/plain"})
    assert status == 400 and body["error_code"] == "BAD_REQUEST"

    # a deleted run refuses new data
    ok(post(srv, "runs/delete", {"run_id": run_id}))
    error(post(srv, "runs/log-metric", {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1}), 400,
          "INVALID_PARAMETER_VALUE")
    assert ok(get(srv, "runs/get", run_id=run_id))["run"]["info"]["lifecycle_stage"] == "deleted"


def test_boucle_runs_are_mlflow_runs(trained):
    """A run boucle makes itself (here `boucle train`) sits in the experiment
    boucle/<task> beside the user's runs: its params, its test metrics as
    MLflow metrics, searchable and ordered like any run."""
    srv = Server(trained)
    try:
        exp = ok(get(srv, "experiments/get-by-name", experiment_name="boucle/sentiment"))
        exp_id = exp["experiment"]["experiment_id"]
        found = ok(post(srv, "runs/search", {
            "experiment_ids": [exp_id],
            "filter": "metrics.`test.accuracy` > 0.5 and tags.`boucle.kind` = 'train'",
            "order_by": ["metrics.`test.accuracy` DESC"]}))["runs"]
        assert len(found) == 1, found
        run = found[0]
        info, data = run["info"], run["data"]
        assert info["status"] == "FINISHED" and info["user_id"] == "boucle"
        assert info["run_name"] == "train"
        assert info["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{info['run_id']}/artifacts"
        metrics = {m["key"]: m["value"] for m in data["metrics"]}
        assert 0.5 < metrics["test.accuracy"] <= 1.0
        assert metrics["model_version"] == 1 and metrics["n_train"] > 1000
        tags = {t["key"]: t["value"] for t in data["tags"]}
        assert tags["boucle.task"] == "sentiment" and tags["mlflow.runName"] == "train"
        params = {p["key"]: p["value"] for p in data["params"]}
        assert params, "the training params are MLflow params"
        # the same run through boucle's own API
        status, mine = srv.get(f"/v1/runs/{info['run_id']}")
        assert status == 200 and mine["task"] == "sentiment"
    finally:
        assert srv.stop() == 0, srv.logs()
