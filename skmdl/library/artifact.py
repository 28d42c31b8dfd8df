"""The model artifact: ``weights.safetensors`` + ``card.json`` in one folder.

Weights are data (safetensors), metadata is JSON; nothing in an artifact is
ever executed or unpickled. The featurizer of a model is rebuilt from the
card's descriptor spec through an allow-list of skmdl classes.

Layout of ``weights.safetensors`` (float32 tensors; the layers' weight
matrices may be float16, see :func:`float16_change`):

* ``hidden.{i}.weight``, ``hidden.{i}.bias`` -- hidden layer ``i``
* ``out.weight``, ``out.bias`` -- output layer
* ``x_mean``, ``x_scale`` -- input standardization (NaN inputs become the mean)
* ``y_mean``, ``y_scale`` -- output de-standardization
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..utils.atomic import atomic_dir

WEIGHTS = "weights.safetensors"
CARD = "card.json"
FORMAT_VERSION = 1
ACTIVATIONS = ("relu", "silu", "tanh", "elu", "softplus")
WEIGHT_DTYPES = ("float32", "float16")
#: Largest change of a prediction, in units of the property's training
#: standard deviation (``y_scale``), that float16 storage may cause.
FLOAT16_TOLERANCE = 1e-3


class ArtifactIntegrityError(RuntimeError):
    """An artifact file is missing, truncated, or differs from its recorded checksum."""


def sha256_file(path, chunk=1 << 20) -> str:
    """sha256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


ACTS = {"relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh, "elu": nn.ELU, "softplus": nn.Softplus}


class MLP(nn.Module):
    """The source network: standardize -> [Linear -> act -> dropout] x L -> Linear -> de-standardize.

    Parameters
    ----------
    n_in : int
    hidden : list of int
        Widths of the hidden layers.
    activation : {"relu", "silu", "tanh", "elu", "softplus"}
    dropout : float
    n_out : int
    """

    def __init__(self, n_in, hidden, activation="relu", dropout=0.0, n_out=1):
        super().__init__()
        if activation not in ACTS:
            raise ValueError(f"unknown activation {activation!r}; choose from {ACTIVATIONS}")
        widths = [int(n_in), *map(int, hidden)]
        if len(widths) < 2:
            raise ValueError("an MLP needs at least one hidden layer")
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.act = ACTS[activation]()
        self.drop = nn.Dropout(float(dropout))
        self.out = nn.Linear(widths[-1], int(n_out))
        self.register_buffer("x_mean", torch.zeros(n_in))
        self.register_buffer("x_scale", torch.ones(n_in))
        self.register_buffer("y_mean", torch.zeros(n_out))
        self.register_buffer("y_scale", torch.ones(n_out))

    def standardize(self, x):
        return torch.nan_to_num((x - self.x_mean) / self.x_scale, nan=0.0)

    def forward_scaled(self, z):
        for layer in self.hidden:
            z = self.drop(self.act(layer(z)))
        return self.out(z)

    def forward(self, x):
        return self.forward_scaled(self.standardize(x)) * self.y_scale + self.y_mean

    def activations(self, x, layers=None):
        """Activations of the chosen layers.

        ``layers`` holds 0-based hidden-layer indices (after the nonlinearity;
        -1 = last hidden layer) and/or ``"output"``, the network's prediction
        of its own property in the source units. ``None``: all hidden layers.
        """
        n = len(self.hidden)
        layers = list(range(n)) if layers is None else list(layers)
        bad = [i for i in layers if i != "output" and not (
            isinstance(i, (int, np.integer)) and -n <= i < n)]
        if bad:
            raise ValueError(f"layers {bad} out of range: the model has {n} hidden layers "
                             "(use 0..n-1, negative indices or 'output')")
        keys = [i if i == "output" else int(i) % n for i in layers]
        out, z = {}, self.standardize(x)
        for i, layer in enumerate(self.hidden):
            z = self.act(layer(z))
            if i in keys:
                out[i] = z
            z = self.drop(z)
        if "output" in keys:
            out["output"] = self.out(z) * self.y_scale + self.y_mean
        return [out[k] for k in keys]

    def layer_width(self, layer):
        """Width of a hidden layer index or of ``"output"``."""
        if layer == "output":
            return self.out.out_features
        return self.hidden[int(layer) % len(self.hidden)].out_features


def json_default(obj):
    """``json.dump``'s ``default`` for numpy scalars and arrays (anything else: TypeError).

    Examples
    --------
    >>> import json, numpy as np
    >>> json.dumps({"n": np.int64(3), "x": np.arange(2.0)}, default=json_default)
    '{"n": 3, "x": [0.0, 1.0]}'
    """
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def card_text(card: dict) -> str:
    """The bytes of ``card.json`` for ``card`` (format version set, keys sorted).

    Examples
    --------
    >>> json.loads(card_text({"id": "m"}))
    {'format': 1, 'id': 'm'}
    """
    return json.dumps(dict(card, format=FORMAT_VERSION), indent=1, sort_keys=True,
                      default=json_default)


def _is_matrix(name, tensor) -> bool:
    """A layer's weight matrix: the only tensors float16 storage rounds."""
    return name.endswith(".weight") and tensor.ndim == 2


def probe_inputs(module, n_probe=512, seed=0):
    """Seeded standard-normal inputs in ``module``'s standardized input space."""
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randn(int(n_probe), module.hidden[0].in_features, generator=gen)


def probe_outputs(module, n=8) -> list:
    """Standardized outputs of ``module`` on the first ``n`` probe inputs (a stored reference)."""
    with torch.no_grad():
        return copy.deepcopy(module).float().eval().forward_scaled(
            probe_inputs(module, n)).tolist()


def float16_change(module, n_probe=512, seed=0) -> float:
    """Largest change of ``module``'s predictions when its weight matrices are rounded to float16.

    Measured on ``n_probe`` standard-normal inputs in the network's
    standardized input space (what its first layer sees for typical data)
    and expressed in the standardized output space, i.e. in units of the
    property's training standard deviation; biases and the
    standardization buffers stay float32 and contribute nothing.

    Examples
    --------
    >>> net = MLP(8, [16], "relu")
    >>> 0 <= float16_change(net) < 1e-2
    True
    """
    z = probe_inputs(module, n_probe, seed)
    exact = copy.deepcopy(module).float().eval()
    rounded = copy.deepcopy(exact)
    with torch.no_grad():
        for name, p in rounded.named_parameters():
            if _is_matrix(name, p):
                p.copy_(p.half().float())
        return float((rounded.forward_scaled(z) - exact.forward_scaled(z)).abs().max())


def storage_dtype(module, tolerance=FLOAT16_TOLERANCE) -> tuple:
    """``("float16", change)`` when float16 storage changes predictions by less than ``tolerance``
    (:func:`float16_change`), else ``("float32", change)``."""
    change = float16_change(module)
    return ("float16" if change < tolerance else "float32"), change


def with_storage(card: dict, module, weights_dtype: str, change: float,
                 tolerance=FLOAT16_TOLERANCE) -> dict:
    """``card`` with its ``storage`` record.

    The record holds the dtype of the weight matrices, the measured change
    (:func:`float16_change`), the tolerance, and ``reference``: the
    full-precision network's standardized outputs on the first probe
    inputs (:func:`probe_outputs`), so anyone can check the stored weights
    against the network that was trained.
    """
    return dict(card, storage={"weights": weights_dtype, "float16_change": float(change),
                               "tolerance": float(tolerance),
                               "reference": probe_outputs(module)})


def write_artifact(folder, module, card: dict, weights_dtype="float32") -> dict:
    """Write an artifact atomically (:func:`skmdl.utils.atomic.atomic_dir`).

    A reader (or a build killed at any point) never sees a half-written
    artifact under ``folder``; an artifact already there is replaced whole.
    ``weights_dtype="float16"`` stores the layers' weight matrices in half
    precision (half the size; check the change with :func:`storage_dtype`
    first); loading always gives a float32 module.

    Returns
    -------
    dict
        ``{"weights": sha256, "card": sha256}`` of the written files.
    """
    from safetensors.torch import save_file

    if weights_dtype not in WEIGHT_DTYPES:
        raise ValueError(f"weights_dtype must be one of {WEIGHT_DTYPES}, got {weights_dtype!r}")
    tensors = {k: v.detach().cpu().float().contiguous() for k, v in module.state_dict().items()}
    if weights_dtype == "float16":
        tensors = {k: v.half() if _is_matrix(k, v) else v for k, v in tensors.items()}
    with atomic_dir(folder) as tmp:
        save_file(tensors, str(tmp / WEIGHTS), metadata={"format": str(FORMAT_VERSION)})
        (tmp / CARD).write_text(card_text(card))
        hashes = {"weights": sha256_file(tmp / WEIGHTS), "card": sha256_file(tmp / CARD)}
    return hashes


def verify_artifact(folder, hashes: dict | None) -> None:
    """Check both files exist and, when ``hashes`` are given, match them."""
    folder = Path(folder)
    for key, name in (("weights", WEIGHTS), ("card", CARD)):
        path = folder / name
        if not path.is_file():
            raise ArtifactIntegrityError(f"{path}: missing")
        if hashes is not None:
            expected = hashes.get(key)
            if expected is None:
                raise ArtifactIntegrityError(f"{path}: no checksum recorded in the library index")
            actual = sha256_file(path)
            if actual != expected:
                raise ArtifactIntegrityError(
                    f"{path}: sha256 {actual} differs from the recorded {expected} "
                    "(file corrupted or tampered with)"
                )


def read_json(path, what: str):
    """Parsed JSON file; ArtifactIntegrityError naming the file when it cannot be read."""
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise ArtifactIntegrityError(f"{path}: unreadable {what}({exc})") from None


def read_card(folder) -> dict:
    path = Path(folder) / CARD
    card = read_json(path, "model card ")
    if not isinstance(card, dict) or card.get("format") != FORMAT_VERSION:
        raise ArtifactIntegrityError(f"{path}: not a format-{FORMAT_VERSION} model card")
    return card


def load_artifact(folder, hashes: dict | None = None):
    """Load ``(module, card)`` from an artifact folder, verifying checksums first.

    Parameters
    ----------
    folder : path
    hashes : dict, optional
        ``{"weights": sha256, "card": sha256}`` as recorded in a library
        index. They are checked *before* any byte of the weights is parsed.

    Raises
    ------
    ArtifactIntegrityError
        Missing, truncated, tampered or malformed files.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    verify_artifact(folder, hashes)
    card = read_card(folder)
    arch = card.get("architecture", {})

    def build():
        return MLP(arch["n_in"], arch["hidden"], arch.get("activation", "relu"),
                   arch.get("dropout", 0.0), arch.get("n_out", 1))

    try:
        with torch.device("meta"):  # shapes only: a card may ask for absurd widths
            skeleton = build()
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise ArtifactIntegrityError(f"{folder / CARD}: bad architecture ({exc})") from None
    try:
        state = load_file(str(folder / WEIGHTS))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ArtifactIntegrityError(f"{folder / WEIGHTS}: unreadable weights ({exc})") from None
    odd = sorted(k for k, v in state.items()
                 if v.dtype not in (torch.float32, torch.float16)
                 or (v.dtype == torch.float16 and not _is_matrix(k, v)))
    if odd:
        raise ArtifactIntegrityError(f"{folder / WEIGHTS}: tensors {odd[:4]} have a dtype other "
                                     "than float32 (or float16 for weight matrices)")
    state = {k: v.float() for k, v in state.items()}
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if found != expected:
        diff = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
        diff = diff[:4]
        raise ArtifactIntegrityError(
            f"{folder / WEIGHTS}: weights do not fit the card's architecture (tensors {diff}: "
            f"{[found.get(k) for k in diff]} in the file, {[expected.get(k) for k in diff]} "
            "expected)"
        )
    module = build()  # the file holds tensors of these shapes: their size is bounded
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ArtifactIntegrityError(
            f"{folder / WEIGHTS}: weights do not fit the card's architecture ({exc})"
        ) from None
    module.eval()
    return module, card


# ---------------------------------------------------------------- descriptors

def descriptor_spec(featurizer) -> dict:
    """JSON description of a featurizer, enough to rebuild it (see :func:`featurizer_from_spec`)."""
    from .. import __version__

    params = featurizer.get_params(deep=False)
    params.pop("n_jobs", None)
    spec = {"class": type(featurizer).__name__, "skmdl_version": __version__}
    if isinstance(params.get("elements"), pd.DataFrame):
        raise ValueError("source models need a packaged element table (a name), not a DataFrame")
    spec["params"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}
    from sklearn.base import clone

    fitted = clone(featurizer).fit()
    spec["n_features"] = len(fitted.get_feature_names_out())
    if hasattr(fitted, "table_hash_"):
        spec["element_table_hash"] = fitted.table_hash_
    if hasattr(fitted, "rdkit_version_"):  # provenance only: not checked on loading
        spec["rdkit_version"] = fitted.rdkit_version_
    return spec


def _featurizer_classes():
    """The allow-list: the only classes a card's descriptor spec may name."""
    from ..descriptors import CompositionFeaturizer, MACCSKeys, MorganFingerprint, RDKitDescriptors
    from ..descriptors.pairs import PairFractionFeaturizer
    from ..descriptors.structure import OrbitalFieldMatrixFeaturizer

    return {cls.__name__: cls for cls in (CompositionFeaturizer, RDKitDescriptors,
                                          MorganFingerprint, MACCSKeys,
                                          OrbitalFieldMatrixFeaturizer, PairFractionFeaturizer)}


def featurizer_from_spec(spec: dict, n_jobs=None):
    """Rebuild a fitted featurizer from a card's descriptor spec (allow-listed classes only)."""
    classes = _featurizer_classes()
    cls = classes.get(spec.get("class"))
    if cls is None:
        raise ArtifactIntegrityError(
            f"unknown featurizer class {spec.get('class')!r}; known: {sorted(classes)}"
        )
    params = dict(spec.get("params", {}))
    if "n_jobs" in cls().get_params():
        params["n_jobs"] = n_jobs
    featurizer = cls(**params).fit()
    expected = spec.get("element_table_hash")
    if expected is not None and getattr(featurizer, "table_hash_", expected) != expected:
        raise ArtifactIntegrityError(
            "the element table differs from the one the model was trained with "
            f"({featurizer.table_hash_} != {expected})"
        )
    n = len(featurizer.get_feature_names_out())
    if n != spec.get("n_features", n):
        raise ArtifactIntegrityError(f"featurizer gives {n} features, model expects "
                                     f"{spec['n_features']}")
    return featurizer
