"""Source tasks: what a source property is, and its data loaded, cleaned, featurized and split.

A :class:`SourceTask` names a data set and its cleaning rule;
:func:`prepare_task` turns it into the training, validation and test arrays of
the shotgun builder (:mod:`skmdl.library.builder`) and the provenance that goes
into every model card.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Sequence
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
    fidelity : str
        How the values were obtained (``"DFT-PBE, OQMD"``, ``"experimental"``,
        ``"BoltzTraP, constant relaxation time"``), so that transfer can tell a
        same-quantity source at another fidelity from the target's own kind.
    max_elements : int, optional
        Keep only compositions with at most this many elements (recorded in
        the card): e.g. energy sources that never saw a 4-element alloy, for
        the ≤ 3 → 4-5 element extrapolation benchmark.
    transform : {None, "log10"}
        Model ``log10(y)`` (rows with ``y <= 0`` dropped) for heavy-tailed
        targets such as conductivities; ``unit`` is then the unit of the log.
    name : str, optional
        Prefix of the model ids (``"{name}-{k:03d}"``); default ``task``. Two
        sources from one data set (all rows; ≤ 3 elements) need two names.
    """

    task: str
    property: str
    quantity: str
    unit: str
    kind: str = "inorganic"
    bounds: tuple = (None, None)
    source: str = ""
    fidelity: str = ""
    max_elements: int | None = None
    transform: str | None = None
    name: str | None = None

    def __post_init__(self):
        if self.transform not in (None, "log10"):
            raise ValueError(f"transform must be None or 'log10', got {self.transform!r}")

    @property
    def prefix(self) -> str:
        """Prefix of this source's model ids."""
        return self.name or self.task

    def cleaning_rule(self) -> str:
        lo, hi = self.bounds
        parts = ["drop rows with a non-finite target or an input the featurizer cannot parse"]
        if self.max_elements is not None:
            parts.append(f"keep compositions of at most {self.max_elements} elements")
        if self.transform == "log10":
            parts.append("drop rows with target <= 0, then model log10(target)")
        if lo is not None or hi is not None:
            parts.append(f"drop rows with target outside [{lo}, {hi}] {self.unit}")
        return "; ".join(parts)


def prepare_task(source: SourceTask, featurizer, seed: int, config,
                 X=None, y=None, split=None, memo=None):
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
    memo : dict, optional
        Features of inputs seen before by the same featurizer (filled in):
        the tasks of one build that share inputs (the QM9 properties, the
        RadonPy ones) featurize each molecule once.

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
    X = X if isinstance(X, Sequence) else list(X)  # a lazy StructureColumn stays lazy
    F, keep, y = clean(source, featurizer, X, y, memo)
    split = None if split is None else np.asarray(split, dtype=object)[keep]
    rows, split_rule = split_rows(source.prefix, split, int(keep.sum()), seed, config)
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


def clean(source: SourceTask, featurizer, X, y, memo=None):
    """``(F, keep, y)``: float32 features of every row, the rows to keep, the targets.

    Dropped: a non-finite target, an input the featurizer cannot parse (all
    features NaN), a composition of more than ``source.max_elements``
    elements, a non-positive target under ``transform="log10"`` (the others
    are replaced by their log), a target outside ``source.bounds``.
    """
    from sklearn.base import clone

    f = clone(featurizer).set_params(errors="nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        F = featurize(f.fit(), X, memo)
    keep, y = target_rows(source, X, y, ~np.isnan(F).all(axis=1))
    return F, keep, y


def target_rows(source: SourceTask, X, y, keep=True):
    """``(keep, y)``: the rows ``source``'s cleaning rule keeps among those ``keep`` marks, and
    the targets (log10 under ``transform="log10"``, NaN where dropped by it).

    Dropped: a non-finite target, a composition of more than
    ``source.max_elements`` elements, a non-positive target under
    ``transform="log10"``, a target outside ``source.bounds``.
    """
    keep = np.isfinite(y) & keep
    if source.max_elements is not None:
        keep &= n_elements(X) <= source.max_elements
    if source.transform == "log10":
        keep &= y > 0
        y = np.where(keep, np.log10(np.where(y > 0, y, 1.0)), np.nan)
    lo, hi = source.bounds
    if lo is not None:
        keep &= y >= lo
    if hi is not None:
        keep &= y <= hi
    return keep, y


def featurize(featurizer, X, memo=None) -> np.ndarray:
    """float32 features of ``X``; with a ``memo`` dict, each distinct string input once.

    Examples
    --------
    >>> from skmdl.descriptors import CompositionFeaturizer
    >>> f, memo = CompositionFeaturizer(stats=["mean"]).fit(), {}
    >>> F = featurize(f, ["NaCl", "MgO", "NaCl"], memo)
    >>> sorted(memo), F.shape, bool((F[0] == F[2]).all())
    (['MgO', 'NaCl'], (3, 22), True)
    """
    keys = getattr(X, "ids", None)  # a StructureColumn: one crystal per Materials Project id
    if memo is not None and keys is not None:
        first = {}  # id -> its first row, for the ids not featurized yet
        for i, k in enumerate(keys):
            if k not in memo:
                first.setdefault(k, i)
        if first:
            memo.update(zip(first, _in_chunks(featurizer, X[list(first.values())])))
        return np.stack([memo[k] for k in keys])
    if memo is None or not len(X) or not all(isinstance(x, str) for x in X):
        return _in_chunks(featurizer, X)
    new = [x for x in dict.fromkeys(X) if x not in memo]
    if new:
        memo.update(zip(new, np.asarray(featurizer.transform(new), dtype=np.float32)))
    return np.stack([memo[x] for x in X])


def _in_chunks(featurizer, X, chunk=4096) -> np.ndarray:
    """float32 features, ``chunk`` inputs at a time: a lazy column of structures is built
    (and freed) chunk by chunk instead of all at once."""
    if len(X) <= chunk:
        return np.asarray(featurizer.transform(list(X)), dtype=np.float32)
    return np.concatenate([np.asarray(featurizer.transform(list(X[i:i + chunk])),
                                      dtype=np.float32) for i in range(0, len(X), chunk)])


def n_elements(formulas) -> np.ndarray:
    """Number of distinct elements of each formula (a large number where it does not parse).

    Examples
    --------
    >>> n_elements(["NaCl", "AlCoCrFeNi", "not a formula"]).tolist()
    [2, 5, 9999]
    """
    from ..descriptors import FormulaError, element_count

    out = np.full(len(formulas), 9999)
    for i, formula in enumerate(formulas):
        try:
            out[i] = element_count(formula)
        except FormulaError:
            pass
    return out


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
