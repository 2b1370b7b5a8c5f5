"""Data preparation: the `clean:` steps in import and training reports, the
same cleaning on served requests (carried by the model, not read from the
config at serve time), and `boucle data profile`."""
import csv
import io
import json

from conftest import Workspace

CONFIG = """\
store: sqlite:boucle.db
tasks:
  tickets:
    type: binary
    text: [subject, body]
    label: queue
    clean: [strip_html, scrub_pii, normalize_whitespace, drop_empty, dedupe]
    model: {kind: linear, min_df: 1}
"""

BILLING = ["invoice", "refund", "charged", "payment", "billing", "receipt", "price", "paid"]
TECH = ["crash", "error", "login", "password", "bug", "freeze", "update", "install"]


def filler(n=20):
    """Distinct, already clean rows: no step changes them."""
    rows = []
    for i in range(n):
        b = BILLING[i % 8], BILLING[(i + 3) % 8], BILLING[(i + 5) % 8]
        t = TECH[i % 8], TECH[(i + 3) % 8], TECH[(i + 5) % 8]
        rows.append((f"About my {b[0]}", f"The {b[1]} and the {b[2]} look wrong, case {i}", "billing"))
        rows.append((f"About my {t[0]}", f"The {t[1]} and the {t[2]} keep failing, case {i}", "tech"))
    return rows


SPECIAL = [
    ("Refund", "<p>I was <b>charged</b> twice</p>", "billing"),  # strip_html
    ("Refund", "I was  charged twice ", "billing"),  # a duplicate once cleaned
    ("", "<br>", "tech"),  # nothing left: dropped
    ("Login", "mail me at jane@example.com", "tech"),  # scrub_pii
]


def write_csv(path, rows):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["subject", "body", "queue"])
    w.writerows(rows)
    path.write_text(out.getvalue())


def prepare_ws(ws, config=CONFIG):
    ws.write_config(config)
    write_csv(ws.path / "t.csv", SPECIAL + filler())


def steps(report):
    return {s["step"]: s.get("changed", s.get("dropped")) for s in report["steps"]}


def test_import_and_train_report_what_each_step_did(ws):
    prepare_ws(ws)
    out = ws.run_json("import", "--task", "tickets", "t.csv")
    assert out["rows"] == 44
    # rows are stored as given: cleaning is the model's, applied when training
    assert out["cleaning"]["rows"] == 44 and out["cleaning"]["kept"] == 42
    assert steps(out["cleaning"]) == {"strip_html": 2, "scrub_pii": 1, "normalize_whitespace": 1,
                                      "drop_empty": 1, "dedupe": 1}
    assert [s["step"] for s in out["cleaning"]["steps"]] == [
        "strip_html", "scrub_pii", "normalize_whitespace", "drop_empty", "dedupe"]
    stored = ws.sql_value("SELECT input_json FROM examples ORDER BY id LIMIT 1")
    assert json.loads(stored)["body"] == "<p>I was <b>charged</b> twice</p>"

    human = ws.run("import", "--task", "tickets", "--split", "test", "t.csv")
    assert human.returncode == 0, human.stderr  # same rows, another split: already imported
    assert "cleaning:" not in human.stdout

    train = ws.run_json("train", "--task", "tickets")
    assert train["cleaning"] == out["cleaning"]
    assert train["n_train"] + train["n_test"] == 42

    text = ws.run("train", "--task", "tickets", check=True).stdout
    assert ("cleaning   strip_html changed 2, scrub_pii changed 1, normalize_whitespace changed 1, "
            "drop_empty dropped 1, dedupe dropped 1: 42 of 44 rows kept") in text
    run_id = ws.run_json("runs", "list")[0]["id"]
    logs = ws.run_json("runs", "show", run_id)["logs"]
    assert any("cleaning: strip_html changed 2" in l["line"] if isinstance(l, dict) else
               "cleaning: strip_html changed 2" in l for l in logs)


def test_human_import_report(ws):
    prepare_ws(ws)
    p = ws.run("import", "--task", "tickets", "t.csv", check=True)
    assert ("cleaning: strip_html changed 2, scrub_pii changed 1, normalize_whitespace changed 1, "
            "drop_empty dropped 1, dedupe dropped 1: 42 of 44 rows kept") in p.stdout


def predict(server, body):
    status, answer = server.post("/v1/tasks/tickets/predict", body)
    assert status == 200, answer
    return answer


RAW = {"subject": "<b>Refund</b>&nbsp;",
       "body": "<p>Charged twice,\n mail me at jane@example.com or call +33 6 12 34 56 78</p>"}
CLEAN = {"subject": "Refund", "body": "Charged twice, mail me at <EMAIL> or call <PHONE>"}


def test_served_requests_are_cleaned_as_training_text_was(ws, server_factory):
    prepare_ws(ws)
    ws.run("import", "--task", "tickets", "t.csv", check=True)
    ws.run("train", "--task", "tickets", check=True)
    s = server_factory(ws)
    raw = predict(s, {"input": RAW})
    clean = predict(s, {"input": CLEAN})
    assert raw["probabilities"] == clean["probabilities"]
    assert raw["label"] == clean["label"]
    # the log keeps what the client sent
    s.stop()
    logged = ws.sql_value("SELECT input_json FROM predictions WHERE id = ?", raw["prediction_id"])
    assert json.loads(logged) == RAW
    # empty and null texts still get an answer (drop_empty is for training data)
    s = server_factory(ws)
    for body in ({"input": {"subject": "", "body": "<p> </p>"}},
                 {"input": {"subject": None, "body": "refund"}},
                 {"inputs": [{"subject": "", "body": ""}, {"subject": "x", "body": None}]}):
        answer = predict(s, body)
        assert "predictions" in answer or answer["label"] in ("billing", "tech")
    status, err = s.post("/v1/tasks/tickets/predict", {"input": {"subject": 3, "body": "x"}})
    assert status == 422 and "must be a string or null" in err["error"]["message"]
    s.stop()

    # the cleaning travels with the model: taking it out of the config does
    # not change what the served version does...
    ws.write_config(CONFIG.replace(
        "    clean: [strip_html, scrub_pii, normalize_whitespace, drop_empty, dedupe]\n", ""))
    s = server_factory(ws)
    assert predict(s, {"input": RAW})["probabilities"] == raw["probabilities"]
    assert predict(s, {"input": CLEAN})["probabilities"] == raw["probabilities"]
    cli = json.loads(ws.run("predict", "--task", "tickets", "--json",
                            "<b>Refund</b> jane@example.com", check=True).stdout)
    cli_clean = json.loads(ws.run("predict", "--task", "tickets", "--json",
                                  "Refund <EMAIL>", check=True).stdout)
    assert cli[0]["probabilities"] == cli_clean[0]["probabilities"]
    s.stop()
    # ...while a version trained without it sees the raw text
    ws.run("train", "--task", "tickets", check=True)
    ws.run("promote", "--task", "tickets", "--version", "2", check=True)
    s = server_factory(ws)
    answer = predict(s, {"input": RAW})
    assert answer["model_version"] == 2
    assert answer["probabilities"] != predict(s, {"input": CLEAN})["probabilities"]


def test_config_errors_name_file_line_and_key(ws):
    ws.write_config(CONFIG.replace("normalize_whitespace, drop_empty", "normalise_whitespace, drop_empty"))
    p = ws.run("train", "--task", "tickets")
    assert p.returncode == 3
    assert "boucle.yaml:7: tasks.tickets.clean[2]: expected one of strip_html, strip_code" in p.stderr
    assert "got 'normalise_whitespace'" in p.stderr
    ws.write_config(CONFIG.replace("[strip_html, scrub_pii,", "[strip_html, strip_code, scrub_pii,"))
    p = ws.run("train", "--task", "tickets")
    assert p.returncode == 3
    assert "tasks.tickets.clean[1]: strip_code must come before strip_html" in p.stderr
    ws.write_config(CONFIG + "    text_separator:\n")
    p = ws.run("train", "--task", "tickets")
    assert p.returncode == 3 and "boucle.yaml:9: tasks.tickets.text_separator: expected a string" in p.stderr


def test_text_separator_joins_the_fields(ws, server_factory):
    """The separator is part of the model text, in training and serving:
    with " | " the same words split differently between the fields make the
    same text; with "" the words at the seam run together."""
    a = {"input": {"subject": "About my", "body": "invoice refund"}}
    b = {"input": {"subject": "About", "body": "my invoice refund"}}
    for name, sep, same in (("bar", " | ", True), ("glued", "", False)):
        (ws.path / name).mkdir()
        w = Workspace(ws.path / name)  # a store of its own, on SQLite or PostgreSQL
        prepare_ws(w, CONFIG.replace("    clean:", f"    text_separator: '{sep}'\n    clean:"))
        w.run("import", "--task", "tickets", "t.csv", check=True)
        w.run("train", "--task", "tickets", check=True)
        s = server_factory(w)
        assert (predict(s, a)["probabilities"] == predict(s, b)["probabilities"]) is same
        s.stop()


def test_profile(ws):
    ws.write_config(CONFIG)
    rows = [
        {"subject": None, "body": "refund please", "queue": "billing"},
        {"body": "app crashes", "queue": "tech"},
        {"subject": "Again", "body": "refund please", "queue": "billing"},
        {"subject": "  ", "body": "<p>I lost my password</p>", "queue": "tech"},
        {"subject": "Again", "body": "<p>Café crème</p>", "queue": "billing"},
    ]
    (ws.path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    ws.run("import", "--task", "tickets", "--split", "train", "p.jsonl", check=True)
    out = ws.run_json("data", "profile", "--task", "tickets")
    assert out["task"] == "tickets" and out["split"] == "all" and out["rows"] == 5
    assert out["labels"] == [{"label": "billing", "count": 3, "share": 0.6},
                             {"label": "tech", "count": 2, "share": 0.4}]
    subject = out["fields"]["subject"]
    assert (subject["nulls"], subject["empty"], subject["duplicates"]) == (2, 1, 1)
    assert subject["null_rate"] == 0.4 and subject["duplicate_rate"] == 0.2
    body = out["fields"]["body"]
    assert (body["nulls"], body["empty"], body["duplicates"]) == (0, 0, 1)
    # lengths in characters: 13, 11, 13, 25, 18 ("Café crème" is 12 bytes)
    assert body["length"] == {"p5": 11, "p50": 13, "p95": 25, "max": 25}
    assert subject["length"] == {"p5": 0, "p50": 2, "p95": 5, "max": 5}
    # the model text: "\nrefund please" and "Again\nrefund please" differ; nothing is dropped
    assert out["cleaning"]["kept"] == 5 and out["text"]["rows"] == 5
    assert out["text"]["length"]["max"] == len("\nI lost my password")

    # a split with nothing in it is a profile of nothing
    empty = ws.run_json("data", "profile", "--task", "tickets", "--split", "test")
    assert empty["rows"] == 0 and empty["labels"] == [] and empty["split"] == "test"
    human = ws.run("data", "profile", "--task", "tickets", check=True).stdout
    assert "tickets, train and test: 5 rows" in human
    assert "billing" in human and "60.0%" in human
    assert "(model text)" in human and "5 of 5 rows kept for training" in human

    p = ws.run("data", "profile", "--split", "dev")
    assert p.returncode == 2 and "--split must be train or test, got 'dev'" in p.stderr
    p = ws.run("data", "summary")
    assert p.returncode == 2 and "unknown subcommand 'summary'" in p.stderr
    p = ws.run("data")
    assert p.returncode == 2
    p = ws.run("data", "profile", "--task", "nope")
    assert p.returncode == 3 and "unknown task 'nope'" in p.stderr
