#!/usr/bin/env python
"""Speed and agreement of skmdl's RadialDistributionFeaturizer against matminer's
PartialRadialDistributionFunction, plus the throughput of the other structure descriptors.

Structures: the 35 CIFs of ``$SKMDL_DATA/csp/benchmark35`` and their supercells
(2x1x1, 1x2x1, 1x1x2, 2x2x1, 2x2x2), the first ``--n`` (default 200) of them,
originals first, as pymatgen ``Structure`` objects (reading is timed separately).

Compared in one run, same structures, same ``cutoff`` (10 Å) and 0.1 Å bins:

(a) pymatgen ``Structure.get_neighbor_list(cutoff)`` alone -- the neighbour
    search both featurizers need, the floor of any pymatgen-based RDF;
(b) matminer ``PartialRadialDistributionFunction`` (``featurize_many``,
    ``n_jobs=1``; its ``fit`` on the same structures is not timed);
(c) skmdl ``RadialDistributionFeaturizer`` fit + transform, ``n_jobs=None`` and 2.

skmdl runs are best of ``--repeats``; matminer runs once. Then, for information:
reading the 35 CIF files (pymatgen alone and through skmdl), the
orbital-field matrix (Voronoi and cutoff weights) and the CHGNet embedding on
the 35 originals.

Agreement: matminer's PRDF of the pair (A, B) is the number density of B atoms
around A atoms, :math:`\\rho_B g_{AB}(r)`, whereas skmdl returns the
dimensionless :math:`g_{AB}(r)`; the script multiplies skmdl's values by
:math:`\\rho_B = N_B / V` and compares every matminer feature
(``np.isclose(rtol=1e-6, atol=1e-9)``). A distance on a bin edge may land in
the neighbouring bin of the other library (bin edges computed differently:
``np.arange`` vs ``np.linspace``); such mismatches are counted and shown.
The orbital-field matrix is compared with matminer's ``OrbitalFieldMatrix`` on
the small structures whose elements have the same valence vectors in both.

Usage::

    SKMDL_DATA=../shared/data python benchmarks/structure_speed.py          # ~5 min on 2 cores
    python benchmarks/structure_speed.py --n 60 --repeats 1                 # quick

The report is also written to ``benchmarks/results/structure_speed.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _results import write_result
from descriptor_speed import REPO, Report, best_of, data_dir, fmt_rate, versions

CUTOFF, BIN = 10.0, 0.1
SUPERCELLS = [(1, 1, 1), (2, 1, 1), (1, 2, 1), (1, 1, 2), (2, 2, 1), (2, 2, 2)]
RTOL, ATOL = 1e-6, 1e-9


def load_structures(n):
    from pymatgen.core import Structure

    paths = sorted((data_dir() / "csp" / "benchmark35").glob("*.cif"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = [Structure.from_file(p) for p in paths]
    structures = [s * m for m in SUPERCELLS for s in base][:n]
    return paths, base, structures


def agreement(rep, sk, X_sk, mm, X_mm, structures):
    """skmdl g_AB * rho_B vs matminer, feature by feature."""
    n_bins = sk.n_bins
    block = {pair: k for k, pair in enumerate(sk.pairs_)}
    pos = {e: i for i, e in enumerate(sk.elements_)}
    rho = np.array([[s.composition[e] / s.volume for e in sk.elements_] for s in structures])
    expected = np.empty_like(X_mm)
    labels = mm.feature_labels()
    for j0 in range(0, len(labels), n_bins):
        a, b = labels[j0].split(" ")[0].split("-")
        k = block.get((a, b), block.get((b, a)))
        expected[:, j0 : j0 + n_bins] = (X_sk[:, k * n_bins : (k + 1) * n_bins]
                                          * rho[:, [pos[b]]])
    close = np.isclose(X_mm, expected, rtol=RTOL, atol=ATOL)
    n_bad = int((~close).sum())
    rep(f"- matminer features compared: {close.size:,} ({len(structures)} structures x "
        f"{X_mm.shape[1]:,} features); mismatches at rtol={RTOL:g}, atol={ATOL:g}: {n_bad}")
    if n_bad:
        rows, cols = np.nonzero(~close)
        rep("")
        rep("| structure | feature | matminer | skmdl x rho_B |")
        rep("|---|---|---:|---:|")
        for r, c in list(zip(rows, cols))[:10]:
            rep(f"| {structures[r].composition.reduced_formula} ({len(structures[r])} sites) | "
                f"{labels[c]} | {X_mm[r, c]:.6g} | {expected[r, c]:.6g} |")
    rep("")
    return n_bad


def ofm_agreement(rep, base, max_sites=20):
    """skmdl's orbital-field matrix vs matminer's OrbitalFieldMatrix where both define it alike.

    matminer gives 1/r in Bohr^-1 and marks filled semicore subshells ((n-1)s2 p6 of
    transition metals, ...) in its one-hot vectors, XenonPy and skmdl only the
    subshells outside the noble-gas core; structures with such elements are skipped.
    """
    from matminer.featurizers.structure import OrbitalFieldMatrix
    from matminer.featurizers.structure.matrix import ANG_TO_BOHR
    from pymatgen.core import Element

    from skmdl.descriptors import OrbitalFieldMatrixFeaturizer
    from skmdl.descriptors.structure import valence_orbitals

    mm, table = OrbitalFieldMatrix(), valence_orbitals()
    same = {z for z in range(1, 104) if np.array_equal(mm.get_ohv(Element.from_Z(z), False),
                                                       table[z])}
    small = [s for s in base if len(s) <= max_sites]
    comparable = [s for s in small if set(s.atomic_numbers) <= same]
    ours = OrbitalFieldMatrixFeaturizer().fit().transform(comparable) / ANG_TO_BOHR
    theirs = np.array([mm.featurize(s.copy()) for s in comparable])
    # matminer averages over the symmetry-distinct sites that spglib finds with a tolerance,
    # so sites that are nearly but not exactly equivalent differ in the 6th digit
    rtol = 1e-5
    bad = ~np.all(np.isclose(theirs, ours, rtol=rtol, atol=ATOL), axis=1)
    rel = np.abs(theirs - ours) / np.maximum(np.abs(theirs), 1e-12)
    rep("## Orbital-field matrix vs matminer OrbitalFieldMatrix")
    rep("")
    rep(f"- one-hot valence vectors equal for {len(same)} of 103 elements (matminer also marks "
        "filled semicore subshells, e.g. Fe s2 p6 d6 vs XenonPy/skmdl s2 d6)")
    rep(f"- structures with <= {max_sites} sites: {len(small)}; of these, made only of those "
        f"elements: {len(comparable)} "
        f"({', '.join(s.composition.reduced_formula for s in comparable)})")
    rep(f"- skmdl / {ANG_TO_BOHR:.4f} (1/r in Bohr^-1) equals matminer (rtol={rtol:g}) on "
        f"{len(comparable) - int(bad.sum())} of {len(comparable)}; largest relative difference "
        f"{rel.max():.1e} (matminer averages over symmetry-distinct sites found with a "
        "tolerance)")
    rep("")
    return int(bad.sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="structures (originals + supercells)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats for skmdl and pymatgen")
    ap.add_argument("--out", default="structure_speed.md",
                    help="file name under benchmarks/results/ for the report")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    from matminer.featurizers.structure import PartialRadialDistributionFunction
    from pymatgen.core import Structure

    from skmdl.descriptors import (
        CHGNetEmbedding,
        OrbitalFieldMatrixFeaturizer,
        RadialDistributionFeaturizer,
    )

    rep = Report()
    rep("# skmdl structure descriptors: RDF speed and agreement vs matminer PRDF")
    rep("")
    cmd = " ".join(["python", f"benchmarks/{Path(__file__).name}",
                    *(sys.argv[1:] if argv is None else argv)])
    rep(f"`{cmd}`")
    rep("")
    for line in versions():
        rep(f"- {line}")
    paths, base, structures = load_structures(args.n)
    n, atoms = len(structures), sum(len(s) for s in structures)
    rep(f"- {n} structures ({len(base)} CIFs of csp/benchmark35 and supercells), {atoms:,} atoms "
        f"(largest {max(len(s) for s in structures)}); cutoff {CUTOFF} Å, {BIN} Å bins")
    rep("")
    n_bins = round(CUTOFF / BIN)

    rows = []

    def add(what, seconds, n_items, n_atoms, ref=None):
        rows.append((what, n_items, n_atoms, seconds, ref))

    t, _, _ = best_of(lambda: [s.get_neighbor_list(CUTOFF) for s in structures], args.repeats)
    add("pymatgen get_neighbor_list only", t, n, atoms)

    rep("running matminer PartialRadialDistributionFunction (n_jobs=1) ...")
    mm = PartialRadialDistributionFunction(cutoff=CUTOFF, bin_size=BIN).fit(structures)
    mm.set_n_jobs(1)
    t0 = time.perf_counter()
    X_mm = np.asarray(mm.featurize_many(structures, pbar=False), dtype=float)
    t_mm = time.perf_counter() - t0
    add("matminer PartialRadialDistributionFunction, n_jobs=1", t_mm, n, atoms)

    X_sk = None
    for n_jobs in (None, 2):
        def run(n_jobs=n_jobs):
            f = RadialDistributionFeaturizer(cutoff=CUTOFF, n_bins=n_bins, n_jobs=n_jobs)
            return f, f.fit(structures).transform(structures)
        t, _, (sk, X) = best_of(run, args.repeats)
        add(f"skmdl RadialDistributionFeaturizer, n_jobs={n_jobs}", t, n, atoms)
        if X_sk is None:
            X_sk = X
        else:
            assert np.array_equal(X, X_sk), "n_jobs changed the features"

    rep("")
    rep(f"## RDF, {n} structures (Structure objects)")
    rep("")
    rep("| method | structures | atoms | seconds | structures/s | atoms/s | ratio vs matminer |")
    rep("|---|---:|---:|---:|---:|---:|---:|")
    for what, k, a, sec, _ in rows:
        rep(f"| {what} | {k} | {a:,} | {sec:.2f} | {fmt_rate(k / sec)} | {fmt_rate(a / sec)} | "
            f"{t_mm / sec:.1f}x |")
    rep("")
    rep("## Agreement with matminer (skmdl g_AB(r) x rho_B = matminer PRDF(A, B))")
    rep("")
    rep(f"- elements: skmdl {len(sk.elements_)} (atomic-number order), matminer "
        f"{len(mm.elements_)} (electronegativity order); features per structure: skmdl "
        f"{X_sk.shape[1]:,} (unordered pairs), matminer {X_mm.shape[1]:,}")
    n_bad = agreement(rep, sk, X_sk, mm, X_mm, structures)

    n_bad += ofm_agreement(rep, base)

    # ---- information: reading files, other descriptors (originals only)
    info = []
    n0, a0 = len(base), sum(len(s) for s in base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, _, _ = best_of(lambda: [Structure.from_file(p) for p in paths], args.repeats)
    info.append(("pymatgen Structure.from_file only", n0, a0, t))
    t, _, _ = best_of(lambda: RadialDistributionFeaturizer(cutoff=CUTOFF, n_bins=n_bins)
                      .fit(base).transform([str(p) for p in paths]), args.repeats)
    info.append(("skmdl RadialDistributionFeaturizer on CIF paths (reads them)", n0, a0, t))
    for neighbors in ("voronoi", "cutoff"):
        t, _, _ = best_of(lambda neighbors=neighbors: OrbitalFieldMatrixFeaturizer(
            neighbors=neighbors).fit().transform(base), 1)
        info.append((f"skmdl OrbitalFieldMatrixFeaturizer, neighbors={neighbors!r}", n0, a0, t))
    chg = CHGNetEmbedding().fit()
    chg.transform(base[:2])  # warm-up (first forward pass)
    t, _, _ = best_of(lambda: chg.transform(base), 1)
    info.append(("skmdl CHGNetEmbedding, CPU, batch_size=16 (model loaded)", n0, a0, t))
    rep(f"## Other structure descriptors, the {n0} original structures")
    rep("")
    rep("| method | structures | atoms | seconds | structures/s | atoms/s |")
    rep("|---|---:|---:|---:|---:|---:|")
    for what, k, a, sec in info:
        rep(f"| {what} | {k} | {a:,} | {sec:.2f} | {fmt_rate(k / sec)} | {fmt_rate(a / sec)} |")
    rep("")
    path = write_result(args.out, rep.text())
    print(f"written to {path.relative_to(REPO)}")
    return 1 if n_bad else 0


if __name__ == "__main__":
    sys.exit(main())
