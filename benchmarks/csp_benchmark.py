"""Crystal structure prediction on the 35-composition benchmark (ShotgunCSP workflow).

    SKMDL_DATA=../shared/data python benchmarks/csp_benchmark.py [--targets Si NaCl ...]
        [--generators template wyckoff random] [--no-surrogate] [--no-relax]
        [--n-candidates 60] [--n-train 16] [--n-screen 16] [--n-relax 3] [--relax-steps 30]

Targets: $SKMDL_DATA/csp/benchmark35/*.cif (file name = reduced formula). For
each target, ShotgunCSP is fitted on a reference set that holds no structure of
the target's reduced formula: the other 34 benchmark crystals plus pymatgen's
AFLOW prototypes, both filtered by ``exclude_formulas=[target formula]`` (the
Wyckoff generator's space-group prior is learned from the same filtered set).
Only the composition goes into ``predict``.

Per target: rank of the first StructureMatcher(ltol=0.3, stol=0.5,
angle_tol=10) match among the returned top 10 (relaxed candidates first),
success@1, success@10, the same by fingerprint distance ≤ 0.2 (matminer
SiteStatsFingerprint of CrystalNN 'ops'), the generator of the first match,
candidates generated, CHGNet evaluations, and wall time. The template ceiling
counts targets for which an unrelaxed ideal substitution of some template
already matches. CPU, torch.set_num_threads(1).
"""

import argparse
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from skmdl.csp import NoCandidatesError
from skmdl.csp.generators import TemplateGenerator, WyckoffGenerator, wyckoff_signature
from skmdl.csp.metrics import (FINGERPRINT_THRESHOLD, fingerprint_distance, first_match_rank,
                               structure_fingerprint, structure_match)
from skmdl.csp.shotgun import ShotgunCSP

sys.path.insert(0, str(Path(__file__).parent))
from _results import write_result  # noqa: E402  benchmarks/_results.py

#: Table 1 of the ShotgunCSP paper (Liu et al., arXiv:2305.02158): successes of 35
SEED_TABLE = {"ShotgunCSP template-based (paper)": 31, "CSPML metric learning (paper)": 21,
              "ShotgunCSP space-group aware (paper)": 17, "USPEX (paper)": 13}
TEMPLATE_CEILING_BEFORE = 13


def benchmark_folder():
    root = os.environ.get("SKMDL_DATA")
    if not root:
        raise SystemExit("set SKMDL_DATA to the shared data folder")
    return Path(root) / "csp" / "benchmark35"


def load_targets(folder=None) -> pd.Series:
    """Benchmark crystals as a Series of Structures indexed by file name (reduced formula)."""
    from pymatgen.core import Structure

    folder = Path(folder) if folder else benchmark_folder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        items = {p.stem: Structure.from_file(p) for p in sorted(folder.glob("*.cif"))}
    if not items:
        raise SystemExit(f"no *.cif in {folder}")
    return pd.Series(items, dtype=object)


def make_estimator(targets: pd.Series, label: str, **params) -> ShotgunCSP:
    """ShotgunCSP that never sees a structure of ``label``'s reduced formula."""
    formula = targets[label].composition.reduced_formula
    return ShotgunCSP(exclude_formulas=[formula], **params)


def reference_set(targets: pd.Series, label: str) -> pd.Series:
    """The other benchmark crystals (the estimator's exclude_formulas filters them again)."""
    formula = targets[label].composition.reduced_formula
    keep = [k for k, s in targets.items() if s.composition.reduced_formula != formula]
    return targets[keep]


def fitted_for(targets, label, **params) -> ShotgunCSP:
    return make_estimator(targets, label, **params).fit(reference_set(targets, label))


def template_ceiling(est: ShotgunCSP, true, max_atoms=60) -> tuple:
    """(ideal template substitutions, whether one of them matches the truth), over the
    same templates (≤ ``max_atoms`` atoms) as the run."""
    gen = TemplateGenerator(max_atoms=max_atoms).fit(est.templates_, est.volume_model_)
    ideal = gen.ideal(true.composition)
    return len(ideal), any(structure_match(c.structure, true) for c in ideal)


def volume_errors(targets):
    """Median relative volume error of the library model and of DLS on the true structures."""
    from skmdl.csp.volume import VolumeModel

    lib, dls = VolumeModel("library"), VolumeModel("dls")
    e_lib, e_dls = [], []
    for s in targets:
        true = s.volume
        e_lib.append(abs(lib.per_atom(s.composition) * len(s) - true) / true)
        e_dls.append(abs(dls.structure_volume(s) - true) / true)
    return float(np.median(e_lib)), float(np.median(e_dls))


def generators_for(true, args):
    """The run's generators for one target (its own Wyckoff entry left out of the MP statistics)."""
    gens = []
    for g in args.generators:
        if g == "template":
            gens.append(TemplateGenerator(max_atoms=args.max_template_atoms))
        elif g == "wyckoff":
            gens.append(WyckoffGenerator(prior=args.wyckoff_prior,
                                         exclude_signatures=[wyckoff_signature(true)]))
        else:
            gens.append(g)
    return tuple(gens)


def run_target(label, targets, params, args) -> dict:
    """Fit on the leave-one-out reference set, predict from the formula, score."""
    import torch

    torch.set_num_threads(1)
    true = targets[label]
    t0 = time.perf_counter()
    est = fitted_for(targets, label, generators=generators_for(true, args), **params)
    assert true.composition.reduced_formula not in est.templates_.formulas
    t_fit = time.perf_counter() - t0
    try:
        ranked, details = est.predict([true.composition.reduced_formula], return_details=True)
        ranked, det = ranked[0], details[0]
    except NoCandidatesError as exc:  # counted as a failure, reason printed
        print(f"{label}: {exc}", flush=True)
        ranked, det = [], {"generated": {}, "n_candidates": 0, "n_energy": 0, "n_relaxed": 0}
    rank = first_match_rank(ranked, true)
    rank_fp = None
    if not args.no_fingerprint:
        fp_true = structure_fingerprint(true)
        for i, c in enumerate(ranked, 1):
            if fingerprint_distance(c.structure, fp_true) <= FINGERPRINT_THRESHOLD:
                rank_fp = i
                break
    n_ideal, ceiling = template_ceiling(est, true, args.max_template_atoms)
    row = {"target": label, "atoms": len(true), "templates": n_ideal,
           "ceiling": ceiling, "rank": rank, "s@1": rank == 1,
           "s@10": rank is not None and rank <= 10, "rank_fp": rank_fp,
           "fp@10": rank_fp is not None and rank_fp <= 10,
           "found_by": ranked[rank - 1].generator if rank else "",
           "found_by_fp": ranked[rank_fp - 1].generator if rank_fp else "",
           "generated": "+".join(f"{k[0]}{v}" for k, v in det["generated"].items()),
           "n_cand": det["n_candidates"], "n_E": det["n_energy"],
           "n_relax": det["n_relaxed"], "seconds": time.perf_counter() - t0,
           "fit_s": t_fit, "gen_s": det.get("generate_s", 0),
           "energy_s": det.get("energy_s", 0)}
    print(f"{label:12s} atoms={len(true):3d} rank={rank} rank_fp={rank_fp} "
          f"ceiling={ceiling} by={row['found_by'] or row['found_by_fp']} "
          f"gen={row['generated']} {row['seconds']:.0f}s (fit {t_fit:.0f}, generate "
          f"{row['gen_s']:.0f}, energies {row['energy_s']:.0f})", flush=True)
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", nargs="*", help="file names (reduced formulas); default: all 35")
    ap.add_argument("--generators", nargs="*", default=["template", "wyckoff"])
    ap.add_argument("--no-surrogate", action="store_true")
    ap.add_argument("--no-relax", action="store_true")
    ap.add_argument("--n-candidates", type=int, default=60)
    ap.add_argument("--n-train", type=int, default=16)
    ap.add_argument("--n-screen", type=int, default=16)
    ap.add_argument("--n-relax", type=int, default=3)
    ap.add_argument("--relax-steps", type=int, default=30)
    ap.add_argument("--n-prerelax", type=int, default=0,
                    help="distinct candidates given a few relaxation steps before ranking")
    ap.add_argument("--prerelax-steps", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--volume-scan", nargs="*", type=float, default=[0.9, 1.1, 1.35])
    ap.add_argument("--max-template-atoms", type=int, default=60)
    ap.add_argument("--no-fingerprint", action="store_true",
                    help="skip the fingerprint-distance criterion (slow for big cells)")
    ap.add_argument("--wyckoff-prior", default="mp", choices=["mp", "templates"],
                    help="Wyckoff generator prior: MP Wyckoff-set statistics (with the "
                         "target's own entry left out) or the templates' space groups")
    ap.add_argument("--n-jobs", type=int, default=1, help="targets run in parallel (joblib)")
    ap.add_argument("--dask-scheduler", default=None,
                    help="run the targets on this dask.distributed scheduler (joblib's dask "
                         "backend) instead of local processes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="result file name in benchmarks/results/")
    args = ap.parse_args(argv)

    targets = load_targets()
    labels = args.targets or list(targets.index)
    unknown = [t for t in labels if t not in targets.index]
    if unknown:
        raise SystemExit(f"unknown targets {unknown}; choose from {list(targets.index)}")
    params = dict(n_candidates=args.n_candidates,
                  n_train=args.n_train, n_screen=args.n_screen, top_k=args.top_k,
                  surrogate=not args.no_surrogate, relax=not args.no_relax,
                  n_relax=args.n_relax, relax_steps=args.relax_steps, fmax=0.1,
                  n_prerelax=0 if args.no_relax else args.n_prerelax,
                  prerelax_steps=args.prerelax_steps,
                  volume_scan=tuple(args.volume_scan), random_state=args.seed)
    settings = (f"generators={'+'.join(args.generators)} (Wyckoff prior: {args.wyckoff_prior}), "
                f"n_candidates={args.n_candidates}, "
                f"n_train={args.n_train} (surrogate {'on' if not args.no_surrogate else 'off'}), "
                f"n_screen={args.n_screen}, relax={'off' if args.no_relax else 'on'} "
                f"(n_relax={args.n_relax}, ≤{args.relax_steps} FIRE steps, fmax=0.1; "
                f"{args.n_prerelax} pre-relaxed {args.prerelax_steps} steps), "
                f"volume scan {args.volume_scan}, templates ≤ {args.max_template_atoms} atoms, "
                f"top_k={args.top_k}, seed={args.seed}, CHGNet 0.3.0 on CPU, 1 torch thread")
    cmd = "SKMDL_DATA=../shared/data python benchmarks/csp_benchmark.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    print(settings, flush=True)

    rows, t_all = [], time.perf_counter()
    jobs = [(label, targets, params, args) for label in labels]
    if args.n_jobs == 1 and not args.dask_scheduler:
        for job in jobs:
            rows.append(run_target(*job))
    else:
        from joblib import Parallel, delayed, parallel_backend

        backend = "loky"
        if args.dask_scheduler:
            from dask.distributed import Client

            Client(args.dask_scheduler)
            backend = "dask"
        with parallel_backend(backend, n_jobs=args.n_jobs):
            rows = Parallel(return_as="generator")(delayed(run_target)(*job) for job in jobs)
            rows = list(rows)
    total_min = (time.perf_counter() - t_all) / 60
    df = pd.DataFrame(rows)
    n = len(df)
    v_lib, v_dls = volume_errors(targets[labels])

    def fmt(x):
        return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)

    lines = [f"`{cmd}`", "", f"Settings: {settings}.", "",
             "| target | atoms | ideal template substitutions | template ceiling | rank (match) "
             "| success@1 | success@10 | rank (fingerprint) | found by | generated | CHGNet "
             "evaluations | relaxed | seconds |",
             "|---|---:|---:|---|---:|---|---|---:|---|---|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['target']} | {r['atoms']} | {r['templates']} | {'yes' if r['ceiling'] else ''} "
            f"| {fmt(r['rank'])} | {'✓' if r['s@1'] else ''} | {'✓' if r['s@10'] else ''} "
            f"| {fmt(r['rank_fp']) if not args.no_fingerprint else 'not computed'} "
            f"| {r['found_by'] or r['found_by_fp']} | {r['generated']} | {r['n_E']} "
            f"| {r['n_relax']} | {r['seconds']:.0f} |")
    lines += ["", f"| method | successes of {n} |", "|---|---:|",
              f"| skmdl ShotgunCSP, success@1 (StructureMatcher) | {int(df['s@1'].sum())} |",
              f"| skmdl ShotgunCSP, success@10 (StructureMatcher) | {int(df['s@10'].sum())} |"]
    if not args.no_fingerprint:
        lines.append("| skmdl ShotgunCSP, success@10 (fingerprint ≤ 0.2) | "
                     f"{int(df['fp@10'].sum())} |")
        lines.append(f"| skmdl ShotgunCSP, success@10 (either criterion) | "
                     f"{int((df['fp@10'] | df['s@10']).sum())} |")
    lines.append("| template ceiling (ideal substitution matches), this run | "
                 f"{int(df['ceiling'].sum())} |")
    if n == 35:
        lines.append(f"| template ceiling, measured before | {TEMPLATE_CEILING_BEFORE} |")
        lines += [f"| {k} | {v} |" for k, v in SEED_TABLE.items()]
    lines += ["", f"Total wall time {total_min:.1f} min for {n} targets "
              f"({os.cpu_count()} cores shared with other jobs). Median relative volume error "
              f"on these targets' true structures: library oqmd_volume_per_atom models "
              f"{v_lib:.1%}, DLSVolumePredictor {v_dls:.1%}."]
    text = "\n".join(lines)
    print(text)
    tag = args.out or ("csp_benchmark.md" if not args.targets else "csp_benchmark_subset.md")
    print("written to", write_result(tag, text))


if __name__ == "__main__":
    main()
