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


class ExtrapolationSplit(BaseCrossValidator):
    """Splits whose validation set is the extreme tail of ``y``.

    Split ``k`` validates on the ``fractions[k]`` share of samples with the
    highest ``y`` (``tail="upper"``) or lowest (``tail="lower"``) and trains
    on the rest. Use it as ``cv`` of ``RidgeCV``, ``GridSearchCV``, or as
    ``screening_cv`` of :class:`~skmdl.transfer.TransferRegressor`.

    Parameters
    ----------
    fractions : sequence of float in (0, 1), default=(0.1, 0.2)
        Validation shares, one split each.
    tail : {"upper", "lower"}, default="upper"

    Examples
    --------
    >>> import numpy as np
    >>> from skmdl.transfer import ExtrapolationSplit
    >>> y = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    >>> [test.tolist() for _, test in ExtrapolationSplit(fractions=(0.2, 0.4)).split(y, y)]
    [[0], [0, 2]]
    """

    def __init__(self, fractions=(0.1, 0.2), tail="upper"):
        self.fractions = fractions
        self.tail = tail

    def _check(self):
        fr = [self.fractions] if isinstance(self.fractions, Real) else list(self.fractions)
        if not fr or not all(isinstance(f, Real) and 0 < f < 1 for f in fr):
            raise ValueError(f"fractions must be numbers in (0, 1), got {self.fractions!r}")
        if self.tail not in ("upper", "lower"):
            raise ValueError(f"tail must be 'upper' or 'lower', got {self.tail!r}")
        return fr

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self._check())

    def _iter_test_indices(self, X=None, y=None, groups=None):
        fr = self._check()
        if y is None:
            raise ValueError("ExtrapolationSplit needs y to sort the samples")
        y = np.asarray(y, dtype=float)
        order = np.argsort(y if self.tail == "upper" else -y, kind="stable")
        for f in fr:
            k = min(len(y) - 1, max(1, int(round(f * len(y)))))
            yield order[len(y) - k:]
