"""TransferRegressor: shotgun transfer from a library of pretrained source models.

Recipe (Yamada et al., ACS Cent. Sci. 2019, "shotgun transfer"):

1. candidate source models are taken from the library (``sources="auto"``:
   every model of the input kind, minus excluded tasks/quantities);
2. each candidate is *screened* by inner cross-validation on the training
   data: a ridge regression on its frozen hidden features predicts the target;
3. the ``n_sources`` best candidates each give one ensemble member: a clone of
   ``head`` fitted on [source descriptors, frozen hidden features] (keeping
   the raw descriptors lets the head ignore unhelpful transferred features);
4. prediction is the ensemble mean, ``return_std=True`` adds the spread, and
   ``predict_interval`` gives intervals calibrated by cross-validation
   (CV+ style, normalized by the ensemble spread).
"""

from __future__ import annotations

import os

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context, clone
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..library.library import ModelLibrary
from ..utils._base import MaterialsInputMixin
from .conformal import scaled_interval
from .featurizer import SourceModels, as_layers, resolve_library


def check_target(X, y):
    """y as a 1-d array with one value per input item."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d, got shape {y.shape}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} items but y has {len(y)}")
    return y


def check_regression_target(X, y):
    """:func:`check_target` plus float dtype and finite values."""
    y = check_target(X, y).astype(np.float64)
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinite values")
    return y


def _default_head(random_state):
    from sklearn.ensemble import ExtraTreesRegressor

    return ExtraTreesRegressor(n_estimators=300, max_features=0.3, random_state=random_state,
                               n_jobs=1)


def _screen_model():
    return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))


class _TransferBase(MaterialsInputMixin, BaseEstimator):
    """Shared machinery of the transfer meta-estimators (see TransferRegressor)."""

    _parameter_constraints = {
        "sources": [StrOptions({"auto"}), list, tuple],
        "library": [None, str, os.PathLike, ModelLibrary],
        "n_sources": [Interval(Integral, 1, None, closed="left")],
        "layers": [list, tuple, Integral, StrOptions({"output"})],
        "head": [None, HasMethods(["fit", "predict"])],
        "descriptors": [StrOptions({"source", "none"}), HasMethods(["fit", "transform"])],
        "kind": [str],
        "exclude_tasks": [list, tuple],
        "exclude_quantities": [list, tuple],
        "screening_cv": [Interval(Integral, 2, None, closed="left"),
                         HasMethods(["split", "get_n_splits"])],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, sources="auto", library=None, n_sources=5, layers=(-1,), head=None,
                 descriptors="source", kind="inorganic", exclude_tasks=(),
                 exclude_quantities=(), screening_cv=5, n_jobs=None, random_state=None):
        self.sources = sources
        self.library = library
        self.n_sources = n_sources
        self.layers = layers
        self.head = head
        self.descriptors = descriptors
        self.kind = kind
        self.exclude_tasks = exclude_tasks
        self.exclude_quantities = exclude_quantities
        self.screening_cv = screening_cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ---------------------------------------------------------------- helpers
    def candidate_sources(self, library=None) -> list:
        """Ids of the source models :meth:`fit` screens, in the order it screens them.

        With ``sources="auto"``: every model of ``kind`` in the library, less
        the models trained on ``exclude_tasks`` or predicting one of
        ``exclude_quantities`` (:meth:`~skmdl.library.ModelLibrary.search`, by
        id); otherwise ``sources`` as given. Needs no fit.

        Parameters
        ----------
        library : ModelLibrary, str or path, optional
            The library to search; default: the estimator's ``library``
            parameter (the embedded default library when that is None).

        Returns
        -------
        list of str

        Raises
        ------
        ValueError
            No candidate is left.

        Examples
        --------
        >>> from skmdl.library import ModelLibrary
        >>> from skmdl.transfer import TransferRegressor
        >>> lib = ModelLibrary.default()
        >>> ids = TransferRegressor(exclude_quantities=["band gap"]).candidate_sources(lib)
        >>> ids == sorted(ids), any(lib.quantity(i) == "band gap" for i in ids)
        (True, False)
        >>> TransferRegressor(sources=["oqmd_bandgap-000"]).candidate_sources()
        ['oqmd_bandgap-000']
        """
        if self.sources == "auto":
            lib = resolve_library(self.library if library is None else library)
            ids = lib.search(kind=self.kind, exclude_tasks=self.exclude_tasks,
                             exclude_quantities=self.exclude_quantities)["id"].tolist()
        else:
            ids = list(self.sources)
        if not ids:
            raise ValueError("no candidate source models (check sources, kind and exclusions)")
        return ids

    def _raw_features(self, X):
        """Source descriptors per spec, plus the user's descriptors under key None."""
        F = self.source_models_.features(X)
        if self.descriptors_ is not None:
            F[None] = np.asarray(self.descriptors_.transform(X), dtype=np.float32)
        return F

    def _design(self, F_by_spec, model_id):
        H = self.source_models_.hidden(model_id, F_by_spec, self.layers_)
        if self.descriptors == "none":
            return H
        key = None if self.descriptors_ is not None else self.source_models_.spec_of[model_id]
        return np.hstack([F_by_spec[key], H])

    def _seed(self):
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):
            return rs.randint(2**31 - 1)
        return rs

    # ---------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Screen the candidate sources and fit one head per kept source."""
        from sklearn.utils.parallel import Parallel, delayed

        y = self._validate_target(X, y)
        lib = resolve_library(self.library)
        ids = self.candidate_sources(lib)
        self.layers_ = as_layers(self.layers)
        self.source_models_ = SourceModels(lib, ids, n_jobs=None)
        self.descriptors_ = None
        if not isinstance(self.descriptors, str):
            self.descriptors_ = clone(self.descriptors).fit(X, y)
        F = self._raw_features(X)
        seed = self._seed()

        # 1. screening: inner-CV loss of a linear model on each source's hidden features
        import pandas as pd

        if len(ids) > self.n_sources:
            cv = self.screening_cv
            if isinstance(cv, Integral):
                cv = self._cv(cv, y, seed)
            losses = Parallel(n_jobs=self.n_jobs)(
                delayed(self._screen_loss)(self.source_models_.hidden(i, F, self.layers_), y, cv)
                for i in ids
            )
        else:
            losses = [np.nan] * len(ids)
        self.screening_ = pd.DataFrame({"id": ids, self._screen_column: losses}).sort_values(
            self._screen_column, kind="stable").reset_index(drop=True)
        self.sources_ = self.screening_["id"][: self.n_sources].tolist()
        # keep only the chosen sources (smaller pickles and saved models)
        self.source_models_ = self.source_models_.subset(self.sources_)

        # 2. one head per kept source
        designs = [self._member_design(F, i) for i in self.sources_]
        heads = [self._member_head(i, seed) for i in self.sources_]
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_head)(h, D, y) for h, D in zip(heads, designs)
        )

        self._after_fit(heads, designs, y, seed)
        return self

    def _member_head(self, model_id, seed):
        """Unfitted estimator of one ensemble member."""
        if getattr(self, "mode", "frozen") == "finetune":
            from .finetune import SourceFineTuner

            return SourceFineTuner(module=self.source_models_.modules[model_id],
                                   random_state=seed, **(self.finetune_params or {}))
        return self.head if self.head is not None else self._default_head(seed)

    def _member_design(self, F_by_spec, model_id):
        """Input matrix of one ensemble member."""
        if getattr(self, "mode", "frozen") == "finetune":  # the network's own descriptors
            return F_by_spec[self.source_models_.spec_of[model_id]]
        return self._design(F_by_spec, model_id)

    def _after_fit(self, heads, designs, y, seed):
        """Hook for subclass-specific fitting (interval calibration)."""

    def _validate_target(self, X, y):
        return check_target(X, y)


class TransferRegressor(RegressorMixin, _TransferBase):
    """Regression by transfer from pretrained source models (frozen features + head).

    Parameters
    ----------
    sources : "auto" or list of str, default="auto"
        Candidate source model ids, or ``"auto"`` for every model of the
        library of kind ``kind`` (minus the exclusions);
        :meth:`candidate_sources` lists them without fitting.
    library : None, str, Path or ModelLibrary, default=None
        ``None`` is the embedded default library.
    n_sources : int, default=5
        Number of screened sources kept; each gives one ensemble member.
    layers : int, "output" or sequence of them, default=(-1,)
        Hidden layers used as features; ``"output"`` adds the source model's
        prediction of its own property (see :class:`PretrainedFeaturizer`).
    head : regressor, default=None
        Fitted on [descriptors, hidden features] of one source. ``None``:
        ``ExtraTreesRegressor(n_estimators=300, max_features=0.3)``.
    descriptors : "source", "none" or transformer, default="source"
        Raw descriptors kept beside the hidden features: the source models'
        own input descriptors, none, or the output of a transformer of the
        raw inputs (cloned and fitted in ``fit``, e.g.
        ``CompositionFeaturizer(element_fractions=True)``).
    kind : str, default="inorganic"
        Material kind of the candidate sources for ``sources="auto"``.
    exclude_tasks, exclude_quantities : sequence of str, default=()
        Source models trained on these data sets / physical quantities are
        not candidates (use them to rule out the target's own property).
    screening_cv : int or CV splitter, default=5
        Folds of the inner CV that ranks candidate sources (shuffled K-fold),
        or a splitter, e.g. :class:`~skmdl.transfer.ExtrapolationSplit` to
        rank sources by how well they extrapolate.
    calibration_cv : int or None, default=5
        Folds used to calibrate ``predict_interval``; ``None`` skips it.
    mode : {"frozen", "finetune"}, default="frozen"
        ``"frozen"``: ``head`` on [descriptors, frozen hidden features].
        ``"finetune"``: each kept source network is copied, its output layer
        replaced and the whole network trained on the target (skorch;
        pretrained layers at a lower learning rate, early stopping on an
        inner validation split); ``head`` and ``descriptors`` are not used.
    finetune_params : dict, optional
        Parameters of :class:`skmdl.transfer.finetune.SourceFineTuner`
        (``lr``, ``lower_lr_factor``, ``max_epochs``, ``patience``, ...).
    n_jobs : int, default=None
        Parallel fits of ensemble members (joblib).
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    sources_ : list of str
        The kept source model ids, best first.
    screening_ : pandas.DataFrame
        Candidate ids with their inner-CV MAE, sorted.
    estimators_ : list of fitted estimators
        One fitted clone of ``head`` per kept source (a
        :class:`~skmdl.transfer.finetune.SourceFineTuner` in fine-tuning mode).
    source_models_ : SourceModels
        The kept source networks with their featurizers, loaded from
        ``library``; ``source_models_.ids == sources_``.
    layers_ : list
        ``layers`` as a list of hidden-layer indices and/or ``"output"``.
    descriptors_ : transformer or None
        The fitted clone of ``descriptors`` when it is a transformer, else ``None``.
    calibration_scores_ : ndarray or None
        Cross-validated normalized residuals ``|y - mean| / max(std, sd_floor_)``
        (for intervals); ``None`` without calibration.
    sd_floor_ : float or None
        Lower bound of the ensemble spread in the interval half-widths: a tenth
        of the median cross-validated spread; ``None`` without calibration.

    See Also
    --------
    TransferClassifier : the same recipe for class labels.
    skmdl.transfer.saving.save_model : write the fitted estimator as safe files.

    Examples
    --------
    >>> from skmdl.datasets import load_sample
    >>> from skmdl.transfer import TransferRegressor
    >>> X, y = load_sample("matbench_steels")
    >>> model = TransferRegressor(sources=["mp_e_hull-000", "critexam_ef-000"],
    ...                           n_sources=2, calibration_cv=None, random_state=0)
    >>> model = model.fit(X[:200], y[:200])
    >>> mean, std = model.predict(X[200:205], return_std=True)
    >>> mean.shape, std.shape
    ((5,), (5,))
    """

    _parameter_constraints = {
        **_TransferBase._parameter_constraints,
        "calibration_cv": [None, Interval(Integral, 2, None, closed="left")],
        "mode": [StrOptions({"frozen", "finetune"})],
        "finetune_params": [None, dict],
    }
    _screen_column = "cv_mae"

    def __init__(self, sources="auto", library=None, n_sources=5, layers=(-1,), head=None,
                 descriptors="source", kind="inorganic", exclude_tasks=(),
                 exclude_quantities=(), screening_cv=5, calibration_cv=5, mode="frozen",
                 finetune_params=None, n_jobs=None, random_state=None):
        super().__init__(sources=sources, library=library, n_sources=n_sources, layers=layers,
                         head=head, descriptors=descriptors, kind=kind,
                         exclude_tasks=exclude_tasks, exclude_quantities=exclude_quantities,
                         screening_cv=screening_cv, n_jobs=n_jobs, random_state=random_state)
        self.calibration_cv = calibration_cv
        self.mode = mode
        self.finetune_params = finetune_params

    def _cv(self, n_splits, y, seed):
        return KFold(min(n_splits, len(y)), shuffle=True, random_state=seed)

    @staticmethod
    def _screen_loss(H, y, cv):
        return _cv_loss(_screen_model(), H, y, cv, "predict",
                        lambda yt, p: float(np.abs(p - yt).mean()))

    @staticmethod
    def _default_head(seed):
        return _default_head(seed)

    def _validate_target(self, X, y):
        return check_regression_target(X, y)

    def _after_fit(self, heads, designs, y, seed):
        # calibration for intervals: CV predictions of the whole ensemble
        self.calibration_scores_ = self.sd_floor_ = None
        if self.calibration_cv is not None and len(y) >= 2 * self.calibration_cv:
            cv = KFold(self.calibration_cv, shuffle=True, random_state=seed)
            preds = np.column_stack([
                cross_val_predict(clone(h), D, y, cv=cv, n_jobs=self.n_jobs)
                for h, D in zip(heads, designs)
            ])
            mu, sd = preds.mean(axis=1), preds.std(axis=1)
            self.sd_floor_ = max(float(np.median(sd)) * 0.1, 1e-12)
            self.calibration_scores_ = np.abs(y - mu) / np.maximum(sd, self.sd_floor_)

    # ---------------------------------------------------------------- predict
    def _member_predictions(self, X):
        check_is_fitted(self, "estimators_")
        F = self._raw_features(X)
        return np.column_stack([
            est.predict(self._member_design(F, i))
            for est, i in zip(self.estimators_, self.sources_)
        ])

    def predict(self, X, return_std=False):
        """Ensemble mean; with ``return_std=True`` also the spread of the members."""
        P = self._member_predictions(X)
        mean = P.mean(axis=1)
        if return_std:
            return mean, P.std(axis=1)
        return mean

    def predict_interval(self, X, alpha=0.1):
        """Prediction intervals with nominal coverage ``1 - alpha``.

        The half-width is ``q * max(std(x), sd_floor_)``, ``q`` the ``1 - alpha``
        quantile (finite-sample corrected, :func:`~skmdl.transfer.conformal.conformal_quantile`)
        of the cross-validated normalized residuals ``calibration_scores_``
        collected in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, 2): lower and upper bounds.
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        check_is_fitted(self, "estimators_")
        if self.calibration_scores_ is None:
            raise ValueError("intervals need calibration: fit with calibration_cv set "
                             "(and at least 2 * calibration_cv samples)")
        mean, std = self.predict(X, return_std=True)
        return scaled_interval(mean, std, self.calibration_scores_, alpha, self.sd_floor_)


def _cv_loss(model, H, y, cv, method, loss):
    """Mean validation loss of ``model`` over the splits of ``cv`` (any splitter,
    not only partitions: :class:`ExtrapolationSplit` validates on a tail)."""
    losses = []
    for train, test in cv.split(H, y):
        fitted = clone(model).fit(H[train], y[train])
        out = getattr(fitted, method)(H[test])
        if method == "predict_proba" and out.shape[1] < len(np.unique(y)):
            full = np.zeros((len(test), len(np.unique(y))))
            full[:, fitted.classes_] = out
            out = full
        losses.append(loss(y[test], out))
    return float(np.mean(losses))


def _fit_head(head, D, y):
    return clone(head).fit(D, y)


class TransferClassifier(ClassifierMixin, _TransferBase):
    """Classification by transfer from pretrained source models (frozen features + head).

    The recipe of :class:`TransferRegressor` for class labels: candidate
    sources are screened by the inner-CV log-loss of a logistic regression on
    their hidden features, one ``head`` classifier is fitted per kept source on
    [descriptors, hidden features], and ``predict_proba`` averages the
    members' probabilities (their spread is ``predict_proba(X,
    return_std=True)[1]``).

    Parameters
    ----------
    sources, library, n_sources, layers, descriptors, kind, exclude_tasks, \
exclude_quantities, screening_cv, n_jobs, random_state
        As in :class:`TransferRegressor`.
    head : classifier with ``predict_proba``, default=None
        ``None``: ``ExtraTreesClassifier(n_estimators=300, max_features=0.3)``.

    Attributes
    ----------
    classes_ : ndarray
    sources_, screening_, estimators_, source_models_, layers_, descriptors_
        As in :class:`TransferRegressor` (``screening_`` has ``cv_log_loss``).

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
    """

    _parameter_constraints = {
        **_TransferBase._parameter_constraints,
        "head": [None, HasMethods(["fit", "predict_proba"])],
    }
    _screen_column = "cv_log_loss"

    def __init__(self, sources="auto", library=None, n_sources=5, layers=(-1,), head=None,
                 descriptors="source", kind="inorganic", exclude_tasks=(),
                 exclude_quantities=(), screening_cv=5, n_jobs=None, random_state=None):
        super().__init__(sources=sources, library=library, n_sources=n_sources, layers=layers,
                         head=head, descriptors=descriptors, kind=kind,
                         exclude_tasks=exclude_tasks, exclude_quantities=exclude_quantities,
                         screening_cv=screening_cv, n_jobs=n_jobs, random_state=random_state)

    def _validate_target(self, X, y):
        from sklearn.utils.multiclass import check_classification_targets

        y = super()._validate_target(X, y)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("TransferClassifier needs at least two classes in y")
        return encoded

    def _cv(self, n_splits, y, seed):
        from sklearn.model_selection import StratifiedKFold

        smallest = int(np.bincount(y).min())
        return StratifiedKFold(max(2, min(n_splits, smallest)), shuffle=True, random_state=seed)

    @staticmethod
    def _screen_loss(H, y, cv):
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss

        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        labels = np.unique(y)

        def loss(yt, proba):  # a fold may miss a class: map its columns onto all labels
            return float(log_loss(yt, proba, labels=labels))

        return _cv_loss(model, H, y, cv, "predict_proba", loss)

    @staticmethod
    def _default_head(seed):
        from sklearn.ensemble import ExtraTreesClassifier

        return ExtraTreesClassifier(n_estimators=300, max_features=0.3, random_state=seed,
                                    n_jobs=1)

    def predict_proba(self, X, return_std=False):
        """Mean class probabilities of the members (and their spread)."""
        check_is_fitted(self, "estimators_")
        F = self._raw_features(X)
        P = np.stack([est.predict_proba(self._member_design(F, i))
                      for est, i in zip(self.estimators_, self.sources_)])
        if return_std:
            return P.mean(axis=0), P.std(axis=0)
        return P.mean(axis=0)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
