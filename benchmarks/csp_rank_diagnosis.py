"""Why a CSP target is found at rank 2 and not 1: the energy model or the relaxation?

    SKMDL_DATA=../shared/data python benchmarks/csp_rank_diagnosis.py --run mp_v4_rank2 \
        [--structures ../csp_structs --polish 5]

Reads the per-target results of a ``csp_benchmark.py`` run made with
``--truth-energy`` (the true crystal's own CHGNet energy: relaxed with the run's
settings and to convergence, 1,000 FIRE steps, fmax 0.02) and prints, for every
target whose first match is not at rank 1:

* the rank-1 candidate (space group, atoms) and its CHGNet energy per atom;
* the first match's energy, and the truth's converged energy;
* ``truth - rank 1``: positive means CHGNet itself puts the rank-1 crystal below
  the fully relaxed truth (no relaxation of the match can fix the rank);
  ``match - truth``: how far the returned match is from its converged energy.

With ``--structures`` (the run's ``--keep-structures`` folder) and ``--polish K``
the top ``K`` candidates are relaxed further (300 steps, fmax 0.02) and
re-ranked: the rank a tighter final relaxation would give.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import RESULTS, write_result  # noqa: E402  benchmarks/_results.py


def polished_rank(structures_file, true, k) -> tuple:
    """(rank of the first match after relaxing the top ``k`` further, seconds)."""
    from pymatgen.core import Structure

    from skmdl.csp.metrics import first_match_rank
    from skmdl.csp.relax import CHGNetRelaxer

    t0 = time.perf_counter()
    relaxer = CHGNetRelaxer(steps=300, fmax=0.02)
    relaxed = [relaxer.relax(Structure.from_dict(c["structure"]))[:2]
               for c in json.loads(Path(structures_file).read_text())[:k]]
    by_energy = [s for s, _ in sorted(relaxed, key=lambda r: r[1])]
    return first_match_rank(by_energy, true), time.perf_counter() - t0


def diagnosis_row(r, args, targets) -> str:
    top, truth = r["top"], r["truth"]
    m = next(i for i, c in enumerate(top) if c["match"])
    first, match = top[0], top[m]
    e_conv = truth["energy_per_atom_converged"]
    cells = [r["target"], str(r["rank"]), f"{first['space_group']} ({first['atoms']})",
             f"{first['energy_per_atom']:.4f}", f"{match['space_group']} ({match['atoms']})",
             f"{match['energy_per_atom']:.4f}", f"{e_conv:.4f}",
             f"{1000 * (e_conv - first['energy_per_atom']):+.1f}",
             f"{1000 * (match['energy_per_atom'] - e_conv):+.1f}"]
    if args.polish:
        folder = Path(args.structures) / args.run
        rank, sec = polished_rank(folder / f"{r['target']}.json", targets[r["target"]],
                                  args.polish)
        cells += [str(rank), f"{sec:.0f}"]
    print(" | ".join(cells), flush=True)
    return "| " + " | ".join(cells) + " |"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="run folder under benchmarks/results/csp_runs/")
    ap.add_argument("--structures", default=None, help="the run's --keep-structures folder")
    ap.add_argument("--polish", type=int, default=0,
                    help="relax the top K further and re-rank (needs --structures)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.polish and not args.structures:
        ap.error("--polish needs --structures")
    from csp_benchmark import load_targets

    targets = load_targets()
    rows = [json.loads(p.read_text()) for p in sorted((RESULTS / "csp_runs" / args.run)
                                                        .glob("*.json"))]
    rows = [r for r in rows if "truth" in r and r.get("rank") and r["rank"] > 1]
    head = ["target", "rank", "rank 1: space group (atoms)", "rank 1 E (eV/atom)",
            "match: space group (atoms)", "match E", "truth E, converged",
            "truth − rank 1 (meV/atom)", "match − truth (meV/atom)"]
    if args.polish:
        head += [f"rank after polishing the top {args.polish}", "polish s"]
    lines = [f"`python benchmarks/csp_rank_diagnosis.py {' '.join(sys.argv[1:])}`", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [diagnosis_row(r, args, targets) for r in rows]
    above = sum(r["truth"]["energy_per_atom_converged"] > r["top"][0]["energy_per_atom"]
                for r in rows)
    lines += ["", f"{above} of {len(rows)} targets not at rank 1: CHGNet puts the rank-1 "
              "crystal below the fully relaxed truth (truth − rank 1 > 0)."]
    out = write_result(args.out or f"csp_rank_diagnosis_{args.run}.md", "\n".join(lines))
    print("\n".join(lines[-1:]), f"\nwritten to {out}")


if __name__ == "__main__":
    main()
