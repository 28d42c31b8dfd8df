"""Uncertainty reports: interval coverage and calibration curves.

The numbers only; their plots are in :mod:`skmdl.plotting`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def interval_coverage(y, intervals):
    """Fraction of ``y`` inside ``intervals`` (n, 2) and their mean width."""
    y = np.asarray(y, dtype=float)
    intervals = np.asarray(intervals, dtype=float)
    if intervals.shape != (len(y), 2):
        raise ValueError(f"intervals must have shape ({len(y)}, 2), got {intervals.shape}")
    inside = (y >= intervals[:, 0]) & (y <= intervals[:, 1])
    return float(inside.mean()), float(np.mean(intervals[:, 1] - intervals[:, 0]))


def calibration_curve(model, X, y, levels=(0.5, 0.6, 0.7, 0.8, 0.9, 0.95)):
    """Observed coverage and mean width of ``model.predict_interval`` at nominal levels.

    Parameters
    ----------
    model : fitted estimator with ``predict_interval(X, alpha)``
    X, y : held-out inputs and targets
    levels : nominal coverages ``1 - alpha``

    Returns
    -------
    pandas.DataFrame with columns ``nominal``, ``observed``, ``mean_width``.

    Examples
    --------
    >>> import numpy as np
    >>> class Toy:
    ...     def predict_interval(self, X, alpha):
    ...         from scipy.stats import norm
    ...         h = norm.ppf(1 - alpha / 2)
    ...         return np.column_stack([-h * np.ones(len(X)), h * np.ones(len(X))])
    >>> y = np.random.default_rng(0).normal(size=20000)
    >>> curve = calibration_curve(Toy(), np.zeros(20000), y, levels=[0.9])
    >>> round(float(curve["observed"][0]), 2)
    0.9
    """
    rows = []
    for level in levels:
        cov, width = interval_coverage(y, model.predict_interval(X, alpha=1 - level))
        rows.append({"nominal": float(level), "observed": cov, "mean_width": width})
    return pd.DataFrame(rows)


def plot_calibration(curve, ax=None, label=None):
    """Observed vs nominal coverage: the older name of :func:`skmdl.plotting.calibration_plot`.

    Kept for existing scripts; new code calls :func:`skmdl.plotting.calibration_plot`.
    The numbers live here and the drawing in :mod:`skmdl.plotting`, which uses
    them: this alias is the one place the numbers point at the drawing, so it
    imports it only when called (``tests/test_code_health.py`` allows exactly
    this deferred import).

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"nominal": [0.5, 0.9], "observed": [0.48, 0.91]})
    >>> plot_calibration(curve, label="transfer").get_lines()[-1].get_ydata().tolist()
    [0.48, 0.91]
    """
    from ..plotting import calibration_plot

    return calibration_plot(curve, ax=ax, label=label)
