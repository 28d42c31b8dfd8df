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
"""

import argparse
import os

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.pipeline import make_pipeline

from skmdl.datasets import load_task
from skmdl.descriptors import CompositionFeaturizer
from skmdl.library.recipes import transfer_exclusions
from skmdl.transfer import TransferRegressor

from _results import write_result  # benchmarks/_results.py

TASKS = ["aflow_ael_bulk_modulus_vrh", "aflow_ael_shear_modulus_vrh", "mp_mu_b",
         "matbench_jdft2d", "matbench_phonons", "matbench_dielectric"]


def descriptors():
    return CompositionFeaturizer(stoichiometry=True, element_fractions=True)


def head(seed):
    return ExtraTreesRegressor(n_estimators=300, max_features=0.3, random_state=seed, n_jobs=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", nargs="*", default=TASKS)
    ap.add_argument("--sizes", nargs="*", type=int, default=[50, 100, 200, 500])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n-sources", type=int, default=5)
    args = ap.parse_args()
    lines = [f"`python benchmarks/transfer_learning_curves.py {' '.join(os.sys.argv[1:])}`",
             f"({os.cpu_count()} cores)", "",
             "| task | n | direct MAE | transfer MAE | ratio | repeats |",
             "|---|---|---|---|---|---|"]
    wins = {}
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
            d, t = [], []
            for r in range(args.repeats):
                tr = np.random.default_rng(1000 * r + n).choice(pool, size=n, replace=False)
                direct = make_pipeline(descriptors(), head(r)).fit(X[tr], y[tr])
                d.append(np.abs(direct.predict(X[test]) - y[test]).mean())
                transfer = TransferRegressor(n_sources=args.n_sources, head=head(r),
                                             descriptors=descriptors(), calibration_cv=None,
                                             random_state=r, **transfer_exclusions(task))
                transfer.fit(X[tr], y[tr])
                t.append(np.abs(transfer.predict(X[test]) - y[test]).mean())
            ratio = np.mean(t) / np.mean(d)
            if n <= 200:
                wins.setdefault(task, []).append(ratio)
            lines.append(f"| {task} | {n} | {np.mean(d):.4g} ± {np.std(d):.2g} | "
                         f"{np.mean(t):.4g} ± {np.std(t):.2g} | {ratio:.3f} | {args.repeats} |")
            print(lines[-1], flush=True)
    good = [k for k, v in wins.items() if max(v) <= 0.85]
    lines += ["", f"tasks with transfer ≤ 0.85 × direct MAE at every n ≤ 200: {len(good)} of "
              f"{len(wins)} ({', '.join(good) or 'none'})"]
    text = "\n".join(lines)
    print(text)
    write_result("transfer_learning_curves.md", text)


if __name__ == "__main__":
    main()
