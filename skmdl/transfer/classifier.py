"""TransferClassifier: the transfer recipe for class labels, with a tuned threshold."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.model_selection import StratifiedKFold
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from numbers import Real

from .base import TransferBase
from .combine import best_threshold, log_loss_of, mixture
from .estimators import check_target
from .screening import logistic_cv_log_loss


class TransferClassifier(ClassifierMixin, TransferBase):
    """Classification by transfer from pretrained source models, never worse than direct.

    The recipe of :class:`TransferRegressor` for class labels: candidate
    sources are screened by the inner-CV log-loss of a logistic regression on
    their hidden features; the direct models (all descriptors; element
    fractions alone), one ``head`` per shortlisted source, the stack of
    source predictions and ``outputs`` (a logistic regression on every
    candidate source's prediction) are weighed by their own
    out-of-fold log-loss (members worse than direct excluded, the rest
    combined by greedy ensemble selection); ``predict_proba`` is the weighted
    mean of the kept members' probabilities. For two classes ``predict`` uses
    the decision threshold that maximizes balanced accuracy on the
    out-of-fold probabilities (``threshold="auto"``; Matbench scores ROC-AUC
    from hard labels, which for two classes is balanced accuracy).

    Parameters
    ----------
    sources, library, n_sources, layers, descriptors, kind, exclude_tasks, \
exclude_quantities, screening_cv, calibration_cv, direct, stack, combine, margin, n_jobs, \
random_state
        As in :class:`TransferRegressor` (``calibration_cv``: the folds whose
        out-of-fold probabilities weigh the members and set the threshold;
        ``stack``: the ``outputs`` member is a standardized logistic
        regression, ``C`` by 3-fold CV).
    head : classifier with ``predict_proba``, default=None
        ``None``: ``ExtraTreesClassifier(n_estimators=100, max_features=0.3)``.
    threshold : "auto" or float, default="auto"
        Decision threshold on the probability of ``classes_[1]`` (two classes
        only); ``"auto"``: maximize out-of-fold balanced accuracy (0.5 without
        out-of-fold predictions). Several classes: the most probable one.

    Attributes
    ----------
    classes_ : ndarray
    threshold_ : float or None
        The decision threshold (None for more than two classes).
    sources_, screening_, members_, kept_members_, weights_, estimators_, oof_, \
source_models_, layers_, descriptors_, descriptor_spec_, fit_profile_
        As in :class:`TransferRegressor` (``screening_`` has ``cv_log_loss``,
        ``members_`` ``oof_log_loss``).

    See Also
    --------
    TransferRegressor : the recipe for numeric targets.

    Examples
    --------
    >>> from skmdl.datasets import load_sample
    >>> from skmdl.transfer import TransferClassifier
    >>> X, y = load_sample("matbench_expt_gap_1000")
    >>> clf = TransferClassifier(sources=["oqmd_bandgap-000", "aflow_egap-000"], n_sources=2,
    ...                          random_state=0).fit(X[:600], y[:600] > 0)
    >>> clf.predict_proba(X[600:603]).shape
    (3, 2)
    >>> 0 < clf.threshold_ < 1
    True
    """

    _parameter_constraints = {
        **TransferBase._parameter_constraints,
        "head": [None, HasMethods(["fit", "predict_proba"])],
        "threshold": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="neither")],
    }
    _screen_column = "cv_log_loss"
    _loss_name = "log_loss"
    _oof_method = "predict_proba"
    _task = "classification"
    _screen_loss = staticmethod(logistic_cv_log_loss)
    _loss = staticmethod(log_loss_of)

    def __init__(self, sources="auto", library=None, n_sources=5, layers=(-1,), head=None,
                 descriptors="auto", kind="inorganic", exclude_tasks=(),
                 exclude_quantities=(), screening_cv=5, calibration_cv=5, direct=True,
                 stack=True, combine="greedy", margin=1.0, threshold="auto", n_jobs=None,
                 random_state=None):
        super().__init__(sources=sources, library=library, n_sources=n_sources, layers=layers,
                         head=head, descriptors=descriptors, kind=kind,
                         exclude_tasks=exclude_tasks, exclude_quantities=exclude_quantities,
                         screening_cv=screening_cv, calibration_cv=calibration_cv,
                         direct=direct, stack=stack, combine=combine, margin=margin,
                         n_jobs=n_jobs,
                         random_state=random_state)
        self.threshold = threshold

    def _validate_target(self, X, y):
        from sklearn.utils.multiclass import check_classification_targets

        y = check_target(X, y)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("TransferClassifier needs at least two classes in y")
        return encoded

    def _cv(self, n_splits, y, seed):
        smallest = int(np.bincount(y).min())
        return StratifiedKFold(max(2, min(n_splits, smallest)), shuffle=True, random_state=seed)

    def _after_weigh(self, F, y, members, weights, cache, seed, cv):
        self.threshold_ = None
        if len(self.classes_) != 2:
            return
        if self.threshold != "auto":
            self.threshold_ = float(self.threshold)
        elif self.oof_ is not None:
            self.threshold_ = best_threshold(y, mixture(self.oof_, weights)[:, 1])
        else:
            self.threshold_ = 0.5

    def predict_proba(self, X, return_std=False):
        """Weighted mean class probabilities of the kept members (and their spread).

        Parameters
        ----------
        X : list or Series
        return_std : bool, default=False
            Also return the weighted standard deviation across members.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        std : ndarray of shape (n_samples, n_classes), only with ``return_std=True``
        """
        P = np.stack([p for p, _ in self._member_outputs(X, "predict_proba")], axis=1)
        mean = mixture(P, self.weights_)
        if return_std:
            var = np.einsum("nmc,m->nc", (P - mean[:, None, :]) ** 2, self.weights_)
            return mean, np.sqrt(np.clip(var, 0, None))
        return mean

    def predict(self, X):
        """Class labels: the threshold on ``classes_[1]`` (two classes) or the argmax.

        Parameters
        ----------
        X : list or Series

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        if self.threshold_ is not None:
            return self.classes_[(proba[:, 1] > self.threshold_).astype(int)]
        return self.classes_[np.argmax(proba, axis=1)]
