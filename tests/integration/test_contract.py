"""The data contract: each import's profile is checked against the task's
previous import (columns, labels, null rates, label shares); `refuse` stores
nothing and exits 3, `warn` stores and records the differences, `boucle data
check` checks a file without importing it. On the bundled examples, with
altered copies."""
import csv
import io
import json
import re

from conftest import ROOT, Workspace

SENTIMENT = ROOT / "examples" / "sentiment"
CHURN = ROOT / "examples" / "churn"


def config(example, contract):
    """The example's config (its one task last) with a contract; the store
    line without its comment, which the tests' SQL helper would read."""
    text = re.sub(r"(?m)^store:.*$", "store: sqlite:boucle.db", (example / "boucle.yaml").read_text())
    return text + f"    contract: {contract}\n"


def read_rows(path, n=None):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return rows[:n] if n else rows


def write_rows(path, rows, fields=None):
    fields = fields or list(rows[0])
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def sentiment(tmp_path, contract):
    """The sentiment example with its first 1,500 tweets imported."""
    ws = Workspace(tmp_path, config(SENTIMENT, contract))
    rows = read_rows(SENTIMENT / "tweets.csv")
    write_rows(ws.path / "base.csv", rows[:1500])
    first = ws.run_json("import", "--task", "sentiment", "base.csv")
    assert first["contract"] is None  # nothing to compare with yet
    return ws, rows[1500:3000]


def dataset_ids(ws):
    return [d["id"] for d in json.loads(ws.run("datasets", "list", "--json", check=True).stdout)]


def test_refuse_stores_nothing_and_lists_the_differences(tmp_path):
    ws, rows = sentiment(tmp_path, "{on_violation: refuse}")
    before = dataset_ids(ws)
    # the airline column dropped upstream, a label no model knows, 20% of texts lost
    altered = [dict(r, airline_sentiment="angry" if i % 10 == 0 else r["airline_sentiment"],
                    text="" if i % 5 == 0 else r["text"]) for i, r in enumerate(rows)]
    write_rows(ws.path / "new.csv", altered, ["tweet_id", "airline_sentiment", "text"])
    p = ws.run("import", "--task", "sentiment", "new.csv")
    assert p.returncode == 3, p.stderr
    assert "  violation: column 'airline' removed (columns: same)\n" in p.stderr
    assert "  violation: label 'angry' added (labels: same)\n" in p.stderr
    assert ("  violation: field 'text': null rate 0.000 -> 0.200 (+0.200, over the limit of "
            "+0.050)\n") in p.stderr
    assert ("boucle: new.csv: 3 violations of the data contract with dataset %d "
            "(contract.on_violation: refuse): nothing imported" % before[0]) in p.stderr
    assert dataset_ids(ws) == before
    assert ws.sql_value("SELECT count(*) FROM examples") == 1500
    contract = ws.run_json("data", "contract", "--task", "sentiment")
    assert contract["baseline"]["id"] == before[0]  # still the latest
    assert contract["latest_check"] is None

    # --json: the same differences, machine-readable, and still exit 3
    p = ws.run("import", "--task", "sentiment", "new.csv", "--json")
    assert p.returncode == 3
    out = json.loads(p.stdout)
    assert out["imported"] is False and out["contract"]["violations"] == 3
    assert [(d["kind"], d["name"]) for d in out["contract"]["differences"]] == [
        ("column_removed", "airline"), ("label_added", "angry"), ("null_rate", "text")]
    null = out["contract"]["differences"][2]
    assert (null["before"], null["after"], null["limit"]) == (0.0, 0.2, 0.05)

    # --force imports it anyway, and says so in the record
    forced = ws.run_json("import", "--task", "sentiment", "new.csv", "--force")
    assert forced["imported"] is True and forced["contract"]["forced"] is True
    assert len(dataset_ids(ws)) == 2


def test_a_file_that_keeps_the_contract_is_imported(tmp_path):
    ws, rows = sentiment(tmp_path, "{on_violation: refuse}")
    write_rows(ws.path / "more.csv", rows)
    out = ws.run_json("import", "--task", "sentiment", "more.csv")
    assert out["imported"] is True
    assert out["contract"]["violations"] == 0 and out["contract"]["differences"] == []
    assert out["contract"]["baseline_dataset_id"] == dataset_ids(ws)[1]


def test_warn_stores_and_records_the_differences(tmp_path):
    ws, rows = sentiment(tmp_path, "{labels: superset}")  # on_violation: warn by default
    altered = [dict(r, text="" if i % 4 == 0 else r["text"],
                    airline_sentiment="angry" if i % 10 == 1 else r["airline_sentiment"])
               for i, r in enumerate(rows)]
    write_rows(ws.path / "new.csv", altered)
    p = ws.run("import", "--task", "sentiment", "new.csv", check=True)
    assert "imported 1500 rows" in p.stdout
    assert ("contract: 1 violation of dataset %d's profile (contract.on_violation: warn: "
            "imported, recorded with the version)\n" % dataset_ids(ws)[1]) in p.stdout
    assert "  violation: field 'text': null rate 0.000 -> 0.250" in p.stdout
    assert "  allowed: label 'angry' added (allowed by labels: superset)\n" in p.stdout
    latest = dataset_ids(ws)[0]
    contract = ws.run_json("data", "contract", "--task", "sentiment")
    # a warned version is the new baseline: the contract follows the data it let in
    assert contract["baseline"]["id"] == latest and contract["latest_dataset_id"] == latest
    assert contract["latest_check"]["violations"] == 1
    assert contract["rules"] == {"on_violation": "warn", "max_null_rate_increase": 0.05,
                                 "labels": "superset", "columns": "same",
                                 "max_label_share_change": None}
    columns = {c["name"]: c["kind"] for c in contract["baseline"]["profile"]["columns"]}
    assert columns == {"tweet_id": "unused", "airline_sentiment": "label", "airline": "unused",
                       "text": "text"}
    text = ws.run("data", "contract", "--task", "sentiment", check=True).stdout
    assert "latest     dataset %d, checked against dataset" % latest in text
    profile = ws.run("data", "profile", "--task", "sentiment", check=True).stdout
    assert "contract   the latest import had 1 violation" in profile
    assert json.loads(ws.sql_value("SELECT contract_json FROM datasets WHERE id = ?", latest))[
        "violations"] == 1


def test_data_check_without_importing(tmp_path):
    ws, rows = sentiment(tmp_path, "{on_violation: refuse, max_label_share_change: 0.2}")
    ids = dataset_ids(ws)
    write_rows(ws.path / "good.csv", rows)
    p = ws.run("data", "check", "good.csv", "--task", "sentiment")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 violations (on_violation: refuse: an import would be stored)" in p.stdout
    # only complaints: the share of 'negative' jumps to 100%
    negative = [r for r in rows if r["airline_sentiment"] == "negative"]
    write_rows(ws.path / "skewed.csv", negative)
    p = ws.run("data", "check", "skewed.csv", "--task", "sentiment")
    assert p.returncode == 1
    assert "an import would be refused" in p.stdout
    assert "  violation: label 'neutral' removed (labels: same)\n" in p.stdout
    assert "  violation: label 'negative': share 0.6" in p.stdout
    out = json.loads(ws.run("data", "check", "skewed.csv", "--task", "sentiment", "--json").stdout)
    assert out["keeps"] is False and out["rows"] == len(negative)
    assert {d["kind"] for d in out["contract"]["differences"]} == {"label_removed",
                                                                   "label_share"}
    assert out["profile"]["labels"][0]["label"] == "negative"
    # bad data is exit 3 as for import; nothing was stored by any check
    (ws.path / "bad.csv").write_text("tweet_id,text\n1,hello\n")
    assert ws.run("data", "check", "bad.csv", "--task", "sentiment").returncode == 3
    assert dataset_ids(ws) == ids


def test_off_stores_profiles_without_checking(tmp_path):
    ws, rows = sentiment(tmp_path, "{on_violation: off}")
    write_rows(ws.path / "new.csv", rows, ["tweet_id", "airline_sentiment", "text"])
    out = ws.run_json("import", "--task", "sentiment", "new.csv")
    assert out["imported"] is True and out["contract"] is None
    profile = json.loads(ws.sql_value("SELECT profile_json FROM datasets WHERE id = ?",
                                      out["dataset_id"]))
    assert profile["rows"] == 1500 and len(profile["columns"]) == 3
    # `data check` still says what the contract would find (base.csv has the airline column)
    p = ws.run("data", "check", "base.csv", "--task", "sentiment")
    assert p.returncode == 1 and "column 'airline' added (columns: same)" in p.stdout


def test_churn_tabular_nulls_and_columns(tmp_path):
    ws = Workspace(tmp_path, config(CHURN, "{on_violation: refuse, columns: superset}"))
    rows = read_rows(CHURN / "customers.csv")
    write_rows(ws.path / "base.csv", rows[:800])
    ws.run("import", "--task", "churn", "base.csv", check=True)
    # an extra column is allowed by columns: superset...
    extra = [dict(r, customer_id=str(i)) for i, r in enumerate(rows[800:1200])]
    write_rows(ws.path / "extra.csv", extra)
    out = ws.run_json("import", "--task", "churn", "extra.csv")
    assert out["imported"] is True
    assert out["contract"]["differences"][0]["message"] == (
        "column 'customer_id' added (allowed by columns: superset)")
    # ...missing tenures and contracts are not (NA and empty cells)
    holes = [dict(r, tenure="NA" if i % 3 == 0 else r["tenure"],
                  contract="" if i % 10 == 0 else r["contract"])
             for i, r in enumerate(rows[1200:])]
    write_rows(ws.path / "holes.csv", holes)
    p = ws.run("import", "--task", "churn", "holes.csv")
    assert p.returncode == 3, p.stderr
    assert "  violation: column 'customer_id' removed (columns: superset)\n" in p.stderr
    assert "  violation: field 'tenure': null rate 0.000 -> 0.333" in p.stderr
    assert "  violation: field 'contract': null rate 0.000 -> 0.100" in p.stderr
    assert ws.sql_value("SELECT count(*) FROM datasets") == 2
