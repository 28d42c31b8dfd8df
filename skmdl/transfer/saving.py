"""Fitted estimators saved as data, never as code: skops for estimators, safetensors for networks.

Any fitted skmdl estimator or scikit-learn pipeline of skmdl parts
(:class:`TransferRegressor`, :class:`TransferClassifier`,
:class:`AffineTransferRegressor`, a ``Pipeline`` of a featurizer and a random
forest, ...) is written by :func:`save_model` as one folder::

    model.json                      card, sha256 of every file, its own digest
    estimator.skops                 the fitted estimator as data (skops.io), networks left out
    index.json                      the source networks it uses, as a model library
    models/<id>/weights.safetensors     ... each one copied from the estimator
    models/<id>/card.json
    networks/<k>/weights.safetensors    other networks (fine-tuned ensemble members)
    networks/<k>/card.json

The estimator file holds arrays and plain data only: every source model set
(``source_models_``), torch network, skorch net, ``DataFrame`` and
``ModelLibrary`` in the fitted object is replaced by a small reference (a dict
with the key ``"__skmdl_ref__"``) before skops writes it, and the networks go
to safetensors files. So ``skmdl library list --library FOLDER`` works on a
saved model.

:func:`load_model` checks ``model.json``'s own digest and then every file's
sha256 before a byte of the estimator or the weights is parsed (a change to any
file is refused with :class:`~skmdl.library.ArtifactIntegrityError`), lets
skops build only the types of :func:`trusted_types` (a file asking for any
other type is refused with :class:`UntrustedTypeError`, nothing of it built),
and puts the networks back from the safetensors files.

Examples
--------
>>> import tempfile
>>> from sklearn.ensemble import RandomForestRegressor
>>> from sklearn.pipeline import make_pipeline
>>> from skmdl.datasets import load_sample
>>> from skmdl.descriptors import CompositionFeaturizer
>>> from skmdl.transfer.saving import load_model, save_model
>>> X, y = load_sample("matbench_steels")
>>> model = make_pipeline(CompositionFeaturizer(),
...                       RandomForestRegressor(n_estimators=10, random_state=0)).fit(X, y)
>>> folder = tempfile.mkdtemp() + "/steels"
>>> _ = save_model(model, folder, {"target": "yield strength"})
>>> loaded = load_model(folder)
>>> bool((loaded.predict(X) == model.predict(X)).all())
True
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from ..library.artifact import ArtifactIntegrityError, read_json, sha256_file, write_artifact
from ..library.library import INDEX, ModelLibrary, index_entry, write_index
from ..utils.atomic import atomic_dir
from ._references import (ESTIMATOR_FILE, MODEL_FILE, Externalizer, Restorer,  # noqa: F401
                          UntrustedTypeError, map_tree, trusted_types)

MODEL_FORMAT = 2
MODEL_TYPE = "skmdl.saved_model"
#: what :func:`save_model` wrote before the estimator file existed (networks only)
_OLD_TYPE = "skmdl.transfer.ensemble"


# ------------------------------------------------------------------ saving

def _architecture(net) -> dict:
    """The card's ``architecture`` of an :class:`~skmdl.library.artifact.MLP`."""
    return {"type": "mlp", "n_in": int(net.hidden[0].in_features),
            "hidden": [int(h.out_features) for h in net.hidden],
            "activation": type(net.act).__name__.lower(), "dropout": float(net.drop.p),
            "n_out": int(net.out.out_features)}


def model_digest(body: dict) -> str:
    """The sha256 ``model.json`` records of itself: of its other keys as canonical JSON.

    Examples
    --------
    >>> from skmdl.transfer.saving import model_digest
    >>> model_digest({"b": 1, "a": [1.5]}) == model_digest({"a": [1.5], "b": 1})
    True
    """
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(obj):
    """``obj`` as plain JSON types (numpy scalars and arrays converted, NaN -> None)."""
    def default(o):
        if hasattr(o, "tolist"):  # numpy arrays and scalars
            return o.tolist()
        raise TypeError(f"not JSON serializable: {type(o).__name__}")

    return json.loads(json.dumps(obj, default=default), parse_constant=lambda c: None)


def _check_target_folder(folder: Path, overwrite: bool) -> None:
    if folder.exists() and not overwrite and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{folder} already exists (choose another folder or overwrite)")


def _portable(estimator):
    """``(copy, externalizer)``: the estimator with references in place of its networks."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    ext = Externalizer()
    map_tree(estimator, ext.collect)
    return map_tree(estimator, ext), ext


def _write_networks(tmp: Path, ext: Externalizer, name: str) -> None:
    """Source networks as a model library (``index.json``, ``models/``), others in ``networks/``."""
    rows = []
    for model_id, (library, module) in sorted(ext.sources.items()):
        write_artifact(tmp / "models" / model_id, module, library.card(model_id))
        rows.append(index_entry(tmp, f"models/{model_id}"))
    write_index(tmp, rows, name=name)
    for net_name, module in ext.networks.items():
        write_artifact(tmp / "networks" / net_name, module,
                       {"id": net_name, "architecture": _architecture(module)})


def _write_estimator(tmp: Path, portable) -> None:
    """The estimator file; refused when loading would refuse a type it holds."""
    import skops.io as sio

    data = sio.dumps(portable, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    refused = set(sio.get_untrusted_types(data=data)) - set(trusted_types())
    if refused:
        raise TypeError(f"cannot save {type(portable).__name__}: it holds types that loading "
                        f"would refuse, {sorted(refused)} (not in "
                        "skmdl.transfer.saving.trusted_types())")
    (tmp / ESTIMATOR_FILE).write_bytes(data)


def _write_model_file(tmp: Path, estimator, card: dict | None) -> None:
    """``model.json``: the card, the sha256 of every other file and its own digest."""
    import sklearn
    import skops

    from .. import __version__

    files = {p.relative_to(tmp).as_posix(): sha256_file(p)
             for p in sorted(tmp.rglob("*")) if p.is_file()}
    kind = type(estimator)
    body = _plain({
        "format": MODEL_FORMAT,
        "type": MODEL_TYPE,
        "estimator": {"file": ESTIMATOR_FILE, "class": f"{kind.__module__}.{kind.__qualname__}"},
        "card": {**(card or {}), "skmdl_version": __version__,
                 "sklearn_version": sklearn.__version__, "skops_version": skops.__version__},
        "files": files,
    })
    body["sha256"] = model_digest(body)
    with open(tmp / MODEL_FILE, "w") as fh:
        json.dump(body, fh, indent=1, sort_keys=True)


def save_model(estimator, folder, card: dict | None = None, overwrite=False) -> Path:
    """Write a fitted estimator as safe files: skops + safetensors + JSON (see the module).

    Steps: check the target folder; replace the estimator's networks, source
    models, tables and libraries by references (:class:`Externalizer`, on a
    shallow copy); then, in a temporary sibling folder swapped in whole by
    :func:`~skmdl.utils.atomic.atomic_dir`, write the networks as safetensors
    (:func:`_write_networks`), the estimator as skops (:func:`_write_estimator`,
    refused when it holds an untrusted type) and ``model.json`` with every
    file's sha256 (:func:`_write_model_file`).

    Parameters
    ----------
    estimator : fitted estimator
        A skmdl estimator, or a scikit-learn estimator or pipeline whose parts
        are scikit-learn's and skmdl's (see :func:`trusted_types`).
    folder : path
        The model folder to create.
    card : dict, optional
        Free-form description kept in ``model.json`` (target, unit, training
        data, metrics, ...); plain JSON values.
    overwrite : bool, default=False
        Replace an existing folder (otherwise ``FileExistsError``).

    Returns
    -------
    Path of ``model.json``.

    Raises
    ------
    FileExistsError
        ``folder`` exists and ``overwrite`` is false.
    TypeError
        The estimator holds a type loading would refuse, or a torch module that
        is not an skmdl network.
    """
    folder = Path(folder)
    _check_target_folder(folder, overwrite)
    portable, ext = _portable(estimator)
    with atomic_dir(folder) as tmp:
        _write_networks(tmp, ext, name=f"networks of a saved {type(estimator).__name__}")
        _write_estimator(tmp, portable)
        _write_model_file(tmp, estimator, card)
    return folder / MODEL_FILE


def save_transfer_model(model, folder, card: dict | None = None, overwrite=False) -> Path:
    """:func:`save_model`, under the name skmdl 0.1 gave it."""
    return save_model(model, folder, card, overwrite)


# ------------------------------------------------------------------ loading

def _check_body(path: Path, body) -> None:
    if isinstance(body, dict) and body.get("type") == _OLD_TYPE:
        raise ArtifactIntegrityError(f"{path}: a model saved by an older skmdl (format "
                                     f"{body.get('format')!r}); fit it again to save it anew")
    if not isinstance(body, dict) or body.get("type") != MODEL_TYPE:
        raise ArtifactIntegrityError(f"{path}: not a saved skmdl model")
    if body.get("format") != MODEL_FORMAT:
        raise ArtifactIntegrityError(f"{path}: format {body.get('format')!r}, this skmdl "
                                     f"reads format {MODEL_FORMAT}")


def _check_files(folder: Path, path: Path, files) -> None:
    if not isinstance(files, dict) or INDEX not in files or ESTIMATOR_FILE not in files:
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


def read_model_file(folder) -> dict:
    """``model.json`` of a saved model, its own digest and every file's sha256 checked.

    Raises
    ------
    FileNotFoundError
        ``folder`` is not a saved model.
    ArtifactIntegrityError
        A file is missing, edited or corrupted, or the folder is of another format.
    """
    folder = Path(folder)
    path = folder / MODEL_FILE
    if not folder.is_dir() or not path.is_file():
        raise FileNotFoundError(f"{folder}: not a saved skmdl model (no {MODEL_FILE})")
    body = read_json(path, "")
    _check_body(path, body)
    recorded = body.pop("sha256", None)
    if recorded != model_digest(body):
        raise ArtifactIntegrityError(f"{path}: content differs from its recorded sha256 "
                                     "(file corrupted or tampered with)")
    _check_files(folder, path, body.get("files"))
    return body


def _read_estimator(path: Path):
    """The skops file's object, refused unless every type it asks for is trusted."""
    import skops.io as sio

    trusted = trusted_types()
    try:
        asked = sio.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 -- any parse failure of a checksummed file
        raise ArtifactIntegrityError(f"{path}: unreadable saved estimator ({exc})") from None
    refused = set(asked) - set(trusted)
    if refused:
        raise UntrustedTypeError(path, refused)
    try:
        return sio.load(path, trusted=trusted)
    except Exception as exc:  # noqa: BLE001
        raise ArtifactIntegrityError(f"{path}: unreadable saved estimator ({exc})") from None


def load_model(folder, return_card=False):
    """Load an estimator written by :func:`save_model`, every checksum verified first.

    Steps: :func:`read_model_file` (``model.json``'s digest, every file's
    sha256), :func:`_read_estimator` (skops, trusted types only), then the
    networks, source models and tables are put back from the folder
    (:class:`Restorer`). The estimator's ``library`` parameter is what it was
    fitted with; its source networks (``source_models_``) come from the folder.

    Parameters
    ----------
    folder : path
        A model folder.
    return_card : bool, default=False
        Also return the card saved with it.

    Returns
    -------
    estimator, or ``(estimator, card)``
        The fitted estimator; it predicts exactly as the one saved.

    Raises
    ------
    FileNotFoundError
        ``folder`` is not a saved model.
    ArtifactIntegrityError
        A file is missing, edited or corrupted.
    UntrustedTypeError
        The estimator file asks for a type outside :func:`trusted_types`.
    """
    folder = Path(folder)
    body = read_model_file(folder)
    raw = _read_estimator(folder / ESTIMATOR_FILE)
    library = ModelLibrary(folder, index_sha256=body["files"][INDEX])
    estimator = map_tree(raw, Restorer(folder, library, body["files"]))
    return (estimator, body["card"]) if return_card else estimator


def load_transfer_model(folder):
    """:func:`load_model`, under the name skmdl 0.1 gave it."""
    return load_model(folder)


def exportable_regressor(**params):
    """A :class:`TransferRegressor` with a ridge head on the last hidden layer only.

    skmdl 0.1 could only save such a model (its head folded into the source
    network); :func:`save_model` now saves any fitted estimator, so this is
    just one configuration among others: a ridge regression (``RidgeCV`` on
    standardized features, after dropping units of variance below ``1e-6``)
    on the last hidden layer of each kept source. ``params`` are any other
    TransferRegressor parameters.

    Examples
    --------
    >>> from skmdl.transfer.saving import exportable_regressor
    >>> model = exportable_regressor(n_sources=3, random_state=0)
    >>> model.descriptors, model.layers
    ('none', (-1,))
    """
    import numpy as np
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
