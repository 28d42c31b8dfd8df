"""Pair-interaction alloy sources: build them into a library and score them.

    SKMDL_DATA=../shared/data python benchmarks/build_pair_sources.py [--out LIBRARY]

Builds ``skmdl.library.recipes.PAIR_SOURCES`` with
:func:`skmdl.library.linear.build_linear_sources` into the embedded library
(default; resumable: models already there are kept): five ridge regressions
(alpha 1e-3 ... 10, each on its own 90 % of the training rows) on
:class:`~skmdl.descriptors.PairFractionFeaturizer`, learned from the all-metal
OQMD compositions of at most three elements of the task's *train* split.

First, the rule that decides which leak-free sources the high-entropy-alloy
benchmark's extrapolation uses, on <= 3-element data only (no quaternary
seen): each model family is trained on the binaries of the task's train
split and scored on the ternaries of its test split (extrapolation by one
element, as 3 -> 4 is): the pair ridge (alpha 0.01) against extra trees on the
element-property statistics the leak-free networks use (a stand-in for their
family, cheaper than training networks). The family with the lower ternary
MAE is the one ``hea_stability.py`` gives its "extrapolation-checked" rows.

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
    text = "\n".join(lines + extrapolation_check())
    print(text)
    write_result("pair_sources.md", text)


def extrapolation_check() -> list:
    """Binaries -> ternaries (train split -> test split) for the pair ridge and extra trees on
    element-property statistics, all-metal compositions; table lines."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.linear_model import Ridge

    from skmdl.datasets import load_task
    from skmdl.descriptors import CompositionFeaturizer
    from skmdl.library.tasks import target_rows
    from hea_stability import n_metal_elements

    source = PAIR_SOURCES[0]
    X, y, split = load_task(source.task, return_split=True)
    X, split = list(X), np.asarray(split)
    k = n_metal_elements(X)
    ok, y = target_rows(source, X, np.asarray(y, float))  # the sources' own cleaning rule
    tr = np.flatnonzero(ok & (k == 2) & (split == "train"))
    te = np.flatnonzero(ok & (k == 3) & (split == "test"))
    pairs = PairFractionFeaturizer().fit()
    ridge = Ridge(alpha=0.01, fit_intercept=False).fit(
        pairs.sparse_transform([X[i] for i in tr]), y[tr])
    p_pair = ridge.predict(pairs.sparse_transform([X[i] for i in te]))
    stats = CompositionFeaturizer(stats="all", stoichiometry=True).fit()
    trees = ExtraTreesRegressor(n_estimators=100, max_features=0.3, n_jobs=1, random_state=0)
    trees.fit(stats.transform([X[i] for i in tr]), y[tr])
    p_tree = trees.predict(stats.transform([X[i] for i in te]))
    lines = ["", f"Extrapolation check, binaries ({len(tr)}, train split) -> ternaries "
             f"({len(te)}, test split), all-metal OQMD:", "",
             "| family | ternary MAE (eV/atom) | sign accuracy |", "|---|---|---|"]
    for name, p in (("pair ridge (PairFractionFeaturizer)", p_pair),
                    ("extra trees on element-property statistics", p_tree)):
        lines.append(f"| {name} | {np.abs(p - y[te]).mean():.4f} | "
                     f"{np.mean(np.sign(p) == np.sign(y[te])):.3f} |")
    return lines


def row(label, descriptor, card_mae, preds, sets) -> str:
    cells = []
    for k, (_, y) in sets.items():
        p = preds[k]
        cells.append(f"{np.abs(p - y).mean():.4f} / {np.mean(np.sign(p) == np.sign(y)):.3f}")
    return f"| {label} | {descriptor} | {card_mae} | " + " | ".join(cells) + " |"


if __name__ == "__main__":
    main()
