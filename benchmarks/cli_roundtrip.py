"""The command-line model is the Python API's default: ``skmdl fit`` -> ``skmdl predict``.

    SKMDL_DATA=../shared/data OMP_NUM_THREADS=1 python benchmarks/cli_roundtrip.py

On each of matbench_steels' 5 official folds:

* API: ``TransferRegressor(random_state=0)`` (the defaults: every inorganic
  source a candidate, 5 shortlisted, the direct model, one ExtraTrees member per
  shortlisted source and the stack weighed by inner CV) fitted on the training
  fold, MAE on the test fold;
* CLI: the training fold written as a CSV, ``skmdl fit`` on it (``--cv 0``:
  the card's own cross-validation does not change the model), ``skmdl
  predict`` on the test fold's CSV, MAE of the predicted column.

Both run in this process (``skmdl.cli.main``, the entry point of the
``skmdl`` script). Prints MAE mean ± std per method, their ratio and the
largest difference of the predictions; writes ``results/cli_roundtrip.md``.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skmdl.cli import main
from skmdl.datasets import load_task, matbench_folds
from skmdl.transfer import TransferRegressor

from _results import write_result  # benchmarks/_results.py

TASK = "matbench_steels"


def cli_fold(X, y, train, test, workdir: Path) -> np.ndarray:
    """Predictions of ``skmdl fit`` (on the training rows) -> ``skmdl predict`` (test rows)."""
    train_csv, test_csv = workdir / "train.csv", workdir / "test.csv"
    pd.DataFrame({"formula": X[train], "y": y[train]}).to_csv(train_csv, index=False)
    pd.DataFrame({"formula": X[test]}).to_csv(test_csv, index=False)
    model, pred_csv = workdir / "model", workdir / "pred.csv"
    assert main(["fit", str(train_csv), "--target", "y", "--out", str(model), "--cv", "0",
                 "--random-state", "0", "--quiet", "--overwrite"]) == 0
    assert main(["predict", str(model), str(test_csv), "--out", str(pred_csv),
                 "--quiet"]) == 0
    return pd.read_csv(pred_csv, float_precision="round_trip")["y_pred"].to_numpy()


def main_(n_folds: int) -> str:
    X, y = load_task(TASK)
    X, y = np.asarray(X, dtype=object), np.asarray(y, dtype=float)
    folds = matbench_folds(TASK, X, y)[:n_folds]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (train, test) in enumerate(folds):
            t0 = time.perf_counter()
            api = TransferRegressor(random_state=0).fit(X[train], y[train]).predict(X[test])
            t1 = time.perf_counter()
            cli = cli_fold(X, y, train, test, Path(tmp))
            t2 = time.perf_counter()
            rows.append({"fold": k, "api_mae": float(np.abs(api - y[test]).mean()),
                         "cli_mae": float(np.abs(cli - y[test]).mean()),
                         "max_abs_diff": float(np.abs(api - cli).max()),
                         "api_s": t1 - t0, "cli_s": t2 - t1})
            print(f"fold {k}: API MAE {rows[-1]['api_mae']:.2f}, CLI MAE "
                  f"{rows[-1]['cli_mae']:.2f}, max |API - CLI| {rows[-1]['max_abs_diff']:.3g} "
                  f"({rows[-1]['api_s']:.0f} s, {rows[-1]['cli_s']:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    api, cli = df["api_mae"], df["cli_mae"]
    lines = [
        f"# skmdl fit -> skmdl predict vs the API default on {TASK}",
        "",
        f"{len(df)} official matbench folds; `TransferRegressor(random_state=0)` vs `skmdl fit "
        "--random-state 0 --cv 0` then `skmdl predict`; MAE in MPa (mean ± std over folds).",
        "",
        "Run: `SKMDL_DATA=../shared/data OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 10 "
        f"python benchmarks/cli_roundtrip.py --folds {len(df)}` (one thread, 2 shared cores).",
        "",
        "| method | MAE | seconds per fold |",
        "|---|---|---|",
        f"| API default `TransferRegressor()` | {api.mean():.2f} ± {api.std(ddof=0):.2f} | "
        f"{df['api_s'].mean():.0f} |",
        f"| CLI `skmdl fit` -> `skmdl predict` | {cli.mean():.2f} ± {cli.std(ddof=0):.2f} | "
        f"{df['cli_s'].mean():.0f} |",
        "",
        f"CLI / API MAE ratio: {cli.mean() / api.mean():.4f}; largest |API - CLI| prediction "
        f"difference over all test rows: {df['max_abs_diff'].max():.3g} MPa.",
        "",
        "Per fold:",
        "",
        df.to_markdown(index=False, floatfmt=".4g"),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5, help="official folds to run (1-5)")
    args = parser.parse_args()
    text = main_(args.folds)
    print(text)
    print(f"wrote {write_result('cli_roundtrip.md', text)}")
