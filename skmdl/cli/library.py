"""``skmdl library``: list, search, inspect, verify, build and publish a model library.

Examples
--------
>>> from skmdl.cli import main
>>> main(["library", "search", "--text", "no-such-model"])
(no models)
0
"""

from __future__ import annotations

import json

from ..utils.optional import import_optional
from ._io import InputError, one_line

_LIST_COLUMNS = ["id", "property", "unit", "kind", "n_train", "mae", "r2"]


def add_arguments(lib) -> None:
    libsub = lib.add_subparsers(dest="library_command", required=True, metavar="<subcommand>")

    def sub(name, help, library=True):
        q = libsub.add_parser(name, help=help, description=help)
        if library:
            q.add_argument("--library", default=None,
                           help="library folder or URL (default: the embedded library)")
        return q

    sub("list", "list every model")
    q = sub("search", "models matching every given criterion")
    q.add_argument("--property", help="exact property name")
    q.add_argument("--kind", choices=["inorganic", "structure", "molecule", "polymer"],
                   help="material kind of the model's inputs")
    q.add_argument("--descriptor", help="exact descriptor name, e.g. composition:magpie:all")
    q.add_argument("--task", help="exact training data set")
    q.add_argument("--quantity", help="physical quantity, e.g. 'band gap'")
    q.add_argument("--fidelity", help="how the values were obtained, e.g. 'DFT-PBE(+U), OQMD'")
    q.add_argument("--max-elements", type=int,
                   help="only models trained on compositions of at most this many elements")
    q.add_argument("--min-r2", type=float, help="held-out R2 at least this")
    q.add_argument("--text", help="substring of id, property, task or descriptor")
    q = sub("info", "print a model's card (JSON)")
    q.add_argument("model_id", help="model id, as listed by skmdl library list")
    sub("verify", "re-hash every artifact against the index (exit code 1 if one differs)")
    q = sub("build", "train source models into a library folder (needs SKMDL_DATA; resumable)",
            library=False)
    q.add_argument("--out", required=True, help="library folder to create or complete")
    q.add_argument("--preset", default="default",
                   choices=["default", "extended", "full_v2", "full_v3", "strong"],
                   help="recipe: default = the embedded library's sources (5 models each); "
                        "extended = 50 models per composition property; full_v2 = the "
                        "full-data networks' second recipe (L1, a step budget); full_v3 = "
                        "their third (3 x 256, 75,000 steps); strong = "
                        "full-data networks of the OQMD tasks")
    q.add_argument("--tasks", nargs="*",
                   help="source id prefixes to build (default: all of the preset's)")
    q.add_argument("--n-models", type=int, default=None,
                   help="models per source (default: the preset's)")
    q.add_argument("--n-jobs", type=int, default=1, help="parallel trainings (default: 1)")
    q.add_argument("--dask-scheduler", help="address of a dask.distributed scheduler")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q = sub("compact", "store weight matrices in float16 where predictions change by less "
                       "than the tolerance (rewrites a library folder in place)", library=False)
    q.add_argument("folder", help="library folder (index.json + models/)")
    q.add_argument("--tolerance", type=float, default=None,
                   help="largest allowed change of a prediction in standard deviations of the "
                        "property (default: 1e-3)")
    q = sub("catalogue", "write a browsable HTML catalogue of the library's models")
    q.add_argument("out_dir", help="folder for index.html and its assets")


def _library(args):
    from ..library import ModelLibrary

    return ModelLibrary.default() if args.library is None else ModelLibrary(args.library)


def _print_table(df, columns):
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.width", 200,
                           "display.max_colwidth", 60):
        print(df[columns].to_string(index=False) if len(df) else "(no models)")


def run_list(args) -> int:
    _print_table(_library(args).search(), _LIST_COLUMNS)
    return 0


def run_search(args) -> int:
    df = _library(args).search(property=args.property, kind=args.kind,
                               descriptor=args.descriptor, task=args.task,
                               min_r2=args.min_r2, text=args.text, quantity=args.quantity,
                               fidelity=args.fidelity, max_elements=args.max_elements)
    _print_table(df, _LIST_COLUMNS)
    return 0


def run_info(args) -> int:
    lib = _library(args)
    try:
        card = lib.card(args.model_id)
    except KeyError as exc:
        if args.model_id in lib:  # the id is there: a bug, not the user's input
            raise
        raise InputError(one_line(exc)) from None
    print(json.dumps(card, indent=1, sort_keys=True))
    return 0


def run_verify(args) -> int:
    report = _library(args).verify()
    for row in report.itertuples():
        if not row.ok:
            print(f"FAILED {row.id}: {row.error}")
    print(f"{int(report.ok.sum())} of {len(report)} artifacts verified")
    return 0 if report.ok.all() else 1


def run_build(args) -> int:
    from ..library.recipes import build_default, preset_names

    sources = None
    if args.tasks:
        known = set(preset_names(args.preset))
        unknown = [t for t in args.tasks if t not in known]
        if unknown:
            raise InputError(f"unknown source tasks {unknown} for preset {args.preset!r}; "
                             f"known: {sorted(known)}")
        sources = list(args.tasks)
    client = None
    if args.dask_scheduler:
        distributed = import_optional("dask.distributed", "--dask-scheduler")
        client = distributed.Client(args.dask_scheduler)
    result = build_default(args.out, n_models=args.n_models, n_jobs=args.n_jobs,
                           client=client, progress=not args.quiet, sources=sources,
                           preset=args.preset)
    print(f"trained {len(result['trained'])} models, skipped {len(result['skipped'])} "
          f"already present, in {result['seconds']:.0f} s -> {args.out}")
    return 0


def run_compact(args) -> int:
    from ..library.artifact import FLOAT16_TOLERANCE, ArtifactIntegrityError
    from ..library.compact import compact_library

    tolerance = FLOAT16_TOLERANCE if args.tolerance is None else args.tolerance
    try:
        report = compact_library(args.folder, tolerance)
    except ArtifactIntegrityError as exc:
        raise InputError(one_line(exc)) from None
    half = int((report.weights == "float16").sum())
    mb = report.bytes_before.sum() / 1e6, report.bytes_after.sum() / 1e6
    print(f"{half} of {len(report)} models in float16 (largest change "
          f"{report.float16_change.max():.2g} std; tolerance {tolerance:g}); weights "
          f"{mb[0]:.1f} MB -> {mb[1]:.1f} MB")
    return 0


def run_catalogue(args) -> int:
    try:  # written separately; imported only when asked for
        from ..library.catalogue import write_catalogue
    except ModuleNotFoundError as exc:
        if exc.name != "skmdl.library.catalogue":
            raise
        raise InputError("this installation of skmdl has no catalogue writer "
                         "(skmdl.library.catalogue)") from None
    path = write_catalogue(_library(args), args.out_dir)
    print(f"wrote {path}")
    return 0
