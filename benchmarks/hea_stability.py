"""High-entropy-alloy stability: from ≤ 3-element alloys to 4- and 5-element ones.

    SKMDL_DATA=../shared/data python benchmarks/hea_stability.py [--sizes 500 2000] [--repeats 2]

Data: formation enthalpies of all-metal compositions (pymatgen
``Element.is_metal``). Training pool: OQMD binaries and ternaries
(``oqmd_formation_enthalpy``). Test sets: every OQMD quaternary all-metal
alloy (OQMD has no 5-element entries), and the 5-element all-metal entries of
the Materials Project sets (``critexam_ef``, ``matbench_mp_e_form``; another
DFT setup, so a small, harder check). Training sets of n compositions are
drawn from the pool (``--repeats`` seeds); the test sets are fixed.

Metrics: MAE (eV/atom), sign accuracy of the formation enthalpy (is the
alloy predicted to form, dHf < 0, when it does), and coverage / mean width
of nominal 90 % intervals for the transfer model.

Sources: no energy-like source model is a candidate (formation energy, total
energy, decomposition enthalpy, energy above hull; see
``skmdl.library.recipes.TARGET_QUANTITIES``) -- those were trained on OQMD/MP
energies of the very test compositions. What remains (volumes, band gaps,
elastic moduli, magnetic moments, refractive index) carries no energy label.

Models (fixed before the run): direct ExtraTrees on composition descriptors
(magpie stats + stoichiometry + element fractions); transfer = the default
TransferRegressor recipe (ExtraTrees head on the same descriptors + last
hidden layer of 5 sources screened by inner CV) and a linear model on every
allowed source's prediction (PretrainedFeaturizer(layers="output") + ridge).
"""

import argparse
import os
import time

import numpy as np
import pandas as pd
from pymatgen.core import Element
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmdl.datasets import load_task
from skmdl.descriptors import CompositionFeaturizer
from skmdl.descriptors._formula import FormulaError, parse_formula
from skmdl.library.recipes import transfer_exclusions, transfer_sources
from skmdl.transfer import PretrainedFeaturizer, TransferRegressor
from skmdl.transfer.uq import interval_coverage

from _results import write_result  # benchmarks/_results.py

TASK = "oqmd_formation_enthalpy"
MP_TASKS = ("critexam_ef", "matbench_mp_e_form")
METALS = frozenset(e.symbol for e in Element if e.is_metal)


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


def alloy_data():
    """(pool X, y), {name: (X, y)} of the test sets, duplicates averaged."""
    X, y = load_task(TASK)
    X, y = pd.Series(X).reset_index(drop=True), pd.Series(y).reset_index(drop=True)
    k = n_metal_elements(X)
    keep = np.isfinite(y.to_numpy()) & (np.abs(y.to_numpy()) <= 5)
    pool = _dedup(X[(k >= 2) & (k <= 3) & keep], y[(k >= 2) & (k <= 3) & keep])
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


def models(task=TASK, seed=0):
    return {
        "direct ET": make_pipeline(descriptors(), trees(seed)),
        "transfer ET": TransferRegressor(head=trees(seed), descriptors=descriptors(),
                                         random_state=seed, **transfer_exclusions(task)),
        "transfer ridge (all outputs)": make_pipeline(
            PretrainedFeaturizer(models=transfer_sources(task), layers="output"),
            StandardScaler(), RidgeCV(alphas=np.logspace(-4, 4, 17))),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", nargs="*", type=int, default=[500, 2000])
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    (Xp, yp), tests = alloy_data()
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
                                    seconds=time.perf_counter() - t0))
                    print({k: (round(v, 4) if isinstance(v, float) else v)
                           for k, v in res[-1].items()}, flush=True)
            # rewritten after every repeat: an interrupted run keeps what it finished
            write_table(res, args, len(yp))
    write_table(res, args, len(yp), final=True)


def write_table(res, args, n_pool, final=False):
    df = pd.DataFrame(res)
    lines = [f"`python benchmarks/hea_stability.py {' '.join(os.sys.argv[1:])}`", "",
             f"training pool: {n_pool} OQMD all-metal binaries/ternaries; "
             f"{args.repeats} repeats per n requested; mean ± std over the finished repeats",
             "",
             "| test set | n train | model | repeats done | MAE (eV/atom) | ÷ direct | "
             "sign accuracy | 90 % coverage | mean width |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (tname, n), g in df.groupby(["test", "n"], sort=False):
        direct = g[g.model == "direct ET"].mae.mean()
        for name, m in g.groupby("model", sort=False):
            cov = "–" if m["cov"].isna().all() else f"{m['cov'].mean():.2f}"
            width = "–" if m["width"].isna().all() else f"{m['width'].mean():.3f}"
            lines.append(f"| {tname} ({m.n_test.iloc[0]}) | {n} | {name} | {len(m)} | "
                         f"{m.mae.mean():.4f} ± {m.mae.std(ddof=0):.4f} | "
                         f"{m.mae.mean() / direct:.2f} | {m.sign.mean():.3f} | {cov} | {width} |")
    text = "\n".join(lines)
    if final:
        print(text)
    write_result("hea_stability.md", text)


if __name__ == "__main__":
    main()
