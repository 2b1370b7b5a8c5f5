"""The fasttext model kind end to end: import the sample tweets, train
`model: {kind: fasttext, ...}`, serve its predictions; determinism with one
thread and a seed; config errors naming key and line; a damaged artifact."""
from conftest import Workspace

CONFIG = """\
store: sqlite:boucle.db
tasks:
  sentiment:
    type: multiclass
    text: [text]
    label: airline_sentiment
    model: {{kind: fasttext, {params}}}
"""


def workspace(tmp_path, params):
    ws = Workspace(tmp_path, CONFIG.format(params=params))
    ws.copy_sample()
    ws.run("import", "tweets.csv", check=True)
    return ws


def test_train_and_serve_fasttext(tmp_path, server_factory):
    ws = workspace(tmp_path, "dim: 50, epoch: 10, lr: 0.5, word_ngrams: 2, minn: 3, maxn: 5, "
                             "bucket: 200000, thread: 2")
    out = ws.run_json("train")
    assert out["model_version"] == 1 and out["champion"] is True
    assert out["n_train"] == 4800 and out["n_test"] == 1200
    # the linear baseline scores ~0.78 on this split; a majority guess 0.63
    assert out["metrics"]["accuracy"] > 0.72, out["metrics"]
    assert out["n_features"] > 10000
    run = ws.run_json("runs", "list")[0]
    assert run["params"]["model"] == {
        "kind": "fasttext", "dim": 50, "epoch": 10, "lr": 0.5, "word_ngrams": 2, "minn": 3,
        "maxn": 5, "bucket": 200000, "min_count": 1, "thread": 2, "seed": 0, "loss": "softmax",
        "keep_punct": True}  # the default, recorded: it changed the featuriser
    models = ws.run_json("models", "list")
    assert models[0]["kind"] == "fasttext"

    srv = server_factory(ws)
    status, p = srv.post("/v1/tasks/sentiment/predict",
                         {"text": "@united lost my luggage again, worst airline, awful"})
    assert status == 200, p
    assert p["label"] == "negative" and p["model_version"] == 1
    assert abs(sum(p["probabilities"].values()) - 1) < 1e-6
    status, b = srv.post("/v1/tasks/sentiment/predict",
                         {"inputs": ["thank you so much, great crew, lovely flight!",
                                     {"text": "terrible delay, cancelled flightled"}]})
    assert status == 200 and [x["label"] for x in b["predictions"]] == ["positive", "negative"]
    # the CLI loads the same artifact and agrees with the server
    cli = ws.run_json("predict", "@united lost my luggage again, worst airline, awful")
    assert cli[0]["label"] == "negative"
    assert abs(cli[0]["probabilities"]["negative"] - p["probabilities"]["negative"]) < 1e-6
    assert srv.stop() == 0, srv.logs()


def test_one_thread_and_a_seed_give_the_same_artifact(tmp_path):
    ws = workspace(tmp_path, "dim: 20, epoch: 3, word_ngrams: 2, thread: 1, seed: 5")
    a, b = ws.run_json("train"), ws.run_json("train")
    assert a["artifact_sha256"] == b["artifact_sha256"]
    assert a["metrics"]["accuracy"] == b["metrics"]["accuracy"]
    ws.write_config(CONFIG.format(params="dim: 20, epoch: 3, word_ngrams: 2, thread: 1, seed: 6"))
    assert ws.run_json("train")["artifact_sha256"] != a["artifact_sha256"]


def test_bad_params_name_key_and_line(tmp_path):
    ws = workspace(tmp_path, "dim: 0")
    p = ws.run("train")
    assert p.returncode == 3
    assert "model.dim (line 7): expected an integer from 1 to 1024, got '0'" in p.stderr
    ws.write_config(CONFIG.format(params="C: 2"))
    p = ws.run("train")
    assert p.returncode == 3 and "model.C (line 7): unknown key for kind fasttext" in p.stderr


def test_damaged_fasttext_artifact_is_refused(tmp_path):
    ws = workspace(tmp_path, "dim: 10, epoch: 2")
    ws.run("train", check=True)
    assert ws.run("predict", "hello").returncode == 0
    blob = bytearray(ws.sql_value("select artifact from model_versions"))
    blob[len(blob) // 2] ^= 0x01
    ws.sql("update model_versions set artifact = ?", bytes(blob))
    p = ws.run("predict", "hello")
    assert p.returncode == 4 and "checksum" in p.stderr
