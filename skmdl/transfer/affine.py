"""Affine model transfer (Minami, Fukumizu, Hayashi, Yoshida, arXiv:2210.09745).

The target model is an affine transformation of the source representation
``s = f_s(x)`` with input-dependent coefficients::

    f_t(x) = g1(s) + g2(s) * g3(x)

``g1`` models what the domains share (a function of the source model alone),
``g3`` the target-specific factor (a function of the raw descriptors), and
``g2`` how strongly that factor acts. Plain feature extraction (``g2 = 0``)
and output-offset correction (``g1(s) = s``, ``g2 = 1``) are special cases.

Estimation follows the paper's regularized least squares in RKHSs, solved by
block relaxation: each ``g`` lives in the span of a kernel feature map (here
a Nystroem approximation of the RBF kernel, plus a constant), so with ``g3``
fixed the problem is a ridge regression in ``(g1, g2)`` and with ``(g1,
g2)`` fixed a ridge regression in ``g3``; the two steps alternate until the
training objective stops decreasing.
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.kernel_approximation import Nystroem
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..library.library import ModelLibrary
from ..utils._base import MaterialsInputMixin
from .estimators import check_regression_target
from .featurizer import SourceModels, resolve_library


def _ridge(A, b, alpha):
    """argmin ||A w - b||^2 + alpha ||w||^2 (normal equations, small dense A)."""
    G = A.T @ A
    G[np.diag_indices_from(G)] += alpha
    return np.linalg.solve(G, A.T @ b)


class _KernelMap:
    """Standardize -> Nystroem RBF features (gamma = 1 / n_features) -> append a constant."""

    def __init__(self, n_components, random_state):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, Z):
        n = min(self.n_components, len(Z))
        self.pipe = make_pipeline(
            StandardScaler(),
            Nystroem(kernel="rbf", gamma=1.0 / Z.shape[1], n_components=n,
                     random_state=self.random_state),
        ).fit(np.nan_to_num(Z))
        return self

    def transform(self, Z):
        P = self.pipe.transform(np.nan_to_num(Z))
        return np.hstack([P, np.ones((len(P), 1))])


class AffineTransferRegressor(MaterialsInputMixin, RegressorMixin, BaseEstimator):
    """Affine model transfer: ``y = g1(s) + g2(s) * g3(x)`` with ``s`` from source models.

    Parameters
    ----------
    sources : list of str
        Source model ids whose representation forms ``s``.
    source_features : {"output", "hidden"}, default="output"
        ``s`` = the source models' predictions of their own property, or their
        last hidden layer.
    descriptors : "source" or transformer, default="source"
        Raw descriptors ``x`` of ``g3``: the first source model's input
        descriptors, or the output of a transformer of the raw inputs.
    library : None, str, Path or ModelLibrary, default=None
    alpha1, alpha2, alpha3 : float, default=1.0
        Ridge penalties of g1, g2, g3 (squared RKHS norms).
    n_components : int, default=200
        Nystroem features per kernel.
    max_iter : int, default=50
        Block-relaxation rounds.
    tol : float, default=1e-6
        Stop when the objective improves by less than ``tol`` (relative).
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    coef1_, coef2_, coef3_ : ndarray
        Coefficients of g1, g2 (on the source kernel features) and g3 (on the
        descriptor kernel features).
    objective_ : list of float
        Training objective after each round (non-increasing).
    n_iter_ : int
        Block-relaxation rounds run.
    source_models_ : SourceModels
        The source networks of ``sources`` with their featurizers, loaded from
        ``library``.
    descriptors_ : transformer or None
        The fitted clone of ``descriptors`` when it is a transformer, else ``None``.

    See Also
    --------
    TransferRegressor : shotgun transfer (screened sources, one head each).

    Examples
    --------
    >>> from skmdl.datasets import load_sample
    >>> from skmdl.transfer import AffineTransferRegressor
    >>> X, y = load_sample("matbench_expt_gap_1000")
    >>> model = AffineTransferRegressor(sources=["oqmd_bandgap-000", "aflow_egap-000"],
    ...                                 random_state=0).fit(X[:800], y[:800])
    >>> model.predict(X[800:805]).shape
    (5,)
    """

    _parameter_constraints = {
        "sources": [list, tuple],
        "source_features": [StrOptions({"output", "hidden"})],
        "descriptors": [StrOptions({"source"}), HasMethods(["fit", "transform"])],
        "library": [None, str, os.PathLike, ModelLibrary],
        "alpha1": [Interval(Real, 0, None, closed="neither")],
        "alpha2": [Interval(Real, 0, None, closed="neither")],
        "alpha3": [Interval(Real, 0, None, closed="neither")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, sources=(), source_features="output", descriptors="source",
                 library=None, alpha1=1.0, alpha2=1.0, alpha3=1.0, n_components=200,
                 max_iter=50, tol=1e-6, random_state=None):
        self.sources = sources
        self.source_features = source_features
        self.descriptors = descriptors
        self.library = library
        self.alpha1 = alpha1
        self.alpha2 = alpha2
        self.alpha3 = alpha3
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _representations(self, X):
        """(s, x): source representation and raw descriptors of the inputs."""
        import torch

        sm = self.source_models_
        F = sm.features(X)
        if self.source_features == "hidden":
            S = np.hstack([sm.hidden(i, F, [-1]) for i in sm.ids])
        else:
            cols = []
            for i in sm.ids:
                Fi = torch.as_tensor(F[sm.spec_of[i]], dtype=torch.float32)
                with torch.no_grad():
                    cols.append(sm.modules[i](Fi).numpy()[:, 0])
            S = np.column_stack(cols)
        if self.descriptors_ is not None:
            D = np.asarray(self.descriptors_.transform(X), dtype=np.float64)
        else:
            D = F[sm.spec_of[sm.ids[0]]]
        return S.astype(np.float64), D.astype(np.float64)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Estimate g1, g2, g3 by block relaxation."""
        from sklearn.base import clone
        from sklearn.utils import check_random_state

        y = check_regression_target(X, y)
        if not len(self.sources):
            raise ValueError("AffineTransferRegressor needs at least one source model id")
        rs = check_random_state(self.random_state)
        self.source_models_ = SourceModels(resolve_library(self.library), list(self.sources))
        self.descriptors_ = None
        if not isinstance(self.descriptors, str):
            self.descriptors_ = clone(self.descriptors).fit(X, y)
        S, D = self._representations(X)
        self._y_mean, self._y_scale = float(y.mean()), float(y.std()) or 1.0
        t = (y - self._y_mean) / self._y_scale
        seed = rs.randint(2**31 - 1)
        self._map_s = _KernelMap(self.n_components, seed).fit(S)
        self._map_x = _KernelMap(self.n_components, seed + 1).fit(D)
        P, Q = self._map_s.transform(S), self._map_x.transform(D)
        p, q = P.shape[1], Q.shape[1]

        # start from g3 = 1 (the constant feature), i.e. plain source-feature regression
        c = np.zeros(q)
        c[-1] = 1.0
        a = b = np.zeros(p)
        alphas = np.concatenate([np.full(p, self.alpha1), np.full(p, self.alpha2)])
        self.objective_ = []
        for _ in range(self.max_iter):
            g3 = Q @ c
            A = np.hstack([P, P * g3[:, None]])
            G = A.T @ A + np.diag(alphas)
            w = np.linalg.solve(G, A.T @ t)
            a, b = w[:p], w[p:]
            g2 = P @ b
            c = _ridge(Q * g2[:, None], t - P @ a, self.alpha3)
            resid = t - P @ a - (P @ b) * (Q @ c)
            obj = float(resid @ resid + self.alpha1 * a @ a + self.alpha2 * b @ b
                        + self.alpha3 * c @ c)
            self.objective_.append(obj)
            if len(self.objective_) > 1 and \
                    self.objective_[-2] - obj <= self.tol * max(abs(self.objective_[-2]), 1e-12):
                break
        self.coef1_, self.coef2_, self.coef3_ = a, b, c
        self.n_iter_ = len(self.objective_)
        return self

    def decompose(self, X):
        """The three functions at ``X``: ``(g1, g2, g3)``, in target units for g1.

        ``predict(X) == g1 + g2 * g3`` (g2 carries the target scale).
        """
        check_is_fitted(self, "coef3_")
        S, D = self._representations(X)
        P, Q = self._map_s.transform(S), self._map_x.transform(D)
        g1 = P @ self.coef1_ * self._y_scale + self._y_mean
        g2 = P @ self.coef2_ * self._y_scale
        g3 = Q @ self.coef3_
        return g1, g2, g3

    def predict(self, X):
        g1, g2, g3 = self.decompose(X)
        return g1 + g2 * g3
