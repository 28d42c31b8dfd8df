"""Strong composition sources: held-out MAE of the library's networks vs a RandomForest.

    SKMDL_DATA=../shared/data python benchmarks/strong_sources.py --library ../libs/strong \\
        [--tasks oqmd_formation_enthalpy] [--rf-trees 100] [--rf-max-samples 50000] [--n-jobs 2]

For each source of the library (``skmdl library build --preset strong`` writes
one; the embedded library works too), the script rebuilds the source's exact
training / test rows (``prepare_task`` with the seed and config of its build:
the published split) and fits a RandomForest on the same descriptors and the
same training rows. It prints, per source property: training rows, the
networks' held-out MAE (best and mean over the models, from their cards), the
embedded default library's models of the same property (20k-row cap), and
the RandomForest's MAE on the same test rows.

RandomForest settings (fixed): ``n_estimators=--rf-trees``, ``max_features=1/3``
(regression default of Breiman), ``min_samples_leaf=1``, each tree on a
bootstrap of ``--rf-max-samples`` rows (the full 240k-row OQMD training set
per tree would take ~1 h per task on 2 cores); the table says which.
Resumable: each source's RandomForest result is kept in
``benchmarks/results/strong_sources/<source>.json``.
"""

import argparse
import json
import os
import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from skmdl.descriptors import CompositionFeaturizer
from skmdl.library import ModelLibrary
from skmdl.library.recipes import preset_sources
from skmdl.library.tasks import prepare_task
from skmdl.utils.atomic import write_text

from _results import RESULTS, write_result  # benchmarks/_results.py


def featurizer():
    return CompositionFeaturizer(elements="magpie", stats="all", stoichiometry=True)


def source_rows(lib, source):
    """The library's models of ``source`` (rows of ``lib.search()``)."""
    return lib.search(source=source.prefix)


def training_config(lib, model_id):
    """(TrainingConfig, seed) that rebuild a model's rows: its card's row cap and seed.

    The split fractions are the defaults, which every preset uses (and the
    OQMD tasks have a published split anyway).
    """
    from skmdl.library.builder import TrainingConfig

    training = lib.card(model_id)["training"]
    split = training["split"]
    max_train = None
    if "subsampled to" in split:
        max_train = int(split.rsplit(" ", 1)[-1])
    return TrainingConfig(max_train=max_train), int(training["seed"])


def random_forest_mae(lib, source, model_id, args):
    """(MAE, n_train, seconds) of the RandomForest on the model's own split (cached)."""
    name = f"{source.prefix}-rf{args.rf_trees}x{args.rf_max_samples}.json"
    cache = RESULTS / "strong_sources" / name
    key = {"trees": args.rf_trees, "max_samples": args.rf_max_samples}
    if cache.is_file():
        saved = json.loads(cache.read_text())
        if saved["settings"] == key:
            return saved["mae"], saved["n_train"], saved["seconds"]
    config, seed = training_config(lib, model_id)
    (F_tr, y_tr, _, _, F_te, y_te), _ = prepare_task(source, featurizer(), seed, config)
    mean = np.nanmean(F_tr, axis=0)
    F_tr, F_te = (np.where(np.isnan(F), mean, F) for F in (F_tr, F_te))
    t0 = time.perf_counter()
    rf = RandomForestRegressor(n_estimators=args.rf_trees, max_features=1 / 3,
                               max_samples=min(args.rf_max_samples, len(y_tr)),
                               n_jobs=args.n_jobs, random_state=0).fit(F_tr, y_tr)
    mae = float(np.abs(rf.predict(F_te) - y_te).mean())
    seconds = time.perf_counter() - t0
    write_text(cache, json.dumps({"settings": key, "mae": mae, "n_train": int(len(y_tr)),
                                  "seconds": seconds}))
    return mae, int(len(y_tr)), seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--library", required=True)
    ap.add_argument("--tasks", nargs="*", help="source id prefixes (default: all in the library)")
    ap.add_argument("--rf-trees", type=int, default=100)
    ap.add_argument("--rf-max-samples", type=int, default=50000)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args()
    lib, default = ModelLibrary(args.library), ModelLibrary.default()
    known = {s.prefix: s for s in preset_sources("default") + preset_sources("strong")}
    lines = [f"`python benchmarks/strong_sources.py {' '.join(os.sys.argv[1:])}`", "",
             f"RandomForest: {args.rf_trees} trees, max_features=1/3, each tree on a bootstrap "
             f"of at most {args.rf_max_samples} training rows; same descriptors "
             "(magpie stats + stoichiometry) and the same train/test rows as the networks", "",
             "| source | property | n_train | networks | MAE best | MAE mean | embedded library "
             "(20k rows) best | RandomForest MAE | best network ÷ RF | RF seconds |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for prefix, source in known.items():
        rows = source_rows(lib, source)
        if rows.empty or (args.tasks and prefix not in args.tasks):
            continue
        best = rows.loc[rows.mae.idxmin()]
        rf_mae, n_rf, seconds = random_forest_mae(lib, source, best.id, args)
        embedded = source_rows(default, source)
        emb = f"{embedded.mae.min():.4g}" if len(embedded) else "–"
        lines.append(f"| {prefix} | {source.property} | {int(best.n_train)} | {len(rows)} | "
                     f"{best.mae:.4g} | {rows.mae.mean():.4g} | {emb} | {rf_mae:.4g} | "
                     f"{best.mae / rf_mae:.2f} | {seconds:.0f} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    default = args.rf_trees == 100 and args.rf_max_samples == 50000
    write_result("strong_sources.md" if default else
                 f"strong_sources_rf{args.rf_trees}x{args.rf_max_samples}.md", text)


if __name__ == "__main__":
    main()
