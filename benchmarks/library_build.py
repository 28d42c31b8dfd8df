"""Shotgun-builder throughput: small source MLPs trained per hour.

    SKMDL_DATA=../shared/data python benchmarks/library_build.py [--n-models 40] [--n-jobs 2]

Fixed recipe (the "small MLP" of the goal in the library issue): source task
mp_shear_modulus (published split), CompositionFeaturizer(magpie, all stats +
stoichiometry, 226 inputs), 2,000 training rows, random architectures with
1-3 hidden layers of 32-128 units, batch 128, at most 30 epochs with early
stopping (patience 5). Prints models/hour for joblib with 1 and n_jobs
workers, one model at a time and in vmapped groups of --group-size models
(skmdl.library.batched), on --device (cpu, or cuda where a GPU is present),
plus the mean held-out R² so that speed is not bought with useless models.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from skmdl.library import ModelLibrary, TrainingConfig, build
from skmdl.library.recipes import DEFAULT_SOURCES
from skmdl.descriptors import CompositionFeaturizer

from _results import write_result  # benchmarks/_results.py

RECIPE = TrainingConfig(widths=(32, 64, 128), n_layers=(1, 3), batch_sizes=(128,),
                        max_epochs=30, patience=5, max_train=2000)


def run(n_models, n_jobs, device, group_size=1):
    source = [s for s in DEFAULT_SOURCES if s.task == "mp_shear_modulus"]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = build(source, Path(tmp) / "lib",
                       featurizer=CompositionFeaturizer(stats="all", stoichiometry=True),
                       n_models=n_models, config=RECIPE, n_jobs=n_jobs, device=device,
                       group_size=group_size)
        dt = time.perf_counter() - t0
        df = ModelLibrary(Path(tmp) / "lib").search()
    return {"models": len(result["trained"]), "seconds": dt,
            "per_hour": 3600 * len(result["trained"]) / dt, "r2": df["r2"].mean()}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-models", type=int, default=40)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--group-size", type=int, default=8,
                    help="models sharing an architecture trained as one vmapped ensemble")
    args = ap.parse_args()
    lines = [f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"torch {torch.__version__}, device {args.device}",
             f"recipe: {RECIPE}", "",
             "| workers | models trained together (vmapped) | models | seconds (incl. featurizing) "
             "| models/hour | mean test R² |",
             "|---|---|---|---|---|---|"]
    for n_jobs in sorted({1, args.n_jobs}):
        for group in sorted({1, args.group_size}):
            r = run(args.n_models, n_jobs, args.device, group)
            lines.append(f"| {n_jobs} | {group} | {r['models']} | {r['seconds']:.1f} | "
                         f"{r['per_hour']:.0f} | {r['r2']:.3f} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    write_result(f"library_build_{args.device}.md", text)


if __name__ == "__main__":
    main()
