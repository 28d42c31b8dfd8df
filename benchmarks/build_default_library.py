"""Build the embedded default model library and print its table.

    SKMDL_DATA=../shared/data python benchmarks/build_default_library.py [--n-jobs 2]

Writes skmdl/library/default/ (resumable: rerun after an interruption) and
prints one row per source property: rows used, models, held-out MAE/R² (mean
and best over the models), library size, and the build throughput.
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
    for s in sources:
        g = df[df.property == s.property]
        if g.empty:
            continue
        kind = f"{s.kind} | " if with_kind else ""
        lines.append(
            f"| {kind}{s.task} | {s.property} | {s.unit} | {int(g.n_train.iloc[0])} | "
            f"{int(g.n_test.iloc[0])} | {len(g)} | {g.mae.mean():.4g} | {g.mae.min():.4g} | "
            f"{g.r2.mean():.3f} | {g.r2.max():.3f} |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(default_library_path()))
    ap.add_argument("--n-models", type=int, default=None,
                    help="models per source (default: the preset's)")
    ap.add_argument("--preset", default="default", choices=sorted(PRESETS))
    ap.add_argument("--n-jobs", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    result = build_default(args.out, n_models=args.n_models, n_jobs=args.n_jobs,
                           preset=args.preset)
    dt = time.perf_counter() - t0
    lib = ModelLibrary(args.out)
    df = lib.search()
    lines = source_table(df, preset_sources(args.preset))
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
