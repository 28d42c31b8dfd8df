"""CSP ablations side by side: finished csp_benchmark runs against a reference run.

    python benchmarks/csp_ablation.py --reference mp_v5 \
        --runs mp_v5_no_relax:"no pre-relaxation, no relaxation (--no-relax)" \
        [--out csp_ablation_mp.md]

Each run is a folder of per-target JSON files under
``benchmarks/results/csp_runs/`` written by ``csp_benchmark.py`` (one setting
changed per run, everything else the reference's). Per variant, over the
targets both runs finished: success@1 and success@10 by StructureMatcher,
success@10 by either criterion (StructureMatcher or fingerprint), the
template prior's own success@10 (no energy model), the median and largest
minutes per target, and which targets the variant gains or loses at top 10
against the reference. Nothing is recomputed: the table reads what the runs
stored.
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import RESULTS, write_result  # noqa: E402  benchmarks/_results.py


def load_run(name) -> dict:
    """``{target: row}`` of a finished (or partly finished) run."""
    folder = RESULTS / "csp_runs" / name
    rows = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    rows = {row["target"]: row for row in rows}
    if not rows:
        raise SystemExit(f"no finished targets in {folder}")
    return rows


def found(row) -> bool:
    """At top 10 by StructureMatcher."""
    return bool(row["s@10"])


def either(row) -> bool:
    """At top 10 by StructureMatcher or by the fingerprint criterion."""
    return bool(row["s@10"]) or bool(row.get("fp@10"))


def prior_found(row) -> bool:
    """The template prior's own order puts a match in the top 10 (no energy model)."""
    rank = row.get("prior_rank")
    return rank is not None and rank <= 10


def summary(rows, targets) -> dict:
    minutes = [rows[t]["seconds"] / 60 for t in targets]
    return {"s@1": sum(bool(rows[t]["s@1"]) for t in targets),
            "s@10": sum(found(rows[t]) for t in targets),
            "either": sum(either(rows[t]) for t in targets),
            "prior": sum(prior_found(rows[t]) for t in targets),
            "median_min": float(np.median(minutes)), "max_min": float(np.max(minutes))}


def changes(ref, rows, targets) -> str:
    gained = [t for t in targets if found(rows[t]) and not found(ref[t])]
    lost = [t for t in targets if found(ref[t]) and not found(rows[t])]
    rank1 = [t for t in targets if bool(rows[t]["s@1"]) != bool(ref[t]["s@1"])]
    parts = [f"gains {', '.join(gained)}" if gained else "",
             f"loses {', '.join(lost)}" if lost else "",
             f"rank 1 changes: {', '.join(rank1)}" if rank1 else ""]
    return "; ".join(p for p in parts if p) or "same targets"


def parse_variant(text):
    name, _, label = text.partition(":")
    return name, label or name


def table(reference, variants) -> list:
    ref = load_run(reference)
    lines = ["| variant | run | targets | success@1 | success@10 | success@10, either "
             "criterion | prior alone, success@10 | median min | max min | against the "
             "reference at top 10 |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, label in [(reference, "reference (every step on)")] + variants:
        rows = load_run(name)
        targets = sorted(set(rows) & set(ref))
        s = summary(rows, targets)
        note = "–" if name == reference else changes(ref, rows, targets)
        if len(targets) < len(ref):
            r = summary(ref, targets)
            note += (f" (unfinished run: the reference on these {len(targets)} targets has "
                     f"{r['s@1']} / {r['s@10']} / {r['either']})")
        lines.append(f"| {label} | {name} | {len(targets)} | {s['s@1']} | {s['s@10']} | "
                     f"{s['either']} | {s['prior']} | {s['median_min']:.1f} | "
                     f"{s['max_min']:.1f} | {note} |")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", default="mp_v5")
    ap.add_argument("--runs", nargs="+", required=True, metavar="RUN[:LABEL]")
    ap.add_argument("--out", default=None, help="result file name in benchmarks/results/")
    args = ap.parse_args(argv)
    lines = table(args.reference, [parse_variant(v) for v in args.runs])
    text = "\n".join([f"`python {' '.join(shlex.quote(a) for a in sys.argv)}`", ""] + lines)
    text += ("\n\nsuccess@1 / success@10 by StructureMatcher(ltol=0.3, stol=0.5, angle_tol=10); "
             "a variant's figures count the targets both runs finished. Minutes are wall "
             "time per target as each run measured it (other jobs may have shared the "
             "cores).")
    print(text)
    if args.out:
        write_result(args.out, text)


if __name__ == "__main__":
    main()
