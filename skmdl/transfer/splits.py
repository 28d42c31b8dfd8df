"""Cross-validation splits for extrapolation: validate on the top of the target range.

Random K-fold scores how well a model interpolates. When the goal is to find
materials *beyond* the known range (the highest lattice thermal conductivity,
Ju et al. 2021), hyperparameters and source models should be chosen by how
well they extrapolate: :class:`ExtrapolationSplit` holds out the highest
(or lowest) targets of the training data, so the inner CV imitates the outer
task without looking at its test set.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.model_selection import BaseCrossValidator
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
    """

    _parameter_constraints = {
        "fractions": [Interval(Real, 0, 1, closed="neither"), "array-like"],
        "tail": [StrOptions({"upper", "lower"})],
    }

    def __init__(self, fractions=(0.1, 0.2), tail="upper"):
        self.fractions = fractions
        self.tail = tail

    def _validate_params(self) -> list:
        """The parameters checked against ``_parameter_constraints``; the fractions as a list."""
        validate_parameter_constraints(self._parameter_constraints,
                                       {"fractions": self.fractions, "tail": self.tail},
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
        self._validate_params()
        yield from super().split(X, y, groups)

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
        fr = self._validate_params()
        if y is None:
            raise ValueError("ExtrapolationSplit needs y to sort the samples")
        y = np.asarray(y, dtype=float)
        order = np.argsort(y if self.tail == "upper" else -y, kind="stable")
        for f in fr:
            k = min(len(y) - 1, max(1, int(round(f * len(y)))))
            yield order[len(y) - k:]
