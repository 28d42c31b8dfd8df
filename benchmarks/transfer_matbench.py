"""Transfer (skmdl's defaults) vs direct on Matbench composition tasks (official folds).

    SKMDL_DATA=../shared/data python benchmarks/transfer_matbench.py \
        --tasks matbench_steels matbench_expt_gap matbench_glass matbench_expt_is_metal --n-jobs 2

``--tasks supercon_tc`` (SuperCon critical temperatures, not a matbench task)
uses matbench's fold scheme (5 shuffled folds, seed 18012019).

For every official fold, in one run, with hyperparameters fixed a priori (never
tuned on the test folds):

* direct ET: ExtraTrees (100 trees, max_features 0.3: the default head's family)
  on CompositionFeaturizer(magpie stats + stoichiometry + element fractions);
* transfer default: ``TransferRegressor()`` / ``TransferClassifier()`` with
  every default (the embedded library, sources screened on the training fold
  only; the benchmark targets are never sources); ``quantity="band gap"`` for
  matbench_expt_gap, so the DFT band-gap sources give multi-fidelity members;
* regression also runs ``combine="best"`` (selection of one member) beside the
  default greedy combination, to measure which; ``--hurdle-off`` adds the
  default with ``hurdle=False`` (members learn the zeros too);
* classification reports ROC-AUC from probabilities and from hard labels (how
  the Matbench leaderboard scores), with the direct model at threshold 0.5 and
  with its threshold tuned by inner CV (scikit-learn's
  ``TunedThresholdClassifierCV``, balanced accuracy) as the fair peer of the
  transfer default's tuned threshold.

The paired table gives each transfer row's per-fold difference from direct ET
(mean ± standard error; positive = worse).
"""

import argparse
import json
import os
import time

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from skmdl.datasets import is_classification, load_task, matbench_folds
from skmdl.descriptors import CompositionFeaturizer
from skmdl.library import BENCHMARK_TARGETS, ModelLibrary
from skmdl.transfer import TransferClassifier, TransferRegressor
from skmdl.utils.atomic import write_text

from _results import RESULTS, write_result  # benchmarks/_results.py

# matbench per-task leaderboards (see benchmarks/matbench_composition.py); the
# classification leaderboards compute ROC-AUC from hard 0/1 predictions.
LEADERBOARD = {"matbench_steels": ("TPOT-Mat; MODNet 87.76 as quoted in the issue", 79.95, "MPa"),
               "matbench_expt_gap": ("Darwin", 0.287, "eV"),
               "matbench_glass": ("MODNet v0.1.12, ROC-AUC from hard labels", 0.9603, ""),
               "matbench_expt_is_metal": ("Darwin, ROC-AUC from hard labels", 0.9598, ""),
               "supercon_tc": ("no leaderboard", None, "K")}


#: the target's physical quantity, as library cards name it (multi-fidelity members)
QUANTITY = {"matbench_expt_gap": "band gap"}


def task_folds(task, y):
    """The official folds of a matbench task; for any other task (supercon_tc) matbench's
    scheme: ``KFold(5, shuffle=True, random_state=18012019)`` over the rows."""
    if task.startswith("matbench_"):
        return matbench_folds(task)
    from sklearn.model_selection import KFold

    return list(KFold(5, shuffle=True, random_state=18012019).split(np.zeros(len(y))))


def direct_descriptors():
    return CompositionFeaturizer(stoichiometry=True, element_fractions=True)


def classifiers(seed, n_jobs=None):
    from sklearn.model_selection import TunedThresholdClassifierCV

    et = lambda: ExtraTreesClassifier(n_estimators=100, max_features=0.3,  # noqa
                                      random_state=seed, n_jobs=1)
    return {
        "direct ET": make_pipeline(direct_descriptors(), et()),
        "direct ET, threshold by inner CV": make_pipeline(
            direct_descriptors(), TunedThresholdClassifierCV(
                et(), scoring="balanced_accuracy", cv=5, random_state=seed)),
        "transfer default": TransferClassifier(n_jobs=n_jobs, random_state=seed),
    }


def models(seed, task, n_jobs=None, variants=True, hurdle_off=False):
    et = ExtraTreesRegressor(n_estimators=100, max_features=0.3, random_state=seed, n_jobs=1)
    out = {"direct ET": make_pipeline(direct_descriptors(), et),
           "transfer default": TransferRegressor(quantity=QUANTITY.get(task), n_jobs=n_jobs,
                                                 random_state=seed)}
    if variants:
        out["transfer, combine=best"] = TransferRegressor(
            quantity=QUANTITY.get(task), combine="best", n_jobs=n_jobs, random_state=seed)
    if hurdle_off:
        out["transfer, hurdle=False"] = TransferRegressor(
            quantity=QUANTITY.get(task), hurdle=False, n_jobs=n_jobs, random_state=seed)
    return out


def _paired_row(label, d):
    """A table row: mean ± standard error of paired per-fold differences (positive = worse)."""
    se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
    verdict = ("better" if d.mean() + se < 0 else "worse" if d.mean() - se > 0
               else "within one SE")
    return f"| {label} | {d.mean():+.4g} ± {se:.2g} | {verdict} |"


def _versus_direct(scores, clf):
    """Paired per-fold difference of every transfer row against direct ET (mean ± SE)."""
    out = ["", "| versus direct ET (paired over folds) | mean difference ± SE | verdict |",
           "|---|---|---|"]
    for name, s in scores.items():
        if not name.startswith("transfer"):
            continue
        ref = scores["direct ET, hard labels" if name.endswith("hard labels") else "direct ET"]
        d = np.asarray(s) - np.asarray(ref)
        out.append(_paired_row(name, -d if clf else d))  # classification: higher is better
    if "transfer, hurdle=False" in scores:  # the hurdle's own effect, same run
        d = np.asarray(scores["transfer default"]) - np.asarray(scores["transfer, hurdle=False"])
        out.append(_paired_row("transfer default − transfer, hurdle=False", d))
    return out


def fit_fold(task, k, tr, te, X, y, args) -> dict:
    """Every model of the run on fold ``k``: scores, seconds, members kept, intervals."""
    clf = is_classification(task)
    todo = (classifiers(0, args.n_jobs) if clf
            else models(0, task, args.n_jobs, not args.no_variants, args.hurdle_off))
    out = {"scores": {}, "seconds": {}, "chosen": None, "cover": None, "width": None}
    for name, model in todo.items():
        t0 = time.perf_counter()
        model.fit(X.iloc[tr], y.iloc[tr])
        if clf:
            proba = model.predict_proba(X.iloc[te])[:, 1]
            score = roc_auc_score(y.iloc[te].astype(int), proba)
            hard = roc_auc_score(y.iloc[te].astype(int), model.predict(X.iloc[te]))
            out["scores"][f"{name}, hard labels"] = hard
            out["seconds"][f"{name}, hard labels"] = np.nan
        else:
            score = float(np.abs(model.predict(X.iloc[te]) - y.iloc[te]).mean())
        out["seconds"][name] = time.perf_counter() - t0
        out["scores"][name] = float(score)
        if name == "transfer default":
            out["chosen"] = kept_members(model)
            if isinstance(model, TransferRegressor):
                lo, hi = model.predict_interval(X.iloc[te], alpha=0.1).T
                yt = y.iloc[te].to_numpy()
                out["cover"] = float(np.mean((yt >= lo) & (yt <= hi)))
                out["width"] = float(np.mean(hi - lo))
        metric = "ROC-AUC" if clf else "MAE"
        print(f"{task} fold {k}: {name}: {metric} {score:.4g}", flush=True)
    return out


def kept_members(model) -> list:
    """The members with weight, the zero gate and the threshold of a fitted transfer model."""
    kept = model.members_[model.members_["weight"] > 0]
    return ([f"{m} ({w:.2f})" for m, w in zip(kept["member"], kept["weight"])]
            + (["zero gate"] if getattr(model, "gate_", None) else [])
            + ([f"threshold {model.threshold_:.2f}"] if getattr(model, "threshold_", None)
               else []))


def fold_results(task, X, y, args) -> list:
    """Per fold, :func:`fit_fold`'s dict; with ``--run`` each finished fold is kept in
    ``benchmarks/results/transfer_runs/RUN/`` (atomic write) and a rerun resumes there."""
    out = []
    for k, (tr, te) in enumerate(task_folds(task, y)[: args.folds]):
        path = RESULTS / "transfer_runs" / args.run / f"{task}_fold{k}.json" if args.run else None
        if path is not None and path.exists():
            out.append(json.loads(path.read_text()))
            print(f"{task} fold {k}: kept from {path}", flush=True)
            continue
        out.append(fit_fold(task, k, tr, te, X, y, args))
        if path is not None:
            write_text(path, json.dumps(out[-1]))
    return out


def task_lines(task, y, folds) -> list:
    """The task's tables from its per-fold results."""
    clf = is_classification(task)
    names = list(folds[0]["scores"])
    scores = {n: [f["scores"][n] for f in folds] for n in names}
    seconds = {n: np.mean([f["seconds"][n] for f in folds]) for n in names}
    unit = LEADERBOARD.get(task, ("", None, ""))[2]
    head = "ROC-AUC (from probabilities unless marked)" if clf else f"MAE ({unit})"
    kind = "official" if task.startswith("matbench_") else "matbench-scheme"
    lines = [f"### {task} ({len(y)} rows, {len(folds)} {kind} folds)", "",
             f"| model | {head} | per fold | s/fold |", "|---|---|---|---|"]
    for name, s in scores.items():
        lines.append(f"| {name} | {np.mean(s):.4g} ± {np.std(s):.2g} | "
                     f"{', '.join(f'{v:.4g}' for v in s)} | {seconds[name]:.1f} |")
    lines += _versus_direct(scores, clf)
    ref = LEADERBOARD.get(task)
    if ref and ref[1] is not None:
        lines.append(f"\nleaderboard best ({ref[0]}): {ref[1]} {ref[2]}")
    cover = [f["cover"] for f in folds if f["cover"] is not None]
    if cover:
        width = [f["width"] for f in folds if f["width"] is not None]
        lines.append(f"transfer default 90 % intervals: coverage {np.mean(cover):.3f} "
                     f"(folds {', '.join(f'{c:.2f}' for c in cover)}), "
                     f"mean width {np.mean(width):.4g} {unit}")
    lines.append("members kept per fold (transfer default first): " + "; ".join(
        ", ".join(f["chosen"] or []) for f in folds))
    return lines + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", nargs="*", default=["matbench_steels", "matbench_expt_gap"])
    ap.add_argument("--no-variants", action="store_true",
                    help="skip the combine='best' variant (regression)")
    ap.add_argument("--hurdle-off", action="store_true",
                    help="add the transfer default with hurdle=False (members on every row, "
                         "zeros included; the default before the hurdle)")
    ap.add_argument("--folds", type=int, default=5, help="run the first N official folds")
    ap.add_argument("--n-jobs", type=int, default=None,
                    help="parallel source screening / heads of the transfer classifier")
    ap.add_argument("--run", default=None,
                    help="keep each finished fold under results/transfer_runs/RUN and resume")
    args = ap.parse_args()
    lib = ModelLibrary.default()
    assert not set(lib.search()["task"]) & set(BENCHMARK_TARGETS), "target leaked into sources"
    lines = [f"`python benchmarks/transfer_matbench.py {' '.join(os.sys.argv[1:])}`", "",
             f"{os.cpu_count()} cores; library: {len(lib)} source models, "
             f"{lib.search()['task'].nunique()} source tasks", ""]
    for task in args.tasks:
        X, y = load_task(task)
        lines += task_lines(task, y, fold_results(task, X, y, args))
    text = "\n".join(lines)
    print(text)
    write_result(f"transfer_{'+'.join(args.tasks)}.md", text)


if __name__ == "__main__":
    main()
