"""Re-rank a CSP run's kept top 10 with a second universal potential (SevenNet-0).

    pip install sevenn      # SevenNet-0's weights ship inside the wheel: no download
    python benchmarks/csp_rerank.py --run val12_keep --validation 12 --structures ../csp_structs
    python benchmarks/csp_rerank.py --run mp_v5_keep --structures ../csp_structs

Reads the candidates ``csp_benchmark.py --keep-structures`` stored (CHGNet-relaxed,
in the run's final order, with their CHGNet energy and template prior) and the
true crystals (the 35 benchmark CIFs, or ``--validation N``: the same validation
targets as the run). Per target, the rank of the first StructureMatcher match
under each variant of ``benchmarks/results/csp_rerank_rule.md``:

- R0: the run's own order (CHGNet energy, then the template-prior tie-break);
- R1: SevenNet-0 single-point energy per atom, then the same tie-break;
- R2: the mean of the CHGNet and SevenNet-0 energies, then the same tie-break.

The set of ten is never changed, so success@10 is the run's own. CPU, one torch thread.
"""

import argparse
import json
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from skmdl.csp.metrics import structure_match
from skmdl.csp.selection import tie_break_first

sys.path.insert(0, str(Path(__file__).parent))
from _results import write_result  # noqa: E402  benchmarks/_results.py
from csp_benchmark import load_targets, validation_targets  # noqa: E402

TIE_BREAK = 0.005  # eV/atom, the ShotgunCSP default


class SevenNetEnergies:
    """SevenNet-0 energy per atom of pymatgen structures (single points, ASE calculator)."""

    def __init__(self, model="7net-0", device="cpu"):
        from sevenn.calculator import SevenNetCalculator

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.calc = SevenNetCalculator(model=model, device=device)

    def __call__(self, structures) -> np.ndarray:
        from pymatgen.io.ase import AseAtomsAdaptor

        out = []
        for s in structures:
            atoms = AseAtomsAdaptor.get_atoms(s)
            atoms.calc = self.calc
            out.append(float(atoms.get_potential_energy()) / len(atoms))
        return np.array(out)


def energy_order(energies, priors) -> list:
    """Indices sorted by energy, then the template-prior tie-break (as ShotgunCSP ranks)."""
    srt = [int(i) for i in np.argsort(energies, kind="stable")]
    order = tie_break_first(np.asarray(energies)[srt], [priors[i] for i in srt], TIE_BREAK,
                            higher=False)
    return [srt[i] for i in order]


def first_match(order, matches):
    """1-based rank of the first match in ``order`` (None: no match)."""
    return next((r for r, i in enumerate(order, 1) if matches[i]), None)


def rerank_target(kept, true, model) -> dict:
    from pymatgen.core import Structure

    structures = [Structure.from_dict(c["structure"]) for c in kept]
    matches = [bool(structure_match(s, true)) for s in structures]
    e_chg = np.array([c["energy_per_atom"] for c in kept])
    t0 = time.perf_counter()
    e_7 = model(structures)
    priors = [c.get("prior") for c in kept]
    orders = {"R0": list(range(len(kept))),
              "R1": energy_order(e_7, priors),
              "R2": energy_order((e_chg + e_7) / 2, priors)}
    row = {v: first_match(o, matches) for v, o in orders.items()}
    truth = matches.index(True) if any(matches) else None
    row.update(seconds=time.perf_counter() - t0, atoms=len(structures[0]),
               chg_gap=_gap(e_chg, truth), sev_gap=_gap(e_7, truth))
    return row


def _gap(energies, truth):
    """meV/atom of the first match above the lowest energy of the ten (None: no match)."""
    return None if truth is None else 1000 * float(energies[truth] - np.min(energies))


def table(rows) -> list:
    fmt = lambda x: "–" if x is None else f"{x:g}" if isinstance(x, int) else f"{x:.1f}"  # noqa
    lines = ["| target | atoms | R0 rank | R1 rank (SevenNet-0) | R2 rank (mean) | first match "
             "above the lowest, CHGNet (meV/atom) | same, SevenNet-0 | seconds |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for t, r in rows.items():
        lines.append(f"| {t} | {r['atoms']} | {fmt(r['R0'])} | {fmt(r['R1'])} | {fmt(r['R2'])} "
                     f"| {fmt(r['chg_gap'])} | {fmt(r['sev_gap'])} | {r['seconds']:.0f} |")
    lines += ["", "| variant | success@1 | success@10 |", "|---|---:|---:|"]
    for v, label in (("R0", "R0: the run's order (CHGNet + prior tie-break)"),
                     ("R1", "R1: SevenNet-0 single points + prior tie-break"),
                     ("R2", "R2: mean of CHGNet and SevenNet-0 + prior tie-break")):
        s1 = sum(r[v] == 1 for r in rows.values())
        s10 = sum(r[v] is not None for r in rows.values())
        lines.append(f"| {label} | {s1} | {s10} |")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--structures", default="../csp_structs",
                    help="the --keep-structures folder of csp_benchmark.py")
    ap.add_argument("--validation", type=int, default=0, metavar="N")
    ap.add_argument("--seed", type=int, default=0, help="the run's seed (validation targets)")
    ap.add_argument("--out", default=None, help="result file name in benchmarks/results/")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    targets = validation_targets(args.validation, args.seed) if args.validation \
        else load_targets()
    folder = Path(args.structures) / args.run
    model = SevenNetEnergies()
    rows = {}
    for path in sorted(folder.glob("*.json")):
        label = path.stem
        kept = json.loads(path.read_text())
        if kept:
            rows[label] = rerank_target(kept, targets[label], model)
            print(label, {k: rows[label][k] for k in ("R0", "R1", "R2")}, flush=True)
    if not rows:
        raise SystemExit(f"no kept structures in {folder}")
    text = "\n".join([f"`python {' '.join(shlex.quote(a) for a in sys.argv)}`", "",
                      f"run {args.run}: {len(rows)} targets; SevenNet-0 (sevenn, 7net-0) on CPU, "
                      f"tie-break {TIE_BREAK * 1000:g} meV/atom by the template prior", ""]
                     + table(rows))
    print(text)
    if args.out:
        write_result(args.out, text)


if __name__ == "__main__":
    main()
