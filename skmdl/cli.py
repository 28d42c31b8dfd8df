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


def _library(args):
    from .library import ModelLibrary

    return ModelLibrary.default() if args.library is None else ModelLibrary(args.library)


def _print_table(df, columns):
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.width", 200,
                           "display.max_colwidth", 60):
        print(df[columns].to_string(index=False) if len(df) else "(no models)")


_LIST_COLUMNS = ["id", "property", "unit", "kind", "n_train", "mae", "r2"]


def _cmd_library_list(args) -> int:
    _print_table(_library(args).search(), _LIST_COLUMNS)
    return 0


def _cmd_library_search(args) -> int:
    df = _library(args).search(property=args.property, kind=args.kind,
                               descriptor=args.descriptor, task=args.task,
                               min_r2=args.min_r2, text=args.text)
    _print_table(df, _LIST_COLUMNS)
    return 0


def _cmd_library_info(args) -> int:
    import json

    print(json.dumps(_library(args).card(args.model_id), indent=1, sort_keys=True))
    return 0


def _cmd_library_verify(args) -> int:
    report = _library(args).verify()
    for row in report.itertuples():
        if not row.ok:
            print(f"FAILED {row.id}: {row.error}")
    print(f"{int(report.ok.sum())} of {len(report)} artifacts verified")
    return 0 if report.ok.all() else 1


def _cmd_library_build(args) -> int:
    from .library.recipes import DEFAULT_SOURCES, build_default

    sources = DEFAULT_SOURCES
    if args.tasks:
        known = {s.task: s for s in DEFAULT_SOURCES}
        unknown = [t for t in args.tasks if t not in known]
        if unknown:
            raise ValueError(f"unknown source tasks {unknown}; known: {sorted(known)}")
        sources = [known[t] for t in args.tasks]
    client = None
    if args.dask_scheduler:
        from dask.distributed import Client

        client = Client(args.dask_scheduler)
    result = build_default(args.out, n_models=args.n_models, n_jobs=args.n_jobs,
                           client=client, progress=not args.quiet, sources=sources)
    print(f"trained {len(result['trained'])} models, skipped {len(result['skipped'])} "
          f"already present, in {result['seconds']:.0f} s -> {args.out}")
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

    lib = sub.add_parser("library", help="the model library: build, list, search, info, verify")
    libsub = lib.add_subparsers(dest="library_command", required=True)

    def lib_cmd(name, func, help):
        q = libsub.add_parser(name, help=help)
        q.add_argument("--library", default=None,
                       help="library folder or URL (default: the embedded library)")
        q.set_defaults(func=func)
        return q

    lib_cmd("list", _cmd_library_list, "list every model")
    q = lib_cmd("search", _cmd_library_search, "models matching the criteria")
    q.add_argument("--property")
    q.add_argument("--kind", choices=["inorganic", "structure", "molecule", "polymer"])
    q.add_argument("--descriptor")
    q.add_argument("--task")
    q.add_argument("--min-r2", type=float)
    q.add_argument("--text", help="substring of id, property, task or descriptor")
    q = lib_cmd("info", _cmd_library_info, "print a model's card")
    q.add_argument("model_id")
    lib_cmd("verify", _cmd_library_verify, "re-hash every artifact against the index")
    q = libsub.add_parser("build", help="train source models into a library folder "
                          "(needs SKMDL_DATA; resumable)")
    q.add_argument("--out", required=True, help="library folder to create or complete")
    q.add_argument("--tasks", nargs="*", help="source tasks (default: the default recipe's)")
    q.add_argument("--n-models", type=int, default=5, help="models per task")
    q.add_argument("--n-jobs", type=int, default=1)
    q.add_argument("--dask-scheduler", help="address of a dask.distributed scheduler")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=_cmd_library_build)
    return parser


def main(argv=None) -> int:
    from .library.artifact import ArtifactIntegrityError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, KeyError, ArtifactIntegrityError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"skmdl {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
