"""Numeric and categorical fields beside text: one model over all of them,
served and explained by field; a config that drops a field makes servers
refuse the old version and the loop replace it."""
import csv
import json
import random

from conftest import Workspace

TASK = """store: sqlite:boucle.db
tasks:
  orders:
    type: binary
    label: fraud
    text: note
    numeric: [amount{age}]
    categorical: [plan]
    model: {{kind: linear, min_df: 1}}
"""


def config(age=True):
    return TASK.format(age=", age" if age else "")


def write_orders(path, n=400, seed=3):
    """Fraud: large amounts, the 'trial' plan and notes saying 'urgent'."""
    rnd = random.Random(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["note", "amount", "age", "plan", "fraud"])
        for i in range(n):
            fraud = i % 3 == 0
            note = rnd.choice(["urgent wire please", "send now urgent"] if fraud and rnd.random() < 0.6
                              else ["regular order", "thanks for the order", "monthly refill"])
            amount = rnd.gauss(900 if fraud else 100, 150)
            plan = rnd.choice(["trial", "trial", "basic"] if fraud else ["basic", "gold", "gold"])
            w.writerow([note, "NA" if i % 17 == 0 else f"{amount:.2f}", rnd.randint(18, 80), plan,
                        "yes" if fraud else "no"])


def test_text_and_tabular_features_in_one_model(tmp_path, server_factory):
    ws = Workspace(tmp_path, config())
    write_orders(ws.path / "orders.csv")
    ws.run("import", "orders.csv", check=True)
    trained = ws.run_json("train")
    assert trained["metrics"]["roc_auc"] > 0.95
    s = server_factory(ws)
    order = {"note": "urgent wire please", "amount": 1200, "age": None, "plan": "trial"}
    status, answer = s.post("/v1/tasks/orders/predict?explain=true&explain_top=50",
                            {"input": order})
    assert status == 200, answer
    assert answer["label"] == "yes"
    why = {c["feature"]: c["weight"] for c in answer["explanation"]}
    # words, numbers and categories side by side, each pushing towards fraud
    assert why["urgent"] > 0 and why["amount"] > 0 and why["plan=trial"] > 0
    assert "age" in why
    # a bare string is the text field only: the tabular fields are missing
    status, answer = s.post("/v1/tasks/orders/predict", {"text": "urgent"})
    assert status == 422 and answer["error"]["field"] == "input.amount"
    # the logged input keeps the numbers as numbers
    s.stop()
    logged = json.loads(ws.sql_value("SELECT input_json FROM predictions LIMIT 1"))
    assert logged == order


def test_a_dropped_field_retires_the_old_version(tmp_path, server_factory):
    ws = Workspace(tmp_path, config())
    write_orders(ws.path / "orders.csv")
    ws.run("import", "orders.csv", check=True)
    ws.run("train", check=True)
    ws.write_config(config(age=False))
    # the champion reads amount and age: this config would feed it amount only
    s = server_factory(ws)
    status, answer = s.post("/v1/tasks/orders/predict",
                            {"input": {"note": "x", "amount": 5, "plan": "gold"}})
    assert status == 503, answer
    logs = s.logs()
    s.stop()
    assert ("the model reads the tabular fields [amount, age, plan] (2 numeric, 1 categorical) "
            "but task 'orders' lists [amount, plan] (1 numeric, 1 categorical)") in logs
    # the loop trains on the stored rows (age is ignored) and replaces it
    p = ws.run("retrain", "--json")
    assert p.returncode == 0, p.stderr
    run = json.loads(p.stdout)
    reasons = run["state"]["decision"]["reasons"]
    assert any(r.startswith("the champion cannot be compared on this config: ") for r in reasons)
    assert run["state"]["deployed"] is True
    s = server_factory(ws)
    status, answer = s.post("/v1/tasks/orders/predict",
                            {"input": {"note": "x", "amount": 5, "plan": "gold"}})
    assert status == 200 and answer["model_version"] == 2, answer
