"""Conformal prediction intervals: the one finite-sample corrected quantile of skmdl.

:class:`~skmdl.transfer.TransferRegressor` collects cross-validated normalized
residuals ``|y - mean| / max(std, floor)`` in ``fit``; an interval of nominal
coverage ``1 - alpha`` is then ``mean ± q * max(std, floor)``, ``q`` the
:func:`conformal_quantile` of those scores. :class:`ConformalRegressor` gives
any regressor intervals from the residuals of a splitter's validation rows.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, _fit_context, clone
from sklearn.model_selection import KFold, check_cv
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import check_is_fitted


def conformal_quantile(scores, alpha) -> float:
    """The ``ceil((n + 1)(1 - alpha)) / n`` empirical quantile of ``n`` nonconformity scores.

    The finite-sample correction of split conformal prediction: with
    exchangeable scores an interval of this half-width covers a new point
    with probability at least ``1 - alpha``. The quantile is an observed score
    (``method="higher"``), the largest one when ``alpha`` is below ``1 / (n + 1)``.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Nonconformity scores (here: normalized absolute residuals), ``n >= 1``.
    alpha : float in (0, 1)
        Miscoverage level.

    Returns
    -------
    float

    Examples
    --------
    >>> from skmdl.transfer.conformal import conformal_quantile
    >>> conformal_quantile([0.5, 1.0, 1.5, 2.0, 4.0], alpha=0.2)
    4.0
    >>> conformal_quantile(range(1, 100), alpha=0.1)  # a conservative order statistic
    91.0
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    s = np.asarray(scores, dtype=float).ravel()
    if not len(s):
        raise ValueError("conformal_quantile needs at least one score")
    level = min(1.0, np.ceil((len(s) + 1) * (1 - alpha)) / len(s))
    return float(np.quantile(s, level, method="higher"))


def scaled_interval(mean, std, scores, alpha, sd_floor) -> np.ndarray:
    """Intervals ``mean ± q * max(std, sd_floor)``, ``q = conformal_quantile(scores, alpha)``.

    Parameters
    ----------
    mean, std : array-like of shape (n_samples,)
        Point predictions and their spread (e.g. of an ensemble).
    scores : array-like
        Calibration scores ``|y - mean| / max(std, sd_floor)``.
    alpha : float in (0, 1)
        Nominal coverage ``1 - alpha``.
    sd_floor : float
        Lower bound of the spread, so a member consensus never gives a zero width.

    Returns
    -------
    ndarray of shape (n_samples, 2)
        Lower and upper bounds.

    Examples
    --------
    >>> from skmdl.transfer.conformal import scaled_interval
    >>> scaled_interval([1.0, 2.0], [0.5, 0.0], [1.0, 2.0, 3.0], alpha=0.5, sd_floor=0.1)
    array([[-0.5,  2.5],
           [ 1.7,  2.3]])
    """
    mean = np.asarray(mean, dtype=float)
    half = conformal_quantile(scores, alpha) * np.maximum(np.asarray(std, dtype=float), sd_floor)
    return np.column_stack([mean - half, mean + half])


class ConformalRegressor(RegressorMixin, MetaEstimatorMixin, BaseEstimator):
    """Any regressor with conformal intervals calibrated on the validation rows of ``cv``.

    ``fit`` fits a clone of ``estimator`` on every training part of ``cv``,
    keeps the residuals ``y - prediction`` of its validation part, then refits
    ``estimator`` on all rows. The splitter may validate only some rows (each
    at most once): :class:`~skmdl.transfer.ExtrapolationSplit` with
    ``blocks=True`` validates the top of the training range on models fitted
    below it, so the intervals are calibrated on extrapolation, the case where
    residuals from random folds are too small (they covered 0.76 instead of
    0.90 on the highest lattice thermal conductivities).

    Parameters
    ----------
    estimator : regressor
        Any scikit-learn regressor (a pipeline from formulas is fine).
    cv : int, splitter or iterable of (train, test), default=5
        An int is ``KFold(cv, shuffle=True, random_state=random_state)``.
    interval : {"absolute", "signed"}, default="absolute"
        ``"absolute"``: ``prediction ± q``, ``q`` the conformal quantile of the
        absolute residuals. ``"signed"``: the lower and upper ``alpha / 2``
        conformal quantiles of the signed residuals, for residuals that lean
        one way (a model that regresses to the mean under-predicts the top).
    shift : {"none", "median"}, default="none"
        ``"median"`` adds the median validation residual to every prediction:
        a correction of the bias seen on the validation rows (under
        extrapolation: the shrinkage towards the training mean).
    n_jobs : int, default=None
        Parallel fold fits (joblib).
    random_state : int, RandomState or None, default=None
        Shuffles the folds of an int ``cv``.

    Attributes
    ----------
    estimator_ : regressor
        ``estimator`` fitted on all rows.
    residuals_ : ndarray
        ``y - prediction`` of the validated rows (before the shift).
    validated_ : ndarray of bool
        Which rows ``cv`` validated.
    shift_ : float
        Added to the predictions (0 unless ``shift="median"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skmdl.transfer import ConformalRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 1)); y = 2 * X[:, 0] + rng.normal(size=200)
    >>> model = ConformalRegressor(LinearRegression(), random_state=0).fit(X, y)
    >>> lo, hi = model.predict_interval(X[:1], alpha=0.1)[0]
    >>> bool(lo < model.predict(X[:1])[0] < hi)
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "cv": ["cv_object"],
        "interval": [StrOptions({"absolute", "signed"})],
        "shift": [StrOptions({"none", "median"})],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, cv=5, interval="absolute", shift="none", n_jobs=None,
                 random_state=None):
        self.estimator = estimator
        self.cv = cv
        self.interval = interval
        self.shift = shift
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = get_tags(self.estimator).input_tags
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Validation residuals on ``cv``, then ``estimator`` refitted on every row.

        Parameters
        ----------
        X : list, Series, DataFrame or array of shape (n_samples, ...)
            Whatever ``estimator`` accepts (formulas, structures, a matrix).
        y : array-like of shape (n_samples,)
            Targets.

        Returns
        -------
        self
        """
        y = np.asarray(y, dtype=float).ravel()
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows and y {len(y)}")
        splits = self._splits(X, y)
        self.validated_, self.residuals_ = _validation_residuals(
            self.estimator, X, y, splits, self.n_jobs)
        self.shift_ = float(np.median(self.residuals_)) if self.shift == "median" else 0.0
        self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    def _splits(self, X, y) -> list:
        cv = self.cv
        if isinstance(cv, Integral):
            cv = KFold(cv, shuffle=True, random_state=self.random_state)
        cv = check_cv(cv)  # a splitter, or an iterable of (train, test) pairs
        splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y)]
        seen = np.zeros(len(y), dtype=int)
        for _, te in splits:
            seen[te] += 1
        if (seen > 1).any():
            raise ValueError(f"cv={self.cv!r} validates some rows twice; each row may be "
                             "validated at most once (ExtrapolationSplit(blocks=True) does)")
        if seen.sum() < 2:
            raise ValueError(f"cv={self.cv!r} validates {int(seen.sum())} rows; "
                             "calibration needs at least 2")
        return splits

    def predict(self, X):
        """``estimator_``'s predictions plus ``shift_``.

        Parameters
        ----------
        X : list, Series, DataFrame or array
            Inputs as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.predict(X), dtype=float) + self.shift_

    def predict_interval(self, X, alpha=0.1):
        """Intervals of nominal coverage ``1 - alpha``.

        Parameters
        ----------
        X : list, Series, DataFrame or array
            Inputs as in ``fit``.
        alpha : float in (0, 1), default=0.1
            Miscoverage level.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Lower and upper bounds around :meth:`predict`.
        """
        mean = self.predict(X)
        r = self.residuals_ - self.shift_
        if self.interval == "signed":
            lo, hi = -conformal_quantile(-r, alpha / 2), conformal_quantile(r, alpha / 2)
        else:
            hi = conformal_quantile(np.abs(r), alpha)
            lo = -hi
        return np.column_stack([mean + lo, mean + hi])


def _validation_residuals(estimator, X, y, splits, n_jobs):
    """(validated mask, residuals of the validated rows in row order) over ``splits``."""
    from sklearn.utils.parallel import Parallel, delayed

    preds = Parallel(n_jobs=n_jobs)(
        delayed(_fold_predict)(estimator, X, y, tr, te) for tr, te in splits)
    P = np.full(len(y), np.nan)
    for (_, te), p in zip(splits, preds):
        P[te] = p
    validated = np.isfinite(P)
    return validated, y[validated] - P[validated]


def _fold_predict(estimator, X, y, train, test):
    model = clone(estimator).fit(_rows(X, train), y[train])
    return np.asarray(model.predict(_rows(X, test)), dtype=float)


def _rows(X, index):
    """Rows ``index`` of a DataFrame, Series, array or list of items, by position."""
    if hasattr(X, "iloc"):
        return X.iloc[index]
    if isinstance(X, np.ndarray):
        return X[index]
    items = list(X)
    return [items[i] for i in index]
