"""ModelLibrary: a searchable folder (local, packaged or remote) of source models.

A library is a folder with ``index.json`` and one artifact folder per model::

    index.json
    models/<model_id>/weights.safetensors
    models/<model_id>/card.json

``index.json`` records every model's sha256 checksums and a summary of its
card, so searching needs no artifact and loading verifies the files before
reading them. A remote library is the same layout behind an HTTP(S) URL; its
files are downloaded on first use with pooch and checked against the index.
"""

from __future__ import annotations

import copy
import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import UnknownModelError
from ..utils.atomic import write_text
from .artifact import (
    ArtifactIntegrityError,
    CARD,
    WEIGHTS,
    featurizer_from_spec,
    load_artifact,
    read_card,
    sha256_file,
    verify_artifact,
)

INDEX = "index.json"
INDEX_FORMAT = 1
KINDS = ("inorganic", "structure", "molecule", "polymer")

#: card fields copied into the index (and the columns of ``search``)
SUMMARY_FIELDS = ("id", "property", "quantity", "fidelity", "unit", "kind", "task", "descriptor",
                  "n_params", "n_train", "mae", "rmse", "r2", "n_test", "hidden", "activation",
                  "max_elements")


def source_name(model_id) -> str:
    """The source a model belongs to: its id without the ``-NNN`` model number.

    The builder names models ``"{source}-{k:03d}"``; an id without a number is
    its own source.

    Examples
    --------
    >>> source_name("oqmd_volume_per_atom-003"), source_name("oqmd_volume_per_atom_full-000")
    ('oqmd_volume_per_atom', 'oqmd_volume_per_atom_full')
    >>> source_name("my-model")
    'my-model'
    """
    head, sep, tail = str(model_id).rpartition("-")
    return head if sep and tail.isdigit() else str(model_id)


def summarize(card: dict) -> dict:
    """The index row of a model card.

    Examples
    --------
    >>> row = summarize({"id": "m", "property": "band gap (OQMD)", "quantity": "band gap",
    ...                  "metrics": {"mae": 0.3, "n": 10}})
    >>> row["quantity"], row["mae"], row["n_test"], row["r2"]
    ('band gap', 0.3, 10, None)
    """
    arch, metrics = card.get("architecture", {}), card.get("metrics", {})
    return {
        "id": card["id"],
        "property": card.get("property"),
        "quantity": card.get("quantity"),
        "fidelity": card.get("fidelity"),
        "unit": card.get("unit"),
        "kind": card.get("kind"),
        "task": card.get("training", {}).get("dataset"),
        "descriptor": card.get("descriptor", {}).get("name"),
        "n_params": card.get("n_params"),
        "n_train": card.get("training", {}).get("n_train"),
        "mae": metrics.get("mae"),
        "rmse": metrics.get("rmse"),
        "r2": metrics.get("r2"),
        "n_test": metrics.get("n"),
        "hidden": arch.get("hidden"),
        "activation": arch.get("activation"),
        "max_elements": card.get("max_elements"),
        **_trunk_fields(card),
    }


def _trunk_fields(card: dict) -> dict:
    """A multi-task trunk's index fields: the data sets and quantities of its tasks."""
    tasks = card.get("tasks")
    if not isinstance(tasks, list):
        return {}
    return {"tasks": [str(t.get("dataset")) for t in tasks],
            "quantities": sorted({str(t.get("quantity")) for t in tasks})}


def write_index(root, entries: list, name: str = "") -> Path:
    """Write ``root/index.json`` atomically (:func:`skmdl.utils.atomic.write_text`)."""
    data = {"format": INDEX_FORMAT, "name": name,
            "models": sorted(entries, key=lambda e: e["id"])}
    return write_text(Path(root) / INDEX, json.dumps(data, indent=1, sort_keys=True))


def index_entry(root, model_dir, hashes=None) -> dict:
    """Index row for the artifact in ``root/model_dir`` (hashes computed when not given)."""
    folder = Path(root) / model_dir
    if hashes is None:
        hashes = {"weights": sha256_file(folder / WEIGHTS), "card": sha256_file(folder / CARD)}
    with open(folder / CARD) as fh:
        card = json.load(fh)
    return {**summarize(card), "path": Path(model_dir).as_posix(), "sha256": dict(hashes)}


def _check_entries(models, path) -> None:
    """ArtifactIntegrityError naming ``path`` unless every index entry can be looked up safely.

    An entry's ``path`` must stay inside the library: a remote index naming
    ``../x`` would otherwise make the download land outside the cache folder.
    """
    if not isinstance(models, list):
        raise ArtifactIntegrityError(f"{path}: 'models' is not a list")
    seen = set()
    for k, e in enumerate(models):
        where = f"{path}: model entry {k}"
        if not isinstance(e, dict):
            raise ArtifactIntegrityError(f"{where} is not an object")
        if not isinstance(e.get("id"), str) or not e["id"]:
            raise ArtifactIntegrityError(f"{where} has no id")
        if e["id"] in seen:
            raise ArtifactIntegrityError(f"{where}: id {e['id']!r} appears twice")
        seen.add(e["id"])
        rel = e.get("path")
        if not isinstance(rel, str) or not rel or rel.startswith(("/", "\\")) \
                or ".." in rel.replace("\\", "/").split("/") or ":" in rel:
            raise ArtifactIntegrityError(f"{where} ({e['id']!r}): bad artifact path {rel!r} "
                                         "(a relative path inside the library is expected)")
        sums = e.get("sha256")
        if not isinstance(sums, dict) or not all(isinstance(sums.get(key), str)
                                                 for key in ("weights", "card")):
            raise ArtifactIntegrityError(f"{where} ({e['id']!r}): no sha256 of the weights and "
                                         "the card")


class ModelLibrary:
    """A searchable collection of pretrained source models.

    Parameters
    ----------
    root : str or Path
        A library folder (with ``index.json``), or the URL of a remote
        library (``http(s)://.../``, ``index.json`` beneath it).
    index_sha256 : str, optional
        Expected sha256 of a remote ``index.json`` (recommended: it pins the
        checksums of every model file).
    cache_dir : str or Path, optional
        Where a remote library's files are stored (default: pooch's cache).

    Examples
    --------
    >>> from skmdl.library import ModelLibrary
    >>> lib = ModelLibrary.default()
    >>> table = lib.search(kind="inorganic")
    >>> table["property"].nunique() >= 20
    True
    """

    def __init__(self, root, index_sha256=None, cache_dir=None):
        root = str(root)
        self.remote = root.startswith(("http://", "https://"))
        self.root = root.rstrip("/") + "/" if self.remote else Path(root)
        self.cache_dir = cache_dir
        self.index_sha256 = index_sha256
        self._index = self._read_index()
        self._by_id = {e["id"]: e for e in self._index["models"]}

    # ------------------------------------------------------------ construction
    @classmethod
    def default(cls) -> "ModelLibrary":
        """The library embedded in the package (works offline, no ``SKMDL_DATA``)."""
        return cls(default_library_path())

    def _local_root(self) -> Path:
        if not self.remote:
            return self.root
        import pooch

        base = Path(self.cache_dir) if self.cache_dir else Path(pooch.os_cache("skmdl"))
        key = hashlib.sha256(self.root.encode()).hexdigest()[:16]
        return base / key

    def _fetch(self, relpath: str, sha256: str | None) -> Path:
        import pooch

        target = self._local_root() / relpath
        known = f"sha256:{sha256}" if sha256 else None
        try:
            path = pooch.retrieve(
                self.root + relpath, known_hash=known, fname=target.name,
                path=target.parent, progressbar=False,
            )
        except ValueError as exc:  # pooch: hash mismatch
            raise ArtifactIntegrityError(f"{self.root + relpath}: {exc}") from None
        return Path(path)

    def _read_index(self) -> dict:
        if self.remote:
            path = self._fetch(INDEX, self.index_sha256)
        else:
            path = self.root / INDEX
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no model library index here")
            if self.index_sha256 and sha256_file(path) != self.index_sha256:
                raise ArtifactIntegrityError(f"{path}: sha256 differs from the expected one")
        try:
            with open(path) as fh:
                index = json.load(fh)
        except ValueError as exc:
            raise ArtifactIntegrityError(f"{path}: unreadable library index ({exc})") from None
        if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT:
            raise ArtifactIntegrityError(f"{path}: not a format-{INDEX_FORMAT} library index")
        _check_entries(index.get("models"), path)
        return index

    # ------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, model_id) -> bool:
        return model_id in self._by_id

    def __repr__(self) -> str:
        return f"ModelLibrary({str(self.root)!r}, {len(self)} models)"

    @property
    def ids(self) -> list:
        """All model ids, sorted."""
        return sorted(self._by_id)

    @property
    def name(self) -> str:
        """The library's name as recorded in its index (``""`` when it has none)."""
        return str(self._index.get("name") or "")

    def entry(self, model_id) -> dict:
        """The index row of a model: the :data:`SUMMARY_FIELDS`, ``path`` and ``sha256``.

        A copy: changing it changes nothing in the library.

        Raises
        ------
        skmdl.exceptions.UnknownModelError
            No such model (a ``KeyError``; the message suggests close ids).

        Examples
        --------
        >>> lib = ModelLibrary.default()
        >>> row = lib.entry("oqmd_bandgap-000")
        >>> row["quantity"], row["path"], sorted(row["sha256"])
        ('band gap', 'models/oqmd_bandgap-000', ['card', 'weights'])
        """
        return copy.deepcopy(self._entry(model_id))

    def quantity(self, model_id):
        """The physical quantity a model predicts (``"band gap"``), as in its card.

        Read from the index; an index written before it recorded quantities
        falls back on the (verified) card.
        """
        e = self._entry(model_id)
        return e["quantity"] if "quantity" in e else self.card(model_id).get("quantity")

    def search(self, property=None, kind=None, descriptor=None, task=None, min_r2=None,
               text=None, exclude_tasks=(), quantity=None, exclude_quantities=(), fidelity=None,
               max_elements=None, source=None) -> pd.DataFrame:
        """Models matching every given criterion, as a DataFrame (one row per model).

        Parameters
        ----------
        property, kind, descriptor, task, quantity, fidelity : str or list of str, optional
            Exact matches (a list matches any of its values). ``kind`` is one
            of ``"inorganic"``, ``"structure"``, ``"molecule"``, ``"polymer"``;
            ``quantity`` is the physical quantity without provenance
            (``"band gap"`` for ``property="band gap (OQMD)"``), ``fidelity``
            how it was obtained (``"DFT-PBE, OQMD"``, ``"experimental"``).
        source : str or list of str, optional
            Models of these sources (:func:`source_name` of the id: the shotgun
            ``"oqmd_volume_per_atom"``, not its full-data network
            ``"oqmd_volume_per_atom_full"``).
        max_elements : int, optional
            Only models whose card says they were trained on compositions of
            at most this many elements (leak-free sources for a target of
            more elements); models without the field never match.
        min_r2 : float, optional
            Held-out R² at least this.
        text : str, optional
            Case-insensitive substring of the id, property, task or descriptor.
        exclude_tasks : sequence of str
            Training data sets to leave out (e.g. the target task itself).
        exclude_quantities : sequence of str
            Physical quantities to leave out (e.g. the target's own quantity).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`SUMMARY_FIELDS`, sorted by id. ``quantity`` is None
            for models of an index written before it recorded quantities (the
            quantity filters then read those models' cards).

        Examples
        --------
        >>> lib = ModelLibrary.default()
        >>> gaps = lib.search(quantity="band gap", kind="inorganic")
        >>> sorted(set(gaps["quantity"]))
        ['band gap']
        >>> rest = lib.search(kind="inorganic", exclude_quantities=["band gap"])
        >>> trunks = lib.search(kind="inorganic", quantity="multi-task")  # both learnt band gaps
        >>> len(rest) + len(gaps) + len(trunks) == len(lib.search(kind="inorganic"))
        True
        """
        df = pd.DataFrame([{k: e.get(k) for k in SUMMARY_FIELDS} for e in self._index["models"]],
                          columns=list(SUMMARY_FIELDS))
        keep = np.ones(len(df), dtype=bool)
        for col, value in (("property", property), ("kind", kind), ("descriptor", descriptor),
                           ("task", task), ("fidelity", fidelity)):
            if value is not None:
                keep &= df[col].isin(_as_list(value)).to_numpy()
        if source is not None:
            keep &= df["id"].map(source_name).isin(_as_list(source)).to_numpy()
        if max_elements is not None:
            keep &= (pd.to_numeric(df["max_elements"], errors="coerce") <= max_elements).to_numpy()
        if min_r2 is not None:  # an R² the index does not record as a number never matches
            keep &= (pd.to_numeric(df["r2"], errors="coerce") >= min_r2).to_numpy()
        if text:
            t = str(text).lower()
            hay = (df["id"].astype(str) + " " + df["property"].astype(str) + " "
                   + df["task"].astype(str) + " " + df["descriptor"].astype(str)).str.lower()
            keep &= hay.str.contains(t, regex=False).to_numpy()
        if exclude_tasks:
            keep &= ~df["task"].isin(list(exclude_tasks)).to_numpy()
            keep &= ~self._trunk_has("tasks", exclude_tasks)
        if quantity is not None or exclude_quantities:
            wanted = None if quantity is None else set(_as_list(quantity))
            banned = set(exclude_quantities)
            keep &= ~self._trunk_has("quantities", banned)
            for row, model_id in enumerate(df["id"]):
                if keep[row]:  # only the rows still in: an old index reads their cards
                    q = self.quantity(model_id)
                    keep[row] = (wanted is None or q in wanted) and q not in banned
        return df[keep].sort_values("id").reset_index(drop=True)

    def _trunk_has(self, field, values) -> np.ndarray:
        """Per index row: a multi-task trunk with any of ``values`` among its ``field``."""
        values = set(values)
        return np.array([bool(values & set(e.get(field) or ())) for e in self._index["models"]],
                        dtype=bool)

    def _entry(self, model_id) -> dict:
        try:
            return self._by_id[model_id]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(str(model_id), self._by_id, n=3)
            hint = f"; did you mean {close}?" if close else ""
            raise UnknownModelError(f"no model {model_id!r} in {self!r}{hint}",
                                    model_id=model_id) from None

    def artifact_path(self, model_id) -> Path:
        """Local folder of a model's artifact (downloaded first for a remote library)."""
        e = self._entry(model_id)
        if not self.remote:
            return self.root / e["path"]
        for key, name in (("weights", WEIGHTS), ("card", CARD)):
            self._fetch(f"{e['path']}/{name}", e["sha256"][key])
        return self._local_root() / e["path"]

    def card(self, model_id) -> dict:
        """The model card (verified against the index checksum)."""
        e = self._entry(model_id)
        path = self.artifact_path(model_id) / CARD
        if not path.is_file():
            raise ArtifactIntegrityError(f"{path}: missing")
        if sha256_file(path) != e["sha256"]["card"]:
            raise ArtifactIntegrityError(f"{path}: sha256 differs from the library index")
        return read_card(path.parent)

    def load(self, model_id, n_jobs=None):
        """Load a model: ``(module, featurizer)``, the torch module in eval mode.

        Checksums recorded in the index are verified before the weights are read.
        """
        e = self._entry(model_id)
        folder = self.artifact_path(model_id)
        module, card = load_artifact(folder, e["sha256"])
        try:
            featurizer = featurizer_from_spec(card["descriptor"], n_jobs=n_jobs)
            n_features = len(featurizer.get_feature_names_out())
        except ArtifactIntegrityError as exc:
            raise ArtifactIntegrityError(f"{folder / CARD}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # InvalidParameterError (a ValueError) for parameters the featurizer rejects
            raise ArtifactIntegrityError(f"{folder / CARD}: bad descriptor spec ({exc})") from None
        n_in = module.hidden[0].in_features
        if n_features != n_in:
            raise ArtifactIntegrityError(f"{folder / CARD}: the descriptor gives {n_features} "
                                         f"features, the network takes {n_in}")
        return module, featurizer

    def hidden(self, model_id, X, layers=(-1,), batch_size=65536):
        """Hidden-layer activations of a model for raw inputs ``X`` (formulas, ...).

        Returns
        -------
        ndarray of float32, shape (n_samples, sum of the chosen layers' widths)
        """
        module, featurizer = self.load(model_id)
        return module_hidden(module, featurizer.transform(X), layers, batch_size)

    def predict(self, model_id, X, batch_size=65536):
        """The source model's prediction of its own property for ``X``.

        Shape ``(n_samples,)``; ``(n_samples, n_tasks)`` for a multi-task trunk
        (columns in the order of its card's ``architecture.outputs``).
        """
        import torch

        module, featurizer = self.load(model_id)
        F = torch.as_tensor(featurizer.transform(X), dtype=torch.float32)
        with torch.no_grad():
            out = [module(F[i:i + batch_size]) for i in range(0, len(F), batch_size)]
        n_out = module.layer_width("output")
        if not out:
            return np.empty((0, n_out) if n_out > 1 else 0, dtype=np.float32)
        pred = torch.cat(out).numpy()
        return pred if n_out > 1 else pred[:, 0]

    def verify(self) -> pd.DataFrame:
        """Re-hash every artifact; one row per model with ``ok`` and ``error``."""
        rows = []
        for model_id in self.ids:
            e = self._by_id[model_id]
            try:
                verify_artifact(self.artifact_path(model_id), e["sha256"])
                rows.append({"id": model_id, "ok": True, "error": ""})
            except (ArtifactIntegrityError, OSError) as exc:
                rows.append({"id": model_id, "ok": False, "error": str(exc)})
        return pd.DataFrame(rows, columns=["id", "ok", "error"])


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value)


def module_hidden(module, F, layers=(-1,), batch_size=65536):
    """Activations of ``layers`` of ``module`` for a feature matrix ``F`` (float32 ndarray).

    ``layers``: hidden-layer indices and/or ``"output"`` (see ``MLP.activations``).
    """
    import torch

    F = torch.as_tensor(np.asarray(F), dtype=torch.float32)
    with torch.no_grad():
        blocks = [torch.cat(module.activations(F[i:i + batch_size], layers), dim=1)
                  for i in range(0, len(F), batch_size)]
    if not blocks:
        width = sum(module.layer_width(i) for i in layers)
        return np.empty((0, width), dtype=np.float32)
    return torch.cat(blocks).numpy()


def default_library_path() -> Path:
    """Folder of the library embedded in the package."""
    return Path(str(resources.files("skmdl.library").joinpath("default")))
