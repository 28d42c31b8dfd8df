"""A fitted transfer ensemble saved as safe files: safetensors weights + JSON, never pickle.

Every ensemble member of a :class:`TransferRegressor` whose members are
networks can be written as one source-model artifact:

* ``mode="frozen"`` with a linear head on the last hidden layer only
  (``descriptors="none"``, ``layers=(-1,)``, head a linear model, optionally
  after a ``StandardScaler``): the head folds into a new output layer of the
  source network, ``w / scale`` and ``b - w . mean / scale``;
* ``mode="finetune"``: the fine-tuned network itself.

The saved folder is then a small :class:`~skmdl.library.ModelLibrary` (so
``skmdl library list --library FOLDER`` works on it) plus ``model.json``::

    model.json                    card, sha256 of every file, its own digest
    index.json                    the member library's index
    models/<member>/weights.safetensors
    models/<member>/card.json

:func:`load_transfer_model` checks ``model.json``'s own digest, then every
file's sha256, before a byte of weights is parsed; a change to any file is
refused with :class:`~skmdl.library.ArtifactIntegrityError`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..library.artifact import (ArtifactIntegrityError, _json_default, read_json, sha256_file,
                                write_artifact)
from ..library.library import INDEX, ModelLibrary, index_entry, write_index

MODEL_FILE = "model.json"
MODEL_FORMAT = 1
MODEL_TYPE = "skmdl.transfer.ensemble"


def exportable_regressor(**params):
    """A :class:`TransferRegressor` whose fitted ensemble :func:`save_transfer_model` can write.

    Frozen mode: a ridge regression (``RidgeCV`` on standardized features,
    the model that screens the sources) on the last hidden layer of each kept
    source. Units whose variance on the training data is below ``1e-6``
    (saturated or dead) are left out: standardizing them would blow float32
    rounding up into the folded output layer. ``params`` are any other
    TransferRegressor parameters.

    Examples
    --------
    >>> from skmdl.transfer.saving import exportable_regressor
    >>> model = exportable_regressor(n_sources=3, random_state=0)
    >>> model.descriptors, model.layers
    ('none', (-1,))
    """
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .estimators import TransferRegressor

    if params.get("mode", "frozen") == "frozen":
        params.setdefault("head", make_pipeline(VarianceThreshold(1e-6), StandardScaler(),
                                                RidgeCV(alphas=np.logspace(-3, 3, 13))))
        params.setdefault("descriptors", "none")
        params.setdefault("layers", (-1,))
    return TransferRegressor(**params)


# ------------------------------------------------------------------ members

def _linear_parts(head, n_in):
    """(coef, intercept) of a linear head on the raw ``n_in`` features, its preprocessing
    (an optional ``VarianceThreshold``, then an optional ``StandardScaler``) folded in."""
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [s for _, s in head.steps] if isinstance(head, Pipeline) else [head]
    final, pre = steps[-1], steps[:-1]
    coef, intercept = getattr(final, "coef_", None), getattr(final, "intercept_", None)
    selector = pre.pop(0) if pre and isinstance(pre[0], VarianceThreshold) else None
    scaler = pre.pop(0) if pre and isinstance(pre[0], StandardScaler) else None
    if coef is None or np.ndim(coef) != 1 or pre:
        raise ValueError(
            "only linear heads (a regressor with a 1-d coef_, optionally after a "
            "VarianceThreshold and a StandardScaler) fold into a network; got "
            f"{type(head).__name__}")
    coef = np.asarray(coef, dtype=np.float64)
    intercept = float(np.ravel(intercept)[0])
    if scaler is not None:
        scale = np.ones_like(coef) if scaler.scale_ is None else scaler.scale_
        mean = np.zeros_like(coef) if scaler.mean_ is None else scaler.mean_
        intercept -= float(np.sum(coef * mean / scale))
        coef = coef / scale
    full = np.zeros(n_in)
    full[selector.get_support() if selector is not None else slice(None)] = coef
    return full, intercept


def member_networks(model) -> list:
    """One network (an ``MLP`` in eval mode) per ensemble member of a fitted TransferRegressor.

    Raises
    ------
    ValueError
        The members are not networks (a frozen ensemble with a non-linear head
        or raw descriptors in its design; see :func:`exportable_regressor`).
    """
    import torch

    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "estimators_")
    if model.mode == "finetune":
        return [copy.deepcopy(est.net_.module_).float().eval() for est in model.estimators_]
    if model.descriptors != "none" or list(model._layers) != [-1]:
        raise ValueError("a frozen ensemble folds into networks only with descriptors='none' "
                         "and layers=(-1,) (see exportable_regressor)")
    out = []
    for est, model_id in zip(model.estimators_, model.sources_):
        net = copy.deepcopy(model._models.modules[model_id]).float()
        coef, intercept = _linear_parts(est, net.out.in_features)
        with torch.no_grad():
            net.out = torch.nn.Linear(len(coef), 1)
            net.out.weight.copy_(torch.as_tensor(coef[None, :], dtype=torch.float32))
            net.out.bias.fill_(intercept)
            net.y_mean.zero_()
            net.y_scale.fill_(1.0)
        out.append(net.eval())
    return out


# ------------------------------------------------------------------ model.json

def _digest(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(obj):
    """``obj`` as plain JSON types (numpy scalars and arrays converted, NaN -> None)."""
    text = json.dumps(obj, default=_json_default)
    return json.loads(text, parse_constant=lambda c: None)


def save_transfer_model(model, folder, card: dict | None = None, overwrite=False) -> Path:
    """Write a fitted TransferRegressor as safetensors + JSON (see the module docstring).

    Parameters
    ----------
    model : fitted TransferRegressor
        Frozen with a linear head on the last hidden layer (see
        :func:`exportable_regressor`) or fine-tuned.
    folder : path
        Created (atomically: written beside it, then renamed into place).
    card : dict, optional
        Free-form description merged into the model card (target, training
        data, metrics, ...).
    overwrite : bool, default=False
        Replace an existing folder (otherwise ``FileExistsError``).

    Returns
    -------
    Path of ``model.json``.
    """
    from .. import __version__

    folder = Path(folder)
    if folder.exists() and not overwrite and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{folder} already exists (choose another folder or overwrite)")
    nets = member_networks(model)
    from .featurizer import resolve_library

    lib, source_lib = model._models, resolve_library(model.library)
    screening = model.screening_.set_index("id")[model._screen_column]
    members, rows = [], []
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        for rank, (model_id, net) in enumerate(zip(model.sources_, nets), start=1):
            member_id = f"member{rank}-{model_id}"
            spec = json.loads(lib.spec_of[model_id])
            arch = {"type": "mlp", "n_in": int(net.hidden[0].in_features),
                    "hidden": [int(h.out_features) for h in net.hidden],
                    "activation": type(net.act).__name__.lower(),
                    "dropout": float(net.drop.p), "n_out": 1}
            cv_mae = screening.get(model_id)
            member_card = {
                "id": member_id,
                "property": (card or {}).get("target"),
                "unit": (card or {}).get("unit"),
                "kind": model.kind,
                "descriptor": spec,
                "architecture": arch,
                "training": {
                    "dataset": (card or {}).get("training_data", {}).get("name"),
                    "n_train": (card or {}).get("training_data", {}).get("n_rows"),
                    "source_model": model_id,
                    "source_property": source_lib.card(model_id).get("property"),
                    "transfer_mode": model.mode,
                    "head": ("ridge on the last hidden layer, folded into the output layer"
                             if model.mode == "frozen" else "fine-tuned network"),
                },
                "metrics": {"mae": cv_mae, "split": "inner-cv screening"},
                "n_params": int(sum(p.numel() for p in net.parameters())),
                "skmdl_version": __version__,
            }
            write_artifact(tmp / "models" / member_id, net, _plain(member_card))
            rows.append(index_entry(tmp, f"models/{member_id}"))
            members.append({"id": member_id, "source": model_id, "cv_mae": cv_mae})
        write_index(tmp, rows, name=f"skmdl transfer ensemble: {(card or {}).get('target')}")
        calib = None
        if getattr(model, "calibration_scores_", None) is not None:
            calib = {"scores": np.asarray(model.calibration_scores_, dtype=float).tolist(),
                     "sd_floor": float(model._sd_floor)}
        body = {
            "format": MODEL_FORMAT,
            "type": MODEL_TYPE,
            "card": {**(card or {}), "kind": model.kind, "mode": model.mode,
                     "members": members, "skmdl_version": __version__},
            "calibration": calib,
        }
        files = {INDEX: sha256_file(tmp / INDEX)}
        for path in sorted((tmp / "models").rglob("*")):
            if path.is_file():
                files[path.relative_to(tmp).as_posix()] = sha256_file(path)
        body = _plain({**body, "files": files})
        body["sha256"] = _digest(body)
        with open(tmp / MODEL_FILE, "w") as fh:
            json.dump(body, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o755)
        os.chmod(tmp / MODEL_FILE, 0o644)
        if folder.exists():
            shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
        os.rename(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder / MODEL_FILE


# ------------------------------------------------------------------ loading

def read_model_file(folder) -> dict:
    """``model.json`` of a saved model, its own digest and every file's sha256 checked."""
    folder = Path(folder)
    path = folder / MODEL_FILE
    if not folder.is_dir() or not path.is_file():
        raise FileNotFoundError(f"{folder}: not a saved skmdl model (no {MODEL_FILE})")
    body = read_json(path, "")
    if not isinstance(body, dict) or body.get("type") != MODEL_TYPE:
        raise ArtifactIntegrityError(f"{path}: not a saved skmdl transfer model")
    if body.get("format") != MODEL_FORMAT:
        raise ArtifactIntegrityError(f"{path}: format {body.get('format')!r}, this skmdl "
                                     f"reads format {MODEL_FORMAT}")
    recorded = body.pop("sha256", None)
    if recorded != _digest(body):
        raise ArtifactIntegrityError(f"{path}: content differs from its recorded sha256 "
                                     "(file corrupted or tampered with)")
    files = body.get("files")
    if not isinstance(files, dict) or INDEX not in files:
        raise ArtifactIntegrityError(f"{path}: no file checksums")
    root = folder.resolve()
    for rel, expected in files.items():
        target = (folder / rel).resolve()
        if root not in target.parents:
            raise ArtifactIntegrityError(f"{path}: file {rel!r} lies outside the model folder")
        if not target.is_file():
            raise ArtifactIntegrityError(f"{folder / rel}: missing")
        actual = sha256_file(target)
        if actual != expected:
            raise ArtifactIntegrityError(
                f"{folder / rel}: sha256 {actual} differs from the recorded {expected} "
                "(file corrupted or tampered with)")
    return body


class SavedTransferModel:
    """A transfer ensemble loaded from safetensors + JSON: mean, spread and intervals.

    Use :func:`load_transfer_model` to create one.

    Attributes
    ----------
    card : dict
        The model card (target, training data, sources, metrics, versions).
    library : ModelLibrary
        The members as a model library.
    member_ids : list of str
    """

    def __init__(self, folder, body):
        from .featurizer import SourceModels

        self.folder = Path(folder)
        self.card = body["card"]
        self.calibration = body.get("calibration")
        self.library = ModelLibrary(self.folder, index_sha256=body["files"][INDEX])
        self.member_ids = [m["id"] for m in self.card["members"]]
        unknown = [m for m in self.member_ids if m not in self.library]
        if unknown or not self.member_ids:
            raise ArtifactIntegrityError(f"{self.folder}: members {unknown} not in the index")
        self._models = SourceModels(self.library, self.member_ids)
        # float64 evaluation: a folded ridge head can weigh a nearly constant unit
        # heavily, and float32 sums would then depend on the batch size
        for module in self._models.modules.values():
            module.double()

    def __repr__(self):
        return (f"SavedTransferModel({str(self.folder)!r}, target={self.card.get('target')!r}, "
                f"{len(self.member_ids)} members)")

    def member_predictions(self, X) -> np.ndarray:
        """(n_samples, n_members) predictions of the members, float64."""
        import torch

        F = self._models.features(X)
        cols = []
        with torch.no_grad():
            for m in self.member_ids:
                x = torch.as_tensor(F[self._models.spec_of[m]], dtype=torch.float64)
                cols.append(self._models.modules[m](x)[:, 0].numpy())
        return np.column_stack(cols) if cols else np.empty((0, 0))

    def predict(self, X, return_std=False):
        """Ensemble mean; with ``return_std=True`` also the members' spread."""
        P = self.member_predictions(X)
        return (P.mean(axis=1), P.std(axis=1)) if return_std else P.mean(axis=1)

    def predict_interval(self, X, alpha=0.1, mean_std=None):
        """Intervals of nominal coverage ``1 - alpha``, as :meth:`TransferRegressor.predict_interval`.

        ``mean_std``: the ``(mean, std)`` of ``X`` if already computed.
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        if self.calibration is None:
            raise ValueError("this model has no interval calibration (fitted on fewer than "
                             "2 x calibration_cv rows, or without calibration_cv)")
        s = np.asarray(self.calibration["scores"], dtype=float)
        level = min(1.0, np.ceil((len(s) + 1) * (1 - alpha)) / len(s))
        q = np.quantile(s, level, method="higher")
        mean, std = self.predict(X, return_std=True) if mean_std is None else mean_std
        half = q * np.maximum(std, self.calibration["sd_floor"])
        return np.column_stack([mean - half, mean + half])


def load_transfer_model(folder) -> SavedTransferModel:
    """Load a model written by :func:`save_transfer_model`, verifying every checksum first.

    Raises
    ------
    FileNotFoundError
        ``folder`` is not a saved model.
    ArtifactIntegrityError
        A file is missing, edited or corrupted.
    """
    return SavedTransferModel(folder, read_model_file(folder))
