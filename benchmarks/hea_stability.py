"""High-entropy-alloy stability: from ≤ 3-element alloys to 4- and 5-element ones.

    SKMDL_DATA=../shared/data python benchmarks/hea_stability.py [--sizes 500 2000] [--repeats 2]

Data: formation enthalpies of all-metal compositions (pymatgen
``Element.is_metal``). Training pool: OQMD binaries and ternaries
(``oqmd_formation_enthalpy``) of its published test split (``--pool``),
which the leak-free sources below never trained on. Test sets: every OQMD quaternary all-metal
alloy (OQMD has no 5-element entries), and the 5-element all-metal entries of
the Materials Project sets (``critexam_ef``, ``matbench_mp_e_form``; another
DFT setup, so a small, harder check). Training sets of n compositions are
drawn from the pool (``--repeats`` seeds); the test sets are fixed.

Metrics: MAE (eV/atom), sign accuracy of the formation enthalpy (is the
alloy predicted to form, dHf < 0, when it does), and coverage / mean width
of nominal 90 % intervals for the transfer model.

Sources: the library's energy models trained on all OQMD/MP compositions
(formation energy, total energy, decomposition enthalpy, energy above hull;
see ``skmdl.library.recipes.TARGET_QUANTITIES``) saw the very test
compositions and are never candidates. The leak-free alloy sources
(``ModelLibrary.search(max_elements=3)``: formation enthalpies learned from
OQMD compositions of at most three elements only) are, with every
non-energy source (volumes, band gaps, elastic moduli, transport, ...).

Models (fixed before the run):

- direct ET: ExtraTrees on composition descriptors (magpie stats +
  stoichiometry + element fractions);
- transfer ET, leak-free energy sources: ``TransferRegressor`` with the same
  head and descriptors, ``quantity="formation energy"`` (so the <= 3-element
  sources become delta / affine members), candidates = the leak-free sources
  above;
- transfer ET, leak-free energy sources, element-count CV: the same with
  ``calibration_cv=ElementCountSplit()``: the members are weighed on
  binaries predicted from ternaries and ternaries from binaries, an inner
  CV that imitates the outer extrapolation in system size;
- transfer ET, pair sources (extrapolation-checked), with random or
  element-count inner CV: the same with the leak-free pair-interaction models
  as the only energy sources. In-domain CV cannot tell which leak-free source
  extrapolates (every one has seen binaries and ternaries), so the choice is
  made by the binaries -> ternaries check of ``build_pair_sources.py``
  (<= 3-element data only), where the pair family extrapolates better;
- transfer ET, no energy source: the same as the second without the <= 3-element sources
  (the earlier setting of this benchmark);
- <= 3-element networks alone / pair models alone: the mean prediction of
  the leak-free networks (element-property statistics) or of the leak-free
  pair-interaction models (ridge on products of element-pair fractions, a
  regular-solution model: ``benchmarks/build_pair_sources.py``), with no
  training on the n alloys (zero-shot references). The transfer rows use
  both kinds as sources.
"""

import argparse
import os
import time

import numpy as np
import pandas as pd
from pymatgen.core import Element
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.pipeline import make_pipeline

from skmdl.datasets import load_task
from skmdl.descriptors import CompositionFeaturizer
from skmdl.descriptors._formula import FormulaError, parse_formula
from skmdl.library import ModelLibrary
from skmdl.library.recipes import transfer_sources
from skmdl.transfer import ElementCountSplit, TransferRegressor
from skmdl.transfer.uq import interval_coverage

from _results import write_result  # benchmarks/_results.py

TASK = "oqmd_formation_enthalpy"
MP_TASKS = ("critexam_ef", "matbench_mp_e_form")
METALS = frozenset(e.symbol for e in Element if e.is_metal)
#: the test sets hold 4- and 5-element alloys only; sources that saw at most
#: 3 elements are leak-free
FEWEST_TEST_ELEMENTS = 4


def n_metal_elements(formulas):
    """Number of elements of each formula, 0 where it is not an all-metal formula."""
    out = np.zeros(len(formulas), dtype=int)
    for i, f in enumerate(formulas):
        try:
            d = parse_formula(f)
        except FormulaError:
            continue
        if d and all(e in METALS for e in d):
            out[i] = len(d)
    return out


def alloy_data(pool_rows="source-held-out"):
    """(pool X, y), {name: (X, y)} of the test sets, duplicates averaged.

    ``pool_rows="source-held-out"``: the training pool is the binaries and
    ternaries of the published *test* split of ``oqmd_formation_enthalpy``,
    rows the leak-free sources never trained or early-stopped on, so the
    inner cross-validation that weighs the transfer members is honest.
    ``"all"``: every binary and ternary (the sources saw most of them, and
    inner CV then overrates them).
    """
    X, y, split = load_task(TASK, return_split=True)
    X, y = pd.Series(X).reset_index(drop=True), pd.Series(y).reset_index(drop=True)
    k = n_metal_elements(X)
    keep = np.isfinite(y.to_numpy()) & (np.abs(y.to_numpy()) <= 5)
    small = (k >= 2) & (k <= 3) & keep
    if pool_rows == "source-held-out":
        small &= np.asarray(split) == "test"
    pool = _dedup(X[small], y[small])
    tests = {"OQMD 4-element": _dedup(X[(k == 4) & keep], y[(k == 4) & keep])}
    parts = []
    for task in MP_TASKS:
        Xm, ym = load_task(task)
        Xm, ym = pd.Series(Xm).reset_index(drop=True), pd.Series(ym).reset_index(drop=True)
        m = n_metal_elements(Xm) == 5
        parts.append((Xm[m], ym[m]))
    tests["MP 5-element"] = _dedup(pd.concat([p[0] for p in parts]),
                                   pd.concat([p[1] for p in parts]))
    return pool, tests


def _dedup(X, y):
    """One row per reduced composition (mean target)."""
    from pymatgen.core import Composition

    key = [Composition(f).reduced_formula for f in X]
    df = pd.DataFrame({"key": key, "formula": list(X), "y": np.asarray(y, dtype=float)})
    g = df.groupby("key", sort=True).agg(formula=("formula", "first"), y=("y", "mean"))
    return g["formula"].reset_index(drop=True), g["y"].to_numpy()


def trees(seed):
    return ExtraTreesRegressor(n_estimators=300, max_features=0.3, random_state=seed, n_jobs=1)


def descriptors():
    return CompositionFeaturizer(stoichiometry=True, element_fractions=True)


def leak_free_energy_sources():
    """Ids of the library's formation-energy models trained on <= 3-element compositions."""
    lib = ModelLibrary.default()
    return lib.search(max_elements=FEWEST_TEST_ELEMENTS - 1,
                      quantity="formation energy")["id"].tolist()


class SourceMean(RegressorMixin, BaseEstimator):
    """The mean prediction of some library models; ``fit`` learns nothing (zero-shot)."""

    def __init__(self, models=()):
        self.models = models

    def fit(self, X, y):
        self.library_ = ModelLibrary.default()
        return self

    def predict(self, X):
        return np.mean([self.library_.predict(m, list(X)) for m in self.models], axis=0)


def transfer(sources, seed, element_count_cv=False, quantity="formation energy"):
    """The benchmark's TransferRegressor: extra-trees head, its descriptors, these sources."""
    extra = {"calibration_cv": ElementCountSplit()} if element_count_cv else {}
    return TransferRegressor(sources=sources, quantity=quantity, head=trees(seed),
                             descriptors=descriptors(), random_state=seed, **extra)


def models(task=TASK, seed=0):
    energy = leak_free_energy_sources()
    if not energy:
        raise SystemExit("the library has no leak-free (max_elements <= 3) energy sources")
    others = transfer_sources(task)
    pairs = [i for i in energy if "_pairs" in i]
    ecv = ", element-count CV"
    return {
        "direct ET": make_pipeline(descriptors(), trees(seed)),
        "transfer ET, leak-free energy sources": transfer(others + energy, seed),
        "transfer ET, leak-free energy sources" + ecv: transfer(others + energy, seed, True),
        "transfer ET, pair sources (extrapolation-checked)": transfer(others + pairs, seed),
        "transfer ET, pair sources (extrapolation-checked)" + ecv:
            transfer(others + pairs, seed, True),
        "transfer ET, no energy source": transfer(others, seed, quantity=None),
        "<= 3-element networks alone": SourceMean(models=[i for i in energy if i not in pairs]),
        "<= 3-element pair models alone": SourceMean(models=pairs),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", nargs="*", type=int, default=[500, 2000])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--sources-only", action="store_true",
                    help="only the table of each leak-free source's own error on the pool "
                         "and (zero-shot) on the test sets")
    ap.add_argument("--pool", choices=["source-held-out", "all"], default="source-held-out",
                    help="training alloys from the leak-free sources' held-out rows (default) "
                         "or from every OQMD binary/ternary")
    args = ap.parse_args()
    (Xp, yp), tests = alloy_data(args.pool)
    if args.sources_only:
        return source_table((Xp, yp), tests, args)
    print(f"pool {len(yp)} binaries/ternaries; " +
          ", ".join(f"{k}: {len(v[1])}" for k, v in tests.items()), flush=True)
    res = []
    for n in args.sizes:
        for r in range(args.repeats):
            tr = np.random.default_rng(1000 * r + n).choice(len(yp), size=n, replace=False)
            for name, model in models(TASK, seed=r).items():
                t0 = time.perf_counter()
                model.fit(Xp[tr], yp[tr])
                for tname, (Xt, yt) in tests.items():
                    pred = model.predict(Xt)
                    cov = width = np.nan
                    if hasattr(model, "predict_interval"):
                        cov, width = interval_coverage(yt, model.predict_interval(Xt, alpha=0.1))
                    res.append(dict(n=n, repeat=r, model=name, test=tname, n_test=len(yt),
                                    mae=np.abs(pred - yt).mean(),
                                    sign=np.mean(np.sign(pred) == np.sign(yt)),
                                    cov=cov, width=width,
                                    seconds=time.perf_counter() - t0,
                                    kept=_kept(model)))
                    print({k: (round(v, 4) if isinstance(v, float) else v)
                           for k, v in res[-1].items()}, flush=True)
            # rewritten after every repeat: an interrupted run keeps what it finished
            write_table(res, args, len(yp))
    write_table(res, args, len(yp), final=True)


def source_table(pool, tests, args):
    """Each leak-free source (and their mean) on the pool and, zero-shot, on the test sets."""
    lib = ModelLibrary.default()
    ids = leak_free_energy_sources()
    sets = {"pool (<= 3 elements)": pool, **tests}
    preds = {name: np.array([lib.predict(i, list(X)) for i in ids]) for name, (X, _) in
             sets.items()}
    lines = [f"`python benchmarks/hea_stability.py {' '.join(os.sys.argv[1:])}`", "",
             f"MAE (eV/atom) of each leak-free source, no training on the alloys; pool = "
             f"{len(pool[1])} binaries/ternaries ({args.pool} rows)", "",
             "| source | held-out MAE in its card | " + " | ".join(sets) + " |",
             "|---|---|" + "---|" * len(sets)]
    rows = [(i, f"{lib.card(i)['metrics']['mae']:.4f}", k) for k, i in enumerate(ids)]
    rows.append((f"mean of {len(ids)}", "–", None))
    for name, card_mae, k in rows:
        cells = []
        for sname, (_, y) in sets.items():
            p = preds[sname].mean(axis=0) if k is None else preds[sname][k]
            cells.append(f"{np.abs(p - y).mean():.4f}")
        lines.append(f"| {name} | {card_mae} | " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    print(text)
    write_result("hea_sources.md", text)


def _kept(model):
    """The members a TransferRegressor kept, with weights ("" for other models)."""
    weights = getattr(model, "weights_", None)
    if weights is None:
        return ""
    return ", ".join(f"{m['name']} {w:.2f}" for m, w in zip(model.kept_members_, weights))


def write_table(res, args, n_pool, final=False):
    df = pd.DataFrame(res)
    lines = [f"`python benchmarks/hea_stability.py {' '.join(os.sys.argv[1:])}`", "",
             f"training pool: {n_pool} OQMD all-metal binaries/ternaries ({args.pool} rows); "
             f"{args.repeats} repeats per n requested; mean ± std over the finished repeats",
             "",
             "| test set | n train | model | repeats done | MAE (eV/atom) | ÷ direct | "
             "sign accuracy | 90 % coverage | mean width | s per fit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (tname, n), g in df.groupby(["test", "n"], sort=False):
        direct = g[g.model == "direct ET"].mae.mean()
        for name, m in g.groupby("model", sort=False):
            cov = "–" if m["cov"].isna().all() else f"{m['cov'].mean():.2f}"
            width = "–" if m["width"].isna().all() else f"{m['width'].mean():.3f}"
            lines.append(f"| {tname} ({m.n_test.iloc[0]}) | {n} | {name} | {len(m)} | "
                         f"{m.mae.mean():.4f} ± {m.mae.std(ddof=0):.4f} | "
                         f"{m.mae.mean() / direct:.2f} | {m.sign.mean():.3f} | {cov} | {width} | "
                         f"{m.seconds.mean():.0f} |")
    kept = df[df.kept != ""].drop_duplicates(["n", "repeat", "model"])
    lines += ["", "members kept (weights), per fit:", ""]
    lines += [f"- n={r.n} repeat {r.repeat}, {r.model}: {r.kept}" for r in kept.itertuples()]
    text = "\n".join(lines)
    if final:
        print(text)
    write_result("hea_stability.md" if args.pool == "source-held-out"
                 else "hea_stability_pool_seen_by_source.md", text)


if __name__ == "__main__":
    main()
