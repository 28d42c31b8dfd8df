"""Shotgun depth: does transfer improve with more source models per property?

    SKMDL_DATA=../shared/data skmdl library build --preset extended \
        --tasks aflow_ael_bulk_modulus_vrh aflow_ael_shear_modulus_vrh mp_bulk_modulus \
                mp_shear_modulus matbench_log_kvrh matbench_log_gvrh matbench_dielectric \
        --out ../libs/extended --n-jobs 2
    SKMDL_DATA=../shared/data python benchmarks/shotgun_depth.py --library ../libs/extended \
        [--depths 1 5 25 50] [--tasks ...] [--sizes 50 100 200] [--repeats 5]

The extended library holds 50 random-architecture networks per source property
(the embedded library's recipe, seeds 0..49). For a target task and depth k, the
candidates of ``TransferRegressor()`` (every other default unchanged) are the
first k networks of every allowed property of that library: the target's own
task and physical quantity are excluded exactly as in the learning curves
(``transfer_exclusions``). The first k of a seeded shotgun are a random draw of
k architectures, so depth is the only thing that changes between columns.
Splits, the direct baseline (ExtraTrees on the default descriptors) and the
repeats are those of ``transfer_learning_curves.py``; the table prints MAE
(mean ± std over repeats), transfer ÷ direct per depth, and the candidates
screened.
"""

import argparse
import os

import numpy as np
from sklearn.pipeline import make_pipeline

from skmdl.library import ModelLibrary, source_name
from skmdl.library.recipes import transfer_exclusions
from skmdl.transfer import TransferRegressor

from _results import write_result  # benchmarks/_results.py
from transfer_learning_curves import curve_splits, descriptors, head

TASKS = ["aflow_ael_bulk_modulus_vrh", "aflow_ael_shear_modulus_vrh"]


def depth_sources(library, task, depth) -> list:
    """The first ``depth`` models of every property of ``library`` allowed for ``task``."""
    ids = library.search(kind="inorganic", **transfer_exclusions(task))["id"]
    prefixes = ids.map(source_name)
    return sorted(i for _, g in ids.groupby(prefixes) for i in sorted(g)[:depth])


def fit_mae(model, X, y, train, test) -> float:
    model.fit(X[train], y[train])
    return float(np.abs(model.predict(X[test]) - y[test]).mean())


def task_rows(task, library, args) -> list:
    """Table rows of one task: one per training-set size."""
    X, y, test, draws = curve_splits(task, args.sizes, args.repeats)
    sources = {k: depth_sources(library, task, k) for k in args.depths}
    rows = []
    for n, trains in draws:
        mae = {"direct": [fit_mae(make_pipeline(descriptors(), head(r)), X, y, tr, test)
                          for r, tr in enumerate(trains)]}
        for k, ids in sources.items():
            mae[k] = [fit_mae(TransferRegressor(sources=ids, library=library, random_state=r,
                                                **transfer_exclusions(task)), X, y, tr, test)
                      for r, tr in enumerate(trains)]
        direct = np.mean(mae["direct"])
        cells = [f"{np.mean(v):.4g} ± {np.std(v):.2g}" for v in mae.values()]
        ratios = [f"{np.mean(mae[k]) / direct:.3f}" for k in args.depths]
        rows.append(f"| {task} | {n} | " + " | ".join(cells + ratios)
                    + f" | {' / '.join(str(len(sources[k])) for k in args.depths)} |")
        print(rows[-1], flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--library", required=True, help="the extended library folder")
    ap.add_argument("--tasks", nargs="*", default=TASKS)
    ap.add_argument("--depths", nargs="*", type=int, default=[1, 5, 25, 50])
    ap.add_argument("--sizes", nargs="*", type=int, default=[50, 100, 200])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    library = ModelLibrary(args.library)
    props = library.search(kind="inorganic")["id"].map(source_name)
    per_prop = props.value_counts()
    head_cells = ["direct MAE"] + [f"k={k} MAE" for k in args.depths] \
        + [f"k={k} ÷ direct" for k in args.depths] + ["candidates"]
    lines = [f"`python benchmarks/shotgun_depth.py {' '.join(os.sys.argv[1:])}`",
             f"({os.cpu_count()} cores; library: {len(per_prop)} properties, "
             f"{per_prop.min()}-{per_prop.max()} models each; repeats: {args.repeats})", "",
             "| task | n | " + " | ".join(head_cells) + " |",
             "|---|---|" + "---|" * len(head_cells)]
    for task in args.tasks:
        lines += task_rows(task, library, args)
    text = "\n".join(lines)
    print(text)
    write_result("shotgun_depth.md", text)


if __name__ == "__main__":
    main()
