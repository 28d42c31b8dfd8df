"""Source tasks: what a source property is, and its data loaded, cleaned, featurized and split.

A :class:`SourceTask` names a data set and its cleaning rule;
:func:`prepare_task` turns it into the training, validation and test arrays of
the shotgun builder (:mod:`skmdl.library.builder`) and the provenance that goes
into every model card.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass

import numpy as np

from .artifact import sha256_file


@dataclass
class SourceTask:
    """A source property: where its data come from and how they are cleaned.

    Parameters
    ----------
    task : str
        Data set name (``skmdl.datasets.load_task``), or any name when ``X``
        and ``y`` are given to :func:`build` directly.
    property : str
        Name of the source property, unique in a library (e.g. ``"band gap (OQMD)"``).
    quantity : str
        The physical quantity without provenance (``"band gap"``), so that
        transfer can exclude sources of the same quantity as its target.
    unit : str
    kind : str
        ``"inorganic"``, ``"structure"``, ``"molecule"`` or ``"polymer"``.
    bounds : (float or None, float or None)
        Cleaning rule: rows with targets outside ``[low, high]`` are dropped
        (in addition to non-finite targets and unparsable inputs).
    source : str
        Attribution / licence of the data.
    """

    task: str
    property: str
    quantity: str
    unit: str
    kind: str = "inorganic"
    bounds: tuple = (None, None)
    source: str = ""

    def cleaning_rule(self) -> str:
        lo, hi = self.bounds
        parts = ["drop rows with a non-finite target or an input the featurizer cannot parse"]
        if lo is not None or hi is not None:
            parts.append(f"drop rows with target outside [{lo}, {hi}] {self.unit}")
        return "; ".join(parts)


def prepare_task(source: SourceTask, featurizer, seed: int, config,
                 X=None, y=None, split=None):
    """Load (unless given), clean, featurize and split one source task.

    The steps:

    1. load ``source.task`` with :func:`skmdl.datasets.load_task` unless ``X``
       and ``y`` are given (with an optional ``split`` column);
    2. :func:`clean`: featurize with ``errors="nan"`` and keep the rows that
       pass ``source``'s cleaning rule;
    3. :func:`split_rows`: the published train/val/test split when there is
       one, else a random split seeded by ``seed`` and the task name (and at
       most ``config.max_train`` training rows).

    Parameters
    ----------
    source : SourceTask
    featurizer : transformer with an ``errors`` parameter
    seed : int
    config : TrainingConfig
        Its ``val_fraction``, ``test_fraction`` and ``max_train``.
    X, y, split : optional
        The data, instead of loading ``source.task``.

    Returns
    -------
    data : tuple (F_tr, y_tr, F_va, y_va, F_te, y_te)
    provenance : dict for the model card

    Examples
    --------
    >>> from skmdl.descriptors import CompositionFeaturizer
    >>> from skmdl.library.builder import TrainingConfig
    >>> task = SourceTask("toy", "toy property", "toy", "1", bounds=(0, None))
    >>> X, y = ["NaCl", "Fe2O3", "SiO2", "Xx", "MgO"] * 4, [1.0, 2.0, 3.0, 4.0, -1.0] * 4
    >>> data, provenance = prepare_task(task, CompositionFeaturizer(stats=["mean"]), 0,
    ...                                 TrainingConfig(), X, y)
    >>> provenance["n_raw"], provenance["n_clean"], sum(len(part) for part in data[1::2])
    (20, 12, 12)
    """
    data_sha = None
    if X is None:
        from ..datasets import load_task, task_path

        X, y, split = load_task(source.task, return_split=True)
        data_sha = sha256_file(task_path(source.task))
    y = np.asarray(y, dtype=np.float64)
    F, keep = clean(source, featurizer, list(X), y)
    split = None if split is None else np.asarray(split, dtype=object)[keep]
    rows, split_rule = split_rows(source.task, split, int(keep.sum()), seed, config)
    F, y = F[keep], y[keep]
    tr, va, te = rows
    data = (F[tr], y[tr], F[va], y[va], F[te], y[te])
    provenance = {
        "dataset": source.task,
        "dataset_sha256": data_sha,
        "n_raw": len(keep),
        "n_clean": int(keep.sum()),
        "cleaning": source.cleaning_rule(),
        "split": split_rule,
        "n_train": int(len(tr)),
        "n_val": int(len(va)),
        "n_test": int(len(te)),
    }
    return data, provenance


def clean(source: SourceTask, featurizer, X, y):
    """``(F, keep)``: float32 features of every row and the mask of rows to keep.

    Dropped: a non-finite target, an input the featurizer cannot parse (all
    features NaN), a target outside ``source.bounds``.
    """
    from sklearn.base import clone

    f = clone(featurizer).set_params(errors="nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        F = f.fit().transform(X).astype(np.float32)
    keep = np.isfinite(y) & ~np.isnan(F).all(axis=1)
    lo, hi = source.bounds
    if lo is not None:
        keep &= y >= lo
    if hi is not None:
        keep &= y <= hi
    return F, keep


def split_rows(task: str, split, n: int, seed: int, config):
    """``((train, val, test) row indices, rule)`` for ``n`` clean rows of ``task``.

    ``split``: the published ``"train"``/``"val"``/``"test"`` label of each row,
    used when it has all three; otherwise rows are drawn at random with
    ``config``'s fractions. Training rows beyond ``config.max_train`` are
    subsampled. The draws depend on ``seed`` and ``task`` only.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(task.encode())]))
    if split is not None and set(np.unique(split)) >= {"train", "val", "test"}:
        rule = "published split column (train/val/test)"
    else:
        u = rng.random(n)
        split = np.where(u < config.test_fraction, "test",
                         np.where(u < config.test_fraction + config.val_fraction, "val", "train"))
        rule = (f"random {1 - config.val_fraction - config.test_fraction:.0%}/"
                f"{config.val_fraction:.0%}/{config.test_fraction:.0%} train/val/test")
    tr = np.flatnonzero(split == "train")
    if config.max_train is not None and len(tr) > config.max_train:
        tr = np.sort(rng.choice(tr, size=config.max_train, replace=False))
        rule += f"; training rows subsampled to {config.max_train}"
    return (tr, np.flatnonzero(split == "val"), np.flatnonzero(split == "test")), rule
