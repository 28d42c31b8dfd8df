"""The shared fit of the transfer estimators: screen, build members, weigh, refit.

Steps of :meth:`TransferBase.fit` (each a method below):

1. ``_load``: candidate sources from the library, their descriptors;
2. ``_screen``: rank the candidates by a cheap inner-CV loss (ridge /
   logistic regression on frozen hidden features) and shortlist ``n_sources``;
3. ``_candidate_members``: the direct model, one transfer member per
   shortlisted source, the stack of source outputs and, when sources predict
   the target's own quantity (``quantity``), multi-fidelity corrections;
4. ``_weigh``: every member's own out-of-fold predictions
   (``calibration_cv`` folds) decide the weights: members worse than direct are
   excluded, the rest combined by ``combine`` (:mod:`skmdl.transfer.combine`);
5. ``_refit``: the members with non-zero weight are refitted on all rows, and
   the source networks nothing uses any more are dropped.
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..library.library import ModelLibrary
from ..utils._base import MaterialsInputMixin
from ..utils.threads import one_thread
from .combine import combine_weights, eligibility_margin
from .featurizer import SourceModels, as_layers, resolve_library
from .heads import auto_descriptors, default_head, linear_head, named_head
from .members import fit_member, member_note, member_predict, member_spec, out_of_fold

__all__ = ["TransferBase", "auto_descriptors", "default_head", "named_head"]


class TransferBase(MaterialsInputMixin, BaseEstimator):
    """Shared machinery of :class:`TransferRegressor` and :class:`TransferClassifier`.

    Subclasses define ``_task``, ``_screen_column``, ``_screen_loss``, ``_cv``,
    ``_oof_method``, ``_loss``, ``_loss_name`` and ``_after_weigh``.

    Parameters
    ----------
    sources, library, n_sources, layers, head, descriptors, kind, exclude_tasks, \
exclude_quantities, screening_cv, calibration_cv, direct, stack, combine, margin, n_jobs, \
random_state
        As in :class:`~skmdl.transfer.TransferRegressor`.
    """

    _parameter_constraints = {
        "sources": [StrOptions({"auto"}), list, tuple],
        "library": [None, str, os.PathLike, ModelLibrary],
        "n_sources": [Interval(Integral, 1, None, closed="left")],
        "layers": [list, tuple, Integral, StrOptions({"output"})],
        "head": [None, HasMethods(["fit", "predict"])],
        "descriptors": [StrOptions({"auto", "source", "none"}), HasMethods(["fit", "transform"])],
        "kind": [str],
        "exclude_tasks": [list, tuple],
        "exclude_quantities": [list, tuple],
        "screening_cv": [Interval(Integral, 2, None, closed="left"),
                         HasMethods(["split", "get_n_splits"])],
        "calibration_cv": [None, Interval(Integral, 2, None, closed="left"),
                           HasMethods(["split"])],
        "direct": ["boolean"],
        "stack": ["boolean", StrOptions({"trees", "linear"})],
        "combine": [StrOptions({"greedy", "best", "mean"})],
        "margin": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, sources="auto", library=None, n_sources=5, layers=(-1,), head=None,
                 descriptors="auto", kind="inorganic", exclude_tasks=(),
                 exclude_quantities=(), screening_cv=5, calibration_cv=5, direct=True,
                 stack=True, combine="greedy", margin=1.0, n_jobs=None, random_state=None):
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
        self.calibration_cv = calibration_cv
        self.direct = direct
        self.stack = stack
        self.combine = combine
        self.margin = margin
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ---------------------------------------------------------------- sources
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

    def fidelity_sources(self, library=None) -> list:
        """Candidate sources that predict the target's own ``quantity`` (multi-fidelity).

        Empty unless the estimator has a ``quantity`` parameter set and its
        ``fidelity`` is not ``"none"``; compared case-insensitively with each
        card's ``quantity``.

        Parameters
        ----------
        library : ModelLibrary, str or path, optional
            As in :meth:`candidate_sources`.

        Returns
        -------
        list of str
        """
        quantity = getattr(self, "quantity", None)
        if not quantity or getattr(self, "fidelity", "none") == "none":
            return []
        lib = resolve_library(self.library if library is None else library)
        want = quantity.strip().lower()
        return [i for i in self.candidate_sources(lib)
                if (lib.quantity(i) or "").strip().lower() == want]

    # ---------------------------------------------------------------- features
    def _raw_features(self, X):
        """Source descriptors per spec, plus the user's descriptors under key None."""
        F = self.source_models_.features(X)
        if self.descriptors_ is not None:
            F[None] = np.asarray(self.descriptors_.transform(X), dtype=np.float32)
        return F

    def _base_descriptors(self, F, model_id=None):
        """The raw descriptors a member keeps (None with ``descriptors="none"``)."""
        if self.descriptors == "none":
            return None
        if self.descriptors_ is not None:
            return F[None]
        spec = self.descriptor_spec_ if model_id is None else self.source_models_.spec_of[model_id]
        return F[spec]

    def _fraction_columns(self):
        """Columns of the raw descriptors that are element fractions (``frac_*``), or None.

        The ``fractions`` member is a second direct model on these alone: for
        alloys and doped systems the composition itself is the signal, and the
        head's feature sampling no longer dilutes it among the element statistics.
        """
        names = getattr(self.descriptors_, "get_feature_names_out", None)
        try:
            names = [] if names is None else names()
        except (AttributeError, ValueError, TypeError):  # a user's transformer without names
            names = []
        cols = np.flatnonzero([str(n).startswith("frac_") for n in names])
        return cols if len(cols) else None

    def _outputs(self, F, ids, cache):
        """Each source's prediction of its own property (a multi-task trunk: one column per
        task), columns in ``ids`` order."""
        for i in ids:
            if i not in cache:
                cache[i] = self.source_models_.hidden(i, F, ["output"])
        return np.hstack([cache[i] for i in ids]) if ids else None

    def _design(self, F, member, cache):
        """Design matrix of one member and the source output its offset applies to."""
        kind, source = member["kind"], member["source"]
        if kind == "fractions":
            return F[None][:, self._fraction_columns()], None
        if kind == "outputs":
            return self._outputs(F, member["uses"], cache), None
        if kind == "finetune":
            return F[self.source_models_.spec_of[source]], None
        if kind == "transfer":
            H = self.source_models_.hidden(source, F, self.layers_)
            base = self._base_descriptors(F, source)
            return (H if base is None else np.hstack([base, H])), None
        base = self._base_descriptors(F)
        blocks = [] if base is None else [base]
        out = self._outputs(F, member["uses"], cache)
        if out is not None:
            blocks.append(out.astype(np.float32))
        if isinstance(source, (list, tuple)):  # an ensemble: the mean of its outputs
            s = self._outputs(F, list(source), cache).mean(axis=1)
        else:
            s = cache[source][:, 0] if source is not None else None
        return np.hstack(blocks), s

    def _seed(self):
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):
            return rs.randint(2**31 - 1)
        return rs

    # ---------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Screen the sources, weigh the members by inner CV, refit the kept ones.

        Parameters
        ----------
        X : list or Series
            Input items (formulas, structures or SMILES, per ``kind``).
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        import time

        y = self._validate_target(X, y)
        seed = self._seed()
        clock, profile = time.perf_counter(), {}

        def step(name):
            nonlocal clock
            now = time.perf_counter()
            profile[name] = now - clock
            clock = now

        with one_thread():
            F = self._load(X, y)
            step("load and featurize")
            outputs = {}  # each source's prediction, from the screen's forward pass
            self.screening_ = self._screen(F, y, seed, outputs)
            step("screen")
            cv = self._calibration_splits(X, y, seed)
            members, weights, designs, heads = self._weigh_row_options(F, y, seed, cv, outputs)
            step("members out of fold")
            self._refit(y, members, weights, designs, heads)
            step("refit")
        self.fit_profile_ = profile
        return self

    def _load(self, X, y):
        lib = resolve_library(self.library)
        ids = self.candidate_sources(lib)
        self.layers_ = as_layers(self.layers)
        self.source_models_ = SourceModels(lib, ids, n_jobs=None)
        self.descriptors_ = None
        if not isinstance(self.descriptors, str):
            self.descriptors_ = clone(self.descriptors).fit(X, y)
        elif self.descriptors == "auto":
            self.descriptors_ = auto_descriptors(lib.card(ids[0])["descriptor"])
        return self._raw_features(X)

    def _screen(self, F, y, seed, outputs=None):
        """Candidates ranked by the cheap inner-CV loss (NaN when all are kept anyway).

        When the ``outputs`` member will need every source's prediction, the
        screen's forward pass computes it too and stores it in ``outputs`` (by id).
        """
        import pandas as pd
        from sklearn.utils.parallel import Parallel, delayed

        ids = self.source_models_.ids
        losses = [np.nan] * len(ids)
        if len(ids) > self.n_sources:
            cv = self.screening_cv
            if isinstance(cv, Integral):
                cv = self._cv(cv, y, seed)
            keep = outputs if outputs is not None and self._outputs_members() else None
            losses = Parallel(n_jobs=self.n_jobs, prefer="threads")(  # numpy, torch: no GIL
                delayed(self._screen_loss)(self._screen_features(i, F, keep), y, cv)
                for i in ids)
        table = pd.DataFrame({"id": ids, self._screen_column: losses})
        table = table.sort_values(self._screen_column, kind="stable").reset_index(drop=True)
        self.descriptor_spec_ = self.source_models_.spec_of[table["id"][0]]
        return table

    def _screen_features(self, model_id, F, outputs=None):
        """The hidden layers the screen scores; with ``outputs`` (a dict), the source's
        prediction from the same forward pass is stored there."""
        if outputs is None:
            return self.source_models_.hidden(model_id, F, self.layers_)
        width = dict(self.source_models_.widths(model_id, ["output"]))["output"]
        H = self.source_models_.hidden(model_id, F, self.layers_ + ["output"])
        outputs[model_id] = H[:, -width:]
        return H[:, :-width]

    def _candidate_members(self, F, y):
        """Member specs (plain dicts): direct, transfer per source, stack, fidelity."""
        shortlist = self.screening_["id"][: self.n_sources].tolist()
        fidelity = [i for i in self.fidelity_sources(self.source_models_.library)
                    if i in self.source_models_.ids]
        self.sources_ = shortlist + [i for i in fidelity if i not in shortlist]
        finetune = getattr(self, "mode", "frozen") == "finetune"
        members = []
        if self.direct and self.descriptors != "none":
            members.append(member_spec("direct", "direct"))
            if self._fraction_columns() is not None:
                members.append(member_spec("fractions", "fractions"))
        for i in shortlist:
            members.append(member_spec(f"{'finetune' if finetune else 'transfer'}:{i}",
                                   "finetune" if finetune else "transfer", i))
        if self.stack in (True, "trees") and len(self.sources_) > 1:
            members.append(member_spec("stack", "stack", uses=self.sources_))
        members += self._outputs_members()
        members += self._fidelity_members(F, y, fidelity)
        return members

    def _fidelity_members(self, F, y, fidelity):
        """Hook: multi-fidelity members (regression only)."""
        return []

    def _outputs_members(self):
        """``outputs``: a standardized linear head on the outputs of every candidate source."""
        ids = list(self.source_models_.ids)
        if self.stack not in (True, "linear") or len(ids) < 2:
            return []
        return [member_spec("outputs", "outputs", uses=ids)]

    def _default_head(self, seed):
        return default_head(self._task, seed)

    def _member_head(self, member, seed):
        if member["kind"] == "linear":  # a s(x) + b alone: the head adds the mean residual
            from sklearn.dummy import DummyRegressor

            return DummyRegressor()
        if member["kind"] == "finetune":
            from .finetune import SourceFineTuner

            return SourceFineTuner(module=self.source_models_.modules[member["source"]],
                                   random_state=seed, **(self.finetune_params or {}))
        if isinstance(self.head, str):
            return named_head(self.head, seed)
        if self.head is not None and getattr(self, "mode", "frozen") == "frozen":
            return self.head
        if member["kind"] == "fractions":  # few informative columns: split on any of them
            return self._default_head(seed).set_params(max_features=1.0)
        if member["kind"] == "outputs":
            return linear_head(self._task, seed)
        return self._default_head(seed)

    def _calibration_splits(self, X, y, seed):
        """The splitter that weighs the members: None (equal weights), folds, or the user's.

        A user's splitter (``calibration_cv`` with a ``split`` method) sees the
        raw inputs ``X`` (it may count elements, group by chemical system, ...)
        and must partition the rows (:func:`~skmdl.transfer.splits.fixed_partition`).
        """
        from .splits import fixed_partition

        cv = self.calibration_cv
        if cv is None:
            return None
        if isinstance(cv, Integral):
            return None if len(y) < 2 * cv else self._cv(cv, y, seed)
        return fixed_partition(cv, list(X), y)

    def _weigh(self, F, y, members, seed, cv, cache=None):
        """Out-of-fold predictions of every member on ``cv`` -> weights (and member table).

        ``cache`` (source outputs, the gate's out-of-fold probabilities) may be
        shared between calls on the same rows. Returns the weights and, for
        :meth:`_refit`, every member's ``(design, source output)`` and unfitted head.
        """
        import pandas as pd

        cache = {} if cache is None else cache
        designs = [self._design(F, m, cache) for m in members]
        heads = [self._member_head(m, seed) for m in members]
        self.oof_ = self.oof_spread_ = None
        if cv is None:
            weights = np.full(len(members), 1.0 / len(members))
            losses, eligible = np.full(len(members), np.nan), np.ones(len(members), bool)
        else:
            rows = self.fit_rows_
            P, S = out_of_fold(heads, [d for d, _ in designs], y, cv, self._oof_method,
                               [tuple(m["offset"]) for m in members],
                               [s for _, s in designs], n_jobs=self.n_jobs,
                               train_rows=None if rows.all() else rows)
            reference = 0 if members[0]["kind"] == "direct" else None
            margin = eligibility_margin(self.margin, len(members) - 1)
            weights, losses, eligible = combine_weights(P[rows], y[rows], self._loss,
                                                        self.combine, reference, margin=margin)
            self.oof_, self.oof_spread_ = P, S
        self.members_ = pd.DataFrame({
            "member": [m["name"] for m in members], "kind": [m["kind"] for m in members],
            "source": [m["source"] for m in members], f"oof_{self._loss_name}": losses,
            "eligible": eligible, "weight": weights,
        })
        self.members_["note"] = [member_note(ok, w) for ok, w in zip(eligible, weights)]
        self._after_weigh(F, y, members, weights, cache, seed, cv)
        return weights, designs, heads

    def _after_weigh(self, F, y, members, weights, cache, seed, cv):
        """Hook: interval calibration, thresholds, gates."""

    def _weigh_row_options(self, F, y, seed, cv, outputs=None):
        """Build and weigh the members for each row option; keep the lowest ``oof_loss_``.

        An option (a mask of the rows the members learn, :meth:`_row_options`)
        that :meth:`_rows_accepted` accepts ends the search unless
        :meth:`_compare_row_options` asks for every option to be weighed.
        """
        tried, cache = [], dict(outputs or {})  # what does not depend on the rows: once
        for rows in self._row_options(y, cv):
            self.fit_rows_ = rows
            members = self._candidate_members(F, y)
            weighed = (members, *self._weigh(F, y, members, seed, cv, cache))
            accepted = self._rows_accepted()
            if accepted:
                state = {k: v for k, v in vars(self).items() if k.endswith("_")}
                tried.append((getattr(self, "oof_loss_", 0.0), len(tried), weighed, state))
            if accepted and not self._compare_row_options():
                break
        *_, weighed, state = min(tried, key=lambda t: t[:2])
        self.__dict__.update(state)
        return weighed

    def _row_options(self, y, cv):
        """Hook: the row masks to train the members on, tried in order (all rows)."""
        return [np.ones(len(y), dtype=bool)]

    def _rows_accepted(self):
        """Hook: whether the members fitted on ``fit_rows_`` may be kept."""
        return True

    def _compare_row_options(self):
        """Hook: weigh every accepted row option and keep the best (else the first)."""
        return False

    def _gate_sources(self):
        """Hook: sources a fitted gate needs besides the kept members'."""
        return []

    def _refit(self, y, members, weights, designs, heads):
        """Fit the members with non-zero weight on all rows (their designs and heads
        are those :meth:`_weigh` built); drop the source networks nothing uses."""
        from sklearn.utils.parallel import Parallel, delayed

        keep = [k for k, w in enumerate(weights) if w > 0]
        self.kept_members_ = [members[k] for k in keep]
        self.weights_ = np.asarray([weights[k] for k in keep])
        rows = self.fit_rows_
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(fit_member)(heads[k], designs[k][0][rows], y[rows],
                                tuple(members[k]["offset"]),
                                None if designs[k][1] is None else designs[k][1][rows])
            for k in keep)
        needed = set(self._gate_sources())
        used = [i for i in self.source_models_.ids if i in needed or any(
            i == m["source"] or i in m["uses"] for m in self.kept_members_)]
        self.source_models_ = self.source_models_.subset(used, specs=[self.descriptor_spec_])

    # ---------------------------------------------------------------- predict
    def _member_outputs(self, X, method="predict", spread=False, F=None):
        """Per kept member: its prediction (and forest spread) on ``X`` (or on its
        raw features ``F``)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "estimators_")
        with one_thread():
            F = self._raw_features(X) if F is None else F
            cache, out = {}, []
            for est, member in zip(self.estimators_, self.kept_members_):
                D, s = self._design(F, member, cache)
                out.append(member_predict(est, D, method, tuple(member["offset"]), s, spread))
        return out
