#!/usr/bin/env python
"""Speed and exactness of skmdl's CompositionFeaturizer against matminer (Magpie preset).

Compares, in one run and on the same formulas:

(a) pymatgen ``Composition(formula)`` parsing alone -- the floor that any
    featurizer built on pymatgen compositions cannot beat;
(b) matminer ``ElementProperty.from_preset("magpie")`` with ``n_jobs=1``
    (``featurize_many``), timed *including* the ``Composition`` construction
    because skmdl takes formula strings;
(c) skmdl ``CompositionFeaturizer(elements="magpie", stats="magpie")``, n_jobs=None;
(d) the same with n_jobs=2.

skmdl and pymatgen parsing: best of ``--repeats`` (default 3) runs, a fresh
featurizer per run (construction + fit + transform are all timed). matminer: one
run (featurizer construction, i.e. loading its element data, is not timed).

Exactness: skmdl's 132 Magpie statistics must equal matminer's
(``np.allclose(rtol=1e-6, atol=1e-8, equal_nan=True)``) on every formula that
matminer featurized. skmdl ships CrabNet's Magpie element table, which is not
byte-identical to matminer's own Magpie data files, so the two element tables
are compared first; the strict check then runs skmdl with matminer's table
(``matminer.utils.data.MagpieData().all_elemental_props``) passed as a user
DataFrame, and the comparison with skmdl's default table is reported as
information (each difference is traced to a differing table cell).

Data: ``$SKMDL_DATA/composition/{matbench_expt_gap,oqmd_formation_enthalpy}.csv.gz``
(``SKMDL_DATA`` defaults to ``../shared/data`` relative to the repository root).

Usage::

    python benchmarks/descriptor_speed.py                 # full run (~5 min on 2 cores)
    python benchmarks/descriptor_speed.py --matminer-max 10000 --profile

The printed report is also written to ``benchmarks/results/descriptor_speed.md``
(``--out``).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RTOL, ATOL = 1e-6, 1e-8
#: skmdl works in one process below this many distinct formulas, whatever n_jobs is
from skmdl.descriptors.composition import PARALLEL_MIN as SKMDL_PARALLEL_MIN  # noqa: E402


def data_dir() -> Path:
    env = os.environ.get("SKMDL_DATA")
    if env:
        return Path(env)
    default = REPO.parent / "shared" / "data"
    if default.exists():
        return default
    sys.exit("set SKMDL_DATA to the shared data directory (../shared/data not found)")


class Report:
    """Collects printed lines so they can also be written to a file."""

    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, *parts):
        line = " ".join(str(p) for p in parts)
        print(line, flush=True)
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


CPU_TIMES: dict = {}


def best_of(fn, repeats, key=None):
    """Run ``fn`` ``repeats`` times; return (best wall seconds, all wall seconds, last result).

    The best CPU time of this process (``time.process_time``; excludes joblib
    worker processes) is stored in ``CPU_TIMES[key]``.
    """
    times, cpu, result = [], [], None
    for _ in range(repeats):
        result = None
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    if key is not None:
        CPU_TIMES[key] = min(cpu)
    return min(times), times, result


def fmt_rate(r: float) -> str:
    return f"{r:,.0f}"


def versions() -> list[str]:
    import joblib
    import matminer
    import pymatgen.core
    import sklearn

    import skmdl

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "skmdl/descriptors"],
            cwd=REPO, capture_output=True, text=True,
        ).stdout.strip()
        commit += " (skmdl/descriptors has uncommitted changes)" if dirty else ""
    except OSError:
        commit = "unknown"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"scikit-learn {sklearn.__version__}, joblib {joblib.__version__}",
        f"pymatgen {getattr(pymatgen.core, '__version__', '?')}, "
        f"matminer {getattr(matminer, '__version__', '?')}, "
        f"skmdl {getattr(skmdl, '__version__', '?')} (git {commit})",
        f"os.cpu_count() = {os.cpu_count()}, CPU: {cpu}, {platform.system()} {platform.machine()}",
        f"load average at start (1/5/15 min): {loadavg()} -- other processes on the machine "
        "distort timings",
    ]


def loadavg() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# --------------------------------------------------------------------------- tables


def matminer_table(featurizer) -> pd.DataFrame:
    """matminer's Magpie element table (as its featurizer uses it) as a DataFrame."""
    props = featurizer.data_source.all_elemental_props
    return pd.DataFrame({p: pd.Series(props[p], dtype=float) for p in featurizer.features})


def compare_tables(rep, skmdl_table, mm_table, mm_raw, features):
    """Report how skmdl's packaged Magpie table differs from matminer's.

    Returns the set of (property, element) cells that differ (on the common
    elements) and the elements matminer has but skmdl lacks.
    """
    rep("## Element tables: skmdl (CrabNet magpie) vs matminer MagpieData")
    rep("")
    sk_cols = list(skmdl_table.columns)
    rep(f"- skmdl: {skmdl_table.shape[0]} elements ({skmdl_table.index[0]}..{skmdl_table.index[-1]}), "
        f"{skmdl_table.shape[1]} properties, {int(skmdl_table.isna().sum().sum())} NaN cells; "
        f"columns {'==' if sk_cols == list(features) else '!='} matminer's feature order")
    n_raw_nan = int(mm_raw[features].isna().sum().sum())
    rep(f"- matminer: {mm_table.shape[0]} elements ({mm_table.index[0]}..{mm_table.index[-1]}); its data "
        f"files leave {n_raw_nan} cells NaN, which ElementProperty.from_preset('magpie') "
        "(impute_nan=True) fills with the property's mean over all non-NaN elements")
    only_mm = [e for e in mm_table.index if e not in skmdl_table.index]
    only_sk = [e for e in skmdl_table.index if e not in mm_table.index]
    if only_mm:
        rep(f"- elements only in matminer's table ({len(only_mm)}): {only_mm[0]}..{only_mm[-1]}")
    if only_sk:
        rep(f"- elements only in skmdl's table: {only_sk}")
    common = skmdl_table.index.intersection(mm_table.index)
    a = skmdl_table.loc[common, features].to_numpy()
    b = mm_table.loc[common, features].to_numpy()
    r = mm_raw.loc[common, features].to_numpy()
    close = np.isclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True)
    n_diff = int((~close).sum())
    rep(f"- on the {len(common)} common elements, {n_diff} of {close.size} cells differ "
        f"(rtol={RTOL:g}, atol={ATOL:g})")
    cells = set()
    if n_diff:
        rep("")
        rep("| property | element | skmdl | matminer (imputed) | matminer file |")
        rep("|---|---|---:|---:|---:|")
        for j, p in enumerate(features):
            for i in np.flatnonzero(~close[:, j]):
                cells.add((p, common[i]))
                rep(f"| {p} | {common[i]} | {a[i, j]:.6g} | {b[i, j]:.6g} | {r[i, j]:.6g} |")
        rep("")
        # Which fill value did CrabNet use for the cells that are NaN in matminer's files?
        for j, p in enumerate(features):
            bad = np.flatnonzero(~close[:, j])
            if not len(bad):
                continue
            fills = np.unique(a[bad, j])
            raw_common = r[:, j]
            med = np.nanmedian(raw_common)
            mean_all = np.nanmean(mm_raw[p].to_numpy(dtype=float))
            all_nan = bool(np.isnan(r[bad, j]).all())
            rep(f"- {p}: skmdl value(s) {', '.join(f'{v:.6g}' for v in fills)}"
                f"{' where matminer has no data' if all_nan else ''}; median of matminer's data over "
                f"skmdl's {len(common)} elements = {med:.6g}; matminer's fill (mean over all) = "
                f"{mean_all:.6g}")
    rep("")
    return cells, only_mm


# --------------------------------------------------------------------------- featurizers


def skmdl_featurize(formulas, n_jobs=None, elements="magpie"):
    from skmdl.descriptors import CompositionFeaturizer

    return CompositionFeaturizer(elements=elements, stats="magpie", n_jobs=n_jobs).fit().transform(
        formulas
    )


def pymatgen_parse(formulas):
    from pymatgen.core import Composition

    return [Composition(f) for f in formulas]


def matminer_featurize(featurizer, formulas):
    from pymatgen.core import Composition

    comps = [Composition(f) for f in formulas]
    return np.asarray(featurizer.featurize_many(comps, ignore_errors=False, pbar=False), dtype=float)


# --------------------------------------------------------------------------- equality


def _property_of(feature_name: str) -> str:
    """'avg_dev_Number' -> 'Number' (skmdl names features '{stat}_{property}')."""
    from skmdl.descriptors.composition import MAGPIE_STATS

    for stat in sorted(MAGPIE_STATS, key=len, reverse=True):
        if feature_name.startswith(stat + "_"):
            return feature_name[len(stat) + 1:]
    raise ValueError(f"unexpected feature name {feature_name!r}")


def compare_features(formulas, Xs, Xm, names, diff_cells=None, parsed=None):
    """Mismatching (row, column) pairs; if ``diff_cells`` given, how many the table explains."""
    close = np.isclose(Xs, Xm, rtol=RTOL, atol=ATOL, equal_nan=True)
    rows, cols = np.nonzero(~close)
    out = {"n_values": int(close.size), "n_mismatch": len(rows),
           "n_formulas": len(np.unique(rows)), "rows": rows, "cols": cols}
    if diff_cells is not None:
        explained = 0
        for i, j in zip(rows, cols):
            prop = _property_of(names[j])
            if any((prop, e) in diff_cells for e in parsed[i]):
                explained += 1
        out["explained"] = explained
    return out


def report_mismatches(rep, formulas, Xs, Xm, names, res, limit=20):
    rows, cols = res["rows"], res["cols"]
    per_feature = pd.Series([names[j] for j in cols]).value_counts()
    rep("  mismatches per feature: " + ", ".join(f"{k}: {v}" for k, v in per_feature.items()))
    rep("")
    rep("| formula | feature | skmdl | matminer |")
    rep("|---|---|---:|---:|")
    for i, j in list(zip(rows, cols))[:limit]:
        rep(f"| {formulas[i]} | {names[j]} | {float(Xs[i, j])!r} | {float(Xm[i, j])!r} |")
    if len(rows) > limit:
        rep(f"| ... {len(rows) - limit} more | | | |")
    rep("")


# --------------------------------------------------------------------------- profile


def profile(rep, name, formulas, repeats):
    """Time the stages of ``CompositionFeaturizer.transform`` one after another.

    Each repeat runs the whole pipeline stage by stage (as ``transform`` does,
    with the final assembly -- NaN-filled output, ``U[ok] = ...``,
    ``U[codes]`` -- replicated here); the table shows each stage's best time
    over the repeats, and for comparison the best measured fit+transform.
    """
    from skmdl.descriptors import CompositionFeaturizer
    from skmdl.descriptors.composition import (element_entries, element_statistics,
                                              parse_compositions)

    f = CompositionFeaturizer(elements="magpie", stats="magpie").fit()
    column_of = {e: i for i, e in enumerate(f.table_.index)}
    table = f.table_.to_numpy()
    stats = f.stats_
    n_out = len(f.get_feature_names_out())

    stages = {"parse": [], "csr": [], "stats": [], "assembly": [], "total": []}
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        parsed, codes, _items = parse_compositions(formulas)
        t1 = time.perf_counter()
        cols, amounts, counts, errors = element_entries(parsed, column_of)
        t2 = time.perf_counter()
        S = element_statistics(table, cols, amounts, counts, stats)
        t3 = time.perf_counter()
        U = np.full((len(parsed), n_out), np.nan)
        U[counts > 0] = S.reshape(len(counts), -1)
        X = U[codes]
        t4 = time.perf_counter()
        for key, t in zip(("parse", "csr", "stats", "assembly"), (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            stages[key].append(t)
        assert not errors and (counts > 0).all()
        del U, S, X
        gc.collect()
        gc.collect()
        t0 = time.perf_counter()
        CompositionFeaturizer(elements="magpie", stats="magpie").fit().transform(formulas)
        stages["total"].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in stages.items()}
    t_sum = best["parse"] + best["csr"] + best["stats"] + best["assembly"]
    n = len(formulas)
    ks = pd.Series(counts).value_counts().sort_index()
    rep(f"### {name} (n = {n:,}, {len(parsed):,} distinct; elements per formula: "
        + ", ".join(f"{k}: {v:,}" for k, v in ks.items()) + ")")
    rep("")
    rep(f"| stage (n_jobs=None; best of {repeats}) | ms | % of sum | rows/s |")
    rep("|---|---:|---:|---:|")
    for label, t in [
        ("parse_compositions (factorize + parse)", best["parse"]),
        ("element_entries (CSR build)", best["csr"]),
        (f"element_statistics ({table.shape[1]} props x {len(stats)} stats)", best["stats"]),
        ("assembly (NaN-filled output, U[ok] = ..., U[codes])", best["assembly"]),
        ("sum of stages", t_sum),
    ]:
        rep(f"| {label} | {1e3 * t:.1f} | {100 * t / t_sum:.0f}% | {fmt_rate(n / t)} |")
    rep(f"| measured fit+transform (fresh featurizer) | {1e3 * best['total']:.1f} | "
        f"{100 * best['total'] / t_sum:.0f}% | {fmt_rate(n / best['total'])} |")
    rep("")
    rep("")


# --------------------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-oqmd", type=int, default=100_000,
                    help="OQMD formulas: the first N rows of oqmd_formation_enthalpy (default 100000)")
    ap.add_argument("--matminer-max", type=int, default=None,
                    help="featurize at most N formulas per dataset with matminer (a seeded random "
                         "subsample; its rows/s and the equality check then use the subsample)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats for skmdl and pymatgen (best of)")
    ap.add_argument("--profile", action="store_true", help="print where skmdl's time goes")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "descriptor_speed.md",
                    help="markdown file the report is also written to")
    args = ap.parse_args(argv)

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    from matminer.featurizers.composition import ElementProperty
    from matminer.utils.data import MagpieData

    from skmdl.descriptors import CompositionFeaturizer, load_element_table, parse_formula

    rep = Report()
    rep("# skmdl CompositionFeaturizer vs matminer ElementProperty (magpie): speed and equality")
    rep("")
    cmd = " ".join(["python", f"benchmarks/{Path(__file__).name}", *(sys.argv[1:] if argv is None else argv)])
    rep(f"`{cmd}`")
    rep("")
    for line in versions():
        rep(f"- {line}")
    rep("")

    ddir = data_dir() / "composition"
    datasets = {
        "matbench_expt_gap": pd.read_csv(ddir / "matbench_expt_gap.csv.gz")["formula"].tolist(),
        "oqmd_formation_enthalpy": pd.read_csv(
            ddir / "oqmd_formation_enthalpy.csv.gz", nrows=args.n_oqmd
        )["formula"].tolist(),
    }

    # ---- element tables
    mm = ElementProperty.from_preset("magpie")
    mm.set_n_jobs(1)
    features = list(mm.features)
    mm_tab = matminer_table(mm)
    raw = MagpieData(impute_nan=False).all_elemental_props
    mm_raw = pd.DataFrame({p: pd.Series(raw[p], dtype=float) for p in features})
    sk_tab = load_element_table("magpie")
    diff_cells, only_mm = compare_tables(rep, sk_tab, mm_tab, mm_raw, features)
    tables_differ = bool(diff_cells) or list(sk_tab.columns) != features
    names = CompositionFeaturizer(elements="magpie", stats="magpie").fit().get_feature_names_out()

    rows, details, equality, headline = [], [], [], []
    failures = 0
    for name, formulas in datasets.items():
        n = len(formulas)
        n_unique = len(set(formulas))
        rep(f"running {name}: {n:,} formulas ({n_unique:,} distinct) ...")
        # matminer (once), on all formulas or a seeded subsample
        if args.matminer_max is not None and n > args.matminer_max:
            idx = np.sort(np.random.default_rng(0).choice(n, args.matminer_max, replace=False))
        else:
            idx = np.arange(n)
        mm_formulas = [formulas[i] for i in idx]
        c0, t0 = time.process_time(), time.perf_counter()
        Xm = matminer_featurize(mm, mm_formulas)
        t_mm = time.perf_counter() - t0
        c_mm = time.process_time() - c0
        r_mm = len(idx) / t_mm

        t_pmg, times_pmg, comps = best_of(lambda: pymatgen_parse(formulas), args.repeats, "pmg")
        del comps
        t_sk1, times_sk1, Xs = best_of(lambda: skmdl_featurize(formulas, None), args.repeats, "sk1")
        t_sk2, times_sk2, Xs2 = best_of(lambda: skmdl_featurize(formulas, 2), args.repeats)
        assert np.array_equal(Xs, Xs2, equal_nan=True), "skmdl n_jobs=2 result differs from n_jobs=None"

        sub = " (subsample)" if len(idx) < n else ""
        for method, nn, rate in [
            ("pymatgen Composition() parse only", n, n / t_pmg),
            (f"matminer ElementProperty magpie, n_jobs=1{sub}", len(idx), r_mm),
            ("skmdl CompositionFeaturizer, n_jobs=None", n, n / t_sk1),
            ("skmdl CompositionFeaturizer, n_jobs=2", n, n / t_sk2),
        ]:
            rows.append(f"| {name} | {nn:,} | {method} | {fmt_rate(rate)} | {rate / r_mm:.1f}x |")
        if len(idx) < n:
            details.append(f"- {name}: matminer on all {n:,} formulas would take about "
                           f"{n / r_mm / 60:.1f} min at the measured rate")
        headline.append(f"- {name}: skmdl/matminer = {(n / t_sk1) / r_mm:.0f}x (n_jobs=None), "
                        f"{(n / t_sk2) / r_mm:.0f}x (n_jobs=2); pymatgen parsing alone is "
                        f"{(n / t_pmg) / r_mm:.0f}x matminer, skmdl is {t_pmg / t_sk1:.1f}x the "
                        "pymatgen parsing floor")
        details.append(
            f"- {name}, by CPU time of this process (less sensitive to other load than wall "
            f"time): matminer {fmt_rate(len(idx) / c_mm)} rows/CPU-s, pymatgen parse "
            f"{fmt_rate(n / CPU_TIMES['pmg'])}, skmdl n_jobs=None {fmt_rate(n / CPU_TIMES['sk1'])} "
            f"-> skmdl/matminer = {(n / CPU_TIMES['sk1']) / (len(idx) / c_mm):.0f}x"
        )
        details.append(
            f"- {name}: matminer {t_mm:.2f} s wall ({c_mm:.2f} s CPU) on {len(idx):,} formulas; pymatgen parse s "
            f"{[round(t, 3) for t in times_pmg]}; skmdl n_jobs=None s {[round(t, 4) for t in times_sk1]}; "
            f"skmdl n_jobs=2 s {[round(t, 4) for t in times_sk2]}"
            + (f" (serial: {n_unique:,} < {SKMDL_PARALLEL_MIN:,} distinct formulas)"
               if n_unique < SKMDL_PARALLEL_MIN else " (first run includes starting the joblib workers)")
        )

        # ---- equality on the formulas matminer featurized
        Xs_sub = Xs[idx]
        parsed = [parse_formula(f) for f in mm_formulas]
        res_default = compare_features(mm_formulas, Xs_sub, Xm, names, diff_cells, parsed)
        lines = [f"### {name}: {len(idx):,} formulas x {Xm.shape[1]} features = {res_default['n_values']:,} values"]
        lines.append("")
        diff_elems = {e for _, e in diff_cells}
        n_diff = sum(1 for p in parsed if diff_elems.intersection(p))
        n_missing = sum(1 for p in parsed if set(only_mm).intersection(p))
        lines.append(
            f"- formulas containing an element with differing table values "
            f"({', '.join(sorted(diff_elems)) or 'none'}): {n_diff:,}; containing an element "
            f"absent from skmdl's table ({only_mm[0] + '..' + only_mm[-1] if only_mm else 'none'}): "
            f"{n_missing:,}"
        )
        lines.append(
            f"- skmdl default table (elements='magpie') vs matminer: {res_default['n_mismatch']:,} "
            f"mismatching values in {res_default['n_formulas']:,} formulas; "
            f"{res_default['explained']:,} of them involve an element whose table cell differs"
        )
        if tables_differ:
            Xt = skmdl_featurize(mm_formulas, None, elements=mm_tab)
            res = compare_features(mm_formulas, Xt, Xm, names)
            label = "skmdl with matminer's table (user DataFrame)"
        else:
            Xt, res, label = Xs_sub, res_default, "skmdl default table"
        ok = res["n_mismatch"] == 0
        lines.append(
            f"- {label} vs matminer: {res['n_mismatch']:,} mismatching values in "
            f"{res['n_formulas']:,} formulas -> {'PASS' if ok else 'FAIL'} "
            f"(np.allclose rtol={RTOL:g}, atol={ATOL:g}, equal_nan=True)"
        )
        equality.append((lines, mm_formulas, Xs_sub, Xt, Xm, res_default, res))
        failures += res["n_mismatch"]

    rep("")
    rep("## Speed (rows/s; ratio = rows/s relative to matminer on the same dataset)")
    rep("")
    rep("| dataset | n | method | rows/s | ratio vs matminer |")
    rep("|---|---:|---|---:|---:|")
    for r in rows:
        rep(r)
    rep("")
    rep("Headline:")
    for h in headline:
        rep(h)
    rep("")
    rep(f"Timings: skmdl and pymatgen best of {args.repeats} (fresh CompositionFeaturizer per run, "
        "construction + fit + transform timed); matminer one run, featurize_many(pbar=False) with "
        "the Composition construction timed, featurizer construction (data loading) not timed.")
    if args.matminer_max is not None:
        rep(f"matminer limited to {args.matminer_max:,} formulas per dataset (seeded random subsample) "
            "by --matminer-max; its rows/s and the equality check use that subsample.")
    for d in details:
        rep(d)
    rep("")

    rep("## Numerical equality with matminer")
    rep("")
    for lines, mm_formulas, Xs_sub, Xt, Xm, res_default, res in equality:
        for line in lines:
            rep(line)
        if res_default["n_mismatch"]:
            rep("")
            rep("  default table, first differences:")
            report_mismatches(rep, mm_formulas, Xs_sub, Xm, names, res_default, limit=8)
        if res["n_mismatch"] and res is not res_default:
            rep("")
            rep("  with matminer's table, differences:")
            report_mismatches(rep, mm_formulas, Xt, Xm, names, res, limit=40)
        rep("")

    if args.profile:
        rep("## Profile of skmdl's transform (best of "
            f"{args.repeats}; internal functions of skmdl.descriptors.composition)")
        rep("")
        for name, formulas in datasets.items():
            profile(rep, name, formulas, args.repeats)

    verdict = ("EQUALITY: PASS -- skmdl matches matminer on every featurized formula"
               if failures == 0 else
               f"EQUALITY: FAIL -- {failures:,} values differ from matminer (see above)")
    rep(f"load average at end (1/5/15 min): {loadavg()}")
    rep(verdict)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(rep.text())
    print(f"(written to {args.out})")
    assert failures == 0, f"{failures} skmdl magpie values differ from matminer's"


if __name__ == "__main__":
    main()
