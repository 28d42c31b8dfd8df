"""Default heads and descriptors of the transfer estimators' members.

:func:`default_head` (extra trees), :func:`linear_head` (the ``outputs``
member's: standardized ridge, or logistic regression for classes),
:func:`named_head` (``"kernel_ridge"``,
``"gp"``: small-data heads on standardized features) and
:func:`auto_descriptors` (``descriptors="auto"``). They stay importable from
:mod:`skmdl.transfer.base`, where they were first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["auto_descriptors", "default_head", "linear_head", "named_head"]


def default_head(task, random_state):
    """The default head of every member: extra trees, 100 trees, ``max_features=0.3``.

    Parameters
    ----------
    task : {"regression", "classification"}
    random_state : int or None

    Returns
    -------
    ExtraTreesRegressor or ExtraTreesClassifier

    Examples
    --------
    >>> default_head("classification", 0).n_estimators
    100
    """
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    cls = ExtraTreesClassifier if task == "classification" else ExtraTreesRegressor
    return cls(n_estimators=100, max_features=0.3, random_state=random_state, n_jobs=1)


def linear_head(task="regression", random_state=None):
    """The head of the ``outputs`` member: a standardized linear model, regularised by CV.

    A linear model of many source predictions (the LTC recipe: ~300 predicted
    properties) is what extrapolates along a physical trend. Regression: ridge
    with ``alpha`` by efficient leave-one-out (``RidgeCV``); classification:
    L2 logistic regression with ``C`` in 1e-3..1 by shuffled, stratified 3-fold
    CV on the log-loss (unshuffled folds of data sorted by chemical system
    chose far too strong a penalty).

    Parameters
    ----------
    task : {"regression", "classification"}, default="regression"
    random_state : int or None, default=None
        Seed of the classification folds.

    Returns
    -------
    Pipeline

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(20.0).reshape(10, 2); y = X @ [1.0, 2.0]
    >>> float(np.abs(linear_head().fit(X, y).predict(X) - y).max()) < 0.5
    True
    >>> linear_head("classification").steps[-1][0]
    'logisticregressioncv'
    """
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "classification":
        return make_pipeline(StandardScaler(), _logistic_cv(random_state))
    from .screening import ALPHAS

    return make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS))  # the screen's penalties


def _logistic_cv(random_state):
    """L2 logistic regression, ``C`` by CV. scikit-learn >= 1.9 warns unless the pure-L2
    ``l1_ratios`` and the new fitted attributes are asked for (the parameter that names
    them marks the version); the model is the same."""
    import inspect

    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    kw = {}
    if "use_legacy_attributes" in inspect.signature(LogisticRegressionCV).parameters:
        kw = {"l1_ratios": (0.0,), "use_legacy_attributes": False}
    cv = StratifiedKFold(3, shuffle=True, random_state=random_state)
    return LogisticRegressionCV(Cs=np.logspace(-3, 0, 4), cv=cv, scoring="neg_log_loss",
                                max_iter=2000, **kw)


def named_head(name, random_state=None):
    """A small-data regression head by name: ``"kernel_ridge"`` or ``"gp"``.

    ``"kernel_ridge"``: standardized features, RBF kernel ridge with ``alpha``
    and ``gamma`` chosen by shuffled 3-fold grid search inside each fit.
    ``"gp"``: standardized features, a Gaussian process with an RBF kernel
    plus white noise, hyperparameters by marginal likelihood, normalized target.

    Parameters
    ----------
    name : {"kernel_ridge", "gp"}
    random_state : int or None

    Returns
    -------
    Pipeline

    Examples
    --------
    >>> named_head("gp").steps[-1][0]
    'gaussianprocessregressor'
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "kernel_ridge":
        from sklearn.kernel_ridge import KernelRidge
        from sklearn.model_selection import GridSearchCV, KFold

        grid = {"alpha": np.logspace(-3, 1, 5), "gamma": np.logspace(-4, -1, 4)}
        cv = KFold(3, shuffle=True, random_state=random_state)  # rows may be sorted
        return make_pipeline(StandardScaler(), GridSearchCV(
            KernelRidge(kernel="rbf"), grid, cv=cv, scoring="neg_mean_absolute_error"))
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = ConstantKernel() * RBF(length_scale=10.0) + WhiteKernel()
    return make_pipeline(StandardScaler(), GaussianProcessRegressor(
        kernel, normalize_y=True, random_state=random_state))


def auto_descriptors(spec):
    """``descriptors="auto"``: for composition sources, Magpie statistics, stoichiometry
    and element fractions (the standard direct baseline of Matbench composition tasks).

    Element fractions are the composition itself (what a direct model of
    alloys or doped systems needs most); other descriptor kinds: None (the
    source's own descriptors are used).

    Parameters
    ----------
    spec : dict
        A card's descriptor spec.

    Returns
    -------
    fitted CompositionFeaturizer or None
    """
    from ..descriptors import CompositionFeaturizer

    params = dict(spec.get("params", {}))
    if spec.get("class") != "CompositionFeaturizer":
        return None
    return CompositionFeaturizer(elements=params.get("elements", "magpie"), stats="magpie",
                                 stoichiometry=True, element_fractions=True).fit()
