"""Small-data learning curves: transfer vs direct, with no source of the target's property.

    SKMDL_DATA=../shared/data python benchmarks/transfer_learning_curves.py \
        [--tasks ...] [--sizes 50 100 200 500] [--repeats 5]

For each target task, a fixed test set (20 % of the rows, at most 1,000, seed
0) is held out; training sets of n rows are drawn from the rest (5 repeats).
Direct: ExtraTrees on CompositionFeaturizer(magpie + stoichiometry + element
fractions). Transfer: TransferRegressor with the same head and descriptors,
candidates = the embedded library minus the target task and every source of
the same physical quantity (skmdl.library.recipes.transfer_exclusions).
Prints MAE (mean over repeats) and the ratio transfer / direct.

``--models`` adds other transfer recipes, compared with the same direct runs:
``outputs`` = ExtraTrees on [the same descriptors, the predictions of every
allowed source model] (PretrainedFeaturizer(layers="output") in a
FeatureUnion), a stacking of all sources instead of one head per screened
source. Extra recipes write ``transfer_learning_curves_<names>.md``.
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
    return ExtraTreesRegressor(n_estimators=300, max_features=0.3, random_state=seed, n_jobs=1)


def models(task, seed=0, n_sources=5):
    """The compared models, fitted on raw formulas."""
    return {
        "direct": make_pipeline(descriptors(), head(seed)),
        "transfer": TransferRegressor(n_sources=n_sources, head=head(seed),
                                      descriptors=descriptors(), calibration_cv=None,
                                      random_state=seed, **transfer_exclusions(task)),
        "outputs": make_pipeline(
            make_union(descriptors(),
                       PretrainedFeaturizer(models=transfer_sources(task), layers="output")),
            head(seed)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", nargs="*", default=TASKS)
    ap.add_argument("--sizes", nargs="*", type=int, default=[50, 100, 200, 500])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n-sources", type=int, default=5)
    ap.add_argument("--models", nargs="*", default=["transfer"],
                    help="transfer recipes to compare with direct: transfer, outputs")
    args = ap.parse_args()
    names = ["direct", *args.models]
    lines = [f"`python benchmarks/transfer_learning_curves.py {' '.join(os.sys.argv[1:])}`",
             f"({os.cpu_count()} cores)", "",
             "| task | n | " + " | ".join(f"{m} MAE" for m in names) + " | "
             + " | ".join(f"{m} ÷ direct" for m in names[1:]) + " | repeats |",
             "|---|---|" + "---|" * (2 * len(names) - 1) + "---|"]
    wins = {m: {} for m in names[1:]}
    for task in args.tasks:
        X, y = load_task(task)
        X, y = X.reset_index(drop=True), y.to_numpy(dtype=float)
        rng = np.random.default_rng(0)
        order = rng.permutation(len(y))
        n_test = min(1000, len(y) // 5)
        test, pool = order[:n_test], order[n_test:]
        for n in args.sizes:
            if n > len(pool):
                continue
            mae = {m: [] for m in names}
            for r in range(args.repeats):
                tr = np.random.default_rng(1000 * r + n).choice(pool, size=n, replace=False)
                todo = models(task, r, args.n_sources)
                for m in names:
                    model = todo[m].fit(X[tr], y[tr])
                    mae[m].append(np.abs(model.predict(X[test]) - y[test]).mean())
            ratios = {m: np.mean(mae[m]) / np.mean(mae["direct"]) for m in names[1:]}
            for m, ratio in ratios.items():
                if n <= 200:
                    wins[m].setdefault(task, []).append(ratio)
            lines.append(f"| {task} | {n} | "
                         + " | ".join(f"{np.mean(mae[m]):.4g} ± {np.std(mae[m]):.2g}"
                                      for m in names) + " | "
                         + " | ".join(f"{ratios[m]:.3f}" for m in names[1:])
                         + f" | {args.repeats} |")
            print(lines[-1], flush=True)
    lines.append("")
    for m, w in wins.items():
        good = [k for k, v in w.items() if max(v) <= 0.85]
        lines.append(f"{m}: tasks with ≤ 0.85 × direct MAE at every n ≤ 200: {len(good)} of "
                     f"{len(w)} ({', '.join(good) or 'none'})")
    text = "\n".join(lines)
    print(text)
    suffix = "" if args.models == ["transfer"] else "_" + "+".join(args.models)
    write_result(f"transfer_learning_curves{suffix}.md", text)


if __name__ == "__main__":
    main()
