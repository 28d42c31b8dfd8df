"""Cross-validation splits for extrapolation: validate on the top of the target range.

Random K-fold scores how well a model interpolates. When the goal is to find
materials *beyond* the known range (the highest lattice thermal conductivity,
Ju et al. 2021), hyperparameters and source models should be chosen by how
well they extrapolate: :class:`ExtrapolationSplit` holds out the highest
(or lowest) targets of the training data, so the inner CV imitates the outer
task without looking at its test set.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import BaseCrossValidator, PredefinedSplit
from sklearn.utils._param_validation import (Interval, InvalidParameterError, StrOptions,
                                             validate_parameter_constraints)


class ExtrapolationSplit(BaseCrossValidator):
    """Splits whose validation set is the extreme tail of ``y``.

    Split ``k`` validates on the ``fractions[k]`` share of samples with the
    highest ``y`` (``tail="upper"``) or lowest (``tail="lower"``) and trains
    on the rest. Use it as ``cv`` of ``RidgeCV``, ``GridSearchCV``, or as
    ``screening_cv`` of :class:`~skmdl.transfer.TransferRegressor`.

    Parameters
    ----------
    fractions : float or sequence of float in (0, 1), default=(0.1, 0.2)
        Validation shares, one split each.
    tail : {"upper", "lower"}, default="upper"
        Validate on the highest (``"upper"``) or the lowest ``y``.
    blocks : bool, default=False
        ``False``: split ``k`` validates the whole ``fractions[k]`` tail and
        trains on the rest (the tails overlap). ``True``: the sorted fractions
        cut the tail into disjoint blocks; split ``k`` validates the rows
        between the ``fractions[k-1]`` and ``fractions[k]`` tails and trains
        only on the rows further from the tail, so every split extrapolates
        and every row is validated at most once, as interval calibration
        (:class:`~skmdl.transfer.ConformalRegressor`) needs.

    Notes
    -----
    A splitter has no ``fit``: the parameters are validated (as an estimator's
    are in ``fit``, with scikit-learn's constraint machinery) by ``split`` and
    ``get_n_splits``, and an invalid one raises
    ``sklearn.utils._param_validation.InvalidParameterError`` (a ``ValueError``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmdl.transfer import ExtrapolationSplit
    >>> y = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    >>> [test.tolist() for _, test in ExtrapolationSplit(fractions=(0.2, 0.4)).split(y, y)]
    [[0], [0, 2]]
    >>> cv = ExtrapolationSplit(fractions=(0.2, 0.4), blocks=True)
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(y, y)]
    [([1, 2, 3, 4], [0]), ([1, 3, 4], [2])]
    """

    _parameter_constraints = {
        "fractions": [Interval(Real, 0, 1, closed="neither"), "array-like"],
        "tail": [StrOptions({"upper", "lower"})],
        "blocks": ["boolean"],
    }

    def __init__(self, fractions=(0.1, 0.2), tail="upper", blocks=False):
        self.fractions = fractions
        self.tail = tail
        self.blocks = blocks

    def _validate_params(self) -> list:
        """The parameters checked against ``_parameter_constraints``; the fractions as a list."""
        validate_parameter_constraints(self._parameter_constraints,
                                       {"fractions": self.fractions, "tail": self.tail,
                                        "blocks": self.blocks},
                                       caller_name=type(self).__name__)
        fr = [self.fractions] if isinstance(self.fractions, Real) else list(self.fractions)
        if not fr or not all(isinstance(f, Real) and 0 < f < 1 for f in fr):
            raise InvalidParameterError(f"The 'fractions' parameter of {type(self).__name__} "
                                        f"must be numbers in (0, 1), got {self.fractions!r}")
        return fr

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays, one pair per fraction.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Only its length is used.
        y : array-like of shape (n_samples,)
            Targets; the validation set is their extreme tail.
        groups : ignored

        Yields
        ------
        train, test : ndarray of int
        """
        fr = self._validate_params()
        if not self.blocks:
            yield from super().split(X, y, groups)
            return
        order = self._order(y)
        cuts = [0] + [self._tail_size(f, len(order)) for f in sorted(fr)]
        for a, b in zip(cuts[:-1], cuts[1:]):
            if b > a:  # split k: the block [a, b) from the tail, trained beyond it
                n = len(order)
                yield np.sort(order[:n - b]), np.sort(order[n - b:n - a])

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits: the number of fractions.

        Parameters
        ----------
        X, y, groups : ignored

        Returns
        -------
        int
        """
        return len(self._validate_params())

    def _iter_test_indices(self, X=None, y=None, groups=None):
        order = self._order(y)
        for f in self._validate_params():
            yield order[len(order) - self._tail_size(f, len(order)):]

    def _order(self, y) -> np.ndarray:
        """Row indices sorted so that the tail comes last."""
        if y is None:
            raise ValueError("ExtrapolationSplit needs y to sort the samples")
        y = np.asarray(y, dtype=float)
        return np.argsort(y if self.tail == "upper" else -y, kind="stable")

    @staticmethod
    def _tail_size(fraction, n) -> int:
        return min(n - 1, max(1, int(round(fraction * n))))


class ElementCountSplit(BaseCrossValidator):
    """One split per number of elements: validate on the compositions with ``k`` elements.

    Split ``k`` trains on every composition whose number of elements differs
    from ``k`` and validates on those with ``k``, so the inner CV of a model
    trained on binaries and ternaries scores how it carries one system size
    to another (the high-entropy-alloy setting: train on <= 3 elements,
    predict 4 and 5). Every row is validated once, so it serves as
    ``calibration_cv`` of :class:`~skmdl.transfer.TransferRegressor`, whose
    members it then weighs by how well they extrapolate in system size.

    Parameters
    ----------
    min_size : int, default=2
        Element counts with fewer rows join the nearest larger count.

    Examples
    --------
    >>> from skmdl.transfer.splits import ElementCountSplit
    >>> X = ["NiAl", "CuZn", "NiAlCo", "FeCrNi", "TiZrHf", "AlCoCrFe"]
    >>> [test.tolist() for _, test in ElementCountSplit().split(X)]
    [[0, 1], [2, 3, 4, 5]]
    """

    _parameter_constraints = {"min_size": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, min_size=2):
        self.min_size = min_size

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits: the number of element-count groups of ``X``.

        Parameters
        ----------
        X : list of formulas, Compositions or Structures
        y, groups : ignored

        Returns
        -------
        int
        """
        if X is None:
            raise ValueError("ElementCountSplit needs X to count the elements")
        return len(np.unique(self._groups(X)))

    def _groups(self, X) -> np.ndarray:
        validate_parameter_constraints(self._parameter_constraints,
                                       {"min_size": self.min_size},
                                       caller_name=type(self).__name__)
        counts = np.array([_element_count(item, row) for row, item in enumerate(X)])
        groups = counts.copy()
        for value in sorted(set(counts.tolist())):
            others = [u for u in np.unique(groups) if u != value]
            if (groups == value).sum() < self.min_size and others:
                # a small group joins the next larger count (or the largest one below)
                groups[groups == value] = min((u for u in others if u > value),
                                              default=max(others))
        if len(np.unique(groups)) < 2:
            raise ValueError("ElementCountSplit needs compositions of at least two different "
                             f"numbers of elements (with >= {self.min_size} rows each), got "
                             f"{sorted(set(counts.tolist()))}")
        return groups

    def _iter_test_indices(self, X=None, y=None, groups=None):
        g = self._groups(X)
        for value in np.unique(g):
            yield np.flatnonzero(g == value)


def _element_count(item, row) -> int:
    """:func:`skmdl.descriptors.element_count`, with the row in the error."""
    from ..descriptors import FormulaError, element_count

    try:
        return element_count(item)
    except FormulaError as exc:
        raise FormulaError(f"cannot count the elements of {item!r} (row {row}): {exc}") from None


def fixed_partition(cv, X, y) -> PredefinedSplit:
    """``cv``'s splits of the raw inputs ``X``, frozen as a ``PredefinedSplit``.

    The members of a transfer estimator are weighed on their out-of-fold
    predictions, so every row must be validated exactly once: ``cv`` must
    partition the rows (``KFold``, ``GroupKFold`` through a wrapper,
    :class:`ElementCountSplit`; not :class:`ExtrapolationSplit`, whose
    validation sets overlap and leave rows out).

    Parameters
    ----------
    cv : splitter
        Called as ``cv.split(X, y)``.
    X : list
        The raw inputs.
    y : array-like or None

    Returns
    -------
    PredefinedSplit

    Raises
    ------
    ValueError
        If ``cv`` validates a row twice, never, or has fewer than two folds.

    Examples
    --------
    >>> from sklearn.model_selection import KFold
    >>> split = fixed_partition(KFold(3), list("abcdef"), None)
    >>> split.get_n_splits(), [t.tolist() for _, t in split.split()]
    (3, [[0, 1], [2, 3], [4, 5]])
    """
    n = len(X)
    test_fold = np.full(n, -1)
    k = -1
    for k, (_, test) in enumerate(cv.split(X, y)):
        test = np.asarray(test)
        if (test_fold[test] >= 0).any():
            raise ValueError(f"calibration_cv={cv!r} validates some rows twice; it must "
                             "partition the rows (each row validated exactly once)")
        test_fold[test] = k
    if k < 1 or (test_fold < 0).any():
        raise ValueError(f"calibration_cv={cv!r} must partition the rows into at least two "
                         f"validation folds; {int((test_fold < 0).sum())} of {n} rows were "
                         "never validated")
    return PredefinedSplit(test_fold)
