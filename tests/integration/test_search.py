"""Hyper-parameter search (`model: {search: ...}`): stratified k-fold CV of
every trial of a grid, the best by mean score refit on all training rows;
each trial an MLflow child run of the training run; the same from the
loop's train step; bad grids refused with the key, the value and the line."""
import json
import math

import pytest

from conftest import Server, Workspace, ok

GRID = {"C": ["0.1", "1", "10"], "ngram_max": ["1", "2"]}


def config(search, extra=""):
    return f"""\
store: sqlite:boucle.db
tasks:
  sentiment:
    type: multiclass
    text: [text]
    label: airline_sentiment
    model:
      kind: linear
{extra}      search:
{search}
"""


SEARCH = """\
        grid: {C: [0.1, 1, 10], ngram_max: [1, 2]}
        folds: 3"""


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """The sample imported and trained with a 3 x 2 grid, 3 folds."""
    w = Workspace(tmp_path_factory.mktemp("search"), config(SEARCH))
    w.copy_sample()
    w.run("import", "--task", "sentiment", "tweets.csv", check=True)
    return w, w.run_json("train", "--task", "sentiment")


def test_best_trial_is_the_argmax_of_the_mean_scores(searched):
    _, out = searched
    s = out["search"]
    assert s["metric"] == "f1_macro"  # the gate's primary by default
    assert s["folds"] == 3 and s["n_trials"] == 6 and s["jobs"] >= 1
    trials = s["trials"]
    # grid order, the last key fastest
    assert [t["params"] for t in trials] == [
        {"C": c, "ngram_max": n} for c in GRID["C"] for n in GRID["ngram_max"]]
    for t in trials:
        splits = t["split_test_scores"]
        assert len(splits) == 3 and all(0 < x <= 1 for x in splits)
        mean = sum(splits) / 3
        assert math.isclose(t["mean_test_score"], mean, rel_tol=1e-9)
        std = math.sqrt(sum((x - mean) ** 2 for x in splits) / 3)
        assert math.isclose(t["std_test_score"], std, rel_tol=1e-6, abs_tol=1e-12)
    means = [t["mean_test_score"] for t in trials]
    best = means.index(max(means))  # the first of equal means
    assert s["best_trial"] == best + 1
    assert s["best_params"] == trials[best]["params"]
    assert s["best_cv_score"] == means[best]
    assert trials[best]["rank_test_score"] == 1
    assert sorted(t["rank_test_score"] for t in trials)[0] == 1
    # the refit model is measured on the test split as any other
    assert out["metrics"]["f1_macro"] > 0.5 and out["model_version"] == 1


def test_the_text_report_and_runs_show(searched):
    ws, out = searched
    p = ws.run("train", "--task", "sentiment", check=True)
    assert "search     6 trials x 3 folds, f1_macro" in p.stdout
    assert p.stdout.count("rank ") == 6
    run = ws.run_json("runs", "show", out["run_id"])
    assert run["metrics"]["search"]["best_params"] == out["search"]["best_params"]
    assert run["params"]["search"]["grid"] == json.dumps(GRID, separators=(",", ":"))
    # the searched keys are left out of the first params: the best are logged
    assert "C" not in run["params"]["model"] and "ngram_max" not in run["params"]["model"]
    assert any("search: best trial" in line for line in run["logs"])


def test_trials_are_mlflow_child_runs(searched):
    ws, out = searched
    parent = out["run_id"]
    srv = Server(ws)
    try:
        exp = ok(srv.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=boucle/sentiment"))
        exp_id = exp["experiment"]["experiment_id"]
        found = ok(srv.post("/api/2.0/mlflow/runs/search", {
            "experiment_ids": [exp_id],
            "filter": f"tags.mlflow.parentRunId = '{parent}'",
            "order_by": ["metrics.mean_test_score DESC"]}))["runs"]
        assert len(found) == 6
        by_trial = {}
        for r in found:
            tags = {t["key"]: t["value"] for t in r["data"]["tags"]}
            params = {p["key"]: p["value"] for p in r["data"]["params"]}
            metrics = {m["key"]: m["value"] for m in r["data"]["metrics"]}
            assert r["info"]["status"] == "FINISHED"
            assert tags["boucle.kind"] == "search_trial" and tags["boucle.search.metric"] == "f1_macro"
            assert r["info"]["run_name"] == "trial-" + tags["boucle.search.trial"]
            assert {"split0_test_score", "split1_test_score", "split2_test_score", "std_test_score",
                    "rank_test_score", "mean_fit_time"} <= metrics.keys()
            by_trial[int(tags["boucle.search.trial"])] = (params, metrics, r["info"]["run_id"])
        for t in out["search"]["trials"]:
            params, metrics, run_id = by_trial[t["trial"]]
            assert run_id == t["run_id"]
            assert params == {"model.C": t["params"]["C"], "model.ngram_max": t["params"]["ngram_max"]}
            assert math.isclose(metrics["mean_test_score"], t["mean_test_score"], rel_tol=1e-12)
        # ordered by the mean score: the first is the best trial
        best = {t["key"]: t["value"] for t in found[0]["data"]["tags"]}["boucle.search.trial"]
        assert int(best) == out["search"]["best_trial"]
        # the training run has the best params as its own, and the summary as metrics
        run = ok(srv.get(f"/api/2.0/mlflow/runs/get?run_id={parent}"))["run"]
        params = {p["key"]: p["value"] for p in run["data"]["params"]}
        assert params["model.C"] == out["search"]["best_params"]["C"]
        assert params["model.ngram_max"] == out["search"]["best_params"]["ngram_max"]
        metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
        assert metrics["search.best_cv_score"] == pytest.approx(out["search"]["best_cv_score"])
        # boucle's own run list keeps to the task's runs, not its trials
        runs = ws.run_json("runs", "list", "--task", "sentiment")
        assert all(r["kind"] == "train" for r in runs)
    finally:
        assert srv.stop() == 0, srv.logs()


def test_scores_do_not_depend_on_jobs_and_the_loop_searches_too(searched):
    ws, out = searched
    ws.write_config(config(SEARCH + "\n        jobs: 1"))
    (ws.path / "train.yaml").write_text("task: sentiment\nsteps: [train]\n")
    p = ws.run("run", "train.yaml", "--json")
    assert p.returncode == 0, p.stderr
    run = json.loads(p.stdout)
    s = run["state"]["train"]["search"]
    assert s["jobs"] == 1
    assert [t["split_test_scores"] for t in s["trials"]] == \
        [t["split_test_scores"] for t in out["search"]["trials"]]
    assert s["best_params"] == out["search"]["best_params"]


def test_bad_grids_are_refused(ws):
    ws.copy_sample(rows=300)
    ws.write_config(config("        grid: {C: [1, -2]}"))
    p = ws.run("train", "--task", "sentiment")
    assert p.returncode == 3
    assert ("search trial 2 of 2 (C=-2): model.C (line 10): expected a positive number, got '-2'"
            in p.stderr), p.stderr
    ws.write_config(config("        grid: {C: [1], colour: [red]}"))
    p = ws.run("train", "--task", "sentiment")
    assert p.returncode == 3 and "model.colour (line 10): unknown key" in p.stderr, p.stderr
    ws.write_config(config("        grid: {C: [1, 2, 3], min_df: [1, 2, 3]}\n        max_trials: 5"))
    p = ws.run("train", "--task", "sentiment")
    assert p.returncode == 3
    assert "the grid has 9 trials (3 C x 3 min_df), more than max_trials 5" in p.stderr, p.stderr
    ws.write_config(config("        grid: {C: [1]}\n        folds: 30"))
    p = ws.run("train", "--task", "sentiment")
    assert p.returncode == 3 and "folds: expected an integer from 2 to 20, got '30'" in p.stderr
    # a multilabel metric for a multiclass task (either type's names parse)
    ws.write_config(config("        grid: {C: [1, 2]}\n        metric: f1_samples"))
    p = ws.run("train", "--task", "sentiment")
    assert p.returncode == 3
    assert ("tasks.sentiment.model.search (line 10): unknown metric 'f1_samples'" in p.stderr), \
        p.stderr
    # thresholds are for multilabel tasks, searched or not
    ws.write_config(config("        grid: {threshold: [0.3, 0.5]}"))
    p = ws.run("train", "--task", "sentiment")
    assert p.returncode == 3 and "apply to multilabel tasks only" in p.stderr, p.stderr
    # nothing ran: no run was created for a refused grid
    assert ws.run("runs", "list").stdout.strip() in ("[]", "")


def test_a_label_with_fewer_rows_than_folds(ws):
    rows = ["text,airline_sentiment"] + [f"good flight {i},positive" for i in range(20)] + \
        [f"bad flight {i},negative" for i in range(20)] + ["meh,neutral", "so so,neutral"]
    (ws.path / "few.csv").write_text("\n".join(rows) + "\n")
    ws.write_config(config("        grid: {C: [1, 10]}\n        folds: 4",
                           extra="      min_df: 1\n"))
    ws.run("import", "--task", "sentiment", "few.csv", "--split", "train", check=True)
    p = ws.run("train", "--task", "sentiment")
    assert p.returncode == 3
    assert "label 'neutral' has" in p.stderr and "fewer than the 4 folds" in p.stderr, p.stderr
