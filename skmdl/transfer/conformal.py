"""Conformal prediction intervals: the one finite-sample corrected quantile of skmdl.

:class:`~skmdl.transfer.TransferRegressor` collects cross-validated normalized
residuals ``|y - mean| / max(std, floor)`` in ``fit``; an interval of nominal
coverage ``1 - alpha`` is then ``mean ± q * max(std, floor)``, ``q`` the
:func:`conformal_quantile` of those scores.
"""

from __future__ import annotations

import numpy as np


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
