"""The model registry through boucle's own CLI and HTTP API: a version shown
with its lineage (run, dataset hash, config hash, boucle version), promotions
that refuse a worse, archived or unservable version unless forced, and an
alias history that says who moved what, when and why."""
import json
import os
import pwd
import time

import pytest

from conftest import CONFIG, Workspace, ok

ME = f"cli:{pwd.getpwuid(os.geteuid()).pw_name}"
# the same task, trained on shuffled labels: a version that must score lower
WORSE = CONFIG.replace("model: {kind: linear}", "model: {kind: linear}\n    shuffle_labels: true")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """Versions 1 and 2 trained on the same data (1 is the champion), 3 on
    shuffled labels."""
    w = Workspace(tmp_path_factory.mktemp("registry"))
    w.copy_sample(rows=600)
    w.run("import", "--task", "sentiment", "tweets.csv", check=True)
    w.run("train", check=True)
    w.run("train", check=True)
    w.write_config(WORSE)
    w.run("train", check=True)
    w.write_config(CONFIG)
    return w


def history(ws):
    return ws.run_json("models", "history", "--task", "sentiment")


def test_show_gives_lineage_registry_fields_and_moves(ws):
    v = ws.run_json("models", "show", "2")
    trained_by = ws.run("version", check=True).stdout.split()[1]
    assert v["task"] == "sentiment" and v["version"] == 2 and v["kind"] == "linear"
    assert v["boucle_version"] == trained_by
    run = ws.run_json("runs", "show", v["run_id"])
    assert run["kind"] == "train" and run["status"] == "completed"
    # the content hash of what it was trained on: the run's, and version 1's (same data)
    assert v["dataset_hash"] == run["metrics"]["dataset_hash"]
    assert v["dataset_hash"] == ws.run_json("models", "show", "1")["dataset_hash"]
    assert len(v["config_hash"]) == 64 and len(v["sha256"]) == 64 and v["size"] > 0
    assert 0 < v["metrics"]["f1_macro"] <= 1
    assert v["description"] == "" and v["stage"] == "None" and v["source"] == "boucle:/sentiment/2"
    assert v["tags"] == [] and v["aliases"] == [] and v["alias_history"] == []
    # version 1 became champion when it was trained, by whoever trained it
    first = ws.run_json("models", "show", "1")
    assert first["aliases"] == ["champion"]
    [move] = first["alias_history"]
    assert (move["alias"], move["from_version"], move["to_version"]) == ("champion", None, 1)
    assert move["actor"] == ME and move["reason"] == "the task's first version"

    p = ws.run("models", "show", "9")
    assert p.returncode == 3 and "task 'sentiment' has no model version 9" in p.stderr
    p = ws.run("models", "show", "two")
    assert p.returncode == 2 and "VERSION must be a positive version number" in p.stderr
    p = ws.run("models", "shw", "2")
    assert p.returncode == 2 and "list | show VERSION | history" in p.stderr


def test_promote_refuses_worse_and_archived_unless_forced(ws):
    worse = ws.run_json("models", "show", "3")["metrics"]["f1_macro"]
    champion = ws.run_json("models", "show", "1")["metrics"]["f1_macro"]
    assert worse < champion
    p = ws.run("promote", "--version", "3")
    assert p.returncode == 1, p.stderr
    assert f"f1_macro {worse:.4f}" in p.stderr and f"champion 1's {champion:.4f}" in p.stderr
    assert "--force" in p.stderr
    assert history(ws)[0]["to_version"] == 1  # nothing moved

    out = ws.run_json("promote", "--version", "2", "--reason", "same data, newer build")
    assert out == {"task": "sentiment", "champion": 2, "previous": 1}
    p = ws.run("promote", "--version", "2")
    assert p.returncode == 1 and "already the champion" in p.stderr

    out = ws.run_json("promote", "--version", "3", "--force")
    assert out["champion"] == 3 and out["previous"] == 2
    moves = history(ws)
    assert (moves[0]["alias"], moves[0]["from_version"], moves[0]["to_version"]) == ("champion", 2, 3)
    assert moves[0]["actor"] == ME and moves[0]["reason"] == "promoted from the command line"
    assert (moves[1]["alias"], moves[1]["to_version"]) == ("previous", 2)
    reasons = [m["reason"] for m in moves if m["to_version"] == 2 and m["alias"] == "champion"]
    assert reasons == ["same data, newer build"]

    p = ws.run("rollback")
    assert p.returncode == 0 and "champion is now version 2" in p.stdout
    assert history(ws)[0]["actor"] == ME and history(ws)[0]["reason"] == "rollback from the command line"

    p = ws.run("promote", "--version", "0")
    assert p.returncode == 2 and "--version must be a positive version number" in p.stderr


def test_http_show_promote_and_aliases(ws, server_factory):
    s = server_factory(ws)
    status, v = s.get("/v1/tasks/sentiment/models/1")
    assert status == 200 and v["version"] == 1 and v["boucle_version"] and v["dataset_hash"]
    status, body = s.get("/v1/tasks/sentiment/models/abc")
    assert status == 422 and body["error"]["field"] == "version"
    status, body = s.get("/v1/tasks/sentiment/models/99")
    assert status == 404 and body["error"]["field"] == "version"
    assert s.get("/v1/tasks/nope/models/1")[0] == 404

    champion = s.get("/v1/tasks/sentiment/aliases")[1]["aliases"]["champion"]
    other = 1 if champion != 1 else 2
    for bad, field in (({"force": "yes"}, "force"), ({"reason": 3}, "reason"), ({"why": "x"}, "why"),
                       ({"reason": "x" * 501}, "reason")):
        status, body = s.post(f"/v1/tasks/sentiment/models/{other}/promote", bad)
        assert status == 422 and body["error"]["field"] == field, body
    status, body = s.post("/v1/tasks/sentiment/models/3/promote")
    assert status == 409 and "force" in body["error"]["message"]
    status, body = s.request("GET", f"/v1/tasks/sentiment/models/{other}/promote")
    assert status == 405
    assert s.post(f"/v1/tasks/sentiment/models/{other}/promote/now", {})[0] == 404

    status, out = s.post(f"/v1/tasks/sentiment/models/{other}/promote",
                         {"force": True, "reason": "ops asked"})
    assert status == 200 and out == {"task": "sentiment", "champion": other, "previous": champion}
    deadline = time.time() + 1.5
    while s.get("/readyz")[1]["tasks"]["sentiment"]["model_version"] != other:
        assert time.time() < deadline, "the promoted version was not served within a second"
        time.sleep(0.05)
    status, a = s.get("/v1/tasks/sentiment/aliases")
    assert status == 200 and a["aliases"] == {"champion": other, "previous": champion}
    last = a["history"][0]
    assert (last["alias"], last["to_version"], last["reason"]) == ("champion", other, "ops asked")
    assert last["actor"] == "http:127.0.0.1" and last["changed_at"]


def test_token_names_the_actor_over_http_and_mlflow(tmp_path, server_factory):
    w = Workspace(tmp_path)
    w.copy_sample(rows=400)
    w.run("import", "tweets.csv", check=True)
    w.run("train", check=True)
    w.run("train", check=True)
    token = json.loads(w.run("token", "create", "--name", "ops", "--scopes", "admin", "--json",
                             check=True).stdout)
    w.write_config(CONFIG + f"auth:\n  tokens:\n    - {{name: ops, sha256: {token['sha256']}, "
                            f"scopes: [admin]}}\n")
    s = server_factory(w)
    auth = {"Authorization": f"Bearer {token['token']}"}
    status, _ = s.request("POST", "/v1/tasks/sentiment/models/2/promote", {}, headers=auth)
    assert status == 200
    ok(s.request("POST", "/api/2.0/mlflow/registered-models/alias",
                 {"name": "sentiment", "alias": "challenger", "version": "1"}, headers=auth))
    ok(s.request("DELETE", "/api/2.0/mlflow/registered-models/alias",
                 {"name": "sentiment", "alias": "challenger"}, headers=auth))
    status, a = s.request("GET", "/v1/tasks/sentiment/aliases", headers=auth)
    moves = [(m["alias"], m["from_version"], m["to_version"], m["reason"], m["actor"])
             for m in a["history"]]
    assert moves[:4] == [
        ("challenger", 1, None, "mlflow: delete_registered_model_alias", "token:ops"),
        ("challenger", None, 1, "mlflow: set_registered_model_alias", "token:ops"),
        ("champion", 1, 2, "promoted over HTTP", "token:ops"),
        ("previous", None, 1, "promoted over HTTP", "token:ops"),
    ]
    # the CLI reads the same history
    assert [m["actor"] for m in w.run_json("models", "history")][:4] == ["token:ops"] * 4
