"""A zero gate: a classifier of ``y == 0`` in front of a regressor.

Band gaps are exactly zero for metals, and a regressor averaging over metals
and insulators predicts small positive gaps for both. The best open Matbench
submissions for ``matbench_expt_gap`` classify metal / non-metal first; this
gate does that for any target with a point mass at zero: an extra-trees
classifier of ``y == 0`` on [descriptors, source predictions], whose
threshold is chosen on out-of-fold probabilities by the regression MAE it
gives (and which is dropped when it gives none).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone

__all__ = ["ZeroGate"]


class ZeroGate(BaseEstimator):
    """Classifier of ``y == 0`` that zeroes a regressor's predictions.

    Parameters
    ----------
    threshold : float, default=0.5
        Predictions are set to zero where P(y == 0) exceeds it.
    n_estimators : int, default=200
        Trees of the extra-trees classifier.
    random_state : int or None, default=None

    Attributes
    ----------
    classifier_ : ExtraTreesClassifier
        Fitted on ``y == 0``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> D = rng.normal(size=(200, 3)); y = np.where(D[:, 0] > 0, 0.0, 1 - D[:, 0])
    >>> gate = ZeroGate(random_state=0).fit(D, y)
    >>> float(np.mean(gate.is_zero(D) == (y == 0))) > 0.95
    True
    """

    def __init__(self, threshold=0.5, n_estimators=200, random_state=None):
        self.threshold = threshold
        self.n_estimators = n_estimators
        self.random_state = random_state

    def _classifier(self):
        from sklearn.ensemble import ExtraTreesClassifier

        return ExtraTreesClassifier(n_estimators=self.n_estimators, max_features=0.3,
                                    min_samples_leaf=1, random_state=self.random_state,
                                    n_jobs=1)

    def fit(self, D, y):
        """Fit the classifier of ``y == 0``.

        Parameters
        ----------
        D : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)

        Returns
        -------
        self
        """
        self.classifier_ = self._classifier().fit(D, (np.asarray(y) == 0).astype(int))
        return self

    def p_zero(self, D):
        """P(y == 0) per row.

        Parameters
        ----------
        D : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.classifier_.predict_proba(D)
        classes = list(self.classifier_.classes_)
        return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(D))

    def is_zero(self, D):
        """Where the gate sets the prediction to zero.

        Parameters
        ----------
        D : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of bool
        """
        return self.p_zero(D) > self.threshold

    def set_threshold(self, threshold):
        """Set ``threshold`` and return self.

        Parameters
        ----------
        threshold : float

        Returns
        -------
        self
        """
        self.threshold = float(threshold)
        return self

    def out_of_fold(self, D, y, cv, n_jobs=None):
        """Out-of-fold P(y == 0) on the splits of ``cv`` (a partition).

        Parameters
        ----------
        D : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        cv : splitter
        n_jobs : int, optional
            Folds fitted in parallel (joblib); the result does not depend on it.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        from sklearn.utils.parallel import Parallel, delayed

        splits = list(cv.split(D, y))
        fitted = Parallel(n_jobs=n_jobs)(
            delayed(_fold_p_zero)(self, D, y, train, test) for train, test in splits)
        out = np.zeros(len(y))
        for (_, test), p in zip(splits, fitted):
            out[test] = p
        return out

    @staticmethod
    def choose_threshold(p_zero, y, pred, grid=np.linspace(0.2, 0.8, 13), margin=1.0):
        """The threshold on ``p_zero`` that lowers the MAE of ``pred`` most, or None.

        The same one-standard-error rule as the members'
        (:func:`~skmdl.transfer.combine.combine_weights`): the gate is kept only
        when it lowers the MAE by at least ``margin`` standard errors of the
        paired per-row difference of absolute errors.

        Parameters
        ----------
        p_zero : ndarray
            Out-of-fold P(y == 0).
        y, pred : ndarray
            Target and the regressor's out-of-fold predictions.
        grid : sequence of float
        margin : float, default=1.0

        Returns
        -------
        float or None
            None when no threshold lowers the MAE by the margin.
        """
        base = np.abs(pred - y)
        errors = [np.abs(np.where(p_zero > t, 0.0, pred) - y) for t in grid]
        k = int(np.argmin([e.mean() for e in errors]))
        d = errors[k] - base
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
        return float(grid[k]) if d.mean() + margin * se < -1e-12 else None


def _fold_p_zero(gate, D, y, train, test):
    return clone(gate).fit(D[train], y[train]).p_zero(D[test])
