"""The ``skmdl`` command line.

Commands: ``demo``, ``featurize`` (descriptors of a table column),
``fit`` / ``predict`` (a transfer ensemble saved as safetensors + JSON),
``csp`` (crystal structure prediction) and ``library`` (list, search, info,
verify, build, catalogue). Outputs are written atomically; bad input ends a
command with exit code 2 and one line ``skmdl <command>: error: ...`` on
stderr (see :mod:`skmdl.cli._io`).
"""

from __future__ import annotations

import argparse
import sys
import warnings

from ._io import InputError, one_line

#: exit code of a command stopped by bad input (argparse uses 2 for bad arguments too)
EXIT_INPUT_ERROR = 2


def _cmd_demo(args) -> int:
    from ..demo import run

    run(n_jobs=args.n_jobs)
    return 0


def _cmd_featurize(args) -> int:
    from .featurize import run

    return run(args)


def _cmd_fit(args) -> int:
    from .model import run_fit

    return run_fit(args)


def _cmd_predict(args) -> int:
    from .model import run_predict

    return run_predict(args)


def _cmd_csp(args) -> int:
    from .csp import run

    return run(args)


def _cmd_library(args) -> int:
    from . import library

    return getattr(library, f"run_{args.library_command}")(args)


def build_parser() -> argparse.ArgumentParser:
    from . import csp, featurize, library, model

    parser = argparse.ArgumentParser(
        prog="skmdl", description="Transfer learning for materials science.",
        epilog="Run 'skmdl <command> --help' for a command's options.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    def command(name, func, help, description=None):
        p = sub.add_parser(name, help=help, description=description or help)
        p.set_defaults(func=func)
        return p

    p = command("demo", _cmd_demo, "run the descriptor + model demo on bundled data")
    p.add_argument("--n-jobs", type=int, default=-1, help="parallel jobs (default: all cores)")

    featurize.add_arguments(command(
        "featurize", _cmd_featurize, "descriptors of a table column of formulas, crystal "
        "structures or SMILES, written as CSV or Parquet"))
    model.add_fit_arguments(command(
        "fit", _cmd_fit, "fit a transfer model on a table and save it (safetensors + JSON)",
        "Screen the library's source models on the training table, keep the best "
        "--n-sources, fit one ensemble member per source and save the ensemble as a "
        "folder of safetensors weights and JSON cards with sha256 checksums (never "
        "pickle). Regression only."))
    model.add_predict_arguments(command(
        "predict", _cmd_predict, "predict with a model folder written by skmdl fit",
        "Verify every file of the model folder against its sha256 checksums, then write "
        "the ensemble mean, its spread and calibrated intervals for each row."))
    csp.add_arguments(command(
        "csp", _cmd_csp, "predict crystal structures of formulas (ShotgunCSP)",
        "Generate candidate crystals from templates (element substitution) and symmetric "
        "random crystals, rank them by CHGNet energy, relax the best, and write the "
        "ranked structures as CIF files with a ranking table."))
    library.add_arguments(command(
        "library", _cmd_library, "the model library: list, search, info, verify, build, "
        "catalogue"))
    return parser


def _command_name(args) -> str:
    sub = getattr(args, "library_command", None)
    return f"{args.command} {sub}" if args.command == "library" and sub else args.command


def _print_warnings(caught, name, limit=5) -> None:
    """Warnings of a successful run, one line each (duplicates and deprecations dropped)."""
    seen = []
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning)):
            continue
        text = one_line(w.message)
        if text not in seen:
            seen.append(text)
    for text in seen[:limit]:
        print(f"skmdl {name}: warning: {text}", file=sys.stderr)
    if len(seen) > limit:
        print(f"skmdl {name}: warning: ... and {len(seen) - limit} more", file=sys.stderr)


def _is_input_error(exc) -> bool:
    """Errors that report bad input (files, values, model folders), not bugs."""
    types = (InputError, ValueError, OSError, KeyError, ImportError)
    # checked only once loaded: importing it would import torch for every command
    artifact = sys.modules.get("skmdl.library.artifact")
    if artifact is not None:
        types += (artifact.ArtifactIntegrityError,)
    return isinstance(exc, types)


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 on success, 2 on bad input)."""
    args = build_parser().parse_args(argv)
    name = _command_name(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            code = args.func(args)
        except Exception as exc:  # bad input: one line; anything else is re-raised
            if not _is_input_error(exc):
                raise
            print(f"skmdl {name}: error: {one_line(exc)}", file=sys.stderr)
            return EXIT_INPUT_ERROR
    _print_warnings(caught, name)
    return code
