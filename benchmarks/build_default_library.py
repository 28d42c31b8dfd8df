"""Build the embedded default model library and print its table.

    SKMDL_DATA=../shared/data python benchmarks/build_default_library.py [--n-jobs 2]

Writes skmdl/library/default/ (resumable: rerun after an interruption) and
prints one row per source property: rows used, models, held-out MAE/R² (mean
and best over the models, the full-data network included), the RandomForest
reference on the same descriptors and test rows (every training row), library
size, and the build throughput.
"""

import argparse
import os
import time
from pathlib import Path

from skmdl.library import ModelLibrary
from skmdl.library.library import default_library_path
from skmdl.library.recipes import PRESETS, build_default, preset_sources

from _results import write_result  # benchmarks/_results.py


def source_table(df, sources, with_kind=False) -> list:
    """Markdown lines: one row per source property (rows used, models, held-out MAE/R²).

    ``df`` is ``ModelLibrary.search()``'s table, ``sources`` the ``SourceTask``s
    built; ``with_kind`` adds a first column with each source's kind.
    """
    head = ["kind"] * with_kind + ["task", "property", "unit", "n_train", "n_test", "models",
                                    "MAE mean", "MAE best", "R² mean", "R² best"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    done = set()
    for s in sources:
        g = df[df.property == s.property]
        if g.empty or s.property in done:
            continue
        done.add(s.property)
        kind = f"{s.kind} | " if with_kind else ""
        lines.append(
            f"| {kind}{s.task} | {s.property} | {s.unit} | {int(g.n_train.max())} | "
            f"{int(g.n_test.iloc[0])} | {len(g)} | {g.mae.mean():.4g} | {g.mae.min():.4g} | "
            f"{g.r2.mean():.3f} | {g.r2.max():.3f} |")
    return lines


def with_random_forest(lines, df, lib, sources, args) -> list:
    """``source_table``'s lines with the RandomForest reference per property.

    The forest (``strong_sources.random_forest_mae``: 100 trees, max_features
    1/3, bootstraps of at most 50k rows) is fitted on every training row of
    the property's published / seeded split, the rows of its full-data
    network, and scored on the same test rows as every model of the property.
    """
    from strong_sources import random_forest_mae

    full = {s.prefix[:-len("_full")]: s for s in sources if s.prefix.endswith("_full")}
    out = [lines[0][:-1] + "| best ÷ RF | RandomForest MAE | RF seconds |",
           lines[1] + "---|---|---|"]
    by_property = {s.property: s for s in sources if not s.prefix.endswith("_full")}
    for line in lines[2:]:
        prop = line.split(" | ")[1]
        s = full.get(by_property[prop].prefix) if prop in by_property else None
        ids = df[df.id.str.startswith(f"{s.prefix}-")].id if s is not None else []
        if not len(ids):
            out.append(line + " – | – | – |")
            continue
        mae, _, seconds = random_forest_mae(lib, s, ids.iloc[0], args)
        best = df[df.property == prop].mae.min()
        out.append(line + f" {best / mae:.2f} | {mae:.4g} | {seconds:.0f} |")
        print(out[-1], flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(default_library_path()))
    ap.add_argument("--n-models", type=int, default=None,
                    help="models per source (default: the preset's)")
    ap.add_argument("--preset", default="default", choices=sorted(PRESETS))
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--no-rf", dest="rf", action="store_false",
                    help="skip the RandomForest reference (cached per property once computed)")
    args = ap.parse_args()
    args.rf_trees, args.rf_max_samples = 100, 50000
    t0 = time.perf_counter()
    result = build_default(args.out, n_models=args.n_models, n_jobs=args.n_jobs,
                           preset=args.preset)
    dt = time.perf_counter() - t0
    lib = ModelLibrary(args.out)
    df = lib.search()
    lines = source_table(df, preset_sources(args.preset))
    if args.rf:
        lines = with_random_forest(lines, df, lib, preset_sources(args.preset), args)
    size = sum(p.stat().st_size for p in Path(args.out).rglob("*") if p.is_file())
    lines.append("")
    lines.append(f"{len(df)} models, {df.property.nunique()} source properties, "
                 f"{size / 1e6:.1f} MB on disk")
    n_new = len(result["trained"])
    if n_new:
        lines.append(f"this run trained {n_new} models in {dt / 60:.1f} min on "
                     f"{os.cpu_count()} cores with n_jobs={args.n_jobs} "
                     f"({3600 * n_new / dt:.0f} models/hour)")
    for sources, config, n in PRESETS[args.preset]:
        lines.append(f"- {len(sources)} sources x {n} models: {config}")
    text = "\n".join(lines)
    print(text)
    write_result("default_library.md" if args.preset == "default"
                 else f"{args.preset}_library.md", text)


if __name__ == "__main__":
    main()
