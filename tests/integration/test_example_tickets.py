"""The support tickets example: subject + body cleaned, trained, and served
on the held-out rows, scoring what training measured on them."""
import csv
import shutil

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "tickets"


def test_tickets_example_trains_and_serves_held_out_rows(ws, server_factory):
    for name in ("boucle.yaml", "tickets.csv", "held_out.csv"):
        shutil.copy(EXAMPLE / name, ws.path / name)
    ws.point_store()
    imported = ws.run_json("import", "--split", "train", "tickets.csv")
    assert imported["rows"] == 480
    assert [s["step"] for s in imported["cleaning"]["steps"]] == [
        "strip_html", "scrub_pii", "normalize_whitespace", "dedupe"]
    assert imported["cleaning"]["steps"][0]["changed"] > 0  # some bodies are HTML
    ws.run_json("import", "--split", "test", "held_out.csv")
    profile = ws.run_json("data", "profile")
    assert profile["rows"] == 600 and len(profile["labels"]) == 10
    assert profile["fields"]["body"]["null_rate"] == 0

    trained = ws.run_json("train")
    accuracy = trained["metrics"]["accuracy"]
    # bench/RESULTS.md: the linear model scores 0.44 here (scikit-learn 0.43);
    # the largest queue alone is 0.35
    assert 0.40 <= accuracy <= 0.50, accuracy

    with open(ws.path / "held_out.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    s = server_factory(ws)
    status, answer = s.post("/v1/tasks/tickets/predict", {
        "inputs": [{"subject": r["subject"], "body": r["body"]} for r in rows]})
    assert status == 200, answer
    predicted = [p["label"] for p in answer["predictions"]]
    served = sum(p == r["queue"] for p, r in zip(predicted, rows)) / len(rows)
    # the server prepares requests as training prepared the test rows
    assert served == accuracy
