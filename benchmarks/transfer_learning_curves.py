"""Small-data learning curves: skmdl's transfer defaults vs direct, with no source of the
target's property.

    SKMDL_DATA=../shared/data python benchmarks/transfer_learning_curves.py \
        [--tasks ...] [--sizes 50 100 200] [--repeats 5] [--models transfer best]

For each target task, a fixed test set (20 % of the rows, at most 1,000, seed
0) is held out; training sets of n rows are drawn from the rest (5 repeats).
Direct: ExtraTrees (100 trees, max_features 0.3: the default head) on
CompositionFeaturizer(magpie + stoichiometry + element fractions: the default
descriptors). Transfer: ``TransferRegressor()`` with every default, candidates =
the embedded library minus the target task and every source of the same
physical quantity (skmdl.library.recipes.transfer_exclusions). Prints MAE (mean
over repeats) and the ratio transfer / direct.

``--models`` picks the transfer recipes compared with the same direct runs:
``transfer`` (the default: greedy combination of members no worse than direct),
``best`` (``combine="best"``: one member), ``margin_auto`` (``margin="auto"``: the
one-standard-error rule corrected for the number of members compared with direct),
``trees_stack`` (``stack="trees"``: the default without the ``outputs`` ridge
member, i.e. the default before it), ``mean`` (the recipe before: no direct member,
no stack, equal weights over the screened sources), ``outputs`` (ExtraTrees on [descriptors, the predictions of every
allowed source]), ``single`` (the default on the single-task sources only) and ``trunk`` (the default on the
multi-task trunk only, where the exclusions allow it: a trunk that saw the target's
quantity never is).
"""

import argparse
import os

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.pipeline import make_pipeline, make_union

from skmdl.datasets import load_task
from skmdl.descriptors import CompositionFeaturizer
from skmdl.library.recipes import transfer_exclusions, transfer_sources
from skmdl.transfer import PretrainedFeaturizer, TransferRegressor

from _results import write_result  # benchmarks/_results.py

TASKS = ["aflow_ael_bulk_modulus_vrh", "aflow_ael_shear_modulus_vrh", "mp_mu_b",
         "matbench_jdft2d", "matbench_phonons", "matbench_dielectric"]


def descriptors():
    return CompositionFeaturizer(stoichiometry=True, element_fractions=True)


def head(seed):
    return ExtraTreesRegressor(n_estimators=100, max_features=0.3, random_state=seed, n_jobs=1)


def split_sources(task):
    """The allowed sources of ``task``: (single-task models, multi-task trunks)."""
    from skmdl.library import ModelLibrary

    lib = ModelLibrary.default()
    ids = transfer_sources(task, lib)
    trunks = [i for i in ids if lib.quantity(i) == "multi-task"]
    return [i for i in ids if i not in trunks], trunks


def models(task, seed=0, n_jobs=None):
    """The compared models, fitted on raw formulas (``trunk`` only where a trunk is allowed)."""
    excl = {**transfer_exclusions(task), "n_jobs": n_jobs}
    single, trunks = split_sources(task)
    extra = {"single": TransferRegressor(sources=single, random_state=seed, **excl)}
    if trunks:
        extra["trunk"] = TransferRegressor(sources=trunks, random_state=seed, **excl)
    return {**extra,
        "direct": make_pipeline(descriptors(), head(seed)),
        "transfer": TransferRegressor(random_state=seed, **excl),
        "best": TransferRegressor(combine="best", random_state=seed, **excl),
        "trees_stack": TransferRegressor(stack="trees", random_state=seed, **excl),
        "margin_auto": TransferRegressor(margin="auto", random_state=seed, **excl),
        "mean": TransferRegressor(direct=False, stack=False, combine="mean",
                                  calibration_cv=None, random_state=seed, **excl),
        "outputs": make_pipeline(
            make_union(descriptors(),
                       PretrainedFeaturizer(models=transfer_sources(task), layers="output")),
            head(seed)),
    }


def curve_splits(task, sizes, repeats, validation=False):
    """``(X, y, test rows, [(n, [training rows of each repeat]), ...])`` of a task.

    The fixed test set is 20 % of the rows (at most 1,000, seed 0); repeat r of
    size n draws its training rows from the rest with seed ``1000 r + n``.
    Sizes larger than the pool are skipped. ``validation``: the test rows are
    left out altogether, and a validation set of the same size is taken from
    the front of the rest (training rows from what is left), for choosing
    settings without the test rows.
    """
    X, y = load_task(task)
    X, y = X.reset_index(drop=True), y.to_numpy(dtype=float)
    order = np.random.default_rng(0).permutation(len(y))
    n_test = min(1000, len(y) // 5)
    test, pool = order[:n_test], order[n_test:]
    if validation:
        n_val = min(n_test, len(pool) // 5)
        test, pool = pool[:n_val], pool[n_val:]
    draws = [(n, [np.random.default_rng(1000 * r + n).choice(pool, size=n, replace=False)
                  for r in range(repeats)])
             for n in sizes if n <= len(pool)]
    return X, y, test, draws


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", nargs="*", default=TASKS)
    ap.add_argument("--sizes", nargs="*", type=int, default=[50, 100, 200])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", nargs="*", default=["transfer", "best"],
                    help="transfer recipes to compare with direct: transfer, best, mean, outputs")
    ap.add_argument("--validation", action="store_true",
                    help="score on a validation set outside the test rows (curve_splits)")
    ap.add_argument("--n-jobs", type=int, default=None, help="n_jobs of the transfer models")
    args = ap.parse_args()
    names = ["direct", *args.models]
    lines = [f"`python benchmarks/transfer_learning_curves.py {' '.join(os.sys.argv[1:])}`",
             f"({os.cpu_count()} cores)", "",
             "| task | n | " + " | ".join(f"{m} MAE" for m in names) + " | "
             + " | ".join(f"{m} ÷ direct" for m in names[1:]) + " | repeats |",
             "|---|---|" + "---|" * (2 * len(names) - 1) + "---|"]
    wins = {m: {} for m in names[1:]}
    limit = 500 if args.tasks != TASKS else 200  # the goals: n <= 200; supercon n <= 500
    for task in args.tasks:
        X, y, test, draws = curve_splits(task, args.sizes, args.repeats, args.validation)
        for n, trains in draws:
            mae = {m: [] for m in names}
            for r, tr in enumerate(trains):
                todo = models(task, r, args.n_jobs)
                for m in names:
                    if m not in todo:  # no trunk allowed for this target
                        mae[m].append(np.nan)
                        continue
                    model = todo[m].fit(X[tr], y[tr])
                    mae[m].append(np.abs(model.predict(X[test]) - y[test]).mean())
            ratios = {m: np.mean(mae[m]) / np.mean(mae["direct"]) for m in names[1:]}
            for m, ratio in ratios.items():
                if n <= limit and np.isfinite(ratio):
                    wins[m].setdefault(task, []).append(ratio)
            lines.append(f"| {task} | {n} | "
                         + " | ".join(f"{np.mean(mae[m]):.4g} ± {np.std(mae[m]):.2g}"
                                      if np.isfinite(mae[m]).all() else "–"
                                      for m in names) + " | "
                         + " | ".join(f"{ratios[m]:.3f}" if np.isfinite(ratios[m]) else "–"
                                      for m in names[1:])
                         + f" | {args.repeats} |")
            print(lines[-1], flush=True)
    lines.append("")
    for m, w in wins.items():
        good = [k for k, v in w.items() if max(v) <= 0.85]
        tenth = [k for k, v in w.items() if max(v) <= 0.9]
        lines.append(f"{m}: tasks with ≤ 0.9 × direct MAE at every n ≤ {limit}: "
                     f"{len(tenth)} of {len(w)}")
        lines.append(f"{m}: tasks with ≤ 0.85 × direct MAE at every n ≤ {limit}: {len(good)} of "
                     f"{len(w)} ({', '.join(good) or 'none'})")
    text = "\n".join(lines)
    print(text)
    suffix = "" if args.models == ["transfer", "best"] else "_" + "+".join(args.models)
    if args.tasks != TASKS:
        suffix = "_" + "+".join(args.tasks) + suffix
    if args.validation:
        suffix += "_validation"
    write_result(f"transfer_learning_curves{suffix}.md", text)


if __name__ == "__main__":
    main()
