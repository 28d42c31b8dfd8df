"""Ensemble members of the transfer estimators and their out-of-fold predictions.

A member is one way of predicting the target from a design matrix:

* ``direct``: the head on the descriptors alone (what a model trained from
  scratch does; always a candidate, so transfer can only help);
* ``transfer:<id>``: the head on [descriptors, frozen hidden features of one
  screened source];
* ``stack``: the head on [descriptors, the outputs of every shortlisted
  source] (source predictions as features);
* ``outputs``: a standardized linear model (ridge; logistic regression for
  classes) on the outputs of every candidate source (the LTC recipe);
* ``delta:<id>`` / ``affine:<id>``: multi-fidelity correction of a source
  predicting the target's own quantity (at another fidelity): the head models
  ``y - s(x)`` or ``y - (a s(x) + b)`` on [descriptors, s(x)], and the member
  predicts the offset plus the correction.

:func:`out_of_fold` fits every member on the folds of one splitter and
returns their out-of-fold predictions (and, for forests, the spread of their
trees), which :mod:`skmdl.transfer.combine` turns into weights.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

__all__ = ["affine_offset", "fit_member", "member_note", "member_predict", "member_spec",
           "out_of_fold", "with_offset"]


def affine_offset(s, y) -> tuple:
    """Least-squares ``(a, b)`` of ``y ~ a s + b`` (slope 1 when ``s`` is constant).

    Parameters
    ----------
    s : ndarray
        A source's predictions.
    y : ndarray
        The target.

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> import numpy as np
    >>> [round(v, 6) for v in affine_offset(np.array([0., 1, 2]), np.array([1., 3, 5]))]
    [2.0, 1.0]
    """
    s = np.asarray(s, dtype=np.float64)
    if np.ptp(s) == 0:
        return (1.0, float(np.mean(y - s)))
    a, b = np.polyfit(s, y, 1)
    return (float(a), float(b))


def _float64(D):
    """Designs are stored as float32; heads get float64. Trees cast back to float32 (the
    same values), but a linear or kernel head on raw descriptors (magnitudes ~1e3) loses
    its Gram matrix to float32 round-off (Ridge's dual solver, seen with scikit-learn 1.9)."""
    return np.asarray(D, dtype=np.float64)


def _offset_values(offset, s):
    if not offset:
        return 0.0
    return offset[0] * s + offset[1]


def fit_member(head, D, y, offset=(), s=None):
    """Clone ``head`` and fit it on ``D`` to ``y`` less the member's offset.

    Parameters
    ----------
    head : estimator
    D : ndarray
        Design matrix.
    y : ndarray
    offset : tuple, default=()
        ``()`` or ``(a, b)``: the head models ``y - (a s + b)``.
    s : ndarray, optional
        The source output the offset applies to.

    Returns
    -------
    fitted clone of ``head``
    """
    target = y - _offset_values(offset, s) if offset else y
    return clone(head).fit(_float64(D), target)


def member_predict(est, D, method="predict", offset=(), s=None, spread=False):
    """Prediction of a fitted member, its offset added back.

    Parameters
    ----------
    est : fitted estimator
    D : ndarray
        Design matrix.
    method : {"predict", "predict_proba"}
    offset : tuple, default=()
    s : ndarray, optional
        The source output the offset applies to.
    spread : bool, default=False
        Also return the standard deviation over a forest's trees (zeros for
        other heads; None for probabilities).

    Returns
    -------
    prediction : ndarray
    spread : ndarray or None
    """
    if method == "predict_proba":
        return est.predict_proba(_float64(D)), None
    mean = est.predict(_float64(D)) + (_offset_values(offset, s) if offset else 0.0)
    if not spread:
        return mean, None
    trees = getattr(est, "estimators_", None)
    if isinstance(trees, (list, np.ndarray)) and len(trees) > 1 and hasattr(trees[0], "predict"):
        sd = np.std(_tree_predictions(np.ravel(trees), D), axis=0)
    else:
        sd = np.zeros(len(mean))
    return mean, sd


def _tree_predictions(trees, D):
    """Every tree's prediction, one row per tree: the fitted ``tree_`` arrays read
    directly (a forest's input checks once, not once per tree)."""
    X = np.ascontiguousarray(D, dtype=np.float32)
    if not all(hasattr(t, "tree_") for t in trees):
        return [t.predict(X) for t in trees]
    return [_tree_output(t.tree_.predict(X)) for t in trees]


def _tree_output(values):
    """A regression tree's prediction from its ``tree_.predict`` array, shaped as
    ``DecisionTreeRegressor.predict`` shapes it: (n,) for one output, (n, outputs)."""
    return values[:, 0] if values.ndim == 2 else values[:, :, 0]


def _fold(head, D, y, train, test, method, offset, s, n_classes):
    s_tr = None if s is None else s[train]
    s_te = None if s is None else s[test]
    est = fit_member(head, D[train], y[train], offset, s_tr)
    out, sd = member_predict(est, D[test], method, offset, s_te, spread=method == "predict")
    if method == "predict_proba" and out.shape[1] < n_classes:
        full = np.zeros((len(test), n_classes))
        full[:, est.classes_] = out
        out = full
    return test, out, sd


def out_of_fold(heads, designs, y, cv, method="predict", offsets=None, sources=None,
                n_jobs=None, train_rows=None):
    """Out-of-fold predictions of every member on the splits of ``cv``.

    Parameters
    ----------
    heads, designs : lists
        One unfitted estimator and one design matrix per member.
    y : ndarray
        Target (encoded labels for ``method="predict_proba"``).
    cv : splitter
        A partition of the rows (every row is predicted once).
    method : {"predict", "predict_proba"}
    offsets, sources : lists, optional
        Per member: its affine offset and the source output it applies to.
    n_jobs : int, optional
        Parallel (member, fold) fits, joblib.
    train_rows : ndarray of bool, optional
        Rows a fold may train on (all by default); every row is still
        predicted (a hurdle model: members of the non-zero rows).

    Returns
    -------
    P : ndarray of shape (n, members) or (n, members, classes)
    S : ndarray of shape (n, members) or None
        Within-member spread (forests' trees; zero for other heads).
    """
    from sklearn.utils.parallel import Parallel, delayed

    n_members = len(heads)
    offsets = offsets or [()] * n_members
    sources = sources or [None] * n_members
    n_classes = len(np.unique(y)) if method == "predict_proba" else None
    splits = list(cv.split(designs[0], y))
    if train_rows is not None:
        splits = [(train[train_rows[train]], test) for train, test in splits]
    jobs = [(m, train, test) for m in range(n_members) for train, test in splits]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fold)(heads[m], designs[m], y, train, test, method, offsets[m], sources[m],
                       n_classes)
        for m, train, test in jobs
    )
    shape = (len(y), n_members) + ((n_classes,) if n_classes else ())
    P = np.full(shape, np.nan)
    S = None if n_classes else np.zeros((len(y), n_members))
    for (m, _, _), (test, out, sd) in zip(jobs, results):
        P[test, m] = out
        if S is not None:
            S[test, m] = sd
    return P, S


def member_spec(name, kind, source=None, uses=(), offset=()):
    """A member as a plain dict (what ``kept_members_`` holds).

    Parameters
    ----------
    name : str
        ``"direct"``, ``"fractions"``, ``"transfer:<id>"``, ``"finetune:<id>"``, ``"stack"``,
        ``"outputs"``, ``"delta:<id>"``, ``"affine:<id>"`` or ``"linear:<id>"``.
    kind : str
        The part of ``name`` before the colon (``"stack"`` for the gate's design).
    source : str or list of str, optional
        The source of transfer / fine-tune / fidelity members; a list for a
        fidelity member on the mean prediction of several sources.
    uses : sequence of str, default=()
        Sources whose predictions are features of the member.
    offset : sequence of float, default=()
        ``()`` or ``(a, b)``: the member predicts ``a s(x) + b`` plus its head.

    Returns
    -------
    dict
    """
    return {"name": name, "kind": kind, "source": source, "uses": list(uses),
            "offset": list(offset)}


def member_note(eligible, weight):
    """The ``members_`` table's note on a member's fate.

    Parameters
    ----------
    eligible : bool
        Whether its out-of-fold loss beat the direct model's by the margin.
    weight : float
        Its weight in the combination.

    Returns
    -------
    str
    """
    if weight > 0:
        return "kept"
    if not eligible:
        return "out-of-fold loss above the direct model's"
    return "not needed by the combination"


def with_offset(member, s, y):
    """A copy of a fidelity member spec with its offset fitted on ``(s, y)``.

    Parameters
    ----------
    member : dict
        A ``"delta"`` (offset ``(1, 0)``), ``"affine"`` or ``"linear"`` (least
        squares) member.
    s : ndarray
        The member's source predictions on the training rows.
    y : ndarray

    Returns
    -------
    dict
    """
    out = dict(member)
    out["offset"] = [1.0, 0.0] if member["kind"] == "delta" else list(affine_offset(s, y))
    return out
