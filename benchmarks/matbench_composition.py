"""Direct (no transfer) baselines on matbench's composition tasks, official folds.

Featurizer: ``skmdl.descriptors.CompositionFeaturizer`` with the Magpie element
table and two feature sets:

* ``magpie+stoich+frac``: the 6 Magpie statistics of the 22 Magpie element
  properties (132 columns, = matminer ``ElementProperty.from_preset("magpie")``),
  matminer's ``Stoichiometry`` p-norms (6) and the element fractions H..Lr (103);
* ``magpie``: the 132 Magpie statistics only (what matbench's RF-SCM/Magpie
  reference uses on composition tasks), to show what the extras add.

The featurizer is stateless (nothing is learned in ``fit``), so every formula is
featurized once per task and the matrix is sliced per fold.

Models (hyperparameters fixed a priori, the same for every task; nothing is
tuned, and never on test folds):

* RandomForest: 500 trees (as matbench's RF reference); regression
  ``max_features=1/3`` (Breiman's / R randomForest's default for regression,
  also ~3x cheaper than all features), classification ``max_features="sqrt"``
  (the usual default); otherwise sklearn defaults; ``n_jobs`` workers.
* HistGradientBoosting: ``learning_rate=0.05, max_iter=500, max_leaf_nodes=31,
  min_samples_leaf=5, l2_regularization=1.0, early_stopping=False`` (a fixed
  number of rounds, no inner hold-out); run with one OpenMP thread (on a
  shared, busy machine OpenMP spin-waiting made 2 threads ~10x slower).

These settings were fixed before the full run; a single timing probe on
matbench_expt_gap fold 0 (which also printed that fold's MAE for RF with
max_features 1.0 vs 1/3 and for this HGB) preceded it, and nothing was changed
after it. ``random_state=0`` everywhere. Folds: ``skmdl.datasets.matbench_folds`` =
matbench v0.1's ``KFold``/``StratifiedKFold(5, shuffle=True,
random_state=18012019)``. Scores: mean ± std (numpy, ddof=0, as matbench) over
the 5 test folds. For classification, ROC-AUC is given from hard 0/1
predictions (``predict``; what matbench computes for label submissions and so
comparable to its leaderboard) and from ``predict_proba`` (the usual ROC-AUC).

Usage::

    SKMDL_DATA=/path/to/shared/data python benchmarks/matbench_composition.py
    python benchmarks/matbench_composition.py --tasks matbench_steels --quick

A full run writes the printed report to ``benchmarks/results/matbench_composition.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.metrics import mean_absolute_error, roc_auc_score
from threadpoolctl import threadpool_limits

from skmdl.datasets import is_classification, load_task, matbench_folds
from skmdl.descriptors import CompositionFeaturizer

TASKS = ("matbench_steels", "matbench_expt_gap", "matbench_glass", "matbench_expt_is_metal")
RESULTS = Path(__file__).resolve().parent / "results" / "matbench_composition.md"
SEED = 0

FEATURE_SETS = {
    "magpie+stoich+frac": dict(stats="magpie", stoichiometry=True, element_fractions=True),
    "magpie": dict(stats="magpie"),
}

UNITS = {"matbench_steels": "MPa", "matbench_expt_gap": "eV"}

# Reference scores: mean over matbench v0.1's 5 folds, from the matbench
# repository's per-task leaderboards (docs_src/Leaderboards Per-Task/*.md,
# commit 936176d, January 2024; classification ROC-AUC there is computed from
# the submitted hard labels).
_RF = "RF-SCM/Magpie (matbench's reference RF: 500 trees, Magpie features)"
REFERENCES = {
    "matbench_steels": [
        (_RF, "103.5 ± 11.0 MPa"),
        ("MODNet v0.1.12", "87.76 MPa"),
        ("leaderboard best (TPOT-Mat; then AutoML-Mat 82.30)", "79.95 MPa"),
    ],
    "matbench_expt_gap": [
        (_RF, "0.446 ± 0.018 eV"),
        ("MODNet v0.1.12 / Ax-SAASBO CrabNet v1.2.7", "0.333 / 0.331 eV"),
        ("leaderboard best (Darwin)", "0.287 eV"),
    ],
    "matbench_glass": [
        (_RF + ", ROC-AUC from hard labels", "0.8587 ± 0.0158"),
        ("leaderboard best (MODNet v0.1.12), ROC-AUC from hard labels", "0.9603"),
    ],
    "matbench_expt_is_metal": [
        (_RF + ", ROC-AUC from hard labels", "0.9167 ± 0.0064"),
        ("AMMExpress v2020, ROC-AUC from hard labels", "0.9209"),
        ("leaderboard best (Darwin), ROC-AUC from hard labels", "0.9598"),
    ],
}

GOALS = {"matbench_steels": 105.0, "matbench_expt_gap": 0.45}


def make_models(classification: bool, n_jobs: int, quick: bool):
    n_trees = 50 if quick else 500
    n_rounds = 50 if quick else 500
    hgb = dict(
        learning_rate=0.05,
        max_iter=n_rounds,
        max_leaf_nodes=31,
        min_samples_leaf=5,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=SEED,
    )
    if classification:
        return {
            "RandomForest": lambda: RandomForestClassifier(
                n_estimators=n_trees, max_features="sqrt", n_jobs=n_jobs, random_state=SEED
            ),
            "HistGradientBoosting": lambda: HistGradientBoostingClassifier(**hgb),
        }
    return {
        "RandomForest": lambda: RandomForestRegressor(
            n_estimators=n_trees, max_features=1 / 3, n_jobs=n_jobs, random_state=SEED
        ),
        "HistGradientBoosting": lambda: HistGradientBoostingRegressor(**hgb),
    }


def fmt(values, digits):
    values = np.asarray(values)
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def run_task(task, args, log):
    X, y = load_task(task)
    y = y.to_numpy()
    clf = is_classification(task)
    folds = matbench_folds(task, X, y)
    rows = []
    for fs_name, fs_params in FEATURE_SETS.items():
        t0 = time.perf_counter()
        featurizer = CompositionFeaturizer(elements="magpie", n_jobs=1, **fs_params)
        Z = featurizer.fit_transform(X)
        t_feat = time.perf_counter() - t0
        if np.isnan(Z).any():
            # (does not happen for these tasks; kept as a guard)
            raise RuntimeError(f"{task}: NaN features for {np.isnan(Z).any(axis=1).sum()} rows")
        for model_name, make in make_models(clf, args.n_jobs, args.quick).items():
            scores, scores_proba, times = [], [], []
            for k, (train, test) in enumerate(folds):
                model = make()
                t0 = time.perf_counter()
                # HGB: 1 OpenMP thread (see module docstring); RF uses n_jobs.
                with threadpool_limits(limits=args.hgb_threads, user_api="openmp"):
                    model.fit(Z[train], y[train])
                    pred = model.predict(Z[test])
                    proba = model.predict_proba(Z[test])[:, 1] if clf else None
                times.append(time.perf_counter() - t0)
                if clf:
                    scores.append(roc_auc_score(y[test], pred))
                    scores_proba.append(roc_auc_score(y[test], proba))
                else:
                    scores.append(mean_absolute_error(y[test], pred))
                log(f"  {task} {fs_name} {model_name} fold {k}: {scores[-1]:.4f} ({times[-1]:.1f} s)")
            rows.append(
                dict(
                    model=model_name,
                    features=fs_name,
                    n_features=Z.shape[1],
                    scores=scores,
                    scores_proba=scores_proba,
                    fit_s=float(np.mean(times)),
                    feat_s=t_feat,
                )
            )
    return dict(task=task, n=len(X), clf=clf, rows=rows)


def table(result) -> str:
    task, clf = result["task"], result["clf"]
    out = [f"### {task} ({result['n']} rows, {'classification' if clf else 'regression'})", ""]
    if clf:
        out += [
            "| model | features | n_feat | ROC-AUC from hard 0/1 predictions (leaderboard-comparable) "
            "| ROC-AUC from predicted probabilities | per fold (hard) | featurize s | fit+predict s/fold |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in result["rows"]:
            folds = ", ".join(f"{s:.4f}" for s in r["scores"])
            out.append(
                f"| {r['model']} | {r['features']} | {r['n_features']} | {fmt(r['scores'], 4)} "
                f"| {fmt(r['scores_proba'], 4)} | {folds} | {r['feat_s']:.2f} | {r['fit_s']:.1f} |"
            )
    else:
        unit = UNITS.get(task, "")
        digits = 1 if task == "matbench_steels" else 3
        out += [
            f"| model | features | n_feat | MAE ({unit}) | per fold | featurize s | fit+predict s/fold |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in result["rows"]:
            folds = ", ".join(f"{s:.{digits}f}" for s in r["scores"])
            out.append(
                f"| {r['model']} | {r['features']} | {r['n_features']} | {fmt(r['scores'], digits)} "
                f"| {folds} | {r['feat_s']:.2f} | {r['fit_s']:.1f} |"
            )
    out += ["", "References (matbench v0.1, same folds):", ""]
    out += [f"- {name}: {value}" for name, value in REFERENCES.get(task, [])]
    if task in GOALS:
        best = min(result["rows"], key=lambda r: np.mean(r["scores"]))
        mae = np.mean(best["scores"])
        verdict = "met" if mae <= GOALS[task] else "MISSED"
        out.append(
            f"- goal MAE ≤ {GOALS[task]:g} {UNITS[task]}: {verdict} "
            f"(best direct baseline: {best['model']} on {best['features']}, {mae:.{digits}f})"
        )
    return "\n".join(out) + "\n"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def header(args, load_before) -> str:
    return "\n".join(
        [
            "## Matbench composition tasks: direct baselines on the official folds",
            "",
            f"Generated {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by "
            f"`benchmarks/matbench_composition.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`"
            f" at skmdl commit {git_commit()}"
            f"{' (QUICK smoke run: 50 trees / 50 boosting rounds)' if args.quick else ''}.",
            "",
            f"Machine: {os.cpu_count()} cores ({platform.machine()}, {platform.system()}), "
            f"load average at start {load_before[0]:.2f} (shared machine: other jobs ran "
            f"concurrently, so timings are indicative); Python {platform.python_version()}, "
            f"scikit-learn {sklearn.__version__}, numpy {np.__version__}. "
            f"RandomForest n_jobs={args.n_jobs}; HistGradientBoosting {args.hgb_threads} OpenMP thread(s).",
            "",
            "Folds: matbench v0.1 (KFold / StratifiedKFold, 5 splits, shuffle, seed 18012019); "
            "scores are mean ± std (ddof=0) over the 5 test folds. Features: Magpie element "
            "table; `magpie` = min/max/range/mean/avg_dev/mode of 22 properties (132); "
            "`+stoich` = Stoichiometry p-norms p=0,2,3,5,7,10 (6); `+frac` = element fractions "
            "H..Lr (103). Hyperparameters fixed a priori (see the script's docstring), not tuned. "
            "Featurize time = whole task, once per feature set; fit+predict time = mean per fold.",
            "",
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--quick", action="store_true", help="50 trees / rounds: a smoke run")
    parser.add_argument("--n-jobs", type=int, default=2, help="RandomForest workers (default 2)")
    parser.add_argument("--hgb-threads", type=int, default=1, help="OpenMP threads (default 1)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="markdown report (default: benchmarks/results/matbench_composition.md "
        "for a full run, nothing for --quick)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print per-fold progress")
    args = parser.parse_args(argv)

    def log(msg):
        if args.verbose:
            print(msg, file=sys.stderr, flush=True)

    load_before = os.getloadavg()
    parts = [header(args, load_before)]
    print(parts[0], flush=True)
    t_all = time.perf_counter()
    for task in args.tasks:
        part = table(run_task(task, args, log))
        parts.append(part)
        print(part, flush=True)
    footer = f"Total wall time: {time.perf_counter() - t_all:.0f} s.\n"
    parts.append(footer)
    print(footer, flush=True)

    output = args.output if args.output is not None else (None if args.quick else RESULTS)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_suffix(output.suffix + ".tmp")
        tmp.write_text("\n".join(parts), encoding="utf-8")
        tmp.replace(output)
        print(f"(written to {output})", file=sys.stderr)


if __name__ == "__main__":
    main()
