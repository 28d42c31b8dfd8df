"""What every featurizer shares: its ``errors`` / ``n_jobs`` parameters, reading the inputs
as a list, featurizing each distinct input once (in worker processes for large inputs),
and reporting bad rows as :class:`~skmdl.exceptions.InvalidInputError` or
:class:`~skmdl.exceptions.FeaturizationWarning`.

A featurizer derives from :class:`BaseFeaturizer` (or :class:`ParallelFeaturizer`,
which adds ``n_jobs``), sets ``feature_names_out_`` in ``_fit(X)``, and implements
``_featurize_chunk(items) -> (matrix, {position: reason})``; ``fit`` (parameter
validation) and ``transform`` are written once, here.

Examples
--------
>>> import numpy as np
>>> class Length(BaseFeaturizer):
...     _noun = "words"
...     def __init__(self, *, errors="raise"):
...         super().__init__(errors=errors)
...     def _fit(self, X):
...         self.feature_names_out_ = np.asarray(["length"], dtype=object)
...     def _featurize_chunk(self, items):
...         bad = {k: "empty" for k, it in enumerate(items) if not it}
...         return np.array([[len(it) or np.nan] for it in items], dtype=float), bad
>>> Length().fit().transform(["ab", "abc", "ab"]).tolist()
[[2.0], [3.0], [2.0]]
>>> Length().fit().transform(["ab", ""])
Traceback (most recent call last):
...
skmdl.exceptions.InvalidInputError: cannot featurize '' (row 1): empty
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ..exceptions import FeaturizationWarning, InvalidInputError
from ..utils._base import FeatureNamesMixin, MaterialsInputMixin, as_item_list


def factorize(items: list):
    """Distinct items and, for each item, the index of its distinct value.

    Parameters
    ----------
    items : list
        Input items; unhashable ones (e.g. dicts) each get their own slot.

    Returns
    -------
    uniques : list
    codes : ndarray of shape (len(items),), int

    Examples
    --------
    >>> uniques, codes = factorize(["NaCl", "MgO", "NaCl"])
    >>> uniques, codes.tolist()
    (['NaCl', 'MgO'], [0, 1, 0])
    """
    if all(type(it) is str for it in items):
        codes, uniques = pd.factorize(np.array(items, dtype=object))
        return list(uniques), codes
    seen: dict = {}
    uniques, codes = [], np.empty(len(items), dtype=np.intp)
    for i, it in enumerate(items):
        try:
            key = (type(it), it)
            hash(key)
        except TypeError:  # unhashable (e.g. dict): its own slot
            key = ("id", i)
        j = seen.get(key)
        if j is None:
            j = seen[key] = len(uniques)
            uniques.append(it)
        codes[i] = j
    return uniques, codes


def parse_each(parse, items, error_type) -> list:
    """``parse(item)`` of each item, or the ``error_type`` exception that says why not.

    Examples
    --------
    >>> parse_each(int, ["1", "x"], ValueError)[0]
    1
    """
    out = []
    for it in items:
        try:
            out.append(parse(it))
        except error_type as exc:
            out.append(exc)
    return out


def errors_by_row(errors: dict, codes) -> dict:
    """``{distinct-item index: reason}`` -> ``{row: reason}`` through the factorize codes.

    Examples
    --------
    >>> import numpy as np
    >>> errors_by_row({1: "bad"}, np.array([0, 1, 0, 1]))
    {1: 'bad', 3: 'bad'}
    """
    rows = np.flatnonzero(np.isin(codes, list(errors)))
    return {int(r): errors[codes[r]] for r in rows}


class BaseFeaturizer(MaterialsInputMixin, FeatureNamesMixin, TransformerMixin, BaseEstimator):
    """Base of skmdl's featurizers (see the module docstring).

    Class attributes a subclass may set:

    * ``_noun``: the items in the plural, for messages ("formulas").
    * ``_item_error``: the :class:`~skmdl.exceptions.InvalidInputError`
      subclass raised for a bad row.
    * ``_deduplicate``: featurize each distinct item once (hashable items).
    * ``_dtype``: dtype of the output.

    Parameters
    ----------
    errors : {"raise", "nan"}, default="raise"
        Bad items raise (``"raise"``) or give NaN rows and a warning (``"nan"``).
    """

    _parameter_constraints = {"errors": [StrOptions({"raise", "nan"})]}
    _noun = "items"
    _item_error = InvalidInputError
    _deduplicate = True
    _dtype = np.float64

    def __init__(self, *, errors="raise"):
        self.errors = errors

    # ------------------------------------------------------------ hooks

    @classmethod
    def _is_single_item(cls, X) -> bool:
        """Whether ``X`` is one item rather than a sequence of them (refused)."""
        return isinstance(X, str)

    def _describe(self, item) -> str:
        """How a message names an item, e.g. ``"formula 'Xx2'"``."""
        return repr(item)

    def _fit(self, X):  # pragma: no cover - abstract
        """Set ``feature_names_out_`` (and what else ``transform`` needs) from the parameters."""
        raise NotImplementedError

    def _featurize_chunk(self, items):  # pragma: no cover - abstract
        """(matrix of shape (len(items), n_features_out), {position: reason})."""
        raise NotImplementedError

    # ------------------------------------------------------------ the shared path

    @classmethod
    def _items(cls, X) -> list:
        """Inputs as a Python list, without coercing them through numpy."""
        if cls._is_single_item(X):
            what = "string" if isinstance(X, str) else type(X).__name__
            raise ValueError(f"expected a sequence of {cls._noun}, got a single {what}; "
                             "wrap it in a list")
        return as_item_list(X, cls._noun)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Validate the parameters and fix the output features.

        Parameters
        ----------
        X : list, tuple, pandas Series or 1-column DataFrame, default=None
            Input items. Only a featurizer that says so learns from them
            (:class:`~skmdl.descriptors.RadialDistributionFeaturizer` its
            elements); the others accept them for the pipeline API.
        y : ignored

        Returns
        -------
        self
        """
        self._fit(X)
        return self

    def transform(self, X):
        """Featurize the inputs.

        Parameters
        ----------
        X : list, tuple, pandas Series or 1-column DataFrame
            The input items (see the class docstring).

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            Rows of bad items are NaN with ``errors="nan"``.

        Raises
        ------
        InvalidInputError
            For the first bad item with ``errors="raise"`` (a subclass that
            names the kind of input: ``FormulaError``, ``MoleculeError``,
            ``StructureError``).
        """
        check_is_fitted(self, "feature_names_out_")
        items = self._items(X)
        if self._deduplicate:
            uniques, codes = factorize(items)
        else:
            uniques, codes = items, np.arange(len(items))
        U, errors = self._featurize(uniques)
        if errors:
            self._report(errors_by_row(errors, codes), items)
        return U[codes]

    def _featurize(self, uniques):
        """Features of the distinct items: ``(matrix, {position: reason})``."""
        return self._featurize_chunk(uniques)

    def _empty(self, n):
        """An all-NaN output block of ``n`` rows."""
        return np.full((n, len(self.feature_names_out_)), np.nan, dtype=self._dtype)

    def _report(self, errors: dict, items: list, stacklevel: int = 3) -> None:
        """Raise for the first bad row (``errors="raise"``) or warn with the count.

        ``errors`` maps row -> reason; ``stacklevel`` counts from the caller
        of this method.
        """
        if not errors:
            return
        if self.errors == "raise":
            i = min(errors)
            raise self._item_error(errors[i], item=items[i], row=i,
                                   label=self._describe(items[i]))
        warnings.warn(FeaturizationWarning(len(errors), len(items), self._noun, sorted(errors)),
                      stacklevel=stacklevel)


class ParallelFeaturizer(BaseFeaturizer):
    """A featurizer with an ``n_jobs`` parameter: many distinct items go to joblib workers.

    ``_parallel_min`` is the number of distinct items from which ``n_jobs !=
    1`` starts workers (below it, starting them costs more than it saves);
    ``_chunks_per_job`` the chunks per worker the items are cut into.

    Parameters
    ----------
    errors : {"raise", "nan"}, default="raise"
    n_jobs : int or None, default=None
        Worker processes; ``None`` means 1. Results do not depend on it.
    """

    _parameter_constraints = {**BaseFeaturizer._parameter_constraints, "n_jobs": [Integral, None]}
    _parallel_min = 2000
    _chunks_per_job = 2

    def __init__(self, *, errors="raise", n_jobs=None):
        self.n_jobs = n_jobs
        super().__init__(errors=errors)

    def _featurize(self, uniques):
        """``_featurize_chunk`` of the distinct items, in joblib workers for many of them."""
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        if n_jobs == 1 or len(uniques) < self._parallel_min:
            return self._featurize_chunk(uniques)
        # workers return float blocks and reasons: shipping parsed objects back costs more
        n_chunks = self._chunks_per_job * (n_jobs if n_jobs > 0 else 4)
        chunks = [c for c in np.array_split(np.arange(len(uniques)), n_chunks) if len(c)]
        results = Parallel(n_jobs=n_jobs)(
            delayed(self._featurize_chunk)([uniques[i] for i in c]) for c in chunks)
        U = np.vstack([r[0] for r in results])
        errors = {int(c[k]): reason for c, (_, err) in zip(chunks, results)
                  for k, reason in err.items()}
        return U, errors
