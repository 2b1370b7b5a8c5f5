"""The peer side of bench/xgboost_vs_python.sh: Python xgboost given the
very matrix boucle's `xgboost` model was trained on (`boucle export --what
features --out DIR`), with the same parameters and the same early-stopping
rows. Prints one JSON line: the fit seconds (DMatrix + xgb.train, best of
--repeat) and the largest difference between its test probabilities and
those boucle served."""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import xgboost as xgb


def read_svm(path, n_features):
    """LIBSVM rows into a CSR matrix, explicit zeros kept (XGBoost reads a
    stored 0 as a value, as boucle gives it)."""
    indptr, indices, data, labels = [0], [], [], []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        labels.append(int(parts[0]))
        for item in parts[1:]:
            i, v = item.split(":")
            indices.append(int(i))
            data.append(float(v))
        indptr.append(len(indices))
    x = sp.csr_matrix((np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32),
                       np.array(indptr, dtype=np.int64)), shape=(len(labels), n_features))
    return x, np.array(labels, dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    d = Path(a.dir)
    model = json.loads((d / "model.json").read_text())
    p, nf, nl = model["xgboost"], model["n_features"], len(model["labels"])
    x, y = read_svm(d / "train.svm", nf)
    x_test, _ = read_svm(d / "test.svm", nf)
    valid = np.array([int(v) for v in (d / "valid.txt").read_text().split()], dtype=bool)
    ours = np.loadtxt(d / "test_probabilities.txt", ndmin=2)
    params = {"eta": p["learning_rate"], "max_depth": p["max_depth"], "subsample": p["subsample"],
              "colsample_bytree": p["colsample_bytree"],
              "min_child_weight": p["min_child_weight"], "lambda": p["reg_lambda"],
              "alpha": p["reg_alpha"], "tree_method": p["tree_method"], "nthread": p["nthread"],
              "seed": p["seed"], "verbosity": 1}
    if nl == 2:
        params.update(objective="binary:logistic", eval_metric="logloss",
                      scale_pos_weight=p["scale_pos_weight"])
    else:
        params.update(objective="multi:softprob", num_class=nl, eval_metric="mlogloss")
    es = p["early_stopping_rounds"]
    best_s, booster = None, None
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        if es:
            dtrain = xgb.DMatrix(x[~valid], y[~valid], missing=np.nan, nthread=p["nthread"])
            dvalid = xgb.DMatrix(x[valid], y[valid], missing=np.nan, nthread=p["nthread"])
            booster = xgb.train(params, dtrain, p["n_estimators"], evals=[(dvalid, "valid")],
                                early_stopping_rounds=es, verbose_eval=False)
        else:
            dtrain = xgb.DMatrix(x, y, missing=np.nan, nthread=p["nthread"])
            booster = xgb.train(params, dtrain, p["n_estimators"])
        s = time.perf_counter() - t0
        best_s = s if best_s is None else min(best_s, s)
    rounds = booster.best_iteration + 1 if es else booster.num_boosted_rounds()
    peer = booster.inplace_predict(x_test, iteration_range=(0, rounds), missing=np.nan)
    peer = np.asarray(peer, dtype=np.float64).reshape(len(ours), -1)
    if nl == 2:
        peer = np.column_stack([1 - peer[:, 0], peer[:, 0]])
    diff = float(np.max(np.abs(peer - ours))) if len(ours) else 0.0
    print(json.dumps({"fit_seconds": best_s, "rounds": rounds, "max_abs_diff": diff,
                      "n_train": int(x.shape[0]), "n_features": nf}))


if __name__ == "__main__":
    main()
