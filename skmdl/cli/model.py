"""``skmdl fit`` and ``skmdl predict``: a transfer ensemble trained on a table, saved as
safetensors + JSON (:mod:`skmdl.transfer.saving`), and applied to new rows."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._io import (InputError, check_output_file, check_output_folder, column,
                  in_chunks, progress, read_table, write_table)

#: rows per progress step of ``predict``
PREDICT_CHUNK = 10_000
MIN_ROWS = 10


def add_fit_arguments(p) -> None:
    p.add_argument("data", help="training table (.csv or .parquet): an input column and a "
                   "numeric target column")
    p.add_argument("--target", required=True, help="target column (numbers; regression "
                   "only: classification is not supported by the command line)")
    p.add_argument("--out", required=True, help="model folder to create")
    p.add_argument("--column", help="input column (default: formula for --kind inorganic, "
                   "smiles for molecule and polymer)")
    p.add_argument("--kind", default="inorganic", choices=["inorganic", "molecule", "polymer"],
                   help="material kind: which source models are candidates (default: inorganic)")
    p.add_argument("--n-sources", type=int, default=5,
                   help="best screened source models kept, one ensemble member each (default: 5)")
    p.add_argument("--mode", default="frozen", choices=["frozen", "finetune"],
                   help="frozen: ridge regression on each source's last hidden layer "
                   "(default); finetune: each source network trained on the target")
    p.add_argument("--sources", nargs="+", metavar="MODEL_ID",
                   help="candidate source model ids (default: every model of --kind)")
    p.add_argument("--exclude-tasks", nargs="+", default=(), metavar="TASK",
                   help="source models trained on these data sets are not candidates")
    p.add_argument("--library", help="source model library folder or URL (default: the "
                   "embedded library)")
    p.add_argument("--max-epochs", type=int, help="finetune: epoch cap (default: 300)")
    p.add_argument("--cv", type=int, default=5,
                   help="folds of the cross-validation that measures the ensemble's MAE for "
                   "the model card (default: 5; 0 skips it)")
    p.add_argument("--unit", help="unit of the target, recorded in the model card")
    p.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--n-jobs", type=int, default=None, help="parallel jobs (default: 1)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_predict_arguments(p) -> None:
    p.add_argument("model", help="model folder written by skmdl fit")
    p.add_argument("data", help="table (.csv or .parquet) with the model's input column")
    p.add_argument("--out", required=True, help="output table, .csv or .parquet: the input "
                   "columns, then <target>_pred, <target>_std (spread of the ensemble) and "
                   "the interval bounds <target>_lo<level>, <target>_hi<level>")
    p.add_argument("--column", help="input column (default: the one the model was fitted on)")
    p.add_argument("--alpha", type=float, default=0.1,
                   help="intervals of coverage 1 - alpha (default: 0.1, 90%% intervals)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def numeric_target(values, name, path) -> np.ndarray:
    """The target column as floats; an error names the first bad or missing cell."""
    import pandas as pd

    y = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        i = int(bad[0])
        raw = values[i]
        what = "is missing" if (raw is None or str(raw).strip() == "" or
                                (isinstance(raw, float) and np.isnan(raw))) \
            else f"is not a finite number: {raw!r}"
        more = f"; {len(bad)} such rows" if len(bad) > 1 else ""
        hint = "" if "missing" in what else "; classification is not supported"
        raise InputError(f"{path}: target column {name!r} {what} (row {i}{more}{hint})")
    return y


def _library_record(library) -> dict:
    from .. import __version__
    from ..library.artifact import sha256_file
    from ..transfer.featurizer import resolve_library

    lib = resolve_library(library)
    if lib.remote:
        return {"root": str(lib.root), "index_sha256": lib.index_sha256,
                "skmdl_version": __version__}
    return {"root": "embedded default library" if library is None else str(lib.root),
            "index_sha256": sha256_file(Path(lib.root) / "index.json"),
            "n_models": len(lib), "skmdl_version": __version__}


def run_fit(args) -> int:
    import pandas as pd
    from sklearn.base import clone
    from sklearn.metrics import mean_absolute_error, r2_score
    from sklearn.model_selection import KFold, cross_val_predict

    from ..library.artifact import sha256_file
    from ..transfer.saving import exportable_regressor, save_transfer_model

    check_output_folder(args.out, args.overwrite)
    if args.n_sources < 1:
        raise InputError("--n-sources must be at least 1")
    if args.cv == 1 or args.cv < 0:
        raise InputError("--cv must be 0 (skip) or at least 2")
    if args.max_epochs is not None and args.mode != "finetune":
        raise InputError("--max-epochs applies to --mode finetune only")
    name = args.column or ("formula" if args.kind == "inorganic" else "smiles")
    df = read_table(args.data)
    X = pd.Series(column(df, name, args.data), dtype=object)
    y = numeric_target(column(df, args.target, args.data), args.target, args.data)
    if len(y) < MIN_ROWS:
        raise InputError(f"{args.data}: {len(y)} rows; fit needs at least {MIN_ROWS}")
    model = exportable_regressor(
        sources=list(args.sources) if args.sources else "auto", library=args.library,
        n_sources=args.n_sources, kind=args.kind, exclude_tasks=list(args.exclude_tasks),
        mode=args.mode, n_jobs=args.n_jobs, random_state=args.random_state,
        finetune_params=None if args.max_epochs is None else {"max_epochs": args.max_epochs})
    stages = 2 + (args.cv > 0)
    with progress(args.quiet, total=stages, desc="fit", unit="step") as bar:
        bar.set_postfix_str("screening sources, fitting the ensemble")
        model.fit(X, y)
        bar.update()
        metrics = {}
        if args.cv:
            bar.set_postfix_str(f"{args.cv}-fold cross-validation")
            refit = clone(model).set_params(sources=list(model.sources_), calibration_cv=None,
                                            n_sources=len(model.sources_))
            cv = KFold(min(args.cv, len(y)), shuffle=True, random_state=args.random_state)
            pred = cross_val_predict(refit, X, y, cv=cv)
            metrics = {"cv_mae": float(mean_absolute_error(y, pred)),
                       "cv_r2": float(r2_score(y, pred)), "cv_folds": cv.n_splits,
                       "cv_note": "sources screened on all rows, ensemble refitted per fold"}
            bar.update()
        screening = model.screening_.head(max(10, args.n_sources))
        card = {
            "target": args.target,
            "unit": args.unit,
            "column": name,
            "task": "regression",
            "training_data": {"name": os.path.basename(args.data),
                              "sha256": sha256_file(args.data), "n_rows": len(y)},
            "sources": list(model.sources_),
            "screening": {"metric": "inner-CV MAE of a ridge regression on the source's "
                          "last hidden layer", "candidates": len(model.screening_),
                          "best": screening.to_dict("records")},
            "metrics": metrics,
            "parameters": {"n_sources": args.n_sources, "mode": args.mode,
                           "random_state": args.random_state, "max_epochs": args.max_epochs,
                           "exclude_tasks": list(args.exclude_tasks)},
            "source_library": _library_record(args.library),
        }
        bar.set_postfix_str("writing")
        # written beside the target and renamed: the folder appears only when complete
        save_transfer_model(model, args.out, card, overwrite=args.overwrite)
        bar.update()
    cv_text = (f"; {metrics['cv_folds']}-fold CV MAE {metrics['cv_mae']:.4g}, "
               f"R2 {metrics['cv_r2']:.3f}" if metrics else "")
    print(f"fitted {args.target} on {len(y)} rows from {len(model.sources_)} of "
          f"{len(model.screening_)} candidate sources ({', '.join(model.sources_)}){cv_text}")
    print(f"wrote {args.out}")
    return 0


def run_predict(args) -> int:
    from ..transfer.saving import load_transfer_model

    if not 0 < args.alpha < 1:
        raise InputError(f"--alpha must be in (0, 1), got {args.alpha}")
    check_output_file(args.out)
    model = load_transfer_model(args.model)
    target = model.card.get("target", "y")
    name = args.column or model.card.get("column", "formula")
    df = read_table(args.data)
    X = column(df, name, args.data)
    level = f"{100 * (1 - args.alpha):g}"
    cols = [f"{target}_pred", f"{target}_std"]
    if model.calibration is not None:
        cols += [f"{target}_lo{level}", f"{target}_hi{level}"]
    clash = [c for c in cols if c in df.columns]
    if clash:
        raise InputError(f"{args.data}: already has the output column(s) {clash}")

    def chunk(items):
        mean, std = model.predict(items, return_std=True)
        if model.calibration is None:
            return np.column_stack([mean, std])
        interval = model.predict_interval(items, args.alpha, mean_std=(mean, std))
        return np.column_stack([mean, std, interval])

    with progress(args.quiet, total=len(X), desc="predict", unit="row") as bar:
        P = in_chunks(chunk, X, PREDICT_CHUNK, bar)
    out = df.copy()
    for j, c in enumerate(cols):
        out[c] = P[:, j]
    write_table(out, args.out)
    note = "" if model.calibration is not None else " (no intervals: model not calibrated)"
    print(f"wrote {len(out)} predictions of {target} to {args.out}{note}")
    return 0
