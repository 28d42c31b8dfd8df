"""Compact a library folder: store weight matrices in float16 where predictions barely change.

A model is rewritten with float16 weight matrices only when that changes
its predictions by less than the tolerance (:func:`~skmdl.library.artifact.float16_change`:
at most ``tolerance`` standard deviations of its property, measured on a
fixed probe); otherwise it stays float32. Each artifact is replaced
atomically and its index row re-hashed, so a killed run leaves a valid
library that a rerun finishes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .artifact import (FLOAT16_TOLERANCE, WEIGHTS, load_artifact, read_card, storage_dtype,
                       with_storage, write_artifact)
from .library import ModelLibrary, index_entry, write_index


def compact_library(root, tolerance=FLOAT16_TOLERANCE) -> pd.DataFrame:
    """Rewrite the models of the library folder ``root`` in float16 where allowed.

    Parameters
    ----------
    root : path
        A library folder (``index.json`` + ``models/``); checksums are
        verified before a model is read.
    tolerance : float
        Largest allowed change of a prediction, in units of the property's
        training standard deviation.

    Returns
    -------
    DataFrame
        One row per model: ``id``, ``weights`` (dtype now stored),
        ``float16_change``, ``bytes_before``, ``bytes_after``.

    Examples
    --------
    >>> import tempfile, torch
    >>> from skmdl.library import MLP, ModelLibrary, write_artifact
    >>> from skmdl.library.library import index_entry, write_index
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = torch.manual_seed(0)
    >>> card = {"id": "m-000", "property": "p", "kind": "inorganic",
    ...         "architecture": {"n_in": 16, "hidden": [64], "activation": "relu"}}
    >>> write_artifact(root / "models" / "m-000", MLP(16, [64]), card)  # doctest: +ELLIPSIS
    {...}
    >>> _ = write_index(root, [index_entry(root, "models/m-000")])
    >>> report = compact_library(root)
    >>> report.weights.tolist(), bool(report.float16_change[0] < 1e-3)
    (['float16'], True)
    >>> bool(report.bytes_after[0] < report.bytes_before[0])
    True
    >>> bool(ModelLibrary(root).verify().ok.all())
    True
    """
    root = Path(root)
    lib = ModelLibrary(root)  # the index, validated
    entries = [lib.entry(i) for i in lib.ids]
    rows, out = [], []
    for e in entries:
        folder = root / e["path"]
        before = (folder / WEIGHTS).stat().st_size
        card = read_card(folder)
        if card.get("storage", {}).get("weights") == "float16":
            out.append(e)
            rows.append((e["id"], "float16", card["storage"]["float16_change"], before, before))
            continue
        module, card = load_artifact(folder, e["sha256"])
        dtype, change = storage_dtype(module, tolerance)
        hashes = write_artifact(folder, module, with_storage(card, module, dtype, change, tolerance),
                                dtype)
        out.append(index_entry(root, e["path"], hashes))
        rows.append((e["id"], dtype, change, before, (folder / WEIGHTS).stat().st_size))
    write_index(root, out, lib.name)
    return pd.DataFrame(rows, columns=["id", "weights", "float16_change", "bytes_before",
                                       "bytes_after"])
