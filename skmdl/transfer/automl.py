"""Transfer learning inside AutoML: a FLAML learner on composition tables.

AutoML tools such as FLAML take numeric tables, and FLAML drops a column of
strings that are all distinct (as formulas usually are). A composition is
numeric, though: one column per element holding its amount in the formula.
:func:`composition_table` turns formulas into such a table, which FLAML's own
learners (random forest, LightGBM, ...) use as it is, and
:class:`TransferLearner` turns its rows back into compositions for
:class:`~skmdl.transfer.TransferRegressor`. The source models' descriptors
depend on the element amounts only, so nothing is lost on the way.

Pass ``skip_transform=True`` to ``AutoML.fit``: FLAML otherwise drops every
column with a single value, and an element with the same amount in every row
(the O of a set of ABO3 perovskites) still matters to the source models.

This module needs FLAML (``pip install "skmdl[automl]"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..descriptors import ATOMIC_NUMBER
from ..descriptors.composition import parse_compositions
from ..utils.optional import import_optional
from .estimators import TransferRegressor

tune = import_optional("flaml.tune", "skmdl.transfer.automl")
SKLearnEstimator = import_optional("flaml.automl.model", "skmdl.transfer.automl").SKLearnEstimator


def composition_table(X, elements=None) -> pd.DataFrame:
    """Element amounts of formulas: one row per formula, one column per element.

    Parameters
    ----------
    X : sequence of str, pymatgen Composition or dict
        Formulas (``"Fe2O3"``, ``"CuSO4·5H2O"``) or compositions.
    elements : sequence of str, optional
        The columns, e.g. those of the table a model was trained on (so that
        new formulas give the same columns). ``None``: the elements present
        in ``X``. An element of ``X`` outside ``elements`` is an error.

    Returns
    -------
    pandas.DataFrame of float
        Columns are element symbols, in order of atomic number unless
        ``elements`` is given; an element absent from a formula has amount 0.
        The index is that of ``X`` when ``X`` is a pandas object.

    Examples
    --------
    >>> from skmdl.transfer.automl import composition_table
    >>> composition_table(["Fe2O3", "NaCl"])
        O   Na   Cl   Fe
    0  3.0  0.0  0.0  2.0
    1  0.0  1.0  1.0  0.0
    >>> composition_table(["FeO"], elements=["Fe", "O", "Na"])
        Fe    O   Na
    0  1.0  1.0  0.0
    """
    parsed, codes, items = parse_compositions(X)
    for i, p in enumerate(parsed):
        if isinstance(p, Exception):
            row = int(np.flatnonzero(codes == i)[0])
            raise ValueError(f"cannot parse {items[row]!r} (row {row}): {p}")
    present = sorted({el for p in parsed for el in p}, key=ATOMIC_NUMBER.__getitem__)
    if elements is not None:
        extra = [el for el in present if el not in set(elements)]
        if extra:
            raise ValueError(f"elements {extra} are not columns of the table ({list(elements)})")
        present = [str(el) for el in elements]
    column = {el: j for j, el in enumerate(present)}
    amounts = np.zeros((len(parsed), len(present)))
    for i, p in enumerate(parsed):
        for el, amount in p.items():
            amounts[i, column[el]] = amount
    index = X.index if isinstance(X, (pd.Series, pd.DataFrame)) else None
    return pd.DataFrame(amounts[codes], columns=present, index=index)


def table_compositions(table) -> list:
    """Rows of a :func:`composition_table` as ``{element: amount}`` dicts.

    Zero amounts are left out. Every column must be an element symbol, and
    every amount finite and non-negative; a row must contain some element.

    Examples
    --------
    >>> from skmdl.transfer.automl import composition_table, table_compositions
    >>> table_compositions(composition_table(["Fe2O3"]))
    [{'O': 3.0, 'Fe': 2.0}]
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected a DataFrame with one column per element, got "
                        f"{type(table).__name__}")
    columns = [str(c) for c in table.columns]
    unknown = [c for c in columns if c not in ATOMIC_NUMBER]
    if unknown:
        raise ValueError(f"columns {unknown[:5]} are not element symbols (a composition table "
                         f"has one column per element, e.g. from composition_table)")
    A = table.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(A) | (A < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"amount of {columns[col]} in row {row} is {float(A[row, col])!r}; amounts "
                         "must be finite and non-negative")
    empty = np.flatnonzero(~(A > 0).any(axis=1))
    if len(empty):
        raise ValueError(f"row {empty[0]} has no element with a positive amount")
    return [{columns[j]: float(a[j]) for j in np.flatnonzero(a)} for a in A]


class TransferLearner(SKLearnEstimator):
    """FLAML learner: :class:`~skmdl.transfer.TransferRegressor` on a composition table.

    Register it with ``automl.add_learner("skmdl_transfer", TransferLearner)``
    and give ``AutoML.fit`` a :func:`composition_table` with
    ``skip_transform=True``. FLAML tunes the number of kept sources, the
    hidden layer used as features and the strength of the ridge-regression
    head (standardized inputs) of each ensemble member.

    The fixed settings are class attributes; to change them, subclass at
    module level (so that a fitted AutoML object can be pickled)::

        class SteelTransfer(TransferLearner):
            sources = ["mp_e_hull-000", "critexam_ef-000", "oqmd_formation_enthalpy-000"]

    Attributes
    ----------
    sources : "auto" or list of str, default="auto"
        Candidate source models (see ``TransferRegressor.sources``).
    library : None, str, Path or ModelLibrary, default=None
        The model library; ``None`` is the embedded one.
    kind : str, default="inorganic"
    exclude_tasks, exclude_quantities : tuple of str, default=()
        As in :class:`~skmdl.transfer.TransferRegressor`.
    max_sources : int, default=5
        Upper end of the tuned ``n_sources`` (capped by the candidates).
    screening_cv : int, default=3
        Inner folds that rank the candidate sources.
    n_jobs : int or None, default=None
        ``TransferRegressor.n_jobs``. FLAML's own ``n_jobs`` is not passed
        on: it counts threads, while the transfer estimator starts joblib
        worker processes, whose start-up alone can use up a time budget of
        a few seconds.

    Notes
    -----
    Regression only. ``calibration_cv`` is off: FLAML scores point
    predictions, and calibrating intervals would cost a further
    cross-validation in every trial.
    """

    sources = "auto"
    library = None
    kind = "inorganic"
    exclude_tasks = ()
    exclude_quantities = ()
    max_sources = 5
    screening_cv = 3
    n_jobs = None

    def __init__(self, task="regression", **config):
        super().__init__(task, **config)
        if self._task.is_classification():
            raise ValueError("TransferLearner supports regression tasks only")
        self.estimator_class = TransferRegressor

    @classmethod
    def _n_candidates(cls):
        if cls.sources != "auto":
            return len(cls.sources)
        from .featurizer import resolve_library

        return len(resolve_library(cls.library).search(kind=cls.kind,
                                                       exclude_tasks=cls.exclude_tasks))

    @classmethod
    def search_space(cls, data_size, task, **params):
        upper = max(1, min(cls.max_sources, cls._n_candidates()))
        return {
            # randint's upper bound is exclusive
            "n_sources": {"domain": tune.randint(1, upper + 1), "init_value": 1,
                          "low_cost_init_value": 1},
            "alpha": {"domain": tune.loguniform(1e-2, 1e3), "init_value": 1.0},
            "layers": {"domain": tune.choice(["last", "output"]), "init_value": "last"},
        }

    @classmethod
    def cost_relative2lgbm(cls):
        return 10.0  # a fit screens every candidate source by inner cross-validation

    def config2params(self, config: dict) -> dict:
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        params = dict(config)
        alpha = params.pop("alpha", 1.0)
        layers = params.pop("layers", "last")
        seed = params.pop("random_seed", params.pop("random_state", 0))
        params.pop("n_jobs", None)  # FLAML's threads per trial; see the class docstring
        return {
            "sources": self.sources if self.sources == "auto" else list(self.sources),
            "library": self.library,
            "kind": self.kind,
            "exclude_tasks": tuple(self.exclude_tasks),
            "exclude_quantities": tuple(self.exclude_quantities),
            "n_sources": int(params.pop("n_sources", 1)),
            "layers": "output" if layers == "output" else -1,
            "head": make_pipeline(StandardScaler(), Ridge(alpha=alpha)),
            "screening_cv": self.screening_cv,
            "calibration_cv": None,
            "n_jobs": self.n_jobs,
            "random_state": seed,
        }

    def _preprocess(self, X):
        return table_compositions(X)
