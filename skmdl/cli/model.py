"""``skmdl fit`` and ``skmdl predict``: a transfer model trained on a table, saved as safe
files (:mod:`skmdl.transfer.saving`: skops + safetensors + JSON), and applied to new rows.

``skmdl fit`` fits the estimator ``TransferRegressor()`` (``TransferClassifier()`` with
``--task classification``) with only the options given changed, so the saved model is the
one the Python API fits; ``skmdl predict`` loads it back and predicts exactly as it does.
"""

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
                   "target column")
    p.add_argument("--target", required=True, help="target column (numbers for regression, "
                   "class labels for --task classification)")
    p.add_argument("--out", required=True, help="model folder to create")
    p.add_argument("--task", default="regression", choices=["regression", "classification"],
                   help="regression (TransferRegressor, default) or classification "
                   "(TransferClassifier)")
    p.add_argument("--column", help="input column (default: formula for --kind inorganic, "
                   "smiles for molecule and polymer)")
    p.add_argument("--kind", default="inorganic", choices=["inorganic", "molecule", "polymer"],
                   help="material kind: which source models are candidates (default: inorganic)")
    p.add_argument("--n-sources", type=int, default=5,
                   help="best screened source models shortlisted, one candidate member each; "
                   "inner CV keeps the members no worse than the direct model (default: 5)")
    p.add_argument("--combine", choices=["greedy", "best", "mean"],
                   help="how members are weighed: greedy (default: ensemble selection over "
                   "members no worse than direct), best (one member), mean (all equally)")
    p.add_argument("--quantity", help="physical quantity of the target (e.g. 'band gap'): "
                   "sources predicting it give multi-fidelity members (regression)")
    p.add_argument("--mode", default="frozen", choices=["frozen", "finetune"],
                   help="frozen (default): TransferRegressor's default head (extra trees) on "
                   "each source's descriptors and last hidden layer; finetune: each source "
                   "network trained on the target (regression only)")
    p.add_argument("--sources", nargs="+", metavar="MODEL_ID",
                   help="candidate source model ids (default: every model of --kind)")
    p.add_argument("--exclude-tasks", nargs="+", default=(), metavar="TASK",
                   help="source models trained on these data sets are not candidates")
    p.add_argument("--library", help="source model library folder or URL (default: the "
                   "embedded library)")
    p.add_argument("--max-epochs", type=int, help="finetune: epoch cap (default: 300)")
    p.add_argument("--cv", type=int, default=5,
                   help="folds of the cross-validation that measures the model for the model "
                   "card (default: 5; 0 skips it)")
    p.add_argument("--unit", help="unit of the target, recorded in the model card")
    p.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--n-jobs", type=int, default=None, help="parallel jobs (default: 1)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_predict_arguments(p) -> None:
    p.add_argument("model", help="model folder written by skmdl fit")
    p.add_argument("data", help="table (.csv or .parquet) with the model's input column")
    p.add_argument("--out", required=True, help="output table, .csv or .parquet: the input "
                   "columns, then <target>_pred, for regression <target>_std (spread of the "
                   "ensemble) and the interval bounds <target>_lo<level>, <target>_hi<level>, "
                   "for classification <target>_proba_<class> per class")
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
        hint = "" if "missing" in what else "; for class labels use --task classification"
        raise InputError(f"{path}: target column {name!r} {what} (row {i}{more}{hint})")
    return y


def label_target(values, name, path) -> np.ndarray:
    """The target column as class labels (text); an error names the first missing cell."""
    labels = np.asarray(["" if v is None else str(v) for v in values], dtype=object)
    missing = np.flatnonzero([s.strip() == "" or s.lower() == "nan" for s in labels])
    if len(missing):
        more = f"; {len(missing)} such rows" if len(missing) > 1 else ""
        raise InputError(f"{path}: target column {name!r} is missing (row {missing[0]}{more})")
    if len(set(labels)) < 2:
        raise InputError(f"{path}: target column {name!r} has one class only")
    return labels


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


# ------------------------------------------------------------------ fit, step by step

def _check_fit_arguments(args) -> None:
    check_output_folder(args.out, args.overwrite)
    if args.n_sources < 1:
        raise InputError("--n-sources must be at least 1")
    if args.cv == 1 or args.cv < 0:
        raise InputError("--cv must be 0 (skip) or at least 2")
    if args.max_epochs is not None and args.mode != "finetune":
        raise InputError("--max-epochs applies to --mode finetune only")
    if args.task == "classification" and args.mode == "finetune":
        raise InputError("--mode finetune applies to --task regression only")


def _input_column(args) -> str:
    return args.column or ("formula" if args.kind == "inorganic" else "smiles")


def _read_training_table(args):
    """``(X, y)``: the input column as a Series of items, the target as floats or labels."""
    import pandas as pd

    df = read_table(args.data)
    X = pd.Series(column(df, _input_column(args), args.data), dtype=object)
    values = column(df, args.target, args.data)
    if args.task == "classification":
        y = label_target(values, args.target, args.data)
    else:
        y = numeric_target(values, args.target, args.data)
    if len(y) < MIN_ROWS:
        raise InputError(f"{args.data}: {len(y)} rows; fit needs at least {MIN_ROWS}")
    return X, y


def make_estimator(args):
    """``TransferRegressor()`` (or ``TransferClassifier()``) with the options given set.

    Every parameter the command line does not set keeps the Python API's
    default (head, descriptors, layers, screening, calibration), so
    ``skmdl fit`` and ``TransferRegressor(random_state=0).fit`` give the same
    model.

    Examples
    --------
    >>> import argparse
    >>> from skmdl.transfer import TransferRegressor
    >>> p = argparse.ArgumentParser()
    >>> add_fit_arguments(p)
    >>> args = p.parse_args(["data.csv", "--target", "y", "--out", "model"])
    >>> est, api = make_estimator(args), TransferRegressor(random_state=0)
    >>> [k for k, v in est.get_params().items() if v != api.get_params()[k]]  # () vs []
    ['exclude_tasks']
    """
    from ..transfer import TransferClassifier, TransferRegressor

    params = dict(sources=list(args.sources) if args.sources else "auto", library=args.library,
                  n_sources=args.n_sources, kind=args.kind,
                  exclude_tasks=list(args.exclude_tasks), n_jobs=args.n_jobs,
                  random_state=args.random_state)
    if args.combine:
        params["combine"] = args.combine
    if args.task == "classification":
        return TransferClassifier(**params)
    if args.quantity:
        params["quantity"] = args.quantity
    if args.mode != "frozen":
        params["mode"] = args.mode
    if args.max_epochs is not None:
        params["finetune_params"] = {"max_epochs": args.max_epochs}
    return TransferRegressor(**params)


def _cross_validate(model, X, y, args) -> dict:
    """The card's metrics: the kept sources' ensemble refitted on each of ``args.cv`` folds."""
    from sklearn.base import clone
    from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    refit = clone(model).set_params(sources=list(model.sources_), n_sources=len(model.sources_))
    note = "sources screened on all rows, members weighed and refitted per fold"
    if args.task == "classification":
        smallest = int(np.unique(y, return_counts=True)[1].min())
        cv = StratifiedKFold(max(2, min(args.cv, smallest)), shuffle=True,
                             random_state=args.random_state)
        pred = cross_val_predict(refit, X, y, cv=cv)
        return {"cv_accuracy": float(accuracy_score(y, pred)), "cv_folds": cv.n_splits,
                "cv_note": note}
    cv = KFold(min(args.cv, len(y)), shuffle=True, random_state=args.random_state)
    pred = cross_val_predict(refit, X, y, cv=cv)
    return {"cv_mae": float(mean_absolute_error(y, pred)), "cv_r2": float(r2_score(y, pred)),
            "cv_folds": cv.n_splits, "cv_note": note}


def _model_card(model, y, metrics, args) -> dict:
    import json

    from ..library.artifact import sha256_file

    screening = model.screening_.head(max(10, args.n_sources))
    metric = ("inner-CV MAE of a ridge regression" if args.task == "regression"
              else "inner-CV log-loss of a logistic regression")
    card = {
        "target": args.target,
        "unit": args.unit,
        "column": _input_column(args),
        "kind": args.kind,
        "task": args.task,
        "training_data": {"name": os.path.basename(args.data),
                          "sha256": sha256_file(args.data), "n_rows": len(y)},
        "sources": list(model.sources_),
        "networks": list(model.source_models_.ids),
        "members": json.loads(model.members_.to_json(orient="records")),
        "screening": {"metric": f"{metric} on the source's last hidden layer",
                      "candidates": len(model.screening_),
                      "best": json.loads(screening.to_json(orient="records"))},
        "metrics": metrics,
        "parameters": {"n_sources": args.n_sources, "mode": args.mode,
                       "quantity": args.quantity, "combine": args.combine,
                       "random_state": args.random_state, "max_epochs": args.max_epochs,
                       "exclude_tasks": list(args.exclude_tasks),
                       "estimator": type(model).__name__,
                       "head": "default" if model.head is None else repr(model.head)},
        "source_library": _library_record(args.library),
    }
    if args.task == "classification":
        card["classes"] = [str(c) for c in model.classes_]
    return card


def run_fit(args) -> int:
    """``skmdl fit``: check the options, read the table, fit, cross-validate, save.

    Steps: :func:`_check_fit_arguments`, :func:`_read_training_table`,
    :func:`make_estimator` and its ``fit``, :func:`_cross_validate` (``--cv``
    folds, for the card only), :func:`_model_card`, then
    :func:`~skmdl.transfer.saving.save_model` (the folder appears only when complete).
    """
    from ..transfer.saving import save_model

    _check_fit_arguments(args)
    X, y = _read_training_table(args)
    model = make_estimator(args)
    with progress(args.quiet, total=2 + (args.cv > 0), desc="fit", unit="step") as bar:
        bar.set_postfix_str("screening sources, fitting the ensemble")
        model.fit(X, y)
        bar.update()
        metrics = {}
        if args.cv:
            bar.set_postfix_str(f"{args.cv}-fold cross-validation")
            metrics = _cross_validate(model, X, y, args)
            bar.update()
        bar.set_postfix_str("writing")
        save_model(model, args.out, _model_card(model, y, metrics, args),
                   overwrite=args.overwrite)
        bar.update()
    kept = ", ".join(f"{m} ({w:.2f})" for m, w in
                     zip(model.members_["member"][model.members_["weight"] > 0],
                         model.members_["weight"][model.members_["weight"] > 0]))
    print(f"fitted {args.target} on {len(y)} rows, {len(model.screening_)} candidate "
          f"sources screened, {len(model.sources_)} shortlisted; members kept: {kept}"
          f"{_metrics_text(metrics)}")
    print(f"wrote {args.out}")
    return 0


def _metrics_text(metrics) -> str:
    if "cv_mae" in metrics:
        return (f"; {metrics['cv_folds']}-fold CV MAE {metrics['cv_mae']:.4g}, "
                f"R2 {metrics['cv_r2']:.3f}")
    if "cv_accuracy" in metrics:
        return f"; {metrics['cv_folds']}-fold CV accuracy {metrics['cv_accuracy']:.3f}"
    return ""


# ------------------------------------------------------------------ predict

def _gives_probabilities(model) -> bool:
    from sklearn.base import is_classifier

    return is_classifier(model) and hasattr(model, "predict_proba")


def _output_columns(model, target, alpha) -> list:
    """Names of the predicted columns: label and probabilities, or value, spread, interval."""
    from ..transfer import TransferRegressor

    if _gives_probabilities(model):
        return [f"{target}_pred"] + [f"{target}_proba_{c}" for c in model.classes_]
    cols = [f"{target}_pred"]
    if isinstance(model, TransferRegressor):  # an ensemble: its spread
        cols.append(f"{target}_std")
    if getattr(model, "calibration_scores_", None) is not None:
        level = f"{100 * (1 - alpha):g}"
        cols += [f"{target}_lo{level}", f"{target}_hi{level}"]
    return cols


def _predictor(model, n_columns, alpha):
    """``items -> (n, n_columns)`` array of what :func:`_output_columns` names."""
    if _gives_probabilities(model):
        # the columns are numbers: the label column is filled from its index afterwards
        def chunk(items):
            proba = model.predict_proba(items)
            return np.column_stack([np.argmax(proba, axis=1), proba])
        return chunk

    def chunk(items):
        if n_columns == 1:
            return np.asarray(model.predict(items), dtype=float)[:, None]
        mean, std = model.predict(items, return_std=True)
        if n_columns == 2:
            return np.column_stack([mean, std])
        interval = model.interval_from(mean, std, alpha)  # TransferRegressor's own rule
        return np.column_stack([mean, std, interval])
    return chunk


def run_predict(args) -> int:
    """``skmdl predict``: verify and load the model, predict the table in chunks, write it."""
    from ..transfer.saving import load_model

    if not 0 < args.alpha < 1:
        raise InputError(f"--alpha must be in (0, 1), got {args.alpha}")
    check_output_file(args.out)
    model, card = load_model(args.model, return_card=True)
    target = card.get("target", "y")
    df = read_table(args.data)
    X = column(df, args.column or card.get("column", "formula"), args.data)
    cols = _output_columns(model, target, args.alpha)
    clash = [c for c in cols if c in df.columns]
    if clash:
        raise InputError(f"{args.data}: already has the output column(s) {clash}")
    with progress(args.quiet, total=len(X), desc="predict", unit="row") as bar:
        P = in_chunks(_predictor(model, len(cols), args.alpha), X, PREDICT_CHUNK, bar)
    out = df.copy()
    for j, c in enumerate(cols):
        out[c] = P[:, j]
    if _gives_probabilities(model):
        out[cols[0]] = model.classes_[P[:, 0].astype(int)]
    write_table(out, args.out)
    calibrated = getattr(model, "calibration_scores_", "n/a") is not None
    note = "" if calibrated else " (no intervals: model not calibrated)"
    print(f"wrote {len(out)} predictions of {target} to {args.out}{note}")
    return 0
