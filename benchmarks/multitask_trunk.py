"""The multi-task trunk against the single-task sources, task by task, on the same test rows.

    python benchmarks/multitask_trunk.py [--library PATH]

Reads the cards of the library (the embedded one by default): for every task of
the trunk, its held-out MAE and R² next to the best and the mean of the
single-task models of the same property. Both were scored on the same test rows
(the task's own split, seeded by the task name), the trunk with at most 10,000
training rows per task and the single-task models with at most 20,000. Its value
as a transfer source is measured by the learning curves
(``benchmarks/transfer_learning_curves.py --models single trunk transfer``).
"""

import argparse

import numpy as np

from skmdl.library import ModelLibrary

from _results import write_result  # benchmarks/_results.py


def trunk_rows(lib, trunk_id):
    """One dict per trunk task: its metrics and the single-task models' of that property."""
    card = lib.card(trunk_id)
    df = lib.search()
    rows = []
    for t in card["tasks"]:
        single = df[(df.property == t["property"]) & (df.quantity != "multi-task")]
        rows.append({"task": t["name"], "property": t["property"], "unit": t["unit"],
                     "n_train": t["n_train"], "n_test": t["metrics"]["n"],
                     "trunk_mae": t["metrics"]["mae"], "trunk_r2": t["metrics"]["r2"],
                     "single_n_train": int(single.n_train.iloc[0]) if len(single) else None,
                     "best_mae": single.mae.min() if len(single) else np.nan,
                     "mean_mae": single.mae.mean() if len(single) else np.nan,
                     "best_r2": single.r2.max() if len(single) else np.nan})
    return card, rows


def table(card, rows) -> list:
    lines = ["| task | unit | n_train (trunk / single) | n_test | trunk MAE | best single MAE | "
             "mean single MAE | trunk ÷ best | trunk R² | best single R² |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['unit']} | {r['n_train']} / {r['single_n_train']} | "
            f"{r['n_test']} | {r['trunk_mae']:.4g} | {r['best_mae']:.4g} | {r['mean_mae']:.4g} | "
            f"{r['trunk_mae'] / r['best_mae']:.3f} | {r['trunk_r2']:.3f} | {r['best_r2']:.3f} |")
    ratio = np.array([r["trunk_mae"] / r["best_mae"] for r in rows])
    ratio_mean = np.array([r["trunk_mae"] / r["mean_mae"] for r in rows])
    tr = card["training"]
    lines += ["", f"{len(rows)} tasks, {card['n_params']:,} parameters "
              f"({'-'.join(map(str, card['architecture']['hidden']))}, "
              f"{card['architecture']['activation']}), {tr['epochs']} epochs "
              f"(best {tr['best_epoch']}), {tr['seconds'] / 60:.1f} min on one core.",
              f"Trunk MAE ÷ best single-task MAE: median {np.median(ratio):.3f} "
              f"(range {ratio.min():.2f}-{ratio.max():.2f}); trunk better on "
              f"{int((ratio < 1).sum())} of {len(rows)}. "
              f"÷ mean single-task MAE: median {np.median(ratio_mean):.3f}, better on "
              f"{int((ratio_mean < 1).sum())} of {len(rows)}."]
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--library", default=None, help="library folder (default: embedded)")
    args = ap.parse_args()
    lib = ModelLibrary.default() if args.library is None else ModelLibrary(args.library)
    trunks = lib.search(quantity="multi-task")["id"].tolist()
    if not trunks:
        raise SystemExit(f"{lib!r} holds no multi-task trunk")
    lines = ["`python benchmarks/multitask_trunk.py`", ""]
    for trunk_id in trunks:
        card, rows = trunk_rows(lib, trunk_id)
        lines += [f"**{trunk_id}**: {card['property']}", ""] + table(card, rows) + [""]
    text = "\n".join(lines)
    print(text)
    write_result("multitask_trunk.md", text)


if __name__ == "__main__":
    main()
