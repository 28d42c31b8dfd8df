"""The ``skmdl`` command line."""

from __future__ import annotations

import argparse
import sys


def _cmd_demo(args) -> int:
    from .demo import run

    run(n_jobs=args.n_jobs)
    return 0


def _cmd_featurize(args) -> int:
    import os
    import tempfile

    import pandas as pd

    from .descriptors import CompositionFeaturizer

    df = pd.read_csv(args.input, dtype={args.column: str}, keep_default_na=False)
    if args.column not in df.columns:
        raise ValueError(f"{args.input}: no column {args.column!r} (columns: {list(df.columns)})")
    f = CompositionFeaturizer(
        elements=args.elements,
        stats=args.stats,
        stoichiometry=args.stoichiometry,
        element_fractions=args.element_fractions,
        errors=args.errors,
        n_jobs=args.n_jobs,
    ).set_output(transform="pandas")
    out = f.fit_transform(df[args.column])
    out.insert(0, args.column, df[args.column].to_numpy())
    # write atomically: no half-written output on failure
    folder = os.path.dirname(os.path.abspath(args.output))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(fd)
    try:
        out.to_csv(tmp, index=False)
        os.replace(tmp, args.output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {len(out)} rows x {out.shape[1] - 1} features to {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skmdl", description="Transfer learning for materials science."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="run the descriptor + model demo on bundled data")
    p.add_argument("--n-jobs", type=int, default=-1, help="parallel jobs (default: all cores)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("featurize", help="composition descriptors of a CSV column of formulas")
    p.add_argument("input", help="input CSV with a column of formulas")
    p.add_argument("output", help="output CSV (formula column + features)")
    p.add_argument("--column", default="formula", help="formula column (default: formula)")
    p.add_argument("--elements", default="magpie",
                   choices=["magpie", "oliynyk", "jarvis", "mat2vec", "skipatom"])
    p.add_argument("--stats", default="magpie", choices=["magpie", "xenonpy", "all"])
    p.add_argument("--stoichiometry", action="store_true", help="add stoichiometry p-norms")
    p.add_argument("--element-fractions", action="store_true", help="add element fractions")
    p.add_argument("--errors", default="raise", choices=["raise", "nan"])
    p.add_argument("--n-jobs", type=int, default=None)
    p.set_defaults(func=_cmd_featurize)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"skmdl {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
