"""Training: metrics on the held-out split, registry, champion, artifact checks,
and accuracy against scikit-learn on the same split."""
import csv
import random

from conftest import SAMPLE


def test_train_reports_metrics_and_first_version_is_champion(ws):
    ws.copy_sample()
    ws.run("import", "tweets.csv", check=True)
    out = ws.run_json("train", "--task", "sentiment")
    assert out["model_version"] == 1 and out["champion"] is True
    assert out["n_train"] == 4800 and out["n_test"] == 1200 and out["n_labels"] == 3
    m = out["metrics"]
    assert 0.70 < m["accuracy"] <= 1.0
    for k in ("f1_macro", "precision_macro", "recall_macro", "f1_weighted"):
        assert 0.0 < m[k] <= 1.0
    assert set(m["per_class"]) == {"negative", "neutral", "positive"}
    cm = m["confusion_matrix"]
    assert sum(map(sum, cm["matrix"])) == 1200
    # the human report says the same
    second = ws.run("train", check=True).stdout
    assert "version    2" in second and "(champion)" not in second
    assert "accuracy" in second and "confusion" in second
    models = ws.run_json("models", "list")
    assert [m["version"] for m in models] == [2, 1]
    champion = [m for m in models if "champion" in m["aliases"]]
    assert [m["version"] for m in champion] == [1]
    runs = ws.run_json("runs", "list")
    assert len(runs) == 2 and all(r["status"] == "completed" for r in runs)


def test_binary_task_reports_auc(tmp_path):
    from conftest import Workspace
    ws = Workspace(tmp_path, """\
tasks:
  polarity:
    type: binary
    text: [text]
    label: airline_sentiment
    model: {kind: linear}
""")
    rows = list(csv.DictReader(open(SAMPLE, encoding="utf-8", newline="")))
    rows = [r for r in rows if r["airline_sentiment"] != "neutral"][:2000]
    with open(ws.path / "b.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=rows[0].keys())
        w.writeheader()
        w.writerows(rows)
    ws.run("import", "b.csv", check=True)
    m = ws.run_json("train")["metrics"]
    assert 0.8 < m["roc_auc"] <= 1.0 and 0.5 < m["pr_auc"] <= 1.0


def test_training_without_data_fails_clearly(ws):
    p = ws.run("train")
    assert p.returncode == 3 and "no examples" in p.stderr


def test_corrupted_artifact_is_refused(ws):
    ws.copy_sample(rows=300)
    ws.run("import", "tweets.csv", check=True)
    ws.run("train", check=True)
    blob = bytearray(ws.sql_value("select artifact from model_versions"))
    blob[len(blob) // 2] ^= 0xFF
    ws.sql("update model_versions set artifact = ?", bytes(blob))
    p = ws.run("predict", "hello")
    assert p.returncode == 4 and "checksum" in p.stderr
    ws.sql("update model_versions set artifact = ?", bytes(blob[:100]))
    p = ws.run("predict", "hello")
    assert p.returncode == 4 and ("truncated" in p.stderr or "checksum" in p.stderr)


def sklearn_accuracy(train_rows, test_rows):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    X = vec.fit_transform([r["text"] for r in train_rows])
    clf = OneVsRestClassifier(LogisticRegression(solver="liblinear", C=1.0, max_iter=1000))
    clf.fit(X, [r["airline_sentiment"] for r in train_rows])
    pred = clf.predict(vec.transform([r["text"] for r in test_rows]))
    return sum(p == r["airline_sentiment"] for p, r in zip(pred, test_rows)) / len(test_rows)


def test_accuracy_within_1_5_points_of_scikit_learn_on_the_same_split(ws):
    rows = list(csv.DictReader(open(SAMPLE, encoding="utf-8", newline="")))
    random.Random(11).shuffle(rows)
    test_rows, train_rows = rows[:1500], rows[1500:]
    for name, part in (("train.csv", train_rows), ("test.csv", test_rows)):
        with open(ws.path / name, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=rows[0].keys())
            w.writeheader()
            w.writerows(part)
    ws.run("import", "--split", "train", "train.csv", check=True)
    ws.run("import", "--split", "test", "test.csv", check=True)
    ours = ws.run_json("train")["metrics"]["accuracy"]
    theirs = sklearn_accuracy(train_rows, test_rows)
    print(f"boucle accuracy {ours:.4f}, scikit-learn {theirs:.4f}")
    assert ours >= theirs - 0.015


def test_cli_predict_uses_the_champion(trained):
    out = trained.run_json("predict", "@united worst service ever, lost my bags", "thank you so much, great flight!")
    assert [o["label"] for o in out] == ["negative", "positive"]
    assert abs(sum(out[0]["probabilities"].values()) - 1.0) < 1e-6
