"""Polymer learning curves: transfer from molecule + polymer source models vs direct.

    SKMDL_DATA=../shared/data python benchmarks/polymer_transfer.py \
        [--targets opp2025_tc polyinfo_tg] [--sizes 50 100 200 400] [--repeats 5]

Targets: polymer thermal conductivity (NeurIPS OPP 2025 ``Tc``, the 737 rows
with a value, W/(m K)) and glass transition temperature (PolyInfo / GREA,
°C); repeat units that are not linear chains (not exactly two ``*``: 4 of
the 7,174 PolyInfo rows) are dropped. For each target one fixed test set is held out (20 % of the rows, at most
300, seed 0); training sets of n rows are drawn from the rest (5 repeats).

* direct: ExtraTrees (300 trees, max_features 0.3) on the full RDKit 2D
  descriptor set of the H-capped repeat unit (``RDKitDescriptors(polymer="cap")``,
  the polymer source models' own descriptors; see
  ``skmdl.library.recipes_organic`` for why not ``"cyclize"``);
* transfer: ``TransferRegressor`` with the same head and the same descriptors,
  candidates = the embedded library's ``kind="molecule"`` and
  ``kind="polymer"`` models minus the target task and every source of the
  target's quantity (``polymer_transfer_exclusions``: RadonPy's MD thermal
  conductivity is not a candidate for ``Tc``); 5 sources kept by inner CV.

Settings fixed before the run (no tuning on the test sets). Prints MAE (mean ±
std over repeats) and the ratio transfer / direct, writes
benchmarks/results/polymer_transfer.md and polymer_transfer.png.
"""

import argparse
import os
import time

import numpy as np
import torch
from sklearn.ensemble import ExtraTreesRegressor

from skmdl.datasets import load_task
from skmdl.library import ModelLibrary
from skmdl.library.recipes_organic import polymer_featurizer, polymer_transfer_exclusions
from skmdl.transfer import TransferRegressor

from _results import RESULTS, write_result  # benchmarks/_results.py

TARGETS = ["opp2025_tc", "polyinfo_tg"]
UNITS = {"opp2025_tc": "W/(m K)", "polyinfo_tg": "°C"}


def head(seed):
    return ExtraTreesRegressor(n_estimators=300, max_features=0.3, random_state=seed, n_jobs=1)


def usable(X):
    """Rows whose repeat unit has exactly two '*' connection points (PolyInfo has 4 with 4)."""
    from skmdl.descriptors.molecule import MoleculeError, parse_molecule, polymerize

    def ok(s):
        try:
            polymerize(parse_molecule(s), "cap")
            return True
        except MoleculeError:
            return False

    return np.array([ok(s) for s in X])


def candidates(task, lib):
    """Molecule + polymer models allowed as sources for ``task``."""
    return lib.search(kind=["molecule", "polymer"],
                      **polymer_transfer_exclusions(task))["id"].tolist()


def models(task, seed=0):
    """The two compared models of one target (used by the leakage test)."""
    lib = ModelLibrary.default()
    return {"transfer": TransferRegressor(sources=candidates(task, lib), n_sources=5,
                                          head=head(seed), descriptors=polymer_featurizer(),
                                          calibration_cv=None, random_state=seed)}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--targets", nargs="*", default=TARGETS)
    ap.add_argument("--sizes", nargs="*", type=int, default=[50, 100, 200, 400])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--max-test", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(1)
    lines = [f"`python benchmarks/polymer_transfer.py {' '.join(os.sys.argv[1:])}`",
             f"({os.cpu_count()} cores)", "",
             "| target | unit | n | direct MAE | transfer MAE | ratio | repeats | sources kept (first repeat) |",
             "|---|---|---|---|---|---|---|---|"]
    curves, wins, test_sizes, dropped = {}, {}, {}, {}
    t0 = time.perf_counter()
    for task in args.targets:
        X, y = load_task(task)
        ok = usable(X)  # cleaning: drop repeat units that are not linear chains
        dropped[task] = int((~ok).sum())
        X, y = X[ok].reset_index(drop=True), y.to_numpy(dtype=float)[ok]
        order = np.random.default_rng(0).permutation(len(y))
        n_test = min(args.max_test, len(y) // 5)
        test, pool = order[:n_test], order[n_test:]
        test_sizes[task] = n_test
        draws = {(n, r): np.random.default_rng(1000 * r + n).choice(pool, size=n, replace=False)
                 for n in args.sizes if n <= len(pool) for r in range(args.repeats)}
        # direct model: featurize every row used once (the descriptors are stateless)
        used = np.unique(np.concatenate([test, *draws.values()]))
        F = np.full((len(y), len(polymer_featurizer().fit().get_feature_names_out())), np.nan)
        F[used] = polymer_featurizer().fit().transform(X[used])
        for n in args.sizes:
            if (n, 0) not in draws:
                continue
            d, t, kept = [], [], ""
            for r in range(args.repeats):
                tr = draws[(n, r)]
                direct = head(r).fit(F[tr], y[tr])
                d.append(np.abs(direct.predict(F[test]) - y[test]).mean())
                transfer = models(task, r)["transfer"].fit(X[tr], y[tr])
                t.append(np.abs(transfer.predict(X[test]) - y[test]).mean())
                if r == 0:
                    kept = ", ".join(transfer.sources_)
            ratio = np.mean(t) / np.mean(d)
            curves.setdefault(task, []).append((n, np.mean(d), np.std(d), np.mean(t), np.std(t)))
            if n <= 200:
                wins.setdefault(task, []).append(ratio)
            lines.append(f"| {task} | {UNITS.get(task, '')} | {n} | {np.mean(d):.4g} ± "
                         f"{np.std(d):.2g} | {np.mean(t):.4g} ± {np.std(t):.2g} | {ratio:.3f} | "
                         f"{args.repeats} | {kept} |")
            print(lines[-1], f"[{time.perf_counter() - t0:.0f} s]", flush=True)
    good = [k for k, v in wins.items() if max(v) <= 0.85]
    lines += ["", f"targets with transfer ≤ 0.85 × direct MAE at every n ≤ 200: {len(good)} of "
              f"{len(wins)} ({', '.join(good) or 'none'})",
              f"test set rows: {', '.join(f'{k} {v}' for k, v in test_sizes.items())}; "
              f"rows dropped (not two '*'): {', '.join(f'{k} {v}' for k, v in dropped.items())}; "
              f"run time {(time.perf_counter() - t0) / 60:.1f} min"]
    text = "\n".join(lines)
    print(text)
    write_result("polymer_transfer.md", text)
    plot(curves)


def plot(curves):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 4), squeeze=False)
    for ax, (task, rows) in zip(axes[0], curves.items()):
        n, dm, ds, tm, ts = map(np.array, zip(*rows))
        ax.errorbar(n, dm, ds, marker="o", capsize=3, label="direct (RDKit 2D, ExtraTrees)")
        ax.errorbar(n, tm, ts, marker="s", capsize=3, label="transfer (TransferRegressor)")
        ax.set_xscale("log")
        ax.set_xticks(n, [str(v) for v in n])
        ax.minorticks_off()
        ax.set_xlabel("training polymers n")
        ax.set_ylabel(f"test MAE ({UNITS.get(task, '')})")
        ax.set_title(task)
        ax.legend()
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(RESULTS / "polymer_transfer.png", dpi=120)


if __name__ == "__main__":
    main()
