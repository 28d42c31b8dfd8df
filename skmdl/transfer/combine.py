"""Combining ensemble members by their out-of-fold predictions, safely.

The transfer estimators fit several *members* (the direct model on the
descriptors alone, one head per screened source, a stack of source outputs,
multi-fidelity corrections) and collect each member's out-of-fold
predictions on the training data. This module turns those into weights:

* only members whose out-of-fold loss is no worse than the direct model's are
  eligible (so a transfer member that inner CV scored worse than direct is
  never used: negative transfer is ruled out by construction);
* ``"greedy"`` is Caruana et al.'s ensemble selection (ICML 2004): starting
  from the best member, repeatedly add (with replacement) the member that
  lowers the loss of the weighted mean most, stopping when nothing does:
  non-negative weights summing to one, whose loss is never above the best
  member's;
* ``"best"`` keeps the single best member; ``"mean"`` weighs every member
  equally (no selection, the old behaviour).

For binary classifiers :func:`best_threshold` picks the decision threshold
that maximizes balanced accuracy on the out-of-fold probabilities (Matbench
scores ROC-AUC from hard labels, which is balanced accuracy).
"""

from __future__ import annotations

import numpy as np

__all__ = ["best_threshold", "combine_weights", "eligibility_margin", "mae_loss", "log_loss_of",
           "mixture"]


def mae_loss(y, pred) -> float:
    """Mean absolute error of a 1-d prediction.

    Parameters
    ----------
    y, pred : ndarray

    Returns
    -------
    float
    """
    return float(np.mean(np.abs(np.asarray(pred) - y)))


def log_loss_of(y, proba) -> float:
    """Mean negative log-likelihood of encoded labels under class probabilities.

    Parameters
    ----------
    y : ndarray of int
        Labels encoded as 0..n_classes-1.
    proba : ndarray of shape (n, n_classes)

    Returns
    -------
    float
    """
    p = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    return float(-np.mean(np.log(p)))


def mixture(P, w):
    """Weighted mean of member predictions.

    Parameters
    ----------
    P : ndarray of shape (n, members) or (n, members, classes)
    w : ndarray of shape (members,)

    Returns
    -------
    ndarray of shape (n,) or (n, classes)
    """
    return np.tensordot(P, w, axes=([1], [0])) if P.ndim == 2 else np.einsum("nmc,m->nc", P, w)


def _row_losses(P, y, loss):
    """Per-row losses of every member (``loss`` evaluated row by row, vectorized for ours)."""
    if loss is mae_loss:
        return np.abs(P - y[:, None])
    if loss is log_loss_of:
        return -np.log(np.clip(P[np.arange(len(y)), :, y], 1e-15, 1.0))
    return np.column_stack([[loss(y[i:i + 1], P[i:i + 1, m]) for i in range(len(y))]
                            for m in range(P.shape[1])])


def _eligible(P, y, loss, losses, reference, margin):
    """Members whose loss is below the reference's by ``margin`` paired standard errors."""
    eligible = np.ones(P.shape[1], bool)
    if reference is None:
        return eligible
    rows = _row_losses(P, y, loss)
    d = rows - rows[:, [reference]]
    se = d.std(axis=0, ddof=1) / np.sqrt(len(y)) if len(y) > 1 else np.zeros(P.shape[1])
    eligible = d.mean(axis=0) + margin * se <= 1e-12
    eligible[reference] = True
    return eligible


def eligibility_margin(margin, n_compared) -> float:
    """The margin, in paired standard errors, a member must beat the direct member by.

    A number is returned as it is. ``"auto"`` keeps the family-wise error of
    the one-standard-error rule when ``n_compared`` members are each compared
    with direct: a single one-SE comparison admits a member no better than
    direct with probability ``a = 1 - Phi(1)`` (about 0.16, one-sided, normal
    approximation); with ``n_compared`` comparisons each is made at the level
    ``1 - (1 - a) ** (1 / n_compared)`` (Šidák), whose normal quantile is the
    margin: 1.0 for one member, about 2.0 for eight.

    Parameters
    ----------
    margin : float or "auto"
    n_compared : int
        Members other than the direct one.

    Returns
    -------
    float

    Examples
    --------
    >>> round(eligibility_margin("auto", 1), 3), round(eligibility_margin("auto", 8), 2)
    (1.0, 2.03)
    >>> eligibility_margin(0.5, 8)
    0.5
    """
    if margin != "auto":
        return float(margin)
    from scipy.stats import norm

    a = norm.sf(1.0)
    level = -np.expm1(np.log1p(-a) / max(int(n_compared), 1))
    return float(norm.isf(level))


def combine_weights(P, y, loss, method="greedy", reference=0, max_steps=25, margin=1.0):
    """Member weights from out-of-fold predictions.

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_members) or (n_samples, n_members, n_classes)
        Out-of-fold predictions (regression) or probabilities of every member.
    y : ndarray of shape (n_samples,)
    loss : callable
        ``loss(y, prediction) -> float``, lower is better.
    method : {"greedy", "best", "mean"}
    reference : int or None, default=0
        Index of the direct member: a member is eligible only when its loss is
        below the direct member's by at least ``margin`` standard errors of
        their paired per-row loss difference (``None``: every member is).
    max_steps : int, default=25
        Additions of the greedy selection.
    margin : float, default=1.0
        The one-standard-error rule: 1 keeps direct unless a member is
        clearly better; 0 admits any member that is not worse.

    Returns
    -------
    weights : ndarray of shape (n_members,)
        Non-negative, summing to one.
    losses : ndarray of shape (n_members,)
        Each member's own out-of-fold loss.
    eligible : ndarray of bool

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0., 1, 2, 3])
    >>> P = np.column_stack([y + [1, -1, 1, -1], y + [-1, 1, -1, 1], y + 5])
    >>> w, losses, ok = combine_weights(P, y, mae_loss, margin=0)
    >>> w.round(2).tolist(), ok.tolist()
    ([0.5, 0.5, 0.0], [True, True, False])
    """
    n_members = P.shape[1]
    losses = np.array([loss(y, P[:, m]) for m in range(n_members)])
    eligible = _eligible(P, y, loss, losses, reference, margin)
    if method == "mean":
        return np.full(n_members, 1.0 / n_members), losses, np.ones(n_members, bool)
    best = int(np.argmin(np.where(eligible, losses, np.inf)))
    counts = np.zeros(n_members)
    counts[best] = 1
    if method == "greedy":
        counts = _greedy(P, y, loss, np.flatnonzero(eligible), counts, max_steps)
    return counts / counts.sum(), losses, eligible


def _greedy(P, y, loss, candidates, counts, max_steps):
    """Caruana's forward selection with replacement; stops when no addition helps."""
    current = loss(y, mixture(P, counts / counts.sum()))
    for _ in range(max_steps):
        trials = []
        for m in candidates:
            trial = counts.copy()
            trial[m] += 1
            trials.append(loss(y, mixture(P, trial / trial.sum())))
        k = int(np.argmin(trials))
        if trials[k] >= current - 1e-12:
            break
        counts[candidates[k]] += 1
        current = trials[k]
    return counts


def best_threshold(y, p_positive) -> float:
    """Decision threshold on P(class 1) that maximizes balanced accuracy.

    Ties are broken toward 0.5; the threshold is the midpoint between the two
    neighbouring distinct probabilities.

    Parameters
    ----------
    y : ndarray of {0, 1}
    p_positive : ndarray
        Out-of-fold probabilities of class 1.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 0, 0, 1, 1])
    >>> best_threshold(y, np.array([.1, .2, .3, .35, .4, .9]))
    0.375
    """
    y = np.asarray(y)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        return 0.5
    order = np.argsort(-p_positive, kind="stable")
    p, yy = p_positive[order], y[order]
    tp = np.cumsum(yy)
    fp = np.cumsum(1 - yy)
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]  # predict 1 for p >= p[last]
    bacc = 0.5 * (tp[last] / n_pos + 1 - fp[last] / n_neg)
    cuts = np.r_[(p[last[:-1]] + p[last[:-1] + 1]) / 2, p[-1] / 2]
    bacc = np.r_[bacc, 0.5]  # everything negative
    cuts = np.r_[cuts, 1.0]
    top = np.flatnonzero(bacc >= bacc.max() - 1e-12)
    return float(cuts[top[np.argmin(np.abs(cuts[top] - 0.5))]])
