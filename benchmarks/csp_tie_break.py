"""Rank-1 tie-break rules tried offline on a finished csp_benchmark run.

    python benchmarks/csp_tie_break.py --run val12_ideal4000 [--out csp_tie_break_val12.md]
    python benchmarks/csp_tie_break.py --run mp_v5 --rule type_count 0.005

Each target's JSON keeps its top 10 (energy, template prior, structure-type
member count, StructureMatcher match). A rule puts first, among the candidates
within delta of the lowest energy, the one with the most type members
(``type_count``) or the best template prior (``prior``; lower is better)
(:func:`skmdl.csp.selection.tie_break_first`). Only rank 1 can change, so
success@10 is the run's own. The rules and how one is chosen were fixed before
the validation results (``benchmarks/results/csp_validation_rule.md``); choose
on a validation run, then apply the chosen one once with ``--rule``.
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

from skmdl.csp.selection import tie_break_first

sys.path.insert(0, str(Path(__file__).parent))
from _results import RESULTS, write_result  # noqa: E402  benchmarks/_results.py

KEYS = {"type_count": True, "prior": False}  # key -> larger is better
DELTAS = (0.002, 0.005, 0.01)


def load_run(name) -> list:
    folder = RESULTS / "csp_runs" / name
    rows = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    if not rows:
        raise SystemExit(f"no finished targets in {folder}")
    missing = [r["target"] for r in rows if "top" not in r]
    if missing:
        raise SystemExit(f"{name}: no stored top candidates for {missing}")
    return rows


def first_is_match(row, key, delta) -> bool:
    """Whether rank 1 matches the truth after the rule (key None: the run's own order)."""
    top = row["top"]
    if not top:
        return False
    if key is None:
        return top[0]["match"]
    order = tie_break_first([c["energy_per_atom"] for c in top], [c.get(key) for c in top],
                            delta, higher=KEYS[key])
    return top[order[0]]["match"]


def rules(args) -> list:
    if args.rule:
        return [(None, 0.0), (args.rule[0], float(args.rule[1]))]
    return [(None, 0.0)] + [(k, d) for k in KEYS for d in DELTAS]


def table(rows, rule_list) -> list:
    base = {r["target"]: first_is_match(r, None, 0.0) for r in rows}
    lines = ["| rule | success@1 | gained | lost | net |", "|---|---:|---|---|---:|"]
    for key, delta in rule_list:
        now = {r["target"]: first_is_match(r, key, delta) for r in rows}
        gained = sorted(t for t in now if now[t] and not base[t])
        lost = sorted(t for t in now if base[t] and not now[t])
        name = "none (CHGNet energy)" if key is None else f"{key}, delta {delta * 1000:g} meV/atom"
        lines.append(f"| {name} | {sum(now.values())} / {len(rows)} | {', '.join(gained)} "
                     f"| {', '.join(lost)} | {len(gained) - len(lost):+d} |")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="run folder under benchmarks/results/csp_runs/")
    ap.add_argument("--rule", nargs=2, metavar=("KEY", "DELTA"),
                    help="apply one rule (key, delta in eV/atom) instead of trying all")
    ap.add_argument("--out", default=None, help="result file name in benchmarks/results/")
    args = ap.parse_args(argv)
    if args.rule and args.rule[0] not in KEYS:
        ap.error(f"KEY must be one of {sorted(KEYS)}")
    rows = load_run(args.run)
    text = "\n".join([f"`python benchmarks/csp_tie_break.py {shlex.join(argv or sys.argv[1:])}`",
                      "", f"run {args.run}: {len(rows)} targets", ""] + table(rows, rules(args)))
    print(text)
    if args.out:
        write_result(args.out, text)


if __name__ == "__main__":
    main()
