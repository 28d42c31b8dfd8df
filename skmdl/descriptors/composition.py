"""Composition descriptors: element-property statistics over a formula.

Every formula is parsed once into a sparse (element, amount) list; all
statistics are then computed for all rows at once with ``np.*.reduceat`` over
the concatenated element rows (CSR layout), never with a Python loop per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions

from . import _base
from ._base import factorize, parse_each
from ._formula import ATOMIC_NUMBER, ELEMENTS, FormulaError, to_element_dict
from .elements import ELEMENT_TABLES, load_element_table, table_hash

#: Statistics of the XenonPy composition descriptors.
XENONPY_STATS = ("mean", "sum", "var", "gmean", "hmean", "max", "min")
#: Statistics of matminer's ``ElementProperty.from_preset("magpie")`` (same order).
MAGPIE_STATS = ("min", "max", "range", "mean", "avg_dev", "mode")
ALL_STATS = ("mean", "sum", "var", "gmean", "hmean", "max", "min", "range", "avg_dev", "mode")
_STAT_PRESETS = {"magpie": MAGPIE_STATS, "xenonpy": XENONPY_STATS, "all": ALL_STATS}
#: p values of the matminer ``Stoichiometry`` p-norms (p=0 counts the elements).
STOICHIOMETRY_P = (0, 2, 3, 5, 7, 10)
#: Elements of the optional element-fraction vector (H..Lr, as matminer's ElementFraction).
FRACTION_ELEMENTS = ELEMENTS[:103]
#: distinct inputs from which ``n_jobs`` != 1 featurizes in parallel processes
PARALLEL_MIN = 50_000


def _parse_chunk(items):
    """Each item as ``{element: amount}``, or the FormulaError that says why not."""
    return parse_each(to_element_dict, items, FormulaError)


def parse_compositions(X):
    """Parse inputs once per distinct value.

    Parameters
    ----------
    X : list, tuple, pandas Series or 1-column DataFrame
        Formula strings, pymatgen ``Composition`` objects or ``{element: amount}`` dicts.

    Returns
    -------
    parsed : list of (dict or FormulaError), one per distinct input
    codes : ndarray of int, index into ``parsed`` for each input row
    items : list, the inputs as given
    """
    items = CompositionFeaturizer._items(X)
    uniques, codes = factorize(items)
    return _parse_chunk(uniques), codes, items


def element_entries(parsed, column_of):
    """The elements of many compositions as concatenated arrays (a CSR layout).

    The input of :func:`element_statistics`. A composition that failed (a
    ``FormulaError``, or an element absent from the table) gets count 0 and
    an error message.

    Parameters
    ----------
    parsed : list of (dict or Exception)
        ``{element: amount}`` per composition, as :func:`parse_compositions`
        returns them.
    column_of : dict
        Element symbol -> row of the element-property table.

    Returns
    -------
    cols : ndarray of int, shape (nnz,)
        Table row of every element of every composition, concatenated.
    amounts : ndarray of float, shape (nnz,)
        Their amounts.
    counts : ndarray of int, shape (n_compositions,)
        Number of elements of each composition (0 for a failed one).
    errors : dict
        Position in ``parsed`` -> why that composition failed.

    Examples
    --------
    >>> cols, amounts, counts, errors = element_entries(
    ...     [{"Na": 1.0, "Cl": 1.0}, {"Xx": 2.0}], {"Na": 0, "Cl": 1})
    >>> cols.tolist(), amounts.tolist(), counts.tolist(), errors
    ([0, 1], [1.0, 1.0], [2, 0], {1: "element 'Xx' is not in the element table"})
    """
    cols, amts, counts, errors = [], [], np.zeros(len(parsed), dtype=np.intp), {}
    for k, p in enumerate(parsed):
        if isinstance(p, Exception):
            errors[k] = str(p)
            continue
        try:
            c = [column_of[e] for e in p]
        except KeyError as exc:
            errors[k] = f"element {exc.args[0]!r} is not in the element table"
            continue
        cols.extend(c)
        amts.extend(p.values())
        counts[k] = len(c)
    return np.asarray(cols, dtype=np.intp), np.asarray(amts, dtype=np.float64), counts, errors


def _groups_by_count(counts):
    """Yield (rows, positions) for the compositions having the same number k of elements.

    ``positions`` has shape (n_rows_k, k): the indices of their entries in the
    concatenated (nnz,) arrays. Grouping by k turns the ragged per-row
    reductions into dense ``(n, k, p)`` array reductions.
    """
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    for k in np.unique(counts):
        rows = np.flatnonzero(counts == k)
        yield rows, starts[rows][:, None] + np.arange(k)


def _stat_block(V, amt, stats):
    """Statistics over axis 0 of V (k, n, p) with amounts amt (k, n) -> (n, p, n_stats).

    The element axis comes first so each reduction is k - 1 contiguous
    vector operations.
    """
    w = (amt / amt.sum(axis=0))[:, :, None]
    out = np.empty((V.shape[1], V.shape[2], len(stats)))
    mean = None
    for j, s in enumerate(stats):
        if s in ("mean", "var", "avg_dev") and mean is None:
            mean = (w * V).sum(axis=0)
        if s == "mean":
            r = mean
        elif s == "sum":
            r = (amt[:, :, None] * V).sum(axis=0)
        elif s == "var":
            r = (w * (V - mean) ** 2).sum(axis=0)
        elif s == "avg_dev":
            r = (w * np.abs(V - mean)).sum(axis=0)
        elif s == "min":
            r = V.min(axis=0)
        elif s == "max":
            r = V.max(axis=0)
        elif s == "range":
            r = V.max(axis=0) - V.min(axis=0)
        elif s == "gmean":
            # exp(sum w log x): 0 if any x == 0, NaN if any x < 0.
            r = np.exp((w * np.log(V)).sum(axis=0))
        elif s == "hmean":
            r = 1.0 / (w / V).sum(axis=0)
            r[np.isinf(r)] = np.nan
        elif s == "mode":
            # Value of the most abundant element; ties (np.isclose on the
            # amounts, as matminer) resolved to the smallest value.
            amax = amt.max(axis=0)
            top = np.abs(amt - amax) <= 1e-8 + 1e-5 * np.abs(amax)
            r = np.where(top[:, :, None], V, np.inf).min(axis=0)
        else:  # pragma: no cover - validated in fit
            raise ValueError(f"unknown statistic {s!r}")
        out[:, :, j] = r
    return out


def element_statistics(table, cols, amounts, counts, stats, chunk_size=20000):
    """Weighted statistics of element properties for many compositions at once.

    Parameters
    ----------
    table : ndarray of shape (n_elements, n_properties)
    cols, amounts : ndarray of shape (nnz,)
        Table row and amount of every element of every composition, concatenated.
    counts : ndarray of shape (n_compositions,)
        Number of elements of each composition (all >= 1).
    stats : sequence of str, names from ``ALL_STATS``
    chunk_size : int
        Rows per dense block (bounds memory to ``chunk_size * k * n_properties``).

    Returns
    -------
    ndarray of shape (n_compositions, n_properties, len(stats))
    """
    out = np.empty((len(counts), table.shape[1], len(stats)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for rows, pos in _groups_by_count(counts):
            for c in range(0, len(rows), chunk_size):
                r, p = rows[c : c + chunk_size], pos[c : c + chunk_size]
                out[r] = _stat_block(table[cols[p.T]], amounts[p.T], stats)
    return out


def _row_fractions(amounts, counts):
    """(row of each entry, its fraction within the row, row starts) of concatenated amounts."""
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    row = np.repeat(np.arange(len(counts)), counts)
    return row, amounts / np.add.reduceat(amounts, starts)[row], starts


def stoichiometry_norms(amounts, counts, ps=STOICHIOMETRY_P):
    """matminer ``Stoichiometry`` features: number of elements (p=0) and p-norms of fractions.

    Parameters
    ----------
    amounts : ndarray of shape (nnz,)
        Amount of every element of every composition, concatenated.
    counts : ndarray of shape (n_compositions,)
        Number of elements of each composition (all >= 1).
    ps : sequence of float, default=STOICHIOMETRY_P
        The p of each norm (0 counts the elements).

    Returns
    -------
    ndarray of shape (n_compositions, len(ps))
    """
    _, frac, starts = _row_fractions(amounts, counts)
    out = np.empty((len(counts), len(ps)))
    for k, p in enumerate(ps):
        if p == 0:
            out[:, k] = counts
        else:
            out[:, k] = np.add.reduceat(frac**p, starts) ** (1.0 / p)
    return out


class CompositionFeaturizer(_base.ParallelFeaturizer):
    """Element-property statistics of chemical compositions (XenonPy / Magpie style).

    Inputs are formula strings, pymatgen ``Composition`` objects or
    ``{element: amount}`` dicts. Each distinct formula is parsed once; the
    statistics of all rows are computed with vectorized sparse-matrix algebra.

    Parameters
    ----------
    elements : {"magpie", "oliynyk", "jarvis", "mat2vec", "skipatom"} or DataFrame, \
            default="magpie"
        Element feature table: a packaged table's name, or a DataFrame indexed
        by element symbol with numeric columns.
    stats : {"magpie", "xenonpy", "all"} or list of str, default="magpie"
        Statistics to compute. ``"magpie"`` = min, max, range, mean, avg_dev,
        mode (matminer ``ElementProperty.from_preset("magpie")``);
        ``"xenonpy"`` = mean (weighted average), sum (weighted sum), var
        (weighted variance), gmean (geometric mean), hmean (harmonic mean),
        max, min; ``"all"`` = their union. A list picks from
        ``("mean", "sum", "var", "gmean", "hmean", "max", "min", "range",
        "avg_dev", "mode")``.
    stoichiometry : bool, default=False
        Append matminer's ``Stoichiometry`` features: the number of elements
        and the 2, 3, 5, 7, 10-norms of the element fractions.
    element_fractions : bool, default=False
        Append the fraction of each element H..Lr (103 columns).
    errors : {"raise", "nan"}, default="raise"
        What to do with an unparsable formula, an unknown element, or an
        element missing from the table: raise a ``ValueError`` naming the
        formula and its row, or return a row of NaN and warn with the count.
    n_jobs : int, default=None
        Parallel worker processes (joblib) for inputs with at least 50,000
        distinct formulas; ``None`` means 1. Results do not depend on it.
        One process is already fast (see ``benchmarks/descriptor_speed.py``);
        workers pay off only on very large inputs.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Output feature names, ``"{stat}_{property}"`` (plus ``"stoich_p{p}"``,
        ``"frac_{element}"``).
    table_ : DataFrame
        The element table used.
    table_hash_ : str
        sha256 of the table (identifies the descriptor in model cards).

    See Also
    --------
    skmdl.descriptors.load_element_table : the packaged tables.

    Examples
    --------
    >>> from skmdl.descriptors import CompositionFeaturizer
    >>> f = CompositionFeaturizer(stats=["mean", "max"]).fit(["Fe2O3", "NaCl"])
    >>> f.transform(["Fe2O3", "NaCl"]).shape
    (2, 44)
    >>> f.get_feature_names_out()[:2].tolist()
    ['mean_Number', 'max_Number']
    >>> float(f.transform(["NaCl"])[0, 0])
    14.0
    """

    _parameter_constraints = {
        **_base.ParallelFeaturizer._parameter_constraints,
        "elements": [StrOptions(set(ELEMENT_TABLES)), pd.DataFrame],
        "stats": [StrOptions(set(_STAT_PRESETS)), list, tuple],
        "stoichiometry": ["boolean"],
        "element_fractions": ["boolean"],
    }
    _noun = "formulas"
    _item_error = FormulaError
    _parallel_min = PARALLEL_MIN

    def __init__(self, elements="magpie", stats="magpie", stoichiometry=False,
                 element_fractions=False, errors="raise", n_jobs=None):
        self.elements = elements
        self.stats = stats
        self.stoichiometry = stoichiometry
        self.element_fractions = element_fractions
        super().__init__(errors=errors, n_jobs=n_jobs)

    @classmethod
    def _is_single_item(cls, X) -> bool:
        return isinstance(X, str) or hasattr(X, "element_composition")

    def _describe(self, item) -> str:
        return f"formula {item!r}"

    def _resolve_stats(self):
        if isinstance(self.stats, str):
            return _STAT_PRESETS[self.stats]
        stats = tuple(self.stats)
        bad = [s for s in stats if s not in ALL_STATS]
        if bad or not stats:
            raise ValueError(f"unknown statistics {bad}; choose from {ALL_STATS}")
        return stats

    def _resolve_table(self):
        if isinstance(self.elements, str):
            return load_element_table(self.elements)
        table = self.elements.copy()
        table.index = table.index.astype(str)
        unknown = [e for e in table.index if e not in ATOMIC_NUMBER]
        if unknown:
            raise ValueError(f"element table has unknown element symbols {unknown[:5]}")
        try:
            return table.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"element table must be numeric: {exc}") from None

    def _fit(self, X):
        """Load the element table and fix the output features."""
        self.stats_ = self._resolve_stats()
        self.table_ = self._resolve_table()
        self.table_hash_ = table_hash(self.table_)
        self._table_values = self.table_.to_numpy()
        self._column_of = {e: i for i, e in enumerate(self.table_.index)}
        names = [f"{s}_{p}" for p in self.table_.columns for s in self.stats_]
        if self.stoichiometry:
            names += [f"stoich_p{p}" for p in STOICHIOMETRY_P]
        if self.element_fractions:
            names += [f"frac_{e}" for e in FRACTION_ELEMENTS]
        self.feature_names_out_ = np.asarray(names, dtype=object)

    def _featurize_chunk(self, uniques):
        """Features of distinct inputs: (matrix, {position: reason})."""
        cols, amounts, counts, errors = element_entries(_parse_chunk(uniques), self._column_of)
        ok = counts > 0
        U = self._empty(len(uniques))
        if ok.any():
            c_ok = counts[ok]
            blocks = [
                element_statistics(self._table_values, cols, amounts, c_ok, self.stats_).reshape(
                    len(c_ok), -1
                )
            ]
            if self.stoichiometry:
                blocks.append(stoichiometry_norms(amounts, c_ok))
            if self.element_fractions:
                blocks.append(self._fractions(cols, amounts, c_ok))
            U[ok] = np.hstack(blocks)
        return U, errors

    def _fractions(self, cols, amounts, counts):
        z_of = np.array([ATOMIC_NUMBER[e] - 1 for e in self.table_.index])
        z = z_of[cols]
        row, frac, _ = _row_fractions(amounts, counts)
        out = np.zeros((len(counts), len(ELEMENTS)))
        np.add.at(out, (row, z), frac)
        return out[:, : len(FRACTION_ELEMENTS)]
