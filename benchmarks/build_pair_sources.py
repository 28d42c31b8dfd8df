"""Pair-interaction alloy sources: build them into a library and score them.

    SKMDL_DATA=../shared/data python benchmarks/build_pair_sources.py [--out LIBRARY]

Builds ``skmdl.library.recipes.PAIR_SOURCES`` with
:func:`skmdl.library.linear.build_linear_sources` into the embedded library
(default; resumable: models already there are kept): five ridge regressions
(alpha 1e-3 ... 10, each on its own 90 % of the training rows) on
:class:`~skmdl.descriptors.PairFractionFeaturizer`, learned from the all-metal
OQMD compositions of at most three elements of the task's *train* split.

Then prints, next to the library's leak-free networks (the same rows' task,
every <= 3-element composition, element-property statistics), each model's
held-out MAE in its card and, with no training on them, its MAE and sign
accuracy on the test sets of ``hea_stability.py``: the <= 3-element pool (the
task's test split) and the OQMD quaternaries / MP 5-element alloys.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _results import write_result  # noqa: E402  benchmarks/_results.py
from hea_stability import alloy_data  # noqa: E402

from skmdl.descriptors import PairFractionFeaturizer  # noqa: E402
from skmdl.library import ModelLibrary  # noqa: E402
from skmdl.library.library import default_library_path  # noqa: E402
from skmdl.library.linear import build_linear_sources  # noqa: E402
from skmdl.library.recipes import PAIR_SOURCES  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(default_library_path()))
    args = ap.parse_args()
    t0 = time.perf_counter()
    index = Path(args.out) / "index.json"
    result = build_linear_sources(PAIR_SOURCES, args.out, PairFractionFeaturizer(),
                                  name=ModelLibrary(args.out).name if index.exists() else "")
    built = time.perf_counter() - t0
    lib = ModelLibrary(args.out)
    ids = lib.search(max_elements=3, quantity="formation energy")["id"].tolist()
    (Xp, yp), tests = alloy_data()
    sets = {"pool (<= 3 elements)": (Xp, yp), **tests}
    lines = [f"`python benchmarks/build_pair_sources.py {' '.join(sys.argv[1:])}`", "",
             f"built {len(result['trained'])} models in {built:.0f} s "
             f"({len(result['skipped'])} already there); zero-shot MAE (eV/atom) / sign "
             "accuracy of each leak-free formation-energy source, no training on the alloys", "",
             "| source | descriptor | held-out MAE in its card | " +
             " | ".join(sets) + " |", "|---|---|---|" + "---|" * len(sets)]
    groups = {}
    for i in ids:
        card = lib.card(i)
        preds = {k: lib.predict(i, list(X)) for k, (X, _) in sets.items()}
        groups.setdefault(card["descriptor"]["name"], []).append(preds)
        lines.append(row(i, card["descriptor"]["name"], f"{card['metrics']['mae']:.4f}",
                         preds, sets))
    for name, members in groups.items():
        mean = {k: np.mean([m[k] for m in members], axis=0) for k in sets}
        lines.append(row(f"mean of {len(members)}", name, "–", mean, sets))
    text = "\n".join(lines)
    print(text)
    write_result("pair_sources.md", text)


def row(label, descriptor, card_mae, preds, sets) -> str:
    cells = []
    for k, (_, y) in sets.items():
        p = preds[k]
        cells.append(f"{np.abs(p - y).mean():.4f} / {np.mean(np.sign(p) == np.sign(y)):.3f}")
    return f"| {label} | {descriptor} | {card_mae} | " + " | ".join(cells) + " |"


if __name__ == "__main__":
    main()
