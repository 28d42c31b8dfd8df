"""Full-data networks of a new recipe: chosen against the installed ones on validation, vs a forest.

    SKMDL_DATA=../shared/data skmdl library build --preset full_v2 --tasks <prefix>_full ... \\
        --out ../libs/full_v2
    SKMDL_DATA=../shared/data python benchmarks/full_sources_v2.py --new ../libs/full_v2 [--install]

The same with ``--preset full_v3`` (3 x 256 units, 75,000 steps) and
``--out full_sources_v3.md`` compares the third recipe with the installed
(second-recipe) networks.

For every ``<task>_full-000`` network of the ``--new`` folder(s) (``full_v2``
preset: L1 loss, early stopping on the validation MAE, a budget of 25,000
optimizer steps, batches of 128-256) and the network of the same id in the
embedded library (first recipe: Huber loss, 60 epochs, batches of 512-1,024),
the script rebuilds the source's exact rows (``prepare_task``: the published
or seeded split, the same for both recipes) and scores both on the
**validation** rows, which decide, and on the **test** rows, which are
reported. ``--install`` writes the chosen network over the embedded one
(the atomic artifact writer; index row re-hashed) only where its validation
MAE is lower.

The RandomForest column is the reference of ``build_default_library.py``
(``benchmarks/results/default_library.md``: 100 trees, max_features 1/3, the
same descriptors, training and test rows); "best of property" is the lowest
test MAE among the property's six networks (5 shotgun networks + the chosen
full-data one), as in that table.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from skmdl.library import ModelLibrary
from skmdl.library.artifact import load_artifact, read_card
from skmdl.library.library import default_library_path, index_entry, write_index
from skmdl.library.recipes import FULL_SOURCES, FULL_V2_CONFIG, composition_featurizer
from skmdl.library.tasks import prepare_task
from skmdl.library.training import held_out_predictions

from _results import RESULTS, write_result  # benchmarks/_results.py


def rf_reference() -> dict:
    """``{task: RandomForest test MAE}`` from the embedded library's build table."""
    rows = (RESULTS / "default_library.md").read_text().splitlines()
    head = [c.strip() for c in rows[0].strip("|").split("|")]
    out = {}
    for line in rows[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == len(head) and cells[head.index("RandomForest MAE")] not in ("", "–"):
            out.setdefault(cells[0], float(cells[head.index("RandomForest MAE")]))
    return out


def scores(module, data) -> tuple:
    """Validation and test MAE of one network on its task's rows."""
    _, _, F_va, y_va, F_te, y_te = data
    mae = [float(np.abs(held_out_predictions(module, F) - y).mean())
           for F, y in ((F_va, y_va), (F_te, y_te))]
    return tuple(mae)


def compare(model_id, new_lib, old_lib, featurizer) -> dict:
    source = next(s for s in FULL_SOURCES if f"{s.prefix}-000" == model_id)
    t0 = time.perf_counter()
    data, provenance = prepare_task(source, featurizer, 0, FULL_V2_CONFIG)
    new, _ = new_lib.load(model_id)
    old, _ = old_lib.load(model_id)
    (new_val, new_test), (old_val, old_test) = scores(new, data), scores(old, data)
    shotgun = [m for m in old_lib.ids if m.rsplit("-", 1)[0] == source.task]
    best_shotgun = min(float(old_lib.entry(m)["mae"]) for m in shotgun)
    new_card = read_card(new_lib.artifact_path(model_id))
    return {"id": model_id, "task": source.task, "n_train": provenance["n_train"],
            "old_val": old_val, "old_test": old_test, "new_val": new_val, "new_test": new_test,
            "adopt": new_val < old_val, "best_shotgun": best_shotgun,
            "epochs": new_card["training"]["epochs"], "seconds": new_card["training"]["seconds"],
            "compare_seconds": time.perf_counter() - t0}


def install(model_id, new_lib, root) -> None:
    """The new network over the embedded one: artifact rewritten atomically, index re-hashed."""
    from skmdl.library.artifact import write_artifact

    module, card = load_artifact(new_lib.artifact_path(model_id), new_lib.entry(model_id)["sha256"])
    dtype = card.get("storage", {}).get("weights", "float32")
    hashes = write_artifact(Path(root) / "models" / model_id, module, card, dtype)
    lib = ModelLibrary(root)
    entries = [index_entry(root, f"models/{model_id}", hashes) if i == model_id else lib.entry(i)
               for i in lib.ids]
    write_index(root, entries, lib.name)


def table(rows, rf) -> str:
    lines = ["| source | n_train | installed val / test MAE | new recipe val / test MAE "
             "| chosen (validation) | best of property (test) | RandomForest (test) | best ÷ RF "
             "| epochs | train s |", "|" + "---|" * 10]
    for r in rows:
        chosen = r["new_test"] if r["adopt"] else r["old_test"]
        best = min(chosen, r["best_shotgun"])
        ref = rf.get(r["task"])
        ratio = f"{best / ref:.2f}" if ref else "–"
        lines.append(f"| {r['id']} | {r['n_train']} | {r['old_val']:.4g} / {r['old_test']:.4g} "
                     f"| {r['new_val']:.4g} / {r['new_test']:.4g} "
                     f"| {'new' if r['adopt'] else 'installed'} | {best:.4g} "
                     f"| {ref if ref else '–'} | {ratio} | {r['epochs']} | {r['seconds']:.0f} |")
    met = sum(1 for r in rows if rf.get(r["task"]) and min(
        r["new_test"] if r["adopt"] else r["old_test"], r["best_shotgun"]) <= rf[r["task"]])
    lines.append("")
    lines.append(f"{sum(r['adopt'] for r in rows)} of {len(rows)} properties take the new "
                 f"recipe (lower validation MAE); best network ≤ RandomForest on {met} of "
                 f"{sum(1 for r in rows if rf.get(r['task']))} with a reference.")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", nargs="+", required=True, help="library folder(s) of full_v2")
    parser.add_argument("--install", action="store_true",
                        help="write the validation-chosen networks into the embedded library")
    parser.add_argument("--out", default="full_sources_v2.md")
    args = parser.parse_args()
    old_lib, featurizer, rf = ModelLibrary.default(), composition_featurizer(), rf_reference()
    rows = []
    for folder in args.new:
        new_lib = ModelLibrary(folder)
        for model_id in sorted(new_lib.ids):
            row = compare(model_id, new_lib, old_lib, featurizer)
            print(row, flush=True)
            rows.append(row)
            if args.install and row["adopt"]:
                install(model_id, new_lib, default_library_path())
    text = table(rows, rf)
    print(text)
    write_result(args.out, text)


if __name__ == "__main__":
    main()
