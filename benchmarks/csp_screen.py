"""How well each per-system screen of ShotgunCSP ranks one system's candidates.

    SKMDL_DATA=../shared/data python benchmarks/csp_screen.py [--validation 12 | --targets Si ...]
        [--n-eval 160] [--n-train 48] [--splits 5] [--n-jobs 2] [--out csp_screen.md]

The screen (step 3 of ``ShotgunCSP``) is fitted on the CHGNet energies of the
candidates evaluated first and decides which of the rest CHGNet sees next.
This script isolates that step. Per target:

1. fit ``ShotgunCSP`` on the Materials Project pool with the target's formula
   left out (as ``csp_benchmark.py --pool mp``) and generate candidates with
   its fitted template and Wyckoff generators (the Wyckoff generator on a
   budget of pyxtal calls, not seconds, so the candidates repeat exactly);
2. evaluate a random ``--n-eval`` of them with CHGNet (single points at the
   volume model's volume);
3. ``--splits`` times: fit each screen on a random ``--n-train`` of them and
   rank the others. Scores on the held-out candidates: Spearman's rho
   between screen and CHGNet, and the recall that matters for screening:
   the share of the 10 lowest-CHGNet-energy candidates that fall in the
   screen's best 30 % (about what ``n_screen=48`` of a pool of ~150 keeps;
   a random draw scores 0.30 on average).

Screens: ``kernel_ridge`` (:class:`skmdl.csp.energy.SurrogateEnergy`, RBF
kernel ridge on radial distribution fingerprints, the default) and
``pretrained`` (:class:`skmdl.csp.energy.PretrainedSurrogate`, the library's
crystal formation-energy networks transferred to the system's energies).

``--validation N`` (default 12) uses the validation targets of
``csp_benchmark.py`` (Materials Project ground states outside the 35), where a
default may be chosen; ``--targets`` takes benchmark file names instead.
Differences from the pipeline: there the first candidates are mostly the
best-prior ideal substitutions, each at its best scanned volume, not a random
draw. The table is a measurement of the screens' ranking, not of success.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, os.path.dirname(__file__))
from _results import write_result  # noqa: E402  benchmarks/_results.py
from csp_benchmark import fitted_for, load_targets, validation_targets  # noqa: E402

SCREENS = ("kernel_ridge", "pretrained")
TOP = 10
KEEP = 0.30


def generate(est, comp, n_per_generator, seed) -> list:
    """Candidate structures from each fitted generator of ``est``."""
    rng = np.random.default_rng(seed)
    out = []
    for gen in est.generators_:
        out += [c.structure for c in gen.generate(comp, n_per_generator, rng)]
    return out


def evaluated(structures, n_eval, seed):
    """A random ``n_eval`` of the structures with their CHGNet energies (NaN dropped)."""
    from skmdl.csp.energy import CHGNetEnergy

    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(structures))[:n_eval]
    chosen = [structures[i] for i in pick]
    energies = CHGNetEnergy()(chosen)
    ok = np.isfinite(energies)
    return [s for s, k in zip(chosen, ok) if k], energies[ok]


def score_split(structures, energies, train, test, name) -> dict:
    from skmdl.csp.energy import screen_model

    t0 = time.perf_counter()
    rows = [structures[i] for i in train]
    model = screen_model(name, rows).fit(rows, energies[train])
    pred = model.predict([structures[i] for i in test])
    seconds = time.perf_counter() - t0
    truth = energies[test]
    best = set(np.argsort(truth, kind="stable")[:TOP])
    kept = set(np.argsort(pred, kind="stable")[:int(round(KEEP * len(test)))])
    return {"screen": name, "rho": float(spearmanr(pred, truth).statistic),
            "recall": len(best & kept) / len(best), "seconds": seconds}


def run_target(label, targets, args) -> list:
    from skmdl.csp.generators import TemplateGenerator
    from skmdl.csp.wyckoff import WyckoffGenerator

    warnings.filterwarnings("ignore")
    true = targets[label]
    gens = (TemplateGenerator(max_atoms=args.max_template_atoms),
            WyckoffGenerator(time_limit=None, max_attempts=args.wyckoff_attempts))
    est = fitted_for(targets, label, pool="mp", generators=gens, relax=False,
                     random_state=args.seed)
    structures = generate(est, true.composition, args.n_eval, args.seed)
    structures, energies = evaluated(structures, args.n_eval, args.seed)
    rows = []
    rng = np.random.default_rng(args.seed)
    for split in range(args.splits):
        order = rng.permutation(len(energies))
        train, test = order[:args.n_train], order[args.n_train:]
        for name in SCREENS:
            row = score_split(structures, energies, train, test, name)
            rows.append({"target": label, "split": split, "n": len(energies), **row})
    print(f"{label:12s} n={len(energies)} " + " ".join(
        f"{r['screen']}: rho {r['rho']:.2f} recall {r['recall']:.2f}" for r in rows[-2:]),
        flush=True)
    return rows


def table(df) -> list:
    per = df.groupby(["target", "screen"])[["rho", "recall", "seconds"]].mean().unstack("screen")
    lines = ["| target | candidates | " + " | ".join(
        f"{s} rho | {s} recall" for s in SCREENS) + " |",
             "|---|---:|" + "---:|---:|" * len(SCREENS)]
    n = df.groupby("target")["n"].first()
    for t in per.index:
        cells = " | ".join(f"{per.loc[t, ('rho', s)]:.2f} | {per.loc[t, ('recall', s)]:.2f}"
                           for s in SCREENS)
        lines.append(f"| {t} | {n[t]} | {cells} |")
    means = df.groupby("screen")[["rho", "recall", "seconds"]].mean()
    wins = (per["recall"]["pretrained"] > per["recall"]["kernel_ridge"]).sum()
    losses = (per["recall"]["pretrained"] < per["recall"]["kernel_ridge"]).sum()
    cells = " | ".join(f"**{means.loc[s, 'rho']:.2f}** | **{means.loc[s, 'recall']:.2f}**"
                       for s in SCREENS)
    lines += [f"| mean | | {cells} |", "",
              f"Recall: share of the {TOP} lowest-energy held-out candidates in the screen's best "
              f"{KEEP:.0%} (random draw: {KEEP:.2f}). Pretrained better than kernel ridge on "
              f"{wins} targets, worse on {losses}. Seconds per fit + prediction: " + ", ".join(
                  f"{s} {means.loc[s, 'seconds']:.1f}" for s in SCREENS) + "."]
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--validation", type=int, default=12)
    ap.add_argument("--targets", nargs="*", help="benchmark file names instead of validation")
    ap.add_argument("--n-eval", type=int, default=160)
    ap.add_argument("--n-train", type=int, default=48)
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--max-template-atoms", type=int, default=120)
    ap.add_argument("--wyckoff-attempts", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--out", default="csp_screen.md")
    args = ap.parse_args(argv)
    if args.targets:
        targets = load_targets()
        targets = targets[args.targets]
    else:
        targets = validation_targets(args.validation)
    import torch
    from joblib import Parallel, delayed

    torch.set_num_threads(1)
    rows = Parallel(n_jobs=args.n_jobs)(delayed(run_target)(label, targets, args)
                                        for label in targets.index)
    df = pd.DataFrame([r for rs in rows for r in rs])
    cmd = "python benchmarks/csp_screen.py " + " ".join(argv or sys.argv[1:])
    lines = [f"`{cmd}`", "",
             f"{len(targets)} targets, {args.n_eval} random candidates each (template + Wyckoff "
             f"generators, MP pool with the target's formula left out), CHGNet single points; "
             f"{args.splits} random splits of {args.n_train} to fit the screen on, the rest to "
             "rank; mean over splits.", ""] + table(df)
    write_result(args.out, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
