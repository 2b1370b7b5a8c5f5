"""The churn example's rows as tests read them (test_example_churn.py,
test_xgboost.py): the CSV rows, one as a request's input, and the ROC-AUC
of scores, to check a model's served answers against its recorded metric."""
import csv

from conftest import ROOT

CHURN = ROOT / "examples" / "churn"
NUMERIC = ["tenure", "monthly_charges", "total_charges", "female", "senior_citizen", "partner",
           "dependents", "phone_service", "paperless_billing"]
CATEGORICAL = ["multiple_lines", "internet_service", "online_security", "online_backup",
               "device_protection", "tech_support", "streaming_tv", "streaming_movies",
               "contract", "payment_method"]


def read_rows(name):
    """The rows of the churn example's CSV file `name`, as dicts."""
    with open(CHURN / name, newline="") as f:
        return list(csv.DictReader(f))


def as_input(row):
    """A CSV row as a request's input: numbers as numbers, NA as null."""
    out = {k: (None if row[k] == "NA" else float(row[k])) for k in NUMERIC}
    out.update({k: row[k] for k in CATEGORICAL})
    return out


def roc_auc(scores, positive):
    """The probability that a positive outscores a negative (ties count half)."""
    pos = [s for s, p in zip(scores, positive) if p]
    neg = [s for s, p in zip(scores, positive) if not p]
    wins = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    return wins / (len(pos) * len(neg))
