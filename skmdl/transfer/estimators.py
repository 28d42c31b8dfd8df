"""TransferRegressor: shotgun transfer that never does worse than the direct model.

Recipe (after Yamada et al., ACS Cent. Sci. 2019, "shotgun transfer"; the
steps are :class:`~skmdl.transfer.base.TransferBase`'s):

1. candidate source models are taken from the library (``sources="auto"``:
   every model of the input kind, minus excluded tasks/quantities);
2. each candidate is *screened* by inner cross-validation on the training
   data: a ridge regression on its frozen hidden features predicts the target;
   the ``n_sources`` best are shortlisted;
3. candidate *members*: the direct model (``head`` on the descriptors alone),
   a second direct model on the element fractions alone (``fractions``), one
   ``head`` per shortlisted source on [descriptors, frozen hidden
   features], a stack (``head`` on [descriptors, every shortlisted source's
   prediction]), ``outputs`` (a standardized ridge on the predictions of every
   candidate source: the LTC recipe) and, for sources predicting the target's own ``quantity`` at
   another fidelity, a residual (delta) and an affine correction;
4. every member's own out-of-fold predictions weigh them: members worse than
   direct are excluded, the rest combined by greedy ensemble selection, so the
   combination's inner-CV error is never above the direct model's; a zero
   gate (a classifier of ``y == 0``, e.g. metals for band gaps) is kept when
   it lowers that error;
5. prediction is the weighted mean of the kept members; ``return_std=True``
   adds the spread of the mixture (between members and within forests), and
   ``predict_interval`` gives intervals calibrated on the out-of-fold
   residuals (CV+ style, normalized by that spread).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.model_selection import KFold
from sklearn.utils._param_validation import HasMethods, StrOptions

from .base import TransferBase
from .members import affine_offset, member_spec, with_offset
from .combine import mae_loss, mixture
from .conformal import scaled_interval
from .gate import ZeroGate
from .screening import ridge_cv_mae


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


class TransferRegressor(RegressorMixin, TransferBase):
    """Regression by transfer from pretrained source models, never worse than direct.

    Parameters
    ----------
    sources : "auto" or list of str, default="auto"
        Candidate source model ids, or ``"auto"`` for every model of the
        library of kind ``kind`` (minus the exclusions);
        :meth:`candidate_sources` lists them without fitting.
    library : None, str, Path or ModelLibrary, default=None
        ``None`` is the embedded default library.
    n_sources : int, default=5
        Number of screened sources shortlisted; each gives one candidate member.
    layers : int, "output" or sequence of them, default=(-1,)
        Hidden layers used as features; ``"output"`` adds the source model's
        prediction of its own property (see :class:`PretrainedFeaturizer`).
    head : regressor, "kernel_ridge" or "gp", default=None
        The estimator of every member. ``None``:
        ``ExtraTreesRegressor(n_estimators=100, max_features=0.3)``;
        ``"kernel_ridge"`` / ``"gp"``: small-data heads on standardized
        features (:func:`~skmdl.transfer.base.named_head`).
    descriptors : "auto", "source", "none" or transformer, default="auto"
        Raw descriptors kept beside the transferred features (and the direct
        model's input): ``"auto"``: the composition sources' descriptors plus
        element fractions (other kinds: as ``"source"``); ``"source"``: the
        source models' own input descriptors; none (no direct member then);
        or the output of a transformer of the raw inputs
        (cloned and fitted in ``fit``, e.g.
        ``CompositionFeaturizer(element_fractions=True)``).
    kind : str, default="inorganic"
        Material kind of the candidate sources for ``sources="auto"``.
    exclude_tasks, exclude_quantities : sequence of str, default=()
        Source models trained on these data sets / physical quantities are
        not candidates (use them to rule out the target's own data).
    screening_cv : int or CV splitter, default=5
        Folds of the inner CV that ranks candidate sources (shuffled K-fold),
        or a splitter, e.g. :class:`~skmdl.transfer.ExtrapolationSplit` to
        rank sources by how well they extrapolate.
    calibration_cv : int, splitter or None, default=5
        Folds of the inner CV whose out-of-fold predictions weigh the members
        and calibrate ``predict_interval``. ``None`` (or fewer than
        ``2 * calibration_cv`` rows): members weighed equally, no intervals.
        A splitter that partitions the rows, called on the raw inputs, makes
        the weights reward what the outer task needs, e.g.
        :class:`~skmdl.transfer.ElementCountSplit` (validate on one number
        of elements, train on the others) for extrapolation in system size.
    direct : bool, default=True
        Keep the direct model (``head`` on the descriptors alone) as a member
        and the yardstick: members with a higher out-of-fold MAE are excluded.
        With composition descriptors that include element fractions, the
        ``fractions`` member (the default head on those columns alone, every
        column a split candidate) is a second direct candidate.
    stack : bool, "trees" or "linear", default=True
        ``True``: add both stacking members: ``stack``, the head on
        [descriptors, the shortlisted sources' predictions], and ``outputs``,
        a standardized ridge (``alpha`` by leave-one-out,
        :func:`~skmdl.transfer.heads.linear_head`) on the predictions of every
        candidate source (a user's ``head`` replaces the ridge; classifiers use
        a logistic regression). ``"trees"``:
        ``stack`` only; ``"linear"``: ``outputs`` only; ``False``: neither.
    combine : {"greedy", "best", "mean"}, default="greedy"
        ``"greedy"``: ensemble selection on the out-of-fold predictions
        (non-negative weights); ``"best"``: the single best member; ``"mean"``:
        every member equally (no selection, no guarantee).
    margin : float or "auto", default=1.0
        A member is eligible only when its out-of-fold loss is below the
        direct member's by ``margin`` standard errors of their paired per-row
        difference (the one-standard-error rule). ``"auto"`` corrects the
        one-SE rule for the number of members compared with direct (Šidák:
        each comparison at the family-wise level a single one-SE comparison
        has, :func:`~skmdl.transfer.combine.eligibility_margin`), so that the
        best of many members does not pass by luck on small data.
    quantity : str, optional
        The target's physical quantity (e.g. ``"band gap"``). Sources whose
        card names the same quantity (at another fidelity, e.g. DFT for an
        experimental target) give multi-fidelity members.
    fidelity : {"auto", "delta", "affine", "linear", "none"}, default="auto"
        Multi-fidelity members for same-quantity sources: a head on the
        residual ``y - s(x)`` (``"delta"``) or ``y - (a s(x) + b)``
        (``"affine"``), the bare correction ``a s(x) + b`` with no head
        (``"linear"``: what extrapolates when the target's inputs move away
        from the training data, since a head learns the training region), all
        three (``"auto"``, the inner CV chooses), or none.
    gate : "auto" or bool, default="auto"
        A classifier of ``y == 0`` (metals, for band gaps) that sets the
        prediction to 0; ``"auto"``: tried when at least 10 % of ``y`` are
        exactly 0 and none negative, kept when it lowers the out-of-fold MAE.
    hurdle : "auto" or bool, default="auto"
        Where the gate is tried, a hurdle model: the members learn the
        non-zero rows only (the gate predicts the zeros, the members the size
        of the non-zero values, no longer pulled toward zero by the metals).
        ``True``: the hurdle whenever its gate is kept (else the members are
        weighed again on all rows); ``"auto"``: the members are weighed both
        ways and the lower out-of-fold MAE (``oof_loss_``, gate included)
        decides; ``False``: members always learn every row.
    mode : {"frozen", "finetune"}, default="frozen"
        ``"frozen"``: ``head`` on [descriptors, frozen hidden features].
        ``"finetune"``: each shortlisted source network is copied, its output
        layer replaced and the whole network trained on the target (skorch;
        pretrained layers at a lower learning rate, early stopping on an
        inner validation split); the other members use the default head.
    finetune_params : dict, optional
        Parameters of :class:`skmdl.transfer.finetune.SourceFineTuner`
        (``lr``, ``lower_lr_factor``, ``max_epochs``, ``patience``, ...).
    n_jobs : int, default=None
        Parallel fits (joblib); BLAS and torch run one thread per process.
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    sources_ : list of str
        The shortlisted source ids, best first, then same-quantity sources.
    screening_ : pandas.DataFrame
        Candidate ids with their screening loss (``cv_mae``), sorted.
    members_ : pandas.DataFrame
        Every candidate member: ``member``, ``kind``, ``source``, its own
        out-of-fold MAE (``oof_mae``), ``eligible`` (no worse than direct),
        ``weight`` and a ``note`` saying why it was kept or not.
    kept_members_ : list of dict
        The members with non-zero weight (name, kind, source, uses, offset).
    weights_ : ndarray
        Their weights (non-negative, summing to one).
    estimators_ : list of fitted estimators
        One fitted head per kept member.
    gate_ : ZeroGate or None
        The fitted zero gate when it was kept.
    fit_rows_ : ndarray of bool
        The training rows the members learned (all, or the non-zero ones of a
        hurdle model); ``members_``'s out-of-fold losses are over these rows.
    oof_ : ndarray of shape (n_samples, n_members) or None
        Out-of-fold predictions of every candidate member.
    source_models_ : SourceModels
        The source networks the kept members use, with their featurizers.
    layers_ : list
        ``layers`` as a list of hidden-layer indices and/or ``"output"``.
    descriptors_ : transformer or None
        The fitted clone of ``descriptors`` when it is a transformer, else ``None``.
    descriptor_spec_ : str
        Descriptor spec of the best screened source (the direct model's input
        with ``descriptors="source"``).
    oof_loss_ : float
        Out-of-fold MAE of the fitted combination, gate included (NaN
        without calibration).
    calibration_zero_ : ndarray of bool or None
        With a kept gate: the out-of-fold rows it zeroed (the intervals are
        calibrated per group, :meth:`interval_from`).
    calibration_scores_ : ndarray or None
        Out-of-fold normalized residuals ``|y - mean| / max(std, sd_floor_)``
        (for intervals); ``None`` without calibration.
    sd_floor_ : float or None
        Lower bound of the spread in the interval half-widths: a tenth of the
        median out-of-fold spread; ``None`` without calibration.
    fit_profile_ : dict
        Seconds ``fit`` spent per step (load and featurize, screen, members
        out of fold, refit).

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
    ...                           n_sources=2, random_state=0)
    >>> model = model.fit(X[:200], y[:200])
    >>> mean, std = model.predict(X[200:205], return_std=True)
    >>> mean.shape, std.shape
    ((5,), (5,))
    >>> bool(model.members_.loc[0, "member"] == "direct")
    True
    """

    _parameter_constraints = {
        **TransferBase._parameter_constraints,
        "head": [None, StrOptions({"kernel_ridge", "gp"}), HasMethods(["fit", "predict"])],
        "quantity": [None, str],
        "fidelity": [StrOptions({"auto", "delta", "affine", "linear", "none"})],
        "gate": [StrOptions({"auto"}), "boolean"],
        "hurdle": [StrOptions({"auto"}), "boolean"],
        "mode": [StrOptions({"frozen", "finetune"})],
        "finetune_params": [None, dict],
    }
    _screen_column = "cv_mae"
    _loss_name = "mae"
    _oof_method = "predict"
    _task = "regression"
    _screen_loss = staticmethod(ridge_cv_mae)
    _loss = staticmethod(mae_loss)

    def __init__(self, sources="auto", library=None, n_sources=5, layers=(-1,), head=None,
                 descriptors="auto", kind="inorganic", exclude_tasks=(),
                 exclude_quantities=(), screening_cv=5, calibration_cv=5, direct=True,
                 stack=True, combine="greedy", margin=1.0, quantity=None, fidelity="auto",
                 gate="auto", hurdle="auto", mode="frozen", finetune_params=None, n_jobs=None,
                 random_state=None):
        super().__init__(sources=sources, library=library, n_sources=n_sources, layers=layers,
                         head=head, descriptors=descriptors, kind=kind,
                         exclude_tasks=exclude_tasks, exclude_quantities=exclude_quantities,
                         screening_cv=screening_cv, calibration_cv=calibration_cv,
                         direct=direct, stack=stack, combine=combine, margin=margin,
                         n_jobs=n_jobs,
                         random_state=random_state)
        self.quantity = quantity
        self.fidelity = fidelity
        self.gate = gate
        self.hurdle = hurdle
        self.mode = mode
        self.finetune_params = finetune_params

    def _cv(self, n_splits, y, seed):
        return KFold(min(n_splits, len(y)), shuffle=True, random_state=seed)

    def _validate_target(self, X, y):
        return check_regression_target(X, y)

    # ------------------------------------------------------------ multi-fidelity
    def _fidelity_members(self, F, y, fidelity):
        """Delta / affine / linear corrections of same-quantity sources.

        Built on two bases: the same-quantity source whose affine fit to ``y``
        is best, and (with two or more) the mean of them all, the shotgun
        ensemble: networks that fit the training region equally well can
        disagree far outside it, and their mean is the safer extrapolator
        (``benchmarks/hea_stability.py``). The inner CV weighs all of them.
        """
        if not fidelity:
            return []
        cache, rows = {}, self.fit_rows_
        S = self._outputs(F, fidelity, cache)[rows]
        y = y[rows]
        fits = [mae_loss(y, np.polyval(affine_offset(s, y), s)) if np.ptp(s) > 0 else np.inf
                for s in S.T]
        best = fidelity[int(np.argmin(fits))]
        bases = [(best, best, cache[best][rows, 0])]  # (member source, name, its output)
        if len(fidelity) > 1:
            bases.append((list(fidelity), f"mean of {len(fidelity)}", S.mean(axis=1)))
        kinds = ["delta", "affine", "linear"] if self.fidelity == "auto" else [self.fidelity]
        return [with_offset(member_spec(f"{kind}:{name}", kind, base, uses=fidelity), s, y)
                for base, name, s in bases for kind in kinds]

    # ------------------------------------------------------------ gate, calibration
    def _after_weigh(self, F, y, members, weights, cache, seed, cv):
        self.gate_ = None
        self.calibration_scores_ = self.sd_floor_ = self.calibration_zero_ = None
        self.oof_loss_ = np.nan
        if self.oof_ is None:
            return
        mu = mixture(self.oof_, weights)
        sd = _mixture_sd(self.oof_, self.oof_spread_, weights, mu)
        if self._try_gate(y):
            gate = ZeroGate(random_state=seed)
            D = self._gate_design(F, cache)
            if "gate: out of fold" not in cache:  # the same for every row option
                cache["gate: out of fold"] = gate.out_of_fold(D, y, cv, n_jobs=self.n_jobs)
            p_zero = cache["gate: out of fold"]
            t = gate.choose_threshold(p_zero, y, mu)
            if t is not None:
                self.gate_ = gate.set_threshold(t).fit(D, y)
                mu = np.where(p_zero > t, 0.0, mu)
        self.sd_floor_ = max(float(np.median(sd)) * 0.1, 1e-12)
        self.calibration_scores_ = np.abs(y - mu) / np.maximum(sd, self.sd_floor_)
        self.calibration_zero_ = (mu == 0.0) if self.gate_ is not None else None
        self.oof_loss_ = mae_loss(y, mu)

    def _gate_design(self, F, cache):
        """The gate's input: [descriptors, every shortlisted source's prediction]."""
        return self._design(F, member_spec("gate", "stack", uses=self.sources_), cache)[0]

    def _gate_sources(self):
        return self.sources_ if self.gate_ is not None else []

    def _row_options(self, y, cv):
        """Hurdle: the members learn the non-zero rows and the gate the zeros; all rows
        again when the gate is not kept."""
        every = np.ones(len(y), dtype=bool)
        if not self.hurdle or cv is None or self.gate is False or not self._zeros_gateable(y):
            return [every]
        return [y != 0, every]

    def _rows_accepted(self):
        return bool(self.fit_rows_.all()) or self.gate_ is not None

    def _compare_row_options(self):
        return self.hurdle == "auto"

    def _zeros_gateable(self, y):
        zeros = np.mean(y == 0)
        if self.gate == "auto":
            return zeros >= 0.1 and (y >= 0).all() and zeros < 0.9
        return 0 < zeros < 1

    def _try_gate(self, y):
        if self.gate is False or len(self.sources_) == 0:
            return False
        return self._zeros_gateable(y)

    # ---------------------------------------------------------------- predict
    def predict(self, X, return_std=False):
        """Weighted mean of the kept members (0 where the gate says so).

        Parameters
        ----------
        X : list or Series
        return_std : bool, default=False
            Also return the spread of the member mixture.

        Returns
        -------
        mean : ndarray of shape (n_samples,)
        std : ndarray of shape (n_samples,), only with ``return_std=True``
        """
        F = self._raw_features(X) if getattr(self, "gate_", None) is not None else None
        outs = self._member_outputs(X, spread=return_std, F=F)
        P = np.column_stack([m for m, _ in outs])
        mixed = P @ self.weights_
        mean = mixed
        if self.gate_ is not None:
            mean = np.where(self.gate_.is_zero(self._gate_design(F, {})), 0.0, mixed)
        if return_std:
            S = np.column_stack([s for _, s in outs])
            return mean, _mixture_sd(P, S, self.weights_, mixed)
        return mean

    def predict_interval(self, X, alpha=0.1):
        """Prediction intervals with nominal coverage ``1 - alpha``.

        The half-width is ``q * max(std(x), sd_floor_)``, ``q`` the ``1 - alpha``
        quantile (finite-sample corrected, :func:`~skmdl.transfer.conformal.conformal_quantile`)
        of the out-of-fold normalized residuals ``calibration_scores_``
        collected in ``fit``.

        Parameters
        ----------
        X : list or Series
        alpha : float, default=0.1

        Returns
        -------
        ndarray of shape (n_samples, 2): lower and upper bounds.
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        if getattr(self, "calibration_scores_", None) is None:
            from sklearn.utils.validation import check_is_fitted

            check_is_fitted(self, "estimators_")
            raise ValueError("intervals need calibration: fit with calibration_cv set "
                             "(and at least 2 * calibration_cv samples)")
        mean, std = self.predict(X, return_std=True)
        return self.interval_from(mean, std, alpha)

    def interval_from(self, mean, std, alpha=0.1):
        """Intervals around predictions already made (``predict(X, return_std=True)``).

        With a kept zero gate the calibration is split by the gate's decision
        (Mondrian conformal): rows predicted 0 take the quantile of the
        out-of-fold rows the gate zeroed, the others that of the rest, so a
        metal's interval is not widened by the insulators' errors or the
        reverse. A group of fewer than ``2 / alpha`` calibration rows uses all
        of them.

        Parameters
        ----------
        mean, std : ndarray of shape (n_samples,)
        alpha : float, default=0.1

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        scores, zero = self.calibration_scores_, getattr(self, "calibration_zero_", None)
        if zero is None:
            return scaled_interval(mean, std, scores, alpha, self.sd_floor_)
        mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
        out = np.empty((len(mean), 2))
        for group in (True, False):
            rows, calib = (mean == 0.0) == group, scores[zero == group]
            if len(calib) < 2 / alpha:
                calib = scores
            out[rows] = scaled_interval(mean[rows], std[rows], calib, alpha, self.sd_floor_)
        return out


def _mixture_sd(P, S, w, mu):
    """Standard deviation of the mixture of members (means ``P``, spreads ``S``)."""
    var = (P - mu[:, None]) ** 2
    if S is not None:
        var = var + S**2
    return np.sqrt(np.clip(var @ w, 0, None))

