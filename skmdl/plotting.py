"""Figures for skmdl results: parity, calibration, learning curves, source and CSP rankings.

Every function draws on ``ax`` (a new figure when it is None) and returns the
Axes, so figures compose with ``plt.subplots`` and never call ``plt.show()``.
Only matplotlib is needed; the inputs are the objects skmdl already returns
(a fitted :class:`~skmdl.transfer.TransferRegressor`, the table of
:func:`~skmdl.transfer.uq.calibration_curve`, the candidates of
:meth:`~skmdl.csp.ShotgunCSP.predict`).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd

__all__ = [
    "parity_plot",
    "calibration_plot",
    "learning_curve",
    "learning_curve_plot",
    "source_ranking_plot",
    "csp_ranking_plot",
]

_DIAGONAL_GID = "skmdl-diagonal"


def _axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    # constrained layout: long source ids and axis labels stay inside saved figures
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _diagonal(ax):
    """The y = x reference line, drawn once per Axes (plots may be overlaid)."""
    if not any(line.get_gid() == _DIAGONAL_GID for line in ax.get_lines()):
        ax.axline((0, 0), slope=1, color="0.6", lw=1, ls="--", gid=_DIAGONAL_GID, zorder=0)


def _vector(name, values):
    a = np.asarray(values, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-d, got shape {a.shape}")
    return a


def _require_columns(name, df, columns):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {list(df.columns)}")


def _with_units(text, units):
    return f"{text} ({units})" if units else text


# --------------------------------------------------------------------------- parity
def parity_plot(y_true, y_pred, *, y_std=None, intervals=None, ax=None, label=None, units=None):
    """Predicted against true values with the y = x line, MAE and R² in the legend.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
    y_std : array-like of shape (n,), optional
        Predictive standard deviation (e.g. ``predict(X, return_std=True)``),
        drawn as ±1 std error bars.
    intervals : array-like of shape (n, 2), optional
        Prediction intervals (e.g. ``predict_interval``), drawn as bars; the
        legend gives the fraction of ``y_true`` inside them and their mean width.
        Give ``y_std`` or ``intervals``, not both.
    ax : matplotlib Axes, optional
    label : str, optional
        Name of the model, put before the metrics in the legend.
    units : str, optional
        Units of ``y``, for the axis labels and the MAE.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> ax = parity_plot(y, y + [0.1, -0.1, 0.2, 0.0], label="ridge", units="eV")
    >>> ax.get_legend().get_texts()[0].get_text()
    'ridge: MAE 0.1 eV, R² 0.988'
    """
    y_true, y_pred = _vector("y_true", y_true), _vector("y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} values but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty")
    for name, a in (("y_true", y_true), ("y_pred", y_pred)):
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            raise ValueError(f"{name} has {bad.size} non-finite value(s), first at row {bad[0]}")
    if y_std is not None and intervals is not None:
        raise ValueError("give y_std or intervals, not both")
    bounds = None
    if y_std is not None:
        y_std = _vector("y_std", y_std)
        if len(y_std) != len(y_true):
            raise ValueError(f"y_true has {len(y_true)} values but y_std has {len(y_std)}")
        bounds = np.column_stack([y_pred - y_std, y_pred + y_std])
    if intervals is not None:
        bounds = np.asarray(intervals, dtype=float)
        if bounds.shape != (len(y_true), 2):
            raise ValueError(f"intervals must have shape ({len(y_true)}, 2) like y_true, "
                             f"got {bounds.shape}")

    ax = _axes(ax, (4.2, 4.2))
    # keep what is already drawn on this Axes or on Axes sharing its limits in view
    had_data = any(a.has_data() for a in {*ax.get_shared_x_axes().get_siblings(ax),
                                          *ax.get_shared_y_axes().get_siblings(ax)})
    err = y_true - y_pred
    mae = float(np.mean(np.abs(err)))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")
    metrics = f"MAE {mae:.3g}{' ' + units if units else ''}, R² {r2:.3f}"
    points = ax.scatter(y_true, y_pred, s=14, alpha=0.7, zorder=2,
                        label=f"{label}: {metrics}" if label else metrics)
    if bounds is not None:
        if intervals is not None:
            from .transfer.uq import interval_coverage  # not at import: skmdl.transfer loads torch

            coverage, width = interval_coverage(y_true, bounds)
            bar_label = (f"intervals: coverage {coverage:.2f}, "
                         f"mean width {width:.3g}{' ' + units if units else ''}")
        else:
            bar_label = "±1 std"
        ax.vlines(y_true, bounds[:, 0], bounds[:, 1], color=points.get_facecolor()[0],
                  alpha=0.35, lw=1, zorder=1, label=bar_label)
    _diagonal(ax)

    # square limits over the points
    lo, hi = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    if had_data:
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        lo, hi = min(lo, x0, y0), max(hi, x1, y1)
    pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.05
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(_with_units("true", units))
    ax.set_ylabel(_with_units("predicted", units))
    ax.legend(loc="upper left", fontsize="small")
    return ax


# --------------------------------------------------------------------------- calibration
def calibration_plot(curve, *, ax=None, label=None):
    """Observed against nominal interval coverage; the diagonal is perfect calibration.

    Parameters
    ----------
    curve : pandas.DataFrame
        Columns ``nominal`` and ``observed``, as returned by
        :func:`skmdl.transfer.uq.calibration_curve`.
    ax : matplotlib Axes, optional
    label : str, optional
        Legend entry of this curve (several curves can share an Axes).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"nominal": [0.5, 0.9], "observed": [0.48, 0.91]})
    >>> ax = calibration_plot(curve, label="transfer")
    >>> ax.get_lines()[-1].get_ydata().tolist()
    [0.48, 0.91]
    """
    _require_columns("curve", curve, ["nominal", "observed"])
    ax = _axes(ax, (4, 4))
    _diagonal(ax)
    ax.plot(curve["nominal"].to_numpy(float), curve["observed"].to_numpy(float), marker="o",
            label=label)
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("observed coverage")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal", adjustable="box")
    if label:
        ax.legend(loc="upper left", fontsize="small")
    return ax


# --------------------------------------------------------------------------- learning curves
_METRICS = {
    "mae": lambda y, p: float(np.mean(np.abs(y - p))),
    "rmse": lambda y, p: float(np.sqrt(np.mean((y - p) ** 2))),
    "r2": lambda y, p: 1 - float(np.sum((y - p) ** 2)) / float(np.sum((y - y.mean()) ** 2)),
}


def learning_curve(estimators, X, y, sizes, *, test_size=0.2, n_repeats=3, metric="mae",
                   random_state=None):
    """Test error of each estimator against the number of training items.

    One test set is held out once; for each size ``n`` and repeat, ``n``
    training items are drawn from the rest (a new draw per repeat, the same
    draw for every estimator), every estimator is cloned, fitted and scored.

    Parameters
    ----------
    estimators : dict of name -> estimator
    X : array-like, list or pandas object of n_samples items
    y : array-like of shape (n_samples,)
    sizes : sequence of int
        Training-set sizes; each must fit in the training pool.
    test_size : float or int
        Fraction or number of items held out for testing.
    n_repeats : int
        Training draws per size.
    metric : {"mae", "rmse", "r2"}
    random_state : int, RandomState or None

    Returns
    -------
    pandas.DataFrame with columns ``n``, ``model``, ``<metric>`` (mean over the
    repeats) and ``<metric>_std``, ready for :func:`learning_curve_plot`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyRegressor
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(100.0).reshape(-1, 1); y = 2 * X[:, 0]
    >>> res = learning_curve({"mean": DummyRegressor(), "linear": LinearRegression()},
    ...                      X, y, sizes=[10, 40], random_state=0)
    >>> res.columns.tolist(), len(res), float(res.loc[res.model == "linear", "mae"].max()) < 1e-8
    (['n', 'model', 'mae', 'mae_std'], 4, True)
    """
    from sklearn.base import clone
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state

    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {sorted(_METRICS)}, got {metric!r}")
    if not estimators:
        raise ValueError("estimators is empty")
    y = np.asarray(y, dtype=float)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} items but y has {len(y)}")
    rng = check_random_state(random_state)
    pool, test = train_test_split(np.arange(len(y)), test_size=test_size,
                                  random_state=rng.randint(2**31 - 1))
    sizes = [int(n) for n in sizes]
    too_big = [n for n in sizes if not 1 <= n <= len(pool)]
    if too_big:
        raise ValueError(f"sizes {too_big} do not fit in the {len(pool)} training items")

    def take(idx):
        return X.iloc[idx] if hasattr(X, "iloc") else (
            [X[i] for i in idx] if isinstance(X, list) else np.asarray(X)[idx])

    X_test, score = take(test), _METRICS[metric]
    rows = []
    for n in sizes:
        draws = [rng.choice(pool, size=n, replace=False) for _ in range(n_repeats)]
        for name, est in estimators.items():
            scores = [score(y[test], np.asarray(clone(est).fit(take(d), y[d]).predict(X_test),
                                                dtype=float)) for d in draws]
            rows.append({"n": n, "model": name, metric: float(np.mean(scores)),
                         f"{metric}_std": float(np.std(scores))})
    return pd.DataFrame(rows)


def learning_curve_plot(results, *, ax=None, metric="mae"):
    """Error against training-set size (log scale), one line and ±1 std band per model.

    Parameters
    ----------
    results : pandas.DataFrame
        Columns ``n``, ``model`` and ``metric``; the band is ``<metric>_std``
        when present. Several rows per (model, n) without a std column are
        taken as repeats and summarized by their mean and standard deviation.
        :func:`learning_curve` returns such a table.
    ax : matplotlib Axes, optional
    metric : str
        Column to plot.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> res = pd.DataFrame({"n": [50, 100, 50, 100], "model": ["direct"] * 2 + ["transfer"] * 2,
    ...                     "mae": [1.0, 0.8, 0.9, 0.7], "mae_std": [0.1, 0.1, 0.1, 0.05]})
    >>> ax = learning_curve_plot(res)
    >>> [t.get_text() for t in ax.get_legend().get_texts()], ax.get_xscale()
    (['direct', 'transfer'], 'log')
    """
    _require_columns("results", results, ["n", "model", metric])
    std_col = f"{metric}_std"
    table = results
    if std_col not in results.columns and results.duplicated(["model", "n"]).any():
        table = (results.groupby(["model", "n"], sort=False)[metric]
                 .agg(["mean", "std"]).reset_index()
                 .rename(columns={"mean": metric, "std": std_col}))
    ax = _axes(ax, (5, 3.6))
    for name, part in table.groupby("model", sort=False):
        part = part.sort_values("n")
        n, mean = part["n"].to_numpy(float), part[metric].to_numpy(float)
        (line,) = ax.plot(n, mean, marker="o", label=str(name))
        if std_col in part.columns:
            std = part[std_col].fillna(0).to_numpy(float)
            ax.fill_between(n, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xscale("log")
    sizes = np.unique(table["n"].to_numpy(float))
    ax.set_xticks(sizes, [f"{n:g}" for n in sizes])  # the sizes run, not powers of ten
    ax.minorticks_off()
    ax.set_xlabel("training items n")
    ax.set_ylabel(metric.upper() if metric in _METRICS else metric)
    ax.legend(fontsize="small")
    return ax


# --------------------------------------------------------------------------- source screening
_LOSS_NAMES = {"cv_mae": "inner-CV MAE", "cv_log_loss": "inner-CV log loss"}


def _screening_table(estimator):
    """(source, loss, selected) rows and the loss's display name."""
    if isinstance(estimator, pd.DataFrame):
        _require_columns("the screening table", estimator, ["source", "loss"])
        selected = (estimator["selected"].astype(bool) if "selected" in estimator.columns
                    else pd.Series(False, index=estimator.index))
        table = pd.DataFrame({"source": estimator["source"].astype(str).to_numpy(),
                              "loss": estimator["loss"].to_numpy(float),
                              "selected": selected.to_numpy()})
        return table.sort_values("loss", kind="stable", na_position="last"), "loss"
    screening = getattr(estimator, "screening_", None)
    if screening is None:
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"{type(estimator).__name__} has no screening_; fit it first "
                             "(or pass a DataFrame with columns source, loss)")
    column = next(c for c in screening.columns if c != "id")
    kept = set(getattr(estimator, "sources_", []))
    table = pd.DataFrame({"source": screening["id"].astype(str).to_numpy(),
                          "loss": screening[column].to_numpy(float),
                          "selected": screening["id"].isin(kept).to_numpy()})
    return table, _LOSS_NAMES.get(column, column)


def source_ranking_plot(estimator, *, ax=None, top=20):
    """Inner-CV loss of each candidate source model, best at the top, kept sources highlighted.

    Parameters
    ----------
    estimator : fitted TransferRegressor / TransferClassifier, or pandas.DataFrame
        A fitted transfer estimator (its ``screening_`` and ``sources_``), or a
        table with columns ``source`` and ``loss`` (and optionally a boolean
        ``selected``).
    ax : matplotlib Axes, optional
    top : int
        Number of best-ranked sources shown.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"source": ["a", "b", "c"], "loss": [0.3, 0.1, 0.2],
    ...                       "selected": [False, True, True]})
    >>> ax = source_ranking_plot(table, top=2)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['b', 'c']
    """
    if not isinstance(top, Integral) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    table, loss_name = _screening_table(estimator)
    if table.empty:
        raise ValueError("the screening table is empty")
    n_all, shown = len(table), table.head(top)
    screened = np.isfinite(shown["loss"].to_numpy()).any()
    ax = _axes(ax, (6, 0.3 * len(shown) + 1.2))
    rows = np.arange(len(shown))
    sel = shown["selected"].to_numpy(bool)
    widths = np.nan_to_num(shown["loss"].to_numpy(float))
    for mask, color, name in ((sel, "C1", "kept"), (~sel, "C0", "screened out")):
        if mask.any():
            ax.barh(rows[mask], widths[mask], color=color, label=name)
    ax.set_yticks(rows, shown["source"].tolist())
    ax.set_ylim(len(shown) - 0.5, -0.5)  # best at the top
    ax.tick_params(axis="y", labelsize="small")
    ax.set_xlabel(loss_name)
    title = f"best {len(shown)} of {n_all} candidate sources" if n_all > len(shown) \
        else f"{n_all} candidate sources"
    if not screened:
        title += " (no screening: all were kept)"
    ax.set_title(title, fontsize="medium")
    if sel.any():  # beside the bars, which fill the Axes
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax


# --------------------------------------------------------------------------- CSP ranking
def _match_function(matcher):
    if matcher is None:
        from .csp.metrics import structure_match

        return structure_match
    if callable(matcher):
        return lambda a, b: bool(matcher(a, b))
    if hasattr(matcher, "fit"):  # e.g. a pymatgen StructureMatcher with other tolerances
        return lambda a, b: bool(matcher.fit(a, b))
    raise TypeError(f"matcher must be a callable (pred, true) -> bool or have a fit method, "
                    f"got {type(matcher).__name__}")


def csp_ranking_plot(candidates, *, true_structure=None, ax=None, matcher=None):
    """Energy per atom of one formula's ranked CSP candidates, by generator; matches marked.

    Parameters
    ----------
    candidates : list of :class:`skmdl.csp.Candidate`
        One formula's list from :meth:`skmdl.csp.ShotgunCSP.predict`, best first;
        the x axis is the 1-based rank. Candidates without an energy are left out.
    true_structure : pymatgen Structure, optional
        Candidates that match it are ringed and the title gives the first match's rank.
    ax : matplotlib Axes, optional
    matcher : callable or StructureMatcher, optional
        ``matcher(candidate_structure, true_structure) -> bool`` or an object with
        such a ``fit`` method; default :func:`skmdl.csp.structure_match`.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from skmdl.csp import Candidate
    >>> s = Structure(Lattice.cubic(3.0), ["Si"], [[0, 0, 0]])
    >>> cands = [Candidate(s, "template", energy_per_atom=-5.4),
    ...          Candidate(s, "random", energy_per_atom=-5.1)]
    >>> ax = csp_ranking_plot(cands, true_structure=s, matcher=lambda a, b: True)
    >>> ax.get_title()
    'Si: first match at rank 1 of 2'
    """
    candidates = list(candidates)
    if not candidates:
        raise ValueError("candidates is empty")
    for i, c in enumerate(candidates):
        if not (hasattr(c, "structure") and hasattr(c, "generator")):
            raise TypeError(f"candidates[{i}] is a {type(c).__name__}, not a Candidate")
    formulas = {c.structure.composition.reduced_formula for c in candidates}
    if len(formulas) > 1:
        raise ValueError(f"candidates are of {len(formulas)} formulas {sorted(formulas)}; "
                         "pass one formula's list")
    (formula,) = formulas

    ranks = np.arange(1, len(candidates) + 1)
    energy = np.array([c.energy_per_atom for c in candidates], dtype=float)
    has_energy = np.isfinite(energy)
    ax = _axes(ax, (5.5, 3.6))
    generators = list(dict.fromkeys(c.generator for c in candidates))
    for k, gen in enumerate(generators):
        mask = has_energy & np.array([c.generator == gen for c in candidates])
        if mask.any():
            ax.scatter(ranks[mask], energy[mask], color=f"C{k}", s=30, zorder=2, label=gen)

    title = formula
    if true_structure is not None:
        match = _match_function(matcher)
        matched = np.array([match(c.structure, true_structure) for c in candidates])
        mark = matched & has_energy
        if mark.any():
            ax.scatter(ranks[mark], energy[mark], s=160, facecolors="none", edgecolors="k",
                       linewidths=1.5, zorder=3, label="matches true structure")
        title += (f": first match at rank {int(ranks[matched][0])} of {len(candidates)}"
                  if matched.any() else f": no match in {len(candidates)}")
    missing = int((~has_energy).sum())
    if missing:
        title += f" ({missing} without energy)"
    ax.set_title(title, fontsize="medium")
    ax.margins(0.08, 0.12)  # room for the rings
    ax.set_xlabel("rank")
    ax.set_ylabel("energy (eV/atom)")
    ax.set_xticks(ranks if len(ranks) <= 20 else ranks[:: int(np.ceil(len(ranks) / 20))])
    ax.legend(fontsize="small")
    return ax
