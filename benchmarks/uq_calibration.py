"""Calibration of TransferRegressor's prediction intervals (issue 6, part e).

    SKMDL_DATA=../shared/data python benchmarks/uq_calibration.py [--repeats 3]

Where the test data come from the same distribution as the training data
(random splits), intervals are expected to hold their nominal coverage:

* matbench_steels, the 5 official folds (add matbench_expt_gap with --tasks;
  its 25 calibration fits per fold take ~25 min on 2 cores);
* the six small-data tasks of benchmarks/transfer_learning_curves.py at
  n = 200 training rows (same fixed test sets, ``--repeats`` draws).

For each: observed coverage and mean width of intervals at nominal 50-95 %
(``calibration_curve``); the table lists the 90 % level, the plot all levels
(benchmarks/results/uq_calibration.png). Intervals: CV+-style, 5-fold
cross-validated residuals normalized by the ensemble spread, calibrated on
the training data only. Extrapolation (LTC top decile, HEA 4-element alloys)
is reported by those benchmarks' own scripts.
"""

import argparse
import os

import numpy as np
import pandas as pd

from skmdl.datasets import load_task, matbench_folds
from skmdl.library.recipes import transfer_exclusions
from skmdl.transfer import TransferRegressor
from skmdl.transfer.uq import calibration_curve, plot_calibration

from _results import write_result  # benchmarks/_results.py
from transfer_learning_curves import TASKS, descriptors, head

LEVELS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def transfer(task, seed):
    return TransferRegressor(head=head(seed), descriptors=descriptors(), calibration_cv=5,
                             random_state=seed, **transfer_exclusions(task))


def matbench_curves(task):
    X, y = load_task(task)
    out = []
    for k, (tr, te) in enumerate(matbench_folds(task)):
        model = transfer(task, 0).fit(X.iloc[tr], y.iloc[tr])
        out.append(calibration_curve(model, X.iloc[te], y.iloc[te].to_numpy(), LEVELS))
        print(task, "fold", k, out[-1].query("nominal == 0.9").to_dict("records"), flush=True)
    return out


def small_data_curves(task, n, repeats):
    X, y = load_task(task)
    X, y = X.reset_index(drop=True), y.to_numpy(dtype=float)
    order = np.random.default_rng(0).permutation(len(y))  # as transfer_learning_curves.py
    n_test = min(1000, len(y) // 5)
    test, pool = order[:n_test], order[n_test:]
    out = []
    for r in range(repeats):
        tr = np.random.default_rng(1000 * r + n).choice(pool, size=n, replace=False)
        model = transfer(task, r).fit(X[tr], y[tr])
        out.append(calibration_curve(model, X[test], y[test], LEVELS))
        print(task, n, "repeat", r, out[-1].query("nominal == 0.9").to_dict("records"),
              flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--tasks", nargs="*", default=["matbench_steels",
                                                  *TASKS])
    args = ap.parse_args()
    curves = {}
    for task in args.tasks:
        if task.startswith("matbench_") and task not in TASKS:
            curves[f"{task} (official folds)"] = matbench_curves(task)
        else:
            curves[f"{task} (n = {args.n})"] = small_data_curves(task, args.n, args.repeats)
    lines = [f"`python benchmarks/uq_calibration.py {' '.join(os.sys.argv[1:])}`", "",
             "| data | splits | 90 % coverage (mean, min–max over splits) | mean width | "
             "coverage at 50 / 70 / 95 % |", "|---|---|---|---|---|"]
    inside = 0
    for name, cs in curves.items():
        c90 = np.array([c.query("nominal == 0.9")["observed"].iloc[0] for c in cs])
        w90 = np.mean([c.query("nominal == 0.9")["mean_width"].iloc[0] for c in cs])
        mean = pd.concat(cs).groupby("nominal")["observed"].mean()
        inside += 0.85 <= c90.mean() <= 0.95
        lines.append(f"| {name} | {len(cs)} | {c90.mean():.3f} ({c90.min():.2f}–{c90.max():.2f})"
                     f" | {w90:.4g} | {mean[0.5]:.2f} / {mean[0.7]:.2f} / {mean[0.95]:.2f} |")
    lines += ["", f"mean 90 % coverage inside [0.85, 0.95]: {inside} of {len(curves)} data sets"]
    text = "\n".join(lines)
    print(text)
    write_result("uq_calibration.md", text)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, cs in curves.items():
        mean = pd.concat(cs).groupby("nominal", as_index=False)["observed"].mean()
        plot_calibration(mean, ax=ax, label=name)
    ax.set_xlim(0.4, 1)
    ax.set_ylim(0.4, 1)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("TransferRegressor intervals: observed vs nominal coverage", fontsize=9)
    fig.tight_layout()
    path = os.path.join(os.path.dirname(__file__), "results", "uq_calibration.png")
    fig.savefig(path, dpi=120)
    print("wrote", path)


if __name__ == "__main__":
    main()
