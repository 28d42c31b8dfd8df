"""Pair-interaction descriptors: products of the atomic fractions of element pairs.

The regular-solution (order-0 Redlich-Kister) picture of an alloy's mixing
enthalpy is a sum over its element pairs, ``sum_{i<j} x_i x_j W_ij``: a model
linear in these products, learned from binaries and ternaries, predicts a
quaternary from the pair terms it has seen. That is why it extrapolates in
the number of elements where networks on element-property statistics do not
(``benchmarks/hea_stability.py``).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.utils._param_validation import StrOptions

from . import _base
from ._formula import ATOMIC_NUMBER, FormulaError, to_element_dict

__all__ = ["PairFractionFeaturizer", "metal_symbols"]


def metal_symbols(max_z=94) -> list:
    """pymatgen's metals up to atomic number ``max_z``, in order of atomic number.

    Parameters
    ----------
    max_z : int, default=94
        Heaviest element included (94: Pu).

    Returns
    -------
    list of str
    """
    from pymatgen.core import Element

    return [e.symbol for e in Element if e.is_metal and e.Z <= max_z]


class PairFractionFeaturizer(_base.BaseFeaturizer):
    """``x_i * x_j`` for every pair of elements of a fixed set, and the fraction outside it.

    Parameters
    ----------
    elements : "metals" or list of str, default="metals"
        The element set: pymatgen's metals up to Pu (69 elements, 2,346 pairs)
        or given symbols. An element outside the set is no error: its fraction
        goes to the last column, ``x_other``, and its pairs to none.
    errors : {"raise", "nan"}, default="raise"
        What an unparsable formula does.

    Attributes
    ----------
    elements_ : list of str
    feature_names_out_ : ndarray of str
        ``"x_Al*x_Ni"`` for each pair (in order of atomic number), then ``"x_other"``.

    Examples
    --------
    >>> f = PairFractionFeaturizer(elements=["Al", "Ni", "Co"]).fit()
    >>> list(f.get_feature_names_out())
    ['x_Al*x_Co', 'x_Al*x_Ni', 'x_Co*x_Ni', 'x_other']
    >>> f.transform(["AlNi", "AlNiO2"]).round(3).tolist()
    [[0.0, 0.25, 0.0, 0.0], [0.0, 0.062, 0.0, 0.5]]
    """

    _parameter_constraints = {**_base.BaseFeaturizer._parameter_constraints,
                              "elements": [StrOptions({"metals"}), list, tuple]}
    _noun = "formulas"
    _item_error = FormulaError

    def __init__(self, elements="metals", errors="raise"):
        self.elements = elements
        super().__init__(errors=errors)

    @classmethod
    def _is_single_item(cls, X) -> bool:
        return isinstance(X, str) or hasattr(X, "element_composition")

    def _describe(self, item) -> str:
        return f"formula {item!r}"

    def _fit(self, X):
        els = metal_symbols() if isinstance(self.elements, str) else list(self.elements)
        unknown = [e for e in els if e not in ATOMIC_NUMBER]
        if unknown or len(set(els)) != len(els) or len(els) < 2:
            raise ValueError(f"elements must be ≥ 2 distinct element symbols; bad: {unknown}")
        self.elements_ = sorted(els, key=ATOMIC_NUMBER.get)
        self._index = {e: i for i, e in enumerate(self.elements_)}
        n = len(self.elements_)
        i, j = np.triu_indices(n, k=1)
        self._pair_column = np.full((n, n), -1, dtype=np.int64)
        self._pair_column[i, j] = np.arange(len(i))
        names = [f"x_{self.elements_[a]}*x_{self.elements_[b]}" for a, b in zip(i, j)]
        self.feature_names_out_ = np.asarray(names + ["x_other"], dtype=object)

    def sparse_transform(self, X):
        """The features as a ``scipy.sparse`` CSR matrix (at most 10 of the columns
        are non-zero for a 5-element composition).

        Parameters
        ----------
        X : list, tuple, pandas Series or 1-column DataFrame
            Formulas, pymatgen ``Composition`` objects or ``{element: amount}`` dicts.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_samples, n_features_out)
            Bad rows are empty and reported as :meth:`transform` does.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "feature_names_out_")
        items = self._items(X)
        uniques, codes = _base.factorize(items)
        M, errors = self._sparse_chunk(uniques)
        if errors:
            self._report(_base.errors_by_row(errors, codes), items)
        return M[codes]

    def _sparse_chunk(self, uniques):
        rows, cols, vals, errors = [], [], [], {}
        other = len(self.feature_names_out_) - 1
        for r, d in enumerate(_base.parse_each(to_element_dict, uniques, FormulaError)):
            if isinstance(d, Exception):
                errors[r] = str(d)
                continue
            total = float(sum(d.values()))
            inside = sorted((self._index[e], a / total) for e, a in d.items() if e in self._index)
            rest = sum(a for e, a in d.items() if e not in self._index) / total
            for k, (a, xa) in enumerate(inside):
                for b, xb in inside[k + 1:]:
                    rows.append(r)
                    cols.append(self._pair_column[a, b])
                    vals.append(xa * xb)
            if rest:
                rows.append(r)
                cols.append(other)
                vals.append(rest)
        M = sparse.csr_matrix((vals, (rows, cols)),
                              shape=(len(uniques), len(self.feature_names_out_)))
        return M, errors

    def _featurize_chunk(self, uniques):
        M, errors = self._sparse_chunk(uniques)
        U = M.toarray()
        if errors:
            U[list(errors)] = np.nan
        return U, errors
