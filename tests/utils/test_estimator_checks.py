"""The contract checks must catch broken estimators, not only pass good ones."""

from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context

from skmdl.utils.estimator_checks import check_skmdl_estimator, skmdl_checks

X = ["Fe2O3", "NaCl", "SiO2", "BaTiO3", "LiCoO2", "GaAs"]


class Unconstrained(TransformerMixin, BaseEstimator):
    """A transformer without ``_parameter_constraints`` (GoodTransformer adds them)."""

    def __init__(self, scale=1.0, n_jobs=None):
        self.scale = scale
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        self.n_out_ = 2
        return self

    def transform(self, X):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        return np.array([[len(s) * self.scale, s.count("O")] for s in X], dtype=float)

    def get_feature_names_out(self, input_features=None):
        return np.array(["length", "n_O"], dtype=object)


class GoodTransformer(Unconstrained):
    _parameter_constraints = {"scale": [Real], "n_jobs": [Integral, None]}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        return super().fit(X, y)


class SetsAttributeInInit(GoodTransformer):
    def __init__(self, scale=1.0, n_jobs=None):
        super().__init__(scale, n_jobs)
        self.cache_ = {}


class ModifiesParameter(GoodTransformer):
    def __init__(self, scale=1.0, n_jobs=None):
        self.scale = float(scale) * 1.0 if scale != 1.0 else [scale]
        self.n_jobs = n_jobs


class NoNotFittedError(GoodTransformer):
    def transform(self, X):
        return np.array([[len(s), 0.0] for s in X])


class ForgetsStateOnPickle(GoodTransformer):
    def fit(self, X, y=None):
        self.n_out_ = 2
        self._offset = 1.0
        return self

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_offset"] = 0.0
        return state

    def transform(self, X):
        return super().transform(X) + self._offset


class DependsOnNJobs(GoodTransformer):
    def transform(self, X):
        return super().transform(X) * (self.n_jobs or 1)


class DependsOnBatch(GoodTransformer):
    def transform(self, X):
        out = super().transform(X)
        return out - out.mean(axis=0)


class MutatesInput(GoodTransformer):
    def fit(self, X, y=None):
        X.append("H2O")
        return super().fit(X, y)


class FitReturnsNone(GoodTransformer):
    def fit(self, X, y=None):
        super().fit(X, y)


class NoConstraints(Unconstrained):
    """States nothing about its parameters (sklearn's check_param_validation used to be
    skipped for it)."""


class ConstraintMissesAParameter(GoodTransformer):
    _parameter_constraints = {"scale": [Real]}


class FitDoesNotValidate(GoodTransformer):
    fit = Unconstrained.fit  # no @_fit_context: a bad scale is never refused


def test_good_estimator_passes():
    check_skmdl_estimator(GoodTransformer(), list(X))


@pytest.mark.parametrize(
    "est, failing_check",
    [
        (SetsAttributeInInit(), "check_no_attributes_set_in_init"),
        (ModifiesParameter(scale=2.0), "check_estimator_cloneable"),
        (NoNotFittedError(), "check_not_fitted"),
        (ForgetsStateOnPickle(), "check_pickle_round_trip"),
        (DependsOnNJobs(), "check_n_jobs_invariance"),
        (DependsOnBatch(), "check_subset_invariance"),
        (MutatesInput(), "check_fit_does_not_mutate_input"),
        (FitReturnsNone(), "check_fit_returns_self"),
        (NoConstraints(), "check_parameter_constraints"),
        (NoConstraints(), "check_param_validation"),
        (ConstraintMissesAParameter(), "check_parameter_constraints"),
        (FitDoesNotValidate(), "check_param_validation"),
    ],
)
def test_broken_estimators_are_caught(est, failing_check):
    checks = {c.__name__: c for c in skmdl_checks(est, list(X))}
    with pytest.raises(Exception):
        checks[failing_check]()
    with pytest.raises(AssertionError, match=f"{type(est).__name__} failed check_"):
        check_skmdl_estimator(est, list(X))
