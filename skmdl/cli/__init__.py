"""The ``skmdl`` command line.

Commands: ``demo``, ``featurize`` (descriptors of a table column),
``fit`` / ``predict`` (a transfer regressor or classifier, saved as data:
skops + safetensors, checksummed),
``csp`` (crystal structure prediction) and ``library`` (list, search, info,
verify, build, catalogue). Outputs are written atomically; bad input ends a
command with exit code 2 and one line ``skmdl <command>: error: ...`` on
stderr (see :func:`main`); any other exception is a bug and shows its
traceback.

Examples
--------
>>> from skmdl.cli import main
>>> main(["library", "info", "no-such-model"])  # doctest: +SKIP
skmdl library info: error: no model 'no-such-model' in ModelLibrary(...)
2
>>> build_parser().parse_args(["featurize", "in.csv", "out.csv"]).featurizer
'composition'

"""

from __future__ import annotations

import argparse
import sys
import warnings

from ..exceptions import InvalidInputError, UnknownModelError
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

    p = command("demo", _cmd_demo, "direct vs transfer on the bundled experimental band gaps")
    p.add_argument("--n-jobs", type=int, default=-1, help="parallel jobs (default: all cores)")

    featurize.add_arguments(command(
        "featurize", _cmd_featurize, "descriptors of a table column of formulas, crystal "
        "structures or SMILES, written as CSV or Parquet"))
    model.add_fit_arguments(command(
        "fit", _cmd_fit, "fit a transfer model on a table and save it (skops + safetensors)",
        "Fit TransferRegressor (--task classification: TransferClassifier) with its "
        "defaults and only the options given changed: screen the library's source models "
        "on the training table, keep the best --n-sources, fit one head per kept source. "
        "Save the fitted estimator as a folder of data, never pickle: the estimator as "
        "skops (trusted types only), its networks as safetensors weights with JSON cards, "
        "and the sha256 of every file."))
    model.add_predict_arguments(command(
        "predict", _cmd_predict, "predict with a model folder written by skmdl fit",
        "Verify every file of the model folder against its sha256 checksums, load only "
        "trusted types, then write the fitted estimator's predictions for each row: the "
        "ensemble mean, its spread and calibrated intervals (classification: the class "
        "and its probabilities)."))
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


#: input errors of modules the command line does not import itself (importing
#: skmdl.library.artifact would import torch for every command): (module, class)
_LAZY_INPUT_ERRORS = (
    ("skmdl.library.artifact", "ArtifactIntegrityError"),  # a corrupt library or model folder
    ("sklearn.utils._param_validation", "InvalidParameterError"),  # an option's value refused
    ("skmdl.csp.inputs", "NoCandidatesError"),  # a formula no generator can build
)


def is_input_error(exc) -> bool:
    """Whether ``exc`` reports bad input, which ends a command with one line and exit code 2.

    Input errors are the command line's :class:`~skmdl.cli._io.InputError`, a bad
    input item (:class:`~skmdl.exceptions.InvalidInputError`, e.g. a formula),
    an unknown model id (:class:`~skmdl.exceptions.UnknownModelError`), file
    system errors (``OSError``: a missing file, a folder without write
    permission), a missing optional package, a corrupt library or model folder,
    and an option value an estimator's parameter validation refuses. Anything
    else (a ``KeyError``, ``TypeError`` or plain ``ValueError`` from skmdl's own
    code) is a bug: its traceback is shown.
    """
    if isinstance(exc, (InputError, InvalidInputError, UnknownModelError, OSError)):
        return True
    if isinstance(exc, ImportError):
        return _is_missing_package(exc)
    for module, name in _LAZY_INPUT_ERRORS:
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and isinstance(exc, cls):
            return True
    return False


def _is_missing_package(exc) -> bool:
    """A third-party package that is not installed (not a broken import inside skmdl)."""
    from ..utils.optional import EXTRAS

    top = (exc.name or "").split(".")[0]
    if isinstance(exc, ModuleNotFoundError):
        return bool(top) and top != "skmdl"
    return top in EXTRAS  # import_optional's ImportError naming the extra to install


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 on success, 2 on bad input)."""
    args = build_parser().parse_args(argv)
    name = _command_name(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            code = args.func(args)
        except Exception as exc:  # bad input: one line; anything else is re-raised
            if not is_input_error(exc):
                raise
            print(f"skmdl {name}: error: {one_line(exc)}", file=sys.stderr)
            return EXIT_INPUT_ERROR
    _print_warnings(caught, name)
    return code
