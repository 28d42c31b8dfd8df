"""Add the crystal-structure source models to the embedded library and compare them with a forest.

    SKMDL_DATA=../shared/data python benchmarks/build_structure_library.py [--n-jobs 1]

Recipes: ``skmdl.library.recipes_structure`` (MEGNet's MP-2018 formation
energies and PBE band gaps with their published split, orbital-field-matrix
inputs). Writes into skmdl/library/default/ (resumable; other models are kept
as they are). Prints per property: rows, held-out MAE/R² of the models (mean,
best), a RandomForest on the same features and rows (100 trees,
``max_features=1/3``, each tree on a 10,000-row bootstrap), MEGNet's published
test MAE (a graph network; different test rows of the same set) and seconds.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from skmdl.library import ModelLibrary
from skmdl.library.library import default_library_path
from skmdl.library.recipes_structure import (STRUCTURE_CONFIG, STRUCTURE_SOURCES, build_structure,
                                             structure_featurizer)
from skmdl.library.tasks import prepare_task

from _results import write_result  # benchmarks/_results.py
from build_default_library import source_table

#: MEGNet (Chen et al. 2019, Table 2), MP-2018.6.1 test MAE
MEGNET = {"mp2018_e_form": 0.028, "mp2018_gap_pbe": 0.33}


def forest_rows(n_jobs) -> list:
    """``(task, RF test MAE, seconds)`` per structure source, featurized once for both."""
    memo, out = {}, []
    for source in STRUCTURE_SOURCES:
        t0 = time.perf_counter()
        F_tr, y_tr, _, _, F_te, y_te = prepare_task(source, structure_featurizer(), 0,
                                                    STRUCTURE_CONFIG, memo=memo)[0]
        rf = RandomForestRegressor(n_estimators=100, max_features=1 / 3, max_samples=10000,
                                   n_jobs=n_jobs, random_state=0).fit(F_tr, y_tr)
        mae = float(np.abs(rf.predict(F_te) - y_te).mean())
        out.append((source.task, mae, time.perf_counter() - t0))
        print(f"{source.task}: RandomForest MAE {mae:.4g}", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(default_library_path()))
    ap.add_argument("--n-models", type=int, default=5)
    ap.add_argument("--n-jobs", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    result = build_structure(args.out, args.n_models, n_jobs=args.n_jobs)
    dt = time.perf_counter() - t0
    lib = ModelLibrary(args.out)
    df = lib.search(kind="structure")
    lines = [f"`python benchmarks/build_structure_library.py {' '.join(os.sys.argv[1:])}`", ""]
    lines += source_table(df, STRUCTURE_SOURCES)
    lines += ["", "| task | best model MAE | RandomForest MAE (same features, rows) "
                  "| best ÷ RF | MEGNet (paper) | RF seconds |", "|---|---|---|---|---|---|"]
    for task, rf_mae, secs in forest_rows(args.n_jobs):
        best = df[df.task == task].mae.min()
        lines.append(f"| {task} | {best:.4g} | {rf_mae:.4g} | {best / rf_mae:.2f} "
                     f"| {MEGNET[task]} | {secs:.0f} |")
    root = Path(args.out)
    size = sum(p.stat().st_size for i in df["id"] for p in (root / "models" / i).iterdir())
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    lines += ["", f"{len(df)} structure models, {size / 1e6:.1f} MB on disk (whole library: "
                  f"{len(lib)} models, {total / 1e6:.1f} MB)"]
    if result["trained"]:
        lines.append(f"this run trained {len(result['trained'])} models in {dt / 60:.1f} min "
                     f"(featurizing included) on {os.cpu_count()} cores with n_jobs={args.n_jobs}")
    text = "\n".join(lines)
    print(text)
    if root.resolve() == default_library_path().resolve():
        write_result("structure_library.md", text)


if __name__ == "__main__":
    main()
