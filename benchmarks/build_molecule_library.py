"""Add the molecule (QM9) and polymer (RadonPy, OPP 2025) source models to the embedded library.

    SKMDL_DATA=../shared/data python benchmarks/build_molecule_library.py [--n-jobs 2]

Writes into skmdl/library/default/ next to the inorganic models, which are
kept as they are (the build is resumable and skips models already present).
Recipes: ``skmdl.library.recipes_organic``. Prints one row per source
property (rows used, models, held-out MAE/R², mean and best over the models)
and the size the new models add to the package.
"""

import argparse
import os
import time
from pathlib import Path

from skmdl.library import ModelLibrary
from skmdl.library.library import default_library_path
from skmdl.library.recipes_organic import MOLECULE_SOURCES, POLYMER_SOURCES, build_organic

from _results import write_result  # benchmarks/_results.py
from build_default_library import source_table


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(default_library_path()))
    ap.add_argument("--n-molecule-models", type=int, default=5)
    ap.add_argument("--n-polymer-models", type=int, default=5)
    ap.add_argument("--n-jobs", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    result = build_organic(args.out, args.n_molecule_models, args.n_polymer_models,
                           n_jobs=args.n_jobs)
    dt = time.perf_counter() - t0
    lib = ModelLibrary(args.out)
    df = lib.search(kind=["molecule", "polymer"])
    lines = source_table(df, MOLECULE_SOURCES + POLYMER_SOURCES, with_kind=True)
    root = Path(args.out)
    size = sum(p.stat().st_size for i in df["id"] for p in (root / "models" / i).iterdir())
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    lines += ["", f"{len(df)} molecule/polymer models, {df.property.nunique()} source properties, "
                  f"{size / 1e6:.1f} MB on disk (whole library: {len(lib)} models, "
                  f"{total / 1e6:.1f} MB)"]
    n_new = sum(len(r["trained"]) for r in result.values())
    if n_new:
        lines.append(f"this run trained {n_new} models in {dt / 60:.1f} min (featurizing "
                     f"included) on {os.cpu_count()} cores with n_jobs={args.n_jobs}")
    text = "\n".join(lines)
    print(text)
    if Path(args.out).resolve() == default_library_path().resolve():
        write_result("molecule_library.md", text)


if __name__ == "__main__":
    main()
